/*
 * trace-doc.c — the report document of what `allocbench trace` saw
 * (report.json, schema_version 1, the common context block), which every
 * format renders.  Every figure comes from struct ab_trace_result; one not
 * measured is null.
 */
#include "trace.h"
#include "trace-bpf.h"

#include <cJSON.h>
#include <math.h>
#include <signal.h>
#include <string.h>

static bool allocating(const struct ab_trace_func *f)
{
    return f->probe.kind != AB_TRACE_FREE;
}

/* sum / n, NaN (not measured) when n is 0. */
static double mean_of(uint64_t sum, uint64_t n)
{
    return n ? (double)sum / (double)n : NAN;
}

static const char *signal_name(int sig)
{
    const char *n = sig > 0 ? sigabbrev_np(sig) : NULL;
    return n ? n : "?";
}

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_mean(cJSON *o, const char *k, uint64_t sum, uint64_t n, bool available)
{
    ab_json_add_num(o, k, available ? mean_of(sum, n) : NAN);
}

/* Non-empty bins: [{"bin", "low", "high", "count"}]; the last bin has no
 * representable upper bound: null. */
static cJSON *bins_json(const uint64_t *hist)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned k = 0; k < AB_TRACE_NBINS; k++) {
        if (!hist[k])
            continue;
        uint64_t low, high;
        ab_trace_bin_bounds(k, &low, &high);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "bin", k);
        add_u64(b, "low", low);
        if (k < 64)
            add_u64(b, "high", high);
        else
            cJSON_AddNullToObject(b, "high");
        add_u64(b, "count", hist[k]);
        cJSON_AddItemToArray(a, b);
    }
    return a;
}

static void sum_hists(const struct ab_trace_result *r, bool sizes, uint64_t *out)
{
    memset(out, 0, AB_TRACE_NBINS * sizeof *out);
    for (size_t i = 0; i < r->nfuncs; i++) {
        const struct ab_trace_func *f = &r->funcs[i];
        if (sizes && !allocating(f))
            continue;
        for (unsigned k = 0; k < AB_TRACE_NBINS; k++)
            out[k] += sizes ? f->size_hist[k] : f->lat_hist[k];
    }
}

static cJSON *event_json(bool available, const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "available", available);
    ab_json_add_str(o, "reason", available ? NULL : reason);
    return o;
}

