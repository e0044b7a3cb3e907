/*
 * stress-doc.c — the report document of a stress run (report.json,
 * schema_version 1, the context block of `run`), which every format
 * renders.  A figure not measured is null, and the record says why.
 */
#include "stress.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

static const char *case_name(const struct ab_stress_record *r)
{
    size_t n;
    return ab_stress_cases(&n)[r->case_index]->name;
}

static const char *subject_name(const struct ab_stress_run *run, const struct ab_stress_record *r)
{
    return run->cfg->subjects[r->subject].name;
}

static cJSON *profile_json(const struct ab_profile *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    char threads[32];
    snprintf(threads, sizeof threads, p->threads_per_cpu ? "%u/cpu" : "%u", p->threads);
    cJSON_AddStringToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "threads_here", ab_profile_threads(p));
    ab_json_add_num(o, "ops", p->ops ? (double)p->ops : NAN);
    ab_json_add_num(o, "duration_s", p->duration_s > 0 ? p->duration_s : NAN);
    cJSON_AddNumberToObject(o, "large_ops", (double)p->large_ops);
    cJSON_AddNumberToObject(o, "live", (double)p->live);
    cJSON_AddStringToObject(o, "sizes", p->sizes_text);
    cJSON_AddStringToObject(o, "large", p->large_text);
    cJSON *cases = cJSON_AddArrayToObject(o, "cases");
    for (unsigned i = 0; i < p->cases.n; i++)
        cJSON_AddItemToArray(cases, cJSON_CreateString(p->cases.name[i]));
    cJSON_AddBoolToObject(o, "remote_frees", p->remote_frees);
    ab_json_add_num(o, "remote_bound", p->remote_bound ? (double)p->remote_bound : NAN);
    cJSON_AddNumberToObject(o, "as_limit", (double)p->as_limit);
    cJSON_AddNumberToObject(o, "page_limit", (double)p->page_limit);
    cJSON_AddStringToObject(o, "hugepages", ab_hook_policy_name(p->hugepages));
    cJSON_AddStringToObject(o, "numa", ab_hook_policy_name(p->numa));
    cJSON_AddNumberToObject(o, "shutdown_slope", (double)p->shutdown_slope);
    cJSON_AddStringToObject(o, "summary", p->summary);
    return o;
}

static cJSON *diag_json(const struct ab_stress_run *run, const struct ab_stress_record *r,
                        unsigned k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", ab_code_name(r->f.diags[k].code));
    cJSON_AddStringToObject(o, "allocator", subject_name(run, r));
    cJSON_AddStringToObject(o, "profile", run->cfg->profile->name);
    cJSON_AddStringToObject(o, "case", case_name(r));
    cJSON_AddStringToObject(o, "detail", r->f.diags[k].detail);
    cJSON_AddNumberToObject(o, "count", (double)r->f.diag_count[k]);
    return o;
}

/* The matrix: the stress block (the profile as written, caps, seed,
 * verification, limit, the cases asked for) without what is the machine's
 * (the profiles file's path, the threads a per-CPU profile comes to here),
 * and the allocators by name; the shard's cases. */
static void add_matrix(const struct ab_stress_run *run, cJSON *doc, const cJSON *st)
{
    const struct ab_stress_config *cfg = run->cfg;
    cJSON *copy = cJSON_Duplicate(st, true);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "profiles_file");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(copy, "profile"),
                                            "threads_here");
    cJSON *m = ab_report_matrix("stress", "stress", copy, cfg->subjects, cfg->nsubjects, NULL);
    cJSON *confs = NULL;
    if (cfg->shard.count) {
        size_t nregistered;
        const struct ab_stress_case *const *registry = ab_stress_cases(&nregistered);
        confs = cJSON_CreateArray();
        for (size_t ci = 0; ci < nregistered && ci < AB_CASES_MAX; ci++) {
            if (!run->case_in_shard[ci])
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "case", registry[ci]->name);
            cJSON_AddItemToArray(confs, o);
        }
    }
    ab_report_add_matrix(doc, m, &cfg->shard, run->shard_cost, run->matrix_cost, confs);
}

