/*
 * shutdown-cleanup: thread churn (lib/churn.c), and what the process keeps
 * per thread exit.  Rounds of the profile's threads; each thread frees what
 * the previous round's thread of its rank left (its owner has exited),
 * allocates CHURN_BLOCKS verified blocks of the profile's sizes, frees its
 * own share, leaves 25 % to the next round, and exits.  After FIRST_EXITS
 * exits (the warm-up: arenas, caches and the other costs of first use) and
 * then every SPAN_EXITS / (POINTS - 1) more, with every thread gone and
 * every block freed, the allocator is asked to give back the free memory
 * it holds (its own call, where it has one) and the process's anonymous
 * resident memory is read from smaps_rollup (a page-table walk: exact,
 * where statm's per-CPU counters drift by pages).  The slope is the median
 * of the readings' consecutive differences per exit: a per-thread leak
 * shows in every interval, a one-time step (a new arena, a metadata block)
 * in one.  It must stay within the profile's shutdown_slope.
 *
 * A plugin with fini() is judged at its release point instead (a bump
 * arena keeps every block until then, by design): baseline before its
 * first allocation; after the same churn and fini() the resident set and
 * the address space must be back within 1 MiB (the C library's own thread
 * bookkeeping).  The live-set shadow is unmapped before each reading.
 */
#include "verify.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define CHURN_BLOCKS 64
#define FIRST_EXITS 500
#define SPAN_EXITS 2000
#define POINTS 9
#define FINI_ALLOWANCE (1 << 20)

struct reading {
    double exits, anon, vm;
};

static int fresh_shadow(struct ab_stress *s)
{
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    if (s->verify && !(s->shadow = ab_shadow_new()))
        return -ENOMEM;
    return 0;
}

/* Every thread gone: free what the last round left, give the allocator's
 * free memory back where it can, read. */
static int take(struct ab_stress *s, struct ab_churn *c, bool release, struct reading *r)
{
    ab_churn_drain(c);
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    if (release)
        ab_heap_release(s->heap);
    struct ab_rollup ru;
    int rc = ab_rollup_read(&ru);
    if (rc)
        return rc;
    r->exits = (double)ab_churn_exits(c);
    r->anon = (double)ru.anonymous;
    r->vm = (double)ab_stress_vm_bytes(s);
    return fresh_shadow(s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of the consecutive differences per exit. */
static double median_slope(const struct reading *r, unsigned n)
{
    double d[POINTS];
    unsigned k = 0;
    for (unsigned i = 1; i < n; i++)
        if (r[i].exits > r[i - 1].exits)
            d[k++] = (r[i].anon - r[i - 1].anon) / (r[i].exits - r[i - 1].exits);
    if (!k)
        return NAN;
    qsort(d, k, sizeof d[0], cmp_double);
    return k % 2 ? d[k / 2] : (d[k / 2 - 1] + d[k / 2]) / 2;
}

static void judge_fini(struct ab_stress *s, int64_t vm0, int64_t rss0, uint64_t exits)
{
    int64_t drss = ab_stress_rss_bytes(s) - rss0, dvm = ab_stress_vm_bytes(s) - vm0;
    ab_stress_figure(s, "retained_rss", "bytes", (double)drss);
    ab_stress_figure(s, "retained_address_space", "bytes", (double)dvm);
    if (drss > FINI_ALLOWANCE || dvm > FINI_ALLOWANCE) {
        ab_stress_diag(s, AB_ALLOCATOR_SHUTDOWN_LEAK,
                       "after fini, %lld bytes resident and %lld bytes of address space over the "
                       "baseline taken before the plugin's first allocation, after %llu thread "
                       "exits (allowance %d)", (long long)drss, (long long)dvm,
                       (unsigned long long)exits, FINI_ALLOWANCE);
        ab_stress_check(s, "baseline", AB_VERDICT_FAILED, "memory retained after fini");
    } else {
        ab_stress_check(s, "baseline", AB_VERDICT_HELD,
                        "after %llu thread exits and fini, within %d bytes of the baseline taken "
                        "before the plugin's first allocation: resident %+lld, address space "
                        "%+lld", (unsigned long long)exits, FINI_ALLOWANCE, (long long)drss,
                        (long long)dvm);
    }
}

static void judge_slope(struct ab_stress *s, const struct reading *r, unsigned n, bool released)
{
    const struct ab_profile *p = s->prof;
    double slope = median_slope(r, n);
    ab_stress_figure(s, "retained_per_exit", "bytes", slope);
    ab_stress_figure(s, "retained_anon", "bytes", r[n - 1].anon - r[0].anon);
    ab_stress_figure(s, "retained_address_space", "bytes", r[n - 1].vm - r[0].vm);
    const char *how = released ? "after the allocator gave back its free memory"
                               : "read as is: the allocator has no call to give free memory back";
    if (!isfinite(slope)) {
        ab_stress_check(s, "slope", AB_VERDICT_SKIPPED, "no two readings to compare");
    } else if (slope > (double)p->shutdown_slope) {
        ab_stress_diag(s, AB_ALLOCATOR_SHUTDOWN_LEAK,
                       "keeps %.0f bytes per thread exit (median over %u intervals of %.0f to "
                       "%.0f exits; anonymous resident, %s), profile %s allows %llu",
                       slope, n - 1, r[0].exits, r[n - 1].exits, how, p->name,
                       (unsigned long long)p->shutdown_slope);
        ab_stress_check(s, "slope", AB_VERDICT_FAILED, "%.0f bytes per thread exit", slope);
    } else {
        ab_stress_check(s, "slope", AB_VERDICT_HELD,
                        "%.0f bytes per thread exit, within %llu (median over %u intervals of "
                        "%.0f to %.0f exits; anonymous resident, %s)", slope,
                        (unsigned long long)p->shutdown_slope, n - 1, r[0].exits,
                        r[n - 1].exits, how);
    }
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
        .blocks = p->live < CHURN_BLOCKS ? (size_t)p->live : CHURN_BLOCKS,
        .handoff_pct = p->remote_frees ? 25 : 0,
        .sizes = &p->sizes,
    };
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    struct ab_churn *c = ab_churn_new(s, &cc);
    if (!c)
        return -ENOMEM;
    int64_t vm0 = ab_stress_vm_bytes(s), rss0 = ab_stress_rss_bytes(s);
    bool released = !pl && ab_heap_release(s->heap);
    struct reading r[POINTS];
    unsigned n = 0;
    int rc = fresh_shadow(s);
    for (unsigned k = 0; k < POINTS && !rc; k++) {
        uint64_t target = FIRST_EXITS + (uint64_t)SPAN_EXITS * k / (POINTS - 1);
        while (!rc && ab_churn_exits(c) < target)
            rc = ab_churn_round(c);
        if (!rc && !pl)
            rc = take(s, c, released, &r[n++]);
    }
    ab_churn_drain(c);
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    uint64_t exits = ab_churn_exits(c);
    ab_churn_free(c);
    if (rc)
        return rc;
    ab_stress_figure(s, "thread_exits", "threads", (double)exits);
    if (pl) {
        pl->fini();
        s->fini_called = true;
        judge_fini(s, vm0, rss0, exits);
    } else {
        judge_slope(s, r, n, released);
    }
    return 0;
}

const struct ab_stress_case ab_case_shutdown_cleanup = {
    .name = "shutdown-cleanup",
    .summary = "thread churn with frees after the owner exited; memory kept per thread exit",
    .run = run,
};
