/*
 * knobs.c — how each allocator is driven to a profile's hugepage, NUMA and
 * page-limit policies: one const table keyed by allocator family, the
 * environment settings its own documented knobs need (they must be in
 * place before the allocator initialises, so they go into the case
 * child's environment), and what the parent sets before exec for every
 * allocator: PR_SET_THP_DISABLE where the profile forbids hugepages (it
 * wins over MADV_HUGEPAGE, and only an exec'ed process is covered from its
 * first allocation) and the NUMA process policy.  A policy an allocator
 * has no knob for stays not applicable, with the reason kept here.
 * Versions are Debian 12's: glibc 2.36, jemalloc 5.3.0, gperftools 2.10,
 * mimalloc 2.0.9.
 */
#include "stress.h"

#include <cJSON.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

/* One policy for one family: the settings ("NAME=VALUE"; in a page-limit
 * setting %llu is the limit in MiB), the words reports use, and, when the
 * family has no way to it, why. */
struct ab_knob {
    const char *env[3];
    const char *how;
    const char *absent;
};

struct ab_family_knobs {
    enum ab_family family;
    struct ab_knob hugepages_on;   /* the profile opts in */
    struct ab_knob hugepages_off;  /* the profile forbids (PR_SET_THP_DISABLE as well) */
    struct ab_knob numa;           /* besides the process policy */
    struct ab_knob page_limit;
    enum ab_limit_kind limit_kind;
    unsigned limit_extra_mib;      /* added to the limit in the setting */
    unsigned limit_granule_mib;    /* a limit it cannot express falls back to RLIMIT_AS */
};

#define THP_OFF "PR_SET_THP_DISABLE before exec"
#define NUMA_PROCESS "process policy MPOL_BIND, set before exec"

