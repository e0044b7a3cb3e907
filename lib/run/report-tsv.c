/* report-tsv.c — the TSV evidence files: a header row, one record per line,
 * tab-separated, no comments; a figure not measured is an empty field. */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char ab_benchmarks_tsv_header[] =
    "workload\tallocator\tvariant\tthreads\tops_per_trial\tns_per_op_median\tns_per_op_min\t"
    "ns_per_op_max\tns_per_op_ci95_low\tns_per_op_ci95_high\tpeak_rss_kib\tns_per_op_mad\t"
    "ops_per_s_median\ttrials\tmeasured\tstatus";

/* The seed's columns first, in its order; variant (and, per sample, threads
 * and repetition) after them so that rows of one workload stay distinct. */
const char ab_remote_free_tsv_header[] =
    "workload\tallocator\tthreads\tremote_frees\tns_per_remote_free\tpending_at_end\t"
    "variant\ttrials";
const char ab_page_backend_tsv_header[] =
    "workload\tallocator\tphase\tlive_bytes\trss_bytes\tmapped_bytes\tresident_bytes\t"
    "variant\tthreads\trepetition";

/* A growing string; every append checks for room. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static char *sb_finish(struct sbuf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    return b->p ? b->p : strdup("");
}

/* A figure or an empty field. */
static void sb_num(struct sbuf *b, double v)
{
    if (isfinite(v))
        sb_printf(b, "\t%.3f", v);
    else
        sb_printf(b, "\t");
}

/* Tabs and newlines would break a record: replace them. */
static void sb_field(struct sbuf *b, const char *s)
{
    for (; *s; s++)
        sb_printf(b, "%c", (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
}

char *ab_report_benchmarks_tsv(const struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    struct sbuf b = {0};
    sb_printf(&b, "%s\n", ab_benchmarks_tsv_header);
    for (size_t i = 0; i < run->naggs; i++) {
        const struct ab_aggregate *a = &run->aggs[i];
        bool m = a->measured > 0;
        sb_printf(&b, "%s\t%s\t%s\t%u\t", cfg->wl->name, cfg->subjects[a->subject].name,
                  cfg->wl->variants[a->variant], a->threads);
        if (m)
            sb_printf(&b, "%llu", (unsigned long long)a->ops_per_trial);
        sb_num(&b, m ? a->ns_per_op.median : NAN);
        sb_num(&b, m ? a->ns_per_op.min : NAN);
        sb_num(&b, m ? a->ns_per_op.max : NAN);
        sb_num(&b, a->ns_per_op.ci_valid ? a->ns_per_op.ci_low : NAN);
        sb_num(&b, a->ns_per_op.ci_valid ? a->ns_per_op.ci_high : NAN);
        if (a->peak_rss_kib >= 0)
            sb_printf(&b, "\t%lld", (long long)a->peak_rss_kib);
        else
            sb_printf(&b, "\t");
        sb_num(&b, m ? a->ns_per_op.mad : NAN);
        sb_num(&b, m ? a->ops_per_s.median : NAN);
        sb_printf(&b, "\t%zu\t%zu\t%s\n", a->trials, a->measured,
                  ab_trial_status_name(a->status));
    }
    return sb_finish(&b);
}

/* A tab and a metric's median (an integer prints as one), or just a tab. */
static void sb_metric(struct sbuf *b, const struct ab_aggregate *a, const char *name)
{
    const struct ab_metric_summary *m = ab_aggregate_metric(a, name);
    if (!m || !m->s.n)
        sb_printf(b, "\t");
    else if (m->s.median == (double)(int64_t)m->s.median)
        sb_printf(b, "\t%lld", (long long)m->s.median);
    else
        sb_printf(b, "\t%.3f", m->s.median);
}

char *ab_report_remote_free_tsv(const struct ab_run *run, size_t *rows)
{
    const struct ab_run_config *cfg = run->cfg;
    struct sbuf b = {0};
    *rows = 0;
    sb_printf(&b, "%s\n", ab_remote_free_tsv_header);
    for (size_t i = 0; i < run->naggs; i++) {
        const struct ab_aggregate *a = &run->aggs[i];
        if (!ab_aggregate_metric(a, "remote_frees"))
            continue;
        sb_printf(&b, "%s\t%s\t%u", cfg->wl->name, cfg->subjects[a->subject].name, a->threads);
        sb_metric(&b, a, "remote_frees");
        sb_metric(&b, a, "ns_per_remote_free");
        sb_metric(&b, a, "pending_at_end");
        sb_printf(&b, "\t%s\t%zu\n", cfg->wl->variants[a->variant], a->measured);
        (*rows)++;
    }
    return sb_finish(&b);
}

static void sb_bytes(struct sbuf *b, int64_t v)
{
    if (v >= 0)
        sb_printf(b, "\t%lld", (long long)v);
    else
        sb_printf(b, "\t");
}

char *ab_report_page_backend_tsv(const struct ab_run *run, size_t *rows)
{
    const struct ab_run_config *cfg = run->cfg;
    struct sbuf b = {0};
    *rows = 0;
    sb_printf(&b, "%s\n", ab_page_backend_tsv_header);
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        for (size_t k = 0; k < r->nsamples; k++) {
            const struct ab_sample *s = &r->samples[k];
            sb_printf(&b, "%s\t%s\t", cfg->wl->name, cfg->subjects[r->subject].name);
            sb_field(&b, s->phase);
            sb_bytes(&b, s->live_bytes);
            sb_bytes(&b, s->rss_bytes);
            sb_bytes(&b, s->mapped_bytes);
            sb_bytes(&b, s->resident_bytes);
            sb_printf(&b, "\t%s\t%u\t%u\n", cfg->wl->variants[r->variant], r->threads,
                      r->repetition);
            (*rows)++;
        }
    }
    return sb_finish(&b);
}

char *ab_report_diagnostics_tsv(const struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    struct sbuf b = {0};
    sb_printf(&b, "%s\n", ab_diagnostics_tsv_header);
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        for (unsigned k = 0; k < r->ndiags; k++) {
            sb_printf(&b, "%s\t%s\t\t%s:%s:t%u:r%u\t", ab_code_name(r->diags[k].code),
                      cfg->subjects[r->subject].name, cfg->wl->name,
                      cfg->wl->variants[r->variant], r->threads, r->repetition);
            sb_field(&b, r->diags[k].detail);
            sb_printf(&b, "\n");
        }
    }
    return sb_finish(&b);
}

