/*
 * run.c — `allocbench run`: describe the subjects, run every trial in a fresh
 * child, interleaved (repetition by repetition, then variant, thread count
 * and subject), and aggregate.  Statistics come from stats.c; formatting is
 * the reporters' business.
 */
#include "run.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ab_trial_status_name(enum ab_trial_status s)
{
    switch (s) {
    case AB_TRIAL_OK: return "ok";
    case AB_TRIAL_UNAVAILABLE: return "unavailable";
    case AB_TRIAL_CRASHED: return "crashed";
    case AB_TRIAL_TIMEOUT: return "timeout";
    case AB_TRIAL_FAILED: return "failed";
    }
    return "?";
}

static char *trial_request(const struct ab_run_config *cfg, const struct ab_subject *s,
                           unsigned variant, unsigned threads, unsigned rep, unsigned rounds)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "mode", "trial");
    cJSON *subj = cJSON_AddObjectToObject(req, "subject");
    cJSON_AddStringToObject(subj, "kind", ab_subject_kind_name(s->kind));
    cJSON_AddStringToObject(subj, "path", s->path);
    cJSON_AddStringToObject(req, "workload", cfg->wl->name);
    cJSON_AddNumberToObject(req, "variant", variant);
    cJSON_AddNumberToObject(req, "threads", threads);
    cJSON_AddNumberToObject(req, "warmup", cfg->warmup);
    cJSON_AddNumberToObject(req, "rounds", rounds);
    cJSON_AddNumberToObject(req, "repetition", rep);
    /* Exactly, as text: a double holds only 53 bits. */
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);
    cJSON_AddStringToObject(req, "seed", seed);
    if (cfg->pin) {
        /* Plans for the threads asked and twice as many (a hand-off
         * workload runs producers and consumers). */
        cJSON *pin = cJSON_AddObjectToObject(req, "pin");
        cJSON *plans = cJSON_AddArrayToObject(pin, "plans");
        bool bindable = false;
        for (unsigned k = 1; k <= 2; k++) {
            unsigned n = threads * k > AB_MAX_THREADS ? AB_MAX_THREADS : threads * k;
            int pus[AB_MAX_THREADS];
            ab_host_pin_plan(n, pus, &bindable);
            cJSON *plan = cJSON_CreateArray();
            for (unsigned i = 0; i < n; i++)
                cJSON_AddItemToArray(plan, cJSON_CreateNumber(pus[i]));
            cJSON_AddItemToArray(plans, plan);
        }
        cJSON_AddBoolToObject(pin, "bindable", bindable);
    }
    if (cfg->counter)
        cJSON_AddStringToObject(req, "collect", cfg->counter->name);
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    for (size_t i = 0; i < cfg->wl->nparams; i++)
        cJSON_AddNumberToObject(params, cfg->wl->params[i].name, (double)cfg->params.v[i]);
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return text;
}

static int64_t int_or_null(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static void read_stats(const cJSON *o, struct ab_alloc_stats *s)
{
    s->allocated = int_or_null(o, "allocated");
    s->active = int_or_null(o, "active");
    s->resident = int_or_null(o, "resident");
    s->mapped = int_or_null(o, "mapped");
}

static void add_diag(struct ab_trial_record *r, enum ab_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_diag(struct ab_trial_record *r, enum ab_code code, const char *fmt, ...)
{
    if (r->ndiags == sizeof r->diags / sizeof r->diags[0])
        return;
    struct ab_diag *d = &r->diags[r->ndiags++];
    d->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof d->detail, fmt, ap);
    va_end(ap);
}

static void read_samples(struct ab_trial_record *r, const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    if (n <= 0 || !(r->samples = calloc((size_t)n, sizeof *r->samples)))
        return;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        struct ab_sample *s = &r->samples[r->nsamples++];
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(o, "phase");
        ab_strlcpy(s->phase, cJSON_IsString(ph) ? ph->valuestring : "", sizeof s->phase);
        s->live_bytes = int_or_null(o, "live_bytes");
        s->rss_bytes = int_or_null(o, "rss_bytes");
        s->mapped_bytes = int_or_null(o, "mapped_bytes");
        s->resident_bytes = int_or_null(o, "resident_bytes");
    }
}

