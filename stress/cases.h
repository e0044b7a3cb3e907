/* The stress cases of seed 003, in the order they run and are reported.
 * Adding one is a file stress/case-<name>.c ending in
 * `const struct ab_stress_case ab_case_<id>` and one line here. */
AB_STRESS_CASE(local_free)
AB_STRESS_CASE(remote_free)
AB_STRESS_CASE(cross_thread)
AB_STRESS_CASE(fragmentation)
AB_STRESS_CASE(large_objects)
AB_STRESS_CASE(exhaustion)
AB_STRESS_CASE(shutdown)
