/*
 * counter-ptrace.c — exact per-call counts on a machine without hardware
 * counters, by tracing.
 *
 * Who traces whom: the orchestrating process must never run allocator code,
 * and the runner's poll loop (timeout, pipes) should stay as it is, so the
 * tracer is a re-executed allocbench (the `supervise` request, nothing
 * preloaded) that forks the measuring child, which asks to be traced and
 * executes `allocbench __child` with the allocator preloaded.  Both are in
 * the runner's process group: a timeout kills the pair.
 *
 * Per batch the measuring child writes a marker (the function's address and
 * the number of calls) on descriptor 4 and stops itself with SIGTRAP (the
 * supervised batch of batch.c, the child part of this backend).  The
 * tracer then sets a hardware execute breakpoint on the function (DR0 and
 * DR7 through PTRACE_POKEUSER), so the loop between calls runs natively.
 * Inside a call (count_call) it stops the child once per basic block rather
 * than once per instruction: each straight run of instructions is decoded
 * with capstone (once per address, then cached) and counted from the
 * decoding, the child runs to the run's end on a breakpoint, and a direct
 * branch is run through with breakpoints on both its destinations; returns
 * and indirect branches are single-stepped.  The call ends when RIP is back
 * at the return address with RSP restored.
 *
 * Cost: each stop is a trap, two context switches and a GETREGS, 12-25 us
 * here depending on load, and moving a breakpoint ~3 us; a call of 40
 * instructions in 8 blocks costs ~0.2 ms.  Tracer and child are kept on
 * one CPU, which makes a stop cheaper than a wake-up on the other CPU.
 *
 * Pitfalls handled: a `rep` string instruction is one instruction (as the
 * hardware counts it) whose iterations run natively and are counted apart;
 * a signal delivered mid-call flags the call, which is left out rather than
 * counted with its handler.
 */
#include "counter.h"

#if AB_HAVE_CAPSTONE

#include <capstone/capstone.h>
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

enum { REPLY_FD = 3 };

/* ---------------------------------------------------------------- tracer */

enum insn_kind { K_OTHER, K_COND, K_JUMP, K_CALL, K_RET };

struct insn {
    uint64_t addr;   /* 0: empty slot */
    uint64_t target; /* direct jumps and calls: where they go; else 0 */
    uint8_t len;     /* 0: not decoded */
    uint8_t kind;
    bool rep;
    bool locked;     /* lock-prefixed read-modify-write (not cmpxchg), xchg with memory */
    int8_t last;     /* conditional branches: -1 never seen, else taken the last time */
};

#define CACHE_SLOTS (1u << 14)
#define NDR 4 /* DR0-DR3 */

struct tracer {
    pid_t pid;
    csh cs;
    struct insn *cache;
    size_t cached;
    bool armed;
    uint64_t fn;
    uint64_t dr[NDR], dr7; /* what DR0-DR3 and DR7 hold now */
};

/* The batch being counted. */
struct counts {
    uint32_t index;
    uint64_t n, done, flagged;
    uint64_t *ins, *br, *cond;
    uint64_t taken, not_taken, locked, rep, rep_iter;
    bool complete;
};

static int read_code(pid_t pid, uint64_t addr, uint8_t *buf, size_t len)
{
    /* Stop at the page end first: the next page may not be mapped. */
    size_t first = 4096 - (addr & 4095);
    if (first > len)
        first = len;
    struct iovec local = {buf, first}, remote = {(void *)(uintptr_t)addr, first};
    ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (r <= 0)
        return -1;
    size_t got = (size_t)r;
    if (got == first && first < len) {
        local = (struct iovec){buf + first, len - first};
        remote = (struct iovec){(void *)(uintptr_t)(addr + first), len - first};
        r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (r > 0)
            got += (size_t)r;
    }
    return (int)got;
}


/* SSE movsd and cmpsd share their ids with the string forms. */
static bool uses_xmm(const cs_x86 *x)
{
    for (uint8_t o = 0; o < x->op_count; o++)
        if (x->operands[o].type == X86_OP_REG && x->operands[o].reg >= X86_REG_XMM0 &&
            x->operands[o].reg <= X86_REG_XMM31)
            return true;
    return false;
}

static bool is_string_insn(unsigned id)
{
    switch (id) {
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
    case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD: case X86_INS_CMPSQ:
    case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        return true;
    default:
        return false;
    }
}

