/* compare.c — `allocbench compare BASE HEAD`: an A/B of two run reports, or
 * of two fast-path reports. */
#include "compare/compare.h"
#include "report.h"
#include "cmd.h"

#include <cJSON.h>
#include <stdlib.h>

static const char usage[] =
    "usage: allocbench compare BASE HEAD [--threshold PCT] [--format console|json|markdown]\n"
    "                          [--out DIR]\n"
    "\n"
    "Compares two reports (report.json or the folder holding one): two of `allocbench run`\n"
    "(of one workload, with the same parameters, rounds, warm-up and counter), or two of\n"
    "`allocbench fastpath` (the same counter, calls, warm-up, live blocks and alignment).\n"
    "Rows match by variant, threads and allocator (fastpath: allocator, op, size and\n"
    "pattern); when each side has one allocator they match whatever its name, as two\n"
    "builds of one library do.  Rows on one side only are listed.\n"
    "\n"
    "Run reports: per row both medians of ns per op, the ratio HEAD / BASE (above 1: HEAD\n"
    "is slower) with its 95 % interval (Hodges-Lehmann and Moses, over the trials of each\n"
    "side as independent samples), p (Mann-Whitney) and the verdict: faster or slower when\n"
    "the whole interval is below or above 1, same when it holds 1; none, and why, with too\n"
    "few trials for 95 % (4 on each side at the least).  A row fails when its whole\n"
    "interval lies above 1 + threshold:\n"
    "  ALLOCBENCH_COMPARE_SLOWER <workload>:<variant> threads=<n> <allocator> ratio=<r>\n"
    "      ci95=[<low>, <high>] above <1 + threshold>\n"
    "Fast-path reports hold exact counts: per row the instructions and branches p50 and\n"
    "the slow-path share of each side and HEAD - BASE; a figure that rises by more than\n"
    "the threshold (HEAD - BASE > threshold x BASE) fails:\n"
    "  ALLOCBENCH_COMPARE_COUNT <allocator> <op> size=<n> pattern=<p> <figure>=<head>\n"
    "      base=<base> (<change>) threshold=<pct> %\n"
    "\n"
    "options:\n"
    "  --threshold PCT   how far a slowdown (or a count) may go before it fails, 0..1000\n"
    "                    percent; default 5\n"
    "  --format F        what stdout shows: console (default), json (the comparison's\n"
    "                    report.json) or markdown (a table for a pull request)\n"
    "  --out DIR         also write the comparison's report.json and report.html (a\n"
    "                    forest plot of the ratios) into DIR; compare writes nothing\n"
    "                    without it\n"
    "\n"
    "exit status: 0 no row fails; 1 a row fails the gate; 2 usage error, a malformed\n"
    "report, or two reports that cannot be compared (one line says why)\n";

enum { OPT_THRESHOLD = 256 };

static const struct ab_opt options[] = {
    {"threshold", true, OPT_THRESHOLD},
};

static int on_option(int id, const char *v, void *ctx)
{
    (void)id;
    int rc = ab_parse_double(v, 0, AB_COMPARE_THRESHOLD_MAX_PCT, ctx);
    return rc ? ab_cmd_bad_number("threshold", v, rc, "[0, 1000] percent") : AB_EXIT_OK;
}

struct compare_args {
    struct ab_compare_opts o;
    struct ab_common co;
    const char *paths[2];
};

static int compare_parse(int argc, char **argv, void *args)
{
    struct compare_args *a = args;
    a->o.threshold_pct = AB_COMPARE_THRESHOLD_PCT;
    a->co.format = "console";
    struct ab_args pos = {.min = 2, .max = 2, .v = a->paths,
                          .missing = "which two reports? (BASE and HEAD: report.json of "
                                     "allocbench run or fastpath, or its folder)"};
    int rc = ab_cmd_parse(argc, argv, &ab_command_compare, AB_COMMON_FORMAT | AB_COMMON_OUT,
                          &a->co, options, sizeof options / sizeof options[0], on_option,
                          &a->o.threshold_pct, &pos);
    a->o.base_path = a->paths[0];
    a->o.head_path = a->paths[1];
    return rc;
}

static int compare_run(void *args)
{
    struct compare_args *a = args;
    const struct ab_compare_opts o = a->o;
    const struct ab_common co = a->co;
    const char *const *paths = a->paths;
    int rc;

    char err[1024];
    cJSON *docs[2] = {NULL, NULL}, *doc = NULL;
    int status = AB_EXIT_OK;
    for (int i = 0; i < 2 && status == AB_EXIT_OK; i++)
        if (ab_compare_read(paths[i], &docs[i], err, sizeof err))
            status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s %s", i ? "HEAD" : "BASE", err);
    enum ab_code code;
    if (status == AB_EXIT_OK &&
        ab_compare_doc(docs[0], docs[1], &o, &doc, &code, err, sizeof err))
        status = ab_error(code, "compare: %s", err);
    cJSON_Delete(docs[0]);
    cJSON_Delete(docs[1]);
    if (status != AB_EXIT_OK)
        return status;

    int gate = ab_json_int(doc, "failures") > 0 ? AB_EXIT_FAIL : AB_EXIT_OK;
    if (co.out) {
        char dir[PATH_MAX];
        static const char *const where[] = {"report.json", "report.html", NULL};
        if ((rc = ab_cmd_out_dir(co.out, dir, sizeof dir))) {
            cJSON_Delete(doc);
            return rc;
        }
        rc = ab_cmd_report(doc, dir, co.format, where);
        return rc != AB_EXIT_OK ? rc : gate;
    }
    char *text = ab_format_find(co.format)->print(doc);
    cJSON_Delete(doc);
    if (!text)
        return ab_error(AB_ALLOCBENCH_OUTPUT, "out of memory formatting the %s output",
                        co.format);
    fputs(text, stdout);
    free(text);
    return gate;
}

const struct ab_command ab_command_compare = {
    .name = "compare",
    .synopsis = "compare two run reports, or two fast-path reports (A/B)",
    .usage = usage,
    .parse = compare_parse,
    .args_size = sizeof(struct compare_args),
    .run = compare_run,
};
