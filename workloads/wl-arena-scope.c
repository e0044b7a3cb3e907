/*
 * arena-scope (seed 004, Bumper.jl): scoped allocation.  A scope opens, makes
 * `objects` allocations of mixed sizes, uses them (a store and a load each)
 * and closes, releasing everything it made, through whichever scope
 * mechanism the allocator has:
 *
 *   malloc-free        every block freed on its own, newest first (every
 *                      allocator whose free releases memory: a plugin whose
 *                      live bytes do not drop after a free, such as the bump
 *                      arena, has no such mechanism)
 *   checkpoint         a plugin's checkpoint_save / checkpoint_restore (the
 *                      bump plugin: slab or fixed buffer)
 *   checkpoint-nested  `depth` nested checkpoints per scope, the objects
 *                      spread over the levels
 *   mi-heap            mimalloc: mi_heap_new, mi_heap_malloc, mi_heap_destroy
 *   je-arena           jemalloc: an arena of the thread's own (arenas.create),
 *                      mallocx with MALLOCX_ARENA and no thread cache, closed
 *                      with arena.<i>.reset
 *   slab-interior      the seed's pitfall, control: a slab buffer half full,
 *                      then `inner` nested scopes of one 10-byte allocation
 *   slab-boundary      the pitfall: the slab filled to just below its end, so
 *                      every nested scope opens a fresh slab and its close
 *                      unmaps it again; the cliff is this row against
 *                      slab-interior
 *
 * A variant whose mechanism the allocator lacks is unavailable, with the
 * reason.  The bump plugin is configured with "slab=<slab>".  One op is one
 * (outermost) scope.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <string.h>

enum { V_MALLOC_FREE, V_CHECKPOINT, V_NESTED, V_MI_HEAP, V_JE_ARENA, V_SLAB_INTERIOR,
       V_SLAB_BOUNDARY };

static const char *const variants[] = {"malloc-free",  "checkpoint",    "checkpoint-nested",
                                       "mi-heap",      "je-arena",      "slab-interior",
                                       "slab-boundary", NULL};

static const struct ab_param params[] = {
    {"scopes", AB_PARAM_INT, "10000", 1, 100000000, NULL, "scopes per round"},
    {"objects", AB_PARAM_INT, "32", 1, 4096, NULL, "allocations per scope"},
    {"min_size", AB_PARAM_SIZE, "8", 8, 1 << 20, NULL, "smallest allocation"},
    {"max_size", AB_PARAM_SIZE, "512", 8, 1 << 20, NULL, "largest allocation"},
    {"depth", AB_PARAM_INT, "4", 1, 64, NULL, "nesting depth (checkpoint-nested)"},
    {"slab", AB_PARAM_SIZE, "1M", 16384, 1 << 30, NULL,
     "slab size configured into a plugin (the slab variants' buffer)"},
    {"inner", AB_PARAM_INT, "1000", 1, 100000000, NULL,
     "nested one-allocation scopes per round (slab variants)"},
};

/* jemalloc's mallocx flags (jemalloc/jemalloc.h): MALLOCX_ARENA(a) and
 * MALLOCX_TCACHE_NONE.  Reset needs every block to bypass the thread cache. */
#define JE_ARENA(a) ((int)(((unsigned)(a) + 1) << 20))
#define JE_TCACHE_NONE ((int)((-1 + 2) << 8))

#define SIZE_TABLE 4096
#define PROBE 10

/* The allocator's scope entry points, resolved once per trial. */
struct api {
    void *(*mi_heap_new)(void);
    void *(*mi_heap_malloc)(void *, size_t);
    void (*mi_heap_destroy)(void *);
    void *(*mallocx)(size_t, int);
    size_t reset_mib[4], destroy_mib[4], miblen;
    size_t slab;
};

struct state {
    const struct api *api;
    size_t scopes, objects, depth, inner;
    uint32_t sizes[SIZE_TABLE];
    size_t next;                   /* position in sizes */
    void **p;                      /* one scope's blocks */
    unsigned arena;                /* je-arena */
    size_t fill;                   /* slab variants: bytes filled first */
    int boundary;                  /* 1 found, 0 none (fixed buffer), -1 unknown */
    uint64_t sink;
};

/* Store into each block and load it back: the scope "uses" its blocks. */
static void use_blocks(struct state *s, void **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        *(uint64_t *)p[i] = i;
    for (size_t i = 0; i < n; i++)
        s->sink += *(const uint64_t *)p[i];
}

static inline size_t next_size(struct state *s)
{
    size_t z = s->sizes[s->next];
    s->next = (s->next + 1) & (SIZE_TABLE - 1);
    return z;
}

