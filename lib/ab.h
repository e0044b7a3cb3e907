/*
 * allocbench internal interfaces, grouped by the file that defines them.
 *
 * Naming: ab_<module>_<verb> for functions, struct ab_<thing> for types,
 * AB_ for constants.  Functions return 0 or a negative errno-style value
 * unless they say otherwise.  lib/ never sees argv: cmd/ parses options into
 * the structures declared here.
 */
#ifndef AB_H
#define AB_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "allocbench-plugin.h"

#include <malloc.h>

struct cJSON;

/* Exit statuses, documented in --help and the README. */
enum {
    AB_EXIT_OK = 0,       /* everything held */
    AB_EXIT_FAIL = 1,     /* a trial, check or verdict failed */
    AB_EXIT_USAGE = 2,    /* usage or input error */
    AB_EXIT_RESOURCE = 3, /* a required resource is missing */
};

#define AB_SCHEMA_VERSION 1
#define AB_MAX_PARAMS 16
#define AB_MAX_THREADS 1024
#define AB_MAX_METRICS 16
#define AB_NAME_MAX 64

/* ------------------------------------------------------------------ diag.c */

/*
 * Stable diagnostic codes.  Never renumber, reword or remove one: a retired
 * code stays in the list, marked retired.  X(name, exit status, summary).
 */
#define AB_CODES(X)                                                                 \
    X(ALLOCATOR_FAST_PATH_BUDGET, 1, "a fast path exceeds its budget")              \
    X(ALLOCATOR_REMOTE_FREE_OVERFLOW, 1, "a remote-free queue exceeded its bound")  \
    X(ALLOCATOR_PAGE_EXHAUSTION, 1, "the page backend did not fail closed")         \
    X(ALLOCATOR_HUGEPAGE_POLICY, 1, "hugepage use contradicts the profile")         \
    X(ALLOCATOR_NUMA_POLICY, 1, "NUMA binding contradicts the profile")             \
    X(ALLOCATOR_EXHAUSTION, 1, "the allocator did not fail closed at exhaustion")   \
    X(ALLOCATOR_SHUTDOWN_LEAK, 1, "memory retained after shutdown cleanup")         \
    X(ALLOCBENCH_TRIAL_CRASHED, 1, "a trial died from a signal")                    \
    X(ALLOCBENCH_TRIAL_TIMEOUT, 1, "a trial exceeded its time limit")               \
    X(ALLOCBENCH_TRIAL_FAILED, 1, "a trial exited without a result")                \
    X(ALLOCBENCH_SUBJECT_MISMATCH, 1, "malloc is not served by the allocator asked")\
    X(ALLOCBENCH_BLOCK_CORRUPTED, 1, "a block's contents changed while it was live")\
    X(ALLOCBENCH_BLOCK_OVERLAP, 1, "two live blocks overlap")                       \
    X(ALLOCBENCH_USAGE, 2, "bad command line")                                      \
    X(ALLOCBENCH_UNKNOWN_WORKLOAD, 2, "no such workload")                           \
    X(ALLOCBENCH_UNKNOWN_ALLOCATOR, 2, "no such allocator")                         \
    X(ALLOCBENCH_BAD_SUBJECT, 2, "the file is not a usable allocator")              \
    X(ALLOCBENCH_PLUGIN_ABI, 2, "the plugin descriptor is invalid")                 \
    X(ALLOCBENCH_BAD_PARAM, 2, "a workload parameter is invalid")                   \
    X(ALLOCBENCH_OUTPUT, 2, "the output folder cannot be written")                  \
    X(ALLOCBENCH_BAD_INPUT, 2, "an input file is malformed")                        \
    X(ALLOCBENCH_NOT_INSTALLED, 3, "a required allocator or facility is missing")   \
    X(ALLOCBENCH_INTERNAL, 1, "allocbench itself failed")

enum ab_code {
#define AB_CODE_ENUM(name, status, summary) AB_##name,
    AB_CODES(AB_CODE_ENUM)
#undef AB_CODE_ENUM
    AB_CODE_COUNT
};

