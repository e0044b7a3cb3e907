/*
 * page.c — the page backend (page.h).
 *
 * The page limit is a reservation counter: ref_g.mapped is raised by a
 * compare-and-swap that refuses to pass the limit before any mmap, and
 * lowered after every munmap, so the bytes mapped never exceed the limit,
 * not even for the moment an alignment slack is mapped and trimmed (the
 * slack is reserved too: near the limit a request is refused up to one
 * alignment unit early rather than mapped past it).  A refusal first
 * unmaps the pool and the large cache and asks once more; what it refuses
 * then stays refused until something is freed.  Refusals leave no state
 * behind.
 */
#include "page.h"

#include <errno.h>
#include <numaif.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_CHUNK ((size_t)2 << 20)
#define SPANS_PER_CHUNK (HUGE_CHUNK / REF_SPAN)

static size_t round_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* ------------------------------------------------------- the page limit */

static bool reserve(size_t bytes)
{
    uint64_t limit = atomic_load_explicit(&ref_g.page_limit, memory_order_relaxed);
    uint64_t cur = atomic_load_explicit(&ref_g.mapped, memory_order_relaxed);
    do {
        if (cur + bytes < cur || (limit && cur + bytes > limit))
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&ref_g.mapped, &cur, cur + bytes,
                                                    memory_order_relaxed, memory_order_relaxed));
    return true;
}

static void unreserve(size_t bytes)
{
    atomic_fetch_sub_explicit(&ref_g.mapped, bytes, memory_order_relaxed);
}

/* -------------------------------------------------------- the registry */

static void registry_add(struct ref_span *s)
{
    s->rprev = NULL;
    s->rnext = ref_g.registry;
    if (ref_g.registry)
        ref_g.registry->rprev = s;
    ref_g.registry = s;
}

static void registry_del(struct ref_span *s)
{
    if (s->rprev)
        s->rprev->rnext = s->rnext;
    else
        ref_g.registry = s->rnext;
    if (s->rnext)
        s->rnext->rprev = s->rprev;
}

/* ------------------------------------------------------------- the OS */

/* The hugepage and NUMA hooks on a new mapping (hosted-server only:
 * configure refuses them elsewhere).  Cost: one or two system calls per
 * mapping, none per block. */
static int hooks_on(void *p, size_t bytes, bool hugepages, int numa_node)
{
    if (hugepages && madvise(p, bytes, MADV_HUGEPAGE))
        return -errno;
    if (numa_node >= 0) {
        unsigned long mask[8] = {0}; /* nodes 0..511 */
        unsigned node = (unsigned)numa_node;
        if (node >= 8 * 64)
            return -EINVAL;
        mask[node / 64] = 1ul << (node % 64);
        /* The kernel reads maxnode - 1 bits. */
        if (mbind(p, bytes, MPOL_BIND, mask, (node / 64 + 1) * 64 + 1, 0))
            return -errno;
    }
    return 0;
}