static void read_placement(struct ab_trial_record *r, const cJSON *pl)
{
    if (!cJSON_IsObject(pl))
        return;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(pl, "method");
    ab_strlcpy(r->pin_method, cJSON_IsString(method) ? method->valuestring : "none",
               sizeof r->pin_method);
    const cJSON *pus = cJSON_GetObjectItemCaseSensitive(pl, "pus");
    int n = cJSON_GetArraySize(pus);
    if (n <= 0 || !(r->placement = calloc((size_t)n, sizeof *r->placement)))
        return;
    const cJSON *v;
    cJSON_ArrayForEach(v, pus)
    {
        r->placement[r->nplaced++] = cJSON_IsNumber(v) ? (int)v->valuedouble : -1;
    }
}

/* Turn the child's outcome into a record. */
static void record_from_child(struct ab_trial_record *r, const struct ab_child_result *c,
                              double timeout_s)
{
    r->elapsed_s = c->elapsed_s;
    r->peak_rss_kib = c->maxrss_kib;
    r->rusage = c->rusage;
    ab_strlcpy(r->stderr_tail, c->stderr_tail, sizeof r->stderr_tail);
    if (c->leftover) {
        add_diag(r, AB_ALLOCBENCH_SUBJECT_LEFTOVER,
                 "a process the trial started held its pipes after it exited");
        snprintf(r->reason, sizeof r->reason,
                 "a process the allocator started outlived the trial (left its process group)");
    }
    if (c->channel_error[0]) {
        r->status = AB_TRIAL_FAILED;
        snprintf(r->reason, sizeof r->reason, "the reply was refused: %s", c->channel_error);
        add_diag(r, AB_ALLOCBENCH_SUBJECT_CHANNEL, "%s", c->channel_error);
        return;
    }
    switch (c->status) {
    case AB_CHILD_CRASHED:
        r->status = AB_TRIAL_CRASHED;
        snprintf(r->reason, sizeof r->reason, "killed by signal %d (%s)", c->signal,
                 sigabbrev_np(c->signal) ? sigabbrev_np(c->signal) : "?");
        add_diag(r, AB_ALLOCBENCH_TRIAL_CRASHED, "signal=SIG%s",
                 sigabbrev_np(c->signal) ? sigabbrev_np(c->signal) : "?");
        return;
    case AB_CHILD_TIMEOUT:
        r->status = AB_TRIAL_TIMEOUT;
        snprintf(r->reason, sizeof r->reason, "no result within %.1f s", timeout_s);
        add_diag(r, AB_ALLOCBENCH_TRIAL_TIMEOUT, "timeout=%.1fs", timeout_s);
        return;
    case AB_CHILD_FAILED:
        r->status = AB_TRIAL_FAILED;
        snprintf(r->reason, sizeof r->reason, "exited with status %d without a result",
                 c->exit_code);
        add_diag(r, AB_ALLOCBENCH_TRIAL_FAILED, "exit=%d", c->exit_code);
        return;
    case AB_CHILD_OK:
        break;
    }
    const cJSON *d = c->doc;
    if (!ab_child_ok(d)) {
        const char *err = ab_json_str(d, "error");
        r->status = AB_TRIAL_FAILED;
        ab_strlcpy(r->reason, *err ? err : "failed", sizeof r->reason);
        add_diag(r, ab_child_code(d), "%s", r->reason);
        return;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "unavailable"))) {
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(d, "reason");
        r->status = AB_TRIAL_UNAVAILABLE;
        ab_strlcpy(r->reason, cJSON_IsString(why) ? why->valuestring : "", sizeof r->reason);
        return;
    }
    static const char *const counts[] = {"ops", "wall_ns", "thread_ns"};
    char why[128];
    if (ab_reply_counts(d, counts, 3, why, sizeof why)) {
        r->status = AB_TRIAL_FAILED;
        ab_strlcpy(r->reason, why, sizeof r->reason);
        add_diag(r, AB_ALLOCBENCH_SUBJECT_CHANNEL, "%s", why);
        return;
    }
    r->status = AB_TRIAL_OK;
    int64_t ops = int_or_null(d, "ops");
    int64_t wall = int_or_null(d, "wall_ns");
    int64_t tns = int_or_null(d, "thread_ns");
    r->ops = ops > 0 ? (uint64_t)ops : 0;
    r->ns = wall >= 0 ? (double)wall : NAN;
    if (ops > 0 && tns > 0 && wall > 0) {
        /* ns_per_op is the time one operation takes a thread; ops_per_s is
         * the throughput of all threads together. */
        r->ns_per_op = (double)tns / (double)ops;
        r->ops_per_s = (double)ops * 1e9 / (double)wall;
        r->noisy = (double)wall < AB_NOISY_PHASE_S * 1e9;
    }
    r->rss_start_kib = int_or_null(d, "rss_start_kib");
    r->rss_before_kib = int_or_null(d, "rss_before_kib");
    r->rss_after_kib = int_or_null(d, "rss_after_kib");
    read_stats(cJSON_GetObjectItemCaseSensitive(d, "allocator_before"), &r->stats_before);
    read_stats(cJSON_GetObjectItemCaseSensitive(d, "allocator_after"), &r->stats_after);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(d, "metrics"))
    {
        if (r->nmetrics == AB_MAX_METRICS)
            break;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        const cJSON *unit = cJSON_GetObjectItemCaseSensitive(m, "unit");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(m, "value");
        unsigned i = r->nmetrics++;
        ab_strlcpy(r->metric_names[i], cJSON_IsString(name) ? name->valuestring : "",
                   sizeof r->metric_names[i]);
        ab_strlcpy(r->metric_units[i], cJSON_IsString(unit) ? unit->valuestring : "",
                   sizeof r->metric_units[i]);
        r->metrics[i].name = r->metric_names[i];
        r->metrics[i].unit = r->metric_units[i];
        r->metrics[i].value = cJSON_IsNumber(val) ? val->valuedouble : NAN;
    }
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(d, "diagnostics"))
    {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(m, "code");
        const cJSON *det = cJSON_GetObjectItemCaseSensitive(m, "detail");
        add_diag(r, ab_code_from_name(cJSON_IsString(code) ? code->valuestring : ""), "%s",
                 cJSON_IsString(det) ? det->valuestring : "");
    }
    read_samples(r, cJSON_GetObjectItemCaseSensitive(d, "samples"));
    read_placement(r, cJSON_GetObjectItemCaseSensitive(d, "placement"));
    if (r->ndiags)
        r->status = AB_TRIAL_FAILED;
}

