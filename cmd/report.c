/* report.c — `allocbench report DIR`: report.html again, from the
 * report.json in DIR, by the same format as the command that wrote it. */
#include "report.h"
#include "cmd.h"

#include <cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: allocbench report DIR\n"
    "\n"
    "Writes DIR/report.html again from DIR/report.json (DIR may also name the\n"
    "report.json itself): the self-contained page of charts and tables that run,\n"
    "fastpath, stress, trace and compare --out write beside their other reports,\n"
    "drawn by the same code from the same document.  The page is written under a\n"
    "temporary name and renamed over the older one; nothing else in DIR changes.\n"
    "Its path is printed on stdout.\n"
    "\n"
    "exit status: 0 written; 2 usage error, a folder without a readable report.json,\n"
    "a report.json that is not JSON or of a command without a page, or a folder\n"
    "that cannot be written (one line says which)\n";

struct report_args {
    const char *dir;
};

static int report_parse(int argc, char **argv, void *args)
{
    struct report_args *a = args;
    struct ab_common co = {0};
    struct ab_args pos = {.min = 1,
                          .max = 1,
                          .v = &a->dir,
                          .missing = "which report folder? (one holding a report.json)"};
    return ab_cmd_parse(argc, argv, &ab_command_report, 0, &co, NULL, 0, NULL, NULL, &pos);
}

static int report_run(void *args)
{
    const struct report_args *a = args;
    char path[PATH_MAX], err[PATH_MAX + 256];
    size_t len;
    char *text = ab_report_text(a->dir, path, sizeof path, &len, err, sizeof err);
    if (!text)
        return ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s", err);
    cJSON *doc = ab_json_parse_strict(text, len, err, sizeof err);
    free(text);
    if (!doc)
        return ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s: %s", path, err);
    const char *command = ab_json_str(doc, "command");
    int rc;
    if (!ab_report_html_knows(command)) {
        rc = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s: a report of %s%s%s, which has no page", path,
                      *command ? "'" : "no command", command, *command ? "'" : "");
        cJSON_Delete(doc);
        return rc;
    }

    /* Beside the report.json that was read, by the format every report
     * set writes it with. */
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    rc = ab_report_write_format(doc, ab_format_find("html"), dir, err, sizeof err);
    cJSON_Delete(doc);
    if (rc)
        return ab_error(AB_ALLOCBENCH_OUTPUT, "%s", err);
    printf("reports: %s%sreport.html\n", dir, strcmp(dir, "/") ? "/" : "");
    return AB_EXIT_OK;
}

const struct ab_command ab_command_report = {
    .name = "report",
    .synopsis = "write report.html again from a report folder's report.json",
    .usage = usage,
    .parse = report_parse,
    .args_size = sizeof(struct report_args),
    .run = report_run,
};
