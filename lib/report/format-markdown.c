/*
 * format-markdown.c — --format markdown: tables ready to paste into a pull
 * request, in GitHub-flavoured markdown: a line saying what was measured,
 * then tables of a header row, a separator row and one row per record, with
 * `|` and the characters markdown would read as markup escaped in every
 * cell; `-` where nothing was measured.  It writes no file.  print()
 * dispatches on the document's "command", one function per command (the
 * compare document's in markdown-compare.c); a command without one is not
 * offered.
 */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    return ab_json_str(o, k);
}

/* ------------------------------------------------------------- writers */

/* Text inside a table cell or a caption: a backslash before each character
 * markdown reads as markup (the cell's `|` included), a space for a line
 * break, which would end the row. */
static void md_text(struct ab_text *t, const char *s)
{
    size_t n = strlen(s), len = 0;
    char *buf = malloc(2 * n + 1);
    if (!buf) {
        t->oom = true;
        return;
    }
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t') {
            buf[len++] = ' ';
            continue;
        }
        if (strchr("\\|`*_[]<>~&", *s))
            buf[len++] = '\\';
        buf[len++] = *s;
    }
    buf[len] = '\0';
    ab_text_printf(t, "%s", buf);
    free(buf);
}

static void md_cell(struct ab_text *t, const char *s)
{
    ab_text_printf(t, " ");
    md_text(t, s);
    ab_text_printf(t, " |");
}

static void md_cellf(struct ab_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void md_cellf(struct ab_text *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    md_cell(t, buf);
}

/* A figure in fmt, `-` where not measured. */
static void md_num(struct ab_text *t, const char *fmt, double v)
{
    char buf[64];
    md_cell(t, ab_report_num(buf, sizeof buf, fmt, v, "-"));
}

/* A workload's figure, whatever its scale: whole units from 1000 up, four
 * significant digits below. */
static void md_figure(struct ab_text *t, double v)
{
    md_num(t, isfinite(v) && fabs(v) >= 1000 ? "%.0f" : "%.4g", v);
}

/* A count (an exact integer), `-` where null. */
static void md_count(struct ab_text *t, const cJSON *o, const char *k)
{
    uint64_t v;
    if (ab_report_u64(o, k, &v))
        md_cellf(t, "%llu", (unsigned long long)v);
    else
        md_cell(t, "-");
}

/* The header row and the separator: a column whose name starts with '>'
 * holds figures and is right-aligned. */
static void md_head(struct ab_text *t, const char *const *cols, size_t n)
{
    ab_text_printf(t, "\n|");
    for (size_t i = 0; i < n; i++)
        md_cell(t, cols[i][0] == '>' ? cols[i] + 1 : cols[i]);
    ab_text_printf(t, "\n|");
    for (size_t i = 0; i < n; i++)
        ab_text_printf(t, "%s|", cols[i][0] == '>' ? "---:" : "---");
    ab_text_printf(t, "\n");
}

/* ---------------------------------------------------------------- run */

static bool same_config(const cJSON *a, const cJSON *b)
{
    return !strcmp(str(a, "variant"), str(b, "variant")) &&
           !strcmp(str(a, "allocator"), str(b, "allocator")) &&
           ab_json_int(a, "threads") == ab_json_int(b, "threads");
}

/* Where it ran: the allocators with their versions, the machine, this build. */
static void run_where(struct ab_text *t, const cJSON *doc)
{
    const cJSON *ctx = get(doc, "context"), *s;
    ab_text_printf(t, "\nallocators: ");
    bool first = true;
    cJSON_ArrayForEach(s, get(ctx, "subjects"))
    {
        ab_text_printf(t, "%s", first ? "" : ", ");
        md_text(t, str(s, "name"));
        if (cJSON_IsString(get(s, "version"))) {
            ab_text_printf(t, " ");
            md_text(t, str(s, "version"));
        }
        first = false;
    }
    ab_text_printf(t, "; host: ");
    md_text(t, str(ctx, "cpu_model"));
    int64_t pus = ab_json_int(get(ctx, "topology"), "pus");
    if (pus > 0)
        ab_text_printf(t, ", %lld PUs", (long long)pus);
    ab_text_printf(t, ", ");
    md_text(t, str(ctx, "kernel"));
    ab_text_printf(t, ", glibc ");
    md_text(t, str(ctx, "glibc"));
    ab_text_printf(t, ", THP ");
    md_text(t, str(ctx, "thp"));
    ab_text_printf(t, "; allocbench ");
    md_text(t, str(get(ctx, "allocbench"), "version"));
    ab_text_printf(t, "\n");
}

/* The workload's own figures: each metric's median, one column each. */
static void run_metrics(struct ab_text *t, const cJSON *doc)
{
    const cJSON *a, *m, *names[32];
    size_t n = 0;
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        cJSON_ArrayForEach(m, get(a, "metrics"))
        {
            bool seen = false;
            for (size_t i = 0; i < n && !seen; i++)
                seen = !strcmp(names[i]->string, m->string);
            if (!seen && n < sizeof names / sizeof names[0])
                names[n++] = m;
        }
    }
    if (!n)
        return;
    const cJSON *merit = get(get(doc, "run"), "figure_of_merit");
    ab_text_printf(t, "\n");
    md_text(t, str(get(doc, "run"), "workload"));
    ab_text_printf(t, " figures, median over the measured trials");
    if (cJSON_IsString(merit)) {
        ab_text_printf(t, "; figure of merit: ");
        md_text(t, merit->valuestring);
    }
    ab_text_printf(t, "\n\n| variant | allocator | threads |");
    for (size_t i = 0; i < n; i++) {
        char col[256];
        snprintf(col, sizeof col, "%s (%s)", names[i]->string, str(names[i], "unit"));
        md_cell(t, col);
    }
    ab_text_printf(t, "\n|---|---|---:|");
    for (size_t i = 0; i < n; i++)
        ab_text_printf(t, "---:|");
    ab_text_printf(t, "\n");
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        if (!cJSON_GetArraySize(get(a, "metrics")))
            continue;
        ab_text_printf(t, "|");
        md_cell(t, str(a, "variant"));
        md_cell(t, str(a, "allocator"));
        md_cellf(t, "%lld", (long long)ab_json_int(a, "threads"));
        for (size_t i = 0; i < n; i++) {
            m = get(get(a, "metrics"), names[i]->string);
            md_figure(t, ab_json_num(m, "n", 0) > 0 ? ab_json_num(m, "median", NAN) : NAN);
        }
        ab_text_printf(t, "\n");
    }
}

