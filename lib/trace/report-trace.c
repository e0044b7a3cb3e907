/*
 * report-trace.c — what `allocbench trace` saw, formatted: report.json
 * (schema_version 1, the common context block), allocator-trace-report.tsv
 * and the console table.  Only formatting: every figure comes from
 * struct ab_trace_result.  A figure not measured is null / empty / `-`.
 */
#include "trace.h"
#include "trace-bpf.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

const char ab_trace_tsv_header[] =
    "section\tfunction\tobject\tbin\tlow\thigh\tcount\tbytes\tnested\tfailed\tlatency_ns_mean\t"
    "task_clock_ns_per_call\ttask_clock_calls\tinstructions_per_call\tinstruction_calls";

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

/* ------------------------------------------------------------------ JSON */

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_mean(cJSON *o, const char *k, uint64_t sum, uint64_t n, bool available)
{
    double v = available ? mean_of(sum, n) : NAN;
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_text(cJSON *o, const char *k, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
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
    add_text(o, "reason", available ? NULL : reason);
    return o;
}

char *ab_report_trace_json(const struct ab_trace_result *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "command", "trace");
    cJSON_AddItemToObject(doc, "context", ab_report_context_json(&r->session.host, r->session.started_utc, "bpf", NULL,
                                                 NULL, 0));
    cJSON *t = cJSON_AddObjectToObject(doc, "trace");

    cJSON *tg = cJSON_AddObjectToObject(t, "target");
    cJSON_AddNumberToObject(tg, "pid", r->pid);
    cJSON_AddBoolToObject(tg, "started", r->started);
    add_text(tg, "command", r->started ? r->command : NULL);
    add_text(tg, "exe", r->exe);
    cJSON_AddNumberToObject(tg, "images", r->images);
    if (r->exit_status >= 0)
        cJSON_AddNumberToObject(tg, "exit_status", r->exit_status);
    else
        cJSON_AddNullToObject(tg, "exit_status");
    char sig[32] = "";
    if (r->exit_signal > 0)
        snprintf(sig, sizeof sig, "SIG%s", signal_name(r->exit_signal));
    add_text(tg, "exit_signal", sig);

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
        add_text(o, "first_instruction", f->probe.first_insn);
        add_text(o, "attach_error", f->probe.attach_error);
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

    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    return text;
}

/* ------------------------------------------------------------------- TSV */

/* "\t<v>" or an empty field when not measured. */
static void tsv_mean(FILE *f, uint64_t sum, uint64_t n, bool available)
{
    double v = available ? mean_of(sum, n) : NAN;
    if (isfinite(v))
        fprintf(f, "\t%.1f", v);
    else
        fputs("\t", f);
}

static void tsv_bins(FILE *out, const char *section, const char *function, const char *object,
                     const uint64_t *hist)
{
    for (unsigned k = 0; k < AB_TRACE_NBINS; k++) {
        if (!hist[k])
            continue;
        uint64_t low, high;
        ab_trace_bin_bounds(k, &low, &high);
        fprintf(out, "%s\t%s\t%s\t%u\t%llu\t%llu\t%llu\t\t\t\t\t\t\t\t\n", section, function, object, k,
                (unsigned long long)low, (unsigned long long)high,
                (unsigned long long)hist[k]);
    }
}

