/*
 * trace.bpf.c — the probes behind `allocbench trace` (CO-RE, built with
 * clang -target bpf at build time).
 *
 * One entry program and one return program serve every probed allocator
 * function; the attach cookie says which slot and what the function does
 * with its arguments (trace-bpf.h).  Everything is filtered to the target
 * process — its tgid in its own pid namespace, so that a process in a
 * container is matched from the host too: the uprobes are per-process
 * already, this keeps other processes sharing the file out whatever the
 * kernel does.
 *
 * Cost per call: two traps (entry and return) plus, here, a task-storage
 * lookup, two clock reads, up to four perf counter reads and a hash update
 * for the live set.  The traps dominate (microseconds); the reports say that
 * latencies include it.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace-bpf.h"

/* GPL-compatible: bpf_probe_read_user, bpf_send_signal and the perf event
 * reads are GPL-only helpers. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define AB_SIGSTOP 19

const volatile __u32 target_tgid;
const volatile __u64 pidns_dev;
const volatile __u64 pidns_ino;
/* Written by the engine: calls start being recorded when enabled is 1
 * (after every probe is attached; the exec program clears it); have_clock
 * and have_insn say which counters it could open. */
__u32 enabled;
__u32 have_clock;
__u32 have_insn;

struct ab_trace_slot slots[AB_TRACE_SLOTS];
struct ab_trace_totals totals;

/* The outermost allocator call a thread is in. */
struct inflight {
    __u64 cookie;
    __u64 arg[3];
    __u64 t0;
    __u64 csw;
    __u64 clock0;
    __u64 insn0;
    __u32 cpu;
    __u32 depth;
    __u32 record;
    __u32 clock_ok;
    __u32 insn_ok;
};

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct inflight);
} inflight SEC(".maps");

/* Blocks allocated while traced and not yet freed; max_entries is set by
 * the engine (--max-live). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 1 << 20);
    __type(key, __u64);
    __type(value, struct ab_trace_live);
} live SEC(".maps");

/* One software task-clock and one hardware instructions counter per CPU. */
struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} clock_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} insn_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} exec_events SEC(".maps");

static __always_inline int is_target(void)
{
    struct bpf_pidns_info ns;
    if (bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof ns))
        return 0;
    return ns.tgid == target_tgid;
}

static __always_inline void add(__u64 *counter, __u64 v)
{
    __sync_fetch_and_add(counter, v);
}

/* Bit length: the log2 bin of v. */
static __always_inline __u32 bin_of(__u64 v)
{
    __u32 n = 0;
    if (v >> 32) {
        n += 32;
        v >>= 32;
    }
    if (v >> 16) {
        n += 16;
        v >>= 16;
    }
    if (v >> 8) {
        n += 8;
        v >>= 8;
    }
    if (v >> 4) {
        n += 4;
        v >>= 4;
    }
    if (v >> 2) {
        n += 2;
        v >>= 2;
    }
    if (v >> 1) {
        n += 1;
        v >>= 1;
    }
    n += (__u32)v;
    return n < AB_TRACE_BINS ? n : AB_TRACE_BINS - 1;
}

static __always_inline __u64 csw_of(void)
{
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    return BPF_CORE_READ(t, nvcsw) + BPF_CORE_READ(t, nivcsw);
}

static __always_inline __u64 arg_at(const struct inflight *f, __u32 i)
{
    return i == 0 ? f->arg[0] : i == 1 ? f->arg[1] : f->arg[2];
}

/* n * s, saturating: an impossible request still lands in the last bin.
 * The barrier keeps clang from turning the test into a 128-bit multiply,
 * which BPF does not have. */
static __always_inline __u64 product(__u64 n, __u64 s)
{
    if (!s)
        return 0;
    __u64 limit = ~0ull / s;
    barrier_var(limit);
    if (n > limit)
        return ~0ull;
    return n * s;
}