const struct ab_metric_summary *ab_aggregate_metric(const struct ab_aggregate *a,
                                                    const char *name)
{
    for (unsigned i = 0; i < a->nmetrics; i++)
        if (!strcmp(a->metrics[i].name, name))
            return &a->metrics[i];
    return NULL;
}

/* Every metric that the measured trials of a reported, summarised over its
 * finite values (a trial that could not measure one has NaN there: left out). */
static void aggregate_metrics(const struct ab_run *run, struct ab_aggregate *a, double *buf)
{
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        if (r->variant != a->variant || r->subject != a->subject || r->threads != a->threads ||
            r->status != AB_TRIAL_OK)
            continue;
        for (unsigned k = 0; k < r->nmetrics && a->nmetrics < AB_MAX_METRICS; k++) {
            if (ab_aggregate_metric(a, r->metrics[k].name))
                continue;
            struct ab_metric_summary *ms = &a->metrics[a->nmetrics++];
            ab_strlcpy(ms->name, r->metrics[k].name, sizeof ms->name);
            ab_strlcpy(ms->unit, r->metrics[k].unit, sizeof ms->unit);
            size_t n = 0;
            for (size_t j = i; j < run->ntrials; j++) {
                const struct ab_trial_record *q = &run->trials[j];
                if (q->variant != a->variant || q->subject != a->subject ||
                    q->threads != a->threads || q->status != AB_TRIAL_OK)
                    continue;
                for (unsigned m = 0; m < q->nmetrics; m++) {
                    if (strcmp(q->metrics[m].name, ms->name))
                        continue;
                    if (isfinite(q->metrics[m].value))
                        buf[n++] = q->metrics[m].value;
                    break;
                }
            }
            ab_summarize(buf, n, &ms->s);
        }
    }
}

/* Counts per operation from the counter's totals; the times measured under
 * it (valgrind) mean nothing and are dropped. */
