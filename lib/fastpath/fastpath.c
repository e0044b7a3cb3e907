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

/* Warm every op that will be measured, the way pairs calls it. */
static void warm_up(const struct ab_heap *h, const bool *on, size_t size, size_t grow,
                    unsigned pairs)
{
    for (unsigned i = 0; i < pairs; i++) {
        void *p = h->malloc(size);
        AB_ESCAPE(p);
        h->free(p);
        if (on[AB_FP_CALLOC] && op_available(h, AB_FP_CALLOC) && (p = h->calloc(1, size)))
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

static cJSON *batch_record(const struct ab_fp_batch *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", b->index);
    cJSON_AddStringToObject(o, "op", ab_fp_op_name(b->op));
    cJSON_AddNumberToObject(o, "size", (double)b->size);
    cJSON_AddStringToObject(o, "pattern", ab_fp_pattern_name(b->pattern));
    cJSON_AddNumberToObject(o, "calls", (double)b->n);
    return o;
}

static cJSON *failed(cJSON *o, const char *why)
{
    cJSON_AddStringToObject(o, "status", "failed");
    cJSON_AddStringToObject(o, "reason", why);
    return o;
}

/* One measured batch; returns its record for the reply.  The blocks of an
 * allocating batch stay in b->ptrs (batch: for the free batch after it). */
/*
 * A few uncounted pairs of the op just before a counted batch: the record
 * of the batch before it was built with glibc's malloc (the harness's own
 * allocator, which may be the one under test), so the thread cache is put
 * back in its steady state first.
 */
#define SETTLE 16
static void settle(const struct ab_fp_batch *b)
{
    void *tmp[SETTLE] = {0};
    struct ab_fp_batch s = *b;
    s.pattern = AB_FP_PAIRS;
    s.ptrs = tmp;
    s.n = SETTLE;
    ab_fp_batch_run(&s);
}

static cJSON *measure(const struct ab_counter *c, struct ab_fp_batch *b)
{
    cJSON *o = batch_record(b);
    char err[256];
    if (!op_available(b->heap, b->op)) {
        cJSON_AddStringToObject(o, "status", "unavailable");
        cJSON_AddStringToObject(o, "reason", "the allocator does not provide this function");
        return o;
    }
    settle(b);
    b->counted = false;
    b->flagged = 0;
    b->null_seen = false;
    int rc = c->batch(b);
    if (rc) {
        snprintf(err, sizeof err, "counting failed: %s", strerror(-rc));
        return failed(o, err);
    }
    if (b->null_seen) {
        snprintf(err, sizeof err, "malloc(%zu) returned NULL", b->size);
        return failed(o, err);
    }
    if (b->op != AB_FP_FREE)
        for (size_t i = 0; i < b->n; i++)
            if (!b->ptrs[i]) {
                snprintf(err, sizeof err, "%s(%zu) returned NULL", ab_fp_op_name(b->op),
                         b->size);
                return failed(o, err);
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

static bool batch_ok(const cJSON *rec)
{
    return !strcmp(ab_json_str(rec, "status"), "ok");
}

/* What a measuring child was asked. */
struct fp_request {
    const struct ab_counter *counter;
    size_t n, keep;
    unsigned warmup;
    bool op_on[AB_FP_OP_COUNT];
    bool batch;                    /* the batch pattern too (pairs always) */
};

/*
 * Every batch of one size, appended to batches.  In order: the blocks kept
 * live (so no measured free empties a page), the warm-up pairs (allocator
 * and thread start-up, then the steady state), the pairs of every op, then
 * (when asked) the batch of every op, n allocations followed by the n frees
 * that are free's batch.
 */
static void measure_size(const struct fp_request *rq, const struct ab_heap *heap, size_t size,
                         struct ab_fp_batch *b, void **live, cJSON *batches)
{
    size_t grow = grow_size(size);
    for (size_t i = 0; i < rq->keep; i++)
        live[i] = heap->malloc(size);
    /* One more, given back at once: its place, in a page of the kept-live
     * blocks, is the one pairs reuse, so a measured free does not empty a
     * page (where the kept-live blocks just filled one, the next block
     * would be alone in the next). */
    if (rq->keep) {
        void *slot = heap->malloc(size);
        heap->free(slot);
    }
    warm_up(heap, rq->op_on, size, grow, rq->warmup);
    b->size = size;
    b->grow = grow;
    b->pattern = AB_FP_PAIRS;
    for (int op = 0; op < AB_FP_OP_COUNT; op++) {
        if (!rq->op_on[op])
            continue;
        b->op = (enum ab_fp_op)op;
        cJSON_AddItemToArray(batches, measure(rq->counter, b));
        b->index++;
        /* Every block of pairs was freed by its iteration. */
        memset(b->ptrs, 0, b->n * sizeof *b->ptrs);
    }
    b->pattern = AB_FP_BATCH;
    for (int op = 0; rq->batch && op < AB_FP_OP_COUNT; op++) {
        if (!rq->op_on[op] || (op == AB_FP_FREE && rq->op_on[AB_FP_MALLOC]))
            continue;
        b->op = (enum ab_fp_op)op;
        if (op == AB_FP_REALLOC || op == AB_FP_FREE) {
            /* The blocks to grow or to free, made unmeasured. */
            b->op = AB_FP_MALLOC;
            ab_fp_batch_run(b);
            b->op = (enum ab_fp_op)op;
        }
        cJSON *rec = measure(rq->counter, b);
        cJSON_AddItemToArray(batches, rec);
        b->index++;
        if (op == AB_FP_MALLOC && rq->op_on[AB_FP_FREE]) {
            b->op = AB_FP_FREE;
            if (batch_ok(rec)) {
                cJSON_AddItemToArray(batches, measure(rq->counter, b));
            } else {
                /* Its blocks are missing or were not counted: free()
                 * would count free(NULL) or nothing. */
                cJSON *o = batch_record(b);
                cJSON_AddItemToArray(
                    batches, failed(o, "not counted: the malloc batch before it failed"));
            }
            b->index++;
        }
        if (b->op == AB_FP_FREE)
            memset(b->ptrs, 0, b->n * sizeof *b->ptrs);
        free_all(heap, b->ptrs, b->n);
    }
    free_all(heap, live, rq->keep);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -EIO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* What a forked size sends back, into harness memory (never the allocator
 * under test's); NULL when it does not fit. */
#define FORKED_REPLY_MAX (64u << 20)
static char *read_reply(int fd, size_t *len)
{
    char *buf = ab_buf_alloc(FORKED_REPLY_MAX);
    *len = 0;
    while (buf) {
        if (*len == FORKED_REPLY_MAX - 1) {
            ab_buf_free(buf, FORKED_REPLY_MAX);
            return NULL;
        }
        ssize_t r = read(fd, buf + *len, FORKED_REPLY_MAX - 1 - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        *len += (size_t)r;
    }
    return buf;
}

/* One size in a forked process of its own (sizes_in_one_child): its
 * batches come back on a pipe as one JSON array.  Returns 0, or an error
 * document's message in why. */
static int measure_size_forked(const struct fp_request *rq, const struct ab_heap *heap,
                               size_t size, struct ab_fp_batch *b, void **live, cJSON *batches,
                               char *why, size_t wlen)
{
    int fd[2];
    if (pipe(fd)) {
        snprintf(why, wlen, "pipe: %s", strerror(errno));
        return -errno;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, wlen, "fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -EAGAIN;
    }
    if (pid == 0) {
        close(fd[0]);
        cJSON *mine = cJSON_CreateArray();
        measure_size(rq, heap, size, b, live, mine);
        char *text = cJSON_PrintUnformatted(mine);
        int st = text && write_all(fd[1], text, strlen(text)) == 0 ? 0 : 4;
        _exit(st);
    }
    close(fd[1]);
    size_t len = 0;
    char *text = read_reply(fd[0], &len);
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    cJSON *got = text && WIFEXITED(st) && !WEXITSTATUS(st) ? cJSON_ParseWithLength(text, len)
                                                            : NULL;
    if (text)
        ab_buf_free(text, FORKED_REPLY_MAX);
    if (!cJSON_IsArray(got)) {
        cJSON_Delete(got);
        if (WIFSIGNALED(st))
            snprintf(why, wlen, "the measuring process of size %zu was killed by signal %d (SIG%s)",
                     size, WTERMSIG(st), sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
        else
            snprintf(why, wlen, "the measuring process of size %zu exited with status %d "
                     "without a result", size, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return WIFSIGNALED(st) ? -EINTR : -EIO;
    }
    /* Batch indexes continue across sizes. */
    cJSON *rec;
    while ((rec = cJSON_DetachItemFromArray(got, 0))) {
        cJSON_AddItemToArray(batches, rec);
        b->index++;
    }
    cJSON_Delete(got);
    return 0;
}

static cJSON *fastpath_mode(const cJSON *req, struct ab_heap *heap)
{
    struct fp_request rq = {.counter = ab_counter_find(ab_json_str(req, "counter"))};
    rq.n = (size_t)ab_json_num(req, "calls", 0);
    rq.warmup = (unsigned)ab_json_num(req, "warmup", 0);
    rq.keep = (size_t)ab_json_num(req, "keep_live", 0);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "ops"))
    {
        int op = cJSON_IsString(it) ? ab_fp_op_parse(it->valuestring) : -1;
        if (op >= 0)
            rq.op_on[op] = true;
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "patterns"))
        rq.batch |= cJSON_IsString(it) && ab_fp_pattern_parse(it->valuestring) == AB_FP_BATCH;
    bool fork_sizes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "fork_sizes"));
    size_t n = rq.n, keep = rq.keep;
    void **ptrs = ab_buf_alloc((n ? n : 1) * sizeof *ptrs);
    void **live = ab_buf_alloc((keep ? keep : 1) * sizeof *live);
    uint64_t *ins = ab_buf_alloc((n ? n : 1) * sizeof *ins);
    uint64_t *br = ab_buf_alloc((n ? n : 1) * sizeof *br);
    cJSON *d;
    if (!rq.counter || !n || !ptrs || !live || !ins || !br) {
        d = ab_child_error(AB_ALLOCBENCH_INTERNAL,
                           rq.counter ? "no memory for the harness" : "no such counter");
        goto out;
    }
    d = ab_child_reply();
    cJSON_AddStringToObject(d, "version", heap->version);
    cJSON *batches = cJSON_AddArrayToObject(d, "batches");
    struct ab_fp_batch b = {.heap = heap, .ptrs = ptrs, .n = n, .instructions = ins,
                            .branches = br};
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "sizes"))
    {
        size_t size = (size_t)it->valuedouble;
        if (!fork_sizes) {
            measure_size(&rq, heap, size, &b, live, batches);
            continue;
        }
        char why[256];
        int rc = measure_size_forked(&rq, heap, size, &b, live, batches, why, sizeof why);
        if (rc) {
            cJSON_Delete(d);
            d = ab_child_error(rc == -EINTR ? AB_ALLOCBENCH_TRIAL_CRASHED
                                            : AB_ALLOCBENCH_TRIAL_FAILED, why);
            break;
        }
    }
out:
    ab_buf_free(ptrs, (n ? n : 1) * sizeof *ptrs);
    ab_buf_free(live, (keep ? keep : 1) * sizeof *live);
    ab_buf_free(ins, (n ? n : 1) * sizeof *ins);
    ab_buf_free(br, (n ? n : 1) * sizeof *br);
    return d;
}

const struct ab_child_mode ab_mode_fastpath = {
    .name = "fastpath",
    .binds_heap = true,
    .run = fastpath_mode,
};

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

int ab_fastpath_execute(const struct ab_fp_config *cfg, struct ab_fp_run *run)
{
    memset(run, 0, sizeof *run);
    run->cfg = cfg;
    unsigned nops = 0;
    for (int op = 0; op < AB_FP_OP_COUNT; op++)
        nops += cfg->op_on[op];
    size_t total = cfg->nsubjects * cfg->nsizes * nops * AB_FP_PATTERN_COUNT;
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
            for (size_t z = 0; z < cfg->nsizes; z++)
                for (int op = 0; op < AB_FP_OP_COUNT; op++) {
                    if (!cfg->op_on[op])
                        continue;
                    struct ab_fp_row *r = &run->rows[run->nrows++];
                    r->subject = s;
                    r->op = (enum ab_fp_op)op;
                    r->size = cfg->sizes[z];
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
                      (cfg->counter->sizes_in_one_child ? 1 : cfg->nsizes);
    if (ab_session_begin(&run->session, cfg->subjects, cfg->nsubjects, cfg->timeout_s, cfg->obs,
                         children))
        goto fail;
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
            if (cfg->counter->sizes_in_one_child)
                rc = count_child(cfg, run, accs, s, rep, cfg->sizes, cfg->nsizes);
            for (size_t z = 0; !cfg->counter->sizes_in_one_child && z < cfg->nsizes && !rc; z++)
                rc = count_child(cfg, run, accs, s, rep, &cfg->sizes[z], 1);
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

void ab_fastpath_free(struct ab_fp_run *run)
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
