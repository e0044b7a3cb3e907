/* cmd.h — the subcommands.  Each is one file cmd/<name>.c ending in its
 * const descriptor `ab_command_<name>`, plus one line in cmd/meson.build
 * (command-list.h is generated from it).  cmd/ parses and dispatches,
 * nothing more.  A command is two steps: parse, pure (the command-line
 * fuzz target drives it alone), then run. */
#ifndef AB_CMD_H
#define AB_CMD_H

#include "ab-config.h"
#include "command-list.h"
#include "core.h"
#include "shard.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ab_command {
    const char *name;
    const char *synopsis;  /* one line for the main --help */
    const char *usage;     /* the whole `help <command>` text */
    /* Fill args (args_size bytes, zeroed by the caller) from argv (argv[0]
     * is the command name) and check everything that needs neither the
     * file system nor a child process: option values and ranges, lists,
     * duplicates, options that exclude each other.  Returns AB_EXIT_OK,
     * AB_CMD_DONE (after --help), or an exit status after one line on
     * stderr.  It never exits and allocates nothing (args may point into
     * argv), so it can be called again and again. */
    int (*parse)(int argc, char **argv, void *args);
    size_t args_size;
    /* The work, on what parse filled; the exit status. */
    int (*run)(void *args);
    /* NULL when this build has the command; else why not (it is left out
     * of --help, and running it says this, exit 3). */
    const char *unavailable;
};

/* options.c: the one options parser.  A command's own options have ids
 * from 256 up; the common ones it takes are named by AB_COMMON_* bits. */
enum {
    AB_COMMON_FORMAT = 1u << 0,
    AB_COMMON_OUT = 1u << 1,
    AB_COMMON_SEED = 1u << 2,
    AB_COMMON_TIMEOUT = 1u << 3,
    AB_COMMON_REPETITIONS = 1u << 4,
    AB_COMMON_WARMUP = 1u << 5,
};
#define AB_CMD_MAX_OPTS 32
#define AB_CMD_MAX_REPETITIONS 100000
#define AB_CMD_MAX_WARMUP 10000000
/* Returned by ab_cmd_parse after --help: the command is done, exit 0. */
#define AB_CMD_DONE (-1)

struct ab_opt {
    const char *name;
    bool value;               /* takes a value */
    int id;                   /* 256 and up */
};

/* The common options' values; the command sets its defaults first. */
struct ab_common {
    const char *format;       /* a format that prints the command's report */
    const char *out;          /* NULL: the default folder */
    uint64_t seed;
    double timeout_s;
    uint64_t repetitions, warmup;
    bool seed_set, timeout_set;
};

/* Positional arguments: between min and max of them (missing: the message
 * when fewer); with rest, everything after the options is a command line
 * of its own (trace -- CMD). */
struct ab_args {
    unsigned min, max, n;
    const char **v;           /* room for max of them; NULL: v is set to
                               * where they are in argv (getopt moves them
                               * to its end) */
    const char *missing;
    bool rest;
    int rest_argc;
    char **rest_argv;
};

/* Parse argv (argv[0] is the command's name): own options go to on_opt,
 * which returns AB_EXIT_OK or an exit status after one line on stderr.
 * Returns AB_EXIT_OK, AB_CMD_DONE (after --help) or an exit status. */
int ab_cmd_parse(int argc, char **argv, const struct ab_command *cmd, unsigned which,
                 struct ab_common *c, const struct ab_opt *own, size_t nown,
                 int (*on_opt)(int id, const char *value, void *ctx), void *ctx,
                 struct ab_args *pos);

/* --format V for a report of any of commands (NULL-terminated): *format
 * set, or the exit status after one line naming the formats that would do. */
int ab_cmd_format(const char *v, const char *const *commands, const char **format);

/* common.c: what the subcommands share.  Each returns AB_EXIT_OK when all is
 * well, else the exit status (after one line on stderr). */
#define AB_CMD_MAX_SUBJECTS 16
struct ab_subject;
struct ab_observer;
int ab_cmd_bad_number(const char *opt, const char *val, int rc, const char *range);
/* --shard VAL refused by ab_shard_parse with rc. */
int ab_cmd_bad_shard(const char *val, int rc);
/* Split an option's comma list (empty items and more than max refused,
 * naming the option), or the exit status after one line. */
int ab_cmd_list(const char *opt, const char *arg, char items[][AB_NAME_MAX * 4], int max,
                int *n);
/* The --allocator list, split (parse): at most AB_CMD_MAX_SUBJECTS. */
struct ab_cmd_allocators {
    char item[AB_CMD_MAX_SUBJECTS][AB_NAME_MAX * 4];
    int n;
};
int ab_cmd_allocators(const char *arg, struct ab_cmd_allocators *out);
/* Resolve them (run: the file system, a child for a path); one library
 * named twice is refused. */
int ab_cmd_subjects(const struct ab_cmd_allocators *a, struct ab_subject *subjects, size_t *n);
int ab_cmd_out_dir(const char *given, char *dir, size_t len);
/* The report of a command: doc's files written into out_dir (every
 * format's, as one set), then doc shown on stdout in format; for people, a
 * last line names every report file written, those of where (NULL-terminated)
 * first.
 * Deletes doc (NULL: out of memory). */
struct cJSON;
int ab_cmd_report(struct cJSON *doc, const char *out_dir, const char *format,
                  const char *const *where);
/* What the engines say, shown on the console (stderr). */
const struct ab_observer *ab_cmd_observer(void);
/* SIGINT, SIGTERM, SIGHUP kill the child in flight, then this process. */
void ab_cmd_catch_signals(void);

/* dispatch.c: the top-level command line (argv[0] is the program). */
enum ab_dispatch_what {
    AB_DISPATCH_USAGE,        /* no command: the usage on stderr, exit 2 */
    AB_DISPATCH_HELP,         /* --help, or help alone */
    AB_DISPATCH_VERSION,      /* --version */
    AB_DISPATCH_HELP_COMMAND, /* help <command>: its usage */
    AB_DISPATCH_COMMAND,      /* run the command on argv + 1 */
};
struct ab_dispatch {
    enum ab_dispatch_what what;
    const struct ab_command *cmd;
};
/* AB_EXIT_OK with d filled, or an exit status after one line on stderr
 * (no such command, one this build lacks). */
int ab_cmd_dispatch(int argc, char **argv, struct ab_dispatch *d);
void ab_cmd_usage(FILE *out);

#define AB_COMMAND_DECL(name) extern const struct ab_command ab_command_##name;
AB_COMMANDS(AB_COMMAND_DECL)
#undef AB_COMMAND_DECL

#endif