/* n blocks from the heap's malloc (a plugin's inside its checkpoints). */
static int alloc_blocks(const struct ab_heap *h, struct state *s, void **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(p[i] = h->malloc(next_size(s))))
            return -ENOMEM;
    return 0;
}

static int64_t plugin_mapped(const struct ab_heap *h)
{
    struct ab_alloc_stats st;
    ab_heap_stats(h, &st);
    return st.mapped;
}

/* Would malloc(bytes) here open a new slab?  Asked inside a checkpoint that
 * is restored at once; mapped is the plugin's own count. */
static bool opens_slab(const struct ab_heap *h, size_t bytes)
{
    const struct allocbench_plugin *pl = h->plugin;
    struct allocbench_checkpoint cp;
    if (pl->checkpoint_save(&cp))
        return true;
    int64_t before = plugin_mapped(h);
    void *p = h->malloc(bytes);
    int64_t after = plugin_mapped(h);
    pl->checkpoint_restore(&cp);
    return !p || after > before;
}

/* The fill that leaves the current slab just too full for one PROBE-byte
 * allocation: the largest fill that still fits (binary search), after which
 * a probe must open a slab.  Without a mapped count the seed's recipe: two
 * allocations of just under half a slab each. */
static void plan_fill(const struct ab_heap *h, struct state *s, size_t slab, bool boundary)
{
    if (!boundary) {
        s->fill = slab / 2;
        s->boundary = -1;
        return;
    }
    if (plugin_mapped(h) < 0) {
        s->fill = 0;
        s->boundary = -1;
        return;
    }
    size_t lo = 0, hi = slab;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (opens_slab(h, mid))
            hi = mid - 1;
        else
            lo = mid;
    }
    s->fill = lo;
    struct allocbench_checkpoint cp;
    s->boundary = 0;
    if (h->plugin->checkpoint_save(&cp) == 0) {
        if (!lo || h->malloc(lo))
            s->boundary = opens_slab(h, PROBE);
        h->plugin->checkpoint_restore(&cp);
    }
}

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    const struct ab_heap *h = t->heap;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->api = t->shared;
    s->scopes = (size_t)ab_trial_param(t, "scopes");
    s->objects = (size_t)ab_trial_param(t, "objects");
    s->depth = (size_t)ab_trial_param(t, "depth");
    s->inner = (size_t)ab_trial_param(t, "inner");
    size_t lo = (size_t)ab_trial_param(t, "min_size"), hi = (size_t)ab_trial_param(t, "max_size");
    if (hi < lo)
        hi = lo;
    for (size_t i = 0; i < SIZE_TABLE; i++)
        s->sizes[i] = (uint32_t)ab_rng_range(&th->rng, lo, hi);
    s->p = ab_buf_alloc(s->objects * sizeof *s->p);
    if (!s->p)
        return -ENOMEM;
    th->state = s;
    if (t->variant == V_JE_ARENA) {
        size_t len = sizeof s->arena;
        if (h->mallctl("arenas.create", &s->arena, &len, NULL, 0))
            return -ENOMEM;
    }
    /* A plugin heap gets one block outside every scope, so its buffer
     * exists before the first checkpoint: restoring a checkpoint taken on an
     * empty heap unmaps the whole buffer, a cliff of another kind. */
    if (h->plugin && !h->malloc(16))
        return -ENOMEM;
    if (t->variant == V_SLAB_INTERIOR || t->variant == V_SLAB_BOUNDARY)
        plan_fill(h, s, s->api->slab, t->variant == V_SLAB_BOUNDARY);
    return 0;
}

static int je_arena_ctl(const struct ab_heap *h, const size_t *mib0, size_t miblen,
                        unsigned arena)
{
    size_t mib[4];
    memcpy(mib, mib0, sizeof mib);
    mib[1] = arena;
    return h->mallctlbymib(mib, miblen, NULL, NULL, NULL, 0);
}

