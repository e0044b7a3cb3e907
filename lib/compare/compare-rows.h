/*
 * compare-rows.h — inside lib/compare: what the document builder
 * (compare-doc.c) hands the row builders of each kind of report
 * (compare-run.c, compare-fastpath.c), and what both call (compare-job.c).
 */
#ifndef AB_COMPARE_ROWS_H
#define AB_COMPARE_ROWS_H

#include "compare.h"

#include <stdbool.h>

/* One comparison under way: the two reports, and the arrays of the
 * document the row builders fill. */
struct ab_compare_job {
    const struct cJSON *base, *head;
    double pct;                    /* --threshold, percent */
    /* One allocator on each side: rows match whatever their names. */
    bool by_position;
    struct cJSON *about;           /* the document's "compare": what was compared */
    struct cJSON *rows, *only_base, *only_head, *notes, *diagnostics;
    unsigned failures;             /* rows that fail the gate */
    enum ab_code *code;
    char *err;
    size_t errlen;
};

/* Refuse the comparison: *code and one line in err; returns -EPROTO. */
int ab_compare_refuse(struct ab_compare_job *j, enum ab_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A note for the reader (a difference that does not stop the comparison). */
void ab_compare_note(struct ab_compare_job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* What fails the gate: a diagnostic {code, detail} (a row may give more
 * than one; the builder counts the row in failures). */
void ab_compare_failed(struct ab_compare_job *j, enum ab_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The object of items (an array) whose members named by keys equal item's,
 * "allocator" skipped under by_position; NULL when none.  A second one is
 * a report holding one row twice: *twice is set. */
const struct cJSON *ab_compare_match(const struct cJSON *items, const struct cJSON *item,
                                     const char *const *keys, bool by_position, bool *twice);

/* The rows of two run reports (refusing other workloads, parameters,
 * rounds, warm-up or counters), and of two fast-path reports (refusing
 * other counters or counting settings).  0 or a negative errno with the
 * job's err and code set. */
int ab_compare_runs(struct ab_compare_job *j);
int ab_compare_fastpaths(struct ab_compare_job *j);

#endif