static void *os_mmap(void *hint, size_t bytes)
{
    void *p = mmap(hint, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* bytes at an address X with (X + phase) % align == 0; the caller has
 * reserved bytes, the alignment slack is reserved here.  First a plain
 * mapping at a hint just below the last one (the kernel places mappings
 * top-down, so the hint is usually free and keeps the alignment: one
 * system call); else an over-sized mapping trimmed at both ends. */
static void *os_map(size_t bytes, size_t align, size_t phase)
{
    uintptr_t last = atomic_load_explicit(&ref_g.map_hint, memory_order_relaxed);
    void *hint = NULL;
    if (last > bytes + align)
        hint = (void *)(((last - bytes + phase) & ~(uintptr_t)(align - 1)) - phase);
    char *p = os_mmap(hint, bytes);
    if (p && (((uintptr_t)p + phase) & (align - 1)) == 0) {
        atomic_store_explicit(&ref_g.map_hint, (uintptr_t)p, memory_order_relaxed);
        return p;
    }
    if (p)
        munmap(p, bytes);
    if (!reserve(align))
        return NULL;
    char *raw = os_mmap(NULL, bytes + align);
    if (!raw) {
        unreserve(align);
        return NULL;
    }
    uintptr_t x = (((uintptr_t)raw + phase + align - 1) & ~(uintptr_t)(align - 1)) - phase;
    if (x < (uintptr_t)raw)
        x += align;
    size_t head = x - (uintptr_t)raw, tail = align - head;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap((char *)x + bytes, tail);
    unreserve(align);
    atomic_store_explicit(&ref_g.map_hint, x, memory_order_relaxed);
    return (void *)x;
}

/* A mapping back to the OS and out of the page limit's count. */
static void unmap_span(struct ref_span *s)
{
    size_t bytes = s->map_bytes;
    munmap(s, bytes);
    unreserve(bytes);
}

/* Moves every span of a pool-like list (linked by next) onto *out, out of
 * the registry (pb_lock held). */
static void unregister_list(struct ref_span *list, struct ref_span **out)
{
    for (struct ref_span *s = list, *n; s; s = n) {
        n = s->next;
        registry_del(s);
        s->next = *out;
        *out = s;
    }
}

/* The pool and the large cache back to the OS, to make room under the
 * limit.  Called without pb_lock. */
static bool purge(void)
{
    pthread_mutex_lock(&ref_g.pb_lock);
    struct ref_span *list = NULL;
    unregister_list(ref_g.lcache, &list);
    ref_g.lcache = NULL;
    ref_g.nlcache = 0;
    ref_g.lcache_used = 0;
    if (!ref_g.region) {
        unregister_list(ref_g.pool, &list);
        ref_g.pool = NULL;
        ref_g.npool = 0;
    }
    pthread_mutex_unlock(&ref_g.pb_lock);
    bool any = list != NULL;
    for (struct ref_span *s = list, *n; s; s = n) {
        n = s->next;
        unmap_span(s);
    }
    return any;
}

static bool reserve_or_purge(size_t bytes)
{
    return reserve(bytes) || (purge() && reserve(bytes));
}

/* -------------------------------------------- the test-fixture region */

static bool unit_free(size_t u)
{
    return !(ref_g.region_map[u / 64] >> (u % 64) & 1);
}

static void units_set(size_t u, size_t n, bool on)
{
    for (size_t i = u; i < u + n; i++) {
        if (on)
            ref_g.region_map[i / 64] |= 1ull << (i % 64);
        else
            ref_g.region_map[i / 64] &= ~(1ull << (i % 64));
    }
}

/* Map the region at first use (pb_lock held). */
static bool region_ready(void)
{
    if (ref_g.region)
        return true;
    size_t bytes = round_up(ref_g.t.region_bytes, REF_SPAN);
    if (!bytes || bytes / REF_SPAN > REF_REGION_WORDS * 64 || !reserve(bytes))
        return false;
    char *p = os_map(bytes, HUGE_CHUNK, 0);
    if (!p) {
        unreserve(bytes);
        return false;
    }
    ref_g.region = p;
    ref_g.region_units = bytes / REF_SPAN;
    memset(ref_g.region_map, 0, sizeof ref_g.region_map);
    return true;
}

/* First fit: the lowest run of units holding bytes at X with
 * (X + phase) % align == 0.  Deterministic: the answer depends on the
 * requests alone.  pb_lock held. */
static struct ref_span *region_take(size_t bytes, size_t align, size_t phase)
{
    if (!region_ready())
        return NULL;
    size_t n = round_up(bytes, REF_SPAN) / REF_SPAN;
    for (size_t u = 0; u + n <= ref_g.region_units; u++) {
        uintptr_t x = (uintptr_t)ref_g.region + u * REF_SPAN;
        if ((x + phase) & (align - 1))
            continue;
        size_t k = 0;
        while (k < n && unit_free(u + k))
            k++;
        if (k < n) {
            u += k; /* the run is blocked at u + k */
            continue;
        }
        units_set(u, n, true);
        struct ref_span *s = (struct ref_span *)x;
        memset(s, 0, sizeof *s);
        s->map_bytes = n * REF_SPAN;
        s->flags = REF_SPAN_REGION;
        return s;
    }
    return NULL;
}

static void region_give(struct ref_span *s)
{
    size_t u = (size_t)((char *)s - ref_g.region) / REF_SPAN;
    units_set(u, s->map_bytes / REF_SPAN, false);
}

/* --------------------------------------------------------------- spans */

static void span_header(struct ref_span *s, size_t bytes, uint8_t flags)
{
    memset(s, 0, sizeof *s);
    s->map_bytes = bytes;
    s->flags = flags;
    s->cls = REF_CLS_NONE;
}

/* bytes newly mapped as (X + phase) % align == 0, counted against the
 * limit, with the hooks applied (metadata: NUMA only); NULL when the limit
 * or the OS refuses, with nothing left reserved. */
static char *map_raw(size_t bytes, size_t align, size_t phase, bool meta)
{
    if (!reserve_or_purge(bytes))
        return NULL;
    char *p = os_map(bytes, align, phase);
    if (p && !hooks_on(p, bytes, ref_g.hugepages && !meta, ref_g.numa_node))
        return p;
    if (p)
        munmap(p, bytes);
    unreserve(bytes);
    return NULL;
}

/* The same, as a registered mapping with a fresh header. */
static struct ref_span *map_span(size_t bytes, size_t align, size_t phase, bool meta)
{
    struct ref_span *s = (struct ref_span *)map_raw(bytes, align, phase, meta);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    span_header(s, bytes, REF_SPAN_FRESH);
    pthread_mutex_lock(&ref_g.pb_lock);
    registry_add(s);
    pthread_mutex_unlock(&ref_g.pb_lock);
    return s;
}

/* hugepages: a 2 MiB chunk advised as a whole, so that small blocks get
 * transparent hugepages too; seven of its spans go to the pool. */
static struct ref_span *chunk_spans(void)
{
    char *p = map_raw(HUGE_CHUNK, HUGE_CHUNK, 0, false);
    if (!p)
        return NULL;
    pthread_mutex_lock(&ref_g.pb_lock);
    for (size_t i = 0; i < SPANS_PER_CHUNK; i++) {
        struct ref_span *s = (struct ref_span *)(p + i * REF_SPAN);
        span_header(s, REF_SPAN, REF_SPAN_FRESH);
        registry_add(s);
        if (i) {
            s->list = REF_LIST_POOL;
            s->next = ref_g.pool;
            ref_g.pool = s;
            ref_g.npool++;
        }
    }
    pthread_mutex_unlock(&ref_g.pb_lock);
    return (struct ref_span *)p;
}

struct ref_span *ref_page_span(void)
{
    pthread_mutex_lock(&ref_g.pb_lock);
    struct ref_span *s = ref_g.pool;
    if (s) {
        ref_g.pool = s->next;
        ref_g.npool--;
        s->list = REF_LIST_NONE;
        s->next = NULL;
    } else if (ref_g.t.region_bytes) {
        s = region_take(REF_SPAN, REF_SPAN, 0);
    }
    pthread_mutex_unlock(&ref_g.pb_lock);
    if (s || ref_g.t.region_bytes) {
        if (!s)
            errno = ENOMEM;
        return s;
    }
    if (ref_g.hugepages && (s = chunk_spans()))
        return s;
    return map_span(REF_SPAN, REF_SPAN, 0, false);
}

void ref_page_span_release(struct ref_span *s)
{
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    s->cls = REF_CLS_NONE;
    s->flags &= (uint8_t)~REF_SPAN_FRESH;
    pthread_mutex_lock(&ref_g.pb_lock);
    if (s->flags & REF_SPAN_REGION) {
        region_give(s);
        pthread_mutex_unlock(&ref_g.pb_lock);
        return;
    }
    if (ref_g.npool < ref_g.t.pool_spans) {
        s->list = REF_LIST_POOL;
        s->next = ref_g.pool;
        ref_g.pool = s;
        ref_g.npool++;
        pthread_mutex_unlock(&ref_g.pb_lock);
        return;
    }
    registry_del(s);
    pthread_mutex_unlock(&ref_g.pb_lock);
    unmap_span(s);
}

/* ---------------------------------------------------------- large spans */

static void scope_link(struct ref_span *s, struct ref_heap *h)
{
    s->scope = h;
    s->prev = NULL;
    s->list = h ? REF_LIST_SCOPE : REF_LIST_NONE;
    if (!h)
        return;
    s->next = h->large;
    if (h->large)
        h->large->prev = s;
    h->large = s;
}

static void scope_unlink(struct ref_span *s)
{
    if (s->list != REF_LIST_SCOPE)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        s->scope->large = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->scope = NULL;
    s->list = REF_LIST_NONE;
}

/* The smallest cached span that fits without wasting more than the
 * request again (pb_lock held). */
static struct ref_span *lcache_take(size_t bytes)
{
    struct ref_span *best = NULL, **best_at = NULL;
    for (struct ref_span **at = &ref_g.lcache; *at; at = &(*at)->next) {
        size_t m = (*at)->map_bytes;
        if (m >= bytes && m / 2 <= bytes && (!best || m < best->map_bytes)) {
            best = *at;
            best_at = at;
        }
    }
    if (best) {
        *best_at = best->next;
        ref_g.nlcache--;
        ref_g.lcache_used -= best->map_bytes;
    }
    return best;
}

/* A span becomes a live large block (pb_lock held). */
static void large_init(struct ref_span *s, size_t off, struct ref_heap *scope)
{
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    s->cls = REF_CLS_LARGE;
    s->offset = off;
    s->block = 0;
    atomic_fetch_add_explicit(&ref_g.large_live, s->map_bytes - off, memory_order_relaxed);
    scope_link(s, scope);
}

struct ref_span *ref_page_large(size_t size, size_t align, struct ref_heap *scope)
{
    /* Where the block sits: after the header; at the first multiple of a
     * larger alignment inside the first span-sized unit; or, aligned past
     * a span, one span after the header so that masking (p - 1) finds it. */
    size_t off, a, phase;
    if (align <= REF_HDR) {
        off = REF_HDR, a = REF_SPAN, phase = 0;
    } else if (align <= REF_SPAN) {
        off = align, a = REF_SPAN, phase = 0;
    } else {
        off = REF_SPAN, a = align, phase = REF_SPAN;
    }
    size_t bytes = round_up(off + size, ref_g.page);
    /* One critical section on a hit of the region or the cache; a new
     * mapping takes a second one to link it. */
    pthread_mutex_lock(&ref_g.pb_lock);
    struct ref_span *s = NULL;
    if (ref_g.t.region_bytes)
        s = region_take(bytes, a, phase);
    else if (off == REF_HDR && ref_g.lcache && (s = lcache_take(bytes)))
        s->flags &= (uint8_t)~REF_SPAN_FRESH;
    if (s)
        large_init(s, off, scope);
    pthread_mutex_unlock(&ref_g.pb_lock);
    if (s || ref_g.t.region_bytes) {
        if (!s)
            errno = ENOMEM;
        return s;
    }
    if (!(s = map_span(bytes, a, phase, false)))
        return NULL;
    pthread_mutex_lock(&ref_g.pb_lock);
    large_init(s, off, scope);
    pthread_mutex_unlock(&ref_g.pb_lock);
    return s;
}

/* pb_lock held; returns the span when it is to be unmapped. */
static struct ref_span *large_drop(struct ref_span *s)
{
    scope_unlink(s);
    atomic_fetch_sub_explicit(&ref_g.large_live, s->map_bytes - s->offset, memory_order_relaxed);
    s->cls = REF_CLS_NONE;
    if (s->flags & REF_SPAN_REGION) {
        region_give(s);
        return NULL;
    }
    if (s->offset == REF_HDR && ref_g.t.lcache_spans && s->map_bytes <= ref_g.t.lcache_bytes / 2) {
        s->list = REF_LIST_CACHE;
        s->next = ref_g.lcache;
        ref_g.lcache = s;
        ref_g.nlcache++;
        ref_g.lcache_used += s->map_bytes;
        /* Over the bounds: the oldest goes (it is last). */
        if (ref_g.nlcache <= ref_g.t.lcache_spans && ref_g.lcache_used <= ref_g.t.lcache_bytes)
            return NULL;
        struct ref_span **at = &ref_g.lcache;
        while ((*at)->next)
            at = &(*at)->next;
        s = *at;
        *at = NULL;
        ref_g.nlcache--;
        ref_g.lcache_used -= s->map_bytes;
    }
    registry_del(s);
    return s;
}

bool ref_page_large_free(struct ref_span *s, const struct ref_heap *stack)
{
    pthread_mutex_lock(&ref_g.pb_lock);
    bool remote = true;
    for (const struct ref_heap *h = stack; h && remote; h = h->parent)
        remote = s->scope != h;
    struct ref_span *gone = large_drop(s);
    pthread_mutex_unlock(&ref_g.pb_lock);
    if (gone)
        unmap_span(gone);
    return remote;
}

void ref_page_large_release_all(struct ref_heap *h)
{
    for (;;) {
        pthread_mutex_lock(&ref_g.pb_lock);
        struct ref_span *s = h->large, *gone = s ? large_drop(s) : NULL;
        pthread_mutex_unlock(&ref_g.pb_lock);
        if (!s)
            return;
        if (gone)
            unmap_span(gone);
    }
}

void ref_page_large_disown(struct ref_heap *h)
{
    pthread_mutex_lock(&ref_g.pb_lock);
    while (h->large)
        scope_unlink(h->large);
    pthread_mutex_unlock(&ref_g.pb_lock);
}

size_t ref_page_large_count(struct ref_heap *h)
{
    size_t n = 0;
    pthread_mutex_lock(&ref_g.pb_lock);
    for (struct ref_span *s = h->large; s; s = s->next)
        n++;
    pthread_mutex_unlock(&ref_g.pb_lock);
    return n;
}

/* ------------------------------------------------------------- metadata */

void *ref_page_meta(size_t bytes, struct ref_span **hdr)
{
    size_t total = round_up(REF_HDR + bytes, ref_g.page);
    struct ref_span *s = NULL;
    if (ref_g.t.region_bytes) {
        pthread_mutex_lock(&ref_g.pb_lock);
        s = region_take(total, REF_SPAN, 0);
        pthread_mutex_unlock(&ref_g.pb_lock);
        if (!s) {
            errno = ENOMEM;
            return NULL;
        }
        memset((char *)s + REF_HDR, 0, bytes); /* a region is reused */
    } else if (!(s = map_span(total, ref_g.page, 0, true))) { /* on the bound node too */
        return NULL;
    }
    s->cls = REF_CLS_NONE;
    *hdr = s;
    return (char *)s + REF_HDR;
}

/* ---------------------------------------------------------- configure */

int ref_page_hooks_probe(bool hugepages, int node)
{
    if (!hugepages && node < 0)
        return 0;
    size_t bytes = (size_t)sysconf(_SC_PAGESIZE);
    void *p = os_mmap(NULL, bytes);
    if (!p)
        return -ENOMEM;
    int rc = hooks_on(p, bytes, hugepages, node);
    munmap(p, bytes);
    return rc;
}

/* ------------------------------------------------------------- reading */

static uint64_t resident_of(void *p, size_t bytes)
{
    unsigned char vec[1024];
    size_t page = ref_g.page, pages = bytes / page, done = 0;
    uint64_t n = 0;
    while (done < pages) {
        size_t k = pages - done < sizeof vec ? pages - done : sizeof vec;
        if (mincore((char *)p + done * page, k * page, vec))
            return n;
        for (size_t i = 0; i < k; i++)
            n += vec[i] & 1;
        done += k;
    }
    return n * page;
}

uint64_t ref_page_resident(void)
{
    uint64_t n = 0;
    pthread_mutex_lock(&ref_g.pb_lock);
    for (struct ref_span *s = ref_g.registry; s; s = s->rnext)
        n += resident_of(s, s->map_bytes);
    if (ref_g.region)
        n += resident_of(ref_g.region, ref_g.region_units * REF_SPAN);
    pthread_mutex_unlock(&ref_g.pb_lock);
    return n;
}

void ref_page_fini(void)
{
    pthread_mutex_lock(&ref_g.pb_lock);
    struct ref_span *list = ref_g.registry;
    char *region = ref_g.region;
    size_t region_bytes = ref_g.region_units * REF_SPAN;
    ref_g.registry = NULL;
    ref_g.pool = NULL;
    ref_g.npool = 0;
    ref_g.lcache = NULL;
    ref_g.nlcache = 0;
    ref_g.lcache_used = 0;
    ref_g.region = NULL;
    ref_g.region_units = 0;
    memset(ref_g.region_map, 0, sizeof ref_g.region_map);
    pthread_mutex_unlock(&ref_g.pb_lock);
    for (struct ref_span *s = list, *n; s; s = n) {
        n = s->rnext;
        unmap_span(s);
    }
    if (region) {
        munmap(region, region_bytes);
        unreserve(region_bytes);
    }
}
