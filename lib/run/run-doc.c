/* run-doc.c — the report document of a run (report.json, schema_version 1),
 * which every format renders; every key is documented in the README.  A
 * figure not measured is null, never 0. */
#include "run.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static cJSON *summary_json(const struct ab_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    ab_json_add_num(o, "median", s->n ? s->median : NAN);
    ab_json_add_num(o, "min", s->n ? s->min : NAN);
    ab_json_add_num(o, "max", s->n ? s->max : NAN);
    ab_json_add_num(o, "mean", s->n ? s->mean : NAN);
    ab_json_add_num(o, "mad", s->n ? s->mad : NAN);
    ab_json_add_num(o, "ci95_low", s->ci_valid ? s->ci_low : NAN);
    ab_json_add_num(o, "ci95_high", s->ci_valid ? s->ci_high : NAN);
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    return o;
}

static cJSON *sample_json(const struct ab_sample *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phase", s->phase);
    ab_json_add_int(o, "live_bytes", s->live_bytes);
    ab_json_add_int(o, "rss_bytes", s->rss_bytes);
    ab_json_add_int(o, "mapped_bytes", s->mapped_bytes);
    ab_json_add_int(o, "resident_bytes", s->resident_bytes);
    return o;
}

static cJSON *rusage_medians_json(const struct ab_rusage_medians *m);

/* A trial's rusage: its counts are exact integers, written as such. */
static cJSON *rusage_json(const struct ab_rusage *r)
{
    if (!r->valid)
        return cJSON_CreateNull();
    struct ab_rusage_medians m = {r->user_s,
                                  r->sys_s,
                                  (double)r->minor_faults,
                                  (double)r->major_faults,
                                  (double)r->voluntary_switches,
                                  (double)r->involuntary_switches};
    return rusage_medians_json(&m);
}

static cJSON *rusage_medians_json(const struct ab_rusage_medians *m)
{
    cJSON *o = cJSON_CreateObject();
    ab_json_add_num(o, "user_s", m->user_s);
    ab_json_add_num(o, "sys_s", m->sys_s);
    ab_json_add_num(o, "minor_faults", m->minor_faults);
    ab_json_add_num(o, "major_faults", m->major_faults);
    ab_json_add_num(o, "voluntary_switches", m->voluntary_switches);
    ab_json_add_num(o, "involuntary_switches", m->involuntary_switches);
    return o;
}

static cJSON *comparison_json(const struct ab_run *run, const struct ab_comparison *c)
{
    const struct ab_run_config *cfg = run->cfg;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "workload", cfg->wl->name);
    cJSON_AddStringToObject(o, "variant", cfg->wl->variants[c->agg->variant]);
    cJSON_AddNumberToObject(o, "threads", c->agg->threads);
    cJSON_AddStringToObject(o, "base", cfg->subjects[c->base->subject].name);
    cJSON_AddStringToObject(o, "allocator", cfg->subjects[c->agg->subject].name);
    cJSON_AddNumberToObject(o, "pairs", (double)c->pairs);
    ab_json_add_num(o, "ratio", c->cmp.ratio);
    ab_json_add_num(o, "ratio_of_medians", c->cmp.ratio_of_medians);
    bool ci = c->cmp.ci.valid;
    ab_json_add_num(o, "ci95_low", ci ? c->cmp.ci.low : NAN);
    ab_json_add_num(o, "ci95_high", ci ? c->cmp.ci.high : NAN);
    ab_json_add_num(o, "ci_coverage", ci ? c->cmp.ci.coverage : NAN);
    ab_json_add_num(o, "p_value", c->pairs >= 2 ? c->cmp.test.p : NAN);
    ab_json_add_str(o, "verdict", ab_cmp_verdict_name(c->verdict));
    ab_json_add_str(o, "why_no_verdict",
                    c->verdict != AB_CMP_NONE ? NULL
                    : c->pairs < 6 ? "fewer than 6 pairs of measured trials: no 95 % interval"
                                   : "no interval");
    cJSON_AddBoolToObject(o, "noisy", c->agg->noisy || c->base->noisy);
    return o;
}

