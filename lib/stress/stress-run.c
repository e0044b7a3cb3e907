/*
 * stress-run.c — `allocbench stress`: the orchestration: for every allocator, every case of the profile in
 * a fresh child, its outcome turned into a verdict.  A case the profile
 * rules out is recorded as not applicable with the reason; a crashed or
 * hung case is a diagnostic of its own.
 */
#include "stress.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *case_request(const struct ab_stress_config *cfg, const struct ab_subject *s,
                          const struct ab_stress_case *sc, unsigned threads,
                          const struct ab_policy_plan *plan)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "mode", "stress");
    cJSON *subj = cJSON_AddObjectToObject(req, "subject");
    cJSON_AddStringToObject(subj, "kind", ab_subject_kind_name(s->kind));
    cJSON_AddStringToObject(subj, "path", s->path);
    cJSON_AddStringToObject(req, "case", sc->name);
    cJSON_AddStringToObject(req, "profiles_file", cfg->profiles_path);
    cJSON_AddStringToObject(req, "profiles", cfg->profiles_text);
    cJSON_AddStringToObject(req, "profile", cfg->profile->name);
    cJSON_AddNumberToObject(req, "threads", threads);
    cJSON_AddNumberToObject(req, "ops", (double)cfg->ops);
    cJSON_AddNumberToObject(req, "duration_s", cfg->duration_s);
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);
    cJSON_AddStringToObject(req, "seed", seed); /* exactly, as text */
    cJSON_AddBoolToObject(req, "verify", cfg->verify);
    ab_policy_plan_json(plan, req);
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return text;
}

static void add_diag(struct ab_findings *f, enum ab_code code, uint64_t count, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static void add_diag(struct ab_findings *f, enum ab_code code, uint64_t count, const char *fmt,
                     ...)
{
    if (f->ndiags == AB_FINDINGS_MAX)
        return;
    struct ab_diag *d = &f->diags[f->ndiags];
    d->code = code;
    f->diag_count[f->ndiags++] = count;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof d->detail, fmt, ap);
    va_end(ap);
}

