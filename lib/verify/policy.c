/*
 * policy.c — hugepage and NUMA policy, checked on the memory itself.
 *
 * Hugepages: the mappings of /proc/self/smaps that hold a live block, their
 * AnonHugePages and whether they carry VmFlags "hg" (MADV_HUGEPAGE).  NUMA:
 * get_mempolicy(MPOL_F_ADDR) at each block against the thread's own policy,
 * and move_pages for where the pages sit (meaningful only with two nodes
 * or more: on one node every page is on node 0 whatever the binding).
 */
#include "verify.h"

#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Hugepages where the live blocks are, from /proc/self/smaps. */
struct ab_thp_use {
    uint64_t regions;              /* mappings holding at least one block */
    uint64_t anon_huge_kib;        /* their AnonHugePages */
    uint64_t advised;              /* of them flagged hg (MADV_HUGEPAGE) */
};


/* NUMA policy of the memory at the blocks (get_mempolicy MPOL_F_ADDR). */
struct ab_numa_use {
    int nodes;                     /* configured nodes; 0 when NUMA is unavailable */
    uint64_t sampled;
    uint64_t foreign;              /* policy differs from the thread's own */
    uint64_t on_node;              /* bound or preferred including `node` */
    uint64_t placed, misplaced;    /* pages found on / off node (move_pages) */
    int first_mode;                /* of the first foreign block */
};



/* Mode flags of the kernel ABI (linux/mempolicy.h) that numaif.h may lack. */
#ifndef MPOL_F_STATIC_NODES
#define MPOL_F_STATIC_NODES (1 << 15)
#endif
#ifndef MPOL_F_RELATIVE_NODES
#define MPOL_F_RELATIVE_NODES (1 << 14)
#endif

static int cmp_addr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

static int ab_policy_thp(const void *const *addrs, size_t n, struct ab_thp_use *out)
{
    memset(out, 0, sizeof *out);
    const void **sorted = ab_buf_alloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return -ENOMEM;
    memcpy(sorted, addrs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_addr);
    char *text = ab_read_file("/proc/self/smaps", 1u << 28, NULL);
    if (!text) {
        int e = errno;
        ab_buf_free(sorted, (n ? n : 1) * sizeof *sorted);
        return -e;
    }
    size_t next = 0; /* the first block not yet past the current mapping */
    bool in = false;
    for (char *line = text, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        unsigned long long lo, hi;
        char dash;
        if (sscanf(line, "%llx%c%llx ", &lo, &dash, &hi) == 3 && dash == '-') {
            while (next < n && (uintptr_t)sorted[next] < lo)
                next++;
            in = next < n && (uintptr_t)sorted[next] < hi;
            if (in)
                out->regions++;
            continue;
        }
        if (!in)
            continue;
        unsigned long long kib;
        if (sscanf(line, "AnonHugePages: %llu kB", &kib) == 1)
            out->anon_huge_kib += kib;
        else if (!strncmp(line, "VmFlags:", 8) && strstr(line, " hg"))
            out->advised++;
    }
    free(text);
    ab_buf_free(sorted, (n ? n : 1) * sizeof *sorted);
    return 0;
}

