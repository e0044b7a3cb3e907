/*
 * compare.h — `allocbench compare BASE HEAD`: two reports of `allocbench
 * run`, or two of `allocbench fastpath`, read back strictly, their rows
 * matched, and the comparison's report document ("command": "compare"),
 * which the formats render.
 *
 * Included as "compare/compare.h": "compare.h" alone names the statistics
 * of lib/core (ab_cmp_*), which this module uses.
 *
 * Run reports are two independent samples per row: the trials' ns_per_op
 * of each side, compared with ab_cmp_unpaired (HEAD over BASE: a ratio
 * above 1 means HEAD takes longer).  Fast-path reports hold exact counts:
 * a row's figures are compared as numbers, and any change is real.
 */
#ifndef AB_COMPARE_COMPARE_H
#define AB_COMPARE_COMPARE_H

#include "core.h"

#define AB_COMPARE_SCHEMA_VERSION 1
/* --threshold: how far past 1 a slowdown's whole interval, or past the
 * base a count, must go to fail; percent. */
#define AB_COMPARE_THRESHOLD_PCT 5.0
#define AB_COMPARE_THRESHOLD_MAX_PCT 1000.0
/* A side whose trials vary more than this (coefficient of variation) is
 * flagged noisy; the flag changes no verdict. */
#define AB_COMPARE_NOISY_CV 0.05

struct cJSON;

/*
 * A report for compare, read whole and checked before anything is
 * compared: path is report.json or the folder holding one.  A run report
 * (schema_version 1: the members compare reads, of the types and ranges
 * run writes, each configuration once, every trial in one) or a fast-path
 * report (ab_fp_report_read's rules).  Trailing data and a member held
 * twice are refused.  0, or -EPROTO / -errno with one line in err naming
 * the file and what is wrong.
 */
int ab_compare_read(const char *path, struct cJSON **doc, char *err, size_t errlen);
/* The same over len bytes of text (label names it in err). */
int ab_compare_parse(const char *label, const char *text, size_t len, struct cJSON **doc,
                     char *err, size_t errlen);

struct ab_compare_opts {
    double threshold_pct;          /* [0, AB_COMPARE_THRESHOLD_MAX_PCT] */
    const char *base_path, *head_path; /* as the user named them */
};

/*
 * The comparison document of two reports read by ab_compare_read.  0 with
 * *out set (the caller deletes it; its "failures" counts the rows that
 * fail the gate, exit 1); or a negative errno, *out NULL, one line in err
 * and *code: AB_ALLOCBENCH_COMPARE_MISMATCH for reports that cannot be
 * compared (other commands, workloads, parameters, counters),
 * AB_ALLOCBENCH_BAD_INPUT for a report holding one row twice,
 * AB_ALLOCBENCH_INTERNAL when out of memory.
 */
int ab_compare_doc(const struct cJSON *base, const struct cJSON *head,
                   const struct ab_compare_opts *opts, struct cJSON **out, enum ab_code *code,
                   char *err, size_t errlen);

#endif
