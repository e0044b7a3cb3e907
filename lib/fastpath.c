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
#include "ab.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[AB_FP_OP_COUNT] = {"malloc", "free", "calloc", "realloc",
                                                     "aligned"};

const char *ab_fp_op_name(enum ab_fp_op op)
{
    return (unsigned)op < AB_FP_OP_COUNT ? op_names[op] : "?";
}

int ab_fp_op_parse(const char *name)
{
    for (int i = 0; i < AB_FP_OP_COUNT; i++)
        if (!strcmp(op_names[i], name))
            return i;
    return -1;
}

/* ------------------------------------------------------- measuring child */

/*
 * The loops that make a batch's calls when the backend counts from outside
 * the call (ptrace: from the function's entry breakpoint to its return): the
 * code between two calls is a few instructions (load, indirect call, store,
 * compare) that run natively and are never counted.  Backends that count
 * around each call (callgrind, pmu) use ab_fp_batch_call below.
 */
void ab_fp_loop_malloc(void *(*fn)(size_t), size_t size, void **out, size_t n);
void ab_fp_loop_free(void (*fn)(void *), void **in, size_t n);
void ab_fp_loop_calloc(void *(*fn)(size_t, size_t), size_t size, void **out, size_t n);
void ab_fp_loop_realloc(void *(*fn)(void *, size_t), size_t size, void **io, size_t n);
void ab_fp_loop_aligned(void *(*fn)(size_t, size_t), size_t size, void **out, size_t n);

__attribute__((noinline, used)) void ab_fp_loop_malloc(void *(*fn)(size_t), size_t size,
                                                       void **out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fn(size);
}

__attribute__((noinline, used)) void ab_fp_loop_free(void (*fn)(void *), void **in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fn(in[i]);
}

__attribute__((noinline, used)) void ab_fp_loop_calloc(void *(*fn)(size_t, size_t),
                                                       size_t size, void **out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fn(1, size);
}

__attribute__((noinline, used)) void ab_fp_loop_realloc(void *(*fn)(void *, size_t),
                                                        size_t size, void **io, size_t n)
{
    for (size_t i = 0; i < n; i++)
        io[i] = fn(io[i], size);
}

__attribute__((noinline, used)) void ab_fp_loop_aligned(void *(*fn)(size_t, size_t),
                                                        size_t size, void **out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fn(AB_FP_ALIGNMENT, size);
}

void *ab_fp_batch_fn(const struct ab_fp_batch *b)
{
    const struct ab_heap *h = b->heap;
    void *p = NULL;
    switch (b->op) {
    case AB_FP_MALLOC: memcpy(&p, &h->malloc, sizeof p); break;
    case AB_FP_FREE: memcpy(&p, &h->free, sizeof p); break;
    case AB_FP_CALLOC: memcpy(&p, &h->calloc, sizeof p); break;
    case AB_FP_REALLOC: memcpy(&p, &h->realloc, sizeof p); break;
    case AB_FP_ALIGNED: memcpy(&p, &h->aligned_alloc, sizeof p); break;
    case AB_FP_OP_COUNT: break;
    }
    return p;
}

void ab_fp_batch_run(struct ab_fp_batch *b)
{
    const struct ab_heap *h = b->heap;
    switch (b->op) {
    case AB_FP_MALLOC: ab_fp_loop_malloc(h->malloc, b->size, b->ptrs, b->n); break;
    case AB_FP_FREE: ab_fp_loop_free(h->free, b->ptrs, b->n); break;
    case AB_FP_CALLOC: ab_fp_loop_calloc(h->calloc, b->size, b->ptrs, b->n); break;
    case AB_FP_REALLOC: ab_fp_loop_realloc(h->realloc, b->grow, b->ptrs, b->n); break;
    case AB_FP_ALIGNED: ab_fp_loop_aligned(h->aligned_alloc, b->size, b->ptrs, b->n); break;
    case AB_FP_OP_COUNT: break;
    }
}

/* Out of line and named: a profile (callgrind) attributes to it exactly the
 * one call of the measured function it makes. */