static struct insn *decode(struct tracer *t, uint64_t addr)
{
    size_t h = (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 50) & (CACHE_SLOTS - 1);
    while (t->cache[h].addr && t->cache[h].addr != addr)
        h = (h + 1) & (CACHE_SLOTS - 1);
    struct insn *e = &t->cache[h];
    if (e->addr == addr)
        return e;
    if (t->cached > CACHE_SLOTS / 2) {
        /* Full enough to slow probing: start over (code is re-decoded). */
        memset(t->cache, 0, CACHE_SLOTS * sizeof *t->cache);
        t->cached = 0;
        return decode(t, addr);
    }
    uint8_t code[16];
    int got = read_code(t->pid, addr, code, sizeof code);
    struct insn d = {.addr = addr, .len = 0, .kind = K_OTHER, .last = -1};
    cs_insn *ci = NULL;
    if (got > 0 && cs_disasm(t->cs, code, (size_t)got, addr, 1, &ci) == 1) {
        d.len = (uint8_t)ci->size;
        const cs_detail *det = ci->detail;
        for (uint8_t g = 0; det && g < det->groups_count; g++) {
            switch (det->groups[g]) {
            case CS_GRP_JUMP:
                d.kind = (ci->id == X86_INS_JMP || ci->id == X86_INS_LJMP) ? K_JUMP : K_COND;
                break;
            case CS_GRP_CALL: d.kind = K_CALL; break;
            case CS_GRP_RET: d.kind = K_RET; break;
            default: break;
            }
        }
        if (det && d.kind != K_OTHER && d.kind != K_RET && det->x86.op_count == 1 &&
            det->x86.operands[0].type == X86_OP_IMM)
            d.target = (uint64_t)det->x86.operands[0].imm;
        if (det) {
            /* Only string instructions repeat: F2/F3 also prefix bnd ret,
             * rep ret, pause and tzcnt, which execute once. */
            d.rep = d.kind == K_OTHER && is_string_insn(ci->id) && !uses_xmm(&det->x86) &&
                    (det->x86.prefix[0] == X86_PREFIX_REP ||
                     det->x86.prefix[0] == X86_PREFIX_REPNE);
            d.locked = det->x86.prefix[0] == X86_PREFIX_LOCK && ci->id != X86_INS_CMPXCHG &&
                       ci->id != X86_INS_CMPXCHG8B && ci->id != X86_INS_CMPXCHG16B;
            if (ci->id == X86_INS_XCHG)
                for (uint8_t o = 0; o < det->x86.op_count; o++)
                    d.locked |= det->x86.operands[o].type == X86_OP_MEM;
        }
        cs_free(ci, 1);
    }
    *e = d;
    t->cached++;
    return e;
}

static int set_dr(pid_t pid, int reg, uint64_t v)
{
    errno = 0;
    if (ptrace(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, u_debugreg[reg]),
               (void *)(uintptr_t)v) < 0)
        return -errno;
    return 0;
}

/* Where a debug register waits when unused: a page no process maps (below
 * mmap_min_addr), so an execute breakpoint there never fires. */
#define PARKED 0x1000u
#define RF (1u << 16) /* EFLAGS.RF: the next instruction ignores breakpoints */

/*
 * DR0-DR3 as execute breakpoints.  DR7 (L0-L3 set, R/W and LEN 00: execute,
 * one byte) is written only when arming or disarming a batch; while
 * counting only addresses move (~0.6 us each here, against ~40 us for a
 * stop of the tracee), and a register is written only when it changes.
 */
static int put_dr(struct tracer *t, int i, uint64_t v)
{
    if (t->dr[i] == v)
        return 0;
    int rc = set_dr(t->pid, i, v);
    if (!rc)
        t->dr[i] = v;
    return rc;
}

static int set_dr7(struct tracer *t, uint64_t v)
{
    if (t->dr7 == v)
        return 0;
    int rc = set_dr(t->pid, 7, v);
    if (!rc)
        t->dr7 = v;
    return rc;
}

/* The breakpoint on the measured function's entry (the others parked), or
 * none. */
static int arm(struct tracer *t, bool on)
{
    int rc = 0;
    for (int i = 0; on && i < NDR && !rc; i++)
        rc = put_dr(t, i, i == 0 ? t->fn : PARKED);
    if (!rc)
        rc = set_dr7(t, on ? 0x55 : 0);
    if (!rc)
        t->armed = on;
    return rc;
}