static void record_counts(struct ab_trial_record *r, const double totals[3])
{
    r->ns = r->ns_per_op = r->ops_per_s = NAN;
    if (r->status != AB_TRIAL_OK)
        return;
    static const char *const names[3] = {"instructions_per_op", "conditional_branches_per_op",
                                         "indirect_branches_per_op"};
    static const char *const units[3] = {"instructions", "branches", "branches"};
    for (int k = 0; k < 3 && r->nmetrics < AB_MAX_METRICS; k++) {
        unsigned i = r->nmetrics++;
        ab_strlcpy(r->metric_names[i], names[k], sizeof r->metric_names[i]);
        ab_strlcpy(r->metric_units[i], units[k], sizeof r->metric_units[i]);
        r->metrics[i].name = r->metric_names[i];
        r->metrics[i].unit = r->metric_units[i];
        r->metrics[i].value = r->ops ? totals[k] / (double)r->ops : NAN;
    }
}

static double metric_of(const struct ab_trial_record *r, const char *name)
{
    for (unsigned k = 0; k < r->nmetrics; k++)
        if (!strcmp(r->metric_names[k], name))
            return r->metrics[k].value;
    return NAN;
}

/* Is the configuration noisy, and why; and the medians of its trials'
 * rusage. */
static void aggregate_noise(const struct ab_run *run, struct ab_aggregate *a)
{
    double *x[6];
    size_t n = 0, short_phases = 0;
    double shortest = INFINITY;
    for (int k = 0; k < 6; k++)
        x[k] = malloc((run->ntrials ? run->ntrials : 1) * sizeof *x[k]);
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        if (r->variant != a->variant || r->subject != a->subject || r->threads != a->threads ||
            r->status != AB_TRIAL_OK)
            continue;
        if (r->noisy) {
            short_phases++;
            if (r->ns < shortest)
                shortest = r->ns;
        }
        if (!r->rusage.valid || !x[5])
            continue;
        x[0][n] = r->rusage.user_s;
        x[1][n] = r->rusage.sys_s;
        x[2][n] = (double)r->rusage.minor_faults;
        x[3][n] = (double)r->rusage.major_faults;
        x[4][n] = (double)r->rusage.voluntary_switches;
        x[5][n] = (double)r->rusage.involuntary_switches;
        n++;
    }
    double med[6];
    for (int k = 0; k < 6; k++) {
        struct ab_summary s;
        ab_summarize(x[k] ? x[k] : (double[1]){0}, x[k] ? n : 0, &s);
        med[k] = s.median;
        free(x[k]);
    }
    a->rusage = (struct ab_rusage_medians){med[0], med[1], med[2], med[3], med[4], med[5]};
    if (short_phases)
        snprintf(a->noisy_why, sizeof a->noisy_why,
                 "%zu trial(s) measured for under %.0f ms (shortest %.2f ms)", short_phases,
                 AB_NOISY_PHASE_S * 1e3, shortest / 1e6);
    else if (isfinite(a->cv) && a->cv > AB_NOISY_CV)
        snprintf(a->noisy_why, sizeof a->noisy_why,
                 "the trials' coefficient of variation is %.1f %% (over %.0f %%)", a->cv * 100,
                 AB_NOISY_CV * 100);
    a->noisy = a->noisy_why[0] != '\0';
}