/* The child's outcome into the record. */
static void record_case(struct ab_stress_record *r, const struct ab_child_result *c,
                        double timeout_s)
{
    struct ab_findings *f = &r->f;
    r->elapsed_s = c->elapsed_s;
    ab_strlcpy(r->stderr_tail, c->stderr_tail, sizeof r->stderr_tail);
    r->verdict = AB_CASE_FAIL;
    const char *sig = c->status == AB_CHILD_CRASHED && sigabbrev_np(c->signal)
                          ? sigabbrev_np(c->signal) : "?";
    if (c->leftover)
        add_diag(f, AB_ALLOCBENCH_SUBJECT_LEFTOVER, 1,
                 "a process the case started held its pipes after it exited");
    if (c->channel_error[0]) {
        snprintf(r->reason, sizeof r->reason, "the reply was refused: %s", c->channel_error);
        add_diag(f, AB_ALLOCBENCH_SUBJECT_CHANNEL, 1, "%s", c->channel_error);
        return;
    }
    switch (c->status) {
    case AB_CHILD_CRASHED:
        snprintf(r->reason, sizeof r->reason, "killed by signal %d (SIG%s)", c->signal, sig);
        add_diag(f, AB_ALLOCBENCH_TRIAL_CRASHED, 1, "signal=SIG%s", sig);
        return;
    case AB_CHILD_TIMEOUT:
        snprintf(r->reason, sizeof r->reason, "no result within %.1f s", timeout_s);
        add_diag(f, AB_ALLOCBENCH_TRIAL_TIMEOUT, 1, "timeout=%.1fs", timeout_s);
        return;
    case AB_CHILD_FAILED:
        snprintf(r->reason, sizeof r->reason, "exited with status %d without a result",
                 c->exit_code);
        add_diag(f, AB_ALLOCBENCH_TRIAL_FAILED, 1, "exit=%d", c->exit_code);
        return;
    case AB_CHILD_OK:
        break;
    }
    const cJSON *d = c->doc;
    if (!ab_child_ok(d)) {
        const char *err = ab_json_str(d, "error");
        ab_strlcpy(r->reason, *err ? err : "failed", sizeof r->reason);
        add_diag(f, ab_child_code(d), 1, "%s", r->reason);
        return;
    }
    const char *na = ab_json_str(d, "not_applicable");
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "not_applicable"))) {
        r->verdict = AB_CASE_NA;
        ab_strlcpy(r->reason, na, sizeof r->reason);
        return;
    }
    static const char *const counts[] = {"operations", "blocks_verified", "wall_ns"};
    char why[128] = "";
    if (ab_reply_counts(d, counts, 3, why, sizeof why) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(d, "checks"))) {
        ab_strlcpy(r->reason, why[0] ? why : "the reply has no checks", sizeof r->reason);
        add_diag(f, AB_ALLOCBENCH_SUBJECT_CHANNEL, 1, "%s", r->reason);
        return;
    }
    r->ran = true;
    double v;
    f->ops = isfinite(v = ab_json_num(d, "operations", NAN)) ? (uint64_t)v : 0;
    f->verified = isfinite(v = ab_json_num(d, "blocks_verified", NAN)) ? (uint64_t)v : 0;
    f->wall_ns = isfinite(v = ab_json_num(d, "wall_ns", NAN)) ? (uint64_t)v : 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(d, "checks"))
    {
        if (f->nchecks == AB_FINDINGS_MAX)
            break;
        struct ab_check *k = &f->checks[f->nchecks++];
        const char *verdict = ab_json_str(o, "verdict");
        ab_strlcpy(k->name, ab_json_str(o, "name"), sizeof k->name);
        ab_strlcpy(k->detail, ab_json_str(o, "detail"), sizeof k->detail);
        k->verdict = AB_VERDICT_SKIPPED;
        for (int x = AB_VERDICT_HELD; x <= AB_VERDICT_SKIPPED; x++)
            if (!strcmp(verdict, ab_verdict_name((enum ab_verdict)x)))
                k->verdict = (enum ab_verdict)x;
    }
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(d, "diagnostics"))
    {
        double count = ab_json_num(o, "count", 1);
        add_diag(f, ab_code_from_name(ab_json_str(o, "code")), (uint64_t)count, "%s",
                 ab_json_str(o, "detail"));
    }
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(d, "figures"))
    {
        if (f->nfigures == AB_FINDINGS_MAX)
            break;
        struct ab_figure *g = &f->figures[f->nfigures++];
        ab_strlcpy(g->name, ab_json_str(o, "name"), sizeof g->name);
        ab_strlcpy(g->unit, ab_json_str(o, "unit"), sizeof g->unit);
        g->value = ab_json_num(o, "value", NAN);
    }
    const char *inc = ab_json_str(d, "incomplete");
    if (f->ndiags) {
        r->verdict = AB_CASE_FAIL;
    } else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "incomplete"))) {
        r->verdict = AB_CASE_INCOMPLETE;
        f->incomplete = true;
        ab_strlcpy(f->incomplete_reason, inc, sizeof f->incomplete_reason);
        ab_strlcpy(r->reason, inc, sizeof r->reason);
    } else if (!f->ops) {
        /* A case that did nothing proves nothing: never a pass. */
        r->verdict = AB_CASE_INCOMPLETE;
        f->incomplete = true;
        snprintf(f->incomplete_reason, sizeof f->incomplete_reason,
                 "the case reported no operation");
        ab_strlcpy(r->reason, f->incomplete_reason, sizeof r->reason);
    } else {
        r->verdict = AB_CASE_PASS;
    }
}

/* Why the profile rules a case out, or NULL. */
static const char *ruled_out(const struct ab_profile *p, size_t ci, char *buf, size_t n)
{
    size_t ncases;
    const struct ab_stress_case *const *registry = ab_stress_cases(&ncases);
    if (!ab_case_set_has(&p->cases, registry[ci]->name)) {
        snprintf(buf, n, "not among profile %s's cases", p->name);
        return buf;
    }
    if (registry[ci]->needs_remote && !p->remote_frees) {
        snprintf(buf, n, "profile %s allows no remote frees", p->name);
        return buf;
    }
    return NULL;
}

/* Which of the cases asked for (in the registry's order) this shard runs:
 * run->case_in_shard and the costs; how many, or -ENOMEM. */
