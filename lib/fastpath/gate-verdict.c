/*
 * gate-verdict.c — the check's verdict for CI systems: `check --format
 * json|junit`.  The same findings as the console lines, kept per report
 * row by the gate itself (budget.c, under ab_gate_begin_recorded), written
 * here as
 *
 *   json   {"schema_version": 1, "command": "check", "budgets": FILE,
 *           "verdict": "held"|"failed", "counts": {...},
 *           "rows": [{allocator, op, size, pattern, verdict, lines[]}],
 *           "budget_findings": [{code, line, allocator, op, size, pattern,
 *           text}]}
 *   junit  one <testsuite> named "allocbench check": a <testcase> per
 *          report row (classname allocbench.<allocator>, name "<op>
 *          size=<n> pattern=<p>"), failed with the finding's code as its
 *          type, skipped when the row had no budget (unless
 *          --require-budget) or the function is unavailable; and a failed
 *          test case per budget row that matched nothing and for a check
 *          that checked nothing.
 *
 * The row verdicts: held, over-budget, not-measured, unchecked,
 * unavailable, counter-mismatch, figure-missing.
 */
#include "fastpath.h"
#include "report.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static char *as_json(const struct ab_gate *c, const char *budgets_path, bool require)
{
    cJSON *d = cJSON_CreateObject(), *n = cJSON_CreateObject();
    bool ok = d && n && cJSON_AddNumberToObject(d, "schema_version", 1) &&
              cJSON_AddStringToObject(d, "command", "check") &&
              cJSON_AddStringToObject(d, "budgets", budgets_path) &&
              cJSON_AddBoolToObject(d, "require_budget", require) &&
              cJSON_AddStringToObject(d, "verdict",
                                      ab_gate_failed(c, require) ? "failed" : "held") &&
              cJSON_AddItemToObject(d, "counts", n);
    if (!ok && d && n && !cJSON_GetObjectItemCaseSensitive(d, "counts"))
        cJSON_Delete(n);
    const struct {
        const char *name;
        unsigned v;
    } counts[] = {{"rows", c->rows},
                  {"held", c->held},
                  {"over_budget", c->violated},
                  {"not_measured", c->unmeasured},
                  {"unchecked", c->unchecked},
                  {"unavailable", c->unavailable},
                  {"counter_mismatch", c->counter_mismatch},
                  {"figure_missing", c->figure_missing},
                  {"budget_rows_unmatched", c->unmatched},
                  {"version_warnings", c->version_warnings}};
    for (size_t i = 0; ok && i < sizeof counts / sizeof counts[0]; i++)
        ok = cJSON_AddNumberToObject(n, counts[i].name, counts[i].v) != NULL;
    cJSON *rows = ok ? cJSON_Duplicate(c->verdicts, true) : NULL;
    ok = ok && rows && cJSON_AddItemToObject(d, "rows", rows);
    if (!ok)
        cJSON_Delete(rows);
    cJSON *bf = ok ? cJSON_Duplicate(c->budget_findings, true) : NULL;
    ok = ok && bf && cJSON_AddItemToObject(d, "budget_findings", bf);
    if (!ok)
        cJSON_Delete(bf);
    /* Printed as report.json is: valid UTF-8 whatever the paths hold. */
    char *s = ok ? ab_format_find("json")->print(d) : NULL;
    cJSON_Delete(d);
    return s;
}

/* s with & < > " escaped, and control characters other than tab and
 * newline (which XML 1.0 cannot carry) as '?'. */
static void xml(struct ab_text *t, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&')
            ab_text_printf(t, "&amp;");
        else if (ch == '<')
            ab_text_printf(t, "&lt;");
        else if (ch == '>')
            ab_text_printf(t, "&gt;");
        else if (ch == '"')
            ab_text_printf(t, "&quot;");
        else if (ch < 0x20 && ch != '\t' && ch != '\n')
            ab_text_printf(t, "?");
        else
            ab_text_printf(t, "%c", ch);
    }
}

