/*
 * runner.c — one fresh child per trial.  The child is allocbench-trial
 * (beside this program, or installed in libexec), run as `__child
 * <request>` (with LD_PRELOAD for preloaded subjects) in its own process
 * group; a supervising backend's child is this program, re-executed; its reply comes on descriptor 3, its
 * stderr is kept (the tail) for the diagnostic.  The parent enforces the time
 * limit through a pidfd and turns a signal or a silent exit into a status.
 */
#include "proc.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define AB_REPLY_MAX (64u << 20)

/* The child in flight, and one forked outside the runner, for
 * ab_runner_abort from a signal handler. */
static volatile sig_atomic_t in_flight, tracked;

void ab_runner_abort(void)
{
    pid_t pid = (pid_t)in_flight;
    if (pid > 0)
        kill(-pid, SIGKILL);
    if (tracked > 0)
        kill((pid_t)tracked, SIGKILL);
}

void ab_runner_track(pid_t pid)
{
    tracked = pid;
}

void ab_child_tether(double limit_s)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (limit_s > 0)
        alarm((unsigned)limit_s + 2); /* a backstop: the parent's limit comes first */
}

void ab_reply_nonce_new(char nonce[17])
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = ab_now_ns() ^ ((uint64_t)getpid() << 32);
    snprintf(nonce, 17, "%016llx", (unsigned long long)v);
}

int ab_reply_parse(const char *buf, size_t len, const char *nonce, cJSON **doc, char *why,
                   size_t wlen)
{
    *doc = NULL;
    char head[64];
    int hl = snprintf(head, sizeof head, "ABRP %s ", nonce);
    if (len < (size_t)hl || memcmp(buf, head, (size_t)hl)) {
        /* Where the frame is, if it is there at all: what came before it
         * was written by someone else. */
        const char *at = len >= (size_t)hl ? memmem(buf, len, head, (size_t)hl) : NULL;
        if (at)
            snprintf(why, wlen, "%zu bytes on the reply channel before the reply: written "
                     "by the allocator under test or its process", (size_t)(at - buf));
        else
            snprintf(why, wlen, "the reply channel carried %zu bytes and no reply of this "
                     "child", len);
        return -EPROTO;
    }
    char *end;
    unsigned long long n = strtoull(buf + hl, &end, 10);
    if (end == buf + hl || *end != '\n' || n != len - (size_t)(end + 1 - buf)) {
        snprintf(why, wlen, "the reply's length is not the bytes that follow it (something "
                 "else wrote to the reply channel)");
        return -EPROTO;
    }
    const char *json = end + 1, *stop = NULL;
    cJSON *d = cJSON_ParseWithLengthOpts(json, (size_t)n, &stop, false);
    if (!d || !cJSON_IsObject(d) || stop != json + n) {
        cJSON_Delete(d);
        snprintf(why, wlen, "the reply is not one JSON object");
        return -EPROTO;
    }
    *doc = d;
    return AB_OK;
}

void ab_child_result_free(struct ab_child_result *r)
{
    cJSON_Delete(r->doc);
    r->doc = NULL;
}

static void take_rusage(struct ab_rusage *r, const struct rusage *ru)
{
    r->valid = true;
    r->user_s = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6;
    r->sys_s = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
    r->minor_faults = ru->ru_minflt;
    r->major_faults = ru->ru_majflt;
    r->voluntary_switches = ru->ru_nvcsw;
    r->involuntary_switches = ru->ru_nivcsw;
}

static void tail_append(char *tail, size_t cap, const char *data, size_t n)
{
    size_t have = strlen(tail);
    if (n >= cap - 1) {
        memcpy(tail, data + n - (cap - 1), cap - 1);
        tail[cap - 1] = '\0';
        return;
    }
    if (have + n >= cap) {
        size_t drop = have + n - (cap - 1);
        memmove(tail, tail + drop, have - drop + 1);
        have -= drop;
    }
    memcpy(tail + have, data, n);
    tail[have + n] = '\0';
}

