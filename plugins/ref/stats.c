/*
 * stats.c — what stats() reports, and how each figure is obtained.  Every
 * figure is read without stopping other threads: while they allocate, the
 * figures are each consistent in themselves but not with one another (live
 * bytes may lag by a few batches); with the heap quiet they are exact.
 *
 *   mapped        bytes the page backend holds mapped: spans in use, the
 *                 pool, cached large spans, heap metadata, the fixture's
 *                 region; the figure the page limit is held to
 *   resident      of those, pages resident, by mincore(2) over every
 *                 mapping (exact, not a /proc/self/statm estimate)
 *   live          bytes in blocks handed out and not freed, at block size
 *                 (a 100-byte request holds a 112-byte block): bytes out of
 *                 small spans, less thread caches, less frees still queued
 *                 to their owners, plus large blocks
 *   remote depth  blocks in all lock-free remote-free queues together
 *   remote bound  the bound that count is held to (the profile's)
 *   transfer      blocks available in the spans of the transfer caches
 *   remote frees  frees of a block another heap owned, accepted so far
 *                 (queued, overflowed to the locked path, or central)
 *
 * With configure's option xstats=1, reserved[0] carries the number of
 * remote frees that overflowed the bound to the locked path (ABI v1 has no
 * field for it; off by default so that reserved stays zero).
 */
#include "alloc.h"

#include "central.h"
#include "heap.h"
#include "page.h"

#include <errno.h>

int ref_stats(struct allocbench_plugin_stats *out)
{
    if (!out || out->struct_size < sizeof *out)
        return -EINVAL;
    struct ref_heap_sums sums;
    ref_heap_sums(&sums);
    uint64_t out_bytes = atomic_load_explicit(&ref_g.span_out_bytes, memory_order_relaxed);
    uint64_t large = atomic_load_explicit(&ref_g.large_live, memory_order_relaxed);
    uint64_t gone = sums.cached_bytes + sums.queued_bytes;
    out->valid = ALLOCBENCH_STAT_MAPPED | ALLOCBENCH_STAT_RESIDENT | ALLOCBENCH_STAT_LIVE |
                 ALLOCBENCH_STAT_REMOTE_DEPTH | ALLOCBENCH_STAT_REMOTE_BOUND |
                 ALLOCBENCH_STAT_TRANSFER_CACHE | ALLOCBENCH_STAT_REMOTE_FREES;
    out->mapped_bytes = atomic_load_explicit(&ref_g.mapped, memory_order_relaxed);
    out->resident_bytes = ref_page_resident();
    out->live_bytes = (out_bytes > gone ? out_bytes - gone : 0) + large;
    out->remote_free_depth = atomic_load_explicit(&ref_g.rdepth, memory_order_relaxed);
    out->remote_free_bound = atomic_load_explicit(&ref_g.remote_bound, memory_order_relaxed);
    out->transfer_cache_blocks = ref_central_transfer_blocks();
    out->remote_frees = sums.remote_frees;
    if (ref_g.xstats)
        out->reserved[0] = atomic_load_explicit(&ref_g.overflows, memory_order_relaxed);
    return 0;
}
