/*
 * The bump arena plugin (seed 004, Bumper.jl), built twice:
 *
 *   ab-bump.so        slab buffer: grows by slabs (default 1 MiB); a request
 *                     too large for a slab gets a custom slab of its own
 *   ab-bump-fixed.so  fixed buffer (default 64 MiB of address space): fails
 *                     closed, NULL with ENOMEM, when full
 *
 * Each thread bumps through a heap of its own.  free() is a no-op: memory
 * comes back when a checkpoint is restored (slabs opened since the checkpoint
 * are unmapped, as Bumper deletes them) or at fini.  A thread that detaches
 * leaves its heap to the next thread that attaches, so blocks it handed to
 * other threads stay valid and thread churn does not grow the mapping.
 *
 * Fast path (malloc): one TLS load, an add, a compare, two stores.
 *
 * Options through configure(): "slab=SIZE,capacity=SIZE" (k/M/G suffixes);
 * page_limit caps the bytes mapped (fails closed).  Hugepage and NUMA hooks
 * are refused: this is a test and reference allocator, not a server one.
 */
#include "allocbench-plugin.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef AB_BUMP_FIXED
#define AB_BUMP_FIXED 0
#endif

#define EXPORT __attribute__((visibility("default")))
#define ALIGN 16u
#define HDR 16u /* per block: its usable size, keeping the block 16-aligned */

struct slab {
    struct slab *prev; /* the slab stack, newest first */
    size_t bytes;      /* the whole mapping */
};

#define SLAB_HDR ((sizeof(struct slab) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

struct heap {
    char *pos, *end;          /* the bump window in the current slab */
    struct slab *slabs;       /* normal slabs, newest first */
    size_t nslabs;
    struct slab *custom;      /* oversized requests, newest first */
    size_t ncustom;
    struct heap *next;        /* every heap, for fini and stats */
    bool orphan;              /* its thread detached; the next one adopts it */
};

/* Checkpoint layout inside struct allocbench_checkpoint. */
struct cp {
    struct heap *heap;
    char *pos;
    size_t nslabs, ncustom;
};
_Static_assert(sizeof(struct cp) <= sizeof(struct allocbench_checkpoint), "checkpoint size");

static struct {
    pthread_mutex_t lock;
    struct heap *heaps;
    pthread_key_t key;
    pthread_once_t once;
    size_t slab_bytes;
    size_t capacity;
    uint64_t page_limit;
    atomic_size_t mapped;
    atomic_size_t live;
} g = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .once = PTHREAD_ONCE_INIT,
    .slab_bytes = 1u << 20,
    .capacity = 64u << 20,
};

static __thread struct heap *tls_heap __attribute__((tls_model("initial-exec")));

