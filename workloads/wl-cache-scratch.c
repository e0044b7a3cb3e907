/*
 * cache-scratch: Hoard's passive-false sharing benchmark (Berger et al.,
 * ASPLOS 2000) as mimalloc-bench runs it (cache-scratch P 1000 1 2000000 P),
 * written here after the original's algorithm.  The main thread allocates
 * one `size`-byte object per thread, one after the other (small objects:
 * side by side), and hands object i to thread i, which frees it (a remote
 * free) and then runs cache-thrash's loop: `iterations` objects, each
 * written and read back repetitions/threads times over its bytes, then
 * freed.  An allocator that gives the freed object back to the thread's next
 * allocation keeps the threads writing into the one cache line the main
 * thread's objects share.  Same parameters and metric as cache-thrash
 * (threads_sharing_lines).  One round is
 * the original's whole run per thread (the hand-over comes before the first
 * round, once); one op is one object's life.
 */
#include "workload.h"

#include <errno.h>

#include "wl-cache-thrash.h"

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
    int rc = ab_cache_thrash_run(t, handed);
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
    .seed = "classic: Hoard cache-scratch (Berger et al. 2000), as mimalloc-bench runs it",
    .unit = "object",
    .variants = variants,
    .params = ab_cache_thrash_params,
    .nparams = 3,
    .quick = "iterations=100,repetitions=20000",
    .default_rounds = 1,
    .run = run_scratch,
    .merit = "run time of the fixed work: the measured phase's wall time (ns), as the "
             "original's",
};