/* Peak RSS less the trial child's own (context.trial_child_rss_kib): what
 * the allocator and the workload added; -1 (null) where either is unknown. */
static int64_t over_baseline(int64_t peak_kib, int64_t baseline_kib)
{
    return peak_kib >= 0 && baseline_kib >= 0 ? peak_kib - baseline_kib : -1;
}

static cJSON *context_json(const struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    return ab_report_context_json(&run->session.host, run->session.started_utc,
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

/* The matrix: the run block (workload, variants, thread counts, trials,
 * rounds, seed, limits, parameters), the allocators by name and the
 * counter; the shard's configurations, in the order they ran. */
static void add_matrix(const struct ab_run *run, cJSON *doc, const cJSON *rc)
{
    const struct ab_run_config *cfg = run->cfg;
    cJSON *m = ab_report_matrix("run", "run", cJSON_Duplicate(rc, true), cfg->subjects,
                                cfg->nsubjects, cfg->counter ? cfg->counter->name : "none");
    cJSON *confs = NULL;
    if (cfg->shard.count) {
        confs = cJSON_CreateArray();
        for (unsigned v = 0; cfg->wl->variants[v]; v++)
            for (size_t ti = 0; cfg->variant_on[v] && ti < cfg->nthreads; ti++) {
                if (!run->in_shard[v * cfg->nthreads + ti])
                    continue;
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "variant", cfg->wl->variants[v]);
                cJSON_AddNumberToObject(o, "threads", cfg->threads[ti]);
                cJSON_AddItemToArray(confs, o);
            }
    }
    ab_report_add_matrix(doc, m, &cfg->shard, run->shard_cost, run->matrix_cost, confs);
}

cJSON *ab_run_doc(const struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "command", "run");
    cJSON_AddItemToObject(doc, "context", context_json(run));

    cJSON *rc = cJSON_AddObjectToObject(doc, "run");
    cJSON_AddStringToObject(rc, "workload", cfg->wl->name);
    cJSON_AddStringToObject(rc, "unit", cfg->wl->unit);
    ab_json_add_str(rc, "figure_of_merit", cfg->wl->merit);
    cJSON *vars = cJSON_AddArrayToObject(rc, "variants");
    for (unsigned v = 0; cfg->wl->variants[v]; v++)
        if (cfg->variant_on[v])
            cJSON_AddItemToArray(vars, cJSON_CreateString(cfg->wl->variants[v]));
    cJSON *thr = cJSON_AddArrayToObject(rc, "threads");
    for (size_t i = 0; i < cfg->nthreads; i++)
        cJSON_AddItemToArray(thr, cJSON_CreateNumber(cfg->threads[i]));
    cJSON_AddNumberToObject(rc, "repetitions", cfg->repetitions);
    cJSON_AddNumberToObject(rc, "warmup", cfg->warmup);
    if (cfg->min_time_s > 0 && !cfg->counter)
        cJSON_AddNullToObject(rc, "rounds"); /* calibrated: see aggregates[].rounds */
    else
        cJSON_AddNumberToObject(rc, "rounds", cfg->rounds);
    ab_json_add_num(rc, "min_time_s", cfg->min_time_s > 0 && !cfg->counter ? cfg->min_time_s
                                                                           : NAN);
    ab_json_add_u64(rc, "seed", cfg->seed);
    cJSON_AddNumberToObject(rc, "timeout_s", cfg->timeout_s);
    cJSON_AddBoolToObject(rc, "pin", cfg->pin);
    cJSON_AddItemToObject(rc, "params", params_json(cfg));
    add_matrix(run, doc, rc);

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
        ab_json_add_str(o, "reason", r->reason);
        bool ok = r->status == AB_TRIAL_OK;
        if (ok)
            cJSON_AddNumberToObject(o, "ops", (double)r->ops);
        else
            cJSON_AddNullToObject(o, "ops");
        if (r->rounds)
            cJSON_AddNumberToObject(o, "rounds", r->rounds);
        else
            cJSON_AddNullToObject(o, "rounds");
        ab_json_add_num(o, "ns", ok ? r->ns : NAN);
        ab_json_add_num(o, "ns_per_op", ok ? r->ns_per_op : NAN);
        ab_json_add_num(o, "ops_per_s", ok ? r->ops_per_s : NAN);
        cJSON_AddBoolToObject(o, "noisy", ok && r->noisy);
        cJSON_AddItemToObject(o, "rusage", rusage_json(&r->rusage));
        ab_json_add_int(o, "rss_start_kib", r->rss_start_kib);
        ab_json_add_int(o, "rss_before_kib", r->rss_before_kib);
        ab_json_add_int(o, "rss_after_kib", r->rss_after_kib);
        ab_json_add_int(o, "peak_rss_kib", r->peak_rss_kib);
        ab_json_add_int(o, "peak_rss_over_baseline_kib",
                        over_baseline(r->peak_rss_kib, run->session.host.trial_child_rss_kib));
        cJSON_AddItemToObject(o, "allocator_before", ab_alloc_stats_json(&r->stats_before));
        cJSON_AddItemToObject(o, "allocator_after", ab_alloc_stats_json(&r->stats_after));
        cJSON *m = cJSON_AddObjectToObject(o, "metrics");
        for (unsigned k = 0; k < r->nmetrics; k++) {
            cJSON *mv = cJSON_AddObjectToObject(m, r->metrics[k].name);
            ab_json_add_num(mv, "value", r->metrics[k].value);
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
        ab_json_add_str(o, "stderr_tail", r->stderr_tail);
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
        ab_json_add_str(o, "reason", why);
        cJSON_AddNumberToObject(o, "trials", (double)a->trials);
        cJSON_AddNumberToObject(o, "measured", (double)a->measured);
        if (a->measured)
            cJSON_AddNumberToObject(o, "ops_per_trial", (double)a->ops_per_trial);
        else
            cJSON_AddNullToObject(o, "ops_per_trial");
        cJSON_AddNumberToObject(o, "rounds", a->rounds);
        cJSON_AddNumberToObject(o, "calibration_children", a->calibration_children);
        cJSON_AddItemToObject(o, "ns_per_op", summary_json(&a->ns_per_op));
        cJSON_AddItemToObject(o, "ops_per_s", summary_json(&a->ops_per_s));
        ab_json_add_num(o, "cv", a->cv);
        cJSON_AddBoolToObject(o, "noisy", a->noisy);
        ab_json_add_str(o, "noisy_why", a->noisy_why);
        cJSON_AddItemToObject(o, "rusage", rusage_medians_json(&a->rusage));
        ab_json_add_int(o, "peak_rss_kib", a->peak_rss_kib);
        ab_json_add_int(o, "peak_rss_over_baseline_kib",
                        over_baseline(a->peak_rss_kib, run->session.host.trial_child_rss_kib));
        cJSON *am = cJSON_AddObjectToObject(o, "metrics");
        for (unsigned k = 0; k < a->nmetrics; k++) {
            cJSON *mv = summary_json(&a->metrics[k].s);
            cJSON_AddStringToObject(mv, "unit", a->metrics[k].unit);
            cJSON_AddItemToObject(am, a->metrics[k].name, mv);
        }
        ab_json_add_num(o, "instructions_per_op", a->instructions_per_op);
        ab_json_add_num(o, "conditional_branches_per_op", a->conditional_per_op);
        const struct ab_aggregate *base = ab_aggregate_base(run, a);
        ab_json_add_num(o, "relative",
                    base && a->ns_per_op.n && base->ns_per_op.n
                        ? a->ns_per_op.median / base->ns_per_op.median
                        : NAN);
        ab_json_add_str(o, "relative_base", base ? cfg->subjects[base->subject].name : NULL);
        cJSON_AddItemToArray(aggs, o);
    }
    cJSON *cmps = cJSON_AddArrayToObject(doc, "comparisons");
    for (size_t i = 0; i < run->ncomparisons; i++)
        cJSON_AddItemToArray(cmps, comparison_json(run, &run->comparisons[i]));
    cJSON_AddItemToObject(doc, "diagnostics", diags);
    return doc;
}
