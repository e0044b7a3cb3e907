/*
 * ref-test.c — the ref plugin's own tests, linked with its sources (so that
 * they can be built with -fsanitize=thread or address,undefined, which the
 * allocbench binary is not).  Each test runs in a child process of its own
 * and starts from an unconfigured plugin.
 *
 *   cd plugins/ref && cc -std=c11 -O1 -g -D_GNU_SOURCE -I../../include -I. \
 *      tests/ref-test.c alloc.c central.c heap.c page.c plugin.c ref.c stats.c \
 *      -lpthread -lnuma [-fsanitize=thread]
 *   ./a.out [test...]       exit 0 all passed, 1 a check failed
 */
#include "allocbench-plugin.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct allocbench_plugin *P;

#define CHECK(e)                                                                             \
    do {                                                                                     \
        if (!(e)) {                                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #e);           \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)(seed + i * 131);
}

static int intact(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(seed + i * 131))
            return 0;
    return 1;
}

static size_t pick_size(uint64_t *r)
{
    uint64_t k = rnd(r) % 100;
    if (k < 60)
        return 1 + rnd(r) % 128;
    if (k < 90)
        return 129 + rnd(r) % 900;
    if (k < 99)
        return 1025 + rnd(r) % 16000;
    return 16385 + rnd(r) % 120000;
}

static struct allocbench_plugin_stats stats(void)
{
    struct allocbench_plugin_stats st = {.struct_size = sizeof st};
    CHECK(P->stats(&st) == 0);
    return st;
}

static void configure(uint32_t profile, uint64_t limit, int huge, int node, const char *opts)
{
    struct allocbench_plugin_config c = {.struct_size = sizeof c,
                                         .profile = profile,
                                         .hugepages = huge,
                                         .numa_node = node,
                                         .page_limit = limit,
                                         .options = opts};
    CHECK(P->configure(&c) == 0);
}

/* ------------------------------------------------------------- tests */

static void t_api(void)
{
    configure(ALLOCBENCH_PROFILE_HOSTED_SERVER, 0, 0, -1, NULL);
    /* Every small size: a class that holds it, wasting at most 15 bytes or
     * a quarter. */
    for (size_t n = 1; n <= 32768; n++) {
        void *p = P->malloc(n);
        size_t u = P->usable_size(p);
        CHECK(p && u >= n && (u - n <= 15 || (u - n) * 4 <= n));
        P->free(p);
    }
    for (size_t n = 0; n <= 70000; n += n < 300 ? 1 : 97) {
        unsigned char *p = P->malloc(n);
        CHECK(p && (uintptr_t)p % 16 == 0);
        CHECK(P->usable_size(p) >= n);
        fill(p, P->usable_size(p), n);
        unsigned char *q = P->realloc(p, n * 2 + 1);
        CHECK(q && intact(q, n, n));
        P->free(q);
    }
    for (size_t a = 32; a <= (4u << 20); a *= 2)
        for (size_t n = 1; n < 3 * a && n < (8u << 20); n = n * 3 + 7) {
            void *p = P->aligned_alloc(a, n);
            CHECK(p && (uintptr_t)p % a == 0 && P->usable_size(p) >= n);
            memset(p, 0xa5, n);
            P->free(p);
        }
    errno = 0;
    CHECK(!P->aligned_alloc(24, 10) && errno == EINVAL);
    for (size_t n = 1; n < 200000; n = n * 2 + 3) {
        unsigned char *p = P->malloc(n);
        memset(p, 0xff, n);
        P->free(p);
        p = P->calloc(1, n);
        for (size_t i = 0; i < n; i++)
            CHECK(p[i] == 0);
        P->free(p);
    }
    errno = 0;
    CHECK(!P->malloc(SIZE_MAX) && errno == ENOMEM);
    CHECK(!P->malloc(PTRDIFF_MAX));
    CHECK(!P->calloc(SIZE_MAX / 2 + 1, 2));
    CHECK(!P->aligned_alloc(4096, SIZE_MAX - 4095));
    void *p = P->malloc(64);
    fill(p, 64, 7);
    CHECK(!P->realloc(p, SIZE_MAX) && intact(p, 64, 7));
    p = P->realloc(p, 0);
    CHECK(p);
    P->free(p);
    P->free(NULL);
    CHECK(P->usable_size(NULL) == 0);
    void *out[5000];
    size_t got = P->alloc_bulk(48, 5000, out);
    CHECK(got >= 1 && got <= 5000);
    for (size_t i = 0; i < got; i++) {
        CHECK(out[i] && P->usable_size(out[i]) >= 48);
        fill(out[i], 48, i);
    }
    for (size_t i = 0; i < got; i++)
        CHECK(intact(out[i], 48, i));
    for (size_t i = 0; i < got; i++)
        P->free(out[i]);
}

