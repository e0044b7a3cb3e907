/*
 * report-stress.c — the stress reports: allocator-stress-report.tsv,
 * allocator-diagnostics-report.tsv, report.json (schema_version 1, the
 * context block of `run`) and the console table.  Formatting only; a
 * figure not measured is null, empty or `-`, and the record says why.
 */
#include "stress.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char ab_stress_tsv_header[] =
    "profile\tallocator\tcase\tverdict\toperations\tblocks_verified\tdiagnostics";

static const char *case_name(const struct ab_stress_record *r)
{
    size_t n;
    return ab_stress_cases(&n)[r->case_index]->name;
}

static const char *subject_name(const struct ab_stress_run *run, const struct ab_stress_record *r)
{
    return run->cfg->subjects[r->subject].name;
}

/* A TSV field: tabs and line breaks would break the record. */
static void tsv_field(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static char *finish(FILE *f, char **buf)
{
    /* The buffer is only final once the stream is closed. */
    if (fclose(f)) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

/* A TSV file: the header row, then what rows() writes. */
static char *tsv(const struct ab_stress_run *run, const char *header,
                 void (*rows)(FILE *f, const struct ab_stress_run *run))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%s\n", header);
    rows(f, run);
    return finish(f, &buf);
}

static void stress_rows(FILE *f, const struct ab_stress_run *run)
{
    for (size_t i = 0; i < run->nrecords; i++) {
        const struct ab_stress_record *r = &run->records[i];
        fprintf(f, "%s\t%s\t%s\t%s\t", run->cfg->profile->name, subject_name(run, r),
                case_name(r), ab_case_verdict_name(r->verdict));
        if (r->ran)
            fprintf(f, "%llu\t%llu", (unsigned long long)r->f.ops,
                    (unsigned long long)r->f.verified);
        else
            fputc('\t', f);
        if (r->verdict == AB_CASE_NA)
            fprintf(f, "\t\n");
        else
            fprintf(f, "\t%u\n", r->f.ndiags);
    }
}

static void diagnostic_rows(FILE *f, const struct ab_stress_run *run)
{
    for (size_t i = 0; i < run->nrecords; i++) {
        const struct ab_stress_record *r = &run->records[i];
        for (unsigned k = 0; k < r->f.ndiags; k++) {
            fprintf(f, "%s\t%s\t%s\t%s\t", ab_code_name(r->f.diags[k].code),
                    subject_name(run, r), run->cfg->profile->name, case_name(r));
            tsv_field(f, r->f.diags[k].detail);
            if (r->f.diag_count[k] > 1)
                fprintf(f, " (%llu occurrences)", (unsigned long long)r->f.diag_count[k]);
            fputc('\n', f);
        }
    }
}

char *ab_stress_report_tsv(const struct ab_stress_run *run)
{
    return tsv(run, ab_stress_tsv_header, stress_rows);
}

char *ab_stress_diagnostics_tsv(const struct ab_stress_run *run)
{
    return tsv(run, ab_diagnostics_tsv_header, diagnostic_rows);
}

cJSON *ab_checks_json(const struct ab_check *c, unsigned n)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned k = 0; k < n; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c[k].name);
        cJSON_AddStringToObject(o, "verdict", ab_verdict_name(c[k].verdict));
        cJSON_AddStringToObject(o, "detail", c[k].detail);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static void num_or_null(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *profile_json(const struct ab_profile *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    char threads[32];
    snprintf(threads, sizeof threads, p->threads_per_cpu ? "%u/cpu" : "%u", p->threads);
    cJSON_AddStringToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "threads_here", ab_profile_threads(p));
    num_or_null(o, "ops", p->ops ? (double)p->ops : NAN);
    num_or_null(o, "duration_s", p->duration_s > 0 ? p->duration_s : NAN);
    cJSON_AddNumberToObject(o, "large_ops", (double)p->large_ops);
    cJSON_AddNumberToObject(o, "live", (double)p->live);
    cJSON_AddStringToObject(o, "sizes", p->sizes_text);
    cJSON_AddStringToObject(o, "large", p->large_text);
    cJSON *cases = cJSON_AddArrayToObject(o, "cases");
    for (unsigned i = 0; i < p->cases.n; i++)
        cJSON_AddItemToArray(cases, cJSON_CreateString(p->cases.name[i]));
    cJSON_AddBoolToObject(o, "remote_frees", p->remote_frees);
    num_or_null(o, "remote_bound", p->remote_bound ? (double)p->remote_bound : NAN);
    cJSON_AddNumberToObject(o, "as_limit", (double)p->as_limit);
    cJSON_AddNumberToObject(o, "page_limit", (double)p->page_limit);
    cJSON_AddStringToObject(o, "hugepages", ab_hook_policy_name(p->hugepages));
    cJSON_AddStringToObject(o, "numa", ab_hook_policy_name(p->numa));
    cJSON_AddNumberToObject(o, "shutdown_slope", (double)p->shutdown_slope);
    cJSON_AddStringToObject(o, "summary", p->summary);
    return o;
}

