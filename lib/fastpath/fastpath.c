/*
 * fastpath.c — `allocbench fastpath`: instructions and branches of single
 * allocator calls.
 *
 * The measuring child (request mode "fastpath") runs the protocol: per size,
 * warm up (so allocator and thread start-up are not counted), keep a few
 * other blocks of the size live, then make `calls` calls of each op, each
 * counted on its own by the backend, through the resolved function pointers
 * of struct ab_heap (no PLT stub, no lazy-binding resolver).  The
 * orchestrating process spawns one such child per allocator and repetition
 * through the backend, gathers the counts, computes the distributions and
 * checks that the repetitions agree.  Formatting is report-fastpath.c's.
 */
#include "fastpath.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------ statistics */

/* A bin of a histogram being sorted. */
struct bin {
    uint64_t value, count;
};

static int cmp_bin(const void *a, const void *b)
{
    return ab_cmp_u64(&((const struct bin *)a)->value, &((const struct bin *)b)->value);
}

/* Nearest rank: the smallest count with at least q of the calls at or
 * below it; always a count that was seen. */
static uint64_t rank(const struct ab_fp_dist *d, uint64_t calls, double q)
{
    uint64_t need = (uint64_t)ceil(q * (double)calls), seen = 0;
    for (size_t i = 0; i < d->nbins; i++) {
        seen += d->count[i];
        if (seen >= need)
            return d->value[i];
    }
    return d->max;
}

int ab_fp_dist_from(const uint64_t *value, const uint64_t *count, size_t n,
                    struct ab_fp_dist *out)
{
    memset(out, 0, sizeof *out);
    if (!n)
        return 0;
    struct bin *b = malloc(n * sizeof *b);
    out->value = malloc(n * sizeof *out->value);
    out->count = malloc(n * sizeof *out->count);
    if (!b || !out->value || !out->count) {
        free(b);
        ab_fp_dist_free(out);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        b[i] = (struct bin){value[i], count[i]};
    qsort(b, n, sizeof *b, cmp_bin);
    uint64_t calls = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!b[i].count)
            continue;
        if (!out->nbins || out->value[out->nbins - 1] != b[i].value) {
            out->value[out->nbins] = b[i].value;
            out->count[out->nbins++] = 0;
        }
        out->count[out->nbins - 1] += b[i].count;
        calls += b[i].count;
        sum += (double)b[i].value * (double)b[i].count;
    }
    free(b);
    if (!calls)
        return 0;
    out->valid = true;
    out->calls = calls;
    out->min = out->value[0];
    out->max = out->value[out->nbins - 1];
    out->p50 = rank(out, calls, 0.50);
    out->p90 = rank(out, calls, 0.90);
    out->p99 = rank(out, calls, 0.99);
    out->mean = sum / (double)calls;
    return 0;
}

void ab_fp_dist_free(struct ab_fp_dist *d)
{
    free(d->value);
    free(d->count);
    d->value = d->count = NULL;
    d->nbins = 0;
}

/* ---------------------------------------------------------- orchestrator */

/* Per-call totals a backend may add to a batch, in the order of the row's
 * fields taken ... rep_iterations. */
static const char *const total_keys[] = {"conditional_taken", "conditional_not_taken",
                                         "indirect", "locked", "rep_instructions",
                                         "rep_iterations"};
#define NTOTALS (sizeof total_keys / sizeof total_keys[0])

/* Counts gathered for one row over its repetitions: each figure's
 * histograms, appended. */
struct acc {
    uint64_t *value[3], *count[3]; /* instructions, branches, conditional */
    size_t nbins[3], cap[3];
    bool missing[3];               /* some repetition did not count the figure */
    double total[NTOTALS];         /* NaN once a repetition did not count it */
};

/* sizes: the sizes this child takes (one, or every size when the backend
 * forks a process per size itself). */
