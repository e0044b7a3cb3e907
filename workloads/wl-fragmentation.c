/*
 * fragmentation: what the heap holds against what the program holds.
 *
 * Phases: fill to `live` bytes with sizes from mix A, free `free_pct` percent
 * of the blocks chosen at random, refill to `live` bytes with mix B, free
 * again, refill with mix A, ... (`cycles` free/refill pairs), then free
 * everything.  Mix A draws from [min_size, split), mix B from [split,
 * max_size], uniformly or log-uniformly (`dist`): the holes the small blocks
 * leave do not fit the large ones, and back.
 *
 * At every phase boundary (all threads wait there) one sample: the live bytes
 * (the workload's exact count of requested bytes), the process RSS and, where
 * the allocator reports them, its mapped and resident bytes.  The figures:
 * the heap's RSS over live bytes, at its worst and at the end of the last
 * refill, and what is still resident after everything was freed.  "Heap RSS"
 * is RSS minus the reading at "start" (taken after the harness's own arrays,
 * 12 bytes per possible block, were touched), so the ratio is the allocator's.
 *
 * With --threads N each thread holds live/N bytes.  No warm-up rounds: the
 * timeline starts from a fresh heap.  One op is one malloc or one free.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static const char *const variants[] = {"phases", NULL};

static const struct ab_param params[] = {
    {"live", AB_PARAM_SIZE, "64M", 1 << 16, 1ll << 34, NULL,
     "bytes live after each fill, over all threads"},
    {"cycles", AB_PARAM_INT, "4", 1, 64, NULL, "free/refill pairs"},
    {"free_pct", AB_PARAM_INT, "50", 1, 99, NULL, "percent of blocks freed per free phase"},
    {"min_size", AB_PARAM_SIZE, "16", 8, 1 << 20, NULL, "smallest block (mix A)"},
    {"split", AB_PARAM_SIZE, "512", 9, 1 << 20, NULL, "first size of mix B"},
    {"max_size", AB_PARAM_SIZE, "8192", 10, 1 << 24, NULL, "largest block (mix B)"},
    {"dist", AB_PARAM_CHOICE, "uniform", 0, 0, "uniform|loguniform",
     "size distribution within a mix"},
};

enum { DIST_UNIFORM, DIST_LOGUNIFORM };

struct shared {
    pthread_barrier_t bar;
    atomic_int_fast64_t live;      /* requested bytes live, all threads */
    int64_t base_rss;              /* at "start" */
    double peak_ratio, final_ratio, final_mapped_ratio;
    int64_t peak_heap, released;
    unsigned round;
};

struct state {
    struct shared *sh;
    void **p;
    uint32_t *size;
    size_t n, cap;
    size_t live;                   /* this thread's requested bytes */
    size_t share;                  /* this thread's live target */
    size_t lo[2], hi[2];           /* mix A, mix B: [lo, hi] */
    int dist, cycles, free_pct;
    uint64_t ops;
};

static int setup(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    struct state *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    unsigned n = t->threads ? t->threads : 1;
    s->sh = t->shared;
    s->share = (size_t)ab_trial_param(t, "live") / n;
    size_t min = (size_t)ab_trial_param(t, "min_size"), split = (size_t)ab_trial_param(t, "split");
    size_t max = (size_t)ab_trial_param(t, "max_size");
    if (split <= min)
        split = min + 1;
    if (max < split)
        max = split;
    s->lo[0] = min, s->hi[0] = split - 1;
    s->lo[1] = split, s->hi[1] = max;
    s->dist = (int)ab_trial_param(t, "dist");
    s->cycles = (int)ab_trial_param(t, "cycles");
    s->free_pct = (int)ab_trial_param(t, "free_pct");
    /* At most share/min blocks are live; one more per fill overshoots. */
    s->cap = s->share / min + 2;
    s->p = ab_buf_alloc(s->cap * sizeof *s->p);
    s->size = ab_buf_alloc(s->cap * sizeof *s->size);
    if (!s->p || !s->size)
        return -ENOMEM;
    /* Resident before "start", so the heap's RSS is what comes after. */
    memset(s->p, 0, s->cap * sizeof *s->p);
    memset(s->size, 0, s->cap * sizeof *s->size);
    th->state = s;
    return 0;
}

static size_t draw(struct state *s, uint64_t *rng, int mix)
{
    size_t lo = s->lo[mix], hi = s->hi[mix];
    if (s->dist == DIST_UNIFORM)
        return (size_t)ab_rng_range(rng, lo, hi);
    return ab_rng_loguniform(rng, lo, hi);
}

