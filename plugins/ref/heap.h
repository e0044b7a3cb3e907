/*
 * heap.h — per-thread heaps: thread caches, their refill and flush, remote
 * frees and the points where they are drained, thread attach and detach,
 * and checkpoint scopes.
 *
 * Ownership: a small span belongs to one heap at a time (span->owner) or to
 * none (central).  Only the owner touches an owned span's free list,
 * carve pointer and lists, and only the owner's thread touches the heap's
 * caches, so the local paths take no lock and no atomic read-modify-write.
 * A block freed by any other thread goes to its owner's remote-free queue.
 *
 * Drain points, where a heap takes in what other threads freed for it:
 *   - the slow path of every allocation (a thread cache found empty),
 *     for every heap of the thread's scope stack;
 *   - thread_detach (and the thread-exit destructor), which then gives the
 *     heap's spans up to the central lists;
 *   - checkpoint_save (before deciding whether the scope is empty) and
 *     checkpoint_restore (the scope's queues are discarded with it);
 *   - fini, which unmaps everything.
 */
#ifndef REF_HEAP_H
#define REF_HEAP_H

#include "ref.h"

/* The calling thread's heap, made on first use; NULL (errno ENOMEM) when
 * no memory is left for one. */
REF_INTERNAL struct ref_heap *ref_heap_self(void);
/* A block of class cls: the thread cache, else a refill; NULL, errno
 * ENOMEM, when the page backend refuses. */
REF_INTERNAL void *ref_heap_alloc(struct ref_heap *h, unsigned cls);
/* Up to n blocks of class cls into out[]; how many (0: ENOMEM). */
REF_INTERNAL size_t ref_heap_bulk(struct ref_heap *h, unsigned cls, size_t n, void **out);
/* The free fast path's full cache: flush half of it, then push p. */
REF_INTERNAL void ref_heap_flush_push(struct ref_heap *h, struct ref_tcache *t, void *p);
/* Every free the fast path does not take (p is not NULL). */
REF_INTERNAL void ref_heap_free_slow(void *p);

REF_INTERNAL int ref_heap_attach(void);
REF_INTERNAL int ref_heap_detach(void);
REF_INTERNAL int ref_heap_save(struct allocbench_checkpoint *cp);
REF_INTERNAL int ref_heap_restore(const struct allocbench_checkpoint *cp);

struct ref_heap_sums {
    uint64_t cached_bytes;  /* in thread caches */
    uint64_t queued_bytes;  /* freed remotely, not yet taken off a queue */
    uint64_t remote_frees;
};
REF_INTERNAL void ref_heap_sums(struct ref_heap_sums *out);

/* fini: forget every heap (page fini unmaps them); ref_g.lock held. */
REF_INTERNAL void ref_heap_fini_locked(void);
/* fork: hold every heap lock across fork (ref_g.lock held). */
REF_INTERNAL void ref_heap_fork_lock(bool lock);

#endif /* REF_HEAP_H */
