/* budgets.c — `allocbench budgets REPORT... [--headroom PCT] [--out FILE]`:
 * a budget file from fast-path reports. */
#include "fastpath.h"
#include "cmd.h"

#include <cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: allocbench budgets REPORT... [--headroom PCT] [--out FILE]\n"
    "\n"
    "Writes a budget file for `allocbench check` from fast-path reports (report.json\n"
    "written by `allocbench fastpath`, or the folder holding one): one row per\n"
    "allocator, op, size and pattern, with the counter and the allocator version it\n"
    "was measured with, and ceilings at the measured p50 of instructions and\n"
    "branches and at the slow-path share, each raised by the headroom.  With no\n"
    "headroom one instruction or branch more fails the check.  Rows a report could\n"
    "not measure, or whose repetitions disagree, are refused: a budget is only set\n"
    "from an agreeing count.  Rows of functions the allocator does not have are\n"
    "left out.\n"
    "\n"
    "options:\n"
    "  --headroom PCT   raise every ceiling by PCT percent, 0..1000; default 0 (counts\n"
    "                   round down to whole instructions, never below the count)\n"
    "  --out FILE       write the file there (atomically) instead of stdout\n"
    "\n"
    "exit status: 0 written; 2 usage error, a report that is not a fast-path report\n"
    "of this schema, or a row that cannot set a budget (one line says which)\n";

enum { OPT_HEADROOM = 256, OPT_OUT, OPT_HELP };

static const struct option options[] = {
    {"headroom", required_argument, NULL, OPT_HEADROOM},
    {"out", required_argument, NULL, OPT_OUT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int budgets_main(int argc, char **argv)
{
    double headroom = 0;
    const char *out = NULL;
    int c, rc;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_HEADROOM:
            if ((rc = ab_parse_double(optarg, 0, 1000, &headroom)))
                return ab_cmd_bad_number("headroom", optarg, rc, "[0, 1000] percent");
            break;
        case OPT_OUT: out = optarg; break;
        case OPT_HELP: fputs(usage, stdout); return AB_EXIT_OK;
        default:
            if (optopt)
                return ab_error(AB_ALLOCBENCH_USAGE, "budgets: option '%s' needs a value",
                                argv[optind - 1]);
            return ab_error(AB_ALLOCBENCH_USAGE,
                            "budgets: unknown option '%s' (see: allocbench help budgets)",
                            argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return ab_error(AB_ALLOCBENCH_USAGE,
                        "budgets: which reports? (report.json of allocbench fastpath, or its "
                        "folder)");
    int n = argc - optind, status = AB_EXIT_OK;
    cJSON **docs = calloc((size_t)n, sizeof *docs);
    if (!docs)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "out of memory");
    char err[1024];
    for (int i = 0; i < n && status == AB_EXIT_OK; i++)
        if (ab_fp_report_read(argv[optind + i], &docs[i], err, sizeof err))
            status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s", err);
    char *text = NULL;
    if (status == AB_EXIT_OK &&
        !(text = ab_budgets_from_reports(docs, (size_t)n, headroom, err, sizeof err)))
        status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "budgets: %s", err);
    if (text && out) {
        if ((rc = ab_write_file_atomic(out, text, strlen(text))))
            status = ab_error(AB_ALLOCBENCH_OUTPUT, "--out %s cannot be written: %s", out,
                              strerror(-rc));
        free(text);
    } else if (text) {
        fputs(text, stdout);
        free(text);
    }
    for (int i = 0; i < n; i++)
        cJSON_Delete(docs[i]);
    free(docs);
    return status;
}

const struct ab_command ab_command_budgets = {
    .name = "budgets",
    .synopsis = "write a budget file from fast-path reports",
    .usage = usage,
    .main = budgets_main,
};
