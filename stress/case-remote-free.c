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
#include "ab.h"

#include <errno.h>
#include <math.h>

struct ring {
    pthread_barrier_t bar;
    struct ab_block **batch;       /* [thread][n] */
    size_t n;
    volatile bool stop;
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
    struct ring *g = arg;
    unsigned T = s->threads < 2 ? 2 : s->threads;
    struct ab_block *mine = g->batch[i], *theirs = g->batch[(i + T - 1) % T];
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
        pthread_barrier_wait(&g->bar); /* every batch is handed over */
        for (size_t k = 0; k < g->n; k++)
            verified += ab_block_free(s, &theirs[k]);
        pthread_barrier_wait(&g->bar); /* every remote free is done */
        if (i == 0) {
            struct allocbench_plugin_stats st;
            if (plugin_stats(s, &st) && (st.valid & ALLOCBENCH_STAT_REMOTE_DEPTH)) {
                g->depth_valid = true;
                g->samples++;
                if (st.remote_free_depth > g->max_depth)
                    g->max_depth = st.remote_free_depth;
            }
            if ((s->ops_cap && done + g->n > s->ops_cap) ||
                (s->deadline_ns && ab_now_ns() >= s->deadline_ns))
                g->stop = true;
        }
        pthread_barrier_wait(&g->bar); /* the decision is made */
        if (g->stop)
            break;
    }
    ab_stress_count(s, done, verified);
}

static int run(struct ab_stress *s)
{
    const struct ab_profile *p = s->prof;
    unsigned T = s->threads < 2 ? 2 : s->threads;
    s->threads = T;
    struct ring g = {0};
    g.n = p->remote_bound ? 2 * (size_t)p->remote_bound : 1024;
    /* ops per thread bound the rounds; one round is at least one batch */
    if (s->ops_cap && g.n > s->ops_cap)
        g.n = (size_t)s->ops_cap;
    struct allocbench_plugin_stats st;
    if (plugin_stats(s, &st)) {
        g.bound_valid = st.valid & ALLOCBENCH_STAT_REMOTE_BOUND;
        g.bound = st.remote_free_bound;
        g.frees_valid = st.valid & ALLOCBENCH_STAT_REMOTE_FREES;
        g.remote_frees0 = st.remote_frees;
    }
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
    if (rc)
        return rc;

    const char *who = s->heap->plugin ? s->heap->plugin->name : "a preloaded allocator";
    uint64_t ours = s->f->verified ? s->f->verified : s->f->ops;
    ab_stress_figure(s, "remote_frees", "frees", (double)ours);
    ab_stress_figure(s, "batch", "blocks", (double)g.n);
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
                       (unsigned long long)bound, g.n, (unsigned long long)g.samples);
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