static cJSON *diag_json(const struct ab_stress_run *run, const struct ab_stress_record *r,
                        unsigned k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", ab_code_name(r->f.diags[k].code));
    cJSON_AddStringToObject(o, "allocator", subject_name(run, r));
    cJSON_AddStringToObject(o, "profile", run->cfg->profile->name);
    cJSON_AddStringToObject(o, "case", case_name(r));
    cJSON_AddStringToObject(o, "detail", r->f.diags[k].detail);
    cJSON_AddNumberToObject(o, "count", (double)r->f.diag_count[k]);
    return o;
}

char *ab_stress_report_json(const struct ab_stress_run *run)
{
    const struct ab_stress_config *cfg = run->cfg;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "command", "stress");
    cJSON_AddItemToObject(doc, "context",
                          ab_report_context_json(&run->session.host, run->session.started_utc, "none", NULL, cfg->subjects,
                                                 cfg->nsubjects));
    cJSON *st = cJSON_AddObjectToObject(doc, "stress");
    cJSON_AddItemToObject(st, "profile", profile_json(cfg->profile));
    cJSON_AddStringToObject(st, "profiles_file", cfg->profiles_path);
    num_or_null(st, "ops", cfg->ops ? (double)cfg->ops : NAN);
    num_or_null(st, "duration_s", cfg->duration_s > 0 ? cfg->duration_s : NAN);
    ab_json_add_u64(st, "seed", cfg->seed);
    cJSON_AddBoolToObject(st, "verify", cfg->verify);
    cJSON_AddNumberToObject(st, "timeout_s", cfg->timeout_s);

    cJSON *cases = cJSON_AddArrayToObject(doc, "cases");
    cJSON *diags = cJSON_CreateArray();
    for (size_t i = 0; i < run->nrecords; i++) {
        const struct ab_stress_record *r = &run->records[i];
        const struct ab_findings *f = &r->f;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "profile", cfg->profile->name);
        cJSON_AddStringToObject(o, "allocator", subject_name(run, r));
        cJSON_AddStringToObject(o, "case", case_name(r));
        cJSON_AddStringToObject(o, "verdict", ab_case_verdict_name(r->verdict));
        if (r->reason[0])
            cJSON_AddStringToObject(o, "reason", r->reason);
        else
            cJSON_AddNullToObject(o, "reason");
        cJSON_AddNumberToObject(o, "threads", r->threads);
        num_or_null(o, "operations", r->ran ? (double)f->ops : NAN);
        num_or_null(o, "blocks_verified", r->ran ? (double)f->verified : NAN);
        num_or_null(o, "ns_per_op",
                    r->ran && f->ops ? (double)f->wall_ns / (double)f->ops : NAN);
        num_or_null(o, "wall_ns", r->ran ? (double)f->wall_ns : NAN);
        cJSON_AddItemToObject(o, "checks", ab_checks_json(f->checks, f->nchecks));
        cJSON *figs = cJSON_AddObjectToObject(o, "figures");
        for (unsigned k = 0; k < f->nfigures; k++) {
            cJSON *g = cJSON_AddObjectToObject(figs, f->figures[k].name);
            num_or_null(g, "value", f->figures[k].value);
            cJSON_AddStringToObject(g, "unit", f->figures[k].unit);
        }
        cJSON *codes = cJSON_AddArrayToObject(o, "diagnostics");
        for (unsigned k = 0; k < f->ndiags; k++) {
            cJSON_AddItemToArray(codes, cJSON_CreateString(ab_code_name(f->diags[k].code)));
            cJSON_AddItemToArray(diags, diag_json(run, r, k));
        }
        num_or_null(o, "elapsed_s", r->elapsed_s > 0 ? r->elapsed_s : NAN); /* no child: null */
        if (r->stderr_tail[0])
            cJSON_AddStringToObject(o, "stderr_tail", r->stderr_tail);
        else
            cJSON_AddNullToObject(o, "stderr_tail");
        cJSON_AddItemToArray(cases, o);
    }
    cJSON_AddItemToObject(doc, "diagnostics", diags);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    return text;
}