static int ab_policy_numa(const void *const *addrs, size_t n, int node, struct ab_numa_use *out)
{
    memset(out, 0, sizeof *out);
    out->first_mode = -1;
    if (numa_available() < 0)
        return 0;
    out->nodes = numa_num_configured_nodes();
    unsigned long maxnode = (unsigned long)numa_max_possible_node() + 1;
    size_t words = (maxnode + 63) / 64;
    unsigned long *mask = ab_buf_alloc(2 * words * sizeof *mask);
    if (!mask)
        return -ENOMEM;
    unsigned long *own = mask + words;
    int own_mode;
    if (get_mempolicy(&own_mode, own, maxnode, NULL, 0)) {
        int e = errno;
        ab_buf_free(mask, 2 * words * sizeof *mask);
        return -e;
    }
    size_t step = n > 4096 ? n / 4096 : 1; /* a sample is enough: policy is per mapping */
    for (size_t i = 0; i < n; i += step) {
        int mode;
        memset(mask, 0, words * sizeof *mask);
        if (get_mempolicy(&mode, mask, maxnode, (void *)addrs[i], MPOL_F_ADDR))
            continue;
        out->sampled++;
        mode &= ~(MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES);
        if (mode != own_mode || memcmp(mask, own, words * sizeof *mask)) {
            out->foreign++;
            if (out->first_mode < 0)
                out->first_mode = mode;
        }
        bool has_node = node >= 0 && (size_t)node / 64 < words &&
                        (mask[node / 64] >> (node % 64) & 1);
        if ((mode == MPOL_BIND || mode == MPOL_PREFERRED) && has_node)
            out->on_node++;
        if (node >= 0 && out->nodes >= 2) {
            void *page = (void *)((uintptr_t)addrs[i] & ~(uintptr_t)(getpagesize() - 1));
            int status = -1;
            if (move_pages(0, 1, &page, NULL, &status, 0) == 0 && status >= 0) {
                if (status == node)
                    out->placed++;
                else
                    out->misplaced++;
            }
        }
    }
    ab_buf_free(mask, 2 * words * sizeof *mask);
    return 0;
}

static const char *mode_name(int mode)
{
    switch (mode) {
    case MPOL_DEFAULT: return "default";
    case MPOL_PREFERRED: return "preferred";
    case MPOL_BIND: return "bind";
    case MPOL_INTERLEAVE: return "interleave";
    case MPOL_LOCAL: return "local";
    }
    return "other";
}

/* Why the hooks of this allocator cannot be asked for, or "" when they were. */
static void hook_na(const struct ab_stress *s, bool wanted, char *why, size_t n)
{
    const struct ab_heap *h = s->heap;
    why[0] = '\0';
    if (!h->plugin)
        snprintf(why, n, "a preloaded allocator offers no configure hook");
    else if (!h->plugin->configure)
        snprintf(why, n, "plugin %s has no configure()", h->plugin->name);
    else if (s->hooks.hooks_refused)
        snprintf(why, n, "plugin %s refused the hooks (%s)", h->plugin->name,
                 strerror(-s->hooks.hooks_rc));
    else if (!wanted)
        snprintf(why, n, "not asked for");
}

static void check_thp(struct ab_stress *s, const void *const *addrs, size_t n)
{
    const struct ab_profile *p = s->prof;
    struct ab_thp_use u;
    char mode[32], why[200];
    ab_host_thp_mode(mode, sizeof mode);
    if (ab_policy_thp(addrs, n, &u)) {
        ab_stress_check(s, "hugepages", AB_VERDICT_SKIPPED, "/proc/self/smaps unreadable");
        return;
    }
    ab_stress_figure(s, "anon_huge_kib", "KiB", (double)u.anon_huge_kib);
    if (p->hugepages == AB_HOOK_FORBID) {
        /* Under THP "always" the kernel backs any large enough mapping with
         * hugepages unasked: only an explicit madvise is the allocator's. */
        bool kernel_made = !strcmp(mode, "always");
        if (u.advised || (!kernel_made && u.anon_huge_kib)) {
            ab_stress_diag(s, AB_ALLOCATOR_HUGEPAGE_POLICY,
                           "%llu kB AnonHugePages in %llu of the %llu mappings holding blocks "
                           "(%llu advised MADV_HUGEPAGE; THP %s); profile %s forbids hugepages",
                           (unsigned long long)u.anon_huge_kib, (unsigned long long)u.advised,
                           (unsigned long long)u.regions, (unsigned long long)u.advised, mode,
                           p->name);
            ab_stress_check(s, "hugepages", AB_VERDICT_FAILED, "hugepages applied");
        } else {
            ab_stress_check(s, "hugepages", AB_VERDICT_HELD,
                            "none applied in %llu mappings holding %zu blocks (THP %s)",
                            (unsigned long long)u.regions, n, mode);
        }
        return;
    }
    hook_na(s, s->hooks.hugepages, why, sizeof why);
    if (why[0]) {
        ab_stress_check(s, "hugepages", AB_VERDICT_NA, "%s", why);
        return;
    }
    if (!strcmp(mode, "never")) {
        ab_stress_check(s, "hugepages", AB_VERDICT_SKIPPED,
                        "THP is disabled on this host: hugepages cannot appear");
        return;
    }
    if (!u.advised || !u.anon_huge_kib) {
        ab_stress_diag(s, AB_ALLOCATOR_HUGEPAGE_POLICY,
                       "configured with hugepages but %llu of %llu mappings holding blocks are "
                       "advised and %llu kB are AnonHugePages",
                       (unsigned long long)u.advised, (unsigned long long)u.regions,
                       (unsigned long long)u.anon_huge_kib);
        ab_stress_check(s, "hugepages", AB_VERDICT_FAILED, "configured, not applied");
        return;
    }
    ab_stress_check(s, "hugepages", AB_VERDICT_HELD,
                    "applied as configured: %llu kB AnonHugePages, %llu of %llu mappings advised",
                    (unsigned long long)u.anon_huge_kib, (unsigned long long)u.advised,
                    (unsigned long long)u.regions);
}

