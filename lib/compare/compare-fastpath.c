/*
 * compare-fastpath.c — two fast-path reports, row by row (allocator, op,
 * size, pattern).  Their counts are exact (the repetitions of a row agree,
 * or it is not compared), so a row's figures are compared as numbers:
 * instructions and branches p50 and the slow-path share, each with HEAD -
 * BASE and its change; a figure that rises by more than the threshold
 * (HEAD - BASE > threshold x BASE) fails the gate.
 */
#include "compare-rows.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

static const char *const keys[] = {"allocator", "op", "size", "pattern", NULL};

static const struct {
    const char *name;  /* in a compared row */
    const char *dist;  /* the distribution it is the p50 of; NULL: a member */
    const char *fmt;
} figures[] = {
    {"instructions", "instructions", "%.0f"},
    {"branches", "branches", "%.0f"},
    {"slow_path_share", NULL, "%.4f"},
};
#define NFIGURES (sizeof figures / sizeof figures[0])

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double figure(const cJSON *row, size_t f)
{
    const cJSON *o = figures[f].dist ? get(row, figures[f].dist) : row;
    return ab_json_num(o, figures[f].dist ? "p50" : figures[f].name, NAN);
}

/* Counts of other counters, or counted over other calls, differ for
 * reasons that are not the allocator's. */
static int differences(struct ab_compare_job *j)
{
    const char *bc = ab_json_str(get(j->base, "context"), "counter");
    const char *hc = ab_json_str(get(j->head, "context"), "counter");
    if (strcmp(bc, hc))
        return ab_compare_refuse(j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                 "BASE was counted with %s, HEAD with %s", bc, hc);
    static const char *const conf[] = {"calls", "warmup", "keep_live", "alignment"};
    const cJSON *bf = get(j->base, "config"), *hf = get(j->head, "config");
    for (size_t i = 0; i < sizeof conf / sizeof conf[0]; i++)
        if (!cJSON_Compare(get(bf, conf[i]), get(hf, conf[i]), true))
            return ab_compare_refuse(j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                     "BASE was counted with %s %g, HEAD with %g", conf[i],
                                     ab_json_num(bf, conf[i], NAN), ab_json_num(hf, conf[i], NAN));
    return 0;
}

static const char *key_text(char *buf, size_t len, const cJSON *r)
{
    snprintf(buf, len, "%s %s size=%.0f pattern=%s", ab_json_str(r, "allocator"),
             ab_json_str(r, "op"), ab_json_num(r, "size", 0), ab_json_str(r, "pattern"));
    return buf;
}

static cJSON *key_json(const cJSON *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "allocator", ab_json_str(r, "allocator"));
    cJSON_AddStringToObject(o, "op", ab_json_str(r, "op"));
    cJSON_AddNumberToObject(o, "size", ab_json_num(r, "size", 0));
    cJSON_AddStringToObject(o, "pattern", ab_json_str(r, "pattern"));
    return o;
}

/* Why a row's counts cannot be compared, or NULL. */
static const char *why_not(char *buf, size_t len, const cJSON *r, const char *side)
{
    if (strcmp(ab_json_str(r, "status"), "ok"))
        snprintf(buf, len, "not measured in %s: %s%s%s", side, ab_json_str(r, "status"),
                 *ab_json_str(r, "reason") ? ": " : "", ab_json_str(r, "reason"));
    else if (!ab_json_bool(r, "repetitions_agree"))
        snprintf(buf, len, "the repetitions of %s disagree: its counts are not exact", side);
    else if (!isfinite(figure(r, 0)))
        snprintf(buf, len, "%s counted no instructions", side);
    else
        return NULL;
    return buf;
}

static cJSON *side_json(const cJSON *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "allocator", ab_json_str(r, "allocator"));
    ab_json_add_str(o, "allocator_version", ab_json_str(r, "allocator_version"));
    cJSON_AddStringToObject(o, "status", ab_json_str(r, "status"));
    return o;
}

