/*
 * html-fastpath.c — the page of a fast-path document ("command":
 * "fastpath"): per op, the p50 of instructions per call against the size,
 * a line per allocator and pattern, with the band from p99 to max; the
 * slow-path share against the size; each row's distribution of calls as
 * a small histogram in the table.
 */
#include "html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W         720.0
#define MAX_LINES 128

/* Sizes as 8, 512, 4K, 1M. */
static const char *fmt_size(char *buf, size_t len, double v)
{
    if (v >= 1024.0 * 1024 && fmod(v, 1024.0 * 1024) == 0)
        snprintf(buf, len, "%.0fM", v / (1024.0 * 1024));
    else if (v >= 1024 && fmod(v, 1024) == 0)
        snprintf(buf, len, "%.0fK", v / 1024);
    else
        snprintf(buf, len, "%.0f", v);
    return buf;
}

/* The rows of one op, grouped by allocator and pattern (a line each, in
 * the order first met), by size within a line. */
struct line {
    const char *allocator, *pattern;
    int series;
    size_t first, n; /* its rows: ops[first .. first + n) */
};

struct op_rows {
    const cJSON **row;
    size_t n;
    struct line line[MAX_LINES];
    size_t nlines;
};

static bool ok(const cJSON *r)
{
    return !strcmp(ab_json_str(r, "status"), "ok");
}

static int op_rows(struct ab_html *h, const cJSON *doc, const char *op, struct op_rows *o)
{
    const cJSON *r;
    size_t max = (size_t)cJSON_GetArraySize(ab_html_get(doc, "rows"));
    memset(o, 0, sizeof *o);
    if (!(o->row = calloc(max ? max : 1, sizeof *o->row)))
        return -1;
    /* Lines first, then each line's rows by size. */
    cJSON_ArrayForEach(r, ab_html_get(doc, "rows"))
    {
        if (strcmp(ab_json_str(r, "op"), op))
            continue;
        const char *a = ab_json_str(r, "allocator"), *p = ab_json_str(r, "pattern");
        bool seen = false;
        for (size_t i = 0; i < o->nlines && !seen; i++)
            seen = !strcmp(o->line[i].allocator, a) && !strcmp(o->line[i].pattern, p);
        if (!seen && o->nlines < MAX_LINES)
            o->line[o->nlines++] = (struct line){a, p, ab_html_series(h, a), 0, 0};
    }
    for (size_t i = 0; i < o->nlines; i++) {
        struct line *l = &o->line[i];
        l->first = o->n;
        cJSON_ArrayForEach(r, ab_html_get(doc, "rows"))
            if (!strcmp(ab_json_str(r, "op"), op) &&
                !strcmp(ab_json_str(r, "allocator"), l->allocator) &&
                !strcmp(ab_json_str(r, "pattern"), l->pattern) && o->n < max) {
                /* Insertion by size: a line holds a few dozen rows. */
                size_t j = o->n++;
                double s = ab_html_num(r, "size");
                while (j > l->first && ab_html_num(o->row[j - 1], "size") > s) {
                    o->row[j] = o->row[j - 1];
                    j--;
                }
                o->row[j] = r;
                l->n++;
            }
    }
    return 0;
}

static void line_name(char *buf, size_t len, const struct line *l)
{
    snprintf(buf, len, "%s %s", l->allocator, l->pattern);
}

/* The sizes of the config, for the x axis (those of the rows if none). */
static size_t sizes(const cJSON *doc, const struct op_rows *o, double *v, size_t max)
{
    size_t n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, ab_html_get(ab_html_get(doc, "config"), "sizes"))
        if (cJSON_IsNumber(s) && n < max)
            v[n++] = s->valuedouble;
    for (size_t i = 0; i < o->n && n < max; i++) {
        double x = ab_html_num(o->row[i], "size");
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = v[j] == x;
        if (!seen && isfinite(x))
            v[n++] = x;
    }
    return n;
}

/* The x axis of sizes: a log scale, ticks at the sizes (every other one
 * past a dozen). */
static void size_axis(struct ab_chart *c, const cJSON *doc, const struct op_rows *o)
{
    double v[64], lo = NAN, hi = NAN;
    size_t n = sizes(doc, o, v, 64), m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > 0)
            lo = isfinite(lo) ? fmin(lo, v[i]) : v[i], hi = isfinite(hi) ? fmax(hi, v[i]) : v[i];
    ab_scale_set(&c->x, true, lo, hi, c->left, c->right, false);
    for (size_t i = 0; i<n; i += n> 12 ? 2 : 1)
        v[m++] = v[i];
    ab_svg_axis_at(c, 'x', "requested size (bytes, log scale)", v, NULL, m, fmt_size);
}

