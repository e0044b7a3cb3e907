/*
 * rptest: Mattias Jansson's rpmalloc benchmark as mimalloc-bench runs it
 * (rptest P 0 1 2 500 1000 100 8 16000, its benchmark.h "modified to touch
 * the memory"), written here after the original's algorithm.
 *
 * Tables, shared by every thread: 2000 sizes of the original's distribution
 * (uniform draws scaled to [min_size, max_size], or the linear or
 * exponential falloff the original computes from three draws), 311
 * allocation and 257 free counts per loop (op_count * [30, 99] % and 0.8 *
 * that).  The original's are a fixed table of 2000 draws; ours hold the
 * distribution's quantiles (from 16 draws per entry, sorted) and the counts
 * spread evenly over [30, 99], in an order drawn from --seed.  A sample of
 * 2000 keeps or loses the rare largest sizes by luck, and one size in
 * jemalloc's 16 KiB large class (calloc'd, so purged and faulted in again on
 * reuse) moved its figure by tens of percent; the quantiles keep the one in
 * 2000 that the distribution has there.
 *
 * A thread life (one round) allocates its `blocks`-slot pointer array, waits
 * for every thread, and runs two passes of `loops` loops.  A loop takes the
 * whole list of batches other threads posted to it; frees the blocks of the
 * next free-count slots (stepping by a prime not dividing `blocks`, 11 for
 * 1000); frees the posted batches (their blocks, pointer arrays and
 * headers: remote frees); allocates the next alloc-count slots (stepping by
 * 7, freeing what was there); and every `cross_rate` loops, while no thread
 * has finished its pass, allocates a batch (header, pointer array and
 * alloc-count blocks) and posts it to the next thread round robin.  An
 * allocation of under 4096 bytes is memalign(8 or 16) or calloc, in turn;
 * a larger one calloc; memalign'd memory is memset whole (the batch headers
 * and arrays too, always memalign(16)); then the first int, one byte of
 * every page after the first and the last byte are written.  After a pass a
 * thread frees what is posted to it until every thread has finished the
 * pass, then frees all its blocks and goes on (with pauses, what was posted
 * over its 10 ms sleep freed untimed, as there); after both passes it frees what is posted
 * until every thread is done, and its array.  Sizes walk the table from
 * ((index + 1) * (pass + 1) * 37) % 2000.
 *
 * The original's main thread sleeps around the passes to sample memory, and
 * the threads with it: 1 s before the first pass, 1 to 2 s after each pass's
 * loops, 10 ms after its frees, 1 s and 1 to 2 s before the life ends (16 s
 * of a run's wall).  Over those pauses an allocator's time-driven work
 * happens (jemalloc's decay purges, mimalloc's delayed resets), and the
 * caches go cold: in 16 runs here, each beside one without pauses, ops per
 * thread-second fell with them in 15, by up to 44 %.  pause_ms (default
 * 1000, the original's) sleeps so: before the first pass, after each pass's
 * loops, 10 ms after its frees (at most pause_ms), and twice before the life
 * ends; the time slept is no part of the measured time (ab_trial_idle), and
 * warm-up lives do not pause.  As there, a thread looks for the start every
 * 10 ms on a tick of its own, so the threads start up to 10 ms apart (a
 * seeded phase each), goes from one pass to the next without waiting for the
 * others, and while waiting for them frees what is posted to it and looks
 * again every ms (with pause_ms=0 it spins, and the threads start together).
 * One op is one malloc or free (a batch header and array count 2 together,
 * as there).  Figures, both named: ops_per_s, operations over the wall time
 * of the measured lives less their pauses; ops_per_thread_s, operations over
 * the summed time of the timed sections of every thread (the loops, the
 * waits' frees and the final frees), which is the original's "memory
 * ops/CPU second".
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const variants[] = {"lives", NULL};

static const struct ab_param params[] = {
    {"mode", AB_PARAM_CHOICE, "random", 0, 0, "random|fixed", "block sizes (fixed: min_size)"},
    {"dist", AB_PARAM_CHOICE, "linear", 0, 0, "even|linear|exp",
     "size distribution in random mode (the original's size mode 0, 1, 2)"},
    {"cross_rate", AB_PARAM_INT, "2", 0, 1000000, NULL,
     "every this many loops a batch goes to another thread (0: never; 0 with one thread)"},
    {"loops", AB_PARAM_INT, "500", 1, 0xffffff, NULL, "loops per pass"},
    {"blocks", AB_PARAM_INT, "1000", 1, 0xffffff, NULL, "slots per thread (allocs)"},
    {"ops", AB_PARAM_INT, "100", 1, 0xffffff, NULL,
     "op count: a loop's allocations are ops * [30, 99] %, its frees 0.8 times that"},
    {"min_size", AB_PARAM_SIZE, "8", 4, 1 << 24, NULL, "smallest block (it carries an int)"},
    {"max_size", AB_PARAM_SIZE, "16000", 4, 1 << 24, NULL, "largest block"},
    {"pause_ms", AB_PARAM_INT, "1000", 0, 60000, NULL,
     "the original's pauses around the passes, in ms, not measured (0: none)"},
};

enum { DIST_EVEN, DIST_LINEAR, DIST_EXP };
#define SIZES 2000
#define ALLOC_COUNTS 311
#define FREE_COUNTS 257

/* A posted batch: in memory from the allocator, as the original's. */
struct batch {
    void **pointers;
    size_t count;
    struct batch *next;
};

