/*
 * verify.h — the block-check toolkit the stress cases and the verifying
 * workloads are made of: the live-set shadow and patterns, findings and
 * checks, the case context and its blocks, threads, exhaustion, rings,
 * thread churn, the hugepage and NUMA policy checks, size mixes and the
 * profile a case runs under.  A stress case (stress/case-<name>.c) includes
 * this header alone.
 */
#ifndef AB_VERIFY_H
#define AB_VERIFY_H

#include "proc.h"

/* ---------------------------------------------------------------- verify.c */
/* The live-set shadow: which bytes belong to live blocks (thread-safe). */
struct ab_shadow;
struct ab_shadow *ab_shadow_new(void);
void ab_shadow_free(struct ab_shadow *s);
/* Mark [p, p + size) live: 0, -EEXIST when it overlaps a live block (then
 * nothing is marked), -ENOSPC when the shadow is full. */
int ab_shadow_add(struct ab_shadow *s, const void *p, size_t size);
/* Clear it: 0, or -ENOENT when some of it was not marked live. */
int ab_shadow_remove(struct ab_shadow *s, const void *p, size_t size);
size_t ab_shadow_bytes(const struct ab_shadow *s);
/* The block's pattern from its address and a sequence number; check returns
 * 0, or 1 + the offset of the first byte that differs. */
void ab_pattern_fill(void *p, size_t size, uint64_t seq);
size_t ab_pattern_check(const void *p, size_t size, uint64_t seq);

/* ------------------------------------------ mix.c; the profile a case runs */

#define AB_MIX_MAX 8

/* A size mix: ranges [lo, hi] picked with integer weights, uniform inside. */
struct ab_size_mix {
    unsigned n;
    uint64_t lo[AB_MIX_MAX], hi[AB_MIX_MAX];
    uint32_t weight[AB_MIX_MAX];
    uint32_t total;
};

/* "LO-HI:W,LO-HI:W,..." (":W" optional, default 1; k/M/G suffixes) with
 * 1 <= LO <= HI <= max.  On error writes why to err and returns -EINVAL. */
int ab_size_mix_parse(const char *text, uint64_t max, struct ab_size_mix *out, char *err,
                      size_t errlen);
size_t ab_size_mix_pick(const struct ab_size_mix *m, uint64_t *rng);
uint64_t ab_size_mix_max(const struct ab_size_mix *m);

/* A set of stress cases, by name (a profile's, or those --case asks). */
#define AB_CASES_MAX 16
struct ab_case_set {
    unsigned n;
    char name[AB_CASES_MAX][32];
};
bool ab_case_set_has(const struct ab_case_set *s, const char *name);
/* 0, -EEXIST (named twice), -E2BIG (too many) or -ENAMETOOLONG. */
int ab_case_set_add(struct ab_case_set *s, const char *name);

/* May the profile use hugepage / NUMA hooks?  Only hosted-server opts in. */
enum ab_hook_policy { AB_HOOK_FORBID, AB_HOOK_OPT_IN };
const char *ab_hook_policy_name(enum ab_hook_policy h);

/* One profile: a row of the profiles file (stress/profiles.tsv). */
struct ab_profile {
    char name[AB_NAME_MAX];
    uint32_t abi_bit;              /* enum allocbench_profile */
    unsigned threads;              /* per CPU when threads_per_cpu */
    bool threads_per_cpu;
    uint64_t ops;                  /* per thread per timed case; 0: no cap */
    double duration_s;             /* per timed case; 0: no cap */
    uint64_t large_ops;            /* per thread in large-objects */
    uint64_t live;                 /* live blocks per thread */
    char sizes_text[128];
    struct ab_size_mix sizes;
    char large_text[128];
    struct ab_size_mix large;
    struct ab_case_set cases;      /* the cases it runs, by name */
    bool remote_frees;
    uint64_t remote_bound;         /* blocks; 0: the profile promises none */
    uint64_t as_limit;             /* address space headroom at exhaustion */
    uint64_t page_limit;           /* the page limit at exhaustion */
    enum ab_hook_policy hugepages, numa;
    uint64_t shutdown_slope;       /* bytes kept per thread exit, at most */
    char summary[200];
};

/* ---------------------------------------------------------------- kit.c */

/* How a check came out.  A check that cannot apply is NA, never HELD. */
enum ab_verdict { AB_VERDICT_HELD, AB_VERDICT_FAILED, AB_VERDICT_NA, AB_VERDICT_SKIPPED };
const char *ab_verdict_name(enum ab_verdict v);

struct ab_check {
    char name[32];
    enum ab_verdict verdict;
    char detail[240];
};

struct ab_figure {
    char name[40];
    char unit[16];
    double value;                  /* NaN: not measured */
};

#define AB_FINDINGS_MAX 24

/* What a case found: plain data, so a forked helper can fill it in shared
 * memory.  A diagnostic code is kept once per case with its first detail
 * and a count. */