static void legend(struct ab_html *h, const struct op_rows *o)
{
    const char *names[MAX_LINES];
    char buf[MAX_LINES][160];
    int series[MAX_LINES];
    bool dashed[MAX_LINES];
    for (size_t i = 0; i < o->nlines; i++) {
        line_name(buf[i], sizeof buf[i], &o->line[i]);
        names[i] = buf[i];
        series[i] = o->line[i].series;
        dashed[i] = strcmp(o->line[i].pattern, "pairs") != 0;
    }
    ab_svg_legend(&h->t, names, series, dashed, o->nlines);
}

#define BINS 66 /* bin 0 holds 0; bin k (1..65) [2^(k-1), 2^k - 1] */

/* The calls of a row per log2 bin of instructions: the lowest and highest
 * bin holding any widen *kmin and *kmax; the most calls of a bin. */
static double bins(const cJSON *r, double count[BINS], int *kmin, int *kmax)
{
    const cJSON *e;
    double most = 0;
    memset(count, 0, BINS * sizeof *count);
    cJSON_ArrayForEach(e, ab_html_get(ab_html_get(r, "instructions"), "histogram"))
    {
        char *end;
        double v = e->string ? strtod(e->string, &end) : NAN;
        if (!e->string || *end || !(v >= 0) || !cJSON_IsNumber(e) || !(e->valuedouble > 0))
            continue;
        int k = v < 1 ? 0 : (int)fmin(BINS - 1, floor(log2(v)) + 1);
        count[k] += e->valuedouble;
        *kmin = k < *kmin ? k : *kmin;
        *kmax = k > *kmax ? k : *kmax;
        most = fmax(most, count[k]);
    }
    return most;
}

/* The calls of a row by log2 bin of instructions, as a small bar chart
 * whose heights are the logarithm of the calls (a rare slow path stays
 * visible beside thousands of fast ones); bins lo..hi across, the same
 * for every row of the table so that they line up. */
static void histogram(struct ab_html *h, int row, const cJSON *r, int lo, int hi)
{
    double count[BINS];
    int kmin = BINS, kmax = -1;
    double most = bins(r, count, &kmin, &kmax);
    if (kmax < 0 || lo > hi) {
        ab_text_printf(&h->t, "<td class=\"na\">-</td>");
        return;
    }
    char title[256];
    snprintf(title, sizeof title, "%s %s %.0f B, %s: calls per log2 bin of instructions",
             ab_json_str(r, "allocator"), ab_json_str(r, "op"), ab_html_num(r, "size"),
             ab_json_str(r, "pattern"));
    ab_text_printf(&h->t, "<td>");
    struct ab_chart c;
    double bw = 116.0 / (hi - lo + 1);
    ab_svg_begin_small(&c, &h->t, 120, 22, title);
    ab_scale_set(&c.y, false, 0, log10(1 + most), 21, 1, false);
    for (int k = lo; k <= hi; k++) {
        if (!count[k])
            continue;
        double low = k ? ldexp(1, k - 1) : 0, high = k ? ldexp(1, k) - 1 : 0;
        char tip[160];
        snprintf(tip, sizeof tip, "%.0f to %.0f instructions: %.0f calls", low, high, count[k]);
        struct ab_mark m = {
            .series = -1, .row = row, .v = log10(1 + count[k]), .cls = "mini", .title = tip};
        ab_svg_vbar(&c, 2 + (k - lo) * bw, bw > 2 ? bw - 1 : bw, m.v, &m);
    }
    ab_svg_end(&c);
    ab_text_printf(&h->t, "</td>");
}