static long slice(const struct ab_stress_config *cfg, struct ab_stress_run *run)
{
    size_t nregistered, n = 0;
    const struct ab_stress_case *const *registry = ab_stress_cases(&nregistered);
    size_t idx[AB_CASES_MAX];
    double cost[AB_CASES_MAX];
    unsigned shard_of[AB_CASES_MAX] = {0};
    for (size_t ci = 0; ci < nregistered && ci < AB_CASES_MAX; ci++) {
        if (!ab_case_set_has(&cfg->cases, registry[ci]->name))
            continue;
        char why[256];
        idx[n] = ci;
        cost[n++] = ruled_out(cfg->profile, ci, why, sizeof why) ? 0 : (double)cfg->nsubjects;
    }
    if (cfg->shard.count && ab_shard_assign(cost, n, cfg->shard.count, shard_of))
        return -ENOMEM;
    long taken = 0;
    for (size_t i = 0; i < n; i++) {
        run->matrix_cost += cost[i];
        if (shard_of[i] != cfg->shard.index)
            continue;
        run->case_in_shard[idx[i]] = true;
        run->shard_cost += cost[i];
        taken++;
    }
    return taken;
}

int ab_stress_execute(const struct ab_stress_config *cfg, struct ab_stress_run *run)
{
    memset(run, 0, sizeof *run);
    run->cfg = cfg;
    size_t nregistered;
    const struct ab_stress_case *const *registry = ab_stress_cases(&nregistered);
    long ncases = slice(cfg, run);
    if (ncases < 0)
        return (int)ncases;
    size_t total = (size_t)ncases * cfg->nsubjects;
    int described = ab_session_begin(&run->session, cfg->subjects, cfg->nsubjects,
                                     cfg->timeout_s, cfg->obs, total);
    if (described)
        return described;
    if (cfg->shard.count && !ncases)
        ab_session_warn(&run->session, "shard %u/%u has no case: fewer than %u are asked for",
                        cfg->shard.index, cfg->shard.count, cfg->shard.count);
    run->records = calloc(total ? total : 1, sizeof *run->records);
    if (!run->records)
        return -ENOMEM;
    unsigned threads = ab_profile_threads(cfg->profile);
    for (size_t s = 0; s < cfg->nsubjects; s++) {
        const struct ab_subject *subj = &cfg->subjects[s];
        for (size_t ci = 0; ci < nregistered; ci++) {
            if (ci >= AB_CASES_MAX || !run->case_in_shard[ci])
                continue;
            struct ab_stress_record *r = &run->records[run->nrecords++];
            r->subject = (unsigned)s;
            r->case_index = (unsigned)ci;
            r->threads = threads;
            char why[256];
            if (ruled_out(cfg->profile, ci, why, sizeof why)) {
                r->verdict = AB_CASE_NA;
                ab_strlcpy(r->reason, why, sizeof r->reason);
            } else if (subj->describe_error[0]) {
                /* Never a silent run on some other allocator. */
                r->verdict = AB_CASE_FAIL;
                ab_strlcpy(r->reason, subj->describe_error, sizeof r->reason);
                add_diag(&r->f, subj->describe_code, 1, "%s", subj->describe_error);
            } else {
                ab_session_progress(&run->session, "stress %s %s %s", cfg->profile->name,
                                    subj->name, registry[ci]->name);
                /* The profile's policies through the allocator's own knobs,
                 * in place before it initialises (knobs.c). */
                struct ab_policy_plan plan;
                ab_policy_plan(cfg->profile, subj->family,
                               !strcmp(registry[ci]->name, "exhaustion"), &plan);
                char *req = case_request(cfg, subj, registry[ci], threads, &plan);
                if (!req)
                    return -ENOMEM;
                struct ab_child_result c;
                struct ab_exec_setup setup = {plan.env, ab_policy_before_exec, &plan};
                int rc = ab_runner_exec_setup(req,
                                              subj->kind == AB_SUBJECT_PRELOAD ? subj->path : NULL,
                                              &setup, cfg->timeout_s, &c);
                free(req);
                if (rc)
                    return rc;
                record_case(r, &c, cfg->timeout_s);
                ab_child_result_free(&c);
            }
            if (r->verdict != AB_CASE_PASS && r->verdict != AB_CASE_NA)
                run->failures++;
        }
    }
    ab_session_end(&run->session);
    return 0;
}

void ab_stress_free(struct ab_stress_run *run)
{
    free(run->records);
    run->records = NULL;
}
