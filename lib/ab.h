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
#include <pthread.h>

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
#define AB_MAX_SAMPLES 128
#define AB_PHASE_MAX 32

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
    X(ALLOCBENCH_INTERNAL, 1, "allocbench itself failed")                          \
    X(ALLOCBENCH_BLOCK_CONTRACT, 1, "a block breaks its alignment or size promise")   \
    X(ALLOCBENCH_BUDGET_UNMATCHED, 1, "a budget row matches no report row")          \
    X(ALLOCBENCH_BUDGET_FIGURE, 1, "a ceiling names a figure the report lacks")      \
    X(ALLOCBENCH_BUDGET_COUNTER, 1, "the budget was set with another counter")       \
    X(ALLOCBENCH_BUDGET_NOTHING_CHECKED, 1, "no report row was checked")             \
    X(ALLOCBENCH_BUDGET_VERSION, 0, "the budget was set on another allocator version")

enum ab_code {
#define AB_CODE_ENUM(name, status, summary) AB_##name,
    AB_CODES(AB_CODE_ENUM)
#undef AB_CODE_ENUM
    AB_CODE_COUNT
};

const char *ab_code_name(enum ab_code code);
const char *ab_code_summary(enum ab_code code);
int ab_code_exit_status(enum ab_code code);
/* The code of a name; ALLOCBENCH_INTERNAL when there is none. */
enum ab_code ab_code_from_name(const char *name);
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
/* The report folder: out (--out), or results/runs/<UTC stamp>/ when NULL,
 * copied into dir and created. */
int ab_out_dir_prepare(const char *out, char *dir, size_t len);
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
static inline uint64_t ab_rng_range(uint64_t *state, uint64_t lo, uint64_t hi)
{
    return lo + ab_rng_below(state, hi - lo + 1);
}
/* Uniform in [0, 1), 53 bits. */
static inline double ab_rng_unit(uint64_t *state)
{
    return (double)(ab_rng_next(state) >> 11) / 9007199254740992.0;
}
/* Log-uniform in [lo, hi]: as many sizes per doubling; lo > 0.  Defined in
 * util.c (it needs libm). */
size_t ab_rng_loguniform(uint64_t *state, size_t lo, size_t hi);
void ab_shuffle_u32(uint32_t *a, size_t n, uint64_t *rng);
/* qsort comparator for uint64_t. */
int ab_cmp_u64(const void *a, const void *b);

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
/* Address space (VmSize) and resident set in KiB from the same descriptor;
 * -1 each when unavailable. */
void ab_statm_read(int fd, int64_t *vm_kib, int64_t *rss_kib);
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
/* Describe each; an unusable one is warned about (its trials report it). */
int ab_subjects_describe(struct ab_subject *s, size_t n, double timeout_s);

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
/* An entry point of the allocator under test by name (mi_heap_new, mallocx,
 * ...): NULL unless the library malloc comes from defines it. */
void *ab_heap_sym(const struct ab_heap *h, const char *name);

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
    const char *merit;               /* its figure of merit, named (NULL: ns per op) */
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

    /* --pin: thread i runs on PU placement[i] (OS index, -1 not pinned). */
    bool pin;
    void *pin_plan;            /* trial.c's, between pin_prepare and pin_release */
    int placement[AB_MAX_THREADS];
    unsigned nplaced;          /* entries of placement in use */
    char pin_method[32];       /* hwloc, sched_setaffinity, mixed or failed */
    bool collect;              /* toggle callgrind's collection around the measured phase */
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
/* --pin: plan the placement of t->threads threads (hwloc topology, loaded
 * before the trial's first reading so its memory is not counted as the
 * workload's), and drop the plan at the end.  No-ops without t->pin. */
void ab_trial_pin_prepare(struct ab_trial *t);
void ab_trial_pin_release(struct ab_trial *t);
/* Bind the calling thread to thread index's PU and record it. */
void ab_trial_pin_self(struct ab_trial *t, unsigned index);
/* The remote-free figures of a workload (allocator-remote-free-report.tsv):
 * frees of blocks another thread allocated, the ns they took in all (< 0:
 * not timed one by one), and the allocator's remote-free queue depth now,
 * where a plugin reports it. */
