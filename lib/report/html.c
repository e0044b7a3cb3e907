/*
 * html.c — report.html: one self-contained page per document (inline
 * style sheet and SVG, one small script, nothing from the network), the
 * parts every command's page shares, and the choice of page by the
 * document's "command".
 */
#include "html.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Light by default, dark where the reader's system prefers it on screen;
 * paper always gets the light one.  Series colours are Okabe and Ito's
 * (yellow darkened on white; on dark, black turned white and blue a little
 * lighter, still apart from sky blue); verdicts are also written out, never
 * told by colour alone. */
static const char style_sheet[] =
    ":root{--bg:#fff;--fg:#1b1c1e;--mute:#5c6066;--grid:#e6e6e6;--line:#d4d4d4;"
    "--panel:#f5f5f6;--rule:#7a7a7a;--p0:#0072b2;--p1:#e69f00;--p2:#009e73;--p3:#d55e00;"
    "--p4:#cc79a7;--p5:#56b4e9;--p6:#000;--p7:#a89a00;--good:#009e73;--bad:#d55e00;"
    "--warn:#e69f00;--same:#8c8c8c;--na:#dcdcdc;color-scheme:light dark}\n"
    "@media screen and (prefers-color-scheme:dark){:root{--bg:#17181b;--fg:#e6e6e6;"
    "--mute:#a3a7ad;--grid:#303236;--line:#3c3e43;--panel:#222328;--rule:#9a9a9a;"
    "--p0:#1f88c9;--p6:#f2f2f2;--p7:#f0e442;--same:#9a9a9a;--na:#3a3c40}}\n"
    "body{margin:0 auto;max-width:1040px;padding:16px 20px 40px;background:var(--bg);"
    "color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}\n"
    "h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}\n"
    "a{color:var(--p0)}.sub,.note,.na{color:var(--mute)}p{margin:6px 0}\n"
    "nav ul{display:flex;flex-wrap:wrap;gap:2px 16px;list-style:none;padding:0;margin:8px 0}\n"
    "figure{margin:14px 0 22px;padding:10px 12px;background:var(--panel);border-radius:6px}\n"
    ".scroll{overflow:auto;max-height:36em}\n"
    "table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;"
    "margin:6px 0}th,td{padding:2px 9px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}th{font-weight:600}td.n{text-align:right;white-space:nowrap}\n"
    "pre{white-space:pre-wrap;word-break:break-all;background:var(--panel);padding:8px;"
    "border-radius:4px;margin:6px 0}dl{display:grid;grid-template-columns:max-content auto;"
    "gap:2px 14px;margin:6px 0}dt{color:var(--mute)}dd{margin:0}\n"
    "svg.chart{display:block;max-width:100%;height:auto;font:12px system-ui,sans-serif}\n"
    "svg text{fill:var(--fg)}svg .ttl{font-weight:600;font-size:13px}svg .tick,svg .cat{"
    "fill:var(--mute)}svg .grid{stroke:var(--grid);fill:none}svg .axis{stroke:var(--mute);"
    "fill:none}svg .rule{stroke:var(--rule);stroke-dasharray:4 3;fill:none}\n"
    ".s0{fill:var(--p0);stroke:var(--p0)}.s1{fill:var(--p1);stroke:var(--p1)}"
    ".s2{fill:var(--p2);stroke:var(--p2)}.s3{fill:var(--p3);stroke:var(--p3)}"
    ".s4{fill:var(--p4);stroke:var(--p4)}.s5{fill:var(--p5);stroke:var(--p5)}"
    ".s6{fill:var(--p6);stroke:var(--p6)}.s7{fill:var(--p7);stroke:var(--p7)}"
    ".fg{fill:var(--fg);stroke:var(--fg)}\n"
    ".v-faster,.v-pass{fill:var(--good);stroke:var(--good)}.v-slower,.v-fail{fill:var(--bad);"
    "stroke:var(--bad)}.v-same{fill:var(--same);stroke:var(--same)}.v-incomplete{"
    "fill:var(--warn);stroke:var(--warn)}.v-none,.v-na{fill:var(--na);stroke:var(--na)}"
    "circle.v-none{fill:var(--mute);stroke:var(--mute)}\n"
    "rect.bar{stroke:none}path.ln{fill:none;stroke-width:2}path.ci{fill:none;stroke-width:1.5}"
    "path.band{stroke:none;fill-opacity:.2}.dash{stroke-dasharray:6 3}circle.pt{"
    "stroke-width:0}.mark:hover{opacity:.7}\n"
    ".cell rect{stroke:var(--bg);stroke-width:2}.cell text{font-weight:600;stroke:none}"
    ".cell.v-pass text,.cell.v-fail text{fill:#fff}.cell.v-incomplete text{fill:#000}"
    ".cell.v-na text,.cell.v-none text{fill:var(--mute)}\n"
    "td.v-pass,td.v-faster{color:var(--good);font-weight:600}td.v-fail,td.v-slower{"
    "color:var(--bad);font-weight:600}td.v-incomplete{color:var(--warn);font-weight:600}\n"
    "td svg{display:block}td svg .bar{fill:var(--mute)}\n"
    ".legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:2px 14px;"
    "font-size:12px}.legend svg{vertical-align:middle;margin-right:4px}.legend path{"
    "stroke-width:2.5;fill:none}\n"
    "button.copy{font:12px system-ui,sans-serif;margin:4px 0;cursor:pointer}\n"
    "@media print{body{max-width:none;padding:0;font-size:10pt}nav,button.copy{display:none}"
    "figure{break-inside:avoid;background:none;border:1px solid #ccc}h2{break-after:avoid}"
    ".scroll{overflow:visible;max-height:none}a{color:inherit}}\n";