cJSON *ab_trace_doc(const struct ab_trace_result *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "command", "trace");
    cJSON_AddItemToObject(doc, "context", ab_report_context_json(&r->session.host,
                                                                 r->session.started_utc, "bpf",
                                                                 NULL, NULL, 0));
    cJSON *t = cJSON_AddObjectToObject(doc, "trace");

    cJSON *tg = cJSON_AddObjectToObject(t, "target");
    cJSON_AddNumberToObject(tg, "pid", r->pid);
    cJSON_AddBoolToObject(tg, "started", r->started);
    ab_json_add_str(tg, "command", r->started ? r->command : NULL);
    ab_json_add_str(tg, "exe", r->exe);
    cJSON_AddNumberToObject(tg, "images", r->images);
    if (r->exit_status >= 0)
        cJSON_AddNumberToObject(tg, "exit_status", r->exit_status);
    else
        cJSON_AddNullToObject(tg, "exit_status");
    char sig[32] = "";
    if (r->exit_signal > 0)
        snprintf(sig, sizeof sig, "SIG%s", signal_name(r->exit_signal));
    ab_json_add_str(tg, "exit_signal", sig);

    const struct ab_trace_object *mo = &r->lib.objects[r->lib.malloc_object];
    cJSON *lib = cJSON_AddObjectToObject(t, "library");
    cJSON_AddStringToObject(lib, "path", mo->path);
    cJSON_AddStringToObject(lib, "family", ab_family_name(mo->family));
    cJSON_AddStringToObject(lib, "chosen_by", r->lib.chosen_by);
    cJSON *objs = cJSON_AddArrayToObject(t, "objects");
    for (size_t i = 0; i < r->lib.nobjects; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", r->lib.objects[i].path);
        cJSON_AddStringToObject(o, "family", ab_family_name(r->lib.objects[i].family));
        cJSON_AddItemToArray(objs, o);
    }

    cJSON_AddStringToObject(t, "ended_by", r->ended_by);
    if (r->cfg->duration_s > 0)
        cJSON_AddNumberToObject(t, "duration_s", r->cfg->duration_s);
    else
        cJSON_AddNullToObject(t, "duration_s");
    cJSON_AddNumberToObject(t, "traced_s", r->traced_s);
    cJSON_AddNumberToObject(t, "attach_ms", r->attach_ms);
    cJSON_AddNumberToObject(t, "detach_ms", r->detach_ms);
    add_u64(t, "functions_probed", r->attached);
    add_u64(t, "max_live", r->max_live);
    cJSON_AddBoolToObject(t, "latency_includes_probe_cost", true);
    cJSON *ev = cJSON_AddObjectToObject(t, "events");
    cJSON_AddItemToObject(ev, "task_clock", event_json(r->clock_available, r->clock_reason));
    cJSON_AddItemToObject(ev, "instructions", event_json(r->insn_available, r->insn_reason));

    cJSON *fs = cJSON_AddArrayToObject(t, "functions");
    for (size_t i = 0; i < r->nfuncs; i++) {
        const struct ab_trace_func *f = &r->funcs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "function", f->probe.name);
        cJSON_AddStringToObject(o, "object", r->lib.objects[f->probe.object].path);
        cJSON *al = cJSON_AddArrayToObject(o, "aliases");
        char aliases[sizeof f->probe.aliases];
        ab_strlcpy(aliases, f->probe.aliases, sizeof aliases);
        for (char *save = NULL, *a = strtok_r(aliases, ",", &save); a;
             a = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(al, cJSON_CreateString(a));
        add_u64(o, "offset", f->probe.offset);
        ab_json_add_str(o, "first_instruction", f->probe.first_insn);
        ab_json_add_str(o, "attach_error", f->probe.attach_error);
        add_u64(o, "calls", f->calls);
        add_u64(o, "nested_calls", f->nested);
        if (allocating(f)) {
            add_u64(o, "failed", f->failed);
            cJSON_AddNullToObject(o, "null_frees");
            cJSON_AddNullToObject(o, "untracked_frees");
        } else {
            cJSON_AddNullToObject(o, "failed");
            add_u64(o, "null_frees", f->null_frees);
            add_u64(o, "untracked_frees", f->untracked_frees);
        }
        add_u64(o, "bytes", f->bytes);
        add_mean(o, "latency_ns_mean", f->lat_sum_ns, f->calls, true);
        add_mean(o, "task_clock_ns_per_call", f->clock_sum_ns, f->clock_calls,
                 r->clock_available);
        if (r->clock_available)
            add_u64(o, "task_clock_calls", f->clock_calls);
        else
            cJSON_AddNullToObject(o, "task_clock_calls");
        add_mean(o, "instructions_per_call", f->insn_sum, f->insn_calls, r->insn_available);
        if (r->insn_available)
            add_u64(o, "instruction_calls", f->insn_calls);
        else
            cJSON_AddNullToObject(o, "instruction_calls");
        cJSON_AddItemToObject(o, "size_histogram", bins_json(f->size_hist));
        cJSON_AddItemToObject(o, "latency_histogram_ns", bins_json(f->lat_hist));
        cJSON_AddItemToArray(fs, o);
    }
    uint64_t hist[AB_TRACE_NBINS];
    sum_hists(r, true, hist);
    cJSON_AddItemToObject(t, "size_histogram", bins_json(hist));
    sum_hists(r, false, hist);
    cJSON_AddItemToObject(t, "latency_histogram_ns", bins_json(hist));

    cJSON *out = cJSON_AddObjectToObject(t, "outstanding");
    add_u64(out, "allocations", r->live_count);
    add_u64(out, "bytes", r->live_bytes);
    cJSON_AddBoolToObject(out, "complete", r->live_dropped == 0);
    add_u64(out, "groups_total", r->groups_total);
    cJSON *gs = cJSON_AddArrayToObject(out, "groups");
    for (size_t i = 0; i < r->ngroups; i++) {
        cJSON *g = cJSON_CreateObject();
        add_u64(g, "size", r->groups[i].size);
        add_u64(g, "count", r->groups[i].count);
        add_u64(g, "bytes", r->groups[i].bytes);
        cJSON_AddItemToArray(gs, g);
    }
    cJSON *lost = cJSON_AddObjectToObject(t, "accounting");
    add_u64(lost, "live_dropped", r->live_dropped);
    add_u64(lost, "live_replaced", r->live_replaced);
    add_u64(lost, "unmatched_returns", r->unmatched);
    add_u64(lost, "no_thread_state", r->no_state);
    add_u64(lost, "switched_calls", r->switched);
    add_u64(lost, "exec_stop_failed", r->exec_stop_failed);
    return doc;
}
