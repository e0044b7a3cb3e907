/* unit-svg.c — the chart module of report.html (lib/report/svg.c): text
 * escaped for HTML and SVG, scales that put figures where they belong and
 * round ticks, tick labels, and bars whose length is their figure's. */
#include "svg.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static char *escaped(const char *s)
{
    struct ab_text t = {0};
    ab_html_text(&t, s);
    return ab_text_finish(&t);
}

static bool ticks_are(const struct ab_scale *s, const double *want, size_t n)
{
    double got[32];
    size_t m = ab_scale_ticks(s, got, 32);
    if (m != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (fabs(got[i] - want[i]) > 1e-9 * fmax(1, fabs(want[i])))
            return false;
    return true;
}

/* The number after key=" in s, or NAN. */
static double attr(const char *s, const char *key)
{
    char k[32];
    snprintf(k, sizeof k, " %s=\"", key);
    const char *p = strstr(s, k);
    return p ? strtod(p + strlen(k), NULL) : NAN;
}

int main(void)
{
    /* Markup, quotes, control bytes and bytes that are not UTF-8. */
    char *e = escaped("<i>a&b</i> \"q\" 'r'");
    CHECK(e && !strcmp(e, "&lt;i&gt;a&amp;b&lt;/i&gt; &quot;q&quot; &#39;r&#39;"));
    free(e);
    e = escaped("bad\xff\x01name\tok\n\xc3\xa9");
    CHECK(e && !strcmp(e, "bad\xef\xbf\xbd\xef\xbf\xbdname\tok\n\xc3\xa9"));
    free(e);
    e = escaped(NULL);
    CHECK(e && !strcmp(e, ""));
    free(e);

    /* Linear: widened to round ends, ticks at round steps, figures in
     * proportion along the range. */
    struct ab_scale s;
    ab_scale_set(&s, false, 0, 37, 100, 500, true);
    CHECK_NEAR(s.lo, 0);
    CHECK_NEAR(s.hi, 40);
    CHECK(ticks_are(&s, (const double[]){0, 10, 20, 30, 40}, 5));
    CHECK_NEAR(ab_scale_px(&s, 20), 300);
    CHECK_NEAR(ab_scale_px(&s, 10), 200);
    CHECK_NEAR(ab_scale_px(&s, 80), 500); /* clamped to the range */
    /* Downwards, as a y axis runs. */
    ab_scale_set(&s, false, 0, 1, 300, 20, true);
    CHECK_NEAR(ab_scale_px(&s, 0.25), 230);
    /* No figure at all: a domain still, never NaN. */
    ab_scale_set(&s, false, NAN, NAN, 0, 100, true);
    CHECK(isfinite(ab_scale_px(&s, 0.5)) && s.hi > s.lo);
    /* One figure: from 0 to it. */
    ab_scale_set(&s, false, 7, 7, 0, 100, false);
    CHECK_NEAR(s.lo, 0);
    CHECK_NEAR(s.hi, 7);

    /* Log: whole decades when nice; decades alone over three or more. */
    ab_scale_set(&s, true, 3, 700, 0, 300, true);
    CHECK_NEAR(s.lo, 1);
    CHECK_NEAR(s.hi, 1000);
    CHECK(ticks_are(&s, (const double[]){1, 10, 100, 1000}, 4));
    CHECK_NEAR(ab_scale_px(&s, 10), 100);
    CHECK_NEAR(ab_scale_px(&s, 0), 0); /* at or below 0: the low end */
    /* Within a decade: finer ticks, at least three. */
    ab_scale_set(&s, true, 0.8, 1.3, 0, 300, false);
    double t[32];
    CHECK(ab_scale_ticks(&s, t, 32) >= 3);

    /* Bytes: ticks round in the unit the figures have. */
    ab_scale_set_bytes(&s, 3.5 * 1024 * 1024, 0, 400);
    CHECK_NEAR(s.unit, 1024.0 * 1024);
    CHECK_NEAR(s.hi, 4.0 * 1024 * 1024);
    CHECK(ticks_are(&s, (const double[]){0, 1048576, 2097152, 3145728, 4194304}, 5));

    char buf[64];
    CHECK(!strcmp(ab_svg_fmt_bytes(buf, sizeof buf, 1536), "1.5 KiB"));
    CHECK(!strcmp(ab_svg_fmt_bytes(buf, sizeof buf, 512), "512 B"));
    CHECK(!strcmp(ab_svg_fmt_bytes(buf, sizeof buf, 3 * 1048576.0), "3 MiB"));
    CHECK(!strcmp(ab_svg_fmt_num(buf, sizeof buf, 25000), "25k"));
    CHECK(!strcmp(ab_svg_fmt_num(buf, sizeof buf, 2.5e6), "2.5M"));
    CHECK(!strcmp(ab_svg_fmt_num(buf, sizeof buf, 0.25), "0.25"));
    CHECK(!strcmp(ab_svg_fmt_num(buf, sizeof buf, NAN), "-"));
    CHECK(!strcmp(ab_svg_fmt_pct(buf, sizeof buf, 0.25), "25%"));
    CHECK(!strcmp(ab_svg_fmt_ratio(buf, sizeof buf, 1.25), "1.25\xc3\x97"));

    /* A bar's length is its figure on the scale, from 0; its mark carries
     * the figure, the row and a <title>; a figure not measured draws
     * nothing. */
    struct ab_text text = {0};
    struct ab_chart c;
    ab_svg_begin(&c, &text, 600, 200, 20, 20, 40, 100, "a <chart>");
    ab_scale_set(&c.x, false, 0, 50, c.left, c.right, false);
    struct ab_mark m = {.series = 2, .row = 3, .v = 20, .title = "glibc: 20 ns"};
    ab_svg_hbar(&c, 30, 10, 20, &m);
    m.v = NAN;
    ab_svg_hbar(&c, 50, 10, NAN, &m);
    struct ab_mark dashed = {.series = AB_SVG_PALETTE + 1, .row = -1, .v = NAN, .title = "9th"};
    ab_svg_line(&c, (const double[]){0, 10}, (const double[]){1, 2}, 2, false, &dashed);
    ab_svg_end(&c);
    char *svg = ab_text_finish(&text);
    CHECK(svg != NULL);
    if (svg) {
        const char *bar = strstr(svg, "<rect class=\"mark bar s2\"");
        CHECK(bar && attr(bar, "data-v") == 20 && attr(bar, "data-row") == 3);
        CHECK(bar && fabs(attr(bar, "width") - 20.0 / 50 * 480) < 0.06 && attr(bar, "x") == 100);
        CHECK(bar && strstr(bar, "<title>glibc: 20 ns</title></rect>"));
        CHECK(bar && !strstr(bar + 12, "class=\"mark bar")); /* none for NAN */
        CHECK(strstr(svg, "<title>a &lt;chart&gt;</title>") != NULL);
        /* From the ninth series on, colours repeat and lines are dashed. */
        CHECK(strstr(svg, "class=\"mark ln s1 dash\"") != NULL);
    }
    free(svg);
    return check_done();
}
