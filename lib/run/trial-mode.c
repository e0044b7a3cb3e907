/*
 * trial-mode.c — the child mode "trial": one trial of a workload in a fresh
 * process that the allocator under test owns, its figures as the reply.
 */
#include "run.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static cJSON *run_trial(const cJSON *req, struct ab_heap *heap)
{
    const struct ab_workload *wl = ab_workload_find(ab_json_str(req, "workload"));
    if (!wl)
        return ab_child_error(AB_ALLOCBENCH_INTERNAL, "unknown workload in request");
    struct ab_trial t = {0};
    t.wl = wl;
    t.variant = (unsigned)ab_json_num(req, "variant", 0);
    t.variant_name = wl->variants[t.variant];
    t.threads = (unsigned)ab_json_num(req, "threads", 1);
    t.warmup = (unsigned)ab_json_num(req, "warmup", 0);
    t.rounds = (unsigned)ab_json_num(req, "rounds", 1);
    t.repetition = (unsigned)ab_json_num(req, "repetition", 0);
    if (ab_json_u64(req, "seed", &t.seed))
        return ab_child_error(AB_ALLOCBENCH_INTERNAL, "no seed in the request");
    const struct ab_counter_child *counter = ab_counter_child_find(ab_json_str(req, "collect"));
    t.collect = counter ? counter->collect : NULL;
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(req, "pin");
    t.pin = cJSON_IsObject(pin);
    t.pin_bindable = ab_json_bool(pin, "bindable");
    const cJSON *plan;
    cJSON_ArrayForEach(plan, cJSON_GetObjectItemCaseSensitive(pin, "plans"))
    {
        if (t.pin_nplans == 2 || cJSON_GetArraySize(plan) > AB_MAX_THREADS)
            break;
        unsigned k = t.pin_nplans++, n = 0;
        const cJSON *pu;
        cJSON_ArrayForEach(pu, plan) t.pin_plans[k][n++] = cJSON_IsNumber(pu) ? (int)pu->valuedouble : -1;
        t.pin_plan_len[k] = n;
    }
    t.heap = heap;
    t.rss_start_kib = t.rss_before_kib = t.rss_after_kib = -1;
    t.stats_before.allocated = t.stats_before.active = -1;
    t.stats_before.resident = t.stats_before.mapped = -1;
    t.stats_after = t.stats_before;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    for (size_t i = 0; i < wl->nparams; i++)
        t.params.v[i] = (int64_t)ab_json_num(params, wl->params[i].name, 0);
    t.statm_fd = ab_statm_open();
    ab_trial_pin_prepare(&t);
    t.rss_start_kib = ab_statm_rss_kib(t.statm_fd);

    int rc = wl->run(&t);
    ab_trial_pin_release(&t);

    cJSON *d = ab_child_reply();
    if (rc < 0 && !t.unavailable) {
        cJSON_Delete(d);
        char msg[256];
        snprintf(msg, sizeof msg, "the workload failed: %s", strerror(-rc));
        return ab_child_error(AB_ALLOCBENCH_TRIAL_FAILED, msg);
    }
    if (t.unavailable) {
        cJSON_AddTrueToObject(d, "unavailable");
        cJSON_AddStringToObject(d, "reason", t.unavailable_reason);
        return d;
    }
    cJSON_AddNumberToObject(d, "ops", (double)t.ops);
    cJSON_AddNumberToObject(d, "wall_ns", (double)t.wall_ns);
    cJSON_AddNumberToObject(d, "thread_ns", (double)t.thread_ns);
    ab_json_add_int(d, "rss_start_kib", t.rss_start_kib);
    ab_json_add_int(d, "rss_before_kib", t.rss_before_kib);
    ab_json_add_int(d, "rss_after_kib", t.rss_after_kib);
    cJSON_AddItemToObject(d, "allocator_before", ab_alloc_stats_json(&t.stats_before));
    cJSON_AddItemToObject(d, "allocator_after", ab_alloc_stats_json(&t.stats_after));
    cJSON *m = cJSON_AddArrayToObject(d, "metrics");
    for (unsigned i = 0; i < t.nmetrics; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t.metrics[i].name);
        cJSON_AddStringToObject(o, "unit", t.metrics[i].unit);
        if (isfinite(t.metrics[i].value))
            cJSON_AddNumberToObject(o, "value", t.metrics[i].value);
        else
            cJSON_AddNullToObject(o, "value");
        cJSON_AddItemToArray(m, o);
    }
    cJSON *diags = cJSON_AddArrayToObject(d, "diagnostics");
    for (unsigned i = 0; i < t.ndiags; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", ab_code_name(t.diags[i].code));
        cJSON_AddStringToObject(o, "detail", t.diags[i].detail);
        cJSON_AddItemToArray(diags, o);
    }
    cJSON *samples = cJSON_AddArrayToObject(d, "samples");
    for (unsigned i = 0; i < t.nsamples; i++) {
        const struct ab_sample *s = &t.samples[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "phase", s->phase);
        ab_json_add_int(o, "live_bytes", s->live_bytes);
        ab_json_add_int(o, "rss_bytes", s->rss_bytes);
        ab_json_add_int(o, "mapped_bytes", s->mapped_bytes);
        ab_json_add_int(o, "resident_bytes", s->resident_bytes);
        cJSON_AddItemToArray(samples, o);
    }
    if (t.pin) {
        cJSON *pl = cJSON_AddObjectToObject(d, "placement");
        cJSON_AddStringToObject(pl, "method", t.pin_method[0] ? t.pin_method : "none");
        cJSON *pus = cJSON_AddArrayToObject(pl, "pus");
        for (unsigned i = 0; i < t.nplaced; i++)
            cJSON_AddItemToArray(pus, t.placement[i] >= 0 ? cJSON_CreateNumber(t.placement[i])
                                                          : cJSON_CreateNull());
    }
    return d;
}