/* With a counter: its figures per op. */
static void run_counted(struct ab_text *t, const cJSON *doc)
{
    const cJSON *ctx = get(doc, "context"), *a;
    ab_text_printf(t, "\ncounted with ");
    md_text(t, str(ctx, "counter"));
    ab_text_printf(t, " (");
    md_text(t, str(ctx, "counter_version"));
    ab_text_printf(t, "), the measured phase only: per ");
    md_text(t, str(get(doc, "run"), "unit"));
    ab_text_printf(t, ", median over trials\n");
    static const char *const cols[] = {"variant", "allocator", ">threads", ">instructions",
                                       ">conditional branches"};
    md_head(t, cols, sizeof cols / sizeof cols[0]);
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        ab_text_printf(t, "|");
        md_cell(t, str(a, "variant"));
        md_cell(t, str(a, "allocator"));
        md_cellf(t, "%lld", (long long)ab_json_int(a, "threads"));
        md_num(t, "%.2f", ab_json_num(a, "instructions_per_op", NAN));
        md_num(t, "%.2f", ab_json_num(a, "conditional_branches_per_op", NAN));
        ab_text_printf(t, "\n");
    }
}

/* Where the document has them ("comparisons"): each allocator's ratio to
 * its row's base over the paired repetitions, with its interval, p and
 * verdict. */
static void run_comparisons(struct ab_text *t, const cJSON *doc)
{
    const cJSON *c;
    if (!cJSON_GetArraySize(get(doc, "comparisons")))
        return;
    ab_text_printf(t, "\nratio of ns per ");
    md_text(t, str(get(doc, "run"), "unit"));
    ab_text_printf(t, " to the base's (above 1: slower), its 95 %% CI over the paired trials, "
                      "Wilcoxon's p\n");
    static const char *const cols[] = {"variant", ">threads", "allocator", "base", ">ratio",
                                       ">95 % CI", ">p", "verdict"};
    md_head(t, cols, sizeof cols / sizeof cols[0]);
    cJSON_ArrayForEach(c, get(doc, "comparisons"))
    {
        ab_text_printf(t, "|");
        md_cell(t, str(c, "variant"));
        md_cellf(t, "%lld", (long long)ab_json_int(c, "threads"));
        md_cell(t, str(c, "allocator"));
        md_cell(t, str(c, "base"));
        md_num(t, "%.3f", ab_json_num(c, "ratio", NAN));
        double lo = ab_json_num(c, "ci95_low", NAN), hi = ab_json_num(c, "ci95_high", NAN);
        if (isfinite(lo) && isfinite(hi))
            md_cellf(t, "%.3f to %.3f", lo, hi);
        else
            md_cell(t, "-");
        md_num(t, "%.3g", ab_json_num(c, "p_value", NAN));
        const char *v = str(c, "verdict");
        md_cellf(t, "%s%s", *v ? v : "-", cJSON_IsTrue(get(c, "noisy")) ? " (noisy)" : "");
        ab_text_printf(t, "\n");
    }
}