struct ab_findings {
    struct ab_diag diags[AB_FINDINGS_MAX];
    uint64_t diag_count[AB_FINDINGS_MAX];
    unsigned ndiags;
    struct ab_check checks[AB_FINDINGS_MAX];
    unsigned nchecks;
    struct ab_figure figures[AB_FINDINGS_MAX];
    unsigned nfigures;
    uint64_t ops;                  /* blocks allocated and freed */
    uint64_t verified;             /* blocks whose pattern and place were checked */
    uint64_t wall_ns;
    bool incomplete;               /* an allocation failed outside exhaustion */
    char incomplete_reason[200];
};

/* Who holds the allocator to its page limit: it, or the kernel (RLIMIT_AS). */
enum ab_limit_kind { AB_LIMIT_NONE, AB_LIMIT_BACKEND, AB_LIMIT_RLIMIT };
/* The profile's policies as the allocator got them (configure(), knobs.c). */
struct ab_hooks {
    bool configured;               /* configure() exists and accepted the profile */
    int configure_rc;              /* its answer to the first request */
    bool hugepages;                /* hugepages asked for and accepted */
    int numa_node;                 /* node asked for and accepted; -1 none */
    bool hooks_refused;            /* hooks asked for and refused */
    int hooks_rc;
    uint64_t page_limit;           /* page limit accepted; 0 none */
    enum ab_limit_kind limit_kind;
    char hugepages_how[96], numa_how[96], limit_how[96]; /* the knob used, in words */
    char hugepages_na[240], numa_na[240], limit_na[240]; /* why not asked */
    bool numa_skipped;             /* numa_na: skipped (a node it lacks), not NA */
};

/* One case in its child: the allocator, the profile, the budget and the
 * findings.  The workloads that share a mechanism build one too. */
struct ab_stress {
    const struct ab_heap *heap;
    const struct ab_profile *prof; /* NULL outside `stress` */
    unsigned threads;
    uint64_t seed;
    uint64_t ops_cap;              /* per thread; 0: no cap */
    uint64_t deadline_ns;          /* 0: no deadline */
    bool verify;
    struct ab_shadow *shadow;      /* the live set, when verifying */
    int statm_fd;
    struct ab_hooks hooks;
    bool fini_called;              /* the case released the plugin itself */
    pthread_mutex_t lock;          /* guards findings from several threads */
    struct ab_findings *f;
};

/* A verified block: where it is, the bytes that are ours, its pattern. */
struct ab_block {
    void *p;
    size_t usable;
    uint64_t seq;
};

enum ab_alloc_how { AB_ALLOC_MALLOC, AB_ALLOC_CALLOC, AB_ALLOC_ALIGNED };