struct shared {
    pthread_barrier_t start;
    _Atomic(struct batch *) *inbox;  /* one list per thread index */
    unsigned n;
    size_t size[SIZES];
    size_t alloc_count[ALLOC_COUNTS], free_count[FREE_COUNTS];
    size_t alloc_step, free_step, blocks, loops, cross_rate;
    uint64_t pause_ns;
    void *(*memalign)(size_t, size_t);
    /* Arrivals (over all lives): the end of pass 0's loops, of pass 1's,
     * the end of the life. */
    atomic_uint arrived[3];
    atomic_uint_fast64_t remote, timed_ns;  /* measured rounds */
    atomic_int failed;
};

struct state {
    struct ab_thread *th;
    struct shared *sh;
    unsigned lives;                  /* lives this thread has run */
    uint64_t mops, remote, ns;
    uint64_t sink;
};

/* benchmark_malloc: memalign and a memset of the whole block, or calloc. */
static void *get(const struct state *s, size_t align, size_t size)
{
    const struct ab_heap *h = s->th->t->heap;
    void *p;
    if (align) {
        p = s->sh->memalign(align, size);
        if (p)
            memset(p, 0xcd, size);
    } else {
        p = h->calloc(1, size);
    }
    if (!p)
        atomic_store(&s->sh->failed, 1);
    return p;
}

/* A block of the table's next size, written as the original writes it. */
static void *block(struct state *s, size_t size, size_t align)
{
    char *p = get(s, size < 4096 ? align : 0, size);
    if (!p)
        return NULL;
    *(int32_t *)(void *)p = (int32_t)size;
    size_t pages = (size - 1) / 4096;
    for (size_t page = 1; page < pages; page++)
        p[page * 4096] = 1;
    p[size - 1] = 1;
    s->mops++;
    return p;
}

static void release(struct state *s, void *p)
{
    s->sink += (uint32_t)*(int32_t *)p;
    s->th->t->heap->free(p);
    s->mops++;
}

/* Free every batch of the list: its blocks, its array, its header. */
static void free_batches(struct state *s, struct batch *b)
{
    const struct ab_heap *h = s->th->t->heap;
    while (b) {
        for (size_t i = 0; i < b->count; i++)
            if (b->pointers[i])
                release(s, b->pointers[i]);
        struct batch *next = b->next;
        s->remote += b->count + 2;
        h->free(b->pointers);
        h->free(b);
        s->mops += 2;
        b = next;
    }
}

static struct batch *take(struct state *s)
{
    return atomic_exchange(&s->sh->inbox[s->th->index], NULL);
}

static void post(struct shared *sh, unsigned to, struct batch *b)
{
    struct batch *old = atomic_load(&sh->inbox[to]);
    do
        b->next = old;
    while (!atomic_compare_exchange_weak(&sh->inbox[to], &old, b));
}

/* The original's pauses, out of the measured time. */
static void idle(struct state *s, uint64_t ns)
{
    ab_trial_idle(s->th, ns);
}

/* Until every thread has arrived at point k of this life: free what is
 * posted (timed, as the original's), and look again. */
static void wait_all(struct state *s, unsigned k)
{
    struct shared *sh = s->sh;
    unsigned all = sh->n * (s->lives + 1);
    atomic_fetch_add(&sh->arrived[k], 1);
    for (bool last = false; !last;) {
        /* Once all are here nobody posts: one more look takes the rest. */
        last = atomic_load(&sh->arrived[k]) >= all;
        struct batch *b = take(s);
        if (b) {
            uint64_t t0 = ab_now_ns();
            free_batches(s, b);
            s->ns += ab_now_ns() - t0;
        } else if (!last) {
            if (sh->pause_ns)
                idle(s, 1000000u); /* the original looks every ms */
            else
                sched_yield();
        }
    }
}


