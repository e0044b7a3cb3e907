/*
 * The bare program behind scripts/overhead: exactly the mallocs, writes and
 * frees of `allocbench run bulk-new --variant loop` (in-order free), with no
 * harness around them.
 *
 *   bare-bulk-new N SIZE WARMUP ROUNDS ptr|plt    prints ns per object
 *
 * ptr: malloc and free through pointers resolved once with dlsym, as
 *      allocbench calls them (the comparison isolates the harness);
 * plt: direct calls through the PLT, as an ordinary program makes them.
 */
#include "proc.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    size_t n = strtoull(argv[1], NULL, 10), size = strtoull(argv[2], NULL, 10);
    unsigned warmup = (unsigned)strtoul(argv[3], NULL, 10);
    unsigned rounds = (unsigned)strtoul(argv[4], NULL, 10);
    bool plt = !strcmp(argv[5], "plt");
    void **p = ab_buf_alloc(n * sizeof *p);
    if (!p || !n || !rounds)
        return 2;
    void *(*do_malloc)(size_t);
    void (*do_free)(void *);
    void *m = dlsym(RTLD_DEFAULT, "malloc"), *f = dlsym(RTLD_DEFAULT, "free");
    memcpy(&do_malloc, &m, sizeof m);
    memcpy(&do_free, &f, sizeof f);
    double start = 0;
    for (unsigned r = 0; r < warmup + rounds; r++) {
        if (r == warmup)
            start = now_ns();
        if (plt) {
            for (size_t i = 0; i < n; i++) {
                void *q = malloc(size);
                if (!q)
                    return 1;
                ab_touch(q, size, i);
                p[i] = q;
            }
            for (size_t i = 0; i < n; i++)
                free(p[i]);
        } else {
            for (size_t i = 0; i < n; i++) {
                void *q = do_malloc(size);
                if (!q)
                    return 1;
                ab_touch(q, size, i);
                p[i] = q;
            }
            for (size_t i = 0; i < n; i++)
                do_free(p[i]);
        }
    }
    printf("%.4f\n", (now_ns() - start) / ((double)n * rounds));
    return 0;
}