/* What was not measured, or not well, and why: noisy configurations,
 * diagnostics and unavailable variants. */
static void run_notes(struct ab_text *t, const cJSON *doc)
{
    const cJSON *d, *a, *e, *r;
    bool first = true;
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        if (!cJSON_IsTrue(get(a, "noisy")))
            continue;
        ab_text_printf(t, "%s- noisy: ", first ? "\n" : "");
        md_text(t, str(a, "variant"));
        ab_text_printf(t, " on ");
        md_text(t, str(a, "allocator"));
        ab_text_printf(t, ", threads=%lld: ", (long long)ab_json_int(a, "threads"));
        md_text(t, str(a, "noisy_why"));
        ab_text_printf(t, "\n");
        first = false;
    }
    cJSON_ArrayForEach(d, get(doc, "diagnostics"))
    {
        ab_text_printf(t, "%s- ", first ? "\n" : "");
        md_text(t, str(d, "code"));
        ab_text_printf(t, " ");
        md_text(t, str(d, "allocator"));
        ab_text_printf(t, " ");
        md_text(t, str(d, "variant"));
        ab_text_printf(t, " threads=%lld repetition=%lld: ", (long long)ab_json_int(d, "threads"),
                       (long long)ab_json_int(d, "repetition"));
        md_text(t, str(d, "detail"));
        ab_text_printf(t, "\n");
        first = false;
    }
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        if (strcmp(str(a, "status"), "unavailable"))
            continue;
        bool said = false;
        for (e = get(doc, "aggregates")->child; e != a && !said; e = e->next)
            said = !strcmp(str(e, "status"), "unavailable") &&
                   !strcmp(str(e, "variant"), str(a, "variant")) &&
                   !strcmp(str(e, "allocator"), str(a, "allocator"));
        cJSON_ArrayForEach(r, (said ? NULL : get(doc, "trials")))
        {
            if (!same_config(r, a))
                continue;
            ab_text_printf(t, "%s- ", first ? "\n" : "");
            md_text(t, str(a, "variant"));
            ab_text_printf(t, " on ");
            md_text(t, str(a, "allocator"));
            ab_text_printf(t, ": not available: ");
            md_text(t, str(r, "reason"));
            ab_text_printf(t, "\n");
            first = false;
            break;
        }
    }
}

static char *run_markdown(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *rc = get(doc, "run"), *a;
    ab_text_printf(&t, "**");
    md_text(&t, str(rc, "workload"));
    ab_text_printf(&t, "**: ns per ");
    md_text(&t, str(rc, "unit"));
    ab_text_printf(&t, " per thread, median of %lld trials with its 95 %% CI and MAD; "
                       "throughput of all threads; relative: the median against the first "
                       "allocator measured in the row (below 1 is faster)\n",
                   (long long)ab_json_int(rc, "repetitions"));
    run_where(&t, doc);
    static const char *const cols[] = {"variant", "allocator", ">threads", ">median ns",
                                       ">95 % CI", ">MAD", ">Mops/s", ">peak RSS KiB",
                                       ">relative", "status"};
    md_head(&t, cols, sizeof cols / sizeof cols[0]);
    cJSON_ArrayForEach(a, get(doc, "aggregates"))
    {
        const cJSON *ns = get(a, "ns_per_op");
        ab_text_printf(&t, "|");
        md_cell(&t, str(a, "variant"));
        md_cell(&t, str(a, "allocator"));
        md_cellf(&t, "%lld", (long long)ab_json_int(a, "threads"));
        md_num(&t, "%.2f", ab_json_num(ns, "median", NAN));
        double lo = ab_json_num(ns, "ci95_low", NAN), hi = ab_json_num(ns, "ci95_high", NAN);
        if (isfinite(lo) && isfinite(hi))
            md_cellf(&t, "%.2f to %.2f", lo, hi);
        else
            md_cell(&t, "-");
        md_num(&t, "%.2f", ab_json_num(ns, "mad", NAN));
        md_num(&t, "%.3f", ab_json_num(get(a, "ops_per_s"), "median", NAN) / 1e6);
        md_count(&t, a, "peak_rss_kib");
        md_num(&t, "%.3f", ab_json_num(a, "relative", NAN));
        long long measured = (long long)ab_json_int(a, "measured"),
                  trials = (long long)ab_json_int(a, "trials");
        if (!strcmp(str(a, "status"), "ok") && measured == trials)
            md_cell(&t, "ok");
        else
            md_cellf(&t, "%s (%lld/%lld measured)", str(a, "status"), measured, trials);
        ab_text_printf(&t, "\n");
    }
    run_comparisons(&t, doc);
    run_metrics(&t, doc);
    if (strcmp(str(get(doc, "context"), "counter"), "none"))
        run_counted(&t, doc);
    run_notes(&t, doc);
    return ab_text_finish(&t);
}

