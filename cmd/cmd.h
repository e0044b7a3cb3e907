/* cmd.h — the subcommands.  Each is one file cmd/<name>.c ending in its
 * const descriptor, plus one line in AB_COMMANDS. */
#ifndef AB_CMD_H
#define AB_CMD_H

#include "ab-config.h"

struct ab_command {
    const char *name;
    const char *synopsis;  /* one line for the main --help */
    const char *usage;     /* the whole `help <command>` text */
    int (*main)(int argc, char **argv); /* argv[0] is the command name */
};

/* Commands that need an optional part of the build are absent without it. */
#if AB_HAVE_TRACE
#define AB_COMMANDS_TRACE(X) X(trace)
#else
#define AB_COMMANDS_TRACE(X)
#endif

#define AB_COMMANDS(X) \
    X(run)             \
    X(list)            \
    AB_COMMANDS_TRACE(X)

#define AB_COMMAND_DECL(name) extern const struct ab_command ab_command_##name;
AB_COMMANDS(AB_COMMAND_DECL)
#undef AB_COMMAND_DECL

#endif
