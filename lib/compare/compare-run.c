/*
 * compare-run.c — two run reports, configuration by configuration (variant,
 * threads, allocator): the measured trials of each side are two
 * independent samples, and ab_cmp_unpaired gives HEAD over BASE with its
 * 95 % interval (Hodges-Lehmann on log times, Moses' interval) and p
 * (Mann-Whitney).  A row fails the gate when its whole interval lies above
 * 1 + threshold; a row without a valid interval has no verdict, says why,
 * and never fails.
 */
#include "compare-rows.h"
#include "core/compare.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"variant", "threads", "allocator", NULL};

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* A parameter's value as the user wrote it. */
static const char *value_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        snprintf(buf, len, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, len, "%.17g", v->valuedouble);
    else
        snprintf(buf, len, "(none)");
    return buf;
}

/* Reports of other work cannot be compared: another workload, other
 * parameters, rounds or warm-up (what one trial does), another counter
 * (what was measured).  Other seeds, pinning or repetitions are noted. */
static int differences(struct ab_compare_job *j)
{
    const cJSON *br = get(j->base, "run"), *hr = get(j->head, "run");
    const char *bw = ab_json_str(br, "workload"), *hw = ab_json_str(hr, "workload");
    if (strcmp(bw, hw))
        return ab_compare_refuse(j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                 "BASE is a run of workload %s, HEAD of %s", bw, hw);
    const cJSON *bp = get(br, "params"), *hp = get(hr, "params"), *p;
    char bv[64], hv[64];
    cJSON_ArrayForEach(p, bp)
    {
        const cJSON *q = get(hp, p->string);
        if (!q || !cJSON_Compare(p, q, true))
            return ab_compare_refuse(j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                     "the workload's parameters differ: %s=%s in BASE, %s in HEAD",
                                     p->string, value_text(p, bv, sizeof bv),
                                     value_text(q, hv, sizeof hv));
    }
    cJSON_ArrayForEach(p, hp)
        if (!get(bp, p->string))
            return ab_compare_refuse(j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                     "the workload's parameters differ: %s=%s in HEAD, none in "
                                     "BASE", p->string, value_text(p, hv, sizeof hv));
    static const char *const work[] = {"rounds", "warmup"};
    for (size_t i = 0; i < 2; i++) {
        /* Calibrated rounds (null) differ by design: each configuration's
         * trials last --min-time, whatever its speed. */
        if (!i && (cJSON_IsNull(get(br, "rounds")) || cJSON_IsNull(get(hr, "rounds"))))
            continue;
        double b = ab_json_num(br, work[i], 0), h = ab_json_num(hr, work[i], 0);
        if (b != h)
            return ab_compare_refuse(j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                     "BASE ran %.0f %s rounds per thread, HEAD %.0f", b,
                                     i ? "warm-up" : "measured", h);
    }
    const char *bc = ab_json_str(get(j->base, "context"), "counter");
    const char *hc = ab_json_str(get(j->head, "context"), "counter");
    if (strcmp(bc, hc))
        return ab_compare_refuse(j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                 "BASE was measured with counter %s, HEAD with %s", bc, hc);
    if (!cJSON_Compare(get(br, "seed"), get(hr, "seed"), true))
        ab_compare_note(j, "BASE and HEAD ran with different seeds: the random choices of "
                           "their workloads differ");
    bool pinned = ab_json_bool(br, "pin");
    if (pinned != ab_json_bool(hr, "pin"))
        ab_compare_note(j, "%s ran with --pin, %s without", pinned ? "BASE" : "HEAD",
                        pinned ? "HEAD" : "BASE");
    if (strcmp(bc, "none"))
        ab_compare_note(j, "counted with %s: times taken under a counter are not reported, so "
                           "no row has a verdict", bc);
    return 0;
}

/* The measured times of one configuration of doc (malloc'd, *n of them);
 * NULL when out of memory.  *trials: all its trials. */
