/*
 * page.h — the page backend: every byte ref maps comes from here and is
 * counted against the page limit before it is mapped.
 *
 *   hosted profiles   mmap per span (256 KiB, 256 KiB-aligned; with
 *                     hugepages, 2 MiB chunks of eight spans), a pool of
 *                     empty spans, a small cache of freed large spans
 *   test-fixture      one fixed region mapped at first use, spans and large
 *                     runs placed first-fit from a bitmap: the same requests
 *                     give the same offsets, nothing is returned to the OS
 *                     before fini
 *
 * Every function takes ref_g.pb_lock itself where it needs it, and pb_lock
 * is the innermost lock: callers may hold a class lock (central.c releases
 * empty spans under one), never pb_lock itself.
 */
#ifndef REF_PAGE_H
#define REF_PAGE_H

#include "ref.h"

/* An empty span of REF_SPAN bytes, header zeroed but for map_bytes and
 * flags; NULL (errno ENOMEM) when the page limit or the OS refuses. */
REF_INTERNAL struct ref_span *ref_page_span(void);
/* Back to the pool, the region, or the OS. */
REF_INTERNAL void ref_page_span_release(struct ref_span *s);

/* A large span whose block (at s->offset) holds size bytes aligned to
 * align; linked on scope's list when scope is not NULL.  REF_SPAN_FRESH in
 * flags when the block reads as zero. */
REF_INTERNAL struct ref_span *ref_page_large(size_t size, size_t align, struct ref_heap *scope);
/* Frees a large block; true when stack (the freeing thread's heaps) does
 * not hold the heap that allocated it: a remote free. */
REF_INTERNAL bool ref_page_large_free(struct ref_span *s, const struct ref_heap *stack);
/* checkpoint_restore: release every live large span of h. */
REF_INTERNAL void ref_page_large_release_all(struct ref_heap *h);
/* thread_detach: h's large blocks stay valid but belong to no heap. */
REF_INTERNAL void ref_page_large_disown(struct ref_heap *h);
REF_INTERNAL size_t ref_page_large_count(struct ref_heap *h);

/* Metadata (a heap): bytes after a registered header; zeroed. */
REF_INTERNAL void *ref_page_meta(size_t bytes, struct ref_span **hdr);

/* configure: 0 when the hooks can be applied on this host, else -errno. */
REF_INTERNAL int ref_page_hooks_probe(bool hugepages, int node);

/* Resident bytes of every mapping, by mincore(2). */
REF_INTERNAL uint64_t ref_page_resident(void);
/* Unmap everything; the backend is empty afterwards. */
REF_INTERNAL void ref_page_fini(void);

#endif /* REF_PAGE_H */
