/*
 * large-objects: blocks of `min_size` to `max_size` (log-uniform), the sizes
 * allocators hand to the page backend, and whether the memory goes back to
 * the system once they are freed.
 *
 *   touch-free     allocate, write every page, free (the previous object is
 *                  freed before the next is made: at most one live)
 *   realloc-chain  realloc growth chains: from chain_start up by growth_pct
 *                  percent per step, across the mmap threshold, to max_size,
 *                  writing the new pages of each step; then a new chain
 *   working-set    `slots` live buffers; each op frees a random one and
 *                  allocates a new one in its place, writing every page
 *
 * Samples: "start" (before anything), "live" (after the measured rounds,
 * with what each thread still holds), "freed" (each thread has freed its
 * blocks), then "freed+1ms", "+10ms", "+100ms", ... up to settle_ms.  The
 * figures: how much of the RSS above "start" was returned at the last
 * sample, how soon 90 % of it was, and what stayed.  One op is one object
 * (one realloc step in realloc-chain), its pages written included.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

enum { V_TOUCH_FREE, V_REALLOC_CHAIN, V_WORKING_SET };

static const char *const variants[] = {"touch-free", "realloc-chain", "working-set", NULL};

static const struct ab_param params[] = {
    {"min_size", AB_PARAM_SIZE, "256k", 4096, 1ll << 30, NULL, "smallest object"},
    {"max_size", AB_PARAM_SIZE, "64M", 4096, 1ll << 30, NULL, "largest object"},
    {"objects", AB_PARAM_INT, "32", 1, 100000000, NULL,
     "objects (realloc steps, replacements) per round"},
    {"slots", AB_PARAM_INT, "8", 1, 4096, NULL, "live buffers per thread (working-set)"},
    {"chain_start", AB_PARAM_SIZE, "64k", 16, 1ll << 30, NULL, "first size of a realloc chain"},
    {"growth_pct", AB_PARAM_INT, "50", 1, 1000, NULL, "growth per realloc step, percent"},
    {"settle_ms", AB_PARAM_INT, "100", 0, 60000, NULL,
     "how long to keep sampling RSS after the frees"},
};

struct shared {
    pthread_barrier_t bar;
    atomic_int_fast64_t live;      /* bytes the threads hold */
    atomic_int failed;             /* an allocation returned NULL */
};

struct state {
    struct shared *sh;
    void **slot;
    size_t *size;
    size_t nslots;
    size_t min, max, objects, chain_start, growth;
};

static size_t draw(struct state *s, uint64_t *rng)
{
    return ab_rng_loguniform(rng, s->min, s->max);
}

/* Allocate and write every page into slot i (freeing what was there). */
static bool replace(struct ab_thread *th, size_t i, size_t z)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    if (s->slot[i]) {
        h->free(s->slot[i]);
        atomic_fetch_sub(&s->sh->live, (int64_t)s->size[i]);
        s->slot[i] = NULL;
    }
    void *p = h->malloc(z);
    if (!p) {
        atomic_store(&s->sh->failed, 1);
        return false;
    }
    ab_touch(p, z, i);
    s->slot[i] = p;
    s->size[i] = z;
    atomic_fetch_add(&s->sh->live, (int64_t)z);
    return true;
}

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->sh = t->shared;
    s->min = (size_t)ab_trial_param(t, "min_size");
    s->max = (size_t)ab_trial_param(t, "max_size");
    if (s->max < s->min)
        s->max = s->min;
    s->objects = (size_t)ab_trial_param(t, "objects");
    s->chain_start = (size_t)ab_trial_param(t, "chain_start");
    s->growth = (size_t)ab_trial_param(t, "growth_pct");
    s->nslots = t->variant == V_WORKING_SET ? (size_t)ab_trial_param(t, "slots") : 1;
    s->slot = ab_buf_alloc(s->nslots * sizeof *s->slot);
    s->size = ab_buf_alloc(s->nslots * sizeof *s->size);
    if (!s->slot || !s->size)
        return -ENOMEM;
    th->state = s;
    /* A failed fill is reported after the rounds: every thread must reach
     * the teardown's barriers. */
    if (t->variant == V_WORKING_SET)
        for (size_t i = 0; i < s->nslots && replace(th, i, draw(s, &th->rng)); i++)
            ;
    return 0;
}

/* One realloc step of the chain in slot 0, or a new chain past max_size. */
static bool chain_step(struct ab_thread *th)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    size_t old = s->slot[0] ? s->size[0] : 0;
    size_t z = old + old * s->growth / 100;
    if (!s->slot[0] || z > s->max)
        return replace(th, 0, s->chain_start);
    unsigned char *p = h->realloc(s->slot[0], z);
    if (!p) {
        atomic_store(&s->sh->failed, 1);
        return false;
    }
    /* The new pages, from the first page boundary past the old end. */
    size_t from = (old + 4095) & ~(size_t)4095;
    if (from < z)
        ab_touch(p + from, z - from, z);
    s->slot[0] = p;
    s->size[0] = z;
    atomic_fetch_add(&s->sh->live, (int64_t)(z - old));
    return true;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    size_t i = 0;
    for (; i < s->objects && !atomic_load_explicit(&s->sh->failed, memory_order_relaxed); i++) {
        bool ok;
        switch (th->t->variant) {
        case V_TOUCH_FREE: ok = replace(th, 0, draw(s, &th->rng)); break;
        case V_REALLOC_CHAIN: ok = chain_step(th); break;
        default: ok = replace(th, ab_rng_below(&th->rng, s->nslots), draw(s, &th->rng)); break;
        }
        if (!ok)
            break;
    }
    return i;
}

