/*
 * The bump plugin (seed 004): checkpoint save/restore, nested; the fixed
 * buffer fails closed when full; slab growth and the oversized path; the
 * slab-boundary pitfall; bulk; page limit; fini releases everything.
 * argv[1]: ab-bump.so, argv[2]: ab-bump-fixed.so.
 */
#include "proc.h"
#include "check.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

static const struct allocbench_plugin *load(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return NULL;
    }
    allocbench_plugin_entry_fn fn;
    void *sym = dlsym(h, ALLOCBENCH_PLUGIN_ENTRY);
    if (!sym)
        return NULL;
    memcpy(&fn, &sym, sizeof fn);
    const struct allocbench_plugin *p = fn(ALLOCBENCH_PLUGIN_ABI_VERSION);
    char err[256];
    if (ab_plugin_validate(p, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", path, err);
        return NULL;
    }
    return p;
}

static uint64_t mapped(const struct allocbench_plugin *p)
{
    struct allocbench_plugin_stats st = {.struct_size = sizeof st};
    CHECK(p->stats(&st) == 0);
    CHECK(st.valid & ALLOCBENCH_STAT_MAPPED);
    return st.mapped_bytes;
}

static int configure(const struct allocbench_plugin *p, const char *options, uint64_t limit)
{
    struct allocbench_plugin_config c = {.struct_size = sizeof c,
                                         .profile = ALLOCBENCH_PROFILE_HOSTED_SMALL,
                                         .numa_node = -1,
                                         .page_limit = limit,
                                         .options = options};
    return p->configure(&c);
}

static const struct allocbench_plugin *g_plugin;
static void *thread_alloc(void *arg)
{
    void **out = arg;
    g_plugin->thread_attach();
    *out = g_plugin->malloc(64);
    memset(*out, 0x5a, 64);
    g_plugin->thread_detach();
    return NULL;
}