/* A button over each table that copies it as TSV, one row a line. */
static const char script[] =
    "document.querySelectorAll('table.data').forEach(function(t){"
    "var b=document.createElement('button');b.type='button';b.className='copy';"
    "b.textContent='copy as TSV';b.onclick=function(){"
    "var s=[].map.call(t.rows,function(r){return [].map.call(r.cells,function(c){"
    "return c.textContent.replace(/[\\t\\n]/g,' ')}).join('\\t')}).join('\\n')+'\\n';"
    "function done(){b.textContent='copied'}"
    "if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(s)"
    ".then(done)}else{var a=document.createElement('textarea');a.value=s;"
    "document.body.appendChild(a);a.select();document.execCommand('copy');a.remove();done()}};"
    "t.parentNode.insertBefore(b,t)});\n";

int ab_html_series(struct ab_html *h, const char *name)
{
    for (size_t i = 0; i < h->nseries; i++)
        if (!strcmp(h->series[i], name))
            return (int)i;
    if (h->nseries == sizeof h->series / sizeof h->series[0])
        return (int)h->nseries - 1;
    h->series[h->nseries] = name;
    return (int)h->nseries++;
}

/* ---------------------------------------------------------------- blocks */

static void section_close(struct ab_html *h)
{
    if (h->in_section)
        ab_text_printf(&h->t, "</section>\n");
    h->in_section = false;
}

void ab_html_section(struct ab_html *h, const char *id, const char *name)
{
    section_close(h);
    ab_text_printf(&h->t, "<section id=\"");
    ab_html_text(&h->t, id);
    ab_text_printf(&h->t, "\"><h2>");
    ab_html_text(&h->t, name);
    ab_text_printf(&h->t, "</h2>\n");
    h->in_section = true;
    if (h->nsections < AB_HTML_SECTIONS) {
        ab_strlcpy(h->section_id[h->nsections], id, sizeof h->section_id[0]);
        ab_strlcpy(h->section_name[h->nsections], name, sizeof h->section_name[0]);
        h->nsections++;
    }
}

void ab_html_h3(struct ab_html *h, const char *text)
{
    ab_text_printf(&h->t, "<h3>");
    ab_html_text(&h->t, text);
    ab_text_printf(&h->t, "</h3>\n");
}

