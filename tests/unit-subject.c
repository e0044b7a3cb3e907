/* Subjects: a preload that did not take effect is caught (malloc resolves
 * to the C library, not the library asked for); the system allocator and a
 * plugin bind; path classification refuses what is not an allocator. */
#include "proc.h"
#include "check.h"

#include <errno.h>
#include <string.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    size_t n;
    const struct ab_named_allocator *na = ab_named_allocators(&n);
    char glibc[PATH_MAX], jemalloc[PATH_MAX];
    CHECK(ab_subject_find_named(&na[0], glibc, sizeof glibc));
    CHECK(!strcmp(na[1].name, "jemalloc"));
    if (!ab_subject_find_named(&na[1], jemalloc, sizeof jemalloc)) {
        printf("SKIP: jemalloc is not installed\n");
        return 77;
    }
    struct ab_heap h;
    char err[512] = "";
    /* This process was not started with jemalloc preloaded. */
    CHECK(ab_heap_open(&h, AB_SUBJECT_PRELOAD, jemalloc, err, sizeof err) == -ESRCH);
    CHECK(strstr(err, "libc.so") != NULL);
    CHECK(strstr(err, "libjemalloc") != NULL);
    CHECK(!strcmp(h.malloc_from, glibc));

    CHECK(ab_heap_open(&h, AB_SUBJECT_SYSTEM, glibc, err, sizeof err) == 0);
    CHECK(h.family == AB_FAMILY_GLIBC);
    CHECK(h.version[0] == '2');
    CHECK(h.alloc_bulk == NULL);
    CHECK(h.malloc != NULL && h.usable_size != NULL && h.mallinfo2 != NULL);
    void *p = h.malloc(100);
    CHECK(p && h.usable_size(p) >= 100);
    h.free(p);
    struct ab_alloc_stats st;
    ab_heap_stats(&h, &st);
    CHECK(st.mapped > 0 && st.allocated >= 0 && st.active == -1 && st.resident == -1);

    struct ab_subject s;
    CHECK(ab_subject_resolve("glibc", &s, err, sizeof err, NULL) == AB_OK);
    CHECK(s.kind == AB_SUBJECT_SYSTEM && !strcmp(s.path, glibc));
    CHECK(ab_subject_resolve("jemalloc", &s, err, sizeof err, NULL) == AB_OK);
    CHECK(s.kind == AB_SUBJECT_PRELOAD && s.family == AB_FAMILY_JEMALLOC);
    /* The same library by path keeps its name and is classified by a child. */
    CHECK(ab_subject_resolve(jemalloc, &s, err, sizeof err, NULL) == AB_OK);
    CHECK(s.kind == AB_SUBJECT_PRELOAD && !strcmp(s.name, "jemalloc"));
    CHECK(ab_subject_resolve("bump", &s, err, sizeof err, NULL) == AB_OK);
    CHECK(s.kind == AB_SUBJECT_PLUGIN && !strcmp(s.name, "bump"));
    enum ab_code code;
    CHECK(ab_subject_resolve("jemaloc", &s, err, sizeof err, &code) < 0 &&
          code == AB_ALLOCBENCH_UNKNOWN_ALLOCATOR);
    CHECK(ab_subject_resolve("/etc/passwd", &s, err, sizeof err, &code) < 0 &&
          code == AB_ALLOCBENCH_BAD_SUBJECT);
    CHECK(strstr(err, "not a shared object") != NULL);
    return check_done();
}