static void pass(struct state *s, void **pointers, unsigned p, size_t *alloc_idx,
                 size_t *free_idx, unsigned *cross)
{
    struct shared *sh = s->sh;
    const unsigned index = s->th->index;
    static const size_t alignment[3] = {0, 8, 16};
    size_t size_index = ((size_t)(index + 1) * ((p + 1) * 37)) % SIZES;
    bool send = true;
    unsigned done_before = sh->n * s->lives;
    for (size_t loop = 0; loop < sh->loops && !atomic_load(&sh->failed); loop++) {
        struct batch *posted = take(s);
        uint64_t t0 = ab_now_ns();
        size_t nfree = sh->free_count[(p + loop) % FREE_COUNTS];
        size_t nalloc = sh->alloc_count[(p + loop) % ALLOC_COUNTS];
        for (size_t k = 0; k < nfree; k++) {
            if (pointers[*free_idx]) {
                release(s, pointers[*free_idx]);
                pointers[*free_idx] = NULL;
            }
            *free_idx = (*free_idx + sh->free_step) % sh->blocks;
        }
        free_batches(s, posted);
        for (size_t k = 0; k < nalloc; k++) {
            if (pointers[*alloc_idx])
                release(s, pointers[*alloc_idx]);
            size_t size = sh->size[(size_index + 2) % SIZES];
            pointers[*alloc_idx] = block(s, size, alignment[(size_index + k) % 3]);
            *alloc_idx = (*alloc_idx + sh->alloc_step) % sh->blocks;
            size_index = (size_index + 1) % SIZES;
        }
        struct batch *out = NULL;
        if (sh->cross_rate && loop % sh->cross_rate == 0 && send) {
            out = get(s, 16, sizeof *out);
            void **array = out ? get(s, 16, nalloc * sizeof *array) : NULL;
            if (out && array) {
                out->pointers = array;
                out->count = nalloc;
                s->mops += 2;
                for (size_t k = 0; k < nalloc; k++) {
                    size_t size = sh->size[(size_index + 2) % SIZES];
                    array[k] = block(s, size, alignment[(size_index + k) % 3]);
                    size_index = (size_index + 1) % SIZES;
                }
            } else {
                s->th->t->heap->free(out);
                out = NULL;
            }
        }
        s->ns += ab_now_ns() - t0;
        if (out) {
            *cross = (*cross + 1) % sh->n;
            if (sh->n > 1 && *cross == index)
                *cross = (*cross + 1) % sh->n;
            post(sh, *cross, out);
        }
        /* A thread has finished its pass: send nothing more. */
        if (atomic_load_explicit(&sh->arrived[p], memory_order_relaxed) > done_before)
            send = false;
    }
    wait_all(s, p);
    idle(s, sh->pause_ns);
    uint64_t t0 = ab_now_ns();
    for (size_t j = 0; j < sh->blocks; j++)
        if (pointers[j]) {
            release(s, pointers[j]);
            pointers[j] = NULL;
        }
    s->ns += ab_now_ns() - t0;
    /* As the original: 10 ms of sleep, then what a peer already in its next
     * pass posted meanwhile is freed untimed and uncounted, and the next pass
     * starts without waiting for the others.  Without pauses there is no
     * such sleep: a late batch waits for the next pass's first loop, counted
     * and timed like every other, so every call is an op. */
    idle(s, sh->pause_ns < 10000000u ? sh->pause_ns : 10000000u);
    struct batch *late = sh->pause_ns ? take(s) : NULL;
    if (late) {
        uint64_t mops = s->mops;
        free_batches(s, late);
        s->mops = mops;
    }
}

static void *life_main(void *arg)
{
    struct state *s = arg;
    struct shared *sh = s->sh;
    void **pointers = get(s, 16, sh->blocks * sizeof *pointers);
    if (pointers)
        memset(pointers, 0, sh->blocks * sizeof *pointers);
    pthread_barrier_wait(&sh->start);
    /* The original's threads look for the start every 10 ms, each on a tick
     * of its own: they start up to 10 ms apart (0.1 to 5 ms in its runs
     * here).  So each sleeps a seeded phase in [0, 10 ms), then the pause in
     * 10 ms steps. */
    if (sh->pause_ns) {
        idle(s, ab_rng_below(&s->th->rng, 10000000u));
        for (uint64_t slept = 0; slept < sh->pause_ns; slept += 10000000u)
            idle(s, sh->pause_ns - slept < 10000000u ? sh->pause_ns - slept : 10000000u);
    }
    if (pointers) {
        size_t alloc_idx = 0, free_idx = 0;
        unsigned cross = 0;
        pass(s, pointers, 0, &alloc_idx, &free_idx, &cross);
        pass(s, pointers, 1, &alloc_idx, &free_idx, &cross);
    } else {
        for (unsigned k = 0; k < 3; k++)
            atomic_fetch_add(&sh->arrived[k], 1);
    }
    idle(s, sh->pause_ns);
    wait_all(s, 2);
    idle(s, sh->pause_ns);
    s->th->t->heap->free(pointers);
    s->lives++;
    return NULL;
}