/* A window of live blocks replaced at random; live_bytes matches the sum
 * of usable sizes whenever the heap is quiet. */
static void t_local(void)
{
    configure(ALLOCBENCH_PROFILE_HOSTED_SMALL, 0, 0, -1, NULL);
    enum { N = 4096 };
    static void *slot[N];
    static size_t len[N];
    uint64_t r = 1, held = 0;
    for (int op = 0; op < 400000; op++) {
        size_t k = rnd(&r) % N;
        if (slot[k]) {
            CHECK(intact(slot[k], len[k], k));
            held -= P->usable_size(slot[k]);
            P->free(slot[k]);
        }
        len[k] = pick_size(&r);
        slot[k] = P->malloc(len[k]);
        CHECK(slot[k]);
        held += P->usable_size(slot[k]);
        fill(slot[k], len[k], k);
        if (op % 100000 == 0)
            CHECK(stats().live_bytes == held);
    }
    struct allocbench_plugin_stats st = stats();
    CHECK(st.live_bytes == held && st.mapped_bytes >= held && st.resident_bytes <= st.mapped_bytes);
    for (size_t k = 0; k < N; k++)
        P->free(slot[k]);
    CHECK(stats().live_bytes == 0);
}

/* A ring: every free remote, the queues past their bound. */
struct ring {
    int threads, rounds;
    size_t n;
    void **batch;
    pthread_barrier_t bar;
};

static void *ring_main(void *arg)
{
    struct ring *g = ((void **)arg)[0];
    int i = (int)(intptr_t)((void **)arg)[1];
    CHECK(P->thread_attach() == 0);
    void **mine = g->batch + (size_t)i * g->n;
    void **theirs = g->batch + (size_t)((i + g->threads - 1) % g->threads) * g->n;
    uint64_t r = (uint64_t)i + 1;
    for (int round = 0; round < g->rounds; round++) {
        for (size_t k = 0; k < g->n; k++) {
            size_t n = pick_size(&r);
            mine[k] = P->malloc(n);
            CHECK(mine[k]);
            *(size_t *)mine[k] = n;
            fill((size_t *)mine[k] + 1, n > 8 ? n - 8 : 0, k);
        }
        pthread_barrier_wait(&g->bar);
        for (size_t k = 0; k < g->n; k++) {
            size_t n = *(size_t *)theirs[k];
            CHECK(intact((size_t *)theirs[k] + 1, n > 8 ? n - 8 : 0, k));
            P->free(theirs[k]);
        }
        pthread_barrier_wait(&g->bar);
        if (i == 0) {
            struct allocbench_plugin_stats st = stats();
            CHECK(st.remote_free_depth <= st.remote_free_bound);
        }
        pthread_barrier_wait(&g->bar);
    }
    CHECK(P->thread_detach() == 0);
    return NULL;
}

static void t_remote(void)
{
    configure(ALLOCBENCH_PROFILE_HOSTED_SERVER, 0, 0, -1, "xstats=1");
    struct ring g = {.threads = 4, .rounds = 20, .n = 2 * 4096};
    g.batch = calloc((size_t)g.threads * g.n, sizeof *g.batch);
    pthread_barrier_init(&g.bar, NULL, (unsigned)g.threads);
    pthread_t t[4];
    void *args[4][2];
    uint64_t before = stats().remote_frees;
    for (int i = 0; i < g.threads; i++) {
        args[i][0] = &g;
        args[i][1] = (void *)(intptr_t)i;
        CHECK(pthread_create(&t[i], NULL, ring_main, args[i]) == 0);
    }
    for (int i = 0; i < g.threads; i++)
        pthread_join(t[i], NULL);
    struct allocbench_plugin_stats st = stats();
    CHECK(st.remote_free_depth == 0);
    CHECK(st.remote_frees - before == (uint64_t)g.threads * g.n * (uint64_t)g.rounds);
    CHECK(st.reserved[0] > 0); /* the bound was passed, on the locked path */
    CHECK(st.live_bytes == 0);
    free(g.batch);
}

