/*
 * format-tsv.c — the TSV evidence files: a header row, one record per line,
 * tab-separated, no comments; a figure not measured is an empty field.
 * Per command: run writes allocator-fast-path-benchmarks.tsv and
 * allocator-diagnostics-report.tsv, and allocator-remote-free-report.tsv
 * and allocator-page-backend-report.tsv when it has rows for them; stress
 * allocator-stress-report.tsv and allocator-diagnostics-report.tsv;
 * fastpath allocator-fast-path-report.tsv; trace allocator-trace-report.tsv.
 * --format tsv prints a command's first file.
 */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BENCHMARKS "allocator-fast-path-benchmarks.tsv"
#define DIAGNOSTICS "allocator-diagnostics-report.tsv"
#define REMOTE_FREE "allocator-remote-free-report.tsv"
#define PAGE_BACKEND "allocator-page-backend-report.tsv"
#define STRESS "allocator-stress-report.tsv"
#define FAST_PATH "allocator-fast-path-report.tsv"
#define TRACE "allocator-trace-report.tsv"

/* A string member as a TSV field: tab, newline, carriage return and
 * backslash escaped as \t \n \r \\ (one field stays one field, and
 * reads back exactly).  Sixteen results live at once, enough for a row. */
static const char *F(const cJSON *o, const char *k)
{
    static char bufs[16][2 * 4096 + 1];
    static unsigned next;
    char *b = bufs[next++ % 16];
    ab_tsv_escape(b, sizeof bufs[0], ab_json_str(o, k));
    return b;
}

/* The header of allocator-diagnostics-report.tsv, which run and stress
 * both write. */
static const char diagnostics_header[] = "code\tallocator\tprofile\tcase\tdetail";

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* "\t" and a count, or just the tab where it is null. */
static void count(struct ab_text *t, const cJSON *o, const char *k)
{
    uint64_t v;
    if (ab_report_u64(o, k, &v))
        ab_text_printf(t, "\t%llu", (unsigned long long)v);
    else
        ab_text_printf(t, "\t");
}

/* "\t" and a figure in fmt, or just the tab where it is null. */
static void num(struct ab_text *t, const cJSON *o, const char *k, const char *fmt)
{
    ab_text_printf(t, "\t");
    ab_text_num(t, fmt, ab_json_num(o, k, NAN), "");
}

/* ---------------------------------------------------------------- run */

static char *run_benchmarks(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    ab_text_printf(&t, "workload\tallocator\tvariant\tthreads\tops_per_trial\tns_per_op_median\t"
                       "ns_per_op_min\tns_per_op_max\tns_per_op_ci95_low\tns_per_op_ci95_high\t"
                       "peak_rss_kib\tns_per_op_mad\tops_per_s_median\ttrials\tmeasured\t"
                       "status\trounds\tcv\tnoisy\tuser_s_median\tsys_s_median\t"
                       "minor_faults_median\tmajor_faults_median\tvoluntary_switches_median\t"
                       "involuntary_switches_median\n");
    const cJSON *a;
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        const cJSON *ns = get(a, "ns_per_op");
        ab_text_printf(&t, "%s\t%s\t%s\t%lld\t", F(a, "workload"),
                       F(a, "allocator"), F(a, "variant"),
                       (long long)ab_json_int(a, "threads"));
        uint64_t ops;
        if (ab_report_u64(a, "ops_per_trial", &ops))
            ab_text_printf(&t, "%llu", (unsigned long long)ops);
        num(&t, ns, "median", "%.3f");
        num(&t, ns, "min", "%.3f");
        num(&t, ns, "max", "%.3f");
        num(&t, ns, "ci95_low", "%.3f");
        num(&t, ns, "ci95_high", "%.3f");
        count(&t, a, "peak_rss_kib");
        num(&t, ns, "mad", "%.3f");
        num(&t, get(a, "ops_per_s"), "median", "%.3f");
        ab_text_printf(&t, "\t%lld\t%lld\t%s", (long long)ab_json_int(a, "trials"),
                       (long long)ab_json_int(a, "measured"), F(a, "status"));
        count(&t, a, "rounds");
        num(&t, a, "cv", "%.4f");
        ab_text_printf(&t, "\t%s", cJSON_IsTrue(get(a, "noisy")) ? "yes" : "no");
        const cJSON *ru = get(a, "rusage");
        num(&t, ru, "user_s", "%.6f");
        num(&t, ru, "sys_s", "%.6f");
        num(&t, ru, "minor_faults", "%.1f");
        num(&t, ru, "major_faults", "%.1f");
        num(&t, ru, "voluntary_switches", "%.1f");
        num(&t, ru, "involuntary_switches", "%.1f");
        ab_text_printf(&t, "\n");
        (*rows)++;
    }
    return ab_text_finish(&t);
}

