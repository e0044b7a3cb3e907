/*
 * run.h — `allocbench run`: the run engine (trials interleaved, one child
 * each, aggregated) and its report document.
 */
#ifndef AB_RUN_H
#define AB_RUN_H

#include "counter.h"
#include "report.h"
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
    unsigned rounds;
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
};

struct ab_trial_record {
    unsigned variant, subject, threads, repetition;
    enum ab_trial_status status;
    char reason[512];
    uint64_t ops;
    double ns, ns_per_op, ops_per_s;      /* NaN when not measured */
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

struct ab_aggregate {
    unsigned variant, subject, threads;
    enum ab_trial_status status;      /* OK when at least one trial measured */
    size_t trials, measured;
    struct ab_summary ns_per_op;
    struct ab_summary ops_per_s;
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

struct ab_run {
    const struct ab_run_config *cfg;
    struct ab_session session;     /* host, start time, progress */
    struct ab_trial_record *trials;
    size_t ntrials;
    struct ab_aggregate *aggs;
    size_t naggs;
    unsigned failures;                /* crashed, timed out or failed trials */
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