static void aggregate(struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    size_t max = run->ntrials;
    run->aggs = calloc(max ? max : 1, sizeof *run->aggs);
    double *ns = malloc((max ? max : 1) * sizeof *ns);
    double *ops = malloc((max ? max : 1) * sizeof *ops);
    double *ins = malloc((max ? max : 1) * sizeof *ins);
    double *cond = malloc((max ? max : 1) * sizeof *cond);
    if (!run->aggs || !ns || !ops || !ins || !cond) {
        free(ns);
        free(ops);
        free(ins);
        free(cond);
        return;
    }
    for (unsigned v = 0; cfg->wl->variants[v]; v++) {
        if (!cfg->variant_on[v])
            continue;
        for (size_t ti = 0; ti < cfg->nthreads; ti++) {
            /* Another shard's: no trial, no aggregate (and no room). */
            if (!run->in_shard[v * cfg->nthreads + ti])
                continue;
            for (unsigned s = 0; s < cfg->nsubjects; s++) {
                struct ab_aggregate *a = &run->aggs[run->naggs];
                memset(a, 0, sizeof *a);
                a->variant = v;
                a->subject = s;
                a->threads = cfg->threads[ti];
                a->peak_rss_kib = -1;
                a->status = AB_TRIAL_UNAVAILABLE;
                bool any_failed = false;
                size_t n = 0, counted = 0, nc = 0;
                for (size_t i = 0; i < run->ntrials; i++) {
                    const struct ab_trial_record *r = &run->trials[i];
                    if (r->variant != v || r->subject != s || r->threads != a->threads)
                        continue;
                    a->trials++;
                    if (r->status == AB_TRIAL_CRASHED || r->status == AB_TRIAL_TIMEOUT ||
                        r->status == AB_TRIAL_FAILED)
                        any_failed = true;
                    if (r->status == AB_TRIAL_OK && cfg->counter) {
                        /* Counted, not timed. */
                        double x = metric_of(r, "instructions_per_op");
                        double y = metric_of(r, "conditional_branches_per_op");
                        if (isfinite(x))
                            ins[counted++] = x;
                        if (isfinite(y))
                            cond[nc++] = y;
                        a->ops_per_trial = r->ops;
                    }
                    if (r->status != AB_TRIAL_OK || !isfinite(r->ns_per_op))
                        continue;
                    ns[n] = r->ns_per_op;
                    ops[n] = r->ops_per_s;
                    n++;
                    a->ops_per_trial = r->ops;
                    if (r->peak_rss_kib > a->peak_rss_kib)
                        a->peak_rss_kib = r->peak_rss_kib;
                }
                if (!a->trials)
                    continue;
                a->measured = cfg->counter ? counted : n;
                size_t ci = ((size_t)v * cfg->nthreads + ti) * cfg->nsubjects + s;
                a->rounds = run->cal_rounds && run->cal_rounds[ci] ? run->cal_rounds[ci]
                                                                   : cfg->rounds;
                a->calibration_children = run->cal_children ? run->cal_children[ci] : 0;
                ab_summarize(ns, n, &a->ns_per_op);
                ab_summarize(ops, n, &a->ops_per_s);
                a->cv = NAN;
                if (n >= 2)
                    ab_cmp_cv(ns, n, &a->cv);
                aggregate_noise(run, a);
                aggregate_metrics(run, a, ns);
                struct ab_summary si, sc;
                ab_summarize(ins, counted, &si);
                ab_summarize(cond, nc, &sc);
                a->instructions_per_op = counted ? si.median : NAN;
                a->conditional_per_op = nc ? sc.median : NAN;
                a->status = a->measured ? AB_TRIAL_OK
                            : any_failed ? AB_TRIAL_FAILED
                                         : AB_TRIAL_UNAVAILABLE;
                run->naggs++;
            }
        }
    }
    free(ns);
    free(ops);
    free(ins);
    free(cond);
}

/* One trial child of the configuration, its outcome in r. */
static int run_trial(const struct ab_run_config *cfg, const struct ab_subject *subj, unsigned v,
                     unsigned rep, unsigned rounds, struct ab_trial_record *r)
{
    char *req = trial_request(cfg, subj, v, r->threads, rep, rounds);
    if (!req)
        return -ENOMEM;
    struct ab_child_result c;
    const char *pre = subj->kind == AB_SUBJECT_PRELOAD ? subj->path : NULL;
    double totals[3];
    int rc = cfg->counter ? cfg->counter->workload(req, pre, cfg->timeout_s, &c, totals)
                          : ab_runner_exec(req, pre, cfg->timeout_s, &c);
    free(req);
    if (rc)
        return rc;
    r->rounds = rounds;
    record_from_child(r, &c, cfg->timeout_s);
    ab_child_result_free(&c);
    if (cfg->counter)
        record_counts(r, totals);
    return 0;
}

static void record_init(struct ab_trial_record *r)
{
    r->ns = r->ns_per_op = r->ops_per_s = NAN;
    r->rss_start_kib = r->rss_before_kib = r->rss_after_kib = -1;
    r->peak_rss_kib = -1;
    r->stats_before = r->stats_after = (struct ab_alloc_stats){-1, -1, -1, -1};
}

