/*
 * heap.c — per-thread heaps (heap.h).
 *
 * The thread cache of a class is a stack of block pointers (not a list
 * threaded through the blocks): malloc pops, free pushes, its depth is
 * implicit in the stack pointer, a refill writes pointers without touching
 * the blocks (carving a fresh span faults nothing in), and a bulk request
 * is one memcpy.  A cache holds at most `cap` blocks (tcache_bytes of the
 * class, 4 to 8192 blocks); a free into a full cache gives the older half
 * back to their spans.
 *
 * Remote frees: a lock-free multi-producer stack per heap (push: one CAS;
 * the owner takes the whole stack with one exchange), bounded across the
 * process by remote_bound blocks: a free first reserves a place in the
 * process-wide count (one CAS).  A free that finds the bound reached is
 * not lost and does not wait: it goes to the owner's overflow list under
 * the owner's lock (counted in ref_g.overflows) and the owner takes it at
 * the same drain points.
 *
 * A heap whose thread detached is DEAD: its spans went central first, so a
 * free that raced the detach and queued a block on it finds it dead after
 * its push (both sides use sequentially consistent operations: either the
 * detacher's last drain sees the block or the pusher sees DEAD) and routes
 * the block again itself.  Heaps are never unmapped before fini; a dead one
 * is handed to the next thread that needs a heap.
 */
#include "heap.h"

#include "central.h"
#include "page.h"

#include <errno.h>
#include <string.h>

REF_INTERNAL struct ref_heap ref_sentinel;
/* Never NULL: a thread starts on the sentinel, whose caches are empty and
 * which owns nothing, so both fast paths fall to their slow paths without
 * a test of their own. */
REF_INTERNAL __thread struct ref_heap *ref_tls_heap
    __attribute__((tls_model("initial-exec"))) = &ref_sentinel;

#define REF_CP_MAGIC 0x3130706366657272ull /* "rrefcp01" */

struct ref_cp {
    struct ref_heap *heap;
    uint64_t gen;
    uint64_t magic;
};
_Static_assert(sizeof(struct ref_cp) <= sizeof(struct allocbench_checkpoint), "checkpoint size");

static void thread_exit(void *arg);

/* -------------------------------------------------------------- helpers */

static void **top_of(const struct ref_tcache *t)
{
    return atomic_load_explicit(&t->top, memory_order_relaxed);
}

static void set_top(struct ref_tcache *t, void **top)
{
    atomic_store_explicit(&t->top, top, memory_order_relaxed);
}

static size_t cap_of(const struct ref_tcache *t)
{
    return (size_t)(t->limit - t->base);
}

/* The most blocks a refill takes at once: a quarter of the cache, 1 to
 * 256. */
static size_t batch_max(const struct ref_tcache *t)
{
    size_t b = cap_of(t) / 4;
    return b < 1 ? 1 : b > 256 ? 256 : b;
}

#define REF_BATCH_MIN 4u

/* Blocks the next refill takes: it starts small and doubles with every
 * refill up to batch_max, so that a class used for a few blocks (a short
 * scope, a rare size) carves a few and a class in steady use amortises
 * the slow path over the full batch. */
static size_t batch_of(struct ref_tcache *t)
{
    size_t max = batch_max(t), b = t->want < REF_BATCH_MIN ? REF_BATCH_MIN : t->want;
    if (b > max)
        b = max;
    t->want = (uint32_t)(2 * b < max ? 2 * b : max);
    return b;
}

static uint32_t used_of(const struct ref_span *s)
{
    return atomic_load_explicit(&s->used, memory_order_relaxed);
}

static void set_used(struct ref_span *s, uint32_t v)
{
    atomic_store_explicit(&s->used, v, memory_order_relaxed);
}

static bool in_stack(const struct ref_heap *stack, const struct ref_heap *o)
{
    for (; stack; stack = stack->parent)
        if (stack == o)
            return true;
    return false;
}

/* A counter of the calling thread's heap (a plain load, add and store:
 * only this thread writes it), or the process-wide fallback of a thread
 * that could get no heap. */
enum tally { T_REMOTE_FREES, T_REMOTE_BYTES, T_DRAINED_BYTES };

