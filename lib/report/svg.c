/*
 * svg.c — charts as inline SVG (see svg.h): escaping, scales, the chart
 * frame, axes and marks.  Coordinates are written with one decimal, grid
 * lines of an axis as one path: a chart of a hundred marks stays a few
 * kilobytes.
 */
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- escaping */

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

void ab_html_text(struct ab_text *t, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;
    while (*p) {
        const char *ref = NULL;
        size_t n = 1;
        switch (*p) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        case '\t':
        case '\n': break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                ref = replacement;
            else if (*p >= 0x80 && !(n = ab_utf8_seq(p)))
                ref = replacement, n = 1;
        }
        if (ref) {
            ab_text_printf(t, "%.*s%s", (int)(p - run), (const char *)run, ref);
            p += n;
            run = p;
        } else {
            p += n;
        }
    }
    ab_text_printf(t, "%.*s", (int)(p - run), (const char *)run);
}

void ab_html_printf(struct ab_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[512], *buf = small;
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(small, sizeof small, fmt, aq);
    va_end(aq);
    if (n >= (int)sizeof small && (buf = malloc((size_t)n + 1)))
        vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf) {
        t->oom = true;
        return;
    }
    ab_html_text(t, buf);
    if (buf != small)
        free(buf);
}

/* --------------------------------------------------------------- scales */