/* The child's environment: the setup's settings first (an allocator may
 * read only the head of environ: mimalloc 2.0.9 looks at 256 entries),
 * then the inherited entries they do not replace. */
static char **child_env(const char *const *set)
{
    extern char **environ;
    size_t nset = 0, ninh = 0;
    while (set && set[nset])
        nset++;
    while (environ[ninh])
        ninh++;
    char **env = malloc((nset + ninh + 1) * sizeof *env);
    if (!env)
        return environ;
    size_t n = 0;
    for (size_t i = 0; i < nset; i++)
        env[n++] = (char *)set[i];
    for (size_t i = 0; i < ninh; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool replaced = false;
        for (size_t k = 0; k < nset && !replaced; k++)
            replaced = !strncmp(set[k], environ[i], len);
        if (!replaced)
            env[n++] = environ[i];
    }
    env[n] = NULL;
    return env;
}

static void exec_child(const char *const *wrapper, const char *exe, const char *request,
                       const char *preload, const struct ab_exec_setup *setup, int reply_w,
                       int err_w, const char *nonce, double timeout_s)
{
    setpgid(0, 0);
    ab_child_tether(timeout_s);
    setenv(AB_REPLY_NONCE_ENV, nonce, 1);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(err_w, 1);
    dup2(err_w, 2);
    if (reply_w != 3) {
        dup2(reply_w, 3);
    } else {
        int fl = fcntl(3, F_GETFD);
        fcntl(3, F_SETFD, fl & ~FD_CLOEXEC);
    }
    syscall(SYS_close_range, 4u, ~0u, 0u);
    if (preload)
        setenv("LD_PRELOAD", preload, 1);
    else
        unsetenv("LD_PRELOAD");
    char *argv[64];
    size_t n = 0;
    for (; wrapper && wrapper[n] && n < 60; n++)
        argv[n] = (char *)wrapper[n];
    argv[n++] = (char *)exe;
    argv[n++] = (char *)"__child";
    argv[n++] = (char *)request;
    argv[n] = NULL;
    char **env = child_env(setup ? setup->env : NULL);
    if (setup && setup->before_exec)
        setup->before_exec(setup->ctx);
    if (wrapper && wrapper[0])
        execvpe(argv[0], argv, env);
    else
        execve(exe, argv, env);
    dprintf(2, "cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int ab_trial_exe(char *buf, size_t len)
{
    char dir[PATH_MAX];
    int rc = ab_self_dir(dir, sizeof dir);
    if (rc == 0 && snprintf(buf, len, "%s/allocbench-trial", dir) < (int)len &&
        access(buf, X_OK) == 0)
        return 0;
    if (!ab_beside_self(AB_TRIAL_FROM_BIN, buf, len) && access(buf, X_OK) == 0)
        return 0;
    if (snprintf(buf, len, "%s", AB_TRIAL_INSTALL_PATH) >= (int)len)
        return -ENAMETOOLONG;
    return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

static int run_child(const char *exe, const char *const *wrapper, const char *request,
                     const char *preload, const struct ab_exec_setup *setup, double timeout_s,
                     struct ab_child_result *out);

/* Private links for preloaded libraries whose path LD_PRELOAD cannot carry
 * (it splits on spaces and colons; a tab or a newline is refused here too):
 * one folder per process, removed at exit and by a fatal signal. */
#define AB_LINKS_MAX 16
static struct {
    char path[PATH_MAX], link[PATH_MAX];
} links[AB_LINKS_MAX];
static size_t nlinks;
static char links_dir[PATH_MAX];

static void links_remove(void)
{
    for (size_t i = 0; i < nlinks; i++)
        unlink(links[i].link);
    if (links_dir[0])
        rmdir(links_dir);
}

const char *ab_preload_path(const char *path)
{
    if (!path || !path[strcspn(path, " :\t\n\r")])
        return path;
    for (size_t i = 0; i < nlinks; i++)
        if (!strcmp(links[i].path, path))
            return links[i].link;
    if (nlinks == AB_LINKS_MAX || strlen(path) >= PATH_MAX)
        return NULL;
    if (!links_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp || tmp[strcspn(tmp, " :\t\n\r")] ||
            snprintf(links_dir, sizeof links_dir, "%s/allocbench-preload.XXXXXX", tmp) >=
                (int)sizeof links_dir)
            snprintf(links_dir, sizeof links_dir, "/tmp/allocbench-preload.XXXXXX");
        if (!mkdtemp(links_dir)) {
            links_dir[0] = '\0';
            return NULL;
        }
        ab_pending_add(links_dir, true);
        atexit(links_remove);
    }
    char *link = links[nlinks].link;
    snprintf(link, PATH_MAX, "%s/lib%zu.so", links_dir, nlinks);
    if (symlink(path, link))
        return NULL;
    ab_pending_add(link, false);
    ab_strlcpy(links[nlinks].path, path, PATH_MAX);
    return links[nlinks++].link;
}

int ab_runner_exec(const char *request, const char *preload, double timeout_s,
                   struct ab_child_result *out)
{
    return ab_runner_exec_wrapped(NULL, request, preload, timeout_s, out);
}

int ab_runner_exec_setup(const char *request, const char *preload,
                         const struct ab_exec_setup *setup, double timeout_s,
                         struct ab_child_result *out)
{
    char exe[PATH_MAX];
    int rc = ab_trial_exe(exe, sizeof exe);
    if (rc)
        return rc;
    return run_child(exe, NULL, request, preload, setup, timeout_s, out);
}

int ab_runner_exec_wrapped(const char *const *wrapper, const char *request,
                           const char *preload, double timeout_s,
                           struct ab_child_result *out)
{
    char exe[PATH_MAX];
    int rc = ab_trial_exe(exe, sizeof exe);
    if (rc)
        return rc;
    return run_child(exe, wrapper, request, preload, NULL, timeout_s, out);
}

int ab_runner_exec_supervisor(const char *request, double timeout_s,
                              struct ab_child_result *out)
{
    char exe[PATH_MAX];
    int rc = ab_self_exe(exe, sizeof exe);
    if (rc)
        return rc;
    return run_child(exe, NULL, request, NULL, NULL, timeout_s, out);
}

/* Processes that left the child's group end up here (this process is a
 * subreaper): kill and reap every child this process has, the trial child
 * being gone already. */
static void kill_orphans(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    for (int round = 0; round < 3; round++) {
        char *text = ab_read_file(path, 1 << 16, NULL);
        bool any = false;
        for (char *p = text, *end; p && *p; p = end) {
            long pid = strtol(p, &end, 10);
            if (end == p)
                break;
            if (pid > 0) {
                kill((pid_t)pid, SIGKILL);
                waitpid((pid_t)pid, NULL, 0);
                any = true;
            }
        }
        free(text);
        if (!any)
            break;
    }
}

static int run_child(const char *exe, const char *const *wrapper, const char *request,
                     const char *preload, const struct ab_exec_setup *setup, double timeout_s,
                     struct ab_child_result *out)
{
    memset(out, 0, sizeof *out);
    out->maxrss_kib = -1;
    int rc;
    if (preload && !(preload = ab_preload_path(preload)))
        return errno ? -errno : -ENOMEM;
    int rp[2], ep[2];
    if (pipe2(rp, O_CLOEXEC))
        return -errno;
    if (pipe2(ep, O_CLOEXEC)) {
        rc = -errno;
        close(rp[0]);
        close(rp[1]);
        return rc;
    }
    char nonce[17];
    ab_reply_nonce_new(nonce);
    /* What the child's processes leave behind is reparented here. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    fflush(NULL);
    uint64_t start = ab_now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        close(rp[0]), close(rp[1]), close(ep[0]), close(ep[1]);
        return rc;
    }
    if (pid == 0)
        exec_child(wrapper, exe, request, preload, setup, rp[1], ep[1], nonce, timeout_s);
    setpgid(pid, pid); /* also done in the child: whichever runs first */
    in_flight = pid;
    close(rp[1]);
    close(ep[1]);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    bool reply_open = true, err_open = true, exited = false, timed_out = false;
    uint64_t deadline = start + (uint64_t)(timeout_s * 1e9), exited_at = 0;
    while ((reply_open || err_open || !exited) && buf) {
        uint64_t now = ab_now_ns();
        int64_t left = (int64_t)(deadline - now);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        /* The child is gone and its group killed, but the pipes stay open:
         * a process that left the group (setsid) holds them.  Noticed, and
         * not waited for. */
        if (exited && now - exited_at > 200000000ull) {
            out->leftover = true;
            break;
        }
        if (exited && left > 50000000)
            left = 50000000;
        struct pollfd p[3];
        int np = 0, ir = -1, ie = -1, ip = -1;
        if (reply_open)
            p[ir = np++] = (struct pollfd){.fd = rp[0], .events = POLLIN};
        if (err_open)
            p[ie = np++] = (struct pollfd){.fd = ep[0], .events = POLLIN};
        if (!exited && pidfd >= 0)
            p[ip = np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        int wait_ms = (int)(left / 1000000) + 1;
        if (pidfd < 0 && !reply_open && !err_open)
            wait_ms = wait_ms < 10 ? wait_ms : 10; /* no pidfd: poll waitpid */
        int r = poll(p, (nfds_t)np, wait_ms);
        if (r < 0 && errno != EINTR)
            break;
        if (ir >= 0 && p[ir].revents) {
            if (len == cap && cap < AB_REPLY_MAX) {
                char *nb = realloc(buf, cap * 2);
                if (!nb)
                    break;
                buf = nb;
                cap *= 2;
            }
            ssize_t n = len < cap ? read(rp[0], buf + len, cap - len) : 0;
            if (n > 0)
                len += (size_t)n;
            else if (n == 0 || errno != EINTR)
                reply_open = false;
        }
        if (ie >= 0 && p[ie].revents) {
            char tmp[4096];
            ssize_t n = read(ep[0], tmp, sizeof tmp);
            if (n > 0)
                tail_append(out->stderr_tail, sizeof out->stderr_tail, tmp, (size_t)n);
            else if (n == 0 || errno != EINTR)
                err_open = false;
        }
        if ((ip >= 0 && p[ip].revents) || (pidfd < 0 && !reply_open && !err_open)) {
            int st;
            struct rusage ru;
            pid_t w = wait4(pid, &st, WNOHANG, &ru);
            if (w == pid) {
                exited = true;
                out->maxrss_kib = ru.ru_maxrss;
                take_rusage(&out->rusage, &ru);
                if (WIFSIGNALED(st)) {
                    out->status = AB_CHILD_CRASHED;
                    out->signal = WTERMSIG(st);
                } else {
                    out->exit_code = WEXITSTATUS(st);
                    out->status = out->exit_code ? AB_CHILD_FAILED : AB_CHILD_OK;
                }
                /* Whatever the child left behind in its group goes too, so
                 * nothing holds the pipes open. */
                kill(-pid, SIGKILL);
                exited_at = ab_now_ns();
            }
        }
    }
    if (!exited) {
        kill(-pid, SIGKILL);
        int st;
        struct rusage ru;
        while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
            ;
        out->maxrss_kib = ru.ru_maxrss;
        take_rusage(&out->rusage, &ru);
        if (timed_out) {
            out->status = AB_CHILD_TIMEOUT;
        } else {
            out->status = AB_CHILD_FAILED;
            out->exit_code = -1;
        }
    }
    in_flight = 0;
    if (out->leftover)
        kill_orphans();
    out->elapsed_s = (double)(ab_now_ns() - start) / 1e9;
    if (pidfd >= 0)
        close(pidfd);
    close(rp[0]);
    close(ep[0]);
    if (!buf)
        return -ENOMEM;
    if (out->status == AB_CHILD_OK &&
        ab_reply_parse(buf, len, nonce, &out->doc, out->channel_error,
                       sizeof out->channel_error)) {
        out->status = AB_CHILD_FAILED;
        out->exit_code = 0;
    }
    free(buf);
    return 0;
}
