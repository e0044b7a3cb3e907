/*
 * html-run.c — the page of a run document ("command": "run"): per
 * variant, ns per op with the 95 % CI of the median, throughput against
 * threads, peak RSS, RSS and live bytes over the phases of workloads that
 * sample them, and the comparisons against the base as a forest plot;
 * then the workload's own figures and the diagnostics.
 */
#include "html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 720.0 /* chart width, px */

/* ----------------------------------------------------------- variants */

/* The aggregates of variant v, thread count by thread count (the run's
 * order), each its row. */
static size_t variant_rows(const cJSON *doc, const char *v, const cJSON **out, size_t max)
{
    size_t n = 0;
    const cJSON *t, *a;
    cJSON_ArrayForEach(t, ab_html_get(ab_html_get(doc, "run"), "threads"))
        cJSON_ArrayForEach(a, ab_html_get(doc, "aggregates"))
            if (n < max && !strcmp(ab_json_str(a, "variant"), v) && cJSON_IsNumber(t) &&
                ab_html_num(a, "threads") == t->valuedouble)
                out[n++] = a;
    return n;
}

static const char *why_none(const cJSON *a)
{
    const char *s = ab_json_str(a, "status");
    return !strcmp(s, "unavailable") ? "not available" : !strcmp(s, "ok") ? "not measured" : s;
}

/* Bars of a figure of each aggregate: ns per op (with its interval),
 * instructions per op, peak RSS. */
enum figure { NS, INSTRUCTIONS, RSS };

static void figure_chart(struct ab_html *h, const cJSON *doc, const char *v, const cJSON **ag,
                         size_t n, enum figure which)
{
    const char *unit = ab_json_str(ab_html_get(doc, "run"), "unit");
    bool groups = cJSON_GetArraySize(ab_html_get(ab_html_get(doc, "run"), "threads")) > 1,
         any = false;
    struct ab_html_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows) {
        h->t.oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct ab_html_row *r = &rows[i];
        const cJSON *a = ag[i], *ns = ab_html_get(a, "ns_per_op");
        double th = ab_html_num(a, "threads");
        snprintf(r->name, sizeof r->name, "%s", ab_json_str(a, "allocator"));
        if (groups)
            snprintf(r->group, sizeof r->group, "%.0f %s", th,
                     ab_html_plural(th, "thread", "threads"));
        r->series = ab_html_series(h, ab_json_str(a, "allocator"));
        r->lo = r->hi = NAN;
        r->none = why_none(a);
        char who[256];
        snprintf(who, sizeof who, "%s, %s, %.0f %s", ab_json_str(a, "allocator"), v, th,
                 ab_html_plural(th, "thread", "threads"));
        if (which == NS) {
            r->v = ab_html_num(ns, "median");
            r->lo = ab_html_num(ns, "ci95_low");
            r->hi = ab_html_num(ns, "ci95_high");
            snprintf(r->title, sizeof r->title, "%s: median %.4g ns per %s over %.0f trials", who,
                     r->v, unit, ab_html_num(ns, "n"));
            snprintf(r->ci_title, sizeof r->ci_title, "%s: 95%% CI of the median [%.4g, %.4g] ns",
                     who, r->lo, r->hi);
        } else if (which == INSTRUCTIONS) {
            r->v = ab_html_num(a, "instructions_per_op");
            snprintf(r->title, sizeof r->title, "%s: %.6g instructions per %s (median)", who, r->v,
                     unit);
        } else {
            double kib = ab_html_num(a, "peak_rss_kib");
            r->v = isfinite(kib) ? kib * 1024 : NAN;
            char b[32];
            snprintf(r->title, sizeof r->title,
                     "%s: peak RSS %s (%.0f KiB, the largest of "
                     "its trials)",
                     who, ab_svg_fmt_bytes(b, sizeof b, r->v), kib);
        }
        any = any || isfinite(r->v);
    }
    static const char *const kinds[] = {"ns-per-op", "instructions", "peak-rss"};
    char title[256], axis[128];
    if (which == NS) {
        snprintf(title, sizeof title, "%s: ns per %s, median with its 95%% CI", v, unit);
        snprintf(axis, sizeof axis, "ns per %s (per thread)", unit);
    } else if (which == INSTRUCTIONS) {
        snprintf(title, sizeof title, "%s: instructions per %s (%s)", v, unit,
                 ab_json_str(ab_html_get(doc, "context"), "counter"));
        snprintf(axis, sizeof axis, "instructions per %s", unit);
    } else {
        snprintf(title, sizeof title, "%s: peak resident set of a trial", v);
        snprintf(axis, sizeof axis, "peak RSS (bytes)");
    }
    if (!any) {
        if (which != INSTRUCTIONS)
            ab_html_p(h, "note", "%s: not measured in any configuration.", title);
        free(rows);
        return;
    }
    ab_html_figure(h, kinds[which]);
    ab_html_hchart(h, title, axis, which == RSS ? ab_svg_fmt_bytes : ab_svg_fmt_num, AB_HTML_BARS,
                   rows, n, NAN, NAN);
    if (which == NS) {
        static const char *const heads[] = {"allocator", "threads", "status", "median ns",
                                            "CI low",    "CI high", "min",    "max",
                                            "MAD",       "trials",  "CV",     "noisy"};
        ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    } else {
        const char *const heads[] = {"allocator", "threads", "status",
                                     which == RSS ? "peak RSS (KiB)" : "instructions"};
        ab_html_table(h, NULL, heads, 4);
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *a = ag[i], *ns = ab_html_get(a, "ns_per_op");
        ab_html_tr(h, (int)i);
        ab_html_td(h, ab_json_str(a, "allocator"));
        ab_html_td_num(h, "%.0f", ab_html_num(a, "threads"));
        ab_html_td(h, ab_json_str(a, "status"));
        if (which == NS) {
            static const char *const k[] = {"median", "ci95_low", "ci95_high", "min", "max", "mad"};
            for (size_t j = 0; j < 6; j++)
                ab_html_td_num(h, "%.4f", ab_html_num(ns, k[j]));
            char tr[64];
            snprintf(tr, sizeof tr, "%.0f / %.0f", ab_html_num(a, "measured"),
                     ab_html_num(a, "trials"));
            ab_html_td(h, tr);
            ab_html_td_num(h, "%.3f", ab_html_num(a, "cv"));
            ab_html_td(h, ab_json_bool(a, "noisy") ? "yes" : "no");
        } else if (which == RSS) {
            ab_html_td_num(h, "%.0f", ab_html_num(a, "peak_rss_kib"));
        } else {
            ab_html_td_num(h, "%.6g", ab_html_num(a, "instructions_per_op"));
        }
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
    free(rows);
}

