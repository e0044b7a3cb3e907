/*
 * trace.c — `allocbench trace`: uprobes on the allocator of a live process.
 *
 * The BPF program (trace.bpf.c) counts in its .bss and keeps the live set
 * in a hash map; this file loads it, attaches one entry and one return
 * probe per allocator function, and reads the figures once the process has
 * exited or tracing ends.
 *
 * Seeing the first allocation of a command: the command is forked and held
 * on a pipe before exec; the program is loaded for its pid and a raw
 * tracepoint on sched_process_exec stops the process (SIGSTOP from BPF)
 * before its new image runs one instruction.  Only then is the library that
 * will serve malloc known (the image's loader order); the probes are
 * attached by path — a library not mapped yet is fine, the kernel installs
 * the breakpoints when the loader maps it — and the process is continued.
 * Every later exec of the process is handled the same way, and the figures
 * restart with the new image (the old address space is gone).
 *
 * The uprobes are attached for the target's pid, so the kernel puts
 * breakpoints only in its address space; threads it creates later share it
 * and are traced.
 */
#include "trace.h"
#include "trace-bpf.h"
#include "trace.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Older headers lack them; the numbers are the kernel's ABI. */
#define AB_CAP_PERFMON 38
#define AB_CAP_BPF 39

/* libbpf reports through one process-wide callback without a context
 * pointer: its last own message ("libbpf: ...", not a line of a verifier
 * log it passes on) is kept here for the one-line error. */
static char libbpf_last[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    if (strncmp(line, "libbpf: ", 8))
        return 0;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    ab_strlcpy(libbpf_last, line + 8, sizeof libbpf_last);
    return 0;
}

struct session {
    const struct ab_trace_config *cfg;
    struct ab_trace_result *res;
    struct ab_trace_bpf *skel;
    struct bpf_link *exec_link;
    bool multi;                 /* multi-uprobe links, else one perf link each */
    struct bpf_link *links[2 * AB_TRACE_MAX_PROBES];
    size_t nlinks;
    int link_fds[2 * AB_TRACE_MAX_PROBES]; /* multi-uprobe links */
    size_t nlink_fds;
    char attached_to[AB_TRACE_MAX_OBJECTS * PATH_MAX]; /* the real files probed */
    struct ring_buffer *rb;
    int *clock_fds, *insn_fds;
    int ncpus;
    int pid, pidfd, sigfd;
    sigset_t oldmask;
    bool exec_seen, stopped;
    uint64_t t_enabled;
};

static bool privileged(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d))
        return geteuid() == 0;
    uint64_t eff = d[0].effective | ((uint64_t)d[1].effective << 32);
    bool admin = (eff >> CAP_SYS_ADMIN) & 1;
    bool bpf_perfmon = ((eff >> AB_CAP_BPF) & 1) && ((eff >> AB_CAP_PERFMON) & 1);
    return admin || bpf_perfmon;
}