static char *run_diagnostics(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    ab_text_printf(&t, "%s\n", diagnostics_header);
    const cJSON *d;
    cJSON_ArrayForEach(d, get(doc, "diagnostics"))
    {
        ab_text_printf(&t, "%s\t%s\t\t%s:%s:t%lld:r%lld\t", F(d, "code"),
                       F(d, "allocator"), F(d, "workload"),
                       F(d, "variant"), (long long)ab_json_int(d, "threads"),
                       (long long)ab_json_int(d, "repetition"));
        ab_text_field(&t, F(d, "detail"));
        ab_text_printf(&t, "\n");
        (*rows)++;
    }
    return ab_text_finish(&t);
}

/* A tab and a metric's median (an integer prints as one), or just a tab. */
static void metric(struct ab_text *t, const cJSON *metrics, const char *name)
{
    const cJSON *m = get(metrics, name);
    double v = ab_json_num(m, "median", NAN);
    if (!m || ab_json_num(m, "n", 0) <= 0 || !isfinite(v))
        ab_text_printf(t, "\t");
    else if (v == (double)(int64_t)v)
        ab_text_printf(t, "\t%lld", (long long)v);
    else
        ab_text_printf(t, "\t%.3f", v);
}

/* The seed's columns first, in its order; variant (and, per sample,
 * threads and repetition) after them so that rows of one workload stay
 * distinct.  Rows from aggregates with a remote_frees metric. */
static char *run_remote_free(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    ab_text_printf(&t, "workload\tallocator\tthreads\tremote_frees\tns_per_remote_free\t"
                       "pending_at_end\tvariant\ttrials\n");
    const cJSON *a;
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        const cJSON *m = get(a, "metrics");
        if (!get(m, "remote_frees"))
            continue;
        ab_text_printf(&t, "%s\t%s\t%lld", F(a, "workload"),
                       F(a, "allocator"), (long long)ab_json_int(a, "threads"));
        metric(&t, m, "remote_frees");
        metric(&t, m, "ns_per_remote_free");
        metric(&t, m, "pending_at_end");
        ab_text_printf(&t, "\t%s\t%lld\n", F(a, "variant"),
                       (long long)ab_json_int(a, "measured"));
        (*rows)++;
    }
    return ab_text_finish(&t);
}

/* Rows from the trials' phase samples. */
static char *run_page_backend(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    ab_text_printf(&t, "workload\tallocator\tphase\tlive_bytes\trss_bytes\tmapped_bytes\t"
                       "resident_bytes\tvariant\tthreads\trepetition\n");
    const cJSON *r, *s;
    cJSON_ArrayForEach(r, get(doc, "trials"))
    {
        cJSON_ArrayForEach(s, get(r, "samples"))
        {
            ab_text_printf(&t, "%s\t%s\t", F(r, "workload"),
                           F(r, "allocator"));
            ab_text_field(&t, F(s, "phase"));
            count(&t, s, "live_bytes");
            count(&t, s, "rss_bytes");
            count(&t, s, "mapped_bytes");
            count(&t, s, "resident_bytes");
            ab_text_printf(&t, "\t%s\t%lld\t%lld\n", F(r, "variant"),
                           (long long)ab_json_int(r, "threads"),
                           (long long)ab_json_int(r, "repetition"));
            (*rows)++;
        }
    }
    return ab_text_finish(&t);
}

/* ------------------------------------------------------------- stress */

