/* fastpath.c — `allocbench fastpath [options]`: parse, validate, hand over. */
#include "fastpath.h"
#include "cmd.h"
#include "counter-list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SUBJECTS AB_CMD_MAX_SUBJECTS

/* The backends this build has, in --counter auto's order, for --help. */
#define HELP_COUNTER(name) " " #name
static const char usage[] =
    "usage: allocbench fastpath [options]\n"
    "\n"
    "Counts the instructions and branches of single allocator calls, from the\n"
    "function's first instruction to its return, through a resolved function\n"
    "pointer.  Per size, in a fresh process: a few blocks kept live, warm-up, then\n"
    "--calls calls of each op, each counted on its own, in each pattern:\n"
    "  pairs   each counted call followed at once by its counterpart (malloc, free,\n"
    "          malloc, ...): the thread-local hit of a steady-state program, the fast\n"
    "          path; what does a steady-state call cost?\n"
    "  batch   --calls allocations, then as many frees: the refill and flush paths;\n"
    "          what do they cost, and how often do they come?\n"
    "Every row's slow share is the share of its calls above twice the fast path,\n"
    "the pairs p50 of the same allocator, op and size, counted in the same process.\n"
    "\n"
    "options:\n"
    "  --allocator A[,B...]  glibc, jemalloc, tcmalloc, mimalloc, bump, bump-fixed,\n"
    "                        or a path to a .so; default glibc; at most 16\n"
    "  --sizes S[,T...]      request sizes in bytes, 1..1G each (k/M/G suffixes), at\n"
    "                        most 64; default 8,16,32,48,64,96,128,256,512,1024,2048,\n"
    "                        4096,8192\n"
    "  --ops OP[,OP...]      malloc, free, calloc, realloc (grow by one size class),\n"
    "                        aligned (aligned_alloc, 64-byte alignment); default\n"
    "                        malloc,free\n"
    "  --pattern P[,Q]       pairs (default), batch, or pairs,batch\n"
    "  --calls N             counted calls per op, size and pattern, 1..1000000;\n"
    "                        default 1000\n"
    "  --warmup W            pairs of each op before counting, 0..10000000; default 1000\n"
    "  --keep-live K         other blocks of the size kept live, 0..100000; default 16\n"
    "  --repetitions R       fresh children per allocator, 1..100000; default 3; rows whose\n"
    "                        repetitions give different p50s are marked and fail\n"
    "  --counter C           auto (default: the first that counts here of:"
    AB_COUNTERS(HELP_COUNTER) ")\n"
    "                        or one of them (see: allocbench list counters)\n"
    "  --out DIR             report folder; default results/runs/<UTC timestamp>/\n"
    "  --format F            what stdout shows: console (default), json, tsv,\n"
    "                        markdown (tables for a pull request) or gbench\n"
    "                        (benchmark.json)\n"
    "  --timeout SECONDS     per child, 0.1..86400; default 600\n"
    "  --shard K/N           only the K-th of N slices of the sizes (every op, pattern\n"
    "                        and allocator of a size together), 0 <= K < N <= 10000;\n"
    "                        the slices' reports join with allocbench merge\n"
    "\n"
    "files written to DIR: allocator-fast-path-report.tsv, report.json, benchmark.json,\n"
    "report.html (charts of the counts: allocbench report DIR writes it again)\n"
    "\n"
    "exit status: 0 every row counted and its repetitions agree; 1 a row could not\n"
    "be counted (crash, hang, NULL) or its repetitions disagree; 2 usage error; 3 an\n"
    "allocator or the counter is not available here (e.g. --counter pmu without a PMU)\n";

enum { OPT_ALLOCATOR = 256, OPT_SIZES, OPT_OPS, OPT_PATTERN, OPT_CALLS, OPT_KEEP, OPT_COUNTER,
       OPT_SHARD };