static int wait_stop(pid_t pid, int *st)
{
    for (;;) {
        pid_t w = waitpid(pid, st, __WALL);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return -errno;
    }
}

/* What one call executed. */
struct call {
    uint64_t ins, br, cond, taken, not_taken;
    uint64_t locked;          /* locked read-modify-writes */
    uint64_t rep, rep_iter;   /* rep-prefixed instructions, their iterations */
};

static void call_add(struct call *a, const struct call *b)
{
    a->ins += b->ins;
    a->br += b->br;
    a->cond += b->cond;
    a->taken += b->taken;
    a->not_taken += b->not_taken;
    a->locked += b->locked;
    a->rep += b->rep;
    a->rep_iter += b->rep_iter;
}

/* Resume the tracee (one instruction, or until a breakpoint) and read its
 * registers at the next stop.  Returns the stop's signal (SIGTRAP for a
 * step or a breakpoint), or -errno when the tracee is gone. */
static int resume(struct tracer *t, int how, int sig, struct user_regs_struct *r)
{
    int st;
    if (ptrace(how, t->pid, NULL, (void *)(uintptr_t)sig) < 0)
        return -errno;
    int rc = wait_stop(t->pid, &st);
    if (rc)
        return rc;
    if (!WIFSTOPPED(st))
        return -ESRCH;
    if (ptrace(PTRACE_GETREGS, t->pid, NULL, r) < 0)
        return -errno;
    return WSTOPSIG(st);
}

/* One executed branch instruction (from -> to). */
static void count_branch(struct call *k, const struct insn *in, uint64_t from, uint64_t to)
{
    k->ins++;
    k->locked += in->locked;
    switch (in->kind) {
    case K_COND:
        k->br++;
        k->cond++;
        if (to == from + in->len)
            k->not_taken++;
        else
            k->taken++;
        break;
    case K_JUMP:
    case K_CALL:
    case K_RET: k->br++; break;
    default: break;
    }
}

#define BLOCK_MAX 4096
#define SEG_MAX 64

/*
 * A run planned from a stop: the path the tracee is predicted to take, and
 * the breakpoints (at most NDR) where it may stop on it or off it, each
 * with what the tracee has executed when it stops there.
 *
 * The path goes straight through direct jumps and calls (their targets are
 * in the code) and through a conditional branch whose direction is known
 * from the call before (the fast path takes the same path call after call),
 * with a breakpoint on the way it did not take: a guard, where the tracee
 * stops if the branch goes the other way this time.  It ends at a
 * breakpoint of its own: before an instruction that must be single-stepped
 * (a return inside a callee, an indirect branch, an undecodable one), on
 * both destinations of a branch never seen before or past the guards the
 * plan may trust, or at the return address when the measured function
 * returns.  A breakpoint the tracee could meet early (one on the predicted
 * path itself, as the target of a branch that skips ahead is, or two at one
 * address) would make a stop ambiguous: such a plan trusts fewer guards,
 * down to none (one basic block and its branch, run through at once).
 *
 * Cost: one stop per three predicted conditional branches, instead of one
 * per basic block.
 */
struct plan_stop {
    uint64_t addr;
    struct call k;            /* executed from the run's start to this stop */
    struct insn *branch;      /* the conditional branch this stop tells about */
    int8_t taken;             /* its direction, at this stop */
    int depth;                /* calls entered and not returned from, here */
    bool final;               /* the measured function's return */
};

struct plan {
    struct plan_stop stop[NDR];
    int n;
    uint64_t seg_lo[SEG_MAX], seg_hi[SEG_MAX]; /* the path: [lo, hi) runs */
    int nseg;
};

static bool on_path(const struct plan *p, uint64_t x, uint64_t start, bool rf)
{
    for (int i = 0; i < p->nseg; i++)
        if (x >= p->seg_lo[i] && x < p->seg_hi[i] && !(rf && i == 0 && x == start))
            return true;
    return false;
}

/* Every stop of the plan is met only where it is meant to be. */
static bool plan_sound(const struct plan *p, uint64_t start, bool rf)
{
    for (int i = 0; i < p->n; i++) {
        if (p->stop[i].addr < 0x10000 || on_path(p, p->stop[i].addr, start, rf))
            return false;
        for (int j = 0; j < i; j++)
            if (p->stop[j].addr == p->stop[i].addr)
                return false;
    }
    return true;
}

