/*
 * ref.h — the core types of the ref allocator: size classes, spans, heaps
 * and the process-wide state.  The subsystems each have a header of their
 * own (page.h, central.h, heap.h); this one holds only what all of them
 * share.  Nothing here is exported: the plugin's one public symbol is
 * allocbench_plugin_entry (ref.c).
 *
 * Names: cross-file internals are ref_<module>_<verb>; file-local helpers
 * are static and unprefixed.
 */
#ifndef REF_H
#define REF_H

#include "allocbench-plugin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hidden whatever the build's default visibility: the internals must not
 * interpose on, or be interposed by, anything else in the process. */
#define REF_INTERNAL __attribute__((visibility("hidden")))
#define REF_LIKELY(x) __builtin_expect(!!(x), 1)
#define REF_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------ geometry */

/* Every span, small or large, starts at a REF_SPAN-aligned header; a block
 * finds it by masking (pointer - 1), so a block may start exactly at the
 * next alignment boundary (the 2 MiB-aligned large blocks do). */
#define REF_SPAN_SHIFT 18
#define REF_SPAN ((size_t)1 << REF_SPAN_SHIFT) /* 256 KiB */
#define REF_HDR 128u                            /* header bytes; first block at or after */

#define REF_NCLASS 40u       /* 16..128 by 16, then four per doubling to 32 KiB */
#define REF_SMALL_MAX 32768u /* larger requests get a large span of their own */
#define REF_FAST_MAX 1024u   /* sizes the malloc fast path's table covers */
#define REF_FAST_SLOTS (REF_FAST_MAX / 16u)

#define REF_CLS_LARGE 0xfffeu /* span holds one large block */
#define REF_CLS_NONE 0xffffu  /* pooled span, heap metadata */

/* Requests above this are refused before any size arithmetic (64 TiB:
 * more than x86-64 user space can map, far from overflowing a size_t). */
#define REF_MAX_REQUEST ((size_t)1 << 46)

/* Class sizes as a constant expression, so the table is const: 16 (c + 1)
 * up to 128, then 2^e + (m + 1) 2^(e - 2) for c = 8 + 4 (e - 7) + m. */
#define REF_CSZ_K(c) ((c) < 8u ? 0u : (c) - 8u)
#define REF_CSZ(c)                                                                           \
    ((c) < 8u ? 16u * ((c) + 1u)                                                             \
              : (1u << (7u + REF_CSZ_K(c) / 4u)) +                                           \
                    (REF_CSZ_K(c) % 4u + 1u) * (1u << (5u + REF_CSZ_K(c) / 4u)))

REF_INTERNAL extern const uint32_t ref_class_size[REF_NCLASS];

/* The class of a request of 1..REF_SMALL_MAX bytes: at most 25% internal
 * fragmentation above 128 bytes, 15 bytes below. */
static inline unsigned ref_class_of(size_t size)
{
    size_t s = size - 1;
    if (s < 128)
        return (unsigned)(s >> 4);
    unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)s); /* floor(log2 s) >= 7 */
    return 8u + (e - 7u) * 4u + (unsigned)((s >> (e - 2u)) & 3u);
}

/* ---------------------------------------------------------------- spans */

struct ref_block {
    struct ref_block *next; /* span free lists, remote queues, overflow lists */
};

enum ref_list {
    REF_LIST_NONE,     /* on no list: full central span, live large span */
    REF_LIST_AVAIL,    /* owner's spans with free or uncarved blocks */
    REF_LIST_FULL,     /* owner's spans with neither */
    REF_LIST_TRANSFER, /* central: the transfer cache of the class */
    REF_LIST_PARTIAL,  /* central: released spans past the transfer cache */
    REF_LIST_POOL,     /* empty, class-less, ready for any class */
    REF_LIST_CACHE,    /* freed large span kept for reuse */
    REF_LIST_SCOPE,    /* live large span on its heap's list */
};

#define REF_SPAN_FRESH 1u  /* never handed out since mmap: reads as zero */
#define REF_SPAN_REGION 2u /* carved from the test-fixture region */

/* The header at the start of every mapping (small span, large span, heap
 * metadata).  The first two words are what the free fast path reads. */
struct ref_span {
    _Atomic(struct ref_heap *) owner; /* NULL: central, pooled or large */
    uint32_t tc_off;                  /* offsetof(struct ref_heap, tc[cls]) */
    uint16_t cls;
    uint8_t list;  /* enum ref_list */
    uint8_t flags; /* REF_SPAN_* */
    uint32_t block;    /* block size */
    uint32_t capacity; /* blocks the span holds */
    /* Blocks out of the span: in a thread cache, with the application, or
     * in a remote queue.  Written by whoever holds the span (its owner, or
     * the class lock for a central span); atomic only so that stats() may
     * read it from another thread. */
    _Atomic uint32_t used;
    uint32_t nfree;          /* blocks on free */
    struct ref_block *free;  /* blocks given back to the span */
    char *carve, *carve_end; /* never handed out yet: carved lazily */
    struct ref_span *prev, *next;   /* the list named by `list` */
    struct ref_span *rprev, *rnext; /* the backend's registry of mappings */
    size_t map_bytes;               /* bytes mapped from this header on */
    size_t offset;                  /* large: the block's offset from the header */
    struct ref_heap *scope;         /* large: the heap that allocated it */
};
_Static_assert(sizeof(struct ref_span) <= REF_HDR, "span header must fit REF_HDR");

/* Doubly linked span lists (heads only; the transfer cache keeps a tail
 * of its own). */
static inline void ref_list_push(struct ref_span **head, struct ref_span *s, enum ref_list which)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
    s->list = (uint8_t)which;
}

