/*
 * param-batch (seed 001, cgoparam): short-lived parameter allocations made
 * just before a foreign call and freed just after.
 *
 *   small             1, 10, 100 and 1000 bytes, each written, then all freed
 *   multipage         ten allocations of 1000 bytes, then all freed
 *   small-pooled      the same batches carved from a parameter arena taken
 *   multipage-pooled  from a shared pool and returned after the call: a
 *                     4096-byte first page kept with the arena, any further
 *                     page malloc'd for the batch and freed when the arena is
 *                     returned (the seed's cgoparam shape)
 *
 * One op is one batch.  With --threads every thread runs its own batches;
 * the pooled variants share one pool among the threads.
 */
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

enum { V_SMALL, V_MULTIPAGE, V_SMALL_POOLED, V_MULTIPAGE_POOLED };

static const char *const variants[] = {"small", "multipage", "small-pooled", "multipage-pooled",
                                       NULL};

static const struct ab_param params[] = {
    {"batches", AB_PARAM_INT, "1000", 1, 100000000, NULL, "batches per round"},
    {"page", AB_PARAM_SIZE, "4096", 1024, 1 << 20, NULL, "arena page size (pooled variants)"},
};

static const size_t small_sizes[] = {1, 10, 100, 1000};
#define MULTIPAGE_COUNT 10
#define MULTIPAGE_SIZE 1000
#define MAX_EXTRA 64

/* A parameter arena: bump allocation in the first page, extra pages from the
 * allocator under test for what does not fit. */
struct arena {
    char *page;
    size_t page_size, used;
    void *extra[MAX_EXTRA];
    size_t nextra;
    struct arena *next;
};

/* The pool shared by all threads of a trial (a mutex-protected stack). */
struct pool {
    pthread_mutex_t lock;
    struct arena *free;
};

struct state {
    unsigned variant;
    size_t batches;
    struct pool *pool;
};

static void *arena_alloc(const struct ab_heap *h, struct arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (a->used + size <= a->page_size) {
        void *p = a->page + a->used;
        a->used += size;
        return p;
    }
    if (a->nextra == MAX_EXTRA)
        return NULL;
    /* A fresh page (or a dedicated block when the request is bigger). */
    size_t bytes = size > a->page_size ? size : a->page_size;
    char *pg = h->malloc(bytes);
    if (!pg)
        return NULL;
    a->extra[a->nextra++] = pg;
    /* The rest of the new page is not reused: the next request that misses
     * the first page gets a page of its own, as cgoparam's pages do. */
    return pg;
}

static struct arena *pool_get(const struct ab_heap *h, struct pool *pool, size_t page)
{
    pthread_mutex_lock(&pool->lock);
    struct arena *a = pool->free;
    if (a)
        pool->free = a->next;
    pthread_mutex_unlock(&pool->lock);
    if (a)
        return a;
    a = ab_buf_alloc(sizeof *a);
    if (!a)
        return NULL;
    a->page_size = page;
    a->page = h->malloc(page);
    if (!a->page) {
        ab_buf_free(a, sizeof *a);
        return NULL;
    }
    return a;
}

static void pool_put(const struct ab_heap *h, struct pool *pool, struct arena *a)
{
    for (size_t i = 0; i < a->nextra; i++)
        h->free(a->extra[i]);
    a->nextra = 0;
    a->used = 0;
    pthread_mutex_lock(&pool->lock);
    a->next = pool->free;
    pool->free = a;
    pthread_mutex_unlock(&pool->lock);
}

static int setup(struct ab_thread *th)
{
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->variant = th->t->variant;
    s->batches = (size_t)ab_trial_param(th->t, "batches");
    s->pool = th->t->shared;
    th->state = s;
    return 0;
}

/* One batch straight from the allocator. */
static int direct_batch(const struct ab_heap *h, unsigned variant, uint64_t seq)
{
    void *p[MULTIPAGE_COUNT];
    size_t n = variant == V_SMALL ? 4 : MULTIPAGE_COUNT;
    for (size_t i = 0; i < n; i++) {
        size_t size = variant == V_SMALL ? small_sizes[i] : MULTIPAGE_SIZE;
        p[i] = h->malloc(size);
        if (!p[i]) {
            while (i--)
                h->free(p[i]);
            return -ENOMEM;
        }
        ab_touch(p[i], size, seq + i);
    }
    for (size_t i = 0; i < n; i++)
        h->free(p[i]);
    return 0;
}

/* One batch carved from a pooled arena. */
static int pooled_batch(const struct ab_heap *h, struct state *s, size_t page, uint64_t seq)
{
    struct arena *a = pool_get(h, s->pool, page);
    if (!a)
        return -ENOMEM;
    bool small = s->variant == V_SMALL_POOLED;
    size_t n = small ? 4 : MULTIPAGE_COUNT;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size = small ? small_sizes[i] : MULTIPAGE_SIZE;
        void *p = arena_alloc(h, a, size);
        if (!p) {
            rc = -ENOMEM;
            break;
        }
        ab_touch(p, size, seq + i);
    }
    pool_put(h, s->pool, a);
    return rc;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    size_t page = (size_t)ab_trial_param(th->t, "page");
    for (size_t b = 0; b < s->batches; b++) {
        int rc = s->variant == V_SMALL || s->variant == V_MULTIPAGE
                     ? direct_batch(h, s->variant, b)
                     : pooled_batch(h, s, page, b);
        if (rc) {
            th->error = rc;
            return b;
        }
    }
    return s->batches;
}

static void teardown(struct ab_thread *th)
{
    ab_buf_free(th->state, sizeof(struct state));
}

static int run(struct ab_trial *t)
{
    struct pool pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .free = NULL};
    t->shared = &pool;
    static const struct ab_rounds r = {setup, round_fn, teardown};
    int rc = ab_trial_run_rounds(t, &r);
    /* Hand the arenas' first pages back to the allocator. */
    for (struct arena *a = pool.free, *next; a; a = next) {
        next = a->next;
        t->heap->free(a->page);
        ab_buf_free(a, sizeof *a);
    }
    return rc;
}

const struct ab_workload ab_wl_param_batch = {
    .name = "param-batch",
    .summary = "short-lived parameter batches, direct and from a pooled arena (seed 001)",
    .seed = "001 cgoparam",
    .unit = "batch",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "batches=100",
    .default_rounds = 20,
    .run = run,
};