static int setup(struct ab_thread *th)
{
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->th = th;
    s->sh = th->t->shared;
    th->state = s;
    return 0;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    s->mops = s->remote = s->ns = 0;
    int rc = ab_trial_run_thread(th, life_main, s);
    if (rc)
        th->error = rc;
    if (th->measuring) {
        atomic_fetch_add(&s->sh->remote, s->remote);
        atomic_fetch_add(&s->sh->timed_ns, s->ns);
    }
    AB_ESCAPE(s->sink);
    return s->mops;
}

static void teardown(struct ab_thread *th)
{
    ab_buf_free(th->state, sizeof(struct state));
}

/* The first prime of the original's list (7, 11, 13, ...) from `from` on
 * that does not divide n. */
static size_t scatter(size_t n, size_t *from)
{
    static const size_t primes[] = {7,   11,  13,  17,  19,  23,  29,  31,  37,  41,  43,
                                    47,  53,  59,  61,  67,  71,  73,  79,  83,  89,  97,
                                    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
                                    157, 163, 167, 173, 179, 181, 191, 193, 197, 199};
    size_t i = *from;
    while (i + 1 < sizeof primes / sizeof primes[0] && n % primes[i] == 0)
        i++;
    *from = i + 1;
    return primes[i];
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* n counts of [30, 99] % of `scale`, spread evenly over that range and put
 * in a seeded order. */
static void counts(size_t *out, size_t n, double scale, uint64_t *rng)
{
    uint32_t pct[ALLOC_COUNTS > FREE_COUNTS ? ALLOC_COUNTS : FREE_COUNTS];
    for (size_t i = 0; i < n; i++)
        pct[i] = 30 + (uint32_t)(((double)i + 0.5) * 70.0 / (double)n);
    ab_shuffle_u32(pct, n, rng);
    for (size_t i = 0; i < n; i++)
        out[i] = (size_t)(scale * ((double)pct[i] / 100.0));
}

/* The size table: the original's distribution (uniform draws scaled to the
 * range, or the falloff it makes of three neighbouring draws), as its
 * quantiles rather than as 2000 draws.  A table of 2000 draws is a sample
 * whose rare sizes come or not by luck: the largest 1 in 2000 of the linear
 * falloff is in jemalloc's 16 KiB large class, and whether the table holds
 * such a size moves jemalloc's figure by tens of percent.  So TABLE_DRAWS
 * draws per entry are made, sorted, and entry k takes the middle of the k-th
 * 2000th; the entries then go in a seeded order. */
#define TABLE_DRAWS 16
static int size_table(struct ab_trial *t, struct shared *sh, uint64_t *rng)
{
    size_t lo = (size_t)ab_trial_param(t, "min_size"), hi = (size_t)ab_trial_param(t, "max_size");
    if (hi < lo)
        hi = lo;
    int dist = (int)ab_trial_param(t, "dist");
    if (ab_trial_param(t, "mode") == 1 || hi == lo) {
        for (size_t i = 0; i < SIZES; i++)
            sh->size[i] = lo;
        return 0;
    }
    const size_t m = (size_t)SIZES * TABLE_DRAWS;
    uint32_t *draw = ab_buf_alloc(m * sizeof *draw);
    if (!draw)
        return -ENOMEM;
    double range = (double)(hi - lo);
    /* The original's draws: a step of 1/100000 of the range, rounded (+ 0.5
     * and truncation: no libm in the trial child). */
#define EVEN() ((double)(size_t)(range * ((double)ab_rng_below(rng, 100000) / 1e5) + 0.5))
    for (size_t i = 0; i < m; i++) {
        double e = EVEN();
        if (dist != DIST_EVEN) {
            double w0 = 1.0 - EVEN() / range, w1 = 1.0 - EVEN() / range, f = EVEN();
            e = dist == DIST_LINEAR ? (double)(size_t)(f * fabs((w0 + w1) - 1.0))
                                    : (double)(size_t)(f * (w0 * w1));
        }
        draw[i] = (uint32_t)e;
    }
#undef EVEN
    qsort(draw, m, sizeof *draw, by_value);
    uint32_t q[SIZES];
    for (size_t k = 0; k < SIZES; k++)
        q[k] = draw[k * TABLE_DRAWS + TABLE_DRAWS / 2];
    ab_buf_free(draw, m * sizeof *draw);
    ab_shuffle_u32(q, SIZES, rng);
    for (size_t k = 0; k < SIZES; k++)
        sh->size[k] = lo + q[k];
    return 0;
}

static int tables(struct ab_trial *t, struct shared *sh)
{
    uint64_t rng = ab_rng_stream(t->seed, 0); /* one set of tables per --seed */
    int rc = size_table(t, sh, &rng);
    if (rc)
        return rc;
    double ops = (double)ab_trial_param(t, "ops");
    counts(sh->alloc_count, ALLOC_COUNTS, ops, &rng);
    counts(sh->free_count, FREE_COUNTS, 0.8 * ops, &rng);
    size_t from = 0;
    sh->alloc_step = scatter(sh->blocks, &from);
    sh->free_step = scatter(sh->blocks, &from);
    return 0;
}

static int run(struct ab_trial *t)
{
    struct shared *sh = ab_buf_alloc(sizeof *sh);
    if (!sh)
        return -ENOMEM;
    sh->n = t->threads ? t->threads : 1;
    sh->blocks = (size_t)ab_trial_param(t, "blocks");
    sh->loops = (size_t)ab_trial_param(t, "loops");
    sh->cross_rate = sh->n > 1 ? (size_t)ab_trial_param(t, "cross_rate") : 0;
    sh->pause_ns = (uint64_t)ab_trial_param(t, "pause_ms") * 1000000u;
    /* memalign where the allocator has it (a plugin has aligned_alloc). */
    void *ma = ab_heap_sym(t->heap, "memalign");
    if (ma)
        memcpy(&sh->memalign, &ma, sizeof ma);
    else
        sh->memalign = t->heap->aligned_alloc;
    sh->inbox = tables(t, sh) ? NULL : ab_buf_alloc(sh->n * sizeof *sh->inbox);
    if (!sh->inbox) {
        ab_buf_free(sh, sizeof *sh);
        return -ENOMEM;
    }
    pthread_barrier_init(&sh->start, NULL, sh->n);
    t->shared = sh;
    static const struct ab_rounds r = {setup, round_fn, teardown};
    int rc = ab_trial_run_rounds(t, &r);
    pthread_barrier_destroy(&sh->start);
    for (unsigned i = 0; i < sh->n; i++)
        for (struct batch *b = atomic_exchange(&sh->inbox[i], NULL), *next; b; b = next) {
            next = b->next;
            for (size_t k = 0; k < b->count; k++)
                t->heap->free(b->pointers[k]);
            t->heap->free(b->pointers);
            t->heap->free(b);
        }
    ab_buf_free(sh->inbox, sh->n * sizeof *sh->inbox);
    if (!rc && atomic_load(&sh->failed))
        rc = -ENOMEM;
    uint64_t remote = atomic_load(&sh->remote), ns = atomic_load(&sh->timed_ns);
    ab_buf_free(sh, sizeof *sh);
    if (rc)
        return rc;
    ab_trial_remote_frees(t, remote, -1);
    ab_trial_metric(t, "ops_per_thread_s", "ops/s",
                    ns ? (double)t->ops / ((double)ns / 1e9) : NAN);
    return 0;
}

/* An empty range of sizes is refused, not quietly narrowed. */
static int check(const struct ab_workload *w, const struct ab_params *p, char *err, size_t n)
{
    return ab_params_ordered(w, p, "min_size", "max_size", false, err, n);
}

const struct ab_workload ab_wl_rptest = {
    .name = "rptest",
    .summary = "Jansson's rpmalloc benchmark: scattered frees and allocations, memalign and "
               "calloc, batches posted to other threads, threads replaced",
    .seed = "classic: rpmalloc-benchmark (Jansson), as mimalloc-bench runs it",
    .unit = "memory op",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "loops=20,blocks=200,ops=20,pause_ms=0",
    .default_rounds = 2,
    .check = check,
    .run = run,
    .merit = "memory ops per thread-second (ops_per_thread_s, the original's \"memory "
             "ops/CPU second\"); also ops_per_s over wall time",
};
