/*
 * subject.c — what the user names as the allocator under test, resolved in
 * the orchestrating process without ever running the allocator's code here:
 * a path is classified by the symbols its ELF file defines, a plugin's
 * descriptor is validated by dlopen() in a short-lived forked child, and
 * version and malloc origin come from a describe child.
 */
#include "proc.h"

#include <cJSON.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


static const struct ab_named_allocator named[] = {
    {"glibc", AB_FAMILY_GLIBC, {"libc.so.6"}, "libc6", NULL},
    {"jemalloc", AB_FAMILY_JEMALLOC, {"libjemalloc.so.2"}, "libjemalloc2", NULL},
    {"tcmalloc", AB_FAMILY_TCMALLOC, {"libtcmalloc_minimal.so.4", "libtcmalloc.so.4"},
     "libtcmalloc-minimal4", NULL},
    {"mimalloc", AB_FAMILY_MIMALLOC, {"libmimalloc.so.2"}, "libmimalloc2.0", NULL},
    {"bump", AB_FAMILY_PLUGIN, {NULL}, "(built with allocbench)", "ab-bump.so"},
    {"bump-fixed", AB_FAMILY_PLUGIN, {NULL}, "(built with allocbench)", "ab-bump-fixed.so"},
    {"ref", AB_FAMILY_PLUGIN, {NULL}, "(built with allocbench)", "ab-ref.so"},
};

const struct ab_named_allocator *ab_named_allocators(size_t *count)
{
    *count = sizeof named / sizeof named[0];
    return named;
}

const char *ab_subject_kind_name(enum ab_subject_kind kind)
{
    switch (kind) {
    case AB_SUBJECT_SYSTEM: return "system";
    case AB_SUBJECT_PRELOAD: return "preload";
    case AB_SUBJECT_PLUGIN: return "plugin";
    }
    return "?";
}

const char *ab_family_name(enum ab_family family)
{
    switch (family) {
    case AB_FAMILY_GLIBC: return "glibc";
    case AB_FAMILY_JEMALLOC: return "jemalloc";
    case AB_FAMILY_TCMALLOC: return "tcmalloc";
    case AB_FAMILY_MIMALLOC: return "mimalloc";
    case AB_FAMILY_PLUGIN: return "plugin";
    case AB_FAMILY_OTHER: break;
    }
    return "other";
}

/* The C library this process runs on: glibc's allocator is the system one. */
static bool libc_path(char *path, size_t len)
{
    Dl_info info;
    if (!dladdr((void *)gnu_get_libc_version, &info) || !info.dli_fname)
        return false;
    return realpath(info.dli_fname, path) != NULL && strlen(path) < len;
}

