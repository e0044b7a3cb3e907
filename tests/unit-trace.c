/* unit-trace.c — what `allocbench trace` decides before it attaches: log2
 * bins, the loader's list, which functions of which file it probes, which
 * commands it runs.  Needs no privileges. */
#include "trace.h"
#include "check.h"
#include "trace-bpf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct ab_trace_probe *probe(const struct ab_trace_lib *lib, const char *name)
{
    for (size_t i = 0; i < lib->nprobes; i++)
        if (!strcmp(lib->probes[i].name, name))
            return &lib->probes[i];
    return NULL;
}

static void test_bins(void)
{
    uint64_t lo, hi;
    ab_trace_bin_bounds(0, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
    ab_trace_bin_bounds(1, &lo, &hi);
    CHECK(lo == 1 && hi == 1);
    ab_trace_bin_bounds(6, &lo, &hi);
    CHECK(lo == 32 && hi == 63);
    ab_trace_bin_bounds(64, &lo, &hi);
    CHECK(lo == 1ull << 63 && hi == UINT64_MAX);
}

static void test_ldlist(void)
{
    char text[] = "\tlinux-vdso.so.1 (0x00007ffc5a3f1000)\n"
                  "\t/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 (0x00007f1d2c600000)\n"
                  "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1d2c41f000)\n"
                  "\tlibmissing.so.1 => not found\n"
                  "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f1d2c200000)\n"
                  "\t/lib64/ld-linux-x86-64.so.2 (0x00007f1d2cb0d000)\n";
    char paths[8][PATH_MAX];
    size_t n = ab_trace_parse_ldlist(text, paths, 8);
    CHECK(n == 4);
    CHECK(n > 0 && !strcmp(paths[0], "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"));
    CHECK(n > 1 && !strcmp(paths[1], "/lib/x86_64-linux-gnu/libc.so.6"));
    CHECK(n > 2 && !strcmp(paths[2], "/lib/x86_64-linux-gnu/libstdc++.so.6"));
    CHECK(n > 3 && !strcmp(paths[3], "/lib64/ld-linux-x86-64.so.2"));
    char two[] = "\t/a.so (0x1)\n\t/b.so (0x2)\n\t/c.so (0x3)\n";
    CHECK(ab_trace_parse_ldlist(two, paths, 2) == 2);
}

static void test_glibc(const char *libc)
{
    static struct ab_trace_lib lib;
    memset(&lib, 0, sizeof lib);
    char err[512];
    CHECK(ab_trace_plan_object(&lib, libc, libc, true, err, sizeof err) == 0);
    CHECK(lib.nobjects == 1 && lib.malloc_object == 0);
    CHECK(lib.objects[0].family == AB_FAMILY_GLIBC);
    const struct ab_trace_probe *m = probe(&lib, "malloc"), *f = probe(&lib, "free");
    const struct ab_trace_probe *c = probe(&lib, "calloc"), *r = probe(&lib, "realloc");
    const struct ab_trace_probe *pm = probe(&lib, "posix_memalign");
    CHECK(m && m->kind == AB_TRACE_ALLOC && m->size_arg == 0 && m->offset > 0);
    CHECK(c && c->kind == AB_TRACE_ALLOC_N && c->count_arg == 0 && c->size_arg == 1);
    CHECK(r && r->kind == AB_TRACE_REALLOC && r->size_arg == 1);
    CHECK(f && f->kind == AB_TRACE_FREE);
    CHECK(pm && pm->kind == AB_TRACE_MEMALIGN_OUT && pm->size_arg == 2);
    /* One probe per address: glibc's cfree is free. */
    CHECK(f && strstr(f->aliases, "cfree") != NULL);
    CHECK(probe(&lib, "cfree") == NULL);
    CHECK(probe(&lib, "mallocx") == NULL && probe(&lib, "_Znwm") == NULL);
    for (size_t i = 0; i < lib.nprobes; i++)
        for (size_t j = i + 1; j < lib.nprobes; j++)
            CHECK(lib.probes[i].offset != lib.probes[j].offset);
#if AB_HAVE_CAPSTONE
    CHECK(m && m->first_insn[0] != '\0');
#endif
}

/* An allocator that replaces malloc, free, calloc and realloc only: the C
 * library still serves aligned_alloc and posix_memalign. */
static void test_partial(const char *build, const char *libc)
{
    static struct ab_trace_lib lib;
    memset(&lib, 0, sizeof lib);
    char path[PATH_MAX], err[512];
    snprintf(path, sizeof path, "%s/stress/fixtures/libab-fix-double.so", build);
    CHECK(ab_trace_plan_object(&lib, path, path, false, err, sizeof err) == 0);
    CHECK(ab_trace_plan_object(&lib, libc, libc, false, err, sizeof err) == 0);
    CHECK(lib.nobjects == 2 && lib.malloc_object == 0);
    const struct ab_trace_probe *m = probe(&lib, "malloc"), *a = probe(&lib, "aligned_alloc");
    CHECK(m && m->object == 0);
    CHECK(probe(&lib, "free") && probe(&lib, "free")->object == 0);
    CHECK(a && a->object == 1);
    size_t mallocs = 0;
    for (size_t i = 0; i < lib.nprobes; i++)
        mallocs += !strcmp(lib.probes[i].name, "malloc");
    CHECK(mallocs == 1);
    /* A third file defining nothing new adds no object. */
    CHECK(ab_trace_plan_object(&lib, libc, libc, false, err, sizeof err) == 0);
    CHECK(lib.nobjects == 2);
}

static void test_refusals(const char *build)
{
    static struct ab_trace_lib lib;
    memset(&lib, 0, sizeof lib);
    char path[PATH_MAX], err[512] = "";
    snprintf(path, sizeof path, "%s/tests/fixtures/libab-not-allocator.so", build);
    CHECK(ab_trace_plan_object(&lib, path, path, true, err, sizeof err) == -ENOENT);
    CHECK(strstr(err, "defines no malloc") != NULL);
    CHECK(lib.nobjects == 0 && lib.nprobes == 0);
    snprintf(path, sizeof path, "%s/build.ninja", build);
    CHECK(ab_trace_plan_object(&lib, path, path, true, err, sizeof err) == -EINVAL);
    CHECK(ab_trace_plan_object(&lib, "/nonexistent/lib.so", "/nonexistent/lib.so", true, err,
                               sizeof err) == -ENOENT);
}

static void test_named(void)
{
    static struct ab_trace_lib lib;
    size_t n;
    const struct ab_named_allocator *na = ab_named_allocators(&n);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], err[512];
        if (na[i].family == AB_FAMILY_PLUGIN || na[i].family == AB_FAMILY_GLIBC ||
            !ab_subject_find_named(&na[i], path, sizeof path))
            continue;
        memset(&lib, 0, sizeof lib);
        CHECK(ab_trace_plan_object(&lib, path, path, true, err, sizeof err) == 0);
        CHECK(lib.objects[0].family == na[i].family);
        CHECK(probe(&lib, "malloc") && probe(&lib, "free"));
        if (na[i].family == AB_FAMILY_JEMALLOC)
            CHECK(probe(&lib, "mallocx") && probe(&lib, "sdallocx"));
        if (na[i].family == AB_FAMILY_TCMALLOC) /* tc_malloc is malloc there */
            CHECK(probe(&lib, "malloc") && strstr(probe(&lib, "malloc")->aliases, "tc_malloc"));
        if (na[i].family == AB_FAMILY_MIMALLOC)
            CHECK(probe(&lib, "malloc") && strstr(probe(&lib, "malloc")->aliases, "mi_malloc"));
    }
}

