/*
 * compare-job.c — what the row builders of compare share with the document
 * builder: refusing a comparison, a note, a finding of the gate, and the
 * row of the other report that matches a row.
 */
#include "compare-rows.h"

#include <cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

int ab_compare_refuse(struct ab_compare_job *j, enum ab_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, j->errlen, fmt, ap);
    va_end(ap);
    *j->code = code;
    return -EPROTO;
}

void ab_compare_note(struct ab_compare_job *j, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(j->notes, cJSON_CreateString(line));
}

void ab_compare_failed(struct ab_compare_job *j, enum ab_code code, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "code", ab_code_name(code));
    cJSON_AddStringToObject(d, "detail", line);
    cJSON_AddItemToArray(j->diagnostics, d);
}

const cJSON *ab_compare_match(const cJSON *items, const cJSON *item, const char *const *keys,
                              bool by_position, bool *twice)
{
    const cJSON *found = NULL, *o;
    *twice = false;
    cJSON_ArrayForEach(o, items)
    {
        bool same = true;
        for (const char *const *k = keys; *k && same; k++)
            if (!(by_position && !strcmp(*k, "allocator")))
                same = cJSON_Compare(get(o, *k), get(item, *k), true);
        if (same && found) {
            *twice = true;
            return found;
        }
        if (same)
            found = o;
    }
    return found;
}
