/*
 * cross-thread-allocation: blocks allocated on one thread live on another.
 * Each round every thread of a ring (two at least) allocates a batch; the
 * next thread checks each block and writes it anew; where the profile
 * allows remote frees it also reallocates one block in eight (a foreign
 * realloc frees remotely); then the owner checks its batch again and frees
 * what is still its own.
 */
#include "verify.h"

static void worker(struct ab_stress *s, unsigned i, void *arg)
{
    struct ab_ring *g = arg;
    struct ab_block *mine = g->batch[i], *theirs = g->batch[(i + g->threads - 1) % g->threads];
    bool foreign_realloc = s->prof->remote_frees && s->heap->realloc;
    uint64_t rng = ab_stress_rng(s, i), seq = (uint64_t)i << 48, done = 0, verified = 0;
    for (;;) {
        done += ab_ring_fill(s, g, i, &rng, &seq);
        pthread_barrier_wait(&g->bar); /* handed over */
        for (size_t k = 0; k < g->n; k++) {
            struct ab_block *b = &theirs[k];
            if (!b->p)
                continue;
            if (foreign_realloc && k % 8 == 7) {
                size_t size = ab_size_mix_pick(&s->prof->sizes, &rng);
                verified += s->verify;
                if (ab_block_realloc(s, b, size, ++seq) == 0)
                    done++;
            } else {
                ab_block_rewrite(s, b, ++seq);
            }
        }
        pthread_barrier_wait(&g->bar); /* handed back */
        for (size_t k = 0; k < g->n; k++)
            verified += ab_block_free(s, &mine[k]);
        ab_ring_decide(s, g, i, done);
        pthread_barrier_wait(&g->bar); /* the decision is made */
        if (g->stop)
            break;
    }
    ab_stress_count(s, done, verified);
}

static int run(struct ab_stress *s)
{
    struct ab_ring g;
    int rc = ab_ring_init(&g, s, s->prof->live < 4096 ? (size_t)s->prof->live : 4096);
    if (!rc)
        rc = ab_stress_threads(s, g.threads, worker, &g);
    ab_ring_destroy(&g);
    return rc;
}

const struct ab_stress_case ab_case_cross_thread_allocation = {
    .name = "cross-thread-allocation",
    .summary = "blocks allocated on one thread are written on the next, freed by the owner",
    .timed = true,
    .run = run,
};