void ab_trial_remote_frees(struct ab_trial *t, uint64_t frees, int64_t ns);
/* Run n threads (a workload whose roles need more than --threads asked,
 * such as one producer and one consumer for --threads 1); --pin plans again. */
void ab_trial_set_threads(struct ab_trial *t, unsigned n);
/* Run fn(arg) on a fresh thread standing in for th (same PU under --pin,
 * attached to a plugin heap) and wait for it: the shape of workloads whose
 * threads exit and are replaced.  Returns 0 or -errno (no thread). */
int ab_trial_run_thread(struct ab_thread *th, void *(*fn)(void *), void *arg);

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
/* The host's THP mode word (always, madvise, never), "" when unknown. */
void ab_host_thp_mode(char *buf, size_t len);

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
    bool pin;                 /* --pin: bind each thread to a PU */
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
/* Rows from aggregates with a remote_frees metric, and from trial samples;
 * *rows says how many (the files are written only when there are some). */
char *ab_report_remote_free_tsv(const struct ab_run *run, size_t *rows);
char *ab_report_page_backend_tsv(const struct ab_run *run, size_t *rows);
/* The context block every report.json carries: allocbench, the host, the
 * counter backend (and its version, or NULL) and, when subjects is not
 * NULL, the allocators. */
struct cJSON *ab_report_context_json(const struct ab_host *h, const char *started_utc,
                                     const char *counter, const char *counter_version,
                                     const struct ab_subject *subjects, size_t nsubjects);
/* Write text (consumed: freed here; NULL means out of memory) to dir/name
 * atomically; on failure fills err. */
int ab_report_write_text(const char *dir, const char *name, char *text, char *err,
                         size_t errlen);

extern const char ab_benchmarks_tsv_header[];
extern const char ab_diagnostics_tsv_header[];
extern const char ab_remote_free_tsv_header[];
extern const char ab_page_backend_tsv_header[];

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

/* ------------------------------------------- trace.c, trace-resolve.c */

/* allocbench trace: uprobes on the library that serves malloc in a live
 * process (built only with libbpf; see meson_options.txt). */
#define AB_TRACE_MAX_PROBES 128 /* = AB_TRACE_SLOTS in trace-bpf.h */
#define AB_TRACE_NBINS 65       /* log2 bins: 0, then [2^(k-1), 2^k - 1] */

#define AB_TRACE_MAX_OBJECTS 8   /* files probed in one process image */

/* One probed function: a distinct address in a file (aliases share it). */
struct ab_trace_probe {
    char name[64];          /* the first of its names in the probe table */
    char aliases[256];      /* its other names there, comma-separated */
    unsigned object;        /* the file defining it (ab_trace_lib.objects) */
    uint64_t offset;        /* file offset of its first instruction */
    unsigned kind;          /* enum ab_trace_kind (trace-bpf.h) */
    unsigned size_arg, count_arg;
    char first_insn[64];    /* its first instruction, "" when not decoded */
    char attach_error[96];  /* "" when both probes attached */
};

struct ab_trace_object {
    char path[PATH_MAX];      /* as the target names it */
    char open_path[PATH_MAX]; /* read and attached: a /proc/PID/map_files link
                                 when the target has it mapped */
    enum ab_family family;
};

/* What serves the allocator calls of one process image.  The loader binds
 * each name to the first object in its order defining it, so besides the
 * object serving malloc there can be others: the C library's aligned_alloc
 * under an allocator that replaces only malloc, calloc, realloc and free;
 * libstdc++'s operator new over glibc's malloc. */
struct ab_trace_lib {
    struct ab_trace_object objects[AB_TRACE_MAX_OBJECTS];
    size_t nobjects;
    size_t malloc_object;     /* the one serving malloc */
    char chosen_by[32];       /* "--lib", "loader order" or "mappings" */
    struct ab_trace_probe probes[AB_TRACE_MAX_PROBES];
    size_t nprobes;
};

