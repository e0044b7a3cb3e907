/* main.c — dispatch to a subcommand; --help, --version, help <command>. */
#include "cmd.h"
#include "modes.h"
#include "proc.h"
#include "report.h"

#include <stdio.h>
#include <string.h>

static const struct ab_command *const commands[] = {
#define AB_COMMAND_PTR(name) &ab_command_##name,
    AB_COMMANDS(AB_COMMAND_PTR)
#undef AB_COMMAND_PTR
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

#define AB_MODE_DECL(name) extern const struct ab_child_mode ab_mode_##name;
AB_SUPERVISOR_MODES(AB_MODE_DECL)
#undef AB_MODE_DECL

static const struct ab_child_mode *const modes[] = {
#define AB_MODE_PTR(name) &ab_mode_##name,
    AB_SUPERVISOR_MODES(AB_MODE_PTR)
#undef AB_MODE_PTR
};

static const struct ab_command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "allocbench %s: benchmark and stress-test memory allocators\n\n"
                 "usage: allocbench <command> [options]\n\ncommands:\n",
            ab_version);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!commands[i]->unavailable)
            fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->synopsis);
    fprintf(out, "  %-10s %s\n", "help", "show a command's options: allocbench help <command>");
    fputs("\noptions:\n"
          "  -h, --help     this text\n"
          "  -V, --version  version, revision and build type\n"
          "\nexit status:\n"
          "  0  everything held\n"
          "  1  a trial, check or verdict failed (a crashed or hung allocator included)\n"
          "  2  usage or input error (one line on stderr says which)\n"
          "  3  a required resource is missing (an allocator not installed, privileges)\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "__child"))
        return ab_child_main(argv[2], modes, sizeof modes / sizeof modes[0]);
    if (argc < 2) {
        usage(stderr);
        return AB_EXIT_USAGE;
    }
    ab_report_set_command_line(argc, argv);
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help")) {
        usage(stdout);
        return AB_EXIT_OK;
    }
    if (!strcmp(c, "-V") || !strcmp(c, "--version")) {
        printf("allocbench %s (revision %s, %s build)\n", ab_version,
               ab_git_revision[0] ? ab_git_revision : "unknown", ab_build_type);
        return AB_EXIT_OK;
    }
    if (!strcmp(c, "help")) {
        if (argc < 3) {
            usage(stdout);
            return AB_EXIT_OK;
        }
        const struct ab_command *cmd = find(argv[2]);
        if (!cmd)
            return ab_error(AB_ALLOCBENCH_USAGE, "no command '%s' (see: allocbench --help)",
                            argv[2]);
        if (cmd->unavailable)
            return ab_error(AB_ALLOCBENCH_NOT_INSTALLED, "%s is not in this build: %s",
                            cmd->name, cmd->unavailable);
        fputs(cmd->usage, stdout);
        return AB_EXIT_OK;
    }
    const struct ab_command *cmd = find(c);
    if (!cmd)
        return ab_error(AB_ALLOCBENCH_USAGE, "no command '%s' (see: allocbench --help)", c);
    if (cmd->unavailable)
        return ab_error(AB_ALLOCBENCH_NOT_INSTALLED, "%s is not in this build: %s", cmd->name,
                        cmd->unavailable);
    return cmd->main(argc - 1, argv + 1);
}