static const struct ab_family_knobs table[] = {
    /* hugetlb=1 advises what sysmalloc maps: mmapped chunks of at least
     * the THP size and the main arena's sbrk, not the heaps of the other
     * arenas.  A fixed mmap threshold at the THP size (2 MiB on x86-64)
     * keeps large blocks mmapped: the dynamic one rises after frees and
     * moves them into those heaps, where the knob never reaches. */
    {AB_FAMILY_GLIBC,
     .hugepages_on = {{"GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=2097152"},
                      "GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=2097152",
                      NULL},
     /* hugetlb=0 means "do not advise", not "forbid". */
     .hugepages_off = {{NULL}, THP_OFF, NULL},
     .numa = {{NULL}, NUMA_PROCESS, NULL},
     .page_limit = {{NULL}, "RLIMIT_AS (glibc 2.36 has no heap-size tunable)", NULL},
     .limit_kind = AB_LIMIT_RLIMIT},
    {AB_FAMILY_JEMALLOC,
     .hugepages_on = {{"MALLOC_CONF=thp:always,metadata_thp:always"},
                      "MALLOC_CONF=thp:always,metadata_thp:always", NULL},
     .hugepages_off = {{"MALLOC_CONF=thp:never,metadata_thp:disabled"},
                       "MALLOC_CONF=thp:never,metadata_thp:disabled and " THP_OFF, NULL},
     .numa = {{NULL}, NUMA_PROCESS "; jemalloc 5.3 has no NUMA option", NULL},
     .page_limit = {{NULL}, "RLIMIT_AS (jemalloc 5.3 has no limit option, only custom extent "
                            "hooks)", NULL},
     .limit_kind = AB_LIMIT_RLIMIT},
    {AB_FAMILY_TCMALLOC,
     .hugepages_on = {{NULL}, NULL,
                      "no hook: gperftools 2.10 never calls madvise(MADV_HUGEPAGE) and has no THP "
                      "option; its one hugepage route is hugetlbfs (TCMALLOC_MEMFS_MALLOC_PATH), "
                      "which needs a mounted hugetlbfs and a reserved pool"},
     .hugepages_off = {{NULL}, THP_OFF, NULL},
     .numa = {{NULL}, NUMA_PROCESS "; gperftools 2.10 has no NUMA option", NULL},
     .page_limit = {{"TCMALLOC_HEAP_LIMIT_MB=%llu"}, "TCMALLOC_HEAP_LIMIT_MB", NULL},
     .limit_kind = AB_LIMIT_BACKEND},
    {AB_FAMILY_MIMALLOC,
     /* 2.0.9 knows only this name; allow_large_os_pages came in 2.1.2
      * (and keeps this one as an alias).  With more than one thread 2.0.9
      * gives no large OS pages to a thread's first eager_commit_delay (1)
      * segments (segment.c: "only allow large OS pages once we are no
      * longer lazy"), which is all a thread of large-objects has. */
     .hugepages_on = {{"MIMALLOC_LARGE_OS_PAGES=1", "MIMALLOC_EAGER_COMMIT_DELAY=0"},
                      "MIMALLOC_LARGE_OS_PAGES=1 MIMALLOC_EAGER_COMMIT_DELAY=0", NULL},
     .hugepages_off = {{"MIMALLOC_LARGE_OS_PAGES=0"}, "MIMALLOC_LARGE_OS_PAGES=0 and " THP_OFF,
                       NULL},
     /* MIMALLOC_USE_NUMA_NODES only spreads reserved arenas over nodes in
      * 2.0.9; its ordinary segments are plain mmap and follow the policy. */
     .numa = {{NULL}, NUMA_PROCESS, NULL},
     /* The arena hands out whole 32 MiB segments, one thread's each: the
      * case's own thread holds one from before the limit, so the reserve
      * is one segment more than the limit the filling thread gets. */
     .page_limit = {{"MIMALLOC_RESERVE_OS_MEMORY=%lluMiB", "MIMALLOC_LIMIT_OS_ALLOC=1"},
                    "MIMALLOC_RESERVE_OS_MEMORY and MIMALLOC_LIMIT_OS_ALLOC=1", NULL},
     .limit_kind = AB_LIMIT_BACKEND,
     .limit_extra_mib = 32,
     .limit_granule_mib = 32},
    {AB_FAMILY_OTHER,
     .hugepages_on = {{NULL}, NULL, "no hook: allocbench knows no hugepage option of this "
                                    "allocator"},
     .hugepages_off = {{NULL}, THP_OFF, NULL},
     .numa = {{NULL}, NUMA_PROCESS, NULL},
     .page_limit = {{NULL}, "RLIMIT_AS (no limit option known)", NULL},
     .limit_kind = AB_LIMIT_RLIMIT},
    /* A plugin gets hugepages, NUMA and its page limit through configure(). */
    {AB_FAMILY_PLUGIN,
     .hugepages_on = {{NULL}, "configure()", NULL},
     .hugepages_off = {{NULL}, THP_OFF, NULL},
     .numa = {{NULL}, "configure()", NULL},
     .page_limit = {{NULL}, "configure()", NULL},
     .limit_kind = AB_LIMIT_BACKEND},
};

static const struct ab_family_knobs *knobs_of(enum ab_family f)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].family == f)
            return &table[i];
    return knobs_of(AB_FAMILY_OTHER);
}

/* The node hosted-server binds: $ALLOCBENCH_NUMA_NODE, else the highest
 * one, so that with several nodes the binding differs from default
 * placement.  -1 without NUMA support. */
static int hook_node(void)
{
    if (numa_available() < 0)
        return -1;
    const char *env = getenv("ALLOCBENCH_NUMA_NODE");
    uint64_t n;
    if (env && *env && ab_parse_u64(env, 0, 1023, false, &n) == 0)
        return (int)n;
    int max = numa_max_node();
    return max > 0 ? max : 0;
}

/* Settings that are lists: what the user's environment has stays, ours go
 * after it and win for the options they name (MALLOC_CONF=tcache:false, a
 * workaround, survives the hugepage setting). */
