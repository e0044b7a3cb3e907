/* The workload registry: one line per workload, in the order `list` shows.
 * Adding a workload is a file workloads/wl-<name>.c ending in
 * `const struct ab_workload ab_wl_<id>` and one line here. */
AB_WORKLOAD(bulk_new)
AB_WORKLOAD(param_batch)
AB_WORKLOAD(exhaustion)
AB_WORKLOAD(shutdown)
