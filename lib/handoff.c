/*
 * handoff.c — bounded queues of pointer batches between the threads of a
 * workload: producers hand blocks over, other threads free them.  The ring
 * and its batches live in harness memory (mmap), so the allocator under test
 * sees only the blocks themselves.  One lock round trip per batch: with
 * batches of 64 blocks the queue adds about a nanosecond per block.
 */
#include "ab.h"

#include <pthread.h>
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

void ab_handoff_push(struct ab_handoff *q, void *const *items, size_t n)
{
    if (n > q->batch)
        n = q->batch;
    pthread_mutex_lock(&q->lock);
    while (q->count == q->depth)
        pthread_cond_wait(&q->not_full, &q->lock);
    size_t slot = (q->head + q->count) % q->depth;
    memcpy(q->items + slot * q->batch, items, n * sizeof *items);
    q->lens[slot] = n;
    q->count++;
    pthread_cond_signal(&q->not_empty);
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

size_t ab_handoff_try_pop(struct ab_handoff *q, void **items)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count ? take(q, items) : 0;
    pthread_mutex_unlock(&q->lock);
    return n;
}