static bool process_exists(int pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

int ab_trace_check(const struct ab_trace_config *cfg, char *err, size_t errlen,
                   enum ab_code *code)
{
    if (cfg->pid) {
        if (cfg->pid == (int)getpid()) {
            snprintf(err, errlen, "--pid %d is allocbench itself", cfg->pid);
            return ab_fail(code, AB_ALLOCBENCH_USAGE);
        }
        if (!process_exists(cfg->pid)) {
            snprintf(err, errlen, "--pid %d: no such process", cfg->pid);
            return ab_fail(code, AB_ALLOCBENCH_USAGE);
        }
        char exe[64], buf[16];
        snprintf(exe, sizeof exe, "/proc/%d/exe", cfg->pid);
        if (readlink(exe, buf, sizeof buf) < 0 && errno == ENOENT) {
            snprintf(err, errlen, "--pid %d has no user address space (a kernel thread?)",
                     cfg->pid);
            return ab_fail(code, AB_ALLOCBENCH_USAGE);
        }
    } else {
        char path[PATH_MAX];
        int rc = ab_trace_resolve_command(cfg->command[0], path, sizeof path, err, errlen, code);
        if (rc)
            return rc;
    }
    if (cfg->lib[0]) {
        struct ab_trace_lib *lib = malloc(sizeof *lib);
        if (!lib) {
            snprintf(err, errlen, "out of memory");
            return ab_fail(code, AB_ALLOCBENCH_INTERNAL);
        }
        char why[512];
        memset(lib, 0, sizeof *lib);
        int rc = ab_trace_plan_object(lib, cfg->lib, cfg->lib, true, why, sizeof why);
        free(lib);
        if (rc) {
            snprintf(err, errlen, "--lib %s", why);
            return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
        }
    }
    if (!privileged()) {
        snprintf(err, errlen,
                 "trace needs root or CAP_SYS_ADMIN (or CAP_BPF with CAP_PERFMON) to load its "
                 "BPF program and attach uprobes");
        return ab_fail(code, AB_ALLOCBENCH_NOT_INSTALLED);
    }
    return AB_OK;
}

/* ------------------------------------------------------------ perf events */

static int perf_open(uint32_t type, uint64_t config, int cpu)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = type;
    a.config = config;
    a.exclude_kernel = 1; /* the call's own user-space work, not the traps */
    a.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* One counter per CPU into a perf event array; false (and why) when the
 * event cannot be opened here. */
static bool open_events(struct session *s, uint32_t type, uint64_t config, const char *what,
                        int **fds_out, const struct bpf_map *map, char *why, size_t whylen)
{
    int *fds = calloc((size_t)s->ncpus, sizeof *fds);
    if (!fds) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    *fds_out = fds;
    int opened = 0, first_err = 0;
    for (int cpu = 0; cpu < s->ncpus; cpu++) {
        fds[cpu] = perf_open(type, config, cpu);
        if (fds[cpu] < 0) {
            if (!first_err)
                first_err = errno;
            continue;
        }
        uint32_t key = (uint32_t)cpu;
        if (bpf_map_update_elem(bpf_map__fd(map), &key, &fds[cpu], BPF_ANY)) {
            if (!first_err)
                first_err = errno;
            close(fds[cpu]);
            fds[cpu] = -1;
            continue;
        }
        opened++;
    }
    if (opened)
        return true;
    snprintf(why, whylen, "perf_event_open(%s) failed: %s%s", what, strerror(first_err),
             type == PERF_TYPE_HARDWARE && first_err == ENOENT ? " (no hardware PMU)" : "");
    return false;
}

static void close_events(int *fds, int n)
{
    for (int i = 0; fds && i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
}

/* ----------------------------------------------------------------- probes */

/* BPF_LINK_CREATE for BPF_TRACE_UPROBE_MULTI (Linux 6.6), which this
 * build's libbpf (1.1) and UAPI headers may predate: the link_create member
 * of union bpf_attr as the kernel lays it out.  One such link registers
 * every function at once, and its removal waits for one RCU grace period;
 * a perf link per function waits for one each, serialized by the kernel
 * (~0.1 s apiece here: 10 s for mimalloc's 110 probes). */
#define AB_BPF_LINK_CREATE 28
#define AB_BPF_TRACE_UPROBE_MULTI 48
#define AB_BPF_F_UPROBE_MULTI_RETURN 1u

struct uprobe_multi_attr {
    uint32_t prog_fd, target_fd, attach_type, flags;
    uint64_t path, offsets, ref_ctr_offsets, cookies;
    uint32_t cnt, multi_flags, pid, pad;
};

static int uprobe_multi_link(const struct bpf_program *prog, const char *path,
                             const uint64_t *offsets, const uint64_t *cookies, size_t n,
                             bool ret, int pid)
{
    struct uprobe_multi_attr a;
    memset(&a, 0, sizeof a);
    a.prog_fd = (uint32_t)bpf_program__fd(prog);
    a.attach_type = AB_BPF_TRACE_UPROBE_MULTI;
    a.path = (uint64_t)(uintptr_t)path;
    a.offsets = (uint64_t)(uintptr_t)offsets;
    a.cookies = (uint64_t)(uintptr_t)cookies;
    a.cnt = (uint32_t)n;
    a.multi_flags = ret ? AB_BPF_F_UPROBE_MULTI_RETURN : 0;
    a.pid = (uint32_t)pid;
    return (int)syscall(SYS_bpf, AB_BPF_LINK_CREATE, &a, sizeof a);
}

/* Whether the kernel has multi-uprobe links, without registering any: a
 * kernel that knows them looks the path up and refuses a folder (EBADF);
 * one that does not refuses the attach type (EINVAL). */
static bool uprobe_multi_supported(const struct bpf_program *prog)
{
    uint64_t zero = 0;
    int fd = uprobe_multi_link(prog, "/", &zero, &zero, 1, false, 0);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    return errno == EBADF || errno == ENOENT;
}

static void *close_link(void *arg)
{
    close((int)(intptr_t)arg);
    return NULL;
}

/* Closing a multi-uprobe link waits for RCU grace periods (~60 ms here);
 * closed from one thread each, the links of several files wait together.
 * Perf links gain nothing from it: the kernel removes those one by one.
 * Entry links go first and return links after them: a thread that entered a
 * probed function must still meet its return, or its per-thread depth would
 * never come back to zero. */
static void close_links(const int *fds, size_t n)
{
    pthread_t tid[AB_TRACE_MAX_PROBES];
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        void *fd = (void *)(intptr_t)fds[i];
        if (i + 1 < n && nt < AB_TRACE_MAX_PROBES &&
            pthread_create(&tid[nt], NULL, close_link, fd) == 0)
            nt++;
        else
            close_link(fd);
    }
    for (size_t i = 0; i < nt; i++)
        pthread_join(tid[i], NULL);
}

static void detach_probes(struct session *s)
{
    /* Links are stored in pairs: return link, then entry link. */
    int fds[2][AB_TRACE_MAX_PROBES];
    size_t n[2] = {0, 0};
    for (size_t i = 0; i < s->nlink_fds; i++)
        fds[i % 2][n[i % 2]++] = s->link_fds[i];
    close_links(fds[1], n[1]); /* entries */
    close_links(fds[0], n[0]); /* returns */
    s->nlink_fds = 0;
    for (size_t i = 1; i < s->nlinks; i += 2)
        bpf_link__destroy(s->links[i]);
    for (size_t i = 0; i < s->nlinks; i += 2)
        bpf_link__destroy(s->links[i]);
    s->nlinks = 0;
    s->attached_to[0] = '\0';
}

static uint64_t cookie_of(const struct ab_trace_probe *p, size_t slot)
{
    return AB_TRACE_COOKIE(slot, p->kind, p->size_arg, p->count_arg);
}

/* Return and entry multi-uprobe links on n offsets of path: 0 or -errno.
 * The return link goes in first: a thread entering a probed function while
 * the pair is attached must find its return probed (see detach_probes). */
static int multi_pair(struct session *s, const char *path, const uint64_t *offsets,
                      const uint64_t *cookies, size_t n)
{
    int out = uprobe_multi_link(s->skel->progs.ab_leave_multi, path, offsets, cookies, n, true,
                                s->pid);
    if (out < 0)
        return -errno;
    int in = uprobe_multi_link(s->skel->progs.ab_enter_multi, path, offsets, cookies, n, false,
                               s->pid);
    if (in < 0) {
        int e = errno;
        close(out);
        return -e;
    }
    s->link_fds[s->nlink_fds++] = out;
    s->link_fds[s->nlink_fds++] = in;
    return 0;
}

/* Entry and return probes on probe i alone: 0 or -errno. */
static int attach_one(struct session *s, const struct ab_trace_lib *lib, size_t i)
{
    const struct ab_trace_probe *p = &lib->probes[i];
    const char *path = lib->objects[p->object].open_path;
    struct ab_trace_bpf *k = s->skel;
    uint64_t cookie = cookie_of(p, i);
    if (s->multi)
        return multi_pair(s, path, &p->offset, &cookie, 1);
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .retprobe = true);
    struct bpf_link *out = bpf_program__attach_uprobe_opts(k->progs.ab_leave, s->pid, path,
                                                           p->offset, &opts);
    if (!out)
        return -errno;
    opts.retprobe = false;
    struct bpf_link *in = bpf_program__attach_uprobe_opts(k->progs.ab_enter, s->pid, path,
                                                          p->offset, &opts);
    if (!in) {
        int e = errno;
        bpf_link__destroy(out);
        return -e;
    }
    s->links[s->nlinks++] = out;
    s->links[s->nlinks++] = in;
    return 0;
}

