/* format-json.c — report.json: the document itself, pretty-printed, with a
 * newline at its end; --format json prints the same bytes. */
#include "report.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Strings are made valid UTF-8 first, on a copy (the TSV and console
 * formats keep the bytes as they are). */
static char *print(const cJSON *doc)
{
    cJSON *fixed = NULL;
    if (ab_json_utf8_fix_needed(doc) && (fixed = cJSON_Duplicate(doc, true)))
        ab_json_utf8_fix(fixed);
    char *text = cJSON_Print(fixed ? fixed : doc);
    cJSON_Delete(fixed);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *nl = realloc(text, n + 2);
    if (!nl) {
        free(text);
        return NULL;
    }
    nl[n] = '\n';
    nl[n + 1] = '\0';
    return nl;
}

static int files(const cJSON *doc, struct ab_report_set *set, char *err, size_t errlen)
{
    return ab_report_set_add(set, "report.json", print(doc), err, errlen);
}

static const char *const writes[] = {"report.json", NULL};

const struct ab_format ab_format_json = {
    .name = "json",
    .summary = "report.json: the whole document, every figure and its context",
    .choosable = true,
    .writes = writes,
    .files = files,
    .print = print,
};
