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

/* common.c: shared by the commands.  Each returns an exit status (after
 * printing the one line) or AB_EXIT_OK. */
#define AB_CMD_MAX_SUBJECTS 16
struct ab_subject;
int ab_cmd_bad_number(const char *opt, const char *val, int rc, const char *range);
/* SIGINT, SIGTERM, SIGHUP kill the child in flight, then this process. */
void ab_cmd_catch_signals(void);
/* --allocator A[,B...]: resolved subjects, no name twice. */
int ab_cmd_subjects(const char *arg, struct ab_subject *out, int max, int *count);
/* --out DIR, or results/runs/<UTC timestamp>, created. */
int ab_cmd_out_dir(const char *out, char *dir, size_t len);

#define AB_COMMAND_DECL(name) extern const struct ab_command ab_command_##name;
AB_COMMANDS(AB_COMMAND_DECL)
#undef AB_COMMAND_DECL

#endif
