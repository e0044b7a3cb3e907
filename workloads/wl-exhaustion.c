/*
 * exhaustion (issue 4, the mechanism of the stress case of the same name in
 * lib/exhaust.c): in a helper process under RLIMIT_AS `limit` bytes above
 * the address space in use (for a plugin with configure(), its page limit),
 * allocate until NULL with 64 B, 4 KiB, 256 KiB and 4 MiB blocks on every
 * thread, check ENOMEM, usability and overlap, free `recovery` percent and
 * allocate again, and ask for sizes near SIZE_MAX and PTRDIFF_MAX and an
 * overflowing calloc.  One op is one block handed out.  Each check is a
 * metric (1 held, 0 failed, null not applicable); the bytes reached per
 * size are metrics relative to the limit; a failed check is a diagnostic
 * (ALLOCATOR_EXHAUSTION, ALLOCATOR_PAGE_EXHAUSTION), and an allocator that
 * aborts at exhaustion is one.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const char *const variants[] = {"limit", NULL};

static const struct ab_param params[] = {
    {"limit", AB_PARAM_SIZE, "256M", 1 << 20, 1ll << 40, NULL,
     "address space the allocator may add (RLIMIT_AS), or a plugin's page limit"},
    {"recovery", AB_PARAM_INT, "50", 1, 100, NULL,
     "percent of each size's blocks freed before allocating again"},
};

/* A plugin is held to a page limit of the same size, under the first
 * profile it supports. */
static void configure_limit(struct ab_stress *s, uint64_t limit)
{
    const struct allocbench_plugin *pl = s->heap->plugin;
    if (!pl || !pl->configure || !pl->profiles)
        return;
    struct allocbench_plugin_config c = {.struct_size = sizeof c};
    c.profile = pl->profiles & -pl->profiles;
    c.numa_node = -1;
    c.page_limit = limit;
    if (pl->configure(&c) == 0) {
        s->hooks.page_limit = limit;
        s->hooks.limit_kind = AB_LIMIT_BACKEND;
        ab_strlcpy(s->hooks.limit_how, "configure()", sizeof s->hooks.limit_how);
    }
}

static int run(struct ab_trial *t)
{
    struct ab_findings *f = ab_buf_alloc(sizeof *f); /* read after run returns */
    struct ab_stress s;
    if (!f || ab_stress_from_trial(&s, f, t))
        return -ENOMEM;
    uint64_t limit = (uint64_t)ab_trial_param(t, "limit");
    configure_limit(&s, limit);
    struct ab_exhaust_config c = {
        .threads = s.threads,
        .as_limit = limit,
        .recovery_pct = (unsigned)ab_trial_param(t, "recovery"),
    };
    t->rss_before_kib = ab_statm_rss_kib(t->statm_fd);
    ab_heap_stats(t->heap, &t->stats_before);
    uint64_t t0 = ab_now_ns();
    int rc = ab_exhaust_run(&s, &c);
    t->wall_ns = ab_now_ns() - t0;
    t->thread_ns = t->wall_ns;
    t->rss_after_kib = ab_statm_rss_kib(t->statm_fd);
    ab_heap_stats(t->heap, &t->stats_after);
    ab_shadow_free(s.shadow);
    if (rc)
        return rc;
    t->ops = f->ops;
    for (unsigned i = 0; i < f->nchecks; i++) {
        const struct ab_check *k = &f->checks[i];
        double v = k->verdict == AB_VERDICT_HELD     ? 1
                   : k->verdict == AB_VERDICT_FAILED ? 0
                                                     : NAN;
        ab_trial_metric(t, k->name, "verdict", v);
    }
    for (unsigned i = 0; i < f->nfigures; i++)
        ab_trial_metric(t, f->figures[i].name, f->figures[i].unit, f->figures[i].value);
    ab_stress_to_trial(&s, t);
    return 0;
}

const struct ab_workload ab_wl_exhaustion = {
    .name = "exhaustion",
    .summary = "allocate until refused under an address-space or page limit: fail closed, "
               "recover",
    .seed = "003 Allocator fast paths and page backend",
    .unit = "block",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "limit=32M",
    .default_rounds = 1,
    .run = run,
};
