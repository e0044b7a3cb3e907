/*
 * report.h — what every report shares: the context block of report.json
 * and the atomic writing of report files.
 */
#ifndef AB_REPORT_H
#define AB_REPORT_H

#include "proc.h"

struct cJSON;

/* The header of allocator-diagnostics-report.tsv, which run and stress
 * both write. */
extern const char ab_diagnostics_tsv_header[];

/* The context block every report.json carries: allocbench, the host, the
 * counter backend (and its version, or NULL) and, when subjects is not
 * NULL, the allocators. */
struct cJSON *ab_report_context_json(const struct ab_host *h, const char *started_utc,
                                     const char *counter, const char *counter_version,
                                     const struct ab_subject *subjects, size_t nsubjects);
/* Write text (consumed: freed here; NULL means out of memory) to dir/name
 * atomically; on failure fills err. */
int ab_report_write_text(const char *dir, const char *name, char *text, char *err,
                         size_t errlen);

#endif
