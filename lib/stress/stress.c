/*
 * stress.c — the child mode "stress": configure a plugin for the profile,
 * run one case and reply with its findings.
 */
#include "stress.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------- the child's mode */

/* Configure a plugin for the profile: the hooks where the profile opts in
 * (the node the parent chose), the page limit in the exhaustion case.  A
 * refusal of the hooks is an answer (their checks become not applicable);
 * a refusal of the profile itself rules the case out. */
static int configure_plugin(struct ab_stress *s, const struct ab_profile *p,
                            const struct ab_policy_plan *plan, char *why, size_t n)
{
    const struct allocbench_plugin *pl = s->heap->plugin;
    struct ab_hooks *hk = &s->hooks;
    hk->numa_node = -1;
    if (!pl->configure) {
        snprintf(hk->hugepages_na, sizeof hk->hugepages_na, "plugin %s has no configure()",
                 pl->name);
        ab_strlcpy(hk->numa_na, hk->hugepages_na, sizeof hk->numa_na);
        ab_strlcpy(hk->limit_na, hk->hugepages_na, sizeof hk->limit_na);
        return 0;
    }
    struct allocbench_plugin_config c = {.struct_size = sizeof c};
    c.profile = p->abi_bit;
    c.hugepages = p->hugepages == AB_HOOK_OPT_IN;
    c.numa_node = plan->numa_node;
    c.page_limit = plan->page_limit;
    int rc = hk->configure_rc = pl->configure(&c);
    if (rc && (c.hugepages || c.numa_node >= 0)) {
        hk->hooks_refused = true;
        hk->hooks_rc = rc;
        c.hugepages = 0;
        c.numa_node = -1;
        rc = pl->configure(&c);
        snprintf(hk->hugepages_na, sizeof hk->hugepages_na, "plugin %s refused the hooks (%s)",
                 pl->name, strerror(-hk->hooks_rc));
        ab_strlcpy(hk->numa_na, hk->hugepages_na, sizeof hk->numa_na);
    }
    if (rc && c.page_limit) {
        c.page_limit = 0;
        rc = pl->configure(&c);
        snprintf(hk->limit_na, sizeof hk->limit_na, "plugin %s refused the page limit",
                 pl->name);
    }
    if (rc) {
        snprintf(why, n, "the plugin refused profile %s: %s", p->name, strerror(-rc));
        return rc;
    }
    hk->configured = true;
    hk->hugepages = c.hugepages;
    hk->numa_node = c.numa_node;
    hk->page_limit = c.page_limit;
    hk->limit_kind = c.page_limit ? AB_LIMIT_BACKEND : AB_LIMIT_NONE;
    if (!c.page_limit && !hk->limit_na[0])
        snprintf(hk->limit_na, sizeof hk->limit_na, "the plugin has no page limit configured");
    return 0;
}

/* What the parent set up for this child (knobs.c), as the checks read it. */
static void take_plan(struct ab_stress *s, const struct ab_policy_plan *pl)
{
    struct ab_hooks *hk = &s->hooks;
    ab_strlcpy(hk->hugepages_how, pl->hugepages_how, sizeof hk->hugepages_how);
    ab_strlcpy(hk->numa_how, pl->numa_how, sizeof hk->numa_how);
    ab_strlcpy(hk->limit_how, pl->limit_how, sizeof hk->limit_how);
    ab_strlcpy(hk->numa_na, pl->numa_na, sizeof hk->numa_na);
    hk->numa_skipped = pl->numa_skipped;
    if (s->heap->plugin)
        return; /* the rest is configure()'s answer */
    hk->hugepages = pl->hugepages;
    ab_strlcpy(hk->hugepages_na, pl->hugepages_na, sizeof hk->hugepages_na);
    hk->numa_node = pl->numa_node;
    hk->page_limit = pl->page_limit;
    hk->limit_kind = pl->page_limit ? pl->limit_kind : AB_LIMIT_NONE;
}

/* Here, not in stress-doc.c: the trial child needs it, and the document's
 * writers would bring report.c, the formats and libm into the child. */