static void tally(struct ref_heap *me, enum tally which, uint64_t n)
{
    if (me) {
        ref_count(which == T_REMOTE_FREES   ? &me->remote_frees
                  : which == T_REMOTE_BYTES ? &me->remote_bytes
                                            : &me->drained_bytes,
                  n);
        return;
    }
    atomic_fetch_add_explicit(which == T_REMOTE_FREES   ? &ref_g.orphan_remote_frees
                              : which == T_REMOTE_BYTES ? &ref_g.orphan_remote_bytes
                                                        : &ref_g.orphan_drained_bytes,
                              n, memory_order_relaxed);
}

/* ---------------------------------------------------------- heap making */

static uint32_t class_cap(unsigned c, size_t tcache_bytes)
{
    size_t n = tcache_bytes / ref_class_size[c];
    return (uint32_t)(n < 4 ? 4 : n > 8192 ? 8192 : n);
}

/* A heap for a new thread or scope: a dead one again, else a new mapping
 * (the heap, then every class's cache stack, touched only as used). */
static struct ref_heap *heap_make(void)
{
    pthread_mutex_lock(&ref_g.lock);
    if (!ref_g.key_made) {
        if (pthread_key_create(&ref_g.key, thread_exit)) {
            pthread_mutex_unlock(&ref_g.lock);
            return NULL;
        }
        ref_g.key_made = true;
    }
    struct ref_heap *h = ref_g.free_heaps;
    if (h) {
        ref_g.free_heaps = h->free_next;
        h->free_next = NULL;
        h->gen = ++ref_g.gen;
    }
    size_t tcache_bytes = ref_g.t.tcache_bytes;
    pthread_mutex_unlock(&ref_g.lock);
    if (h) {
        pthread_mutex_lock(&h->lock);
        atomic_store_explicit(&h->state, REF_HEAP_ACTIVE, memory_order_seq_cst);
        pthread_mutex_unlock(&h->lock);
        h->parent = NULL;
        h->scope = false;
        return h;
    }
    size_t slots = 0;
    for (unsigned c = 0; c < REF_NCLASS; c++)
        slots += class_cap(c, tcache_bytes);
    struct ref_span *meta;
    h = ref_page_meta(sizeof *h + slots * sizeof(void *), &meta);
    if (!h)
        return NULL;
    h->meta = meta;
    void **slot = (void **)(h + 1);
    for (unsigned c = 0; c < REF_NCLASS; c++) {
        h->tc[c].base = slot;
        h->tc[c].limit = slot + class_cap(c, tcache_bytes);
        set_top(&h->tc[c], slot);
        slot = h->tc[c].limit;
    }
    for (unsigned i = 0; i < REF_FAST_SLOTS; i++)
        h->tbl[i] = (uint16_t)(offsetof(struct ref_heap, tc) +
                               ref_class_of(16u * (i + 1u)) * sizeof(struct ref_tcache));
    pthread_mutex_init(&h->lock, NULL);
    atomic_store_explicit(&h->state, REF_HEAP_ACTIVE, memory_order_relaxed);
    pthread_mutex_lock(&ref_g.lock);
    h->gen = ++ref_g.gen;
    h->all_next = ref_g.heaps;
    ref_g.heaps = h;
    pthread_mutex_unlock(&ref_g.lock);
    return h;
}

static void set_thread_heap(struct ref_heap *h)
{
    ref_tls_heap = h ? h : &ref_sentinel;
    if (ref_g.key_made)
        pthread_setspecific(ref_g.key, h);
}

struct ref_heap *ref_heap_self(void)
{
    struct ref_heap *h = ref_tls_heap;
    if (REF_LIKELY(h != &ref_sentinel))
        return h;
    h = heap_make();
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    set_thread_heap(h);
    return h;
}

/* ------------------------------------------------- spans and the cache */

static void span_init(struct ref_span *s, unsigned c, struct ref_heap *h)
{
    uint32_t b = ref_class_size[c];
    /* The first block at the block size's largest power-of-two factor (at
     * least the header): every block is then aligned to that factor, which
     * is what aligned_alloc relies on, and costs no block (for b = 2^k,
     * (SPAN - b) / b == (SPAN - REF_HDR) / b). */
    size_t pf = (size_t)(b & (0u - b)), off = pf > REF_HDR ? pf : REF_HDR;
    s->cls = (uint16_t)c;
    s->block = b;
    s->tc_off = (uint32_t)(offsetof(struct ref_heap, tc) + c * sizeof(struct ref_tcache));
    s->capacity = (uint32_t)((REF_SPAN - off) / b);
    s->carve = (char *)s + off;
    s->carve_end = s->carve + (size_t)s->capacity * b;
    s->free = NULL;
    s->nfree = 0;
    set_used(s, 0);
    s->list = REF_LIST_NONE;
    atomic_store_explicit(&s->owner, h, memory_order_relaxed);
}

