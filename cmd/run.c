/* run.c — `allocbench run <workload> [options]`: parse, validate, hand over. */
#include "run.h"
#include "cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SUBJECTS 16
#define MAX_ASSIGN 32

static const char usage[] =
    "usage: allocbench run <workload> [options]\n"
    "\n"
    "Runs every trial of the workload in a fresh child process that the allocator\n"
    "owns; several allocators are run interleaved, trial by trial, and compared.\n"
    "Workloads and their parameters: allocbench list workloads\n"
    "\n"
    "options:\n"
    "  --allocator A[,B...]  glibc, jemalloc, tcmalloc, mimalloc, bump, bump-fixed,\n"
    "                        or a path to a .so (plugin or malloc-compatible);\n"
    "                        default glibc; at most 16\n"
    "  --threads N[,M...]    threads per trial, 1..1024 each; default 1\n"
    "  --variant V[,W...]    the workload's variants to run; default all\n"
    "  --repetitions R       trials per configuration, 1..100000; default 15\n"
    "  --warmup W            unmeasured rounds before measuring, 0..10000000; default 2\n"
    "  --rounds N            measured rounds per trial, 1..100000000; default:\n"
    "                        calibrated (--min-time)\n"
    "  --min-time S          the measured phase of every trial lasts at least S\n"
    "                        seconds, 0..3600: rounds are scaled from the workload's\n"
    "                        own in calibration children; default 0.2; 0: the\n"
    "                        workload's rounds as they are\n"
    "  --seed S              seed of every random choice, 0..2^64-1; default 1\n"
    "  --param KEY=VALUE     a workload parameter (repeatable), checked against its range\n"
    "  --preset quick        the workload's small preset (applied before --param)\n"
    "  --out DIR             report folder; default results/runs/<UTC timestamp>/\n"
    "  --format F            what stdout shows: console (default), json, tsv,\n"
    "                        markdown (tables for a pull request) or gbench\n"
    "                        (benchmark.json); the files are always written\n"
    "  --timeout SECONDS     per trial, 0.1..86400; default 60; a trial past it is\n"
    "                        killed and reported (ALLOCBENCH_TRIAL_TIMEOUT)\n"
    "  --shard K/N           only the K-th of N slices of the configurations (variant x\n"
    "                        threads, every allocator of one together), 0 <= K < N\n"
    "                        <= 10000; the slices' reports join with allocbench merge\n"
    "  --pin                 bind each thread to a PU of its own (hwloc, else\n"
    "                        sched_setaffinity), cores before hyperthreads; the\n"
    "                        placement is recorded in report.json\n"
#if AB_HAVE_CALLGRIND_H
    "  --counter C           none (default: time only) or callgrind (each trial under\n"
    "                        valgrind: instructions and conditional branches per op\n"
    "                        of the measured phase; no times, they mean nothing there)\n"
#endif
    "\n"
    "files written to DIR: report.json, allocator-fast-path-benchmarks.tsv,\n"
    "allocator-diagnostics-report.tsv, benchmark.json, report.html (charts of the\n"
    "figures: allocbench report DIR writes it again); allocator-remote-free-report.tsv\n"
    "and allocator-page-backend-report.tsv when the workload produced rows for them\n"
    "\n"
    "exit status: 0 all trials measured or not available; 1 a trial crashed, hung or\n"
    "failed (the run goes on); 2 usage or input error; 3 an allocator (or the counter)\n"
    "is not installed\n";

enum { OPT_ALLOCATOR = 256, OPT_THREADS, OPT_VARIANT, OPT_ROUNDS, OPT_PARAM, OPT_PRESET,
       OPT_PIN, OPT_COUNTER, OPT_MIN_TIME, OPT_SHARD };

static const struct ab_opt options[] = {
    {"allocator", true, OPT_ALLOCATOR}, {"threads", true, OPT_THREADS},
    {"variant", true, OPT_VARIANT},     {"rounds", true, OPT_ROUNDS},
    {"param", true, OPT_PARAM},         {"preset", true, OPT_PRESET},
    {"pin", false, OPT_PIN},            {"counter", true, OPT_COUNTER},
    {"min-time", true, OPT_MIN_TIME},   {"shard", true, OPT_SHARD},
};

/* What run's own options set, and what parse makes of them. */
struct run_args {
    const char *allocator, *threads, *variant, *preset, *counter;
    const char *assign[MAX_ASSIGN];
    size_t nassign;
    uint64_t rounds;
    double min_time;
    bool pin, min_time_set;
    struct ab_shard shard;
    struct ab_common co;
    const char *workload;
    struct ab_cmd_allocators allocators;
    /* The workload, its parameters, thread counts and variants. */
    struct ab_run_config cfg;
};

