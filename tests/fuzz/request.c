/* request.c — fuzz target: the check of a child's request
 * (ab_child_request) against the modes table allocbench-trial and
 * allocbench build from cmd/modes.h.  The request is only checked, never
 * run: no mode's run is called, no heap is bound. */
#include "modes.h"
#include "proc.h"
#include "fuzz.h"

#include <cJSON.h>
#include <errno.h>
#include <string.h>

#define AB_MODE_DECL(name) extern const struct ab_child_mode ab_mode_##name;
AB_CHILD_MODES(AB_MODE_DECL)
AB_SUPERVISOR_MODES(AB_MODE_DECL)
#undef AB_MODE_DECL

static const struct ab_child_mode *const modes[] = {
#define AB_MODE_PTR(name) &ab_mode_##name,
    AB_CHILD_MODES(AB_MODE_PTR)
    AB_SUPERVISOR_MODES(AB_MODE_PTR)
#undef AB_MODE_PTR
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A request travels in argv: NUL-terminated, at most 128 KiB there. */
    if (size > 1u << 17)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    cJSON *req = NULL;
    const struct ab_child_mode *mode = NULL;
    char err[512] = "";
    int rc = ab_child_request(text, modes, sizeof modes / sizeof modes[0], &req, &mode, err,
                              sizeof err);
    if (rc) {
        /* The message may quote the request (a member's name, line breaks
         * and all): ab_error prints it as one line. */
        AB_FUZZ_CHECK(rc == -EINVAL && err[0]);
    } else {
        /* What ab_child_main relies on in a request that passed. */
        AB_FUZZ_CHECK(mode && cJSON_IsObject(req));
        if (mode->binds_heap) {
            const cJSON *subj = cJSON_GetObjectItemCaseSensitive(req, "subject");
            AB_FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(subj, "kind")));
            AB_FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(subj, "path")));
        }
        for (size_t i = 0; i < mode->nfields; i++)
            if (mode->fields[i].required)
                AB_FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(req, mode->fields[i].key));
    }
    cJSON_Delete(req);
    free(text);
    return 0;
}
