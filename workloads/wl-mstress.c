/*
 * mstress: the stress test mimalloc-bench runs as mstressN (mstress P 50 25),
 * re-implemented from its description: server-like allocation with sizes in
 * powers of two and occasional large ones, objects migrating between
 * threads, and threads destroyed and recreated each phase with some of their
 * objects surviving them; contents checked.
 *
 * Each round is one phase: every thread is replaced by a fresh one, which
 * runs scale*200 steps over scale*4+8 slots of its own.  A step picks a slot
 * and either allocates into it (freeing what was there; half the steps),
 * frees it (a quarter), or swaps its block with a random slot of the shared
 * transfer array (a quarter: the block migrates to whichever thread swaps it
 * out next).  Sizes are 16 << k bytes (k from 0 to 7); one allocation in 100
 * is 256 times larger.  When a thread ends, survive_pct percent of its
 * blocks go into the transfer array (freeing what they displace) and the
 * rest are freed: blocks outlive their thread.
 *
 * With verify=1 (the default) every block carries its size and owner in an
 * 8-byte header and a pattern derived from its address, size and owner
 * (lib/verify.c) over the rest, written at allocation and checked at free,
 * and a shadow of the live blocks catches an allocation that overlaps a live
 * block: ALLOCBENCH_BLOCK_OVERLAP, ALLOCBENCH_BLOCK_CORRUPTED.  A block found
 * bad is reported and left alone (never written, never freed).  One op is
 * one step; frees of blocks another thread allocated are remote_frees.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>

static const char *const variants[] = {"phases", NULL};

static const struct ab_param params[] = {
    {"scale", AB_PARAM_INT, "50", 1, 10000, NULL,
     "work per thread and phase: scale*200 steps over scale*4+8 slots"},
    {"transfers", AB_PARAM_INT, "1000", 1, 1 << 24, NULL, "slots of the shared transfer array"},
    {"survive_pct", AB_PARAM_INT, "25", 0, 100, NULL,
     "percent of a thread's blocks left in the transfer array when it ends"},
    {"verify", AB_PARAM_INT, "1", 0, 1, NULL, "check every block's contents and overlap"},
};

#define HDR 8
#define SMALL_MAX (16u << 7)
#define LARGE_MAX (SMALL_MAX * 256u)

struct hdr {
    uint32_t size;
    uint32_t life;      /* the thread life that allocated it */
};

/* The pattern's key: the same address, size and owner give the same
 * pattern, which is harmless (that block was freed first, or the shadow
 * reports the overlap). */
static inline uint64_t key(const struct hdr *h)
{
    return ((uint64_t)h->life << 32) | h->size;
}

struct shared {
    _Atomic(void *) *xfer;
    size_t nxfer;
    struct ab_shadow *shadow;    /* NULL: verify=0 */
    atomic_uint lives;
    atomic_uint_fast64_t remote, checked;
    atomic_int failed;
};

/* A thread life's context. */
struct life {
    struct ab_trial *t;
    struct shared *sh;
    uint64_t *rng;
    void **slot;
    size_t nslots, steps, survive_pct;
    uint32_t id;
    uint64_t remote, checked, done;
    bool measuring;
};

struct state {
    void **slot;
    size_t nslots, steps, survive_pct;
};

static void *alloc_block(struct life *L)
{
    uint64_t r = ab_rng_next(L->rng);
    size_t size = (size_t)16 << (r % 8);
    if ((r >> 8) % 100 == 0)
        size *= 256;
    unsigned char *p = L->t->heap->malloc(size);
    if (!p) {
        atomic_store(&L->sh->failed, 1);
        return NULL;
    }
    if (L->sh->shadow) {
        int rc = ab_shadow_add(L->sh->shadow, p, size);
        if (rc == -EEXIST) {
            ab_trial_diag(L->t, AB_ALLOCBENCH_BLOCK_OVERLAP,
                          "malloc(%zu) returned %p, overlapping a live block", size, (void *)p);
            return NULL; /* another holder's memory: neither written nor freed */
        }
    }
    struct hdr h = {(uint32_t)size, L->id};
    __builtin_memcpy(p, &h, sizeof h);
    if (L->sh->shadow)
        ab_pattern_fill(p + HDR, size - HDR, key(&h));
    return p;
}

