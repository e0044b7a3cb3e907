/*
 * format-console.c — the tables for people that --format console (the
 * default) prints; `-` where nothing was measured.  It writes no file.
 * Everything shown comes from the document: notes from the records'
 * reasons, relative figures from the aggregates' "relative".
 */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s onto t, broken at blanks so that no line passes 100 columns; the
 * lines after the first indented by six.  A \x1f in s is a blank that
 * does not break (a figure and its unit). */
void ab_text_wrap(struct ab_text *t, const char *s)
{
    size_t col = 0;
    while (*s) {
        size_t w = strcspn(s, " ");
        /* "5 %" stays on one line: a unit sign is not a place to break. */
        if (col && col + 1 + w > 100 && *s != '%') {
            ab_text_printf(t, "\n      ");
            col = 6;
        } else if (col) {
            ab_text_printf(t, " ");
            col++;
        }
        for (size_t i = 0; i < w; i++)
            ab_text_printf(t, "%c", s[i] == '\x1f' ? ' ' : s[i]);
        col += w;
        s += w;
        s += strspn(s, " ");
    }
    ab_text_printf(t, "\n");
}

/* A line built in its own text, onto t wrapped at 100 columns (line is
 * finished: freed). */
static void wrap_line(struct ab_text *t, struct ab_text *line)
{
    char *s = ab_text_finish(line);
    if (!s) {
        t->oom = true;
        return;
    }
    ab_text_wrap(t, s);
    free(s);
}

/* A line of prose built with printf, wrapped at 100 columns. */
void ab_text_wrapf(struct ab_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->oom = true;
        return;
    }
    size_t len = strlen(s), lead = strspn(s, "\n");
    if (len && s[len - 1] == '\n')
        s[len - 1] = '\0';
    ab_text_printf(t, "%.*s", (int)lead, s);
    ab_text_wrap(t, s + lead);
    free(s);
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    return ab_json_str(o, k);
}

static long long num_ll(const cJSON *o, const char *k)
{
    return (long long)ab_json_int(o, k);
}

static unsigned long long u64(const cJSON *o, const char *k)
{
    uint64_t v = 0;
    ab_report_u64(o, k, &v);
    return (unsigned long long)v;
}

/* A figure, short: G and M past a million, no decimals past 10^4; `-`
 * where not measured. */
static void fmt_num(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.2f", v);
}

static void fmt_kib(char *buf, size_t len, int64_t kib)
{
    if (kib < 0)
        snprintf(buf, len, "-");
    else if (kib >= 1024 * 1024)
        snprintf(buf, len, "%.2f GiB", (double)kib / (1024.0 * 1024.0));
    else if (kib >= 1024)
        snprintf(buf, len, "%.1f MiB", (double)kib / 1024.0);
    else
        snprintf(buf, len, "%lld KiB", (long long)kib);
}

/* ---------------------------------------------------------------- run */

static bool same_config(const cJSON *a, const cJSON *b)
{
    return !strcmp(str(a, "variant"), str(b, "variant")) &&
           !strcmp(str(a, "allocator"), str(b, "allocator")) &&
           ab_json_int(a, "threads") == ab_json_int(b, "threads");
}

/* The workload's own figures: each metric's median over the measured trials. */
static void run_metrics(struct ab_text *t, const cJSON *doc)
{
    const cJSON *rc = get(doc, "run"), *a;
    bool any = false;
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
        any = any || cJSON_GetArraySize(get(a, "metrics")) > 0;
    if (!any)
        return;
    const cJSON *merit = get(rc, "figure_of_merit");
    ab_text_wrapf(t, "\n%s figures (median over measured trials; - not measured)%s%s\n",
            str(rc, "workload"), cJSON_IsString(merit) ? "; figure of merit: " : "",
                   cJSON_IsString(merit) ? merit->valuestring : "");
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        const cJSON *ms = get(a, "metrics"), *m;
        if (!cJSON_GetArraySize(ms))
            continue;
        struct ab_text line = {0};
        ab_text_printf(&line, "%s %s threads=%lld:", str(a, "variant"), str(a, "allocator"),
                       num_ll(a, "threads"));
        cJSON_ArrayForEach(m, ms)
        {
            char v[32];
            bool n = ab_json_num(m, "n", 0) > 0;
            double x = n ? ab_json_num(m, "median", NAN) : NAN;
            if (isfinite(x) && fabs(x) < 1e4 && x == (double)(int64_t)x)
                snprintf(v, sizeof v, "%lld", (long long)x);
            else
                fmt_num(v, sizeof v, x);
            /* The unit joined to its figure, so that a line breaks between figures. */
            ab_text_printf(&line, " %s=%s%s%s", m->string, v, n ? "\x1f" : "",
                           n ? str(m, "unit") : "");
        }
        wrap_line(t, &line);
    }
}