static void add_stop(struct plan *p, uint64_t addr, const struct call *k, struct insn *br,
                     int taken, int depth, bool final)
{
    p->stop[p->n++] = (struct plan_stop){addr, *k, br, (int8_t)taken, depth, final};
}

/*
 * Plan from rip (depth calls deep in the measured call), trusting at most
 * guards predicted branches.  Returns false when there is nothing to run
 * through: the instruction at rip must be single-stepped (or is a rep).
 */
static bool plan_run(struct tracer *t, uint64_t rip, int depth, uint64_t ret_addr, int guards,
                     struct plan *p)
{
    memset(p, 0, sizeof *p);
    struct call acc = {0};
    uint64_t pos = rip;
    int used = 0;
    for (;;) {
        uint64_t a = pos;
        unsigned n = 0;
        struct insn *in;
        uint64_t locked = 0;
        for (;;) {
            in = decode(t, a);
            if (in->kind != K_OTHER || in->rep || !in->len || n == BLOCK_MAX)
                break;
            locked += in->locked;
            a += in->len;
            n++;
        }
        acc.ins += n;
        acc.locked += locked;
        bool through = in->len && !in->rep && n < BLOCK_MAX && p->nseg < SEG_MAX;
        /* What can be run through without a stop. */
        if (through && in->kind == K_JUMP && in->target) {
            p->seg_lo[p->nseg] = pos, p->seg_hi[p->nseg++] = a + in->len;
            count_branch(&acc, in, a, in->target);
            pos = in->target;
            continue;
        }
        if (through && in->kind == K_CALL && in->target) {
            p->seg_lo[p->nseg] = pos, p->seg_hi[p->nseg++] = a + in->len;
            count_branch(&acc, in, a, in->target);
            depth++;
            pos = in->target;
            continue;
        }
        if (through && in->kind == K_RET && depth == 0) {
            p->seg_lo[p->nseg] = pos, p->seg_hi[p->nseg++] = a + in->len;
            count_branch(&acc, in, a, ret_addr);
            add_stop(p, ret_addr, &acc, NULL, -1, -1, true);
            return true;
        }
        if (through && in->kind == K_COND && in->target) {
            uint64_t fall = a + in->len, jump = in->target;
            if (in->last >= 0 && used < guards && p->n + 2 <= NDR) {
                /* Predicted: the guard on the other way, then onwards. */
                uint64_t likely = in->last ? jump : fall, other = in->last ? fall : jump;
                p->seg_lo[p->nseg] = pos, p->seg_hi[p->nseg++] = a + in->len;
                if (likely != other) {
                    struct call g = acc;
                    count_branch(&g, in, a, other);
                    add_stop(p, other, &g, in, !in->last, depth, false);
                }
                count_branch(&acc, in, a, likely);
                used++;
                pos = likely;
                continue;
            }
            if (p->n + 2 <= NDR) {
                /* Never seen, or past the guards this plan may trust: the
                 * branch and both of its destinations. */
                p->seg_lo[p->nseg] = pos, p->seg_hi[p->nseg++] = a + in->len;
                struct call g = acc;
                count_branch(&g, in, a, jump);
                add_stop(p, jump, &g, in, jump != fall, depth, false);
                if (jump != fall) {
                    g = acc;
                    count_branch(&g, in, a, fall);
                    add_stop(p, fall, &g, in, 0, depth, false);
                }
                return true;
            }
        }
        /* The run ends before the instruction at a. */
        if (a == rip)
            return false;
        if (p->nseg < SEG_MAX)
            p->seg_lo[p->nseg] = pos, p->seg_hi[p->nseg++] = a;
        add_stop(p, a, &acc, NULL, -1, depth, false);
        return true;
    }
}

/*
 * Count one call from its first instruction (where the tracee is stopped)
 * to its return: RIP back at the return address with RSP restored.
 *
 * Each round plans a run (plan_run) and lets the tracee run natively to
 * whichever of the plan's breakpoints it meets; the stop says which way the
 * predicted branches went and so what was executed.  What a plan cannot run
 * through is single-stepped: returns inside callees, indirect branches,
 * undecodable instructions; a rep string instruction runs natively to the
 * next instruction, its iterations read from RCX.  A stop with a signal, or
 * anywhere the plan did not put a breakpoint, flags the call (it is left
 * out) and the rest of the call is single-stepped to its return.
 *
 * Returns 0, 1 when the call was flagged, or -errno when the tracee went
 * away.
 */
