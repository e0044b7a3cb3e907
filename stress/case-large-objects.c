/*
 * large-objects: every thread keeps four large blocks (the profile's large
 * mix) and replaces a random one per operation: allocate and write whole,
 * one in four aligned to 2 MiB, one in four grown by realloc from 64 KiB,
 * doubling across the mmap threshold with the contents checked at every
 * step (the kinds in turn, thread i starting at the i-th).  With every thread's set live (and 64 small blocks each), the
 * hugepage and NUMA policy are checked on the mappings that hold them.
 */
#include "verify.h"

#include <errno.h>
#include <string.h>

#define LARGE_SLOTS 4
#define SMALL_SLOTS 64

struct shared {
    pthread_barrier_t bar;
    const void **addrs;
    size_t naddrs, cap;
    pthread_mutex_t lock;
};

static int grow(struct ab_stress *s, struct ab_block *b, size_t target, uint64_t *seq)
{
    size_t size = 64u << 10;
    int rc = ab_block_alloc(s, b, size, 0, AB_ALLOC_MALLOC, ++*seq);
    while (rc == 0 && b->p && size < target) {
        size = size * 2 < target ? size * 2 : target;
        rc = ab_block_realloc(s, b, size, ++*seq);
    }
    return rc;
}

static void worker(struct ab_stress *s, unsigned i, void *arg)
{
    struct shared *g = arg;
    const struct ab_heap *h = s->heap;
    const struct ab_profile *p = s->prof;
    struct ab_block large[LARGE_SLOTS] = {0}, small[SMALL_SLOTS] = {0};
    uint64_t rng = ab_stress_rng(s, i), seq = (uint64_t)i << 48, done = 0, verified = 0;
    uint64_t cap = 0;
    /* The kinds in turn, thread i starting at kind i: a short run (--ops
     * caps a thread at one large block) still makes an aligned block and a
     * grown one, whatever the seed. */
    unsigned turn = i;
    if (s->ops_cap)
        cap = p->ops ? p->large_ops * s->ops_cap / p->ops : p->large_ops;
    if (s->ops_cap && !cap)
        cap = 1;
    for (unsigned k = 0; k < SMALL_SLOTS; k++)
        if (ab_block_alloc(s, &small[k], ab_size_mix_pick(&p->sizes, &rng), 0, AB_ALLOC_MALLOC,
                           ++seq) == 0)
            done++;
    while ((!cap || done < cap + SMALL_SLOTS) &&
           (!s->deadline_ns || ab_now_ns() < s->deadline_ns)) {
        struct ab_block *b = &large[ab_rng_below(&rng, LARGE_SLOTS)];
        verified += ab_block_free(s, b);
        size_t size = ab_size_mix_pick(&p->large, &rng);
        unsigned kind = turn++ & 3;
        int rc;
        if (kind == 0 && h->aligned_alloc) {
            size_t align = 2u << 20;
            rc = ab_block_alloc(s, b, (size + align - 1) & ~(align - 1), align, AB_ALLOC_ALIGNED,
                                ++seq);
        } else if (kind == 1 && h->realloc) {
            uint64_t before = seq;
            rc = grow(s, b, size, &seq);
            verified += s->verify ? seq - before - 1 : 0; /* each step checked the last */
            done += seq - before - 1;
        } else {
            rc = ab_block_alloc(s, b, size, 0, AB_ALLOC_MALLOC, ++seq);
        }
        if (rc == -ENOMEM) {
            ab_stress_incomplete(s, "a large allocation of %zu bytes returned NULL", size);
            break;
        }
        done++;
    }
    /* Every thread's set live: the policy is read on the memory. */
    pthread_mutex_lock(&g->lock);
    for (unsigned k = 0; k < LARGE_SLOTS; k++)
        if (large[k].p && g->naddrs < g->cap)
            g->addrs[g->naddrs++] = large[k].p;
    for (unsigned k = 0; k < SMALL_SLOTS; k++)
        if (small[k].p && g->naddrs < g->cap)
            g->addrs[g->naddrs++] = small[k].p;
    pthread_mutex_unlock(&g->lock);
    pthread_barrier_wait(&g->bar);
    if (i == 0)
        ab_policy_check(s, g->addrs, g->naddrs);
    pthread_barrier_wait(&g->bar);
    for (unsigned k = 0; k < LARGE_SLOTS; k++)
        verified += ab_block_free(s, &large[k]);
    for (unsigned k = 0; k < SMALL_SLOTS; k++)
        verified += ab_block_free(s, &small[k]);
    ab_stress_count(s, done, verified);
}

static int run(struct ab_stress *s)
{
    struct shared g = {0};
    g.cap = (size_t)s->threads * (LARGE_SLOTS + SMALL_SLOTS);
    g.addrs = ab_buf_alloc(g.cap * sizeof *g.addrs);
    if (!g.addrs)
        return -ENOMEM;
    pthread_mutex_init(&g.lock, NULL);
    pthread_barrier_init(&g.bar, NULL, s->threads);
    int rc = ab_stress_threads(s, s->threads, worker, &g);
    pthread_barrier_destroy(&g.bar);
    ab_buf_free(g.addrs, g.cap * sizeof *g.addrs);
    return rc;
}

const struct ab_stress_case ab_case_large_objects = {
    .name = "large-objects",
    .summary = "large blocks, 2 MiB alignment, realloc growth; hugepage and NUMA policy",
    .timed = true,
    .run = run,
};
