/* budgets.c — `allocbench budgets REPORT... [--headroom PCT] [--out FILE]`:
 * a budget file from fast-path reports. */
#include "fastpath.h"
#include "cmd.h"

#include <cJSON.h>
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

enum { OPT_HEADROOM = 256 };

static const struct ab_opt options[] = {
    {"headroom", true, OPT_HEADROOM},
};

struct budgets_args {
    double headroom;
    const char *out;
    const char **reports;          /* in argv */
    unsigned nreports;
};

static int on_option(int id, const char *v, void *ctx)
{
    (void)id;
    struct budgets_args *a = ctx;
    int rc = ab_parse_double(v, 0, 1000, &a->headroom);
    return rc ? ab_cmd_bad_number("headroom", v, rc, "[0, 1000] percent") : AB_EXIT_OK;
}

static int budgets_parse(int argc, char **argv, void *args)
{
    struct budgets_args *a = args;
    struct ab_common co = {0};
    struct ab_args pos = {.min = 1, .max = (unsigned)argc,
                          .missing = "which reports? (report.json of allocbench fastpath, or its "
                                     "folder)"};
    int rc = ab_cmd_parse(argc, argv, &ab_command_budgets, AB_COMMON_OUT, &co, options,
                          sizeof options / sizeof options[0], on_option, a, &pos);
    a->out = co.out;
    a->reports = pos.v;
    a->nreports = pos.n;
    return rc;
}

static int budgets_run(void *args)
{
    struct budgets_args *a = args;
    const char **reports = a->reports;
    double headroom = a->headroom;
    const char *out = a->out;
    int n = (int)a->nreports, status = AB_EXIT_OK, rc;
    cJSON **docs = calloc((size_t)n, sizeof *docs);
    if (!docs)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "out of memory");
    char err[1024];
    for (int i = 0; i < n && status == AB_EXIT_OK; i++)
        if (ab_fp_report_read(reports[i], &docs[i], err, sizeof err))
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
    .parse = budgets_parse,
    .args_size = sizeof(struct budgets_args),
    .run = budgets_run,
};
