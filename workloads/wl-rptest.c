/*
 * rptest: Mattias Jansson's rpmalloc benchmark (rpmalloc-benchmark,
 * BENCHMARKS.md), re-implemented from its description.  Each thread keeps an
 * array of `blocks` slots.  Every loop iteration it frees `ops` blocks at
 * random slots, then allocates `ops` blocks into random slots (freeing what
 * was there); every `cross_rate` iterations it also allocates `ops` blocks
 * and hands them to the next thread, which frees them (a remote free).  A
 * thread life runs the loop sequence twice with a full free in between, and
 * threads are then replaced: the author runs four sequences in two lives.
 * Sizes lie in [min_size, max_size]: evenly distributed, with a linear or
 * an exponential falloff (`dist`), or all min_size (mode=fixed).
 * mimalloc-bench runs rptest P 0 1 2 500 1000 100 8 16000: random mode,
 * linear falloff, cross rate 2, 500 loops, 1000 blocks, 100 ops, 8 to 16000
 * bytes.
 *
 * A handed-over batch is linked through the blocks' first words onto the
 * receiver's inbox (a lock-free stack the receiver empties in one exchange),
 * so a sender never waits for a receiver.  All threads' lives start and end
 * together (the author terminates and restarts the threads as a group): a
 * life drains its inbox once every thread has stopped sending.
 *
 * One round is one thread life; one op is one malloc or one free (the
 * author's figure is memory operations per CPU second).
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

static const char *const variants[] = {"lives", NULL};

static const struct ab_param params[] = {
    {"mode", AB_PARAM_CHOICE, "random", 0, 0, "random|fixed", "block sizes"},
    {"dist", AB_PARAM_CHOICE, "linear", 0, 0, "even|linear|exp",
     "size distribution in random mode"},
    {"cross_rate", AB_PARAM_INT, "2", 0, 1000000, NULL,
     "every this many iterations a batch goes to another thread (0: never)"},
    {"loops", AB_PARAM_INT, "500", 1, 100000000, NULL, "iterations per loop sequence"},
    {"blocks", AB_PARAM_INT, "1000", 1, 1 << 24, NULL, "slots per thread"},
    {"ops", AB_PARAM_INT, "100", 1, 1 << 20, NULL, "frees and allocations per iteration"},
    {"min_size", AB_PARAM_SIZE, "8", 8, 1 << 24, NULL, "smallest block (it carries a link)"},
    {"max_size", AB_PARAM_SIZE, "16000", 1, 1 << 24, NULL, "largest block"},
};

enum { DIST_EVEN, DIST_LINEAR, DIST_EXP };
#define SIZES 4096

struct shared {
    pthread_barrier_t bar;           /* lives start and stop together */
    _Atomic(void *) *inbox;          /* one list per thread index */
    unsigned n;
    atomic_uint_fast64_t remote;     /* measured rounds */
    atomic_int failed;
};

struct state {
    struct ab_thread *th;
    struct shared *sh;
    void **slot;
    size_t blocks, ops, loops, cross_rate;
    uint32_t size[SIZES];
    uint64_t memops, remote;
};

/* Inverse distribution functions on [lo, hi]: even; density falling
 * linearly to 0 at hi; exponential with mean lo + (hi - lo) / 8. */
static double pick_size(int dist, double lo, double hi, double u)
{
    switch (dist) {
    case DIST_LINEAR: return hi - (hi - lo) * sqrt(1.0 - u);
    case DIST_EXP: {
        double lambda = 8.0 / (hi - lo > 0 ? hi - lo : 1);
        return lo - log(1.0 - u * (1.0 - exp(-lambda * (hi - lo)))) / lambda;
    }
    default: return lo + u * (hi - lo);
    }
}

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->th = th;
    s->sh = t->shared;
    s->blocks = (size_t)ab_trial_param(t, "blocks");
    s->ops = (size_t)ab_trial_param(t, "ops");
    s->loops = (size_t)ab_trial_param(t, "loops");
    s->cross_rate = (size_t)ab_trial_param(t, "cross_rate");
    double lo = (double)ab_trial_param(t, "min_size"), hi = (double)ab_trial_param(t, "max_size");
    if (hi < lo)
        hi = lo;
    bool fixed = ab_trial_param(t, "mode") == 1;
    int dist = (int)ab_trial_param(t, "dist");
    for (size_t i = 0; i < SIZES; i++) {
        double z = fixed ? lo : pick_size(dist, lo, hi, ab_rng_unit(&th->rng));
        s->size[i] = (uint32_t)(z < lo ? lo : z > hi ? hi : z);
    }
    s->slot = ab_buf_alloc(s->blocks * sizeof *s->slot);
    if (!s->slot)
        return -ENOMEM;
    th->state = s;
    return 0;
}