static int count_call(struct tracer *t, const struct user_regs_struct *entry, struct call *k)
{
    errno = 0;
    long ret = ptrace(PTRACE_PEEKDATA, t->pid, (void *)(uintptr_t)entry->rsp, NULL);
    if (ret == -1 && errno)
        return -errno;
    uint64_t ret_addr = (uint64_t)ret, exit_rsp = entry->rsp + 8;
    struct user_regs_struct r = *entry;
    int sig = 0, flagged = 0, depth = 0;
    memset(k, 0, sizeof *k);
    struct plan p;
    while (!(r.rip == ret_addr && r.rsp == exit_rsp)) {
        uint64_t rip = r.rip;
        int got;
        if (flagged) {
            /* The count is void: only reach the return. */
            if ((got = resume(t, PTRACE_SINGLESTEP, sig, &r)) < 0)
                return got;
            sig = got == SIGTRAP ? 0 : got;
            continue;
        }
        bool rf = (r.eflags & RF) != 0, planned = false;
        for (int guards = NDR - 1; guards >= 0; guards--) {
            if (!plan_run(t, rip, depth, ret_addr, guards, &p))
                break;
            if (plan_sound(&p, rip, rf)) {
                planned = true;
                break;
            }
        }
        if (planned) {
            for (int i = 0; i < NDR; i++) {
                int rc = put_dr(t, i, i < p.n ? p.stop[i].addr : PARKED);
                if (rc)
                    return rc;
            }
            if ((got = resume(t, PTRACE_CONT, 0, &r)) < 0)
                return got;
            const struct plan_stop *at = NULL;
            for (int i = 0; i < p.n && got == SIGTRAP; i++)
                if (p.stop[i].addr == r.rip)
                    at = &p.stop[i];
            if (!at || (at->final && r.rsp != exit_rsp)) {
                flagged = 1;
                sig = got == SIGTRAP ? 0 : got;
                continue;
            }
            call_add(k, &at->k);
            if (at->branch)
                at->branch->last = at->taken;
            /* The predicted branches before it went as predicted. */
            depth = at->depth;
            continue;
        }
        struct insn *in = decode(t, rip);
        if (in->rep && in->len) {
            /* One instruction, as the hardware counts it; all its
             * iterations run natively, RCX counts them down. */
            uint64_t rcx = r.rcx, next = rip + in->len;
            for (int i = 0; i < NDR; i++) {
                int rc = put_dr(t, i, i == 0 ? next : PARKED);
                if (rc)
                    return rc;
            }
            if ((got = resume(t, PTRACE_CONT, 0, &r)) < 0)
                return got;
            if (got != SIGTRAP || r.rip != next) {
                flagged = 1;
                sig = got == SIGTRAP ? 0 : got;
                continue;
            }
            k->ins++;
            k->locked += in->locked;
            k->rep++;
            k->rep_iter += rcx - r.rcx;
            continue;
        }
        /* A return inside a callee, an indirect branch or an undecodable
         * instruction: one step, no breakpoint where it starts. */
        for (int i = 0; i < NDR; i++) {
            int rc = put_dr(t, i, PARKED);
            if (rc)
                return rc;
        }
        if ((got = resume(t, PTRACE_SINGLESTEP, 0, &r)) < 0)
            return got;
        if (got != SIGTRAP) {
            flagged = 1;
            sig = got;
            continue;
        }
        count_branch(k, in, rip, r.rip);
        if (in->kind == K_CALL)
            depth++;
        else if (in->kind == K_RET && depth > 0)
            depth--;
        if (in->kind == K_COND)
            in->last = r.rip != rip + in->len;
    }
    return flagged;
}

static void counts_free(struct counts *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].ins);
        free(c[i].br);
        free(c[i].cond);
    }
    free(c);
}