/* Add to lib the probe-table entry points that path defines and no object
 * added before it does (read through open_path).  0 (nothing added when it
 * defines none of them); -ENOENT (err says so) when need_malloc and it
 * defines no malloc; -EINVAL when it is not a readable ELF file. */
int ab_trace_plan_object(struct ab_trace_lib *lib, const char *path, const char *open_path,
                         bool need_malloc, char *err, size_t errlen);
/* What serves process pid's allocator calls: each entry point from the
 * first object in the dynamic loader's search order (the executable,
 * preloads, then its needed libraries, as `ld.so --list` prints them for
 * the process's environment) that defines it; with mapped, only objects pid
 * has mapped (else the image has just been exec'd and maps nothing yet).
 * override (--lib) probes that one file only.  On failure writes err and
 * returns the code to report; -1 on success. */
int ab_trace_find_lib(int pid, bool mapped, const char *override, struct ab_trace_lib *lib,
                      char *err, size_t errlen);
/* The paths in `ld.so --list` output, in order (text is modified).  Returns
 * the count (at most max). */
size_t ab_trace_parse_ldlist(char *text, char (*paths)[PATH_MAX], size_t max);
/* A command as execv will run it: a path, or a name searched in PATH; it
 * must be an executable regular file (ELF or #!).  Code or -1, like above. */
int ab_trace_resolve_command(const char *cmd, char *path, size_t len, char *err,
                             size_t errlen);

struct ab_trace_config {
    int pid;                   /* --pid; 0 with a command */
    char *const *command;      /* the command and its arguments; NULL with --pid */
    char lib[PATH_MAX];        /* --lib, "" to find it */
    double duration_s;         /* 0: until the process exits or a signal */
    unsigned top;              /* outstanding size groups reported */
    uint64_t max_live;         /* blocks tracked at once */
    char out_dir[PATH_MAX];
};

/* A probed function and what it saw.  A call counts at its return, when it
 * is its thread's outermost allocator call. */
struct ab_trace_func {
    struct ab_trace_probe probe;
    uint64_t calls, nested, failed, bytes, null_frees, untracked_frees;
    uint64_t lat_sum_ns;
    uint64_t clock_calls, clock_sum_ns;   /* task-clock, calls not switched out */
    uint64_t insn_calls, insn_sum;        /* instructions, where a PMU counts */
    uint64_t size_hist[AB_TRACE_NBINS];
    uint64_t lat_hist[AB_TRACE_NBINS];
};

/* Outstanding blocks of one requested size. */
struct ab_trace_group {
    uint64_t size, count, bytes;
};

struct ab_trace_result {
    const struct ab_trace_config *cfg;
    struct ab_host host;
    char started_utc[32];
    int pid;
    bool started;                /* allocbench started the process (-- CMD) */
    char command[1024];          /* the command line, for the record */
    char exe[PATH_MAX];          /* the traced image */
    unsigned images;             /* exec'd images traced (the figures are the last's) */
    struct ab_trace_lib lib;
    char ended_by[32];           /* "exit", "duration" or "signal SIGINT" ... */
    int exit_status, exit_signal;/* -1 when not known (not our child, or alive) */
    double traced_s;             /* the figures' interval: enabled to stopped */
    double attach_ms, detach_ms; /* the last image's probes */
    size_t attached;             /* probes attached (entry and return count once) */
    struct ab_trace_func funcs[AB_TRACE_MAX_PROBES];
    size_t nfuncs;
    uint64_t live_count, live_bytes;
    struct ab_trace_group *groups; /* the top groups by bytes */
    size_t ngroups, groups_total;
    uint64_t live_dropped, live_replaced, unmatched, no_state, switched, exec_stop_failed;
    uint64_t max_live;
    bool clock_available, insn_available;
    char clock_reason[160], insn_reason[160]; /* why not, when not */
};

/* Check the input (the pid names a user process, the command can be run,
 * --lib defines malloc): on failure writes err and returns the code to
 * report; -1 when it can go ahead. */
