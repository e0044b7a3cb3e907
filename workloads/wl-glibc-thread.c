/*
 * glibc-thread: glibc's multithreaded malloc benchmark (benchtests,
 * bench-malloc-thread) as mimalloc-bench runs it (glibc-thread P, with its
 * byte touch), written here after the original's algorithm.  Two tables are
 * drawn once and shared by every thread: 8000 block sizes with an
 * inverse-square density on [min_size, max_size] (4 to 32768 bytes: most
 * blocks small, a few large) and 4096 slot numbers below `slots`.  Every
 * thread walks both tables from the same start, so all threads replay the
 * one sequence, each in a working set of `slots` slots of its own.  An
 * iteration frees the block in the next slot (NULL at first), allocates one
 * of the next size and writes every byte of it.
 *
 * The original runs for 2 s (SIGALRM); here one round is `iterations`
 * iterations per thread, the walk going on where the last round stopped.
 * The tables are drawn as the original's: with the C library's rand(),
 * after srand(--seed), sizes first and then slots, in float arithmetic.
 * The original never seeds rand(), which is srand(1): with the default
 * --seed 1 these are its tables, and on glibc the same numbers.  (Drawn
 * otherwise, a table of 8000 from this heavy-tailed density keeps or loses
 * its rare largest sizes by luck, and jemalloc's figure moved with them.)
 * One op
 * is one iteration; the figure is iterations per second over all threads
 * (the original prints the iterations in its 2 s).
 */
#include "workload.h"

#include <errno.h>
#include <stdlib.h>

static const char *const variants[] = {"working-set", NULL};

static const struct ab_param params[] = {
    {"iterations", AB_PARAM_INT, "100000", 1, 1000000000, NULL, "iterations per round"},
    {"slots", AB_PARAM_INT, "1024", 1, 1 << 24, NULL, "working-set slots per thread"},
    {"min_size", AB_PARAM_SIZE, "4", 1, 1 << 20, NULL, "smallest block"},
    {"max_size", AB_PARAM_SIZE, "32768", 2, 1 << 24, NULL, "largest block"},
};

#define NSIZES 8000
#define NOFFSETS 4096

struct tables {
    uint32_t size[NSIZES];
    uint32_t slot[NOFFSETS];
};

struct state {
    void **slot;
    size_t nslots, iterations;
    unsigned size_at, slot_at;   /* the walk: pre-incremented, wrapping */
};

/* Inverse-square density on [lo, hi] from one rand() draw: invert its
 * distribution function, x = 1 / (1/lo - u (1/lo - 1/hi)) with u =
 * draw / RAND_MAX, in float and truncated, as the original computes it. */
static uint32_t inverse_square(int draw, float lo, float hi)
{
    float u = (float)draw / (float)RAND_MAX;
    float x = 1.0f / ((1.0f / hi - 1.0f / lo) * u + 1.0f / lo);
    return (uint32_t)(x < lo ? lo : x > hi ? hi : x);
}

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->nslots = (size_t)ab_trial_param(t, "slots");
    s->iterations = (size_t)ab_trial_param(t, "iterations");
    s->slot = ab_buf_alloc(s->nslots * sizeof *s->slot);
    if (!s->slot)
        return -ENOMEM;
    th->state = s;
    return 0;
}

static inline unsigned next(unsigned *at, unsigned n)
{
    *at = *at >= n - 1 ? 0 : *at + 1;
    return *at;
}

/* Per iteration: two table reads, a free, a malloc and size byte stores,
 * one store each (volatile), as the original's -O2 build makes them. */
static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct tables *tb = th->t->shared;
    void *(*const do_malloc)(size_t) = th->t->heap->malloc;
    void (*const do_free)(void *) = th->t->heap->free;
    void **const slot = s->slot;
    for (size_t i = 0; i < s->iterations; i++) {
        uint32_t j = tb->slot[next(&s->slot_at, NOFFSETS)];
        uint32_t z = tb->size[next(&s->size_at, NSIZES)];
        do_free(slot[j]);
        volatile char *p = do_malloc(z);
        slot[j] = (void *)p;
        if (!p) {
            th->error = -ENOMEM;
            return i;
        }
        for (uint32_t k = 0; k < z; k++)
            p[k] = (char)k;
    }
    return s->iterations;
}

static void teardown(struct ab_thread *th)
{
    struct state *s = th->state;
    for (size_t i = 0; i < s->nslots; i++)
        th->t->heap->free(s->slot[i]);
    ab_buf_free(s->slot, s->nslots * sizeof *s->slot);
    ab_buf_free(s, sizeof *s);
}

static int run(struct ab_trial *t)
{
    struct tables *tb = ab_buf_alloc(sizeof *tb);
    if (!tb)
        return -ENOMEM;
    /* One sequence for every thread; a 64-bit seed folded to srand's 32. */
    srand((unsigned)(t->seed ^ (t->seed >> 32)));
    float lo = (float)ab_trial_param(t, "min_size"), hi = (float)ab_trial_param(t, "max_size");
    if (hi < lo)
        hi = lo;
    for (size_t i = 0; i < NSIZES; i++)
        tb->size[i] = inverse_square(rand(), lo, hi);
    unsigned slots = (unsigned)ab_trial_param(t, "slots");
    for (size_t i = 0; i < NOFFSETS; i++)
        tb->slot[i] = (uint32_t)((unsigned)rand() % slots);
    t->shared = tb;
    static const struct ab_rounds r = {setup, round_fn, teardown};
    int rc = ab_trial_run_rounds(t, &r);
    ab_buf_free(tb, sizeof *tb);
    return rc;
}

/* An empty range of sizes is refused, not quietly narrowed. */
static int check(const struct ab_workload *w, const struct ab_params *p, char *err, size_t n)
{
    return ab_params_ordered(w, p, "min_size", "max_size", false, err, n);
}

const struct ab_workload ab_wl_glibc_thread = {
    .name = "glibc-thread",
    .summary = "glibc's bench-malloc-thread: one shared sequence of frees and allocations "
               "in a 1024-slot working set per thread, every byte written",
    .seed = "classic: glibc benchtests bench-malloc-thread, as mimalloc-bench runs it",
    .unit = "iteration",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "iterations=10000",
    .default_rounds = 20,
    .check = check,
    .run = run,
    .merit = "iterations per second (ops_per_s), the original's iterations in its 2 s",
};