static __always_inline void live_add(__u64 p, __u64 size, __u32 slot)
{
    struct ab_trace_live v = {.size = size, .slot = slot};
    if (!bpf_map_update_elem(&live, &p, &v, BPF_NOEXIST))
        return;
    if (bpf_map_lookup_elem(&live, &p)) {
        /* Handed out while still live: a double hand-out, or the block was
         * freed through a function that is not probed. */
        add(&totals.live_replaced, 1);
        bpf_map_update_elem(&live, &p, &v, BPF_EXIST);
    } else {
        add(&totals.live_dropped, 1);
    }
}

/* Remove a live block; returns its size + 1, or 0 when it was not live. */
static __always_inline __u64 live_remove(__u64 p)
{
    struct ab_trace_live *v = bpf_map_lookup_elem(&live, &p);
    if (!v)
        return 0;
    __u64 size = v->size;
    bpf_map_delete_elem(&live, &p);
    return size + 1;
}

static __always_inline int on_enter(struct pt_regs *ctx)
{
    if (!is_target())
        return 0;
    struct inflight *f = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
                                              BPF_LOCAL_STORAGE_GET_F_CREATE);
    __u64 cookie = bpf_get_attach_cookie(ctx);
    __u32 slot = AB_TRACE_COOKIE_SLOT(cookie);
    if (slot >= AB_TRACE_SLOTS)
        return 0;
    if (!f) {
        add(&totals.no_state, 1);
        return 0;
    }
    if (f->depth) {
        f->depth++;
        if (f->record && enabled)
            add(&slots[slot].nested, 1);
        return 0;
    }
    f->depth = 1;
    f->record = enabled;
    if (!f->record)
        return 0;
    f->cookie = cookie;
    f->arg[0] = PT_REGS_PARM1(ctx);
    f->arg[1] = PT_REGS_PARM2(ctx);
    f->arg[2] = PT_REGS_PARM3(ctx);
    f->cpu = bpf_get_smp_processor_id();
    f->csw = csw_of();
    struct bpf_perf_event_value v;
    f->clock_ok = have_clock &&
                  !bpf_perf_event_read_value(&clock_events, BPF_F_CURRENT_CPU, &v, sizeof v);
    f->clock0 = f->clock_ok ? v.counter : 0;
    f->insn_ok = have_insn &&
                 !bpf_perf_event_read_value(&insn_events, BPF_F_CURRENT_CPU, &v, sizeof v);
    f->insn0 = f->insn_ok ? v.counter : 0;
    /* Last, so that the window holds as little of this program as it can. */
    f->t0 = bpf_ktime_get_ns();
    return 0;
}

