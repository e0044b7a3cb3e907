/*
 * html-trace.c — the page of a trace document ("command": "trace"): the
 * calls per probed function, the latency histogram of each function that
 * made calls and of all of them, the requested sizes, the blocks still
 * outstanding, and the accounting of what could not be counted.
 */
#include "html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bin's range, exact: [2^(k-1), 2^k - 1], 0 for bin 0. */
static void bin_range(char *buf, size_t len, const cJSON *bin, const char *unit)
{
    uint64_t lo, hi;
    ab_report_log2_bounds(bin, &lo, &hi);
    snprintf(buf, len, "%llu to %llu%s%s", (unsigned long long)lo, (unsigned long long)hi,
             *unit ? " " : "", unit);
}

/* A log2 histogram ([{bin, low, high, count}]) as bars, one per bin from
 * the lowest to the highest holding calls; kind names the figure. */
static void histogram(struct ab_html *h, const char *kind, const char *title, const char *axis,
                      const char *unit, const cJSON *bins, int series)
{
    const cJSON *b;
    double kmin = NAN, kmax = NAN, most = 0;
    cJSON_ArrayForEach(b, bins)
    {
        double k = ab_html_num(b, "bin"), n = ab_html_num(b, "count");
        if (!isfinite(k) || !(k >= 0 && k <= 64) || !(n > 0))
            continue;
        kmin = isfinite(kmin) ? fmin(kmin, k) : k;
        kmax = isfinite(kmax) ? fmax(kmax, k) : k;
        most = fmax(most, n);
    }
    if (!isfinite(kmin))
        return;
    size_t nb = (size_t)(kmax - kmin) + 1;
    ab_html_figure(h, kind);
    struct ab_chart c;
    ab_svg_begin(&c, &h->t, 720, 260, 28, 24, 58, 64, title);
    double bw = (c.right - c.left) / (double)nb;
    ab_scale_set(&c.x, false, kmin - 0.5, kmax + 0.5, c.left, c.right, false);
    ab_scale_set(&c.y, false, 0, most, c.bottom, c.top, true);
    /* Each bin labelled by its low end, at most a dozen of them. */
    double ticks[16];
    char lab[16][24];
    const char *labels[16];
    size_t nt = 0, step = (nb + 11) / 12;
    for (double k = kmin; k <= kmax && nt < 16; k += (double)step) {
        ticks[nt] = k;
        double low = k ? ldexp(1, (int)k - 1) : 0;
        ab_svg_fmt_num(lab[nt], sizeof lab[nt], low);
        labels[nt] = lab[nt];
        nt++;
    }
    ab_svg_axis_at(&c, 'x', axis, ticks, labels, nt, ab_svg_fmt_num);
    ab_svg_axis(&c, 'y', "calls", ab_svg_fmt_num);
    int row = 0;
    cJSON_ArrayForEach(b, bins)
    {
        double k = ab_html_num(b, "bin"), n = ab_html_num(b, "count");
        if (!isfinite(k) || !(k >= 0 && k <= 64) || !(n > 0)) {
            row++;
            continue;
        }
        char range[96], tip[160];
        bin_range(range, sizeof range, b, unit);
        snprintf(tip, sizeof tip, "%s: %.0f calls", range, n);
        struct ab_mark m = {.series = series, .row = row++, .v = n, .title = tip};
        ab_svg_vbar(&c, ab_scale_px(&c.x, k) - bw / 2 + 1, bw > 3 ? bw - 2 : bw, n, &m);
    }
    ab_svg_end(&c);
    static const char *const heads[] = {"bin", "range", "calls"};
    ab_html_table(h, NULL, heads, 3);
    row = 0;
    cJSON_ArrayForEach(b, bins)
    {
        char range[96];
        bin_range(range, sizeof range, b, unit);
        ab_html_tr(h, row++);
        ab_html_td_num(h, "%.0f", ab_html_num(b, "bin"));
        ab_html_td(h, range);
        ab_html_td_num(h, "%.0f", ab_html_num(b, "count"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    ab_html_figure_end(h);
}

static void functions(struct ab_html *h, const cJSON *tr)
{
    const cJSON *f;
    static const char *const heads[] = {"function",
                                        "calls",
                                        "nested",
                                        "failed",
                                        "bytes",
                                        "latency ns (mean)",
                                        "task-clock ns per call",
                                        "instructions per call",
                                        "object",
                                        "attach error"};
    ab_html_table(h, NULL, heads, sizeof heads / sizeof heads[0]);
    cJSON_ArrayForEach(f, ab_html_get(tr, "functions"))
    {
        ab_html_tr(h, -1);
        ab_html_td(h, ab_json_str(f, "function"));
        ab_html_td_num(h, "%.0f", ab_html_num(f, "calls"));
        ab_html_td_num(h, "%.0f", ab_html_num(f, "nested_calls"));
        ab_html_td_num(h, "%.0f", ab_html_num(f, "failed"));
        ab_html_td_num(h, "%.0f", ab_html_num(f, "bytes"));
        ab_html_td_num(h, "%.0f", ab_html_num(f, "latency_ns_mean"));
        ab_html_td_num(h, "%.0f", ab_html_num(f, "task_clock_ns_per_call"));
        ab_html_td_num(h, "%.1f", ab_html_num(f, "instructions_per_call"));
        ab_html_td(h, ab_json_str(f, "object"));
        ab_html_td(h, ab_json_str(f, "attach_error"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
}

void ab_html_trace(struct ab_html *h, const cJSON *doc)
{
    const cJSON *tr = ab_html_get(doc, "trace"), *ctx = ab_html_get(doc, "context"),
                *target = ab_html_get(tr, "target"), *lib = ab_html_get(tr, "library"), *f;
    char when[64], secs[32];
    snprintf(h->title, sizeof h->title, "allocbench trace: %s",
             *ab_json_str(target, "exe") ? ab_json_str(target, "exe") : "a process");
    snprintf(h->summary, sizeof h->summary,
             "pid %.0f, malloc served by %s (%s); traced %s s, "
             "ended by %s; on %s, started %s",
             ab_html_num(target, "pid"), ab_json_str(lib, "path"), ab_json_str(lib, "family"),
             ab_report_num(secs, sizeof secs, "%.3f", ab_html_num(tr, "traced_s"), "-"),
             ab_json_str(tr, "ended_by"), ab_json_str(ctx, "hostname"),
             ab_html_when(when, sizeof when, ab_json_str(ctx, "started_utc")));

    ab_html_section(h, "calls", "Calls");
    if (*ab_json_str(target, "command"))
        ab_html_p(h, NULL, "Started as: %s", ab_json_str(target, "command"));
    ab_html_p(h, NULL,
              "%.0f functions probed in %s (chosen by %s), attached in %.1f ms, "
              "detached in %.1f ms.",
              ab_html_num(tr, "functions_probed"), ab_json_str(lib, "path"),
              ab_json_str(lib, "chosen_by"), ab_html_num(tr, "attach_ms"),
              ab_html_num(tr, "detach_ms"));
    functions(h, tr);
    ab_html_p(h, "note",
              "Latency and task-clock include the probes' own cost (two traps a "
              "call): compare calls traced the same way, never as the allocator's "
              "speed.");

    ab_html_section(h, "latency", "Latency per function");
    int k = 0;
    cJSON_ArrayForEach(f, ab_html_get(tr, "functions"))
    {
        char title[256];
        snprintf(title, sizeof title, "%s: calls by latency (ns, the probes' cost included)",
                 ab_json_str(f, "function"));
        histogram(h, "latency", title, "latency per call (ns, log2 bins, low end)", "ns",
                  ab_html_get(f, "latency_histogram_ns"), k++ % AB_SVG_PALETTE);
    }
    histogram(h, "latency", "All probed functions: calls by latency (ns)",
              "latency per call (ns, log2 bins, low end)", "ns",
              ab_html_get(tr, "latency_histogram_ns"), -1);

    ab_html_section(h, "sizes", "Requested sizes");
    histogram(h, "sizes", "Allocating calls by requested size (bytes)",
              "requested size (bytes, log2 bins, low end)", "B", ab_html_get(tr, "size_histogram"),
              -1);
    const cJSON *out = ab_html_get(tr, "outstanding");
    ab_html_h3(h, "Outstanding at the end");
    ab_html_p(h, NULL,
              "%.0f blocks, %.0f bytes allocated while traced and not freed%s; the "
              "largest groups of %.0f sizes:",
              ab_html_num(out, "allocations"), ab_html_num(out, "bytes"),
              ab_json_bool(out, "complete") ? "" : " (a lower bound: the live set was full)",
              ab_html_num(out, "groups_total"));
    static const char *const gk[] = {"size", "count", "bytes"};
    static const char *const gh[] = {"size", "blocks", "bytes"};
    ab_html_diagnostics(h, ab_html_get(out, "groups"), gk, gh, 3, "None.");

    ab_html_section(h, "diagnostics", "Diagnostics");
    const cJSON *acc = ab_html_get(tr, "accounting"), *a, *e;
    ab_html_table(h, "data diag", (const char *const[]){"what", "count"}, 2);
    cJSON_ArrayForEach(a, acc)
    {
        ab_html_tr(h, -1);
        ab_html_td(h, a->string);
        ab_html_td_num(h, "%.0f", cJSON_IsNumber(a) ? a->valuedouble : NAN);
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
    cJSON_ArrayForEach(e, ab_html_get(tr, "events"))
        if (!ab_json_bool(e, "available"))
            ab_html_p(h, NULL, "%s: not counted: %s", e->string ? e->string : "-",
                      ab_json_str(e, "reason"));
}
