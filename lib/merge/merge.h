/*
 * merge.h — `allocbench merge`: the reports of the shards of one matrix
 * (`run`, `fastpath` or `stress` with --shard K/N) joined into the report
 * the whole matrix in one process would have written.
 *
 * A shard is cut by configuration, never across the allocators of one, so
 * its aggregates and comparisons are complete for the configurations it
 * holds: the merge only orders records.  Trials, aggregates, comparisons,
 * rows, cases and diagnostics are concatenated and put in the order of the
 * unsharded run (from the matrix's own lists: variants, thread counts,
 * allocators, sizes, ops, patterns, cases), and the context is one for all
 * machines: each key the shards agree on, null where they differ, and
 * `machines[]`, every shard's own context.  Nothing is recomputed, so no
 * figure of one machine is ever set against one of another.
 */
#ifndef AB_MERGE_H
#define AB_MERGE_H

#include "core.h"

struct cJSON;
struct ab_observer;

/* A shard's report from its text (label names it in messages), whole and
 * strictly: a run or fast-path report as compare reads it, a stress report
 * with its cases and diagnostics; each with its context and subjects,
 * matrix_digest and shard; integers past 2^53 kept exact.  0, or -EPROTO
 * with one line in err. */
int ab_merge_parse(const char *label, const char *text, size_t len, struct cJSON **doc,
                   char *err, size_t errlen);
/* The same from report.json, or the folder holding one; -errno when it
 * cannot be read. */
int ab_merge_read(const char *path, struct cJSON **doc, char *err, size_t errlen);

/*
 * The merged document of n shard reports read by ab_merge_read (paths[i]
 * names docs[i] in messages).  0 with *out set (the caller deletes it) and
 * *failures: the trials, rows or cases that failed, for which the command
 * unsharded exits 1.  Else a negative errno, *out NULL, one line in err and
 * *code: AB_ALLOCBENCH_MERGE_MISMATCH when the reports are not the shards
 * of one matrix (another command, build, matrix digest or shard count; a
 * configuration in two of them; a shard missing), AB_ALLOCBENCH_BAD_INPUT
 * for a report that is no shard or holds a record outside its matrix,
 * AB_ALLOCBENCH_INTERNAL when out of memory.  Shards whose machines differ
 * (CPU model, kernel, C library, allocator versions and paths) are merged,
 * with one warning per difference through obs (NULL: none).
 */
int ab_merge_doc(struct cJSON *const *docs, const char *const *paths, size_t n,
                 const struct ab_observer *obs, struct cJSON **out, unsigned *failures,
                 enum ab_code *code, char *err, size_t errlen);

#endif
