/*
 * merge-read.c — a shard report read back whole and strictly before
 * anything is joined: run and fast-path reports by compare's rules, stress
 * reports by their cases and diagnostics, each with what a merge relies on
 * (context and subjects, digest, shard).
 */
#include "merge.h"
#include "compare/compare.h"

#include <cJSON.h>
#include <errno.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* What a stress report lacks for a merge, or NULL. */
static const char *stress_bad(const cJSON *doc)
{
    const cJSON *ver = get(doc, "schema_version"), *rec;
    if (!cJSON_IsNumber(ver) || ver->valuedouble != AB_SCHEMA_VERSION)
        return "schema_version";
    if (!cJSON_IsArray(get(get(doc, "context"), "subjects")))
        return "context.subjects";
    if (!cJSON_IsArray(get(get(doc, "stress"), "cases")))
        return "stress.cases";
    const char *arrays[] = {"cases", "diagnostics"};
    for (int a = 0; a < 2; a++) {
        if (!cJSON_IsArray(get(doc, arrays[a])))
            return arrays[a];
        cJSON_ArrayForEach(rec, get(doc, arrays[a]))
            if (!cJSON_IsString(get(rec, "allocator")) || !cJSON_IsString(get(rec, "case")))
                return arrays[a];
    }
    return NULL;
}

/* What every shard report needs for a merge, whatever its command: the
 * context an object with its subjects named, a digest, a shard (null or
 * an object); or the member that is missing or malformed. */
static const char *frame_bad(const cJSON *doc)
{
    const cJSON *ctx = get(doc, "context"), *s, *shard = get(doc, "shard");
    if (!cJSON_IsObject(ctx) || !cJSON_IsArray(get(ctx, "subjects")))
        return "context.subjects";
    cJSON_ArrayForEach(s, get(ctx, "subjects"))
        if (!cJSON_IsObject(s) || !cJSON_IsString(get(s, "name")))
            return "context.subjects";
    if (!cJSON_IsString(get(doc, "matrix_digest")))
        return "matrix_digest";
    if (!cJSON_IsNull(shard) && !cJSON_IsObject(shard))
        return "shard";
    return NULL;
}

int ab_merge_parse(const char *label, const char *text, size_t len, cJSON **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    char why[512];
    cJSON *doc = ab_json_parse_strict(text, len, why, sizeof why);
    const char *cmd = ab_json_str(doc, "command"), *bad;
    int rc = 0;
    if (!doc) {
        snprintf(err, errlen, "%s: %s", label, why);
        rc = -EPROTO;
    } else if (!cJSON_IsObject(doc) || !*cmd) {
        snprintf(err, errlen, "%s: not a report of allocbench (no \"command\")", label);
        rc = -EPROTO;
    } else if (!strcmp(cmd, "stress")) {
        if ((bad = stress_bad(doc))) {
            snprintf(err, errlen, "%s: %s is missing or malformed", label, bad);
            rc = -EPROTO;
        }
    } else if (!strcmp(cmd, "run") || !strcmp(cmd, "fastpath")) {
        /* The rules compare reads them by: every member it relies on. */
        cJSON_Delete(doc);
        doc = NULL;
        rc = ab_compare_parse(label, text, len, &doc, err, errlen);
    } else {
        snprintf(err, errlen, "%s: a report of allocbench %.32s: merge joins shards of run, "
                 "fastpath or stress", label, cmd);
        rc = -EPROTO;
    }
    if (!rc && (bad = frame_bad(doc))) {
        snprintf(err, errlen, "%s: %s is missing or malformed", label, bad);
        rc = -EPROTO;
    }
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    ab_json_keep_integers(doc, text, len);
    *out = doc;
    return 0;
}

int ab_merge_read(const char *arg, cJSON **out, char *err, size_t errlen)
{
    return ab_report_read(arg, ab_merge_parse, out, err, errlen);
}
