/* counter.c — the registry of counter backends (counter-list.h, generated
 * from counters/meson.build) and the choice among them. */
#include "counter.h"
#include "counter-list.h"

#include <cJSON.h>
#include <errno.h>
#include <string.h>

#define AB_COUNTER_DECL(name) extern const struct ab_counter ab_counter_##name;
AB_COUNTERS(AB_COUNTER_DECL)
#undef AB_COUNTER_DECL

static const struct ab_counter *const registry[] = {
#define AB_COUNTER_PTR(name) &ab_counter_##name,
    AB_COUNTERS(AB_COUNTER_PTR)
#undef AB_COUNTER_PTR
};


const struct ab_counter *const *ab_counters(size_t *count)
{
    *count = sizeof registry / sizeof registry[0];
    return registry;
}

const struct ab_counter *ab_counter_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

static int probe(const struct ab_counter *c, char *version, size_t vlen, char *why,
                 size_t wlen)
{
    if (c->unavailable) {
        snprintf(why, wlen, "not in this build: %s", c->unavailable);
        return -ENODEV;
    }
    return c->probe(version, vlen, why, wlen);
}

int ab_counter_choose(const char *name, const struct ab_counter **out, char *version,
                      size_t vlen, char *why, size_t wlen)
{
    *out = NULL;
    version[0] = why[0] = '\0';
    if (strcmp(name, "auto")) {
        const struct ab_counter *c = ab_counter_find(name);
        if (!c) {
            snprintf(why, wlen, "no counter '%s' (see: allocbench list counters)", name);
            return -ENOENT;
        }
        int rc = probe(c, version, vlen, why, wlen);
        if (rc == 0)
            *out = c;
        return rc;
    }
    /* auto: the first in the registry's order that counts here. */
    size_t used = 0;
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++) {
        const struct ab_counter *c = registry[i];
        char w[256] = "";
        if (probe(c, version, vlen, w, sizeof w) == 0) {
            *out = c;
            why[0] = '\0';
            return 0;
        }
        int n = snprintf(why + used, wlen - used, "%s%s: %s", used ? "; " : "", c->name, w);
        if (n > 0 && used + (size_t)n < wlen)
            used += (size_t)n;
    }
    if (!used)
        snprintf(why, wlen, "this build has no counter backend");
    return -ENODEV;
}

/* The child mode "supervise": a backend that watches its measuring child
 * from outside runs here, in a re-executed allocbench with nothing
 * preloaded. */
static cJSON *supervise(const cJSON *req, struct ab_heap *heap)
{
    (void)heap;
    const struct ab_counter *c = ab_counter_find(ab_json_str(req, "counter"));
    if (!c || !c->supervise)
        return ab_child_error(AB_ALLOCBENCH_INTERNAL, "no such supervisor");
    return c->supervise(req);
}

static const struct ab_field supervise_fields[] = {
    {"counter", AB_FIELD_STR, true, 1, 32},
    {"preload", AB_FIELD_STR, false, 1, PATH_MAX - 1},
    {"inner", AB_FIELD_STR, true, 2, 1 << 20},
    {"limit_s", AB_FIELD_NUM, true, 0, 86400},
};

static int supervise_check(const cJSON *req, char *err, size_t len)
{
    const struct ab_counter *c = ab_counter_find(ab_json_str(req, "counter"));
    if (!c || !c->supervise)
        return snprintf(err, len, "the supervise request names no supervising counter"),
               -EINVAL;
    return 0;
}

const struct ab_child_mode ab_mode_supervise = {
    .name = "supervise",
    .binds_heap = false,
    AB_FIELDS(supervise_fields),
    .check = supervise_check,
    .run = supervise,
};
