/*
 * console-compare.c — the console's table of a compare document (what
 * format-console.c prints for "command": "compare"): one row per matched
 * configuration or fast-path row, `-` where a figure has no value, then
 * the rows of one side only, the notes, why a row has no verdict, the
 * gate's findings as one line each, and a count.
 */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* "glibc", or "glibc -> libab-slow" for rows matched by position. */
static const char *who(char *buf, size_t len, const cJSON *row)
{
    const char *b = ab_json_str(get(row, "base"), "allocator");
    const char *h = ab_json_str(get(row, "head"), "allocator");
    snprintf(buf, len, strcmp(b, h) ? "%s -> %s" : "%s", b, h);
    return buf;
}

/* The allocator column's width: its widest name. */
static int who_width(const cJSON *doc)
{
    int w = (int)strlen("allocator");
    const cJSON *r;
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        char name[512];
        int n = (int)strlen(who(name, sizeof name, r));
        w = n > w ? n : w;
    }
    return w;
}

static void run_rows(struct ab_text *t, const cJSON *doc)
{
    int w = who_width(doc);
    const cJSON *c = get(doc, "compare"), *r;
    ab_text_wrapf(t, "compare %s: ns per %s; ratio HEAD / BASE (above 1: HEAD is slower) with "
                     "its 95%% interval, p of the Mann-Whitney test; a row fails when its whole "
                     "interval lies above %.3f; thr: threads\n",
                   ab_json_str(c, "workload"), ab_json_str(c, "unit"),
                   1.0 + ab_json_num(c, "threshold_pct", 0) / 100.0);
    ab_text_printf(t, "%-13s %3s %-*s %5s %8s %8s %5s %12s %7s %s\n", "variant", "thr", w,
                   "allocator", "trials", "BASE", "HEAD", "ratio", "95% CI", "p", "verdict");
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        const cJSON *b = get(r, "base"), *h = get(r, "head");
        char name[512], n[32], bm[32], hm[32], ratio[32], lo[32], hi[32], ci[80], p[32];
        snprintf(n, sizeof n, "%.0f/%.0f", ab_json_num(b, "n", 0), ab_json_num(h, "n", 0));
        ab_report_num(bm, sizeof bm, "%.2f", ab_json_num(b, "median", NAN), "-");
        ab_report_num(hm, sizeof hm, "%.2f", ab_json_num(h, "median", NAN), "-");
        ab_report_num(ratio, sizeof ratio, "%.3f", ab_json_num(r, "ratio", NAN), "-");
        double cl = ab_json_num(r, "ci95_low", NAN), ch = ab_json_num(r, "ci95_high", NAN);
        if (isfinite(cl) && isfinite(ch))
            snprintf(ci, sizeof ci, "[%s, %s]", ab_report_num(lo, sizeof lo, "%.2f", cl, "-"),
                     ab_report_num(hi, sizeof hi, "%.2f", ch, "-"));
        else
            snprintf(ci, sizeof ci, "-");
        ab_report_num(p, sizeof p, "%.2g", ab_json_num(r, "p", NAN), "-");
        const char *v = ab_json_str(r, "verdict");
        ab_text_printf(t, "%-13s %3.0f %-*s %5s %8s %8s %5s %12s %7s %s%s%s\n",
                       ab_json_str(r, "variant"), ab_json_num(r, "threads", 0), w,
                       who(name, sizeof name, r), n, bm, hm, ratio, ci, p, *v ? v : "-",
                       ab_json_bool(r, "noisy") ? " (noisy)" : "",
                       ab_json_bool(r, "fails") ? " FAILS" : "");
    }
}

/* "15 -> 16 (+1)"; "-" where a side has no value. */
static void fp_cell(char *buf, size_t len, const cJSON *fig, const char *fmt)
{
    double b = ab_json_num(fig, "base", NAN), h = ab_json_num(fig, "head", NAN);
    double d = ab_json_num(fig, "delta", NAN);
    char bs[32], hs[32], dv[32], ds[40] = "";
    ab_report_num(bs, sizeof bs, fmt, b, "-");
    ab_report_num(hs, sizeof hs, fmt, h, "-");
    if (d == 0)
        snprintf(ds, sizeof ds, " (0)");
    else if (isfinite(d))
        snprintf(ds, sizeof ds, " (%s%s)", d > 0 ? "+" : "",
                 ab_report_num(dv, sizeof dv, fmt, d, ""));
    snprintf(buf, len, "%s -> %s%s", bs, hs, ds);
}

