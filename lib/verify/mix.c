/*
 * mix.c — size mixes (the sizes a case or a profile draws from) and the
 * names of the hook policies.
 */
#include "verify.h"

#include <errno.h>
#include <string.h>

const char *ab_hook_policy_name(enum ab_hook_policy h)
{
    return h == AB_HOOK_OPT_IN ? "opt-in" : "forbid";
}

int ab_size_mix_parse(const char *text, uint64_t max, struct ab_size_mix *out, char *err,
                      size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!*text || strlen(text) >= 256) {
        snprintf(err, errlen, "'%s' is not a size mix (LO-HI:WEIGHT,...)", text);
        return -EINVAL;
    }
    static char items[AB_MIX_MAX + 1][AB_NAME_MAX * 4];
    int ni = ab_split_list(text, items, AB_MIX_MAX);
    if (ni == -E2BIG) {
        snprintf(err, errlen, "'%s': at most %d ranges", text, AB_MIX_MAX);
        return -EINVAL;
    }
    if (ni < 0) {
        snprintf(err, errlen, "'%s': an empty range in the list", text);
        return -EINVAL;
    }
    for (int i = 0; i < ni; i++) {
        char *item = items[i];
        char *colon = strchr(item, ':');
        uint64_t w = 1;
        if (colon) {
            *colon = '\0';
            if (ab_parse_u64(colon + 1, 1, 1000000, false, &w)) {
                snprintf(err, errlen, "'%s': weight '%s' is not in [1, 1000000]", text,
                         colon + 1);
                return -EINVAL;
            }
        }
        char *dash = strchr(item, '-');
        uint64_t lo, hi;
        if (dash)
            *dash = '\0';
        if (ab_parse_u64(item, 1, max, true, &lo) ||
            ab_parse_u64(dash ? dash + 1 : item, 1, max, true, &hi) || hi < lo) {
            snprintf(err, errlen, "'%s': range '%s%s%s' is not LO-HI with 1 <= LO <= HI <= %llu",
                     text, item, dash ? "-" : "", dash ? dash + 1 : "", (unsigned long long)max);
            return -EINVAL;
        }
        out->lo[out->n] = lo;
        out->hi[out->n] = hi;
        out->weight[out->n] = (uint32_t)w;
        out->total += (uint32_t)w;
        out->n++;
    }
    if (!out->n) {
        snprintf(err, errlen, "'%s' is not a size mix (LO-HI:WEIGHT,...)", text);
        return -EINVAL;
    }
    return 0;
}

size_t ab_size_mix_pick(const struct ab_size_mix *m, uint64_t *rng)
{
    uint64_t r = ab_rng_next(rng);
    uint32_t w = (uint32_t)((r >> 32) % m->total);
    unsigned i = 0;
    while (w >= m->weight[i]) {
        w -= m->weight[i];
        i++;
    }
    return (size_t)(m->lo[i] + (r & 0xffffffffu) % (m->hi[i] - m->lo[i] + 1));
}

uint64_t ab_size_mix_max(const struct ab_size_mix *m)
{
    uint64_t max = 0;
    for (unsigned i = 0; i < m->n; i++)
        if (m->hi[i] > max)
            max = m->hi[i];
    return max;
}