bool ab_subject_find_named(const struct ab_named_allocator *na, char *path, size_t len)
{
    char buf[PATH_MAX];
    if (na->family == AB_FAMILY_GLIBC)
        return libc_path(path, len);
    if (na->plugin_file) {
        /* ALLOCBENCH_PLUGIN_DIR, then plugins/ beside the executable (the
         * build tree), then the installed folder beside it, then the
         * install folder the build was configured for. */
        char dirs[4][PATH_MAX];
        const char *env = getenv("ALLOCBENCH_PLUGIN_DIR");
        ab_strlcpy(dirs[0], env ? env : "", sizeof dirs[0]);
        if (ab_self_dir(dirs[1], sizeof dirs[1]))
            dirs[1][0] = '\0';
        else
            strncat(dirs[1], "/plugins", sizeof dirs[1] - strlen(dirs[1]) - 1);
        if (ab_beside_self(AB_PLUGINS_FROM_BIN, dirs[2], sizeof dirs[2]))
            dirs[2][0] = '\0';
        ab_strlcpy(dirs[3], AB_PLUGIN_INSTALL_DIR, sizeof dirs[3]);
        for (int d = 0; d < 4; d++) {
            if (!dirs[d][0])
                continue;
            if (snprintf(buf, sizeof buf, "%s/%s", dirs[d], na->plugin_file) >= (int)sizeof buf)
                continue;
            if (access(buf, R_OK) == 0 && realpath(buf, path))
                return true;
        }
        return false;
    }
    /* Library folders: those meson found at build time, then the usual ones. */
    static const char *const fixed[] = {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                                        "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                                        "/usr/local/lib"};
    char configured[1024];
    ab_strlcpy(configured, AB_LIBDIRS, sizeof configured);
    const char *dirs[16];
    size_t nd = 0;
    for (char *save = NULL, *tok = strtok_r(configured, ":", &save); tok && nd < 8;
         tok = strtok_r(NULL, ":", &save))
        dirs[nd++] = tok;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        dirs[nd++] = fixed[i];
    for (int s = 0; s < 3 && na->sonames[s]; s++) {
        for (size_t d = 0; d < nd; d++) {
            snprintf(buf, sizeof buf, "%s/%s", dirs[d], na->sonames[s]);
            if (access(buf, R_OK) == 0 && realpath(buf, path) && strlen(path) < len)
                return true;
        }
    }
    return false;
}

/* What the file's dynamic symbol table defines, read from the file itself:
 * classifying a path never runs its code (some allocators cannot even be
 * dlopen'ed: jemalloc's initial-exec TLS). */
struct exports {
    bool plugin_entry, malloc, free;
};

static int read_exports(const char *path, struct exports *ex, char *err, size_t errlen)
{
    memset(ex, 0, sizeof *ex);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        snprintf(err, errlen, "'%s' is not a shared object (too short for an ELF header)", path);
        return -ENOEXEC;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -EIO;
    }
    /* Every header is copied out before it is read: a file's offsets need
     * not be aligned for the structures they hold. */
    int rc = -ENOEXEC;
    Elf64_Ehdr eh;
    memcpy(&eh, base, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        snprintf(err, errlen, "'%s' is not a shared object (no ELF header)", path);
        goto out;
    }
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_DYN) {
        snprintf(err, errlen, "'%s' is not a 64-bit shared object", path);
        goto out;
    }
    if (eh.e_shoff == 0 || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > size ||
        (size - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum) {
        snprintf(err, errlen, "'%s' has no readable section table", path);
        goto out;
    }
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh, strs;
        memcpy(&sh, base + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_DYNSYM || sh.sh_link >= eh.e_shnum)
            continue;
        memcpy(&strs, base + eh.e_shoff + sh.sh_link * sizeof strs, sizeof strs);
        if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset ||
            strs.sh_offset > size || strs.sh_size > size - strs.sh_offset)
            break;
        size_t nsym = sh.sh_size / sizeof(Elf64_Sym);
        const char *names = (const char *)base + strs.sh_offset;
        for (size_t k = 0; k < nsym; k++) {
            Elf64_Sym sym;
            memcpy(&sym, base + sh.sh_offset + k * sizeof sym, sizeof sym);
            unsigned bind = ELF64_ST_BIND(sym.st_info), type = ELF64_ST_TYPE(sym.st_info);
            unsigned vis = ELF64_ST_VISIBILITY(sym.st_other);
            if (sym.st_shndx == SHN_UNDEF || sym.st_name >= strs.sh_size ||
                (bind != STB_GLOBAL && bind != STB_WEAK) || vis == STV_HIDDEN ||
                vis == STV_INTERNAL || (type != STT_FUNC && type != STT_GNU_IFUNC))
                continue;
            const char *name = names + sym.st_name;
            size_t room = strs.sh_size - sym.st_name;
            if (strnlen(name, room) == room)
                continue;
            if (!strcmp(name, ALLOCBENCH_PLUGIN_ENTRY))
                ex->plugin_entry = true;
            else if (!strcmp(name, "malloc"))
                ex->malloc = true;
            else if (!strcmp(name, "free"))
                ex->free = true;
        }
        rc = 0;
        break;
    }
    if (rc)
        snprintf(err, errlen, "'%s' has no dynamic symbol table", path);
out:
    munmap((void *)base, size);
    return rc;
}

/* In a forked child: dlopen the plugin and validate its descriptor.  One
 * line on fd: "P\t<name>\t<version>" valid, "A\t<why>" refused, "E\t<why>"
 * dlopen failed. */
static void probe_child(const char *path, int fd)
{
    char line[1024];
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    void *entry = h ? dlsym(h, ALLOCBENCH_PLUGIN_ENTRY) : NULL;
    if (!h) {
        snprintf(line, sizeof line, "E\t%s", dlerror());
    } else if (!entry) {
        snprintf(line, sizeof line, "A\t" ALLOCBENCH_PLUGIN_ENTRY " not found by dlsym");
    } else {
        allocbench_plugin_entry_fn fn;
        memcpy(&fn, &entry, sizeof fn);
        const struct allocbench_plugin *p = fn(ALLOCBENCH_PLUGIN_ABI_VERSION);
        char why[512];
        if (ab_plugin_validate(p, why, sizeof why))
            snprintf(line, sizeof line, "A\t%s", why);
        else
            snprintf(line, sizeof line, "P\t%s\t%s", p->name, p->version);
    }
    for (char *c = line; *c; c++)
        if (*c == '\n')
            *c = ' ';
    size_t len = strlen(line);
    if (write(fd, line, len) != (ssize_t)len)
        _exit(3);
    _exit(0);
}