static char *fastpath_request(const struct ab_fp_config *cfg, const struct ab_subject *s,
                              const uint64_t *sizes, size_t nsizes)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "mode", "fastpath");
    cJSON *subj = cJSON_AddObjectToObject(req, "subject");
    cJSON_AddStringToObject(subj, "kind", ab_subject_kind_name(s->kind));
    cJSON_AddStringToObject(subj, "path", s->path);
    cJSON_AddStringToObject(req, "counter", cfg->counter->name);
    cJSON *sz = cJSON_AddArrayToObject(req, "sizes");
    for (size_t i = 0; i < nsizes; i++)
        cJSON_AddItemToArray(sz, cJSON_CreateNumber((double)sizes[i]));
    cJSON *ops = cJSON_AddArrayToObject(req, "ops");
    for (int op = 0; op < AB_FP_OP_COUNT; op++)
        if (cfg->op_on[op])
            cJSON_AddItemToArray(ops, cJSON_CreateString(ab_fp_op_name((enum ab_fp_op)op)));
    cJSON *pats = cJSON_AddArrayToObject(req, "patterns");
    for (int p = 0; p < AB_FP_PATTERN_COUNT; p++)
        if (cfg->pattern_on[p])
            cJSON_AddItemToArray(pats,
                                 cJSON_CreateString(ab_fp_pattern_name((enum ab_fp_pattern)p)));
    cJSON_AddBoolToObject(req, "fork_sizes", cfg->counter->sizes_in_one_child);
    cJSON_AddNumberToObject(req, "calls", cfg->calls);
    cJSON_AddNumberToObject(req, "warmup", cfg->warmup);
    cJSON_AddNumberToObject(req, "keep_live", cfg->keep_live);
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return text;
}

/* A histogram from a reply: [[count, calls], ...]; false when malformed. */
static bool hist_ok(const cJSON *h)
{
    const cJSON *pair;
    if (!cJSON_IsArray(h))
        return false;
    cJSON_ArrayForEach(pair, h)
    {
        if (cJSON_GetArraySize(pair) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(pair, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(pair, 1)) ||
            cJSON_GetArrayItem(pair, 0)->valuedouble < 0 ||
            cJSON_GetArrayItem(pair, 1)->valuedouble < 0)
            return false;
    }
    return true;
}

static uint64_t hist_calls(const cJSON *h)
{
    uint64_t n = 0;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, h) n += (uint64_t)cJSON_GetArrayItem(pair, 1)->valuedouble;
    return n;
}

/* The calls of a histogram above a count. */
static uint64_t hist_above(const cJSON *h, double limit)
{
    uint64_t n = 0;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, h)
    {
        if (cJSON_GetArrayItem(pair, 0)->valuedouble > limit)
            n += (uint64_t)cJSON_GetArrayItem(pair, 1)->valuedouble;
    }
    return n;
}

static int acc_push(struct acc *a, int f, const cJSON *h)
{
    size_t k = (size_t)cJSON_GetArraySize(h);
    if (a->nbins[f] + k > a->cap[f]) {
        size_t cap = (a->nbins[f] + k) * 2;
        uint64_t *v = realloc(a->value[f], cap * sizeof *v);
        if (v)
            a->value[f] = v;
        uint64_t *c = realloc(a->count[f], cap * sizeof *c);
        if (c)
            a->count[f] = c;
        if (!v || !c)
            return -ENOMEM;
        a->cap[f] = cap;
    }
    const cJSON *pair;
    cJSON_ArrayForEach(pair, h)
    {
        a->value[f][a->nbins[f]] = (uint64_t)cJSON_GetArrayItem(pair, 0)->valuedouble;
        a->count[f][a->nbins[f]++] = (uint64_t)cJSON_GetArrayItem(pair, 1)->valuedouble;
    }
    return 0;
}

/* One repetition's p50 of a figure (the agreement check, the reference). */
static double p50_of(const cJSON *h)
{
    size_t k = (size_t)cJSON_GetArraySize(h);
    uint64_t *v = malloc((k ? k : 1) * sizeof *v), *c = malloc((k ? k : 1) * sizeof *c);
    double r = NAN;
    struct ab_fp_dist d;
    if (v && c) {
        size_t i = 0;
        const cJSON *pair;
        cJSON_ArrayForEach(pair, h)
        {
            v[i] = (uint64_t)cJSON_GetArrayItem(pair, 0)->valuedouble;
            c[i++] = (uint64_t)cJSON_GetArrayItem(pair, 1)->valuedouble;
        }
        if (ab_fp_dist_from(v, c, k, &d) == 0 && d.valid)
            r = (double)d.p50;
        ab_fp_dist_free(&d);
    }
    free(v);
    free(c);
    return r;
}