static int on_option(int id, const char *v, void *ctx)
{
    struct run_args *a = ctx;
    int rc;
    switch (id) {
    case OPT_ALLOCATOR: a->allocator = v; break;
    case OPT_THREADS: a->threads = v; break;
    case OPT_VARIANT: a->variant = v; break;
    case OPT_ROUNDS:
        if ((rc = ab_parse_u64(v, 1, 100000000, false, &a->rounds)))
            return ab_cmd_bad_number("rounds", v, rc, "[1, 100000000]");
        break;
    case OPT_PARAM:
        if (a->nassign == MAX_ASSIGN)
            return ab_error(AB_ALLOCBENCH_USAGE, "at most %d --param options", MAX_ASSIGN);
        a->assign[a->nassign++] = v;
        break;
    case OPT_PRESET:
        if (strcmp(v, "quick"))
            return ab_error(AB_ALLOCBENCH_USAGE, "--preset %s: the only preset is quick", v);
        a->preset = v;
        break;
    case OPT_PIN: a->pin = true; break;
    case OPT_SHARD:
        if ((rc = ab_shard_parse(v, &a->shard)))
            return ab_cmd_bad_shard(v, rc);
        break;
    case OPT_MIN_TIME:
        if ((rc = ab_parse_double(v, 0, 3600, &a->min_time)))
            return ab_cmd_bad_number("min-time", v, rc, "[0, 3600] seconds");
        a->min_time_set = true;
        break;
    case OPT_COUNTER: {
        /* A backend that counts whole workloads, or none. */
        const struct ab_counter *k = ab_counter_find(v);
        if (strcmp(v, "none") && !(k && (k->workload || k->unavailable))) {
            char names[256] = "none";
            size_t nc;
            const struct ab_counter *const *all = ab_counters(&nc);
            for (size_t i = 0; i < nc; i++)
                if (all[i]->workload)
                    snprintf(names + strlen(names), sizeof names - strlen(names), " or %s",
                             all[i]->name);
            return ab_error(AB_ALLOCBENCH_USAGE, "--counter %s: expected %s", v, names);
        }
        a->counter = v;
        break;
    }
    }
    return AB_EXIT_OK;
}

static int run_parse(int argc, char **argv, void *args)
{
    static char thread_items[16][AB_NAME_MAX * 4];
    static char variant_items[32][AB_NAME_MAX * 4];
    struct run_args *a = args;
    a->allocator = "glibc";
    a->threads = "1";
    a->counter = "none";
    a->co = (struct ab_common){.format = "console", .seed = 1, .timeout_s = 60,
                               .repetitions = 15, .warmup = 2};
    const char *words[1];
    struct ab_args pos = {.min = 1, .max = 1, .v = words,
                          .missing = "which workload? (see: allocbench list workloads)"};
    int rc = ab_cmd_parse(argc, argv, &ab_command_run,
                          AB_COMMON_FORMAT | AB_COMMON_OUT | AB_COMMON_SEED | AB_COMMON_TIMEOUT |
                              AB_COMMON_REPETITIONS | AB_COMMON_WARMUP,
                          &a->co, options, sizeof options / sizeof options[0], on_option, a, &pos);
    if (rc)
        return rc;
    if (a->rounds && a->min_time_set)
        return ab_error(AB_ALLOCBENCH_USAGE, "run: --rounds and --min-time exclude each other");
    const char *threads_arg = a->threads, *variant_arg = a->variant, *preset = a->preset;
    const char *const *assign = a->assign;
    size_t nassign = a->nassign;
    const char *workload = a->workload = pos.v[0];

    struct ab_run_config *cfg = &a->cfg;
    cfg->wl = ab_workload_find(workload);
    if (!cfg->wl)
        return ab_error(AB_ALLOCBENCH_UNKNOWN_WORKLOAD,
                        "unknown workload '%s' (see: allocbench list workloads)", workload);
    char err[1024];
    if (ab_params_defaults(cfg->wl, &cfg->params, err, sizeof err))
        return ab_error(AB_ALLOCBENCH_INTERNAL, "%s", err);
    if (preset) {
        char buf[512];
        ab_strlcpy(buf, cfg->wl->quick, sizeof buf);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
            if (ab_params_apply(cfg->wl, &cfg->params, tok, err, sizeof err))
                return ab_error(AB_ALLOCBENCH_INTERNAL, "preset quick: %s", err);
    }
    for (size_t i = 0; i < nassign; i++) {
        if (ab_params_apply(cfg->wl, &cfg->params, assign[i], err, sizeof err))
            return ab_error(AB_ALLOCBENCH_BAD_PARAM, "%s", err);
        size_t len = strlen(cfg->assignments);
        snprintf(cfg->assignments + len, sizeof cfg->assignments - len, "%s%s", len ? "," : "",
                 assign[i]);
    }
    if (cfg->wl->check && cfg->wl->check(cfg->wl, &cfg->params, err, sizeof err))
        return ab_error(AB_ALLOCBENCH_BAD_PARAM, "%s", err);

    int n;
    if ((rc = ab_cmd_list("threads", threads_arg, thread_items, 16, &n)))
        return rc;
    for (int i = 0; i < n; i++) {
        uint64_t v;
        if ((rc = ab_parse_u64(thread_items[i], 1, AB_MAX_THREADS, false, &v)))
            return ab_cmd_bad_number("threads", thread_items[i], rc, "[1, 1024]");
        for (size_t j = 0; j < cfg->nthreads; j++)
            if (cfg->threads[j] == v)
                return ab_error(AB_ALLOCBENCH_USAGE, "--threads names %llu twice",
                                (unsigned long long)v);
        cfg->threads[cfg->nthreads++] = (unsigned)v;
    }
    if (variant_arg) {
        if ((rc = ab_cmd_list("variant", variant_arg, variant_items, 32, &n)))
            return rc;
        for (int i = 0; i < n; i++) {
            int v = ab_workload_variant_index(cfg->wl, variant_items[i]);
            if (v < 0)
                return ab_error(AB_ALLOCBENCH_USAGE,
                                "workload %s has no variant '%s' (see: allocbench list "
                                "workloads)",
                                cfg->wl->name, variant_items[i]);
            if (cfg->variant_on[v])
                return ab_error(AB_ALLOCBENCH_USAGE, "--variant names %s twice",
                                variant_items[i]);
            cfg->variant_on[v] = true;
        }
    } else {
        for (int v = 0; cfg->wl->variants[v]; v++)
            cfg->variant_on[v] = true;
    }
    return ab_cmd_allocators(a->allocator, &a->allocators);
}

