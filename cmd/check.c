/* check.c — `allocbench check --budgets FILE REPORT...`: the CI gate. */
#include "ab.h"
#include "cmd.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: allocbench check --budgets FILE [--require-budget] REPORT...\n"
    "\n"
    "Checks fast-path reports (report.json written by `allocbench fastpath`, or the\n"
    "folder holding one) against budgets: a TSV file with the columns allocator, op,\n"
    "size, max_instructions, max_branches and optionally max_slow_path_share; `*` in\n"
    "allocator or size is a default row, the most specific row wins.  A report's\n"
    "fast-path figure is its p50, whatever the backend.\n"
    "\n"
    "One line per violation on stdout:\n"
    "  ALLOCATOR_FAST_PATH_BUDGET <allocator> <op> size=<n> instructions=<got> budget=<max>\n"
    "(likewise branches= and slow_path_share=), one per row not measured\n"
    "(ALLOCBENCH_TRIAL_FAILED ...) and one per row without a budget (UNCHECKED ...);\n"
    "a summary on stderr.\n"
    "\n"
    "options:\n"
    "  --budgets FILE     the budget file, e.g. results/budgets/size-classes.tsv\n"
    "  --require-budget   a row without a budget fails the check\n"
    "\n"
    "exit status: 0 every budget held; 1 a budget was exceeded, a row was not\n"
    "measured (or its repetitions disagree), or a row had no budget with\n"
    "--require-budget; 2 usage error, a malformed budget file (file and line named)\n"
    "or a report that is not a fast-path report of this schema\n";

enum { OPT_BUDGETS = 256, OPT_REQUIRE, OPT_HELP };

static const struct option options[] = {
    {"budgets", required_argument, NULL, OPT_BUDGETS},
    {"require-budget", no_argument, NULL, OPT_REQUIRE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int check_main(int argc, char **argv)
{
    const char *budgets_path = NULL;
    bool require = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_BUDGETS: budgets_path = optarg; break;
        case OPT_REQUIRE: require = true; break;
        case OPT_HELP: fputs(usage, stdout); return AB_EXIT_OK;
        default:
            if (optopt)
                return ab_error(AB_ALLOCBENCH_USAGE, "check: option '%s' needs a value",
                                argv[optind - 1]);
            return ab_error(AB_ALLOCBENCH_USAGE,
                            "check: unknown option '%s' (see: allocbench help check)",
                            argv[optind - 1]);
        }
    }
    if (!budgets_path)
        return ab_error(AB_ALLOCBENCH_USAGE, "check: --budgets FILE is required");
    if (optind >= argc)
        return ab_error(AB_ALLOCBENCH_USAGE, "check: which reports? (report.json or its folder)");

    char err[1024];
    struct ab_budgets budgets;
    int rc = ab_budgets_load(budgets_path, &budgets, err, sizeof err);
    if (rc)
        return ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s", err);

    /* Every report is read and validated before any verdict is printed, so a
     * bad input never leaves half a verdict. */
    int nrep = argc - optind;
    cJSON **docs = calloc((size_t)nrep, sizeof *docs);
    int status = AB_EXIT_OK;
    if (!docs) {
        ab_budgets_free(&budgets);
        return ab_error(AB_ALLOCBENCH_INTERNAL, "out of memory");
    }
    for (int i = 0; i < nrep && status == AB_EXIT_OK; i++) {
        char path[PATH_MAX];
        const char *arg = argv[optind + i];
        struct stat st;
        if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
            snprintf(path, sizeof path, "%s/report.json", arg);
        else
            ab_strlcpy(path, arg, sizeof path);
        size_t len;
        char *text = ab_read_file(path, 1u << 30, &len);
        if (!text) {
            status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s: cannot be read: %s", path,
                              strerror(errno));
            break;
        }
        docs[i] = cJSON_ParseWithLength(text, len);
        free(text);
        if (!docs[i]) {
            status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s: not JSON", path);
            break;
        }
        /* Validate the schema by checking into a discarded stream. */
        FILE *sink = fopen("/dev/null", "w");
        struct ab_check_totals dry = {0};
        rc = ab_budget_check_report(&budgets, docs[i], sink ? sink : stderr, &dry, err,
                                    sizeof err);
        if (sink)
            fclose(sink);
        if (rc)
            status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s: %s", path, err);
    }
    struct ab_check_totals tot = {0};
    for (int i = 0; i < nrep && status == AB_EXIT_OK; i++)
        ab_budget_check_report(&budgets, docs[i], stdout, &tot, err, sizeof err);
    for (int i = 0; i < nrep; i++)
        cJSON_Delete(docs[i]);
    free(docs);
    ab_budgets_free(&budgets);
    if (status != AB_EXIT_OK)
        return status;
    fflush(stdout);
    fprintf(stderr,
            "check: %u rows: %u held, %u over budget, %u not measured, %u without a budget, "
            "%u not available%s\n",
            tot.rows, tot.held, tot.violated, tot.unmeasured, tot.unchecked, tot.unavailable,
            require && tot.unchecked ? " (--require-budget)" : "");
    if (tot.violated || tot.unmeasured || (require && tot.unchecked))
        return AB_EXIT_FAIL;
    return AB_EXIT_OK;
}

const struct ab_command ab_command_check = {
    .name = "check",
    .synopsis = "check fast-path reports against budgets (the CI gate)",
    .usage = usage,
    .main = check_main,
};
