/* shard.c — `--shard K/N`: which slice of a command's configurations this
 * process runs.  Every shard computes the same slices from the matrix
 * alone (never from the machine it landed on), so N processes on N
 * machines cover the matrix exactly once between them. */
#include "core.h"
#include "shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ab_shard_parse(const char *s, struct ab_shard *out)
{
    const char *slash = strchr(s, '/');
    char k[24];
    if (!slash || (size_t)(slash - s) >= sizeof k)
        return -EINVAL;
    memcpy(k, s, (size_t)(slash - s));
    k[slash - s] = '\0';
    uint64_t index, count;
    int rc = ab_parse_u64(k, 0, UINT64_MAX, false, &index);
    if (!rc)
        rc = ab_parse_u64(slash + 1, 0, UINT64_MAX, false, &count);
    if (rc)
        return -EINVAL;
    if (count < 1 || count > AB_SHARD_MAX || index >= count)
        return -ERANGE;
    out->index = (unsigned)index;
    out->count = (unsigned)count;
    return 0;
}

struct item {
    double cost;
    size_t i;
};

static int by_cost(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int ab_shard_assign(const double *cost, size_t n, unsigned count, unsigned *shard_of)
{
    struct item *it = malloc((n ? n : 1) * sizeof *it);
    double *load = calloc(count ? count : 1, sizeof *load);
    if (!it || !load) {
        free(it);
        free(load);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        it[i] = (struct item){cost[i], i};
    /* Longest first, each to the lightest slice so far (the lowest index
     * among equals): Graham's LPT, within 4/3 of the best split. */
    qsort(it, n, sizeof *it, by_cost);
    for (size_t j = 0; j < n; j++) {
        unsigned best = 0;
        for (unsigned s = 1; s < count; s++)
            if (load[s] < load[best])
                best = s;
        shard_of[it[j].i] = best;
        load[best] += it[j].cost;
    }
    free(it);
    free(load);
    return 0;
}