/* Thread churn: blocks freed after their owner detached; memory bounded. */
static void **churn_left;
static void *churn_main(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    CHECK(P->thread_attach() == 0);
    uint64_t r = i * 7 + 3;
    for (size_t k = 0; k < 512; k++) {
        if (churn_left[i * 512 + k]) {
            CHECK(intact(churn_left[i * 512 + k], 16, k));
            P->free(churn_left[i * 512 + k]);
        }
        void *p = P->malloc(16 + rnd(&r) % 2000);
        fill(p, 16, k);
        churn_left[i * 512 + k] = p;
        void *q = P->malloc(rnd(&r) % 3000);
        P->free(q);
    }
    CHECK(P->thread_detach() == 0);
    return NULL;
}

static void t_churn(void)
{
    configure(ALLOCBENCH_PROFILE_HOSTED_SMALL, 0, 0, -1, NULL);
    churn_left = calloc(4 * 512, sizeof *churn_left);
    uint64_t peak = 0;
    for (int round = 0; round < 60; round++) {
        pthread_t t[4];
        for (size_t i = 0; i < 4; i++)
            /* each thread frees what the previous round's neighbour left */
            CHECK(pthread_create(&t[i], NULL, churn_main, (void *)(uintptr_t)((i + round) % 4)) == 0);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        uint64_t m = stats().mapped_bytes;
        if (round == 10)
            peak = m;
        if (round > 10)
            CHECK(m <= 2 * peak + (4u << 20));
    }
    for (size_t k = 0; k < 4 * 512; k++)
        P->free(churn_left[k]);
    CHECK(stats().remote_free_depth == 0 && stats().live_bytes == 0);
    free(churn_left);
}

static void t_checkpoint(void)
{
    configure(ALLOCBENCH_PROFILE_HOSTED_SERVER, 0, 0, -1, NULL);
    void *keep = P->malloc(100);
    fill(keep, 100, 1);
    uint64_t live0 = stats().live_bytes;
    struct allocbench_checkpoint a, b, c;
    CHECK(P->checkpoint_save(&a) == 0);
    for (int i = 0; i < 1000; i++)
        CHECK(P->malloc(8 + (size_t)i % 700));
    void *big = P->malloc(1u << 20);
    CHECK(big);
    CHECK(P->checkpoint_save(&b) == 0);
    for (int i = 0; i < 1000; i++)
        CHECK(P->malloc(24));
    CHECK(P->checkpoint_restore(&b) == 0);
    CHECK(P->checkpoint_restore(&b) == 0); /* a checkpoint stays valid */
    CHECK(P->checkpoint_restore(&a) == 0);
    CHECK(stats().live_bytes == live0);
    CHECK(P->checkpoint_restore(&b) == -EINVAL); /* inner, gone with a */
    P->free(keep);                              /* an outer block, freed in a scope */
    CHECK(P->checkpoint_restore(&a) == 0);
    CHECK(stats().live_bytes == 0);
    /* save/restore loops do not deepen the stack */
    uint64_t m0 = 0;
    for (int i = 0; i < 5000; i++) {
        CHECK(P->checkpoint_save(&c) == 0);
        for (int k = 0; k < 32; k++)
            CHECK(P->malloc(8 + (size_t)k * 16));
        CHECK(P->checkpoint_restore(&c) == 0);
        if (i == 100)
            m0 = stats().mapped_bytes;
        if (i > 100)
            CHECK(stats().mapped_bytes == m0);
    }
    struct allocbench_checkpoint junk = {{0}};
    CHECK(P->checkpoint_restore(&junk) == -EINVAL);
}