void ab_html_p(struct ab_html *h, const char *cls, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (cls)
        ab_text_printf(&h->t, "<p class=\"%s\">", cls);
    else
        ab_text_printf(&h->t, "<p>");
    ab_html_text(&h->t, buf);
    ab_text_printf(&h->t, "</p>\n");
}

void ab_html_figure(struct ab_html *h, const char *kind)
{
    ab_text_printf(&h->t, "<figure class=\"chart\" data-chart=\"%s\">\n", kind);
}

void ab_html_figure_end(struct ab_html *h)
{
    ab_text_printf(&h->t, "</figure>\n");
}

void ab_html_table(struct ab_html *h, const char *cls, const char *const *heads, size_t n)
{
    ab_text_printf(&h->t, "<div class=\"scroll\"><table class=\"%s\"><thead><tr>",
                   cls ? cls : "data");
    for (size_t i = 0; i < n; i++) {
        ab_text_printf(&h->t, "<th>");
        ab_html_text(&h->t, heads[i]);
        ab_text_printf(&h->t, "</th>");
    }
    ab_text_printf(&h->t, "</tr></thead>\n<tbody>\n");
}

void ab_html_table_end(struct ab_html *h)
{
    ab_text_printf(&h->t, "</tbody></table></div>\n");
}

void ab_html_tr(struct ab_html *h, int row)
{
    if (row >= 0)
        ab_text_printf(&h->t, "<tr data-row=\"%d\">", row);
    else
        ab_text_printf(&h->t, "<tr>");
}

void ab_html_tr_end(struct ab_html *h)
{
    ab_text_printf(&h->t, "</tr>\n");
}

void ab_html_td(struct ab_html *h, const char *s)
{
    if (!s || !*s) {
        ab_text_printf(&h->t, "<td class=\"na\">-</td>");
        return;
    }
    ab_text_printf(&h->t, "<td>");
    ab_html_text(&h->t, s);
    ab_text_printf(&h->t, "</td>");
}

void ab_html_td_num(struct ab_html *h, const char *fmt, double v)
{
    if (!isfinite(v)) {
        ab_text_printf(&h->t, "<td class=\"n na\">-</td>");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    ab_text_printf(&h->t, "<td class=\"n\">%s</td>", buf);
}

void ab_html_td_fmt(struct ab_html *h, ab_svg_fmt fmt, double v)
{
    if (!isfinite(v)) {
        ab_text_printf(&h->t, "<td class=\"n na\">-</td>");
        return;
    }
    char buf[64];
    ab_text_printf(&h->t, "<td class=\"n\">");
    ab_html_text(&h->t, fmt(buf, sizeof buf, v));
    ab_text_printf(&h->t, "</td>");
}

const char *ab_html_verdict_class(const char *v)
{
    static const char *const known[][2] = {
        {"faster", "v-faster"},     {"slower", "v-slower"}, {"same", "v-same"},
        {"pass", "v-pass"},         {"fail", "v-fail"},     {"incomplete", "v-incomplete"},
        {"not-applicable", "v-na"},
    };
    for (size_t i = 0; v && i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(v, known[i][0]))
            return known[i][1];
    return "v-none";
}

void ab_html_td_class(struct ab_html *h, const char *cls, const char *s)
{
    ab_text_printf(&h->t, "<td class=\"%s\">", cls);
    ab_html_text(&h->t, s && *s ? s : "-");
    ab_text_printf(&h->t, "</td>");
}

double ab_html_num(const cJSON *o, const char *k)
{
    return ab_json_num(o, k, NAN);
}

const char *ab_html_u64(char *buf, size_t len, const cJSON *o, const char *k)
{
    uint64_t v;
    if (ab_report_u64(o, k, &v))
        snprintf(buf, len, "%llu", (unsigned long long)v);
    else
        snprintf(buf, len, "-");
    return buf;
}

/* A member of any kind as a cell: strings and numbers as they are. */
static void td_any(struct ab_html *h, const cJSON *v)
{
    char buf[64];
    if (cJSON_IsString(v))
        ab_html_td(h, v->valuestring);
    else if (cJSON_IsNumber(v))
        ab_html_td(h, (snprintf(buf, sizeof buf, "%.15g", v->valuedouble), buf));
    else if (cJSON_IsBool(v))
        ab_html_td(h, cJSON_IsTrue(v) ? "yes" : "no");
    else if (cJSON_IsRaw(v) && v->valuestring)
        ab_html_td(h, v->valuestring);
    else
        ab_html_td(h, NULL);
}

void ab_html_diagnostics(struct ab_html *h, const cJSON *list, const char *const *keys,
                         const char *const *heads, size_t n, const char *none)
{
    const cJSON *d;
    if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list)) {
        ab_html_p(h, "note", "%s", none);
        return;
    }
    ab_html_table(h, "data diag", heads, n);
    cJSON_ArrayForEach(d, list)
    {
        ab_html_tr(h, -1);
        for (size_t i = 0; i < n; i++)
            td_any(h, cJSON_GetObjectItemCaseSensitive(d, keys[i]));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
}

