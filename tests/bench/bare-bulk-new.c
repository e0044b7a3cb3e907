/*
 * The bare program behind scripts/overhead: exactly the mallocs, writes and
 * frees of `allocbench run bulk-new --variant loop` (in-order free), with no
 * harness around them, calling malloc and free the way any program does.
 *
 *   bare-bulk-new N SIZE WARMUP ROUNDS    prints ns per object
 */
#include "ab.h"

#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    size_t n = strtoull(argv[1], NULL, 10), size = strtoull(argv[2], NULL, 10);
    unsigned warmup = (unsigned)strtoul(argv[3], NULL, 10);
    unsigned rounds = (unsigned)strtoul(argv[4], NULL, 10);
    void **p = ab_buf_alloc(n * sizeof *p);
    if (!p || !n || !rounds)
        return 2;
    struct timespec a, b;
    for (unsigned r = 0; r < warmup + rounds; r++) {
        if (r == warmup)
            clock_gettime(CLOCK_MONOTONIC, &a);
        for (size_t i = 0; i < n; i++) {
            p[i] = malloc(size);
            if (!p[i])
                return 1;
            ab_touch(p[i], size, i);
        }
        for (size_t i = 0; i < n; i++)
            free(p[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("%.4f\n", ns / ((double)n * rounds));
    return 0;
}