/* The row of (subject, op, size, pattern): rows are laid out subject by
 * pattern by size by op, every pattern present (one not asked for is
 * counted for reference only and not reported). */
static struct ab_fp_row *row_at(struct ab_fp_run *run, unsigned subject, int op,
                                uint64_t size, int pattern)
{
    if (op < 0 || pattern < 0)
        return NULL;
    for (size_t i = 0; i < run->nrows; i++) {
        struct ab_fp_row *r = &run->rows[i];
        if (r->subject == subject && (int)r->op == op && r->size == size &&
            (int)r->pattern == pattern)
            return r;
    }
    return NULL;
}

static void fail_row(struct ab_fp_row *r, enum ab_trial_status st, const char *why)
{
    if (r->status == AB_TRIAL_OK || r->status == AB_TRIAL_UNAVAILABLE) {
        r->status = st;
        ab_strlcpy(r->reason, why, sizeof r->reason);
    }
}

/* Why a child gave no counts; false when it did. */
static bool child_failed(const struct ab_child_result *c, double timeout_s,
                         enum ab_trial_status *st, char *why, size_t wlen)
{
    *st = AB_TRIAL_FAILED;
    why[0] = '\0';
    if (c->channel_error[0]) {
        snprintf(why, wlen, "the reply was refused (%s): %s",
                 ab_code_name(AB_ALLOCBENCH_SUBJECT_CHANNEL), c->channel_error);
        return true;
    }
    switch (c->status) {
    case AB_CHILD_CRASHED:
        *st = AB_TRIAL_CRASHED;
        snprintf(why, wlen, "the measuring child was killed by signal %d (SIG%s)", c->signal,
                 sigabbrev_np(c->signal) ? sigabbrev_np(c->signal) : "?");
        break;
    case AB_CHILD_TIMEOUT:
        *st = AB_TRIAL_TIMEOUT;
        snprintf(why, wlen, "no result within %.1f s", timeout_s);
        break;
    case AB_CHILD_FAILED:
        snprintf(why, wlen, "the measuring child exited with status %d without a result",
                 c->exit_code);
        break;
    case AB_CHILD_OK:
        /* A supervising backend reports its measuring child's end itself. */
        if (!ab_child_ok(c->doc)) {
            snprintf(why, wlen, "%s", ab_json_str(c->doc, "error"));
            if (ab_child_code(c->doc) == AB_ALLOCBENCH_TRIAL_CRASHED)
                *st = AB_TRIAL_CRASHED;
        }
        break;
    }
    if (!why[0] && c->status == AB_CHILD_OK)
        return false;
    if (c->stderr_tail[0]) {
        size_t l = strlen(why);
        snprintf(why + l, wlen - l, "; stderr: %.200s", c->stderr_tail);
    }
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return true;
}

static const char *const fig_names[3] = {"instructions", "branches", "conditional"};

/* The pairs p50 of instructions of (op, size) in this reply: the
 * reference its batches' slow calls are counted against; NaN if none. */
static double reference_in(const cJSON *batches, const char *op, double size)
{
    const cJSON *b;
    cJSON_ArrayForEach(b, batches)
    {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(b, "instructions");
        if (!strcmp(ab_json_str(b, "pattern"), "pairs") && !strcmp(ab_json_str(b, "op"), op) &&
            ab_json_num(b, "size", -1) == size && !strcmp(ab_json_str(b, "status"), "ok") &&
            hist_ok(h) && hist_calls(h))
            return p50_of(h);
    }
    return NAN;
}