static cJSON *error_doc(enum ab_code code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static cJSON *error_doc(enum ab_code code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ab_child_error(code, msg);
}

static pid_t start_child(const char *inner, const char *preload, int reply_w, int marker_w,
                         const char *nonce, double limit_s)
{
    char exe[PATH_MAX];
    if (ab_trial_exe(exe, sizeof exe))
        return -1;
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    ab_child_tether(limit_s);
    setenv(AB_REPLY_NONCE_ENV, nonce, 1);
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
        _exit(126);
    dup2(reply_w, REPLY_FD);
    dup2(marker_w, AB_FP_MARKER_FD);
    syscall(SYS_close_range, 5u, ~0u, 0u);
    if (preload && *preload)
        setenv("LD_PRELOAD", preload, 1);
    else
        unsetenv("LD_PRELOAD");
    char *argv[] = {exe, (char *)"__child", (char *)inner, NULL};
    execv(exe, argv);
    _exit(127);
}

/* A marker: arm for a new batch (its counts start here) or end one. */
static int on_marker(struct tracer *t, const struct ab_fp_marker *m, struct counts **all,
                     size_t *nall, struct counts **cur)
{
    if (m->magic != AB_FP_MARKER_MAGIC)
        return -EPROTO;
    if (!m->begin) {
        if (*cur)
            (*cur)->complete = true;
        *cur = NULL;
        return t->armed ? arm(t, false) : 0;
    }
    struct counts *na = realloc(*all, (*nall + 1) * sizeof *na);
    if (!na)
        return -ENOMEM;
    *all = na;
    struct counts *c = &na[(*nall)++];
    memset(c, 0, sizeof *c);
    c->index = m->index;
    c->n = m->n;
    c->ins = malloc((m->n ? m->n : 1) * sizeof *c->ins);
    c->br = malloc((m->n ? m->n : 1) * sizeof *c->br);
    c->cond = malloc((m->n ? m->n : 1) * sizeof *c->cond);
    if (!c->ins || !c->br || !c->cond)
        return -ENOMEM;
    *cur = c;
    t->fn = m->fn;
    return arm(t, true);
}

static cJSON *ptrace_supervise(const cJSON *req)
{
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(req, "inner");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(req, "preload");
    if (!cJSON_IsString(inner))
        return error_doc(AB_ALLOCBENCH_INTERNAL, "supervise: no inner request");
    struct tracer t = {0};
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &t.cs) != CS_ERR_OK)
        return error_doc(AB_ALLOCBENCH_INTERNAL, "capstone cannot decode x86-64 here");
    cs_option(t.cs, CS_OPT_DETAIL, CS_OPT_ON);
    t.cache = calloc(CACHE_SLOTS, sizeof *t.cache);
    int rp[2], mp[2];
    if (!t.cache || pipe2(rp, O_CLOEXEC) || pipe2(mp, O_CLOEXEC)) {
        cs_close(&t.cs);
        free(t.cache);
        return error_doc(AB_ALLOCBENCH_INTERNAL, "supervise: %s", strerror(errno));
    }
    /* Room for the whole reply, so the child never blocks writing it while
     * the tracer waits for it to stop. */
    fcntl(rp[0], F_SETPIPE_SZ, 1 << 20);
    fcntl(mp[0], F_SETFL, O_NONBLOCK);
    int cpu = sched_getcpu();
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof set, &set); /* inherited by the child */
    }
    char nonce[17];
    ab_reply_nonce_new(nonce);
    t.pid = start_child(inner->valuestring, cJSON_IsString(pre) ? pre->valuestring : NULL,
                        rp[1], mp[1], nonce, ab_json_num(req, "limit_s", 0));
    close(rp[1]);
    close(mp[1]);
    struct counts *all = NULL, *cur = NULL;
    size_t nall = 0;
    cJSON *err = NULL;
    int st = 0, rc;
    bool exec_stop = true, dead = false;
    if (t.pid < 0) {
        err = error_doc(AB_ALLOCBENCH_INTERNAL, "supervise: fork: %s", strerror(errno));
        goto done;
    }
    while (!dead) {
        if ((rc = wait_stop(t.pid, &st))) {
            err = error_doc(AB_ALLOCBENCH_INTERNAL, "waitpid: %s", strerror(-rc));
            break;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            dead = true;
            break;
        }
        int sig = WSTOPSIG(st);
        if (sig != SIGTRAP) {
            ptrace(PTRACE_CONT, t.pid, NULL, (void *)(uintptr_t)sig);
            continue;
        }
        if (exec_stop) {
            /* The stop after execve: kill the tracee should this tracer die. */
            exec_stop = false;
            ptrace(PTRACE_SETOPTIONS, t.pid, NULL, (void *)PTRACE_O_EXITKILL);
            ptrace(PTRACE_CONT, t.pid, NULL, NULL);
            continue;
        }
        struct user_regs_struct r;
        if (ptrace(PTRACE_GETREGS, t.pid, NULL, &r) < 0) {
            err = error_doc(AB_ALLOCBENCH_INTERNAL, "GETREGS: %s", strerror(errno));
            break;
        }
        if (t.armed && cur && r.rip == t.fn) {
            /* count_call moves the breakpoints on, so a nested call of the
             * same function does not trap as a new call. */
            t.armed = false;
            struct call k;
            rc = count_call(&t, &r, &k);
            if (rc < 0) {
                dead = rc == -ESRCH;
                if (!dead)
                    err = error_doc(AB_ALLOCBENCH_INTERNAL, "stepping: %s", strerror(-rc));
                break;
            }
            if (rc == 1) {
                cur->flagged++;
            } else if (cur->done < cur->n) {
                cur->ins[cur->done] = k.ins;
                cur->br[cur->done] = k.br;
                cur->cond[cur->done] = k.cond;
                cur->done++;
                cur->taken += k.taken;
                cur->not_taken += k.not_taken;
                cur->locked += k.locked;
                cur->rep += k.rep;
                cur->rep_iter += k.rep_iter;
            }
            if ((rc = arm(&t, true))) {
                err = error_doc(AB_ALLOCBENCH_INTERNAL, "re-arming: %s", strerror(-rc));
                break;
            }
            ptrace(PTRACE_CONT, t.pid, NULL, NULL);
            continue;
        }
        struct ab_fp_marker m;
        ssize_t got = read(mp[0], &m, sizeof m);
        if (got == (ssize_t)sizeof m) {
            if ((rc = on_marker(&t, &m, &all, &nall, &cur))) {
                err = rc == -EPROTO || rc == -ENOMEM
                          ? error_doc(AB_ALLOCBENCH_INTERNAL, "marker: %s", strerror(-rc))
                          : error_doc(AB_ALLOCBENCH_NOT_INSTALLED,
                                      "hardware execute breakpoints (debug registers through "
                                      "PTRACE_POKEUSER) are not usable here: %s",
                                      strerror(-rc));
                break;
            }
            ptrace(PTRACE_CONT, t.pid, NULL, NULL);
            continue;
        }
        /* A SIGTRAP of the program's own. */
        ptrace(PTRACE_CONT, t.pid, NULL, (void *)(uintptr_t)SIGTRAP);
    }
    if (!dead) {
        kill(t.pid, SIGKILL);
        while (waitpid(t.pid, &st, __WALL) < 0 && errno == EINTR)
            ;
    }
