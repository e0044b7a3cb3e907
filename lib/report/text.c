/*
 * text.c — the writers every format shares: a growing text, TSV fields,
 * and figures where null (not measured) prints as the caller's "none"
 * (empty in TSV, `-` on the console).
 */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void text_vprintf(struct ab_text *t, const char *fmt, va_list ap)
{
    if (t->oom)
        return;
    for (;;) {
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, aq);
        va_end(aq);
        if (n < 0) {
            t->oom = true;
            return;
        }
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *np = realloc(t->p, cap);
        if (!np) {
            t->oom = true;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
}

void ab_text_printf(struct ab_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    text_vprintf(t, fmt, ap);
    va_end(ap);
}

size_t ab_tsv_escape(char *buf, size_t len, const char *s)
{
    size_t n = 0;
    for (; *s && n + 3 < len; s++) {
        char e = *s == '\t' ? 't' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : *s == '\\' ? '\\' : 0;
        if (e) {
            buf[n++] = '\\';
            buf[n++] = e;
        } else {
            buf[n++] = *s;
        }
    }
    buf[n] = '\0';
    return n;
}

void ab_text_field(struct ab_text *t, const char *s)
{
    char buf[2 * 4096 + 1];
    ab_tsv_escape(buf, sizeof buf, s);
    ab_text_printf(t, "%s", buf);
}

void ab_text_num(struct ab_text *t, const char *fmt, double v, const char *none)
{
    char buf[64];
    ab_text_printf(t, "%s", ab_report_num(buf, sizeof buf, fmt, v, none));
}

char *ab_text_finish(struct ab_text *t)
{
    if (t->oom) {
        free(t->p);
        return NULL;
    }
    return t->p ? t->p : strdup("");
}

const char *ab_report_num(char *buf, size_t len, const char *fmt, double v, const char *none)
{
    if (isfinite(v))
        snprintf(buf, len, fmt, v);
    else
        snprintf(buf, len, "%s", none);
    return buf;
}

const char *ab_report_count(char *buf, size_t len, int64_t v, const char *none)
{
    if (v >= 0)
        snprintf(buf, len, "%lld", (long long)v);
    else
        snprintf(buf, len, "%s", none);
    return buf;
}

bool ab_report_u64(const cJSON *o, const char *k, uint64_t *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsRaw(x) && x->valuestring) /* an exact literal (ab_json_add_u64) */
        return !ab_parse_u64(x->valuestring, 0, UINT64_MAX, false, v);
    if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0))
        return false;
    *v = x->valuedouble >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)x->valuedouble;
    return true;
}

void ab_report_log2_bounds(const cJSON *bin, uint64_t *low, uint64_t *high)
{
    /* low is a power of two, exact as a double; high is one less than
     * twice it (2^64 - 1 for the last bin, where the product wraps). */
    if (!ab_report_u64(bin, "low", low))
        *low = 0;
    *high = *low ? 2 * *low - 1 : 0;
}