const char *ab_code_name(enum ab_code code);
const char *ab_code_summary(enum ab_code code);
int ab_code_exit_status(enum ab_code code);
/* Print "allocbench: error: <what> (<CODE>)" on stderr; returns the code's
 * exit status so callers can `return ab_error(...)`. */
int ab_error(enum ab_code code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ab_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A diagnostic attached to a trial or a stress case. */
struct ab_diag {
    enum ab_code code;
    char detail[256];
};

/* ------------------------------------------------------------------ util.c */

/* Parse a whole string; suffixes k, M, G (powers of 1024) where size is set.
 * Return 0, -EINVAL for garbage, -ERANGE outside [min, max]. */
int ab_parse_u64(const char *s, uint64_t min, uint64_t max, bool size, uint64_t *out);
int ab_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int ab_parse_double(const char *s, double min, double max, double *out);
/* Split "a,b,c" into at most max items copied into items[i] (each cap bytes).
 * Returns the count, or -EINVAL for an empty item, -E2BIG for too many. */
int ab_split_list(const char *s, char items[][AB_NAME_MAX * 4], int max);
int ab_mkdir_p(const char *path);
/* Write data to path.tmp.<pid> and rename it over path. */
int ab_write_file_atomic(const char *path, const char *data, size_t len);
/* The folder holding the running executable (from /proc/self/exe). */
int ab_self_dir(char *buf, size_t len);
int ab_self_exe(char *buf, size_t len);
void ab_strlcpy(char *dst, const char *src, size_t cap);
/* Whole file into a NUL-terminated malloc'd buffer (NULL on error). */
char *ab_read_file(const char *path, size_t max, size_t *len_out);
/* UTC time as YYYYMMDDTHHMMSSZ. */
void ab_utc_stamp(char *buf, size_t len);

/* splitmix64: deterministic per-thread streams from one seed. */
static inline uint64_t ab_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline uint64_t ab_rng_below(uint64_t *state, uint64_t n)
{
    return n ? ab_rng_next(state) % n : 0;
}
void ab_shuffle_u32(uint32_t *a, size_t n, uint64_t *rng);

/* Keep the compiler from eliding an allocation or a store. */
#define AB_ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

/* Write to a fresh block so its pages are really touched: a word at the start
 * and one per 4 KiB page after it (fewer bytes for blocks under 8). */
static inline void ab_touch(void *p, size_t size, uint64_t v)
{
    unsigned char *c = (unsigned char *)p;
    if (size < sizeof v) {
        for (size_t i = 0; i < size; i++)
            c[i] = (unsigned char)(v >> (8 * i));
    } else {
        for (size_t off = 0; off + sizeof v <= size; off += 4096)
            __builtin_memcpy(c + off, &v, sizeof v);
    }
    AB_ESCAPE(p);
}

/* ----------------------------------------------------------------- stats.c */

struct ab_summary {
    size_t n;
    double median, min, max, mean;
    double mad;               /* median absolute deviation, unscaled */
    double ci_low, ci_high;   /* distribution-free 95 % CI of the median */
    bool ci_valid;            /* false when n is too small for 95 % */
};

/* Summarise x[0..n) (x is not modified).  n == 0 gives n = 0 and nothing else. */
void ab_summarize(const double *x, size_t n, struct ab_summary *out);
/* Order-statistic ranks (1-based) j <= k with P(x(j) <= median <= x(k)) >=
 * 0.95; returns false when even (1, n) falls short. */
bool ab_median_ci_ranks(size_t n, size_t *j, size_t *k);
double ab_median_sorted(const double *sorted, size_t n);

/* --------------------------------------------------------------- measure.c */

uint64_t ab_now_ns(void);
/* Resident set size in KiB read through a descriptor on /proc/self/statm
 * opened once per process; -1 when unavailable. */
int ab_statm_open(void);
int64_t ab_statm_rss_kib(int fd);
/* Memory for the harness's own bookkeeping (pointer arrays, queues): mmap'd
 * so the allocator under test sees only the workload's requests. */
void *ab_buf_alloc(size_t bytes);
void ab_buf_free(void *p, size_t bytes);

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

/* --------------------------------------------------------------- subject.c */

enum ab_subject_kind {
    AB_SUBJECT_SYSTEM,  /* the C library's allocator, nothing preloaded */
    AB_SUBJECT_PRELOAD, /* a malloc-compatible .so, LD_PRELOAD'ed */
    AB_SUBJECT_PLUGIN,  /* a .so exporting allocbench_plugin_entry */
};

enum ab_family {
    AB_FAMILY_OTHER,
    AB_FAMILY_GLIBC,
    AB_FAMILY_JEMALLOC,
    AB_FAMILY_TCMALLOC,
    AB_FAMILY_MIMALLOC,
    AB_FAMILY_PLUGIN,
};

/* The allocators known by name (a const table). */
struct ab_named_allocator {
    const char *name;
    enum ab_family family;
    const char *sonames[3];   /* tried in order in the library folders */
    const char *package;      /* the Debian package that provides it */
    const char *plugin_file;  /* in-tree plugins: file under the plugin dir */
};
const struct ab_named_allocator *ab_named_allocators(size_t *count);

struct ab_subject {
    char name[AB_NAME_MAX];       /* glibc, jemalloc, ... or the file's stem */
    char spec[PATH_MAX];          /* what the user gave */
    enum ab_subject_kind kind;
    enum ab_family family;
    char path[PATH_MAX];          /* resolved, real path */
    /* Filled by ab_subject_describe (from a child). */
    bool described;
    char version[128];
    char malloc_from[PATH_MAX];   /* where malloc really resolves */
    char describe_error[512];     /* non-empty: the subject cannot run */
    enum ab_code describe_code;
};

const char *ab_subject_kind_name(enum ab_subject_kind kind);
const char *ab_family_name(enum ab_family family);
/* Resolve a name or a path into a subject, classifying a path in a short-lived
 * child (dlopen never happens in this process).  On failure writes one line
 * to err and returns the code to report (ALLOCBENCH_UNKNOWN_ALLOCATOR,
 * ALLOCBENCH_BAD_SUBJECT, ALLOCBENCH_PLUGIN_ABI, ALLOCBENCH_NOT_INSTALLED);
 * returns -1 on success. */
int ab_subject_resolve(const char *spec, struct ab_subject *out, char *err, size_t errlen);
/* Find a named allocator's library; false when not installed. */
bool ab_subject_find_named(const struct ab_named_allocator *na, char *path, size_t len);
/* Run a describe child: version, where malloc comes from. */
int ab_subject_describe(struct ab_subject *s, double timeout_s);

/* ------------------------------------------------------------------ heap.c */

/* The allocator as the trial child sees it: resolved function pointers (no
 * PLT stub, no lazy binding on the measured path) and its introspection. */
struct ab_heap {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    size_t (*usable_size)(void *);           /* NULL when not offered */
    /* Best-effort bulk allocation, NULL when the allocator has none. */
    size_t (*alloc_bulk)(const struct ab_heap *h, size_t size, size_t n, void **out);
    const struct allocbench_plugin *plugin;  /* plugin subjects only */
    enum ab_family family;
    enum ab_subject_kind kind;
    char version[128];
    char malloc_from[PATH_MAX];
    /* Introspection entry points, NULL when absent. */
    int (*mallctl)(const char *, void *, size_t *, void *, size_t);
    int (*mallctlbymib)(const size_t *, size_t, void *, size_t *, void *, size_t);
    size_t bulk_mib[4];                      /* experimental.batch_alloc */
    size_t bulk_miblen;
    int (*tc_numeric)(const char *, size_t *);
    struct mallinfo2 (*mallinfo2)(void);     /* glibc only */
    void (*mi_process_info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                            size_t *, size_t *);
    void *plugin_handle;
};

/* Allocator-reported figures in bytes; -1 = not reported. */
struct ab_alloc_stats {
    int64_t allocated, active, resident, mapped;
};

/* Bind the heap for the subject described by (kind, path).  For preloaded and
 * system subjects checks with dladdr that malloc comes from path; on mismatch
 * fills err and returns -ESRCH.  Plugins are dlopen'ed and validated. */
int ab_heap_open(struct ab_heap *h, enum ab_subject_kind kind, const char *path, char *err,
                 size_t errlen);
void ab_heap_close(struct ab_heap *h);
void ab_heap_stats(const struct ab_heap *h, struct ab_alloc_stats *out);
/* Validate a plugin descriptor; fills err and returns -EINVAL when wrong. */
int ab_plugin_validate(const struct allocbench_plugin *p, char *err, size_t errlen);
/* True when the shared object at path defines (not merely reaches) sym. */
bool ab_heap_origin_is(const void *addr, const char *path);

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
    bool collect;              /* toggle callgrind's collection around the measured phase */
};

