/*
 * shutdown-cleanup: thread churn (lib/churn.c), then the process's memory
 * against its baseline.  A preloaded allocator's baseline is taken after
 * three warm-up rounds, every thread gone and every block freed (arenas and
 * caches of first use are not leaks); eight more rounds of the same churn
 * must then leave the resident set within the profile's tolerance of it
 * (the address space is reported: allocators reserve it in large steps,
 * glibc 64 MiB per arena, and a reservation is not memory).  A plugin's
 * baseline is taken before its first allocation; after the churn and its
 * fini() both the resident set and the address space must be back there:
 * fini releases everything it mapped.  The live-set shadow is unmapped
 * before each reading so that only the allocator's memory counts.
 */
#include "verify.h"

#include <errno.h>

#define WARM_ROUNDS 3
#define MEASURED_ROUNDS 8

static int fresh_shadow(struct ab_stress *s)
{
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    if (s->verify && !(s->shadow = ab_shadow_new()))
        return -ENOMEM;
    return 0;
}

static int run(struct ab_stress *s)
{
    const struct ab_profile *p = s->prof;
    /* A plugin is judged at its release point, fini; one without fini like
     * a preloaded allocator. */
    const struct allocbench_plugin *pl =
        s->heap->plugin && s->heap->plugin->fini ? s->heap->plugin : NULL;
    struct ab_churn_config cc = {
        .threads = s->threads,
        .blocks = (size_t)p->live,
        .handoff_pct = p->remote_frees ? 25 : 0,
        .sizes = &p->sizes,
    };
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    struct ab_churn *c = ab_churn_new(s, &cc);
    if (!c)
        return -ENOMEM;
    int64_t vm0 = -1, rss0 = -1;
    struct ab_alloc_stats st0, st1;
    int rc = 0;
    if (pl) {
        vm0 = ab_stress_vm_bytes(s);
        rss0 = ab_stress_rss_bytes(s);
    }
    if ((rc = fresh_shadow(s)))
        goto out;
    for (unsigned r = 0; r < WARM_ROUNDS + MEASURED_ROUNDS && !rc; r++) {
        rc = ab_churn_round(c);
        if (r == WARM_ROUNDS - 1 && !pl) {
            ab_churn_drain(c);
            ab_shadow_free(s->shadow);
            s->shadow = NULL;
            vm0 = ab_stress_vm_bytes(s);
            rss0 = ab_stress_rss_bytes(s);
            ab_heap_stats(s->heap, &st0);
            if (!rc)
                rc = fresh_shadow(s);
        }
    }
    ab_churn_drain(c);
    if (rc)
        goto out;
    ab_heap_stats(s->heap, &st1);
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    if (pl) {
        pl->fini();
        s->fini_called = true;
    }
    int64_t vm1 = ab_stress_vm_bytes(s), rss1 = ab_stress_rss_bytes(s);
    uint64_t exits = ab_churn_exits(c) - (pl ? 0 : WARM_ROUNDS * s->threads);
    int64_t drss = rss1 - rss0, dvm = vm1 - vm0;
    ab_stress_figure(s, "thread_exits", "threads", (double)exits);
    ab_stress_figure(s, "retained_rss", "bytes", (double)drss);
    ab_stress_figure(s, "retained_address_space", "bytes", (double)dvm);
    ab_stress_figure(s, "retained_rss_per_thread", "bytes",
                     exits ? (double)drss / (double)exits : 0);
    if (!pl && st0.mapped >= 0 && st1.mapped >= 0)
        ab_stress_figure(s, "allocator_mapped_growth", "bytes", (double)(st1.mapped - st0.mapped));
    uint64_t tol = p->shutdown_tolerance;
    const char *base = pl ? "before the plugin's first allocation" : "after the warm-up rounds";
    /* After fini the plugin's mappings must all be gone: the address space
     * is held to 1 MiB (the C library's own thread bookkeeping), the
     * resident set to the profile's tolerance. */
    if (drss > (int64_t)tol || (pl && dvm > (1 << 20))) {
        ab_stress_diag(s, AB_ALLOCATOR_SHUTDOWN_LEAK,
                       "%s %lld bytes resident and %lld bytes of address space over the baseline "
                       "taken %s, after %llu thread exits (tolerance %llu)",
                       pl ? "after fini," : "retained", (long long)drss,
                       (long long)dvm, base, (unsigned long long)exits,
                       (unsigned long long)tol);
        ab_stress_check(s, "baseline", AB_VERDICT_FAILED, "memory retained");
    } else {
        ab_stress_check(s, "baseline", AB_VERDICT_HELD,
                        "within %llu bytes of the baseline taken %s: resident %+lld, address "
                        "space %+lld after %llu thread exits%s",
                        (unsigned long long)tol, base, (long long)drss, (long long)dvm,
                        (unsigned long long)exits, pl ? " and fini" : "");
    }
out:
    ab_churn_free(c);
    return rc;
}

const struct ab_stress_case ab_case_shutdown_cleanup = {
    .name = "shutdown-cleanup",
    .summary = "thread churn with frees after the owner exited; memory back to baseline",
    .run = run,
};
