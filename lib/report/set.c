/*
 * set.c — report sets: the files of every format for one document, put in
 * place whole.  They are written and fsync'd in a staging folder beside the
 * report folder, which then takes its place (exchanged with an older set,
 * which is then removed); the parent is fsync'd after.  Staging and
 * temporary names carry the pid and a random suffix, so two processes
 * writing beside each other never meet.
 */
#include "report.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SET_MAX_FILES 32

struct ab_report_set {
    const struct ab_format *format;     /* whose files() is adding */
    char out[PATH_MAX];                 /* the report folder */
    char parent[PATH_MAX];              /* the folder holding it */
    char staging[PATH_MAX];             /* "": written in place */
    char suffix[48];                    /* <pid>.<random> */
    char names[SET_MAX_FILES][NAME_MAX + 1];
    size_t n;
    int slots[SET_MAX_FILES + 1];       /* ab_pending slots of what is written */
    size_t nslots;
    bool whole;                         /* the whole set: older files of other names go */
};

static void pending(struct ab_report_set *s, const char *path, bool dir)
{
    if (s->nslots < sizeof s->slots / sizeof s->slots[0])
        s->slots[s->nslots++] = ab_pending_add(path, dir);
}

static void pending_done(struct ab_report_set *s)
{
    for (size_t i = 0; i < s->nslots; i++)
        ab_pending_drop(s->slots[i]);
    s->nslots = 0;
}

/* A name no other process picks: the pid and 64 random bits. */
static void make_suffix(char *buf, size_t len)
{
    uint64_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        r = ab_now_ns() ^ ((uint64_t)getpid() << 32);
        r = ab_rng_next(&r);
    }
    snprintf(buf, len, "%ld.%016llx", (long)getpid(), (unsigned long long)r);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

static int write_new(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return -errno;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = -errno;
            close(fd);
            unlink(path);
            return e;
        }
        done += (size_t)w;
    }
    if (fsync(fd) || close(fd)) {
        int e = -errno;
        unlink(path);
        return e;
    }
    return 0;
}

/* Where file name of the set goes before the set is put in place. */
static void pending_path(const struct ab_report_set *s, const char *name, char *buf, size_t len)
{
    if (s->staging[0])
        snprintf(buf, len, "%s/%s", s->staging, name);
    else
        snprintf(buf, len, "%s/.%s.tmp.%s", s->out, name, s->suffix);
}

/* A folder the set may take the place of: absent, or a real folder (not a
 * link, not the working directory) holding report files only. */
static bool replaceable(const char *dir)
{
    struct stat st, cwd;
    if (lstat(dir, &st))
        return errno == ENOENT;
    if (!S_ISDIR(st.st_mode))
        return false;
    if (!stat(".", &cwd) && cwd.st_dev == st.st_dev && cwd.st_ino == st.st_ino)
        return false;
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat es;
        ok = !fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) && S_ISREG(es.st_mode) &&
             ab_report_file_known(e->d_name);
    }
    closedir(d);
    return ok;
}

