/*
 * larson: the server simulation of Larson and Krishnan ("Memory Allocation
 * for Long-Running Server Applications", ISMM 1998), re-implemented from its
 * published description: each thread owns an array of `chunks` blocks and
 * replaces random ones (free the block in a random slot, allocate one of a
 * random size in [min_size, max_size]); after `passes` * `chunks`
 * replacements (the author's num-rounds times chunks per thread) it hands its
 * array to a newly created thread and exits.  Blocks therefore outlive
 * the thread that made them and are freed by its successors (the "bleeding"
 * the authors saw in servers).  mimalloc-bench runs larson 5 8 1000 5000 100
 * 4141 P: sizes 8 to 1000, 5000 chunks per thread.
 *
 * One round is one thread life; one op is one replacement.  Frees of blocks
 * an earlier thread made are counted as remote (remote_frees).  The author's
 * figure is throughput: replacements per second.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>

static const char *const variants[] = {"server", NULL};

static const struct ab_param params[] = {
    {"min_size", AB_PARAM_SIZE, "8", 1, 1 << 20, NULL, "smallest block"},
    {"max_size", AB_PARAM_SIZE, "1000", 1, 1 << 20, NULL, "largest block"},
    {"chunks", AB_PARAM_INT, "5000", 1, 1 << 24, NULL, "blocks each thread's array holds"},
    {"passes", AB_PARAM_INT, "100", 1, 1000000, NULL,
     "a thread's life, in replacements per chunk: it hands its array on and exits "
     "after passes*chunks replacements (the author's num-rounds)"},
};

struct state {
    struct ab_thread *th;
    const struct ab_heap *h;
    void **block;
    uint32_t *gen;          /* which life allocated each block */
    size_t chunks, life, min, max;
    uint32_t now;           /* the current life */
    uint64_t remote, done;
    int error;
};

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->th = th;
    s->h = t->heap;
    s->chunks = (size_t)ab_trial_param(t, "chunks");
    s->life = (size_t)ab_trial_param(t, "passes") * s->chunks;
    s->min = (size_t)ab_trial_param(t, "min_size");
    s->max = (size_t)ab_trial_param(t, "max_size");
    if (s->max < s->min)
        s->max = s->min;
    s->block = ab_buf_alloc(s->chunks * sizeof *s->block);
    s->gen = ab_buf_alloc(s->chunks * sizeof *s->gen);
    if (!s->block || !s->gen)
        return -ENOMEM;
    th->state = s;
    for (size_t i = 0; i < s->chunks; i++) {
        unsigned char *p = s->h->malloc(ab_rng_range(&th->rng, s->min, s->max));
        if (!p)
            return -ENOMEM;
        p[0] = 1;
        s->block[i] = p;
    }
    return 0;
}

/* A thread's life: `life` replacements, then it exits. */
static void *life_main(void *arg)
{
    struct state *s = arg;
    uint64_t *rng = &s->th->rng;
    uint64_t remote = 0;
    size_t i = 0;
    for (; i < s->life; i++) {
        size_t j = (size_t)ab_rng_below(rng, s->chunks);
        remote += s->gen[j] != s->now;
        s->h->free(s->block[j]);
        unsigned char *p = s->h->malloc(ab_rng_range(rng, s->min, s->max));
        s->block[j] = p;
        s->gen[j] = s->now;
        if (!p) {
            s->error = -ENOMEM;
            break;
        }
        p[0] = (unsigned char)i;
    }
    s->remote = remote;
    s->done = i;
    return NULL;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    s->now++;
    s->done = s->remote = 0;
    int rc = ab_trial_run_thread(th, life_main, s);
    if (rc || s->error) {
        th->error = rc ? rc : s->error;
        return s->done;
    }
    if (th->measuring)
        atomic_fetch_add((atomic_uint_fast64_t *)th->t->shared, s->remote);
    return s->done;
}

static void teardown(struct ab_thread *th)
{
    struct state *s = th->state;
    for (size_t i = 0; i < s->chunks; i++)
        s->h->free(s->block[i]);
}

static int run(struct ab_trial *t)
{
    static const struct ab_rounds r = {setup, round_fn, teardown};
    atomic_uint_fast64_t measured_remote = 0;
    t->shared = &measured_remote;
    int rc = ab_trial_run_rounds(t, &r);
    if (rc)
        return rc;
    ab_trial_remote_frees(t, atomic_load(&measured_remote), -1);
    return 0;
}

const struct ab_workload ab_wl_larson = {
    .name = "larson",
    .summary = "Larson & Krishnan's server simulation: threads replace random blocks and "
               "hand their arrays to successor threads",
    .seed = "classic: larson (Larson, Krishnan 1998)",
    .unit = "replacement",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "chunks=500,passes=4",
    .default_rounds = 4,
    .run = run,
    .merit = "throughput: replacements per second (ops_per_s)",
};
