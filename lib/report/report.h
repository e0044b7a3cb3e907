/*
 * report.h — the report formats and what they share: the format contract
 * and its registry (format-list.h, generated from lib/report/meson.build),
 * the report set that puts one document's files in place whole or not at
 * all, the writers every format uses, and the context block of report.json.
 *
 * Every report file and every --format output is rendered from the report
 * document alone: the cJSON tree report.json holds, built by an engine
 * (ab_run_doc, ab_stress_doc, ab_fp_doc, ab_trace_doc), its top-level
 * "command" saying whose it is.  Never from an engine's structs, so that a
 * document read back, or several joined, renders the same files again.
 */
#ifndef AB_REPORT_H
#define AB_REPORT_H

#include "proc.h"
#include "shard.h"

struct cJSON;
struct ab_report_set;

/* ------------------------------------------------------------ the formats */

/*
 * A format is a file lib/report/format-<name>.c that includes report.h
 * alone and ends in `const struct ab_format ab_format_<name>`; one line in
 * lib/report/meson.build adds it.  It dispatches on the document's
 * "command" inside its own file; a command it does not know gets no file
 * from it.  Formats only format: they never measure or read the machine.
 */
struct ab_format {
    const char *name;
    const char *summary;
    bool choosable;                  /* may be named by --format */
    bool for_people;                 /* print is a table for people, not a document
                                        a program reads: a command may add a line */
    /* The commands whose documents print renders, NULL-terminated; NULL:
     * any document. */
    const char *const *commands;
    /* Every file files() may write, NULL-terminated (a report set refuses
     * any other; a folder holding only such files is a report folder). */
    const char *const *writes;
    /* Add this document's files to set; NULL: the format writes no file.
     * 0, or a negative errno with one line in err. */
    int (*files)(const struct cJSON *doc, struct ab_report_set *set, char *err, size_t errlen);
    /* What --format NAME prints: malloc'd text ending in a newline, NULL
     * when out of memory or when it cannot print this document; NULL: the
     * format prints nothing. */
    char *(*print)(const struct cJSON *doc);
};

/* lib/report/report.c: the registry, in the list's order. */
const struct ab_format *const *ab_formats(size_t *count);
const struct ab_format *ab_format_find(const char *name);
/* Whether --format may name f for command's documents: choosable, with a
 * print that renders them. */
bool ab_format_prints(const struct ab_format *f, const char *command);
/* Whether some format writes a file of this name. */
bool ab_report_file_known(const char *name);

/* The compare document ("command": "compare") as the console's table
 * (console-compare.c) and as Markdown for a pull request
 * (markdown-compare.c): malloc'd text, NULL when out of memory. */
char *ab_console_compare(const struct cJSON *doc);
char *ab_markdown_compare(const struct cJSON *doc);

/* report.html of doc (html.c): one self-contained page, malloc'd; NULL
 * when out of memory or when no page draws doc's command (see
 * ab_report_html_knows). */
char *ab_report_html(const struct cJSON *doc);
bool ab_report_html_knows(const char *command);

/* ------------------------------------------------------------ report sets */

/*
 * Write the files of every registered format for doc into out_dir, as one
 * set.  They are written (each fsync'd) into a staging folder beside
 * out_dir, .<name>.staging.<pid>.<random>, that then takes out_dir's place:
 * an older report set there is moved aside and removed, so the folder holds
 * this document's files whole, or is left as it was; never a mix of two
 * runs.  A folder that is not a report folder (it holds other files, is a
 * symbolic link or the working directory) is written in place instead:
 * every file under a temporary name first, then each renamed over its
 * name, the older report files of other names removed.  0, or a negative
 * errno with one line in err.
 */
int ab_report_write(const struct cJSON *doc, const char *out_dir, char *err, size_t errlen);

/* The files of format f alone for doc, written into the folder out_dir
 * that holds them (`allocbench report DIR`): each under a temporary name,
 * then renamed over its name; the folder's other files stay.  0, or a
 * negative errno with one line in err. */
int ab_report_write_format(const struct cJSON *doc, const struct ab_format *f,
                           const char *out_dir, char *err, size_t errlen);

