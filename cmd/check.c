/* check.c — `allocbench check --budgets FILE REPORT...`: the CI gate. */
#include "fastpath.h"
#include "cmd.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: allocbench check --budgets FILE [--require-budget] [--format json|junit\n"
    "                        [--output FILE]] REPORT...\n"
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
    "  --format F         also write the verdict for CI systems: json (a verdict per\n"
    "                     row with its lines, the counts, the budget file's findings)\n"
    "                     or junit (JUnit XML, a test case per row); the console lines\n"
    "                     are printed as always\n"
    "  --output FILE      where --format writes (default check.json or check.xml in\n"
    "                     the current directory; written whole or not at all)\n"
    "\n"
    "exit status: 0 every budget held; 1 a budget was exceeded, a row was not\n"
    "measured (or its repetitions disagree), a budget row matched no report row,\n"
    "a counter differs, a ceiling names a figure the report lacks, nothing was\n"
    "checked, or a row had no budget with --require-budget; 2 usage error, a\n"
    "malformed budget file (file and line named) or a report that is not a\n"
    "fast-path report of this schema\n";

enum { OPT_BUDGETS = 256, OPT_REQUIRE, OPT_FORMAT, OPT_OUTPUT };

static const struct ab_opt options[] = {
    {"budgets", true, OPT_BUDGETS},
    {"require-budget", false, OPT_REQUIRE},
    {"format", true, OPT_FORMAT},
    {"output", true, OPT_OUTPUT},
};

struct check_args {
    const char *budgets;
    bool require;
    int format;                    /* -1 none, else enum ab_gate_format */
    const char *output;
    const char **reports;          /* in argv */
    unsigned nreports;
};

static int on_option(int id, const char *v, void *ctx)
{
    struct check_args *a = ctx;
    if (id == OPT_BUDGETS) {
        a->budgets = v;
    } else if (id == OPT_FORMAT) {
        if (!strcmp(v, "json"))
            a->format = AB_GATE_JSON;
        else if (!strcmp(v, "junit"))
            a->format = AB_GATE_JUNIT;
        else
            return ab_error(AB_ALLOCBENCH_USAGE, "check: --format %s: json or junit", v);
    } else if (id == OPT_OUTPUT) {
        if (!*v)
            return ab_error(AB_ALLOCBENCH_USAGE, "check: --output: an empty file name");
        a->output = v;
    } else {
        a->require = true;
    }
    return AB_EXIT_OK;
}

static int check_parse(int argc, char **argv, void *args)
{
    struct check_args *a = args;
    struct ab_common co = {0};
    struct ab_args pos = {.max = (unsigned)argc};
    a->format = -1;
    int rc = ab_cmd_parse(argc, argv, &ab_command_check, 0, &co, options,
                          sizeof options / sizeof options[0], on_option, a, &pos);
    if (rc == AB_EXIT_OK && !a->budgets)
        rc = ab_error(AB_ALLOCBENCH_USAGE, "check: --budgets FILE is required");
    if (rc == AB_EXIT_OK && a->output && a->format < 0)
        rc = ab_error(AB_ALLOCBENCH_USAGE, "check: --output needs --format json or junit");
    if (rc == AB_EXIT_OK && a->format >= 0 && !a->output)
        a->output = a->format == AB_GATE_JSON ? "check.json" : "check.xml";
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
    if (status == AB_EXIT_OK &&
        (a->format < 0 ? ab_gate_begin(&chk, &budgets, stdout, stderr)
                       : ab_gate_begin_recorded(&chk, &budgets, stdout, stderr)))
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
        if (a->format >= 0) {
            char *text = ab_gate_verdict(&chk, (enum ab_gate_format)a->format, budgets_path,
                                         require);
            int w = text ? ab_write_file_atomic(a->output, text, strlen(text)) : -ENOMEM;
            free(text);
            if (w)
                status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "check: cannot write %s: %s (the "
                                  "verdict above stands; no file was written)",
                                  a->output, strerror(-w));
            else
                fprintf(stderr, "check: %s verdict: %s\n",
                        a->format == AB_GATE_JSON ? "JSON" : "JUnit", a->output);
        }
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
