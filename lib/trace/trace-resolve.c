/*
 * trace-resolve.c — what `allocbench trace` probes: the library that really
 * serves malloc in the target, and the allocator entry points it defines.
 *
 * The dynamic loader binds malloc to the first object in its search order
 * that defines it: the executable, then LD_PRELOAD and /etc/ld.so.preload,
 * then the needed libraries breadth-first.  Rather than re-implementing that
 * search (RPATH, RUNPATH, $ORIGIN, the cache, hwcaps folders), the loader
 * itself is asked: `<PT_INTERP> --list <exe>` run in the target's
 * environment and folder prints the objects in that order.  For a running
 * process the choice is then confirmed against /proc/PID/maps and attached
 * through /proc/PID/map_files, which names the very file mapped (even one
 * replaced or deleted since, or in another mount namespace).
 */
#include "trace.h"
#include "trace-bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if AB_HAVE_CAPSTONE
#include <capstone.h>
#endif

/* Every allocator entry point probed where the library defines it, in the
 * order that names a shared address: standard names first, then the C++
 * operators, then each allocator's own.  s and n: the argument holding the
 * size and the count (trace-bpf.h). */
struct probe_name {
    const char *name;
    unsigned char kind, s, n;
};

#define ALLOC(name, s) {name, AB_TRACE_ALLOC, s, 0}
#define ALLOC_N(name, n, s) {name, AB_TRACE_ALLOC_N, s, n}
#define REALLOC(name, s) {name, AB_TRACE_REALLOC, s, 0}
#define REALLOC_N(name, n, s) {name, AB_TRACE_REALLOC_N, s, n}
#define MEMALIGN_OUT(name, s) {name, AB_TRACE_MEMALIGN_OUT, s, 0}
#define FREE(name) {name, AB_TRACE_FREE, 0, 0}