/* Under --pin: where each trial's threads ran (the first trial per
 * allocator and thread count; the plan is the same for every repetition). */
static void run_placement(struct ab_text *t, const cJSON *doc)
{
    if (!ab_json_bool(get(doc, "run"), "pin"))
        return;
    ab_text_printf(t, "\nplacement (--pin): PU (OS index) per thread\n");
    const cJSON *r, *e, *pu;
    cJSON_ArrayForEach(r, get(doc, "trials"))
    {
        const cJSON *pl = get(r, "placement");
        if (!cJSON_IsObject(pl))
            continue;
        bool seen = false;
        for (e = get(doc, "trials")->child; e != r && !seen; e = e->next)
            seen = !strcmp(str(e, "allocator"), str(r, "allocator")) &&
                   ab_json_int(e, "threads") == ab_json_int(r, "threads") &&
                   cJSON_IsObject(get(e, "placement"));
        if (seen)
            continue;
        struct ab_text line = {0};
        ab_text_printf(&line, "%-12s threads=%-4lld %s:", str(r, "allocator"),
                       num_ll(r, "threads"), str(pl, "method"));
        cJSON_ArrayForEach(pu, get(pl, "pus"))
        {
            if (cJSON_IsNumber(pu))
                ab_text_printf(&line, " %d", pu->valueint);
            else
                ab_text_printf(&line, " -");
        }
        wrap_line(t, &line);
    }
}

/* With a counter: its figures per op. */
static void run_counted(struct ab_text *t, const cJSON *doc)
{
    const cJSON *ctx = get(doc, "context"), *a;
    ab_text_wrapf(t, "\ncounted with %s (%s), the measured phase only: per %s, median over "
               "trials (times taken under it are not reported)\n",
                   str(ctx, "counter"), str(ctx, "counter_version"),
                   str(get(doc, "run"), "unit"));
    ab_text_printf(t, "%-16s %-12s %7s %14s %14s\n", "variant", "allocator", "threads",
                   "instructions", "conditional");
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        char in[32], co[32];
        fmt_num(in, sizeof in, ab_json_num(a, "instructions_per_op", NAN));
        fmt_num(co, sizeof co, ab_json_num(a, "conditional_branches_per_op", NAN));
        ab_text_printf(t, "%-16s %-12s %7lld %14s %14s\n", str(a, "variant"),
                       str(a, "allocator"), num_ll(a, "threads"), in, co);
    }
}

/* Several allocators, timed: each against the base, its ratio of ns per op
 * with the interval and the verdict (report.json's "comparisons"). */