static inline void ref_list_del(struct ref_span **head, struct ref_span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->list = REF_LIST_NONE;
}

static inline struct ref_span *ref_span_of(const void *p)
{
    return (struct ref_span *)(((uintptr_t)p - 1u) & ~(uintptr_t)(REF_SPAN - 1u));
}

/* ---------------------------------------------------------------- heaps */

/* A thread cache: a stack of free blocks of one class, all of spans the
 * heap owns.  `top` is atomic only for stats(); the owner's relaxed loads
 * and stores compile to plain moves.  base and limit never change after
 * the heap is made. */
struct ref_tcache {
    _Atomic(void **) top;
    void **base;
    void **limit;
    uint32_t want; /* the next refill's batch (slow path only) */
};

enum ref_heap_state { REF_HEAP_ACTIVE, REF_HEAP_DEAD };

struct ref_heap {
    /* The fast paths read only tc[] and tbl[]: offset 0, a few lines. */
    struct ref_tcache tc[REF_NCLASS];
    uint16_t tbl[REF_FAST_SLOTS]; /* (size - 1) / 16 -> offsetof(tc[class]) */

    /* Owner-only slow-path state. */
    struct ref_span *avail[REF_NCLASS];
    struct ref_span *full[REF_NCLASS];
    struct ref_heap *parent; /* the next outer scope of the same thread */
    struct ref_span *large;  /* live large spans allocated here (backend lock) */
    struct ref_span *meta;   /* the mapping this heap lives in */
    uint64_t gen;            /* changes whenever the heap is handed out anew */
    bool scope;              /* made by checkpoint_save */

    /* Remote side: written by other threads. */
    _Alignas(64) _Atomic(struct ref_block *) rq; /* lock-free MPSC stack */
    _Atomic uint64_t novf;                      /* blocks on ovf */
    _Atomic unsigned state;                     /* enum ref_heap_state */
    pthread_mutex_t lock;                       /* state changes, ovf */
    struct ref_block *ovf;                      /* frees past the remote bound */

    /* Counters, each written only by the thread using this heap. */
    _Alignas(64) _Atomic uint64_t remote_frees; /* frees of blocks other heaps own */
    _Atomic uint64_t remote_bytes;              /* of which queued (rq or ovf), bytes */
    _Atomic uint64_t drained_bytes;             /* queued bytes this heap took off a queue */

    struct ref_heap *all_next;  /* every heap ever made (ref_g.lock) */
    struct ref_heap *free_next; /* heaps waiting to be handed out (ref_g.lock) */
};

/* A relaxed add on a counter only one thread writes: a plain load, add and
 * store, no locked instruction. */
static inline void ref_count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* ------------------------------------------------------- central lists */

struct ref_central {
    _Alignas(64) pthread_mutex_t lock; /* a line of its own per class */
    struct ref_span *xfer_head, *xfer_tail; /* the transfer cache, newest first */
    unsigned nxfer;
    struct ref_span *partial;       /* released spans beyond the transfer cache */
    _Atomic uint64_t xfer_blocks;   /* blocks available in xfer spans (stats) */
};

/* ---------------------------------------------------------- the process */

/* What a profile sets (ref.c's table; configure picks a row). */
struct ref_tuning {
    uint32_t profile;          /* enum allocbench_profile bit */
    uint64_t remote_bound;     /* blocks in all remote queues together */
    size_t tcache_bytes;       /* per class and heap */
    unsigned pool_spans;       /* empty spans kept mapped */
    unsigned transfer_spans;   /* spans per class in the transfer cache */
    unsigned lcache_spans;     /* freed large spans kept for reuse */
    size_t lcache_bytes;       /* ... and their bytes */
    size_t region_bytes;       /* test-fixture: the fixed region; 0 hosted */
    bool hooks;                /* hugepage and NUMA hooks may be asked for */
};

#define REF_REGION_WORDS 64u /* region bitmap: up to 4096 spans, 1 GiB */

struct ref_state {
    pthread_mutex_t lock; /* configuration, heap lists, the key */
    struct ref_heap *heaps, *free_heaps;
    uint64_t gen;
    pthread_key_t key;
    bool key_made;

    struct ref_tuning t;
    bool hugepages;
    int numa_node;
    bool xstats;
    _Atomic uint64_t page_limit;
    _Atomic uint64_t remote_bound;
    size_t page;

    /* Page backend (page.c), under pb_lock. */
    pthread_mutex_t pb_lock;
    struct ref_span *registry;
    struct ref_span *pool;
    unsigned npool;
    struct ref_span *lcache;
    unsigned nlcache;
    size_t lcache_used;
    char *region;
    size_t region_units;
    uint64_t region_map[REF_REGION_WORDS];
    _Atomic uintptr_t map_hint;

    _Alignas(64) _Atomic uint64_t mapped;
    _Alignas(64) _Atomic uint64_t rdepth; /* blocks in remote queues */
    _Alignas(64) _Atomic uint64_t span_out_bytes; /* bytes out of small spans */
    _Atomic uint64_t large_live;                  /* bytes in live large blocks */
    _Atomic uint64_t overflows;                   /* remote frees past the bound */
    /* The heap counters of threads that could get no heap. */
    _Atomic uint64_t orphan_remote_frees, orphan_remote_bytes, orphan_drained_bytes;

    struct ref_central central[REF_NCLASS];
};

REF_INTERNAL extern struct ref_state ref_g;
REF_INTERNAL extern struct ref_heap ref_sentinel;
REF_INTERNAL extern __thread struct ref_heap *ref_tls_heap
    __attribute__((tls_model("initial-exec")));

#endif /* REF_H */
