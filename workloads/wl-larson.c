/*
 * larson: the server simulation of Larson and Krishnan ("Memory Allocation
 * for Long-Running Server Applications", ISMM 1998) as mimalloc-bench runs
 * it (larson 5 8 1000 5000 100 4141 P), written here after the original's
 * algorithm.
 *
 * Before any thread runs, the main thread allocates threads*chunks blocks of
 * random sizes, shuffles them and replaces 4*threads*chunks random ones, all
 * with one generator seeded with `seed` (Gloger's lran2, as the original's);
 * sizes are min_size + r % (max_size - min_size), so 8 to 999 bytes by
 * default.  Thread i then owns slice i of the blocks and a generator seeded
 * from the main one.  Its life is passes*chunks replacements: free the block
 * in a random slot, allocate one of a random size, write 'a' to its first
 * byte, read it back (volatile), write 'b' to its second.  At the end of its
 * life a thread starts its successor on the same slice and generator and
 * exits; nobody joins it while the trial runs (the original never does), so
 * the successor runs while its predecessor's exit (and its allocator's
 * thread teardown) is under way.  The first lives free the main thread's
 * blocks, later ones their dead predecessors': blocks outlive the thread
 * that made them.
 *
 * The original runs the chains for a fixed time; here one round is one life
 * of every chain (the trial's thread i waits for its chain's life to end),
 * one op is one replacement, and the figure is replacements per second, the
 * original's throughput.  --seed does not apply: the original's generator is
 * seeded by its own argument.  remote_frees: frees of blocks an earlier life
 * (or the main thread) allocated.
 */
#include "workload.h"

#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>

static const char *const variants[] = {"server", NULL};

static const struct ab_param params[] = {
    {"min_size", AB_PARAM_SIZE, "8", 2, 1 << 20, NULL, "smallest block"},
    {"max_size", AB_PARAM_SIZE, "1000", 2, 1 << 20, NULL,
     "one past the largest block (sizes are min_size + r % (max_size - min_size))"},
    {"chunks", AB_PARAM_INT, "5000", 1, 1 << 24, NULL, "blocks each thread owns"},
    {"passes", AB_PARAM_INT, "100", 1, 1000000, NULL,
     "a life, in replacements per chunk: passes*chunks replacements (num_rounds)"},
    {"seed", AB_PARAM_INT, "4141", 0, 2147483647, NULL, "the original's random seed"},
};

/* Gloger's lran2 (Numerical Recipes' shuffled LCG). */
#define LRAN2_MAX 714025l
#define LRAN2_A 1366l
#define LRAN2_C 150889l

struct lran2 {
    long x, y, v[97];
};

static void lran2_init(struct lran2 *g, long seed)
{
    long x = (LRAN2_C - seed) % LRAN2_MAX;
    if (x < 0)
        x = -x;
    for (int j = 0; j < 97; j++) {
        x = (LRAN2_A * x + LRAN2_C) % LRAN2_MAX;
        g->v[j] = x;
    }
    g->x = (LRAN2_A * x + LRAN2_C) % LRAN2_MAX;
    g->y = g->x;
}

static long lran2(struct lran2 *g)
{
    int j = (int)(g->y % 97);
    g->y = g->v[j];
    g->x = (LRAN2_A * g->x + LRAN2_C) % LRAN2_MAX;
    g->v[j] = g->x;
    return g->y;
}

struct chain;

struct shared {
    struct chain *chains;
    void **block;             /* threads * chunks, slice i is thread i's */
    uint32_t *gen;            /* the life that allocated each block; 0: main */
    size_t nblocks, min, range;
    struct lran2 main_rng;
    atomic_uint_fast64_t remote;
};

/* One chain of lives: thread i's slice and generator. */
struct chain {
    struct ab_trial *t;
    struct shared *sh;
    unsigned index;
    void **block;
    uint32_t *gen;
    size_t chunks, life;
    struct lran2 rng;
    sem_t go, done;           /* a life starts on go and posts done at its end */
    pthread_t *tid;           /* every life's thread, joined at teardown */
    unsigned lives, started;  /* lives in the trial; threads started */
    bool stopping;            /* teardown: no successor */
    uint32_t now;             /* the running life's generation */
    uint64_t ops, remote;
    int error;
};

static size_t pick_size(const struct shared *sh, struct lran2 *g)
{
    return sh->range ? sh->min + (size_t)lran2(g) % sh->range : sh->min;
}

static void *life_main(void *arg);

/* Start life `started` of the chain (from the trial's thread for the first,
 * from the dying life for the others). */
static int start_life(struct chain *c)
{
    int rc = ab_trial_start_thread(c->t, c->index, life_main, c, &c->tid[c->started]);
    if (rc == 0)
        c->started++;
    return rc;
}

/* Per replacement: two lran2 draws, one free, one malloc, a store, a
 * volatile load, a store, the generation bookkeeping. */
static void *life_main(void *arg)
{
    struct chain *c = arg;
    const struct ab_heap *h = c->t->heap;
    sem_wait(&c->go);
    uint32_t now = c->now;
    uint64_t remote = 0;
    size_t i = 0;
    for (; i < c->life; i++) {
        size_t victim = (size_t)lran2(&c->rng) % c->chunks;
        remote += c->gen[victim] != now;
        h->free(c->block[victim]);
        char *p = h->malloc(pick_size(c->sh, &c->rng));
        c->block[victim] = p;
        c->gen[victim] = now;
        if (!p) {
            c->error = -ENOMEM;
            break;
        }
        volatile char *v = p;
        v[0] = 'a';
        volatile char ch = v[0];
        (void)ch;
        v[1] = 'b';
    }
    c->ops = i;
    c->remote = remote;
    /* The successor first, then the word that this life is over. */
    if (!c->error && !c->stopping && c->started < c->lives) {
        int rc = start_life(c);
        if (rc)
            c->error = rc;
    }
    sem_post(&c->done);
    return NULL;
}