static size_t page_size(void)
{
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static void *map(size_t bytes)
{
    size_t now = atomic_fetch_add(&g.mapped, bytes) + bytes;
    if (g.page_limit && now > g.page_limit) {
        atomic_fetch_sub(&g.mapped, bytes);
        return NULL;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        atomic_fetch_sub(&g.mapped, bytes);
        return NULL;
    }
    return p;
}

static void unmap(void *p, size_t bytes)
{
    munmap(p, bytes);
    atomic_fetch_sub(&g.mapped, bytes);
}

static void thread_gone(void *arg)
{
    struct heap *h = arg;
    pthread_mutex_lock(&g.lock);
    h->orphan = true;
    pthread_mutex_unlock(&g.lock);
}

static void make_key(void)
{
    pthread_key_create(&g.key, thread_gone);
}

/* The calling thread's heap: adopt an orphan, else make one. */
static struct heap *heap_slow(void)
{
    pthread_once(&g.once, make_key);
    pthread_mutex_lock(&g.lock);
    struct heap *h = g.heaps;
    while (h && !h->orphan)
        h = h->next;
    if (h) {
        h->orphan = false;
    } else {
        h = map(page_size());
        if (h) {
            memset(h, 0, sizeof *h);
            h->next = g.heaps;
            g.heaps = h;
        }
    }
    pthread_mutex_unlock(&g.lock);
    if (h) {
        tls_heap = h;
        pthread_setspecific(g.key, h);
    }
    return h;
}

static inline struct heap *heap_get(void)
{
    struct heap *h = tls_heap;
    return h ? h : heap_slow();
}

static inline void *carve(struct heap *h, size_t usable, size_t need)
{
    char *p = h->pos;
    h->pos = p + need;
    *(size_t *)p = usable;
    atomic_fetch_add_explicit(&g.live, usable, memory_order_relaxed);
    return p + HDR;
}

/* Open the first (fixed) or a new (slab) buffer and carve from it. */
static void *alloc_slow(struct heap *h, size_t usable, size_t need)
{
    if (AB_BUMP_FIXED) {
        if (h->nslabs) {
            errno = ENOMEM; /* full: fail closed */
            return NULL;
        }
        size_t bytes = (g.capacity + page_size() - 1) & ~(page_size() - 1);
        struct slab *s = map(bytes);
        if (!s) {
            errno = ENOMEM;
            return NULL;
        }
        s->prev = NULL;
        s->bytes = bytes;
        h->slabs = s;
        h->nslabs = 1;
        h->pos = (char *)s + SLAB_HDR;
        h->end = (char *)s + bytes;
        if (need > (size_t)(h->end - h->pos)) {
            errno = ENOMEM;
            return NULL;
        }
        return carve(h, usable, need);
    }
    if (need > g.slab_bytes - SLAB_HDR) {
        /* Too large for any slab: a custom slab of its own. */
        size_t bytes = (need + SLAB_HDR + page_size() - 1) & ~(page_size() - 1);
        struct slab *s = map(bytes);
        if (!s) {
            errno = ENOMEM;
            return NULL;
        }
        s->prev = h->custom;
        s->bytes = bytes;
        h->custom = s;
        h->ncustom++;
        char *p = (char *)s + SLAB_HDR;
        *(size_t *)p = usable;
        atomic_fetch_add_explicit(&g.live, usable, memory_order_relaxed);
        return p + HDR;
    }
    struct slab *s = map(g.slab_bytes);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    s->prev = h->slabs;
    s->bytes = g.slab_bytes;
    h->slabs = s;
    h->nslabs++;
    h->pos = (char *)s + SLAB_HDR;
    h->end = (char *)s + g.slab_bytes;
    return carve(h, usable, need);
}

static void *bump_malloc(size_t size)
{
    struct heap *h = heap_get();
    if (!h || size > SIZE_MAX / 2) {
        errno = ENOMEM;
        return NULL;
    }
    size_t usable = size ? (size + ALIGN - 1) & ~(size_t)(ALIGN - 1) : ALIGN;
    size_t need = usable + HDR;
    if (need <= (size_t)(h->end - h->pos))
        return carve(h, usable, need);
    return alloc_slow(h, usable, need);
}

static void bump_free(void *p)
{
    (void)p; /* memory returns at checkpoint restore or fini */
}

static size_t bump_usable(const void *p)
{
    return p ? *(const size_t *)((const char *)p - HDR) : 0;
}

static void *bump_calloc(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = bump_malloc(bytes);
    if (p)
        memset(p, 0, bytes); /* recycled after a restore: not necessarily zero */
    return p;
}

static void *bump_realloc(void *p, size_t size)
{
    if (!p)
        return bump_malloc(size);
    size_t old = bump_usable(p);
    if (size <= old)
        return p;
    struct heap *h = heap_get();
    size_t usable = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (h && size <= SIZE_MAX / 2 && (char *)p + old == h->pos &&
        usable - old <= (size_t)(h->end - h->pos)) {
        /* The newest block grows in place. */
        h->pos += usable - old;
        *(size_t *)((char *)p - HDR) = usable;
        atomic_fetch_add_explicit(&g.live, usable - old, memory_order_relaxed);
        return p;
    }
    void *q = bump_malloc(size);
    if (q)
        memcpy(q, p, old);
    return q;
}

static void *bump_aligned(size_t align, size_t size)
{
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (align <= ALIGN)
        return bump_malloc(size);
    if (size > SIZE_MAX / 4 || align > SIZE_MAX / 4) {
        errno = ENOMEM;
        return NULL;
    }
    struct heap *h = heap_get();
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    size_t usable = size ? (size + ALIGN - 1) & ~(size_t)(ALIGN - 1) : ALIGN;
    for (int attempt = 0; attempt < 2; attempt++) {
        uintptr_t start = (uintptr_t)h->pos + HDR;
        uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
        size_t need = (aligned - (uintptr_t)h->pos) + usable;
        if (h->pos && need <= (size_t)(h->end - h->pos)) {
            char *blk = (char *)aligned;
            *(size_t *)(blk - HDR) = usable;
            h->pos = blk + usable;
            atomic_fetch_add_explicit(&g.live, usable, memory_order_relaxed);
            return blk;
        }
        /* Open a fresh slab large enough for the worst padding, then retry. */
        size_t worst = usable + align + HDR;
        if (AB_BUMP_FIXED || worst > g.slab_bytes - SLAB_HDR) {
            if (AB_BUMP_FIXED && !h->nslabs) {
                if (!alloc_slow(h, ALIGN, ALIGN + HDR))
                    return NULL;
                continue;
            }
            if (AB_BUMP_FIXED) {
                errno = ENOMEM;
                return NULL;
            }
            void *raw = alloc_slow(h, worst, worst + HDR);
            if (!raw)
                return NULL;
            uintptr_t a = ((uintptr_t)raw + HDR + align - 1) & ~(uintptr_t)(align - 1);
            *(size_t *)((char *)a - HDR) = usable;
            return (void *)a;
        }
        struct slab *s = map(g.slab_bytes);
        if (!s) {
            errno = ENOMEM;
            return NULL;
        }
        s->prev = h->slabs;
        s->bytes = g.slab_bytes;
        h->slabs = s;
        h->nslabs++;
        h->pos = (char *)s + SLAB_HDR;
        h->end = (char *)s + g.slab_bytes;
    }
    errno = ENOMEM;
    return NULL;
}

/* Best effort 1..n: everything that fits the current buffer, at least one. */
static size_t bump_bulk(size_t size, size_t n, void **out)
{
    if (!n)
        return 0;
    out[0] = bump_malloc(size);
    if (!out[0])
        return 0;
    struct heap *h = tls_heap;
    size_t usable = size ? (size + ALIGN - 1) & ~(size_t)(ALIGN - 1) : ALIGN;
    size_t need = usable + HDR, got = 1;
    size_t room = (size_t)(h->end - h->pos) / need;
    size_t take = room < n - 1 ? room : n - 1;
    for (size_t i = 0; i < take; i++) {
        char *p = h->pos + i * need;
        *(size_t *)p = usable;
        out[got++] = p + HDR;
    }
    h->pos += take * need;
    atomic_fetch_add_explicit(&g.live, take * usable, memory_order_relaxed);
    return got;
}

static int bump_save(struct allocbench_checkpoint *out)
{
    struct heap *h = heap_get();
    if (!h)
        return -ENOMEM;
    struct cp cp = {h, h->pos, h->nslabs, h->ncustom};
    memset(out, 0, sizeof *out);
    memcpy(out, &cp, sizeof cp);
    return 0;
}

static int bump_restore(const struct allocbench_checkpoint *in)
{
    struct cp cp;
    memcpy(&cp, in, sizeof cp);
    struct heap *h = tls_heap;
    if (!h || cp.heap != h || cp.nslabs > h->nslabs || cp.ncustom > h->ncustom)
        return -EINVAL; /* another thread's, or already released */
    size_t released = 0;
    while (h->ncustom > cp.ncustom) {
        struct slab *s = h->custom;
        h->custom = s->prev;
        h->ncustom--;
        released += *(size_t *)((char *)s + SLAB_HDR);
        unmap(s, s->bytes);
    }
    while (h->nslabs > cp.nslabs) {
        struct slab *s = h->slabs;
        released += (size_t)(h->pos - ((char *)s + SLAB_HDR));
        h->slabs = s->prev;
        h->nslabs--;
        unmap(s, s->bytes);
        if (h->slabs) {
            h->pos = h->end = (char *)h->slabs + h->slabs->bytes;
        } else {
            h->pos = h->end = NULL;
        }
    }
    if (cp.pos && h->slabs) {
        char *lo = (char *)h->slabs + SLAB_HDR;
        if (cp.pos < lo || cp.pos > (char *)h->slabs + h->slabs->bytes)
            return -EINVAL;
        if (h->pos > cp.pos)
            released += (size_t)(h->pos - cp.pos);
        h->pos = cp.pos;
        h->end = (char *)h->slabs + h->slabs->bytes;
    }
    size_t live = atomic_load_explicit(&g.live, memory_order_relaxed);
    atomic_fetch_sub_explicit(&g.live, released < live ? released : live,
                              memory_order_relaxed);
    return 0;
}

static int bump_attach(void)
{
    return heap_get() ? 0 : -ENOMEM;
}

static int bump_detach(void)
{
    struct heap *h = tls_heap;
    if (!h)
        return 0;
    tls_heap = NULL;
    pthread_setspecific(g.key, NULL);
    thread_gone(h);
    return 0;
}

static int parse_size(const char *s, size_t len, size_t *out)
{
    char buf[32];
    if (!len || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf)
        return -EINVAL;
    if (*end == 'k' || *end == 'K')
        v <<= 10, end++;
    else if (*end == 'm' || *end == 'M')
        v <<= 20, end++;
    else if (*end == 'g' || *end == 'G')
        v <<= 30, end++;
    if (*end)
        return -EINVAL;
    *out = (size_t)v;
    return 0;
}

static int bump_configure(const struct allocbench_plugin_config *c)
{
    if (!c || c->struct_size < sizeof *c)
        return -EINVAL;
    if (c->hugepages || c->numa_node >= 0)
        return -ENOTSUP;
    if (c->profile & ~(uint32_t)(ALLOCBENCH_PROFILE_FREESTANDING | ALLOCBENCH_PROFILE_HOSTED_SMALL |
                                 ALLOCBENCH_PROFILE_HOSTED_SERVER | ALLOCBENCH_PROFILE_TEST_FIXTURE |
                                 ALLOCBENCH_PROFILE_COMPILER_INTERNAL))
        return -ENOTSUP;
    size_t slab = g.slab_bytes, cap = g.capacity;
    for (const char *p = c->options; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return -EINVAL;
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        size_t v;
        if (parse_size(eq + 1, vlen, &v))
            return -EINVAL;
        if (klen == 4 && !memcmp(p, "slab", 4) && v >= 4096 && v <= (1ull << 34))
            slab = (v + page_size() - 1) & ~(page_size() - 1);
        else if (klen == 8 && !memcmp(p, "capacity", 8) && v >= 4096 && v <= (1ull << 40))
            cap = v;
        else
            return -EINVAL;
        p = comma ? comma + 1 : p + len;
    }
    g.slab_bytes = slab;
    g.capacity = cap;
    g.page_limit = c->page_limit;
    return 0;
}

static int bump_stats(struct allocbench_plugin_stats *out)
{
    if (!out || out->struct_size < sizeof *out)
        return -EINVAL;
    out->valid = ALLOCBENCH_STAT_MAPPED | ALLOCBENCH_STAT_LIVE;
    out->mapped_bytes = atomic_load(&g.mapped);
    out->live_bytes = atomic_load(&g.live);
    return 0;
}

static int bump_fini(void)
{
    pthread_mutex_lock(&g.lock);
    struct heap *h = g.heaps;
    g.heaps = NULL;
    pthread_mutex_unlock(&g.lock);
    while (h) {
        struct heap *next = h->next;
        for (struct slab *s = h->slabs, *p; s; s = p) {
            p = s->prev;
            unmap(s, s->bytes);
        }
        for (struct slab *s = h->custom, *p; s; s = p) {
            p = s->prev;
            unmap(s, s->bytes);
        }
        unmap(h, page_size());
        h = next;
    }
    tls_heap = NULL;
    atomic_store(&g.live, 0);
    return 0;
}

static const struct allocbench_plugin descriptor = {
    .abi_version = ALLOCBENCH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct allocbench_plugin),
#if AB_BUMP_FIXED
    .name = "bump-fixed",
#else
    .name = "bump",
#endif
    .version = "1.0",
    .profiles = ALLOCBENCH_PROFILE_FREESTANDING | ALLOCBENCH_PROFILE_HOSTED_SMALL |
                ALLOCBENCH_PROFILE_HOSTED_SERVER | ALLOCBENCH_PROFILE_TEST_FIXTURE |
                ALLOCBENCH_PROFILE_COMPILER_INTERNAL,
    .malloc = bump_malloc,
    .free = bump_free,
    .realloc = bump_realloc,
    .aligned_alloc = bump_aligned,
    .usable_size = bump_usable,
    .calloc = bump_calloc,
    .alloc_bulk = bump_bulk,
    .checkpoint_save = bump_save,
    .checkpoint_restore = bump_restore,
    .thread_attach = bump_attach,
    .thread_detach = bump_detach,
    .configure = bump_configure,
    .stats = bump_stats,
    .fini = bump_fini,
};

EXPORT const struct allocbench_plugin *allocbench_plugin_entry(uint32_t host_abi)
{
    (void)host_abi;
    return &descriptor;
}
