/*
 * fastpath-child.c — the child mode "fastpath": the measuring child.  Per
 * size it keeps blocks live, warms up, then makes each batch's calls,
 * counted by the backend named in the request (its child part), and
 * replies with every batch's record.  It runs in allocbench-trial, with the
 * allocator under test preloaded.
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

static cJSON *measure(const struct ab_counter_child *c, struct ab_fp_batch *b)
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
    int rc = c->batch ? c->batch(b) : -ENODEV;
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
    const struct ab_counter_child *counter;
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
        ab_child_tether(0);
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
    struct fp_request rq = {.counter = ab_counter_child_find(ab_json_str(req, "counter"))};
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

static const struct ab_field fastpath_fields[] = {
    {"counter", AB_FIELD_STR, true, 1, 32},
    {"sizes", AB_FIELD_ARR, true, 1, AB_FP_MAX_SIZES},
    {"ops", AB_FIELD_ARR, true, 1, AB_FP_OP_COUNT},
    {"patterns", AB_FIELD_ARR, true, 1, AB_FP_PATTERN_COUNT},
    {"fork_sizes", AB_FIELD_BOOL, true, 0, 0},
    {"calls", AB_FIELD_INT, true, 1, 1000000},
    {"warmup", AB_FIELD_INT, true, 0, 10000000},
    {"keep_live", AB_FIELD_INT, true, 0, 100000},
};

static int fastpath_check(const cJSON *req, char *err, size_t len)
{
    if (!ab_counter_child_find(ab_json_str(req, "counter")))
        return snprintf(err, len, "the fastpath request names no counter of this program"),
               -EINVAL;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "sizes"))
    {
        double v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
        if (!(v >= 1 && v <= (double)(1ull << 30) && v == floor(v)))
            return snprintf(err, len, "its sizes must be integers in 1..2^30"), -EINVAL;
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "ops"))
        if (!cJSON_IsString(it) || ab_fp_op_parse(it->valuestring) < 0)
            return snprintf(err, len, "its ops must be names of ops"), -EINVAL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "patterns"))
        if (!cJSON_IsString(it) || ab_fp_pattern_parse(it->valuestring) < 0)
            return snprintf(err, len, "its patterns must be names of patterns"), -EINVAL;
    return 0;
}

const struct ab_child_mode ab_mode_fastpath = {
    AB_FIELDS(fastpath_fields),
    .check = fastpath_check,
    .name = "fastpath",
    .binds_heap = true,
    .run = fastpath_mode,
};

