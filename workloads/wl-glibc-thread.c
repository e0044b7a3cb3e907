/*
 * glibc-thread: glibc's multithreaded malloc benchmark (benchtests,
 * bench-malloc-thread, as mimalloc-bench runs it), re-implemented from its
 * description: each thread keeps a working set of 1024 slots and in every
 * iteration replaces a random one (free it, allocate a new block, write to
 * it), with sizes from 4 to 32768 bytes drawn with an inverse-square
 * distribution, so most blocks are small and a few large.  The author's
 * figure is the time per iteration; here one op is one iteration.
 */
#include "workload.h"

#include <errno.h>

static const char *const variants[] = {"working-set", NULL};

static const struct ab_param params[] = {
    {"iterations", AB_PARAM_INT, "100000", 1, 1000000000, NULL, "iterations per round"},
    {"slots", AB_PARAM_INT, "1024", 1, 1 << 24, NULL, "working-set slots per thread"},
    {"min_size", AB_PARAM_SIZE, "4", 1, 1 << 20, NULL, "smallest block"},
    {"max_size", AB_PARAM_SIZE, "32768", 2, 1 << 24, NULL, "largest block"},
};

#define SIZES 8192

struct state {
    void **slot;
    size_t nslots, iterations;
    uint32_t size[SIZES];
};

/* Inverse-square density on [lo, hi]: invert its distribution function,
 * x = 1 / (1/lo - u (1/lo - 1/hi)). */
static uint32_t inverse_square(uint64_t *rng, double lo, double hi)
{
    double u = ab_rng_unit(rng);
    double x = 1.0 / (1.0 / lo - u * (1.0 / lo - 1.0 / hi));
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
    double lo = (double)ab_trial_param(t, "min_size"), hi = (double)ab_trial_param(t, "max_size");
    if (hi < lo)
        hi = lo;
    for (size_t i = 0; i < SIZES; i++)
        s->size[i] = inverse_square(&th->rng, lo, hi);
    s->slot = ab_buf_alloc(s->nslots * sizeof *s->slot);
    if (!s->slot)
        return -ENOMEM;
    th->state = s;
    return 0;
}

/* One random draw per iteration gives the slot and the size. */
static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    for (size_t i = 0; i < s->iterations; i++) {
        uint64_t r = ab_rng_next(&th->rng);
        size_t j = (size_t)((r >> 32) % s->nslots);
        size_t z = s->size[r & (SIZES - 1)];
        h->free(s->slot[j]);
        unsigned char *p = h->malloc(z);
        s->slot[j] = p;
        if (!p) {
            th->error = -ENOMEM;
            return i;
        }
        p[0] = (unsigned char)i;
    }
    return s->iterations;
}

static void teardown(struct ab_thread *th)
{
    struct state *s = th->state;
    for (size_t i = 0; i < s->nslots; i++)
        th->t->heap->free(s->slot[i]);
}

static int run(struct ab_trial *t)
{
    static const struct ab_rounds r = {setup, round_fn, teardown};
    return ab_trial_run_rounds(t, &r);
}

const struct ab_workload ab_wl_glibc_thread = {
    .name = "glibc-thread",
    .summary = "glibc's bench-malloc-thread: random replacement in a 1024-slot working set, "
               "4-32768 bytes, inverse-square sizes",
    .seed = "classic: glibc benchtests bench-malloc-thread",
    .unit = "iteration",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "iterations=10000",
    .default_rounds = 20,
    .run = run,
    .merit = "time per iteration (ns_per_op)",
};