static void instructions_chart(struct ab_html *h, const cJSON *doc, const char *op,
                               const struct op_rows *o)
{
    double lo = NAN, hi = NAN;
    bool any = false, any_band = false;
    for (size_t i = 0; i < o->n; i++) {
        const cJSON *in = ab_html_get(o->row[i], "instructions");
        const double f[3] = {ab_html_num(in, "p50"), ab_html_num(in, "p99"),
                             ab_html_num(in, "max")};
        if (!ok(o->row[i]))
            continue;
        any = any || isfinite(f[0]);
        any_band = any_band || (isfinite(f[1]) && isfinite(f[2]) && f[2] > f[1]);
        for (int k = 0; k < 3; k++)
            if (isfinite(f[k]) && f[k] > 0)
                lo = isfinite(lo) ? fmin(lo, f[k]) : f[k],
                hi = isfinite(hi) ? fmax(hi, f[k]) : f[k];
    }
    if (!any) {
        ab_html_p(h, "note", "%s: no row was counted.", op);
        return;
    }
    ab_html_figure(h, "fastpath-instructions");
    char title[256];
    snprintf(title, sizeof title, "%s: instructions per call, p50%s", op,
             any_band ? ", and the band from p99 to max" : "");
    struct ab_chart c;
    ab_svg_begin(&c, &h->t, W, 320, 28, 24, 44, 64, title);
    size_axis(&c, doc, o);
    bool log = hi / lo >= 30;
    if (log)
        ab_scale_set(&c.y, true, lo, hi, c.bottom, c.top, true);
    else
        ab_scale_set(&c.y, false, 0, hi, c.bottom, c.top, true);
    ab_svg_axis(&c, 'y', log ? "instructions per call (log scale)" : "instructions per call",
                ab_svg_fmt_num);
    double *xs = calloc(o->n ? o->n : 1, sizeof *xs), *p50 = calloc(o->n ? o->n : 1, sizeof *p50),
           *p99 = calloc(o->n ? o->n : 1, sizeof *p99), *mx = calloc(o->n ? o->n : 1, sizeof *mx);
    if (!xs || !p50 || !p99 || !mx) {
        h->t.oom = true;
    } else {
        for (size_t i = 0; i < o->n; i++) {
            const cJSON *in = ab_html_get(o->row[i], "instructions");
            xs[i] = ab_html_num(o->row[i], "size");
            p50[i] = ok(o->row[i]) ? ab_html_num(in, "p50") : NAN;
            p99[i] = ok(o->row[i]) ? ab_html_num(in, "p99") : NAN;
            mx[i] = ok(o->row[i]) ? ab_html_num(in, "max") : NAN;
        }
        for (size_t l = 0; l < o->nlines; l++) {
            const struct line *ln = &o->line[l];
            char name[160], tip[256];
            line_name(name, sizeof name, ln);
            bool spread = false;
            for (size_t i = ln->first; i < ln->first + ln->n; i++)
                spread = spread || (isfinite(p99[i]) && isfinite(mx[i]) && mx[i] > p99[i]);
            if (spread) {
                snprintf(tip, sizeof tip, "%s: p99 to max of instructions per call", name);
                struct ab_mark bm = {.series = ln->series, .row = -1, .v = NAN, .title = tip};
                ab_svg_band(&c, xs + ln->first, p99 + ln->first, mx + ln->first, ln->n, &bm);
            }
            snprintf(tip, sizeof tip, "%s: p50 of instructions per call", name);
            struct ab_mark lm = {.series = ln->series, .row = -1, .v = NAN, .title = tip};
            ab_svg_line(&c, xs + ln->first, p50 + ln->first, ln->n, strcmp(ln->pattern, "pairs"),
                        &lm);
            for (size_t i = ln->first; i < ln->first + ln->n; i++) {
                snprintf(tip, sizeof tip,
                         "%s, %s %.0f B: p50 %.0f instructions (p99 %.0f, max %.0f)", name, op,
                         xs[i], p50[i], p99[i], mx[i]);
                struct ab_mark pm = {
                    .series = ln->series, .row = (int)i, .v = p50[i], .title = tip};
                ab_svg_point(&c, xs[i], p50[i], &pm);
            }
        }
    }
    free(xs);
    free(p50);
    free(p99);
    free(mx);
    ab_svg_end(&c);
    legend(h, o);
    static const char *const heads[] = {"allocator",
                                        "pattern",
                                        "size",
                                        "status",
                                        "p50",
                                        "p90",
                                        "p99",
                                        "max",
                                        "mean",
                                        "branches p50",
                                        "conditional p50",
                                        "slow share",
                                        "calls by log2 bin of instructions (height: log of calls)"};
    double scratch[BINS];
    int lo_bin = BINS, hi_bin = -1;
    for (size_t i = 0; i < o->n; i++)
        bins(o->row[i], scratch, &lo_bin, &hi_bin);
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < o->n; i++) {
        const cJSON *r = o->row[i], *in = ab_html_get(r, "instructions");
        ab_html_tr(h, (int)i);
        ab_html_td(h, ab_json_str(r, "allocator"));
        ab_html_td(h, ab_json_str(r, "pattern"));
        ab_html_td_num(h, "%.0f", ab_html_num(r, "size"));
        ab_html_td(h, ab_json_str(r, "status"));
        static const char *const k[] = {"p50", "p90", "p99", "max"};
        for (size_t j = 0; j < 4; j++)
            ab_html_td_num(h, "%.0f", ab_html_num(in, k[j]));
        ab_html_td_num(h, "%.2f", ab_html_num(in, "mean"));
        ab_html_td_num(h, "%.0f", ab_html_num(ab_html_get(r, "branches"), "p50"));
        ab_html_td_num(h, "%.0f", ab_html_num(ab_html_get(r, "conditional"), "p50"));
        ab_html_td_fmt(h, ab_svg_fmt_pct, ab_html_num(r, "slow_path_share"));
        histogram(h, (int)i, r, lo_bin, hi_bin);
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
}