static void test_slab(const struct allocbench_plugin *p)
{
    CHECK(!strcmp(p->name, "bump"));
    CHECK(configure(p, "slab=1M", 0) == 0);
    /* Refusals are answers. */
    struct allocbench_plugin_config c = {.struct_size = sizeof c,
                                         .profile = ALLOCBENCH_PROFILE_HOSTED_SERVER,
                                         .hugepages = 1, .numa_node = -1};
    CHECK(p->configure(&c) == -ENOTSUP);
    CHECK(configure(p, "slab=lots", 0) == -EINVAL);
    CHECK(configure(p, "colour=red", 0) == -EINVAL);

    char *a = p->malloc(10), *b = p->malloc(16);
    CHECK(a && b && b == a + 32); /* 16-byte header + 16 usable */
    CHECK(p->usable_size(a) == 16 && p->usable_size(b) == 16);
    CHECK(((uintptr_t)a & 15) == 0);
    uint64_t m0 = mapped(p);
    CHECK(m0 >= (1u << 20));

    /* Checkpoints nest; restore brings the bump pointer back. */
    struct allocbench_checkpoint outer, inner;
    CHECK(p->checkpoint_save(&outer) == 0);
    char *x = p->malloc(100);
    CHECK(p->checkpoint_save(&inner) == 0);
    char *y = p->malloc(100);
    CHECK(y == x + 128);
    CHECK(p->checkpoint_restore(&inner) == 0);
    CHECK(p->malloc(100) == y);
    CHECK(p->checkpoint_restore(&outer) == 0);
    CHECK(p->malloc(100) == x);
    CHECK(p->checkpoint_restore(&outer) == 0);

    /* Growth by slabs, released by restore. */
    for (int i = 0; i < 3000; i++)
        CHECK(p->malloc(1000) != NULL);
    uint64_t grown = mapped(p);
    CHECK(grown >= m0 + 2 * (1u << 20)); /* 3000 * 1016 B: two more slabs */
    CHECK(p->checkpoint_restore(&outer) == 0);
    CHECK(mapped(p) == m0);

    /* Oversized: a custom slab of its own, gone at restore. */
    char *big = p->malloc(3u << 20);
    CHECK(big != NULL);
    CHECK(mapped(p) >= m0 + (3u << 20));
    CHECK(p->usable_size(big) == 3u << 20);
    memset(big, 1, 3u << 20);
    CHECK(p->checkpoint_restore(&outer) == 0);
    CHECK(mapped(p) == m0);
    CHECK(p->malloc(100) == x);
    CHECK(p->checkpoint_restore(&outer) == 0);

    /* The slab-boundary pitfall: fill to just below the slab's end, then a
     * nested scope in a loop opens and drops a fresh slab every time. */
    struct allocbench_checkpoint scope;
    for (;;) {
        struct allocbench_checkpoint probe;
        p->checkpoint_save(&probe);
        char *q = p->malloc(4000);
        bool opened = mapped(p) != m0;
        p->checkpoint_restore(&probe);
        if (opened || !q)
            break; /* that one needed a new slab: we are just below the end */
        p->malloc(4000);
    }
    uint64_t at_edge = mapped(p);
    for (int i = 0; i < 5; i++) {
        CHECK(p->checkpoint_save(&scope) == 0);
        CHECK(p->malloc(4000) != NULL);
        CHECK(mapped(p) > at_edge); /* a new slab for this scope */
        CHECK(p->checkpoint_restore(&scope) == 0);
        CHECK(mapped(p) == at_edge); /* and it is gone again */
    }
    CHECK(p->checkpoint_restore(&outer) == 0);

    /* Bulk: best effort 1..n, contiguous in the current slab. */
    void *blk[64];
    size_t got = p->alloc_bulk(32, 64, blk);
    CHECK(got >= 1 && got <= 64);
    CHECK(got == 64);
    for (size_t i = 1; i < got; i++)
        CHECK((char *)blk[i] == (char *)blk[i - 1] + 48);

    /* realloc: the newest block grows in place; others move with contents. */
    char *r1 = p->malloc(32);
    memset(r1, 7, 32);
    CHECK(p->realloc(r1, 64) == r1 && p->usable_size(r1) == 64);
    char *other = p->malloc(16);
    (void)other;
    char *r2 = p->realloc(r1, 256);
    CHECK(r2 != r1 && r2[0] == 7 && r2[31] == 7);
    char *al = p->aligned_alloc(256, 100);
    CHECK(al && ((uintptr_t)al & 255) == 0 && p->usable_size(al) >= 100);
    CHECK(p->aligned_alloc(3, 10) == NULL && errno == EINVAL);

    /* calloc zeroes memory a restore recycled. */
    struct allocbench_checkpoint z;
    p->checkpoint_save(&z);
    memset(p->malloc(64), 0xff, 64);
    p->checkpoint_restore(&z);
    unsigned char *zc = p->calloc(4, 16);
    int nonzero = 0;
    for (int i = 0; i < 64; i++)
        nonzero += zc[i] != 0;
    CHECK(nonzero == 0);
    CHECK(p->calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);

    /* Page limit: fails closed, and works again after a restore. */
    p->checkpoint_restore(&outer);
    CHECK(configure(p, NULL, mapped(p) + (2u << 20)) == 0);
    int n = 0;
    errno = 0;
    while (p->malloc(100000) && n < 1000)
        n++;
    CHECK(n > 5 && n < 1000);
    CHECK(errno == ENOMEM);
    CHECK(p->malloc(100000) == NULL);
    CHECK(p->checkpoint_restore(&outer) == 0);
    CHECK(p->malloc(100000) != NULL);
    CHECK(configure(p, NULL, 0) == 0);

    /* A detached thread's heap is adopted by the next thread: its blocks stay
     * valid and the mapping does not grow with thread churn. */
    g_plugin = p;
    void *t1 = NULL, *t2 = NULL;
    pthread_t th;
    pthread_create(&th, NULL, thread_alloc, &t1);
    pthread_join(th, NULL);
    uint64_t after_one = mapped(p);
    pthread_create(&th, NULL, thread_alloc, &t2);
    pthread_join(th, NULL);
    CHECK(mapped(p) == after_one);
    CHECK(t1 && t2 && t1 != t2 && ((unsigned char *)t1)[63] == 0x5a);

    CHECK(p->fini() == 0);
    CHECK(mapped(p) == 0);
}

static void test_fixed(const struct allocbench_plugin *p)
{
    CHECK(!strcmp(p->name, "bump-fixed"));
    CHECK(configure(p, "capacity=1M", 0) == 0);
    struct allocbench_checkpoint cp;
    CHECK(p->checkpoint_save(&cp) == 0);
    size_t n = 0;
    errno = 0;
    while (p->malloc(1008)) /* 1024 with its header */
        n++;
    CHECK(errno == ENOMEM);
    CHECK(n == ((1u << 20) - 16) / 1024); /* the buffer's own header takes 16 B */
    CHECK(p->malloc(1) == NULL || true);
    errno = 0;
    CHECK(p->malloc(2000) == NULL && errno == ENOMEM); /* still closed */
    CHECK(mapped(p) == (1u << 20) + 4096);            /* buffer + heap page: no more */
    void *blk[4];
    CHECK(p->alloc_bulk(2000, 4, blk) == 0);
    CHECK(p->checkpoint_restore(&cp) == 0);
    CHECK(p->malloc(1008) != NULL); /* open again after restore */
    CHECK(p->fini() == 0);
    CHECK(mapped(p) == 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: plugin-bump SLAB.so FIXED.so\n");
        return 2;
    }
    const struct allocbench_plugin *slab = load(argv[1]), *fixed = load(argv[2]);
    CHECK(slab && fixed);
    if (slab)
        test_slab(slab);
    if (fixed)
        test_fixed(fixed);
    return check_done();
}