cJSON *ab_stress_doc(const struct ab_stress_run *run)
{
    const struct ab_stress_config *cfg = run->cfg;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "command", "stress");
    cJSON_AddItemToObject(doc, "context",
                          ab_report_context_json(&run->session.host, run->session.started_utc,
                                                 "none", NULL, cfg->subjects, cfg->nsubjects));
    cJSON *st = cJSON_AddObjectToObject(doc, "stress");
    cJSON_AddItemToObject(st, "profile", profile_json(cfg->profile));
    cJSON_AddStringToObject(st, "profiles_file", cfg->profiles_path);
    ab_json_add_num(st, "ops", cfg->ops ? (double)cfg->ops : NAN);
    ab_json_add_num(st, "duration_s", cfg->duration_s > 0 ? cfg->duration_s : NAN);
    ab_json_add_u64(st, "seed", cfg->seed);
    cJSON_AddBoolToObject(st, "verify", cfg->verify);
    cJSON_AddNumberToObject(st, "timeout_s", cfg->timeout_s);
    size_t nregistered;
    const struct ab_stress_case *const *registry = ab_stress_cases(&nregistered);
    cJSON *asked = cJSON_AddArrayToObject(st, "cases");
    for (size_t ci = 0; ci < nregistered; ci++)
        if (ab_case_set_has(&cfg->cases, registry[ci]->name))
            cJSON_AddItemToArray(asked, cJSON_CreateString(registry[ci]->name));
    add_matrix(run, doc, st);

    cJSON *cases = cJSON_AddArrayToObject(doc, "cases");
    cJSON *diags = cJSON_CreateArray();
    for (size_t i = 0; i < run->nrecords; i++) {
        const struct ab_stress_record *r = &run->records[i];
        const struct ab_findings *f = &r->f;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "profile", cfg->profile->name);
        cJSON_AddStringToObject(o, "allocator", subject_name(run, r));
        cJSON_AddStringToObject(o, "case", case_name(r));
        cJSON_AddStringToObject(o, "verdict", ab_case_verdict_name(r->verdict));
        ab_json_add_str(o, "reason", r->reason);
        cJSON_AddNumberToObject(o, "threads", r->threads);
        ab_json_add_num(o, "operations", r->ran ? (double)f->ops : NAN);
        ab_json_add_num(o, "blocks_verified", r->ran ? (double)f->verified : NAN);
        ab_json_add_num(o, "ns_per_op",
                        r->ran && f->ops ? (double)f->wall_ns / (double)f->ops : NAN);
        ab_json_add_num(o, "wall_ns", r->ran ? (double)f->wall_ns : NAN);
        cJSON_AddItemToObject(o, "checks", ab_checks_json(f->checks, f->nchecks));
        cJSON *figs = cJSON_AddObjectToObject(o, "figures");
        for (unsigned k = 0; k < f->nfigures; k++) {
            cJSON *g = cJSON_AddObjectToObject(figs, f->figures[k].name);
            ab_json_add_num(g, "value", f->figures[k].value);
            cJSON_AddStringToObject(g, "unit", f->figures[k].unit);
        }
        cJSON *codes = cJSON_AddArrayToObject(o, "diagnostics");
        for (unsigned k = 0; k < f->ndiags; k++) {
            cJSON_AddItemToArray(codes, cJSON_CreateString(ab_code_name(f->diags[k].code)));
            cJSON_AddItemToArray(diags, diag_json(run, r, k));
        }
        ab_json_add_num(o, "elapsed_s", r->elapsed_s > 0 ? r->elapsed_s : NAN); /* no child: null */
        ab_json_add_str(o, "stderr_tail", r->stderr_tail);
        cJSON_AddItemToArray(cases, o);
    }
    cJSON_AddItemToObject(doc, "diagnostics", diags);
    return doc;
}