__attribute__((noinline, used)) void ab_fp_batch_call(struct ab_fp_batch *b, size_t i)
{
    const struct ab_heap *h = b->heap;
    switch (b->op) {
    case AB_FP_MALLOC: b->ptrs[i] = h->malloc(b->size); break;
    case AB_FP_FREE: h->free(b->ptrs[i]); break;
    case AB_FP_CALLOC: b->ptrs[i] = h->calloc(1, b->size); break;
    case AB_FP_REALLOC: b->ptrs[i] = h->realloc(b->ptrs[i], b->grow); break;
    case AB_FP_ALIGNED: b->ptrs[i] = h->aligned_alloc(AB_FP_ALIGNMENT, b->size); break;
    case AB_FP_OP_COUNT: break;
    }
}

/* realloc grows by one size class: the next step of the default ladder
 * (twice the size past its end). */
static size_t grow_size(size_t size)
{
    static const size_t ladder[] = {8,   16,  32,   48,   64,   96,   128,
                                    256, 512, 1024, 2048, 4096, 8192, 16384};
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++)
        if (ladder[i] > size)
            return ladder[i];
    return size * 2;
}

static bool op_available(const struct ab_heap *h, enum ab_fp_op op)
{
    switch (op) {
    case AB_FP_MALLOC: return h->malloc != NULL;
    case AB_FP_FREE: return h->free != NULL;
    /* A plugin without calloc is reached through allocbench's adapter,
     * which is not the allocator's code. */
    case AB_FP_CALLOC: return h->calloc != NULL && !(h->plugin && !h->plugin->calloc);
    case AB_FP_REALLOC: return h->realloc != NULL;
    case AB_FP_ALIGNED: return h->aligned_alloc != NULL;
    case AB_FP_OP_COUNT: break;
    }
    return false;
}

static void free_all(const struct ab_heap *h, void **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            h->free(p[i]);
    memset(p, 0, n * sizeof *p);
}

/* Warm every op that will be measured, the way it will be called. */
static void warm_up(const struct ab_heap *h, const bool *on, size_t size, size_t grow,
                    unsigned pairs)
{
    for (unsigned i = 0; i < pairs; i++) {
        void *p = h->malloc(size);
        AB_ESCAPE(p);
        h->free(p);
        if (on[AB_FP_CALLOC] && h->calloc && (p = h->calloc(1, size)))
            h->free(p);
        if (on[AB_FP_REALLOC] && h->realloc && (p = h->malloc(size))) {
            void *q = h->realloc(p, grow);
            h->free(q ? q : p);
        }
        if (on[AB_FP_ALIGNED] && h->aligned_alloc &&
            (p = h->aligned_alloc(AB_FP_ALIGNMENT, size)))
            h->free(p);
    }
}

/* One measured batch; returns its record for the reply. */
static cJSON *measure(const struct ab_counter *c, struct ab_fp_batch *b, char *err,
                      size_t errlen)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", b->index);
    cJSON_AddStringToObject(o, "op", ab_fp_op_name(b->op));
    cJSON_AddNumberToObject(o, "size", (double)b->size);
    cJSON_AddNumberToObject(o, "calls", (double)b->n);
    if (!op_available(b->heap, b->op)) {
        cJSON_AddStringToObject(o, "status", "unavailable");
        cJSON_AddStringToObject(o, "reason", "the allocator does not provide this function");
        return o;
    }
    b->counted = false;
    b->flagged = 0;
    int rc = c->batch(b);
    if (rc) {
        cJSON_AddStringToObject(o, "status", "failed");
        snprintf(err, errlen, "counting failed: %s", strerror(-rc));
        cJSON_AddStringToObject(o, "reason", err);
        return o;
    }
    if (b->op != AB_FP_FREE)
        for (size_t i = 0; i < b->n; i++)
            if (!b->ptrs[i]) {
                cJSON_AddStringToObject(o, "status", "failed");
                snprintf(err, errlen, "%s(%zu) returned NULL", ab_fp_op_name(b->op), b->size);
                cJSON_AddStringToObject(o, "reason", err);
                return o;
            }
    cJSON_AddStringToObject(o, "status", "ok");
    if (b->counted) {
        /* The flagged calls were left out of the arrays. */
        size_t k = b->n - b->flagged;
        cJSON_AddItemToObject(o, "instructions", ab_fp_hist_json(b->instructions, k));
        cJSON_AddItemToObject(o, "branches", ab_fp_hist_json(b->branches, k));
        cJSON_AddNumberToObject(o, "flagged", b->flagged);
    }
    return o;
}