/* ----------------------------------------------------------- fastpath */

static char *fastpath_markdown(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *ctx = get(doc, "context"), *conf = get(doc, "config"), *r, *s;
    long long reps = (long long)ab_json_int(conf, "repetitions");
    ab_text_printf(&t, "**fastpath**: instructions and branches per call, counted with ");
    md_text(&t, str(ctx, "counter"));
    ab_text_printf(&t, " (");
    md_text(&t, str(ctx, "counter_version"));
    ab_text_printf(&t, "); %lld calls x %lld repetition%s per row; p50, min, p99, max and mean "
                       "over the calls; slow path: the share of calls above twice the fast path "
                       "(the pairs p50)\n\nallocators: ",
                   (long long)ab_json_int(conf, "calls"), reps, reps == 1 ? "" : "s");
    bool first = true;
    cJSON_ArrayForEach(s, get(ctx, "subjects"))
    {
        ab_text_printf(&t, "%s", first ? "" : ", ");
        md_text(&t, str(s, "name"));
        if (cJSON_IsString(get(s, "version"))) {
            ab_text_printf(&t, " ");
            md_text(&t, str(s, "version"));
        }
        first = false;
    }
    ab_text_printf(&t, "; host: ");
    md_text(&t, str(ctx, "cpu_model"));
    ab_text_printf(&t, ", ");
    md_text(&t, str(ctx, "kernel"));
    ab_text_printf(&t, "; allocbench ");
    md_text(&t, str(get(ctx, "allocbench"), "version"));
    ab_text_printf(&t, "\n");
    static const char *const cols[] = {"allocator", "op", ">size", "pattern", ">instructions",
                                       ">branches", ">conditional", ">min", ">p99", ">max",
                                       ">mean", ">slow path", "status"};
    md_head(&t, cols, sizeof cols / sizeof cols[0]);
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        const cJSON *in = get(r, "instructions");
        ab_text_printf(&t, "|");
        md_cell(&t, str(r, "allocator"));
        md_cell(&t, str(r, "op"));
        md_count(&t, r, "size");
        md_cell(&t, str(r, "pattern"));
        md_count(&t, in, "p50");
        md_count(&t, get(r, "branches"), "p50");
        md_count(&t, get(r, "conditional"), "p50");
        md_count(&t, in, "min");
        md_count(&t, in, "p99");
        md_count(&t, in, "max");
        md_num(&t, "%.2f", ab_json_num(in, "mean", NAN));
        md_num(&t, "%.2f %%", 100.0 * ab_json_num(r, "slow_path_share", NAN));
        /* A counted row has a reason only where its repetitions disagree. */
        if (strcmp(str(r, "status"), "ok"))
            md_cellf(&t, "%s: %s", str(r, "status"), str(r, "reason"));
        else if (cJSON_IsFalse(get(r, "repetitions_agree")) || cJSON_IsString(get(r, "reason")))
            md_cell(&t, "repetitions disagree");
        else
            md_cell(&t, "ok");
        ab_text_printf(&t, "\n");
    }
    return ab_text_finish(&t);
}

/* ------------------------------------------------------------- stress */