int ab_report_write_all(const struct ab_run *run, char *err, size_t errlen)
{
    const char *dir = run->cfg->out_dir;
    int rc = ab_report_write_text(dir, "allocator-fast-path-benchmarks.tsv",
                                  ab_report_benchmarks_tsv(run), err, errlen);
    if (!rc)
        rc = ab_report_write_text(dir, "allocator-diagnostics-report.tsv",
                                  ab_report_diagnostics_tsv(run), err, errlen);
    /* The evidence files that only some workloads produce: written when the
     * run has rows for them, never as an empty table. */
    size_t rows;
    char *text;
    if (!rc) {
        text = ab_report_remote_free_tsv(run, &rows);
        if (rows || !text)
            rc = ab_report_write_text(dir, "allocator-remote-free-report.tsv", text, err, errlen);
        else
            free(text);
    }
    if (!rc) {
        text = ab_report_page_backend_tsv(run, &rows);
        if (rows || !text)
            rc = ab_report_write_text(dir, "allocator-page-backend-report.tsv", text, err, errlen);
        else
            free(text);
    }
    if (!rc) {
        /* report.json last: its presence says the run's files are complete. */
        char *json = ab_report_json(run);
        if (json) {
            size_t n = strlen(json);
            char *withnl = realloc(json, n + 2);
            if (withnl) {
                withnl[n] = '\n';
                withnl[n + 1] = '\0';
                json = withnl;
            }
        }
        rc = ab_report_write_text(dir, "report.json", json, err, errlen);
    }
    return rc;
}