/* Up to want blocks of h's own spans of class c onto the cache: the spans'
 * free lists first (blocks already touched), then their uncarved tails,
 * lowest address on top so that a run of mallocs walks memory upwards. */
static size_t take_from_spans(struct ref_heap *h, unsigned c, size_t want)
{
    struct ref_tcache *t = &h->tc[c];
    void **top = top_of(t);
    size_t room = (size_t)(t->limit - top), got = 0;
    if (want > room)
        want = room;
    struct ref_span *s;
    while (got < want && (s = h->avail[c])) {
        size_t before = got;
        struct ref_block *b = s->free;
        while (got < want && b) {
            top[got++] = b;
            b = b->next;
        }
        s->free = b;
        s->nfree -= (uint32_t)(got - before);
        size_t left = (size_t)(s->carve_end - s->carve) / s->block, k = want - got;
        if (k > left)
            k = left;
        for (size_t i = 0; i < k; i++)
            top[got + i] = s->carve + (k - 1 - i) * s->block;
        s->carve += k * s->block;
        got += k;
        set_used(s, used_of(s) + (uint32_t)(got - before));
        if (!s->free && s->carve == s->carve_end) {
            ref_list_del(&h->avail[c], s);
            ref_list_push(&h->full[c], s, REF_LIST_FULL);
        }
    }
    set_top(t, top + got);
    if (got)
        atomic_fetch_add_explicit(&ref_g.span_out_bytes, got * ref_class_size[c],
                                  memory_order_relaxed);
    return got;
}

static void drain_all(struct ref_heap *h);

/* The cache of class c is empty: what other threads freed for this
 * thread's heaps, then h's own spans, then a released span adopted from the
 * central lists, then a new span from the page backend. */
static bool refill(struct ref_heap *h, unsigned c, size_t want)
{
    struct ref_tcache *t = &h->tc[c];
    drain_all(h);
    if (top_of(t) != t->base)
        return true;
    for (;;) {
        if (take_from_spans(h, c, want))
            return true;
        struct ref_span *s = ref_central_adopt(c, h);
        if (!s) {
            s = ref_page_span();
            if (!s)
                return false;
            span_init(s, c, h);
        }
        ref_list_push(&h->avail[c], s, REF_LIST_AVAIL);
    }
}

void *ref_heap_alloc(struct ref_heap *h, unsigned cls)
{
    struct ref_tcache *t = &h->tc[cls];
    void **top = top_of(t);
    if (top == t->base) {
        if (!refill(h, cls, batch_of(t))) {
            errno = ENOMEM;
            return NULL;
        }
        top = top_of(t);
    }
    set_top(t, top - 1);
    return top[-1];
}

size_t ref_heap_bulk(struct ref_heap *h, unsigned cls, size_t n, void **out)
{
    struct ref_tcache *t = &h->tc[cls];
    size_t got = 0;
    while (got < n) {
        void **top = top_of(t);
        size_t have = (size_t)(top - t->base);
        if (!have) {
            size_t want = n - got, b = batch_of(t);
            if (!refill(h, cls, want < b ? b : want))
                break;
            continue;
        }
        size_t k = have < n - got ? have : n - got;
        memcpy(out + got, top - k, k * sizeof *out);
        set_top(t, top - k);
        got += k;
    }
    if (!got)
        errno = ENOMEM;
    return got;
}

/* A block of h's own back to its span; the span leaves h when it is empty
 * and h has another span of the class to allocate from.  Returns the block
 * size. */
static uint32_t give_back(struct ref_heap *h, struct ref_block *b)
{
    struct ref_span *s = ref_span_of(b);
    unsigned c = s->cls;
    uint32_t size = s->block;
    b->next = s->free;
    s->free = b;
    s->nfree++;
    uint32_t used = used_of(s) - 1;
    set_used(s, used);
    if (s->list == REF_LIST_FULL) {
        ref_list_del(&h->full[c], s);
        ref_list_push(&h->avail[c], s, REF_LIST_AVAIL);
    }
    if (!used && (h->avail[c] != s || s->next)) {
        ref_list_del(&h->avail[c], s);
        ref_page_span_release(s);
    }
    return size;
}