int ab_trace_check(const struct ab_trace_config *cfg, char *err, size_t errlen);
/* Trace until the process exits, the duration ends or SIGINT/SIGTERM/SIGHUP
 * arrives; probes are detached before it returns.  Code or -1, like above. */
int ab_trace_execute(const struct ab_trace_config *cfg, struct ab_trace_result *res, char *err,
                     size_t errlen);
void ab_trace_result_free(struct ab_trace_result *res);
/* The bounds of log2 bin k. */
void ab_trace_bin_bounds(unsigned k, uint64_t *low, uint64_t *high);

/* ---------------------------------------------------------- report-trace.c */

extern const char ab_trace_tsv_header[];
char *ab_report_trace_json(const struct ab_trace_result *r);
char *ab_report_trace_tsv(const struct ab_trace_result *r);
void ab_report_trace_console(const struct ab_trace_result *r, FILE *out);
/* report.json and allocator-trace-report.tsv into dir, atomically. */
int ab_report_trace_write(const struct ab_trace_result *r, const char *dir, char *err,
                          size_t errlen);

/* =============================================================== stress
 * `allocbench stress --profile P`: the seven verified stress cases of seed
 * 003, run each in a fresh child, and the exhaustion and shutdown
 * mechanisms they share with the workloads of the same names. */

/* --------------------------------------------------------------- profile.c */

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

/* May the profile use hugepage / NUMA hooks?  Only hosted-server opts in. */
enum ab_hook_policy { AB_HOOK_FORBID, AB_HOOK_OPT_IN };

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
    uint32_t cases;                /* bit i: case i of stress/cases.h */
    bool remote_frees;
    uint64_t remote_bound;         /* blocks; 0: the profile promises none */
    uint64_t as_limit;             /* address space headroom at exhaustion */
    uint64_t page_limit;           /* a plugin's page backend limit */
    enum ab_hook_policy hugepages, numa;
    uint64_t shutdown_tolerance;   /* bytes retained after shutdown cleanup */
    char summary[200];
};

struct ab_profiles {
    char path[PATH_MAX];
    struct ab_profile *p;
    size_t n;
};

/* The profiles file: --profiles, else $ALLOCBENCH_PROFILES, else
 * stress/profiles.tsv beside the executable (the build tree), else the
 * installed copy.  Returns 0 or -ENOENT (err says where it looked). */
int ab_profiles_locate(const char *given, char *path, size_t len, char *err, size_t errlen);
/* Parse the whole file; a malformed one gives -EINVAL and "FILE:LINE: why"
 * in err, an unreadable one -errno. */
int ab_profiles_load(const char *path, struct ab_profiles *out, char *err, size_t errlen);
int ab_profiles_parse(const char *path, const char *text, struct ab_profiles *out, char *err,
                      size_t errlen);
void ab_profiles_free(struct ab_profiles *ps);
const struct ab_profile *ab_profile_find(const struct ab_profiles *ps, const char *name);
/* Threads the profile asks for on this machine (per CPU resolved). */
unsigned ab_profile_threads(const struct ab_profile *p);
const char *ab_hook_policy_name(enum ab_hook_policy h);

/* ---------------------------------------------------------------- stress.c */

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

