/* fastpath-doc.c — the report document of a fast-path count (report.json,
 * schema "allocbench-fastpath"), which every format renders.  Every figure
 * comes from fastpath.c; one not measured is null. */
#include "fastpath.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool row_measured(const struct ab_fp_row *r)
{
    return r->status == AB_TRIAL_OK && r->instructions.valid;
}

static cJSON *dist_json(const struct ab_fp_dist *d, bool measured)
{
    cJSON *o = cJSON_CreateObject();
    bool pc = measured && d->valid;
    ab_json_add_num(o, "min", pc ? (double)d->min : NAN);
    ab_json_add_num(o, "p50", pc ? (double)d->p50 : NAN);
    ab_json_add_num(o, "p90", pc ? (double)d->p90 : NAN);
    ab_json_add_num(o, "p99", pc ? (double)d->p99 : NAN);
    ab_json_add_num(o, "max", pc ? (double)d->max : NAN);
    ab_json_add_num(o, "mean", pc ? d->mean : NAN);
    if (pc) {
        cJSON *h = cJSON_AddObjectToObject(o, "histogram");
        for (size_t i = 0; i < d->nbins; i++) {
            char key[24];
            snprintf(key, sizeof key, "%llu", (unsigned long long)d->value[i]);
            cJSON_AddNumberToObject(h, key, (double)d->count[i]);
        }
    } else {
        cJSON_AddNullToObject(o, "histogram");
    }
    return o;
}

/* The matrix: the config block (sizes, ops, patterns, calls, warm-up, live
 * blocks, repetitions, alignment, limit), the allocators by name and the
 * counter; the shard's sizes. */
static void add_matrix(const struct ab_fp_run *run, cJSON *doc, const cJSON *conf)
{
    const struct ab_fp_config *cfg = run->cfg;
    cJSON *m = ab_report_matrix("fastpath", "config", cJSON_Duplicate(conf, true), cfg->subjects,
                                cfg->nsubjects, cfg->counter->name);
    cJSON *confs = NULL;
    if (cfg->shard.count) {
        confs = cJSON_CreateArray();
        for (size_t z = 0; z < cfg->nsizes; z++) {
            if (!run->size_in_shard[z])
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "size", (double)cfg->sizes[z]);
            cJSON_AddItemToArray(confs, o);
        }
    }
    ab_report_add_matrix(doc, m, &cfg->shard, run->shard_cost, run->matrix_cost, confs);
}