void ref_heap_flush_push(struct ref_heap *h, struct ref_tcache *t, void *p)
{
    void **base = t->base, **top = top_of(t);
    size_t n = (size_t)(top - base), k = n > 1 ? n / 2 : n;
    uint64_t bytes = 0;
    /* The older half: the blocks least likely to be in cache. */
    for (size_t i = 0; i < k; i++)
        bytes += give_back(h, base[i]);
    memmove(base, base + k, (n - k) * sizeof *base);
    top = base + (n - k);
    *top = p;
    set_top(t, top + 1);
    atomic_fetch_sub_explicit(&ref_g.span_out_bytes, bytes, memory_order_relaxed);
}

/* Into the cache of h, which this thread holds (its own heap or an outer
 * scope of it); s is owned by h. */
static void heap_put(struct ref_heap *h, struct ref_span *s, void *b)
{
    struct ref_tcache *t = (struct ref_tcache *)((char *)h + s->tc_off);
    void **top = top_of(t);
    if (top == t->limit) {
        ref_heap_flush_push(h, t, b);
        return;
    }
    *top = b;
    set_top(t, top + 1);
}

/* --------------------------------------------------------- remote frees */

static void route(struct ref_heap *me, struct ref_heap *stack, struct ref_block *b,
                  struct ref_span *s);

/* A place in the process-wide remote-free count, unless it is at the
 * bound.  Cost: one load and one CAS on a shared line. */