static const struct probe_name probe_names[] = {
    ALLOC("malloc", 0), ALLOC_N("calloc", 0, 1), REALLOC("realloc", 1), FREE("free"),
    ALLOC("aligned_alloc", 1), MEMALIGN_OUT("posix_memalign", 2), ALLOC("memalign", 1),
    ALLOC("valloc", 0), ALLOC("pvalloc", 0), REALLOC_N("reallocarray", 1, 2),
    REALLOC("reallocf", 1), FREE("cfree"),
    /* operator new / delete (and their nothrow, sized and aligned forms) */
    ALLOC("_Znwm", 0), ALLOC("_Znam", 0), ALLOC("_ZnwmRKSt9nothrow_t", 0),
    ALLOC("_ZnamRKSt9nothrow_t", 0), ALLOC("_ZnwmSt11align_val_t", 0),
    ALLOC("_ZnamSt11align_val_t", 0), ALLOC("_ZnwmSt11align_val_tRKSt9nothrow_t", 0),
    ALLOC("_ZnamSt11align_val_tRKSt9nothrow_t", 0), FREE("_ZdlPv"), FREE("_ZdaPv"),
    FREE("_ZdlPvm"), FREE("_ZdaPvm"), FREE("_ZdlPvRKSt9nothrow_t"),
    FREE("_ZdaPvRKSt9nothrow_t"), FREE("_ZdlPvSt11align_val_t"), FREE("_ZdaPvSt11align_val_t"),
    FREE("_ZdlPvmSt11align_val_t"), FREE("_ZdaPvmSt11align_val_t"),
    FREE("_ZdlPvSt11align_val_tRKSt9nothrow_t"), FREE("_ZdaPvSt11align_val_tRKSt9nothrow_t"),
    /* jemalloc, with and without its je_ prefix */
    ALLOC("mallocx", 0), REALLOC("rallocx", 1), FREE("dallocx"), FREE("sdallocx"),
    ALLOC("je_malloc", 0), ALLOC_N("je_calloc", 0, 1), REALLOC("je_realloc", 1),
    FREE("je_free"), ALLOC("je_aligned_alloc", 1), MEMALIGN_OUT("je_posix_memalign", 2),
    ALLOC("je_mallocx", 0), REALLOC("je_rallocx", 1), FREE("je_dallocx"),
    FREE("je_sdallocx"),
    /* tcmalloc (gperftools) */
    ALLOC("tc_malloc", 0), ALLOC_N("tc_calloc", 0, 1), REALLOC("tc_realloc", 1),
    FREE("tc_free"), FREE("tc_cfree"), FREE("tc_free_sized"), ALLOC("tc_memalign", 1),
    MEMALIGN_OUT("tc_posix_memalign", 2), ALLOC("tc_valloc", 0), ALLOC("tc_pvalloc", 0),
    ALLOC("tc_malloc_skip_new_handler", 0), ALLOC("tc_new", 0), ALLOC("tc_newarray", 0),
    ALLOC("tc_new_nothrow", 0), ALLOC("tc_newarray_nothrow", 0), ALLOC("tc_new_aligned", 0),
    ALLOC("tc_newarray_aligned", 0), ALLOC("tc_new_aligned_nothrow", 0),
    ALLOC("tc_newarray_aligned_nothrow", 0), FREE("tc_delete"), FREE("tc_deletearray"),
    FREE("tc_delete_sized"), FREE("tc_deletearray_sized"), FREE("tc_delete_nothrow"),
    FREE("tc_deletearray_nothrow"), FREE("tc_delete_aligned"), FREE("tc_deletearray_aligned"),
    FREE("tc_delete_sized_aligned"), FREE("tc_deletearray_sized_aligned"),
    FREE("tc_delete_aligned_nothrow"), FREE("tc_deletearray_aligned_nothrow"),
    /* mimalloc (its mi_heap_* calls take a heap and are left out) */
    ALLOC("mi_malloc", 0), ALLOC_N("mi_calloc", 0, 1), REALLOC("mi_realloc", 1),
    FREE("mi_free"), ALLOC("mi_zalloc", 0), ALLOC("mi_malloc_small", 0),
    ALLOC("mi_zalloc_small", 0), ALLOC_N("mi_mallocn", 0, 1), REALLOC_N("mi_reallocn", 1, 2),
    REALLOC("mi_reallocf", 1), REALLOC("mi_rezalloc", 1), REALLOC_N("mi_recalloc", 1, 2),
    ALLOC("mi_malloc_aligned", 0), ALLOC("mi_malloc_aligned_at", 0),
    ALLOC("mi_zalloc_aligned", 0), ALLOC("mi_zalloc_aligned_at", 0),
    ALLOC_N("mi_calloc_aligned", 0, 1), ALLOC_N("mi_calloc_aligned_at", 0, 1),
    REALLOC("mi_realloc_aligned", 1), REALLOC("mi_realloc_aligned_at", 1),
    REALLOC("mi_rezalloc_aligned", 1), REALLOC("mi_rezalloc_aligned_at", 1),
    REALLOC_N("mi_recalloc_aligned", 1, 2), REALLOC_N("mi_recalloc_aligned_at", 1, 2),
    MEMALIGN_OUT("mi_posix_memalign", 2), ALLOC("mi_memalign", 1), ALLOC("mi_valloc", 0),
    ALLOC("mi_pvalloc", 0), ALLOC("mi_aligned_alloc", 1), REALLOC_N("mi_reallocarray", 1, 2),
    ALLOC("mi_new", 0), ALLOC_N("mi_new_n", 0, 1), ALLOC("mi_new_nothrow", 0),
    ALLOC("mi_new_aligned", 0), ALLOC("mi_new_aligned_nothrow", 0),
    REALLOC("mi_new_realloc", 1), REALLOC_N("mi_new_reallocn", 1, 2), FREE("mi_free_size"),
    FREE("mi_free_aligned"), FREE("mi_free_size_aligned"),
};
#define NPROBE_NAMES (sizeof probe_names / sizeof probe_names[0])

/* Exported names that say which allocator a library is. */
static const struct {
    const char *symbol;
    enum ab_family family;
} family_marks[] = {
    {"mallctl", AB_FAMILY_JEMALLOC},     {"je_mallctl", AB_FAMILY_JEMALLOC},
    {"tc_version", AB_FAMILY_TCMALLOC},  {"mi_version", AB_FAMILY_MIMALLOC},
    {"gnu_get_libc_version", AB_FAMILY_GLIBC},
};

void ab_trace_bin_bounds(unsigned k, uint64_t *low, uint64_t *high)
{
    if (k == 0) {
        *low = *high = 0;
    } else {
        *low = 1ull << (k - 1);
        *high = k == 64 ? UINT64_MAX : (1ull << k) - 1;
    }
}

/* What one ELF file says: its interpreter and the probe table's symbols. */
struct elf_facts {
    char interp[PATH_MAX];
    bool found[NPROBE_NAMES];
    uint64_t offset[NPROBE_NAMES];
    enum ab_family family;
};

