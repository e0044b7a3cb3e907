/* main.c — dispatch to a subcommand (parse, then run); --help, --version,
 * help <command>; the supervisor's child modes. */
#include "cmd.h"
#include "modes.h"
#include "proc.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AB_MODE_DECL(name) extern const struct ab_child_mode ab_mode_##name;
AB_SUPERVISOR_MODES(AB_MODE_DECL)
#undef AB_MODE_DECL

static const struct ab_child_mode *const modes[] = {
#define AB_MODE_PTR(name) &ab_mode_##name,
    AB_SUPERVISOR_MODES(AB_MODE_PTR)
#undef AB_MODE_PTR
};

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "__child"))
        return ab_child_main(argv[2], modes, sizeof modes / sizeof modes[0]);
    ab_report_set_command_line(argc, argv);
    struct ab_dispatch d;
    int rc = ab_cmd_dispatch(argc, argv, &d);
    if (rc)
        return rc;
    switch (d.what) {
    case AB_DISPATCH_USAGE:
        ab_cmd_usage(stderr);
        return AB_EXIT_USAGE;
    case AB_DISPATCH_HELP:
        ab_cmd_usage(stdout);
        return AB_EXIT_OK;
    case AB_DISPATCH_VERSION:
        printf("allocbench %s (revision %s, %s build)\n", ab_version,
               ab_git_revision[0] ? ab_git_revision : "unknown", ab_build_type);
        return AB_EXIT_OK;
    case AB_DISPATCH_HELP_COMMAND:
        fputs(d.cmd->usage, stdout);
        return AB_EXIT_OK;
    case AB_DISPATCH_COMMAND:
        break;
    }
    void *args = calloc(1, d.cmd->args_size);
    if (!args)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "out of memory");
    rc = d.cmd->parse(argc - 1, argv + 1, args);
    if (rc == AB_EXIT_OK)
        rc = d.cmd->run(args);
    else if (rc == AB_CMD_DONE)
        rc = AB_EXIT_OK;
    free(args);
    return rc;
}