/* Rounds for a configuration whose measured phase lasts min_time_s: from
 * the starting rounds, each calibration child's phase scales the next (to
 * 1.2 x the target over the last measured rate, at most 10 x a step, as
 * google-benchmark grows its iterations), until one lasts long enough.  A
 * child that measures nothing (unavailable, crashed) ends it: the trials
 * then run with the rounds reached and say what happened themselves.  The
 * rounds never grow past what the last child's whole time says would fill
 * half of --timeout: a workload that sleeps between its phases (rptest's
 * pauses, not measured) would otherwise be planned into its timeout. */
#define AB_CAL_MAX_CHILDREN 12
#define AB_CAL_MAX_ROUNDS 100000000u
static int calibrate(const struct ab_run_config *cfg, const struct ab_subject *subj,
                     unsigned v, unsigned threads, unsigned *rounds, unsigned *children)
{
    unsigned r = cfg->rounds ? cfg->rounds : 1;
    *children = 0;
    while (*children < AB_CAL_MAX_CHILDREN) {
        struct ab_trial_record t = {.variant = v, .threads = threads};
        record_init(&t);
        int rc = run_trial(cfg, subj, v, 0, r, &t);
        free(t.samples);
        free(t.placement);
        if (rc)
            return rc;
        ++*children;
        if (t.status != AB_TRIAL_OK || !(t.ns > 0))
            break;
        double phase = t.ns / 1e9;
        double cap = cfg->timeout_s > 0 && t.elapsed_s > 0
                         ? floor((double)r * cfg->timeout_s * 0.5 / t.elapsed_s)
                         : (double)AB_CAL_MAX_ROUNDS;
        if (phase >= cfg->min_time_s) {
            /* Long enough once: a margin for the trials' own spread. */
            double want = (double)r * cfg->min_time_s * 1.2 / phase;
            if (want > cap)
                want = cap;
            if (want > r)
                r = want >= AB_CAL_MAX_ROUNDS ? AB_CAL_MAX_ROUNDS : (unsigned)ceil(want);
            break;
        }
        if (r >= AB_CAL_MAX_ROUNDS || cap < r + 1.0)
            break;
        double next = (double)r * cfg->min_time_s * 1.2 / phase;
        if (next > 10.0 * r)
            next = 10.0 * r;
        if (next < r + 1.0)
            next = r + 1.0;
        if (next > cap)
            next = cap;
        r = next >= AB_CAL_MAX_ROUNDS ? AB_CAL_MAX_ROUNDS : (unsigned)ceil(next);
    }
    *rounds = r;
    return 0;
}

static const struct ab_trial_record *trial_of(const struct ab_run *run,
                                             const struct ab_aggregate *a, unsigned rep)
{
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        if (r->variant == a->variant && r->subject == a->subject && r->threads == a->threads &&
            r->repetition == rep)
            return r;
    }
    return NULL;
}

/* Every allocator against the base, repetition by repetition: trials of one
 * repetition ran back to back, so each pair shares the machine's state. */
static void compare_all(struct ab_run *run)
{
    const struct ab_run_config *cfg = run->cfg;
    if (cfg->counter || !run->naggs)
        return;
    run->comparisons = calloc(run->naggs, sizeof *run->comparisons);
    double *a = malloc(cfg->repetitions * sizeof *a), *b = malloc(cfg->repetitions * sizeof *b);
    for (size_t i = 0; run->comparisons && a && b && i < run->naggs; i++) {
        const struct ab_aggregate *agg = &run->aggs[i];
        const struct ab_aggregate *base = ab_aggregate_base(run, agg);
        if (!base || base == agg || !agg->measured)
            continue;
        size_t n = 0;
        for (unsigned rep = 0; rep < cfg->repetitions; rep++) {
            const struct ab_trial_record *x = trial_of(run, agg, rep), *y = trial_of(run, base, rep);
            if (x && y && x->status == AB_TRIAL_OK && y->status == AB_TRIAL_OK &&
                x->ns_per_op > 0 && y->ns_per_op > 0 && isfinite(x->ns_per_op) &&
                isfinite(y->ns_per_op)) {
                a[n] = x->ns_per_op;
                b[n] = y->ns_per_op;
                n++;
            }
        }
        struct ab_comparison *c = &run->comparisons[run->ncomparisons++];
        c->agg = agg;
        c->base = base;
        c->pairs = n;
        c->verdict = AB_CMP_NONE;
        if (n < 2 || ab_cmp_paired(a, b, n, &c->cmp)) {
            c->cmp.ratio = c->cmp.ratio_of_medians = NAN;
            c->cmp.test.p = NAN;
            c->cmp.ci = (struct ab_cmp_ci){NAN, NAN, NAN, false, false};
        } else {
            ab_cmp_verdict(&c->cmp.ci, &c->verdict);
        }
    }
    free(a);
    free(b);
}