/* Fold one batch record of a reply into its row. */
static void take_batch(struct ab_fp_row *r, struct acc *a, unsigned rep, const cJSON *b,
                       double ref)
{
    const char *status = ab_json_str(b, "status");
    if (!strcmp(status, "unavailable")) {
        /* Never over a failure an earlier repetition reported. */
        if (r->status == AB_TRIAL_OK) {
            r->status = AB_TRIAL_UNAVAILABLE;
            ab_strlcpy(r->reason, ab_json_str(b, "reason"), sizeof r->reason);
        }
        return;
    }
    if (strcmp(status, "ok")) {
        fail_row(r, AB_TRIAL_FAILED, ab_json_str(b, "reason"));
        return;
    }
    const cJSON *h[3];
    bool bad = false;
    for (int f = 0; f < 3; f++) {
        h[f] = cJSON_GetObjectItemCaseSensitive(b, fig_names[f]);
        if (!h[f] || cJSON_IsNull(h[f]))
            h[f] = NULL;
        else if (!hist_ok(h[f]) || hist_calls(h[f]) != hist_calls(h[0]))
            bad = true;
    }
    if (!h[0] || bad) {
        fail_row(r, AB_TRIAL_FAILED, "the backend returned no usable counts");
        return;
    }
    for (int f = 0; f < 3; f++) {
        if (!h[f])
            a->missing[f] = true;
        else if (acc_push(a, f, h[f]))
            bad = true;
    }
    if (bad) {
        fail_row(r, AB_TRIAL_FAILED, "out of memory for the counts");
        return;
    }
    for (size_t k = 0; k < NTOTALS; k++)
        a->total[k] += ab_json_num(b, total_keys[k], NAN);
    r->flagged += (uint64_t)ab_json_num(b, "flagged", 0);
    if (isnan(ref))
        r->ref_missing = true;
    else
        r->slow_calls += hist_above(h[0], 2 * ref);
    if (rep < r->repetitions) {
        for (int f = 0; f < 3; f++)
            AB_FP_REP(r, f, rep) = h[f] ? p50_of(h[f]) : NAN;
        AB_FP_REP(r, 3, rep) = ref;
    }
    r->measured++;
}

static bool size_in(uint64_t size, const uint64_t *sizes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sizes[i] == size)
            return true;
    return false;
}

/* Fold one child's reply (the sizes it took) into the rows of its subject. */
static void take_reply(struct ab_fp_run *run, struct acc *accs, unsigned subject, unsigned rep,
                       const uint64_t *sizes, size_t nsizes, const struct ab_child_result *c,
                       double timeout_s)
{
    char why[512];
    enum ab_trial_status st;
    if (child_failed(c, timeout_s, &st, why, sizeof why)) {
        for (size_t i = 0; i < run->nrows; i++)
            if (run->rows[i].subject == subject && size_in(run->rows[i].size, sizes, nsizes))
                fail_row(&run->rows[i], st, why);
        return;
    }
    const cJSON *batches = cJSON_GetObjectItemCaseSensitive(c->doc, "batches");
    const cJSON *b;
    cJSON_ArrayForEach(b, batches)
    {
        const char *op = ab_json_str(b, "op");
        double size = ab_json_num(b, "size", 0);
        struct ab_fp_row *r = row_at(run, subject, ab_fp_op_parse(op), (uint64_t)size,
                                     ab_fp_pattern_parse(ab_json_str(b, "pattern")));
        if (r)
            take_batch(r, &accs[r - run->rows], rep, b, reference_in(batches, op, size));
    }
}