static int set_begin(struct ab_report_set *s, const char *out_dir, bool whole, char *err,
                     size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->whole = whole;
    size_t n = strlen(out_dir);
    while (n > 1 && out_dir[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof s->out) {
        snprintf(err, errlen, "cannot write %s: %s", out_dir, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    memcpy(s->out, out_dir, n);
    s->out[n] = '\0';
    make_suffix(s->suffix, sizeof s->suffix);
    const char *slash = strrchr(s->out, '/');
    const char *base = slash ? slash + 1 : s->out;
    if (slash == s->out)
        ab_strlcpy(s->parent, "/", sizeof s->parent);
    else if (slash)
        snprintf(s->parent, sizeof s->parent, "%.*s", (int)(slash - s->out), s->out);
    else
        ab_strlcpy(s->parent, ".", sizeof s->parent);
    if (!whole || !*base || !strcmp(base, ".") || !strcmp(base, "..") || !replaceable(s->out))
        return 0;
    /* Staging beside the folder, so that a rename puts it in place; where
     * the parent cannot take it (not writable), the set goes in place. */
    for (int tries = 0; tries < 4; tries++) {
        if (snprintf(s->staging, sizeof s->staging, "%s/.%s.staging.%s", s->parent, base,
                     s->suffix) >= (int)sizeof s->staging)
            break;
        if (!mkdir(s->staging, 0777)) {
            pending(s, s->staging, true);
            return 0;
        }
        if (errno != EEXIST)
            break;
        make_suffix(s->suffix, sizeof s->suffix);
    }
    s->staging[0] = '\0';
    return 0;
}

int ab_report_set_add(struct ab_report_set *s, const char *name, char *text, char *err,
                      size_t errlen)
{
    if (!text) {
        snprintf(err, errlen, "out of memory formatting %s", name);
        return -ENOMEM;
    }
    bool declared = false;
    for (const char *const *w = s->format->writes; w && *w && !declared; w++)
        declared = !strcmp(*w, name);
    bool twice = false;
    for (size_t i = 0; i < s->n && !twice; i++)
        twice = !strcmp(s->names[i], name);
    int rc = 0;
    if (!declared || twice || s->n == SET_MAX_FILES || strlen(name) > NAME_MAX) {
        snprintf(err, errlen, "format %s: %s %s", s->format->name,
                 twice ? "a second file named" : "a file it does not declare:", name);
        rc = -EINVAL;
    } else {
        char path[PATH_MAX + NAME_MAX + 64];
        pending_path(s, name, path, sizeof path);
        pending(s, path, false);
        rc = write_new(path, text, strlen(text));
        if (rc)
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        else
            ab_strlcpy(s->names[s->n++], name, sizeof s->names[0]);
    }
    free(text);
    return rc;
}

/* Remove an older set: its report files, then the folder.  Anything else
 * found there (put in after the folder was checked) stays, and so does the
 * folder holding it. */
static void remove_folder(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (ab_report_file_known(e->d_name) &&
            !fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    rmdir(dir);
}

static void set_abort(struct ab_report_set *s)
{
    char path[PATH_MAX + NAME_MAX + 64];
    for (size_t i = 0; i < s->n; i++) {
        pending_path(s, s->names[i], path, sizeof path);
        unlink(path);
    }
    if (s->staging[0])
        rmdir(s->staging);
}

/* In place: each file renamed over its name, then the report files of an
 * older set that this one lacks removed. */
static int commit_in_place(struct ab_report_set *s, char *err, size_t errlen)
{
    char from[PATH_MAX + NAME_MAX + 64], to[PATH_MAX + NAME_MAX + 2];
    for (size_t i = 0; i < s->n; i++) {
        pending_path(s, s->names[i], from, sizeof from);
        snprintf(to, sizeof to, "%s/%s", s->out, s->names[i]);
        if (rename(from, to)) {
            int rc = -errno;
            snprintf(err, errlen, "cannot write %s: %s", to, strerror(-rc));
            for (size_t j = i; j < s->n; j++) {
                pending_path(s, s->names[j], from, sizeof from);
                unlink(from);
            }
            return rc;
        }
    }
    DIR *d = s->whole ? opendir(s->out) : NULL;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            bool ours = false;
            for (size_t i = 0; i < s->n && !ours; i++)
                ours = !strcmp(s->names[i], e->d_name);
            struct stat st;
            if (!ours && ab_report_file_known(e->d_name) &&
                !fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
                unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    fsync_path(s->out);
    return 0;
}

static int set_commit(struct ab_report_set *s, char *err, size_t errlen)
{
    if (!s->staging[0])
        return commit_in_place(s, err, errlen);
    int rc = fsync_path(s->staging);
    /* Absent or empty, the folder is simply replaced; holding an older set,
     * it is exchanged with the staging folder, which then holds the older
     * set, to be removed. */
    if (!rc && rename(s->staging, s->out)) {
        rc = -errno;
        if (rc == -ENOTEMPTY || rc == -EEXIST)
            rc = renameat2(AT_FDCWD, s->staging, AT_FDCWD, s->out, RENAME_EXCHANGE) ? -errno
                                                                                   : 0;
        if (!rc) {
            remove_folder(s->staging);
        } else if (rc == -EINVAL || rc == -ENOSYS) {
            /* No exchange on this file system: the older set aside first. */
            char aside[PATH_MAX + 64];
            snprintf(aside, sizeof aside, "%s.old", s->staging);
            rc = rename(s->out, aside) ? -errno : 0;
            if (!rc && rename(s->staging, s->out)) {
                rc = -errno;
                rename(aside, s->out);
            }
            if (!rc)
                remove_folder(aside);
        }
    }
    if (rc) {
        snprintf(err, errlen, "cannot put the reports in %s: %s", s->out, strerror(-rc));
        set_abort(s);
        return rc;
    }
    fsync_path(s->parent);
    return 0;
}

/* The files of formats (count of them) for doc into out_dir: the whole
 * set, or (whole false) these files alone, in place beside the others. */
static int write_set(const cJSON *doc, const struct ab_format *const *formats, size_t n,
                     const char *out_dir, bool whole, char *err, size_t errlen)
{
    struct ab_report_set *s = malloc(sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory writing the reports");
        return -ENOMEM;
    }
    int rc = set_begin(s, out_dir, whole, err, errlen);
    for (size_t i = 0; i < n && !rc; i++) {
        s->format = formats[i];
        if (formats[i]->files)
            rc = formats[i]->files(doc, s, err, errlen);
    }
    if (rc) {
        set_abort(s);
    } else {
        /* A signal that would end the process waits until the set is in
         * place: written in place, the renames are several. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, &old);
        rc = set_commit(s, err, errlen);
        pending_done(s);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    pending_done(s);
    free(s);
    return rc;
}

int ab_report_write(const cJSON *doc, const char *out_dir, char *err, size_t errlen)
{
    size_t n;
    const struct ab_format *const *formats = ab_formats(&n);
    return write_set(doc, formats, n, out_dir, true, err, errlen);
}

int ab_report_write_format(const cJSON *doc, const struct ab_format *f, const char *out_dir,
                           char *err, size_t errlen)
{
    return write_set(doc, &f, 1, out_dir, false, err, errlen);
}