/* Checks the block (with verify), counts a remote free, frees it. */
static void free_block(struct life *L, unsigned char *p, struct shared *sh,
                       const struct ab_heap *heap)
{
    if (!p)
        return;
    struct hdr h;
    __builtin_memcpy(&h, p, sizeof h);
    if (sh->shadow) {
        bool pow2 = h.size >= 16 && h.size <= LARGE_MAX && !(h.size & (h.size - 1));
        if (!pow2) {
            ab_trial_diag(L->t, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                          "block %p: its header changed while it was live (size field %u)",
                          (void *)p, h.size);
            return;
        }
        size_t off = ab_pattern_check(p + HDR, h.size - HDR, key(&h));
        if (off) {
            ab_trial_diag(L->t, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                          "block %p of %u bytes: byte %zu changed while it was live",
                          (void *)p, h.size, HDR + off - 1);
            return;
        }
        if (ab_shadow_remove(sh->shadow, p, h.size)) {
            ab_trial_diag(L->t, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                          "block %p of %u bytes was not live when freed", (void *)p, h.size);
            return;
        }
        L->checked++;
    }
    L->remote += h.life != L->id;
    heap->free(p);
}

static void *life_main(void *arg)
{
    struct life *L = arg;
    struct shared *sh = L->sh;
    const struct ab_heap *heap = L->t->heap;
    size_t i = 0;
    for (; i < L->steps && !atomic_load_explicit(&sh->failed, memory_order_relaxed); i++) {
        uint64_t r = ab_rng_next(L->rng);
        size_t j = (size_t)(r % L->nslots);
        switch ((r >> 32) & 3) {
        case 0:
        case 1:
            free_block(L, L->slot[j], sh, heap);
            L->slot[j] = alloc_block(L);
            break;
        case 2:
            free_block(L, L->slot[j], sh, heap);
            L->slot[j] = NULL;
            break;
        default:
            L->slot[j] = atomic_exchange(&sh->xfer[(r >> 40) % sh->nxfer], L->slot[j]);
            break;
        }
    }
    /* The thread ends: some blocks survive it in the transfer array. */
    for (size_t j = 0; j < L->nslots; j++) {
        void *p = L->slot[j];
        L->slot[j] = NULL;
        if (p && ab_rng_below(L->rng, 100) < L->survive_pct)
            p = atomic_exchange(&sh->xfer[ab_rng_below(L->rng, sh->nxfer)], p);
        free_block(L, p, sh, heap);
    }
    L->done = i;
    return NULL;
}

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    size_t scale = (size_t)ab_trial_param(t, "scale");
    s->steps = scale * 200;
    s->nslots = scale * 4 + 8;
    s->survive_pct = (size_t)ab_trial_param(t, "survive_pct");
    s->slot = ab_buf_alloc(s->nslots * sizeof *s->slot);
    if (!s->slot)
        return -ENOMEM;
    th->state = s;
    return 0;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    struct shared *sh = th->t->shared;
    struct life L = {.t = th->t, .sh = sh, .rng = &th->rng, .slot = s->slot,
                     .nslots = s->nslots, .steps = s->steps, .survive_pct = s->survive_pct,
                     .id = atomic_fetch_add(&sh->lives, 1) + 1};
    int rc = ab_trial_run_thread(th, life_main, &L);
    if (rc) {
        th->error = rc;
        return 0;
    }
    if (th->measuring)
        atomic_fetch_add(&sh->remote, L.remote);
    atomic_fetch_add(&sh->checked, L.checked);
    return L.done;
}

static int run(struct ab_trial *t)
{
    struct shared sh = {0};
    sh.nxfer = (size_t)ab_trial_param(t, "transfers");
    sh.xfer = ab_buf_alloc(sh.nxfer * sizeof *sh.xfer);
    if (!sh.xfer)
        return -ENOMEM;
    if (ab_trial_param(t, "verify") && !(sh.shadow = ab_shadow_new()))
        return -ENOMEM;
    t->shared = &sh;
    static const struct ab_rounds r = {setup, round_fn, NULL};
    int rc = ab_trial_run_rounds(t, &r);
    /* What survived the last phase: freed (and checked) here. */
    struct life last = {.t = t, .sh = &sh, .id = 0};
    for (size_t i = 0; i < sh.nxfer; i++)
        free_block(&last, atomic_exchange(&sh.xfer[i], NULL), &sh, t->heap);
    ab_buf_free(sh.xfer, sh.nxfer * sizeof *sh.xfer);
    ab_shadow_free(sh.shadow);
    if (!rc && atomic_load(&sh.failed))
        rc = -ENOMEM;
    if (rc)
        return rc;
    ab_trial_remote_frees(t, atomic_load(&sh.remote), -1);
    ab_trial_metric(t, "blocks_verified", "blocks",
                    sh.shadow ? (double)(atomic_load(&sh.checked) + last.checked) : NAN);
    return 0;
}

const struct ab_workload ab_wl_mstress = {
    .name = "mstress",
    .summary = "mimalloc-bench's mstress: power-of-two sizes, objects migrating between "
               "threads that are replaced every phase, contents verified",
    .seed = "classic: mstress (mimalloc-bench)",
    .unit = "step",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "scale=5,transfers=100",
    .default_rounds = 25,
    .run = run,
    .merit = "run time of the fixed work, as ns per step; verification verdicts",
};