/* The probe table's index of name, or -1.  A linear scan that mostly stops
 * at the first character: a static executable's full symbol table can hold
 * hundreds of thousands of names. */
static int find_name(const char *name)
{
    for (unsigned i = 0; i < NPROBE_NAMES; i++)
        if (name[0] == probe_names[i].name[0] && !strcmp(name, probe_names[i].name))
            return (int)i;
    return -1;
}

/* A virtual address to the file offset a uprobe takes. */
static bool vaddr_to_offset(Elf *e, size_t nphdr, uint64_t vaddr, uint64_t *off)
{
    for (size_t i = 0; i < nphdr; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
            *off = vaddr - ph.p_vaddr + ph.p_offset;
            return true;
        }
    }
    return false;
}

/* dynamic: the loader binds only default/protected symbols; in a static
 * executable's full table everything is bound already (static glibc's
 * malloc is hidden there). */
static void scan_symbols(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, size_t nphdr, bool dynamic,
                         struct elf_facts *f)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || !sh->sh_entsize)
        return;
    size_t n = sh->sh_size / sh->sh_entsize;
    for (size_t i = 0; i < n; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
            continue;
        unsigned bind = GELF_ST_BIND(sym.st_info), vis = GELF_ST_VISIBILITY(sym.st_other);
        if ((bind != STB_GLOBAL && bind != STB_WEAK) ||
            (dynamic && (vis == STV_HIDDEN || vis == STV_INTERNAL)))
            continue;
        const char *name = elf_strptr(e, sh->sh_link, sym.st_name);
        if (!name)
            continue;
        /* An IFUNC's address is its resolver, not the function: left out. */
        if (GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
            int k = find_name(name);
            if (k >= 0 && !f->found[k] && vaddr_to_offset(e, nphdr, sym.st_value, &f->offset[k]))
                f->found[k] = true;
        }
        for (size_t m = 0; m < sizeof family_marks / sizeof family_marks[0]; m++)
            if (f->family == AB_FAMILY_OTHER && !strcmp(name, family_marks[m].symbol))
                f->family = family_marks[m].family;
    }
}

/* Read path's interpreter and probe-table symbols: the dynamic symbol table
 * (what the loader binds), or the full one for a static executable. */
static int elf_read(const char *path, struct elf_facts *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (elf_version(EV_CURRENT) == EV_NONE) {
        snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(e));
        return -e;
    }
    int rc = -EINVAL;
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    size_t nphdr = 0;
    if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nphdr)) {
        snprintf(err, errlen, "'%s' is not an ELF file", path);
        goto out;
    }
    for (size_t i = 0; i < nphdr; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP && ph.p_filesz &&
            ph.p_filesz < sizeof f->interp) {
            if (pread(fd, f->interp, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
                f->interp[0] = '\0';
            f->interp[ph.p_filesz] = '\0';
        }
    }
    Elf_Scn *dynsym = NULL, *symtab = NULL;
    for (Elf_Scn *scn = elf_nextscn(e, NULL); scn; scn = elf_nextscn(e, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_DYNSYM)
            dynsym = scn;
        else if (sh.sh_type == SHT_SYMTAB)
            symtab = scn;
    }
    Elf_Scn *use = dynsym ? dynsym : symtab;
    if (use) {
        GElf_Shdr sh;
        if (gelf_getshdr(use, &sh))
            scan_symbols(e, use, &sh, nphdr, use == dynsym, f);
    }
    rc = 0;
out:
    if (e)
        elf_end(e);
    close(fd);
    return rc;
}

/* The first instruction at a file offset, as text ("" when unknown). */
static void first_instruction(int fd, uint64_t offset, char *out, size_t len)
{
    out[0] = '\0';
#if AB_HAVE_CAPSTONE
    unsigned char code[16];
    ssize_t n = pread(fd, code, sizeof code, (off_t)offset);
    if (n <= 0)
        return;
    csh cs;
#if defined(__x86_64__)
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
        return;
#elif defined(__aarch64__)
    if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK)
        return;
#else
    return;
#endif
    cs_insn *insn = NULL;
    if (cs_disasm(cs, code, (size_t)n, offset, 1, &insn) == 1) {
        char text[sizeof insn[0].mnemonic + sizeof insn[0].op_str + 1];
        snprintf(text, sizeof text, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
                 insn[0].op_str);
        ab_strlcpy(out, text, len);
        cs_free(insn, 1);
    }
    cs_close(&cs);
#else
    (void)fd;
    (void)offset;
    (void)len;
#endif
}

