/* profiles.c — fuzz target: the stress profiles parser (ab_profiles_parse),
 * which reads stress/profiles.tsv in the parent and its text again in every
 * stress child.  The text is NUL-terminated, at most AB_PROFILES_MAX bytes
 * as ab_profiles_load reads it. */
#include "stress.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > AB_PROFILES_MAX)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct ab_profiles ps;
    char err[1024] = "";
    if (ab_profiles_parse("fuzz.tsv", text, &ps, err, sizeof err)) {
        AB_FUZZ_CHECK(err[0] && !strchr(err, '\n'));
        AB_FUZZ_CHECK(!ps.p && !ps.n);
    } else {
        AB_FUZZ_CHECK(ps.n > 0);
        for (size_t i = 0; i < ps.n; i++) {
            const struct ab_profile *p = &ps.p[i];
            AB_FUZZ_CHECK(ab_profile_find(&ps, p->name) == p);
            unsigned t = ab_profile_threads(p);
            AB_FUZZ_CHECK(t >= 1 && t <= AB_MAX_THREADS);
            AB_FUZZ_CHECK(p->ops || p->duration_s > 0);
            AB_FUZZ_CHECK(p->sizes.n > 0 && p->large.n > 0 && p->cases.n > 0);
            AB_FUZZ_CHECK(p->sizes.total > 0 && p->large.total > 0);
        }
        ab_profiles_free(&ps);
    }
    free(text);
    return 0;
}