static double *times(const cJSON *doc, const cJSON *agg, size_t *n, size_t *trials)
{
    const cJSON *t, *all = get(doc, "trials");
    double *x = malloc(((size_t)cJSON_GetArraySize(all) + 1) * sizeof *x);
    *n = *trials = 0;
    if (!x)
        return NULL;
    cJSON_ArrayForEach(t, all)
    {
        bool same = true;
        for (const char *const *k = keys; *k && same; k++)
            same = cJSON_Compare(get(t, *k), get(agg, *k), true);
        if (!same)
            continue;
        ++*trials;
        const cJSON *ns = get(t, "ns_per_op");
        if (!strcmp(ab_json_str(t, "status"), "ok") && cJSON_IsNumber(ns))
            x[(*n)++] = ns->valuedouble;
    }
    return x;
}

static cJSON *side_json(const cJSON *agg, size_t n, size_t trials, double cv)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "allocator", ab_json_str(agg, "allocator"));
    cJSON_AddStringToObject(o, "status", ab_json_str(agg, "status"));
    ab_json_add_num(o, "median", ab_json_num(get(agg, "ns_per_op"), "median", NAN));
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddNumberToObject(o, "trials", (double)trials);
    ab_json_add_num(o, "cv", cv);
    return o;
}

static cJSON *key_json(const cJSON *agg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "variant", ab_json_str(agg, "variant"));
    cJSON_AddNumberToObject(o, "threads", ab_json_num(agg, "threads", 0));
    cJSON_AddStringToObject(o, "allocator", ab_json_str(agg, "allocator"));
    return o;
}

/* Why a row has no verdict, or "" when it has one. */
static void why_none(char *buf, size_t len, const cJSON *b, const cJSON *h, size_t nb,
                     size_t nh, int rc, const struct ab_cmp_unpaired *u)
{
    const cJSON *side[2] = {b, h};
    size_t n[2] = {nb, nh};
    buf[0] = '\0';
    for (int s = 0; s < 2 && !buf[0]; s++)
        if (n[s] < 2 && strcmp(ab_json_str(side[s], "status"), "ok"))
            snprintf(buf, len, "not measured in %s: %s%s%s", s ? "HEAD" : "BASE",
                     ab_json_str(side[s], "status"), *ab_json_str(side[s], "reason") ? ": " : "",
                     ab_json_str(side[s], "reason"));
    if (buf[0])
        return;
    if (nb < 2 || nh < 2)
        snprintf(buf, len, "%zu measured trials in BASE, %zu in HEAD: a comparison needs 2 on "
                           "each side", nb, nh);
    else if (rc == -E2BIG)
        snprintf(buf, len, "%zu x %zu trials are more pairs than the interval takes (%zu)", nb,
                 nh, (size_t)AB_CMP_MAX_PAIRS);
    else if (rc)
        snprintf(buf, len, "the trials cannot be compared: %s", strerror(-rc));
    else if (!u->ci.valid)
        snprintf(buf, len, "%zu trials in BASE and %zu in HEAD are too few for a 95 %% interval "
                           "(it needs 4 + 4, 3 + 5, 2 + 8 or 1 + 40)", nb, nh);
}

