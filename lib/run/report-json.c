/* report-json.c — report.json (schema_version 1); every key is documented
 * in the README.  A figure not measured is null, never 0. */
#include "ab.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void num_or_null(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void int_or_null(cJSON *o, const char *k, int64_t v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(o, k, (double)v);
    else
        cJSON_AddNullToObject(o, k);
}

static void str_or_null(cJSON *o, const char *k, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *summary_json(const struct ab_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    num_or_null(o, "median", s->n ? s->median : NAN);
    num_or_null(o, "min", s->n ? s->min : NAN);
    num_or_null(o, "max", s->n ? s->max : NAN);
    num_or_null(o, "mean", s->n ? s->mean : NAN);
    num_or_null(o, "mad", s->n ? s->mad : NAN);
    num_or_null(o, "ci95_low", s->ci_valid ? s->ci_low : NAN);
    num_or_null(o, "ci95_high", s->ci_valid ? s->ci_high : NAN);
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    return o;
}

static cJSON *stats_json(const struct ab_alloc_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    int_or_null(o, "allocated", s->allocated);
    int_or_null(o, "active", s->active);
    int_or_null(o, "resident", s->resident);
    int_or_null(o, "mapped", s->mapped);
    return o;
}

static cJSON *sample_json(const struct ab_sample *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phase", s->phase);
    int_or_null(o, "live_bytes", s->live_bytes);
    int_or_null(o, "rss_bytes", s->rss_bytes);
    int_or_null(o, "mapped_bytes", s->mapped_bytes);
    int_or_null(o, "resident_bytes", s->resident_bytes);
    return o;
}

cJSON *ab_report_context_json(const struct ab_host *h, const char *started_utc,
                              const char *counter, const char *counter_version,
                              const struct ab_subject *subjects, size_t nsubjects)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *ab = cJSON_AddObjectToObject(c, "allocbench");
    cJSON_AddStringToObject(ab, "version", ab_version);
    str_or_null(ab, "git_revision", ab_git_revision);
    cJSON_AddStringToObject(ab, "build_type", ab_build_type);
    cJSON_AddStringToObject(c, "started_utc", started_utc);
    str_or_null(c, "hostname", h->hostname);
    str_or_null(c, "cpu_model", h->cpu_model);
    str_or_null(c, "kernel", h->kernel);
    str_or_null(c, "glibc", h->glibc);
    str_or_null(c, "thp", h->thp);
    cJSON *t = cJSON_AddObjectToObject(c, "topology");
    int_or_null(t, "packages", h->packages ? (int64_t)h->packages : -1);
    int_or_null(t, "cores", h->cores ? (int64_t)h->cores : -1);
    int_or_null(t, "pus", h->pus ? (int64_t)h->pus : -1);
    int_or_null(t, "numa_nodes", h->numa_nodes ? (int64_t)h->numa_nodes : -1);
    cJSON *caches = cJSON_AddArrayToObject(t, "caches");
    for (unsigned i = 0; i < h->ncaches; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "level", h->caches[i].level);
        cJSON_AddStringToObject(o, "type", h->caches[i].type);
        cJSON_AddNumberToObject(o, "size_bytes", (double)h->caches[i].size);
        cJSON_AddItemToArray(caches, o);
    }
    cJSON_AddStringToObject(c, "counter", counter);
    str_or_null(c, "counter_version", counter_version);
    if (!subjects)
        return c;
    cJSON *subs = cJSON_AddArrayToObject(c, "subjects");
    for (size_t i = 0; i < nsubjects; i++) {
        const struct ab_subject *s = &subjects[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddStringToObject(o, "kind", ab_subject_kind_name(s->kind));
        cJSON_AddStringToObject(o, "family", ab_family_name(s->family));
        cJSON_AddStringToObject(o, "path", s->path);
        str_or_null(o, "version", s->version);
        str_or_null(o, "malloc_from", s->malloc_from);
        str_or_null(o, "error", s->describe_error);
        cJSON_AddItemToArray(subs, o);
    }
    return c;
}

static cJSON *context_json(const struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    return ab_report_context_json(&run->host, run->started_utc,
                                  cfg->counter ? cfg->counter->name : "none",
                                  cfg->counter ? cfg->counter_version : NULL, cfg->subjects,
                                  cfg->nsubjects);
}