/* The probes of one object in a multi-link pair: 0 or -errno. */
static int attach_object(struct session *s, const struct ab_trace_lib *lib, unsigned obj)
{
    uint64_t offsets[AB_TRACE_MAX_PROBES], cookies[AB_TRACE_MAX_PROBES];
    size_t n = 0;
    for (size_t i = 0; i < lib->nprobes; i++) {
        if (lib->probes[i].object != obj)
            continue;
        offsets[n] = lib->probes[i].offset;
        cookies[n++] = cookie_of(&lib->probes[i], i);
    }
    int rc = multi_pair(s, lib->objects[obj].open_path, offsets, cookies, n);
    if (!rc)
        s->res->attached += n;
    return rc;
}

/* Every probe of lib: a multi-link pair per object when the kernel has
 * them; one function at a time otherwise, or for an object whose set the
 * kernel refuses (then a function it refuses is left out, and says why,
 * unless it is malloc or free). */
static int attach_probes(struct session *s, struct ab_trace_lib *lib, char *err, size_t errlen)
{
    s->res->attached = 0;
    for (unsigned obj = 0; obj < lib->nobjects; obj++) {
        if (s->multi && attach_object(s, lib, obj) == 0)
            continue;
        for (size_t i = 0; i < lib->nprobes; i++) {
            struct ab_trace_probe *p = &lib->probes[i];
            if (p->object != obj)
                continue;
            libbpf_last[0] = '\0';
            int rc = attach_one(s, lib, i);
            if (!rc) {
                s->res->attached++;
                continue;
            }
            snprintf(p->attach_error, sizeof p->attach_error, "%s", strerror(-rc));
            if (!strcmp(p->name, "malloc") || !strcmp(p->name, "free")) {
                snprintf(err, errlen, "cannot attach a uprobe to %s in %s: %s%s%s", p->name,
                         lib->objects[obj].path, strerror(-rc), libbpf_last[0] ? ": " : "",
                         libbpf_last);
                return rc;
            }
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- figures */

static void clear_live(struct session *s)
{
    int fd = bpf_map__fd(s->skel->maps.live);
    size_t cap = 4096, n = 0;
    uint64_t *keys = malloc(cap * sizeof *keys), key, next;
    const void *prev = NULL;
    while (keys && bpf_map_get_next_key(fd, prev, &next) == 0) {
        if (n == cap) {
            uint64_t *nk = realloc(keys, cap * 2 * sizeof *keys);
            if (!nk)
                break;
            keys = nk;
            cap *= 2;
        }
        keys[n++] = next;
        key = next;
        prev = &key;
    }
    for (size_t i = 0; i < n; i++)
        bpf_map_delete_elem(fd, &keys[i]);
    free(keys);
}

/* A new image: its figures start from zero. */
static void reset_figures(struct session *s)
{
    memset(s->skel->bss->slots, 0, sizeof s->skel->bss->slots);
    memset(&s->skel->bss->totals, 0, sizeof s->skel->bss->totals);
    clear_live(s);
}

static int cmp_group(const void *a, const void *b)
{
    const struct ab_trace_group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->size > y->size ? -1 : x->size < y->size;
}

/* The live set: counts, bytes and the largest groups by requested size. */
static int collect_live(struct session *s)
{
    struct ab_trace_result *r = s->res;
    int fd = bpf_map__fd(s->skel->maps.live);
    size_t cap = 1024, n = 0;
    uint64_t *sizes = malloc(cap * sizeof *sizes);
    enum { BATCH = 4096 };
    uint64_t *keys = malloc(BATCH * sizeof *keys);
    struct ab_trace_live *vals = malloc(BATCH * sizeof *vals);
    if (!sizes || !keys || !vals) {
        free(sizes), free(keys), free(vals);
        return -ENOMEM;
    }
    uint64_t in = 0, out = 0;
    bool first = true, batch_ok = true;
    for (;;) {
        __u32 count = BATCH;
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, &opts);
        int e = rc ? errno : 0;
        if (rc && e != ENOENT) {
            batch_ok = false;
            break;
        }
        for (__u32 i = 0; i < count; i++) {
            if (n == cap) {
                uint64_t *ns = realloc(sizes, cap * 2 * sizeof *sizes);
                if (!ns) {
                    free(sizes), free(keys), free(vals);
                    return -ENOMEM;
                }
                sizes = ns;
                cap *= 2;
            }
            sizes[n++] = vals[i].size;
        }
        if (rc)
            break;
        in = out;
        first = false;
    }
    if (!batch_ok) {
        /* Kernels without batch lookups for this map: one key at a time. */
        n = 0;
        uint64_t key, next;
        const void *prev = NULL;
        struct ab_trace_live v;
        while (bpf_map_get_next_key(fd, prev, &next) == 0) {
            if (!bpf_map_lookup_elem(fd, &next, &v)) {
                if (n == cap) {
                    uint64_t *ns = realloc(sizes, cap * 2 * sizeof *sizes);
                    if (!ns)
                        break;
                    sizes = ns;
                    cap *= 2;
                }
                sizes[n++] = v.size;
            }
            key = next;
            prev = &key;
        }
    }
    free(keys);
    free(vals);
    qsort(sizes, n, sizeof *sizes, ab_cmp_u64);
    r->live_count = n;
    r->live_bytes = 0;
    size_t ngroups = 0;
    struct ab_trace_group *g = calloc(n ? n : 1, sizeof *g);
    if (!g) {
        free(sizes);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        r->live_bytes += sizes[i];
        if (!ngroups || g[ngroups - 1].size != sizes[i])
            g[ngroups++] = (struct ab_trace_group){.size = sizes[i]};
        g[ngroups - 1].count++;
        g[ngroups - 1].bytes += sizes[i];
    }
    free(sizes);
    qsort(g, ngroups, sizeof *g, cmp_group);
    r->groups_total = ngroups;
    r->ngroups = ngroups < s->cfg->top ? ngroups : s->cfg->top;
    r->groups = g;
    return 0;
}

static void collect_counters(struct session *s)
{
    struct ab_trace_result *r = s->res;
    const struct ab_trace_bpf__bss *b = s->skel->bss;
    r->nfuncs = r->lib.nprobes;
    for (size_t i = 0; i < r->nfuncs; i++) {
        struct ab_trace_func *f = &r->funcs[i];
        const struct ab_trace_slot *sl = &b->slots[i];
        f->probe = r->lib.probes[i];
        f->calls = sl->calls;
        f->nested = sl->nested;
        f->failed = sl->failed;
        f->bytes = sl->bytes;
        f->null_frees = sl->null_frees;
        f->untracked_frees = sl->untracked_frees;
        f->lat_sum_ns = sl->lat_sum_ns;
        f->clock_calls = sl->clock_calls;
        f->clock_sum_ns = sl->clock_sum;
        f->insn_calls = sl->insn_calls;
        f->insn_sum = sl->insn_sum;
        memcpy(f->size_hist, sl->size_hist, sizeof f->size_hist);
        memcpy(f->lat_hist, sl->lat_hist, sizeof f->lat_hist);
    }
    r->live_dropped = b->totals.live_dropped;
    r->live_replaced = b->totals.live_replaced;
    r->unmatched = b->totals.unmatched;
    r->no_state = b->totals.no_state;
    r->switched = b->totals.switched;
    r->exec_stop_failed = b->totals.exec_stop_failed;
}

/* ------------------------------------------------------------ the target */

/* 'T' once the whole process is stopped; 0 when it is gone. */
static char proc_state(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    char *text = ab_read_file(path, 1 << 16, NULL);
    if (!text)
        return 0;
    char *close_paren = strrchr(text, ')');
    char st = close_paren && close_paren[1] == ' ' ? close_paren[2] : '?';
    free(text);
    return st;
}

static bool wait_stopped(int pid)
{
    uint64_t deadline = ab_now_ns() + 5ull * 1000000000ull;
    while (ab_now_ns() < deadline) {
        char st = proc_state(pid);
        if (st == 'T' || st == 't')
            return true;
        if (!st || st == 'Z' || st == 'X')
            return false;
        usleep(500);
    }
    return false;
}

static void announce(const struct session *s)
{
    struct ab_trace_result *r = s->res;
    ab_session_note(&r->session, "tracing pid %d (%s): %zu functions of %s%s probed in %.1f ms%s",
                    s->pid, r->exe, r->attached, r->lib.objects[r->lib.malloc_object].path,
                    r->lib.nobjects > 1 ? " and others" : "", r->attach_ms,
                    s->cfg->duration_s > 0 ? "" : "; Ctrl-C ends");
}

/* Attach to the image the target runs now.  With stopped, the process was
 * stopped at exec and is continued once the probes are in. */
static int follow_image(struct session *s, bool mapped, char *err, size_t errlen,
                        enum ab_code *code)
{
    struct ab_trace_result *r = s->res;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%d/exe", s->pid);
    ssize_t n = readlink(proc, r->exe, sizeof r->exe - 1);
    r->exe[n > 0 ? n : 0] = '\0';
    int rc = ab_trace_find_lib(s->pid, mapped, s->cfg->lib, &r->lib, err, errlen, code);
    if (rc)
        return rc;
    /* The files probed, by their real names: an exec of another program
     * served by the same files keeps the probes in place. */
    char real[AB_TRACE_MAX_OBJECTS * PATH_MAX] = "";
    for (size_t i = 0; i < r->lib.nobjects; i++) {
        char one[PATH_MAX];
        if (!realpath(r->lib.objects[i].open_path, one))
            ab_strlcpy(one, r->lib.objects[i].open_path, sizeof one);
        size_t used = strlen(real);
        snprintf(real + used, sizeof real - used, "%s\n", one);
    }
    if (strcmp(real, s->attached_to)) {
        detach_probes(s);
        uint64_t t0 = ab_now_ns();
        if (attach_probes(s, &r->lib, err, errlen))
            return ab_fail(code, AB_ALLOCBENCH_NOT_INSTALLED);
        r->attach_ms = (double)(ab_now_ns() - t0) / 1e6;
        ab_strlcpy(s->attached_to, real, sizeof s->attached_to);
    }
    s->skel->bss->enabled = 1;
    r->images++;
    s->t_enabled = ab_now_ns();
    return AB_OK;
}

static int on_exec_event(void *ctx, void *data, size_t len)
{
    struct session *s = ctx;
    if (len >= sizeof(struct ab_trace_exec_event))
        s->exec_seen = true;
    (void)data;
    return 0;
}

/* The target exec'd (and was stopped): restart the figures for the new
 * image, attach to its allocator, continue it. */
static int handle_exec(struct session *s, char *err, size_t errlen, enum ab_code *code)
{
    s->exec_seen = false;
    s->stopped = wait_stopped(s->pid);
    if (!s->stopped && proc_state(s->pid) == 0)
        return AB_OK; /* gone already: the exit ends tracing */
    reset_figures(s);
    int rc = follow_image(s, false, err, errlen, code);
    if (s->stopped)
        kill(s->pid, SIGCONT);
    s->stopped = false;
    if (rc == AB_OK)
        announce(s);
    return rc;
}

/* Fork the command, held before exec until release_child. */
static int start_child(struct session *s, const char *path, int *hold_w, int *exec_r, char *err,
                       size_t errlen, enum ab_code *code)
{
    int hold[2], ex[2];
    if (pipe2(hold, O_CLOEXEC))
        return snprintf(err, errlen, "pipe: %s", strerror(errno)), ab_fail(code, AB_ALLOCBENCH_INTERNAL);
    if (pipe2(ex, O_CLOEXEC)) {
        close(hold[0]), close(hold[1]);
        return snprintf(err, errlen, "pipe: %s", strerror(errno)), ab_fail(code, AB_ALLOCBENCH_INTERNAL);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(hold[0]), close(hold[1]), close(ex[0]), close(ex[1]);
        return snprintf(err, errlen, "fork: %s", strerror(errno)), ab_fail(code, AB_ALLOCBENCH_INTERNAL);
    }
    if (pid == 0) {
        /* Nothing here may allocate: this process's allocator may be the
         * one about to be traced. */
        sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
        char go;
        ssize_t got;
        do
            got = read(hold[0], &go, 1);
        while (got < 0 && errno == EINTR);
        if (got != 1)
            _exit(127);
        execv(path, s->cfg->command);
        int e = errno;
        ssize_t w = write(ex[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(hold[0]);
    close(ex[1]);
    *hold_w = hold[1];
    *exec_r = ex[0];
    s->pid = pid;
    return AB_OK;
}

/* Let the held child exec; its exec error, or 0 once exec has happened. */
static int release_child(int hold_w, int exec_r)
{
    ssize_t w;
    do
        w = write(hold_w, "g", 1);
    while (w < 0 && errno == EINTR);
    close(hold_w);
    int e = 0;
    ssize_t got;
    do
        got = read(exec_r, &e, sizeof e);
    while (got < 0 && errno == EINTR);
    close(exec_r);
    return got == (ssize_t)sizeof e ? e : 0;
}

/* Stop and reap a child we started; its status into the result. */
static void finish_child(struct session *s, bool exited)
{
    struct ab_trace_result *r = s->res;
    if (!exited) {
        kill(s->pid, SIGCONT);
        kill(s->pid, SIGTERM);
        struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
        if (s->pidfd < 0 || poll(&p, 1, 5000) <= 0)
            kill(s->pid, SIGKILL);
    }
    int st;
    pid_t w;
    while ((w = waitpid(s->pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w == s->pid) {
        if (WIFEXITED(st))
            r->exit_status = WEXITSTATUS(st);
        else if (WIFSIGNALED(st))
            r->exit_signal = WTERMSIG(st);
    }
}

/* ---------------------------------------------------------------- session */

/* The target as the BPF program matches it: its pid namespace and its
 * tgid there (the last NSpid of its status: the innermost). */
struct target_ns {
    uint64_t dev, ino;
    uint32_t tgid;
};

static int target_namespace(int pid, struct target_ns *t)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
    struct stat ns;
    if (stat(path, &ns))
        return -errno;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    char *text = ab_read_file(path, 1 << 16, NULL);
    if (!text)
        return -errno;
    long inner = pid;
    char *line = strstr(text, "\nNSpid:");
    if (line) {
        char *end = strchr(line + 1, '\n');
        if (end)
            *end = '\0';
        for (char *tok = line + 8; *tok;) {
            char *next;
            long v = strtol(tok, &next, 10);
            if (next == tok)
                break;
            inner = v;
            tok = next;
        }
    }
    free(text);
    t->tgid = (uint32_t)inner;
    t->dev = ns.st_dev;
    t->ino = ns.st_ino;
    return 0;
}

/* Open and load the program, its perf-link or its multi-link programs. */
static int load_variant(struct session *s, const struct target_ns *t, bool multi)
{
    struct ab_trace_bpf *k = ab_trace_bpf__open();
    if (!k)
        return -errno;
    s->skel = k;
    bpf_program__set_autoload(k->progs.ab_enter, !multi);
    bpf_program__set_autoload(k->progs.ab_leave, !multi);
    bpf_program__set_autoload(k->progs.ab_enter_multi, multi);
    bpf_program__set_autoload(k->progs.ab_leave_multi, multi);
    if (multi) {
        bpf_program__set_expected_attach_type(k->progs.ab_enter_multi,
                                              (enum bpf_attach_type)AB_BPF_TRACE_UPROBE_MULTI);
        bpf_program__set_expected_attach_type(k->progs.ab_leave_multi,
                                              (enum bpf_attach_type)AB_BPF_TRACE_UPROBE_MULTI);
    }
    k->rodata->target_tgid = t->tgid;
    k->rodata->pidns_dev = t->dev;
    k->rodata->pidns_ino = t->ino;
    bpf_map__set_max_entries(k->maps.clock_events, (uint32_t)s->ncpus);
    bpf_map__set_max_entries(k->maps.insn_events, (uint32_t)s->ncpus);
    bpf_map__set_max_entries(k->maps.live, (uint32_t)s->cfg->max_live);
    libbpf_last[0] = '\0';
    if (ab_trace_bpf__load(k))
        return -errno;
    return 0;
}

static int load_program(struct session *s, char *err, size_t errlen, enum ab_code *code)
{
    libbpf_set_print(libbpf_print);
    s->ncpus = libbpf_num_possible_cpus();
    if (s->ncpus <= 0)
        s->ncpus = 1;
    struct target_ns t;
    if (target_namespace(s->pid, &t)) {
        snprintf(err, errlen, "process %d exited before it could be traced", s->pid);
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    int rc = load_variant(s, &t, true);
    s->multi = rc == 0 && uprobe_multi_supported(s->skel->progs.ab_enter_multi);
    if (!s->multi) {
        ab_trace_bpf__destroy(s->skel);
        s->skel = NULL;
        rc = load_variant(s, &t, false);
    }
    if (rc) {
        snprintf(err, errlen, "the kernel refused the BPF program: %s%s%s", strerror(-rc),
                 libbpf_last[0] ? ": " : "", libbpf_last);
        return ab_fail(code, AB_ALLOCBENCH_NOT_INSTALLED);
    }
    struct ab_trace_bpf *k = s->skel;
    struct ab_trace_result *r = s->res;
    r->clock_available = open_events(s, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK,
                                     "task-clock", &s->clock_fds, k->maps.clock_events,
                                     r->clock_reason, sizeof r->clock_reason);
    r->insn_available = open_events(s, PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS,
                                    "instructions", &s->insn_fds, k->maps.insn_events,
                                    r->insn_reason, sizeof r->insn_reason);
    k->bss->have_clock = r->clock_available;
    k->bss->have_insn = r->insn_available;
    s->exec_link = bpf_program__attach(k->progs.ab_exec);
    if (!s->exec_link) {
        snprintf(err, errlen, "cannot attach to sched_process_exec: %s", strerror(errno));
        return ab_fail(code, AB_ALLOCBENCH_NOT_INSTALLED);
    }
    s->rb = ring_buffer__new(bpf_map__fd(k->maps.exec_events), on_exec_event, s, NULL);
    if (!s->rb) {
        snprintf(err, errlen, "cannot open the exec ring buffer: %s", strerror(errno));
        return ab_fail(code, AB_ALLOCBENCH_NOT_INSTALLED);
    }
    return AB_OK;
}

static void command_text(char *buf, size_t len, char *const *argv)
{
    buf[0] = '\0';
    for (size_t i = 0; argv && argv[i]; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
    }
}

/* Wait for the process to exit, the duration to end, a signal, or an exec
 * to follow. */
static int trace_loop(struct session *s, bool *exited, char *err, size_t errlen,
                      enum ab_code *code)
{
    struct ab_trace_result *r = s->res;
    uint64_t deadline = s->cfg->duration_s > 0
                            ? ab_now_ns() + (uint64_t)(s->cfg->duration_s * 1e9)
                            : 0;
    for (;;) {
        struct pollfd p[3] = {
            {.fd = ring_buffer__epoll_fd(s->rb), .events = POLLIN},
            {.fd = s->pidfd, .events = POLLIN},
            {.fd = s->sigfd, .events = POLLIN},
        };
        int timeout = -1;
        if (deadline) {
            int64_t left = (int64_t)(deadline - ab_now_ns());
            if (left <= 0) {
                ab_strlcpy(r->ended_by, "duration", sizeof r->ended_by);
                return AB_OK;
            }
            timeout = (int)(left / 1000000) + 1;
        }
        int n = poll(p, 3, timeout);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return ab_fail(code, AB_ALLOCBENCH_INTERNAL);
        }
        if (p[0].revents) {
            ring_buffer__consume(s->rb);
            if (s->exec_seen) {
                int rc = handle_exec(s, err, errlen, code);
                if (rc)
                    return rc;
            }
        }
        if (p[2].revents) {
            struct signalfd_siginfo si;
            if (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                snprintf(r->ended_by, sizeof r->ended_by, "signal SIG%s",
                         sigabbrev_np((int)si.ssi_signo) ? sigabbrev_np((int)si.ssi_signo)
                                                         : "?");
                return AB_OK;
            }
        }
        if (p[1].revents) {
            *exited = true;
            ab_strlcpy(r->ended_by, "exit", sizeof r->ended_by);
            return AB_OK;
        }
    }
}

int ab_trace_execute(const struct ab_trace_config *cfg, struct ab_trace_result *res, char *err,
                     size_t errlen, enum ab_code *code)
{
    memset(res, 0, sizeof *res);
    res->cfg = cfg;
    res->exit_status = res->exit_signal = -1;
    res->max_live = cfg->max_live;
    ab_session_begin(&res->session, NULL, 0, 0, cfg->obs, 0);
    command_text(res->command, sizeof res->command, cfg->command);

    struct session s = {.cfg = cfg, .res = res, .pid = cfg->pid, .pidfd = -1, .sigfd = -1};
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &s.oldmask);
    s.sigfd = signalfd(-1, &block, SFD_CLOEXEC);

    int rc = AB_OK, hold_w = -1, exec_r = -1;
    bool exited = false, started = false;
    char path[PATH_MAX];
    if (!cfg->pid) {
        res->started = true;
        rc = ab_trace_resolve_command(cfg->command[0], path, sizeof path, err, errlen, code);
        if (rc == AB_OK)
            rc = start_child(&s, path, &hold_w, &exec_r, err, errlen, code);
        started = rc == AB_OK;
    }
    res->pid = s.pid;
    if (rc == AB_OK) {
        s.pidfd = (int)syscall(SYS_pidfd_open, s.pid, 0);
        if (s.pidfd < 0) {
            snprintf(err, errlen, "pidfd_open(%d): %s", s.pid, strerror(errno));
            rc = ab_fail(code, errno == ESRCH ? AB_ALLOCBENCH_USAGE : AB_ALLOCBENCH_NOT_INSTALLED);
        }
    }
    if (rc == AB_OK)
        rc = load_program(&s, err, errlen, code);
    if (rc == AB_OK && started) {
        int e = release_child(hold_w, exec_r);
        hold_w = exec_r = -1;
        if (e) {
            snprintf(err, errlen, "command '%s' cannot be executed: %s", cfg->command[0],
                     strerror(e));
            rc = ab_fail(code, AB_ALLOCBENCH_USAGE);
        } else {
            /* exec has happened: its event is in the ring buffer. */
            struct pollfd p = {.fd = ring_buffer__epoll_fd(s.rb), .events = POLLIN};
            if (poll(&p, 1, 10000) > 0)
                ring_buffer__consume(s.rb);
            if (!s.exec_seen) {
                snprintf(err, errlen, "the exec of '%s' was not seen", cfg->command[0]);
                rc = ab_fail(code, AB_ALLOCBENCH_INTERNAL);
            } else {
                rc = handle_exec(&s, err, errlen, code);
            }
        }
    } else if (rc == AB_OK) {
        rc = follow_image(&s, true, err, errlen, code);
        if (rc == AB_OK)
            announce(&s);
    }
    if (rc == AB_OK)
        rc = trace_loop(&s, &exited, err, errlen, code);

    /* Stop recording, take the probes out, then read: nothing changes the
     * figures after this. */
    uint64_t t_stop = ab_now_ns();
    if (s.skel && s.skel->bss)
        s.skel->bss->enabled = 0;
    if (s.t_enabled)
        res->traced_s = (double)(t_stop - s.t_enabled) / 1e9;
    uint64_t t0 = ab_now_ns();
    detach_probes(&s);
    res->detach_ms = (double)(ab_now_ns() - t0) / 1e6;
    if (rc == AB_OK && s.skel) {
        collect_counters(&s);
        if (collect_live(&s)) {
            snprintf(err, errlen, "out of memory reading the live set");
            rc = ab_fail(code, AB_ALLOCBENCH_INTERNAL);
        }
    }
    if (hold_w >= 0)
        close(hold_w); /* never released: the child exits without exec */
    if (exec_r >= 0)
        close(exec_r);
    if (started)
        finish_child(&s, exited);
    else if (s.stopped)
        kill(s.pid, SIGCONT);
    bpf_link__destroy(s.exec_link);
    ring_buffer__free(s.rb);
    ab_trace_bpf__destroy(s.skel);
    close_events(s.clock_fds, s.ncpus);
    close_events(s.insn_fds, s.ncpus);
    if (s.pidfd >= 0)
        close(s.pidfd);
    if (s.sigfd >= 0)
        close(s.sigfd);
    sigprocmask(SIG_SETMASK, &s.oldmask, NULL);
    return rc;
}

void ab_trace_free(struct ab_trace_result *res)
{
    free(res->groups);
    res->groups = NULL;
}