cJSON *ab_fp_doc(const struct ab_fp_run *run)
{
    const struct ab_fp_config *cfg = run->cfg;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "schema_version", AB_FP_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "schema", AB_FP_SCHEMA);
    cJSON_AddStringToObject(doc, "command", "fastpath");
    cJSON *c = ab_report_context_json(&run->session.host, run->session.started_utc,
                                      cfg->counter->name, cfg->counter_version, cfg->subjects,
                                      cfg->nsubjects);
    cJSON_AddItemToObject(doc, "context", c);

    cJSON *conf = cJSON_AddObjectToObject(doc, "config");
    cJSON *sizes = cJSON_AddArrayToObject(conf, "sizes");
    for (size_t i = 0; i < cfg->nsizes; i++)
        cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)cfg->sizes[i]));
    cJSON *ops = cJSON_AddArrayToObject(conf, "ops");
    for (int op = 0; op < AB_FP_OP_COUNT; op++)
        if (cfg->op_on[op])
            cJSON_AddItemToArray(ops, cJSON_CreateString(ab_fp_op_name((enum ab_fp_op)op)));
    cJSON *pats = cJSON_AddArrayToObject(conf, "patterns");
    for (int p = 0; p < AB_FP_PATTERN_COUNT; p++)
        if (cfg->pattern_on[p])
            cJSON_AddItemToArray(pats,
                                 cJSON_CreateString(ab_fp_pattern_name((enum ab_fp_pattern)p)));
    cJSON_AddNumberToObject(conf, "calls", cfg->calls);
    cJSON_AddNumberToObject(conf, "warmup", cfg->warmup);
    cJSON_AddNumberToObject(conf, "keep_live", cfg->keep_live);
    cJSON_AddNumberToObject(conf, "repetitions", cfg->repetitions);
    cJSON_AddNumberToObject(conf, "alignment", AB_FP_ALIGNMENT);
    cJSON_AddNumberToObject(conf, "timeout_s", cfg->timeout_s);
    add_matrix(run, doc, conf);

    cJSON *rows = cJSON_AddArrayToObject(doc, "rows");
    for (size_t i = 0; i < run->nrows; i++) {
        const struct ab_fp_row *r = &run->rows[i];
        bool m = row_measured(r);
        cJSON *o = cJSON_CreateObject();
        const struct ab_subject *subj = &cfg->subjects[r->subject];
        cJSON_AddStringToObject(o, "allocator", subj->name);
        ab_json_add_str(o, "allocator_version", subj->version);
        cJSON_AddStringToObject(o, "op", ab_fp_op_name(r->op));
        cJSON_AddNumberToObject(o, "size", (double)r->size);
        cJSON_AddStringToObject(o, "pattern", ab_fp_pattern_name(r->pattern));
        cJSON_AddStringToObject(o, "counter", cfg->counter->name);
        cJSON_AddStringToObject(o, "status", ab_trial_status_name(r->status));
        if (r->reason[0])
            cJSON_AddStringToObject(o, "reason", r->reason);
        else if (r->status == AB_TRIAL_OK && !r->agree)
            cJSON_AddStringToObject(o, "reason", "the repetitions disagree");
        else
            cJSON_AddNullToObject(o, "reason");
        ab_json_add_num(o, "calls", m ? (double)r->calls : NAN);
        ab_json_add_num(o, "flagged_calls", m ? (double)r->flagged : NAN);
        cJSON_AddNumberToObject(o, "repetitions", r->repetitions);
        cJSON_AddNumberToObject(o, "repetitions_measured", r->measured);
        if (m)
            cJSON_AddBoolToObject(o, "repetitions_agree", r->agree);
        else
            cJSON_AddNullToObject(o, "repetitions_agree");
        cJSON *rp = cJSON_AddObjectToObject(o, "repetition_p50");
        static const char *const fig[4] = {"instructions", "branches", "conditional",
                                           "fast_path_reference"};
        for (int k = 0; k < 4; k++) {
            cJSON *a = cJSON_AddArrayToObject(rp, fig[k]);
            for (unsigned j = 0; m && j < r->measured && j < r->repetitions; j++)
                cJSON_AddItemToArray(a, isfinite(AB_FP_REP(r, k, j))
                                            ? cJSON_CreateNumber(AB_FP_REP(r, k, j))
                                            : cJSON_CreateNull());
        }
        cJSON_AddItemToObject(o, "instructions", dist_json(&r->instructions, m));
        cJSON_AddItemToObject(o, "branches", dist_json(&r->branches, m));
        cJSON_AddItemToObject(o, "conditional", dist_json(&r->conditional, m));
        ab_json_add_num(o, "conditional_taken_per_call", m ? r->taken : NAN);
        ab_json_add_num(o, "conditional_not_taken_per_call", m ? r->not_taken : NAN);
        ab_json_add_num(o, "indirect_per_call", m ? r->indirect : NAN);
        ab_json_add_num(o, "locked_per_call", m ? r->locked : NAN);
        ab_json_add_num(o, "rep_instructions_per_call", m ? r->rep_instructions : NAN);
        ab_json_add_num(o, "rep_iterations_per_call", m ? r->rep_iterations : NAN);
        ab_json_add_num(o, "slow_path_share", m ? r->slow_path_share : NAN);
        ab_json_add_num(o, "fast_path_reference", m ? r->fast_path_ref : NAN);
        cJSON_AddItemToArray(rows, o);
    }
    cJSON_AddNumberToObject(doc, "failures", run->failures);
    return doc;
}
