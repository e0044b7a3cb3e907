/* common.c — option handling the subcommands share: allocator lists, the
 * report folder, a number out of range, writing and showing the report,
 * and leaving no child behind on a signal. */
#include "report.h"
#include "cmd.h"

#include <cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

int ab_cmd_bad_number(const char *opt, const char *val, int rc, const char *range)
{
    return ab_error(AB_ALLOCBENCH_USAGE, "--%s %s: %s %s", opt, val,
                    rc == -ERANGE ? "outside" : "not a number in", range);
}

int ab_cmd_bad_shard(const char *val, int rc)
{
    if (rc == -ERANGE)
        return ab_error(AB_ALLOCBENCH_USAGE, "--shard %s: outside 0 <= K < N <= %d", val,
                        AB_SHARD_MAX);
    return ab_error(AB_ALLOCBENCH_USAGE, "--shard %s: not K/N (the K-th of N slices, from 0)",
                    val);
}

int ab_cmd_list(const char *opt, const char *arg, char items[][AB_NAME_MAX * 4], int max,
                int *n)
{
    *n = ab_split_list(arg, items, max);
    if (*n == -E2BIG)
        return ab_error(AB_ALLOCBENCH_USAGE, "--%s %s: a list of at most %d items", opt, arg,
                        max);
    if (*n < 0)
        return ab_error(AB_ALLOCBENCH_USAGE,
                        "--%s '%s': an empty item (or one over %d bytes) in the list", opt, arg,
                        AB_NAME_MAX * 4 - 1);
    return AB_EXIT_OK;
}

int ab_cmd_allocators(const char *arg, struct ab_cmd_allocators *out)
{
    return ab_cmd_list("allocator", arg, out->item, AB_CMD_MAX_SUBJECTS, &out->n);
}

int ab_cmd_subjects(const struct ab_cmd_allocators *a, struct ab_subject *subjects, size_t *n)
{
    char err[1024];
    for (int i = 0; i < a->n; i++) {
        enum ab_code code;
        if (ab_subject_resolve(a->item[i], &subjects[i], err, sizeof err, &code))
            return ab_error(code, "%s", err);
        for (int j = 0; j < i; j++) {
            if (!strcmp(subjects[j].name, subjects[i].name))
                return ab_error(AB_ALLOCBENCH_USAGE, "--allocator names '%s' twice",
                                subjects[i].name);
            /* One library under two spellings is one allocator measured
             * twice as two (an A/A test takes a copy at another path). */
            if (subjects[j].kind == subjects[i].kind && !strcmp(subjects[j].path, subjects[i].path))
                return ab_error(AB_ALLOCBENCH_USAGE, "--allocator names %s twice (as %s and %s)",
                                subjects[i].path, subjects[j].spec, subjects[i].spec);
        }
    }
    *n = (size_t)a->n;
    return AB_EXIT_OK;
}

/* The report folder this process made (removed again, if still empty, when
 * the reports cannot be written). */
static char made_dir[PATH_MAX];

int ab_cmd_out_dir(const char *given, char *dir, size_t len)
{
    struct stat st;
    bool existed = given && !stat(given, &st);
    int rc = ab_out_dir_prepare(given, dir, len);
    if (!rc && !existed)
        ab_strlcpy(made_dir, dir, sizeof made_dir);
    if (!rc && (rc = ab_out_dir_probe(dir)) && !existed)
        rmdir(dir);
    if (rc)
        return ab_error(AB_ALLOCBENCH_OUTPUT, "--out %s cannot be written: %s",
                        given ? given : dir, strerror(-rc));
    return AB_EXIT_OK;
}

static void reports_line(const char *out_dir, const char *const *where);

