/*
 * cache-thrash (and the loop cache-scratch shares): Hoard's false-sharing benchmarks (Berger et
 * al., ASPLOS 2000: "active-false" and "passive-false"), re-implemented from
 * their description.  Each thread repeatedly allocates a small object, writes
 * each of its bytes `inner` times, and frees it; `iterations` per round are
 * divided among the threads.  An allocator that puts different threads'
 * objects in one cache line makes those writes fight over it.
 *
 *   cache-thrash   active false sharing: the threads' own objects, as the
 *                  allocator places them side by side
 *   cache-scratch  passive false sharing: the main thread first allocates one
 *                  object per thread, side by side, and hands object i to
 *                  thread i, which frees it (a remote free) before its loop;
 *                  an allocator that reuses that memory for the thread's next
 *                  objects keeps the threads in one line
 *
 * Suggested parameters there: P 100 8 1000000 (inner 100, 8 bytes, a
 * million iterations); mimalloc-bench runs P 1000 1 2000000.  One op is one
 * iteration; the author's figure is the run time of the fixed work.
 */
#include "workload.h"

#include <errno.h>

static const char *const variants[] = {"shared-lines", NULL};

/* cache-scratch takes the same parameters. */
const struct ab_param ab_cache_thrash_params[] = {
    {"iterations", AB_PARAM_INT, "100000", 1, 1000000000, NULL,
     "object lifetimes per round, divided among the threads"},
    {"inner", AB_PARAM_INT, "100", 1, 100000000, NULL, "writes to each byte per object"},
    {"size", AB_PARAM_SIZE, "8", 1, 4096, NULL, "bytes per object"},
};

/* cache-scratch's descriptor says 3 too. */
_Static_assert(sizeof ab_cache_thrash_params / sizeof ab_cache_thrash_params[0] == 3,
               "cache-thrash parameters");

struct state {
    size_t n, inner, size;
};

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    unsigned n = t->threads ? t->threads : 1;
    size_t it = (size_t)ab_trial_param(t, "iterations");
    s->n = it / n ? it / n : 1;
    s->inner = (size_t)ab_trial_param(t, "inner");
    s->size = (size_t)ab_trial_param(t, "size");
    th->state = s;
    /* cache-scratch: free the object the main thread made for this one. */
    void **handed = t->shared;
    if (handed) {
        t->heap->free(handed[th->index]);
        handed[th->index] = NULL;
    }
    return 0;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    for (size_t i = 0; i < s->n; i++) {
        volatile unsigned char *p = h->malloc(s->size);
        if (!p) {
            th->error = -ENOMEM;
            return i;
        }
        for (size_t r = 0; r < s->inner; r++)
            for (size_t k = 0; k < s->size; k++)
                p[k] = (unsigned char)(p[k] + 1);
        h->free((void *)p);
    }
    return s->n;
}

/* Shared with cache-scratch (wl-cache-scratch.c), which only adds the
 * hand-over before the loop. */
const struct ab_rounds ab_cache_thrash_rounds = {setup, round_fn, NULL};

static int run_thrash(struct ab_trial *t)
{
    return ab_trial_run_rounds(t, &ab_cache_thrash_rounds);
}

const struct ab_workload ab_wl_cache_thrash = {
    .name = "cache-thrash",
    .summary = "Hoard's active-false: per-thread small objects written repeatedly",
    .seed = "classic: Hoard cache-thrash (Berger et al. 2000)",
    .unit = "iteration",
    .variants = variants,
    .params = ab_cache_thrash_params,
    .nparams = 3,
    .quick = "iterations=2000,inner=20",
    .default_rounds = 10,
    .run = run_thrash,
    .merit = "run time of the fixed work, as ns per iteration",
};
