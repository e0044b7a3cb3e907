/* common.c — what several subcommands parse and set up the same way. */
#include "ab.h"
#include "cmd.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

int ab_cmd_bad_number(const char *opt, const char *val, int rc, const char *range)
{
    return ab_error(AB_ALLOCBENCH_USAGE, "--%s %s: %s %s", opt, val,
                    rc == -ERANGE ? "outside" : "not a number in", range);
}

static void on_signal(int sig)
{
    ab_runner_abort();
    signal(sig, SIG_DFL);
    raise(sig);
}

void ab_cmd_catch_signals(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

int ab_cmd_subjects(const char *arg, struct ab_subject *out, int max, int *count)
{
    static char items[AB_CMD_MAX_SUBJECTS][AB_NAME_MAX * 4];
    char err[1024];
    if (max > AB_CMD_MAX_SUBJECTS)
        max = AB_CMD_MAX_SUBJECTS;
    int n = ab_split_list(arg, items, max);
    if (n < 0)
        return ab_error(AB_ALLOCBENCH_USAGE, "--allocator %s: a list of at most %d allocators",
                        arg, max);
    for (int i = 0; i < n; i++) {
        int code = ab_subject_resolve(items[i], &out[i], err, sizeof err);
        if (code >= 0)
            return ab_error((enum ab_code)code, "%s", err);
        for (int j = 0; j < i; j++)
            if (!strcmp(out[j].name, out[i].name))
                return ab_error(AB_ALLOCBENCH_USAGE, "--allocator names '%s' twice",
                                out[i].name);
    }
    *count = n;
    return AB_EXIT_OK;
}

int ab_cmd_out_dir(const char *out, char *dir, size_t len)
{
    if (out) {
        ab_strlcpy(dir, out, len);
    } else {
        char stamp[32];
        ab_utc_stamp(stamp, sizeof stamp);
        snprintf(dir, len, "results/runs/%s", stamp);
    }
    int rc = ab_mkdir_p(dir);
    if (rc)
        return ab_error(AB_ALLOCBENCH_OUTPUT, "--out %s cannot be written: %s", dir,
                        strerror(-rc));
    return AB_EXIT_OK;
}
