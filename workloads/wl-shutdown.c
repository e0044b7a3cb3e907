/*
 * shutdown (issue 4, the mechanism of the stress case shutdown-cleanup in
 * lib/churn.c): thread churn.  Each round starts --threads threads; each
 * frees what the previous round's thread of its rank left (its owner has
 * exited), allocates `blocks` verified blocks of 8 to `max_size` bytes,
 * frees its own share and leaves `handoff` percent, then exits.  The
 * resident set and the address space are read after the warm-up rounds and
 * after the measured rounds, each time with every thread gone and every
 * block freed; the difference is what the allocator kept, reported per
 * exited thread.  One op is one block allocated and freed.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>

static const char *const variants[] = {"churn", NULL};

static const struct ab_param params[] = {
    {"blocks", AB_PARAM_INT, "2048", 1, 1 << 22, NULL, "blocks per thread per round"},
    {"handoff", AB_PARAM_INT, "25", 0, 100, NULL,
     "percent of them freed by the next round's thread, after the owner exited"},
    {"max_size", AB_PARAM_SIZE, "4096", 8, 1 << 24, NULL, "largest block, bytes (from 8)"},
};

struct reading {
    int64_t vm, rss;
};

/* Drain, unmap the live-set shadow (only the allocator's memory counts),
 * read, map a fresh shadow. */
static int settle_and_read(struct ab_stress *s, struct ab_churn *c, struct reading *r)
{
    ab_churn_drain(c);
    ab_shadow_free(s->shadow);
    s->shadow = NULL;
    r->vm = ab_stress_vm_bytes(s);
    r->rss = ab_stress_rss_bytes(s);
    s->shadow = ab_shadow_new();
    return s->shadow ? 0 : -ENOMEM;
}

static int run(struct ab_trial *t)
{
    struct ab_findings *f = ab_buf_alloc(sizeof *f); /* read after run returns */
    struct ab_stress s;
    if (!f || ab_stress_from_trial(&s, f, t))
        return -ENOMEM;
    struct ab_size_mix mix = {.n = 1, .lo = {8}, .weight = {1}, .total = 1};
    mix.hi[0] = (uint64_t)ab_trial_param(t, "max_size");
    struct ab_churn_config cc = {
        .threads = s.threads,
        .blocks = (size_t)ab_trial_param(t, "blocks"),
        .handoff_pct = (unsigned)ab_trial_param(t, "handoff"),
        .sizes = &mix,
    };
    struct ab_churn *c = ab_churn_new(&s, &cc);
    if (!c)
        return -ENOMEM;
    int rc = 0;
    struct reading before = {-1, -1}, after = {-1, -1};
    for (unsigned r = 0; r < t->warmup && !rc; r++)
        rc = ab_churn_round(c);
    if (!rc)
        rc = settle_and_read(&s, c, &before);
    ab_heap_stats(t->heap, &t->stats_before);
    uint64_t exits0 = ab_churn_exits(c), ops0, tns0 = ab_churn_thread_ns(c);
    ops0 = f->ops;
    uint64_t t0 = ab_now_ns();
    for (unsigned r = 0; r < t->rounds && !rc; r++)
        rc = ab_churn_round(c);
    t->wall_ns = ab_now_ns() - t0;
    if (!rc)
        rc = settle_and_read(&s, c, &after);
    ab_heap_stats(t->heap, &t->stats_after);
    uint64_t exits = ab_churn_exits(c) - exits0;
    t->thread_ns = ab_churn_thread_ns(c) - tns0;
    t->ops = f->ops - ops0;
    ab_churn_free(c);
    ab_shadow_free(s.shadow);
    if (rc)
        return rc;
    t->rss_before_kib = before.rss / 1024;
    t->rss_after_kib = after.rss / 1024;
    double kept = (double)(after.rss - before.rss);
    ab_trial_metric(t, "thread_exits", "threads", (double)exits);
    ab_trial_metric(t, "retained_rss", "bytes", kept);
    ab_trial_metric(t, "retained_per_thread", "bytes", exits ? kept / (double)exits : NAN);
    ab_trial_metric(t, "retained_address_space", "bytes", (double)(after.vm - before.vm));
    ab_trial_metric(t, "allocator_mapped_growth", "bytes",
                    t->stats_before.mapped >= 0 && t->stats_after.mapped >= 0
                        ? (double)(t->stats_after.mapped - t->stats_before.mapped)
                        : NAN);
    ab_stress_to_trial(&s, t);
    return 0;
}

const struct ab_workload ab_wl_shutdown = {
    .name = "shutdown",
    .summary = "thread churn with frees after the owner exited: memory kept per exited thread",
    .seed = "003 Allocator fast paths and page backend",
    .unit = "block",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "blocks=256",
    .default_rounds = 8,
    .run = run,
};