/* Throughput against threads, a line per allocator. */
static void scaling_chart(struct ab_html *h, const cJSON *doc, const char *v, const cJSON **ag,
                          size_t n)
{
    const cJSON *threads = ab_html_get(ab_html_get(doc, "run"), "threads"), *t;
    size_t nt = 0;
    double tv[16], tlo = NAN, thi = NAN, top = 0;
    cJSON_ArrayForEach(t, threads)
        if (cJSON_IsNumber(t) && nt < 16) {
            tv[nt++] = t->valuedouble;
            tlo = isfinite(tlo) ? fmin(tlo, t->valuedouble) : t->valuedouble;
            thi = isfinite(thi) ? fmax(thi, t->valuedouble) : t->valuedouble;
        }
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = ab_html_get(ag[i], "ops_per_s");
        double f[2] = {ab_html_num(o, "median"), ab_html_num(o, "ci95_high")};
        for (int k = 0; k < 2; k++)
            if (isfinite(f[k]))
                top = fmax(top, f[k]), any = true;
    }
    if (nt < 2 || !any)
        return;
    ab_html_figure(h, "scaling");
    char title[256];
    snprintf(title, sizeof title, "%s: throughput against threads, median with its 95%% CI", v);
    struct ab_chart c;
    ab_svg_begin(&c, &h->t, W, 300, 28, 24, 44, 64, title);
    bool log = thi / tlo >= 8;
    if (log)
        ab_scale_set(&c.x, true, tlo, thi, c.left + 10, c.right - 10, false);
    else
        ab_scale_set(&c.x, false, tlo, thi, c.left + 20, c.right - 20, false);
    c.x.a = c.left + 20, c.x.b = c.right - 20;
    ab_scale_set(&c.y, false, 0, top, c.bottom, c.top, true);
    ab_svg_axis_at(&c, 'x', "threads", tv, NULL, nt, ab_svg_fmt_num);
    ab_svg_axis(&c, 'y', "operations per second (all threads)", ab_svg_fmt_num);
    /* Allocators in their order of appearance; points follow the table. */
    const char *names[64];
    int series[64];
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        const char *a = ab_json_str(ag[i], "allocator");
        bool seen = false;
        for (size_t j = 0; j < na && !seen; j++)
            seen = !strcmp(names[j], a);
        if (!seen && na < 64) {
            names[na] = a;
            series[na++] = ab_html_series(h, a);
        }
    }
    double xs[16], ys[16];
    for (size_t k = 0; k < na; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n && m < 16; i++)
            if (!strcmp(ab_json_str(ag[i], "allocator"), names[k])) {
                xs[m] = ab_html_num(ag[i], "threads");
                ys[m++] = ab_html_num(ab_html_get(ag[i], "ops_per_s"), "median");
            }
        char lt[256];
        snprintf(lt, sizeof lt, "%s: throughput against threads", names[k]);
        struct ab_mark lm = {.series = series[k], .row = -1, .v = NAN, .title = lt};
        ab_svg_line(&c, xs, ys, m, false, &lm);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ab_json_str(ag[i], "allocator"), names[k]))
                continue;
            const cJSON *o = ab_html_get(ag[i], "ops_per_s");
            double th = ab_html_num(ag[i], "threads"), med = ab_html_num(o, "median");
            char tip[320], ctip[320], b[32], lo[32], hi[32];
            snprintf(tip, sizeof tip, "%s, %.0f %s: %s operations per second (median)", names[k],
                     th, ab_html_plural(th, "thread", "threads"), ab_svg_fmt_num(b, sizeof b, med));
            snprintf(ctip, sizeof ctip, "%s, %.0f %s: 95%% CI [%s, %s] operations per second",
                     names[k], th, ab_html_plural(th, "thread", "threads"),
                     ab_svg_fmt_num(lo, sizeof lo, ab_html_num(o, "ci95_low")),
                     ab_svg_fmt_num(hi, sizeof hi, ab_html_num(o, "ci95_high")));
            struct ab_mark wm = {.series = -1, .row = (int)i, .v = NAN, .title = ctip};
            ab_svg_whisker(&c, false, ab_scale_px(&c.x, th), ab_html_num(o, "ci95_low"),
                           ab_html_num(o, "ci95_high"), &wm);
            struct ab_mark pm = {.series = series[k], .row = (int)i, .v = med, .title = tip};
            ab_svg_point(&c, th, med, &pm);
        }
    }
    ab_svg_end(&c);
    ab_svg_legend(&h->t, names, series, NULL, na);
    static const char *const heads[] = {"allocator", "threads", "ops/s median", "CI low",
                                        "CI high"};
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = ab_html_get(ag[i], "ops_per_s");
        ab_html_tr(h, (int)i);
        ab_html_td(h, ab_json_str(ag[i], "allocator"));
        ab_html_td_num(h, "%.0f", ab_html_num(ag[i], "threads"));
        ab_html_td_num(h, "%.0f", ab_html_num(o, "median"));
        ab_html_td_num(h, "%.0f", ab_html_num(o, "ci95_low"));
        ab_html_td_num(h, "%.0f", ab_html_num(o, "ci95_high"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
}

/* ------------------------------------------------------------- phases */

#define MAX_PHASES 512

/* The first measured trial of allocator a in variant v at th threads that
 * sampled phases, or NULL. */
static const cJSON *sampled_trial(const cJSON *doc, const char *v, const char *a, double th)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, ab_html_get(doc, "trials"))
        if (!strcmp(ab_json_str(r, "variant"), v) && !strcmp(ab_json_str(r, "allocator"), a) &&
            ab_html_num(r, "threads") == th && !strcmp(ab_json_str(r, "status"), "ok") &&
            cJSON_GetArraySize(ab_html_get(r, "samples")) > 0)
            return r;
    return NULL;
}