static void slow_chart(struct ab_html *h, const cJSON *doc, const char *op, const struct op_rows *o)
{
    double top = 0;
    bool any = false;
    for (size_t i = 0; i < o->n; i++) {
        double s = ok(o->row[i]) ? ab_html_num(o->row[i], "slow_path_share") : NAN;
        if (isfinite(s))
            top = fmax(top, s), any = true;
    }
    if (!any)
        return;
    ab_html_figure(h, "fastpath-slow-share");
    char title[256];
    snprintf(title, sizeof title, "%s: slow-path share, calls over twice the pairs p50", op);
    struct ab_chart c;
    ab_svg_begin(&c, &h->t, W, 240, 28, 24, 44, 64, title);
    size_axis(&c, doc, o);
    ab_scale_set(&c.y, false, 0, top > 0 ? top : 0.01, c.bottom, c.top, true);
    ab_svg_axis(&c, 'y', "share of calls (%)", ab_svg_fmt_pct);
    double xs[256], ys[256];
    for (size_t l = 0; l < o->nlines; l++) {
        const struct line *ln = &o->line[l];
        size_t m = 0;
        for (size_t i = ln->first; i < ln->first + ln->n && m < 256; i++, m++) {
            xs[m] = ab_html_num(o->row[i], "size");
            ys[m] = ok(o->row[i]) ? ab_html_num(o->row[i], "slow_path_share") : NAN;
        }
        char name[160], tip[256];
        line_name(name, sizeof name, ln);
        snprintf(tip, sizeof tip, "%s: slow-path share", name);
        struct ab_mark lm = {.series = ln->series, .row = -1, .v = NAN, .title = tip};
        ab_svg_line(&c, xs, ys, m, strcmp(ln->pattern, "pairs"), &lm);
        for (size_t i = 0; i < m; i++) {
            char pct[32];
            snprintf(tip, sizeof tip, "%s, %s %.0f B: slow-path share %s", name, op, xs[i],
                     ab_svg_fmt_pct(pct, sizeof pct, ys[i]));
            struct ab_mark pm = {
                .series = ln->series, .row = (int)(ln->first + i), .v = ys[i], .title = tip};
            ab_svg_point(&c, xs[i], ys[i], &pm);
        }
    }
    ab_svg_end(&c);
    legend(h, o);
    static const char *const heads[] = {
        "allocator", "pattern", "size", "slow share", "fast-path reference (pairs p50)", "calls"};
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < o->n; i++) {
        const cJSON *r = o->row[i];
        ab_html_tr(h, (int)i);
        ab_html_td(h, ab_json_str(r, "allocator"));
        ab_html_td(h, ab_json_str(r, "pattern"));
        ab_html_td_num(h, "%.0f", ab_html_num(r, "size"));
        ab_html_td_num(h, "%.4f", ok(r) ? ab_html_num(r, "slow_path_share") : NAN);
        ab_html_td_num(h, "%.0f", ab_html_num(r, "fast_path_reference"));
        ab_html_td_num(h, "%.0f", ab_html_num(r, "calls"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
}

static void diagnostics(struct ab_html *h, const cJSON *doc)
{
    const cJSON *r;
    ab_html_section(h, "diagnostics", "Diagnostics");
    size_t bad = 0;
    cJSON_ArrayForEach(r, ab_html_get(doc, "rows"))
    {
        bool agree = !cJSON_IsBool(ab_html_get(r, "repetitions_agree")) ||
                     ab_json_bool(r, "repetitions_agree");
        bad += !ok(r) || !agree;
    }
    if (!bad) {
        ab_html_p(h, "note", "None: every row was counted, its repetitions agreeing.");
        return;
    }
    ab_html_p(h, NULL,
              "%.0f rows were not counted or disagree between repetitions "
              "(failures: %.0f).",
              (double)bad, ab_html_num(doc, "failures"));
    static const char *const heads[] = {"allocator",         "op",    "size", "pattern", "status",
                                        "repetitions agree", "reason"};
    ab_html_table(h, "data diag", heads, sizeof heads / sizeof heads[0]);
    cJSON_ArrayForEach(r, ab_html_get(doc, "rows"))
    {
        bool agree = !cJSON_IsBool(ab_html_get(r, "repetitions_agree")) ||
                     ab_json_bool(r, "repetitions_agree");
        if (ok(r) && agree)
            continue;
        ab_html_tr(h, -1);
        ab_html_td(h, ab_json_str(r, "allocator"));
        ab_html_td(h, ab_json_str(r, "op"));
        ab_html_td_num(h, "%.0f", ab_html_num(r, "size"));
        ab_html_td(h, ab_json_str(r, "pattern"));
        ab_html_td(h, ab_json_str(r, "status"));
        ab_html_td(h, agree ? "yes" : "no");
        ab_html_td(h, ab_json_str(r, "reason"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
}

/* A list of the config's strings or numbers, comma-separated. */
static void list(char *buf, size_t len, const cJSON *arr)
{
    const cJSON *x;
    size_t n = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(x, arr)
    {
        if (n + 24 >= len)
            break;
        if (cJSON_IsNumber(x))
            n += (size_t)snprintf(buf + n, len - n, "%s%.0f", n ? ", " : "", x->valuedouble);
        else if (cJSON_IsString(x))
            n += (size_t)snprintf(buf + n, len - n, "%s%.20s", n ? ", " : "", x->valuestring);
    }
}

void ab_html_fastpath(struct ab_html *h, const cJSON *doc)
{
    const cJSON *cfg = ab_html_get(doc, "config"), *ctx = ab_html_get(doc, "context"), *s, *r;
    char sizes_s[512], ops_s[128], patterns_s[64], when[64];
    list(sizes_s, sizeof sizes_s, ab_html_get(cfg, "sizes"));
    list(ops_s, sizeof ops_s, ab_html_get(cfg, "ops"));
    list(patterns_s, sizeof patterns_s, ab_html_get(cfg, "patterns"));
    size_t nsub = (size_t)cJSON_GetArraySize(ab_html_get(ctx, "subjects"));
    snprintf(h->title, sizeof h->title, "allocbench fastpath");
    snprintf(h->summary, sizeof h->summary, "%zu %s, %s, counted with %s; on %s, started %s", nsub,
             ab_html_plural((double)nsub, "allocator", "allocators"), ops_s,
             ab_json_str(ctx, "counter"), ab_json_str(ctx, "hostname"),
             ab_html_when(when, sizeof when, ab_json_str(ctx, "started_utc")));
    cJSON_ArrayForEach(s, ab_html_get(ctx, "subjects"))
        ab_html_series(h, ab_json_str(s, "name"));

    ab_html_section(h, "counted", "What was counted");
    ab_html_p(h, NULL,
              "Instructions per allocator call, from the function's first instruction "
              "to its return, counted with %s (%s).",
              ab_json_str(ctx, "counter"),
              *ab_json_str(ctx, "counter_version") ? ab_json_str(ctx, "counter_version") : "-");
    ab_html_p(h, NULL,
              "Sizes %s; ops %s; patterns %s: pairs, each call followed by its "
              "counterpart (the fast path); batch, a run of calls then as many frees "
              "(refills and flushes).",
              sizes_s, ops_s, patterns_s);
    ab_html_p(h, NULL,
              "%.0f calls per row and repetition after %.0f warm-up calls, %.0f "
              "repetitions, %.0f blocks kept live, alignment %.0f.",
              ab_html_num(cfg, "calls"), ab_html_num(cfg, "warmup"),
              ab_html_num(cfg, "repetitions"), ab_html_num(cfg, "keep_live"),
              ab_html_num(cfg, "alignment"));

    /* The ops of the config, then any other a row holds. */
    const char *ops[16];
    size_t nops = 0;
    cJSON_ArrayForEach(s, ab_html_get(cfg, "ops"))
        if (cJSON_IsString(s) && nops < 16)
            ops[nops++] = s->valuestring;
    cJSON_ArrayForEach(r, ab_html_get(doc, "rows"))
    {
        bool seen = false;
        for (size_t i = 0; i < nops && !seen; i++)
            seen = !strcmp(ops[i], ab_json_str(r, "op"));
        if (!seen && nops < 16 && *ab_json_str(r, "op"))
            ops[nops++] = ab_json_str(r, "op");
    }
    for (size_t i = 0; i < nops; i++) {
        struct op_rows o;
        if (op_rows(h, doc, ops[i], &o)) {
            h->t.oom = true;
            return;
        }
        char id[40];
        snprintf(id, sizeof id, "op-%.30s", ops[i]);
        ab_html_section(h, id, ops[i]);
        instructions_chart(h, doc, ops[i], &o);
        slow_chart(h, doc, ops[i], &o);
        free(o.row);
    }
    diagnostics(h, doc);
}