static const struct ab_opt options[] = {
    {"allocator", true, OPT_ALLOCATOR}, {"sizes", true, OPT_SIZES},
    {"ops", true, OPT_OPS},             {"pattern", true, OPT_PATTERN},
    {"calls", true, OPT_CALLS},         {"keep-live", true, OPT_KEEP},
    {"counter", true, OPT_COUNTER},     {"shard", true, OPT_SHARD},
};

/* What fastpath's own options set, and what parse makes of them. */
struct fastpath_args {
    const char *allocator, *sizes, *ops, *pattern, *counter;
    uint64_t calls, keep;
    struct ab_shard shard;
    struct ab_common co;
    struct ab_cmd_allocators allocators;
    struct ab_fp_config cfg;       /* sizes, ops and patterns */
};

static int on_option(int id, const char *v, void *ctx)
{
    struct fastpath_args *a = ctx;
    int rc;
    switch (id) {
    case OPT_ALLOCATOR: a->allocator = v; break;
    case OPT_SIZES: a->sizes = v; break;
    case OPT_OPS: a->ops = v; break;
    case OPT_PATTERN: a->pattern = v; break;
    case OPT_CALLS:
        if ((rc = ab_parse_u64(v, 1, 1000000, false, &a->calls)))
            return ab_cmd_bad_number("calls", v, rc, "[1, 1000000]");
        break;
    case OPT_KEEP:
        if ((rc = ab_parse_u64(v, 0, 100000, false, &a->keep)))
            return ab_cmd_bad_number("keep-live", v, rc, "[0, 100000]");
        break;
    case OPT_COUNTER:
        if (strcmp(v, "auto") && !ab_counter_find(v))
            return ab_error(AB_ALLOCBENCH_USAGE,
                            "--counter %s: no counter '%s' (see: allocbench list counters)", v,
                            v);
        a->counter = v;
        break;
    case OPT_SHARD:
        if ((rc = ab_shard_parse(v, &a->shard)))
            return ab_cmd_bad_shard(v, rc);
        break;
    }
    return AB_EXIT_OK;
}

static int fastpath_parse(int argc, char **argv, void *args)
{
    static char items[AB_FP_MAX_SIZES + 1][AB_NAME_MAX * 4];
    struct fastpath_args *a = args;
    a->allocator = "glibc";
    a->sizes = "8,16,32,48,64,96,128,256,512,1024,2048,4096,8192";
    a->ops = "malloc,free";
    a->pattern = "pairs";
    a->counter = "auto";
    a->calls = 1000;
    a->keep = 16;
    a->co = (struct ab_common){.format = "console", .timeout_s = 600, .repetitions = 3,
                               .warmup = 1000};
    struct ab_args pos = {0};
    int rc = ab_cmd_parse(argc, argv, &ab_command_fastpath,
                          AB_COMMON_FORMAT | AB_COMMON_OUT | AB_COMMON_TIMEOUT |
                              AB_COMMON_REPETITIONS | AB_COMMON_WARMUP,
                          &a->co, options, sizeof options / sizeof options[0], on_option, a,
                          &pos);
    if (rc)
        return rc;
    const char *sizes_arg = a->sizes, *ops_arg = a->ops, *pattern_arg = a->pattern;
    struct ab_fp_config *cfg = &a->cfg;

    int n;
    if ((rc = ab_cmd_list("sizes", sizes_arg, items, AB_FP_MAX_SIZES, &n)))
        return rc;
    for (int i = 0; i < n; i++) {
        uint64_t v;
        if ((rc = ab_parse_u64(items[i], 1, 1ull << 30, true, &v)))
            return ab_cmd_bad_number("sizes", items[i], rc, "[1, 1G] bytes");
        for (size_t j = 0; j < cfg->nsizes; j++)
            if (cfg->sizes[j] == v)
                return ab_error(AB_ALLOCBENCH_USAGE, "--sizes names %llu twice",
                                (unsigned long long)v);
        cfg->sizes[cfg->nsizes++] = v;
    }
    if ((rc = ab_cmd_list("ops", ops_arg, items, AB_FP_OP_COUNT, &n)))
        return rc;
    for (int i = 0; i < n; i++) {
        int op = ab_fp_op_parse(items[i]);
        if (op < 0)
            return ab_error(AB_ALLOCBENCH_USAGE,
                            "--ops: '%s' is not malloc, free, calloc, realloc or aligned",
                            items[i]);
        if (cfg->op_on[op])
            return ab_error(AB_ALLOCBENCH_USAGE, "--ops names %s twice", items[i]);
        cfg->op_on[op] = true;
    }
    if ((rc = ab_cmd_list("pattern", pattern_arg, items, AB_FP_PATTERN_COUNT, &n)))
        return rc;
    for (int i = 0; i < n; i++) {
        int p = ab_fp_pattern_parse(items[i]);
        if (p < 0)
            return ab_error(AB_ALLOCBENCH_USAGE, "--pattern: '%s' is not pairs or batch",
                            items[i]);
        if (cfg->pattern_on[p])
            return ab_error(AB_ALLOCBENCH_USAGE, "--pattern names %s twice", items[i]);
        cfg->pattern_on[p] = true;
    }
    return ab_cmd_allocators(a->allocator, &a->allocators);
}

