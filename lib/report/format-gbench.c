/*
 * format-gbench.c — benchmark.json: the figures of a run or a fast-path
 * count in google-benchmark's JSON output format (what a benchmark binary
 * writes with --benchmark_out_format=json), so that google-benchmark's
 * tools/compare.py and the dashboards that read that format take them
 * unchanged.  --format gbench prints the same bytes; other commands' documents
 * get no file.
 *
 * run: one "iteration" benchmark per measured trial, named
 * workload/variant/allocator/threads:N, then that configuration's mean,
 * median, stddev and cv aggregates, named <run_name>_<aggregate> as
 * google-benchmark names them, when two or more of its trials were measured.
 * fastpath: one benchmark per counted row, fastpath/op/size/pattern/allocator:
 * its "times" are the instruction count (compare.py compares real_time and
 * cpu_time only), its counters the counts.  The README's "benchmark.json"
 * says what each member holds.
 */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCHMARK_JSON "benchmark.json"

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* s as valid UTF-8, as google-benchmark's readers need: each byte that
 * starts no valid sequence becomes U+FFFD (report.json keeps the bytes). */
static void add_str(cJSON *o, const char *k, const char *s)
{
    size_t n = strlen(s), len = 0;
    char *buf = malloc(3 * n + 1);
    if (!buf)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t seq = ab_utf8_seq(p);
        if (seq) {
            memcpy(buf + len, p, seq);
            len += seq;
            p += seq;
        } else {
            memcpy(buf + len, "\xef\xbf\xbd", 3);
            len += 3;
            p++;
        }
    }
    buf[len] = '\0';
    cJSON_AddStringToObject(o, k, buf);
    free(buf);
}

/* ------------------------------------------------------------ context */

