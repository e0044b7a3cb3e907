/*
 * exhaustion: the allocator at its limit must fail closed (lib/exhaust.c):
 * under RLIMIT_AS `as_limit` bytes above the address space in use, or, for
 * a plugin that accepted it, the profile's page limit.  One thread: a
 * process has one address-space limit, and the verdict is about the
 * allocator's answer, not about contention.
 */
#include "verify.h"

static int run(struct ab_stress *s)
{
    s->threads = 1;
    struct ab_exhaust_config c = {
        .threads = 1,
        .as_limit = s->prof->as_limit,
        .recovery_pct = 50,
        .late_thread = true,
    };
    return ab_exhaust_run(s, &c);
}

const struct ab_stress_case ab_case_exhaustion = {
    .name = "exhaustion",
    .summary = "allocate until refused under a limit: NULL with ENOMEM, usable, recovers",
    .run = run,
};
