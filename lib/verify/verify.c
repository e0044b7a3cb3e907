/*
 * verify.c — block verification for stress cases and verifying workloads.
 *
 * A pattern derived from the block's address and a sequence number is
 * written at allocation and checked at free.  A shadow of the address space
 * (one bit per 8-byte granule, in 2 MiB chunks found through an insert-only
 * open-addressing table) says which bytes belong to live blocks: marking a
 * block whose bytes are already marked is an overlap.  Marking and clearing
 * are lock-free (fetch-or / fetch-and per word), so threads verify
 * concurrently; the shadow costs 1/64 of the live address range, which keeps
 * ten million live blocks well within memory.
 */
#include "verify.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#define CHUNK_SHIFT 21                       /* 2 MiB per chunk */
#define GRANULE_SHIFT 3                      /* 8 bytes per bit */
#define CHUNK_WORDS ((1u << (CHUNK_SHIFT - GRANULE_SHIFT)) / 64)
#define TABLE_SLOTS (1u << 18)               /* chunks: 512 GiB of live range */

struct chunk {
    _Atomic uint64_t bits[CHUNK_WORDS];
};

struct slot {
    _Atomic uintptr_t key;                   /* chunk index + 1; 0 is empty */
    struct chunk *_Atomic chunk;
};

struct ab_shadow {
    struct slot slots[TABLE_SLOTS];
    atomic_size_t chunks;
};

struct ab_shadow *ab_shadow_new(void)
{
    return ab_buf_alloc(sizeof(struct ab_shadow)); /* zeroed by mmap */
}

void ab_shadow_free(struct ab_shadow *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < TABLE_SLOTS; i++) {
        struct chunk *c = atomic_load(&s->slots[i].chunk);
        if (c)
            ab_buf_free(c, sizeof *c);
    }
    ab_buf_free(s, sizeof *s);
}

size_t ab_shadow_bytes(const struct ab_shadow *s)
{
    return sizeof *s + atomic_load(&((struct ab_shadow *)s)->chunks) * sizeof(struct chunk);
}

/* The chunk covering index idx, created on first use when create is set. */
static struct chunk *chunk_for(struct ab_shadow *s, uintptr_t idx, bool create)
{
    uintptr_t key = idx + 1;
    size_t h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - 18));
    for (size_t probe = 0; probe < TABLE_SLOTS; probe++) {
        struct slot *sl = &s->slots[(h + probe) & (TABLE_SLOTS - 1)];
        uintptr_t k = atomic_load_explicit(&sl->key, memory_order_acquire);
        if (k == 0) {
            if (!create)
                return NULL;
            uintptr_t expect = 0;
            if (!atomic_compare_exchange_strong(&sl->key, &expect, key)) {
                if (expect != key)
                    continue;
            } else {
                struct chunk *c = ab_buf_alloc(sizeof *c);
                atomic_store_explicit(&sl->chunk, c, memory_order_release);
                atomic_fetch_add(&s->chunks, 1);
                return c;
            }
            k = key;
        }
        if (k != key)
            continue;
        /* Another thread claimed the slot: wait for its chunk. */
        struct chunk *c;
        while (!(c = atomic_load_explicit(&sl->chunk, memory_order_acquire)))
            ;
        return c;
    }
    return NULL;
}

/* Apply set (or clear) to the granules of [a, b).  With set, stops at the
 * first granule already set and reports how far it got in *done. */
static int apply(struct ab_shadow *s, uintptr_t a, uintptr_t b, bool set, uintptr_t *done)
{
    uintptr_t g = a >> GRANULE_SHIFT, gend = (b + (1u << GRANULE_SHIFT) - 1) >> GRANULE_SHIFT;
    while (g < gend) {
        uintptr_t cidx = g >> (CHUNK_SHIFT - GRANULE_SHIFT);
        struct chunk *c = chunk_for(s, cidx, set);
        if (!c) {
            *done = g << GRANULE_SHIFT;
            return set ? -ENOSPC : -ENOENT;
        }
        uintptr_t in = g & ((1u << (CHUNK_SHIFT - GRANULE_SHIFT)) - 1);
        uintptr_t w = in / 64;
        unsigned bit = (unsigned)(in % 64);
        uintptr_t n = gend - g;
        unsigned take = 64 - bit < n ? 64 - bit : (unsigned)n;
        uint64_t mask = (take == 64 ? ~0ull : ((1ull << take) - 1)) << bit;
        if (set) {
            uint64_t old = atomic_fetch_or_explicit(&c->bits[w], mask, memory_order_relaxed);
            if (old & mask) {
                /* Undo the bits this call set in this word, then stop. */
                atomic_fetch_and_explicit(&c->bits[w], ~(mask & ~old), memory_order_relaxed);
                *done = g << GRANULE_SHIFT;
                return -EEXIST;
            }
        } else {
            uint64_t old = atomic_fetch_and_explicit(&c->bits[w], ~mask, memory_order_relaxed);
            if ((old & mask) != mask) {
                *done = g << GRANULE_SHIFT;
                return -ENOENT;
            }
        }
        g += take;
    }
    *done = b;
    return 0;
}

int ab_shadow_add(struct ab_shadow *s, const void *p, size_t size)
{
    uintptr_t a = (uintptr_t)p, b = a + (size ? size : 1), done;
    int rc = apply(s, a, b, true, &done);
    if (rc && done > a) {
        uintptr_t ignored;
        apply(s, a, done, false, &ignored); /* nothing of a refused block stays marked */
    }
    return rc;
}

int ab_shadow_remove(struct ab_shadow *s, const void *p, size_t size)
{
    uintptr_t a = (uintptr_t)p, done;
    return apply(s, a, a + (size ? size : 1), false, &done);
}

/* Word k of a block's pattern: its address, its sequence number, k. */
static inline uint64_t pattern_word(uintptr_t addr, uint64_t seq, size_t k)
{
    uint64_t z = (uint64_t)addr ^ (seq * 0x9e3779b97f4a7c15ull);
    return z + k * 0xff51afd7ed558ccdull;
}

void ab_pattern_fill(void *p, size_t size, uint64_t seq)
{
    unsigned char *c = p;
    size_t words = size / 8;
    for (size_t k = 0; k < words; k++) {
        uint64_t w = pattern_word((uintptr_t)p, seq, k);
        memcpy(c + 8 * k, &w, 8);
    }
    uint64_t w = pattern_word((uintptr_t)p, seq, words);
    memcpy(c + 8 * words, &w, size % 8);
}

size_t ab_pattern_check(const void *p, size_t size, uint64_t seq)
{
    const unsigned char *c = p;
    size_t words = size / 8;
    for (size_t k = 0; k < words; k++) {
        uint64_t w = pattern_word((uintptr_t)p, seq, k), got;
        memcpy(&got, c + 8 * k, 8);
        if (got != w)
            for (size_t b = 0; b < 8; b++)
                if (((const unsigned char *)&got)[b] != ((const unsigned char *)&w)[b])
                    return 8 * k + b + 1;
    }
    uint64_t w = pattern_word((uintptr_t)p, seq, words);
    for (size_t b = 0; b < size % 8; b++)
        if (c[8 * words + b] != ((const unsigned char *)&w)[b])
            return 8 * words + b + 1;
    return 0;
}