static __always_inline int on_leave(struct pt_regs *ctx)
{
    __u64 t1 = bpf_ktime_get_ns();
    struct bpf_perf_event_value v;
    __u64 clock1 = 0, insn1 = 0;
    int clock_ok = have_clock &&
                   !bpf_perf_event_read_value(&clock_events, BPF_F_CURRENT_CPU, &v, sizeof v);
    if (clock_ok)
        clock1 = v.counter;
    int insn_ok = have_insn &&
                  !bpf_perf_event_read_value(&insn_events, BPF_F_CURRENT_CPU, &v, sizeof v);
    if (insn_ok)
        insn1 = v.counter;
    if (!is_target())
        return 0;
    struct inflight *f = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
    if (!f || !f->depth) {
        add(&totals.unmatched, 1);
        return 0;
    }
    if (--f->depth || !f->record)
        return 0;

    __u64 cookie = f->cookie;
    __u32 slot = AB_TRACE_COOKIE_SLOT(cookie);
    if (slot >= AB_TRACE_SLOTS)
        return 0;
    struct ab_trace_slot *s = &slots[slot];
    add(&s->calls, 1);
    __u64 lat = t1 - f->t0;
    add(&s->lat_sum_ns, lat);
    add(&s->lat_hist[bin_of(lat)], 1);
    /* A counter delta is this call's only when the thread stayed on its CPU
     * and was not switched out in between. */
    if (f->cpu == bpf_get_smp_processor_id() && f->csw == csw_of()) {
        if (clock_ok && f->clock_ok) {
            add(&s->clock_calls, 1);
            add(&s->clock_sum, clock1 - f->clock0);
        }
        if (insn_ok && f->insn_ok) {
            add(&s->insn_calls, 1);
            add(&s->insn_sum, insn1 - f->insn0);
        }
    } else if (f->clock_ok || f->insn_ok) {
        add(&totals.switched, 1);
    }

    __u64 ret = PT_REGS_RC(ctx);
    __u32 kind = AB_TRACE_COOKIE_KIND(cookie);
    __u64 size = arg_at(f, AB_TRACE_COOKIE_S(cookie));
    if (kind == AB_TRACE_ALLOC_N || kind == AB_TRACE_REALLOC_N)
        size = product(arg_at(f, AB_TRACE_COOKIE_N(cookie)), size);

    if (kind == AB_TRACE_FREE) {
        __u64 p = f->arg[0];
        if (!p) {
            add(&s->null_frees, 1);
            return 0;
        }
        __u64 had = live_remove(p);
        if (!had) {
            add(&s->untracked_frees, 1);
            return 0;
        }
        add(&s->bytes, had - 1);
        add(&s->size_hist[bin_of(had - 1)], 1);
        return 0;
    }

    /* Every request lands in the size histogram; bytes count the blocks
     * handed out. */
    add(&s->size_hist[bin_of(size)], 1);
    if (kind == AB_TRACE_MEMALIGN_OUT) {
        __u64 p = 0;
        if ((int)ret != 0 || bpf_probe_read_user(&p, sizeof p, (void *)f->arg[0]) || !p) {
            add(&s->failed, 1);
            return 0;
        }
        add(&s->bytes, size);
        live_add(p, size, slot);
        return 0;
    }
    if (kind == AB_TRACE_REALLOC || kind == AB_TRACE_REALLOC_N) {
        __u64 old = f->arg[0];
        if (ret) {
            if (old)
                live_remove(old);
            add(&s->bytes, size);
            live_add(ret, size, slot);
        } else if (size == 0) {
            /* realloc(p, 0) that returns NULL has freed p. */
            if (old)
                live_remove(old);
        } else {
            add(&s->failed, 1);
        }
        return 0;
    }
    if (!ret) {
        add(&s->failed, 1);
        return 0;
    }
    add(&s->bytes, size);
    live_add(ret, size, slot);
    return 0;
}

/* Each program twice: attached one function at a time through perf events,
 * or all functions in one multi-uprobe link (Linux 6.6+), which the engine
 * loads with that attach type.  The cookie helper differs between the two,
 * so one program cannot serve both. */
SEC("uprobe")
int ab_enter(struct pt_regs *ctx)
{
    return on_enter(ctx);
}

SEC("uretprobe")
int ab_leave(struct pt_regs *ctx)
{
    return on_leave(ctx);
}

SEC("uprobe")
int ab_enter_multi(struct pt_regs *ctx)
{
    return on_enter(ctx);
}

SEC("uprobe")
int ab_leave_multi(struct pt_regs *ctx)
{
    return on_leave(ctx);
}

/* The target replaced its image: stop it before the new image runs a single
 * instruction, so that the engine can attach to the allocator that serves
 * it and see its first allocation. */
SEC("raw_tp/sched_process_exec")
int ab_exec(struct bpf_raw_tracepoint_args *ctx)
{
    if (!is_target())
        return 0;
    enabled = 0;
    int rc = bpf_send_signal(AB_SIGSTOP);
    if (rc)
        add(&totals.exec_stop_failed, 1);
    struct ab_trace_exec_event *e = bpf_ringbuf_reserve(&exec_events, sizeof *e, 0);
    if (e) {
        e->tgid = target_tgid;
        e->stop_rc = rc;
        bpf_ringbuf_submit(e, 0);
    }
    return 0;
}