/* Whether an earlier object claimed probe-table entry k. */
static bool claimed(const struct ab_trace_lib *lib, size_t k)
{
    for (size_t j = 0; j < lib->nprobes; j++) {
        const struct ab_trace_probe *p = &lib->probes[j];
        if (!strcmp(p->name, probe_names[k].name))
            return true;
        const char *a = p->aliases;
        size_t len = strlen(probe_names[k].name);
        while ((a = strstr(a, probe_names[k].name))) {
            if ((a == p->aliases || a[-1] == ',') && (a[len] == ',' || !a[len]))
                return true;
            a += len;
        }
    }
    return false;
}

int ab_trace_plan_object(struct ab_trace_lib *lib, const char *path, const char *open_path,
                         bool need_malloc, char *err, size_t errlen)
{
    struct elf_facts f;
    int rc = elf_read(open_path, &f, err, errlen);
    if (rc)
        return rc;
    if (need_malloc && !f.found[0]) {
        snprintf(err, errlen, "'%s' defines no malloc", path);
        return -ENOENT;
    }
    bool any = false;
    for (size_t i = 0; i < NPROBE_NAMES && !any; i++)
        any = f.found[i] && !claimed(lib, i);
    if (!any || lib->nobjects == AB_TRACE_MAX_OBJECTS)
        return 0;
    unsigned obj = (unsigned)lib->nobjects++;
    struct ab_trace_object *o = &lib->objects[obj];
    ab_strlcpy(o->path, path, sizeof o->path);
    ab_strlcpy(o->open_path, open_path, sizeof o->open_path);
    o->family = f.family;
    if (f.found[0] && !claimed(lib, 0))
        lib->malloc_object = obj;
    size_t first = lib->nprobes;
    int fd = open(open_path, O_RDONLY | O_CLOEXEC);
    for (size_t i = 0; i < NPROBE_NAMES; i++) {
        if (!f.found[i] || claimed(lib, i))
            continue;
        struct ab_trace_probe *same = NULL;
        for (size_t j = first; j < lib->nprobes && !same; j++)
            if (lib->probes[j].offset == f.offset[i])
                same = &lib->probes[j];
        if (same) {
            size_t used = strlen(same->aliases);
            snprintf(same->aliases + used, sizeof same->aliases - used, "%s%s",
                     used ? "," : "", probe_names[i].name);
            continue;
        }
        if (lib->nprobes == AB_TRACE_MAX_PROBES)
            continue;
        struct ab_trace_probe *p = &lib->probes[lib->nprobes++];
        memset(p, 0, sizeof *p);
        ab_strlcpy(p->name, probe_names[i].name, sizeof p->name);
        p->object = obj;
        p->offset = f.offset[i];
        p->kind = probe_names[i].kind;
        p->size_arg = probe_names[i].s;
        p->count_arg = probe_names[i].n;
        if (fd >= 0)
            first_instruction(fd, p->offset, p->first_insn, sizeof p->first_insn);
    }
    if (fd >= 0)
        close(fd);
    return 0;
}

size_t ab_trace_parse_ldlist(char *text, char (*paths)[PATH_MAX], size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        /* "\tname => /path (0x...)", "\t/path (0x...)", "\tname => not found",
         * "\tlinux-vdso.so.1 (0x...)" */
        char *p = strstr(line, "=> ");
        p = p ? p + 3 : line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '/')
            continue;
        char *end = strstr(p, " (0x");
        if (end)
            *end = '\0';
        ab_strlcpy(paths[n++], p, PATH_MAX);
    }
    return n;
}

/* Run `interp --list exe` with the target's environment and folder; its
 * output (malloc'd) or NULL. */
