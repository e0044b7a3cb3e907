/*
 * compare-doc.c — the comparison's report document: which two reports,
 * how their rows were matched, the rows (from compare-run.c or
 * compare-fastpath.c), the rows found on one side only, notes on what
 * differs between the two without stopping the comparison, and the gate's
 * findings.
 */
#include "compare-rows.h"
#include "report.h"

#include <cJSON.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The allocators a report's rows name, each once, in order. */
static cJSON *allocators(const cJSON *items)
{
    cJSON *names = cJSON_CreateArray(), *n;
    const cJSON *o;
    cJSON_ArrayForEach(o, items)
    {
        bool seen = false;
        cJSON_ArrayForEach(n, names)
            seen = seen || !strcmp(n->valuestring, ab_json_str(o, "allocator"));
        if (!seen)
            cJSON_AddItemToArray(names, cJSON_CreateString(ab_json_str(o, "allocator")));
    }
    return names;
}

static cJSON *side_json(const cJSON *doc, const char *path, const char *rows)
{
    const cJSON *ctx = get(doc, "context"), *ab = get(ctx, "allocbench");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", path);
    ab_json_add_str(o, "started_utc", ab_json_str(ctx, "started_utc"));
    ab_json_add_str(o, "hostname", ab_json_str(ctx, "hostname"));
    ab_json_add_str(o, "cpu_model", ab_json_str(ctx, "cpu_model"));
    ab_json_add_str(o, "allocbench_version", ab_json_str(ab, "version"));
    ab_json_add_str(o, "git_revision", ab_json_str(ab, "git_revision"));
    ab_json_add_str(o, "counter", ab_json_str(ctx, "counter"));
    cJSON_AddItemToObject(o, "allocators", allocators(get(doc, rows)));
    return o;
}

/* What differs between the two machines and builds, said, not refused:
 * an A/B of two builds on two machines measures the machines too. */
static void context_notes(struct ab_compare_job *j)
{
    static const struct {
        const char *key, *what;
    } keys[] = {
        {"hostname", "hosts"},
        {"cpu_model", "CPUs"},
        {"allocbench_version", "allocbench versions"},
        {"git_revision", "allocbench revisions"},
    };
    const cJSON *b = get(j->about, "base"), *h = get(j->about, "head");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *bv = ab_json_str(b, keys[i].key), *hv = ab_json_str(h, keys[i].key);
        if (strcmp(bv, hv))
            ab_compare_note(j, "BASE and HEAD come from different %s: %s and %s", keys[i].what,
                            *bv ? bv : "unknown", *hv ? hv : "unknown");
    }
}

int ab_compare_doc(const cJSON *base, const cJSON *head, const struct ab_compare_opts *opts,
                   cJSON **out, enum ab_code *code, char *err, size_t errlen)
{
    *out = NULL;
    struct ab_compare_job j = {.base = base, .head = head, .pct = opts->threshold_pct,
                               .code = code, .err = err, .errlen = errlen};
    const char *bc = ab_json_str(base, "command"), *hc = ab_json_str(head, "command");
    if (strcmp(bc, hc))
        return ab_compare_refuse(&j, AB_ALLOCBENCH_COMPARE_MISMATCH,
                                 "BASE is a report of allocbench %s, HEAD of allocbench %s: "
                                 "compare takes two run reports or two fastpath reports",
                                 bc, hc);
    bool run = !strcmp(bc, "run");
    const char *rows = run ? "aggregates" : "rows";

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_COMPARE_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "command", "compare");
    struct ab_host host;
    char stamp[32];
    ab_host_collect(&host);
    ab_utc_stamp(stamp, sizeof stamp);
    cJSON_AddItemToObject(doc, "context", ab_report_context_json(&host, stamp, "none", NULL,
                                                                 NULL, 0));
    j.about = cJSON_AddObjectToObject(doc, "compare");
    cJSON_AddStringToObject(j.about, "of", bc);
    cJSON_AddNumberToObject(j.about, "threshold_pct", j.pct);
    cJSON *ba = side_json(base, opts->base_path, rows);
    cJSON *ha = side_json(head, opts->head_path, rows);
    j.by_position = cJSON_GetArraySize(get(ba, "allocators")) == 1 &&
                    cJSON_GetArraySize(get(ha, "allocators")) == 1;
    const char *bn = j.by_position ? cJSON_GetArrayItem(get(ba, "allocators"), 0)->valuestring : "";
    const char *hn = j.by_position ? cJSON_GetArrayItem(get(ha, "allocators"), 0)->valuestring : "";
    /* "position" only where it matters: one allocator each, named apart. */
    cJSON_AddStringToObject(j.about, "matched_by", strcmp(bn, hn) ? "position" : "name");
    cJSON_AddItemToObject(j.about, "base", ba);
    cJSON_AddItemToObject(j.about, "head", ha);
    j.rows = cJSON_AddArrayToObject(doc, "rows");
    j.only_base = cJSON_AddArrayToObject(doc, "only_base");
    j.only_head = cJSON_AddArrayToObject(doc, "only_head");
    j.notes = cJSON_AddArrayToObject(doc, "notes");
    j.diagnostics = cJSON_AddArrayToObject(doc, "diagnostics");
    if (!j.about || !j.rows || !j.only_base || !j.only_head || !j.notes || !j.diagnostics) {
        cJSON_Delete(doc);
        return ab_compare_refuse(&j, AB_ALLOCBENCH_INTERNAL, "out of memory");
    }
    if (strcmp(bn, hn))
        ab_compare_note(&j, "one allocator on each side: rows matched whatever its name (BASE "
                            "%s, HEAD %s)", bn, hn);
    context_notes(&j);
    int rc = run ? ab_compare_runs(&j) : ab_compare_fastpaths(&j);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    cJSON_AddNumberToObject(doc, "failures", j.failures);
    *out = doc;
    return 0;
}
