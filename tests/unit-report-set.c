/* Report sets: a folder holding an older set gets this one whole, the
 * older set's other files gone and nothing left beside it; a folder that
 * holds other files is written in place, those files kept; a format's
 * output is the document's alone. */
#include "report.h"
#include "check.h"

#include <cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static bool exists(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(ab_write_file_atomic(path, text, strlen(text)) == 0);
}

int main(void)
{
    char tmp[] = "/tmp/ab-unit-set.XXXXXX", out[64], other[64], err[512];
    CHECK(mkdtemp(tmp) != NULL);
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(other, sizeof other, "%s/other", tmp);

    /* A stress document with no cases: four files. */
    cJSON *doc = cJSON_Parse("{\"schema_version\": 1, \"command\": \"stress\", \"cases\": [], "
                             "\"diagnostics\": []}");
    CHECK(doc != NULL);
    CHECK(ab_report_write(doc, out, err, sizeof err) == 0);
    CHECK(entries(out) == 4 && exists(out, "report.json") &&
          exists(out, "allocator-stress-report.tsv") &&
          exists(out, "allocator-diagnostics-report.tsv") && exists(out, "report.html"));
    CHECK(entries(tmp) == 1); /* no staging folder left beside it */

    /* An older set with a file this one lacks: replaced whole. */
    put(out, "allocator-remote-free-report.tsv", "old\n");
    put(out, "benchmark.json", "{}\n");
    CHECK(ab_report_write(doc, out, err, sizeof err) == 0);
    CHECK(entries(out) == 4 && !exists(out, "allocator-remote-free-report.tsv") &&
          !exists(out, "benchmark.json"));
    CHECK(entries(tmp) == 1);

    /* A folder with the user's own file: written in place, the file kept,
     * the older report files of other names removed. */
    CHECK(mkdir(other, 0777) == 0);
    put(other, "notes.txt", "mine\n");
    put(other, "allocator-trace-report.tsv", "old\n");
    CHECK(ab_report_write(doc, other, err, sizeof err) == 0);
    CHECK(entries(other) == 5 && exists(other, "notes.txt") &&
          !exists(other, "allocator-trace-report.tsv") && exists(other, "report.json"));
    CHECK(entries(tmp) == 2);

    /* report.json is what --format json prints; console prints no file. */
    char path[128];
    snprintf(path, sizeof path, "%s/report.json", out);
    char *json = ab_read_file(path, 1 << 20, NULL);
    char *printed = ab_format_find("json")->print(doc);
    CHECK(json && printed && !strcmp(json, printed));
    free(json);
    free(printed);
    const struct ab_format *console = ab_format_find("console");
    CHECK(console && !console->files && ab_format_prints(console, "stress") &&
          !ab_format_prints(console, "check"));
    CHECK(ab_format_find("xml") == NULL);

    /* A document of no known command: report.json only (no page draws it). */
    cJSON *other_doc = cJSON_Parse("{\"command\": \"merge\"}");
    CHECK(ab_report_write(other_doc, out, err, sizeof err) == 0);
    CHECK(entries(out) == 1 && exists(out, "report.json"));
    cJSON_Delete(other_doc);

    /* Run and fastpath sets hold benchmark.json; a stress set does not. */
    cJSON *run_doc = cJSON_Parse("{\"command\": \"run\", \"trials\": [], \"aggregates\": [], "
                                 "\"diagnostics\": []}");
    CHECK(ab_report_write(run_doc, out, err, sizeof err) == 0);
    CHECK(entries(out) == 5 && exists(out, "benchmark.json") && exists(out, "report.html"));
    const struct ab_format *gbench = ab_format_find("gbench");
    CHECK(gbench && ab_format_prints(gbench, "run") && ab_format_prints(gbench, "fastpath") &&
          !ab_format_prints(gbench, "stress") && !gbench->for_people);
    CHECK(ab_report_write(doc, out, err, sizeof err) == 0);
    CHECK(entries(out) == 4 && !exists(out, "benchmark.json"));

    /* One format's files alone (allocbench report DIR): in place, beside
     * the others, which stay; no temporary name left. */
    snprintf(path, sizeof path, "%s/report.html", out);
    CHECK(unlink(path) == 0 && entries(out) == 3);
    const struct ab_format *page = ab_format_find("html");
    CHECK(page && ab_report_write_format(doc, page, out, err, sizeof err) == 0);
    CHECK(entries(out) == 4 && exists(out, "report.html") && exists(out, "report.json") &&
          exists(out, "allocator-stress-report.tsv"));
    CHECK(ab_report_write_format(run_doc, page, out, err, sizeof err) == 0);
    CHECK(entries(out) == 4 && !exists(out, "benchmark.json"));
    cJSON_Delete(run_doc);
    cJSON_Delete(doc);

    const char *const dirs[] = {out, other};
    for (int i = 0; i < 2; i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(dirfd(d), e->d_name, 0);
        if (d)
            closedir(d);
        rmdir(dirs[i]);
    }
    rmdir(tmp);
    return check_done();
}
