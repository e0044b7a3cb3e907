/* The workload registry: one line per workload, in the order `list` shows.
 * Adding a workload is a file workloads/wl-<name>.c ending in
 * `const struct ab_workload ab_wl_<id>` and one line here. */
AB_WORKLOAD(bulk_new)
AB_WORKLOAD(param_batch)
AB_WORKLOAD(tiny_box)
AB_WORKLOAD(arena_scope)
AB_WORKLOAD(cross_thread_free)
AB_WORKLOAD(xmalloc)
AB_WORKLOAD(fragmentation)
AB_WORKLOAD(large_objects)
AB_WORKLOAD(threadtest)
AB_WORKLOAD(cache_thrash)
AB_WORKLOAD(cache_scratch)
AB_WORKLOAD(glibc_thread)
AB_WORKLOAD(larson)
AB_WORKLOAD(mstress)
AB_WORKLOAD(rptest)