static int fastpath_run(void *args)
{
    static struct ab_subject subjects[MAX_SUBJECTS];
    struct fastpath_args *a = args;
    const char *counter_arg = a->counter, *out = a->co.out, *format = a->co.format;
    uint64_t calls = a->calls, warmup = a->co.warmup, keep = a->keep, reps = a->co.repetitions;
    double timeout = a->co.timeout_s;
    struct ab_fp_config *cfg = &a->cfg;
    int rc;

    char err[1024];
    size_t nsubjects;
    if ((rc = ab_cmd_subjects(&a->allocators, subjects, &nsubjects)))
        return rc;
    cfg->subjects = subjects;
    cfg->nsubjects = nsubjects;

    rc = ab_counter_choose(counter_arg, &cfg->counter, cfg->counter_version,
                           sizeof cfg->counter_version, err, sizeof err);
    if (rc == -ENOENT)
        return ab_error(AB_ALLOCBENCH_USAGE, "--counter %s: %s", counter_arg, err);
    if (rc)
        return ab_error(AB_ALLOCBENCH_NOT_INSTALLED, "--counter %s cannot count here: %s",
                        counter_arg, err);

    cfg->calls = (unsigned)calls;
    cfg->warmup = (unsigned)warmup;
    cfg->keep_live = (unsigned)keep;
    cfg->repetitions = (unsigned)reps;
    cfg->timeout_s = timeout;
    cfg->shard = a->shard;
    cfg->obs = ab_cmd_observer();
    if ((rc = ab_cmd_out_dir(out, cfg->out_dir, sizeof cfg->out_dir)))
        return rc;
    ab_cmd_catch_signals();
    static struct ab_fp_run run;
    rc = ab_fp_execute(cfg, &run);
    if (rc) {
        ab_fp_free(&run);
        return ab_error(AB_ALLOCBENCH_INTERNAL, "the count failed: %s", strerror(-rc));
    }
    static const char *const where[] = {"report.json", "allocator-fast-path-report.tsv",
                                        "benchmark.json", "report.html", NULL};
    rc = ab_cmd_report(ab_fp_doc(&run), cfg->out_dir, format, where);
    int status = rc ? rc : run.failures ? AB_EXIT_FAIL : AB_EXIT_OK;
    ab_fp_free(&run);
    return status;
}

const struct ab_command ab_command_fastpath = {
    .name = "fastpath",
    .synopsis = "count instructions and branches per allocator call (exact)",
    .usage = usage,
    .parse = fastpath_parse,
    .args_size = sizeof(struct fastpath_args),
    .run = fastpath_run,
};
