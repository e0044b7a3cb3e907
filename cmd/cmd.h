/* cmd.h — the subcommands.  Each is one file cmd/<name>.c ending in its
 * const descriptor `ab_command_<name>`, plus one line in cmd/meson.build
 * (command-list.h is generated from it).  cmd/ parses and dispatches,
 * nothing more. */
#ifndef AB_CMD_H
#define AB_CMD_H

#include "ab-config.h"
#include "command-list.h"

#include <stddef.h>

struct ab_command {
    const char *name;
    const char *synopsis;  /* one line for the main --help */
    const char *usage;     /* the whole `help <command>` text */
    int (*main)(int argc, char **argv); /* argv[0] is the command name */
    /* NULL when this build has the command; else why not (it is left out
     * of --help, and running it says this, exit 3). */
    const char *unavailable;
};

/* common.c: what the subcommands share.  Each returns AB_EXIT_OK when all is
 * well, else the exit status (after one line on stderr). */
#define AB_CMD_MAX_SUBJECTS 16
struct ab_subject;
int ab_cmd_bad_number(const char *opt, const char *val, int rc, const char *range);
int ab_cmd_subjects(const char *arg, struct ab_subject *subjects, size_t max, size_t *n);
int ab_cmd_out_dir(const char *given, char *dir, size_t len);
/* A report on stdout (a newline at its end), then freed; NULL prints nothing. */
void ab_cmd_print(char *text);
/* SIGINT, SIGTERM, SIGHUP kill the child in flight, then this process. */
void ab_cmd_catch_signals(void);

#define AB_COMMAND_DECL(name) extern const struct ab_command ab_command_##name;
AB_COMMANDS(AB_COMMAND_DECL)
#undef AB_COMMAND_DECL

#endif