int ab_cmd_report(struct cJSON *doc, const char *out_dir, const char *format,
                  const char *const *where)
{
    char err[1024];
    if (!doc)
        return ab_error(AB_ALLOCBENCH_OUTPUT, "out of memory building the report");
    int status = AB_EXIT_OK;
    const struct ab_format *f = ab_format_find(format);
    bool written = !ab_report_write(doc, out_dir, err, sizeof err), printed = false;
    if (f && f->print) {
        /* Printed even when the set could not be written: then standard
         * output holds all that is left of the run. */
        char *text = f->print(doc);
        if (!text)
            status = ab_error(AB_ALLOCBENCH_OUTPUT, "out of memory formatting the %s output",
                              format);
        else
            fputs(text, stdout);
        fflush(stdout);
        printed = text != NULL;
        free(text);
        if (text && written && f->for_people && where)
            reports_line(out_dir, where);
    }
    if (!written && made_dir[0] && !strcmp(made_dir, out_dir))
        rmdir(out_dir);
    if (!written)
        status = ab_error(AB_ALLOCBENCH_OUTPUT, "%s; no report of this run is under %s%s", err,
                          out_dir, printed ? ", its results are on standard output only" : "");
    cJSON_Delete(doc);
    return status;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "reports: " and every report file the set holds: those of where first,
 * in its order, then the others by name (a file a workload wrote only when
 * it had rows for it included). */
static void reports_line(const char *out_dir, const char *const *where)
{
    char *names[64];
    size_t n = 0;
    DIR *d = opendir(out_dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64) {
        if (!ab_report_file_known(e->d_name))
            continue;
        bool listed = false;
        for (size_t i = 0; where[i] && !listed; i++)
            listed = !strcmp(where[i], e->d_name);
        if (!listed && !(names[n] = strdup(e->d_name)))
            break;
        n += !listed;
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, by_name);
    printf("\nreports: ");
    const char *sep = "";
    for (size_t i = 0; where[i]; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out_dir, where[i]);
        if (stat(path, &st))
            continue;
        printf("%s%s", sep, path);
        sep = ", ";
    }
    for (size_t i = 0; i < n; i++) {
        printf("%s%s/%s", sep, out_dir, names[i]);
        sep = ", ";
        free(names[i]);
    }
    putchar('\n');
}

static void on_signal(int sig)
{
    ab_runner_abort();
    ab_pending_remove();
    signal(sig, SIG_DFL);
    raise(sig);
}

void ab_cmd_catch_signals(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

/* The console's observer: progress on stderr, one line rewritten, when
 * stderr is a terminal; warnings and notes always, one line each. */
/* Where the progress line goes: a terminal that takes escape codes, one
 * that does not (TERM=dumb, NO_COLOR: the line is rewritten with \r and
 * blanks), or no terminal (no progress line at all). */
static struct {
    int tty;                       /* -1: not looked at yet */
    bool plain;
    uint64_t t0;
    size_t shown;                  /* characters of the line on screen */
} term = {-1, false, 0, 0};

static bool progress_shown(void)
{
    if (term.tty < 0) {
        const char *t = getenv("TERM");
        term.tty = isatty(2);
        term.plain = getenv("NO_COLOR") || !t || !strcmp(t, "dumb");
        term.t0 = ab_now_ns();
    }
    return term.tty;
}

/* Blank the progress line before another line goes to stderr. */
static void clear_line(void)
{
    if (!progress_shown() || !term.shown)
        return;
    if (term.plain)
        fprintf(stderr, "\r%*s\r", (int)term.shown, "");
    else
        fputs("\r\033[K", stderr);
    term.shown = 0;
}

static void on_progress(void *ctx, const struct ab_progress *p)
{
    (void)ctx;
    if (!progress_shown())
        return;
    char line[512] = "";
    if (p->what) {
        char eta[32] = "";
        double el = (double)(ab_now_ns() - term.t0) / 1e9;
        if (p->done && p->total > p->done) {
            double left = el / (double)p->done * (double)(p->total - p->done);
            snprintf(eta, sizeof eta, " ETA %d:%02d", (int)(left / 60), (int)left % 60);
        }
        snprintf(line, sizeof line, "[%zu/%zu%s] %s", p->done, p->total, eta, p->what);
        struct winsize ws;
        size_t width = !ioctl(2, TIOCGWINSZ, &ws) && ws.ws_col ? ws.ws_col : 80;
        if (strlen(line) >= width) /* one row, or \r cannot rewrite it */
            line[width - 1] = '\0';
    }
    size_t n = strlen(line);
    if (term.plain)
        fprintf(stderr, "\r%s%*s\r%s", line, (int)(term.shown > n ? term.shown - n : 0), "",
                line);
    else
        fprintf(stderr, "\r\033[K%s", line);
    term.shown = n;
    fflush(stderr);
}

static void on_warning(void *ctx, const char *line)
{
    (void)ctx;
    clear_line();
    ab_warn("%s", line);
}

static void on_note(void *ctx, const char *line)
{
    (void)ctx;
    clear_line();
    fprintf(stderr, "allocbench: %s\n", line);
}

static const struct ab_observer console = {on_progress, on_warning, on_note, NULL};

const struct ab_observer *ab_cmd_observer(void)
{
    return &console;
}