cJSON *ab_checks_json(const struct ab_check *c, unsigned n)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned k = 0; k < n; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c[k].name);
        cJSON_AddStringToObject(o, "verdict", ab_verdict_name(c[k].verdict));
        cJSON_AddStringToObject(o, "detail", c[k].detail);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *findings_json(const struct ab_findings *f)
{
    cJSON *d = ab_child_reply();
    cJSON_AddNumberToObject(d, "operations", (double)f->ops);
    cJSON_AddNumberToObject(d, "blocks_verified", (double)f->verified);
    cJSON_AddNumberToObject(d, "wall_ns", (double)f->wall_ns);
    if (f->incomplete)
        cJSON_AddStringToObject(d, "incomplete", f->incomplete_reason);
    cJSON_AddItemToObject(d, "checks", ab_checks_json(f->checks, f->nchecks));
    cJSON *a = cJSON_AddArrayToObject(d, "diagnostics");
    for (unsigned i = 0; i < f->ndiags; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", ab_code_name(f->diags[i].code));
        cJSON_AddStringToObject(o, "detail", f->diags[i].detail);
        cJSON_AddNumberToObject(o, "count", (double)f->diag_count[i]);
        cJSON_AddItemToArray(a, o);
    }
    a = cJSON_AddArrayToObject(d, "figures");
    for (unsigned i = 0; i < f->nfigures; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->figures[i].name);
        cJSON_AddStringToObject(o, "unit", f->figures[i].unit);
        if (isfinite(f->figures[i].value))
            cJSON_AddNumberToObject(o, "value", f->figures[i].value);
        else
            cJSON_AddNullToObject(o, "value");
        cJSON_AddItemToArray(a, o);
    }
    return d;
}

static cJSON *run_case(const struct ab_stress_request *rq, const struct ab_policy_plan *plan,
                       struct ab_heap *heap, enum ab_code *code, char *why, size_t n)
{
    size_t ncases;
    const struct ab_stress_case *const *cases = ab_stress_cases(&ncases);
    int ci = ab_stress_case_index(rq->case_name);
    if (ci < 0) {
        ab_heap_close(heap);
        *code = AB_ALLOCBENCH_INTERNAL;
        snprintf(why, n, "unknown stress case in request");
        return NULL;
    }
    const struct ab_stress_case *sc = cases[ci];
    struct ab_profiles ps;
    const struct ab_profile *prof = NULL;
    if (ab_profiles_parse(rq->profiles_file, rq->profiles, &ps, why, n) == 0 &&
        !(prof = ab_profile_find(&ps, rq->profile))) {
        ab_profiles_free(&ps);
        snprintf(why, n, "profile %s is not in %s", rq->profile, rq->profiles_file);
    }
    /* The findings live outside the allocator under test. */
    struct ab_findings *f = prof ? ab_buf_alloc(sizeof *f) : NULL;
    struct ab_stress *s = f ? ab_buf_alloc(sizeof *s) : NULL;
    if (!s) {
        if (prof) {
            ab_profiles_free(&ps);
            snprintf(why, n, "out of memory");
        }
        ab_heap_close(heap);
        *code = prof ? AB_ALLOCBENCH_INTERNAL : AB_ALLOCBENCH_BAD_INPUT;
        return NULL;
    }
    ab_stress_init(s, heap, f);
    s->prof = prof;
    s->threads = rq->threads ? rq->threads : 1;
    s->seed = rq->seed + (uint64_t)ci * 0x632be59bd9b4e019ull;
    s->verify = rq->verify;
    s->ops_cap = sc->timed ? rq->ops : 0;
    s->statm_fd = ab_statm_open();
    take_plan(s, plan);

    cJSON *reply = NULL;
    char na[512];
    if (heap->plugin && !(heap->plugin->profiles & prof->abi_bit)) {
        snprintf(na, sizeof na, "plugin %s does not support profile %s", heap->plugin->name,
                 prof->name);
        reply = cJSON_CreateObject();
    } else if (heap->plugin && configure_plugin(s, prof, plan, na, sizeof na)) {
        reply = cJSON_CreateObject();
    } else if (s->verify && !(s->shadow = ab_shadow_new())) {
        *code = AB_ALLOCBENCH_INTERNAL;
        snprintf(why, n, "cannot map the live-set shadow");
    } else {
        uint64_t t0 = ab_now_ns();
        if (sc->timed && rq->duration_s > 0)
            s->deadline_ns = t0 + (uint64_t)(rq->duration_s * 1e9);
        int rc = sc->run(s);
        f->wall_ns = ab_now_ns() - t0;
        if (s->shadow) /* what verifying the live set cost in memory */
            ab_stress_figure(s, "shadow_bytes", "bytes", (double)ab_shadow_bytes(s->shadow));
        if (rc < 0) {
            *code = AB_ALLOCBENCH_TRIAL_FAILED;
            snprintf(why, n, "the case could not run: %s", strerror(-rc));
        } else {
            ab_stress_block_checks(s);
            reply = findings_json(f);
        }
    }
    if (reply && !cJSON_GetObjectItemCaseSensitive(reply, "rc")) {
        cJSON_AddNumberToObject(reply, "rc", AB_OK);
        cJSON_AddStringToObject(reply, "not_applicable", na);
    }
    if (!s->fini_called)
        ab_heap_close(heap);
    ab_shadow_free(s->shadow);
    ab_profiles_free(&ps);
    return reply;
}

