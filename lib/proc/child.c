/*
 * child.c — the hidden `__child` command: one trial (or a describe) in a
 * fresh process that the allocator under test owns.  The request arrives as
 * JSON in argv; the reply is one JSON document written to descriptor 3.
 */
#include "ab.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { AB_REPLY_FD = 3 };

/* glibc's allocator under its own names: the request and the reply are built
 * with it (cJSON hooks), never with the allocator under test, so a broken
 * allocator cannot corrupt the report of what it did.  The printed reply is
 * released with __libc_free for the same reason. */
void *__libc_malloc(size_t);
void __libc_free(void *);

static int reply(cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return 4;
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(AB_REPLY_FD, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            __libc_free(text);
            return 4;
        }
        done += (size_t)w;
    }
    __libc_free(text);
    close(AB_REPLY_FD);
    return 0;
}

static cJSON *error_doc(const char *code, const char *msg)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddFalseToObject(d, "ok");
    cJSON_AddStringToObject(d, "code", code);
    cJSON_AddStringToObject(d, "error", msg);
    return d;
}

static void add_int_or_null(cJSON *o, const char *k, int64_t v)
{
    if (v < 0)
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, (double)v);
}

static cJSON *stats_json(const struct ab_alloc_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    add_int_or_null(o, "allocated", s->allocated);
    add_int_or_null(o, "active", s->active);
    add_int_or_null(o, "resident", s->resident);
    add_int_or_null(o, "mapped", s->mapped);
    return o;
}

const char *ab_json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

double ab_json_num(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static int run_trial(const cJSON *req, const struct ab_heap *heap)
{
    const struct ab_workload *wl = ab_workload_find(ab_json_str(req, "workload"));
    if (!wl)
        return reply(error_doc("ALLOCBENCH_INTERNAL", "unknown workload in request"));
    struct ab_trial t = {0};
    t.wl = wl;
    t.variant = (unsigned)ab_json_num(req, "variant", 0);
    t.variant_name = wl->variants[t.variant];
    t.threads = (unsigned)ab_json_num(req, "threads", 1);
    t.warmup = (unsigned)ab_json_num(req, "warmup", 0);
    t.rounds = (unsigned)ab_json_num(req, "rounds", 1);
    t.repetition = (unsigned)ab_json_num(req, "repetition", 0);
    t.seed = (uint64_t)ab_json_num(req, "seed", 1);
    t.collect = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "collect"));
    t.pin = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "pin"));
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

    cJSON *d = cJSON_CreateObject();
    if (rc < 0 && !t.unavailable) {
        cJSON_Delete(d);
        char msg[256];
        snprintf(msg, sizeof msg, "the workload failed: %s", strerror(-rc));
        return reply(error_doc("ALLOCBENCH_TRIAL_FAILED", msg));
    }
    cJSON_AddTrueToObject(d, "ok");
    if (t.unavailable) {
        cJSON_AddTrueToObject(d, "unavailable");
        cJSON_AddStringToObject(d, "reason", t.unavailable_reason);
        return reply(d);
    }
    cJSON_AddNumberToObject(d, "ops", (double)t.ops);
    cJSON_AddNumberToObject(d, "wall_ns", (double)t.wall_ns);
    cJSON_AddNumberToObject(d, "thread_ns", (double)t.thread_ns);
    add_int_or_null(d, "rss_start_kib", t.rss_start_kib);
    add_int_or_null(d, "rss_before_kib", t.rss_before_kib);
    add_int_or_null(d, "rss_after_kib", t.rss_after_kib);
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
        add_int_or_null(o, "live_bytes", s->live_bytes);
        add_int_or_null(o, "rss_bytes", s->rss_bytes);
        add_int_or_null(o, "mapped_bytes", s->mapped_bytes);
        add_int_or_null(o, "resident_bytes", s->resident_bytes);
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
    return reply(d);
}

int ab_child_main(const char *request)
{
    cJSON_Hooks hooks = {__libc_malloc, __libc_free};
    cJSON_InitHooks(&hooks);
    cJSON *req = cJSON_Parse(request);
    if (!req)
        return reply(error_doc("ALLOCBENCH_INTERNAL", "malformed request")) ? 4 : 0;
    if (!strcmp(ab_json_str(req, "mode"), "supervise")) {
        /* A backend watching a measuring child from outside: no allocator is
         * bound here (nothing is preloaded into this process). */
        const struct ab_counter *c = ab_counter_find(ab_json_str(req, "counter"));
        cJSON *d = c && c->supervise ? c->supervise(req)
                                     : error_doc("ALLOCBENCH_INTERNAL", "no such supervisor");
        cJSON_Delete(req);
        return reply(d);
    }
    const cJSON *subj = cJSON_GetObjectItemCaseSensitive(req, "subject");
    const char *kind = ab_json_str(subj, "kind");
    const char *path = ab_json_str(subj, "path");
    enum ab_subject_kind k = !strcmp(kind, "plugin")    ? AB_SUBJECT_PLUGIN
                             : !strcmp(kind, "preload") ? AB_SUBJECT_PRELOAD
                                                        : AB_SUBJECT_SYSTEM;
    struct ab_heap heap;
    char err[512] = "";
    int rc;
    if (ab_heap_open(&heap, k, path, err, sizeof err)) {
        cJSON *d = error_doc("ALLOCBENCH_SUBJECT_MISMATCH", err);
        cJSON_AddStringToObject(d, "malloc_from", heap.malloc_from);
        rc = reply(d);
    } else if (!strcmp(ab_json_str(req, "mode"), "describe")) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddTrueToObject(d, "ok");
        cJSON_AddStringToObject(d, "family", ab_family_name(heap.family));
        cJSON_AddStringToObject(d, "version", heap.version);
        cJSON_AddStringToObject(d, "malloc_from", heap.malloc_from);
        cJSON_AddBoolToObject(d, "bulk", heap.alloc_bulk != NULL);
        rc = reply(d);
        ab_heap_close(&heap);
    } else if (!strcmp(ab_json_str(req, "mode"), "stress")) {
        struct ab_stress_request rq = {
            ab_json_str(req, "case"), ab_json_str(req, "profiles"), ab_json_str(req, "profile"),
            (unsigned)ab_json_num(req, "threads", 1), (uint64_t)ab_json_num(req, "ops", 0),
            ab_json_num(req, "duration_s", 0), (uint64_t)ab_json_num(req, "seed", 1),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "verify"))};
        const char *code = "ALLOCBENCH_INTERNAL";
        char why[512];
        cJSON *d = ab_stress_child(&rq, &heap, &code, why, sizeof why); /* closes the heap */
        rc = reply(d ? d : error_doc(code, why));
    } else if (!strcmp(ab_json_str(req, "mode"), "fastpath")) {
        rc = reply(ab_fastpath_child(req, &heap));
        ab_heap_close(&heap);
    } else {
        rc = run_trial(req, &heap);
        ab_heap_close(&heap);
    }
    cJSON_Delete(req);
    return rc;
}
