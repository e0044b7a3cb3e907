/* workload.c — the registry (workload-list.h, generated from
 * workloads/meson.build) and parameter values. */
#include "workload.h"
#include "workload-list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AB_WORKLOAD_DECL(id) extern const struct ab_workload ab_wl_##id;
AB_WORKLOADS(AB_WORKLOAD_DECL)
#undef AB_WORKLOAD_DECL

static const struct ab_workload *const registry[] = {
#define AB_WORKLOAD_PTR(id) &ab_wl_##id,
    AB_WORKLOADS(AB_WORKLOAD_PTR)
#undef AB_WORKLOAD_PTR
};

const struct ab_workload *const *ab_workloads(size_t *count)
{
    *count = sizeof registry / sizeof registry[0];
    return registry;
}

const struct ab_workload *ab_workload_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

int ab_workload_variant_index(const struct ab_workload *w, const char *name)
{
    for (int i = 0; w->variants[i]; i++)
        if (!strcmp(w->variants[i], name))
            return i;
    return -1;
}

static int choice_index(const char *choices, const char *value)
{
    int idx = 0;
    size_t vlen = strlen(value);
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vlen && !strncmp(p, value, len))
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

static int parse_value(const struct ab_param *d, const char *text, int64_t *out, char *err,
                       size_t n)
{
    switch (d->type) {
    case AB_PARAM_CHOICE: {
        int i = choice_index(d->choices, text);
        if (i < 0) {
            snprintf(err, n, "parameter %s: '%s' is not one of %s", d->name, text, d->choices);
            return -EINVAL;
        }
        *out = i;
        return 0;
    }
    case AB_PARAM_SIZE: {
        uint64_t v;
        int r = ab_parse_u64(text, (uint64_t)d->min, (uint64_t)d->max, true, &v);
        if (r) {
            snprintf(err, n, "parameter %s: '%s' %s [%lld, %lld] bytes", d->name, text,
                     r == -ERANGE ? "is outside" : "is not a byte count in",
                     (long long)d->min, (long long)d->max);
            return r;
        }
        *out = (int64_t)v;
        return 0;
    }
    case AB_PARAM_INT: {
        int r = ab_parse_i64(text, d->min, d->max, out);
        if (r) {
            snprintf(err, n, "parameter %s: '%s' %s [%lld, %lld]", d->name, text,
                     r == -ERANGE ? "is outside" : "is not an integer in", (long long)d->min,
                     (long long)d->max);
            return r;
        }
        return 0;
    }
    }
    return -EINVAL;
}

int ab_params_defaults(const struct ab_workload *w, struct ab_params *p, char *err, size_t n)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < w->nparams; i++)
        if (parse_value(&w->params[i], w->params[i].def, &p->v[i], err, n))
            return -EINVAL;
    return 0;
}

int64_t ab_params_value(const struct ab_workload *w, const struct ab_params *p, const char *name)
{
    for (size_t i = 0; i < w->nparams; i++)
        if (!strcmp(w->params[i].name, name))
            return p->v[i];
    abort(); /* a workload asked for a parameter it does not declare */
}

int ab_params_ordered(const struct ab_workload *w, const struct ab_params *p, const char *lo,
                      const char *hi, bool strict, char *err, size_t n)
{
    int64_t a = ab_params_value(w, p, lo), b = ab_params_value(w, p, hi);
    if (strict ? a < b : a <= b)
        return 0;
    snprintf(err, n, "parameters %s (%lld) and %s (%lld): %s must be %s %s", lo, (long long)a, hi,
             (long long)b, lo, strict ? "below" : "at most", hi);
    return -EINVAL;
}

int ab_params_apply(const struct ab_workload *w, struct ab_params *p, const char *assign,
                    char *err, size_t n)
{
    const char *eq = strchr(assign, '=');
    if (!eq || eq == assign) {
        snprintf(err, n, "parameter '%s' is not key=value", assign);
        return -EINVAL;
    }
    size_t klen = (size_t)(eq - assign);
    for (size_t i = 0; i < w->nparams; i++) {
        if (strlen(w->params[i].name) != klen || strncmp(w->params[i].name, assign, klen))
            continue;
        if (parse_value(&w->params[i], eq + 1, &p->v[i], err, n))
            return -EINVAL;
        p->set[i] = true;
        return 0;
    }
    snprintf(err, n, "workload %s has no parameter '%.*s' (see: allocbench list workloads)",
             w->name, (int)klen, assign);
    return -EINVAL;
}

void ab_params_text(const struct ab_workload *w, const struct ab_params *p, size_t i, char *buf,
                    size_t len)
{
    const struct ab_param *d = &w->params[i];
    if (d->type != AB_PARAM_CHOICE) {
        snprintf(buf, len, "%lld", (long long)p->v[i]);
        return;
    }
    const char *s = d->choices;
    for (int64_t k = 0; k < p->v[i] && s; k++) {
        s = strchr(s, '|');
        if (s)
            s++;
    }
    if (!s)
        s = "";
    const char *bar = strchr(s, '|');
    size_t n = bar ? (size_t)(bar - s) : strlen(s);
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}