double ab_run_config_cost(const struct ab_run_config *cfg, unsigned threads)
{
    return (double)cfg->nsubjects * cfg->repetitions * threads;
}

/* Which configurations (variant x thread count, in the order they run)
 * this shard runs: run->in_shard, its cost and the matrix's, and how many
 * (*n).  0 or -ENOMEM. */
static int slice(const struct ab_run_config *cfg, struct ab_run *run, size_t *n)
{
    size_t max = (size_t)32 * cfg->nthreads;
    size_t *idx = malloc((max ? max : 1) * sizeof *idx);
    double *cost = malloc((max ? max : 1) * sizeof *cost);
    unsigned *shard_of = calloc(max ? max : 1, sizeof *shard_of);
    run->in_shard = calloc(max ? max : 1, sizeof *run->in_shard);
    int rc = !idx || !cost || !shard_of || !run->in_shard ? -ENOMEM : 0;
    size_t nconf = 0;
    for (unsigned v = 0; !rc && cfg->wl->variants[v]; v++)
        for (size_t ti = 0; cfg->variant_on[v] && ti < cfg->nthreads; ti++) {
            idx[nconf] = v * cfg->nthreads + ti;
            cost[nconf++] = ab_run_config_cost(cfg, cfg->threads[ti]);
        }
    if (!rc && cfg->shard.count)
        rc = ab_shard_assign(cost, nconf, cfg->shard.count, shard_of);
    *n = 0;
    for (size_t i = 0; !rc && i < nconf; i++) {
        run->matrix_cost += cost[i];
        if (shard_of[i] != cfg->shard.index)
            continue;
        run->in_shard[idx[i]] = true;
        run->shard_cost += cost[i];
        ++*n;
    }
    free(idx);
    free(cost);
    free(shard_of);
    return rc;
}