/* One scope through the variant's mechanism. */
static int scope(const struct ab_heap *h, unsigned variant, struct state *s)
{
    const struct api *a = s->api;
    size_t k = s->objects;
    switch (variant) {
    case V_MALLOC_FREE:
        if (alloc_blocks(h, s, s->p, k))
            return -ENOMEM;
        use_blocks(s, s->p, k);
        for (size_t i = k; i-- > 0;)
            h->free(s->p[i]);
        return 0;
    case V_CHECKPOINT: {
        struct allocbench_checkpoint cp;
        if (h->plugin->checkpoint_save(&cp) || alloc_blocks(h, s, s->p, k))
            return -ENOMEM;
        use_blocks(s, s->p, k);
        return h->plugin->checkpoint_restore(&cp);
    }
    case V_NESTED: {
        struct allocbench_checkpoint cp[64];
        size_t d = s->depth, done = 0;
        for (size_t level = 0; level < d; level++) {
            size_t n = (k - done) / (d - level);
            if (h->plugin->checkpoint_save(&cp[level]) || alloc_blocks(h, s, s->p + done, n))
                return -ENOMEM;
            done += n;
        }
        use_blocks(s, s->p, k);
        for (size_t level = d; level-- > 0;)
            if (h->plugin->checkpoint_restore(&cp[level]))
                return -EINVAL;
        return 0;
    }
    case V_MI_HEAP: {
        void *heap = a->mi_heap_new();
        if (!heap)
            return -ENOMEM;
        for (size_t i = 0; i < k; i++)
            if (!(s->p[i] = a->mi_heap_malloc(heap, next_size(s))))
                return -ENOMEM;
        use_blocks(s, s->p, k);
        a->mi_heap_destroy(heap);
        return 0;
    }
    case V_JE_ARENA: {
        int flags = JE_ARENA(s->arena) | JE_TCACHE_NONE;
        for (size_t i = 0; i < k; i++)
            if (!(s->p[i] = a->mallocx(next_size(s), flags)))
                return -ENOMEM;
        use_blocks(s, s->p, k);
        return je_arena_ctl(h, a->reset_mib, a->miblen, s->arena) ? -EINVAL : 0;
    }
    }
    return -EINVAL;
}

/* The pitfall's loop: fill, then one-allocation scopes nested in the outer
 * one.  Each op is one nested scope.  With opened set (an unmeasured pass)
 * it also counts the nested scopes whose allocation opened a slab. */
static int slab_round(const struct ab_heap *h, struct state *s, size_t *opened)
{
    const struct allocbench_plugin *pl = h->plugin;
    struct allocbench_checkpoint outer, cp;
    if (pl->checkpoint_save(&outer))
        return -ENOMEM;
    if (s->fill && !h->malloc(s->fill))
        return -ENOMEM;
    for (size_t i = 0; i < s->inner; i++) {
        if (pl->checkpoint_save(&cp))
            return -ENOMEM;
        int64_t before = opened ? plugin_mapped(h) : 0;
        void *p = h->malloc(PROBE);
        if (!p)
            return -ENOMEM;
        if (opened)
            *opened += plugin_mapped(h) > before;
        use_blocks(s, &p, 1);
        if (pl->checkpoint_restore(&cp))
            return -EINVAL;
    }
    return pl->checkpoint_restore(&outer);
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    unsigned v = th->t->variant;
    if (v == V_SLAB_INTERIOR || v == V_SLAB_BOUNDARY) {
        th->error = slab_round(h, s, NULL);
        return th->error ? 0 : s->inner;
    }
    size_t i = 0;
    for (; i < s->scopes; i++)
        if ((th->error = scope(h, v, s)))
            break;
    return i;
}

static void teardown(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    if (th->t->variant == V_JE_ARENA)
        je_arena_ctl(h, s->api->destroy_mib, s->api->miblen, s->arena);
    AB_ESCAPE(s->sink);
    /* The first thread's plan and count stand for all: they fill the same
     * way.  The count comes from one more, unmeasured round. */
    size_t opened = 0;
    if (th->index == 0 && th->t->variant >= V_SLAB_INTERIOR) {
        ab_trial_metric(th->t, "fill_bytes", "bytes", (double)s->fill);
        ab_trial_metric(th->t, "slab_opens_per_scope", "ratio",
                        slab_round(h, s, &opened) ? NAN : (double)opened / (double)s->inner);
    }
    if (th->index == 0 && th->t->variant == V_SLAB_BOUNDARY)
        ab_trial_metric(th->t, "boundary_found", "bool", s->boundary >= 0 ? s->boundary : NAN);
}

/* Resolve the variant's mechanism; false (with the reason given) when the
 * allocator does not have it. */
