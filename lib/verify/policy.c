/*
 * policy.c — hugepage and NUMA policy, checked on the memory itself, not on
 * what was asked.
 *
 * Hugepages: the mappings of /proc/self/smaps that hold a live block, their
 * AnonHugePages and Private/Shared_Hugetlb and whether they carry VmFlags
 * "hg" (MADV_HUGEPAGE), and the process's totals from smaps_rollup.  Where
 * the profile forbids them the process runs with THP disabled, so an
 * allocator that turns them on by itself shows in its advice and in
 * hugetlbfs pages; where it opts in, hugepages must back the blocks.
 * NUMA: the policy in effect at each block (the mapping's own, else the
 * thread's) and where its page sits (move_pages in query mode; on one node
 * that can only be node 0).
 */
#include "verify.h"

#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Hugepages where the live blocks are, from /proc/self/smaps. */
struct ab_thp_use {
    uint64_t regions;              /* mappings holding at least one block */
    uint64_t rss_kib;              /* their resident 4 KiB pages and THP */
    uint64_t anon_huge_kib;        /* their AnonHugePages */
    uint64_t hugetlb_kib;          /* their Private_Hugetlb + Shared_Hugetlb (not in Rss) */
    uint64_t advised;              /* of them flagged hg (MADV_HUGEPAGE) */
};

/* NUMA policy of the memory at the blocks: the mapping's own policy
 * (get_mempolicy MPOL_F_ADDR), else the thread's, which is what places a
 * page on first touch; and where the pages are (move_pages, query mode). */
struct ab_numa_use {
    int nodes;                     /* configured nodes; 0 when NUMA is unavailable */
    int task_mode;                 /* the thread's own policy */
    uint64_t sampled;
    uint64_t foreign;              /* a mapping policy of its own, not the thread's */
    uint64_t on_node;              /* in effect: bound or preferred including `node` */
    int first_mode, first_foreign; /* in effect at the first block not on the node;
                                      of the first foreign block */
    uint64_t placed, misplaced;    /* pages present on / off node */
    int first_misplaced;           /* the node of the first */
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
        if (sscanf(line, "Rss: %llu kB", &kib) == 1)
            out->rss_kib += kib;
        else if (sscanf(line, "AnonHugePages: %llu kB", &kib) == 1)
            out->anon_huge_kib += kib;
        else if (sscanf(line, "Private_Hugetlb: %llu kB", &kib) == 1 ||
                 sscanf(line, "Shared_Hugetlb: %llu kB", &kib) == 1)
            out->hugetlb_kib += kib;
        else if (!strncmp(line, "VmFlags:", 8) && strstr(line, " hg"))
            out->advised++;
    }
    free(text);
    ab_buf_free(sorted, (n ? n : 1) * sizeof *sorted);
    return 0;
}

static bool mask_has(const unsigned long *mask, size_t words, int node)
{
    return node >= 0 && (size_t)node / 64 < words && (mask[node / 64] >> (node % 64) & 1);
}

