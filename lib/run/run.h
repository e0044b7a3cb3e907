/*
 * run.h — `allocbench run`: the run engine (trials interleaved, one child
 * each, aggregated) and its report document.
 */
#ifndef AB_RUN_H
#define AB_RUN_H

#include "compare.h"
#include "counter.h"
#include "report.h"
#include "shard.h"
#include "workload.h"

/* ------------------------------------------------------------------- run.c */

struct ab_run_config {
    const struct ab_workload *wl;
    struct ab_subject *subjects;
    size_t nsubjects;
    unsigned threads[16];
    size_t nthreads;
    bool variant_on[32];      /* by variant index */
    unsigned repetitions;
    unsigned warmup;
    unsigned rounds;          /* given (--rounds), or where calibration starts */
    /* Calibration: unless --rounds was given (or a counter counts the
     * trials), each configuration's rounds are scaled in calibration
     * children until the measured phase lasts min_time_s.  0: none. */
    double min_time_s;
    uint64_t seed;
    struct ab_params params;
    char assignments[1024];   /* the --param text, for the record */
    double timeout_s;
    char out_dir[PATH_MAX];
    const struct ab_observer *obs; /* progress and warnings; NULL: silent */
    bool pin;                 /* --pin: bind each thread to a PU */
    /* `--counter callgrind`: a backend that counts whole workloads (NULL:
     * time only); each trial runs under it, its measured phase counted, and
     * times taken there are not reported. */
    const struct ab_counter *counter;
    char counter_version[64];
    /* --shard K/N: only this slice of the configurations (count 0: all).
     * A configuration is a variant and a thread count with every
     * allocator: each ratio is measured within one shard. */
    struct ab_shard shard;
};

/* The expected cost of a configuration, which slices are balanced by:
 * its trials (allocators x repetitions) times its threads.  A trial's work
 * is its threads' rounds (--rounds and --warmup count per thread), and
 * every thread is set up and warmed up under calibration too; the machine
 * is left out, so that every shard computes the same slices. */
double ab_run_config_cost(const struct ab_run_config *cfg, unsigned threads);

/* A trial's measured phase under this is noisy (the clock's and the
 * scheduler's granularity weigh on it); so is a configuration whose trials'
 * coefficient of variation is over AB_NOISY_CV. */
#define AB_NOISY_PHASE_S 0.010
#define AB_NOISY_CV 0.05

struct ab_trial_record {
    unsigned variant, subject, threads, repetition;
    enum ab_trial_status status;
    char reason[512];
    uint64_t ops;
    unsigned rounds;                      /* measured rounds it ran */
    double ns, ns_per_op, ops_per_s;      /* NaN when not measured */
    bool noisy;                           /* measured phase under AB_NOISY_PHASE_S */
    struct ab_rusage rusage;              /* the child's, from wait4 */
    int64_t rss_start_kib, rss_before_kib, rss_after_kib, peak_rss_kib; /* -1 */
    struct ab_alloc_stats stats_before, stats_after;
    struct ab_metric metrics[AB_MAX_METRICS];
    char metric_names[AB_MAX_METRICS][48];
    char metric_units[AB_MAX_METRICS][16];
    unsigned nmetrics;
    struct ab_diag diags[8];
    unsigned ndiags;
    double elapsed_s;
    char stderr_tail[1024];
    struct ab_sample *samples;        /* malloc'd, nsamples of them */
    size_t nsamples;
    int *placement;                   /* malloc'd: PU per thread under --pin */
    size_t nplaced;
    char pin_method[32];
};

/* A metric summarised over an aggregate's measured trials. */
struct ab_metric_summary {
    char name[48];
    char unit[16];
    struct ab_summary s;              /* over its finite values; n = 0: none */
};

/* Medians over an aggregate's measured trials; NaN when none. */
struct ab_rusage_medians {
    double user_s, sys_s, minor_faults, major_faults, voluntary_switches,
        involuntary_switches;
};

struct ab_aggregate {
    unsigned variant, subject, threads;
    enum ab_trial_status status;      /* OK when at least one trial measured */
    size_t trials, measured;
    unsigned rounds;                  /* measured rounds per trial */
    unsigned calibration_children;    /* 0: rounds given, not calibrated */
    struct ab_summary ns_per_op;
    struct ab_summary ops_per_s;
    double cv;                        /* of ns_per_op; NaN under 2 trials */
    bool noisy;
    char noisy_why[128];
    struct ab_rusage_medians rusage;
    uint64_t ops_per_trial;
    int64_t peak_rss_kib;             /* max over trials; -1 none */
    struct ab_metric_summary metrics[AB_MAX_METRICS];
    unsigned nmetrics;
    /* --counter callgrind: medians over the measured trials; NaN none. */
    double instructions_per_op, conditional_per_op;
};
/* The summary of the metric named name, or NULL. */
const struct ab_metric_summary *ab_aggregate_metric(const struct ab_aggregate *a,
                                                    const char *name);

/* One allocator against the base (the first allocator) in one variant and
 * thread count: ratio of ns per op (above 1: slower than the base), from
 * the repetitions as pairs (compare.h: Hodges-Lehmann on log ratios, the
 * Wilcoxon signed-rank test). */
struct ab_comparison {
    const struct ab_aggregate *agg, *base;
    struct ab_cmp_paired cmp;         /* NaN and an invalid interval: no pairs */
    size_t pairs;
    enum ab_cmp_verdict verdict;      /* AB_CMP_NONE: too few pairs */
};

struct ab_run {
    const struct ab_run_config *cfg;
    struct ab_session session;     /* host, start time, progress */
    struct ab_trial_record *trials;
    size_t ntrials;
    struct ab_aggregate *aggs;
    size_t naggs;
    struct ab_comparison *comparisons;
    size_t ncomparisons;
    /* Per configuration (variant x thread count x subject): its rounds and
     * its calibration children. */
    unsigned *cal_rounds, *cal_children;
    unsigned failures;                /* crashed, timed out or failed trials */
    /* Per configuration (variant x thread count): whether this shard runs
     * it; the expected costs of this shard's and of all configurations. */
    bool *in_shard;
    double shard_cost, matrix_cost;
};

/* Describe the subjects, run every trial interleaved (repetition by
 * repetition, subject by subject), aggregate.  Returns 0 or -errno. */
int ab_run_execute(const struct ab_run_config *cfg, struct ab_run *run);
void ab_run_free(struct ab_run *run);
/* The comparison base of an aggregate: the first allocator (in --allocator
 * order) measured with the same variant and thread count; NULL if none. */
const struct ab_aggregate *ab_aggregate_base(const struct ab_run *run,
                                             const struct ab_aggregate *a);

/* The child mode "trial": one trial of a workload. */
extern const struct ab_child_mode ab_mode_trial;

/* ------------------------------------------------------------ run-doc.c */

/* The run's report document (report.json; "command": "run"), which every
 * format renders; NULL when out of memory.  The caller deletes it. */
struct cJSON *ab_run_doc(const struct ab_run *run);

#endif