/* The request, read; closes the heap (a case may release a plugin itself). */
static cJSON *stress_mode(const cJSON *req, struct ab_heap *heap)
{
    struct ab_stress_request rq = {
        ab_json_str(req, "case"), ab_json_str(req, "profiles_file"), ab_json_str(req, "profiles"),
        ab_json_str(req, "profile"),
        (unsigned)ab_json_num(req, "threads", 1), (uint64_t)ab_json_num(req, "ops", 0),
        ab_json_num(req, "duration_s", 0), 1, ab_json_bool(req, "verify")};
    enum ab_code code = AB_ALLOCBENCH_INTERNAL;
    char why[512] = "";
    if (ab_json_u64(req, "seed", &rq.seed)) {
        ab_heap_close(heap);
        return ab_child_error(AB_ALLOCBENCH_INTERNAL, "no seed in the request");
    }
    struct ab_policy_plan plan;
    ab_policy_plan_read(req, &plan);
    cJSON *d = run_case(&rq, &plan, heap, &code, why, sizeof why);
    return d ? d : ab_child_error(code, why);
}

static const struct ab_field stress_fields[] = {
    {"case", AB_FIELD_STR, true, 1, 64},
    {"profiles_file", AB_FIELD_STR, true, 1, PATH_MAX - 1},
    {"profiles", AB_FIELD_STR, true, 0, AB_PROFILES_MAX},
    {"profile", AB_FIELD_STR, true, 1, 64},
    {"threads", AB_FIELD_INT, true, 1, AB_MAX_THREADS},
    {"ops", AB_FIELD_INT, true, 0, 9007199254740992.0},
    {"duration_s", AB_FIELD_NUM, true, 0, 86400},
    {"seed", AB_FIELD_SEED, true, 0, 0},
    {"verify", AB_FIELD_BOOL, true, 0, 0},
    {"policy", AB_FIELD_OBJ, true, 0, 0},
};
static const struct ab_field policy_fields[] = {
    {"hugepages", AB_FIELD_BOOL, true, 0, 0},
    {"thp_disabled", AB_FIELD_BOOL, true, 0, 0},
    {"hugepages_how", AB_FIELD_STR, true, 0, 95},
    {"hugepages_na", AB_FIELD_STR, true, 0, 239},
    {"numa_node", AB_FIELD_INT, true, -1, 4095},
    {"numa_process", AB_FIELD_BOOL, true, 0, 0},
    {"numa_how", AB_FIELD_STR, true, 0, 95},
    {"numa_na", AB_FIELD_STR, true, 0, 239},
    {"numa_skipped", AB_FIELD_BOOL, true, 0, 0},
    {"page_limit", AB_FIELD_SEED, true, 0, 0},
    {"limit_kind", AB_FIELD_INT, true, 0, AB_LIMIT_RLIMIT},
    {"limit_how", AB_FIELD_STR, true, 0, 95},
};

static int stress_check(const cJSON *req, char *err, size_t len)
{
    if (ab_stress_case_index(ab_json_str(req, "case")) < 0)
        return snprintf(err, len, "the stress request names no case of this program"), -EINVAL;
    return ab_fields_check(cJSON_GetObjectItemCaseSensitive(req, "policy"), "its policy",
                           policy_fields, sizeof policy_fields / sizeof policy_fields[0], err,
                           len);
}

const struct ab_child_mode ab_mode_stress = {
    AB_FIELDS(stress_fields),
    .check = stress_check,
    .name = "stress",
    .binds_heap = true,
    .closes_heap = true,
    .run = stress_mode,
};
