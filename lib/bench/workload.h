/*
 * workload.h — the workload contract: a workload (workloads/wl-<name>.c,
 * which includes this header alone) is a const descriptor with its
 * parameters and a run function over the trial, which the helpers here
 * drive: rounds on threads, samples, metrics, diagnostics, producer and
 * consumer hand-offs, and the verifying toolkit of verify.h.
 */
#ifndef AB_WORKLOAD_H
#define AB_WORKLOAD_H

#include "verify.h"

/* -------------------------------------------------------------- workload.c */

enum ab_param_type {
    AB_PARAM_INT,    /* integer in [min, max] */
    AB_PARAM_SIZE,   /* byte count in [min, max], k/M/G suffixes */
    AB_PARAM_CHOICE, /* one of choices ("a|b|c"); value is the index */
};

struct ab_param {
    const char *name;
    enum ab_param_type type;
    const char *def;      /* default, as text */
    int64_t min, max;     /* INT and SIZE */
    const char *choices;  /* CHOICE */
    const char *help;
};

struct ab_trial;
struct ab_params;

struct ab_workload {
    const char *name;
    const char *summary;
    const char *seed;                /* the seed document it comes from */
    const char *unit;                /* what one "op" is: "object", "batch" */
    const char *const *variants;     /* NULL-terminated */
    const struct ab_param *params;
    size_t nparams;
    const char *quick;               /* the quick preset: "key=value,..." */
    unsigned default_rounds;         /* measured rounds per trial */
    int (*run)(struct ab_trial *t);  /* in the trial child */
    const char *merit;               /* its figure of merit, named (NULL: ns per op) */
    /* What the ranges cannot say: the parameters together (min_size below
     * max_size).  0, or -EINVAL with one line in err.  NULL: nothing. */
    int (*check)(const struct ab_workload *w, const struct ab_params *p, char *err, size_t n);
};

/* The registry built from workloads/list.h. */
const struct ab_workload *const *ab_workloads(size_t *count);
const struct ab_workload *ab_workload_find(const char *name);
int ab_workload_variant_index(const struct ab_workload *w, const char *name);

/* Parameter values, in the workload's parameter order. */
struct ab_params {
    int64_t v[AB_MAX_PARAMS];
    bool set[AB_MAX_PARAMS];
};
/* Fill defaults, then apply "key=value" assignments (preset first, then the
 * user's).  On error writes one line to err and returns -EINVAL. */
int ab_params_defaults(const struct ab_workload *w, struct ab_params *p, char *err, size_t n);
int ab_params_apply(const struct ab_workload *w, struct ab_params *p, const char *assign,
                    char *err, size_t n);
/* The value of the declared parameter name (aborts on a name the workload
 * does not declare: a bug, never input). */
int64_t ab_params_value(const struct ab_workload *w, const struct ab_params *p, const char *name);
/* For a workload's check: parameter lo below hi (or at most hi when
 * !strict); else -EINVAL, saying so in err. */
int ab_params_ordered(const struct ab_workload *w, const struct ab_params *p, const char *lo,
                      const char *hi, bool strict, char *err, size_t n);
/* Text of a value (choice name, or the decimal number). */
void ab_params_text(const struct ab_workload *w, const struct ab_params *p, size_t i,
                    char *buf, size_t len);

/* ----------------------------------------------------------------- trial.c */

struct ab_metric {
    const char *name;
    const char *unit;
    double value;
};

/* Per-thread view handed to a round function. */
struct ab_thread {
    struct ab_trial *t;
    unsigned index;
    uint64_t rng;
    void *state;       /* the workload's per-thread state */
    int error;         /* set by the workload: negative errno, stops the rounds */
    uint64_t ops;      /* measured ops, filled by the runner */
    uint64_t t0, t1;   /* measured interval, filled by the runner */
    uint64_t idle_ns;  /* slept in it on purpose (ab_trial_idle): not measured */
    bool measuring;    /* set by the runner for the measured rounds only */
};

/* A reading at a phase boundary: bytes the workload knows are live, the
 * process's resident set, the allocator's mapped and resident bytes; -1 where
 * not reported. */
struct ab_sample {
    char phase[AB_PHASE_MAX];
    int64_t live_bytes, rss_bytes, mapped_bytes, resident_bytes;
};

/* Everything a workload's run() sees in the child. */
struct ab_trial {
    const struct ab_workload *wl;
    unsigned variant;
    const char *variant_name;
    unsigned threads;
    unsigned warmup;
    unsigned rounds;
    unsigned repetition;
    uint64_t seed;
    struct ab_params params;
    const struct ab_heap *heap;
    int statm_fd;
    void *shared;              /* the workload's state shared by its threads */

    /* Filled by the workload (through the helpers below). */
    bool unavailable;
    char unavailable_reason[160];
    uint64_t ops;
    uint64_t wall_ns;          /* first measured start to last measured end */
    uint64_t thread_ns;        /* sum over threads of measured time */
    int64_t rss_start_kib, rss_before_kib, rss_after_kib;
    struct ab_alloc_stats stats_before, stats_after;
    struct ab_metric metrics[AB_MAX_METRICS];
    unsigned nmetrics;
    struct ab_diag diags[8];
    unsigned ndiags;
    struct ab_sample samples[AB_MAX_SAMPLES];
    unsigned nsamples;

    /* --pin: thread i runs on PU placement[i] (OS index, -1 not pinned),
     * from the plans of the request (for pin_plan_len[k] threads). */
    bool pin;
    bool pin_bindable;         /* the plans are of this machine's topology */
    unsigned pin_nplans;
    unsigned pin_plan_len[2];
    int pin_plans[2][AB_MAX_THREADS];
    void *pin_plan;            /* trial.c's, between pin_prepare and pin_release */
    int placement[AB_MAX_THREADS];
    unsigned nplaced;          /* entries of placement in use */
    char pin_method[32];       /* hwloc, sched_setaffinity, mixed or failed */
    /* Switches a whole-workload count (a counter backend's) on or off for
     * the calling thread around the measured phase; NULL: none. */
    void (*collect)(void);
};

