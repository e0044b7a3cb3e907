/*
 * fastpath.h — `allocbench fastpath`, `check` and `budgets`: the fast-path
 * engine and its child mode, its report document, budgets and the gate.
 */
#ifndef AB_FASTPATH_H
#define AB_FASTPATH_H

#include "counter.h"
#include "report.h"
#include "shard.h"

/* ------------------------------------------------------------ fastpath.c */

/* The child mode "fastpath": the measuring child. */
extern const struct ab_child_mode ab_mode_fastpath;

/* The distribution of one figure over the counted calls. */
struct ab_fp_dist {
    bool valid;             /* false: not measured (null) */
    uint64_t calls;
    uint64_t min, p50, p90, p99, max;
    double mean;
    size_t nbins;           /* histogram: value[i] seen count[i] times */
    uint64_t *value, *count;
};


struct ab_fp_row {
    unsigned subject;
    enum ab_fp_op op;
    uint64_t size;
    enum ab_fp_pattern pattern;
    enum ab_trial_status status;
    char reason[512];
    uint64_t calls;                 /* counted calls, all repetitions */
    uint64_t flagged;               /* calls left out (a signal mid-call) */
    unsigned repetitions, measured;
    bool agree;                     /* every repetition gave the same p50s */
    struct ab_fp_dist instructions, branches, conditional;
    double taken, not_taken;        /* conditional branches taken, not taken */
    double indirect;                /* indirect branches */
    double locked;                  /* locked read-modify-writes */
    double rep_instructions;        /* rep-prefixed string instructions */
    double rep_iterations;          /* their iterations */
    /* The fast path this row's slow share is taken against: the pairs p50
     * of instructions of the same allocator, op and size, counted in the
     * same child; NaN where that was not counted. */
    double fast_path_ref;
    uint64_t slow_calls;            /* calls above 2 x fast_path_ref */
    bool ref_missing;               /* some repetition had no reference */
    double slow_path_share;         /* slow_calls / calls; NaN */
    /* Per repetition: instructions, branches, conditional and reference
     * p50s, AB_FP_REP(row, figure, repetition). */
    double *rep_p50;
    /* Per-call means of totals a backend may count; NaN where it does not. */
};

#define AB_FP_REP(r, k, i) ((r)->rep_p50[(size_t)(k) * (r)->repetitions + (i)])

struct ab_fp_config {
    struct ab_subject *subjects;
    size_t nsubjects;
    uint64_t sizes[AB_FP_MAX_SIZES];
    size_t nsizes;
    bool op_on[AB_FP_OP_COUNT];
    bool pattern_on[AB_FP_PATTERN_COUNT];
    unsigned calls, warmup, keep_live, repetitions;
    const struct ab_counter *counter;
    char counter_version[128];
    double timeout_s;
    char out_dir[PATH_MAX];
    const struct ab_observer *obs; /* progress and warnings; NULL: silent */
    /* --shard K/N: only this slice of the sizes (count 0: all).  A size
     * is one configuration: every op and pattern of it is counted in one
     * child, the pairs reference of its slow shares included, for every
     * allocator. */
    struct ab_shard shard;
};

struct ab_fp_run {
    const struct ab_fp_config *cfg;
    struct ab_session session;     /* host, start time, progress */
    struct ab_fp_row *rows;
    size_t nrows;
    unsigned failures;              /* rows not measured, or disagreeing */
    /* Per size of cfg->sizes: whether this shard counts it.  Every size
     * costs the same (the same calls of the same ops and patterns), so the
     * slices deal the sizes out in turn. */
    bool size_in_shard[AB_FP_MAX_SIZES];
    double shard_cost, matrix_cost;
};

int ab_fp_execute(const struct ab_fp_config *cfg, struct ab_fp_run *run);
void ab_fp_free(struct ab_fp_run *run);
/* The distribution of a histogram (value[i] seen count[i] times, in any
 * order, repeats allowed): nearest-rank percentiles, mean.  Statistics are
 * computed here; reporters only format. */
int ab_fp_dist_from(const uint64_t *value, const uint64_t *count, size_t n,
                    struct ab_fp_dist *out);
void ab_fp_dist_free(struct ab_fp_dist *d);

/* --------------------------------------------------------- fastpath-doc.c */

/* The count's report document (report.json; "command": "fastpath"), which
 * every format renders and check and budgets read back; NULL when out of
 * memory.  The caller deletes it. */
struct cJSON *ab_fp_doc(const struct ab_fp_run *run);

/* ---------------------------------------------------------------- budget.c */

/* The schema version of fast-path reports (pairs and batch rows). */
#define AB_FP_SCHEMA_VERSION 2

/*
 * A fast-path report read back (report.json of `allocbench fastpath`, or the
 * folder holding one): the whole document, strictly checked, so that
 * check and budgets only ever see rows of known shape.  Returns 0, or
 * -EPROTO / -errno with err naming the file and what is wrong (one line).
 */
