/*
 * batch.c — the measured batch between the fast-path engine and the counter
 * backends: its ops and patterns, the calls of one iteration (pre, call,
 * post), and the histograms counts travel in.
 */
#include "counter.h"
#include "counter-list.h"

#include <cJSON.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[AB_FP_OP_COUNT] = {"malloc", "free", "calloc", "realloc",
                                                     "aligned"};
static const char *const pattern_names[AB_FP_PATTERN_COUNT] = {"pairs", "batch"};

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

const char *ab_fp_pattern_name(enum ab_fp_pattern p)
{
    return (unsigned)p < AB_FP_PATTERN_COUNT ? pattern_names[p] : "?";
}

int ab_fp_pattern_parse(const char *name)
{
    for (int i = 0; i < AB_FP_PATTERN_COUNT; i++)
        if (!strcmp(pattern_names[i], name))
            return i;
    return -1;
}

/* ------------------------------------------------------- measuring child */

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

/* Out of line and named, as are call and post: a backend that watches the
 * measured function's entry (ptrace) sees these run natively, and a profile
 * (callgrind) attributes their calls to them, never to the counted call. */
__attribute__((noinline, used)) void ab_fp_batch_pre(struct ab_fp_batch *b, size_t i)
{
    if (b->pattern != AB_FP_PAIRS || (b->op != AB_FP_FREE && b->op != AB_FP_REALLOC))
        return;
    void *p = b->heap->malloc(b->size);
    b->null_seen |= p == NULL;
    b->ptrs[i] = p;
}

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

__attribute__((noinline, used)) void ab_fp_batch_post(struct ab_fp_batch *b, size_t i)
{
    /* The block stays named in ptrs (a NULL among them fails the batch);
     * the child forgets them all after the batch. */
    if (b->pattern == AB_FP_PAIRS && b->op != AB_FP_FREE)
        b->heap->free(b->ptrs[i]);
}

void ab_fp_batch_run(struct ab_fp_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ab_fp_batch_pre(b, i);
        ab_fp_batch_call(b, i);
        ab_fp_batch_post(b, i);
    }
}

void ab_fp_batch_args(const struct ab_fp_batch *b, size_t i, uintptr_t *a0, uintptr_t *a1)
{
    *a0 = *a1 = 0;
    switch (b->op) {
    case AB_FP_MALLOC: *a0 = b->size; break;
    case AB_FP_FREE: *a0 = (uintptr_t)b->ptrs[i]; break;
    case AB_FP_CALLOC: *a0 = 1; *a1 = b->size; break;
    case AB_FP_REALLOC: *a0 = (uintptr_t)b->ptrs[i]; *a1 = b->grow; break;
    case AB_FP_ALIGNED: *a0 = AB_FP_ALIGNMENT; *a1 = b->size; break;
    case AB_FP_OP_COUNT: break;
    }
}

void ab_fp_batch_result(struct ab_fp_batch *b, size_t i, void *r)
{
    if (b->op != AB_FP_FREE)
        b->ptrs[i] = r;
}

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

/* ------------------------------------------------------ supervised batch */

static int announce(const struct ab_fp_marker *m)
{
    ssize_t w;
    do
        w = write(AB_FP_MARKER_FD, m, sizeof *m);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof *m)
        return -ENOTCONN; /* not under the tracer: never raise SIGTRAP then */
    raise(SIGTRAP);
    return 0;
}

int ab_fp_batch_supervised(struct ab_fp_batch *b)
{
    struct ab_fp_marker m = {AB_FP_MARKER_MAGIC, (uint64_t)(uintptr_t)ab_fp_batch_fn(b), b->n,
                             b->index, 1};
    int rc = announce(&m);
    if (rc)
        return rc;
    ab_fp_batch_run(b);
    m.begin = 0;
    return announce(&m);
}

/* ptrace's part in the child: the supervised batch (its tracer is
 * counter-ptrace.c, which needs capstone; this needs nothing). */
const struct ab_counter_child ab_counter_child_ptrace = {
    .name = "ptrace",
    .batch = ab_fp_batch_supervised,
};

/* ---------------------------------------------------- the child registry */

#define AB_COUNTER_CHILD_DECL(name) extern const struct ab_counter_child ab_counter_child_##name;
AB_COUNTERS(AB_COUNTER_CHILD_DECL)
#undef AB_COUNTER_CHILD_DECL

/* The children's parts: the trial child references only these. */
static const struct ab_counter_child *const child_registry[] = {
#define AB_COUNTER_CHILD_PTR(name) &ab_counter_child_##name,
    AB_COUNTERS(AB_COUNTER_CHILD_PTR)
#undef AB_COUNTER_CHILD_PTR
};

const struct ab_counter_child *ab_counter_child_find(const char *name)
{
    for (size_t i = 0; i < sizeof child_registry / sizeof child_registry[0]; i++)
        if (!strcmp(child_registry[i]->name, name))
            return child_registry[i];
    return NULL;
}