static int row(struct ab_compare_job *j, const cJSON *b, const cJSON *h)
{
    size_t nb, nh, tb, th;
    double *xb = times(j->base, b, &nb, &tb), *xh = times(j->head, h, &nh, &th);
    if (!xb || !xh) {
        free(xb);
        free(xh);
        return ab_compare_refuse(j, AB_ALLOCBENCH_INTERNAL, "out of memory");
    }
    struct ab_cmp_unpaired u = {0};
    int rc = -EINVAL;
    if (nb >= 2 && nh >= 2)
        rc = ab_cmp_unpaired(xh, nh, xb, nb, &u);
    if (rc && rc != -EINVAL && rc != -E2BIG) {
        free(xb);
        free(xh);
        return ab_compare_refuse(j, AB_ALLOCBENCH_INTERNAL, "the comparison failed: %s",
                                 strerror(-rc));
    }
    double cvb = NAN, cvh = NAN;
    if (nb >= 2)
        ab_cmp_cv(xb, nb, &cvb);
    if (nh >= 2)
        ab_cmp_cv(xh, nh, &cvh);
    free(xb);
    free(xh);

    enum ab_cmp_verdict v = AB_CMP_NONE;
    bool fails = false;
    if (!rc && ab_cmp_verdict(&u.ci, &v) == 0)
        ab_cmp_slowdown(&u.ci, j->pct / 100.0, &fails);
    char why[512];
    why_none(why, sizeof why, b, h, nb, nh, rc, &u);

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "variant", ab_json_str(b, "variant"));
    cJSON_AddNumberToObject(o, "threads", ab_json_num(b, "threads", 0));
    cJSON_AddItemToObject(o, "base", side_json(b, nb, tb, cvb));
    cJSON_AddItemToObject(o, "head", side_json(h, nh, th, cvh));
    ab_json_add_num(o, "ratio", rc ? NAN : u.ratio);
    ab_json_add_num(o, "ratio_of_medians", rc ? NAN : u.ratio_of_medians);
    ab_json_add_num(o, "ci95_low", rc ? NAN : u.ci.low);
    ab_json_add_num(o, "ci95_high", rc ? NAN : u.ci.high);
    ab_json_add_num(o, "ci95_coverage", rc ? NAN : u.ci.coverage);
    ab_json_add_num(o, "p", rc ? NAN : u.test.p);
    if (rc)
        cJSON_AddNullToObject(o, "p_exact");
    else
        cJSON_AddBoolToObject(o, "p_exact", u.test.p_exact);
    ab_json_add_str(o, "verdict", ab_cmp_verdict_name(v));
    ab_json_add_str(o, "reason", why);
    cJSON_AddBoolToObject(o, "noisy", cvb > AB_COMPARE_NOISY_CV || cvh > AB_COMPARE_NOISY_CV);
    cJSON_AddBoolToObject(o, "fails", fails);
    cJSON_AddItemToArray(j->rows, o);
    j->failures += fails;
    if (fails) {
        const char *ba = ab_json_str(b, "allocator"), *ha = ab_json_str(h, "allocator");
        bool renamed = strcmp(ba, ha) != 0;
        ab_compare_failed(j, AB_ALLOCBENCH_COMPARE_SLOWER,
                          "%s:%s threads=%.0f %s%s%s ratio=%.3f ci95=[%.3f, %.3f] above %.3f",
                          ab_json_str(j->about, "workload"),
                          ab_json_str(b, "variant"), ab_json_num(b, "threads", 0), ba,
                          renamed ? " -> " : "", renamed ? ha : "", u.ratio, u.ci.low,
                          u.ci.high, 1.0 + j->pct / 100.0);
    }
    return 0;
}

int ab_compare_runs(struct ab_compare_job *j)
{
    int rc = differences(j);
    if (rc)
        return rc;
    const cJSON *br = get(j->base, "run");
    cJSON_AddStringToObject(j->about, "workload", ab_json_str(br, "workload"));
    cJSON_AddStringToObject(j->about, "unit", ab_json_str(br, "unit"));
    cJSON_AddStringToObject(j->about, "figure", "ns_per_op");
    cJSON_AddStringToObject(j->about, "method",
                            "HEAD over BASE: Hodges-Lehmann ratio of the trials' ns_per_op, "
                            "Moses' 95 % interval, Mann-Whitney U test (two independent samples)");
    /* The reader refused a configuration held twice, and under
     * by_position each side has one allocator: every match is unique. */
    const cJSON *ba = get(j->base, "aggregates"), *ha = get(j->head, "aggregates"), *a;
    bool twice;
    cJSON_ArrayForEach(a, ba)
    {
        const cJSON *h = ab_compare_match(ha, a, keys, j->by_position, &twice);
        if (!h)
            cJSON_AddItemToArray(j->only_base, key_json(a));
        else if ((rc = row(j, a, h)))
            return rc;
    }
    cJSON_ArrayForEach(a, ha)
        if (!ab_compare_match(ba, a, keys, j->by_position, &twice))
            cJSON_AddItemToArray(j->only_head, key_json(a));
    return 0;
}
