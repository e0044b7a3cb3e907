/* merge.c — fuzz target: shard reports read as `allocbench merge` reads
 * them (ab_merge_parse), then joined (ab_merge_doc).  The input holds up to
 * four report.json texts, separated by NUL bytes.  The promises: a refusal
 * says why and leaves nothing; a merge of accepted reports refuses with a
 * code of bad input, never an internal error; an accepted merge is a
 * report the reader takes again, no longer a shard, listing a machine per
 * shard and every configuring record of the shards once; the same shards
 * with one given twice are always refused. */
#include "merge.h"
#include "fuzz.h"

#include <cJSON.h>
#include <string.h>

#define MAX_DOCS 4

static int records(const cJSON *doc, const char *command)
{
    const char *name = !strcmp(command, "run")        ? "aggregates"
                       : !strcmp(command, "fastpath") ? "rows"
                                                      : "cases";
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, name));
}

/* ab_merge_doc's promises over n documents; whether it merged them. */
static bool merged(cJSON *const *docs, size_t n)
{
    static const char *const labels[MAX_DOCS + 1] = {"0", "1", "2", "3", "again"};
    cJSON *out = (cJSON *)1;
    unsigned failures = 0;
    enum ab_code code = AB_ALLOCBENCH_INTERNAL;
    char err[1024] = "";
    if (ab_merge_doc(docs, labels, n, NULL, &out, &failures, &code, err, sizeof err)) {
        AB_FUZZ_CHECK(!out && err[0]);
        AB_FUZZ_CHECK(code == AB_ALLOCBENCH_MERGE_MISMATCH || code == AB_ALLOCBENCH_BAD_INPUT);
        return false;
    }
    AB_FUZZ_CHECK(out && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(out, "shard")));
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(out, "context");
    AB_FUZZ_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ctx, "machines")) ==
                  (int)n);
    const char *command = ab_json_str(out, "command");
    int sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += records(docs[i], command);
    AB_FUZZ_CHECK(records(out, command) == sum);

    /* What merge writes, read back: a report, and no shard. */
    char *text = cJSON_PrintUnformatted(out);
    AB_FUZZ_CHECK(text);
    cJSON *again = NULL;
    AB_FUZZ_CHECK(ab_merge_parse("merged", text, strlen(text), &again, err, sizeof err) == 0);
    cJSON *one[1] = {again};
    cJSON *twice = NULL;
    AB_FUZZ_CHECK(ab_merge_doc(one, labels, 1, NULL, &twice, &failures, &code, err,
                               sizeof err) != 0 &&
                  !twice && code == AB_ALLOCBENCH_BAD_INPUT);
    free(text);
    cJSON_Delete(again);
    cJSON_Delete(out);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *docs[MAX_DOCS + 1] = {NULL};
    size_t n = 0;
    bool all = true;
    for (size_t at = 0; at <= size && n < MAX_DOCS;) {
        const uint8_t *end = memchr(data + at, 0, size - at);
        size_t len = end ? (size_t)(end - data) - at : size - at;
        char err[1024] = "";
        int rc = ab_merge_parse("fuzz.json", (const char *)data + at, len, &docs[n], err,
                                sizeof err);
        AB_FUZZ_CHECK(rc ? !docs[n] && err[0] : docs[n] != NULL);
        all = all && !rc;
        n += !rc;
        if (!end)
            break;
        at += len + 1;
    }
    if (all && n) {
        merged(docs, n);
        /* One shard twice is never a matrix. */
        docs[n] = docs[0];
        AB_FUZZ_CHECK(!merged(docs, n + 1));
    }
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(docs[i]);
    return 0;
}