/* Every thread at the boundary; the first takes the sample. */
static void boundary(struct ab_thread *th, const char *phase, int64_t my_live_delta)
{
    struct state *s = th->state;
    struct shared *sh = s->sh;
    atomic_fetch_add(&sh->live, my_live_delta);
    pthread_barrier_wait(&sh->bar);
    if (th->index == 0 && th->measuring) {
        struct ab_trial *t = th->t;
        char name[AB_PHASE_MAX];
        if (t->rounds > 1)
            snprintf(name, sizeof name, "r%u:%s", sh->round, phase);
        else
            ab_strlcpy(name, phase, sizeof name);
        int64_t live = atomic_load(&sh->live);
        ab_trial_sample(t, name, live);
        const struct ab_sample *x = &t->samples[t->nsamples - 1];
        if (!strcmp(phase, "start")) {
            sh->base_rss = x->rss_bytes;
        } else if (x->rss_bytes >= 0 && sh->base_rss >= 0) {
            int64_t heap = x->rss_bytes - sh->base_rss;
            if (heap > sh->peak_heap)
                sh->peak_heap = heap;
            if (live > 0) {
                double r = (double)heap / (double)live;
                if (r > sh->peak_ratio)
                    sh->peak_ratio = r;
                if (!strncmp(phase, "fill", 4) || !strncmp(phase, "refill", 6)) {
                    sh->final_ratio = r;
                    sh->final_mapped_ratio =
                        x->mapped_bytes >= 0 ? (double)x->mapped_bytes / (double)live : NAN;
                }
            } else {
                sh->released = heap;
            }
        }
    }
    pthread_barrier_wait(&sh->bar);
}

static int64_t fill(struct ab_thread *th, int mix)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    int64_t added = 0;
    while (s->live < s->share && s->n < s->cap) {
        size_t z = draw(s, &th->rng, mix);
        void *p = h->malloc(z);
        if (!p) {
            th->error = -ENOMEM;
            break;
        }
        ab_touch(p, z, s->n);
        s->p[s->n] = p;
        s->size[s->n++] = (uint32_t)z;
        s->live += z;
        added += (int64_t)z;
        s->ops++;
    }
    return added;
}

/* Free pct percent of the blocks, chosen at random; the array stays dense. */
static int64_t free_some(struct ab_thread *th, size_t pct)
{
    struct state *s = th->state;
    const struct ab_heap *h = th->t->heap;
    size_t k = s->n * pct / 100;
    int64_t gone = 0;
    for (size_t i = 0; i < k; i++) {
        size_t j = (size_t)ab_rng_below(&th->rng, s->n);
        h->free(s->p[j]);
        gone += s->size[j];
        s->live -= s->size[j];
        s->n--;
        s->p[j] = s->p[s->n];
        s->size[j] = s->size[s->n];
        s->ops++;
    }
    return -gone;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct state *s = th->state;
    s->ops = 0;
    char name[AB_PHASE_MAX];
    boundary(th, "start", 0);
    boundary(th, "fill-0", fill(th, 0));
    for (int c = 1; c <= s->cycles; c++) {
        snprintf(name, sizeof name, "free-%d", c);
        boundary(th, name, free_some(th, (size_t)s->free_pct));
        snprintf(name, sizeof name, "refill-%d", c);
        boundary(th, name, fill(th, c & 1));
    }
    boundary(th, "release", free_some(th, 100));
    if (th->index == 0 && th->measuring)
        s->sh->round++;
    return s->ops;
}

static int run(struct ab_trial *t)
{
    struct shared sh = {.final_ratio = NAN, .final_mapped_ratio = NAN, .released = -1};
    pthread_barrier_init(&sh.bar, NULL, t->threads ? t->threads : 1);
    t->shared = &sh;
    t->warmup = 0;
    static const struct ab_rounds r = {setup, round_fn, NULL};
    int rc = ab_trial_run_rounds(t, &r);
    pthread_barrier_destroy(&sh.bar);
    if (rc)
        return rc;
    ab_trial_metric(t, "peak_rss_over_live", "ratio", sh.peak_ratio > 0 ? sh.peak_ratio : NAN);
    ab_trial_metric(t, "final_rss_over_live", "ratio", sh.final_ratio);
    ab_trial_metric(t, "final_mapped_over_live", "ratio", sh.final_mapped_ratio);
    ab_trial_metric(t, "peak_heap_rss_kib", "KiB", (double)sh.peak_heap / 1024);
    ab_trial_metric(t, "rss_after_release_kib", "KiB",
                    sh.released >= 0 ? (double)sh.released / 1024 : NAN);
    return 0;
}

const struct ab_workload ab_wl_fragmentation = {
    .name = "fragmentation",
    .summary = "fill, free a random fraction, refill with another size mix: RSS against "
               "live bytes at every phase",
    .seed = "003 allocator page backend (fragmentation)",
    .unit = "malloc or free",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "live=4M,cycles=2",
    .default_rounds = 1,
    .run = run,
    .merit = "heap RSS over live bytes, peak and final (peak_rss_over_live, "
             "final_rss_over_live); the timeline in allocator-page-backend-report.tsv",
};
