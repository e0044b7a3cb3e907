/*
 * trace-bpf.h — what the BPF program (lib/trace.bpf.c) and the trace engine
 * (lib/trace.c) share: the probe kinds, the attach cookie's layout, and the
 * counters the program keeps in its .bss.  Plain C types only, so that both
 * the BPF side (with vmlinux.h) and the user side (with libc) include it.
 */
#ifndef AB_TRACE_BPF_H
#define AB_TRACE_BPF_H

/* Distinct probed addresses (aliases share one), and log2 bins: bin 0 holds
 * 0, bin k (1..64) holds [2^(k-1), 2^k - 1]. */
#define AB_TRACE_SLOTS 128
#define AB_TRACE_BINS 65

/* What a probed function does with its arguments; s and n name the argument
 * (0..2) holding the size and the element count. */
enum ab_trace_kind {
    AB_TRACE_ALLOC = 1,    /* returns a block of arg[s] bytes */
    AB_TRACE_ALLOC_N,      /* returns a block of arg[n] * arg[s] bytes */
    AB_TRACE_REALLOC,      /* moves arg0 to a block of arg[s] bytes */
    AB_TRACE_REALLOC_N,    /* moves arg0 to a block of arg[n] * arg[s] bytes */
    AB_TRACE_MEMALIGN_OUT, /* stores a block of arg[s] bytes at *arg0, returns 0 */
    AB_TRACE_FREE,         /* releases arg0 */
};

/* The attach cookie: bits 0-15 slot, 16-19 kind, 20-21 s, 22-23 n. */
#define AB_TRACE_COOKIE(slot, kind, s, n)                                                 \
    ((unsigned long long)(slot) | ((unsigned long long)(kind) << 16) |                    \
     ((unsigned long long)(s) << 20) | ((unsigned long long)(n) << 22))
#define AB_TRACE_COOKIE_SLOT(c) ((unsigned)((c) & 0xffff))
#define AB_TRACE_COOKIE_KIND(c) ((unsigned)(((c) >> 16) & 0xf))
#define AB_TRACE_COOKIE_S(c) ((unsigned)(((c) >> 20) & 0x3))
#define AB_TRACE_COOKIE_N(c) ((unsigned)(((c) >> 22) & 0x3))

/* Per probed address.  A call counts once, at its return, when it is the
 * outermost allocator call of its thread; calls made from inside another
 * probed call (realloc(NULL, n) reaching malloc) count as nested only. */
struct ab_trace_slot {
    unsigned long long calls;           /* completed outermost calls */
    unsigned long long nested;          /* entries from inside another probed call */
    unsigned long long failed;          /* allocating calls that returned no block */
    unsigned long long bytes;           /* handed out (allocating) or released (free) */
    unsigned long long null_frees;      /* free(NULL) */
    unsigned long long untracked_frees; /* freed a block not allocated while traced */
    unsigned long long lat_sum_ns;      /* entry to return, probe cost included */
    unsigned long long clock_calls;     /* calls with a task-clock reading */
    unsigned long long clock_sum;       /* task-clock ns over those calls */
    unsigned long long insn_calls;      /* calls with an instructions reading */
    unsigned long long insn_sum;
    unsigned long long size_hist[AB_TRACE_BINS]; /* requested (or released) bytes */
    unsigned long long lat_hist[AB_TRACE_BINS];  /* ns */
};

struct ab_trace_totals {
    unsigned long long live_dropped;  /* the live map was full: a block not tracked */
    unsigned long long live_replaced; /* a block returned while still recorded live */
    unsigned long long unmatched;     /* a return without a recorded entry */
    unsigned long long no_state;      /* no per-thread state: a call not seen */
    unsigned long long switched;      /* calls that migrated or were switched out */
    unsigned long long exec_stop_failed;
};

/* A block allocated while traced and not yet freed, keyed by its address. */
struct ab_trace_live {
    unsigned long long size;
    unsigned int slot;
    unsigned int pad;
};

/* Sent when the target calls exec: it has been stopped (stop_rc 0) so that
 * the engine can attach to the new image before it runs. */
struct ab_trace_exec_event {
    unsigned int tgid;
    int stop_rc;
};

#endif