static void run_relative(struct ab_text *t, const cJSON *doc)
{
    const cJSON *c;
    if (!cJSON_GetArraySize(get(doc, "comparisons")))
        return;
    ab_text_wrapf(t, "\nratio of ns per %s to the base's (above 1.00: slower), its 95%% CI "
               "over the paired trials, Wilcoxon's p\n",
                   str(get(doc, "run"), "unit"));
    ab_text_printf(t, "%-13s %7s %-12s %-12s %6s %-16s %8s %s\n", "variant", "threads",
                   "allocator", "base", "ratio", "95% CI", "p", "verdict");
    cJSON_ArrayForEach(c, get(doc, "comparisons"))
    {
        char ratio[32], lo[32], hi[32], ci[80], p[32];
        ab_report_num(ratio, sizeof ratio, "%.2f", ab_json_num(c, "ratio", NAN), "-");
        double l = ab_json_num(c, "ci95_low", NAN), h = ab_json_num(c, "ci95_high", NAN);
        if (isfinite(l) && isfinite(h)) {
            ab_report_num(lo, sizeof lo, "%.2f", l, "-");
            ab_report_num(hi, sizeof hi, "%.2f", h, "-");
            snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
        } else {
            snprintf(ci, sizeof ci, "-");
        }
        ab_report_num(p, sizeof p, "%.3g", ab_json_num(c, "p_value", NAN), "-");
        const char *v = str(c, "verdict");
        ab_text_printf(t, "%-13s %7lld %-12s %-12s %6s %-16s %8s %s%s\n", str(c, "variant"),
                       num_ll(c, "threads"), str(c, "allocator"), str(c, "base"), ratio, ci, p,
                       *v ? v : "- (under 6 pairs)",
                       cJSON_IsTrue(get(c, "noisy")) ? " (noisy)" : "");
    }
}

static void run_notes(struct ab_text *t, const cJSON *doc)
{
    const cJSON *d, *a, *e, *r;
    bool first = true;
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
        if (cJSON_IsTrue(get(a, "noisy")))
            ab_text_wrapf(t, "%swarning: %s on %s, threads=%lld, is noisy: %s\n", first ? "\n" : "",
                    str(a, "variant"), str(a, "allocator"), num_ll(a, "threads"),
                    str(a, "noisy_why")),
                first = false;
    cJSON_ArrayForEach(d, get(doc, "diagnostics"))
    {
        ab_text_printf(t, "%s%s %s %s:%s threads=%lld repetition=%lld %s\n", first ? "\n" : "",
                       str(d, "code"), str(d, "allocator"), str(d, "workload"),
                       str(d, "variant"), num_ll(d, "threads"), num_ll(d, "repetition"),
                       str(d, "detail"));
        first = false;
    }
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        if (strcmp(str(a, "status"), "unavailable"))
            continue;
        /* Once per variant and allocator, not per thread count. */
        bool said = false;
        for (e = get(doc, "aggregates")->child; e != a && !said; e = e->next)
            said = !strcmp(str(e, "status"), "unavailable") &&
                   !strcmp(str(e, "variant"), str(a, "variant")) &&
                   !strcmp(str(e, "allocator"), str(a, "allocator"));
        if (said)
            continue;
        cJSON_ArrayForEach(r, get(doc, "trials"))
        {
            if (same_config(r, a)) {
                ab_text_wrapf(t, "note: %s on %s: not available: %s\n", str(a, "variant"),
                        str(a, "allocator"), str(r, "reason"));
                break;
            }
        }
    }
}

/* One line on the machine and its state: what the figures below depend on. */
static void context_line(struct ab_text *t, const cJSON *doc)
{
    const cJSON *c = get(doc, "context");
    char mhz[32], load[32];
    ab_report_num(mhz, sizeof mhz, "%.0f MHz", ab_json_num(c, "cpu_mhz", NAN), "MHz unknown");
    const cJSON *ls = get(get(c, "load_average"), "start");
    ab_report_num(load, sizeof load, "%.2f", cJSON_IsArray(ls) && cJSON_IsNumber(ls->child)
                                                 ? ls->child->valuedouble
                                                 : NAN,
                  "-");
    const char *gov = str(c, "cpu_governor");
    /* A merged report: its shards, and the host only when they share one;
     * a figure they differ in is null, shown as -. */
    char host[160], cpus[32];
    int shards = cJSON_GetArraySize(get(c, "machines"));
    const char *name = str(c, "hostname");
    if (!shards)
        snprintf(host, sizeof host, "%s", name);
    else if (*name)
        snprintf(host, sizeof host, "%s, %d shards merged", name, shards);
    else
        snprintf(host, sizeof host, "%d shards merged from different hosts", shards);
    ab_report_num(cpus, sizeof cpus, "%.0f CPUs",
                  ab_json_num(get(c, "topology"), "pus", NAN), "- CPUs");
    ab_text_printf(t, "context: %s, %s, %s, governor %s, THP %s, load %s, %s, "
                      "allocbench %s\n",
                   host, cpus, mhz,
                   *gov ? gov : "-", *str(c, "thp") ? str(c, "thp") : "-", load,
                   cJSON_IsTrue(get(c, "pinned")) ? "pinned" : "not pinned",
                   str(get(c, "allocbench"), "version"));
}