/* Repetitions agree when they give the same fast-path figures. */
static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int finish_row(struct ab_fp_row *r, struct acc *a)
{
    if (r->status != AB_TRIAL_OK || !r->measured || r->measured < r->repetitions) {
        if (r->status == AB_TRIAL_OK) {
            r->status = AB_TRIAL_FAILED;
            ab_strlcpy(r->reason, "some repetitions returned no counts", sizeof r->reason);
        }
        return 0;
    }
    r->agree = true;
    unsigned reps = r->repetitions;
    for (unsigned k = 0; k < 4; k++)
        for (unsigned i = 1; i < reps; i++)
            if (!same(AB_FP_REP(r, k, i), AB_FP_REP(r, k, 0)))
                r->agree = false;
    struct ab_fp_dist *d[3] = {&r->instructions, &r->branches, &r->conditional};
    for (int f = 0; f < 3; f++) {
        if (a->missing[f])
            continue;
        int rc = ab_fp_dist_from(a->value[f], a->count[f], a->nbins[f], d[f]);
        if (rc)
            return rc;
    }
    r->calls = r->instructions.calls;
    double n = r->calls ? (double)r->calls : NAN;
    r->fast_path_ref = r->ref_missing ? NAN : AB_FP_REP(r, 3, 0);
    r->slow_path_share = r->ref_missing ? NAN : (double)r->slow_calls / n;
    double *per_call[NTOTALS] = {&r->taken,    &r->not_taken,        &r->indirect,
                                 &r->locked,   &r->rep_instructions, &r->rep_iterations};
    for (size_t k = 0; k < NTOTALS; k++)
        *per_call[k] = a->total[k] / n;
    return 0;
}

static void acc_free(struct acc *accs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < 3; f++) {
            free(accs[i].value[f]);
            free(accs[i].count[f]);
        }
    free(accs);
}

/* Count one child: every size in it (the backend forks a process per size
 * itself) or one size. */
static int count_child(const struct ab_fp_config *cfg, struct ab_fp_run *run, struct acc *accs,
                       unsigned s, unsigned rep, const uint64_t *sizes, size_t nsizes)
{
    const struct ab_subject *subj = &cfg->subjects[s];
    char *req = fastpath_request(cfg, subj, sizes, nsizes);
    if (!req)
        return -ENOMEM;
    struct ab_child_result c;
    double limit = cfg->timeout_s * (double)nsizes;
    int rc = cfg->counter->spawn(req, subj->kind == AB_SUBJECT_PRELOAD ? subj->path : NULL,
                                 limit, &c);
    free(req);
    if (rc)
        return rc;
    take_reply(run, accs, s, rep, sizes, nsizes, &c, limit);
    ab_child_result_free(&c);
    if (nsizes == 1)
        ab_session_progress(&run->session, "rep %u %s size %llu: counted with %s", rep + 1,
                            subj->name, (unsigned long long)sizes[0], cfg->counter->name);
    else
        ab_session_progress(&run->session, "rep %u %s, %zu sizes: counted with %s", rep + 1,
                            subj->name, nsizes, cfg->counter->name);
    return 0;
}