/* "20260102T030405Z" as google-benchmark's date, 2026-01-02T03:04:05+00:00. */
static void add_date(cJSON *o, const char *started_utc)
{
    int y, mo, d, h, mi, s, end = 0;
    if (sscanf(started_utc, "%4d%2d%2dT%2d%2d%2dZ%n", &y, &mo, &d, &h, &mi, &s, &end) != 6 ||
        !end || started_utc[end])
        return;
    char date[64];
    snprintf(date, sizeof date, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", y, mo, d, h, mi, s);
    cJSON_AddStringToObject(o, "date", date);
}

/* The load averages at the start of the run: context.load_average.start
 * (one figure or several), where the document has it. */
static void add_load(cJSON *o, const cJSON *c)
{
    const cJSON *la = get(c, "load_average"), *v;
    if (cJSON_IsObject(la))
        la = get(la, "start");
    cJSON *out = cJSON_CreateArray();
    if (cJSON_IsNumber(la))
        cJSON_AddItemToArray(out, cJSON_CreateNumber(la->valuedouble));
    cJSON_ArrayForEach(v, (cJSON_IsArray(la) ? la : NULL))
        if (cJSON_IsNumber(v))
            cJSON_AddItemToArray(out, cJSON_CreateNumber(v->valuedouble));
    if (cJSON_GetArraySize(out))
        cJSON_AddItemToObject(o, "load_avg", out);
    else
        cJSON_Delete(out);
}

static void add_caches(cJSON *o, const cJSON *topology)
{
    const cJSON *c;
    cJSON *caches = cJSON_AddArrayToObject(o, "caches");
    cJSON_ArrayForEach(c, get(topology, "caches"))
    {
        /* google-benchmark's words for the types. */
        const char *type = ab_json_str(c, "type");
        static const char *const words[][2] = {
            {"data", "Data"}, {"instruction", "Instruction"}, {"unified", "Unified"}};
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (!strcmp(type, words[i][0]))
                type = words[i][1];
        cJSON *e = cJSON_CreateObject();
        add_str(e, "type", type);
        cJSON_AddNumberToObject(e, "level", ab_json_num(c, "level", 0));
        cJSON_AddNumberToObject(e, "size", ab_json_num(c, "size_bytes", 0));
        cJSON_AddItemToArray(caches, e);
    }
}

static cJSON *context(const cJSON *doc)
{
    const cJSON *c = get(doc, "context"), *ab = get(c, "allocbench"), *s;
    cJSON *o = cJSON_CreateObject();
    add_date(o, ab_json_str(c, "started_utc"));
    if (cJSON_IsString(get(c, "hostname")))
        add_str(o, "host_name", ab_json_str(c, "hostname"));
    cJSON_AddStringToObject(o, "executable", "allocbench");
    int64_t pus = ab_json_int(get(c, "topology"), "pus");
    if (pus > 0)
        cJSON_AddNumberToObject(o, "num_cpus", (double)pus);
    double mhz = ab_json_num(c, "cpu_mhz", NAN);
    if (isfinite(mhz) && mhz > 0)
        cJSON_AddNumberToObject(o, "mhz_per_cpu", round(mhz));
    /* google-benchmark's own test: scaling is on unless the governor is
     * "performance". */
    const cJSON *governor = get(c, "cpu_governor");
    if (cJSON_IsString(governor) && *governor->valuestring)
        cJSON_AddBoolToObject(o, "cpu_scaling_enabled",
                              strcmp(governor->valuestring, "performance") != 0);
    add_caches(o, get(c, "topology"));
    add_load(o, c);
    /* google-benchmark knows release and debug builds; meson's optimized
     * types are its release. */
    const char *bt = ab_json_str(ab, "build_type");
    bool release = !strcmp(bt, "release") || !strcmp(bt, "debugoptimized") ||
                   !strcmp(bt, "minsize");
    cJSON_AddStringToObject(o, "library_build_type", release ? "release" : "debug");
    cJSON_AddNumberToObject(o, "json_schema_version", 1);
    /* The rest as google-benchmark's custom context: string members. */
    add_str(o, "allocbench_version", ab_json_str(ab, "version"));
    if (cJSON_IsString(get(ab, "git_revision")))
        add_str(o, "allocbench_git_revision", ab_json_str(ab, "git_revision"));
    add_str(o, "allocbench_command", ab_json_str(doc, "command"));
    if (cJSON_IsString(get(c, "command_line")))
        add_str(o, "allocbench_command_line", ab_json_str(c, "command_line"));
    static const char *const keys[] = {"cpu_model", "kernel", "glibc", "thp", "counter",
                                       "counter_version"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (cJSON_IsString(get(c, keys[i])))
            add_str(o, keys[i], ab_json_str(c, keys[i]));
    struct ab_text t = {0};
    cJSON_ArrayForEach(s, get(c, "subjects"))
    {
        ab_text_printf(&t, "%s%s", t.len ? "; " : "", ab_json_str(s, "name"));
        if (cJSON_IsString(get(s, "version")))
            ab_text_printf(&t, " %s", ab_json_str(s, "version"));
    }
    char *subjects = ab_text_finish(&t);
    if (subjects && *subjects)
        add_str(o, "allocators", subjects);
    free(subjects);
    return o;
}

/* ----------------------------------------------------------- benchmarks */

/* A benchmark's members up to its figures, in google-benchmark's order. */
static cJSON *benchmark(const char *name, const char *run_name, int family, const char *run_type,
                        double repetitions, double repetition_index, double threads)
{
    cJSON *b = cJSON_CreateObject();
    add_str(b, "name", name);
    cJSON_AddNumberToObject(b, "family_index", family);
    cJSON_AddNumberToObject(b, "per_family_instance_index", 0);
    add_str(b, "run_name", run_name);
    cJSON_AddStringToObject(b, "run_type", run_type);
    cJSON_AddNumberToObject(b, "repetitions", repetitions);
    if (repetition_index >= 0)
        cJSON_AddNumberToObject(b, "repetition_index", repetition_index);
    cJSON_AddNumberToObject(b, "threads", threads);
    return b;
}

static void times(cJSON *b, double iterations, double real, double cpu)
{
    cJSON_AddNumberToObject(b, "iterations", iterations);
    cJSON_AddNumberToObject(b, "real_time", real);
    cJSON_AddNumberToObject(b, "cpu_time", cpu);
    cJSON_AddStringToObject(b, "time_unit", "ns");
}

/* ---------------------------------------------------------------- run */

static bool same_config(const cJSON *t, const cJSON *a)
{
    return !strcmp(ab_json_str(t, "workload"), ab_json_str(a, "workload")) &&
           !strcmp(ab_json_str(t, "variant"), ab_json_str(a, "variant")) &&
           !strcmp(ab_json_str(t, "allocator"), ab_json_str(a, "allocator")) &&
           ab_json_int(t, "threads") == ab_json_int(a, "threads");
}

/* The trial's CPU time per op: what the kernel accounted to its child
 * (user and system, the child's whole life) over the ops it measured;
 * its ns per op where the trial records no rusage. */
static double cpu_per_op(const cJSON *trial, uint64_t ops, double ns_per_op)
{
    const cJSON *ru = get(trial, "rusage");
    double user = ab_json_num(ru, "user_s", NAN), sys = ab_json_num(ru, "sys_s", NAN);
    if (!isfinite(user) || !isfinite(sys))
        return ns_per_op;
    return (user + sys) * 1e9 / (double)ops;
}

/* mean, median, stddev and cv over a configuration's measured trials, as
 * google-benchmark aggregates repetitions (iterations: how many). */
static void run_aggregates(cJSON *benchmarks, const char *run_name, int family,
                           double repetitions, double threads, const double *real,
                           const double *cpu, size_t n)
{
    struct ab_summary sr, sc;
    ab_summarize(real, n, &sr);
    ab_summarize(cpu, n, &sc);
    double sdr = ab_stddev(real, n), sdc = ab_stddev(cpu, n);
    const struct {
        const char *name;
        double real, cpu;
    } agg[] = {
        {"mean", sr.mean, sc.mean},
        {"median", sr.median, sc.median},
        {"stddev", sdr, sdc},
        /* A fraction (0.01 is 1 %), as google-benchmark writes it. */
        {"cv", sr.mean > 0 ? sdr / sr.mean : 0, sc.mean > 0 ? sdc / sc.mean : 0},
    };
    for (size_t i = 0; i < sizeof agg / sizeof agg[0]; i++) {
        char name[4200];
        snprintf(name, sizeof name, "%s_%s", run_name, agg[i].name);
        cJSON *b = benchmark(name, run_name, family, "aggregate", repetitions, -1, threads);
        cJSON_AddStringToObject(b, "aggregate_name", agg[i].name);
        cJSON_AddStringToObject(b, "aggregate_unit",
                                !strcmp(agg[i].name, "cv") ? "percentage" : "time");
        times(b, (double)n, agg[i].real, agg[i].cpu);
        cJSON_AddItemToArray(benchmarks, b);
    }
}

/* Per configuration, in the document's order: its measured trials, then
 * its aggregates. */
static void run_benchmarks(const cJSON *doc, cJSON *benchmarks)
{
    const cJSON *trials = get(doc, "trials"), *a, *t;
    double repetitions = ab_json_num(get(doc, "run"), "repetitions", 1);
    size_t ntrials = (size_t)cJSON_GetArraySize(trials);
    double *real = malloc((ntrials + 1) * sizeof *real);
    double *cpu = malloc((ntrials + 1) * sizeof *cpu);
    int family = 0;
    cJSON_ArrayForEach(a, (real && cpu ? get(doc, "aggregates") : NULL))
    {
        char name[4096];
        double threads = ab_json_num(a, "threads", 1);
        snprintf(name, sizeof name, "%s/%s/%s/threads:%lld", ab_json_str(a, "workload"),
                 ab_json_str(a, "variant"), ab_json_str(a, "allocator"),
                 (long long)ab_json_int(a, "threads"));
        size_t n = 0;
        cJSON_ArrayForEach(t, trials)
        {
            uint64_t ops;
            double ns = ab_json_num(t, "ns_per_op", NAN);
            if (!same_config(t, a) || strcmp(ab_json_str(t, "status"), "ok") ||
                !ab_report_u64(t, "ops", &ops) || !ops || !isfinite(ns))
                continue;
            real[n] = ns;
            cpu[n] = cpu_per_op(t, ops, ns);
            cJSON *b = benchmark(name, name, family, "iteration", repetitions,
                                 ab_json_num(t, "repetition", (double)n), threads);
            times(b, (double)ops, real[n], cpu[n]);
            cJSON_AddItemToArray(benchmarks, b);
            n++;
        }
        if (!n)
            continue;
        if (n >= 2)
            run_aggregates(benchmarks, name, family, repetitions, threads, real, cpu, n);
        family++;
    }
    free(real);
    free(cpu);
}

/* ----------------------------------------------------------- fastpath */

/* A counter: a numeric member beside the figures, where it was counted. */
static void counter(cJSON *b, const char *name, const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    if (cJSON_IsNumber(v))
        cJSON_AddNumberToObject(b, name, v->valuedouble);
}

/* One benchmark per counted row: iterations the calls counted, real_time
 * and cpu_time the median call's instructions (a count, in the time
 * members because compare.py compares nothing else), the counts as
 * counters. */
static void fastpath_benchmarks(const cJSON *doc, cJSON *benchmarks)
{
    const cJSON *r;
    int family = 0;
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        const cJSON *in = get(r, "instructions");
        uint64_t calls, p50, size = 0;
        if (strcmp(ab_json_str(r, "status"), "ok") || !ab_report_u64(r, "calls", &calls) ||
            !ab_report_u64(in, "p50", &p50))
            continue;
        ab_report_u64(r, "size", &size);
        char name[4096];
        snprintf(name, sizeof name, "fastpath/%s/%llu/%s/%s", ab_json_str(r, "op"),
                 (unsigned long long)size, ab_json_str(r, "pattern"), ab_json_str(r, "allocator"));
        cJSON *b = benchmark(name, name, family++, "iteration", 1, 0, 1);
        times(b, (double)calls, (double)p50, (double)p50);
        counter(b, "instructions", in, "p50");
        counter(b, "instructions_mean", in, "mean");
        counter(b, "branches", get(r, "branches"), "p50");
        counter(b, "conditional", get(r, "conditional"), "p50");
        counter(b, "slow_path_share", r, "slow_path_share");
        cJSON_AddItemToArray(benchmarks, b);
    }
}

/* ----------------------------------------------------------- dispatch */

static char *print(const cJSON *doc)
{
    const char *command = ab_json_str(doc, "command");
    bool run = !strcmp(command, "run");
    if (!run && strcmp(command, "fastpath"))
        return NULL;
    cJSON *out = cJSON_CreateObject();
    if (!out)
        return NULL;
    cJSON_AddItemToObject(out, "context", context(doc));
    cJSON *benchmarks = cJSON_AddArrayToObject(out, "benchmarks");
    if (run)
        run_benchmarks(doc, benchmarks);
    else
        fastpath_benchmarks(doc, benchmarks);
    /* Printed as report.json is (its strings are valid UTF-8 already). */
    char *text = ab_format_find("json")->print(out);
    cJSON_Delete(out);
    return text;
}

static int files(const cJSON *doc, struct ab_report_set *set, char *err, size_t errlen)
{
    const char *command = ab_json_str(doc, "command");
    if (strcmp(command, "run") && strcmp(command, "fastpath"))
        return 0;
    return ab_report_set_add(set, BENCHMARK_JSON, print(doc), err, errlen);
}

static const char *const commands[] = {"run", "fastpath", NULL};
static const char *const writes[] = {BENCHMARK_JSON, NULL};

const struct ab_format ab_format_gbench = {
    .name = "gbench",
    .summary = "benchmark.json: google-benchmark's JSON output format, for its compare.py and "
               "the dashboards that read it",
    .choosable = true,
    .commands = commands,
    .writes = writes,
    .files = files,
    .print = print,
};
