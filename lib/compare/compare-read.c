/*
 * compare-read.c — the reports compare reads, checked whole before anything
 * is compared: a run report's members of the types and ranges `allocbench
 * run` writes them, every configuration once and every trial in one of
 * them; a fast-path report through the fast-path reader.  A report that is
 * not what it claims to be is refused with one line, never half compared.
 */
#include "compare.h"
#include "fastpath.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Why a report is refused, without its name (the caller adds it). */
static int bad(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -EPROTO;
}

/* An integer in [lo, hi]. */
static bool int_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
           v->valuedouble == floor(v->valuedouble) && v->valuedouble >= lo && v->valuedouble <= hi;
}

/* A time: null, or finite and above 0 (a sample ab_cmp_unpaired takes). */
static bool time_or_null(const cJSON *v)
{
    return cJSON_IsNull(v) || (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble > 0);
}

static bool status_known(const cJSON *v)
{
    if (!cJSON_IsString(v))
        return false;
    for (int s = AB_TRIAL_OK; s <= AB_TRIAL_FAILED; s++)
        if (!strcmp(v->valuestring, ab_trial_status_name((enum ab_trial_status)s)))
            return true;
    return false;
}

/* The member of a configuration (a trial or an aggregate) that is missing
 * or malformed, or NULL.  Every configuration is of workload wl. */
static const char *config_bad(const cJSON *o, const char *wl)
{
    static const char *const strings[] = {"workload", "variant", "allocator"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (!cJSON_IsString(get(o, strings[i])))
            return strings[i];
    if (strcmp(ab_json_str(o, "workload"), wl))
        return "workload";
    if (!int_in(get(o, "threads"), 1, AB_MAX_THREADS))
        return "threads";
    if (!status_known(get(o, "status")))
        return "status";
    return NULL;
}

static bool same_config(const cJSON *a, const cJSON *b)
{
    return !strcmp(ab_json_str(a, "variant"), ab_json_str(b, "variant")) &&
           !strcmp(ab_json_str(a, "allocator"), ab_json_str(b, "allocator")) &&
           ab_json_num(a, "threads", 0) == ab_json_num(b, "threads", 0);
}

static int check_run(const cJSON *doc, char *why, size_t len)
{
    const cJSON *ver = get(doc, "schema_version"), *ctx = get(doc, "context");
    const cJSON *rc = get(doc, "run"), *trials = get(doc, "trials"), *aggs = get(doc, "aggregates");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != AB_SCHEMA_VERSION)
        return bad(why, len, "a run report of schema version %g, this allocbench reads %d",
                   cJSON_IsNumber(ver) ? ver->valuedouble : -1.0, AB_SCHEMA_VERSION);
    if (!cJSON_IsObject(ctx) || !cJSON_IsString(get(ctx, "counter")))
        return bad(why, len, "\"context\" (with its \"counter\") is missing or malformed");
    if (!cJSON_IsObject(rc))
        return bad(why, len, "\"run\" is missing or malformed");
    static const char *const run_strings[] = {"workload", "unit"};
    for (size_t i = 0; i < 2; i++)
        if (!cJSON_IsString(get(rc, run_strings[i])))
            return bad(why, len, "run.%s is missing or malformed", run_strings[i]);
    static const char *const run_counts[] = {"repetitions", "warmup", "rounds"};
    for (size_t i = 0; i < 3; i++)
        if (!int_in(get(rc, run_counts[i]), i == 1 ? 0 : 1, 1e9) &&
            !(i == 2 && cJSON_IsNull(get(rc, "rounds")))) /* null: calibrated */
            return bad(why, len, "run.%s is missing or malformed", run_counts[i]);
    const cJSON *params = get(rc, "params"), *p;
    if (!cJSON_IsObject(params))
        return bad(why, len, "run.params is missing or malformed");
    cJSON_ArrayForEach(p, params)
        if (!cJSON_IsString(p) && !(cJSON_IsNumber(p) && isfinite(p->valuedouble)))
            return bad(why, len, "run.params.%.64s is malformed", p->string);
    if (!cJSON_IsArray(trials) || !cJSON_IsArray(aggs))
        return bad(why, len, "\"%s\" is missing or not an array",
                   cJSON_IsArray(trials) ? "aggregates" : "trials");

    /* Timed (no counter): a measured trial has its time. */
    bool timed = !strcmp(ab_json_str(ctx, "counter"), "none");
    const char *wl = ab_json_str(rc, "workload");
    int i = 0;
    const cJSON *a, *b, *t;
    cJSON_ArrayForEach(a, aggs)
    {
        const char *what = cJSON_IsObject(a) ? config_bad(a, wl) : "the aggregate";
        const cJSON *ns = get(a, "ns_per_op");
        if (!what && (!cJSON_IsObject(ns) || !time_or_null(get(ns, "median")) ||
                      !int_in(get(ns, "n"), 0, 1e9)))
            what = "ns_per_op";
        if (what)
            return bad(why, len, "aggregates[%d]: %s is missing or malformed", i, what);
        int j = 0;
        for (b = aggs->child; b != a; b = b->next, j++)
            if (same_config(a, b))
                return bad(why, len, "aggregates[%d] and [%d] are one configuration (%.64s, "
                           "%.64s, %g threads)", j, i, ab_json_str(a, "variant"),
                           ab_json_str(a, "allocator"), ab_json_num(a, "threads", 0));
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(t, trials)
    {
        const char *what = cJSON_IsObject(t) ? config_bad(t, wl) : "the trial";
        const cJSON *ns = get(t, "ns_per_op");
        if (!what && !int_in(get(t, "repetition"), 0, 1e9))
            what = "repetition";
        if (!what && (!time_or_null(ns) ||
                      (timed && !strcmp(ab_json_str(t, "status"), "ok") && !cJSON_IsNumber(ns))))
            what = "ns_per_op";
        if (what)
            return bad(why, len, "trials[%d]: %s is missing or malformed", i, what);
        bool found = false;
        cJSON_ArrayForEach(a, aggs)
            found = found || same_config(t, a);
        if (!found)
            return bad(why, len, "trials[%d] (%.64s, %.64s, %g threads) is in no aggregate", i,
                       ab_json_str(t, "variant"), ab_json_str(t, "allocator"),
                       ab_json_num(t, "threads", 0));
        i++;
    }
    return 0;
}

int ab_compare_parse(const char *label, const char *text, size_t len, cJSON **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    char why[512];
    cJSON *doc = ab_json_parse_strict(text, len, why, sizeof why);
    const cJSON *cmd = get(doc, "command");
    int rc = 0;
    if (!doc)
        rc = -EPROTO;
    else if (!cJSON_IsObject(doc) || !cJSON_IsString(cmd))
        rc = bad(why, sizeof why, "not a report of allocbench (no \"command\")");
    else if (!strcmp(cmd->valuestring, "fastpath")) {
        /* The fast-path reader's own rules, over the same text. */
        cJSON_Delete(doc);
        return ab_fp_report_parse(label, text, len, out, err, errlen);
    } else if (!strcmp(cmd->valuestring, "run"))
        rc = check_run(doc, why, sizeof why);
    else
        rc = bad(why, sizeof why, "a report of allocbench %.32s: compare reads reports of run "
                 "or of fastpath", cmd->valuestring);
    if (rc) {
        snprintf(err, errlen, "%s: %s", label, why);
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int ab_compare_read(const char *arg, cJSON **out, char *err, size_t errlen)
{
    return ab_report_read(arg, ab_compare_parse, out, err, errlen);
}