/* For a format's files(): add the file name holding text (consumed; NULL
 * means out of memory).  0, or a negative errno with one line in err. */
int ab_report_set_add(struct ab_report_set *set, const char *name, char *text, char *err,
                      size_t errlen);

/* ----------------------------------------------------------------- writers */

/* A growing text.  An append that finds no room marks it failed, and
 * ab_text_finish then gives NULL: one check at the end. */
struct ab_text {
    char *p;
    size_t len, cap;
    bool oom;
};
void ab_text_printf(struct ab_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A TSV field: \t \n \r and \\ escaped with a backslash (the README's
 * "TSV files"); truncated to fit len. */
size_t ab_tsv_escape(char *buf, size_t len, const char *s);
void ab_text_field(struct ab_text *t, const char *s);
/* v in fmt (one double conversion), or none where v is not finite (a
 * figure not measured: null in the document). */
void ab_text_num(struct ab_text *t, const char *fmt, double v, const char *none);
/* The text (malloc'd; "" when nothing was appended), or NULL after a
 * failed append. */
char *ab_text_finish(struct ab_text *t);
/* (format-console.c) s onto t broken at blanks so that no line passes 100
 * columns, the lines after the first indented by six; a \x1f in s is a
 * blank that does not break.  ab_text_wrapf: the same of a printf line
 * (its leading newlines kept). */
void ab_text_wrap(struct ab_text *t, const char *s);
void ab_text_wrapf(struct ab_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ab_text_num into buf: v in fmt, or none; returns buf. */
const char *ab_report_num(char *buf, size_t len, const char *fmt, double v, const char *none);
/* A count (ab_json_int of a member: -1 for null) as an integer, or none;
 * returns buf. */
const char *ab_report_count(char *buf, size_t len, int64_t v, const char *none);
/* The number of member k of o as an unsigned integer (exact up to 2^64 -
 * 1 for an integer literal; a number past 2^53 as close as a double
 * holds); false when it is null, absent or negative. */
bool ab_report_u64(const struct cJSON *o, const char *k, uint64_t *v);
/* The bounds of one bin of a log2 histogram in a report ({"bin", "low",
 * "high", "count"}: bin 0 holds 0, bin k holds [2^(k-1), 2^k - 1]), exact:
 * "high" past 2^53 is not, as a JSON number. */
void ab_report_log2_bounds(const struct cJSON *bin, uint64_t *low, uint64_t *high);

/* ------------------------------------------------------ the context block */

/* The context block every report.json carries: allocbench, the host, the
 * counter backend (and its version, or NULL) and, when subjects is not
 * NULL, the allocators.  Built by the engines' document builders. */
/* The command line this process was started with (argv, each word quoted
 * for a POSIX shell where it needs it), recorded in every context block. */
void ab_report_set_command_line(int argc, char **argv);
const char *ab_report_command_line(void);
struct cJSON *ab_report_context_json(const struct ab_host *h, const char *started_utc,
                                     const char *counter, const char *counter_version,
                                     const struct ab_subject *subjects, size_t nsubjects);

/* -------------------------------------------------------------- the matrix */

/*
 * What a report's configurations come from, added to doc after the
 * engine's own blocks: "matrix_digest" ("sha256:" and the SHA-256 of
 * matrix printed unformatted: the engine's object of everything that
 * defines the configurations and their measurement, never --out, --format,
 * --shard or anything of the machine), and "shard": null for a whole run,
 * else {index, count, cost, matrix_cost, configurations} (the slice's
 * configurations, in the order they ran, and the expected costs the slices
 * were balanced by).  Consumes matrix and configurations (NULL: no shard).
 */
/* The matrix object of a command: {"command", block_name: block (consumed),
 * "allocators": the subjects' names, "counter" unless NULL}, in that order
 * (the digest is of its text). */
struct cJSON *ab_report_matrix(const char *command, const char *block_name, struct cJSON *block,
                               const struct ab_subject *subjects, size_t nsubjects,
                               const char *counter);
void ab_report_add_matrix(struct cJSON *doc, struct cJSON *matrix, const struct ab_shard *shard,
                          double cost, double matrix_cost, struct cJSON *configurations);

#endif