/* What was asked of a plugin's configure() and what it answered. */
struct ab_hooks {
    bool configured;               /* configure() exists and accepted the profile */
    int configure_rc;              /* its answer to the first request */
    bool hugepages;                /* hugepages asked for and accepted */
    int numa_node;                 /* node asked for and accepted; -1 none */
    bool hooks_refused;            /* hooks asked for and refused */
    int hooks_rc;
    uint64_t page_limit;           /* page limit accepted; 0 none */
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

/* For a workload sharing a mechanism: a verifying context on the trial's
 * allocator, threads and seed (f must outlive the trial's reply: metric
 * names point into it), and the findings handed back as the trial's
 * diagnostics and metrics. */
int ab_stress_from_trial(struct ab_stress *s, struct ab_findings *f, const struct ab_trial *t);
void ab_stress_to_trial(const struct ab_stress *s, struct ab_trial *t);

/* The `__child` stress mode (child.c reads the request into this):
 * configure the plugin for the profile, run the case, build the reply.
 * Closes the heap.  NULL on failure, with a code name and why. */
struct ab_stress_request {
    const char *case_name, *profiles, *profile;
    unsigned threads;
    uint64_t ops;                  /* per thread per timed case; 0: no cap */
    double duration_s;             /* per timed case; 0: no cap */
    uint64_t seed;
    bool verify;
};
struct cJSON *ab_stress_child(const struct ab_stress_request *rq, struct ab_heap *heap,
                              const char **code, char *why, size_t n);

/* --------------------------------------------------------------- exhaust.c */

/* Exhaustion, run in a forked helper so an abort is a finding: under
 * RLIMIT_AS (as_limit bytes above the address space in use) or a plugin's
 * page limit, allocate until NULL in several sizes, check ENOMEM, usability
 * and overlap, free part and allocate again, and ask for sizes near
 * SIZE_MAX, PTRDIFF_MAX and an overflowing calloc.  Adds checks,
 * diagnostics (ALLOCATOR_EXHAUSTION, ALLOCATOR_PAGE_EXHAUSTION, block
 * codes) and figures to s. */
struct ab_exhaust_config {
    unsigned threads;
    uint64_t as_limit;             /* 0: no address-space limit */
    unsigned recovery_pct;         /* of each size's blocks, freed before refilling */
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

/* Hugepages where the live blocks are, from /proc/self/smaps. */
struct ab_thp_use {
    uint64_t regions;              /* mappings holding at least one block */
    uint64_t anon_huge_kib;        /* their AnonHugePages */
    uint64_t advised;              /* of them flagged hg (MADV_HUGEPAGE) */
};
int ab_policy_thp(const void *const *addrs, size_t n, struct ab_thp_use *out);

/* NUMA policy of the memory at the blocks (get_mempolicy MPOL_F_ADDR). */
struct ab_numa_use {
    int nodes;                     /* configured nodes; 0 when NUMA is unavailable */
    uint64_t sampled;
    uint64_t foreign;              /* policy differs from the thread's own */
    uint64_t on_node;              /* bound or preferred including `node` */
    uint64_t placed, misplaced;    /* pages found on / off node (move_pages) */
    int first_mode;                /* of the first foreign block */
};
int ab_policy_numa(const void *const *addrs, size_t n, int node, struct ab_numa_use *out);

/* Both checks on the blocks at addrs, against the profile and s->hooks. */
void ab_policy_check(struct ab_stress *s, const void *const *addrs, size_t n);

/* ------------------------------------------------------------ stress-run.c */

/* The stress cases (stress/cases.h): one file each under stress/. */
struct ab_stress_case {
    const char *name;
    const char *summary;
    bool timed;                    /* bounded by the profile's ops and duration */
    bool needs_remote;             /* runs only where remote frees are allowed */
    int (*run)(struct ab_stress *s);
};
const struct ab_stress_case *const *ab_stress_cases(size_t *count);
int ab_stress_case_index(const char *name);

enum ab_case_verdict {
    AB_CASE_PASS,
    AB_CASE_FAIL,                  /* a diagnostic fired */
    AB_CASE_INCOMPLETE,            /* an allocation failed outside exhaustion */
    AB_CASE_NA,                    /* the profile or the plugin rules it out */
};
const char *ab_case_verdict_name(enum ab_case_verdict v);

struct ab_stress_config {
    const struct ab_profile *profile;
    const char *profiles_path;
    struct ab_subject *subjects;
    size_t nsubjects;
    uint32_t cases;                /* asked for (all when the user named none) */
    uint64_t ops;                  /* per thread per timed case; 0: no cap */
    double duration_s;             /* per timed case; 0: no cap */
    uint64_t seed;
    bool verify;
    double timeout_s;
    char out_dir[PATH_MAX];
    bool progress;
};

struct ab_stress_record {
    unsigned subject, case_index;
    enum ab_case_verdict verdict;
    char reason[512];              /* why NA, incomplete, or the child's fate */
    bool ran;                      /* the case ran to its end in a child */
    unsigned threads;
    struct ab_findings f;
    double elapsed_s;
    char stderr_tail[1024];
};

struct ab_stress_run {
    const struct ab_stress_config *cfg;
    struct ab_host host;
    char started_utc[32];
    struct ab_stress_record *records;
    size_t nrecords;
    unsigned failures;             /* records whose verdict is not pass or NA */
};

int ab_stress_execute(const struct ab_stress_config *cfg, struct ab_stress_run *run);
void ab_stress_run_free(struct ab_stress_run *run);

/* --------------------------------------------------------- report-stress.c */

extern const char ab_stress_tsv_header[];
/* Checks as a JSON array of {name, verdict, detail} (the child's reply and
 * report.json). */
struct cJSON *ab_checks_json(const struct ab_check *c, unsigned n);
char *ab_stress_report_json(const struct ab_stress_run *run);
char *ab_stress_report_tsv(const struct ab_stress_run *run);
char *ab_stress_diagnostics_tsv(const struct ab_stress_run *run);
void ab_stress_report_console(const struct ab_stress_run *run, FILE *out);
int ab_stress_report_write_all(const struct ab_stress_run *run, char *err, size_t errlen);


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

#define AB_FP_MAX_REPS 16

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
    double rep_p50[4][AB_FP_MAX_REPS]; /* instructions, branches, conditional, reference */
    /* Per-call means of totals a backend may count; NaN where it does not. */
};

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

/* The schema version of fast-path reports (pairs and batch rows). */
#define AB_FP_SCHEMA_VERSION 2

/*
 * A fast-path report read back (report.json of `allocbench fastpath`, or the
 * folder holding one): the whole document, strictly checked, so that
 * check and budgets only ever see rows of known shape.  Returns 0, or
 * -EPROTO / -errno with err naming the file and what is wrong (one line).
 */
int ab_fp_report_read(const char *path, struct cJSON **doc, char *err, size_t errlen);

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
    unsigned rows, held, violated, unchecked, unmeasured, unavailable;
    unsigned figure_missing, counter_mismatch, unmatched, version_warnings;
    bool nothing_checked;
    char warned[AB_GATE_WARN_MAX][AB_NAME_MAX]; /* allocators warned about */
    unsigned nwarned;
};