/* The record of a batch that was not run: it would count other paths. */
static cJSON *not_run(const struct ab_fp_batch *b, enum ab_fp_op op, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", b->index);
    cJSON_AddStringToObject(o, "op", ab_fp_op_name(op));
    cJSON_AddNumberToObject(o, "size", (double)b->size);
    cJSON_AddNumberToObject(o, "calls", (double)b->n);
    cJSON_AddStringToObject(o, "status", "failed");
    cJSON_AddStringToObject(o, "reason", why);
    return o;
}

static bool batch_ok(const cJSON *rec)
{
    return !strcmp(ab_json_str(rec, "status"), "ok");
}

cJSON *ab_fastpath_child(const cJSON *req, const struct ab_heap *heap)
{
    const struct ab_counter *c = ab_counter_find(ab_json_str(req, "counter"));
    size_t n = (size_t)ab_json_num(req, "calls", 0);
    unsigned warmup = (unsigned)ab_json_num(req, "warmup", 0);
    size_t keep = (size_t)ab_json_num(req, "keep_live", 0);
    bool on[AB_FP_OP_COUNT] = {false};
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "ops"))
    {
        int op = cJSON_IsString(it) ? ab_fp_op_parse(it->valuestring) : -1;
        if (op >= 0)
            on[op] = true;
    }
    void **ptrs = ab_buf_alloc((n ? n : 1) * sizeof *ptrs);
    void **live = ab_buf_alloc((keep ? keep : 1) * sizeof *live);
    uint64_t *ins = ab_buf_alloc((n ? n : 1) * sizeof *ins);
    uint64_t *br = ab_buf_alloc((n ? n : 1) * sizeof *br);
    cJSON *d = cJSON_CreateObject();
    if (!c || !n || !ptrs || !live || !ins || !br) {
        cJSON_AddFalseToObject(d, "ok");
        cJSON_AddStringToObject(d, "code", "ALLOCBENCH_INTERNAL");
        cJSON_AddStringToObject(d, "error", c ? "no memory for the harness" : "no such counter");
        goto out;
    }
    cJSON_AddTrueToObject(d, "ok");
    cJSON_AddStringToObject(d, "version", heap->version);
    cJSON *batches = cJSON_AddArrayToObject(d, "batches");
    struct ab_fp_batch b = {.heap = heap, .ptrs = ptrs, .n = n, .instructions = ins,
                            .branches = br};
    char err[256];
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "sizes"))
    {
        size_t size = (size_t)it->valuedouble;
        size_t grow = grow_size(size);
        warm_up(heap, on, size, grow, warmup);
        for (size_t i = 0; i < keep; i++)
            live[i] = heap->malloc(size);
        b.size = size;
        b.grow = grow;
        for (int op = 0; op < AB_FP_OP_COUNT; op++) {
            if (!on[op] || op == AB_FP_FREE)
                continue;
            b.op = (enum ab_fp_op)op;
            if (op == AB_FP_REALLOC) {
                /* The blocks to grow, made unmeasured. */
                b.op = AB_FP_MALLOC;
                ab_fp_batch_run(&b);
                b.op = AB_FP_REALLOC;
            }
            cJSON *rec = measure(c, &b, err, sizeof err);
            cJSON_AddItemToArray(batches, rec);
            b.index++;
            if (op == AB_FP_MALLOC && on[AB_FP_FREE]) {
                if (batch_ok(rec)) {
                    b.op = AB_FP_FREE;
                    cJSON_AddItemToArray(batches, measure(c, &b, err, sizeof err));
                    memset(ptrs, 0, n * sizeof *ptrs);
                } else {
                    /* Its blocks are missing or were not counted: free()
                     * would count free(NULL) or nothing. */
                    cJSON_AddItemToArray(batches,
                                         not_run(&b, AB_FP_FREE,
                                                 "not counted: the malloc batch before it failed"));
                }
                b.index++;
            }
            free_all(heap, ptrs, n);
        }
        if (on[AB_FP_FREE] && !on[AB_FP_MALLOC]) {
            /* free measured alone: its blocks are made unmeasured. */
            b.op = AB_FP_MALLOC;
            ab_fp_batch_run(&b);
            b.op = AB_FP_FREE;
            cJSON_AddItemToArray(batches, measure(c, &b, err, sizeof err));
            b.index++;
            memset(ptrs, 0, n * sizeof *ptrs);
        }
        free_all(heap, live, keep);
    }
