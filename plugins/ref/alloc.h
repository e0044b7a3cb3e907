/*
 * alloc.h — the allocation entry points (alloc.c) and the rest of the
 * descriptor's members (stats.c, ref.c), as ref.c's descriptor names them.
 */
#ifndef REF_ALLOC_H
#define REF_ALLOC_H

#include "ref.h"

REF_INTERNAL void *ref_malloc(size_t size);
REF_INTERNAL void ref_free(void *p);
REF_INTERNAL void *ref_realloc(void *p, size_t size);
REF_INTERNAL void *ref_aligned_alloc(size_t align, size_t size);
REF_INTERNAL size_t ref_usable_size(const void *p);
REF_INTERNAL void *ref_calloc(size_t n, size_t size);
REF_INTERNAL size_t ref_alloc_bulk(size_t size, size_t n, void **out);

REF_INTERNAL int ref_stats(struct allocbench_plugin_stats *out);

#endif /* REF_ALLOC_H */