int ab_fp_execute(const struct ab_fp_config *cfg, struct ab_fp_run *run)
{
    memset(run, 0, sizeof *run);
    run->cfg = cfg;
    unsigned nops = 0;
    for (int op = 0; op < AB_FP_OP_COUNT; op++)
        nops += cfg->op_on[op];
    /* This shard's sizes, in --sizes order. */
    uint64_t sizes[AB_FP_MAX_SIZES];
    size_t nsizes = 0;
    double cost[AB_FP_MAX_SIZES];
    unsigned shard_of[AB_FP_MAX_SIZES] = {0};
    for (size_t z = 0; z < cfg->nsizes; z++)
        cost[z] = (double)cfg->nsubjects * cfg->repetitions;
    if (cfg->shard.count && ab_shard_assign(cost, cfg->nsizes, cfg->shard.count, shard_of))
        return -ENOMEM;
    for (size_t z = 0; z < cfg->nsizes; z++) {
        run->matrix_cost += cost[z];
        if (shard_of[z] != cfg->shard.index)
            continue;
        run->size_in_shard[z] = true;
        run->shard_cost += cost[z];
        sizes[nsizes++] = cfg->sizes[z];
    }
    size_t total = cfg->nsubjects * nsizes * nops * AB_FP_PATTERN_COUNT;
    run->rows = calloc(total ? total : 1, sizeof *run->rows);
    struct acc *accs = calloc(total ? total : 1, sizeof *accs);
    if (!run->rows || !accs) {
        free(accs);
        return -ENOMEM;
    }
    /* Every pattern gets its rows, the ones not asked for dropped at the
     * end: pairs is counted for reference whatever was asked. */
    for (unsigned s = 0; s < cfg->nsubjects; s++)
        for (int p = 0; p < AB_FP_PATTERN_COUNT; p++)
            for (size_t z = 0; z < nsizes; z++)
                for (int op = 0; op < AB_FP_OP_COUNT; op++) {
                    if (!cfg->op_on[op])
                        continue;
                    struct ab_fp_row *r = &run->rows[run->nrows++];
                    r->subject = s;
                    r->op = (enum ab_fp_op)op;
                    r->size = sizes[z];
                    r->pattern = (enum ab_fp_pattern)p;
                    r->repetitions = cfg->repetitions;
                    r->rep_p50 = calloc(4 * (size_t)cfg->repetitions, sizeof *r->rep_p50);
                    if (!r->rep_p50) {
                        free(accs);
                        return -ENOMEM;
                    }
                    r->status = AB_TRIAL_OK;
                    r->slow_path_share = r->taken = r->not_taken = r->indirect = NAN;
                    r->locked = r->rep_instructions = r->rep_iterations = NAN;
                    r->fast_path_ref = NAN;
                }
    size_t children = cfg->repetitions * cfg->nsubjects *
                      (cfg->counter->sizes_in_one_child ? !!nsizes : nsizes);
    if (ab_session_begin(&run->session, cfg->subjects, cfg->nsubjects, cfg->timeout_s, cfg->obs,
                         children))
        goto fail;
    if (cfg->shard.count && !nsizes)
        ab_session_warn(&run->session, "shard %u/%u has no size: --sizes names fewer than %u",
                        cfg->shard.index, cfg->shard.count, cfg->shard.count);
    for (unsigned s = 0; s < cfg->nsubjects; s++) {
        const struct ab_subject *subj = &cfg->subjects[s];
        /* Never a silent measurement of some other allocator. */
        for (size_t i = 0; subj->describe_error[0] && i < run->nrows; i++)
            if (run->rows[i].subject == s)
                fail_row(&run->rows[i], AB_TRIAL_FAILED, subj->describe_error);
    }
    for (unsigned rep = 0; rep < cfg->repetitions; rep++) {
        for (unsigned s = 0; s < cfg->nsubjects; s++) {
            if (cfg->subjects[s].describe_error[0])
                continue;
            int rc = 0;
            if (cfg->counter->sizes_in_one_child && nsizes)
                rc = count_child(cfg, run, accs, s, rep, sizes, nsizes);
            for (size_t z = 0; !cfg->counter->sizes_in_one_child && z < nsizes && !rc; z++)
                rc = count_child(cfg, run, accs, s, rep, &sizes[z], 1);
            if (rc)
                goto fail;
        }
    }
    ab_session_end(&run->session);
    size_t kept = 0;
    for (size_t i = 0; i < run->nrows; i++) {
        int rc = finish_row(&run->rows[i], &accs[i]);
        if (rc)
            goto fail;
        struct ab_fp_row *r = &run->rows[i];
        if (!cfg->pattern_on[r->pattern]) {
            free(r->rep_p50);
            ab_fp_dist_free(&r->instructions);
            ab_fp_dist_free(&r->branches);
            ab_fp_dist_free(&r->conditional);
            continue;
        }
        if ((r->status != AB_TRIAL_OK && r->status != AB_TRIAL_UNAVAILABLE) ||
            (r->status == AB_TRIAL_OK && !r->agree))
            run->failures++;
        run->rows[kept++] = *r;
    }
    run->nrows = kept;
    acc_free(accs, total);
    return 0;
fail:
    acc_free(accs, total);
    return -EIO;
}

void ab_fp_free(struct ab_fp_run *run)
{
    for (size_t i = 0; i < run->nrows; i++) {
        free(run->rows[i].rep_p50);
        ab_fp_dist_free(&run->rows[i].instructions);
        ab_fp_dist_free(&run->rows[i].branches);
        ab_fp_dist_free(&run->rows[i].conditional);
    }
    free(run->rows);
    run->rows = NULL;
    run->nrows = 0;
}