/* A row's finding code: the first word of its first line. */
static void first_word(const cJSON *row, char *buf, size_t len)
{
    const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(row, "lines"), 0);
    const char *s = cJSON_IsString(l) ? l->valuestring : "";
    snprintf(buf, len, "%.*s", (int)strcspn(s, " "), s);
}

static char *as_junit(const struct ab_gate *c, const char *budgets_path, bool require)
{
    unsigned tests = 0, failures = 0, skipped = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, c->verdicts)
    {
        const char *v = ab_json_str(r, "verdict");
        tests++;
        if (!strcmp(v, "unavailable") || (!strcmp(v, "unchecked") && !require))
            skipped++;
        else if (strcmp(v, "held"))
            failures++;
    }
    int nb = cJSON_GetArraySize(c->budget_findings);
    tests += (unsigned)nb, failures += (unsigned)nb;

    struct ab_text t = {0};
    ab_text_printf(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
                       "  <testsuite name=\"allocbench check\" tests=\"%u\" failures=\"%u\" "
                       "errors=\"0\" skipped=\"%u\">\n    <properties>\n"
                       "      <property name=\"budgets\" value=\"",
                   tests, failures, skipped);
    xml(&t, budgets_path);
    ab_text_printf(&t, "\"/>\n      <property name=\"require_budget\" value=\"%s\"/>\n"
                       "    </properties>\n",
                   require ? "true" : "false");
    cJSON_ArrayForEach(r, c->verdicts)
    {
        const char *v = ab_json_str(r, "verdict");
        ab_text_printf(&t, "    <testcase classname=\"allocbench.");
        xml(&t, ab_json_str(r, "allocator"));
        ab_text_printf(&t, "\" name=\"");
        xml(&t, ab_json_str(r, "op"));
        ab_text_printf(&t, " size=%.0f pattern=", ab_json_num(r, "size", 0));
        xml(&t, ab_json_str(r, "pattern"));
        ab_text_printf(&t, "\"");
        if (!strcmp(v, "held")) {
            ab_text_printf(&t, "/>\n");
            continue;
        }
        bool skip = !strcmp(v, "unavailable") || (!strcmp(v, "unchecked") && !require);
        char code[64];
        first_word(r, code, sizeof code);
        ab_text_printf(&t, ">\n      <%s message=\"%s\"", skip ? "skipped" : "failure", v);
        if (!skip) {
            ab_text_printf(&t, " type=\"");
            xml(&t, code);
            ab_text_printf(&t, "\"");
        }
        ab_text_printf(&t, ">");
        const cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(r, "lines"))
        {
            xml(&t, cJSON_IsString(l) ? l->valuestring : "");
            ab_text_printf(&t, "\n");
        }
        ab_text_printf(&t, "</%s>\n    </testcase>\n", skip ? "skipped" : "failure");
    }
    cJSON_ArrayForEach(r, c->budget_findings)
    {
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(r, "line");
        ab_text_printf(&t, "    <testcase classname=\"allocbench.budgets\" name=\"");
        if (cJSON_IsNumber(line))
            ab_text_printf(&t, "line %d", line->valueint);
        else
            ab_text_printf(&t, "anything checked");
        ab_text_printf(&t, "\">\n      <failure message=\"");
        xml(&t, ab_json_str(r, "code"));
        ab_text_printf(&t, "\" type=\"");
        xml(&t, ab_json_str(r, "code"));
        ab_text_printf(&t, "\">");
        xml(&t, ab_json_str(r, "text"));
        ab_text_printf(&t, "\n</failure>\n    </testcase>\n");
    }
    ab_text_printf(&t, "  </testsuite>\n</testsuites>\n");
    return ab_text_finish(&t);
}

char *ab_gate_verdict(const struct ab_gate *c, enum ab_gate_format f, const char *budgets_path,
                      bool require_budget)
{
    if (c->oom || !c->verdicts || !c->budget_findings)
        return NULL;
    return f == AB_GATE_JSON ? as_json(c, budgets_path, require_budget)
                             : as_junit(c, budgets_path, require_budget);
}