/* --------------------------------------------------------- charts of rows */

#define RH 20.0 /* a row, px */

void ab_html_hchart(struct ab_html *h, const char *title, const char *axis, ab_svg_fmt fmt,
                    enum ab_html_style style, const struct ab_html_row *rows, size_t n, double rule,
                    double gate)
{
    double maxname = 0, lo = NAN, hi = NAN, height = 30;
    bool right = false, points = style == AB_HTML_POINTS;
    for (size_t i = 0; i < n; i++) {
        const struct ab_html_row *r = &rows[i];
        maxname = fmax(maxname, (double)strlen(r->name));
        right = right || r->right[0];
        if (r->group[0] && (i == 0 || strcmp(rows[i - 1].group, r->group)))
            height += 20;
        height += RH;
        const double f[3] = {r->v, r->lo, r->hi};
        for (int k = 0; k < 3; k++)
            if (isfinite(f[k]) && (!points || f[k] > 0)) {
                lo = isfinite(lo) ? fmin(lo, f[k]) : f[k];
                hi = isfinite(hi) ? fmax(hi, f[k]) : f[k];
            }
    }
    double left = fmin(240, 20 + 7 * maxname);
    struct ab_chart c;
    /* Points carry rules whose labels sit above the plot area. */
    double mtop = points ? 42 : 28;
    ab_svg_begin(&c, &h->t, 720, height + 16 + mtop, mtop, right ? 130 : 24, 44, left, title);
    if (!points && fmt == ab_svg_fmt_bytes) {
        ab_scale_set_bytes(&c.x, isfinite(hi) ? fmax(hi, 0) : NAN, c.left, c.right);
    } else if (!points) {
        ab_scale_set(&c.x, false, 0, isfinite(hi) ? fmax(hi, 0) : NAN, c.left, c.right, true);
    } else {
        const double marks[2] = {rule, gate};
        for (int k = 0; k < 2; k++)
            if (isfinite(marks[k]) && marks[k] > 0) {
                lo = isfinite(lo) ? fmin(lo, marks[k]) : marks[k];
                hi = isfinite(hi) ? fmax(hi, marks[k]) : marks[k];
            }
        ab_scale_set(&c.x, true, lo, hi, c.left, c.right, false);
    }
    ab_svg_axis(&c, 'x', axis, fmt);
    char l[48];
    if (points && isfinite(rule))
        ab_svg_rule(&c, 'x', rule, fmt(l, sizeof l, rule), isfinite(gate) ? "end" : NULL);
    if (points && isfinite(gate)) {
        char g[32];
        snprintf(l, sizeof l, "gate %s", fmt(g, sizeof g, gate));
        ab_svg_rule(&c, 'x', gate, l, isfinite(rule) ? "start" : NULL);
    }
    double y = c.top;
    for (size_t i = 0; i < n; i++) {
        const struct ab_html_row *r = &rows[i];
        if (r->group[0] && (i == 0 || strcmp(rows[i - 1].group, r->group))) {
            ab_svg_text(&c, 8, y + 15, "start", "ttl", r->group);
            y += 20;
        }
        ab_svg_category(&c, y + RH / 2, left - 10, r->name);
        struct ab_mark m = {
            .series = r->series, .row = (int)i, .v = r->v, .cls = r->cls, .title = r->title};
        if (!isfinite(r->v))
            ab_svg_text(&c, c.left + 6, y + RH / 2 + 4, "start", "tick", r->none);
        else if (!points)
            ab_svg_hbar(&c, y + 3, RH - 6, r->v, &m);
        if (isfinite(r->lo) && isfinite(r->hi)) {
            struct ab_mark w = {.series = -1, .row = (int)i, .v = NAN, .title = r->ci_title};
            ab_svg_whisker(&c, true, y + RH / 2, r->lo, r->hi, &w);
        }
        if (isfinite(r->v) && points)
            ab_svg_dot(&c, ab_scale_px(&c.x, r->v), y + RH / 2, &m);
        if (r->right[0])
            ab_svg_text(&c, c.right + 8, y + RH / 2 + 4, "start", r->cls, r->right);
        y += RH;
    }
    ab_svg_end(&c);
}