static const struct {
    const char *name;
    char sep;
} lists[] = {{"MALLOC_CONF", ','}, {"GLIBC_TUNABLES", ':'}};

static void add_env(struct ab_policy_plan *pl, const char *fmt, unsigned long long mib)
{
    if (pl->nenv == AB_PLAN_ENV_MAX)
        return;
    char *out = pl->env_text[pl->nenv];
    size_t room = sizeof pl->env_text[0];
    /* Only page-limit settings carry a number (the table's own text). */
    snprintf(out, room, fmt, mib);
    char *eq = strchr(out, '=');
    for (size_t i = 0; eq && i < sizeof lists / sizeof lists[0]; i++) {
        size_t len = (size_t)(eq - out);
        const char *have = getenv(lists[i].name);
        if (strlen(lists[i].name) != len || strncmp(out, lists[i].name, len) || !have || !*have)
            continue;
        char ours[sizeof pl->env_text[0]];
        ab_strlcpy(ours, eq + 1, sizeof ours);
        int n = snprintf(out, room, "%s=%s%c", lists[i].name, have, lists[i].sep);
        if (n > 0 && (size_t)n < room)
            ab_strlcpy(out + n, ours, room - (size_t)n);
    }
    pl->env[pl->nenv] = out;
    pl->env[++pl->nenv] = NULL;
}

void ab_policy_plan(const struct ab_profile *p, enum ab_family family, bool exhaustion,
                    struct ab_policy_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->numa_node = -1;
    const struct ab_family_knobs *k = knobs_of(family);
    bool plugin = family == AB_FAMILY_PLUGIN;

    if (p->hugepages == AB_HOOK_FORBID) {
        pl->thp_disable = true;
        for (int i = 0; k->hugepages_off.env[i]; i++)
            add_env(pl, k->hugepages_off.env[i], 0);
        snprintf(pl->hugepages_how, sizeof pl->hugepages_how, "%s", k->hugepages_off.how);
    } else if (k->hugepages_on.absent) {
        snprintf(pl->hugepages_na, sizeof pl->hugepages_na, "%s", k->hugepages_on.absent);
    } else {
        pl->hugepages = true;
        for (int i = 0; k->hugepages_on.env[i]; i++)
            add_env(pl, k->hugepages_on.env[i], 0);
        snprintf(pl->hugepages_how, sizeof pl->hugepages_how, "%s", k->hugepages_on.how);
    }

    if (p->numa == AB_HOOK_OPT_IN) {
        int node = hook_node();
        if (node < 0) {
            pl->numa_skipped = true;
            snprintf(pl->numa_na, sizeof pl->numa_na, "the kernel offers no NUMA policy");
        } else if (!plugin && !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node)) {
            /* set_mempolicy would refuse it (EINVAL): never a silent
             * default placement reported as bound. */
            pl->numa_skipped = true;
            snprintf(pl->numa_na, sizeof pl->numa_na,
                     "node %d does not exist here (highest %d): the process policy cannot bind "
                     "it", node, numa_max_node());
        } else {
            pl->numa_node = node;
            pl->numa_process = !plugin;
            for (int i = 0; k->numa.env[i]; i++)
                add_env(pl, k->numa.env[i], 0);
            snprintf(pl->numa_how, sizeof pl->numa_how, "%s", k->numa.how);
        }
    }

    uint64_t granule = (uint64_t)k->limit_granule_mib << 20;
    if (exhaustion && granule && p->page_limit % granule) {
        pl->page_limit = p->page_limit;
        pl->limit_kind = AB_LIMIT_RLIMIT;
        snprintf(pl->limit_how, sizeof pl->limit_how,
                 "RLIMIT_AS (%s counts whole %u MiB blocks)", k->page_limit.how,
                 k->limit_granule_mib);
    } else if (exhaustion) {
        pl->page_limit = p->page_limit;
        pl->limit_kind = k->limit_kind;
        unsigned first = pl->nenv;
        for (int i = 0; k->page_limit.env[i]; i++)
            add_env(pl, k->page_limit.env[i],
                    (unsigned long long)(p->page_limit >> 20) + k->limit_extra_mib);
        if (k->page_limit.env[0]) {
            char *w = pl->limit_how;
            size_t room = sizeof pl->limit_how;
            for (unsigned i = first; i < pl->nenv; i++) {
                int n = snprintf(w, room, "%s%s", i > first ? " " : "", pl->env[i]);
                if (n < 0 || (size_t)n >= room)
                    break;
                w += n;
                room -= (size_t)n;
            }
        } else {
            snprintf(pl->limit_how, sizeof pl->limit_how, "%s", k->page_limit.how);
        }
    }
}