char *ab_report_trace_tsv(const struct ab_trace_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return NULL;
    fprintf(out, "%s\n", ab_trace_tsv_header);
    for (size_t i = 0; i < r->nfuncs; i++) {
        const struct ab_trace_func *f = &r->funcs[i];
        fprintf(out, "calls\t%s\t%s\t\t\t\t%llu\t%llu\t%llu\t", f->probe.name,
                r->lib.objects[f->probe.object].path,
                (unsigned long long)f->calls, (unsigned long long)f->bytes,
                (unsigned long long)f->nested);
        if (allocating(f))
            fprintf(out, "%llu", (unsigned long long)f->failed);
        tsv_mean(out, f->lat_sum_ns, f->calls, true);
        tsv_mean(out, f->clock_sum_ns, f->clock_calls, r->clock_available);
        if (r->clock_available)
            fprintf(out, "\t%llu", (unsigned long long)f->clock_calls);
        else
            fputs("\t", out);
        tsv_mean(out, f->insn_sum, f->insn_calls, r->insn_available);
        if (r->insn_available)
            fprintf(out, "\t%llu\n", (unsigned long long)f->insn_calls);
        else
            fputs("\t\n", out);
    }
    uint64_t hist[AB_TRACE_NBINS];
    for (size_t i = 0; i < r->nfuncs; i++)
        tsv_bins(out, "size", r->funcs[i].probe.name,
                 r->lib.objects[r->funcs[i].probe.object].path, r->funcs[i].size_hist);
    sum_hists(r, true, hist);
    tsv_bins(out, "size", "all", "", hist);
    for (size_t i = 0; i < r->nfuncs; i++)
        tsv_bins(out, "latency", r->funcs[i].probe.name,
                 r->lib.objects[r->funcs[i].probe.object].path, r->funcs[i].lat_hist);
    sum_hists(r, false, hist);
    tsv_bins(out, "latency", "all", "", hist);
    fprintf(out, "outstanding\tall\t\t\t\t\t%llu\t%llu\t\t\t\t\t\t\t\n",
            (unsigned long long)r->live_count, (unsigned long long)r->live_bytes);
    for (size_t i = 0; i < r->ngroups; i++)
        fprintf(out, "outstanding\t\t\t\t%llu\t%llu\t%llu\t%llu\t\t\t\t\t\t\t\n",
                (unsigned long long)r->groups[i].size, (unsigned long long)r->groups[i].size,
                (unsigned long long)r->groups[i].count, (unsigned long long)r->groups[i].bytes);
    if (fclose(out)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* --------------------------------------------------------------- console */

static void fmt_mean(char *buf, size_t len, uint64_t sum, uint64_t n, bool available)
{
    double v = available ? mean_of(sum, n) : NAN;
    if (isfinite(v))
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "-");
}

static void fmt_bin(char *buf, size_t len, unsigned k)
{
    uint64_t low, high;
    ab_trace_bin_bounds(k, &low, &high);
    if (k == 64)
        snprintf(buf, len, "[%llu, 2^64)", (unsigned long long)low);
    else
        snprintf(buf, len, "[%llu, %llu]", (unsigned long long)low, (unsigned long long)high);
}

/* The non-empty bins of hist, with the size bins of the functions in cols
 * beside them. */
static void console_bins(FILE *out, const struct ab_trace_result *r, const uint64_t *hist,
                         const size_t *cols, size_t ncols)
{
    for (unsigned k = 0; k < AB_TRACE_NBINS; k++) {
        if (!hist[k])
            continue;
        char b[64];
        fmt_bin(b, sizeof b, k);
        fprintf(out, "  %-26s %10llu", b, (unsigned long long)hist[k]);
        for (size_t c = 0; c < ncols; c++)
            fprintf(out, " %10llu", (unsigned long long)r->funcs[cols[c]].size_hist[k]);
        fputc('\n', out);
    }
}

void ab_report_trace_console(const struct ab_trace_result *r, FILE *out)
{
    fprintf(out, "allocbench trace: pid %d, %s", r->pid, r->exe);
    if (r->started)
        fprintf(out, " (started as: %s)", r->command);
    fputc('\n', out);
    const struct ab_trace_object *mo = &r->lib.objects[r->lib.malloc_object];
    fprintf(out, "malloc served by %s (%s; chosen by %s)\n", mo->path,
            ab_family_name(mo->family), r->lib.chosen_by);
    for (size_t i = 0; i < r->lib.nobjects; i++)
        if (i != r->lib.malloc_object)
            fprintf(out, "also probed, for the entry points it serves: %s\n",
                    r->lib.objects[i].path);
    char status[64] = "";
    if (r->exit_status >= 0)
        snprintf(status, sizeof status, ", exit status %d", r->exit_status);
    else if (r->exit_signal > 0)
        snprintf(status, sizeof status, ", killed by SIG%s", signal_name(r->exit_signal));
    fprintf(out,
            "traced %.3f s, ended by %s%s; %zu functions probed, attached in %.1f ms, "
            "detached in %.1f ms\n",
            r->traced_s, r->ended_by, status, r->attached, r->attach_ms, r->detach_ms);
    if (r->images > 1)
        fprintf(out, "the process exec'd: the figures are those of its last image (%u in all)\n",
                r->images);

    fprintf(out, "\n%-24s %10s %8s %8s %14s %12s %14s %12s\n", "function", "calls", "nested",
            "failed", "bytes", "latency ns*", "task-clock ns*", "instructions");
    size_t silent = 0;
    for (size_t i = 0; i < r->nfuncs; i++) {
        const struct ab_trace_func *f = &r->funcs[i];
        if (!f->calls && !f->nested) {
            silent++;
            continue;
        }
        char lat[32], clk[32], insn[32], failed[32];
        fmt_mean(lat, sizeof lat, f->lat_sum_ns, f->calls, true);
        fmt_mean(clk, sizeof clk, f->clock_sum_ns, f->clock_calls, r->clock_available);
        fmt_mean(insn, sizeof insn, f->insn_sum, f->insn_calls, r->insn_available);
        if (allocating(f))
            snprintf(failed, sizeof failed, "%llu", (unsigned long long)f->failed);
        else
            snprintf(failed, sizeof failed, "-");
        char name[96];
        const char *base = strrchr(r->lib.objects[f->probe.object].path, '/');
        if (f->probe.object == r->lib.malloc_object || !base)
            snprintf(name, sizeof name, "%s", f->probe.name);
        else
            snprintf(name, sizeof name, "%s@%s", f->probe.name, base + 1);
        fprintf(out, "%-24s %10llu %8llu %8s %14llu %12s %14s %12s\n", name,
                (unsigned long long)f->calls, (unsigned long long)f->nested, failed,
                (unsigned long long)f->bytes, lat, clk, insn);
    }
    fprintf(out,
            "* mean per call, entry to return, including the probe's own cost (two traps per "
            "call)\n");
    if (silent)
        fprintf(out, "(%zu probed functions made no call)\n", silent);
    if (!r->insn_available)
        fprintf(out, "instructions: - (%s)\n", r->insn_reason);
    if (!r->clock_available)
        fprintf(out, "task-clock: - (%s)\n", r->clock_reason);

    fputs("\nrequested sizes (log2 bins, bytes): calls\n", out);
    uint64_t hist[AB_TRACE_NBINS];
    sum_hists(r, true, hist);
    fprintf(out, "  %-26s %10s", "bin", "all");
    size_t cols[8], ncols = 0;
    for (size_t i = 0; i < r->nfuncs && ncols < 8; i++) {
        bool any = false;
        for (unsigned k = 0; k < AB_TRACE_NBINS && !any; k++)
            any = r->funcs[i].size_hist[k] != 0;
        if (any && allocating(&r->funcs[i])) {
            cols[ncols++] = i;
            fprintf(out, " %10.10s", r->funcs[i].probe.name);
        }
    }
    fputc('\n', out);
    console_bins(out, r, hist, cols, ncols);

    fprintf(out,
            "\noutstanding at the end: %llu blocks, %llu bytes (allocated while traced, not "
            "freed)%s\n",
            (unsigned long long)r->live_count, (unsigned long long)r->live_bytes,
            r->live_dropped ? " — a lower bound: the live set was full" : "");
    if (r->ngroups) {
        fprintf(out, "  %-20s %12s %16s\n", "size", "blocks", "bytes");
        for (size_t i = 0; i < r->ngroups; i++)
            fprintf(out, "  %-20llu %12llu %16llu\n", (unsigned long long)r->groups[i].size,
                    (unsigned long long)r->groups[i].count,
                    (unsigned long long)r->groups[i].bytes);
        if (r->groups_total > r->ngroups)
            fprintf(out, "  (%zu more sizes)\n", r->groups_total - r->ngroups);
    }

    fputs("\nlatency per call (ns, including the probe's own cost): calls\n", out);
    sum_hists(r, false, hist);
    console_bins(out, r, hist, NULL, 0);
    if (r->live_replaced)
        fprintf(out,
                "\nwarning: %llu allocations returned a block still recorded as live (handed "
                "out twice, or freed through a function not probed)\n",
                (unsigned long long)r->live_replaced);
    if (r->switched)
        fprintf(out, "%llu calls migrated or were switched out: no counter reading for them\n",
                (unsigned long long)r->switched);
}

int ab_report_trace_write(const struct ab_trace_result *r, const char *dir, char *err,
                          size_t errlen)
{
    static const char *const names[] = {"allocator-trace-report.tsv", "report.json"};
    /* report.json last: its presence says the files are complete. */
    for (size_t i = 0; i < 2; i++) {
        char *text = i == 0 ? ab_report_trace_tsv(r) : ab_report_trace_json(r);
        if (!text) {
            snprintf(err, errlen, "out of memory formatting %s", names[i]);
            return -ENOMEM;
        }
        size_t len = strlen(text);
        if (i == 1) {
            char *nl = realloc(text, len + 2);
            if (nl) {
                text = nl;
                text[len++] = '\n';
                text[len] = '\0';
            }
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int rc = ab_write_file_atomic(path, text, len);
        free(text);
        if (rc) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
            return rc;
        }
    }
    return 0;
}