static cJSON *params_json(const struct ab_run_config *cfg)
{
    cJSON *p = cJSON_CreateObject();
    for (size_t i = 0; i < cfg->wl->nparams; i++) {
        if (cfg->wl->params[i].type == AB_PARAM_CHOICE) {
            char buf[64];
            ab_params_text(cfg->wl, &cfg->params, i, buf, sizeof buf);
            cJSON_AddStringToObject(p, cfg->wl->params[i].name, buf);
        } else {
            cJSON_AddNumberToObject(p, cfg->wl->params[i].name, (double)cfg->params.v[i]);
        }
    }
    return p;
}

static cJSON *diag_json(const struct ab_run *run, const struct ab_trial_record *r,
                        const struct ab_diag *d)
{
    const struct ab_run_config *cfg = run->cfg;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", ab_code_name(d->code));
    cJSON_AddStringToObject(o, "allocator", cfg->subjects[r->subject].name);
    cJSON_AddStringToObject(o, "workload", cfg->wl->name);
    cJSON_AddStringToObject(o, "variant", cfg->wl->variants[r->variant]);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddNumberToObject(o, "repetition", r->repetition);
    cJSON_AddStringToObject(o, "detail", d->detail);
    return o;
}

char *ab_report_json(const struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "command", "run");
    cJSON_AddItemToObject(doc, "context", context_json(run));

    cJSON *rc = cJSON_AddObjectToObject(doc, "run");
    cJSON_AddStringToObject(rc, "workload", cfg->wl->name);
    cJSON_AddStringToObject(rc, "unit", cfg->wl->unit);
    str_or_null(rc, "figure_of_merit", cfg->wl->merit);
    cJSON *vars = cJSON_AddArrayToObject(rc, "variants");
    for (unsigned v = 0; cfg->wl->variants[v]; v++)
        if (cfg->variant_on[v])
            cJSON_AddItemToArray(vars, cJSON_CreateString(cfg->wl->variants[v]));
    cJSON *thr = cJSON_AddArrayToObject(rc, "threads");
    for (size_t i = 0; i < cfg->nthreads; i++)
        cJSON_AddItemToArray(thr, cJSON_CreateNumber(cfg->threads[i]));
    cJSON_AddNumberToObject(rc, "repetitions", cfg->repetitions);
    cJSON_AddNumberToObject(rc, "warmup", cfg->warmup);
    cJSON_AddNumberToObject(rc, "rounds", cfg->rounds);
    cJSON_AddNumberToObject(rc, "seed", (double)cfg->seed);
    cJSON_AddNumberToObject(rc, "timeout_s", cfg->timeout_s);
    cJSON_AddBoolToObject(rc, "pin", cfg->pin);
    cJSON_AddItemToObject(rc, "params", params_json(cfg));

    cJSON *trials = cJSON_AddArrayToObject(doc, "trials");
    cJSON *diags = cJSON_CreateArray();
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "workload", cfg->wl->name);
        cJSON_AddStringToObject(o, "variant", cfg->wl->variants[r->variant]);
        cJSON_AddStringToObject(o, "allocator", cfg->subjects[r->subject].name);
        cJSON_AddNumberToObject(o, "threads", r->threads);
        cJSON_AddNumberToObject(o, "repetition", r->repetition);
        cJSON_AddItemToObject(o, "params", params_json(cfg));
        cJSON_AddStringToObject(o, "status", ab_trial_status_name(r->status));
        str_or_null(o, "reason", r->reason);
        bool ok = r->status == AB_TRIAL_OK;
        if (ok)
            cJSON_AddNumberToObject(o, "ops", (double)r->ops);
        else
            cJSON_AddNullToObject(o, "ops");
        num_or_null(o, "ns", ok ? r->ns : NAN);
        num_or_null(o, "ns_per_op", ok ? r->ns_per_op : NAN);
        num_or_null(o, "ops_per_s", ok ? r->ops_per_s : NAN);
        int_or_null(o, "rss_start_kib", r->rss_start_kib);
        int_or_null(o, "rss_before_kib", r->rss_before_kib);
        int_or_null(o, "rss_after_kib", r->rss_after_kib);
        int_or_null(o, "peak_rss_kib", r->peak_rss_kib);
        cJSON_AddItemToObject(o, "allocator_before", stats_json(&r->stats_before));
        cJSON_AddItemToObject(o, "allocator_after", stats_json(&r->stats_after));
        cJSON *m = cJSON_AddObjectToObject(o, "metrics");
        for (unsigned k = 0; k < r->nmetrics; k++) {
            cJSON *mv = cJSON_AddObjectToObject(m, r->metrics[k].name);
            num_or_null(mv, "value", r->metrics[k].value);
            cJSON_AddStringToObject(mv, "unit", r->metrics[k].unit);
        }
        cJSON *td = cJSON_AddArrayToObject(o, "diagnostics");
        for (unsigned k = 0; k < r->ndiags; k++) {
            cJSON_AddItemToArray(td, cJSON_CreateString(ab_code_name(r->diags[k].code)));
            cJSON_AddItemToArray(diags, diag_json(run, r, &r->diags[k]));
        }
        cJSON *samples = cJSON_AddArrayToObject(o, "samples");
        for (size_t k = 0; k < r->nsamples; k++)
            cJSON_AddItemToArray(samples, sample_json(&r->samples[k]));
        if (r->pin_method[0]) {
            cJSON *pl = cJSON_AddObjectToObject(o, "placement");
            cJSON_AddStringToObject(pl, "method", r->pin_method);
            cJSON *pus = cJSON_AddArrayToObject(pl, "pus");
            for (size_t k = 0; k < r->nplaced; k++)
                cJSON_AddItemToArray(pus, r->placement[k] >= 0
                                              ? cJSON_CreateNumber(r->placement[k])
                                              : cJSON_CreateNull());
        } else {
            cJSON_AddNullToObject(o, "placement");
        }
        cJSON_AddNumberToObject(o, "elapsed_s", r->elapsed_s);
        str_or_null(o, "stderr_tail", r->stderr_tail);
        cJSON_AddItemToArray(trials, o);
    }

    cJSON *aggs = cJSON_AddArrayToObject(doc, "aggregates");
    for (size_t i = 0; i < run->naggs; i++) {
        const struct ab_aggregate *a = &run->aggs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "workload", cfg->wl->name);
        cJSON_AddStringToObject(o, "variant", cfg->wl->variants[a->variant]);
        cJSON_AddStringToObject(o, "allocator", cfg->subjects[a->subject].name);
        cJSON_AddNumberToObject(o, "threads", a->threads);
        cJSON_AddStringToObject(o, "status", ab_trial_status_name(a->status));
        /* Why a figure is null: the first unmeasured trial's reason. */
        const char *why = NULL;
        for (size_t t = 0; t < run->ntrials && a->status != AB_TRIAL_OK && !why; t++) {
            const struct ab_trial_record *r = &run->trials[t];
            if (r->variant == a->variant && r->subject == a->subject &&
                r->threads == a->threads && r->reason[0])
                why = r->reason;
        }
        str_or_null(o, "reason", why);
        cJSON_AddNumberToObject(o, "trials", (double)a->trials);
        cJSON_AddNumberToObject(o, "measured", (double)a->measured);
        if (a->measured)
            cJSON_AddNumberToObject(o, "ops_per_trial", (double)a->ops_per_trial);
        else
            cJSON_AddNullToObject(o, "ops_per_trial");
        cJSON_AddItemToObject(o, "ns_per_op", summary_json(&a->ns_per_op));
        cJSON_AddItemToObject(o, "ops_per_s", summary_json(&a->ops_per_s));
        int_or_null(o, "peak_rss_kib", a->peak_rss_kib);
        cJSON *am = cJSON_AddObjectToObject(o, "metrics");
        for (unsigned k = 0; k < a->nmetrics; k++) {
            cJSON *mv = summary_json(&a->metrics[k].s);
            cJSON_AddStringToObject(mv, "unit", a->metrics[k].unit);
            cJSON_AddItemToObject(am, a->metrics[k].name, mv);
        }
        num_or_null(o, "instructions_per_op", a->instructions_per_op);
        num_or_null(o, "conditional_branches_per_op", a->conditional_per_op);
        const struct ab_aggregate *base = ab_aggregate_base(run, a);
        num_or_null(o, "relative",
                    base && a->ns_per_op.n && base->ns_per_op.n
                        ? a->ns_per_op.median / base->ns_per_op.median
                        : NAN);
        str_or_null(o, "relative_base", base ? cfg->subjects[base->subject].name : NULL);
        cJSON_AddItemToArray(aggs, o);
    }
    cJSON_AddItemToObject(doc, "diagnostics", diags);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    return text;
}