static char *stress_cases(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    ab_text_printf(&t, "profile\tallocator\tcase\tverdict\toperations\tblocks_verified\t"
                       "diagnostics\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, get(doc, "cases"))
    {
        ab_text_printf(&t, "%s\t%s\t%s\t%s\t", F(c, "profile"),
                       F(c, "allocator"), F(c, "case"),
                       F(c, "verdict"));
        uint64_t ops, verified;
        if (ab_report_u64(c, "operations", &ops) && ab_report_u64(c, "blocks_verified", &verified))
            ab_text_printf(&t, "%llu\t%llu", (unsigned long long)ops,
                           (unsigned long long)verified);
        else
            ab_text_printf(&t, "\t");
        if (!strcmp(ab_json_str(c, "verdict"), "not-applicable"))
            ab_text_printf(&t, "\t\n");
        else
            ab_text_printf(&t, "\t%d\n", cJSON_GetArraySize(get(c, "diagnostics")));
        (*rows)++;
    }
    return ab_text_finish(&t);
}

static char *stress_diagnostics(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    ab_text_printf(&t, "%s\n", diagnostics_header);
    const cJSON *d;
    cJSON_ArrayForEach(d, get(doc, "diagnostics"))
    {
        ab_text_printf(&t, "%s\t%s\t%s\t%s\t", F(d, "code"),
                       F(d, "allocator"), F(d, "profile"),
                       F(d, "case"));
        ab_text_field(&t, F(d, "detail"));
        uint64_t n;
        if (ab_report_u64(d, "count", &n) && n > 1)
            ab_text_printf(&t, " (%llu occurrences)", (unsigned long long)n);
        ab_text_printf(&t, "\n");
        (*rows)++;
    }
    return ab_text_finish(&t);
}

/* ----------------------------------------------------------- fastpath */

static char *fastpath_rows(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    ab_text_printf(&t, "allocator\top\tsize\tpattern\tcalls\tcounter\tinstructions_p50\t"
                       "branches_p50\tconditional_p50\tinstructions_min\tinstructions_p90\t"
                       "instructions_p99\tinstructions_max\tinstructions_mean\t"
                       "slow_path_share\tfast_path_reference\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        uint64_t size = 0, calls;
        ab_report_u64(r, "size", &size);
        ab_text_printf(&t, "%s\t%s\t%llu\t%s\t", F(r, "allocator"),
                       F(r, "op"), (unsigned long long)size, F(r, "pattern"));
        if (ab_report_u64(r, "calls", &calls))
            ab_text_printf(&t, "%llu", (unsigned long long)calls);
        ab_text_printf(&t, "\t%s", F(r, "counter"));
        const cJSON *in = get(r, "instructions");
        count(&t, in, "p50");
        count(&t, get(r, "branches"), "p50");
        count(&t, get(r, "conditional"), "p50");
        count(&t, in, "min");
        count(&t, in, "p90");
        count(&t, in, "p99");
        count(&t, in, "max");
        num(&t, in, "mean", "%.2f");
        num(&t, r, "slow_path_share", "%.6g");
        num(&t, r, "fast_path_reference", "%.0f");
        ab_text_printf(&t, "\n");
        (*rows)++;
    }
    return ab_text_finish(&t);
}

/* -------------------------------------------------------------- trace */

/* One row per non-empty bin of a log2 histogram. */
static void trace_bins(struct ab_text *t, const char *section, const char *function,
                       const char *object, const cJSON *bins)
{
    const cJSON *b;
    cJSON_ArrayForEach(b, bins)
    {
        uint64_t low, high, n = 0;
        ab_report_log2_bounds(b, &low, &high);
        ab_report_u64(b, "count", &n);
        ab_text_printf(t, "%s\t%s\t%s\t%lld\t%llu\t%llu\t%llu\t\t\t\t\t\t\t\t\n", section,
                       function, object, (long long)ab_json_int(b, "bin"),
                       (unsigned long long)low, (unsigned long long)high,
                       (unsigned long long)n);
    }
}

static char *trace_rows(const cJSON *doc, size_t *rows)
{
    struct ab_text t = {0};
    const cJSON *tr = get(doc, "trace"), *funcs = get(tr, "functions"), *f;
    ab_text_printf(&t, "section\tfunction\tobject\tbin\tlow\thigh\tcount\tbytes\tnested\tfailed\t"
                       "latency_ns_mean\ttask_clock_ns_per_call\ttask_clock_calls\t"
                       "instructions_per_call\tinstruction_calls\n");
    cJSON_ArrayForEach(f, funcs)
    {
        uint64_t calls = 0, bytes = 0, nested = 0, failed;
        ab_report_u64(f, "calls", &calls);
        ab_report_u64(f, "bytes", &bytes);
        ab_report_u64(f, "nested_calls", &nested);
        ab_text_printf(&t, "calls\t%s\t%s\t\t\t\t%llu\t%llu\t%llu\t", F(f, "function"),
                       F(f, "object"), (unsigned long long)calls,
                       (unsigned long long)bytes, (unsigned long long)nested);
        if (ab_report_u64(f, "failed", &failed))
            ab_text_printf(&t, "%llu", (unsigned long long)failed);
        num(&t, f, "latency_ns_mean", "%.1f");
        num(&t, f, "task_clock_ns_per_call", "%.1f");
        count(&t, f, "task_clock_calls");
        num(&t, f, "instructions_per_call", "%.1f");
        count(&t, f, "instruction_calls");
        ab_text_printf(&t, "\n");
        (*rows)++;
    }
    static const char *const hists[2][2] = {{"size", "size_histogram"},
                                            {"latency", "latency_histogram_ns"}};
    for (int h = 0; h < 2; h++) {
        cJSON_ArrayForEach(f, funcs)
            trace_bins(&t, hists[h][0], F(f, "function"), F(f, "object"),
                       get(f, hists[h][1]));
        trace_bins(&t, hists[h][0], "all", "", get(tr, hists[h][1]));
    }
    const cJSON *out = get(tr, "outstanding"), *g;
    uint64_t blocks = 0, bytes = 0;
    ab_report_u64(out, "allocations", &blocks);
    ab_report_u64(out, "bytes", &bytes);
    ab_text_printf(&t, "outstanding\tall\t\t\t\t\t%llu\t%llu\t\t\t\t\t\t\t\n",
                   (unsigned long long)blocks, (unsigned long long)bytes);
    cJSON_ArrayForEach(g, get(out, "groups"))
    {
        uint64_t size = 0, n = 0, b = 0;
        ab_report_u64(g, "size", &size);
        ab_report_u64(g, "count", &n);
        ab_report_u64(g, "bytes", &b);
        ab_text_printf(&t, "outstanding\t\t\t\t%llu\t%llu\t%llu\t%llu\t\t\t\t\t\t\t\n",
                       (unsigned long long)size, (unsigned long long)size,
                       (unsigned long long)n, (unsigned long long)b);
    }
    return ab_text_finish(&t);
}

/* ----------------------------------------------------------- dispatch */

/* A command's files, its first one what --format tsv prints; a file that
 * is not always written is written when it has rows. */
static const struct part {
    const char *command, *name;
    char *(*render)(const cJSON *doc, size_t *rows);
    bool always;
} parts[] = {
    {"run", BENCHMARKS, run_benchmarks, true},
    {"run", DIAGNOSTICS, run_diagnostics, true},
    {"run", REMOTE_FREE, run_remote_free, false},
    {"run", PAGE_BACKEND, run_page_backend, false},
    {"stress", STRESS, stress_cases, true},
    {"stress", DIAGNOSTICS, stress_diagnostics, true},
    {"fastpath", FAST_PATH, fastpath_rows, true},
    {"trace", TRACE, trace_rows, true},
};

static int files(const cJSON *doc, struct ab_report_set *set, char *err, size_t errlen)
{
    const char *command = ab_json_str(doc, "command");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (strcmp(parts[i].command, command))
            continue;
        size_t rows = 0;
        char *text = parts[i].render(doc, &rows);
        if (text && !rows && !parts[i].always) {
            free(text);
            continue;
        }
        int rc = ab_report_set_add(set, parts[i].name, text, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static char *print(const cJSON *doc)
{
    const char *command = ab_json_str(doc, "command");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t rows = 0;
        if (!strcmp(parts[i].command, command))
            return parts[i].render(doc, &rows);
    }
    return NULL;
}

static const char *const commands[] = {"run", "stress", "fastpath", "trace", NULL};
static const char *const writes[] = {BENCHMARKS, DIAGNOSTICS, REMOTE_FREE, PAGE_BACKEND,
                                     STRESS,     FAST_PATH,   TRACE,       NULL};

const struct ab_format ab_format_tsv = {
    .name = "tsv",
    .summary = "the TSV evidence files: one record per line, empty where not measured",
    .choosable = true,
    .commands = commands,
    .writes = writes,
    .files = files,
    .print = print,
};