static const struct ab_field trial_fields[] = {
    {"workload", AB_FIELD_STR, true, 1, 64},
    {"variant", AB_FIELD_INT, true, 0, 63},
    {"threads", AB_FIELD_INT, true, 1, AB_MAX_THREADS},
    {"warmup", AB_FIELD_INT, true, 0, 10000000},
    {"rounds", AB_FIELD_INT, true, 1, 100000000},
    {"repetition", AB_FIELD_INT, true, 0, 100000},
    {"seed", AB_FIELD_SEED, true, 0, 0},
    {"pin", AB_FIELD_OBJ, false, 0, 0},
    {"collect", AB_FIELD_STR, false, 1, 32},
    {"params", AB_FIELD_OBJ, true, 0, 0},
};
static const struct ab_field pin_fields[] = {
    {"plans", AB_FIELD_ARR, true, 2, 2},
    {"bindable", AB_FIELD_BOOL, true, 0, 0},
};

static int trial_check(const cJSON *req, char *err, size_t len)
{
    const struct ab_workload *wl = ab_workload_find(ab_json_str(req, "workload"));
    if (!wl)
        return snprintf(err, len, "the trial request names no workload of this program"),
               -EINVAL;
    size_t nvar = 0;
    while (wl->variants[nvar])
        nvar++;
    if (ab_json_num(req, "variant", 0) >= (double)nvar)
        return snprintf(err, len, "workload %s has %zu variants", wl->name, nvar), -EINVAL;
    const char *collect = ab_json_str(req, "collect");
    if (*collect && !ab_counter_child_find(collect))
        return snprintf(err, len, "the trial request names no counter of this program"),
               -EINVAL;
    /* Every parameter, each in the workload's own range. */
    struct ab_field pf[AB_MAX_PARAMS];
    for (size_t i = 0; i < wl->nparams; i++) {
        const struct ab_param *p = &wl->params[i];
        pf[i] = (struct ab_field){p->name, AB_FIELD_NUM, true, (double)p->min, (double)p->max};
        if (p->type == AB_PARAM_CHOICE) {
            unsigned nc = 1;
            for (const char *c = p->choices; *c; c++)
                nc += *c == '|';
            pf[i].lo = 0, pf[i].hi = nc - 1;
        }
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    if (ab_fields_check(params, "its params", pf, wl->nparams, err, len))
        return -EINVAL;
    for (size_t i = 0; i < wl->nparams; i++) {
        double v = ab_json_num(params, wl->params[i].name, 0);
        if (v != floor(v))
            return snprintf(err, len, "its params: \"%s\" must be an integer",
                            wl->params[i].name),
                   -EINVAL;
    }
    if (wl->check) {
        struct ab_params given = {0};
        for (size_t i = 0; i < wl->nparams; i++)
            given.v[i] = (int64_t)ab_json_num(params, wl->params[i].name, 0);
        int rc = wl->check(wl, &given, err, len);
        if (rc)
            return rc;
    }
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(req, "pin");
    if (!pin)
        return 0;
    if (ab_fields_check(pin, "its pin", pin_fields, 2, err, len))
        return -EINVAL;
    const cJSON *plan;
    cJSON_ArrayForEach(plan, cJSON_GetObjectItemCaseSensitive(pin, "plans"))
    {
        if (!cJSON_IsArray(plan) || cJSON_GetArraySize(plan) > AB_MAX_THREADS)
            return snprintf(err, len, "its pin plans must be arrays of at most %d CPUs",
                            AB_MAX_THREADS),
                   -EINVAL;
        const cJSON *pu;
        cJSON_ArrayForEach(pu, plan)
        {
            double c = cJSON_IsNumber(pu) ? pu->valuedouble : NAN;
            if (!(c >= -1 && c < 1 << 20 && c == floor(c)))
                return snprintf(err, len, "its pin plans hold CPU numbers (or -1)"), -EINVAL;
        }
    }
    return 0;
}

const struct ab_child_mode ab_mode_trial = {
    AB_FIELDS(trial_fields),
    .check = trial_check,
    .name = "trial",
    .binds_heap = true,
    .run = run_trial,
};
