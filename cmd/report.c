/* report.c — `allocbench report DIR`: report.html again, from the
 * report.json in DIR, by the same code as the command that wrote it. */
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
    "drawn by the same code from the same document.  The page replaces the older\n"
    "one atomically; nothing else in DIR changes.  Its path is printed on stdout.\n"
    "\n"
    "exit status: 0 written; 2 usage error, a folder without a readable report.json,\n"
    "a report.json that is not JSON or of a command without a page, or a folder\n"
    "that cannot be written (one line says which)\n";

static int report_main(int argc, char **argv)
{
    struct ab_common co = {0};
    const char *words[1];
    struct ab_args pos = {.min = 1, .max = 1, .v = words,
                          .missing = "which report folder? (one holding a report.json)"};
    int rc = ab_cmd_parse(argc, argv, &ab_command_report, 0, &co, NULL, 0, NULL, NULL, &pos);
    if (rc)
        return rc == AB_CMD_DONE ? AB_EXIT_OK : rc;

    char path[PATH_MAX], err[PATH_MAX + 256];
    size_t len;
    char *text = ab_report_text(words[0], path, sizeof path, &len, err, sizeof err);
    if (!text)
        return ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s", err);
    cJSON *doc = ab_json_parse_strict(text, len, err, sizeof err);
    free(text);
    if (!doc)
        return ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s: %s", path, err);
    const char *command = ab_json_str(doc, "command");
    if (!ab_report_html_knows(command)) {
        rc = ab_error(AB_ALLOCBENCH_BAD_INPUT, "%s: a report of %s%s%s, which has no page", path,
                      *command ? "'" : "no command", command, *command ? "'" : "");
        cJSON_Delete(doc);
        return rc;
    }
    char *html = ab_report_html(doc);
    cJSON_Delete(doc);
    if (!html)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "out of memory formatting report.html");

    /* Beside the report.json that was read. */
    char out[PATH_MAX + 16];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(out, sizeof out, "%.*s/report.html", (int)(slash - path), path);
    else
        snprintf(out, sizeof out, "report.html");
    rc = ab_write_file_atomic(out, html, strlen(html));
    free(html);
    if (rc)
        return ab_error(AB_ALLOCBENCH_OUTPUT, "cannot write %s: %s", out, strerror(-rc));
    printf("reports: %s\n", out);
    return AB_EXIT_OK;
}

const struct ab_command ab_command_report = {
    .name = "report",
    .synopsis = "write report.html again from a report folder's report.json",
    .usage = usage,
    .main = report_main,
};
