/*
 * html-stress.c — the page of a stress document ("command": "stress"): the
 * verdict of every allocator and case as a matrix, in colour and in words;
 * the checks that failed with their details, the diagnostics, the checks
 * that did not apply.
 */
#include "html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AXIS 64

/* A verdict's word in a cell. */
static const char *verdict_word(const char *v)
{
    return !strcmp(v, "pass")             ? "pass"
           : !strcmp(v, "fail")           ? "FAIL"
           : !strcmp(v, "incomplete")     ? "incomplete"
           : !strcmp(v, "not-applicable") ? "n/a"
                                          : v;
}

static size_t add_name(const char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return n;
    if (n < MAX_AXIS && *name)
        names[n++] = name;
    return n;
}

static int find(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return (int)i;
    return -1;
}

/* The checks of a case that failed, "name, name", into buf. */
static void failed_checks(char *buf, size_t len, const cJSON *c)
{
    const cJSON *k;
    size_t n = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(k, ab_html_get(c, "checks"))
        if (!strcmp(ab_json_str(k, "verdict"), "failed") && n + 8 < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", ab_json_str(k, "name"));
}

static void matrix(struct ab_html *h, const cJSON *doc)
{
    const cJSON *cases = ab_html_get(doc, "cases"), *c, *x;
    const char *allocs[MAX_AXIS], *names[MAX_AXIS];
    size_t na = 0, nc = 0;
    /* The cases run, in the profile's order, then any other. */
    cJSON_ArrayForEach(x, ab_html_get(ab_html_get(ab_html_get(doc, "stress"), "profile"), "cases"))
        cJSON_ArrayForEach(c, cases)
            if (cJSON_IsString(x) && !strcmp(ab_json_str(c, "case"), x->valuestring))
                nc = add_name(names, nc, x->valuestring);
    cJSON_ArrayForEach(c, cases)
    {
        na = add_name(allocs, na, ab_json_str(c, "allocator"));
        nc = add_name(names, nc, ab_json_str(c, "case"));
    }
    if (!na) {
        ab_html_p(h, "note", "No case was run.");
        return;
    }
    double maxname = 0;
    for (size_t i = 0; i < na; i++)
        maxname = fmax(maxname, (double)strlen(allocs[i]));
    double left = fmin(240, 20 + 7 * maxname), cw = fmin(96, (720 - left - 60) / (double)nc),
           rh = 24, top = 120;
    ab_html_figure(h, "stress-matrix");
    char title[256];
    snprintf(title, sizeof title, "Verdicts under profile %s: allocator by case",
             ab_json_str(ab_html_get(ab_html_get(doc, "stress"), "profile"), "name"));
    struct ab_chart chart, *k = &chart;
    ab_svg_begin(k, &h->t, fmin(720, left + cw * (double)nc + 80), top + rh * (double)na + 12, top,
                 80, 12, left, title);
    for (size_t j = 0; j < nc; j++)
        ab_svg_text_turned(k, left + cw * ((double)j + 0.5) - 4, top - 8, -40, "cat", names[j]);
    for (size_t i = 0; i < na; i++)
        ab_svg_category(k, top + rh * ((double)i + 0.5), left - 10, allocs[i]);
    int row = 0;
    cJSON_ArrayForEach(c, cases)
    {
        int i = find(allocs, na, ab_json_str(c, "allocator")),
            j = find(names, nc, ab_json_str(c, "case"));
        const char *v = ab_json_str(c, "verdict");
        char tip[600], failed[256];
        failed_checks(failed, sizeof failed, c);
        const char *reason = ab_json_str(c, "reason");
        snprintf(tip, sizeof tip, "%s, %s: %s%s%s%s%s", ab_json_str(c, "allocator"),
                 ab_json_str(c, "case"), v, *failed ? "; failed: " : "", failed,
                 *reason ? "; " : "", reason);
        struct ab_mark m = {
            .series = -1, .row = row++, .v = NAN, .cls = ab_html_verdict_class(v), .title = tip};
        if (i >= 0 && j >= 0)
            ab_svg_cell(k, left + cw * j, top + rh * i, cw, rh, verdict_word(v), &m);
    }
    ab_svg_end(k);
    static const char *const heads[] = {
        "allocator", "case",    "verdict",     "threads",       "operations", "blocks verified",
        "ns per op", "seconds", "diagnostics", "failed checks", "reason"};
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    row = 0;
    cJSON_ArrayForEach(c, cases)
    {
        const char *v = ab_json_str(c, "verdict");
        ab_html_tr(h, row++);
        ab_html_td(h, ab_json_str(c, "allocator"));
        ab_html_td(h, ab_json_str(c, "case"));
        ab_html_td_class(h, ab_html_verdict_class(v), v);
        ab_html_td_num(h, "%.0f", ab_html_num(c, "threads"));
        ab_html_td_num(h, "%.0f", ab_html_num(c, "operations"));
        ab_html_td_num(h, "%.0f", ab_html_num(c, "blocks_verified"));
        ab_html_td_num(h, "%.1f", ab_html_num(c, "ns_per_op"));
        ab_html_td_num(h, "%.2f", ab_html_num(c, "elapsed_s"));
        char codes[512], failed[256];
        size_t n = 0;
        codes[0] = '\0';
        cJSON_ArrayForEach(x, ab_html_get(c, "diagnostics"))
            if (cJSON_IsString(x) && n + 8 < sizeof codes)
                n += (size_t)snprintf(codes + n, sizeof codes - n, "%s%s", n ? ", " : "",
                                      x->valuestring);
        ab_html_td(h, codes);
        failed_checks(failed, sizeof failed, c);
        ab_html_td(h, failed);
        ab_html_td(h, ab_json_str(c, "reason"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
}

/* A table of the checks of every case whose verdict is verdict, with
 * their details; how many. */
static size_t checks(struct ab_html *h, const cJSON *doc, const char *verdict)
{
    const cJSON *c, *k;
    size_t n = 0;
    cJSON_ArrayForEach(c, ab_html_get(doc, "cases"))
        cJSON_ArrayForEach(k, ab_html_get(c, "checks"))
        {
            if (strcmp(ab_json_str(k, "verdict"), verdict))
                continue;
            if (!n++) {
                static const char *const heads[] = {"allocator", "case", "check", "verdict",
                                                    "detail"};
                ab_html_table(h, "data diag", heads, 5);
            }
            ab_html_tr(h, -1);
            ab_html_td(h, ab_json_str(c, "allocator"));
            ab_html_td(h, ab_json_str(c, "case"));
            ab_html_td(h, ab_json_str(k, "name"));
            ab_html_td(h, ab_json_str(k, "verdict"));
            ab_html_td(h, ab_json_str(k, "detail"));
            ab_html_tr_end(h);
        }
    if (n)
        ab_html_table_end(h);
    return n;
}

void ab_html_stress(struct ab_html *h, const cJSON *doc)
{
    const cJSON *st = ab_html_get(doc, "stress"), *prof = ab_html_get(st, "profile"),
                *ctx = ab_html_get(doc, "context"), *c;
    char when[64], ops[32], dur[32], seed[32];
    size_t nsub = (size_t)cJSON_GetArraySize(ab_html_get(ctx, "subjects"));
    snprintf(h->title, sizeof h->title, "allocbench stress --profile %s",
             ab_json_str(prof, "name"));
    size_t pass = 0, fail = 0, other = 0;
    cJSON_ArrayForEach(c, ab_html_get(doc, "cases"))
    {
        const char *v = ab_json_str(c, "verdict");
        pass += !strcmp(v, "pass");
        fail += !strcmp(v, "fail") || !strcmp(v, "incomplete");
        other += strcmp(v, "pass") && strcmp(v, "fail") && strcmp(v, "incomplete");
    }
    snprintf(h->summary, sizeof h->summary,
             "%zu %s; %zu passed, %zu failed or incomplete, %zu not applicable; on %s, started %s",
             nsub, ab_html_plural((double)nsub, "allocator", "allocators"), pass, fail, other,
             ab_json_str(ctx, "hostname"),
             ab_html_when(when, sizeof when, ab_json_str(ctx, "started_utc")));
    cJSON_ArrayForEach(c, ab_html_get(ctx, "subjects"))
        ab_html_series(h, ab_json_str(c, "name"));

    ab_html_section(h, "verdicts", "Verdicts");
    ab_html_p(
        h, NULL,
        "Profile %s (%s): threads %s (%.0f here), sizes %s, large blocks %s; "
        "operations per thread %s, %s per timed case; verification %s; "
        "seed %s.",
        ab_json_str(prof, "name"), ab_json_str(prof, "summary"), ab_json_str(prof, "threads"),
        ab_html_num(prof, "threads_here"), ab_json_str(prof, "sizes"), ab_json_str(prof, "large"),
        ab_report_num(ops, sizeof ops, "%.0f", ab_html_num(st, "ops"), "uncapped"),
        isfinite(ab_html_num(st, "duration_s"))
            ? (snprintf(dur, sizeof dur, "at most %.4g s", ab_html_num(st, "duration_s")), dur)
            : "no time cap",
        ab_json_bool(st, "verify") ? "on" : "off", ab_html_u64(seed, sizeof seed, st, "seed"));
    matrix(h, doc);

    ab_html_section(h, "failed", "Failed checks");
    if (!checks(h, doc, "failed"))
        ab_html_p(h, "note", "None: every check that ran held.");
    cJSON_ArrayForEach(c, ab_html_get(doc, "cases"))
    {
        if (!*ab_json_str(c, "stderr_tail"))
            continue;
        char head[256];
        snprintf(head, sizeof head, "%s, %s: the end of its standard error",
                 ab_json_str(c, "allocator"), ab_json_str(c, "case"));
        ab_html_h3(h, head);
        ab_text_printf(&h->t, "<pre>");
        ab_html_text(&h->t, ab_json_str(c, "stderr_tail"));
        ab_text_printf(&h->t, "</pre>\n");
    }

    ab_html_section(h, "diagnostics", "Diagnostics");
    static const char *const keys[] = {"code", "allocator", "profile", "case", "count", "detail"};
    ab_html_diagnostics(h, ab_html_get(doc, "diagnostics"), keys, keys,
                        sizeof keys / sizeof keys[0], "None: no diagnostic fired.");
    ab_html_h3(h, "Checks that did not apply");
    if (!checks(h, doc, "not-applicable"))
        ab_html_p(h, "note", "None.");
}
