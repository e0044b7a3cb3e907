/*
 * remote-free: a ring of threads (two at least).  Each round every thread
 * allocates a batch, hands it to the next thread, and frees the batch the
 * previous thread handed it: every free is remote.  The batch is twice the
 * profile's remote-free bound, so a queue that does not hold its bound
 * shows it; between rounds, with every thread waiting, a plugin's reported
 * queue depth is read against the bound.  After every thread has detached
 * (a drain point), nothing may be left queued, and the plugin must have
 * accepted every remote free.
 */
#include "verify.h"

#include <math.h>

struct remote {
    struct ab_ring ring;
    uint64_t max_depth, bound, samples, remote_frees0;
    bool depth_valid, bound_valid, frees_valid;
};

static bool plugin_stats(const struct ab_stress *s, struct allocbench_plugin_stats *st)
{
    const struct allocbench_plugin *pl = s->heap->plugin;
    st->struct_size = sizeof *st;
    st->valid = 0;
    return pl && pl->stats && pl->stats(st) == 0;
}

static void worker(struct ab_stress *s, unsigned i, void *arg)
{
    struct remote *g = arg;
    struct ab_ring *ring = &g->ring;
    struct ab_block *theirs = ring->batch[(i + ring->threads - 1) % ring->threads];
    uint64_t rng = ab_stress_rng(s, i), seq = (uint64_t)i << 48, done = 0, verified = 0;
    for (;;) {
        done += ab_ring_fill(s, ring, i, &rng, &seq);
        pthread_barrier_wait(&ring->bar); /* every batch is handed over */
        for (size_t k = 0; k < ring->n; k++)
            verified += ab_block_free(s, &theirs[k]);
        pthread_barrier_wait(&ring->bar); /* every remote free is done */
        if (i == 0) {
            struct allocbench_plugin_stats st;
            if (plugin_stats(s, &st) && (st.valid & ALLOCBENCH_STAT_REMOTE_DEPTH)) {
                g->depth_valid = true;
                g->samples++;
                if (st.remote_free_depth > g->max_depth)
                    g->max_depth = st.remote_free_depth;
            }
        }
        ab_ring_decide(s, ring, i, done);
        pthread_barrier_wait(&ring->bar); /* the decision is made */
        if (ring->stop)
            break;
    }
    ab_stress_count(s, done, verified);
}

static int run(struct ab_stress *s)
{
    const struct ab_profile *p = s->prof;
    struct remote g = {0};
    struct allocbench_plugin_stats st;
    if (plugin_stats(s, &st)) {
        g.bound_valid = st.valid & ALLOCBENCH_STAT_REMOTE_BOUND;
        g.bound = st.remote_free_bound;
        g.frees_valid = st.valid & ALLOCBENCH_STAT_REMOTE_FREES;
        g.remote_frees0 = st.remote_frees;
    }
    int rc = ab_ring_init(&g.ring, s, p->remote_bound ? 2 * (size_t)p->remote_bound : 1024);
    if (!rc)
        rc = ab_stress_threads(s, g.ring.threads, worker, &g);
    size_t batch = g.ring.n;
    ab_ring_destroy(&g.ring);
    if (rc)
        return rc;

    const char *who = s->heap->plugin ? s->heap->plugin->name : "a preloaded allocator";
    uint64_t ours = s->f->verified ? s->f->verified : s->f->ops;
    ab_stress_figure(s, "remote_frees", "frees", (double)ours);
    ab_stress_figure(s, "batch", "blocks", (double)batch);
    /* The bound the queues must hold: the tighter of the plugin's promise
     * and the profile's. */
    uint64_t bound = 0;
    if (g.bound_valid)
        bound = g.bound;
    if (p->remote_bound && (!bound || p->remote_bound < bound))
        bound = p->remote_bound;
    ab_stress_figure(s, "max_queue_depth", "blocks", g.depth_valid ? (double)g.max_depth : NAN);
    if (!g.depth_valid)
        ab_stress_check(s, "queue-bound", AB_VERDICT_NA,
                        "%s reports no remote-free queue depth", who);
    else if (!bound)
        ab_stress_check(s, "queue-bound", AB_VERDICT_NA,
                        "neither the plugin nor profile %s promises a bound", p->name);
    else if (g.max_depth > bound) {
        ab_stress_diag(s, AB_ALLOCATOR_REMOTE_FREE_OVERFLOW,
                       "remote-free queue depth %llu past its bound %llu (batches of %zu remote "
                       "frees, %llu samples)", (unsigned long long)g.max_depth,
                       (unsigned long long)bound, batch, (unsigned long long)g.samples);
        ab_stress_check(s, "queue-bound", AB_VERDICT_FAILED, "depth past the bound");
    } else
        ab_stress_check(s, "queue-bound", AB_VERDICT_HELD,
                        "deepest queue %llu of bound %llu over %llu samples",
                        (unsigned long long)g.max_depth, (unsigned long long)bound,
                        (unsigned long long)g.samples);

    /* Every thread has detached: the queues must be drained. */
    bool have = plugin_stats(s, &st);
    if (!have || !(st.valid & ALLOCBENCH_STAT_REMOTE_DEPTH))
        ab_stress_check(s, "drained", AB_VERDICT_NA, "%s reports no remote-free queue depth",
                        who);
    else if (st.remote_free_depth) {
        ab_stress_diag(s, AB_ALLOCATOR_REMOTE_FREE_OVERFLOW,
                       "%llu remote frees still queued after every thread detached",
                       (unsigned long long)st.remote_free_depth);
        ab_stress_check(s, "drained", AB_VERDICT_FAILED, "frees left queued");
    } else
        ab_stress_check(s, "drained", AB_VERDICT_HELD, "no remote free left queued");
    if (!have || !g.frees_valid || !(st.valid & ALLOCBENCH_STAT_REMOTE_FREES))
        ab_stress_check(s, "accepted", AB_VERDICT_NA, "%s counts no remote frees", who);
    else if (st.remote_frees - g.remote_frees0 < ours) {
        ab_stress_diag(s, AB_ALLOCATOR_REMOTE_FREE_OVERFLOW,
                       "remote frees lost: the allocator accepted %llu of %llu",
                       (unsigned long long)(st.remote_frees - g.remote_frees0),
                       (unsigned long long)ours);
        ab_stress_check(s, "accepted", AB_VERDICT_FAILED, "remote frees lost");
    } else
        ab_stress_check(s, "accepted", AB_VERDICT_HELD, "all %llu remote frees accepted",
                        (unsigned long long)ours);
    return 0;
}

const struct ab_stress_case ab_case_remote_free = {
    .name = "remote-free",
    .summary = "a ring of threads frees the batches its neighbour allocated",
    .timed = true,
    .needs_remote = true,
    .run = run,
};
