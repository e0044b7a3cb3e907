/* diag.c — the one table of stable diagnostic codes and the error printer. */
#include "core.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *summary;
} codes[AB_CODE_COUNT] = {
#define AB_CODE_ROW(n, s, sum) [AB_##n] = {#n, s, sum},
    AB_CODES(AB_CODE_ROW)
#undef AB_CODE_ROW
};

const char *ab_code_name(enum ab_code code)
{
    return (unsigned)code < AB_CODE_COUNT ? codes[code].name : "ALLOCBENCH_INTERNAL";
}

const char *ab_code_summary(enum ab_code code)
{
    return (unsigned)code < AB_CODE_COUNT ? codes[code].summary : "";
}

int ab_code_exit_status(enum ab_code code)
{
    return (unsigned)code < AB_CODE_COUNT ? codes[code].status : AB_EXIT_FAIL;
}

enum ab_code ab_code_from_name(const char *name)
{
    for (int c = 0; c < AB_CODE_COUNT; c++)
        if (!strcmp(codes[c].name, name))
            return (enum ab_code)c;
    return AB_ALLOCBENCH_INTERNAL;
}

int ab_error(enum ab_code code, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* One line, whatever the message carried. */
    for (char *c = what; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fprintf(stderr, "allocbench: error: %s (%s)\n", what, ab_code_name(code));
    return ab_code_exit_status(code);
}

void ab_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("allocbench: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ab_fail(enum ab_code *code, enum ab_code c)
{
    if (code)
        *code = c;
    return -EINVAL;
}
