/* trace.c — `allocbench trace (--pid PID | -- CMD...)`: parse, validate, hand over. */
#include "trace.h"
#include "cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if AB_HAVE_TRACE

static const char usage[] =
    "usage: allocbench trace [options] --pid PID\n"
    "       allocbench trace [options] [--] COMMAND [ARGS...]\n"
    "\n"
    "Attaches uprobes to the allocator that serves malloc in a live process (or in\n"
    "COMMAND, started held and attached before its first instruction) and reports\n"
    "calls per function, requested sizes (log2 bins), blocks still outstanding at\n"
    "the end (largest size groups first), per-call latency and per-call task-clock.\n"
    "Latencies include the probes' own cost (two traps per call, microseconds).\n"
    "Tracing ends when the process exits, --duration passes, or on Ctrl-C (SIGINT,\n"
    "SIGTERM, SIGHUP); the probes are detached and the reports written.  A COMMAND\n"
    "still running then is sent SIGTERM (SIGKILL 5 s later).  Needs root or\n"
    "CAP_SYS_ADMIN.\n"
    "\n"
    "options:\n"
    "  --pid PID         trace this running process, 1..4194304\n"
    "  --lib PATH        the library to probe (default: the one that serves malloc:\n"
    "                    the first object in the loader's order defining it)\n"
    "  --duration S      stop after S seconds, 0.01..31536000; default: at exit or\n"
    "                    Ctrl-C\n"
    "  --top N           outstanding size groups reported, 1..10000; default 10\n"
    "  --max-live N      blocks tracked at once, 1024..16777216; default 1048576\n"
    "                    (past it, outstanding figures are a lower bound, and say so;\n"
    "                    the kernel takes 16 bytes per N up front, 80 per block)\n"
    "  --out DIR         report folder; default results/runs/<UTC timestamp>/\n"
    "  --format F        what stdout shows: console (default), json or tsv;\n"
    "                    the files are always written\n"
    "\n"
    "files written to DIR: report.json, allocator-trace-report.tsv, report.html\n"
    "(latency and size histograms: allocbench report DIR writes it again)\n"
    "\n"
    "exit status: 0 traced and reported; 2 usage or input error (no such process,\n"
    "a command that cannot be executed, a library without malloc); 3 not privileged,\n"
    "or the kernel refused the probes\n";

enum { OPT_PID = 256, OPT_LIB, OPT_DURATION, OPT_TOP, OPT_MAX_LIVE };

static const struct ab_opt options[] = {
    {"pid", true, OPT_PID},           {"lib", true, OPT_LIB},
    {"duration", true, OPT_DURATION}, {"top", true, OPT_TOP},
    {"max-live", true, OPT_MAX_LIVE},
};

static int on_option(int id, const char *v, void *ctx)
{
    struct ab_trace_config *cfg = ctx;
    uint64_t n;
    int rc;
    switch (id) {
    case OPT_PID:
        if ((rc = ab_parse_u64(v, 1, 4194304, false, &n)))
            return ab_cmd_bad_number("pid", v, rc, "[1, 4194304]");
        cfg->pid = (int)n;
        break;
    case OPT_LIB:
        if (strlen(v) >= sizeof cfg->lib || !v[0])
            return ab_error(AB_ALLOCBENCH_USAGE, "--lib: a path to a shared object");
        ab_strlcpy(cfg->lib, v, sizeof cfg->lib);
        break;
    case OPT_DURATION:
        if ((rc = ab_parse_double(v, 0.01, 31536000, &cfg->duration_s)))
            return ab_cmd_bad_number("duration", v, rc, "[0.01, 31536000] seconds");
        break;
    case OPT_TOP:
        if ((rc = ab_parse_u64(v, 1, 10000, false, &n)))
            return ab_cmd_bad_number("top", v, rc, "[1, 10000]");
        cfg->top = (unsigned)n;
        break;
    case OPT_MAX_LIVE:
        if ((rc = ab_parse_u64(v, 1024, 1u << 24, false, &n)))
            return ab_cmd_bad_number("max-live", v, rc, "[1024, 16777216]");
        cfg->max_live = n;
        break;
    }
    return AB_EXIT_OK;
}

struct trace_args {
    struct ab_trace_config cfg;
    struct ab_common co;
};

static int trace_parse(int argc, char **argv, void *args)
{
    struct trace_args *a = args;
    struct ab_trace_config *cfg = &a->cfg;
    cfg->top = 10;
    cfg->max_live = 1u << 20;
    a->co = (struct ab_common){.format = "console"};
    /* The first word that is not an option starts the command. */
    struct ab_args pos = {.rest = true};
    int rc = ab_cmd_parse(argc, argv, &ab_command_trace, AB_COMMON_FORMAT | AB_COMMON_OUT,
                          &a->co, options, sizeof options / sizeof options[0], on_option, cfg,
                          &pos);
    if (rc)
        return rc;
    bool has_command = pos.rest_argc > 0;
    if (cfg->pid && has_command)
        return ab_error(AB_ALLOCBENCH_USAGE, "trace: --pid or a command, not both");
    if (!cfg->pid && !has_command)
        return ab_error(AB_ALLOCBENCH_USAGE,
                        "trace: what to trace? --pid PID or -- COMMAND (see: allocbench help "
                        "trace)");
    if (has_command)
        cfg->command = pos.rest_argv;
    return AB_EXIT_OK;
}

static int trace_run(void *args)
{
    static struct ab_trace_result res;
    struct trace_args *a = args;
    struct ab_trace_config *cfg = &a->cfg;
    const char *out = a->co.out, *format = a->co.format;
    int rc;

    char err[1024];
    enum ab_code code;
    if (ab_trace_check(cfg, err, sizeof err, &code))
        return ab_error(code, "%s", err);
    if ((rc = ab_cmd_out_dir(out, cfg->out_dir, sizeof cfg->out_dir)))
        return rc;

    cfg->obs = ab_cmd_observer();
    if (ab_trace_execute(cfg, &res, err, sizeof err, &code)) {
        ab_trace_free(&res);
        return ab_error(code, "%s", err);
    }
    static const char *const where[] = {"report.json", "allocator-trace-report.tsv",
                                        "report.html", NULL};
    rc = ab_cmd_report(ab_trace_doc(&res), cfg->out_dir, format, where);
    ab_trace_free(&res);
    return rc;
}

const struct ab_command ab_command_trace = {
    .name = "trace",
    .synopsis = "trace a live process's allocator with uprobes (libbpf; root)",
    .usage = usage,
    .parse = trace_parse,
    .args_size = sizeof(struct trace_args),
    .run = trace_run,
};

#else /* AB_HAVE_TRACE */

const struct ab_command ab_command_trace = {
    .name = "trace",
    .synopsis = "trace a live process's allocator with uprobes (libbpf; root)",
    .unavailable = AB_TRACE_WHY,
};

#endif