/* All threads: sample what they hold, free it (each its own), sample. */
static void teardown(struct ab_thread *th)
{
    struct state *s = th->state;
    struct ab_trial *t = th->t;
    pthread_barrier_wait(&s->sh->bar);
    if (th->index == 0)
        ab_trial_sample(t, "live", atomic_load(&s->sh->live));
    pthread_barrier_wait(&s->sh->bar);
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slot[i]) {
            t->heap->free(s->slot[i]);
            atomic_fetch_sub(&s->sh->live, (int64_t)s->size[i]);
        }
    pthread_barrier_wait(&s->sh->bar);
    if (th->index == 0)
        ab_trial_sample(t, "freed", atomic_load(&s->sh->live));
}

static void sleep_until(uint64_t deadline_ns)
{
    uint64_t now;
    while ((now = ab_now_ns()) < deadline_ns) {
        uint64_t left = deadline_ns - now;
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        nanosleep(&ts, NULL);
    }
}

/* The RSS figures from the samples: start, live, freed, freed+... */
static void return_metrics(struct ab_trial *t, unsigned first)
{
    const struct ab_sample *smp = t->samples + first;
    unsigned n = t->nsamples - first;
    if (n < 3 || smp[0].rss_bytes < 0 || smp[1].rss_bytes < 0)
        return;
    int64_t start = smp[0].rss_bytes, live = smp[1].rss_bytes, last = smp[n - 1].rss_bytes;
    double held = (double)(live - start);
    ab_trial_metric(t, "rss_returned_pct", "%", held > 0 ? 100.0 * (double)(live - last) / held
                                                         : NAN);
    double when = NAN;
    for (unsigned i = 2; i < n && held > 0 && isnan(when); i++)
        if ((double)(live - smp[i].rss_bytes) >= 0.9 * held)
            when = i == 2 ? 0 : ab_pow_pos(10, i - 3);
    ab_trial_metric(t, "rss_return_ms", "ms", when);
    ab_trial_metric(t, "rss_retained_kib", "KiB", (double)(last - start) / 1024);
    if (smp[0].mapped_bytes >= 0 && smp[n - 1].mapped_bytes >= 0)
        ab_trial_metric(t, "mapped_retained_kib", "KiB",
                        (double)(smp[n - 1].mapped_bytes - smp[0].mapped_bytes) / 1024);
}

static int run(struct ab_trial *t)
{
    struct shared sh = {0};
    pthread_barrier_init(&sh.bar, NULL, t->threads ? t->threads : 1);
    t->shared = &sh;
    /* RSS counts code pages too: run the settle path's code once before
     * "start", so its first use does not show up as memory kept. */
    char warm[AB_PHASE_MAX];
    snprintf(warm, sizeof warm, "freed+%lldms", 0ll);
    sleep_until(ab_now_ns() + 1000);
    ab_trial_sample(t, warm, 0);
    t->nsamples--;
    unsigned first = t->nsamples;
    ab_trial_sample(t, "start", 0);
    static const struct ab_rounds r = {setup, round_fn, teardown};
    int rc = ab_trial_run_rounds(t, &r);
    pthread_barrier_destroy(&sh.bar);
    if (!rc && atomic_load(&sh.failed))
        rc = -ENOMEM;
    if (rc)
        return rc;
    /* How fast: samples 1, 10, 100, ... ms after the frees. */
    uint64_t freed_at = ab_now_ns();
    int64_t settle = ab_trial_param(t, "settle_ms");
    for (int64_t ms = 1; ms <= settle; ms *= 10) {
        char name[AB_PHASE_MAX];
        snprintf(name, sizeof name, "freed+%lldms", (long long)ms);
        sleep_until(freed_at + (uint64_t)ms * 1000000u);
        ab_trial_sample(t, name, 0);
    }
    return_metrics(t, first);
    return 0;
}

const struct ab_workload ab_wl_large_objects = {
    .name = "large-objects",
    .summary = "256 KiB to 64 MiB: allocate-touch-free, realloc chains across the mmap "
               "threshold, a live working set; does RSS return after free",
    .seed = "003 allocator page backend (large objects)",
    .unit = "object",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "max_size=4M,objects=8,slots=4,settle_ms=10",
    .default_rounds = 5,
    .run = run,
    .merit = "ns per object (pages written included); RSS returned after free "
             "(rss_returned_pct, rss_return_ms, rss_retained_kib)",
};