int ab_fp_report_read(const char *path, struct cJSON **doc, char *err, size_t errlen);
/* The same over text (label names it in err). */
int ab_fp_report_parse(const char *label, const char *text, size_t len, struct cJSON **doc,
                       char *err, size_t errlen);

struct ab_budget {
    char allocator[AB_NAME_MAX];    /* "*": any */
    enum ab_fp_op op;
    enum ab_fp_pattern pattern;     /* pairs when the file has no pattern column */
    uint64_t size;                  /* with any_size: any */
    bool any_size;
    char counter[32];               /* "": any (no counter column) */
    char version[128];              /* "": not recorded */
    double max_instructions, max_branches, max_slow_path_share; /* NaN: none */
    unsigned line;
};

struct ab_budgets {
    char path[PATH_MAX];
    struct ab_budget *b;
    size_t n;
    size_t *slot, nslots;           /* hash of (allocator, op, size, pattern) */
};

/* Parse a budget file; on error writes "FILE:LINE: what" to err, returns
 * -EINVAL (or -errno when it cannot be read).  Linear in the file. */
int ab_budgets_load(const char *path, struct ab_budgets *out, char *err, size_t errlen);
/* The same over len bytes of text (path names it in err). */
int ab_budgets_parse(const char *path, const char *text, size_t len, struct ab_budgets *out,
                     char *err, size_t errlen);
void ab_budgets_free(struct ab_budgets *b);
/* The most specific budget for (allocator, op, size, pattern): allocator
 * and size, then allocator, then size, then neither; NULL when none. */
const struct ab_budget *ab_budget_find(const struct ab_budgets *b, const char *allocator,
                                       enum ab_fp_op op, uint64_t size,
                                       enum ab_fp_pattern pattern);

/* A check of reports against one budget file, report by report. */
#define AB_GATE_WARN_MAX 64
struct ab_gate {
    const struct ab_budgets *budgets;
    bool *used;                     /* per budget row: some report row matched it */
    FILE *out;                      /* one line per finding */
    FILE *warn;                     /* one line per warning */
    unsigned rows, held, violated, unchecked, unmeasured, unavailable;
    unsigned figure_missing, counter_mismatch, unmatched, version_warnings;
    bool nothing_checked;
    char warned[AB_GATE_WARN_MAX][AB_NAME_MAX]; /* allocators warned about */
    unsigned nwarned;
    /* Recorded (ab_gate_begin_recorded): a verdict per report row with its
     * lines, and the findings about the budget file; oom when a record
     * could not be kept. */
    struct cJSON *verdicts, *budget_findings;
    bool oom;
};

int ab_gate_begin(struct ab_gate *c, const struct ab_budgets *b, FILE *out, FILE *warn);
/* Check one report read by ab_fp_report_read, printing a line per
 * violation, unmeasured row, row without a budget, counter mismatch and
 * missing figure on c->out, and a warning per version mismatch on c->warn. */
void ab_gate_report(struct ab_gate *c, const struct cJSON *doc);
/* After the last report: a line per budget row that matched nothing, and
 * one if no row was checked at all. */
void ab_gate_finish(struct ab_gate *c);
/* The budget rows checked, as "lines 2-27, 30" (the file's line numbers). */
void ab_gate_used_lines(const struct ab_gate *c, char *buf, size_t len);
void ab_gate_end(struct ab_gate *c);
/* ab_gate_begin, keeping every row's verdict for ab_gate_verdict. */
int ab_gate_begin_recorded(struct ab_gate *c, const struct ab_budgets *b, FILE *out, FILE *warn);
/* The recorded check as a document for CI: json (schema
 * allocbench.check/1) or junit (a JUnit XML testsuite: a test case per
 * report row and per finding about the budget file); malloc'd text, or
 * NULL when out of memory. */
enum ab_gate_format { AB_GATE_JSON, AB_GATE_JUNIT };
char *ab_gate_verdict(const struct ab_gate *c, enum ab_gate_format f, const char *budgets_path,
                      bool require_budget);
/* Whether the check failed (exit 1): a violation, an unmeasured row, a
 * budget matching nothing, a counter mismatch, a missing figure, nothing
 * checked, or (require_budget) a row without a budget. */
bool ab_gate_failed(const struct ab_gate *c, bool require_budget);

/* Budgets from fast-path reports: every measured row's ceilings at its p50
 * (and slow share) raised by headroom_pct (0..1000: a file the budget
 * parser reads back), with its pattern, counter and allocator version; a
 * TSV text, or NULL with err (a row not measured cleanly, two reports
 * disagreeing on a row). */
char *ab_budgets_from_reports(struct cJSON *const *docs, size_t ndocs, double headroom_pct,
                              char *err, size_t errlen);

#endif