static char *run_console(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *rc = get(doc, "run"), *a;
    context_line(&t, doc);
    ab_text_wrapf(&t, "%s: ns per %s per thread (median of %lld trials, 95%% CI of the median), "
                "throughput of all threads, peak RSS\n",
                   str(rc, "workload"), str(rc, "unit"), num_ll(rc, "repetitions"));
    ab_text_printf(&t, "%-13s %-12s %7s %9s %17s %6s %8s %9s %s\n", "variant", "allocator",
                   "threads", "median", "95% CI", "MAD", "ops/s", "peak RSS", "status");
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        const cJSON *ns = get(a, "ns_per_op");
        char med[32], lo[32], hi[32], mad[32], ops[32], rss[32], ci[80];
        fmt_num(med, sizeof med, ab_json_num(ns, "median", NAN));
        fmt_num(mad, sizeof mad, ab_json_num(ns, "mad", NAN));
        fmt_num(ops, sizeof ops, ab_json_num(get(a, "ops_per_s"), "median", NAN));
        fmt_kib(rss, sizeof rss, ab_json_int(a, "peak_rss_kib"));
        double cl = ab_json_num(ns, "ci95_low", NAN), ch = ab_json_num(ns, "ci95_high", NAN);
        if (isfinite(cl) && isfinite(ch)) {
            fmt_num(lo, sizeof lo, cl);
            fmt_num(hi, sizeof hi, ch);
            snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
        } else {
            snprintf(ci, sizeof ci, "-");
        }
        char status[96];
        long long measured = num_ll(a, "measured"), trials = num_ll(a, "trials");
        if ((!strcmp(str(a, "status"), "ok") && measured == trials) || !measured)
            snprintf(status, sizeof status, "%s", str(a, "status"));
        else
            snprintf(status, sizeof status, "%s %lld/%lld", str(a, "status"), measured, trials);
        ab_text_printf(&t, "%-13s %-12s %7lld %9s %17s %6s %8s %9s %s\n", str(a, "variant"),
                       str(a, "allocator"), num_ll(a, "threads"), med, ci, mad, ops, rss,
                       status);
    }
    run_metrics(&t, doc);
    run_placement(&t, doc);
    bool counted = strcmp(str(get(doc, "context"), "counter"), "none") != 0;
    if (counted)
        run_counted(&t, doc);
    if (cJSON_GetArraySize(get(get(doc, "context"), "subjects")) > 1 && !counted)
        run_relative(&t, doc);
    run_notes(&t, doc);
    return ab_text_finish(&t);
}

/* ------------------------------------------------------------- stress */

/* One item not applicable or skipped: "case check" (or the case), why. */
struct na_item {
    char what[96];
    const char *why, *verdict;
};

