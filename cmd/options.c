/*
 * options.c — the one options parser: a command's own options and the
 * common ones (--format, --out, --seed, --timeout, --repetitions, --warmup,
 * --help), with the same names, ranges and messages in every command, and
 * positional arguments counted.
 */
#include "report.h"
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

enum { OPT_FORMAT = 1, OPT_OUT, OPT_SEED, OPT_TIMEOUT, OPT_REPS, OPT_WARMUP, OPT_HELP,
       NCOMMON = OPT_HELP };

static const struct ab_opt common[NCOMMON] = {
    {"format", true, OPT_FORMAT},   {"out", true, OPT_OUT},
    {"seed", true, OPT_SEED},       {"timeout", true, OPT_TIMEOUT},
    {"repetitions", true, OPT_REPS}, {"warmup", true, OPT_WARMUP},
    {"help", false, OPT_HELP},
};

static bool wanted(unsigned which, int id)
{
    return id == OPT_HELP || (which & (1u << (id - 1)));
}

static bool prints_any(const struct ab_format *f, const char *const *commands)
{
    for (size_t i = 0; f && commands[i]; i++)
        if (ab_format_prints(f, commands[i]))
            return true;
    return false;
}

int ab_cmd_format(const char *v, const char *const *commands, const char **format)
{
    if (prints_any(ab_format_find(v), commands)) {
        *format = v;
        return AB_EXIT_OK;
    }
    /* "expected a, b or c": the formats that would do, in the list's order. */
    char names[256] = "";
    size_t n, k = 0, last = 0;
    const struct ab_format *const *all = ab_formats(&n);
    for (size_t i = 0; i < n; i++)
        if (prints_any(all[i], commands))
            last = i;
    for (size_t i = 0; i < n; i++) {
        if (!prints_any(all[i], commands))
            continue;
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", !k ? "" : i == last ? " or " : ", ",
                 all[i]->name);
        k++;
    }
    return ab_error(AB_ALLOCBENCH_USAGE, "--format %s: expected %s", v, names);
}

/* --format: a registered format that prints this command's report. */
static int format_value(const char *cmd, const char *v, struct ab_common *c)
{
    const char *const commands[] = {cmd, NULL};
    return ab_cmd_format(v, commands, &c->format);
}

static int common_value(const char *cmd, int id, const char *v, struct ab_common *c)
{
    int rc = 0;
    switch (id) {
    case OPT_FORMAT: return format_value(cmd, v, c);
    case OPT_OUT: c->out = v; return AB_EXIT_OK;
    case OPT_SEED:
        if ((rc = ab_parse_u64(v, 0, UINT64_MAX, false, &c->seed)))
            return ab_cmd_bad_number("seed", v, rc, "[0, 2^64-1]");
        c->seed_set = true;
        return AB_EXIT_OK;
    case OPT_TIMEOUT:
        if ((rc = ab_parse_double(v, 0.1, 86400, &c->timeout_s)))
            return ab_cmd_bad_number("timeout", v, rc, "[0.1, 86400] seconds");
        c->timeout_set = true;
        return AB_EXIT_OK;
    case OPT_REPS:
        if ((rc = ab_parse_u64(v, 1, AB_CMD_MAX_REPETITIONS, false, &c->repetitions)))
            return ab_cmd_bad_number("repetitions", v, rc, "[1, 100000]");
        return AB_EXIT_OK;
    case OPT_WARMUP:
        if ((rc = ab_parse_u64(v, 0, AB_CMD_MAX_WARMUP, false, &c->warmup)))
            return ab_cmd_bad_number("warmup", v, rc, "[0, 10000000]");
        return AB_EXIT_OK;
    default: break;
    }
    return ab_error(AB_ALLOCBENCH_INTERNAL, "%s: option %d", cmd, id);
}

int ab_cmd_parse(int argc, char **argv, const struct ab_command *cmd, unsigned which,
                 struct ab_common *c, const struct ab_opt *own, size_t nown,
                 int (*on_opt)(int id, const char *value, void *ctx), void *ctx,
                 struct ab_args *pos)
{
    struct option table[AB_CMD_MAX_OPTS + NCOMMON + 1];
    size_t n = 0;
    if (nown > AB_CMD_MAX_OPTS)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "%s: too many options", cmd->name);
    for (size_t i = 0; i < nown; i++)
        table[n++] = (struct option){own[i].name, own[i].value ? required_argument : no_argument,
                                     NULL, own[i].id};
    for (size_t i = 0; i < NCOMMON; i++)
        if (wanted(which, common[i].id))
            table[n++] = (struct option){common[i].name,
                                         common[i].value ? required_argument : no_argument,
                                         NULL, common[i].id};
    table[n] = (struct option){NULL, 0, NULL, 0};
    pos->n = 0;
    opterr = 0;
    /* 0, not 1: glibc then starts afresh (the ordering "+" asks for, the
     * rest of a cluster like -xyz left from an earlier parse). */
    optind = 0;
    /* "+": options stop at the first positional argument only where the
     * command takes a command line of its own (trace -- CMD). */
    const char *shortopts = pos->rest ? "+" : "";
    int id;
    while ((id = getopt_long(argc, argv, shortopts, table, NULL)) != -1) {
        if (id == '?' || id == ':') {
            /* optopt: a long option without its value sets its id; a short
             * option (every one is unknown) its character, and optind
             * stays on a -xyz cluster until its last. */
            const char *arg = argv[optind - 1];
            bool long_opt = !strncmp(arg, "--", 2);
            if (optopt >= 256 || (optopt && optopt <= NCOMMON && long_opt))
                return ab_error(AB_ALLOCBENCH_USAGE, "%s: option '%s' needs a value",
                                cmd->name, arg);
            if (optopt)
                return ab_error(AB_ALLOCBENCH_USAGE, "%s: unknown option '-%c' (see: "
                                "allocbench help %s)", cmd->name, optopt, cmd->name);
            return ab_error(AB_ALLOCBENCH_USAGE, "%s: unknown option '%s' (see: allocbench "
                            "help %s)", cmd->name, arg, cmd->name);
        }
        if (id == OPT_HELP) {
            fputs(cmd->usage, stdout);
            return AB_CMD_DONE;
        }
        int rc = id < 256 ? common_value(cmd->name, id, optarg, c) : on_opt(id, optarg, ctx);
        if (rc != AB_EXIT_OK)
            return rc;
    }
    /* v NULL: they stay where getopt moved them, at the end of argv. */
    bool in_place = !pos->v && !pos->rest;
    if (in_place)
        pos->v = (const char **)argv + optind;
    for (int i = optind; i < argc; i++) {
        if (pos->rest) {
            /* Everything from here on is the command line to run. */
            pos->rest_argv = argv + i;
            pos->rest_argc = argc - i;
            break;
        }
        if (pos->n == pos->max)
            return ab_error(AB_ALLOCBENCH_USAGE, "%s: unexpected argument '%s'", cmd->name,
                            argv[i]);
        if (!in_place)
            pos->v[pos->n] = argv[i];
        pos->n++;
    }
    if (pos->n < pos->min)
        return ab_error(AB_ALLOCBENCH_USAGE, "%s: %s", cmd->name, pos->missing);
    return AB_EXIT_OK;
}
