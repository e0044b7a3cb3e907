/*
 * core.h — what every part of allocbench shares: exit statuses and the
 * stable diagnostic codes, parsing, files, random streams, statistics,
 * clocks and statm, the host, the version, and the JSON helpers.
 */
#ifndef AB_CORE_H
#define AB_CORE_H

#include "ab-config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cJSON;

/* Every function returns AB_OK or a negative errno value.  One that fails
 * with a diagnostic for the user also sets its stable code through an
 * `enum ab_code *code` argument (ab_fail), and its one line through err. */
#define AB_OK 0

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

#include "codes.h" /* AB_CODES: the stable diagnostic codes */

enum ab_code {
#define AB_CODE_ENUM(name, status, summary) AB_##name,
    AB_CODES(AB_CODE_ENUM)
#undef AB_CODE_ENUM
    AB_CODE_COUNT
};

const char *ab_code_name(enum ab_code code);
const char *ab_code_summary(enum ab_code code);
int ab_code_exit_status(enum ab_code code);
/* Set *code (when not NULL) and return -EINVAL: `return ab_fail(code, X);`. */
int ab_fail(enum ab_code *code, enum ab_code c);
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
/* The report folder: out (--out), or a new results/runs/<UTC stamp>[-N]/
 * (never one that exists) when NULL, copied into dir and created. */
int ab_out_dir_prepare(const char *out, char *dir, size_t len);
/* The report folder, created and tried: a probe file written and removed
 * in it before any trial, so that a place that cannot take the reports
 * fails at once (-errno) rather than after the run. */
int ab_out_dir_probe(const char *dir);
/* Write data to path.tmp.<pid> and rename it over path. */
int ab_write_file_atomic(const char *path, const char *data, size_t len);
/* Paths that exist only while a write is under way (a temporary name, a
 * staging folder): a signal that ends the process removes them
 * (ab_pending_remove, async-signal-safe: files first, then folders).
 * ab_pending_add returns a slot for ab_pending_drop, or -1 when full. */
int ab_pending_add(const char *path, bool dir);
void ab_pending_drop(int slot);
void ab_pending_remove(void);
/* rel (a path relative to the executable's folder, "" for none) made whole
 * into buf: 0 when it names something that exists, else -ENOENT. */
int ab_beside_self(const char *rel, char *buf, size_t len);
/* The folder holding the running executable (from /proc/self/exe). */
int ab_self_dir(char *buf, size_t len);
int ab_self_exe(char *buf, size_t len);
void ab_strlcpy(char *dst, const char *src, size_t cap);
/* Whole file into a NUL-terminated malloc'd buffer (NULL on error). */
char *ab_read_file(const char *path, size_t max, size_t *len_out);
/* A report read back (arg: the file, or its folder; path gets which): its
 * text (*len bytes), or NULL, errno set, "PATH: cannot be read: why" in err. */
char *ab_report_text(const char *arg, char *path, size_t pathlen, size_t *len, char *err,
                     size_t errlen);
/* A reader of one kind of report: its text (label names it in messages)
 * to a document; 0, or a negative errno with one line in err. */
typedef int (*ab_report_parser)(const char *label, const char *text, size_t len,
                                struct cJSON **out, char *err, size_t errlen);
/* ab_report_text, then parse on the text under the file's path: what parse
 * returns, or -errno when the file cannot be read. */
int ab_report_read(const char *arg, ab_report_parser parse, struct cJSON **out, char *err,
                   size_t errlen);
/* UTC time as YYYYMMDDTHHMMSSZ. */
void ab_utc_stamp(char *buf, size_t len);

/* splitmix64: deterministic per-thread streams from one seed. */
static inline uint64_t ab_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline uint64_t ab_rng_next(uint64_t *state)
{
    return ab_rng_mix(*state += 0x9e3779b97f4a7c15ull);
}
/* The starting state of stream `stream` of `seed`.  Hashed, not stepped: a
 * state of seed * 0x9e3779b97f4a7c15 (or + i of it per thread) would make
 * seed s + 1's sequence, or thread i + 1's, seed s's or thread i's one draw
 * later. */