/* ------------------------------------------------------ the context block */

const char *ab_html_when(char *buf, size_t len, const char *stamp)
{
    int y, mo, d, hh, mm, ss;
    char z;
    if (sscanf(stamp, "%4d%2d%2dT%2d%2d%2d%c", &y, &mo, &d, &hh, &mm, &ss, &z) == 7 && z == 'Z')
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d UTC", y, mo, d, hh, mm, ss);
    else
        snprintf(buf, len, "%s", stamp);
    return buf;
}

static void dl_item(struct ab_text *t, const char *k, const char *v)
{
    ab_text_printf(t, "<dt>");
    ab_html_text(t, k);
    ab_text_printf(t, "</dt><dd>");
    ab_html_text(t, v && *v ? v : "-");
    ab_text_printf(t, "</dd>\n");
}

static void load_text(char *buf, size_t len, const cJSON *arr)
{
    const cJSON *x;
    size_t n = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(x, arr)
    {
        if (n + 16 < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%.2f", n ? " " : "",
                                  cJSON_IsNumber(x) ? x->valuedouble : NAN);
    }
}

/* The machines of a merged report, a shard each: where each slice ran. */
static void machines(struct ab_html *h, const cJSON *list)
{
    const cJSON *m;
    if (!cJSON_GetArraySize(list))
        return;
    ab_html_h3(h, "Machines (one per shard)");
    static const char *const heads[] = {
        "shard",       "host", "CPU", "kernel", "glibc", "started", "load average at the start",
        "command line"};
    ab_html_table(h, "data machines", heads, sizeof heads / sizeof heads[0]);
    cJSON_ArrayForEach(m, list)
    {
        char when[64], load[96];
        ab_html_tr(h, -1);
        ab_html_td_num(h, "%.0f", ab_html_num(m, "shard"));
        ab_html_td(h, ab_json_str(m, "hostname"));
        ab_html_td(h, ab_json_str(m, "cpu_model"));
        ab_html_td(h, ab_json_str(m, "kernel"));
        ab_html_td(h, ab_json_str(m, "glibc"));
        ab_html_td(h, ab_html_when(when, sizeof when, ab_json_str(m, "started_utc")));
        load_text(load, sizeof load,
                  cJSON_GetObjectItemCaseSensitive(
                      cJSON_GetObjectItemCaseSensitive(m, "load_average"), "start"));
        ab_html_td(h, load);
        ab_html_td(h, ab_json_str(m, "command_line"));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
}

static void context(struct ab_html *h, const cJSON *doc)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "context");
    struct ab_text *t = &h->t;
    char buf[1024];
    ab_html_section(h, "context", "Context");
    ab_text_printf(t, "<p>The exact command line:</p>\n<pre><code>");
    ab_html_text(t, ab_json_str(c, "command_line"));
    ab_text_printf(t, "</code></pre>\n<dl>\n");
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(c, "allocbench");
    snprintf(buf, sizeof buf, "%s (revision %s, %s build)", ab_json_str(ab, "version"),
             *ab_json_str(ab, "git_revision") ? ab_json_str(ab, "git_revision") : "-",
             *ab_json_str(ab, "build_type") ? ab_json_str(ab, "build_type") : "-");
    dl_item(t, "allocbench", buf);
    dl_item(t, "started", ab_html_when(buf, sizeof buf, ab_json_str(c, "started_utc")));
    dl_item(t, "host", ab_json_str(c, "hostname"));
    dl_item(t, "CPU", ab_json_str(c, "cpu_model"));
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(c, "topology");
    static const char *const tk[] = {"packages", "cores", "pus", "numa_nodes"},
                             *const one[] = {"package", "core", "processing unit", "NUMA node"},
                             *const many[] = {"packages", "cores", "processing units",
                                              "NUMA nodes"};
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        char v[32];
        int64_t k = ab_json_int(topo, tk[i]);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s %s", i ? ", " : "",
                              ab_report_count(v, sizeof v, k, "-"),
                              ab_html_plural((double)k, one[i], many[i]));
    }
    dl_item(t, "topology", buf);
    const cJSON *cache;
    n = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(cache, cJSON_GetObjectItemCaseSensitive(topo, "caches"))
    {
        char sz[32];
        if (n + 64 < sizeof buf)
            n +=
                (size_t)snprintf(buf + n, sizeof buf - n, "%sL%lld %s %s", n ? ", " : "",
                                 (long long)ab_json_int(cache, "level"), ab_json_str(cache, "type"),
                                 ab_svg_fmt_bytes(sz, sizeof sz, ab_html_num(cache, "size_bytes")));
    }
    dl_item(t, "caches", buf);
    dl_item(t, "kernel", ab_json_str(c, "kernel"));
    dl_item(t, "glibc", ab_json_str(c, "glibc"));
    dl_item(t, "transparent huge pages", ab_json_str(c, "thp"));
    char mhz[32];
    snprintf(buf, sizeof buf, "%s, %s MHz",
             *ab_json_str(c, "cpu_governor") ? ab_json_str(c, "cpu_governor") : "governor -",
             ab_report_num(mhz, sizeof mhz, "%.0f", ab_html_num(c, "cpu_mhz"), "-"));
    dl_item(t, "CPU frequency", buf);
    dl_item(t, "threads pinned", ab_json_bool(c, "pinned") ? "yes" : "no");
    const cJSON *la = cJSON_GetObjectItemCaseSensitive(c, "load_average");
    char ls[96], le[96];
    load_text(ls, sizeof ls, cJSON_GetObjectItemCaseSensitive(la, "start"));
    load_text(le, sizeof le, cJSON_GetObjectItemCaseSensitive(la, "end"));
    snprintf(buf, sizeof buf, "%s at the start, %s at the end (1, 5, 15 minutes)", *ls ? ls : "-",
             *le ? le : "-");
    dl_item(t, "load average", buf);
    /* The counter: a name and its version, or {name, version}. */
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "counter");
    const char *kname = cJSON_IsString(k) ? k->valuestring : ab_json_str(k, "name");
    const char *kver =
        cJSON_IsObject(k) ? ab_json_str(k, "version") : ab_json_str(c, "counter_version");
    snprintf(buf, sizeof buf, "%s%s%s%s", *kname ? kname : "-", *kver ? " (" : "", kver,
             *kver ? ")" : "");
    dl_item(t, "counter", buf);
    /* A shard's slice of the matrix, or a merge's shards (machines). */
    const cJSON *shard = cJSON_GetObjectItemCaseSensitive(doc, "shard");
    if (cJSON_IsObject(shard)) {
        snprintf(buf, sizeof buf, "%.0f of %.0f (--shard %.0f/%.0f), %d configurations",
                 ab_html_num(shard, "index") + 1, ab_html_num(shard, "count"),
                 ab_html_num(shard, "index"), ab_html_num(shard, "count"),
                 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(shard, "configurations")));
        dl_item(t, "shard", buf);
    }
    dl_item(t, "matrix", ab_json_str(doc, "matrix_digest"));
    ab_text_printf(t, "</dl>\n");
    machines(h, cJSON_GetObjectItemCaseSensitive(c, "machines"));

    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(c, "subjects"), *s;
    if (!cJSON_GetArraySize(subs))
        return;
    ab_html_h3(h, "Allocators");
    static const char *const heads[] = {"name", "kind",        "family", "version",
                                        "path", "malloc from", "error"};
    ab_html_table(h, "data subjects", heads, sizeof heads / sizeof heads[0]);
    cJSON_ArrayForEach(s, subs)
    {
        ab_html_tr(h, -1);
        static const char *const keys[] = {"name", "kind",        "family", "version",
                                           "path", "malloc_from", "error"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            ab_html_td(h, ab_json_str(s, keys[i]));
        ab_html_tr_end(h);
    }
    ab_html_table_end(h);
}