static void fold_allocator(struct ab_text *out, const cJSON *doc, const char *alloc, bool *first)
{
    struct ab_text line = {0}, *t = &line;
    struct na_item items[64];
    size_t n = 0;
    const cJSON *c, *k;
    cJSON_ArrayForEach(c, get(doc, "cases"))
    {
        if (strcmp(str(c, "allocator"), alloc))
            continue;
        if (!strcmp(str(c, "verdict"), "not-applicable") && n < 64) {
            snprintf(items[n].what, sizeof items[n].what, "%s", str(c, "case"));
            items[n].why = str(c, "reason"), items[n++].verdict = "not applicable";
            continue;
        }
        cJSON_ArrayForEach(k, get(c, "checks"))
        {
            const char *cv = str(k, "verdict");
            if ((strcmp(cv, "not-applicable") && strcmp(cv, "skipped")) || n == 64)
                continue;
            snprintf(items[n].what, sizeof items[n].what, "%s %s", str(c, "case"), str(k, "name"));
            items[n].why = str(k, "detail");
            items[n++].verdict = strcmp(cv, "skipped") ? "not applicable" : "skipped";
        }
    }
    if (!n)
        return;
    if (*first)
        ab_text_printf(out, "\n");
    *first = false;
    ab_text_printf(t, "note: %s: %zu not applicable or skipped:", alloc, n);
    bool done[64] = {false};
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        ab_text_printf(t, "%s %s", i ? ";" : "", items[i].what);
        for (size_t j = i + 1; j < n; j++)
            if (!done[j] && !strcmp(items[j].why, items[i].why) &&
                !strcmp(items[j].verdict, items[i].verdict)) {
                ab_text_printf(t, ", %s", items[j].what);
                done[j] = true;
            }
        ab_text_printf(t, " (%s: %s)", items[i].verdict, items[i].why);
    }
    wrap_line(out, t);
}

static char *stress_console(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *st = get(doc, "stress"), *p = get(st, "profile"), *c, *d, *k;
    char ops[48] = "no op cap", dur[48];
    uint64_t cap;
    if (ab_report_u64(st, "ops", &cap))
        snprintf(ops, sizeof ops, "%llu ops per thread", (unsigned long long)cap);
    ab_report_num(dur, sizeof dur, "%.1f s", ab_json_num(st, "duration_s", NAN), "no time cap");
    ab_text_wrapf(&t, "stress --profile %s: %lld threads, %s, %s per timed case, verification %s\n",
                   str(p, "name"), num_ll(p, "threads_here"), ops, dur,
                   ab_json_bool(st, "verify") ? "on" : "off");
    ab_text_printf(&t, "%-12s %-24s %-14s %11s %11s %5s %7s\n", "allocator", "case", "verdict",
                   "operations", "verified", "diags", "seconds");
    cJSON_ArrayForEach(c, get(doc, "cases"))
    {
        char o[32], v[32], n[16] = "-", s[32];
        ab_report_count(o, sizeof o, ab_json_int(c, "operations"), "-");
        ab_report_count(v, sizeof v, ab_json_int(c, "blocks_verified"), "-");
        if (strcmp(str(c, "verdict"), "not-applicable"))
            snprintf(n, sizeof n, "%d", cJSON_GetArraySize(get(c, "diagnostics")));
        ab_report_num(s, sizeof s, "%.2f", ab_json_num(c, "elapsed_s", NAN), "-");
        ab_text_printf(&t, "%-12s %-24s %-14s %11s %11s %5s %7s\n", str(c, "allocator"),
                       str(c, "case"), str(c, "verdict"), o, v, n, s);
    }
    bool first = true;
    cJSON_ArrayForEach(d, get(doc, "diagnostics"))
    {
        ab_text_printf(&t, "%s%s %s %s %s %s", first ? "\n" : "", str(d, "code"),
                       str(d, "allocator"), str(d, "profile"), str(d, "case"), str(d, "detail"));
        if (u64(d, "count") > 1)
            ab_text_printf(&t, " (%llu occurrences)", u64(d, "count"));
        ab_text_printf(&t, "\n");
        first = false;
    }
    /* Failures came first; then cases that could not finish; then, folded
     * to one line per allocator, what was not applicable or skipped, each
     * reason once with the checks it covers. */
    first = true;
    cJSON_ArrayForEach(c, get(doc, "cases"))
    {
        if (strcmp(str(c, "verdict"), "incomplete"))
            continue;
        ab_text_printf(&t, "%snote: %s %s: incomplete: %s\n", first ? "\n" : "",
                       str(c, "allocator"), str(c, "case"), str(c, "reason"));
        first = false;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, get(doc, "cases"))
    {
        bool seen = false; /* the allocator's line is printed at its first case */
        for (const cJSON *e = get(doc, "cases")->child; e != a && !seen; e = e->next)
            seen = !strcmp(str(e, "allocator"), str(a, "allocator"));
        if (seen)
            continue;
        fold_allocator(&t, doc, str(a, "allocator"), &first);
    }
    (void)k;
    return ab_text_finish(&t);
}