static int ab_policy_numa(const void *const *addrs, size_t n, int node, struct ab_numa_use *out)
{
    memset(out, 0, sizeof *out);
    out->first_mode = out->first_foreign = out->first_misplaced = -1;
    if (numa_available() < 0)
        return 0;
    out->nodes = numa_num_configured_nodes();
    unsigned long maxnode = (unsigned long)numa_max_possible_node() + 1;
    size_t words = (maxnode + 63) / 64;
    size_t step = n > 4096 ? n / 4096 : 1; /* a sample is enough: policy is per mapping */
    size_t npages = (n + step - 1) / step;
    size_t bytes = 2 * words * sizeof(unsigned long) + npages * (sizeof(void *) + sizeof(int));
    unsigned long *mask = ab_buf_alloc(bytes ? bytes : 1);
    if (!mask)
        return -ENOMEM;
    unsigned long *own = mask + words;
    void **pages = (void **)(own + words);
    int *status = (int *)(pages + npages);
    int rc = 0;
    if (get_mempolicy(&out->task_mode, own, maxnode, NULL, 0)) {
        rc = -errno;
        goto out;
    }
    size_t np = 0;
    for (size_t i = 0; i < n; i += step) {
        int mode;
        memset(mask, 0, words * sizeof *mask);
        if (get_mempolicy(&mode, mask, maxnode, (void *)addrs[i], MPOL_F_ADDR))
            continue;
        out->sampled++;
        mode &= ~(MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES);
        if (mode != MPOL_DEFAULT &&
            (mode != out->task_mode || memcmp(mask, own, words * sizeof *mask))) {
            out->foreign++;
            if (out->first_foreign < 0)
                out->first_foreign = mode;
        }
        /* A mapping without a policy of its own is placed by the thread's. */
        const unsigned long *eff = mode == MPOL_DEFAULT ? own : mask;
        int emode = mode == MPOL_DEFAULT ? out->task_mode : mode;
        if ((emode == MPOL_BIND || emode == MPOL_PREFERRED) && mask_has(eff, words, node))
            out->on_node++;
        else if (out->first_mode < 0)
            out->first_mode = emode;
        pages[np++] = (void *)((uintptr_t)addrs[i] & ~(uintptr_t)(getpagesize() - 1));
    }
    /* Query mode (no target nodes): the node of each page, -ENOENT for one
     * not present.  Meaningful on one node too: a page must be on node 0. */
    if (node >= 0 && np && numa_move_pages(0, np, pages, NULL, status, 0) == 0) {
        for (size_t i = 0; i < np; i++) {
            if (status[i] < 0)
                continue;
            if (status[i] == node) {
                out->placed++;
            } else {
                out->misplaced++;
                if (out->first_misplaced < 0)
                    out->first_misplaced = status[i];
            }
        }
    }
out:
    ab_buf_free(mask, bytes ? bytes : 1);
    return rc;
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

/* Why a policy the profile opts into was not asked of this allocator
 * (the knob table's reason, or the plugin's answer); NULL when it was. */
static const char *not_asked(const char *na, bool asked)
{
    return asked ? NULL : na[0] ? na : "not asked for";
}

static void check_thp(struct ab_stress *s, const void *const *addrs, size_t n)
{
    const struct ab_profile *p = s->prof;
    const struct ab_hooks *hk = &s->hooks;
    struct ab_thp_use u;
    struct ab_rollup r;
    char mode[32];
    ab_host_thp_mode(mode, sizeof mode);
    if (ab_policy_thp(addrs, n, &u) || ab_rollup_read(&r)) {
        ab_stress_check(s, "hugepages", AB_VERDICT_SKIPPED, "/proc/self/smaps unreadable");
        return;
    }
    uint64_t huge = u.anon_huge_kib + u.hugetlb_kib;
    int64_t process_huge = r.anon_huge + r.shared_hugetlb + r.private_hugetlb;
    ab_stress_figure(s, "anon_huge_kib", "KiB", (double)u.anon_huge_kib);
    ab_stress_figure(s, "hugetlb_kib", "KiB", (double)u.hugetlb_kib);
    ab_stress_figure(s, "process_huge_kib", "KiB", (double)process_huge / 1024);
    if (p->hugepages == AB_HOOK_FORBID) {
        /* THP disabled for the process before exec wins over any advice:
         * what is left to see is the allocator's own intent (hg), and
         * hugetlbfs pages, which the prctl does not stop.  Without it, under
         * THP "always" the kernel backs large mappings unasked. */
        bool disabled = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1;
        bool kernel_made = !disabled && !strcmp(mode, "always");
        bool thp = !kernel_made && r.anon_huge > 0;
        if (u.advised || thp || r.shared_hugetlb + r.private_hugetlb > 0) {
            ab_stress_diag(s, AB_ALLOCATOR_HUGEPAGE_POLICY,
                           "%llu of the %llu mappings holding blocks advised MADV_HUGEPAGE, "
                           "process %lld kB AnonHugePages and %lld kB hugetlb (THP %s%s); "
                           "profile %s forbids hugepages",
                           (unsigned long long)u.advised, (unsigned long long)u.regions,
                           (long long)(r.anon_huge / 1024),
                           (long long)((r.shared_hugetlb + r.private_hugetlb) / 1024), mode,
                           disabled ? ", disabled for the process" : "", p->name);
            ab_stress_check(s, "hugepages", AB_VERDICT_FAILED, "hugepages applied");
        } else {
            ab_stress_check(s, "hugepages", AB_VERDICT_HELD,
                            "none advised in %llu mappings holding %zu blocks, none in the "
                            "process (THP %s%s%s%s)",
                            (unsigned long long)u.regions, n, mode,
                            disabled ? ", disabled for the process" : "",
                            hk->hugepages_how[0] ? "; " : "", hk->hugepages_how);
        }
        return;
    }
    const char *why = not_asked(hk->hugepages_na, hk->hugepages);
    if (why) {
        ab_stress_check(s, "hugepages", AB_VERDICT_NA, "%s", why);
        return;
    }
    if (!strcmp(mode, "never") && !huge) {
        ab_stress_check(s, "hugepages", AB_VERDICT_SKIPPED,
                        "THP is disabled on this host: hugepages cannot appear");
        return;
    }
    /* What really backs the blocks, not what was asked: THP is
     * opportunistic, so some, not all. */
    if (!huge) {
        ab_stress_diag(s, AB_ALLOCATOR_HUGEPAGE_POLICY,
                       "configured with hugepages (%s) but none back the %llu mappings holding "
                       "blocks (%llu advised MADV_HUGEPAGE, %llu kB resident)",
                       hk->hugepages_how, (unsigned long long)u.regions,
                       (unsigned long long)u.advised, (unsigned long long)u.rss_kib);
        ab_stress_check(s, "hugepages", AB_VERDICT_FAILED, "configured, not applied");
        return;
    }
    ab_stress_check(s, "hugepages", AB_VERDICT_HELD,
                    "%s: %llu kB AnonHugePages and %llu kB hugetlb back the blocks (%.0f%% of "
                    "their %llu kB), %llu of %llu mappings advised",
                    hk->hugepages_how, (unsigned long long)u.anon_huge_kib,
                    (unsigned long long)u.hugetlb_kib,
                    100.0 * (double)huge / (double)(u.rss_kib + u.hugetlb_kib),
                    (unsigned long long)(u.rss_kib + u.hugetlb_kib),
                    (unsigned long long)u.advised, (unsigned long long)u.regions);
}

static void check_numa(struct ab_stress *s, const void *const *addrs, size_t n)
{
    const struct ab_profile *p = s->prof;
    const struct ab_hooks *hk = &s->hooks;
    struct ab_numa_use u;
    int node = hk->numa_node;
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
                           mode_name(u.first_foreign), p->name);
            ab_stress_check(s, "numa", AB_VERDICT_FAILED, "memory bound");
        } else {
            ab_stress_check(s, "numa", AB_VERDICT_HELD,
                            "no binding on %llu sampled blocks (%d node%s)",
                            (unsigned long long)u.sampled, u.nodes, u.nodes == 1 ? "" : "s");
        }
        return;
    }
    const char *why = not_asked(hk->numa_na, node >= 0);
    if (why) {
        enum ab_verdict v = hk->numa_skipped ? AB_VERDICT_SKIPPED : AB_VERDICT_NA;
        ab_stress_check(s, "numa", v, "%s", why);
        ab_stress_check(s, "numa-placement", v, "%s", why);
        return;
    }
    if (u.on_node < u.sampled) {
        ab_stress_diag(s, AB_ALLOCATOR_NUMA_POLICY,
                       "asked to bind node %d (%s) but %llu of %llu sampled blocks are under "
                       "policy %s%s", node, hk->numa_how,
                       (unsigned long long)(u.sampled - u.on_node), (unsigned long long)u.sampled,
                       mode_name(u.first_mode),
                       u.foreign ? ", a policy of the allocator's own" : "");
        ab_stress_check(s, "numa", AB_VERDICT_FAILED, "configured, not applied");
    } else {
        ab_stress_check(s, "numa", AB_VERDICT_HELD, "%llu sampled blocks bound to node %d (%s)",
                        (unsigned long long)u.sampled, node, hk->numa_how);
    }
    if (!u.placed && !u.misplaced) {
        ab_stress_check(s, "numa-placement", AB_VERDICT_SKIPPED,
                        "no sampled page present to locate");
    } else if (u.misplaced) {
        ab_stress_diag(s, AB_ALLOCATOR_NUMA_POLICY,
                       "asked to bind node %d but %llu of %llu sampled pages sit elsewhere "
                       "(the first on node %d)",
                       node, (unsigned long long)u.misplaced,
                       (unsigned long long)(u.placed + u.misplaced), u.first_misplaced);
        ab_stress_check(s, "numa-placement", AB_VERDICT_FAILED, "pages off the node");
    } else {
        ab_stress_check(s, "numa-placement", AB_VERDICT_HELD, "%llu sampled pages on node %d%s",
                        (unsigned long long)u.placed, node,
                        u.nodes == 1 ? " (the only node: it cannot differ from default "
                                       "placement here)" : "");
    }
}

void ab_policy_check(struct ab_stress *s, const void *const *addrs, size_t n)
{
    check_thp(s, addrs, n);
    check_numa(s, addrs, n);
}
