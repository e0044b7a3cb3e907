/*
 * cache-scratch: Hoard's passive-false benchmark (Berger et al., ASPLOS 2000),
 * re-implemented from its description.  The main thread allocates one small
 * object per thread, side by side, and hands object i to thread i, which
 * frees it (a remote free) and then runs cache-thrash's loop: allocate a
 * small object, write each byte `inner` times, free it.  An allocator that
 * reuses the freed memory for the thread's next objects keeps the threads
 * writing into one cache line.  Same parameters as cache-thrash (Hoard: P
 * 100 8 1000000; mimalloc-bench: P 1000 1 2000000).  One op is one
 * iteration; the author's figure is the run time of the fixed work.
 */
#include "workload.h"

#include <errno.h>

extern const struct ab_rounds ab_cache_thrash_rounds;
extern const struct ab_param ab_cache_thrash_params[];

static const char *const variants[] = {"handed-over", NULL};

static int run_scratch(struct ab_trial *t)
{
    unsigned n = t->threads ? t->threads : 1;
    void **handed = ab_buf_alloc(n * sizeof *handed);
    if (!handed)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++)
        if (!(handed[i] = t->heap->malloc((size_t)ab_trial_param(t, "size"))))
            return -ENOMEM;
    t->shared = handed;
    int rc = ab_trial_run_rounds(t, &ab_cache_thrash_rounds);
    ab_buf_free(handed, n * sizeof *handed);
    if (rc)
        return rc;
    /* With one thread the object stays on the main thread: a local free. */
    ab_trial_remote_frees(t, n > 1 ? n : 0, -1);
    return 0;
}

const struct ab_workload ab_wl_cache_scratch = {
    .name = "cache-scratch",
    .summary = "Hoard's passive-false: objects allocated by one thread, freed and "
               "reallocated by others",
    .seed = "classic: Hoard cache-scratch (Berger et al. 2000)",
    .unit = "iteration",
    .variants = variants,
    .params = ab_cache_thrash_params,
    .nparams = 3,
    .quick = "iterations=2000,inner=20",
    .default_rounds = 10,
    .run = run_scratch,
    .merit = "run time of the fixed work, as ns per iteration",
};
