/*
 * cross-thread-allocation: blocks allocated on one thread live on another.
 * Each round every thread of a ring (two at least) allocates a batch; the
 * next thread checks each block and writes it anew; where the profile
 * allows remote frees it also reallocates one block in eight (a foreign
 * realloc frees remotely); then the owner checks its batch again and frees
 * what is still its own.
 */
#include "ab.h"

#include <errno.h>

struct ring {
    pthread_barrier_t bar;
    struct ab_block **batch;
    size_t n;
    volatile bool stop;
};

static void worker(struct ab_stress *s, unsigned i, void *arg)
{
    struct ring *g = arg;
    unsigned T = s->threads;
    struct ab_block *mine = g->batch[i], *theirs = g->batch[(i + T - 1) % T];
    bool foreign_realloc = s->prof->remote_frees && s->heap->realloc;
    uint64_t rng = ab_stress_rng(s, i), seq = (uint64_t)i << 48, done = 0, verified = 0;
    for (;;) {
        size_t made = 0;
        for (; made < g->n; made++) {
            size_t size = ab_size_mix_pick(&s->prof->sizes, &rng);
            if (ab_block_alloc(s, &mine[made], size, 0, AB_ALLOC_MALLOC, ++seq) == -ENOMEM) {
                ab_stress_incomplete(s, "malloc(%zu) returned NULL", size);
                g->stop = true;
                break;
            }
        }
        done += made;
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
        if (i == 0 && ((s->ops_cap && done + g->n > s->ops_cap) ||
                       (s->deadline_ns && ab_now_ns() >= s->deadline_ns)))
            g->stop = true;
        pthread_barrier_wait(&g->bar); /* the decision is made */
        if (g->stop)
            break;
    }
    ab_stress_count(s, done, verified);
}

static int run(struct ab_stress *s)
{
    unsigned T = s->threads < 2 ? 2 : s->threads;
    s->threads = T;
    struct ring g = {0};
    g.n = s->prof->live < 4096 ? (size_t)s->prof->live : 4096;
    if (s->ops_cap && g.n > s->ops_cap)
        g.n = (size_t)s->ops_cap;
    g.batch = ab_buf_alloc(T * sizeof *g.batch);
    if (!g.batch)
        return -ENOMEM;
    for (unsigned i = 0; i < T; i++)
        if (!(g.batch[i] = ab_buf_alloc(g.n * sizeof **g.batch)))
            return -ENOMEM;
    pthread_barrier_init(&g.bar, NULL, T);
    int rc = ab_stress_threads(s, T, worker, &g);
    pthread_barrier_destroy(&g.bar);
    for (unsigned i = 0; i < T; i++)
        ab_buf_free(g.batch[i], g.n * sizeof **g.batch);
    ab_buf_free(g.batch, T * sizeof *g.batch);
    return rc;
}

const struct ab_stress_case ab_case_cross_thread = {
    .name = "cross-thread-allocation",
    .summary = "blocks allocated on one thread are written on the next, freed by the owner",
    .timed = true,
    .run = run,
};