static void test_commands(void)
{
    char path[PATH_MAX], err[512];
    enum ab_code code = AB_ALLOCBENCH_INTERNAL;
    CHECK(ab_trace_resolve_command("sh", path, sizeof path, err, sizeof err, &code) == AB_OK);
    CHECK(path[0] == '/');
    CHECK(ab_trace_resolve_command("/etc/passwd", path, sizeof path, err, sizeof err, &code) <
              0 &&
          code == AB_ALLOCBENCH_USAGE);
    code = AB_ALLOCBENCH_INTERNAL;
    CHECK(ab_trace_resolve_command("no-such-command-for-allocbench", path, sizeof path, err,
                                   sizeof err, &code) < 0 &&
          code == AB_ALLOCBENCH_USAGE);
    CHECK(strstr(err, "not found in PATH") != NULL);
    code = AB_ALLOCBENCH_INTERNAL;
    CHECK(ab_trace_resolve_command("/", path, sizeof path, err, sizeof err, &code) < 0 &&
          code == AB_ALLOCBENCH_USAGE);
}

int main(void)
{
    const char *build = getenv("AB_BUILD");
    if (!build) {
        fprintf(stderr, "AB_BUILD is not set\n");
        return 1;
    }
    size_t n;
    const struct ab_named_allocator *na = ab_named_allocators(&n);
    char libc[PATH_MAX];
    CHECK(ab_subject_find_named(&na[0], libc, sizeof libc));
    test_bins();
    test_ldlist();
    test_glibc(libc);
    test_partial(build, libc);
    test_refusals(build);
    test_named();
    test_commands();
    return check_done();
}
