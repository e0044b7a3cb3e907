/*
 * html.h — report.html (format-html.c) inside lib/report: the page every
 * command's document becomes (html.c: the head, style sheet, sections,
 * figures, tables, the context block and diagnostics) and the pages of
 * each command (html-run.c, html-fastpath.c, html-stress.c,
 * html-compare.c, html-trace.c).  Charts are drawn with svg.h.
 *
 * A figure is <figure class="chart" data-chart="KIND"> holding one chart
 * and, under it, the table of its figures (<table class="data">, a row
 * <tr data-row="i"> per mark's data-row).  Everything comes from the
 * document: a page reads no file and no clock, so the same document
 * always gives the same bytes.
 */
#ifndef AB_HTML_H
#define AB_HTML_H

#include "svg.h"

#include <cJSON.h>

#define AB_HTML_SECTIONS 48

/* A page being written. */
struct ab_html {
    struct ab_text t;  /* the body */
    char title[256];   /* <title> and the heading */
    char summary[512]; /* one line under the heading */
    /* Allocator names in the order met: the series index is a name's
     * colour on every chart of the page. */
    const char *series[64];
    size_t nseries;
    size_t nsections;
    char section_id[AB_HTML_SECTIONS][40];
    char section_name[AB_HTML_SECTIONS][120];
    bool in_section;
};

/* The series of an allocator name (added when new; past 64, the last). */
int ab_html_series(struct ab_html *h, const char *name);

/* A section, listed in the page's contents: <section id><h2>name; the
 * next one (or the end of the page) closes it. */
void ab_html_section(struct ab_html *h, const char *id, const char *name);
/* A heading inside a section. */
void ab_html_h3(struct ab_html *h, const char *text);
/* A paragraph of text (escaped); cls a class or NULL. */
void ab_html_p(struct ab_html *h, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void ab_html_figure(struct ab_html *h, const char *kind);
void ab_html_figure_end(struct ab_html *h);

/* A table with its header row; then rows of cells; n headers. */
void ab_html_table(struct ab_html *h, const char *cls, const char *const *heads, size_t n);
void ab_html_table_end(struct ab_html *h);
void ab_html_tr(struct ab_html *h, int row);
void ab_html_tr_end(struct ab_html *h);
/* A text cell ("-" when empty or NULL), a figure by fmt ("-" when not
 * finite: not measured), a figure by an svg.h format. */
void ab_html_td(struct ab_html *h, const char *s);
void ab_html_td_num(struct ab_html *h, const char *fmt, double v);
void ab_html_td_fmt(struct ab_html *h, ab_svg_fmt fmt, double v);
/* A verdict's class, coloured by the style sheet: v-faster, v-slower,
 * v-same (ratios), v-pass, v-fail, v-incomplete, v-na (stress cases), and
 * v-none for no verdict. */
const char *ab_html_verdict_class(const char *verdict);
/* A cell of text (escaped) in a class of its own (a verdict's). */
void ab_html_td_class(struct ab_html *h, const char *cls, const char *s);

/* A start time of the context (20261203T111523Z) for people:
 * 2026-12-03 11:15:23 UTC; anything else as it is.  Returns buf. */
const char *ab_html_when(char *buf, size_t len, const char *stamp);

/* Member k of o (NULL when absent); a figure of o, NAN when null or
 * absent; one or many by n. */
static inline const cJSON *ab_html_get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}
double ab_html_num(const cJSON *o, const char *k);
/* An unsigned integer member exactly (a seed: an exact literal in the
 * document built, a number in one read back), or "-"; returns buf. */
const char *ab_html_u64(char *buf, size_t len, const cJSON *o, const char *k);
static inline const char *ab_html_plural(double n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* One row of a chart of rows (ab_html_hchart): a bar, or a point, with
 * its interval. */
struct ab_html_row {
    char name[160];  /* the category, left of the plot area */
    char group[160]; /* a heading above the rows where it changes; "": none */
    int series;
    double v, lo, hi; /* the figure and its interval; NAN: none */
    const char *none; /* what stands where there is no figure */
    const char *cls;  /* a class of the mark (a verdict), or NULL */
    char right[48];   /* text right of the plot area (a verdict), or "" */
    char title[400], ci_title[400];
};

enum ab_html_style { AB_HTML_BARS, AB_HTML_POINTS };

/* A chart of rows, row i the mark of data-row i: bars from 0 on a linear
 * scale (of bytes when fmt is ab_svg_fmt_bytes), or points on a log scale
 * (a forest plot of ratios) with a rule at rule and another at gate (NAN:
 * none); intervals as whiskers. */
void ab_html_hchart(struct ab_html *h, const char *title, const char *axis, ab_svg_fmt fmt,
                    enum ab_html_style style, const struct ab_html_row *rows, size_t n, double rule,
                    double gate);

/* The document's diagnostics: a table of the members keys of each object
 * in list (heads their headers), or the line none when there is none. */
void ab_html_diagnostics(struct ab_html *h, const cJSON *list, const char *const *keys,
                         const char *const *heads, size_t n, const char *none);

/* The whole page: head, style, heading, contents, body, the context block
 * of doc, script.  Frees what h holds; the text (malloc'd) or NULL when
 * out of memory. */
char *ab_html_finish(struct ab_html *h, const cJSON *doc);

/* The pages of each command: the sections of doc's page (h->title and
 * h->summary set, sections written). */
void ab_html_run(struct ab_html *h, const cJSON *doc);
void ab_html_fastpath(struct ab_html *h, const cJSON *doc);
void ab_html_stress(struct ab_html *h, const cJSON *doc);
void ab_html_compare(struct ab_html *h, const cJSON *doc);
void ab_html_trace(struct ab_html *h, const cJSON *doc);

#endif
