/*
 * central.h — the central span lists of each size class and, in front of
 * them, the transfer cache.
 *
 * A span leaves its heap here when the heap's thread detaches with blocks
 * of the span still live: the span loses its owner and goes, with its free
 * list and uncarved tail (a batch of blocks), to the class's transfer
 * cache, a short LIFO of the most recently released spans; past the
 * cache's bound the oldest moves on to the class's partial list.  A heap
 * whose own spans are dry adopts one (transfer cache first: the newest,
 * likeliest still in cache) and takes its whole batch at once.  Frees into
 * an unowned span, from any thread, take the class lock; the span is
 * unmapped or pooled when its last block comes back.
 *
 * Lock order: a heap's lock, then a class lock, then the backend's pb_lock
 * (an empty span evicted from a transfer cache is released under its class
 * lock).
 */
#ifndef REF_CENTRAL_H
#define REF_CENTRAL_H

#include "ref.h"

/* The owner gives up s (off the owner's lists, some blocks still out). */
REF_INTERNAL void ref_central_release(struct ref_span *s);
/* A detaching heap's empty span stays warm in the transfer cache for the
 * next thread while the class holds fewer than REF_KEEP_EMPTY spans there;
 * false: the caller releases it to the page backend. */
#define REF_KEEP_EMPTY 2u
REF_INTERNAL bool ref_central_keep(struct ref_span *s);
/* A free into an unowned span; false when the span has meanwhile been
 * adopted (the caller routes the block to the new owner). */
REF_INTERNAL bool ref_central_free(struct ref_span *s, struct ref_block *b);
/* A released span of class cls with blocks to give, now owned by h; NULL
 * when there is none. */
REF_INTERNAL struct ref_span *ref_central_adopt(unsigned cls, struct ref_heap *h);
/* Blocks available in the transfer caches (stats). */
REF_INTERNAL uint64_t ref_central_transfer_blocks(void);
REF_INTERNAL void ref_central_init(void);

#endif /* REF_CENTRAL_H */
