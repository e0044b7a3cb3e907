/*
 * markdown-compare.c — a compare document as Markdown, ready to paste into
 * a pull request: a heading, what the figures are, one table (a row per
 * matched configuration or fast-path row), the rows of one side only, the
 * notes and the gate's findings.  Cells are escaped (`|` and line breaks),
 * so an allocator's path stays in its cell.
 */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* s as the text of one table cell. */
static void cell(struct ab_text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' || *s == '`')
            ab_text_printf(t, "\\%c", *s);
        else if (*s == '\n' || *s == '\r' || *s == '\t')
            ab_text_printf(t, " ");
        else
            ab_text_printf(t, "%c", *s);
    }
}

static void who(struct ab_text *t, const cJSON *row)
{
    const char *b = ab_json_str(get(row, "base"), "allocator");
    const char *h = ab_json_str(get(row, "head"), "allocator");
    cell(t, b);
    if (strcmp(b, h)) {
        ab_text_printf(t, " → ");
        cell(t, h);
    }
}

static void verdict(struct ab_text *t, const cJSON *row)
{
    const char *v = ab_json_str(row, "verdict");
    if (!*v)
        ab_text_printf(t, "- (see below)");
    else if (ab_json_bool(row, "fails"))
        ab_text_printf(t, "**%s: fails**", v);
    else
        ab_text_printf(t, "%s", v);
    if (ab_json_bool(row, "noisy"))
        ab_text_printf(t, " (noisy)");
}

static void run_table(struct ab_text *t, const cJSON *doc)
{
    const cJSON *c = get(doc, "compare"), *r;
    ab_text_printf(t, "### allocbench compare: `%s`\n\n", ab_json_str(c, "workload"));
    ab_text_printf(t, "ns per %s (median of the trials); ratio = HEAD / BASE (above 1: HEAD is "
                      "slower) with its 95 %% interval (Hodges-Lehmann, Moses); p of the "
                      "Mann-Whitney test.  A row fails when its whole interval lies above "
                      "%.3f.\n\n",
                   ab_json_str(c, "unit"), 1.0 + ab_json_num(c, "threshold_pct", 0) / 100.0);
    ab_text_printf(t, "| variant | threads | allocator | trials | BASE | HEAD | ratio | 95 %% CI "
                      "| p | verdict |\n|---|---:|---|---:|---:|---:|---:|:---:|---:|---|\n");
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        const cJSON *b = get(r, "base"), *h = get(r, "head");
        char bm[32], hm[32], ratio[32], lo[32], hi[32], p[32];
        ab_text_printf(t, "| ");
        cell(t, ab_json_str(r, "variant"));
        ab_text_printf(t, " | %.0f | ", ab_json_num(r, "threads", 0));
        who(t, r);
        ab_text_printf(t, " | %.0f / %.0f | %s | %s | %s | ", ab_json_num(b, "n", 0),
                       ab_json_num(h, "n", 0),
                       ab_report_num(bm, sizeof bm, "%.2f", ab_json_num(b, "median", NAN), "-"),
                       ab_report_num(hm, sizeof hm, "%.2f", ab_json_num(h, "median", NAN), "-"),
                       ab_report_num(ratio, sizeof ratio, "%.3f", ab_json_num(r, "ratio", NAN),
                                     "-"));
        double cl = ab_json_num(r, "ci95_low", NAN), ch = ab_json_num(r, "ci95_high", NAN);
        if (isfinite(cl) && isfinite(ch))
            ab_text_printf(t, "%s – %s", ab_report_num(lo, sizeof lo, "%.3f", cl, "-"),
                           ab_report_num(hi, sizeof hi, "%.3f", ch, "-"));
        else
            ab_text_printf(t, "-");
        ab_text_printf(t, " | %s | ", ab_report_num(p, sizeof p, "%.2g", ab_json_num(r, "p", NAN),
                                                    "-"));
        verdict(t, r);
        ab_text_printf(t, " |\n");
    }
}

static void fp_cell(struct ab_text *t, const cJSON *fig, const char *fmt)
{
    char b[32], h[32], d[32];
    double delta = ab_json_num(fig, "delta", NAN);
    ab_text_printf(t, " %s → %s",
                   ab_report_num(b, sizeof b, fmt, ab_json_num(fig, "base", NAN), "-"),
                   ab_report_num(h, sizeof h, fmt, ab_json_num(fig, "head", NAN), "-"));
    if (delta == 0)
        ab_text_printf(t, " (0)");
    else if (isfinite(delta))
        ab_text_printf(t, " (%s%s)", delta > 0 ? "+" : "",
                       ab_report_num(d, sizeof d, fmt, delta, ""));
    ab_text_printf(t, " |");
}

static void fastpath_table(struct ab_text *t, const cJSON *doc)
{
    const cJSON *c = get(doc, "compare"), *r;
    ab_text_printf(t, "### allocbench compare: fast paths\n\n");
    ab_text_printf(t, "Exact counts per call (counted with %s), BASE → HEAD (HEAD - BASE): the "
                      "p50 of instructions and of branches, and the slow-path share.  A figure "
                      "that rises by more than %g %% fails.\n\n",
                   ab_json_str(get(c, "base"), "counter"), ab_json_num(c, "threshold_pct", 0));
    ab_text_printf(t, "| allocator | op | size | pattern | instructions | branches | slow share "
                      "| verdict |\n|---|---|---:|---|---:|---:|---:|---|\n");
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        ab_text_printf(t, "| ");
        who(t, r);
        ab_text_printf(t, " | %s | %.0f | %s |", ab_json_str(r, "op"), ab_json_num(r, "size", 0),
                       ab_json_str(r, "pattern"));
        fp_cell(t, get(r, "instructions"), "%.0f");
        fp_cell(t, get(r, "branches"), "%.0f");
        fp_cell(t, get(r, "slow_path_share"), "%.4f");
        ab_text_printf(t, " ");
        verdict(t, r);
        ab_text_printf(t, " |\n");
    }
}

char *ab_markdown_compare(const cJSON *doc)
{
    struct ab_text t = {0};
    const cJSON *c = get(doc, "compare"), *r, *m;
    bool run = !strcmp(ab_json_str(c, "of"), "run");
    if (run)
        run_table(&t, doc);
    else
        fastpath_table(&t, doc);
    bool first = true;
    static const char *const only[2][2] = {{"only_base", "BASE"}, {"only_head", "HEAD"}};
    for (int s = 0; s < 2; s++) {
        cJSON_ArrayForEach(r, get(doc, only[s][0]))
        {
            ab_text_printf(&t, "%s- only in %s:", first ? "\n" : "", only[s][1]);
            cJSON_ArrayForEach(m, r)
            {
                ab_text_printf(&t, " %s=", m->string);
                if (cJSON_IsString(m))
                    cell(&t, m->valuestring);
                else
                    ab_text_printf(&t, "%.0f", m->valuedouble);
            }
            ab_text_printf(&t, "\n");
            first = false;
        }
    }
    cJSON_ArrayForEach(r, get(doc, "rows"))
    {
        if (!*ab_json_str(r, "reason"))
            continue;
        ab_text_printf(&t, "%s- no verdict for ", first ? "\n" : "");
        who(&t, r);
        if (run)
            ab_text_printf(&t, " %s threads=%.0f", ab_json_str(r, "variant"),
                           ab_json_num(r, "threads", 0));
        else
            ab_text_printf(&t, " %s size=%.0f pattern=%s", ab_json_str(r, "op"),
                           ab_json_num(r, "size", 0), ab_json_str(r, "pattern"));
        ab_text_printf(&t, ": ");
        cell(&t, ab_json_str(r, "reason"));
        ab_text_printf(&t, "\n");
        first = false;
    }
    cJSON_ArrayForEach(m, get(doc, "notes"))
    {
        ab_text_printf(&t, "%s- ", first ? "\n" : "");
        cell(&t, cJSON_IsString(m) ? m->valuestring : "");
        ab_text_printf(&t, "\n");
        first = false;
    }
    double fails = ab_json_num(doc, "failures", 0);
    if (fails > 0) {
        ab_text_printf(&t, "\n**%.0f %s the gate:**\n\n", fails,
                       fails == 1 ? "row fails" : "rows fail");
        cJSON_ArrayForEach(m, get(doc, "diagnostics"))
            ab_text_printf(&t, "    %s %s\n", ab_json_str(m, "code"), ab_json_str(m, "detail"));
    } else {
        ab_text_printf(&t, "\nNo row fails the gate (threshold %g %%).\n",
                       ab_json_num(c, "threshold_pct", 0));
    }
    static const char *const sides[2][2] = {{"base", "BASE"}, {"head", "HEAD"}};
    ab_text_printf(&t, "\n<sub>");
    for (int s = 0; s < 2; s++) {
        const cJSON *side = get(c, sides[s][0]);
        ab_text_printf(&t, "%s%s ", s ? ", " : "", sides[s][1]);
        cell(&t, ab_json_str(side, "path"));
        ab_text_printf(&t, " (%s)", ab_json_str(side, "started_utc"));
    }
    ab_text_printf(&t, "</sub>\n");
    return ab_text_finish(&t);
}