/* A round step (1, 2 or 5 times a power of ten) near span / parts. */
static double nice_step(double span, double parts)
{
    double raw = span / parts;
    if (!(raw > 0) || !isfinite(raw))
        return 1;
    double p = pow(10, floor(log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

void ab_scale_set(struct ab_scale *s, bool log, double lo, double hi, double a, double b, bool nice)
{
    s->log = log;
    s->unit = 1;
    s->a = a;
    s->b = b;
    if (!isfinite(lo) && !isfinite(hi))
        lo = log ? 1 : 0, hi = log ? 10 : 1;
    else if (!isfinite(lo))
        lo = hi;
    else if (!isfinite(hi))
        hi = lo;
    if (lo > hi) {
        double x = lo;
        lo = hi;
        hi = x;
    }
    if (log) {
        if (!(hi > 0))
            hi = 10;
        if (!(lo > 0))
            lo = hi / 10;
        if (nice) {
            lo = pow(10, floor(log10(lo)));
            hi = pow(10, ceil(log10(hi)));
        } else {
            lo /= pow(10, 0.1);
            hi *= pow(10, 0.1);
        }
        if (!(hi > lo))
            hi = lo * 10;
    } else {
        if (hi == lo) {
            if (lo == 0)
                hi = 1;
            else if (lo > 0)
                lo = 0;
            else
                hi = 0;
        }
        if (nice) {
            double step = nice_step(hi - lo, 5);
            lo = floor(lo / step + 1e-9) * step;
            hi = ceil(hi / step - 1e-9) * step;
        }
    }
    s->lo = lo;
    s->hi = hi;
}

void ab_scale_set_bytes(struct ab_scale *s, double hi, double a, double b)
{
    ab_scale_set(s, false, 0, hi, a, b, false);
    s->unit = 1;
    while (s->unit < 1024.0 * 1024 * 1024 * 1024 && s->hi >= 1024 * s->unit)
        s->unit *= 1024;
    double step = nice_step(s->hi / s->unit, 5) * s->unit;
    s->hi = ceil(s->hi / step - 1e-9) * step;
}

double ab_scale_px(const struct ab_scale *s, double v)
{
    double f;
    if (s->log)
        f = v > 0 ? (log10(v) - log10(s->lo)) / (log10(s->hi) - log10(s->lo)) : 0;
    else
        f = (v - s->lo) / (s->hi - s->lo);
    if (!isfinite(f))
        f = 0;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    return s->a + f * (s->b - s->a);
}

static size_t linear_ticks(double lo, double hi, double unit, double *ticks, size_t max)
{
    double step = nice_step((hi - lo) / unit, 5) * unit;
    size_t n = 0;
    for (double k = ceil(lo / step - 1e-9); n < max && k * step <= hi + step * 1e-9; k++) {
        double v = k * step;
        ticks[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    return n;
}

size_t ab_scale_ticks(const struct ab_scale *s, double *ticks, size_t max)
{
    if (!s->log)
        return linear_ticks(s->lo, s->hi, s->unit, ticks, max);
    /* Decades alone over three decades or more; 1, 2, 5 below that; finer
     * still within one. */
    static const double decades[] = {1}, coarse[] = {1, 2, 5},
                        fine[] = {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9};
    const double *ms[3] = {decades, coarse, fine};
    const size_t nms[3] = {1, 3, 10};
    size_t n = 0;
    int first = log10(s->hi / s->lo) >= 3 ? 0 : 1;
    for (int pass = first; pass < 3; pass++) {
        n = 0;
        for (double k = floor(log10(s->lo)); k <= ceil(log10(s->hi)) && n < max; k++)
            for (size_t i = 0; i < nms[pass] && n < max; i++) {
                double v = ms[pass][i] * pow(10, k);
                if (v >= s->lo * (1 - 1e-9) && v <= s->hi * (1 + 1e-9))
                    ticks[n++] = v;
            }
        if (n >= 3)
            break;
    }
    if (n < 2) /* a narrow domain: round figures in it, evenly spaced */
        return linear_ticks(s->lo, s->hi, 1, ticks, max);
    while (n > 8) { /* every other, the first kept */
        size_t m = 0;
        for (size_t i = 0; i < n; i += 2)
            ticks[m++] = ticks[i];
        n = m;
    }
    return n;
}

/* ------------------------------------------------------------- formats */

const char *ab_svg_fmt_num(char *buf, size_t len, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (a >= 1e9)
        snprintf(buf, len, "%.3gG", v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, len, "%.3gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, len, "%.3gk", v / 1e3);
    else
        snprintf(buf, len, "%.4g", v);
    return buf;
}

const char *ab_svg_fmt_bytes(char *buf, size_t len, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (a >= 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%.3g GiB", v / (1024.0 * 1024 * 1024));
    else if (a >= 1024.0 * 1024)
        snprintf(buf, len, "%.3g MiB", v / (1024.0 * 1024));
    else if (a >= 1024)
        snprintf(buf, len, "%.3g KiB", v / 1024);
    else
        snprintf(buf, len, "%.0f B", v);
    return buf;
}

const char *ab_svg_fmt_pct(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.3g%%", v * 100);
    return buf;
}

const char *ab_svg_fmt_ratio(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.3g\xc3\x97", v); /* U+00D7 */
    return buf;
}

/* ---------------------------------------------------------------- charts */

void ab_svg_begin(struct ab_chart *c, struct ab_text *t, double w, double h, double mtop,
                  double mright, double mbottom, double mleft, const char *title)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->w = w;
    c->h = h;
    c->left = mleft;
    c->right = w - mright;
    c->top = mtop;
    c->bottom = h - mbottom;
    ab_scale_set(&c->x, false, 0, 1, c->left, c->right, false);
    ab_scale_set(&c->y, false, 0, 1, c->bottom, c->top, false);
    ab_text_printf(t,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 "
                   "%.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>",
                   w, h, w, h);
    ab_html_text(t, title);
    ab_text_printf(t, "</title>\n<text class=\"ttl\" x=\"%.1f\" y=\"16\">", c->left);
    ab_html_text(t, title);
    ab_text_printf(t, "</text>\n");
}

void ab_svg_begin_small(struct ab_chart *c, struct ab_text *t, double w, double h,
                        const char *title)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->w = c->right = w;
    c->h = c->bottom = h;
    ab_scale_set(&c->x, false, 0, 1, 0, w, false);
    ab_scale_set(&c->y, false, 0, 1, h, 0, false);
    ab_text_printf(t,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"small\" viewBox=\"0 0 "
                   "%.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>",
                   w, h, w, h);
    ab_html_text(t, title);
    ab_text_printf(t, "</title>");
}

void ab_svg_end(struct ab_chart *c)
{
    ab_text_printf(c->t, "</svg>\n");
}

void ab_svg_text(struct ab_chart *c, double px, double py, const char *anchor, const char *cls,
                 const char *s)
{
    ab_text_printf(c->t, "<text x=\"%.1f\" y=\"%.1f\"", px, py);
    if (anchor && strcmp(anchor, "start"))
        ab_text_printf(c->t, " text-anchor=\"%s\"", anchor);
    if (cls)
        ab_text_printf(c->t, " class=\"%s\"", cls);
    ab_text_printf(c->t, ">");
    ab_html_text(c->t, s);
    ab_text_printf(c->t, "</text>\n");
}

void ab_svg_text_turned(struct ab_chart *c, double px, double py, double deg, const char *cls,
                        const char *s)
{
    ab_text_printf(c->t, "<text transform=\"translate(%.1f %.1f) rotate(%.0f)\"", px, py, deg);
    if (cls)
        ab_text_printf(c->t, " class=\"%s\"", cls);
    ab_text_printf(c->t, ">");
    ab_html_text(c->t, s);
    ab_text_printf(c->t, "</text>\n");
}

/* The axis line, the grid at the ticks, their labels and the axis label. */
static void axis_draw(struct ab_chart *c, char axis, const char *label, const double *v,
                      const char *const *labels, size_t n, ab_svg_fmt fmt)
{
    struct ab_text *t = c->t;
    bool x = axis == 'x';
    const struct ab_scale *s = x ? &c->x : &c->y;
    ab_text_printf(t, "<path class=\"grid\" d=\"");
    for (size_t i = 0; i < n; i++) {
        double p = ab_scale_px(s, v[i]);
        if (x)
            ab_text_printf(t, "M%.1f %.1fV%.1f", p, c->top, c->bottom);
        else
            ab_text_printf(t, "M%.1f %.1fH%.1f", c->left, p, c->right);
    }
    ab_text_printf(t, "\"/>\n<path class=\"axis\" d=\"M%.1f %.1f%c%.1f\"/>\n", c->left,
                   x ? c->bottom : c->top, x ? 'H' : 'V', x ? c->right : c->bottom);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        const char *l = labels && labels[i] ? labels[i] : fmt(buf, sizeof buf, v[i]);
        double p = ab_scale_px(s, v[i]);
        if (x)
            ab_svg_text(c, p, c->bottom + 14, "middle", "tick", l);
        else
            ab_svg_text(c, c->left - 5, p + 4, "end", "tick", l);
    }
    if (x) {
        ab_svg_text(c, (c->left + c->right) / 2, c->bottom + 30, "middle", "lbl", label);
    } else {
        ab_text_printf(t,
                       "<text class=\"lbl\" text-anchor=\"middle\" transform=\"translate(12 "
                       "%.1f) rotate(-90)\">",
                       (c->top + c->bottom) / 2);
        ab_html_text(t, label);
        ab_text_printf(t, "</text>\n");
    }
}

void ab_svg_axis(struct ab_chart *c, char axis, const char *label, ab_svg_fmt fmt)
{
    double ticks[32];
    size_t n = ab_scale_ticks(axis == 'x' ? &c->x : &c->y, ticks, 32);
    axis_draw(c, axis, label, ticks, NULL, n, fmt);
}

void ab_svg_axis_at(struct ab_chart *c, char axis, const char *label, const double *v,
                    const char *const *labels, size_t n, ab_svg_fmt fmt)
{
    axis_draw(c, axis, label, v, labels, n, fmt);
}

void ab_svg_category(struct ab_chart *c, double py, double maxw, const char *name)
{
    /* About 7 px a character at the chart's 12 px: past room characters,
     * cut at a code point and end in an ellipsis. */
    size_t room = maxw > 28 ? (size_t)(maxw / 7) : 4, chars = 0, cut = 0, at = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (p[at]) {
        size_t n = ab_utf8_seq(p + at);
        at += n ? n : 1;
        if (++chars == room - 1)
            cut = at;
    }
    if (chars <= room)
        cut = at;
    struct ab_text *t = c->t;
    ab_text_printf(t, "<text class=\"cat\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", c->left - 6,
                   py + 4);
    if (p[cut]) {
        char *head = strndup(name, cut);
        if (!head) {
            t->oom = true;
            return;
        }
        ab_html_text(t, head);
        free(head);
        ab_text_printf(t, "\xe2\x80\xa6<title>"); /* U+2026 */
        ab_html_text(t, name);
        ab_text_printf(t, "</title>");
    } else {
        ab_html_text(t, name);
    }
    ab_text_printf(t, "</text>\n");
}

void ab_svg_rule(struct ab_chart *c, char axis, double v, const char *label, const char *anchor)
{
    if (!isfinite(v))
        return;
    if (axis == 'x') {
        double p = ab_scale_px(&c->x, v);
        ab_text_printf(c->t, "<path class=\"rule\" d=\"M%.1f %.1fV%.1f\"/>\n", p, c->top - 4,
                       c->bottom);
        bool end = anchor && !strcmp(anchor, "end"), start = anchor && !strcmp(anchor, "start");
        double shift = end ? -3 : start ? 3 : 0;
        if (label)
            ab_svg_text(c, p + shift, c->top - 6, end || start ? anchor : "middle", "tick", label);
    } else {
        double p = ab_scale_px(&c->y, v);
        ab_text_printf(c->t, "<path class=\"rule\" d=\"M%.1f %.1fH%.1f\"/>\n", c->left, p,
                       c->right + 4);
        if (label)
            ab_svg_text(c, c->right + 6, p + 4, "start", "tick", label);
    }
}

/* ----------------------------------------------------------------- marks */

/* The opening of a mark's element up to its own attributes. */
static void mark_open(struct ab_chart *c, const char *element, const char *kind,
                      const struct ab_mark *m, bool dashed)
{
    struct ab_text *t = c->t;
    ab_text_printf(t, "<%s class=\"mark %s", element, kind);
    if (m->series >= 0)
        ab_text_printf(t, " s%d", m->series % AB_SVG_PALETTE);
    else
        ab_text_printf(t, " fg");
    if (dashed || m->series >= AB_SVG_PALETTE)
        ab_text_printf(t, " dash");
    if (m->cls)
        ab_text_printf(t, " %s", m->cls);
    ab_text_printf(t, "\"");
    if (isfinite(m->v))
        ab_text_printf(t, " data-v=\"%.6g\"", m->v);
    if (m->row >= 0)
        ab_text_printf(t, " data-row=\"%d\"", m->row);
}

static void mark_close(struct ab_chart *c, const char *element, const struct ab_mark *m)
{
    ab_text_printf(c->t, "><title>");
    ab_html_text(c->t, m->title);
    ab_text_printf(c->t, "</title></%s>\n", element);
}

void ab_svg_hbar(struct ab_chart *c, double py, double thick, double v, const struct ab_mark *m)
{
    if (!isfinite(v))
        return;
    double x0 = ab_scale_px(&c->x, c->x.log ? c->x.lo : fmax(c->x.lo, 0)),
           x1 = ab_scale_px(&c->x, v);
    mark_open(c, "rect", "bar", m, false);
    ab_text_printf(c->t, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", fmin(x0, x1), py,
                   fabs(x1 - x0), thick);
    mark_close(c, "rect", m);
}

void ab_svg_vbar(struct ab_chart *c, double px, double thick, double v, const struct ab_mark *m)
{
    if (!isfinite(v))
        return;
    double y0 = ab_scale_px(&c->y, c->y.log ? c->y.lo : fmax(c->y.lo, 0)),
           y1 = ab_scale_px(&c->y, v);
    mark_open(c, "rect", "bar", m, false);
    ab_text_printf(c->t, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", px, fmin(y0, y1),
                   thick, fabs(y1 - y0));
    mark_close(c, "rect", m);
}

void ab_svg_whisker(struct ab_chart *c, bool horizontal, double at, double lo, double hi,
                    const struct ab_mark *m)
{
    if (!isfinite(lo) || !isfinite(hi))
        return;
    mark_open(c, "path", "ci", m, false);
    if (horizontal) {
        double a = ab_scale_px(&c->x, lo), b = ab_scale_px(&c->x, hi);
        ab_text_printf(c->t, " d=\"M%.1f %.1fH%.1fM%.1f %.1fv8M%.1f %.1fv8\"", a, at, b, a, at - 4,
                       b, at - 4);
    } else {
        double a = ab_scale_px(&c->y, lo), b = ab_scale_px(&c->y, hi);
        ab_text_printf(c->t, " d=\"M%.1f %.1fV%.1fM%.1f %.1fh8M%.1f %.1fh8\"", at, a, b, at - 4, a,
                       at - 4, b);
    }
    mark_close(c, "path", m);
}

void ab_svg_dot(struct ab_chart *c, double px, double py, const struct ab_mark *m)
{
    if (!isfinite(px) || !isfinite(py))
        return;
    mark_open(c, "circle", "pt", m, false);
    ab_text_printf(c->t, " cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"", px, py);
    mark_close(c, "circle", m);
}

void ab_svg_point(struct ab_chart *c, double x, double y, const struct ab_mark *m)
{
    if (isfinite(x) && isfinite(y))
        ab_svg_dot(c, ab_scale_px(&c->x, x), ab_scale_px(&c->y, y), m);
}

void ab_svg_line(struct ab_chart *c, const double *xs, const double *ys, size_t n, bool dashed,
                 const struct ab_mark *m)
{
    size_t drawn = 0;
    for (size_t i = 0; i < n; i++)
        drawn += isfinite(xs[i]) && isfinite(ys[i]);
    if (!drawn)
        return;
    mark_open(c, "path", "ln", m, dashed);
    ab_text_printf(c->t, " d=\"");
    bool pen = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xs[i]) || !isfinite(ys[i])) {
            pen = false;
            continue;
        }
        ab_text_printf(c->t, "%c%.1f %.1f", pen ? 'L' : 'M', ab_scale_px(&c->x, xs[i]),
                       ab_scale_px(&c->y, ys[i]));
        pen = true;
    }
    ab_text_printf(c->t, "\"");
    mark_close(c, "path", m);
}

void ab_svg_band(struct ab_chart *c, const double *xs, const double *lo, const double *hi, size_t n,
                 const struct ab_mark *m)
{
    size_t drawn = 0;
    for (size_t i = 0; i < n; i++)
        drawn += isfinite(xs[i]) && isfinite(lo[i]) && isfinite(hi[i]);
    if (!drawn)
        return;
    mark_open(c, "path", "band", m, false);
    ab_text_printf(c->t, " d=\"");
    char op = 'M';
    for (size_t i = 0; i < n; i++)
        if (isfinite(xs[i]) && isfinite(lo[i]) && isfinite(hi[i])) {
            ab_text_printf(c->t, "%c%.1f %.1f", op, ab_scale_px(&c->x, xs[i]),
                           ab_scale_px(&c->y, hi[i]));
            op = 'L';
        }
    for (size_t i = n; i-- > 0;)
        if (isfinite(xs[i]) && isfinite(lo[i]) && isfinite(hi[i]))
            ab_text_printf(c->t, "L%.1f %.1f", ab_scale_px(&c->x, xs[i]),
                           ab_scale_px(&c->y, lo[i]));
    ab_text_printf(c->t, "Z\"");
    mark_close(c, "path", m);
}

void ab_svg_cell(struct ab_chart *c, double px, double py, double w, double h, const char *text,
                 const struct ab_mark *m)
{
    mark_open(c, "g", "cell", m, false);
    ab_text_printf(c->t, "><title>");
    ab_html_text(c->t, m->title);
    ab_text_printf(c->t, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", px,
                   py, w, h);
    ab_text_printf(c->t, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px + w / 2,
                   py + h / 2 + 4);
    ab_html_text(c->t, text);
    ab_text_printf(c->t, "</text></g>\n");
}

void ab_svg_legend(struct ab_text *t, const char *const *names, const int *series,
                   const bool *dashed, size_t n)
{
    ab_text_printf(t, "<ul class=\"legend\">");
    for (size_t i = 0; i < n; i++) {
        char cls[16] = "fg";
        if (series[i] >= 0)
            snprintf(cls, sizeof cls, "s%d", series[i] % AB_SVG_PALETTE);
        ab_text_printf(t,
                       "<li><svg width=\"26\" height=\"10\" aria-hidden=\"true\"><path "
                       "class=\"ln %s%s\" d=\"M1 5H25\"/></svg>",
                       cls, (dashed && dashed[i]) || series[i] >= AB_SVG_PALETTE ? " dash" : "");
        ab_html_text(t, names[i]);
        ab_text_printf(t, "</li>");
    }
    ab_text_printf(t, "</ul>\n");
}