/* ----------------------------------------------------------- fastpath */

static void fp_fig(char *buf, size_t len, const cJSON *dist, const char *k)
{
    uint64_t v;
    if (ab_report_u64(dist, k, &v))
        snprintf(buf, len, "%llu", (unsigned long long)v);
    else
        snprintf(buf, len, "-");
}

static char *fastpath_console(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *ctx = get(doc, "context"), *conf = get(doc, "config"), *r;
    long long reps = num_ll(conf, "repetitions");
    ab_text_wrapf(&t, "fastpath: instructions and branches per call, counted with %s (%s); "
                "%lld calls x %lld repetition%s per row; p50, min, p99, max over the "
                "calls; slow = share of calls above 2 x the fast path (the pairs p50)\n",
                   str(ctx, "counter"), str(ctx, "counter_version"), num_ll(conf, "calls"), reps,
                   reps == 1 ? "" : "s");
    ab_text_printf(&t, "%-12s %-7s %6s %-7s %6s %6s %6s %6s %6s %6s %7s %6s %s\n", "allocator",
                   "op", "size", "pattern", "instr", "branch", "cond", "min", "p99", "max",
                   "mean", "slow", "status");
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        const cJSON *in = get(r, "instructions");
        char i50[24], br[24], co[24], mn[24], p99[24], mx[24], mean[24], slow[24], st[600];
        fp_fig(i50, sizeof i50, in, "p50");
        fp_fig(br, sizeof br, get(r, "branches"), "p50");
        fp_fig(co, sizeof co, get(r, "conditional"), "p50");
        fp_fig(mn, sizeof mn, in, "min");
        fp_fig(p99, sizeof p99, in, "p99");
        fp_fig(mx, sizeof mx, in, "max");
        ab_report_num(mean, sizeof mean, "%.2f", ab_json_num(in, "mean", NAN), "-");
        ab_report_num(slow, sizeof slow, "%.2f%%", 100.0 * ab_json_num(r, "slow_path_share", NAN),
                      "-");
        /* A counted row has a reason only where its repetitions disagree. */
        const cJSON *reason = get(r, "reason");
        if (!strcmp(str(r, "status"), "ok"))
            snprintf(st, sizeof st, "%s",
                     cJSON_IsFalse(get(r, "repetitions_agree")) || cJSON_IsString(reason)
                         ? "repetitions disagree"
                         : "ok");
        else
            snprintf(st, sizeof st, "%s: %s", str(r, "status"), str(r, "reason"));
        ab_text_printf(&t, "%-12s %-7s %6llu %-7s %6s %6s %6s %6s %6s %6s %7s %6s %s\n",
                       str(r, "allocator"), str(r, "op"), u64(r, "size"), str(r, "pattern"), i50,
                       br, co, mn, p99, mx, mean, slow, st);
    }
    return ab_text_finish(&t);
}

/* -------------------------------------------------------------- trace */

static const cJSON *bin_of(const cJSON *bins, int64_t k)
{
    const cJSON *b;
    cJSON_ArrayForEach(b, bins)
        if (ab_json_int(b, "bin") == k)
            return b;
    return NULL;
}

/* The non-empty bins of a histogram, with the same bins of the functions
 * in cols beside them. */
