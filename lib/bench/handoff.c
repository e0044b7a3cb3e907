/*
 * handoff.c — bounded queues of pointer batches between the threads of a
 * workload: producers hand blocks over, other threads free them.  The ring
 * and its batches live in harness memory (mmap), so the allocator under test
 * sees only the blocks themselves.  One lock round trip per batch: with
 * batches of 64 blocks the queue adds about a nanosecond per block.
 */
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct ab_handoff {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    size_t depth, batch;      /* ring slots, pointers per slot */
    size_t head, count;       /* oldest slot, slots in use */
    size_t *lens;             /* pointers in each slot */
    void **items;             /* depth * batch pointers */
    size_t bytes;             /* the whole mapping */
};

struct ab_handoff *ab_handoff_new(size_t depth, size_t batch)
{
    if (!depth || !batch)
        return NULL;
    size_t bytes = sizeof(struct ab_handoff) + depth * sizeof(size_t) +
                   depth * batch * sizeof(void *);
    struct ab_handoff *q = ab_buf_alloc(bytes);
    if (!q)
        return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    q->depth = depth;
    q->batch = batch;
    q->lens = (size_t *)(q + 1);
    q->items = (void **)(q->lens + depth);
    q->bytes = bytes;
    return q;
}

void ab_handoff_free(struct ab_handoff *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    ab_buf_free(q, q->bytes);
}

/* Under the lock, with room. */
static void put(struct ab_handoff *q, void *const *items, size_t n)
{
    size_t slot = (q->head + q->count) % q->depth;
    memcpy(q->items + slot * q->batch, items, n * sizeof *items);
    q->lens[slot] = n;
    q->count++;
    pthread_cond_signal(&q->not_empty);
}

void ab_handoff_push(struct ab_handoff *q, void *const *items, size_t n)
{
    if (n > q->batch)
        n = q->batch;
    pthread_mutex_lock(&q->lock);
    while (q->count == q->depth)
        pthread_cond_wait(&q->not_full, &q->lock);
    put(q, items, n);
    pthread_mutex_unlock(&q->lock);
}

/* Under the lock, with count > 0. */
static size_t take(struct ab_handoff *q, void **items)
{
    size_t slot = q->head, n = q->lens[slot];
    memcpy(items, q->items + slot * q->batch, n * sizeof *items);
    q->head = (q->head + 1) % q->depth;
    q->count--;
    pthread_cond_signal(&q->not_full);
    return n;
}

size_t ab_handoff_pop(struct ab_handoff *q, void **items)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->not_empty, &q->lock);
    size_t n = take(q, items);
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* ----------------------------------------------- producers and consumers */

struct pc_shared {
    const struct ab_handoff_plan *plan;
    struct ab_handoff **queues;     /* consumers of them, or one when shared */
    size_t nqueues;
    atomic_uint_fast64_t frees, free_ns; /* measured rounds only */
    atomic_int failed;              /* a producer's malloc returned NULL */
};

struct pc_state {
    struct pc_shared *sh;
    bool producer;
    unsigned index;                 /* among its role */
    size_t quota;                   /* consumer: batches per round */
    void **items;                   /* one batch */
    uint64_t sink;
};

static int pc_setup(struct ab_thread *th)
{
    struct pc_shared *sh = th->t->shared;
    const struct ab_handoff_plan *pl = sh->plan;
    struct pc_state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->sh = sh;
    s->producer = th->index < pl->producers;
    s->index = s->producer ? th->index : th->index - pl->producers;
    s->items = ab_buf_alloc(pl->batch * sizeof *s->items);
    if (!s->items)
        return -ENOMEM;
    if (!s->producer) {
        size_t total = (size_t)pl->producers * pl->batches;
        if (pl->shared) {
            s->quota = total / pl->consumers + (s->index < total % pl->consumers);
        } else {
            for (unsigned p = 0; p < pl->producers; p++)
                for (size_t k = 0; k < pl->batches; k++)
                    s->quota += (p + k) % pl->consumers == s->index;
        }
    }
    th->state = s;
    return 0;
}

/* Producer: one store per block.  Consumer: one load and the free per block,
 * two clock reads per batch. */
static uint64_t pc_round(struct ab_thread *th)
{
    struct pc_state *s = th->state;
    const struct ab_handoff_plan *pl = s->sh->plan;
    const struct ab_heap *h = th->t->heap;
    if (s->producer) {
        for (size_t k = 0; k < pl->batches; k++) {
            for (size_t i = 0; i < pl->batch; i++) {
                /* After a NULL, empty slots: the consumers still get every
                 * batch they count on, and the trial fails at the end. */
                uint64_t *p = NULL;
                if (!atomic_load_explicit(&s->sh->failed, memory_order_relaxed) &&
                    !(p = h->malloc(ab_rng_range(&th->rng, pl->min_size, pl->max_size))))
                    atomic_store(&s->sh->failed, 1);
                if (p)
                    *p = k;
                s->items[i] = p;
            }
            size_t q = pl->shared ? 0 : (s->index + k) % pl->consumers;
            ab_handoff_push(s->sh->queues[q], s->items, pl->batch);
        }
        return pl->batch * pl->batches;
    }
    struct ab_handoff *q = s->sh->queues[pl->shared ? 0 : s->index];
    uint64_t frees = 0, ns = 0;
    for (size_t b = 0; b < s->quota; b++) {
        size_t n = ab_handoff_pop(q, s->items);
        uint64_t t0 = ab_now_ns();
        for (size_t i = 0; i < n; i++) {
            uint64_t *p = s->items[i];
            if (!p)
                continue;
            s->sink += *p;
            h->free(p);
            frees++;
        }
        ns += ab_now_ns() - t0;
    }
    if (th->measuring) {
        atomic_fetch_add(&s->sh->frees, frees);
        atomic_fetch_add(&s->sh->free_ns, ns);
    }
    AB_ESCAPE(s->sink);
    return 0;
}

int ab_handoff_run(struct ab_trial *t, const struct ab_handoff_plan *plan)
{
    struct pc_shared sh = {.plan = plan};
    sh.nqueues = plan->shared ? 1 : plan->consumers;
    sh.queues = ab_buf_alloc(sh.nqueues * sizeof *sh.queues);
    int rc = sh.queues ? 0 : -ENOMEM;
    for (size_t i = 0; i < sh.nqueues && !rc; i++)
        if (!(sh.queues[i] = ab_handoff_new(plan->depth, plan->batch)))
            rc = -ENOMEM;
    if (!rc) {
        ab_trial_set_threads(t, plan->producers + plan->consumers);
        t->shared = &sh;
        static const struct ab_rounds r = {pc_setup, pc_round, NULL};
        rc = ab_trial_run_rounds(t, &r);
    }
    for (size_t i = 0; sh.queues && i < sh.nqueues; i++)
        ab_handoff_free(sh.queues[i]);
    ab_buf_free(sh.queues, sh.nqueues * sizeof *sh.queues);
    if (!rc && atomic_load(&sh.failed))
        rc = -ENOMEM;
    if (rc)
        return rc;
    ab_trial_remote_frees(t, atomic_load(&sh.frees), (int64_t)atomic_load(&sh.free_ns));
    ab_trial_metric(t, "producers", "threads", plan->producers);
    ab_trial_metric(t, "consumers", "threads", plan->consumers);
    return 0;
}
