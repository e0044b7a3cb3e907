/* html.c — fuzz target: report.html of any document report DIR may be
 * given (ab_json_parse_strict, then ab_report_html).  A page is promised
 * for every document of a command that has one, whatever its members hold
 * (wrong kinds, nulls, huge or negative figures, missing blocks): a whole
 * page, from <!DOCTYPE html> to </html>, the same bytes when drawn twice,
 * and markup only where the page puts it (no <script> but its own). */
#include "report.h"
#include "fuzz.h"

#include <cJSON.h>
#include <string.h>

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    cJSON *doc = ab_json_parse_strict((const char *)data, size, why, sizeof why);
    if (!doc)
        return 0;
    const char *command = ab_json_str(doc, "command");
    char *page = ab_report_html(doc);
    if (!ab_report_html_knows(command)) {
        AB_FUZZ_CHECK(!page);
        cJSON_Delete(doc);
        return 0;
    }
    AB_FUZZ_CHECK(page);
    size_t len = strlen(page);
    static const char head[] = "<!DOCTYPE html>\n", tail[] = "</html>\n";
    AB_FUZZ_CHECK(!strncmp(page, head, sizeof head - 1));
    AB_FUZZ_CHECK(len >= sizeof tail - 1 && !strcmp(page + len - (sizeof tail - 1), tail));
    AB_FUZZ_CHECK(count(page, "<script") == 1 && count(page, "</html>") == 1);
    char *again = ab_report_html(doc);
    AB_FUZZ_CHECK(again && !strcmp(page, again));
    free(again);
    free(page);
    cJSON_Delete(doc);
    return 0;
}