static int run_run(void *args)
{
    static struct ab_subject subjects[MAX_SUBJECTS];
    struct run_args *a = args;
    const char *out = a->co.out, *format = a->co.format, *counter = a->counter;
    uint64_t reps = a->co.repetitions, warmup = a->co.warmup, rounds = a->rounds;
    uint64_t seed = a->co.seed;
    double timeout = a->co.timeout_s;
    bool pin = a->pin;
    struct ab_run_config *cfg = &a->cfg;
    char err[1024];
    int rc;

    size_t nsubjects;
    if ((rc = ab_cmd_subjects(&a->allocators, subjects, &nsubjects)))
        return rc;
    /* What a process may start here (threads-max, RLIMIT_NPROC). */
    unsigned room = ab_host_thread_room();
    for (size_t i = 0; i < cfg->nthreads; i++)
        if (cfg->threads[i] > room)
            return ab_error(AB_ALLOCBENCH_USAGE,
                            "--threads %u: this machine lets a process start %u more "
                            "(threads-max, RLIMIT_NPROC)",
                            cfg->threads[i], room);
    cfg->subjects = subjects;
    cfg->nsubjects = nsubjects;
    cfg->repetitions = (unsigned)reps;
    cfg->warmup = (unsigned)warmup;
    cfg->rounds = rounds ? (unsigned)rounds : cfg->wl->default_rounds;
    cfg->min_time_s = rounds ? 0 : a->min_time_set ? a->min_time : 0.2;
    cfg->seed = seed;
    cfg->timeout_s = timeout;
    cfg->pin = pin;
    cfg->shard = a->shard;
    cfg->obs = ab_cmd_observer();
    if (strcmp(counter, "none")) {
        rc = ab_counter_choose(counter, &cfg->counter, cfg->counter_version,
                               sizeof cfg->counter_version, err, sizeof err);
        if (rc == -ENOENT)
            return ab_error(AB_ALLOCBENCH_USAGE, "--counter %s: %s", counter, err);
        if (rc)
            return ab_error(AB_ALLOCBENCH_NOT_INSTALLED, "--counter %s cannot count here: %s",
                            counter, err);
    }

    if ((rc = ab_cmd_out_dir(out, cfg->out_dir, sizeof cfg->out_dir)))
        return rc;
    ab_cmd_catch_signals();
    static struct ab_run run;
    rc = ab_run_execute(cfg, &run);
    if (rc)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "the run failed: %s", strerror(-rc));
    static const char *const where[] = {"report.json", "allocator-fast-path-benchmarks.tsv",
                                        "benchmark.json", "report.html", NULL};
    rc = ab_cmd_report(ab_run_doc(&run), cfg->out_dir, format, where);
    int status = rc ? rc : run.failures ? AB_EXIT_FAIL : AB_EXIT_OK;
    ab_run_free(&run);
    return status;
}

const struct ab_command ab_command_run = {
    .name = "run",
    .synopsis = "run a workload on allocators, a fresh child per trial",
    .usage = usage,
    .parse = run_parse,
    .args_size = sizeof(struct run_args),
    .run = run_run,
};
