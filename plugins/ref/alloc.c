/*
 * alloc.c — the allocation entry points of the descriptor: the two fast
 * paths, and the rest of the C allocation API on top of heap.c and page.c.
 *
 * The fast paths are the whole reason for the layout in ref.h: each is a
 * TLS load, a couple of loads from the heap and the block's span header,
 * and a push or pop on a pointer stack, with no lock, no atomic
 * read-modify-write and no call.  README.md walks through their
 * disassembly instruction by instruction.
 */
#include "alloc.h"

#include "heap.h"
#include "page.h"

#include <errno.h>
#include <string.h>

#define C4(c) REF_CSZ(c), REF_CSZ(c + 1u), REF_CSZ(c + 2u), REF_CSZ(c + 3u)
const uint32_t ref_class_size[REF_NCLASS] = {
    C4(0u), C4(4u), C4(8u), C4(12u), C4(16u), C4(20u), C4(24u), C4(28u), C4(32u), C4(36u),
};
_Static_assert(REF_CSZ(39u) == REF_SMALL_MAX, "the last class is REF_SMALL_MAX");

static void *malloc_slow(size_t size);

/* malloc, fast path: sizes 1..1024 with a block in the thread cache.
 * Cost: 15 instructions (gcc 12 -O2, x86-64): TLS load (2), the size test
 * folded into size - 1 < 1024 (3), table lookup of the class's cache (3),
 * stack pointer against its base (3), pop (3), ret.  Everything else
 * (size 0, larger sizes, an empty cache, a thread's first call, which runs
 * on the sentinel heap) is one jump to malloc_slow. */
void *ref_malloc(size_t size)
{
    struct ref_heap *h = ref_tls_heap;
    size_t i = size - 1; /* size 0 wraps to the slow path */
    if (REF_LIKELY(i < REF_FAST_MAX)) {
        struct ref_tcache *t = (struct ref_tcache *)((char *)h + h->tbl[i >> 4]);
        void **top = atomic_load_explicit(&t->top, memory_order_relaxed);
        if (REF_LIKELY(top != t->base)) {
            atomic_store_explicit(&t->top, top - 1, memory_order_relaxed);
            return top[-1];
        }
    }
    return malloc_slow(size);
}

static void *large_alloc(size_t size, size_t align, bool zero)
{
    struct ref_heap *h = ref_tls_heap;
    struct ref_span *s = ref_page_large(size, align, h == &ref_sentinel ? NULL : h);
    if (!s)
        return NULL;
    void *p = (char *)s + s->offset;
    if (zero && !(s->flags & REF_SPAN_FRESH))
        memset(p, 0, size);
    s->flags &= (uint8_t)~REF_SPAN_FRESH;
    return p;
}

static void *small_alloc(unsigned cls)
{
    struct ref_heap *h = ref_heap_self();
    return h ? ref_heap_alloc(h, cls) : NULL;
}

__attribute__((noinline)) static void *malloc_slow(size_t size)
{
    if (size <= REF_SMALL_MAX)
        return small_alloc(ref_class_of(size ? size : 1));
    if (size > REF_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    return large_alloc(size, 0, false);
}

/* free, fast path: a block of a span this thread's heap owns, its cache
 * not full.  Cost: 18 instructions: TLS load (2), span header by masking
 * (p - 1) (2), NULL test (2), owner against the heap (3), the class's
 * cache through the header's offset (2), stack pointer against its limit
 * (3), push (3), ret.  A block of another heap, a large block, or a
 * thread without a heap go to ref_heap_free_slow; a full cache to
 * ref_heap_flush_push.  Nothing here writes a line another thread reads
 * on its own fast path. */
void ref_free(void *p)
{
    struct ref_heap *h = ref_tls_heap;
    struct ref_span *s = ref_span_of(p);
    if (REF_LIKELY(p != NULL) && atomic_load_explicit(&s->owner, memory_order_relaxed) == h) {
        struct ref_tcache *t = (struct ref_tcache *)((char *)h + s->tc_off);
        void **top = atomic_load_explicit(&t->top, memory_order_relaxed);
        if (REF_LIKELY(top != t->limit)) {
            *top = p;
            atomic_store_explicit(&t->top, top + 1, memory_order_relaxed);
            return;
        }
        ref_heap_flush_push(h, t, p);
        return;
    }
    if (p)
        ref_heap_free_slow(p);
}

size_t ref_usable_size(const void *p)
{
    if (!p)
        return 0;
    const struct ref_span *s = ref_span_of(p);
    if (s->cls == REF_CLS_LARGE)
        return s->map_bytes - (size_t)((const char *)p - (const char *)s);
    return s->block;
}

void *ref_calloc(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes) || bytes > REF_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    if (bytes > REF_SMALL_MAX)
        return large_alloc(bytes, 0, true); /* a fresh mapping is already zero */
    void *p = ref_malloc(bytes);
    if (p)
        memset(p, 0, bytes); /* a recycled block holds its last contents */
    return p;
}

/* A block stays where it is while the new size fits it and uses at least
 * half of it; realloc(p, 0) frees p and returns a minimal block, like
 * malloc(0), so that NULL always means failure. */
void *ref_realloc(void *p, size_t size)
{
    if (!p)
        return ref_malloc(size);
    if (size > REF_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t old = ref_usable_size(p);
    if (size <= old && size >= old / 2)
        return p;
    void *q = ref_malloc(size);
    if (!q)
        return NULL; /* p untouched */
    memcpy(q, p, size < old ? size : old);
    ref_free(p);
    return q;
}

/* Small alignments come from a class whose size is a multiple of the
 * alignment: span_init aligns every block of such a class to it. */
void *ref_aligned_alloc(size_t align, size_t size)
{
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (size > REF_MAX_REQUEST || align > REF_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    if (align <= 16)
        return ref_malloc(size);
    size_t n = size ? size : 1;
    if (align <= REF_SMALL_MAX && n <= REF_SMALL_MAX) {
        unsigned c = ref_class_of(n < align ? align : n);
        while (c < REF_NCLASS && ref_class_size[c] % align)
            c++;
        if (c < REF_NCLASS) /* always: every power of two to 32 KiB is a class */
            return small_alloc(c);
    }
    return large_alloc(n, align, false);
}

size_t ref_alloc_bulk(size_t size, size_t n, void **out)
{
    if (!n || !out)
        return 0;
    if (size > REF_SMALL_MAX) {
        size_t got = 0;
        while (got < n && (out[got] = malloc_slow(size)))
            got++;
        return got;
    }
    struct ref_heap *h = ref_heap_self();
    return h ? ref_heap_bulk(h, ref_class_of(size ? size : 1), n, out) : 0;
}
