/*
 * tiny-box (seed 002, Go's larger-interface proposal): storing a scalar in an
 * interface value boxes it on the heap, so code that does it in a loop turns
 * into the highest-rate stream of tiny, short-lived objects an allocator
 * sees: 8 to 32 bytes, each dead a few allocations later.  A service that
 * does this per request hands its allocation rate to whoever sends requests.
 *
 * Each op boxes one value: allocate a box, write the value into it, read the
 * oldest box of the live window back and free it.  The window (a parameter)
 * is how many boxes are alive at once.
 *
 *   mixed      sizes 8, 16, 24 and 32 bytes, drawn at random
 *   8 ... 32   one size
 *
 * Figures: ns per box per thread, boxes per second per thread and for all
 * threads, and the RSS growth over the measured stream (a steady stream must
 * not grow the heap).
 */
#include "workload.h"

#include <errno.h>
#include <math.h>

enum { V_MIXED, V_8, V_16, V_24, V_32 };

static const char *const variants[] = {"mixed", "8", "16", "24", "32", NULL};

static const struct ab_param params[] = {
    {"boxes", AB_PARAM_INT, "200000", 1, 1000000000, NULL, "boxes made per round"},
    {"window", AB_PARAM_INT, "16", 1, 1 << 20, NULL, "boxes alive at once"},
};

struct state {
    void **ring;
    size_t window, pos;
    size_t boxes;
    size_t size;        /* 0: mixed */
    uint64_t sink;      /* the values read back, so the reads stay */
};

static int setup(struct ab_thread *th)
{
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->window = (size_t)ab_trial_param(th->t, "window");
    s->boxes = (size_t)ab_trial_param(th->t, "boxes");
    s->size = th->t->variant == V_MIXED ? 0 : 8 * th->t->variant;
    s->ring = ab_buf_alloc(s->window * sizeof *s->ring);
    if (!s->ring)
        return -ENOMEM;
    th->state = s;
    return 0;
}

/* Per box: one malloc, one 8-byte store, one 8-byte load, one free; the
 * mixed sizes cost one random draw per 32 boxes. */
static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    uint64_t bits = 0;
    for (size_t i = 0; i < s->boxes; i++) {
        size_t size = s->size;
        if (!size) {
            if ((i & 31) == 0)
                bits = ab_rng_next(&th->rng);
            size = 8 * (1 + (bits & 3));
            bits >>= 2;
        }
        uint64_t *box = h->malloc(size);
        if (!box) {
            th->error = -ENOMEM;
            return i;
        }
        *box = i;
        AB_ESCAPE(box);
        uint64_t *old = s->ring[s->pos];
        if (old) {
            s->sink += *old;
            h->free(old);
        }
        s->ring[s->pos] = box;
        if (++s->pos == s->window)
            s->pos = 0;
    }
    return s->boxes;
}

static void teardown(struct ab_thread *th)
{
    struct state *s = th->state;
    for (size_t i = 0; i < s->window; i++)
        if (s->ring[i])
            th->t->heap->free(s->ring[i]);
    AB_ESCAPE(s->sink);
}

static int run(struct ab_trial *t)
{
    static const struct ab_rounds r = {setup, round_fn, teardown};
    int rc = ab_trial_run_rounds(t, &r);
    if (rc)
        return rc;
    ab_trial_metric(t, "boxes_per_s_per_thread", "boxes/s",
                    t->thread_ns ? (double)t->ops * 1e9 / (double)t->thread_ns : NAN);
    ab_trial_metric(t, "rss_growth_kib", "KiB",
                    t->rss_before_kib >= 0 && t->rss_after_kib >= 0
                        ? (double)(t->rss_after_kib - t->rss_before_kib)
                        : NAN);
    return 0;
}

const struct ab_workload ab_wl_tiny_box = {
    .name = "tiny-box",
    .summary = "the highest-rate stream of tiny short-lived boxes, 8-32 bytes (seed 002)",
    .seed = "002 Go larger interface values",
    .unit = "box",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "boxes=20000",
    .default_rounds = 20,
    .run = run,
    .merit = "boxes per second per thread (boxes_per_s_per_thread), and RSS growth",
};
