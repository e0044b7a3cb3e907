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

static cJSON *stats_json(const struct ab_alloc_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    ab_json_add_int(o, "allocated", s->allocated);
    ab_json_add_int(o, "active", s->active);
    ab_json_add_int(o, "resident", s->resident);
    ab_json_add_int(o, "mapped", s->mapped);
    return o;
}

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
    cJSON_AddItemToObject(d, "allocator_before", stats_json(&t.stats_before));
    cJSON_AddItemToObject(d, "allocator_after", stats_json(&t.stats_after));
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

const struct ab_child_mode ab_mode_trial = {
    .name = "trial",
    .binds_heap = true,
    .run = run_trial,
};
