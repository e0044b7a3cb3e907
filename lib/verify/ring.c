/*
 * ring.c — a ring of threads handing batches of blocks on, for the cases
 * where blocks cross threads (remote-free, cross-thread-allocation): thread
 * i allocates batch i, thread i + 1 works on it, rounds separated by a
 * barrier, thread 0 deciding when the budget is spent so all stop together.
 */
#include "verify.h"

#include <errno.h>
#include <string.h>

int ab_ring_init(struct ab_ring *g, struct ab_stress *s, size_t n)
{
    memset(g, 0, sizeof *g);
    if (s->threads < 2)
        s->threads = 2; /* a block needs another thread to cross to */
    g->threads = s->threads;
    g->n = s->ops_cap && n > s->ops_cap ? (size_t)s->ops_cap : n;
    g->batch = ab_buf_alloc(g->threads * sizeof *g->batch);
    if (!g->batch)
        return -ENOMEM;
    for (unsigned i = 0; i < g->threads; i++)
        if (!(g->batch[i] = ab_buf_alloc(g->n * sizeof **g->batch))) {
            ab_ring_destroy(g);
            return -ENOMEM;
        }
    pthread_barrier_init(&g->bar, NULL, g->threads);
    g->barrier_ready = true;
    return 0;
}

void ab_ring_destroy(struct ab_ring *g)
{
    if (g->barrier_ready)
        pthread_barrier_destroy(&g->bar);
    for (unsigned i = 0; g->batch && i < g->threads; i++)
        ab_buf_free(g->batch[i], g->n * sizeof **g->batch);
    ab_buf_free(g->batch, g->threads * sizeof *g->batch);
    g->batch = NULL;
}

size_t ab_ring_fill(struct ab_stress *s, struct ab_ring *g, unsigned i, uint64_t *rng,
                    uint64_t *seq)
{
    struct ab_block *mine = g->batch[i];
    size_t made = 0;
    for (; made < g->n; made++) {
        size_t size = ab_size_mix_pick(&s->prof->sizes, rng);
        if (ab_block_alloc(s, &mine[made], size, 0, AB_ALLOC_MALLOC, ++*seq) == -ENOMEM) {
            ab_stress_incomplete(s, "malloc(%zu) returned NULL", size);
            g->stop = true;
            break;
        }
    }
    return made;
}

void ab_ring_decide(struct ab_stress *s, struct ab_ring *g, unsigned i, uint64_t done)
{
    if (i == 0 && ((s->ops_cap && done + g->n > s->ops_cap) ||
                   (s->deadline_ns && ab_now_ns() >= s->deadline_ns)))
        g->stop = true;
}
