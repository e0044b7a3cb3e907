/*
 * threadtest: Hoard's raw per-thread throughput benchmark (Berger et al.,
 * "Hoard: A Scalable Memory Allocator for Multithreaded Applications",
 * ASPLOS 2000), re-implemented from its description: each thread repeatedly
 * allocates a batch of fixed-size objects and then frees them all; the total
 * of `objects` per iteration is divided among the threads, so more threads
 * share the same work.  Suggested parameters there: threadtest P 1000 10000
 * 0 8 (1000 iterations, 10000 objects, no work, 8 bytes).
 *
 * One round is one iteration; one op is one object (its allocation, a store
 * into it, `work` units of busy work, its free).  The author's figure is the
 * run time of the fixed work: here ns per object and objects per second.
 */
#include "workload.h"

#include <errno.h>

static const char *const variants[] = {"batch", NULL};

static const struct ab_param params[] = {
    {"objects", AB_PARAM_INT, "10000", 1, 100000000, NULL,
     "objects per iteration, divided among the threads"},
    {"size", AB_PARAM_SIZE, "8", 1, 1 << 20, NULL, "bytes per object"},
    {"work", AB_PARAM_INT, "0", 0, 1000000, NULL, "busy-loop units after each allocation"},
};

struct state {
    void **p;
    size_t n, size, work;
};

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    size_t objects = (size_t)ab_trial_param(t, "objects");
    unsigned n = t->threads ? t->threads : 1;
    s->n = objects / n ? objects / n : 1;
    s->size = (size_t)ab_trial_param(t, "size");
    s->work = (size_t)ab_trial_param(t, "work");
    s->p = ab_buf_alloc(s->n * sizeof *s->p);
    if (!s->p)
        return -ENOMEM;
    th->state = s;
    return 0;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    size_t i = 0;
    for (; i < s->n; i++) {
        unsigned char *p = h->malloc(s->size);
        if (!p) {
            th->error = -ENOMEM;
            break;
        }
        p[0] = (unsigned char)i;
        for (volatile size_t w = 0; w < s->work; w++)
            ;
        s->p[i] = p;
    }
    for (size_t j = 0; j < i; j++)
        h->free(s->p[j]);
    return i;
}

static int run(struct ab_trial *t)
{
    static const struct ab_rounds r = {setup, round_fn, NULL};
    return ab_trial_run_rounds(t, &r);
}

const struct ab_workload ab_wl_threadtest = {
    .name = "threadtest",
    .summary = "Hoard's threadtest: each thread allocates and frees batches of fixed-size "
               "objects",
    .seed = "classic: Hoard threadtest (Berger et al. 2000)",
    .unit = "object",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "objects=1000",
    .default_rounds = 1000,
    .run = run,
    .merit = "run time of the fixed work, as ns per object and objects per second",
};