/* ------------------------------------------------------------- the page */

char *ab_html_finish(struct ab_html *h, const cJSON *doc)
{
    context(h, doc);
    section_close(h);
    struct ab_text page = {0};
    ab_text_printf(&page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                          "<meta name=\"viewport\" content=\"width=device-width, "
                          "initial-scale=1\">\n<meta name=\"generator\" content=\"allocbench ");
    ab_html_text(&page,
                 ab_json_str(cJSON_GetObjectItemCaseSensitive(
                                 cJSON_GetObjectItemCaseSensitive(doc, "context"), "allocbench"),
                             "version"));
    ab_text_printf(&page, "\">\n<title>");
    ab_html_text(&page, h->title);
    ab_text_printf(&page, "</title>\n<style>\n%s</style>\n</head>\n<body data-command=\"",
                   style_sheet);
    ab_html_text(&page, ab_json_str(doc, "command"));
    ab_text_printf(&page, "\">\n<header><h1>");
    ab_html_text(&page, h->title);
    ab_text_printf(&page, "</h1>\n<p class=\"sub\">");
    ab_html_text(&page, h->summary);
    ab_text_printf(&page, "</p></header>\n<nav><ul>");
    for (size_t i = 0; i < h->nsections; i++) {
        ab_text_printf(&page, "<li><a href=\"#");
        ab_html_text(&page, h->section_id[i]);
        ab_text_printf(&page, "\">");
        ab_html_text(&page, h->section_name[i]);
        ab_text_printf(&page, "</a></li>");
    }
    ab_text_printf(&page, "</ul></nav>\n<main>\n");
    char *body = ab_text_finish(&h->t);
    if (!body)
        page.oom = true;
    else
        ab_text_printf(&page, "%s", body);
    free(body);
    ab_text_printf(&page,
                   "</main>\n<footer class=\"note\"><p>Written by allocbench from "
                   "report.json; <code>allocbench report DIR</code> writes it "
                   "again.</p></footer>\n<script>\n%s</script>\n</body>\n</html>\n",
                   script);
    return ab_text_finish(&page);
}

/* -------------------------------------------------------------- dispatch */

static const struct {
    const char *command;
    void (*page)(struct ab_html *h, const cJSON *doc);
} pages[] = {
    {"run", ab_html_run},         {"fastpath", ab_html_fastpath}, {"stress", ab_html_stress},
    {"compare", ab_html_compare}, {"trace", ab_html_trace},
};

char *ab_report_html(const cJSON *doc)
{
    const char *command = ab_json_str(doc, "command");
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        if (strcmp(pages[i].command, command))
            continue;
        struct ab_html *h = calloc(1, sizeof *h);
        if (!h)
            return NULL;
        pages[i].page(h, doc);
        char *text = ab_html_finish(h, doc);
        free(h);
        return text;
    }
    return NULL;
}

bool ab_report_html_knows(const char *command)
{
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (!strcmp(pages[i].command, command))
            return true;
    return false;
}
