/*
 * counter.h — the counter backends' contract (counters/counter-<name>.c,
 * which includes this header alone) and their registry, and the measured
 * batch a backend counts: n calls of one allocator function.
 */
#ifndef AB_COUNTER_H
#define AB_COUNTER_H

#include "proc.h"

/* ------------------------------------------------------------- counter.c */

/*
 * Counter backends: one file each (lib/counter-<name>.c) ending in a const
 * descriptor, listed in lib/counters.h.  A backend counts the instructions
 * and branches of single allocator calls; `none` (time only) is not one.
 */
struct ab_fp_batch;
struct ab_child_result;

struct ab_counter {
    const char *name;
    const char *summary;
    /* Start-up is dear (a simulator): one measuring child per allocator and
     * repetition takes every size, forking a fresh process per size, instead
     * of one child per size. */
    bool sizes_in_one_child;
    /* NULL when this build has the backend; else why not (it stays in the
     * registry, with every function NULL). */
    const char *unavailable;
    /* In the orchestrating process (no allocator code runs there): 0 when
     * usable on this machine, filling version (e.g. "capstone 4.0.2");
     * else fills why and returns -ENODEV. */
    int (*probe)(char *version, size_t vlen, char *why, size_t wlen);
    /* In the orchestrating process: run one measuring child for the
     * `fastpath` request (preload: LD_PRELOAD for the child, or NULL) and
     * hand back its reply with every batch's counts in it. */
    int (*spawn)(const char *request, const char *preload, double timeout_s,
                 struct ab_child_result *out);
    /* In the orchestrating process, for backends that count a whole
     * workload (`run --counter`): run one trial child whose request asks
     * for collection around its measured phase, and hand back the totals
     * collected (instructions, conditional and indirect branches; NaN when
     * not counted).  NULL if the backend cannot. */
    int (*workload)(const char *request, const char *preload, double timeout_s,
                    struct ab_child_result *out, double totals[3]);
    /* In a supervising child (re-executed allocbench, nothing preloaded),
     * for backends that watch the measuring child from outside: start it,
     * count, and return the reply (the `supervise` request).  NULL if none. */
    struct cJSON *(*supervise)(const struct cJSON *req);
};

/* A backend's part in the trial child (allocbench-trial, which links
 * nothing a parent-side part needs: no capstone, no valgrind tool). */
struct ab_counter_child {
    const char *name;
    /* In the measuring child: make the batch's calls, counted; NULL when
     * this build lacks the backend. */
    int (*batch)(struct ab_fp_batch *b);
    /* In a trial child counted whole: switch collection on or off for the
     * calling thread (the trial reaches it through its hook, never by
     * name).  NULL: none. */
    void (*collect)(void);
};
const struct ab_counter_child *ab_counter_child_find(const char *name);

/* The child part of a backend that watches the measuring child from
 * outside (ptrace): per batch a marker on descriptor AB_FP_MARKER_FD, then
 * SIGTRAP, the calls, and a closing marker.  -ENOTCONN outside a tracer. */
#define AB_FP_MARKER_FD 4
#define AB_FP_MARKER_MAGIC 0x6162667061747268ull /* "abfpatrh" */
struct ab_fp_marker {
    uint64_t magic;
    uint64_t fn;
    uint64_t n;
    uint32_t index;
    uint32_t begin; /* 1: arm for this batch, 0: the batch is over */
};
int ab_fp_batch_supervised(struct ab_fp_batch *b);

/* The child mode "supervise", for backends with a supervise function. */
extern const struct ab_child_mode ab_mode_supervise;

/* The registry (counter-list.h, generated from counters/meson.build), in
 * --counter auto's order: every backend, built or not. */
const struct ab_counter *const *ab_counters(size_t *count);
const struct ab_counter *ab_counter_find(const char *name);

/* Pick the backend for --counter name ("auto": the first in the registry
 * that counts here) and probe it.  Returns 0 with *out and version set;
 * -ENOENT for a name that is no backend, -ENODEV for one that cannot count
 * here (or is not in this build), with why filled (one line). */
int ab_counter_choose(const char *name, const struct ab_counter **out, char *version,
                      size_t vlen, char *why, size_t wlen);

/* --------------------------------------------------------------- batch.c */

enum ab_fp_op { AB_FP_MALLOC, AB_FP_FREE, AB_FP_CALLOC, AB_FP_REALLOC, AB_FP_ALIGNED,
                AB_FP_OP_COUNT };

/*
 * The call sequences a fast path is counted in.  pairs: each counted call is
 * followed at once by its counterpart (malloc then free; for free, the malloc
 * comes just before it), so every counted call is the thread-local hit a
 * steady-state program takes: the fast path, what budgets gate.  batch: n
 * calls of the op, then n frees: the refill and flush paths, and how often
 * they come.  pairs is always counted (it is every row's fast-path reference).
 */
enum ab_fp_pattern { AB_FP_PAIRS, AB_FP_BATCH, AB_FP_PATTERN_COUNT };

#define AB_FP_MAX_SIZES 64
#define AB_FP_ALIGNMENT 64
#define AB_FP_SCHEMA "allocbench-fastpath"

const char *ab_fp_op_name(enum ab_fp_op op);
int ab_fp_op_parse(const char *name);  /* the op, or -1 */
const char *ab_fp_pattern_name(enum ab_fp_pattern p);
int ab_fp_pattern_parse(const char *name);  /* the pattern, or -1 */

/* One measured batch in the measuring child: n counted calls of one op and
 * size in one pattern, each counted on its own by the backend.  ptrs[i] holds
 * call i's block. */
struct ab_fp_batch {
    unsigned index;
    enum ab_fp_pattern pattern;
    enum ab_fp_op op;
    size_t size, grow;             /* grow: realloc's target size */
    size_t n;
    const struct ab_heap *heap;
    void **ptrs;
    bool null_seen;                /* an uncounted malloc of pairs returned NULL */
    /* Filled by backends that count in the child (pmu): per call, the
     * flagged calls (whose reading is invalid) left out. */
    uint64_t *instructions, *branches;
    uint32_t flagged;
    bool counted;                  /* the arrays above were filled */
};

/* The measured function of a batch, as an address. */
void *ab_fp_batch_fn(const struct ab_fp_batch *b);
/* Iteration i of a batch is pre (uncounted: the block a pairs free or
 * realloc consumes), call (the counted call), post (uncounted: the free
 * that follows a pairs allocation).  batch has neither pre nor post. */
void ab_fp_batch_pre(struct ab_fp_batch *b, size_t i);
void ab_fp_batch_call(struct ab_fp_batch *b, size_t i);
void ab_fp_batch_post(struct ab_fp_batch *b, size_t i);
/* All n iterations, plainly: for backends that watch from outside. */
void ab_fp_batch_run(struct ab_fp_batch *b);
/* Call i's function and arguments, for backends that make the call
 * themselves (callgrind, through a call site of its own per call). */
void ab_fp_batch_args(const struct ab_fp_batch *b, size_t i, uintptr_t *a0, uintptr_t *a1);
/* Store what call i returned (allocating ops). */
void ab_fp_batch_result(struct ab_fp_batch *b, size_t i, void *r);

/* Counts travel from the children as histograms, [[count, calls], ...] in
 * ascending order of count, made from per-call counts (v is sorted). */
struct cJSON *ab_fp_hist_json(uint64_t *v, size_t n);

#endif
