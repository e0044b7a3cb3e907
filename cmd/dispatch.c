/* dispatch.c — the top-level command line: which command, --help,
 * --version, help <command>.  Pure, like every command's parse. */
#include "cmd.h"

#include <string.h>

static const struct ab_command *const commands[] = {
#define AB_COMMAND_PTR(name) &ab_command_##name,
    AB_COMMANDS(AB_COMMAND_PTR)
#undef AB_COMMAND_PTR
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct ab_command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    return NULL;
}

void ab_cmd_usage(FILE *out)
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

int ab_cmd_dispatch(int argc, char **argv, struct ab_dispatch *d)
{
    d->cmd = NULL;
    if (argc < 2) {
        d->what = AB_DISPATCH_USAGE;
        return AB_EXIT_OK;
    }
    const char *c = argv[1];
    bool top = !strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "-V") ||
               !strcmp(c, "--version");
    bool help = !strcmp(c, "help");
    /* Nothing may follow what takes no argument: a stray word is a
     * mistake, never ignored. */
    if ((top && argc > 2) || (help && argc > 3))
        return ab_error(AB_ALLOCBENCH_USAGE, "%s: unexpected argument '%s' (see: allocbench "
                                             "--help)",
                        c, argv[top ? 2 : 3]);
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || (help && argc < 3)) {
        d->what = AB_DISPATCH_HELP;
        return AB_EXIT_OK;
    }
    if (!strcmp(c, "-V") || !strcmp(c, "--version")) {
        d->what = AB_DISPATCH_VERSION;
        return AB_EXIT_OK;
    }
    const char *name = help ? argv[2] : c;
    const struct ab_command *cmd = find(name);
    if (!cmd)
        return ab_error(AB_ALLOCBENCH_USAGE, "no command '%s' (see: allocbench --help)", name);
    if (cmd->unavailable)
        return ab_error(AB_ALLOCBENCH_NOT_INSTALLED, "%s is not in this build: %s", cmd->name,
                        cmd->unavailable);
    d->what = help ? AB_DISPATCH_HELP_COMMAND : AB_DISPATCH_COMMAND;
    d->cmd = cmd;
    return AB_EXIT_OK;
}