static bool depth_reserve(void)
{
    uint64_t bound = atomic_load_explicit(&ref_g.remote_bound, memory_order_relaxed);
    uint64_t d = atomic_load_explicit(&ref_g.rdepth, memory_order_relaxed);
    do {
        if (d >= bound)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&ref_g.rdepth, &d, d + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

/* Route every block of a chain taken off a heap that is not this thread's
 * to own any more. */
static void reroute_chain(struct ref_heap *me, struct ref_heap *stack, struct ref_block *q,
                          bool queued)
{
    uint64_t n = 0, bytes = 0;
    for (struct ref_block *b = q; b; b = b->next) {
        n++;
        bytes += ref_span_of(b)->block;
    }
    /* Given back before routing: the blocks may queue again elsewhere. */
    if (queued && n)
        atomic_fetch_sub_explicit(&ref_g.rdepth, n, memory_order_relaxed);
    if (bytes)
        tally(me, T_DRAINED_BYTES, bytes);
    while (q) {
        struct ref_block *next = q->next;
        route(me, stack, q, ref_span_of(q));
        q = next;
    }
}

/* h's queue and overflow list, emptied (h->lock held). */
static void take_queues_locked(struct ref_heap *h, struct ref_block **q, struct ref_block **v)
{
    *q = atomic_exchange_explicit(&h->rq, NULL, memory_order_seq_cst);
    *v = h->ovf;
    h->ovf = NULL;
    atomic_store_explicit(&h->novf, 0, memory_order_relaxed);
}

/* o died under a block just pushed on it: take its queues (if no one has
 * made it live again) and route what they held. */
static void rescue(struct ref_heap *me, struct ref_heap *stack, struct ref_heap *o)
{
    pthread_mutex_lock(&o->lock);
    if (atomic_load_explicit(&o->state, memory_order_relaxed) != REF_HEAP_DEAD) {
        pthread_mutex_unlock(&o->lock);
        return;
    }
    struct ref_block *q, *v;
    take_queues_locked(o, &q, &v);
    pthread_mutex_unlock(&o->lock);
    reroute_chain(me, stack, q, true);
    reroute_chain(me, stack, v, false);
}

static void push_remote(struct ref_heap *me, struct ref_heap *stack, struct ref_heap *o,
                        struct ref_block *b, struct ref_span *s)
{
    uint32_t size = s->block;
    if (depth_reserve()) {
        tally(me, T_REMOTE_BYTES, size);
        struct ref_block *old = atomic_load_explicit(&o->rq, memory_order_relaxed);
        do
            b->next = old;
        while (!atomic_compare_exchange_weak_explicit(&o->rq, &old, b, memory_order_seq_cst,
                                                      memory_order_relaxed));
        if (atomic_load_explicit(&o->state, memory_order_seq_cst) == REF_HEAP_DEAD)
            rescue(me, stack, o);
        return;
    }
    /* Past the bound: the locked path, never a lost or a waiting free. */
    atomic_fetch_add_explicit(&ref_g.overflows, 1, memory_order_relaxed);
    pthread_mutex_lock(&o->lock);
    if (atomic_load_explicit(&o->state, memory_order_relaxed) == REF_HEAP_DEAD) {
        pthread_mutex_unlock(&o->lock);
        route(me, stack, b, s); /* o gave its spans up before it died */
        return;
    }
    b->next = o->ovf;
    o->ovf = b;
    atomic_store_explicit(&o->novf, atomic_load_explicit(&o->novf, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    pthread_mutex_unlock(&o->lock);
    tally(me, T_REMOTE_BYTES, size);
}

/* Where a block of span s goes from a thread whose heaps are `stack`: its
 * owner's queue, this thread's own cache if the owner is one of its
 * scopes, or the central span under the class lock. */
static void route(struct ref_heap *me, struct ref_heap *stack, struct ref_block *b,
                  struct ref_span *s)
{
    for (;;) {
        struct ref_heap *o = atomic_load_explicit(&s->owner, memory_order_acquire);
        if (!o) {
            if (ref_central_free(s, b))
                return;
            continue; /* adopted meanwhile: route to the new owner */
        }
        if (in_stack(stack, o)) {
            heap_put(o, s, b);
            return;
        }
        push_remote(me, stack, o, b, s);
        return;
    }
}

void ref_heap_free_slow(void *p)
{
    struct ref_span *s = ref_span_of(p);
    if (s->cls == REF_CLS_LARGE) {
        /* No queue: any thread unmaps or caches a large block itself; one
         * another heap allocated still counts as a remote free. */
        struct ref_heap *me = ref_tls_heap == &ref_sentinel ? NULL : ref_tls_heap;
        if (ref_page_large_free(s, me))
            tally(me, T_REMOTE_FREES, 1);
        return;
    }
    struct ref_heap *me = ref_heap_self(); /* NULL only when out of memory */
    struct ref_heap *o = atomic_load_explicit(&s->owner, memory_order_acquire);
    if (o && in_stack(me, o)) {
        heap_put(o, s, p); /* an outer scope's block: still this thread's */
        return;
    }
    tally(me, T_REMOTE_FREES, 1);
    route(me, me, p, s);
}

/* A chain off h's own queue (this thread holds h). */
static void take_chain(struct ref_heap *h, struct ref_heap *stack, struct ref_block *q,
                       bool queued)
{
    uint64_t n = 0, bytes = 0;
    while (q) {
        struct ref_block *next = q->next;
        struct ref_span *s = ref_span_of(q);
        n++;
        bytes += s->block;
        if (atomic_load_explicit(&s->owner, memory_order_relaxed) == h)
            heap_put(h, s, q);
        else
            route(stack, stack, q, s); /* queued before h gave the span up */
        q = next;
    }
    if (queued && n)
        atomic_fetch_sub_explicit(&ref_g.rdepth, n, memory_order_relaxed);
    if (bytes)
        tally(stack, T_DRAINED_BYTES, bytes);
}

/* Cost when nothing is queued: two relaxed loads. */
static void drain_heap(struct ref_heap *h, struct ref_heap *stack)
{
    if (atomic_load_explicit(&h->rq, memory_order_relaxed))
        take_chain(h, stack, atomic_exchange_explicit(&h->rq, NULL, memory_order_seq_cst), true);
    if (atomic_load_explicit(&h->novf, memory_order_relaxed)) {
        pthread_mutex_lock(&h->lock);
        struct ref_block *v = h->ovf;
        h->ovf = NULL;
        atomic_store_explicit(&h->novf, 0, memory_order_relaxed);
        pthread_mutex_unlock(&h->lock);
        take_chain(h, stack, v, false);
    }
}

static void drain_all(struct ref_heap *h)
{
    for (struct ref_heap *x = h; x; x = x->parent)
        drain_heap(x, h);
}

/* ------------------------------------------------------ detach, scopes */

/* Every block of h's caches back to its span. */
static void flush_all(struct ref_heap *h)
{
    uint64_t bytes = 0;
    for (unsigned c = 0; c < REF_NCLASS; c++) {
        struct ref_tcache *t = &h->tc[c];
        for (void **p = t->base, **top = top_of(t); p < top; p++)
            bytes += give_back(h, *p);
        set_top(t, t->base);
        t->want = 0;
    }
    if (bytes)
        atomic_fetch_sub_explicit(&ref_g.span_out_bytes, bytes, memory_order_relaxed);
}

/* h is done with (it owns nothing now): mark it dead, route what raced
 * onto its queues, and keep it for the next thread. */
static void heap_bury(struct ref_heap *h, struct ref_heap *stack)
{
    pthread_mutex_lock(&h->lock);
    atomic_store_explicit(&h->state, REF_HEAP_DEAD, memory_order_seq_cst);
    struct ref_block *q, *v;
    take_queues_locked(h, &q, &v);
    pthread_mutex_unlock(&h->lock);
    reroute_chain(h, stack, q, true);
    reroute_chain(h, stack, v, false);
    h->parent = NULL;
    h->scope = false;
    pthread_mutex_lock(&ref_g.lock);
    h->free_next = ref_g.free_heaps;
    ref_g.free_heaps = h;
    pthread_mutex_unlock(&ref_g.lock);
}

/* Detach: the heap's blocks stay valid; its spans go central (empty ones to
 * the page backend) so that other threads adopt them. */
static void heap_retire(struct ref_heap *h)
{
    drain_heap(h, h);
    flush_all(h);
    for (unsigned c = 0; c < REF_NCLASS; c++) {
        struct ref_span **lists[2] = {&h->avail[c], &h->full[c]};
        for (int k = 0; k < 2; k++)
            while (*lists[k]) {
                struct ref_span *s = *lists[k];
                ref_list_del(lists[k], s);
                if (used_of(s))
                    ref_central_release(s);
                else if (!ref_central_keep(s))
                    ref_page_span_release(s);
            }
    }
    ref_page_large_disown(h);
    heap_bury(h, h->parent);
}

int ref_heap_attach(void)
{
    return ref_heap_self() ? 0 : -ENOMEM;
}

int ref_heap_detach(void)
{
    struct ref_heap *h = ref_tls_heap;
    if (h == &ref_sentinel)
        return 0;
    while (h) {
        struct ref_heap *parent = h->parent;
        heap_retire(h);
        h = parent;
    }
    set_thread_heap(NULL);
    return 0;
}

static void thread_exit(void *arg)
{
    (void)arg;
    ref_heap_detach();
}

/* Blocks h has out with the application (h drained just before). */
static uint64_t live_blocks(struct ref_heap *h)
{
    uint64_t out = 0;
    for (unsigned c = 0; c < REF_NCLASS; c++) {
        for (struct ref_span *s = h->avail[c]; s; s = s->next)
            out += used_of(s);
        for (struct ref_span *s = h->full[c]; s; s = s->next)
            out += used_of(s);
        out -= (uint64_t)(top_of(&h->tc[c]) - h->tc[c].base);
    }
    return out + ref_page_large_count(h);
}

/* Release every block h handed out.  A heap that stays the thread's keeps
 * one span per class, reset; one about to be buried keeps nothing (a dead
 * heap owns no span: push_remote relies on it). */
static void heap_discard(struct ref_heap *h, bool keep_spans)
{
    pthread_mutex_lock(&h->lock);
    struct ref_block *q, *v;
    take_queues_locked(h, &q, &v);
    pthread_mutex_unlock(&h->lock);
    for (int k = 0; k < 2; k++) {
        uint64_t n = 0, bytes = 0;
        for (struct ref_block *b = k ? v : q, *next; b; b = next) {
            next = b->next;
            struct ref_span *s = ref_span_of(b);
            n++;
            bytes += s->block;
            /* h's own go with their spans below; anything else routes on. */
            if (atomic_load_explicit(&s->owner, memory_order_relaxed) != h)
                route(h, h, b, s);
        }
        if (!k && n)
            atomic_fetch_sub_explicit(&ref_g.rdepth, n, memory_order_relaxed);
        if (bytes)
            tally(h, T_DRAINED_BYTES, bytes);
    }
    for (unsigned c = 0; c < REF_NCLASS; c++) {
        set_top(&h->tc[c], h->tc[c].base);
        h->tc[c].want = 0;
    }
    /* One span per class stays, reset to a fresh carve, so that a
     * save/allocate/restore loop does not trade spans with the backend. */
    uint64_t out = 0;
    for (unsigned c = 0; c < REF_NCLASS; c++) {
        struct ref_span **lists[2] = {&h->avail[c], &h->full[c]}, *keep = NULL;
        for (int k = 0; k < 2; k++)
            while (*lists[k]) {
                struct ref_span *s = *lists[k];
                out += (uint64_t)used_of(s) * s->block;
                ref_list_del(lists[k], s);
                if (keep || !keep_spans) {
                    ref_page_span_release(s);
                } else {
                    span_init(s, c, h);
                    keep = s;
                }
            }
        if (keep)
            ref_list_push(&h->avail[c], keep, REF_LIST_AVAIL);
    }
    if (out)
        atomic_fetch_sub_explicit(&ref_g.span_out_bytes, out, memory_order_relaxed);
    ref_page_large_release_all(h);
}

/* A scope is a heap of its own on the thread's scope stack: what is
 * allocated after the save comes from spans only it owns, what was
 * allocated before stays in the outer heaps, so restore can release
 * exactly the blocks since the save.  A save on a scope that holds no live
 * block marks the same position as that scope's own checkpoint and reuses
 * it, so save/restore loops do not deepen the stack. */
int ref_heap_save(struct allocbench_checkpoint *out)
{
    if (!out)
        return -EINVAL;
    struct ref_heap *h = ref_heap_self();
    if (!h)
        return -ENOMEM;
    drain_all(h);
    if (!h->scope || live_blocks(h)) {
        struct ref_heap *n = heap_make();
        if (!n)
            return -ENOMEM;
        n->parent = h;
        n->scope = true;
        set_thread_heap(n);
        h = n;
    }
    struct ref_cp cp = {h, h->gen, REF_CP_MAGIC};
    memset(out, 0, sizeof *out);
    memcpy(out, &cp, sizeof cp);
    return 0;
}

/* Releases every block allocated since the save, deeper scopes included
 * (their checkpoints are void afterwards); the checkpoint itself stays
 * valid and may be restored again. */
int ref_heap_restore(const struct allocbench_checkpoint *in)
{
    if (!in)
        return -EINVAL;
    struct ref_cp cp;
    memcpy(&cp, in, sizeof cp);
    if (cp.magic != REF_CP_MAGIC)
        return -EINVAL;
    struct ref_heap *top = ref_tls_heap, *x = top;
    while (x != &ref_sentinel && x && !(x == cp.heap && x->gen == cp.gen && x->scope))
        x = x->parent;
    if (!x || x == &ref_sentinel)
        return -EINVAL; /* another thread's, released, or not a checkpoint */
    while (top != x) {
        struct ref_heap *parent = top->parent;
        heap_discard(top, false);
        heap_bury(top, parent);
        top = parent;
    }
    heap_discard(x, true);
    set_thread_heap(x);
    return 0;
}

/* ----------------------------------------------------------- the rest */

void ref_heap_sums(struct ref_heap_sums *out)
{
    uint64_t cached = 0, rb = 0, db = 0, rf = 0;
    pthread_mutex_lock(&ref_g.lock);
    for (struct ref_heap *h = ref_g.heaps; h; h = h->all_next) {
        for (unsigned c = 0; c < REF_NCLASS; c++)
            cached += (uint64_t)(top_of(&h->tc[c]) - h->tc[c].base) * ref_class_size[c];
        rf += atomic_load_explicit(&h->remote_frees, memory_order_relaxed);
        rb += atomic_load_explicit(&h->remote_bytes, memory_order_relaxed);
        db += atomic_load_explicit(&h->drained_bytes, memory_order_relaxed);
    }
    pthread_mutex_unlock(&ref_g.lock);
    rf += atomic_load_explicit(&ref_g.orphan_remote_frees, memory_order_relaxed);
    rb += atomic_load_explicit(&ref_g.orphan_remote_bytes, memory_order_relaxed);
    db += atomic_load_explicit(&ref_g.orphan_drained_bytes, memory_order_relaxed);
    out->cached_bytes = cached;
    out->queued_bytes = rb > db ? rb - db : 0;
    out->remote_frees = rf;
}

void ref_heap_fini_locked(void)
{
    ref_g.heaps = NULL;
    ref_g.free_heaps = NULL;
    if (ref_g.key_made) {
        /* No destructor may run on an unmapped heap. */
        pthread_key_delete(ref_g.key);
        ref_g.key_made = false;
    }
    ref_tls_heap = &ref_sentinel;
}

void ref_heap_fork_lock(bool lock)
{
    for (struct ref_heap *h = ref_g.heaps; h; h = h->all_next) {
        if (lock)
            pthread_mutex_lock(&h->lock);
        else
            pthread_mutex_unlock(&h->lock);
    }
}
