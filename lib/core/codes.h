/* codes.h — part of core.h (included by it): the stable diagnostic codes. */
#ifndef AB_CORE_CODES_H
#define AB_CORE_CODES_H

/*
 * Stable diagnostic codes.  Never renumber, reword or remove one: a retired
 * code stays in the list, marked retired.  X(name, exit status, summary).
 */
#define AB_CODES(X)                                                                 \
    X(ALLOCATOR_FAST_PATH_BUDGET, 1, "a fast path exceeds its budget")              \
    X(ALLOCATOR_REMOTE_FREE_OVERFLOW, 1, "a remote-free queue exceeded its bound")  \
    X(ALLOCATOR_PAGE_EXHAUSTION, 1, "the page backend did not fail closed")         \
    X(ALLOCATOR_HUGEPAGE_POLICY, 1, "hugepage use contradicts the profile")         \
    X(ALLOCATOR_NUMA_POLICY, 1, "NUMA binding contradicts the profile")             \
    X(ALLOCATOR_EXHAUSTION, 1, "the allocator did not fail closed at exhaustion")   \
    X(ALLOCATOR_SHUTDOWN_LEAK, 1, "memory retained after shutdown cleanup")         \
    X(ALLOCBENCH_TRIAL_CRASHED, 1, "a trial died from a signal")                    \
    X(ALLOCBENCH_TRIAL_TIMEOUT, 1, "a trial exceeded its time limit")               \
    X(ALLOCBENCH_TRIAL_FAILED, 1, "a trial exited without a result")                \
    X(ALLOCBENCH_SUBJECT_MISMATCH, 1, "malloc is not served by the allocator asked")\
    X(ALLOCBENCH_BLOCK_CORRUPTED, 1, "a block's contents changed while it was live")\
    X(ALLOCBENCH_BLOCK_OVERLAP, 1, "two live blocks overlap")                       \
    X(ALLOCBENCH_USAGE, 2, "bad command line")                                      \
    X(ALLOCBENCH_UNKNOWN_WORKLOAD, 2, "no such workload")                           \
    X(ALLOCBENCH_UNKNOWN_ALLOCATOR, 2, "no such allocator")                         \
    X(ALLOCBENCH_BAD_SUBJECT, 2, "the file is not a usable allocator")              \
    X(ALLOCBENCH_PLUGIN_ABI, 2, "the plugin descriptor is invalid")                 \
    X(ALLOCBENCH_BAD_PARAM, 2, "a workload parameter is invalid")                   \
    X(ALLOCBENCH_OUTPUT, 2, "the output folder cannot be written")                  \
    X(ALLOCBENCH_BAD_INPUT, 2, "an input file is malformed")                        \
    X(ALLOCBENCH_NOT_INSTALLED, 3, "a required allocator or facility is missing")   \
    X(ALLOCBENCH_INTERNAL, 1, "allocbench itself failed")                          \
    X(ALLOCBENCH_BLOCK_CONTRACT, 1, "a block breaks its alignment or size promise")   \
    X(ALLOCBENCH_BUDGET_UNMATCHED, 1, "a budget row matches no report row")          \
    X(ALLOCBENCH_BUDGET_FIGURE, 1, "a ceiling names a figure the report lacks")      \
    X(ALLOCBENCH_BUDGET_COUNTER, 1, "the budget was set with another counter")       \
    X(ALLOCBENCH_BUDGET_NOTHING_CHECKED, 1, "no report row was checked")             \
    X(ALLOCBENCH_BUDGET_VERSION, 0, "the budget was set on another allocator version")   \
    X(ALLOCBENCH_SUBJECT_CHANNEL, 1, "the allocator wrote to the reply channel")           \
    X(ALLOCBENCH_SUBJECT_LEFTOVER, 1, "a process the allocator started outlived the trial") \
    X(ALLOCBENCH_COMPARE_SLOWER, 1, "HEAD is slower than BASE beyond the threshold")      \
    X(ALLOCBENCH_COMPARE_COUNT, 1, "a fast-path count of HEAD rose beyond the threshold") \
    X(ALLOCBENCH_COMPARE_MISMATCH, 2, "the two reports cannot be compared")               \
    X(ALLOCBENCH_MERGE_MISMATCH, 2, "the reports are not the shards of one matrix")

#endif