static int probe_plugin(const char *path, struct ab_subject *out, char *err, size_t errlen,
                        enum ab_code *code)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC))
        return snprintf(err, errlen, "pipe: %s", strerror(errno)),
               ab_fail(code, AB_ALLOCBENCH_INTERNAL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return ab_fail(code, AB_ALLOCBENCH_INTERNAL);
    }
    if (pid == 0) {
        ab_child_tether(10);
        close(pfd[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        probe_child(path, pfd[1]);
    }
    close(pfd[1]);
    ab_runner_track(pid); /* a signal to this process kills the probe too */
    char buf[1100];
    size_t len = 0;
    uint64_t deadline = ab_now_ns() + 10ull * 1000000000ull;
    bool timed_out = false;
    for (;;) {
        int64_t left_ms = (int64_t)(deadline - ab_now_ns()) / 1000000;
        if ((int64_t)(deadline - ab_now_ns()) <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int r = poll(&p, 1, (int)left_ms + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(pfd[0], buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof buf - 1)
            break;
    }
    close(pfd[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    ab_runner_track(0);
    buf[len] = '\0';
    if (timed_out) {
        snprintf(err, errlen, "'%s' hung while being loaded", path);
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
    if (WIFSIGNALED(st)) {
        snprintf(err, errlen, "'%s' crashed with %s while being loaded", path,
                 strsignal(WTERMSIG(st)));
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
    char *tab = strchr(buf, '\t');
    switch (buf[0]) {
    case 'P': {
        out->kind = AB_SUBJECT_PLUGIN;
        out->family = AB_FAMILY_PLUGIN;
        char *name = tab ? tab + 1 : "";
        char *t2 = strchr(name, '\t');
        if (t2)
            *t2 = '\0';
        ab_strlcpy(out->name, name, sizeof out->name);
        return AB_OK;
    }
    case 'A':
        snprintf(err, errlen, "plugin '%s' refused: %s", path, tab ? tab + 1 : "");
        return ab_fail(code, AB_ALLOCBENCH_PLUGIN_ABI);
    case 'E':
        snprintf(err, errlen, "'%s' cannot be loaded: %s", path, tab ? tab + 1 : "");
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    default:
        snprintf(err, errlen, "'%s' could not be classified (loader exited %d)", path,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
}

static void stem(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    ab_strlcpy(out, base, len);
    char *so = strstr(out, ".so");
    if (so && so != out)
        *so = '\0';
}

int ab_subject_resolve(const char *spec, struct ab_subject *out, char *err, size_t errlen,
                       enum ab_code *code)
{
    memset(out, 0, sizeof *out);
    ab_strlcpy(out->spec, spec, sizeof out->spec);
    size_t nn;
    const struct ab_named_allocator *na = ab_named_allocators(&nn);
    bool looks_like_path = strchr(spec, '/') || strstr(spec, ".so");
    if (!looks_like_path) {
        for (size_t i = 0; i < nn; i++) {
            if (strcmp(na[i].name, spec))
                continue;
            if (!ab_subject_find_named(&na[i], out->path, sizeof out->path)) {
                snprintf(err, errlen, "allocator '%s' is not installed (package %s)", spec,
                         na[i].package);
                return ab_fail(code, AB_ALLOCBENCH_NOT_INSTALLED);
            }
            ab_strlcpy(out->name, na[i].name, sizeof out->name);
            out->family = na[i].family;
            out->kind = na[i].family == AB_FAMILY_GLIBC    ? AB_SUBJECT_SYSTEM
                        : na[i].family == AB_FAMILY_PLUGIN ? AB_SUBJECT_PLUGIN
                                                           : AB_SUBJECT_PRELOAD;
            if (out->kind == AB_SUBJECT_PLUGIN) {
                /* Validate the in-tree plugin like any other. */
                int rc = probe_plugin(out->path, out, err, errlen, code);
                ab_strlcpy(out->name, na[i].name, sizeof out->name);
                return rc;
            }
            return AB_OK;
        }
        char known[256] = "";
        for (size_t i = 0; i < nn; i++) {
            strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, na[i].name, sizeof known - strlen(known) - 1);
        }
        snprintf(err, errlen, "unknown allocator '%s' (known: %s; or give a path to a .so)",
                 spec, known);
        return ab_fail(code, AB_ALLOCBENCH_UNKNOWN_ALLOCATOR);
    }
    struct stat st;
    if (stat(spec, &st)) {
        snprintf(err, errlen, "allocator '%s': %s", spec, strerror(errno));
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "allocator '%s' is not a regular file", spec);
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
    if (!realpath(spec, out->path)) {
        snprintf(err, errlen, "allocator '%s': %s", spec, strerror(errno));
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
    struct exports ex;
    if (read_exports(out->path, &ex, err, errlen))
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    /* The C library itself, given by path, is the system allocator. */
    char libc[PATH_MAX];
    if (libc_path(libc, sizeof libc) && strcmp(libc, out->path) == 0) {
        ab_strlcpy(out->name, "glibc", sizeof out->name);
        out->kind = AB_SUBJECT_SYSTEM;
        out->family = AB_FAMILY_GLIBC;
        return AB_OK;
    }
    if (ex.plugin_entry)
        return probe_plugin(out->path, out, err, errlen, code);
    if (!ex.malloc || !ex.free) {
        snprintf(err, errlen,
                 "'%s' exports neither " ALLOCBENCH_PLUGIN_ENTRY " nor its own malloc and free",
                 out->path);
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
    /* Malloc-compatible: preloaded.  A named allocator's library given by
     * path keeps its name. */
    out->kind = AB_SUBJECT_PRELOAD;
    out->family = AB_FAMILY_OTHER;
    stem(out->path, out->name, sizeof out->name);
    char p[PATH_MAX];
    for (size_t i = 0; i < nn; i++) {
        if (!na[i].plugin_file && na[i].family != AB_FAMILY_GLIBC &&
            ab_subject_find_named(&na[i], p, sizeof p) && strcmp(p, out->path) == 0) {
            ab_strlcpy(out->name, na[i].name, sizeof out->name);
            out->family = na[i].family;
        }
    }
    return AB_OK;
}

/* The mode "describe": what the allocator says of itself. */
static cJSON *describe(const cJSON *req, struct ab_heap *heap)
{
    (void)req;
    cJSON *d = ab_child_reply();
    cJSON_AddStringToObject(d, "family", ab_family_name(heap->family));
    cJSON_AddStringToObject(d, "version", heap->version);
    cJSON_AddStringToObject(d, "malloc_from", heap->malloc_from);
    cJSON_AddBoolToObject(d, "bulk", heap->alloc_bulk != NULL);
    return d;
}

const struct ab_child_mode ab_mode_describe = {
    .fields = NULL,
    .nfields = 0,
    .name = "describe",
    .binds_heap = true,
    .run = describe,
};

int ab_subject_describe(struct ab_subject *s, double timeout_s)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "mode", "describe");
    cJSON *subj = cJSON_AddObjectToObject(req, "subject");
    cJSON_AddStringToObject(subj, "kind", ab_subject_kind_name(s->kind));
    cJSON_AddStringToObject(subj, "path", s->path);
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!text)
        return -ENOMEM;
    struct ab_child_result r;
    int rc = ab_runner_exec(text, s->kind == AB_SUBJECT_PRELOAD ? s->path : NULL, timeout_s, &r);
    free(text);
    if (rc)
        return rc;
    s->described = true;
    s->describe_error[0] = '\0';
    if (r.status == AB_CHILD_OK) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r.doc, "version");
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(r.doc, "malloc_from");
        const cJSON *fam = cJSON_GetObjectItemCaseSensitive(r.doc, "family");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(r.doc, "error");
        if (cJSON_IsString(v))
            ab_strlcpy(s->version, v->valuestring, sizeof s->version);
        if (cJSON_IsString(from))
            ab_strlcpy(s->malloc_from, from->valuestring, sizeof s->malloc_from);
        if (cJSON_IsString(fam) && s->family == AB_FAMILY_OTHER) {
            for (int f = AB_FAMILY_OTHER; f <= AB_FAMILY_PLUGIN; f++)
                if (!strcmp(fam->valuestring, ab_family_name((enum ab_family)f)))
                    s->family = (enum ab_family)f;
        }
        if (!ab_child_ok(r.doc)) {
            s->describe_code = AB_ALLOCBENCH_SUBJECT_MISMATCH;
            ab_strlcpy(s->describe_error, cJSON_IsString(e) ? e->valuestring : "unusable",
                       sizeof s->describe_error);
        }
    } else if (r.status == AB_CHILD_CRASHED) {
        s->describe_code = AB_ALLOCBENCH_TRIAL_CRASHED;
        snprintf(s->describe_error, sizeof s->describe_error,
                 "the allocator crashed at start-up with %s", strsignal(r.signal));
    } else if (r.status == AB_CHILD_TIMEOUT) {
        s->describe_code = AB_ALLOCBENCH_TRIAL_TIMEOUT;
        snprintf(s->describe_error, sizeof s->describe_error,
                 "the allocator hung at start-up (no answer in %.1f s)", timeout_s);
    } else if (r.channel_error[0]) {
        s->describe_code = AB_ALLOCBENCH_SUBJECT_CHANNEL;
        snprintf(s->describe_error, sizeof s->describe_error,
                 "the allocator's own output on the reply channel was refused: %s",
                 r.channel_error);
    } else {
        s->describe_code = AB_ALLOCBENCH_TRIAL_FAILED;
        snprintf(s->describe_error, sizeof s->describe_error,
                 "the describe child exited with status %d: %.400s", r.exit_code,
                 r.stderr_tail);
    }
    ab_child_result_free(&r);
    return 0;
}