static void fastpath_rows(struct ab_text *t, const cJSON *doc)
{
    int w = who_width(doc);
    const cJSON *c = get(doc, "compare"), *r;
    ab_text_wrapf(t, "compare fastpath (counted with %s): exact counts, BASE -> HEAD (HEAD - "
                     "BASE); instructions and branches are the p50 per call; a figure that "
                     "rises by more than %g\x1f%% fails\n",
                   ab_json_str(get(c, "base"), "counter"), ab_json_num(c, "threshold_pct", 0));
    ab_text_printf(t, "%-*s %-7s %6s %-7s %-14s %-12s %-20s %s\n", w, "allocator", "op", "size",
                   "pattern", "instructions", "branches", "slow share", "verdict");
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        char name[512], in[96], br[96], sl[96];
        fp_cell(in, sizeof in, get(r, "instructions"), "%.0f");
        fp_cell(br, sizeof br, get(r, "branches"), "%.0f");
        fp_cell(sl, sizeof sl, get(r, "slow_path_share"), "%.4f");
        const char *v = ab_json_str(r, "verdict");
        ab_text_printf(t, "%-*s %-7s %6.0f %-7s %-14s %-12s %-20s %s%s\n", w,
                       who(name, sizeof name, r), ab_json_str(r, "op"), ab_json_num(r, "size", 0),
                       ab_json_str(r, "pattern"), in, br, sl, *v ? v : "-",
                       ab_json_bool(r, "fails") ? " FAILS" : "");
    }
}

/* A row of one side only, as its keys. */
static void keys_text(struct ab_text *t, const cJSON *k)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, k)
    {
        if (cJSON_IsString(m))
            ab_text_printf(t, " %s=%s", m->string, m->valuestring);
        else
            ab_text_printf(t, " %s=%.0f", m->string, m->valuedouble);
    }
}

char *ab_console_compare(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *c = get(doc, "compare"), *r, *n;
    bool run = !strcmp(ab_json_str(c, "of"), "run");
    ab_text_printf(&t, "BASE %s (%s), HEAD %s (%s)\n", ab_json_str(get(c, "base"), "path"),
                   ab_json_str(get(c, "base"), "started_utc"),
                   ab_json_str(get(c, "head"), "path"),
                   ab_json_str(get(c, "head"), "started_utc"));
    if (run)
        run_rows(&t, doc);
    else
        fastpath_rows(&t, doc);
    bool first = true;
    static const char *const only[2][2] = {{"only_base", "BASE"}, {"only_head", "HEAD"}};
    for (int s = 0; s < 2; s++) {
        cJSON_ArrayForEach(r, get(doc, only[s][0]))
        {
            ab_text_printf(&t, "%sonly in %s:", first ? "\n" : "", only[s][1]);
            keys_text(&t, r);
            ab_text_printf(&t, "\n");
            first = false;
        }
    }
    first = true;
    cJSON_ArrayForEach(n, get(doc, "notes"))
    {
        ab_text_wrapf(&t, "%snote: %s\n", first ? "\n" : "",
                      cJSON_IsString(n) ? n->valuestring : "");
        first = false;
    }
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        if (!*ab_json_str(r, "reason"))
            continue;
        char name[512];
        struct ab_text line = {0};
        if (first)
            ab_text_printf(&t, "\n");
        ab_text_printf(&line, "note: %s", who(name, sizeof name, r));
        if (run)
            ab_text_printf(&line, " %s threads=%.0f", ab_json_str(r, "variant"),
                           ab_json_num(r, "threads", 0));
        else
            ab_text_printf(&line, " %s size=%.0f pattern=%s", ab_json_str(r, "op"),
                           ab_json_num(r, "size", 0), ab_json_str(r, "pattern"));
        ab_text_printf(&line, ": no verdict: %s", ab_json_str(r, "reason"));
        char *s = ab_text_finish(&line);
        if (s)
            ab_text_wrap(&t, s);
        else
            t.oom = true;
        free(s);
        first = false;
    }
    first = true;
    cJSON_ArrayForEach(n, get(doc, "diagnostics"))
    {
        ab_text_printf(&t, "%s%s %s\n", first ? "\n" : "", ab_json_str(n, "code"),
                       ab_json_str(n, "detail"));
        first = false;
    }
    unsigned counts[5] = {0};
    static const char *const names[4] = {"same", "faster", "slower", NULL};
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        unsigned k = 3;
        for (unsigned i = 0; i < 3; i++)
            if (!strcmp(ab_json_str(r, "verdict"), names[i]))
                k = i;
        counts[k]++;
        counts[4]++;
    }
    ab_text_wrapf(&t, "\n%u row%s compared: %u same, %u faster, %u slower, %u without a "
                     "verdict; %.0f %s the gate (threshold %g\x1f%%)\n",
                   counts[4], counts[4] == 1 ? "" : "s", counts[0], counts[1], counts[2], counts[3],
                   ab_json_num(doc, "failures", 0),
                   ab_json_num(doc, "failures", 0) == 1 ? "fails" : "fail",
                   ab_json_num(c, "threshold_pct", 0));
    return ab_text_finish(&t);
}
