/*
 * xmalloc: the asymmetric benchmark of Lever and Boreham ("malloc()
 * Performance in a Multithreaded Linux Environment", USENIX 2000), as
 * mimalloc-bench runs it (xmalloc-test -w N -t 5 -s 64): one set of threads
 * only allocates, another only frees, and blocks migrate from the first to
 * the second in batches through one shared queue (any freeing thread takes
 * any batch).  Re-implemented from that description.
 *
 * Where the original lets the allocating threads run ahead (its memory use
 * grows the faster it runs), the queue here is bounded (`depth` batches), so
 * the footprint stays comparable between allocators.  --threads N runs
 * ceil(N/2) allocating and the rest freeing threads, at least one of each.
 * One op is one block freed; the author's figure is frees per second.
 */
#include "workload.h"

static const char *const variants[] = {"asymmetric", NULL};

static const struct ab_param params[] = {
    {"size", AB_PARAM_SIZE, "64", 8, 1 << 20, NULL, "bytes per block (-s)"},
    {"batch", AB_PARAM_INT, "256", 1, 65536, NULL, "blocks per handover"},
    {"batches", AB_PARAM_INT, "256", 1, 100000000, NULL,
     "batches per allocating thread per round"},
    {"depth", AB_PARAM_INT, "64", 1, 65536, NULL, "batches the shared queue holds"},
};

static int run(struct ab_trial *t)
{
    unsigned n = t->threads ? t->threads : 1;
    struct ab_handoff_plan plan = {
        .producers = (n + 1) / 2,
        .batch = (size_t)ab_trial_param(t, "batch"),
        .batches = (size_t)ab_trial_param(t, "batches"),
        .min_size = (size_t)ab_trial_param(t, "size"),
        .max_size = (size_t)ab_trial_param(t, "size"),
        .depth = (size_t)ab_trial_param(t, "depth"),
        .shared = true,
    };
    plan.consumers = n > plan.producers ? n - plan.producers : 1;
    return ab_handoff_run(t, &plan);
}

const struct ab_workload ab_wl_xmalloc = {
    .name = "xmalloc",
    .summary = "Lever & Boreham's xmalloc-test: allocating threads, freeing threads, blocks "
               "migrating between them",
    .seed = "classic: xmalloc-test (Lever, Boreham; Eder)",
    .unit = "block",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "batches=16",
    .default_rounds = 20,
    .run = run,
    .merit = "frees per second (ops_per_s; one op is one block freed)",
};