int ab_gate_begin(struct ab_gate *c, const struct ab_budgets *b, FILE *out);
/* Check one report read by ab_fp_report_read, printing a line per
 * violation, unmeasured row, row without a budget, counter mismatch and
 * missing figure on c->out, and a warning per version mismatch on stderr. */
void ab_gate_report(struct ab_gate *c, const struct cJSON *doc);
/* After the last report: a line per budget row that matched nothing, and
 * one if no row was checked at all. */
void ab_gate_finish(struct ab_gate *c);
/* The budget rows checked, as "lines 2-27, 30" (the file's line numbers). */
void ab_gate_used_lines(const struct ab_gate *c, char *buf, size_t len);
void ab_gate_end(struct ab_gate *c);
/* Whether the check failed (exit 1): a violation, an unmeasured row, a
 * budget matching nothing, a counter mismatch, a missing figure, nothing
 * checked, or (require_budget) a row without a budget. */
bool ab_gate_failed(const struct ab_gate *c, bool require_budget);

/* Budgets from fast-path reports: every measured row's ceilings at its p50
 * (and slow share) raised by headroom_pct, with its pattern, counter and
 * allocator version; a TSV text, or NULL with err (a row not measured
 * cleanly, two reports disagreeing on a row). */
char *ab_budgets_from_reports(struct cJSON *const *docs, size_t ndocs, double headroom_pct,
                              char *err, size_t errlen);

/* ----------------------------------------------------------------- version */

extern const char ab_version[];
extern const char ab_git_revision[];
extern const char ab_build_type[];

#endif /* AB_H */