static void trace_bins(struct ab_text *t, const cJSON *bins, const cJSON *const *cols,
                       size_t ncols)
{
    const cJSON *b;
    cJSON_ArrayForEach(b, bins)
    {
        uint64_t low, high;
        int64_t k = ab_json_int(b, "bin");
        ab_report_log2_bounds(b, &low, &high);
        char label[64];
        if (k == 64)
            snprintf(label, sizeof label, "[%llu, 2^64)", (unsigned long long)low);
        else
            snprintf(label, sizeof label, "[%llu, %llu]", (unsigned long long)low,
                     (unsigned long long)high);
        ab_text_printf(t, "  %-26s %10llu", label, u64(b, "count"));
        for (size_t c = 0; c < ncols; c++)
            ab_text_printf(t, " %10llu", u64(bin_of(get(cols[c], "size_histogram"), k), "count"));
        ab_text_printf(t, "\n");
    }
}

static void trace_functions(struct ab_text *t, const cJSON *tr)
{
    const cJSON *f, *ev = get(tr, "events");
    const char *malloc_object = str(get(tr, "library"), "path");
    ab_text_printf(t, "\n%-22s %10s %7s %7s %13s %9s %10s %8s\n", "function", "calls",
                   "nested", "failed", "bytes", "lat ns*", "clock ns*", "instr");
    size_t silent = 0;
    cJSON_ArrayForEach(f, get(tr, "functions"))
    {
        if (!u64(f, "calls") && !u64(f, "nested_calls")) {
            silent++;
            continue;
        }
        char lat[32], clk[32], insn[32], failed[32], name[96];
        ab_report_num(lat, sizeof lat, "%.0f", ab_json_num(f, "latency_ns_mean", NAN), "-");
        ab_report_num(clk, sizeof clk, "%.0f", ab_json_num(f, "task_clock_ns_per_call", NAN), "-");
        ab_report_num(insn, sizeof insn, "%.0f", ab_json_num(f, "instructions_per_call", NAN),
                      "-");
        ab_report_count(failed, sizeof failed, ab_json_int(f, "failed"), "-");
        const char *object = str(f, "object"), *base = strrchr(object, '/');
        if (!strcmp(object, malloc_object) || !base)
            snprintf(name, sizeof name, "%s", str(f, "function"));
        else
            snprintf(name, sizeof name, "%s@%s", str(f, "function"), base + 1);
        ab_text_printf(t, "%-22s %10llu %7llu %7s %13llu %9s %10s %8s\n", name, u64(f, "calls"),
                       u64(f, "nested_calls"), failed, u64(f, "bytes"), lat, clk, insn);
    }
    ab_text_printf(t, "lat ns*: mean latency per call, entry to return, including the probe's own "
                      "cost\n(two traps per call); clock ns*: task-clock per call; instr: "
                      "instructions per call\n");
    if (silent)
        ab_text_printf(t, "(%zu probed functions made no call)\n", silent);
    if (!ab_json_bool(get(ev, "instructions"), "available"))
        ab_text_printf(t, "instructions: - (%s)\n", str(get(ev, "instructions"), "reason"));
    if (!ab_json_bool(get(ev, "task_clock"), "available"))
        ab_text_printf(t, "task-clock: - (%s)\n", str(get(ev, "task_clock"), "reason"));
}

