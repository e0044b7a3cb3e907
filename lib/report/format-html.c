/* format-html.c — report.html: the document as one self-contained page of
 * charts and the tables under them (html.c, svg.c), for the commands that
 * have a page; `allocbench report DIR` writes it again from report.json. */
#include "report.h"

#include <cJSON.h>

static int files(const cJSON *doc, struct ab_report_set *set, char *err, size_t errlen)
{
    if (!ab_report_html_knows(ab_json_str(doc, "command")))
        return 0;
    return ab_report_set_add(set, "report.html", ab_report_html(doc), err, errlen);
}

static const char *const writes[] = {"report.html", NULL};

const struct ab_format ab_format_html = {
    .name = "html",
    .summary = "report.html: charts of every figure, the tables under them, the context",
    .writes = writes,
    .files = files,
};
