/*
 * merge-context.c — the context of a merged report: what every shard's
 * machine has in common, null where they differ, a warning per difference
 * of what figures depend on, and every shard's own context.
 */
#include "merge-context.h"
#include "report.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

void ab_merge_put(cJSON *o, const char *k, cJSON *v)
{
    if (get(o, k))
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
    else
        cJSON_AddItemToObject(o, k, v);
}

/* What n values have in common: objects member by member, the subjects
 * allocator by allocator, anything else the value when all are equal and
 * null when they are not. */
static cJSON *common(const cJSON *const *v, size_t n, bool subjects)
{
    bool objects = true, arrays = true;
    for (size_t i = 0; i < n; i++) {
        objects = objects && cJSON_IsObject(v[i]);
        arrays = arrays && cJSON_IsArray(v[i]) &&
                 cJSON_GetArraySize(v[i]) == cJSON_GetArraySize(v[0]);
    }
    const cJSON **w = (objects || (subjects && arrays)) ? malloc(n * sizeof *w) : NULL;
    if (w && objects) {
        cJSON *o = cJSON_CreateObject();
        for (const cJSON *c = v[0]->child; c; c = c->next) {
            for (size_t i = 0; i < n; i++)
                w[i] = get(v[i], c->string);
            bool present = true;
            for (size_t i = 0; i < n; i++)
                present = present && w[i];
            cJSON_AddItemToObject(o, c->string,
                                  present ? common(w, n, !strcmp(c->string, "subjects"))
                                          : cJSON_CreateNull());
        }
        free(w);
        return o;
    }
    if (w && arrays) {
        cJSON *a = cJSON_CreateArray();
        for (int k = 0; k < cJSON_GetArraySize(v[0]); k++) {
            for (size_t i = 0; i < n; i++)
                w[i] = cJSON_GetArrayItem(v[i], k);
            cJSON_AddItemToArray(a, common(w, n, false));
        }
        free(w);
        return a;
    }
    free(w);
    for (size_t i = 1; i < n; i++)
        if (!cJSON_Compare(v[0], v[i], true))
            return cJSON_CreateNull();
    return cJSON_Duplicate(v[0], true);
}

/* A value for a warning: a string as it is, anything else as JSON. */
static void value_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v)) {
        snprintf(buf, len, "\"%s\"", v->valuestring);
        return;
    }
    char *t = v ? cJSON_PrintUnformatted(v) : NULL;
    snprintf(buf, len, "%s", t ? t : "absent");
    free(t);
    if (strlen(buf) > 60)
        strcpy(buf + 57, "...");
}

/* One warning when the shards' values of what differs between machines
 * are not all the same: what, and the first two values. */
static void warn_differs(const struct ab_observer *obs, const char *what, const cJSON *const *v,
                         const unsigned *shard, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (v[i] && v[0] && cJSON_Compare(v[0], v[i], true))
            continue;
        char a[80], b[80], line[512];
        value_text(v[0], a, sizeof a);
        value_text(v[i], b, sizeof b);
        snprintf(line, sizeof line,
                 "the shards ran on machines that differ: %s is %s in shard %u, %s in shard %u; "
                 "each ratio is measured within one shard, figures of different shards are not "
                 "comparable",
                 what, a, shard[0], b, shard[i]);
        if (obs && obs->warning)
            obs->warning(obs->ctx, line);
        return;
    }
}

cJSON *ab_merge_context(const cJSON *const *docs, const unsigned *shard, size_t n,
                        const struct ab_observer *obs)
{
    const cJSON **c = n ? malloc(n * sizeof *c) : NULL;
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        c[i] = get(docs[i], "context");
    cJSON *ctx = common(c, n, false);
    /* When the whole began, and what joined it. */
    const char *first = ab_json_str(c[0], "started_utc");
    for (size_t i = 1; i < n; i++)
        if (strcmp(ab_json_str(c[i], "started_utc"), first) < 0)
            first = ab_json_str(c[i], "started_utc");
    if (ctx && get(ctx, "started_utc"))
        cJSON_ReplaceItemInObjectCaseSensitive(ctx, "started_utc", cJSON_CreateString(first));
    if (ctx && get(ctx, "command_line"))
        cJSON_ReplaceItemInObjectCaseSensitive(
            ctx, "command_line",
            *ab_report_command_line() ? cJSON_CreateString(ab_report_command_line())
                                      : cJSON_CreateNull());
    cJSON *machines = ctx ? cJSON_CreateArray() : NULL;
    if (machines)
        ab_merge_put(ctx, "machines", machines);
    for (size_t i = 0; machines && i < n; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "shard", shard[i]);
        for (const cJSON *k = c[i]->child; k; k = k->next)
            if (strcmp(k->string, "shard") && strcmp(k->string, "machines"))
                cJSON_AddItemToObject(m, k->string, cJSON_Duplicate(k, true));
        cJSON_AddItemToArray(machines, m);
    }

    static const char *const machine_keys[] = {"cpu_model", "kernel", "glibc", "thp",
                                               "topology", "counter_version"};
    const cJSON **v = malloc(n * sizeof *v);
    for (size_t k = 0; v && k < sizeof machine_keys / sizeof machine_keys[0]; k++) {
        for (size_t i = 0; i < n; i++)
            v[i] = get(c[i], machine_keys[k]);
        warn_differs(obs, machine_keys[k], v, shard, n);
    }
    static const char *const subject_keys[] = {"version", "path", "malloc_from"};
    const cJSON *s;
    int si = 0;
    cJSON_ArrayForEach(s, get(c[0], "subjects"))
    {
        for (size_t k = 0; v && k < 3; k++) {
            char what[160];
            snprintf(what, sizeof what, "allocator %.64s's %s", ab_json_str(s, "name"),
                     subject_keys[k]);
            for (size_t i = 0; i < n; i++)
                v[i] = get(cJSON_GetArrayItem(get(c[i], "subjects"), si), subject_keys[k]);
            warn_differs(obs, what, v, shard, n);
        }
        si++;
    }
    free(v);
    free(c);
    return ctx;
}
