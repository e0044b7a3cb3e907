/* budgets.c — fuzz target: the budget file parser (ab_budgets_parse), the
 * TSV that `check --budgets` reads.  A file it accepts finds every row
 * again under its own key; one it refuses says why, on one line. */
#include "fastpath.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ab_budgets b;
    char err[1024] = "";
    if (ab_budgets_parse("fuzz.tsv", (const char *)data, size, &b, err, sizeof err)) {
        AB_FUZZ_CHECK(err[0] && !strchr(err, '\n'));
        AB_FUZZ_CHECK(!b.b && !b.n);
        return 0;
    }
    AB_FUZZ_CHECK(b.nslots >= b.n);
    for (size_t i = 0; i < b.n; i++) {
        const struct ab_budget *x = &b.b[i];
        if (x->any_size)
            continue;
        /* The most specific row for its own key is itself (no two rows
         * share a key). */
        AB_FUZZ_CHECK(ab_budget_find(&b, x->allocator, x->op, x->size, x->pattern) == x);
    }
    ab_budgets_free(&b);
    return 0;
}
