/*
 * merge-context.h — inside lib/merge: the context of a merged report
 * (merge-context.c), for the join (merge.c).
 */
#ifndef AB_MERGE_CONTEXT_H
#define AB_MERGE_CONTEXT_H

#include <stddef.h>

struct cJSON;
struct ab_observer;

/* The context of n shard reports given in shard order (shard[i] is the
 * index of docs[i]): each key the shards agree on with its value, objects
 * member by member and the subjects allocator by allocator, null where
 * they differ; started_utc the earliest, command_line this process's; and
 * machines[], every shard's own context with its index.  One warning
 * through obs (NULL: none) per machine figure that differs (CPU model,
 * kernel, C library, THP, topology, counter version; an allocator's
 * version, path or malloc_from).  NULL when out of memory. */
struct cJSON *ab_merge_context(const struct cJSON *const *docs, const unsigned *shard, size_t n,
                               const struct ab_observer *obs);

/* o[k] = v, replacing what o held under k (consumes v). */
void ab_merge_put(struct cJSON *o, const char *k, struct cJSON *v);

#endif