/* In the forked child before exec: system calls only. */
void ab_policy_before_exec(const void *ctx)
{
    const struct ab_policy_plan *pl = ctx;
    if (pl->thp_disable)
        prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    if (pl->numa_process && pl->numa_node >= 0 && pl->numa_node < 1024) {
        unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
        size_t bits = 8 * sizeof mask[0];
        mask[pl->numa_node / bits] = 1ul << (pl->numa_node % bits);
        set_mempolicy(MPOL_BIND, mask, (unsigned long)pl->numa_node + 2);
    }
}

void ab_policy_plan_json(const struct ab_policy_plan *pl, struct cJSON *req)
{
    cJSON *o = cJSON_AddObjectToObject(req, "policy");
    cJSON_AddBoolToObject(o, "hugepages", pl->hugepages);
    cJSON_AddBoolToObject(o, "thp_disabled", pl->thp_disable);
    cJSON_AddStringToObject(o, "hugepages_how", pl->hugepages_how);
    cJSON_AddStringToObject(o, "hugepages_na", pl->hugepages_na);
    cJSON_AddNumberToObject(o, "numa_node", pl->numa_node);
    cJSON_AddBoolToObject(o, "numa_process", pl->numa_process);
    cJSON_AddStringToObject(o, "numa_how", pl->numa_how);
    cJSON_AddStringToObject(o, "numa_na", pl->numa_na);
    cJSON_AddBoolToObject(o, "numa_skipped", pl->numa_skipped);
    char limit[24];
    snprintf(limit, sizeof limit, "%llu", (unsigned long long)pl->page_limit);
    cJSON_AddStringToObject(o, "page_limit", limit);
    cJSON_AddNumberToObject(o, "limit_kind", pl->limit_kind);
    cJSON_AddStringToObject(o, "limit_how", pl->limit_how);
}

void ab_policy_plan_read(const struct cJSON *req, struct ab_policy_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(req, "policy");
    pl->hugepages = ab_json_bool(o, "hugepages");
    pl->thp_disable = ab_json_bool(o, "thp_disabled");
    ab_strlcpy(pl->hugepages_how, ab_json_str(o, "hugepages_how"), sizeof pl->hugepages_how);
    ab_strlcpy(pl->hugepages_na, ab_json_str(o, "hugepages_na"), sizeof pl->hugepages_na);
    pl->numa_node = (int)ab_json_num(o, "numa_node", -1);
    pl->numa_process = ab_json_bool(o, "numa_process");
    ab_strlcpy(pl->numa_how, ab_json_str(o, "numa_how"), sizeof pl->numa_how);
    ab_strlcpy(pl->numa_na, ab_json_str(o, "numa_na"), sizeof pl->numa_na);
    pl->numa_skipped = ab_json_bool(o, "numa_skipped");
    if (ab_json_u64(o, "page_limit", &pl->page_limit))
        pl->page_limit = 0;
    pl->limit_kind = (enum ab_limit_kind)ab_json_num(o, "limit_kind", AB_LIMIT_NONE);
    ab_strlcpy(pl->limit_how, ab_json_str(o, "limit_how"), sizeof pl->limit_how);
}