int64_t ab_trial_param(const struct ab_trial *t, const char *name);
void ab_trial_unavailable(struct ab_trial *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ab_trial_metric(struct ab_trial *t, const char *name, const char *unit, double value);
/* Thread-safe: verifying threads report what they find as they find it. */
void ab_trial_diag(struct ab_trial *t, enum ab_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record a sample named phase (truncated to AB_PHASE_MAX - 1): live_bytes as
 * the workload counts them (-1 unknown), RSS and the allocator's figures read
 * now.  One thread at a time. */
void ab_trial_sample(struct ab_trial *t, const char *phase, int64_t live_bytes);
/* --pin: take the request's plan for t->threads threads, and drop it at the
 * end.  No-ops without t->pin. */
void ab_trial_pin_prepare(struct ab_trial *t);
void ab_trial_pin_release(struct ab_trial *t);
/* Bind the calling thread to thread index's PU and record it. */
void ab_trial_pin_self(struct ab_trial *t, unsigned index);
/* The remote-free figures of a workload (allocator-remote-free-report.tsv):
 * frees of blocks another thread allocated, the ns they took in all (< 0:
 * not timed one by one), and the allocator's remote-free queue depth now,
 * where a plugin reports it. */
void ab_trial_remote_frees(struct ab_trial *t, uint64_t frees, int64_t ns);
/* Sleep ns on purpose, for th (the pauses of an original that sleeps
 * between its phases): in the measured rounds the time slept is taken out of
 * the trial's measured time (thread_ns, and wall_ns by the least any thread
 * slept); in warm-up rounds it does not sleep. */
void ab_trial_idle(struct ab_thread *th, uint64_t ns);
/* Run n threads (a workload whose roles need more than --threads asked,
 * such as one producer and one consumer for --threads 1); --pin plans again. */
void ab_trial_set_threads(struct ab_trial *t, unsigned n);
/* Run fn(arg) on a fresh thread standing in for th (same PU under --pin,
 * attached to a plugin heap) and wait for it: the shape of workloads whose
 * threads exit and are replaced.  Returns 0 or -errno (no thread). */
int ab_trial_run_thread(struct ab_thread *th, void *(*fn)(void *), void *arg);
/* The same without the wait: start fn(arg) on a fresh thread standing in for
 * thread index and return; the caller joins *tid when it likes.  larson's
 * dying thread starts its successor so, as the original does (the successor
 * runs while its predecessor exits, and nobody joins it until the trial
 * ends); mstress starts its threads 1..N-1 so beside thread 0.  Costs an
 * mmap and munmap of harness memory per thread.  Returns 0 or -errno. */
int ab_trial_start_thread(struct ab_trial *t, unsigned index, void *(*fn)(void *), void *arg,
                          pthread_t *tid);

/* The common shape: each of t->threads threads runs setup once, warm-up
 * rounds, then (after a barrier) measured rounds, then teardown.  The round
 * function returns the operations it did.  Fills ops, wall_ns, thread_ns and
 * the RSS and allocator figures around the measured phase. */
struct ab_rounds {
    int (*setup)(struct ab_thread *th);
    uint64_t (*round)(struct ab_thread *th);
    void (*teardown)(struct ab_thread *th);
};
int ab_trial_run_rounds(struct ab_trial *t, const struct ab_rounds *r);

/* --------------------------------------------------------------- handoff.c */

/* A bounded queue of pointer batches between threads (producers hand blocks
 * to the threads that free them).  Push blocks while the queue is full, pop
 * while it is empty: a mutex and two condition variables, one lock round
 * trip per batch, so the cost per block is the allocator's, not the queue's.
 * Lives in harness memory. */
struct ab_handoff;
struct ab_handoff *ab_handoff_new(size_t depth, size_t batch);
void ab_handoff_free(struct ab_handoff *q);
/* Copy n (1..batch) pointers in as one batch. */
void ab_handoff_push(struct ab_handoff *q, void *const *items, size_t n);
/* Copy the oldest batch out; returns its size. */
size_t ab_handoff_pop(struct ab_handoff *q, void **items);

/* Producers allocate, consumers free what they are handed: the trial of
 * cross-thread-free and xmalloc.  Each round every producer hands `batches`
 * batches of `batch` blocks over; consumers free them (timed per batch).
 * One op is one block.  Adds the metrics remote_frees, ns_per_remote_free,
 * pending_at_end (where the allocator reports it), producers, consumers. */
struct ab_handoff_plan {
    unsigned producers, consumers;
    size_t batch, batches;
    size_t min_size, max_size;   /* each block's size, uniform in between */
    size_t depth;                /* batches one queue holds */
    bool shared;                 /* one queue, any consumer takes any batch;
                                  * else producer p's k-th batch goes to
                                  * consumer (p + k) mod consumers */
};
int ab_handoff_run(struct ab_trial *t, const struct ab_handoff_plan *plan);

/* ------------------------------------------------------ shared with stress */

/* For a workload sharing a mechanism: a verifying context on the trial's
 * allocator, threads and seed (f must outlive the trial's reply: metric
 * names point into it), and the findings handed back as the trial's
 * diagnostics and metrics. */
int ab_stress_from_trial(struct ab_stress *s, struct ab_findings *f, const struct ab_trial *t);
void ab_stress_to_trial(const struct ab_stress *s, struct ab_trial *t);

#endif