int64_t ab_trial_param(const struct ab_trial *t, const char *name);
void ab_trial_unavailable(struct ab_trial *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ab_trial_metric(struct ab_trial *t, const char *name, const char *unit, double value);
void ab_trial_diag(struct ab_trial *t, enum ab_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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

/* ----------------------------------------------------------------- child.c */

/* Entry point of the hidden `__child` command: reads a request (JSON) from
 * argv, writes one JSON document to descriptor 3, returns the exit status. */
int ab_child_main(const char *request);
/* Request and reply helpers: a string member ("" when absent), a number
 * member (def when absent). */
const char *ab_json_str(const struct cJSON *o, const char *k);
double ab_json_num(const struct cJSON *o, const char *k, double def);

/* ---------------------------------------------------------------- runner.c */

enum ab_child_status {
    AB_CHILD_OK,        /* exited 0 with a well-formed document */
    AB_CHILD_CRASHED,   /* killed by a signal */
    AB_CHILD_TIMEOUT,   /* killed by us after the time limit */
    AB_CHILD_FAILED,    /* exited without a well-formed document */
};

struct ab_child_result {
    enum ab_child_status status;
    int signal;          /* CRASHED */
    int exit_code;       /* FAILED */
    double elapsed_s;
    int64_t maxrss_kib;  /* from wait4 */
    struct cJSON *doc;   /* OK: the parsed reply, owned by the caller */
    char stderr_tail[1024];
};

/* Re-execute this binary as `__child <request>`, with LD_PRELOAD=preload when
 * preload is non-NULL, in its own process group; kill it after timeout_s. */
int ab_runner_exec(const char *request, const char *preload, double timeout_s,
                   struct ab_child_result *out);
/* The same with the child started through a wrapper command (wrapper[0] is
 * looked up in PATH; e.g. valgrind and its options), NULL-terminated. */
int ab_runner_exec_wrapped(const char *const *wrapper, const char *request,
                           const char *preload, double timeout_s,
                           struct ab_child_result *out);
void ab_child_result_free(struct ab_child_result *r);
/* Kill the child in flight (from a signal handler: async-signal-safe). */
void ab_runner_abort(void);

/* ----------------------------------------------------------------- host.c */

struct ab_cache {
    unsigned level;
    char type[8];         /* data, instruction, unified */
    uint64_t size;
};

struct ab_host {
    char hostname[256];
    char cpu_model[256];
    char kernel[256];
    char glibc[32];
    char thp[32];
    unsigned packages, cores, pus, numa_nodes;
    struct ab_cache caches[8];
    unsigned ncaches;
};

void ab_host_collect(struct ab_host *h);

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
    bool progress;            /* progress lines on stderr */
    /* `--counter callgrind`: a backend that counts whole workloads (NULL:
     * time only); each trial runs under it, its measured phase counted, and
     * times taken there are not reported. */
    const struct ab_counter *counter;
    char counter_version[64];
};

enum ab_trial_status {
    AB_TRIAL_OK,
    AB_TRIAL_UNAVAILABLE,
    AB_TRIAL_CRASHED,
    AB_TRIAL_TIMEOUT,
    AB_TRIAL_FAILED,
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
};

struct ab_aggregate {
    unsigned variant, subject, threads;
    enum ab_trial_status status;      /* OK when at least one trial measured */
    size_t trials, measured;
    struct ab_summary ns_per_op;
    struct ab_summary ops_per_s;
    uint64_t ops_per_trial;
    int64_t peak_rss_kib;             /* max over trials; -1 none */
    /* --counter callgrind: medians over the measured trials; NaN none. */
    double instructions_per_op, conditional_per_op;
};

struct ab_run {
    const struct ab_run_config *cfg;
    struct ab_host host;
    char started_utc[32];
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
const char *ab_trial_status_name(enum ab_trial_status s);

/* ---------------------------------------------------------- report-*.c */

/* Reporters only format.  Each returns a malloc'd NUL-terminated string. */
char *ab_report_json(const struct ab_run *run);
char *ab_report_benchmarks_tsv(const struct ab_run *run);
void ab_report_console(const struct ab_run *run, FILE *out);
/* Write report.json and the TSV files into cfg->out_dir, atomically. */
int ab_report_write_all(const struct ab_run *run, char *err, size_t errlen);

char *ab_report_diagnostics_tsv(const struct ab_run *run);
/* Write text (consumed: freed here; NULL means out of memory) to dir/name
 * atomically; on failure fills err. */
int ab_report_write_text(const char *dir, const char *name, char *text, char *err,
                         size_t errlen);
/* The context block's common part: allocbench, start time, host, topology. */
struct cJSON *ab_report_context_json(const struct ab_host *h, const char *started_utc);

extern const char ab_benchmarks_tsv_header[];
extern const char ab_diagnostics_tsv_header[];

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
    /* In the orchestrating process (no allocator code runs there): 0 when
     * usable on this machine, filling version (e.g. "capstone 4.0.2");
     * else fills why and returns the exit status to end with. */
    int (*probe)(char *version, size_t vlen, char *why, size_t wlen);
    /* In the orchestrating process: run one measuring child for the
     * `fastpath` request (preload: LD_PRELOAD for the child, or NULL) and
     * hand back its reply with every batch's counts in it. */
    int (*spawn)(const char *request, const char *preload, double timeout_s,
                 struct ab_child_result *out);
    /* In the measuring child: make the batch's calls, counted. */
    int (*batch)(struct ab_fp_batch *b);
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

/* The registry built from lib/counters.h: the backends this build has. */
const struct ab_counter *const *ab_counters(size_t *count);
const struct ab_counter *ab_counter_find(const char *name);
/* callgrind's collection toggle (counter-callgrind.c, where it is built): a
 * no-op of a few instructions outside valgrind. */
void ab_callgrind_toggle(void);

/* Pick the backend for --counter name ("auto": pmu where it works, else
 * ptrace, else callgrind) and probe it.  Returns 0 with *out and version
 * set, else the exit status with why filled (one line). */
int ab_counter_choose(const char *name, const struct ab_counter **out, char *version,
                      size_t vlen, char *why, size_t wlen);

/* ------------------------------------------------------------ fastpath.c */

enum ab_fp_op { AB_FP_MALLOC, AB_FP_FREE, AB_FP_CALLOC, AB_FP_REALLOC, AB_FP_ALIGNED,
                AB_FP_OP_COUNT };

#define AB_FP_MAX_SIZES 64
#define AB_FP_ALIGNMENT 64
#define AB_FP_SCHEMA "allocbench-fastpath"

const char *ab_fp_op_name(enum ab_fp_op op);
int ab_fp_op_parse(const char *name);  /* the op, or -1 */

/* One measured batch in the measuring child: n calls of one op and size,
 * each counted on its own by the backend.  ptrs holds the blocks (filled by
 * the allocating ops, consumed by free and realloc). */
struct ab_fp_batch {
    unsigned index;
    enum ab_fp_op op;
    size_t size, grow;             /* grow: realloc's target size */
    size_t n;
    const struct ab_heap *heap;
    void **ptrs;
    /* Filled by backends that count in the child (pmu): per call, the
     * flagged calls (whose reading is invalid) left out. */
    uint64_t *instructions, *branches;
    uint32_t flagged;
    bool counted;                  /* the arrays above were filled */
};

/* The measured function of a batch, as an address; and the plain loop that
 * makes the batch's calls through it (each backend wraps or watches it). */
void *ab_fp_batch_fn(const struct ab_fp_batch *b);
void ab_fp_batch_run(struct ab_fp_batch *b);
/* Make one call of the batch (call i), for backends that read counters
 * around each call. */
void ab_fp_batch_call(struct ab_fp_batch *b, size_t i);

/* The `fastpath` request in the measuring child: returns the reply. */
struct cJSON *ab_fastpath_child(const struct cJSON *req, const struct ab_heap *heap);

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
    double slow_path_share;         /* calls above 2 x p50; NaN */
    double rep_p50[3][16];          /* instructions, branches, conditional */
    /* Per-call means of totals a backend may count; NaN where it does not. */
};

struct ab_fp_config {
    struct ab_subject *subjects;
    size_t nsubjects;
    uint64_t sizes[AB_FP_MAX_SIZES];
    size_t nsizes;
    bool op_on[AB_FP_OP_COUNT];
    unsigned calls, warmup, keep_live, repetitions;
    const struct ab_counter *counter;
    char counter_version[128];
    double timeout_s;
    char out_dir[PATH_MAX];
    bool progress;
};

struct ab_fp_run {
    const struct ab_fp_config *cfg;
    struct ab_host host;
    char started_utc[32];
    struct ab_fp_row *rows;
    size_t nrows;
    unsigned failures;              /* rows not measured, or disagreeing */
};

int ab_fastpath_execute(const struct ab_fp_config *cfg, struct ab_fp_run *run);
void ab_fastpath_free(struct ab_fp_run *run);
/* Counts travel from the children as histograms, [[count, calls], ...] in
 * ascending order of count, made from per-call counts (v is sorted). */
struct cJSON *ab_fp_hist_json(uint64_t *v, size_t n);
/* The distribution of a histogram (value[i] seen count[i] times, in any
 * order, repeats allowed): nearest-rank percentiles, mean.  Statistics are
 * computed here; reporters only format. */
int ab_fp_dist_from(const uint64_t *value, const uint64_t *count, size_t n,
                    struct ab_fp_dist *out);
void ab_fp_dist_free(struct ab_fp_dist *d);

/* ------------------------------------------------------ report-fastpath.c */

extern const char ab_fast_path_tsv_header[];
char *ab_fastpath_report_json(const struct ab_fp_run *run);
char *ab_fastpath_report_tsv(const struct ab_fp_run *run);
void ab_fastpath_report_console(const struct ab_fp_run *run, FILE *out);
int ab_fastpath_report_write_all(const struct ab_fp_run *run, char *err, size_t errlen);

/* ---------------------------------------------------------------- budget.c */

struct ab_budget {
    char allocator[AB_NAME_MAX];    /* "*": any */
    char op[16];
    uint64_t size;                  /* with any_size: any */
    bool any_size;
    double max_instructions, max_branches, max_slow_path_share; /* NaN: none */
    unsigned line;
};

struct ab_budgets {
    struct ab_budget *b;
    size_t n;
};

/* Parse a budget file; on error writes "FILE:LINE: what" to err, returns
 * -EINVAL (or -errno when it cannot be read). */
int ab_budgets_load(const char *path, struct ab_budgets *out, char *err, size_t errlen);
void ab_budgets_free(struct ab_budgets *b);
/* The most specific budget for (allocator, op, size); NULL when none. */
const struct ab_budget *ab_budget_find(const struct ab_budgets *b, const char *allocator,
                                       const char *op, uint64_t size);

struct ab_check_totals {
    unsigned rows, held, violated, unchecked, unmeasured;
};
/* Check one fast-path report (a parsed report.json) against the budgets,
 * printing one line per violation (and per unchecked or unmeasured row) on
 * out.  Returns 0, or -EPROTO when the document is not a fast-path report of
 * this schema (err says why). */
int ab_budget_check_report(const struct ab_budgets *b, const struct cJSON *doc, FILE *out,
                           struct ab_check_totals *tot, char *err, size_t errlen);

/* ----------------------------------------------------------------- version */

extern const char ab_version[];
extern const char ab_git_revision[];
extern const char ab_build_type[];

#endif /* AB_H */
