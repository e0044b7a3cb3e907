/*
 * local-free: every thread keeps a window of `live` blocks and replaces a
 * random one per operation, freeing only its own blocks.  One operation in
 * sixteen is an aligned_alloc (32 to 4096), one a calloc (zeroed), one a
 * realloc of a live block (contents kept), where the allocator offers them.
 */
#include "verify.h"

#include <errno.h>

static void worker(struct ab_stress *s, unsigned i, void *arg)
{
    (void)arg;
    const struct ab_heap *h = s->heap;
    size_t live = (size_t)s->prof->live;
    struct ab_block *slot = ab_buf_alloc(live * sizeof *slot);
    if (!slot) {
        ab_stress_incomplete(s, "cannot map %zu block records", live);
        return;
    }
    uint64_t rng = ab_stress_rng(s, i), seq = (uint64_t)i << 48, done = 0, verified = 0;
    while (ab_stress_more(s, done)) {
        struct ab_block *b = &slot[ab_rng_below(&rng, live)];
        uint64_t r = ab_rng_next(&rng);
        size_t size = ab_size_mix_pick(&s->prof->sizes, &rng);
        unsigned kind = (unsigned)(r & 15);
        int rc;
        if (kind == 2 && h->realloc && b->p) {
            verified += s->verify; /* the old contents are checked on the way */
            rc = ab_block_realloc(s, b, size, ++seq);
        } else {
            verified += ab_block_free(s, b);
            if (kind == 0 && h->aligned_alloc) {
                size_t align = (size_t)32 << ((r >> 4) % 8);
                size = (size + align - 1) & ~(align - 1); /* C11: a multiple */
                rc = ab_block_alloc(s, b, size, align, AB_ALLOC_ALIGNED, ++seq);
            } else if (kind == 1 && h->calloc) {
                rc = ab_block_alloc(s, b, size, 0, AB_ALLOC_CALLOC, ++seq);
            } else {
                rc = ab_block_alloc(s, b, size, 0, AB_ALLOC_MALLOC, ++seq);
            }
        }
        if (rc == -ENOMEM) {
            ab_stress_incomplete(s, "an allocation of %zu bytes returned NULL after %llu "
                                    "operations", size, (unsigned long long)done);
            break;
        }
        done++;
    }
    for (size_t k = 0; k < live; k++)
        verified += ab_block_free(s, &slot[k]);
    ab_stress_count(s, done, verified);
    ab_buf_free(slot, live * sizeof *slot);
}

static int run(struct ab_stress *s)
{
    return ab_stress_threads(s, s->threads, worker, NULL);
}

const struct ab_stress_case ab_case_local_free = {
    .name = "local-free",
    .summary = "threads replace random blocks of their own live window",
    .timed = true,
    .run = run,
};
