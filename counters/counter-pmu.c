/*
 * counter-pmu.c — the hardware's own counts: perf_event_open, user space
 * only, retired instructions and branch instructions in one group, read
 * around each call in the measuring child.
 *
 * A reading costs a few instructions with rdpmc (where the kernel allows it:
 * cap_user_rdpmc in the mapped page) or a read() system call otherwise; the
 * harness's share (the reading itself, the indirect call) is measured by
 * calling an empty function (one `ret`) the same way, and subtracted.  A
 * reading taken while the group was not counting, or multiplexed
 * (time_running below time_enabled), is invalid: the call is flagged and
 * left out, never reported as a number.  Conditional branches are not a
 * portable event, so this backend leaves them null.
 */
#include "counter.h"

#include <cJSON.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* One instruction, one branch: what the calibration call itself counts. */
__asm__(".text\n"
        ".globl ab_pmu_empty\n"
        ".hidden ab_pmu_empty\n"
        ".type ab_pmu_empty, @function\n"
        "ab_pmu_empty:\n"
        "    ret\n"
        ".size ab_pmu_empty, .-ab_pmu_empty\n");
void ab_pmu_empty(void);

struct group {
    int fd[2];
    struct perf_event_mmap_page *page[2];
};

static int open_event(uint64_t config, int group_fd)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_HARDWARE;
    a.config = config;
    a.disabled = group_fd < 0;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.read_format =
        PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

static void group_close(struct group *g)
{
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 2; i++) {
        if (g->page[i])
            munmap(g->page[i], (size_t)page);
        if (g->fd[i] >= 0)
            close(g->fd[i]);
    }
}

static int group_open(struct group *g)
{
    g->fd[0] = g->fd[1] = -1;
    g->page[0] = g->page[1] = NULL;
    g->fd[0] = open_event(PERF_COUNT_HW_INSTRUCTIONS, -1);
    if (g->fd[0] < 0)
        return -errno;
    g->fd[1] = open_event(PERF_COUNT_HW_BRANCH_INSTRUCTIONS, g->fd[0]);
    if (g->fd[1] < 0) {
        int e = -errno;
        group_close(g);
        return e;
    }
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 2; i++) {
        void *p = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, g->fd[i], 0);
        g->page[i] = p == MAP_FAILED ? NULL : p;
    }
    return 0;
}

/* The group read with its times: nr, enabled, running, values. */
struct group_read {
    uint64_t nr, enabled, running, v[2];
};

static bool read_group(const struct group *g, struct group_read *r)
{
    return read(g->fd[0], r, sizeof *r) == (ssize_t)sizeof *r && r->nr == 2;
}

/* Self-monitoring read of one counter through its mapped page (the
 * seqlock protocol of perf_event_mmap_page); false when rdpmc is not
 * allowed or the event is not on the PMU right now. */
static inline bool rdpmc_read(volatile struct perf_event_mmap_page *pc, uint64_t *out)
{
    uint32_t seq, idx;
    uint64_t count;
    do {
        seq = pc->lock;
        __asm__ volatile("" ::: "memory");
        idx = pc->index;
        count = (uint64_t)pc->offset;
        if (!pc->cap_user_rdpmc || !idx)
            return false;
        uint32_t lo, hi;
        __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(idx - 1));
        uint64_t pmc = ((uint64_t)hi << 32) | lo;
        unsigned width = pc->pmc_width;
        pmc <<= 64 - width;
        count += (uint64_t)((int64_t)pmc >> (64 - width));
        __asm__ volatile("" ::: "memory");
    } while (pc->lock != seq);
    *out = count;
    return true;
}

static bool reading(const struct group *g, uint64_t v[2])
{
    if (g->page[0] && g->page[1] && rdpmc_read(g->page[0], &v[0]) && rdpmc_read(g->page[1], &v[1]))
        return true;
    struct group_read r;
    if (!read_group(g, &r) || r.enabled != r.running)
        return false;
    v[0] = r.v[0];
    v[1] = r.v[1];
    return true;
}

/* Count each call of the batch (calls made through ab_fp_batch_call, the
 * same path for the measured function and the empty one). */