static char *loader_list(const char *interp, const char *exe, const char *cwd, char **envp)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC))
        return NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return NULL;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 2);
        }
        dup2(out[1], 1);
        if (cwd[0] && chdir(cwd))
            _exit(126);
        char *argv[] = {(char *)interp, (char *)"--list", (char *)exe, NULL};
        execve(interp, argv, envp);
        _exit(127);
    }
    close(out[1]);
    size_t cap = 1 << 14, len = 0;
    char *buf = malloc(cap);
    uint64_t deadline = ab_now_ns() + 10ull * 1000000000ull;
    while (buf) {
        int64_t left = (int64_t)(deadline - ab_now_ns());
        if (left <= 0)
            break;
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        int r = poll(&p, 1, (int)(left / 1000000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (len + 1 == cap) {
            char *nb = cap < (1u << 22) ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(out[0], buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(out[0]);
    kill(pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* /proc/PID/environ as an envp array (one malloc'd block). */
static char **read_environ(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    size_t len = 0;
    char *text = ab_read_file(path, 1 << 24, &len);
    if (!text)
        return NULL;
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\0';
    char **envp = malloc((count + 2) * sizeof *envp + len + 1);
    if (!envp) {
        free(text);
        return NULL;
    }
    char *copy = (char *)(envp + count + 2);
    memcpy(copy, text, len);
    copy[len] = '\0';
    free(text);
    size_t n = 0;
    for (size_t i = 0; i < len; i += strlen(copy + i) + 1)
        if (copy[i])
            envp[n++] = copy + i;
    envp[n] = NULL;
    return envp;
}

static void read_link(const char *link, char *out, size_t len)
{
    ssize_t n = readlink(link, out, len - 1);
    out[n > 0 ? n : 0] = '\0';
    /* A replaced executable keeps its old name, marked. */
    size_t l = strlen(out);
    if (l > 10 && !strcmp(out + l - 10, " (deleted)"))
        out[l - 10] = '\0';
}

/* One file-backed mapping of the target. */
struct mapping {
    char range[64];      /* start-end, the map_files name */
    char path[PATH_MAX];
};

static size_t read_maps(int pid, struct mapping **out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    char *text = ab_read_file(path, 1 << 26, NULL);
    *out = NULL;
    if (!text)
        return 0;
    size_t n = 0, cap = 0;
    struct mapping *m = NULL;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char range[64];
        int consumed = 0;
        if (sscanf(line, "%63s %*s %*s %*s %*s %n", range, &consumed) < 1 || !consumed)
            continue;
        const char *file = line + consumed;
        if (file[0] != '/')
            continue;
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = !strcmp(m[i].path, file);
        if (seen)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct mapping *nm = realloc(m, cap * sizeof *m);
            if (!nm)
                break;
            m = nm;
        }
        ab_strlcpy(m[n].range, range, sizeof m[n].range);
        ab_strlcpy(m[n].path, file, sizeof m[n].path);
        size_t l = strlen(m[n].path);
        if (l > 10 && !strcmp(m[n].path + l - 10, " (deleted)"))
            m[n].path[l - 10] = '\0';
        n++;
    }
    free(text);
    *out = m;
    return n;
}

/* Add the object at path (through its map_files link when mapped). */
static int add_candidate(struct ab_trace_lib *lib, int pid, const char *path,
                         const struct mapping *map, bool need_malloc, char *err, size_t errlen)
{
    char open_path[PATH_MAX];
    if (map)
        snprintf(open_path, sizeof open_path, "/proc/%d/map_files/%s", pid, map->range);
    else
        ab_strlcpy(open_path, path, sizeof open_path);
    return ab_trace_plan_object(lib, map ? map->path : path, open_path, need_malloc, err,
                                errlen);
}

static const struct mapping *mapped_as(const struct mapping *maps, size_t n, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        ab_strlcpy(real, path, sizeof real);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(maps[i].path, real) || !strcmp(maps[i].path, path))
            return &maps[i];
    return NULL;
}

static bool serves_malloc(const struct ab_trace_lib *lib)
{
    for (size_t i = 0; i < lib->nprobes; i++)
        if (!strcmp(lib->probes[i].name, "malloc"))
            return true;
    return false;
}

int ab_trace_find_lib(int pid, bool mapped, const char *override, struct ab_trace_lib *lib,
                      char *err, size_t errlen, enum ab_code *code)
{
    memset(lib, 0, sizeof *lib);
    struct mapping *maps = NULL;
    size_t nmaps = mapped ? read_maps(pid, &maps) : 0;
    if (mapped && !nmaps) {
        snprintf(err, errlen, "process %d maps no files (a kernel thread, or it has exited)",
                 pid);
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    int rc = AB_OK;
    char why[512] = "";
    if (override && override[0]) {
        ab_strlcpy(lib->chosen_by, "--lib", sizeof lib->chosen_by);
        const struct mapping *m = mapped ? mapped_as(maps, nmaps, override) : NULL;
        if (mapped && !m) {
            snprintf(err, errlen, "--lib %s is not mapped by process %d", override, pid);
            rc = ab_fail(code, AB_ALLOCBENCH_USAGE);
        } else if (add_candidate(lib, pid, override, m, true, why, sizeof why)) {
            snprintf(err, errlen, "--lib %s", why);
            rc = ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
        }
        free(maps);
        return rc;
    }

    char proc[64], exe[PATH_MAX], cwd[PATH_MAX];
    snprintf(proc, sizeof proc, "/proc/%d/exe", pid);
    read_link(proc, exe, sizeof exe);
    snprintf(proc, sizeof proc, "/proc/%d/cwd", pid);
    read_link(proc, cwd, sizeof cwd);
    if (!exe[0]) {
        free(maps);
        snprintf(err, errlen, "process %d has no executable (a kernel thread?)", pid);
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    /* Candidates in the loader's order: the executable, then its list. */
    enum { MAXC = 512 };
    char(*cands)[PATH_MAX] = malloc(MAXC * sizeof *cands);
    if (!cands) {
        free(maps);
        snprintf(err, errlen, "out of memory");
        return ab_fail(code, AB_ALLOCBENCH_INTERNAL);
    }
    size_t nc = 0;
    ab_strlcpy(cands[nc++], exe, PATH_MAX);
    struct elf_facts f;
    if (elf_read(exe, &f, why, sizeof why) == 0 && f.interp[0]) {
        char **envp = read_environ(pid);
        char *list = envp ? loader_list(f.interp, exe, cwd, envp) : NULL;
        if (list)
            nc += ab_trace_parse_ldlist(list, cands + nc, MAXC - nc);
        free(list);
        free(envp);
    }
    ab_strlcpy(lib->chosen_by, "loader order", sizeof lib->chosen_by);
    for (size_t i = 0; i < nc; i++) {
        const struct mapping *m = mapped ? mapped_as(maps, nmaps, cands[i]) : NULL;
        if (!mapped || m)
            add_candidate(lib, pid, cands[i], m, false, why, sizeof why);
    }
    /* The loader could not be asked (a static or foreign executable): the
     * mappings, the C library last since anything else defining malloc
     * there was loaded to replace it. */
    for (int pass = 0; pass < 2 && mapped && !serves_malloc(lib); pass++) {
        memset(lib, 0, sizeof *lib);
        ab_strlcpy(lib->chosen_by, "mappings", sizeof lib->chosen_by);
        for (size_t i = 0; i < nmaps && !serves_malloc(lib); i++) {
            char open_path[PATH_MAX];
            snprintf(open_path, sizeof open_path, "/proc/%d/map_files/%s", pid, maps[i].range);
            if (elf_read(open_path, &f, why, sizeof why) || !f.found[0] ||
                (pass == 0 && f.family == AB_FAMILY_GLIBC))
                continue;
            add_candidate(lib, pid, maps[i].path, &maps[i], true, why, sizeof why);
        }
    }
    free(cands);
    free(maps);
    if (!serves_malloc(lib)) {
        snprintf(err, errlen, "no object in process %d (%s) defines malloc; name it with --lib",
                 pid, exe);
        return ab_fail(code, AB_ALLOCBENCH_BAD_SUBJECT);
    }
    return AB_OK;
}

int ab_trace_resolve_command(const char *cmd, char *path, size_t len, char *err, size_t errlen,
                             enum ab_code *code)
{
    if (!cmd[0]) {
        snprintf(err, errlen, "the command is empty");
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    if (strchr(cmd, '/')) {
        ab_strlcpy(path, cmd, len);
    } else {
        const char *env = getenv("PATH");
        char dirs[4096];
        ab_strlcpy(dirs, env && *env ? env : "/usr/local/bin:/usr/bin:/bin", sizeof dirs);
        bool found = false;
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d && !found;
             d = strtok_r(NULL, ":", &save)) {
            if (snprintf(path, len, "%s/%s", *d ? d : ".", cmd) >= (int)len)
                continue;
            struct stat st;
            found = stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
        }
        if (!found) {
            snprintf(err, errlen, "command '%s' is not found in PATH", cmd);
            return ab_fail(code, AB_ALLOCBENCH_USAGE);
        }
    }
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "command '%s' cannot be executed: %s", cmd, strerror(errno));
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "command '%s' is not a regular file", cmd);
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    if (access(path, X_OK)) {
        snprintf(err, errlen, "command '%s' cannot be executed: %s", cmd, strerror(errno));
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    char magic[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 2 || (memcmp(magic, "\177ELF", 4) != 0 && memcmp(magic, "#!", 2) != 0)) {
        snprintf(err, errlen, "command '%s' is neither an ELF executable nor a #! script", cmd);
        return ab_fail(code, AB_ALLOCBENCH_USAGE);
    }
    return AB_OK;
}