static inline uint64_t ab_rng_stream(uint64_t seed, uint64_t stream)
{
    return ab_rng_mix(ab_rng_mix(seed + 0x9e3779b97f4a7c15ull) ^
                      ((stream + 1) * 0xd1b54a32d192ed03ull));
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
/* x to the power y for x > 0, within a few ulps of pow(): code that runs in
 * the trial child calls this, so that the child does not load libm (whose
 * start-up alone leaves about 300 KiB resident in every trial). */
double ab_pow_pos(double x, double y);
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
/* The sample standard deviation of x[0..n) (n - 1 in the denominator, as
 * google-benchmark's stddev aggregate): 0 for one value, NaN for none. */
double ab_stddev(const double *x, size_t n);

/* --------------------------------------------------------------- measure.c */

uint64_t ab_now_ns(void);
/* Resident set size in KiB read through a descriptor on /proc/self/statm
 * opened once per process; -1 when unavailable. */
int ab_statm_open(void);
int64_t ab_statm_rss_kib(int fd);
/* Address space (VmSize) and resident set in KiB from the same descriptor;
 * -1 each when unavailable. */
void ab_statm_read(int fd, int64_t *vm_kib, int64_t *rss_kib);
/* /proc/self/smaps_rollup in bytes (a page-table walk: exact, where statm's
 * counters are per-CPU estimates), read without allocating; 0 or -errno
 * (-ENODATA: no field found). */
struct ab_rollup {
    int64_t rss, anonymous, anon_huge, shared_hugetlb, private_hugetlb;
};
int ab_rollup_read(struct ab_rollup *out);
/* Memory for the harness's own bookkeeping (pointer arrays, queues): mmap'd
 * so the allocator under test sees only the workload's requests. */
void *ab_buf_alloc(size_t bytes);
void ab_buf_free(void *p, size_t bytes);

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
    char governor[32];             /* cpufreq's, "" where not readable */
    double cpu_mhz;                /* cpu0 now (cpufreq, else /proc/cpuinfo); NaN */
    double load_start[3], load_end[3]; /* 1, 5, 15 min; NaN where unread */
    bool pinned;                   /* the run binds its threads (--pin) */
    /* The trial child's resident set with no allocator bound and no work
     * done (the harness's own share of every trial's peak RSS), from a
     * baseline child at the session's start; -1 where none was run. */
    int64_t trial_child_rss_kib;
};

void ab_host_collect(struct ab_host *h);
/* The load average now into l[3] (NaN where it cannot be read). */
void ab_host_load(double l[3]);
/* The host's THP mode word (always, madvise, never), "" when unknown. */
void ab_host_thp_mode(char *buf, size_t len);
/* --pin's plan for n threads: one PU each, spread by hwloc_distrib (cores
 * before hyperthreads); bindable says the topology is this machine's (not
 * HWLOC_SYNTHETIC or XML).  Made in the orchestrating process, so the
 * trial child never loads hwloc.  AB_OK or a negative errno value. */
int ab_host_pin_plan(unsigned n, int *pus, bool *bindable);
/* How many threads one more process may start here: the kernel's
 * threads-max, and RLIMIT_NPROC where it binds (not for root), less the
 * tasks this user runs already; UINT_MAX when nothing can be read. */
unsigned ab_host_thread_room(void);

/* ------------------------------------------------------------------ json.c */

/* Reading: a string member ("" when absent), a number (def when absent),
 * a count (-1 when absent or negative), a boolean (false when absent). */
const char *ab_json_str(const struct cJSON *o, const char *k);
double ab_json_num(const struct cJSON *o, const char *k, double def);
int64_t ab_json_int(const struct cJSON *o, const char *k);
bool ab_json_bool(const struct cJSON *o, const char *k);
/* An exact 64-bit integer, written as a string or a number below 2^53:
 * 0, or -EINVAL. */
int ab_json_u64(const struct cJSON *o, const char *k, uint64_t *out);
/* Writing: a figure that is not finite (not measured) is null; a count
 * below 0 is null; an empty or NULL string is null.  ab_json_add_u64 writes
 * an exact integer literal (2^64 - 1 included). */
void ab_json_add_num(struct cJSON *o, const char *k, double v);
void ab_json_add_int(struct cJSON *o, const char *k, int64_t v);
void ab_json_add_str(struct cJSON *o, const char *k, const char *v);
void ab_json_add_u64(struct cJSON *o, const char *k, uint64_t v);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 (a stray byte, an
 * overlong form, a surrogate, past U+10FFFF). */
size_t ab_utf8_seq(const unsigned char *s);
/* The first member name an object of doc holds twice (cJSON keeps both and
 * finds the first: a reader must refuse such a document), or NULL. */
const char *ab_json_duplicate(const struct cJSON *doc);
/* len bytes as one whole document, strictly: NULL (why says which) when it
 * is not JSON, has data after the document or holds a member twice. */
struct cJSON *ab_json_parse_strict(const char *text, size_t len, char *why, size_t whylen);
/* After ab_json_parse_strict of text: every integer literal a double cannot
 * hold exactly (past 2^53, as a 64-bit seed may be) becomes a raw item
 * holding its literal, so that the document prints it as it was read. */
void ab_json_keep_integers(struct cJSON *doc, const char *text, size_t len);
/* Every string of doc made valid UTF-8 (paths are bytes): each stray byte
 * becomes U+FFFD, and "<name>_hex" beside it holds the bytes in hex. */
size_t ab_json_utf8_fix(struct cJSON *doc);
bool ab_json_utf8_fix_needed(const struct cJSON *doc);

/* ----------------------------------------------------------------- version */

extern const char ab_version[];
extern const char ab_git_revision[];
extern const char ab_build_type[];

#endif