done:;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (ssize_t n; buf;) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        n = read(rp[0], buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(rp[0]);
    close(mp[0]);
    cJSON *doc = NULL;
    char channel[256] = "";
    if (!err && buf && WIFEXITED(st) && !WEXITSTATUS(st) &&
        ab_reply_parse(buf, len, nonce, &doc, channel, sizeof channel))
        err = error_doc(AB_ALLOCBENCH_SUBJECT_CHANNEL, "%s", channel);
    free(buf);
    if (!err && !doc) {
        if (WIFSIGNALED(st))
            err = error_doc(AB_ALLOCBENCH_TRIAL_CRASHED,
                            "the measuring child was killed by signal %d (SIG%s)", WTERMSIG(st),
                            sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
        else
            err = error_doc(AB_ALLOCBENCH_TRIAL_FAILED,
                            "the measuring child exited with status %d without a result",
                            WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    if (err) {
        cJSON_Delete(doc);
        counts_free(all, nall);
        cs_close(&t.cs);
        free(t.cache);
        return err;
    }
    cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "batches"))
    {
        const cJSON *st_item = cJSON_GetObjectItemCaseSensitive(b, "status");
        if (!cJSON_IsString(st_item) || strcmp(st_item->valuestring, "ok"))
            continue;
        uint32_t idx = (uint32_t)ab_json_num(b, "index", -1);
        struct counts *c = NULL;
        for (size_t i = 0; i < nall && !c; i++)
            if (all[i].index == idx && all[i].complete)
                c = &all[i];
        if (!c) {
            cJSON_ReplaceItemInObject(b, "status", cJSON_CreateString("failed"));
            cJSON_AddStringToObject(b, "reason", "the tracer saw no such batch");
            continue;
        }
        if (c->done + c->flagged != c->n) {
            char why[160];
            snprintf(why, sizeof why, "%llu of %llu calls reached the breakpoint",
                     (unsigned long long)(c->done + c->flagged), (unsigned long long)c->n);
            cJSON_ReplaceItemInObject(b, "status", cJSON_CreateString("failed"));
            cJSON_AddStringToObject(b, "reason", why);
            continue;
        }
        cJSON_AddItemToObject(b, "instructions", ab_fp_hist_json(c->ins, c->done));
        cJSON_AddItemToObject(b, "branches", ab_fp_hist_json(c->br, c->done));
        cJSON_AddItemToObject(b, "conditional", ab_fp_hist_json(c->cond, c->done));
        cJSON_AddNumberToObject(b, "conditional_taken", (double)c->taken);
        cJSON_AddNumberToObject(b, "conditional_not_taken", (double)c->not_taken);
        cJSON_AddNumberToObject(b, "locked", (double)c->locked);
        cJSON_AddNumberToObject(b, "rep_instructions", (double)c->rep);
        cJSON_AddNumberToObject(b, "rep_iterations", (double)c->rep_iter);
        cJSON_AddNumberToObject(b, "flagged", (double)c->flagged);
    }
    counts_free(all, nall);
    cs_close(&t.cs);
    free(t.cache);
    return doc;
}

/* ---------------------------------------------------------- orchestrator */

static int ptrace_probe(char *version, size_t vlen, char *why, size_t wlen)
{
    /* The library's full version as pkg-config gave it at build time, when
     * it matches the major.minor the library reports now. */
    int major = 0, minor = 0;
    cs_version(&major, &minor);
    char mm[32];
    snprintf(mm, sizeof mm, "%d.%d", major, minor);
    if (!strncmp(AB_CAPSTONE_VERSION, mm, strlen(mm)))
        snprintf(version, vlen, "capstone %s", AB_CAPSTONE_VERSION);
    else
        snprintf(version, vlen, "capstone %s", mm);
    /* A traced child that stops at once: can this process trace, and does
     * the kernel take a debug register? */
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, wlen, "fork: %s", strerror(errno));
        return -ENODEV;
    }
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
            _exit(1);
        raise(SIGSTOP);
        _exit(0);
    }
    int st, rc = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
        snprintf(why, wlen, "ptrace is not permitted here (PTRACE_TRACEME failed)");
        rc = -ENODEV;
    } else {
        int e = set_dr(pid, 0, (uint64_t)(uintptr_t)&ptrace_probe);
        if (!e)
            e = set_dr(pid, 7, 1);
        if (e) {
            snprintf(why, wlen,
                     "hardware execute breakpoints (debug registers through PTRACE_POKEUSER) "
                     "are not usable here: %s",
                     strerror(-e));
            rc = -ENODEV;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return rc;
}

static int ptrace_spawn(const char *request, const char *preload, double timeout_s,
                        struct ab_child_result *out)
{
    if (preload && !(preload = ab_preload_path(preload)))
        return errno ? -errno : -ENOMEM;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "mode", "supervise");
    cJSON_AddStringToObject(req, "counter", "ptrace");
    if (preload)
        cJSON_AddStringToObject(req, "preload", preload);
    cJSON_AddStringToObject(req, "inner", request);
    cJSON_AddNumberToObject(req, "limit_s", timeout_s);
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!text)
        return -ENOMEM;
    int rc = ab_runner_exec_supervisor(text, timeout_s, out);
    free(text);
    return rc;
}

const struct ab_counter ab_counter_ptrace = {
    .name = "ptrace",
    .summary = "exact per-call counts: hardware breakpoints, single steps, capstone",
    .probe = ptrace_probe,
    .spawn = ptrace_spawn,
    .supervise = ptrace_supervise,
};

#else /* AB_HAVE_CAPSTONE */

const struct ab_counter ab_counter_ptrace = {
    .name = "ptrace",
    .summary = "exact per-call counts: hardware breakpoints, single steps, capstone",
    .unavailable = "built without capstone (Debian package libcapstone-dev; meson feature capstone)",
};

#endif