static void count_calls(const struct group *g, struct ab_fp_batch *b, uint64_t *ins,
                        uint64_t *br, bool *bad)
{
    for (size_t i = 0; i < b->n; i++) {
        uint64_t a[2], z[2];
        ab_fp_batch_pre(b, i);
        bool ok = reading(g, a);
        ab_fp_batch_call(b, i);
        ok = reading(g, z) && ok;
        ab_fp_batch_post(b, i);
        bad[i] = !ok;
        ins[i] = z[0] - a[0];
        br[i] = z[1] - a[1];
    }
}

static int pmu_batch(struct ab_fp_batch *b)
{
    struct group g;
    int rc = group_open(&g);
    if (rc)
        return rc;
    size_t n = b->n;
    bool *bad = ab_buf_alloc(n * sizeof *bad);
    uint64_t *ci = ab_buf_alloc(n * sizeof *ci), *cb = ab_buf_alloc(n * sizeof *cb);
    void **scratch = ab_buf_alloc(n * sizeof *scratch);
    if (!bad || !ci || !cb || !scratch) {
        rc = -ENOMEM;
        goto out;
    }
    ioctl(g.fd[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
    ioctl(g.fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
    struct group_read before, after;
    bool ok = read_group(&g, &before);

    /* Calibration: the empty function through the same call path. */
    struct ab_heap empty = *b->heap;
    void (*e)(void) = ab_pmu_empty;
    memcpy(&empty.malloc, &e, sizeof e);
    memcpy(&empty.free, &e, sizeof e);
    memcpy(&empty.calloc, &e, sizeof e);
    memcpy(&empty.realloc, &e, sizeof e);
    memcpy(&empty.aligned_alloc, &e, sizeof e);
    struct ab_fp_batch cal = *b;
    cal.heap = &empty;
    cal.ptrs = scratch;
    count_calls(&g, &cal, ci, cb, bad);
    size_t good = 0;
    for (size_t i = 0; i < n; i++)
        if (!bad[i]) {
            ci[good] = ci[i];
            cb[good++] = cb[i];
        }
    if (!good) {
        rc = -EBUSY;
        goto out;
    }
    qsort(ci, good, sizeof *ci, ab_cmp_u64);
    qsort(cb, good, sizeof *cb, ab_cmp_u64);
    /* The overhead is what the empty call counted beyond its own ret. */
    uint64_t oi = ci[good / 2] - 1, ob = cb[good / 2] - 1;

    count_calls(&g, b, b->instructions, b->branches, bad);
    ok = read_group(&g, &after) && ok;
    ioctl(g.fd[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
    if (!ok || after.enabled - before.enabled != after.running - before.running) {
        rc = -EBUSY; /* multiplexed: no number is trustworthy */
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (bad[i] || b->instructions[i] < oi || b->branches[i] < ob) {
            b->flagged++;
            continue;
        }
        b->instructions[k] = b->instructions[i] - oi;
        b->branches[k++] = b->branches[i] - ob;
    }
    b->counted = true;
out:
    ab_buf_free(bad, n * sizeof *bad);
    ab_buf_free(ci, n * sizeof *ci);
    ab_buf_free(cb, n * sizeof *cb);
    ab_buf_free(scratch, n * sizeof *scratch);
    group_close(&g);
    return rc;
}

static int pmu_probe(char *version, size_t vlen, char *why, size_t wlen)
{
    struct utsname u;
    snprintf(version, vlen, "perf_event, Linux %s", uname(&u) == 0 ? u.release : "?");
    struct group g;
    int rc = group_open(&g);
    if (rc) {
        snprintf(why, wlen,
                 "no hardware performance counters here (perf_event_open of user-space "
                 "instructions and branch-instructions: %s)",
                 strerror(-rc));
        return -ENODEV;
    }
    group_close(&g);
    return 0;
}

static int pmu_spawn(const char *request, const char *preload, double timeout_s,
                     struct ab_child_result *out)
{
    return ab_runner_exec(request, preload, timeout_s, out);
}

const struct ab_counter_child ab_counter_child_pmu = {
    .name = "pmu",
    .batch = pmu_batch,
};

const struct ab_counter ab_counter_pmu = {
    .name = "pmu",
    .summary = "hardware counters (perf_event_open, rdpmc), harness calibrated out",
    .probe = pmu_probe,
    .spawn = pmu_spawn,
};
