/*
 * cache-thrash (and the loop cache-scratch shares): Hoard's active-false
 * sharing benchmark (Berger et al., ASPLOS 2000) as mimalloc-bench runs it
 * (cache-thrash P 1000 1 2000000 P), written here after the original's
 * algorithm.  Every thread allocates `iterations` objects of `size` bytes one
 * after the other; each object lives for repetitions/threads passes of
 * "store byte k, then load it back" over its bytes, then is freed.  The total
 * of writes is fixed and divided among the threads, so N threads should take
 * 1/N of the time; an allocator that hands different threads' objects out of
 * one cache line makes their stores fight over it instead.
 *
 * The object is reached through a volatile pointer: every store and load
 * goes to the heap, and the allocation cannot be elided (the original built
 * with GCC 12 -O2 loses both its new/delete and its stores: an allocation
 * the compiler may remove, a store only delete "reads").  One round is the
 * original's whole run per thread; one op is one object's life.
 *
 * Whether the threads' objects did share a line is a metric,
 * threads_sharing_lines: the threads whose last object of the last measured
 * round lies in a 64-byte line another thread's last object lies in.  (With
 * 1-byte objects handed out side by side, it depends on where in a line the
 * first one falls: on what the process allocated before.)
 */
#include "workload.h"

#include <errno.h>

#include "wl-cache-thrash.h"

static const char *const variants[] = {"shared-lines", NULL};

/* cache-scratch takes the same parameters. */
const struct ab_param ab_cache_thrash_params[] = {
    {"iterations", AB_PARAM_INT, "1000", 1, 1000000000, NULL,
     "objects each thread allocates and frees per round, one after the other"},
    {"size", AB_PARAM_SIZE, "1", 1, 4096, NULL, "bytes per object"},
    {"repetitions", AB_PARAM_INT, "2000000", 1, 1000000000, NULL,
     "store-and-load passes over each object's bytes, divided among the threads"},
};

/* cache-scratch's descriptor says 3 too. */
_Static_assert(sizeof ab_cache_thrash_params / sizeof ab_cache_thrash_params[0] == 3,
               "cache-thrash parameters");

struct state {
    size_t iterations, size, passes;
    struct ab_cache_thrash *sh;
};

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    unsigned n = t->threads ? t->threads : 1;
    s->iterations = (size_t)ab_trial_param(t, "iterations");
    s->size = (size_t)ab_trial_param(t, "size");
    s->passes = (size_t)ab_trial_param(t, "repetitions") / n;
    s->sh = t->shared;
    th->state = s;
    /* cache-scratch: free the object the main thread made for this one. */
    if (s->sh->handed) {
        t->heap->free(s->sh->handed[th->index]);
        s->sh->handed[th->index] = NULL;
    }
    return 0;
}

/* Per pass and byte: one store to the object, one load of it (both
 * volatile), and the original's volatile `ch++` on the stack. */
static uint64_t round_fn(struct ab_thread *th)
{
    const struct state *s = th->state;
    void *(*const do_malloc)(size_t) = th->t->heap->malloc;
    void (*const do_free)(void *) = th->t->heap->free;
    const size_t size = s->size, passes = s->passes;
    for (size_t i = 0; i < s->iterations; i++) {
        volatile char *obj = do_malloc(size);
        if (!obj) {
            th->error = -ENOMEM;
            return i;
        }
        for (size_t j = 0; j < passes; j++)
            for (size_t k = 0; k < size; k++) {
                obj[k] = (char)k;
                volatile char ch = obj[k];
                ch++;
            }
        do_free((void *)obj);
        if (i + 1 == s->iterations)
            s->sh->last[th->index] = (uintptr_t)obj;
    }
    return s->iterations;
}

static void teardown(struct ab_thread *th)
{
    ab_buf_free(th->state, sizeof(struct state));
}

static const struct ab_rounds rounds = {setup, round_fn, teardown};

/* Shared with cache-scratch (wl-cache-scratch.c), which only adds the
 * hand-over before the loop. */
int ab_cache_thrash_run(struct ab_trial *t, void **handed)
{
    unsigned n = t->threads ? t->threads : 1;
    struct ab_cache_thrash sh = {.handed = handed, .last = ab_buf_alloc(n * sizeof *sh.last)};
    if (!sh.last)
        return -ENOMEM;
    t->shared = &sh;
    int rc = ab_trial_run_rounds(t, &rounds);
    unsigned sharing = 0;
    for (unsigned i = 0; i < n && n > 1; i++)
        for (unsigned j = 0; j < n; j++)
            if (j != i && sh.last[i] / 64 == sh.last[j] / 64) {
                sharing++;
                break;
            }
    ab_buf_free(sh.last, n * sizeof *sh.last);
    if (!rc)
        ab_trial_metric(t, "threads_sharing_lines", "threads", sharing);
    return rc;
}

static int run_thrash(struct ab_trial *t)
{
    return ab_cache_thrash_run(t, NULL);
}

const struct ab_workload ab_wl_cache_thrash = {
    .name = "cache-thrash",
    .summary = "Hoard's active-false: each thread's small objects written over and over",
    .seed = "classic: Hoard cache-thrash (Berger et al. 2000), as mimalloc-bench runs it",
    .unit = "object",
    .variants = variants,
    .params = ab_cache_thrash_params,
    .nparams = 3,
    .quick = "iterations=100,repetitions=20000",
    .default_rounds = 1,
    .run = run_thrash,
    .merit = "run time of the fixed work: the measured phase's wall time (ns), as the original's",
};