static void *block(struct state *s)
{
    size_t z = s->size[ab_rng_next(&s->th->rng) & (SIZES - 1)];
    unsigned char *p = s->th->t->heap->malloc(z);
    if (!p) {
        atomic_store(&s->sh->failed, 1);
        return NULL;
    }
    p[0] = (unsigned char)z;
    s->memops++;
    return p;
}

static void release(struct state *s, void *p)
{
    if (p) {
        s->th->t->heap->free(p);
        s->memops++;
    }
}

/* Free what other threads handed to this one: one exchange takes the whole
 * list. */
static void drain(struct state *s)
{
    void *p = atomic_exchange(&s->sh->inbox[s->th->index], NULL);
    while (p) {
        void *next = *(void **)p;
        release(s, p);
        s->remote += s->sh->n > 1;
        p = next;
    }
}

/* Link ops fresh blocks into a chain and push it onto the next thread's
 * inbox (push only, so no ABA). */
static void hand_over(struct state *s)
{
    _Atomic(void *) *to = &s->sh->inbox[(s->th->index + 1) % s->sh->n];
    void *head = NULL, *tail = NULL;
    for (size_t k = 0; k < s->ops; k++) {
        void *p = block(s);
        if (!p)
            break;
        *(void **)p = head;
        head = p;
        if (!tail)
            tail = p;
    }
    if (!head)
        return;
    void *old = atomic_load(to);
    do
        *(void **)tail = old;
    while (!atomic_compare_exchange_weak(to, &old, head));
}

static void sequence(struct state *s)
{
    uint64_t *rng = &s->th->rng;
    for (size_t it = 0; it < s->loops && !atomic_load(&s->sh->failed); it++) {
        drain(s);
        for (size_t k = 0; k < s->ops; k++) {
            size_t j = (size_t)ab_rng_below(rng, s->blocks);
            release(s, s->slot[j]);
            s->slot[j] = NULL;
        }
        for (size_t k = 0; k < s->ops; k++) {
            size_t j = (size_t)ab_rng_below(rng, s->blocks);
            release(s, s->slot[j]);
            s->slot[j] = block(s);
        }
        if (s->cross_rate && it % s->cross_rate == 0)
            hand_over(s);
    }
    for (size_t j = 0; j < s->blocks; j++) {
        release(s, s->slot[j]);
        s->slot[j] = NULL;
    }
}

static void *life_main(void *arg)
{
    struct state *s = arg;
    pthread_barrier_wait(&s->sh->bar);
    sequence(s);
    sequence(s);
    pthread_barrier_wait(&s->sh->bar);
    drain(s);
    return NULL;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    s->memops = s->remote = 0;
    int rc = ab_trial_run_thread(th, life_main, s);
    if (rc)
        th->error = rc;
    if (th->measuring)
        atomic_fetch_add(&s->sh->remote, s->remote);
    return s->memops;
}

static int run(struct ab_trial *t)
{
    struct shared sh = {.n = t->threads ? t->threads : 1};
    sh.inbox = ab_buf_alloc(sh.n * sizeof *sh.inbox);
    if (!sh.inbox)
        return -ENOMEM;
    pthread_barrier_init(&sh.bar, NULL, sh.n);
    t->shared = &sh;
    static const struct ab_rounds r = {setup, round_fn, NULL};
    int rc = ab_trial_run_rounds(t, &r);
    pthread_barrier_destroy(&sh.bar);
    /* Blocks handed to a thread after its last drain: freed here. */
    for (unsigned i = 0; i < sh.n; i++)
        for (void *p = atomic_exchange(&sh.inbox[i], NULL), *next; p; p = next) {
            next = *(void **)p;
            t->heap->free(p);
        }
    ab_buf_free(sh.inbox, sh.n * sizeof *sh.inbox);
    if (!rc && atomic_load(&sh.failed))
        rc = -ENOMEM;
    if (rc)
        return rc;
    ab_trial_remote_frees(t, atomic_load(&sh.remote), -1);
    return 0;
}

const struct ab_workload ab_wl_rptest = {
    .name = "rptest",
    .summary = "Jansson's rpmalloc benchmark: scattered free/alloc of a tenth of the blocks, "
               "cross-thread batches, threads replaced",
    .seed = "classic: rpmalloc-benchmark (Jansson)",
    .unit = "memory op",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "loops=20,blocks=200,ops=20",
    .default_rounds = 2,
    .run = run,
    .merit = "memory operations per second (ops_per_s; one op is one malloc or free)",
};