void ab_stress_report_console(const struct ab_stress_run *run, FILE *out)
{
    const struct ab_stress_config *cfg = run->cfg;
    const struct ab_profile *p = cfg->profile;
    char ops[48] = "no op cap", dur[48] = "no time cap";
    if (cfg->ops)
        snprintf(ops, sizeof ops, "%llu ops per thread", (unsigned long long)cfg->ops);
    if (cfg->duration_s > 0)
        snprintf(dur, sizeof dur, "%.1f s", cfg->duration_s);
    fprintf(out, "stress --profile %s: %u threads, %s, %s per timed case, verification %s\n",
            p->name, ab_profile_threads(p), ops, dur, cfg->verify ? "on" : "off");
    fprintf(out, "%-12s %-24s %-15s %12s %15s %11s %9s\n", "allocator", "case", "verdict",
            "operations", "blocks_verified", "diagnostics", "seconds");
    for (size_t i = 0; i < run->nrecords; i++) {
        const struct ab_stress_record *r = &run->records[i];
        char o[32] = "-", v[32] = "-", d[16] = "-", t[32] = "-";
        if (r->ran) {
            snprintf(o, sizeof o, "%llu", (unsigned long long)r->f.ops);
            snprintf(v, sizeof v, "%llu", (unsigned long long)r->f.verified);
        }
        if (r->verdict != AB_CASE_NA)
            snprintf(d, sizeof d, "%u", r->f.ndiags);
        if (r->elapsed_s > 0)
            snprintf(t, sizeof t, "%.2f", r->elapsed_s);
        fprintf(out, "%-12s %-24s %-15s %12s %15s %11s %9s\n", subject_name(run, r),
                case_name(r), ab_case_verdict_name(r->verdict), o, v, d, t);
    }
    bool first = true;
    for (size_t i = 0; i < run->nrecords; i++) {
        const struct ab_stress_record *r = &run->records[i];
        for (unsigned k = 0; k < r->f.ndiags; k++) {
            if (first)
                fputc('\n', out);
            first = false;
            fprintf(out, "%s %s %s %s %s", ab_code_name(r->f.diags[k].code),
                    subject_name(run, r), p->name, case_name(r), r->f.diags[k].detail);
            if (r->f.diag_count[k] > 1)
                fprintf(out, " (%llu occurrences)", (unsigned long long)r->f.diag_count[k]);
            fputc('\n', out);
        }
    }
    first = true;
    for (size_t i = 0; i < run->nrecords; i++) {
        const struct ab_stress_record *r = &run->records[i];
        if (r->verdict == AB_CASE_NA || r->verdict == AB_CASE_INCOMPLETE) {
            fprintf(out, "%snote: %s %s: %s: %s\n", first ? "\n" : "", subject_name(run, r),
                    case_name(r), ab_case_verdict_name(r->verdict), r->reason);
            first = false;
            continue;
        }
        for (unsigned k = 0; k < r->f.nchecks; k++) {
            const struct ab_check *c = &r->f.checks[k];
            if (c->verdict != AB_VERDICT_NA && c->verdict != AB_VERDICT_SKIPPED)
                continue;
            fprintf(out, "%snote: %s %s check %s %s: %s\n", first ? "\n" : "",
                    subject_name(run, r), case_name(r), c->name, ab_verdict_name(c->verdict),
                    c->detail);
            first = false;
        }
    }
}

int ab_stress_report_write_all(const struct ab_stress_run *run, char *err, size_t errlen)
{
    const char *dir = run->cfg->out_dir;
    int rc = ab_report_write_text(dir, "allocator-stress-report.tsv",
                                  ab_stress_report_tsv(run), err, errlen);
    if (!rc)
        rc = ab_report_write_text(dir, "allocator-diagnostics-report.tsv",
                                  ab_stress_diagnostics_tsv(run), err, errlen);
    if (!rc) {
        /* report.json last: its presence says the files are complete. */
        char *json = ab_stress_report_json(run);
        char *withnl = json ? realloc(json, strlen(json) + 2) : NULL;
        if (withnl)
            strcat(withnl, "\n");
        else
            free(json);
        rc = ab_report_write_text(dir, "report.json", withnl, err, errlen);
    }
    return rc;
}
