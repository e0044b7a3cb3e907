/*
 * child-main.c — allocbench-trial, the process the allocator under test
 * owns: one request (`__child <json>`) of a mode from cmd/modes.h, answered
 * on descriptor 3.  It links only what a trial needs (no capstone, hwloc,
 * libbpf), so what it maps before the allocator's first call is close to a
 * bare C program's, and a sanitized build leaves it unsanitized.
 */
#include "modes.h"
#include "proc.h"

#include <string.h>

#define AB_MODE_DECL(name) extern const struct ab_child_mode ab_mode_##name;
AB_CHILD_MODES(AB_MODE_DECL)
#undef AB_MODE_DECL

static const struct ab_child_mode *const modes[] = {
#define AB_MODE_PTR(name) &ab_mode_##name,
    AB_CHILD_MODES(AB_MODE_PTR)
#undef AB_MODE_PTR
};

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "__child"))
        return ab_error(AB_ALLOCBENCH_USAGE,
                        "allocbench-trial runs the trials of allocbench: allocbench-trial "
                        "__child REQUEST");
    return ab_child_main(argv[2], modes, sizeof modes / sizeof modes[0]);
}
