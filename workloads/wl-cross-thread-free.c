/*
 * cross-thread-free: remote frees.  Producer threads allocate blocks of
 * mixed sizes and hand them over in batches, through bounded queues, to
 * consumer threads that free them: every free is of a block another thread
 * allocated, the case allocators serve with remote-free queues.  Producer p
 * sends its k-th batch to consumer (p + k) mod consumers, so each consumer
 * hears from every producer.
 *
 * With producers and consumers left at 0, --threads N runs ceil(N/2)
 * producers and the rest as consumers, at least one of each (so --threads 1
 * runs two threads).  One op is one block handed over; the consumers time
 * their frees (ns_per_remote_free).
 */
#include "workload.h"

static const char *const variants[] = {"batched", NULL};

static const struct ab_param params[] = {
    {"producers", AB_PARAM_INT, "0", 0, AB_MAX_THREADS / 2, NULL,
     "allocating threads (0: half of --threads, rounded up)"},
    {"consumers", AB_PARAM_INT, "0", 0, AB_MAX_THREADS / 2, NULL,
     "freeing threads (0: the rest of --threads, at least 1)"},
    {"batch", AB_PARAM_INT, "64", 1, 65536, NULL, "blocks per handover"},
    {"batches", AB_PARAM_INT, "512", 1, 100000000, NULL, "batches per producer per round"},
    {"min_size", AB_PARAM_SIZE, "16", 8, 1 << 20, NULL, "smallest block"},
    {"max_size", AB_PARAM_SIZE, "256", 8, 1 << 20, NULL, "largest block"},
    {"depth", AB_PARAM_INT, "32", 1, 65536, NULL, "batches a consumer's queue holds"},
};

static int run(struct ab_trial *t)
{
    unsigned n = t->threads ? t->threads : 1;
    struct ab_handoff_plan plan = {
        .producers = (unsigned)ab_trial_param(t, "producers"),
        .consumers = (unsigned)ab_trial_param(t, "consumers"),
        .batch = (size_t)ab_trial_param(t, "batch"),
        .batches = (size_t)ab_trial_param(t, "batches"),
        .min_size = (size_t)ab_trial_param(t, "min_size"),
        .max_size = (size_t)ab_trial_param(t, "max_size"),
        .depth = (size_t)ab_trial_param(t, "depth"),
    };
    if (!plan.producers)
        plan.producers = (n + 1) / 2;
    if (!plan.consumers)
        plan.consumers = n > plan.producers ? n - plan.producers : 1;
    if (plan.max_size < plan.min_size)
        plan.max_size = plan.min_size;
    return ab_handoff_run(t, &plan);
}

const struct ab_workload ab_wl_cross_thread_free = {
    .name = "cross-thread-free",
    .summary = "producers allocate, consumers free: remote frees in batches through queues",
    .seed = "003 allocator fast paths (remote frees)",
    .unit = "block",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "batches=32",
    .default_rounds = 20,
    .run = run,
    .merit = "ns per remote free (ns_per_remote_free), blocks per second",
};