int ab_run_execute(const struct ab_run_config *cfg, struct ab_run *run)
{
    memset(run, 0, sizeof *run);
    run->cfg = cfg;
    size_t nconf = 0;
    int sliced = slice(cfg, run, &nconf);
    if (sliced)
        return sliced;
    size_t total = (size_t)cfg->repetitions * nconf * cfg->nsubjects;
    int described = ab_session_begin(&run->session, cfg->subjects, cfg->nsubjects,
                                     cfg->timeout_s, cfg->obs, total);
    if (described)
        return described;
    run->session.host.pinned = cfg->pin;
    if (cfg->shard.count && !nconf)
        ab_session_warn(&run->session,
                        "shard %u/%u has no configuration: the matrix has fewer than %u",
                        cfg->shard.index, cfg->shard.count, cfg->shard.count);
    /* Others' work weighs on every time: say so before it is measured. */
    const struct ab_host *h = &run->session.host;
    unsigned cpus = h->pus ? h->pus : 1;
    if (!cfg->counter && h->load_start[0] > cpus / 2.0)
        ab_session_warn(&run->session,
                        "the load average is %.2f on %u CPUs (over half of them busy before "
                        "the run): expect noise",
                        h->load_start[0], cpus);
    run->trials = calloc(total ? total : 1, sizeof *run->trials);
    /* Rounds per configuration (variant, thread count, subject). */
    size_t ncal = (size_t)32 * cfg->nthreads * cfg->nsubjects;
    unsigned *cal_rounds = calloc(ncal, sizeof *cal_rounds);
    unsigned *cal_children = calloc(ncal, sizeof *cal_children);
    run->cal_rounds = cal_rounds;
    run->cal_children = cal_children;
    if (!run->trials || !cal_rounds || !cal_children)
        return -ENOMEM;
    for (unsigned rep = 0; rep < cfg->repetitions; rep++) {
        for (unsigned v = 0; cfg->wl->variants[v]; v++) {
            if (!cfg->variant_on[v])
                continue;
            for (size_t ti = 0; ti < cfg->nthreads; ti++) {
                if (!run->in_shard[v * cfg->nthreads + ti])
                    continue;
                for (unsigned k = 0; k < cfg->nsubjects; k++) {
                    /* Counterbalanced: the allocators run in one order in
                     * even repetitions and the reverse in odd ones, so no
                     * allocator always runs first after another's trial
                     * (caches, clocks, the page allocator's state). */
                    unsigned s = rep % 2 ? cfg->nsubjects - 1 - k : k;
                    const struct ab_subject *subj = &cfg->subjects[s];
                    struct ab_trial_record *r = &run->trials[run->ntrials++];
                    r->variant = v;
                    r->subject = s;
                    r->threads = cfg->threads[ti];
                    r->repetition = rep;
                    record_init(r);
                    size_t ci = ((size_t)v * cfg->nthreads + ti) * cfg->nsubjects + s;
                    const struct ab_trial_record *first = NULL;
                    for (size_t j = 0; j + 1 < run->ntrials && !first; j++)
                        if (run->trials[j].variant == v && run->trials[j].subject == s &&
                            run->trials[j].threads == r->threads)
                            first = &run->trials[j];
                    if (first && first->status == AB_TRIAL_UNAVAILABLE) {
                        /* Availability does not change between repetitions:
                         * say so again without another child. */
                        r->status = AB_TRIAL_UNAVAILABLE;
                        ab_strlcpy(r->reason, first->reason, sizeof r->reason);
                    } else if (subj->describe_error[0]) {
                        /* Never a silent run on some other allocator. */
                        r->status = AB_TRIAL_FAILED;
                        ab_strlcpy(r->reason, subj->describe_error, sizeof r->reason);
                        add_diag(r, subj->describe_code, "%s", subj->describe_error);
                    } else {
                        int rc = 0;
                        if (!cal_rounds[ci]) {
                            cal_rounds[ci] = cfg->rounds;
                            if (cfg->min_time_s > 0 && !cfg->counter) {
                                ab_session_working(&run->session,
                                                   "%s %s %s t=%u: calibrating rounds",
                                                    cfg->wl->name, cfg->wl->variants[v],
                                                    subj->name, r->threads);
                                rc = calibrate(cfg, subj, v, r->threads, &cal_rounds[ci],
                                               &cal_children[ci]);
                            }
                        }
                        if (!rc)
                            rc = run_trial(cfg, subj, v, rep, cal_rounds[ci], r);
                        if (rc)
                            return rc;
                    }
                    if (r->status == AB_TRIAL_CRASHED || r->status == AB_TRIAL_TIMEOUT ||
                        r->status == AB_TRIAL_FAILED)
                        run->failures++;
                    char fig[64] = "";
                    if (r->status == AB_TRIAL_OK)
                        snprintf(fig, sizeof fig, "%.2f ns/%s", r->ns_per_op, cfg->wl->unit);
                    else
                        snprintf(fig, sizeof fig, "%s", ab_trial_status_name(r->status));
                    ab_session_progress(&run->session, "%s %s %s t=%u rep=%u: %s",
                                        cfg->wl->name, cfg->wl->variants[v], subj->name,
                                        r->threads, rep + 1, fig);
                }
            }
        }
    }
    ab_session_end(&run->session);
    aggregate(run);
    compare_all(run);
    return 0;
}

const struct ab_aggregate *ab_aggregate_base(const struct ab_run *run,
                                             const struct ab_aggregate *a)
{
    const struct ab_aggregate *best = NULL;
    for (size_t i = 0; i < run->naggs; i++) {
        const struct ab_aggregate *b = &run->aggs[i];
        if (b->variant == a->variant && b->threads == a->threads && b->measured &&
            (!best || b->subject < best->subject))
            best = b;
    }
    return best;
}

void ab_run_free(struct ab_run *run)
{
    for (size_t i = 0; i < run->ntrials; i++) {
        free(run->trials[i].samples);
        free(run->trials[i].placement);
    }
    free(run->trials);
    free(run->aggs);
    free(run->comparisons);
    free(run->cal_rounds);
    free(run->cal_children);
    free(run->in_shard);
    run->in_shard = NULL;
    run->trials = NULL;
    run->aggs = NULL;
    run->comparisons = NULL;
    run->cal_rounds = run->cal_children = NULL;
}
