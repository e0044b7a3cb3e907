/*
 * html-compare.c — the page of a comparison ("command": "compare"): the
 * ratios HEAD / BASE around 1.0 as a forest plot, with their 95 %
 * intervals (run reports) or as exact ratios of counts (fast-path
 * reports), the gate's line, the rows of one side only, the notes and the
 * diagnostics.
 */
#include "html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The allocator of a row: one name, or "BASE -> HEAD" when they differ. */
static void allocator(char *buf, size_t len, const cJSON *row)
{
    const char *b = ab_json_str(ab_html_get(row, "base"), "allocator"),
               *hd = ab_json_str(ab_html_get(row, "head"), "allocator");
    if (!strcmp(b, hd))
        snprintf(buf, len, "%s", b);
    else
        snprintf(buf, len, "%s -> %s", b, hd);
}

static void run_rows(struct ab_html *h, const cJSON *doc, const cJSON *rows, size_t n)
{
    const cJSON *cmp = ab_html_get(doc, "compare"), *r;
    struct ab_html_row *hr = calloc(n ? n : 1, sizeof *hr);
    if (!hr) {
        h->t.oom = true;
        return;
    }
    size_t i = 0;
    cJSON_ArrayForEach(r, rows)
    {
        if (i == n)
            break;
        struct ab_html_row *x = &hr[i++];
        const char *v = ab_json_str(r, "verdict");
        double th = ab_html_num(r, "threads");
        allocator(x->name, sizeof x->name, r);
        snprintf(x->group, sizeof x->group, "%s, %.0f %s", ab_json_str(r, "variant"), th,
                 ab_html_plural(th, "thread", "threads"));
        x->series = ab_html_series(h, ab_json_str(ab_html_get(r, "head"), "allocator"));
        x->v = ab_html_num(r, "ratio");
        x->lo = ab_html_num(r, "ci95_low");
        x->hi = ab_html_num(r, "ci95_high");
        x->none = *ab_json_str(r, "reason") ? ab_json_str(r, "reason") : "no ratio";
        x->cls = ab_html_verdict_class(v);
        snprintf(x->right, sizeof x->right, "%s%s%s", *v ? v : "no verdict",
                 ab_json_bool(r, "fails") ? " FAILS" : "",
                 ab_json_bool(r, "noisy") ? " (noisy)" : "");
        snprintf(x->title, sizeof x->title,
                 "%s, %s: HEAD / BASE %.3f, 95%% CI [%.3f, %.3f], p %.3g: %s", x->group, x->name,
                 x->v, x->lo, x->hi, ab_html_num(r, "p"), x->right);
        snprintf(x->ci_title, sizeof x->ci_title, "%s, %s: 95%% CI [%.3f, %.3f]", x->group, x->name,
                 x->lo, x->hi);
    }
    ab_html_figure(h, "compare-forest");
    char title[256];
    snprintf(title, sizeof title, "%s: ns per %s, HEAD / BASE with its 95%% CI",
             ab_json_str(cmp, "workload"), ab_json_str(cmp, "unit"));
    ab_html_hchart(h, title, "HEAD / BASE (log scale; above 1: HEAD is slower)", ab_svg_fmt_ratio,
                   AB_HTML_POINTS, hr, i, 1.0, 1 + ab_html_num(cmp, "threshold_pct") / 100);
    static const char *const heads[] = {"variant",     "threads",     "allocator",   "BASE median",
                                        "HEAD median", "BASE trials", "HEAD trials", "ratio",
                                        "CI low",      "CI high",     "p",           "verdict",
                                        "fails",       "noisy"};
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    i = 0;
    cJSON_ArrayForEach(r, rows)
    {
        if (i == n)
            break;
        const cJSON *b = ab_html_get(r, "base"), *hd = ab_html_get(r, "head");
        char tb[48], th[48];
        ab_html_tr(h, (int)i);
        ab_html_td(h, ab_json_str(r, "variant"));
        ab_html_td_num(h, "%.0f", ab_html_num(r, "threads"));
        ab_html_td(h, hr[i].name);
        ab_html_td_num(h, "%.4f", ab_html_num(b, "median"));
        ab_html_td_num(h, "%.4f", ab_html_num(hd, "median"));
        snprintf(tb, sizeof tb, "%.0f / %.0f", ab_html_num(b, "n"), ab_html_num(b, "trials"));
        snprintf(th, sizeof th, "%.0f / %.0f", ab_html_num(hd, "n"), ab_html_num(hd, "trials"));
        ab_html_td(h, tb);
        ab_html_td(h, th);
        ab_html_td_num(h, "%.4f", ab_html_num(r, "ratio"));
        ab_html_td_num(h, "%.4f", ab_html_num(r, "ci95_low"));
        ab_html_td_num(h, "%.4f", ab_html_num(r, "ci95_high"));
        ab_html_td_num(h, "%.3g", ab_html_num(r, "p"));
        const char *v = ab_json_str(r, "verdict");
        ab_html_td_class(h, hr[i].cls, *v ? v : ab_json_str(r, "reason"));
        ab_html_td(h, ab_json_bool(r, "fails") ? "FAILS" : "no");
        ab_html_td(h, ab_json_bool(r, "noisy") ? "noisy" : "no");
        ab_html_tr_end(h);
        i++;
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
    free(hr);
}

/* Fast-path rows: the ratio of the instructions p50, exact. */
static void fastpath_rows(struct ab_html *h, const cJSON *doc, const cJSON *rows, size_t n)
{
    const cJSON *cmp = ab_html_get(doc, "compare"), *r;
    struct ab_html_row *hr = calloc(n ? n : 1, sizeof *hr);
    if (!hr) {
        h->t.oom = true;
        return;
    }
    size_t i = 0;
    cJSON_ArrayForEach(r, rows)
    {
        if (i == n)
            break;
        struct ab_html_row *x = &hr[i++];
        const cJSON *in = ab_html_get(r, "instructions");
        const char *v = ab_json_str(r, "verdict");
        char who[160];
        allocator(who, sizeof who, r);
        snprintf(x->name, sizeof x->name, "%s %.0f %s", ab_json_str(r, "op"),
                 ab_html_num(r, "size"), ab_json_str(r, "pattern"));
        snprintf(x->group, sizeof x->group, "%s", who);
        x->series = ab_html_series(h, ab_json_str(ab_html_get(r, "head"), "allocator"));
        double b = ab_html_num(in, "base"), hd = ab_html_num(in, "head");
        x->v = b > 0 && isfinite(hd) ? hd / b : NAN;
        x->lo = x->hi = NAN;
        x->none = *ab_json_str(r, "reason") ? ab_json_str(r, "reason") : "not counted";
        x->cls = ab_html_verdict_class(v);
        snprintf(x->right, sizeof x->right, "%s%s", *v ? v : "no verdict",
                 ab_json_bool(r, "fails") ? " FAILS" : "");
        snprintf(x->title, sizeof x->title,
                 "%s, %s: instructions p50 %.0f -> %.0f (HEAD / BASE %.4f): %s", who, x->name, b,
                 hd, x->v, x->right);
    }
    ab_html_figure(h, "compare-forest");
    ab_html_hchart(h, "Instructions per call (p50), HEAD / BASE: exact counts",
                   "HEAD / BASE (log scale; above 1: HEAD counts more)", ab_svg_fmt_ratio,
                   AB_HTML_POINTS, hr, i, 1.0, 1 + ab_html_num(cmp, "threshold_pct") / 100);
    static const char *const heads[] = {
        "allocator",         "op",      "size",          "pattern",       "instructions BASE",
        "instructions HEAD", "change",  "branches BASE", "branches HEAD", "slow share BASE",
        "slow share HEAD",   "verdict", "fails"};
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    i = 0;
    cJSON_ArrayForEach(r, rows)
    {
        if (i == n)
            break;
        const cJSON *in = ab_html_get(r, "instructions"), *br = ab_html_get(r, "branches"),
                    *sl = ab_html_get(r, "slow_path_share");
        ab_html_tr(h, (int)i);
        ab_html_td(h, hr[i].group);
        ab_html_td(h, ab_json_str(r, "op"));
        ab_html_td_num(h, "%.0f", ab_html_num(r, "size"));
        ab_html_td(h, ab_json_str(r, "pattern"));
        ab_html_td_num(h, "%.0f", ab_html_num(in, "base"));
        ab_html_td_num(h, "%.0f", ab_html_num(in, "head"));
        ab_html_td_fmt(h, ab_svg_fmt_pct, ab_html_num(in, "change"));
        ab_html_td_num(h, "%.0f", ab_html_num(br, "base"));
        ab_html_td_num(h, "%.0f", ab_html_num(br, "head"));
        ab_html_td_num(h, "%.4f", ab_html_num(sl, "base"));
        ab_html_td_num(h, "%.4f", ab_html_num(sl, "head"));
        const char *v = ab_json_str(r, "verdict");
        ab_html_td_class(h, hr[i].cls, *v ? v : ab_json_str(r, "reason"));
        ab_html_td(h, ab_json_bool(r, "fails") ? "FAILS" : "no");
        ab_html_tr_end(h);
        i++;
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
    free(hr);
}

/* Rows of one side only, as their keys. */
static void one_side(struct ab_html *h, const cJSON *list, const char *side, bool run)
{
    if (!cJSON_GetArraySize(list))
        return;
    char head[64];
    snprintf(head, sizeof head, "Rows in %s only", side);
    ab_html_h3(h, head);
    static const char *const run_keys[] = {"variant", "threads", "allocator"}, *const fp_keys[] = {
                                                                                   "allocator",
                                                                                   "op", "size",
                                                                                   "pattern"};
    ab_html_diagnostics(h, list, run ? run_keys : fp_keys, run ? run_keys : fp_keys, run ? 3 : 4,
                        "");
}

void ab_html_compare(struct ab_html *h, const cJSON *doc)
{
    const cJSON *cmp = ab_html_get(doc, "compare"), *b = ab_html_get(cmp, "base"),
                *hd = ab_html_get(cmp, "head"), *rows = ab_html_get(doc, "rows"), *x;
    bool run = !strcmp(ab_json_str(cmp, "of"), "run");
    char wb[64], wh[64];
    snprintf(h->title, sizeof h->title, "allocbench compare: %s%s%s",
             run ? "run " : "fast-path reports", run ? ab_json_str(cmp, "workload") : "",
             run ? " reports" : "");
    snprintf(h->summary, sizeof h->summary,
             "BASE %s (%s), HEAD %s (%s); %.0f rows compared, "
             "%.0f fail the gate at %.4g %%",
             ab_json_str(b, "path"), ab_html_when(wb, sizeof wb, ab_json_str(b, "started_utc")),
             ab_json_str(hd, "path"), ab_html_when(wh, sizeof wh, ab_json_str(hd, "started_utc")),
             (double)cJSON_GetArraySize(rows), ab_html_num(doc, "failures"),
             ab_html_num(cmp, "threshold_pct"));
    ab_html_section(h, "comparison", "The comparison");
    ab_html_p(h, NULL, "%s", ab_json_str(cmp, "method"));
    ab_html_p(h, NULL, "Rows matched by %s; a row fails when %s.", ab_json_str(cmp, "matched_by"),
              run ? "its whole interval lies above the gate, 1 + threshold"
                  : "a count rises by more than the threshold");
    static const char *const side_keys[] = {
        "path", "hostname", "cpu_model", "allocbench_version", "git_revision", "counter"};
    static const char *const side_heads[] = {"side", "path",       "started",  "host",
                                             "CPU",  "allocbench", "revision", "counter"};
    ab_html_table(h, "data sides", side_heads, sizeof side_heads / sizeof side_heads[0]);
    const cJSON *const side[2] = {b, hd};
    for (int k = 0; k < 2; k++) {
        char when[64];
        ab_html_tr(h, -1);
        ab_html_td(h, k ? "HEAD" : "BASE");
        ab_html_td(h, ab_json_str(side[k], "path"));
        ab_html_td(h, ab_html_when(when, sizeof when, ab_json_str(side[k], "started_utc")));
        for (size_t i = 1; i < sizeof side_keys / sizeof side_keys[0]; i++)
            ab_html_td(h, ab_json_str(side[k], side_keys[i]));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    size_t n = (size_t)cJSON_GetArraySize(rows);
    if (!n)
        ab_html_p(h, "note", "No row is in both reports.");
    else if (run)
        run_rows(h, doc, rows, n);
    else
        fastpath_rows(h, doc, rows, n);
    one_side(h, ab_html_get(doc, "only_base"), "BASE", run);
    one_side(h, ab_html_get(doc, "only_head"), "HEAD", run);

    ab_html_section(h, "diagnostics", "Diagnostics");
    if (cJSON_GetArraySize(ab_html_get(doc, "notes"))) {
        ab_html_h3(h, "Notes");
        ab_text_printf(&h->t, "<ul>\n");
        cJSON_ArrayForEach(x, ab_html_get(doc, "notes"))
            if (cJSON_IsString(x)) {
                ab_text_printf(&h->t, "<li>");
                ab_html_text(&h->t, x->valuestring);
                ab_text_printf(&h->t, "</li>\n");
            }
        ab_text_printf(&h->t, "</ul>\n");
    }
    static const char *const keys[] = {"code", "detail"};
    ab_html_diagnostics(h, ab_html_get(doc, "diagnostics"), keys, keys, 2,
                        "None: no row fails the gate.");
}
