/*
 * fragmentation: every thread fills a window of `live` blocks from the
 * profile's size mix, frees a random half, refills the holes from a mix
 * three times larger (the freed holes fit none of it), frees a random half
 * again, and so on, alternating mixes.  The bytes it holds are known, so the
 * process's resident set is reported against them at each phase's end (the
 * largest and the last ratio), with the most blocks live at once.
 */
#include "verify.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>

struct frag {
    struct ab_size_mix larger;
    _Atomic int64_t live_bytes;
    _Atomic uint64_t live_blocks, peak_blocks;
    _Atomic uint64_t worst_x1000, last_x1000;
};

static void worker(struct ab_stress *s, unsigned i, void *arg)
{
    struct frag *g = arg;
    size_t live = (size_t)s->prof->live;
    struct ab_block *slot = ab_buf_alloc(live * sizeof *slot);
    size_t *size_of = ab_buf_alloc(live * sizeof *size_of);
    if (!slot || !size_of) {
        ab_stress_incomplete(s, "cannot map %zu block records", live);
        return;
    }
    uint64_t rng = ab_stress_rng(s, i), seq = (uint64_t)i << 48, done = 0, verified = 0;
    for (unsigned phase = 0; ab_stress_more(s, done); phase++) {
        const struct ab_size_mix *mix = phase % 2 ? &g->larger : &s->prof->sizes;
        bool failed = false;
        for (size_t k = 0; k < live && ab_stress_more(s, done); k++) {
            if (slot[k].p)
                continue;
            size_t size = ab_size_mix_pick(mix, &rng);
            if (ab_block_alloc(s, &slot[k], size, 0, AB_ALLOC_MALLOC, ++seq) == -ENOMEM) {
                ab_stress_incomplete(s, "malloc(%zu) returned NULL in phase %u", size, phase);
                failed = true;
                break;
            }
            done++;
            if (slot[k].p) {
                size_of[k] = size;
                atomic_fetch_add(&g->live_bytes, (int64_t)size);
                atomic_fetch_add(&g->live_blocks, 1);
            }
        }
        uint64_t lb = atomic_load(&g->live_blocks), pb = atomic_load(&g->peak_blocks);
        while (lb > pb && !atomic_compare_exchange_weak(&g->peak_blocks, &pb, lb))
            ;
        /* Phase end: resident set against the bytes all threads hold. */
        int64_t rss = ab_stress_rss_bytes(s), held = atomic_load(&g->live_bytes);
        if (rss > 0 && held > 0) {
            uint64_t x = (uint64_t)(1000.0 * (double)rss / (double)held);
            uint64_t w = atomic_load(&g->worst_x1000);
            while (x > w && !atomic_compare_exchange_weak(&g->worst_x1000, &w, x))
                ;
            atomic_store(&g->last_x1000, x);
        }
        if (failed)
            break;
        for (size_t k = 0; k < live; k++) {
            if (!slot[k].p || ab_rng_next(&rng) & 1)
                continue;
            verified += ab_block_free(s, &slot[k]);
            atomic_fetch_sub(&g->live_bytes, (int64_t)size_of[k]);
            atomic_fetch_sub(&g->live_blocks, 1);
        }
    }
    for (size_t k = 0; k < live; k++)
        if (slot[k].p) {
            verified += ab_block_free(s, &slot[k]);
            atomic_fetch_sub(&g->live_bytes, (int64_t)size_of[k]);
        }
    ab_stress_count(s, done, verified);
    ab_buf_free(slot, live * sizeof *slot);
    ab_buf_free(size_of, live * sizeof *size_of);
}

static int run(struct ab_stress *s)
{
    struct frag g = {0};
    g.larger = s->prof->sizes;
    for (unsigned k = 0; k < g.larger.n; k++) {
        g.larger.lo[k] *= 3;
        g.larger.hi[k] *= 3;
    }
    int rc = ab_stress_threads(s, s->threads, worker, &g);
    uint64_t worst = atomic_load(&g.worst_x1000), last = atomic_load(&g.last_x1000);
    ab_stress_figure(s, "peak_rss_per_live", "ratio", worst ? (double)worst / 1000.0 : NAN);
    ab_stress_figure(s, "last_rss_per_live", "ratio", last ? (double)last / 1000.0 : NAN);
    ab_stress_figure(s, "peak_live_blocks", "blocks", (double)atomic_load(&g.peak_blocks));
    return rc;
}

const struct ab_stress_case ab_case_fragmentation = {
    .name = "fragmentation",
    .summary = "fill, free a random half, refill from a larger mix, repeat",
    .timed = true,
    .run = run,
};