static void check_numa(struct ab_stress *s, const void *const *addrs, size_t n)
{
    const struct ab_profile *p = s->prof;
    struct ab_numa_use u;
    char why[200];
    int node = s->hooks.numa_node;
    if (ab_policy_numa(addrs, n, node, &u) || u.nodes == 0) {
        ab_stress_check(s, "numa", AB_VERDICT_SKIPPED, "the kernel offers no NUMA policy");
        return;
    }
    if (p->numa == AB_HOOK_FORBID) {
        if (u.foreign) {
            ab_stress_diag(s, AB_ALLOCATOR_NUMA_POLICY,
                           "%llu of %llu sampled blocks lie in memory with policy %s; profile "
                           "%s forbids NUMA binding",
                           (unsigned long long)u.foreign, (unsigned long long)u.sampled,
                           mode_name(u.first_mode), p->name);
            ab_stress_check(s, "numa", AB_VERDICT_FAILED, "memory bound");
        } else {
            ab_stress_check(s, "numa", AB_VERDICT_HELD,
                            "no binding on %llu sampled blocks (%d node%s)",
                            (unsigned long long)u.sampled, u.nodes, u.nodes == 1 ? "" : "s");
        }
        return;
    }
    hook_na(s, node >= 0, why, sizeof why);
    if (why[0]) {
        ab_stress_check(s, "numa", AB_VERDICT_NA, "%s", why);
        ab_stress_check(s, "numa-placement", AB_VERDICT_NA, "%s", why);
        return;
    }
    if (u.on_node < u.sampled) {
        ab_stress_diag(s, AB_ALLOCATOR_NUMA_POLICY,
                       "configured to bind node %d but %llu of %llu sampled blocks are not bound "
                       "to it", node, (unsigned long long)(u.sampled - u.on_node),
                       (unsigned long long)u.sampled);
        ab_stress_check(s, "numa", AB_VERDICT_FAILED, "configured, not applied");
    } else {
        ab_stress_check(s, "numa", AB_VERDICT_HELD, "%llu sampled blocks bound to node %d",
                        (unsigned long long)u.sampled, node);
    }
    if (u.nodes < 2) {
        ab_stress_check(s, "numa-placement", AB_VERDICT_SKIPPED,
                        "one NUMA node: pages on node %d cannot be told from default placement",
                        node);
    } else if (u.misplaced) {
        ab_stress_diag(s, AB_ALLOCATOR_NUMA_POLICY,
                       "configured to bind node %d but %llu of %llu sampled pages sit elsewhere",
                       node, (unsigned long long)u.misplaced,
                       (unsigned long long)(u.placed + u.misplaced));
        ab_stress_check(s, "numa-placement", AB_VERDICT_FAILED, "pages off the node");
    } else {
        ab_stress_check(s, "numa-placement", AB_VERDICT_HELD, "%llu sampled pages on node %d",
                        (unsigned long long)u.placed, node);
    }
}

void ab_policy_check(struct ab_stress *s, const void *const *addrs, size_t n)
{
    check_thp(s, addrs, n);
    check_numa(s, addrs, n);
}