void ab_stress_init(struct ab_stress *s, const struct ab_heap *h, struct ab_findings *f);
void ab_stress_diag(struct ab_stress *s, enum ab_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ab_stress_check(struct ab_stress *s, const char *name, enum ab_verdict v, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
void ab_stress_figure(struct ab_stress *s, const char *name, const char *unit, double value);
void ab_stress_incomplete(struct ab_stress *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool ab_stress_has_diag(const struct ab_stress *s, enum ab_code code);

/* Allocate size bytes (align for AB_ALLOC_ALIGNED) into b and, when
 * verifying, check alignment, usable size, zeroing (calloc) and overlap,
 * then write the pattern.  0; -ENOMEM when the allocator said NULL (b->p
 * NULL, errno kept); -EEXIST when the block overlaps a live one (reported,
 * left allocated and untouched, b->p NULL). */
int ab_block_alloc(struct ab_stress *s, struct ab_block *b, size_t size, size_t align,
                   enum ab_alloc_how how, uint64_t seq);
/* The block p that fn ("malloc", "aligned_alloc", ...) returned for size
 * bytes: aligned to align (0: the fundamental alignment for the size), and
 * not smaller than asked by the allocator's usable size, else reported
 * (ALLOCBENCH_BLOCK_CONTRACT).  Returns the bytes that are ours. */
size_t ab_block_contract(struct ab_stress *s, void *p, size_t size, size_t align,
                         const char *fn);
/* Check the pattern (a changed byte is reported) and the live set, free.
 * Returns 1 when the block was verified, 0 when verification is off. */
unsigned ab_block_free(struct ab_stress *s, struct ab_block *b);
/* Check the pattern without freeing; false (and reported) when changed. */
bool ab_block_check(struct ab_stress *s, const struct ab_block *b);
/* Check, then give the block a new pattern (another thread's turn). */
void ab_block_rewrite(struct ab_stress *s, struct ab_block *b, uint64_t seq);
/* realloc to size: the old contents must survive up to the smaller size.
 * 0, or -ENOMEM (b unchanged and still live). */
int ab_block_realloc(struct ab_stress *s, struct ab_block *b, size_t size, uint64_t seq);

/* Whether a thread should do another operation after done ones. */
bool ab_stress_more(const struct ab_stress *s, uint64_t done);
/* Run fn(s, i, arg) on n threads (plugins: attach and detach around it);
 * returns 0 or -errno when a thread could not start. */
int ab_stress_threads(struct ab_stress *s, unsigned n,
                      void (*fn)(struct ab_stress *s, unsigned i, void *arg), void *arg);
/* The per-thread random stream of thread i. */
uint64_t ab_stress_rng(const struct ab_stress *s, unsigned i);
/* Add a thread's operations and verified blocks to the findings. */
void ab_stress_count(struct ab_stress *s, uint64_t ops, uint64_t verified);
/* Forget a block the allocator released on its own (a checkpoint restore):
 * clear it from the live set without touching it. */
void ab_block_forget(struct ab_stress *s, struct ab_block *b);
/* The pattern, overlap and contract checks, from the diagnostics so far. */
void ab_stress_block_checks(struct ab_stress *s);
/* Address-space and resident size from /proc/self/statm, in bytes; -1. */
int64_t ab_stress_vm_bytes(const struct ab_stress *s);
int64_t ab_stress_rss_bytes(const struct ab_stress *s);

/* The stress cases (stress/cases.h): one file each under stress/. */
struct ab_stress_case {
    const char *name;
    const char *summary;
    bool timed;                    /* bounded by the profile's ops and duration */
    bool needs_remote;             /* runs only where remote frees are allowed */
    int (*run)(struct ab_stress *s);
};

/* --------------------------------------------------------------- exhaust.c */

/* Exhaustion, run in a forked helper so an abort is a finding: under the
 * page limit in s->hooks, else RLIMIT_AS as_limit bytes above the address
 * space in use, allocate until NULL in several sizes, check ENOMEM,
 * usability and overlap, free part and allocate again, ask for sizes near
 * SIZE_MAX, PTRDIFF_MAX and an overflowing calloc.  Adds checks,
 * diagnostics (ALLOCATOR_EXHAUSTION, ALLOCATOR_PAGE_EXHAUSTION, block
 * codes) and figures to s. */
struct ab_exhaust_config {
    unsigned threads;
    uint64_t as_limit;             /* without a page limit; 0: none */
    unsigned recovery_pct;         /* of each size's blocks, freed before refilling */
    bool late_thread;              /* last, a new thread's first malloc at the limit */
};
int ab_exhaust_run(struct ab_stress *s, const struct ab_exhaust_config *c);

/* ------------------------------------------------------------------ ring.c */

/* A ring of threads (two at least) handing batches of blocks on: thread i
 * allocates batch[i], thread i + 1 works on it. */
struct ab_ring {
    pthread_barrier_t bar;         /* of all the ring's threads */
    bool barrier_ready;
    struct ab_block **batch;       /* [thread][n] */
    size_t n;                      /* blocks per batch (at most the ops cap) */
    unsigned threads;              /* s->threads, raised to 2 */
    volatile bool stop;            /* set by thread 0, read after a barrier */
};
int ab_ring_init(struct ab_ring *g, struct ab_stress *s, size_t n);
void ab_ring_destroy(struct ab_ring *g);
/* Allocate thread i's batch from the profile's sizes; returns how many were
 * made (a NULL stops the ring, the case is incomplete). */
size_t ab_ring_fill(struct ab_stress *s, struct ab_ring *g, unsigned i, uint64_t *rng,
                    uint64_t *seq);
/* Thread 0, after done operations: stop when another batch would pass the
 * ops cap or the deadline has come.  Read g->stop after the next barrier. */
void ab_ring_decide(struct ab_stress *s, struct ab_ring *g, unsigned i, uint64_t done);

/* ----------------------------------------------------------------- churn.c */

/* Thread churn for shutdown cleanup: each round starts `threads` threads
 * (on stacks the harness maps and unmaps, so no stack cache hides a leak),
 * each allocates `blocks` verified blocks, frees its share and leaves
 * handoff_pct percent for the next round's threads to free after it exited;
 * then all are joined. */
struct ab_churn;
struct ab_churn_config {
    unsigned threads;
    size_t blocks;
    unsigned handoff_pct;
    const struct ab_size_mix *sizes;
};
struct ab_churn *ab_churn_new(struct ab_stress *s, const struct ab_churn_config *c);
/* One round; returns 0 or -errno (a thread could not start). */
int ab_churn_round(struct ab_churn *c);
/* Free what the last round left, on the calling thread. */
void ab_churn_drain(struct ab_churn *c);
uint64_t ab_churn_exits(const struct ab_churn *c);
/* The time the churn threads ran, summed over threads. */
uint64_t ab_churn_thread_ns(const struct ab_churn *c);
void ab_churn_free(struct ab_churn *c);

/* ---------------------------------------------------------------- policy.c */

/* Both checks on the blocks at addrs, against the profile and s->hooks. */
void ab_policy_check(struct ab_stress *s, const void *const *addrs, size_t n);

#endif