static void t_limit(void)
{
    uint64_t limit = 8u << 20;
    configure(ALLOCBENCH_PROFILE_HOSTED_SMALL, limit, 0, -1, NULL);
    static const size_t sizes[] = {64, 4096, 256u << 10, 4u << 20};
    static void *p[200000];
    for (int si = 0; si < 4; si++) {
        size_t n = 0;
        errno = 0;
        while (n < 200000 && (p[n] = P->malloc(sizes[si])))
            memset(p[n++], 1, sizes[si]);
        CHECK(n < 200000 && errno == ENOMEM);
        CHECK(stats().mapped_bytes <= limit);
        CHECK(!P->malloc(sizes[si])); /* refused stays refused */
        for (size_t i = 0; i < n; i += 2)
            P->free(p[i]);
        CHECK((p[0] = P->malloc(sizes[si]))); /* recovers */
        P->free(p[0]);
        for (size_t i = 1; i < n; i += 2)
            P->free(p[i]);
    }
    CHECK(P->fini() == 0);
    CHECK(stats().mapped_bytes == 0);
}

static void t_configure(void)
{
    struct allocbench_plugin_config c = {.struct_size = sizeof c,
                                         .profile = ALLOCBENCH_PROFILE_HOSTED_SMALL,
                                         .numa_node = -1};
    c.hugepages = 1;
    CHECK(P->configure(&c) == -EPERM);
    c.hugepages = 0;
    c.numa_node = 0;
    CHECK(P->configure(&c) == -EPERM);
    c.profile = ALLOCBENCH_PROFILE_TEST_FIXTURE;
    CHECK(P->configure(&c) == -EPERM);
    c.profile = ALLOCBENCH_PROFILE_HOSTED_SERVER;
    c.numa_node = 4095;
    CHECK(P->configure(&c) == -EINVAL);
    c.numa_node = -1;
    c.profile = ALLOCBENCH_PROFILE_REALTIME;
    CHECK(P->configure(&c) == -ENOTSUP);
    c.profile = ALLOCBENCH_PROFILE_HOSTED_SERVER | ALLOCBENCH_PROFILE_HOSTED_SMALL;
    CHECK(P->configure(&c) == -EINVAL);
    c.profile = ALLOCBENCH_PROFILE_HOSTED_SERVER;
    c.options = "remote_bound=5000";
    CHECK(P->configure(&c) == -EINVAL);
    c.options = "bogus=1";
    CHECK(P->configure(&c) == -EINVAL);
    c.options = NULL;
    c.reserved[3] = 1;
    CHECK(P->configure(&c) == -EINVAL);
    c.reserved[3] = 0;
    c.hugepages = 1;
    c.numa_node = 0;
    CHECK(P->configure(&c) == 0);
    void *p = P->malloc(4u << 20);
    CHECK(p);
    memset(p, 1, 4u << 20);
    P->free(p);
    CHECK(P->fini() == 0);
}

/* The fixture's backend places the same requests at the same offsets. */
static void fixture_run(ptrdiff_t *off, size_t n)
{
    configure(ALLOCBENCH_PROFILE_TEST_FIXTURE, 0, 0, -1, NULL);
    uint64_t r = 42;
    char *first = NULL;
    void *live[64] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t k = rnd(&r) % 64;
        P->free(live[k]);
        live[k] = P->malloc(rnd(&r) % 3 ? pick_size(&r) : 100000 + rnd(&r) % 900000);
        CHECK(live[k]);
        if (!first)
            first = live[k];
        off[i] = (char *)live[k] - first;
    }
    for (int k = 0; k < 64; k++)
        P->free(live[k]);
    CHECK(P->fini() == 0);
}

static void t_fixture(void)
{
    enum { N = 20000 };
    static ptrdiff_t a[N], b[N];
    fixture_run(a, N);
    fixture_run(b, N);
    CHECK(!memcmp(a, b, sizeof a));
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"api", t_api},         {"local", t_local},         {"remote", t_remote},
    {"churn", t_churn},     {"checkpoint", t_checkpoint}, {"limit", t_limit},
    {"configure", t_configure}, {"fixture", t_fixture},
};

int main(int argc, char **argv)
{
    P = allocbench_plugin_entry(ALLOCBENCH_PLUGIN_ABI_VERSION);
    if (!P)
        return 1;
    int failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= !strcmp(argv[a], tests[i].name);
        if (!wanted)
            continue;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            tests[i].fn();
            exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        printf("%-12s %s\n", tests[i].name, ok ? "ok" : "FAILED");
        failed |= !ok;
    }
    return failed;
}