out:
    ab_buf_free(ptrs, (n ? n : 1) * sizeof *ptrs);
    ab_buf_free(live, (keep ? keep : 1) * sizeof *live);
    ab_buf_free(ins, (n ? n : 1) * sizeof *ins);
    ab_buf_free(br, (n ? n : 1) * sizeof *br);
    return d;
}

/* ------------------------------------------------------------ statistics */

cJSON *ab_fp_hist_json(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, ab_cmp_u64);
    cJSON *h = cJSON_CreateArray();
    for (size_t i = 0; i < n && h;) {
        size_t j = i;
        while (j < n && v[j] == v[i])
            j++;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)v[i]));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)(j - i)));
        cJSON_AddItemToArray(h, pair);
        i = j;
    }
    return h;
}

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

/* One size per child: a size's counts do not depend on which sizes ran
 * before it (what they leave in the heap changes the paths taken). */
static char *fastpath_request(const struct ab_fp_config *cfg, const struct ab_subject *s,
                              size_t size)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "mode", "fastpath");
    cJSON *subj = cJSON_AddObjectToObject(req, "subject");
    cJSON_AddStringToObject(subj, "kind", ab_subject_kind_name(s->kind));
    cJSON_AddStringToObject(subj, "path", s->path);
    cJSON_AddStringToObject(req, "counter", cfg->counter->name);
    cJSON *sizes = cJSON_AddArrayToObject(req, "sizes");
    cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)size));
    cJSON *ops = cJSON_AddArrayToObject(req, "ops");
    for (int op = 0; op < AB_FP_OP_COUNT; op++)
        if (cfg->op_on[op])
            cJSON_AddItemToArray(ops, cJSON_CreateString(ab_fp_op_name((enum ab_fp_op)op)));
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

/* One repetition's p50 of a figure (the agreement check). */
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

