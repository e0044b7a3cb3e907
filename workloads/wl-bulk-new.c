/*
 * bulk-new (seed 000, Go bulk allocations): N objects of one size, three ways.
 *
 *   loop           N calls to malloc, the N+1 shape
 *   array          one allocation of N*size sliced into objects, the 1+1
 *                  rewrite (every object lives as long as the array)
 *   bulk           the allocator's bulk API, called again for the rest since
 *                  it may return fewer than asked (jemalloc's
 *                  experimental.batch_alloc, the plugin ABI's alloc_bulk);
 *                  not available elsewhere, never silently replaced
 *
 * loop and bulk then free every object on its own, in allocation order or,
 * in the -shuffled variants, with `disorder` percent of the objects freed out
 * of order, so the fragmentation cost of bulk runs shows.  One op is one
 * object: its allocation, a write to it, and its share of the frees.
 */
#include "workload.h"

#include <errno.h>

enum { V_LOOP, V_LOOP_SHUFFLED, V_ARRAY, V_BULK, V_BULK_SHUFFLED };

static const char *const variants[] = {"loop", "loop-shuffled", "array", "bulk", "bulk-shuffled",
                                       NULL};

static const struct ab_param params[] = {
    {"n", AB_PARAM_INT, "4096", 1, 1 << 24, NULL, "objects per round"},
    {"size", AB_PARAM_SIZE, "32", 1, 1 << 20, NULL, "bytes per object"},
    {"disorder", AB_PARAM_INT, "50", 0, 100,
     NULL, "percent of objects freed out of order in the -shuffled variants"},
    {"batch", AB_PARAM_INT, "0", 0, 1 << 24, NULL,
     "objects asked of one bulk call (0: all that are still missing)"},
};

struct state {
    void **p;
    uint32_t *order;
    size_t n, size, batch;
    unsigned variant;
};

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->n = (size_t)ab_trial_param(t, "n");
    s->size = (size_t)ab_trial_param(t, "size");
    s->batch = (size_t)ab_trial_param(t, "batch");
    s->variant = t->variant;
    s->p = ab_buf_alloc(s->n * sizeof *s->p);
    s->order = ab_buf_alloc(s->n * sizeof *s->order);
    if (!s->p || !s->order)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        s->order[i] = (uint32_t)i;
    if (s->variant == V_LOOP_SHUFFLED || s->variant == V_BULK_SHUFFLED) {
        /* Displace `disorder` percent of the positions: pick them, then
         * shuffle the objects among just those positions. */
        size_t k = s->n * (size_t)ab_trial_param(t, "disorder") / 100;
        uint32_t *pos = ab_buf_alloc(s->n * sizeof *pos);
        if (!pos)
            return -ENOMEM;
        for (size_t i = 0; i < s->n; i++)
            pos[i] = (uint32_t)i;
        ab_shuffle_u32(pos, s->n, &th->rng);
        uint32_t *vals = ab_buf_alloc((k ? k : 1) * sizeof *vals);
        if (!vals)
            return -ENOMEM;
        for (size_t i = 0; i < k; i++)
            vals[i] = pos[i];
        ab_shuffle_u32(vals, k, &th->rng);
        for (size_t i = 0; i < k; i++)
            s->order[pos[i]] = vals[i];
        ab_buf_free(vals, (k ? k : 1) * sizeof *vals);
        ab_buf_free(pos, s->n * sizeof *pos);
    }
    th->state = s;
    return 0;
}

/* Free the objects in the variant's order (allocation order needs no
 * order[] lookup); after a partial round (the allocator ran dry) just the
 * ones we got, in allocation order. */
static void free_all(const struct ab_heap *h, struct state *s, size_t got)
{
    void (*const do_free)(void *) = h->free;
    void **const p = s->p;
    if (got < s->n || s->variant == V_LOOP || s->variant == V_BULK) {
        for (size_t i = 0; i < got; i++)
            do_free(p[i]);
        return;
    }
    const uint32_t *const order = s->order;
    for (size_t i = 0; i < s->n; i++)
        do_free(p[order[i]]);
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    size_t n = s->n, size = s->size;
    switch (s->variant) {
    case V_LOOP:
    case V_LOOP_SHUFFLED: {
        /* Locals: the compiler barrier in ab_touch would otherwise reload
         * them from memory for every object. */
        void *(*const do_malloc)(size_t) = h->malloc;
        void **const ptrs = s->p;
        size_t i = 0;
        for (; i < n; i++) {
            void *p = do_malloc(size);
            if (!p) {
                th->error = -ENOMEM;
                break;
            }
            ab_touch(p, size, i);
            ptrs[i] = p;
        }
        free_all(h, s, i);
        break;
    }
    case V_ARRAY: {
        void *base = h->malloc(n * size);
        if (!base) {
            th->error = -ENOMEM;
            return 0;
        }
        char *c = base;
        for (size_t i = 0; i < n; i++) {
            s->p[i] = c + i * size;
            ab_touch(s->p[i], size, i);
        }
        h->free(base);
        break;
    }
    case V_BULK:
    case V_BULK_SHUFFLED: {
        size_t got = 0;
        while (got < n) {
            size_t want = n - got;
            if (s->batch && want > s->batch)
                want = s->batch;
            size_t k = h->alloc_bulk(h, size, want, s->p + got);
            if (k == 0 || k > want) {
                th->error = -ENOMEM;
                break;
            }
            for (size_t i = got; i < got + k; i++)
                ab_touch(s->p[i], size, i);
            got += k;
        }
        free_all(h, s, got);
        break;
    }
    }
    return n;
}

static void teardown(struct ab_thread *th)
{
    struct state *s = th->state;
    ab_buf_free(s->p, s->n * sizeof *s->p);
    ab_buf_free(s->order, s->n * sizeof *s->order);
    ab_buf_free(s, sizeof *s);
}

static int run(struct ab_trial *t)
{
    if ((t->variant == V_BULK || t->variant == V_BULK_SHUFFLED) && !t->heap->alloc_bulk) {
        ab_trial_unavailable(t, "%s offers no bulk allocation API",
                             ab_family_name(t->heap->family));
        return 0;
    }
    static const struct ab_rounds r = {setup, round_fn, teardown};
    return ab_trial_run_rounds(t, &r);
}

const struct ab_workload ab_wl_bulk_new = {
    .name = "bulk-new",
    .summary = "N objects of one size: N mallocs, one sliced array, or the bulk API (seed 000)",
    .seed = "000 Go bulk allocations",
    .unit = "object",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "n=256",
    .default_rounds = 500,
    .run = run,
};
