/*
 * svg.h — charts as inline SVG, drawn from figures: escaping for HTML and
 * SVG text, scales, the chart frame with its title and axes, and the
 * marks (bars, whiskers, points, lines, bands, cells), each with a <title>
 * that says what it shows.  report.html is its one user (format-html.c and
 * html-*.c); nothing here reads a report document.
 *
 * Every mark is an element of class "mark" carrying data-v (its figure,
 * %.6g) and data-row (the row of the table under the chart that holds
 * it), so that a reader, or a test, can tie each mark to its number.
 * Colours come from the page's style sheet by class: series k is "s<k>"
 * (k modulo AB_SVG_PALETTE; from the ninth on, lines are dashed as well),
 * so that the light and dark themes and print need no other SVG.
 */
#ifndef AB_SVG_H
#define AB_SVG_H

#include "report.h"

#include <stdbool.h>
#include <stddef.h>

/* Colours of the series palette (Okabe and Ito's, colour-blind safe). */
#define AB_SVG_PALETTE 8

/* ------------------------------------------------------------- escaping */

/* s as HTML text or an attribute value: & < > " ' as references; bytes
 * that are not valid UTF-8 and control characters other than tab and
 * newline as U+FFFD (paths are bytes; the page is UTF-8). */
void ab_html_text(struct ab_text *t, const char *s);
/* printf, then escaped as ab_html_text. */
void ab_html_printf(struct ab_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --------------------------------------------------------------- scales */

/* A figure's place in pixels: the domain lo..hi onto the range a..b,
 * linear or logarithmic (base 10; the domain then above 0). */
struct ab_scale {
    bool log;
    double lo, hi;
    double a, b;
    double unit; /* ticks are round in this unit (1, or a power of 1024) */
};

/* Set s up for the figures lo..hi (finite; NAN where none: a default
 * domain).  Linear with nice: widened to round ticks; log: widened by a
 * tenth of a decade each way (nice: to whole decades). */
void ab_scale_set(struct ab_scale *s, bool log, double lo, double hi, double a, double b,
                  bool nice);
/* A linear scale of bytes from 0 to hi onto a..b, whose ticks are round
 * in KiB, MiB or GiB. */
void ab_scale_set_bytes(struct ab_scale *s, double hi, double a, double b);
/* v in pixels, clamped to the range (a log scale puts v <= 0 at a). */
double ab_scale_px(const struct ab_scale *s, double v);
/* Round figures inside the domain for ticks (1, 2, 5 times a power of
 * ten; more on a log scale of less than a decade): how many, at most max. */
size_t ab_scale_ticks(const struct ab_scale *s, double *ticks, size_t max);

/* Tick labels: a figure written into buf (len bytes); returns buf. */
typedef const char *(*ab_svg_fmt)(char *buf, size_t len, double v);
const char *ab_svg_fmt_num(char *buf, size_t len, double v);   /* 1.5k, 2.4M, 0.25 */
const char *ab_svg_fmt_bytes(char *buf, size_t len, double v); /* 512 B, 1.5 KiB, 2 MiB */
const char *ab_svg_fmt_pct(char *buf, size_t len, double v);   /* a share: 0.25 as 25% */
const char *ab_svg_fmt_ratio(char *buf, size_t len, double v); /* 0.5x, 1x, 1.25x */

/* ---------------------------------------------------------------- charts */

/* One <svg>: the viewBox w x h, the plot area inside margins (top,
 * right, bottom, left), a visible title above the plot area that is also
 * the <title> of the whole, and the scales x and y onto the plot area
 * (set them with ab_scale_set after ab_svg_begin; ranges c->left..right
 * and c->bottom..top). */
struct ab_chart {
    struct ab_text *t;
    double w, h;
    double left, right, top, bottom; /* the plot area's edges, px */
    struct ab_scale x, y;
};

void ab_svg_begin(struct ab_chart *c, struct ab_text *t, double w, double h, double mtop,
                  double mright, double mbottom, double mleft, const char *title);
/* A small chart inside a table cell: the plot area is the whole w x h,
 * the title only its <title>. */
void ab_svg_begin_small(struct ab_chart *c, struct ab_text *t, double w, double h,
                        const char *title);
void ab_svg_end(struct ab_chart *c);

/* A value axis: 'x' along the bottom or 'y' along the left, ticks from
 * its scale with grid lines, tick labels by fmt, and label (the figure
 * and its unit) along it. */
void ab_svg_axis(struct ab_chart *c, char axis, const char *label, ab_svg_fmt fmt);
/* An axis with ticks at the n values given (sizes, thread counts), each
 * labelled by labels[i] (NULL: by fmt). */
void ab_svg_axis_at(struct ab_chart *c, char axis, const char *label, const double *v,
                    const char *const *labels, size_t n, ab_svg_fmt fmt);
/* A category's name at the left of the plot area, centred on py, cut with
 * an ellipsis to maxw px (the whole name in its <title>). */
void ab_svg_category(struct ab_chart *c, double py, double maxw, const char *name);
/* Text at px, py: anchor "start", "middle" or "end"; cls a class or NULL. */
void ab_svg_text(struct ab_chart *c, double px, double py, const char *anchor, const char *cls,
                 const char *s);
/* Text starting at px, py, turned by deg degrees (negative: up). */
void ab_svg_text_turned(struct ab_chart *c, double px, double py, double deg, const char *cls,
                        const char *s);
/* A reference line across the plot area at v of axis ('x' or 'y'),
 * labelled at its end (1.0 of a ratio, a threshold): on an x rule the label
 * ends at the line (anchor "end") or starts there ("start"), so that two
 * rules side by side keep their labels apart. */
void ab_svg_rule(struct ab_chart *c, char axis, double v, const char *label, const char *anchor);

/* What a mark carries: its series (its colour; -1: the foreground), the
 * row of the table under the chart that holds its figure (-1: none), the
 * figure itself (data-v; NAN: none), a class of its own (a verdict;
 * NULL: none) and its <title>. */
struct ab_mark {
    int series;
    int row;
    double v;
    const char *cls;
    const char *title;
};

/* A bar along x from the x scale's low end to v, py..py+thick down; or
 * along y, px..px+thick across.  Nothing where v is not finite. */
void ab_svg_hbar(struct ab_chart *c, double py, double thick, double v, const struct ab_mark *m);
void ab_svg_vbar(struct ab_chart *c, double px, double thick, double v, const struct ab_mark *m);
/* An interval lo..hi with end caps: along x at pixel row at (horizontal),
 * or along y at pixel column at. */
void ab_svg_whisker(struct ab_chart *c, bool horizontal, double at, double lo, double hi,
                    const struct ab_mark *m);
/* A point at the figures x, y (pixels from the scales). */
void ab_svg_point(struct ab_chart *c, double x, double y, const struct ab_mark *m);
/* A point at pixel px, py (a figure on one axis, a category on the other). */
void ab_svg_dot(struct ab_chart *c, double px, double py, const struct ab_mark *m);
/* A polyline through the n points (xs[i], ys[i]), broken where a figure
 * is not finite; dashed on request or from the ninth series on. */
void ab_svg_line(struct ab_chart *c, const double *xs, const double *ys, size_t n, bool dashed,
                 const struct ab_mark *m);
/* The area between lo[i] and hi[i] over xs[i] (points where either is
 * not finite are left out). */
void ab_svg_band(struct ab_chart *c, const double *xs, const double *lo, const double *hi, size_t n,
                 const struct ab_mark *m);
/* A cell of a matrix in pixels, with its text centred in it. */
void ab_svg_cell(struct ab_chart *c, double px, double py, double w, double h, const char *text,
                 const struct ab_mark *m);

/* A legend in HTML, after the chart: a swatch (line, or dashed) and a name
 * per series. */
void ab_svg_legend(struct ab_text *t, const char *const *names, const int *series,
                   const bool *dashed, size_t n);

#endif
