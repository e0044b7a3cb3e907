/* merge.c — `allocbench merge SHARD... --out DIR`: the shards of one matrix
 * joined into one report folder. */
#include "merge.h"
#include "report.h"
#include "cmd.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SHARDS AB_SHARD_MAX

static const char usage[] =
    "usage: allocbench merge SHARD... --out DIR [--format console|json|tsv|markdown|gbench]\n"
    "\n"
    "Joins the reports of the shards of one matrix (report.json, or the folders holding\n"
    "them, of allocbench run, fastpath or stress with --shard K/N, K = 0 .. N-1) into one\n"
    "report folder of the shape an unsharded run writes: report.json and every file the\n"
    "formats write.  A shard holds whole configurations, every allocator of each, so\n"
    "its aggregates and comparisons are taken as they are, measured on its machine;\n"
    "the records are put in the unsharded order.  The context lists every machine\n"
    "(context.machines[]); keys the machines differ in are null at its top level, and\n"
    "a warning says what differs.\n"
    "\n"
    "Refused, exit 2 with one line (ALLOCBENCH_MERGE_MISMATCH): reports of another\n"
    "command, build (allocbench version, revision, build type), matrix digest or number\n"
    "of shards; a configuration in two reports; a shard missing.\n"
    "\n"
    "options:\n"
    "  --out DIR     the merged report folder (required; not one of the shards')\n"
    "  --format F    what stdout shows: console (default), json, tsv, markdown or gbench\n"
    "                (benchmark.json: run and fastpath), as the shards' command shows it\n"
    "\n"
    "exit status: 0 merged, every trial measured (as the unsharded command's 0); 1\n"
    "merged, and a trial, row or case failed in some shard; 2 usage error, a malformed\n"
    "report, or reports that are not the shards of one matrix\n";

/* The folder a report argument names: itself, or the one holding the file. */
static void folder_of(const char *arg, char *dir, size_t len)
{
    struct stat st;
    ab_strlcpy(dir, arg, len);
    if (!stat(arg, &st) && !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            ab_strlcpy(dir, ".", len);
    }
}

/* --format: parse takes a format that prints the report of some command
 * merge joins; run checks it against the shards' command (gbench prints
 * no stress report). */
static const char *const joined[] = {"run", "fastpath", "stress", NULL};

enum { OPT_FORMAT = 256 };
static const struct ab_opt options[] = {{"format", true, OPT_FORMAT}};

struct merge_args {
    struct ab_common co;
    const char *format;
    const char **paths;            /* into argv */
    unsigned n;
};

static int on_option(int id, const char *v, void *ctx)
{
    (void)id;
    return ab_cmd_format(v, joined, &((struct merge_args *)ctx)->format);
}

static int merge_parse(int argc, char **argv, void *args)
{
    struct merge_args *a = args;
    a->format = "console";
    struct ab_args pos = {.min = 1, .max = MAX_SHARDS,
                          .missing = "which shards? (report.json of each, or its folder)"};
    int rc = ab_cmd_parse(argc, argv, &ab_command_merge, AB_COMMON_OUT, &a->co, options,
                          sizeof options / sizeof options[0], on_option, a, &pos);
    if (rc)
        return rc;
    a->paths = pos.v;
    a->n = pos.n;
    if (!a->co.out)
        return ab_error(AB_ALLOCBENCH_USAGE, "merge: where to? --out DIR");
    return AB_EXIT_OK;
}

/* Where the files of a merged report are, for the console's last line. */
static const char *const *where_of(const char *command)
{
    static const char *const run[] = {"report.json", "allocator-fast-path-benchmarks.tsv",
                                      "benchmark.json", NULL};
    static const char *const fastpath[] = {"report.json", "allocator-fast-path-report.tsv",
                                           "benchmark.json", NULL};
    static const char *const stress[] = {"allocator-stress-report.tsv",
                                         "allocator-diagnostics-report.tsv", "report.json",
                                         NULL};
    return !strcmp(command, "run") ? run : !strcmp(command, "fastpath") ? fastpath : stress;
}

static int merge_run(void *args)
{
    struct merge_args *a = args;
    const char *const *paths = a->paths, *format = a->format, *out = a->co.out;
    unsigned n = a->n;
    int rc;
    /* The merged set takes --out's place whole: never over a shard. */
    char out_real[PATH_MAX], in_dir[PATH_MAX], in_real[PATH_MAX];
    if (realpath(out, out_real))
        for (unsigned i = 0; i < n; i++) {
            folder_of(paths[i], in_dir, sizeof in_dir);
            if (realpath(in_dir, in_real) && !strcmp(in_real, out_real))
                return ab_error(AB_ALLOCBENCH_USAGE,
                                "merge: --out %s is the folder of shard %s: the merged report "
                                "would replace it", out, paths[i]);
        }

    cJSON **docs = calloc(n, sizeof *docs);
    if (!docs)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "merge: out of memory");
    char err[1024];
    int status = AB_EXIT_OK;
    unsigned nread = 0;
    for (; nread < n && status == AB_EXIT_OK; nread++)
        if (ab_merge_read(paths[nread], &docs[nread], err, sizeof err))
            status = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s", err);
    cJSON *doc = NULL;
    unsigned failures = 0;
    enum ab_code code;
    if (status == AB_EXIT_OK &&
        ab_merge_doc(docs, paths, n, ab_cmd_observer(), &doc, &failures, &code, err,
                     sizeof err))
        status = ab_error(code, "merge: %s", err);
    for (unsigned i = 0; i < nread; i++)
        cJSON_Delete(docs[i]);
    free(docs);
    if (status != AB_EXIT_OK)
        return status;
    const char *command = ab_json_str(doc, "command");
    if (!ab_format_prints(ab_format_find(format), command)) {
        rc = ab_error(AB_ALLOCBENCH_USAGE, "--format %s: no such format for reports of %s",
                      format, command);
        cJSON_Delete(doc);
        return rc;
    }

    char dir[PATH_MAX];
    if ((rc = ab_cmd_out_dir(out, dir, sizeof dir))) {
        cJSON_Delete(doc);
        return rc;
    }
    ab_cmd_catch_signals();
    rc = ab_cmd_report(doc, dir, format, where_of(command));
    return rc != AB_EXIT_OK ? rc : failures ? AB_EXIT_FAIL : AB_EXIT_OK;
}

const struct ab_command ab_command_merge = {
    .name = "merge",
    .synopsis = "join the reports of the shards of one matrix (--shard K/N)",
    .usage = usage,
    .parse = merge_parse,
    .args_size = sizeof(struct merge_args),
    .run = merge_run,
};
