/* check.c — `allocbench check --budgets FILE REPORT...`: the CI gate. */
#include "fastpath.h"
#include "cmd.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: allocbench check --budgets FILE [--require-budget] REPORT...\n"
    "\n"
    "Checks fast-path reports (report.json written by `allocbench fastpath`, or the\n"
    "folder holding one) against budgets: a TSV file with the columns allocator, op,\n"
    "size, max_instructions, max_branches and optionally pattern (pairs when\n"
    "absent), counter, allocator_version and max_slow_path_share, as `allocbench\n"
    "budgets` writes it; `*` in allocator or size is a default row, the most\n"
    "specific row wins.  A report's figure is its p50, whatever the backend.\n"
    "\n"
    "One line per finding on stdout:\n"
    "  ALLOCATOR_FAST_PATH_BUDGET <allocator> <op> size=<n> pattern=<p> instructions=<got>\n"
    "      budget=<max>                      (likewise branches= and slow_path_share=)\n"
    "  ALLOCBENCH_TRIAL_FAILED ...           a row not measured, or its repetitions\n"
    "                                        disagree\n"
    "  ALLOCBENCH_BUDGET_COUNTER ...         the budget was measured with another counter\n"
    "  ALLOCBENCH_BUDGET_FIGURE ...          a ceiling on a figure the report lacks\n"
    "                                        (branches under callgrind)\n"
    "  ALLOCBENCH_BUDGET_UNMATCHED FILE:LINE ...  a budget row no report row matched\n"
    "  ALLOCBENCH_BUDGET_NOTHING_CHECKED     no row was checked at all\n"
    "  UNCHECKED ...                         a row without a budget\n"
    "  UNAVAILABLE ...                       a function the allocator does not have\n"
    "A budget set on another allocator version is a warning on stderr\n"
    "(ALLOCBENCH_BUDGET_VERSION), naming both versions; the summary on stderr says\n"
    "how many rows were checked against which budget rows.\n"
    "\n"
    "options:\n"
    "  --budgets FILE     the budget file, e.g. results/budgets/size-classes.tsv\n"
    "  --require-budget   a row without a budget fails the check\n"
    "\n"
    "exit status: 0 every budget held; 1 a budget was exceeded, a row was not\n"
    "measured (or its repetitions disagree), a budget row matched no report row,\n"
    "a counter differs, a ceiling names a figure the report lacks, nothing was\n"
    "checked, or a row had no budget with --require-budget; 2 usage error, a\n"
    "malformed budget file (file and line named) or a report that is not a\n"
    "fast-path report of this schema\n";

enum { OPT_BUDGETS = 256, OPT_REQUIRE };

static const struct ab_opt options[] = {
    {"budgets", true, OPT_BUDGETS},
    {"require-budget", false, OPT_REQUIRE},
};

struct check_args {
    const char *budgets;
    bool require;
    const char **reports;          /* in argv */
    unsigned nreports;
};

static int on_option(int id, const char *v, void *ctx)
{
    struct check_args *a = ctx;
    if (id == OPT_BUDGETS)
        a->budgets = v;
    else
        a->require = true;
    return AB_EXIT_OK;
}

static int check_parse(int argc, char **argv, void *args)
{
    struct check_args *a = args;
    struct ab_common co = {0};
    struct ab_args pos = {.max = (unsigned)argc};
    int rc = ab_cmd_parse(argc, argv, &ab_command_check, 0, &co, options,
                          sizeof options / sizeof options[0], on_option, a, &pos);
    if (rc == AB_EXIT_OK && !a->budgets)
        rc = ab_error(AB_ALLOCBENCH_USAGE, "check: --budgets FILE is required");
    if (rc == AB_EXIT_OK && !pos.n)
        rc = ab_error(AB_ALLOCBENCH_USAGE, "check: which reports? (report.json or its folder)");
    a->reports = pos.v;
    a->nreports = pos.n;
    return rc;
}

static int check_run(void *args)
{
    struct check_args *a = args;
    const char **reports = a->reports;
    const char *budgets_path = a->budgets;
    bool require = a->require;
    char err[1024];
    struct ab_budgets budgets;
    int rc = ab_budgets_load(budgets_path, &budgets, err, sizeof err);
    if (rc)
        return ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s", err);

    /* Every report is read and validated before any verdict is printed, so a
     * bad input never leaves half a verdict. */
    int nrep = (int)a->nreports;
    cJSON **docs = calloc((size_t)nrep, sizeof *docs);
    int status = AB_EXIT_OK;
    if (!docs) {
        ab_budgets_free(&budgets);
        return ab_error(AB_ALLOCBENCH_INTERNAL, "out of memory");
    }
    for (int i = 0; i < nrep && status == AB_EXIT_OK; i++)
        if (ab_fp_report_read(reports[i], &docs[i], err, sizeof err))
            status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s", err);
    struct ab_gate chk;
    if (status == AB_EXIT_OK && ab_gate_begin(&chk, &budgets, stdout, stderr))
        status = ab_error(AB_ALLOCBENCH_INTERNAL, "out of memory");
    if (status == AB_EXIT_OK) {
        for (int i = 0; i < nrep; i++)
            ab_gate_report(&chk, docs[i]);
        ab_gate_finish(&chk);
        fflush(stdout);
        char lines[256];
        ab_gate_used_lines(&chk, lines, sizeof lines);
        fprintf(stderr,
                "check: %u report rows against %zu budget rows of %s (used: %s): %u held, %u "
                "over budget, %u not measured, %u without a budget, %u not available, %u "
                "counter mismatches, %u missing figures, %u budget rows unmatched%s\n",
                chk.rows, budgets.n, budgets_path, lines[0] ? lines : "none", chk.held,
                chk.violated, chk.unmeasured, chk.unchecked, chk.unavailable,
                chk.counter_mismatch, chk.figure_missing, chk.unmatched,
                require && chk.unchecked ? " (--require-budget)" : "");
        status = ab_gate_failed(&chk, require) ? AB_EXIT_FAIL : AB_EXIT_OK;
        ab_gate_end(&chk);
    }
    for (int i = 0; i < nrep; i++)
        cJSON_Delete(docs[i]);
    free(docs);
    ab_budgets_free(&budgets);
    return status;
}

const struct ab_command ab_command_check = {
    .name = "check",
    .synopsis = "check fast-path reports against budgets (the CI gate)",
    .usage = usage,
    .parse = check_parse,
    .args_size = sizeof(struct check_args),
    .run = check_run,
};