static struct ab_fp_row *find_row(struct ab_fp_run *run, unsigned subject, const char *op,
                                  uint64_t size)
{
    int o = ab_fp_op_parse(op);
    for (size_t i = 0; i < run->nrows; i++) {
        struct ab_fp_row *r = &run->rows[i];
        if (r->subject == subject && (int)r->op == o && r->size == size)
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

/* Fold one child's reply into the rows of its subject. */
static void take_reply(struct ab_fp_run *run, struct acc *accs, unsigned subject, unsigned rep,
                       const struct ab_child_result *c, double timeout_s)
{
    char why[512] = "";
    enum ab_trial_status st = AB_TRIAL_FAILED;
    const cJSON *d = c->doc;
    switch (c->status) {
    case AB_CHILD_CRASHED:
        st = AB_TRIAL_CRASHED;
        snprintf(why, sizeof why, "the measuring child was killed by signal %d (SIG%s)",
                 c->signal, sigabbrev_np(c->signal) ? sigabbrev_np(c->signal) : "?");
        break;
    case AB_CHILD_TIMEOUT:
        st = AB_TRIAL_TIMEOUT;
        snprintf(why, sizeof why, "no result within %.1f s", timeout_s);
        break;
    case AB_CHILD_FAILED:
        snprintf(why, sizeof why, "the measuring child exited with status %d without a result",
                 c->exit_code);
        break;
    case AB_CHILD_OK:
        /* A supervising backend reports its measuring child's end itself. */
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "ok"))) {
            snprintf(why, sizeof why, "%s", ab_json_str(d, "error"));
            if (!strcmp(ab_json_str(d, "code"), "ALLOCBENCH_TRIAL_CRASHED"))
                st = AB_TRIAL_CRASHED;
        }
        break;
    }
    if (why[0] || c->status != AB_CHILD_OK) {
        if (c->stderr_tail[0]) {
            size_t l = strlen(why);
            snprintf(why + l, sizeof why - l, "; stderr: %.200s", c->stderr_tail);
            for (char *p = why; *p; p++)
                if (*p == '\n' || *p == '\t')
                    *p = ' ';
        }
        for (size_t i = 0; i < run->nrows; i++)
            if (run->rows[i].subject == subject)
                fail_row(&run->rows[i], st, why);
        return;
    }
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(d, "batches"))
    {
        struct ab_fp_row *r = find_row(run, subject, ab_json_str(b, "op"),
                                       (uint64_t)ab_json_num(b, "size", 0));
        if (!r)
            continue;
        struct acc *a = &accs[r - run->rows];
        const char *status = ab_json_str(b, "status");
        if (!strcmp(status, "unavailable")) {
            /* Never over a failure an earlier repetition reported. */
            if (r->status == AB_TRIAL_OK) {
                r->status = AB_TRIAL_UNAVAILABLE;
                ab_strlcpy(r->reason, ab_json_str(b, "reason"), sizeof r->reason);
            }
            continue;
        }
        if (strcmp(status, "ok")) {
            fail_row(r, AB_TRIAL_FAILED, ab_json_str(b, "reason"));
            continue;
        }
        static const char *const names[3] = {"instructions", "branches", "conditional"};
        const cJSON *h[3];
        bool bad = false;
        for (int f = 0; f < 3; f++) {
            h[f] = cJSON_GetObjectItemCaseSensitive(b, names[f]);
            if (!h[f] || cJSON_IsNull(h[f]))
                h[f] = NULL;
            else if (!hist_ok(h[f]) || hist_calls(h[f]) != hist_calls(h[0]))
                bad = true;
        }
        if (!h[0] || bad) {
            fail_row(r, AB_TRIAL_FAILED, "the backend returned no usable counts");
            continue;
        }
        for (int f = 0; f < 3; f++) {
            if (!h[f])
                a->missing[f] = true;
            else if (acc_push(a, f, h[f]))
                bad = true;
        }
        if (bad) {
            fail_row(r, AB_TRIAL_FAILED, "out of memory for the counts");
            continue;
        }
        for (size_t k = 0; k < NTOTALS; k++)
            a->total[k] += ab_json_num(b, total_keys[k], NAN);
        r->flagged += (uint64_t)ab_json_num(b, "flagged", 0);
        for (int f = 0; f < 3 && rep < 16; f++)
            r->rep_p50[f][rep] = h[f] ? p50_of(h[f]) : NAN;
        r->measured++;
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
    unsigned reps = r->repetitions < 16 ? r->repetitions : 16;
    for (unsigned k = 0; k < 3; k++)
        for (unsigned i = 1; i < reps; i++)
            if (!same(r->rep_p50[k][i], r->rep_p50[k][0]))
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
    uint64_t slow = 0;
    for (size_t i = 0; i < r->instructions.nbins; i++)
        if (r->instructions.value[i] > 2 * r->instructions.p50)
            slow += r->instructions.count[i];
    double n = r->calls ? (double)r->calls : NAN;
    r->slow_path_share = (double)slow / n;
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

int ab_fastpath_execute(const struct ab_fp_config *cfg, struct ab_fp_run *run)
{
    memset(run, 0, sizeof *run);
    run->cfg = cfg;
    ab_host_collect(&run->host);
    ab_utc_stamp(run->started_utc, sizeof run->started_utc);
    unsigned nops = 0;
    for (int op = 0; op < AB_FP_OP_COUNT; op++)
        nops += cfg->op_on[op];
    size_t total = cfg->nsubjects * cfg->nsizes * nops;
    run->rows = calloc(total ? total : 1, sizeof *run->rows);
    struct acc *accs = calloc(total ? total : 1, sizeof *accs);
    if (!run->rows || !accs) {
        free(accs);
        return -ENOMEM;
    }
    for (unsigned s = 0; s < cfg->nsubjects; s++)
        for (size_t z = 0; z < cfg->nsizes; z++)
            for (int op = 0; op < AB_FP_OP_COUNT; op++) {
                if (!cfg->op_on[op])
                    continue;
                struct ab_fp_row *r = &run->rows[run->nrows++];
                r->subject = s;
                r->op = (enum ab_fp_op)op;
                r->size = cfg->sizes[z];
                r->repetitions = cfg->repetitions;
                r->status = AB_TRIAL_OK;
                r->slow_path_share = r->taken = r->not_taken = r->indirect = NAN;
                r->locked = r->rep_instructions = r->rep_iterations = NAN;
                struct acc *a = &accs[run->nrows - 1];
                for (size_t k = 0; k < NTOTALS; k++)
                    a->total[k] = 0;
            }
    for (unsigned s = 0; s < cfg->nsubjects; s++) {
        struct ab_subject *subj = &cfg->subjects[s];
        int rc = ab_subject_describe(subj, cfg->timeout_s);
        if (rc)
            goto fail;
        if (subj->describe_error[0]) {
            /* Never a silent measurement of some other allocator. */
            ab_warn("%s: %s", subj->name, subj->describe_error);
            for (size_t i = 0; i < run->nrows; i++)
                if (run->rows[i].subject == s)
                    fail_row(&run->rows[i], AB_TRIAL_FAILED, subj->describe_error);
        }
    }
    for (unsigned rep = 0; rep < cfg->repetitions; rep++) {
        for (unsigned s = 0; s < cfg->nsubjects; s++) {
            const struct ab_subject *subj = &cfg->subjects[s];
            if (subj->describe_error[0])
                continue;
            for (size_t z = 0; z < cfg->nsizes; z++) {
                if (cfg->progress) {
                    fprintf(stderr, "\r\033[K[%u/%u] %s size %zu: counting with %s", rep + 1,
                            cfg->repetitions, subj->name, cfg->sizes[z], cfg->counter->name);
                    fflush(stderr);
                }
                char *req = fastpath_request(cfg, subj, cfg->sizes[z]);
                if (!req) {
                    acc_free(accs, run->nrows);
                    return -ENOMEM;
                }
                struct ab_child_result c;
                double limit = cfg->timeout_s;
                int rc = cfg->counter->spawn(
                    req, subj->kind == AB_SUBJECT_PRELOAD ? subj->path : NULL, limit, &c);
                free(req);
                if (rc)
                    goto fail;
                take_reply(run, accs, s, rep, &c, limit);
                ab_child_result_free(&c);
            }
        }
    }
    if (cfg->progress)
        fputs("\r\033[K", stderr);
    for (size_t i = 0; i < run->nrows; i++) {
        int rc = finish_row(&run->rows[i], &accs[i]);
        if (rc)
            goto fail;
        const struct ab_fp_row *r = &run->rows[i];
        if ((r->status != AB_TRIAL_OK && r->status != AB_TRIAL_UNAVAILABLE) ||
            (r->status == AB_TRIAL_OK && !r->agree))
            run->failures++;
    }
    acc_free(accs, run->nrows);
    return 0;
fail:
    acc_free(accs, run->nrows);
    return -EIO;
}

void ab_fastpath_free(struct ab_fp_run *run)
{
    for (size_t i = 0; i < run->nrows; i++) {
        ab_fp_dist_free(&run->rows[i].instructions);
        ab_fp_dist_free(&run->rows[i].branches);
        ab_fp_dist_free(&run->rows[i].conditional);
    }
    free(run->rows);
    run->rows = NULL;
    run->nrows = 0;
}