static char *stress_markdown(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *st = get(doc, "stress"), *p = get(st, "profile"), *c, *d, *k;
    ab_text_printf(&t, "**stress --profile ");
    md_text(&t, str(p, "name"));
    ab_text_printf(&t, "**: %lld threads, ", (long long)ab_json_int(p, "threads_here"));
    uint64_t cap;
    if (ab_report_u64(st, "ops", &cap))
        ab_text_printf(&t, "%llu ops per thread", (unsigned long long)cap);
    else
        ab_text_printf(&t, "no op cap");
    double dur = ab_json_num(st, "duration_s", NAN);
    if (isfinite(dur))
        ab_text_printf(&t, ", %.1f s per timed case", dur);
    else
        ab_text_printf(&t, ", no time cap");
    ab_text_printf(&t, ", verification %s\n", ab_json_bool(st, "verify") ? "on" : "off");
    static const char *const cols[] = {"allocator", "case", "verdict", ">operations",
                                       ">blocks verified", ">diagnostics", ">seconds"};
    md_head(&t, cols, sizeof cols / sizeof cols[0]);
    cJSON_ArrayForEach(c, get(doc, "cases"))
    {
        ab_text_printf(&t, "|");
        md_cell(&t, str(c, "allocator"));
        md_cell(&t, str(c, "case"));
        md_cell(&t, str(c, "verdict"));
        md_count(&t, c, "operations");
        md_count(&t, c, "blocks_verified");
        if (strcmp(str(c, "verdict"), "not-applicable"))
            md_cellf(&t, "%d", cJSON_GetArraySize(get(c, "diagnostics")));
        else
            md_cell(&t, "-");
        md_num(&t, "%.2f", ab_json_num(c, "elapsed_s", NAN));
        ab_text_printf(&t, "\n");
    }
    if (cJSON_GetArraySize(get(doc, "diagnostics"))) {
        static const char *const dcols[] = {"code", "allocator", "case", "detail",
                                            ">occurrences"};
        ab_text_printf(&t, "\ndiagnostics\n");
        md_head(&t, dcols, sizeof dcols / sizeof dcols[0]);
        cJSON_ArrayForEach(d, get(doc, "diagnostics"))
        {
            ab_text_printf(&t, "|");
            md_cell(&t, str(d, "code"));
            md_cell(&t, str(d, "allocator"));
            md_cell(&t, str(d, "case"));
            md_cell(&t, str(d, "detail"));
            md_count(&t, d, "count");
            ab_text_printf(&t, "\n");
        }
    }
    bool first = true;
    cJSON_ArrayForEach(c, get(doc, "cases"))
    {
        const char *verdict = str(c, "verdict");
        if (!strcmp(verdict, "not-applicable") || !strcmp(verdict, "incomplete")) {
            ab_text_printf(&t, "%s- ", first ? "\n" : "");
            md_text(&t, str(c, "allocator"));
            ab_text_printf(&t, " ");
            md_text(&t, str(c, "case"));
            ab_text_printf(&t, ": %s: ", verdict);
            md_text(&t, str(c, "reason"));
            ab_text_printf(&t, "\n");
            first = false;
            continue;
        }
        cJSON_ArrayForEach(k, get(c, "checks"))
        {
            const char *cv = str(k, "verdict");
            if (strcmp(cv, "not-applicable") && strcmp(cv, "skipped"))
                continue;
            ab_text_printf(&t, "%s- ", first ? "\n" : "");
            md_text(&t, str(c, "allocator"));
            ab_text_printf(&t, " ");
            md_text(&t, str(c, "case"));
            ab_text_printf(&t, " check ");
            md_text(&t, str(k, "name"));
            ab_text_printf(&t, " %s: ", cv);
            md_text(&t, str(k, "detail"));
            ab_text_printf(&t, "\n");
            first = false;
        }
    }
    return ab_text_finish(&t);
}

/* ----------------------------------------------------------- dispatch */

static const struct {
    const char *command;
    char *(*print)(const cJSON *doc);
} parts[] = {
    {"run", run_markdown},
    {"fastpath", fastpath_markdown},
    {"stress", stress_markdown},
    {"compare", ab_markdown_compare},
};

static char *print(const cJSON *doc)
{
    const char *command = str(doc, "command");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!strcmp(parts[i].command, command))
            return parts[i].print(doc);
    return NULL;
}

static const char *const commands[] = {"run", "fastpath", "stress", "compare", NULL};

const struct ab_format ab_format_markdown = {
    .name = "markdown",
    .summary = "Markdown tables for a pull request, on stdout only",
    .choosable = true,
    .commands = commands,
    .print = print,
};