static void row(struct ab_compare_job *j, const cJSON *b, const cJSON *h)
{
    char why[600];
    const char *no = why_not(why, sizeof why, b, "BASE");
    if (!no)
        no = why_not(why, sizeof why, h, "HEAD");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", ab_json_str(b, "op"));
    cJSON_AddNumberToObject(o, "size", ab_json_num(b, "size", 0));
    cJSON_AddStringToObject(o, "pattern", ab_json_str(b, "pattern"));
    cJSON_AddItemToObject(o, "base", side_json(b));
    cJSON_AddItemToObject(o, "head", side_json(h));
    bool up = false, down = false, fails = false;
    const char *ba = ab_json_str(b, "allocator"), *ha = ab_json_str(h, "allocator");
    bool renamed = strcmp(ba, ha) != 0;
    for (size_t f = 0; f < NFIGURES; f++) {
        double x = figure(b, f), y = figure(h, f);
        bool both = !no && isfinite(x) && isfinite(y);
        /* HEAD - BASE > pct % of BASE, in percent: exact for whole counts
         * and a whole or binary-fraction threshold. */
        bool over = both && (y - x) * 100.0 > j->pct * x;
        cJSON *fo = cJSON_AddObjectToObject(o, figures[f].name);
        ab_json_add_num(fo, "base", x);
        ab_json_add_num(fo, "head", y);
        ab_json_add_num(fo, "delta", both ? y - x : NAN);
        ab_json_add_num(fo, "change", both && x > 0 ? y / x - 1 : both && y == x ? 0 : NAN);
        cJSON_AddBoolToObject(fo, "fails", over);
        up = up || (both && y > x);
        down = down || (both && y < x);
        if (over) {
            char bv[32], hv[32];
            snprintf(bv, sizeof bv, figures[f].fmt, x);
            snprintf(hv, sizeof hv, figures[f].fmt, y);
            char change[48] = "";
            if (x > 0)
                snprintf(change, sizeof change, " (%+.2f %%)", (y / x - 1) * 100);
            ab_compare_failed(j, AB_ALLOCBENCH_COMPARE_COUNT,
                              "%s%s%s %s size=%.0f pattern=%s %s=%s base=%s%s threshold=%g %%",
                              ba, renamed ? " -> " : "", renamed ? ha : "", ab_json_str(b, "op"),
                              ab_json_num(b, "size", 0), ab_json_str(b, "pattern"),
                              figures[f].name, hv, bv, change, j->pct);
        }
        fails = fails || over;
    }
    ab_json_add_str(o, "verdict", no ? NULL : up ? "slower" : down ? "faster" : "same");
    ab_json_add_str(o, "reason", no);
    cJSON_AddBoolToObject(o, "fails", fails);
    cJSON_AddItemToArray(j->rows, o);
    j->failures += fails;
}

/* A report holding one row twice is malformed: which of the two matches? */
static int twice(struct ab_compare_job *j, const char *side, const cJSON *r)
{
    char k[512];
    return ab_compare_refuse(j, AB_ALLOCBENCH_BAD_INPUT, "%s holds the row %s twice", side,
                             key_text(k, sizeof k, r));
}

int ab_compare_fastpaths(struct ab_compare_job *j)
{
    int rc = differences(j);
    if (rc)
        return rc;
    cJSON_AddStringToObject(j->about, "method",
                            "exact counts: HEAD - BASE of the instructions and branches p50 and "
                            "the slow-path share; a rise past the threshold fails");
    const cJSON *br = get(j->base, "rows"), *hr = get(j->head, "rows"), *r, *h;
    bool dup;
    cJSON_ArrayForEach(r, br)
    {
        ab_compare_match(br, r, keys, false, &dup);
        if (dup)
            return twice(j, "BASE", r);
        h = ab_compare_match(hr, r, keys, j->by_position, &dup);
        if (dup)
            return twice(j, "HEAD", h);
        if (h)
            row(j, r, h);
        else
            cJSON_AddItemToArray(j->only_base, key_json(r));
    }
    cJSON_ArrayForEach(r, hr)
    {
        ab_compare_match(hr, r, keys, false, &dup);
        if (dup)
            return twice(j, "HEAD", r);
        if (!ab_compare_match(br, r, keys, j->by_position, &dup))
            cJSON_AddItemToArray(j->only_head, key_json(r));
    }
    return 0;
}