static int setup(struct ab_thread *th)
{
    struct shared *sh = th->t->shared;
    struct chain *c = &sh->chains[th->index];
    th->state = c;
    c->tid = ab_buf_alloc(c->lives * sizeof *c->tid);
    if (!c->tid)
        return -ENOMEM;
    sem_init(&c->go, 0, 0);
    sem_init(&c->done, 0, 0);
    return start_life(c);
}

/* The trial's thread i: let the chain's next life run, wait for its end. */
static uint64_t round_fn(struct ab_thread *th)
{
    struct chain *c = th->state;
    if (c->error) {
        th->error = c->error;
        return 0;
    }
    c->now++;
    sem_post(&c->go);
    sem_wait(&c->done);
    if (c->error)
        th->error = c->error;
    if (th->measuring)
        atomic_fetch_add(&c->sh->remote, c->remote);
    return c->ops;
}

static void teardown(struct ab_thread *th)
{
    struct chain *c = th->state;
    /* A life started and never let run (the trial stopped early) is let go
     * with nothing to do. */
    if (c->started > c->now) {
        c->life = 0;
        c->stopping = true;
        sem_post(&c->go);
        sem_wait(&c->done);
    }
    for (unsigned i = 0; i < c->started; i++)
        pthread_join(c->tid[i], NULL);
    sem_destroy(&c->go);
    sem_destroy(&c->done);
    ab_buf_free(c->tid, c->lives * sizeof *c->tid);
}

/* The original's warm-up, on the main thread: allocate every block, shuffle
 * them, replace 4 * nblocks random ones. */
static int warm_up(struct ab_trial *t, struct shared *sh)
{
    const struct ab_heap *h = t->heap;
    size_t n = sh->nblocks;
    for (size_t i = 0; i < n; i++)
        if (!(sh->block[i] = h->malloc(pick_size(sh, &sh->main_rng))))
            return -ENOMEM;
    for (size_t i = n; i > 0; i--) {
        size_t j = (size_t)lran2(&sh->main_rng) % i;
        void *p = sh->block[j];
        sh->block[j] = sh->block[i - 1];
        sh->block[i - 1] = p;
    }
    for (size_t i = 0; i < 4 * n; i++) {
        size_t j = (size_t)lran2(&sh->main_rng) % n;
        h->free(sh->block[j]);
        if (!(sh->block[j] = h->malloc(pick_size(sh, &sh->main_rng))))
            return -ENOMEM;
    }
    return 0;
}

static int run(struct ab_trial *t)
{
    unsigned n = t->threads ? t->threads : 1;
    size_t chunks = (size_t)ab_trial_param(t, "chunks");
    size_t min = (size_t)ab_trial_param(t, "min_size"), max = (size_t)ab_trial_param(t, "max_size");
    struct shared sh = {.nblocks = n * chunks, .min = min, .range = max > min ? max - min : 0};
    size_t bytes = n * sizeof *sh.chains + sh.nblocks * (sizeof *sh.block + sizeof *sh.gen);
    void *mem = ab_buf_alloc(bytes);
    if (!mem)
        return -ENOMEM;
    sh.chains = mem;
    sh.block = (void **)(sh.chains + n);
    sh.gen = (uint32_t *)(sh.block + sh.nblocks);
    lran2_init(&sh.main_rng, (long)ab_trial_param(t, "seed"));
    int rc = warm_up(t, &sh);
    for (unsigned i = 0; i < n && !rc; i++) {
        struct chain *c = &sh.chains[i];
        c->t = t;
        c->sh = &sh;
        c->index = i;
        c->chunks = chunks;
        c->life = (size_t)ab_trial_param(t, "passes") * chunks;
        c->block = sh.block + i * chunks;
        c->gen = sh.gen + i * chunks;
        c->lives = t->warmup + t->rounds;
        lran2_init(&c->rng, lran2(&sh.main_rng));
    }
    if (!rc) {
        t->shared = &sh;
        static const struct ab_rounds r = {setup, round_fn, teardown};
        rc = ab_trial_run_rounds(t, &r);
    }
    for (size_t i = 0; i < sh.nblocks; i++)
        t->heap->free(sh.block[i]);
    ab_buf_free(mem, bytes);
    if (rc)
        return rc;
    ab_trial_remote_frees(t, atomic_load(&sh.remote), -1);
    return 0;
}

/* Sizes are min_size + r % (max_size - min_size): an empty range has none. */
static int check(const struct ab_workload *w, const struct ab_params *p, char *err, size_t n)
{
    return ab_params_ordered(w, p, "min_size", "max_size", true, err, n);
}

const struct ab_workload ab_wl_larson = {
    .name = "larson",
    .summary = "Larson & Krishnan's server simulation: threads replace random blocks; each "
               "dying thread starts its successor on the same blocks",
    .seed = "classic: larson (Larson, Krishnan 1998), as mimalloc-bench runs it",
    .unit = "replacement",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "chunks=500,passes=4",
    .default_rounds = 10,
    .check = check,
    .run = run,
    .merit = "throughput: replacements per second (ops_per_s), the original's",
};
