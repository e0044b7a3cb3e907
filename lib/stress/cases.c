/*
 * cases.c — the registry of stress cases (stress/case-<name>.c; case-list.h
 * is generated from stress/meson.build) and the names of their verdicts.
 */
#include "stress.h"
#include "case-list.h"

#include <string.h>

#define AB_CASE_DECL(id) extern const struct ab_stress_case ab_case_##id;
AB_STRESS_CASES(AB_CASE_DECL)
#undef AB_CASE_DECL

static const struct ab_stress_case *const registry[] = {
#define AB_CASE_PTR(id) &ab_case_##id,
    AB_STRESS_CASES(AB_CASE_PTR)
#undef AB_CASE_PTR
};
#define NCASES (sizeof registry / sizeof registry[0])

const struct ab_stress_case *const *ab_stress_cases(size_t *count)
{
    *count = NCASES;
    return registry;
}

int ab_stress_case_index(const char *name)
{
    for (size_t i = 0; i < NCASES; i++)
        if (!strcmp(registry[i]->name, name))
            return (int)i;
    return -1;
}

const char *ab_case_verdict_name(enum ab_case_verdict v)
{
    switch (v) {
    case AB_CASE_PASS: return "pass";
    case AB_CASE_FAIL: return "fail";
    case AB_CASE_INCOMPLETE: return "incomplete";
    case AB_CASE_NA: return "not-applicable";
    }
    return "?";
}

