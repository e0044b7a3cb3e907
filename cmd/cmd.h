/* cmd.h — the subcommands.  Each is one file cmd/<name>.c ending in its
 * const descriptor, plus one line in AB_COMMANDS. */
#ifndef AB_CMD_H
#define AB_CMD_H

struct ab_command {
    const char *name;
    const char *synopsis;  /* one line for the main --help */
    const char *usage;     /* the whole `help <command>` text */
    int (*main)(int argc, char **argv); /* argv[0] is the command name */
};

#define AB_COMMANDS(X) \
    X(run)             \
    X(list)            \
    X(fastpath)        \
    X(check)

#define AB_COMMAND_DECL(name) extern const struct ab_command ab_command_##name;
AB_COMMANDS(AB_COMMAND_DECL)
#undef AB_COMMAND_DECL

#endif
