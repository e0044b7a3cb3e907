/* report-fastpath.c — the fast-path reports: report.json (schema
 * "allocbench-fastpath"), allocator-fast-path-report.tsv and the console
 * table.  Only formatting: every figure comes from fastpath.c.  A figure not
 * measured is null in JSON, empty in TSV and `-` on the console. */
#include "fastpath.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char ab_fast_path_tsv_header[] =
    "allocator\top\tsize\tpattern\tcalls\tcounter\tinstructions_p50\tbranches_p50\tconditional_p50\t"
    "instructions_min\tinstructions_p90\tinstructions_p99\tinstructions_max\t"
    "instructions_mean\tslow_path_share\tfast_path_reference";

static bool row_measured(const struct ab_fp_row *r)
{
    return r->status == AB_TRIAL_OK && r->instructions.valid;
}

static void num_or_null(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *dist_json(const struct ab_fp_dist *d, bool measured)
{
    cJSON *o = cJSON_CreateObject();
    bool pc = measured && d->valid;
    num_or_null(o, "min", pc ? (double)d->min : NAN);
    num_or_null(o, "p50", pc ? (double)d->p50 : NAN);
    num_or_null(o, "p90", pc ? (double)d->p90 : NAN);
    num_or_null(o, "p99", pc ? (double)d->p99 : NAN);
    num_or_null(o, "max", pc ? (double)d->max : NAN);
    num_or_null(o, "mean", pc ? d->mean : NAN);
    if (pc) {
        cJSON *h = cJSON_AddObjectToObject(o, "histogram");
        for (size_t i = 0; i < d->nbins; i++) {
            char key[24];
            snprintf(key, sizeof key, "%llu", (unsigned long long)d->value[i]);
            cJSON_AddNumberToObject(h, key, (double)d->count[i]);
        }
    } else {
        cJSON_AddNullToObject(o, "histogram");
    }
    return o;
}

char *ab_fastpath_report_json(const struct ab_fp_run *run)
{
    const struct ab_fp_config *cfg = run->cfg;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_FP_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "schema", AB_FP_SCHEMA);
    cJSON_AddStringToObject(doc, "command", "fastpath");
    cJSON *c = ab_report_context_json(&run->session.host, run->session.started_utc, cfg->counter->name,
                                      cfg->counter_version, cfg->subjects, cfg->nsubjects);
    cJSON_AddItemToObject(doc, "context", c);

    cJSON *conf = cJSON_AddObjectToObject(doc, "config");
    cJSON *sizes = cJSON_AddArrayToObject(conf, "sizes");
    for (size_t i = 0; i < cfg->nsizes; i++)
        cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)cfg->sizes[i]));
    cJSON *ops = cJSON_AddArrayToObject(conf, "ops");
    for (int op = 0; op < AB_FP_OP_COUNT; op++)
        if (cfg->op_on[op])
            cJSON_AddItemToArray(ops, cJSON_CreateString(ab_fp_op_name((enum ab_fp_op)op)));
    cJSON *pats = cJSON_AddArrayToObject(conf, "patterns");
    for (int p = 0; p < AB_FP_PATTERN_COUNT; p++)
        if (cfg->pattern_on[p])
            cJSON_AddItemToArray(pats,
                                 cJSON_CreateString(ab_fp_pattern_name((enum ab_fp_pattern)p)));
    cJSON_AddNumberToObject(conf, "calls", cfg->calls);
    cJSON_AddNumberToObject(conf, "warmup", cfg->warmup);
    cJSON_AddNumberToObject(conf, "keep_live", cfg->keep_live);
    cJSON_AddNumberToObject(conf, "repetitions", cfg->repetitions);
    cJSON_AddNumberToObject(conf, "alignment", AB_FP_ALIGNMENT);
    cJSON_AddNumberToObject(conf, "timeout_s", cfg->timeout_s);

    cJSON *rows = cJSON_AddArrayToObject(doc, "rows");
    for (size_t i = 0; i < run->nrows; i++) {
        const struct ab_fp_row *r = &run->rows[i];
        bool m = row_measured(r);
        cJSON *o = cJSON_CreateObject();
        const struct ab_subject *subj = &cfg->subjects[r->subject];
        cJSON_AddStringToObject(o, "allocator", subj->name);
        if (subj->version[0])
            cJSON_AddStringToObject(o, "allocator_version", subj->version);
        else
            cJSON_AddNullToObject(o, "allocator_version");
        cJSON_AddStringToObject(o, "op", ab_fp_op_name(r->op));
        cJSON_AddNumberToObject(o, "size", (double)r->size);
        cJSON_AddStringToObject(o, "pattern", ab_fp_pattern_name(r->pattern));
        cJSON_AddStringToObject(o, "counter", cfg->counter->name);
        cJSON_AddStringToObject(o, "status", ab_trial_status_name(r->status));
        if (r->reason[0])
            cJSON_AddStringToObject(o, "reason", r->reason);
        else if (r->status == AB_TRIAL_OK && !r->agree)
            cJSON_AddStringToObject(o, "reason", "the repetitions disagree");
        else
            cJSON_AddNullToObject(o, "reason");
        num_or_null(o, "calls", m ? (double)r->calls : NAN);
        num_or_null(o, "flagged_calls", m ? (double)r->flagged : NAN);
        cJSON_AddNumberToObject(o, "repetitions", r->repetitions);
        cJSON_AddNumberToObject(o, "repetitions_measured", r->measured);
        if (m)
            cJSON_AddBoolToObject(o, "repetitions_agree", r->agree);
        else
            cJSON_AddNullToObject(o, "repetitions_agree");
        cJSON *rp = cJSON_AddObjectToObject(o, "repetition_p50");
        static const char *const fig[4] = {"instructions", "branches", "conditional",
                                           "fast_path_reference"};
        for (int k = 0; k < 4; k++) {
            cJSON *a = cJSON_AddArrayToObject(rp, fig[k]);
            for (unsigned j = 0; m && j < r->measured && j < r->repetitions; j++)
                cJSON_AddItemToArray(a, isfinite(AB_FP_REP(r, k, j))
                                            ? cJSON_CreateNumber(AB_FP_REP(r, k, j))
                                            : cJSON_CreateNull());
        }
        cJSON_AddItemToObject(o, "instructions", dist_json(&r->instructions, m));
        cJSON_AddItemToObject(o, "branches", dist_json(&r->branches, m));
        cJSON_AddItemToObject(o, "conditional", dist_json(&r->conditional, m));
        num_or_null(o, "conditional_taken_per_call", m ? r->taken : NAN);
        num_or_null(o, "conditional_not_taken_per_call", m ? r->not_taken : NAN);
        num_or_null(o, "indirect_per_call", m ? r->indirect : NAN);
        num_or_null(o, "locked_per_call", m ? r->locked : NAN);
        num_or_null(o, "rep_instructions_per_call", m ? r->rep_instructions : NAN);
        num_or_null(o, "rep_iterations_per_call", m ? r->rep_iterations : NAN);
        num_or_null(o, "slow_path_share", m ? r->slow_path_share : NAN);
        num_or_null(o, "fast_path_reference", m ? r->fast_path_ref : NAN);
        cJSON_AddItemToArray(rows, o);
    }
    cJSON_AddNumberToObject(doc, "failures", run->failures);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    return text;
}

