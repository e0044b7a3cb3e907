/* report.c — fuzz target: the fast-path report reader that check and
 * budgets use (ab_fp_report_parse), then what they do with a report it
 * accepts: the gate against a small budget file, and budgets made from the
 * report, which must be a file the budget parser takes and which the
 * report itself must hold to. */
#include "fastpath.h"
#include "fuzz.h"

#include <cJSON.h>
#include <string.h>

static const char fixed_budgets[] =
    "allocator\top\tsize\tpattern\tcounter\tmax_instructions\tmax_branches\t"
    "max_slow_path_share\n"
    "*\tmalloc\t*\tpairs\t\t100\t20\t0.5\n"
    "glibc\tfree\t16\tpairs\tptrace\t50\t\t\n"
    "*\tmalloc\t*\tbatch\tcallgrind\t\t10\t\n";

static FILE *sink(void)
{
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    AB_FUZZ_CHECK(f);
    return f;
}

/* The gate over doc against b; returns the gate's counts. */
static struct ab_gate gate(const struct ab_budgets *b, const cJSON *doc)
{
    struct ab_gate g;
    AB_FUZZ_CHECK(ab_gate_begin(&g, b, sink(), sink()) == 0);
    ab_gate_report(&g, doc);
    ab_gate_finish(&g);
    char lines[256];
    ab_gate_used_lines(&g, lines, sizeof lines);
    AB_FUZZ_CHECK(strlen(lines) < sizeof lines);
    ab_gate_failed(&g, true);
    struct ab_gate out = g;
    ab_gate_end(&g);
    out.used = NULL;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc;
    char err[1024] = "";
    if (ab_fp_report_parse("fuzz.json", (const char *)data, size, &doc, err, sizeof err)) {
        AB_FUZZ_CHECK(err[0] && !doc);
        return 0;
    }
    struct ab_budgets fixed;
    AB_FUZZ_CHECK(ab_budgets_parse("fixed.tsv", fixed_budgets, sizeof fixed_budgets - 1, &fixed,
                                   err, sizeof err) == 0);
    struct ab_gate g = gate(&fixed, doc);
    AB_FUZZ_CHECK(g.rows == g.held + g.violated + g.unchecked + g.unmeasured + g.unavailable +
                                g.figure_missing + g.counter_mismatch);
    ab_budgets_free(&fixed);

    /* `allocbench budgets` on this report, then `check` with what it wrote. */
    char *text = ab_budgets_from_reports(&doc, 1, 0, err, sizeof err);
    if (text) {
        struct ab_budgets made;
        int rc = ab_budgets_parse("made.tsv", text, strlen(text), &made, err, sizeof err);
        if (rc)
            fprintf(stderr, "budgets wrote a file check refuses: %s\n", err);
        AB_FUZZ_CHECK(rc == 0);
        g = gate(&made, doc);
        AB_FUZZ_CHECK(!g.violated && !g.unmeasured && !g.unchecked && !g.counter_mismatch &&
                      !g.figure_missing && !g.unmatched);
        ab_budgets_free(&made);
        free(text);
    } else {
        AB_FUZZ_CHECK(err[0]);
    }
    cJSON_Delete(doc);
    return 0;
}