static char *trace_console(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *tr = get(doc, "trace"), *tg = get(tr, "target"), *lib = get(tr, "library");
    const cJSON *o, *f, *g;
    ab_text_printf(&t, "allocbench trace: pid %lld, %s", num_ll(tg, "pid"), str(tg, "exe"));
    if (ab_json_bool(tg, "started"))
        ab_text_printf(&t, " (started as: %s)", str(tg, "command"));
    ab_text_printf(&t, "\n");
    ab_text_printf(&t, "malloc served by %s (%s; chosen by %s)\n", str(lib, "path"),
                   str(lib, "family"), str(lib, "chosen_by"));
    cJSON_ArrayForEach(o, get(tr, "objects"))
        if (strcmp(str(o, "path"), str(lib, "path")))
            ab_text_printf(&t, "also probed, for the entry points it serves: %s\n",
                           str(o, "path"));
    char status[64] = "";
    if (ab_json_int(tg, "exit_status") >= 0)
        snprintf(status, sizeof status, ", exit status %lld", num_ll(tg, "exit_status"));
    else if (*str(tg, "exit_signal"))
        snprintf(status, sizeof status, ", killed by %s", str(tg, "exit_signal"));
    ab_text_wrapf(&t, "traced %.3f s, ended by %s%s; %llu functions probed, attached in %.1f ms, "
                "detached in %.1f ms\n",
                   ab_json_num(tr, "traced_s", 0), str(tr, "ended_by"), status,
                   u64(tr, "functions_probed"), ab_json_num(tr, "attach_ms", 0),
                   ab_json_num(tr, "detach_ms", 0));
    if (ab_json_int(tg, "images") > 1)
        ab_text_printf(&t, "the process exec'd: the figures are those of its last image (%lld "
                           "in all)\n",
                       num_ll(tg, "images"));
    trace_functions(&t, tr);

    ab_text_printf(&t, "\nrequested sizes (log2 bins, bytes): calls\n");
    ab_text_printf(&t, "  %-26s %10s", "bin", "all");
    const cJSON *cols[8];
    size_t ncols = 0;
    cJSON_ArrayForEach(f, get(tr, "functions"))
    {
        /* Allocating functions ("failed" is null for frees) with sizes. */
        if (ncols < 8 && cJSON_GetArraySize(get(f, "size_histogram")) > 0 &&
            cJSON_IsNumber(get(f, "failed"))) {
            cols[ncols++] = f;
            ab_text_printf(&t, " %10.10s", str(f, "function"));
        }
    }
    ab_text_printf(&t, "\n");
    trace_bins(&t, get(tr, "size_histogram"), cols, ncols);

    const cJSON *out = get(tr, "outstanding");
    ab_text_printf(&t, "\noutstanding at the end: %llu blocks, %llu bytes (allocated while "
                       "traced, not freed)%s\n",
                   u64(out, "allocations"), u64(out, "bytes"),
                   ab_json_bool(out, "complete") ? "" : " — a lower bound: the live set was full");
    int ngroups = cJSON_GetArraySize(get(out, "groups"));
    if (ngroups) {
        ab_text_printf(&t, "  %-20s %12s %16s\n", "size", "blocks", "bytes");
        cJSON_ArrayForEach(g, get(out, "groups"))
            ab_text_printf(&t, "  %-20llu %12llu %16llu\n", u64(g, "size"), u64(g, "count"),
                           u64(g, "bytes"));
        if (u64(out, "groups_total") > (unsigned long long)ngroups)
            ab_text_printf(&t, "  (%llu more sizes)\n",
                           u64(out, "groups_total") - (unsigned long long)ngroups);
    }

    ab_text_printf(&t, "\nlatency per call (ns, including the probe's own cost): calls\n");
    trace_bins(&t, get(tr, "latency_histogram_ns"), NULL, 0);
    const cJSON *acc = get(tr, "accounting");
    if (u64(acc, "live_replaced"))
        ab_text_printf(&t, "\nwarning: %llu allocations returned a block still recorded as live "
                           "(handed out twice, or freed through a function not probed)\n",
                       u64(acc, "live_replaced"));
    if (u64(acc, "switched_calls"))
        ab_text_printf(&t, "%llu calls migrated or were switched out: no counter reading for "
                           "them\n",
                       u64(acc, "switched_calls"));
    return ab_text_finish(&t);
}

/* ----------------------------------------------------------- dispatch */

static const struct {
    const char *command;
    char *(*print)(const cJSON *doc);
} parts[] = {
    {"run", run_console},
    {"stress", stress_console},
    {"fastpath", fastpath_console},
    {"trace", trace_console},
    {"compare", ab_console_compare},
};

static char *print(const cJSON *doc)
{
    const char *command = ab_json_str(doc, "command");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!strcmp(parts[i].command, command))
            return parts[i].print(doc);
    return NULL;
}

static const char *const commands[] = {"run", "stress", "fastpath", "trace", "compare", NULL};

const struct ab_format ab_format_console = {
    .name = "console",
    .summary = "the tables for people, on stdout only (the default)",
    .choosable = true,
    .for_people = true,
    .commands = commands,
    .print = print,
};