static bool resolve(struct ab_trial *t, struct api *a)
{
    const struct ab_heap *h = t->heap;
    const struct allocbench_plugin *pl = h->plugin;
    const char *name = pl ? pl->name : ab_family_name(h->family);
    switch (t->variant) {
    case V_MALLOC_FREE: {
        /* Asked, not assumed: does a free give anything back? */
        struct allocbench_plugin_stats a0 = {.struct_size = sizeof a0}, a1 = a0;
        void *p = pl && pl->stats ? h->malloc(64) : NULL;
        bool measured = p && pl->stats(&a0) == 0 && (a0.valid & ALLOCBENCH_STAT_LIVE);
        if (p)
            h->free(p);
        if (measured && pl->stats(&a1) == 0 && a1.live_bytes >= a0.live_bytes) {
            ab_trial_unavailable(t, "%s's free releases nothing (its live bytes did not drop): "
                                    "its blocks come back at checkpoint restore", name);
            return false;
        }
        return true;
    }
    case V_CHECKPOINT:
    case V_NESTED:
    case V_SLAB_INTERIOR:
    case V_SLAB_BOUNDARY:
        if (!pl || !pl->checkpoint_save) {
            ab_trial_unavailable(t, "%s has no checkpoint scopes (a plugin with "
                                    "checkpoint_save/restore, such as bump, has)", name);
            return false;
        }
        if (t->variant < V_SLAB_INTERIOR)
            return true;
        if (!pl->configure || plugin_mapped(h) < 0) {
            ab_trial_unavailable(t, "%s cannot be given a slab size or does not report "
                                    "its mapped bytes", name);
            return false;
        }
        return true;
    case V_MI_HEAP:
        if (h->family == AB_FAMILY_MIMALLOC) {
            void *n = ab_heap_sym(h, "mi_heap_new"), *m = ab_heap_sym(h, "mi_heap_malloc");
            void *d = ab_heap_sym(h, "mi_heap_destroy");
            memcpy(&a->mi_heap_new, &n, sizeof n);
            memcpy(&a->mi_heap_malloc, &m, sizeof m);
            memcpy(&a->mi_heap_destroy, &d, sizeof d);
            if (n && m && d)
                return true;
        }
        ab_trial_unavailable(t, "%s has no mimalloc heaps (mi_heap_new, mi_heap_malloc, "
                                "mi_heap_destroy)", name);
        return false;
    case V_JE_ARENA:
        if (h->family == AB_FAMILY_JEMALLOC && h->mallctlbymib) {
            void *x = ab_heap_sym(h, "mallocx"), *n2m = ab_heap_sym(h, "mallctlnametomib");
            int (*nametomib)(const char *, size_t *, size_t *);
            memcpy(&a->mallocx, &x, sizeof x);
            memcpy(&nametomib, &n2m, sizeof n2m);
            size_t l1 = 4, l2 = 4;
            if (x && n2m && nametomib("arena.0.reset", a->reset_mib, &l1) == 0 &&
                nametomib("arena.0.destroy", a->destroy_mib, &l2) == 0 && l1 == l2) {
                a->miblen = l1;
                return true;
            }
        }
        ab_trial_unavailable(t, "%s has no jemalloc arenas (arenas.create, mallocx, "
                                "arena.<i>.reset)", name);
        return false;
    }
    return false;
}

static int run(struct ab_trial *t)
{
    struct api a = {0};
    a.slab = (size_t)ab_trial_param(t, "slab");
    if (!resolve(t, &a))
        return 0;
    const struct allocbench_plugin *pl = t->heap->plugin;
    if (pl && pl->configure) {
        char opts[64];
        snprintf(opts, sizeof opts, "slab=%zu", a.slab);
        struct allocbench_plugin_config c = {.struct_size = sizeof c,
                                             .profile = ALLOCBENCH_PROFILE_HOSTED_SMALL,
                                             .numa_node = -1,
                                             .options = opts};
        int rc = pl->configure(&c);
        if (rc && t->variant >= V_SLAB_INTERIOR) {
            ab_trial_unavailable(t, "%s refused options %s: %s", pl->name, opts,
                                 strerror(-rc));
            return 0;
        }
    }
    t->shared = &a;
    static const struct ab_rounds r = {setup, round_fn, teardown};
    int rc = ab_trial_run_rounds(t, &r);
    if (rc)
        return rc;
    double per_scope = t->ops ? (double)t->thread_ns / (double)t->ops : NAN;
    ab_trial_metric(t, "ns_per_allocation", "ns",
                    t->variant >= V_SLAB_INTERIOR ? per_scope
                                                  : per_scope / (double)ab_trial_param(t, "objects"));
    return 0;
}

const struct ab_workload ab_wl_arena_scope = {
    .name = "arena-scope",
    .summary = "scoped allocation: bump checkpoints, mimalloc heaps, jemalloc arenas, "
               "malloc/free; the slab-boundary cliff (seed 004)",
    .seed = "004 Bumper.jl",
    .unit = "scope",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "scopes=500,inner=200,slab=64k",
    .default_rounds = 20,
    .run = run,
    .merit = "ns per scope (slab variants: per nested scope; slab-boundary against "
             "slab-interior is the cliff)",
};