static uint64_t pick(const struct ab_fp_dist *d, int which)
{
    return which == 0 ? d->p50 : which == 1 ? d->min : which == 2 ? d->p90
           : which == 3 ? d->p99 : d->max;
}

/* A count, or nothing where the figure was not counted. */
static void tsv_fig(FILE *f, const struct ab_fp_dist *d, bool m, int which)
{
    fputc('\t', f);
    if (m && d->valid)
        fprintf(f, "%llu", (unsigned long long)pick(d, which));
}

char *ab_fastpath_report_tsv(const struct ab_fp_run *run)
{
    const struct ab_fp_config *cfg = run->cfg;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%s\n", ab_fast_path_tsv_header);
    for (size_t i = 0; i < run->nrows; i++) {
        const struct ab_fp_row *r = &run->rows[i];
        bool m = row_measured(r);
        fprintf(f, "%s\t%s\t%llu\t%s\t", cfg->subjects[r->subject].name, ab_fp_op_name(r->op),
                (unsigned long long)r->size, ab_fp_pattern_name(r->pattern));
        if (m)
            fprintf(f, "%llu", (unsigned long long)r->calls);
        fprintf(f, "\t%s", cfg->counter->name);
        tsv_fig(f, &r->instructions, m, 0);
        tsv_fig(f, &r->branches, m, 0);
        tsv_fig(f, &r->conditional, m, 0);
        for (int k = 1; k <= 4; k++)
            tsv_fig(f, &r->instructions, m, k);
        fputc('\t', f);
        if (m)
            fprintf(f, "%.2f", r->instructions.mean);
        fputc('\t', f);
        if (m && isfinite(r->slow_path_share))
            fprintf(f, "%.6g", r->slow_path_share);
        fputc('\t', f);
        if (m && isfinite(r->fast_path_ref))
            fprintf(f, "%.0f", r->fast_path_ref);
        fputc('\n', f);
    }
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void con_fig(char *buf, size_t len, const struct ab_fp_dist *d, bool m, int which)
{
    if (!m || !d->valid)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%llu", (unsigned long long)pick(d, which));
}

void ab_fastpath_report_console(const struct ab_fp_run *run, FILE *out)
{
    const struct ab_fp_config *cfg = run->cfg;
    fprintf(out,
            "fastpath: instructions and branches per call, counted with %s (%s); %u calls x %u "
            "repetition%s per row; p50, min, p99, max over the calls; slow = share of calls "
            "above 2 x the fast path (the pairs p50)\n",
            cfg->counter->name, cfg->counter_version, cfg->calls, cfg->repetitions,
            cfg->repetitions == 1 ? "" : "s");
    fprintf(out, "%-12s %-7s %6s %-7s %6s %8s %6s %6s %6s %6s %8s %7s  %s\n", "allocator", "op",
            "size", "pattern", "instr", "branches", "cond", "min", "p99", "max", "mean", "slow",
            "status");
    for (size_t i = 0; i < run->nrows; i++) {
        const struct ab_fp_row *r = &run->rows[i];
        bool m = row_measured(r);
        char in[24], br[24], co[24], mn[24], p99[24], mx[24], mean[24], slow[24], st[600];
        con_fig(in, sizeof in, &r->instructions, m, 0);
        con_fig(br, sizeof br, &r->branches, m, 0);
        con_fig(co, sizeof co, &r->conditional, m, 0);
        con_fig(mn, sizeof mn, &r->instructions, m, 1);
        con_fig(p99, sizeof p99, &r->instructions, m, 3);
        con_fig(mx, sizeof mx, &r->instructions, m, 4);
        if (m && r->instructions.valid)
            snprintf(mean, sizeof mean, "%.2f", r->instructions.mean);
        else
            snprintf(mean, sizeof mean, "-");
        if (m && isfinite(r->slow_path_share))
            snprintf(slow, sizeof slow, "%.2f%%", 100.0 * r->slow_path_share);
        else
            snprintf(slow, sizeof slow, "-");
        if (r->status == AB_TRIAL_OK && !r->agree)
            snprintf(st, sizeof st, "repetitions disagree");
        else if (r->status == AB_TRIAL_OK)
            snprintf(st, sizeof st, "ok");
        else
            snprintf(st, sizeof st, "%s: %s", ab_trial_status_name(r->status), r->reason);
        fprintf(out, "%-12s %-7s %6llu %-7s %6s %8s %6s %6s %6s %6s %8s %7s  %s\n",
                cfg->subjects[r->subject].name, ab_fp_op_name(r->op),
                (unsigned long long)r->size, ab_fp_pattern_name(r->pattern), in, br, co, mn, p99,
                mx, mean, slow, st);
    }
}

int ab_fastpath_report_write_all(const struct ab_fp_run *run, char *err, size_t errlen)
{
    const char *dir = run->cfg->out_dir;
    int rc = ab_report_write_text(dir, "allocator-fast-path-report.tsv",
                                  ab_fastpath_report_tsv(run), err, errlen);
    if (rc)
        return rc;
    /* report.json last: its presence says the run's files are complete. */
    char *json = ab_fastpath_report_json(run);
    char *nl = json ? realloc(json, strlen(json) + 2) : NULL;
    if (nl)
        strcat(nl, "\n");
    else
        free(json);
    return ab_report_write_text(dir, "report.json", nl, err, errlen);
}