static int phase_index(const char *const *phases, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(phases[i], name))
            return (int)i;
    return -1;
}

/* RSS and live bytes at each phase boundary of one trial per allocator. */
static void phases_chart(struct ab_html *h, const cJSON *v_doc, const char *v, double th,
                         const cJSON **ag, size_t n)
{
    const cJSON *tr[64];
    const char *names[64];
    int series[64];
    size_t na = 0;
    for (size_t i = 0; i < n && na < 64; i++)
        if (ab_html_num(ag[i], "threads") == th) {
            const cJSON *r = sampled_trial(v_doc, v, ab_json_str(ag[i], "allocator"), th);
            if (r) {
                tr[na] = r;
                names[na] = ab_json_str(ag[i], "allocator");
                series[na] = ab_html_series(h, names[na]);
                na++;
            }
        }
    if (!na)
        return;
    /* The phases: the longest trial's, then any other's it lacks. */
    size_t longest = 0;
    for (size_t k = 1; k < na; k++)
        if (cJSON_GetArraySize(ab_html_get(tr[k], "samples")) >
            cJSON_GetArraySize(ab_html_get(tr[longest], "samples")))
            longest = k;
    const char **phases = calloc(MAX_PHASES, sizeof *phases);
    double *xs = calloc(MAX_PHASES, sizeof *xs), *rss = calloc(MAX_PHASES * na, sizeof *rss),
           *live = calloc(MAX_PHASES * na, sizeof *live);
    if (!phases || !xs || !rss || !live) {
        h->t.oom = true;
        goto out;
    }
    size_t np = 0;
    const cJSON *s;
    for (size_t pass = 0; pass <= na; pass++) {
        const cJSON *r = tr[pass ? pass - 1 : longest];
        cJSON_ArrayForEach(s, ab_html_get(r, "samples"))
            if (np < MAX_PHASES && phase_index(phases, np, ab_json_str(s, "phase")) < 0)
                phases[np++] = ab_json_str(s, "phase");
    }
    for (size_t i = 0; i < MAX_PHASES * na; i++)
        rss[i] = live[i] = NAN;
    double top = 0;
    for (size_t k = 0; k < na; k++) {
        size_t at = 0;
        cJSON_ArrayForEach(s, ab_html_get(tr[k], "samples"))
        {
            /* Samples follow the phase list; search only where one does not. */
            int p = at < np && !strcmp(phases[at], ab_json_str(s, "phase"))
                        ? (int)at
                        : phase_index(phases, np, ab_json_str(s, "phase"));
            at++;
            if (p < 0)
                continue;
            rss[k * MAX_PHASES + (size_t)p] = ab_html_num(s, "rss_bytes");
            live[k * MAX_PHASES + (size_t)p] = ab_html_num(s, "live_bytes");
            top = fmax(
                top,
                fmax(isfinite(ab_html_num(s, "rss_bytes")) ? ab_html_num(s, "rss_bytes") : 0,
                     isfinite(ab_html_num(s, "live_bytes")) ? ab_html_num(s, "live_bytes") : 0));
        }
    }
    for (size_t p = 0; p < np; p++)
        xs[p] = (double)p;

    ab_html_figure(h, "phases");
    char title[256];
    snprintf(title, sizeof title,
             "%s, %.0f %s: RSS (solid) and live bytes (dashed) at each "
             "phase",
             v, th, ab_html_plural(th, "thread", "threads"));
    struct ab_chart c;
    ab_svg_begin(&c, &h->t, W, 320, 28, 24, 58, 72, title);
    ab_scale_set(&c.x, false, 0, np > 1 ? (double)(np - 1) : 1, c.left + 8, c.right - 8, false);
    ab_scale_set_bytes(&c.y, top, c.bottom, c.top);
    /* At most seven phase names along the axis, the first and last among them. */
    double ticks[8];
    const char *labels[8];
    size_t nt = 0, step = np > 7 ? (np + 5) / 6 : 1;
    for (size_t p = 0; p < np && nt < 7; p += step) {
        ticks[nt] = (double)p;
        labels[nt++] = phases[p];
    }
    if (np > 1 && ticks[nt - 1] != (double)(np - 1)) {
        if (nt == 7 || (double)(np - 1) - ticks[nt - 1] < (double)step / 2)
            nt--;
        ticks[nt] = (double)(np - 1);
        labels[nt++] = phases[np - 1];
    }
    ab_svg_axis_at(&c, 'x', "phase boundary (the workload's phases, in order)", ticks, labels, nt,
                   ab_svg_fmt_num);
    ab_svg_axis(&c, 'y', "bytes", ab_svg_fmt_bytes);
    for (size_t k = 0; k < na; k++) {
        char lt[256];
        snprintf(lt, sizeof lt, "%s: RSS over the phases of repetition %.0f", names[k],
                 ab_html_num(tr[k], "repetition"));
        struct ab_mark lm = {.series = series[k], .row = -1, .v = NAN, .title = lt};
        ab_svg_line(&c, xs, rss + k * MAX_PHASES, np, false, &lm);
        snprintf(lt, sizeof lt, "%s: live bytes over the phases of repetition %.0f", names[k],
                 ab_html_num(tr[k], "repetition"));
        ab_svg_line(&c, xs, live + k * MAX_PHASES, np, true, &lm);
        for (size_t p = 0; p < np; p++) {
            double r = rss[k * MAX_PHASES + p], l = live[k * MAX_PHASES + p];
            char tip[400], b1[32], b2[32];
            snprintf(tip, sizeof tip, "%s, %s: RSS %s, live %s", names[k], phases[p],
                     ab_svg_fmt_bytes(b1, sizeof b1, r), ab_svg_fmt_bytes(b2, sizeof b2, l));
            struct ab_mark pm = {.series = series[k], .row = (int)p, .v = r, .title = tip};
            ab_svg_point(&c, (double)p, r, &pm);
        }
    }
    ab_svg_end(&c);
    ab_svg_legend(&h->t, names, series, NULL, na);
    ab_html_p(h, "note",
              "One trial per allocator: the first measured repetition that sampled "
              "its phases. RSS is the process's resident set; live bytes the "
              "workload's own count of the bytes it holds.");
    const char **heads = calloc(1 + 2 * na, sizeof *heads);
    char(*hb)[192] = calloc(2 * na, sizeof *hb);
    if (!heads || !hb) {
        free(heads);
        free(hb);
        h->t.oom = true;
        ab_html_figure_end(h);
        goto out;
    }
    heads[0] = "phase";
    for (size_t k = 0; k < na; k++) {
        snprintf(hb[2 * k], sizeof hb[0], "%s RSS (bytes)", names[k]);
        snprintf(hb[2 * k + 1], sizeof hb[0], "%s live (bytes)", names[k]);
        heads[1 + 2 * k] = hb[2 * k];
        heads[2 + 2 * k] = hb[2 * k + 1];
    }
    ab_html_table(h, NULL, heads, 1 + 2 * na);
    for (size_t p = 0; p < np; p++) {
        ab_html_tr(h, (int)p);
        ab_html_td(h, phases[p]);
        for (size_t k = 0; k < na; k++) {
            ab_html_td_num(h, "%.0f", rss[k * MAX_PHASES + p]);
            ab_html_td_num(h, "%.0f", live[k * MAX_PHASES + p]);
        }
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
    free(heads);
    free(hb);
out:
    free(phases);
    free(xs);
    free(rss);
    free(live);
}

/* -------------------------------------------------------- comparisons */

static void forest(struct ab_html *h, const cJSON *doc, const char *v)
{
    const cJSON *c, *t;
    size_t n = 0;
    cJSON_ArrayForEach(c, ab_html_get(doc, "comparisons"))
        n += !strcmp(ab_json_str(c, "variant"), v);
    if (!n)
        return;
    const cJSON **cs = calloc(n, sizeof *cs);
    struct ab_html_row *rows = calloc(n, sizeof *rows);
    if (!cs || !rows) {
        free(cs);
        free(rows);
        h->t.oom = true;
        return;
    }
    bool groups = cJSON_GetArraySize(ab_html_get(ab_html_get(doc, "run"), "threads")) > 1;
    size_t m = 0;
    cJSON_ArrayForEach(t, ab_html_get(ab_html_get(doc, "run"), "threads"))
        cJSON_ArrayForEach(c, ab_html_get(doc, "comparisons"))
            if (m < n && !strcmp(ab_json_str(c, "variant"), v) && cJSON_IsNumber(t) &&
                ab_html_num(c, "threads") == t->valuedouble)
                cs[m++] = c;
    for (size_t i = 0; i < m; i++) {
        struct ab_html_row *r = &rows[i];
        c = cs[i];
        const char *verdict = ab_json_str(c, "verdict");
        bool noisy = ab_json_bool(c, "noisy");
        double th = ab_html_num(c, "threads");
        snprintf(r->name, sizeof r->name, "%s / %s", ab_json_str(c, "allocator"),
                 ab_json_str(c, "base"));
        if (groups)
            snprintf(r->group, sizeof r->group, "%.0f %s", th,
                     ab_html_plural(th, "thread", "threads"));
        r->series = ab_html_series(h, ab_json_str(c, "allocator"));
        r->v = ab_html_num(c, "ratio");
        r->lo = ab_html_num(c, "ci95_low");
        r->hi = ab_html_num(c, "ci95_high");
        r->none = "no ratio";
        r->cls = ab_html_verdict_class(verdict);
        snprintf(r->right, sizeof r->right, "%s%s", *verdict ? verdict : "no verdict",
                 noisy ? " (noisy)" : "");
        snprintf(r->title, sizeof r->title,
                 "%s against %s, %.0f %s: ratio %.3f, 95%% CI [%.3f, %.3f], p %.3g: %s",
                 ab_json_str(c, "allocator"), ab_json_str(c, "base"), th,
                 ab_html_plural(th, "thread", "threads"), r->v, r->lo, r->hi,
                 ab_html_num(c, "p_value"), r->right);
        snprintf(r->ci_title, sizeof r->ci_title, "%s against %s: 95%% CI [%.3f, %.3f]",
                 ab_json_str(c, "allocator"), ab_json_str(c, "base"), r->lo, r->hi);
    }
    ab_html_figure(h, "forest");
    char title[256], axis[128];
    snprintf(title, sizeof title, "%s: ratio of ns per %s to the base's, with its 95%% CI", v,
             ab_json_str(ab_html_get(doc, "run"), "unit"));
    snprintf(axis, sizeof axis, "ratio to the base (log scale; above 1: slower)");
    ab_html_hchart(h, title, axis, ab_svg_fmt_ratio, AB_HTML_POINTS, rows, m, 1.0, NAN);
    static const char *const heads[] = {"threads", "allocator", "base", "pairs",   "ratio",
                                        "CI low",  "CI high",   "p",    "verdict", "noisy"};
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < m; i++) {
        c = cs[i];
        ab_html_tr(h, (int)i);
        ab_html_td_num(h, "%.0f", ab_html_num(c, "threads"));
        ab_html_td(h, ab_json_str(c, "allocator"));
        ab_html_td(h, ab_json_str(c, "base"));
        ab_html_td_num(h, "%.0f", ab_html_num(c, "pairs"));
        ab_html_td_num(h, "%.4f", ab_html_num(c, "ratio"));
        ab_html_td_num(h, "%.4f", ab_html_num(c, "ci95_low"));
        ab_html_td_num(h, "%.4f", ab_html_num(c, "ci95_high"));
        ab_html_td_num(h, "%.3g", ab_html_num(c, "p_value"));
        const char *verdict = ab_json_str(c, "verdict");
        ab_html_td_class(h, rows[i].cls, *verdict ? verdict : ab_json_str(c, "why_no_verdict"));
        ab_html_td(h, ab_json_bool(c, "noisy") ? "noisy" : "no");
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
    free(cs);
    free(rows);
}

/* -------------------------------------------------------------- the rest */

/* The workload's own figures: each metric's median per configuration. */
static void metrics(struct ab_html *h, const cJSON *doc)
{
    const char *names[32];
    char heads_buf[32][96];
    const char *heads[35] = {"variant", "allocator", "threads"};
    size_t nm = 0;
    const cJSON *a, *m;
    cJSON_ArrayForEach(a, ab_html_get(doc, "aggregates"))
        cJSON_ArrayForEach(m, ab_html_get(a, "metrics"))
        {
            bool seen = false;
            for (size_t i = 0; i < nm && !seen; i++)
                seen = !strcmp(names[i], m->string);
            if (!seen && nm < 32 && m->string) {
                snprintf(heads_buf[nm], sizeof heads_buf[0], "%s (%s)", m->string,
                         ab_json_str(m, "unit"));
                heads[3 + nm] = heads_buf[nm];
                names[nm++] = m->string;
            }
        }
    if (!nm)
        return;
    const cJSON *merit = ab_html_get(ab_html_get(doc, "run"), "figure_of_merit");
    ab_html_section(h, "figures", "Workload figures");
    ab_html_p(h, NULL, "The median over the measured trials of each configuration%s%s.",
              cJSON_IsString(merit) ? "; figure of merit: " : "",
              cJSON_IsString(merit) ? merit->valuestring : "");
    ab_html_table(h, NULL, heads, 3 + nm);
    cJSON_ArrayForEach(a, ab_html_get(doc, "aggregates"))
    {
        if (!cJSON_GetArraySize(ab_html_get(a, "metrics")))
            continue;
        ab_html_tr(h, -1);
        ab_html_td(h, ab_json_str(a, "variant"));
        ab_html_td(h, ab_json_str(a, "allocator"));
        ab_html_td_num(h, "%.0f", ab_html_num(a, "threads"));
        for (size_t i = 0; i < nm; i++)
            ab_html_td_num(h, "%.6g",
                           ab_html_num(ab_html_get(ab_html_get(a, "metrics"), names[i]), "median"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
}

static void diagnostics(struct ab_html *h, const cJSON *doc)
{
    const cJSON *a, *e, *r;
    ab_html_section(h, "diagnostics", "Diagnostics");
    bool noisy = false;
    cJSON_ArrayForEach(a, ab_html_get(doc, "aggregates"))
        noisy = noisy || ab_json_bool(a, "noisy");
    if (noisy) {
        ab_html_h3(h, "Noisy configurations");
        ab_text_printf(&h->t, "<ul>\n");
        cJSON_ArrayForEach(a, ab_html_get(doc, "aggregates"))
            if (ab_json_bool(a, "noisy")) {
                ab_text_printf(&h->t, "<li>");
                ab_html_printf(&h->t, "%s on %s, %.0f threads: %s", ab_json_str(a, "variant"),
                               ab_json_str(a, "allocator"), ab_html_num(a, "threads"),
                               ab_json_str(a, "noisy_why"));
                ab_text_printf(&h->t, "</li>\n");
            }
        ab_text_printf(&h->t, "</ul>\n");
    }
    bool heading = false;
    cJSON_ArrayForEach(a, ab_html_get(doc, "aggregates"))
    {
        if (strcmp(ab_json_str(a, "status"), "unavailable"))
            continue;
        bool said = false; /* once per variant and allocator */
        for (e = ab_html_get(doc, "aggregates")->child; e != a && !said; e = e->next)
            said = !strcmp(ab_json_str(e, "status"), "unavailable") &&
                   !strcmp(ab_json_str(e, "variant"), ab_json_str(a, "variant")) &&
                   !strcmp(ab_json_str(e, "allocator"), ab_json_str(a, "allocator"));
        if (said)
            continue;
        cJSON_ArrayForEach(r, ab_html_get(doc, "trials"))
            if (!strcmp(ab_json_str(r, "variant"), ab_json_str(a, "variant")) &&
                !strcmp(ab_json_str(r, "allocator"), ab_json_str(a, "allocator"))) {
                if (!heading)
                    ab_html_h3(h, "Not available"), heading = true;
                ab_html_p(h, NULL, "%s on %s: %s", ab_json_str(a, "variant"),
                          ab_json_str(a, "allocator"), ab_json_str(r, "reason"));
                break;
            }
    }
    ab_html_h3(h, "Diagnostic codes");
    static const char *const keys[] = {"code",    "allocator",  "workload", "variant",
                                       "threads", "repetition", "detail"};
    ab_html_diagnostics(h, ab_html_get(doc, "diagnostics"), keys, keys,
                        sizeof keys / sizeof keys[0], "None: every trial ran to its end.");
}

void ab_html_run(struct ab_html *h, const cJSON *doc)
{
    const cJSON *rc = ab_html_get(doc, "run"), *v, *p;
    const cJSON *ctx = ab_html_get(doc, "context");
    snprintf(h->title, sizeof h->title, "allocbench run %s", ab_json_str(rc, "workload"));
    char threads[128] = "";
    size_t tn = 0;
    cJSON_ArrayForEach(p, ab_html_get(rc, "threads"))
        if (tn + 16 < sizeof threads)
            tn += (size_t)snprintf(threads + tn, sizeof threads - tn, "%s%.0f", tn ? "," : "",
                                   cJSON_IsNumber(p) ? p->valuedouble : NAN);
    size_t nsub = (size_t)cJSON_GetArraySize(ab_html_get(ctx, "subjects"));
    char when[64];
    snprintf(h->summary, sizeof h->summary,
             "%zu %s, %d %s, threads %s, %.0f repetitions; on %s, started %s", nsub,
             ab_html_plural((double)nsub, "allocator", "allocators"),
             cJSON_GetArraySize(ab_html_get(rc, "variants")),
             ab_html_plural(cJSON_GetArraySize(ab_html_get(rc, "variants")), "variant", "variants"),
             threads, ab_html_num(rc, "repetitions"), ab_json_str(ctx, "hostname"),
             ab_html_when(when, sizeof when, ab_json_str(ctx, "started_utc")));
    const cJSON *s;
    cJSON_ArrayForEach(s, ab_html_get(ctx, "subjects"))
        ab_html_series(h, ab_json_str(s, "name"));

    ab_html_section(h, "run", "The run");
    char params[1024] = "";
    size_t pn = 0;
    cJSON_ArrayForEach(p, ab_html_get(rc, "params"))
    {
        char val[64];
        if (cJSON_IsNumber(p))
            snprintf(val, sizeof val, "%.15g", p->valuedouble);
        else
            snprintf(val, sizeof val, "%s", cJSON_IsString(p) ? p->valuestring : "-");
        if (p->string && pn + 80 < sizeof params)
            pn += (size_t)snprintf(params + pn, sizeof params - pn, "%s%s=%s", pn ? ", " : "",
                                   p->string, val);
    }
    ab_html_p(h, NULL, "Workload %s, one op is one %s; parameters: %s.",
              ab_json_str(rc, "workload"), ab_json_str(rc, "unit"), *params ? params : "none");
    char rounds[64], mt[64], seed[32];
    ab_html_p(h, NULL,
              "%.0f repetitions per configuration, %.0f warm-up rounds, rounds %s "
              "(%s), seed %s, timeout %.4g s, threads %s.",
              ab_html_num(rc, "repetitions"), ab_html_num(rc, "warmup"),
              ab_report_num(rounds, sizeof rounds, "%.0f", ab_html_num(rc, "rounds"), "calibrated"),
              ab_html_num(rc, "min_time_s") > 0
                  ? (snprintf(mt, sizeof mt, "a measured phase of at least %.4g s",
                              ab_html_num(rc, "min_time_s")),
                     mt)
                  : "as given, no minimum measured time",
              ab_html_u64(seed, sizeof seed, rc, "seed"), ab_html_num(rc, "timeout_s"),
              ab_json_bool(rc, "pin") ? "pinned" : "not pinned");
    if (cJSON_IsString(ab_html_get(rc, "figure_of_merit")))
        ab_html_p(h, NULL, "Figure of merit: %s.", ab_json_str(rc, "figure_of_merit"));

    size_t max = (size_t)cJSON_GetArraySize(ab_html_get(doc, "aggregates"));
    const cJSON **ag = calloc(max ? max : 1, sizeof *ag);
    if (!ag) {
        h->t.oom = true;
        return;
    }
    cJSON_ArrayForEach(v, ab_html_get(rc, "variants"))
    {
        if (!cJSON_IsString(v))
            continue;
        const char *name = v->valuestring;
        size_t n = variant_rows(doc, name, ag, max);
        char id[40], heading[120];
        snprintf(id, sizeof id, "variant-%.30s", name);
        snprintf(heading, sizeof heading, "Variant %s", name);
        ab_html_section(h, id, heading);
        if (!n) {
            ab_html_p(h, "note", "Not run.");
            continue;
        }
        figure_chart(h, doc, name, ag, n, NS);
        figure_chart(h, doc, name, ag, n, INSTRUCTIONS);
        forest(h, doc, name);
        scaling_chart(h, doc, name, ag, n);
        figure_chart(h, doc, name, ag, n, RSS);
        cJSON_ArrayForEach(p, ab_html_get(rc, "threads"))
            if (cJSON_IsNumber(p))
                phases_chart(h, doc, name, p->valuedouble, ag, n);
    }
    free(ag);
    metrics(h, doc);
    diagnostics(h, doc);
}
