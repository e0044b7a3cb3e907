/*
 * wl-cache-thrash.h — what cache-scratch takes from cache-thrash: the
 * parameters and the loop, run with the objects the main thread made for
 * the threads (handed[i] is thread i's, freed before its first round).
 */
#ifndef AB_WL_CACHE_THRASH_H
#define AB_WL_CACHE_THRASH_H

#include "workload.h"

struct ab_cache_thrash {
    void **handed;          /* NULL: cache-thrash */
    uintptr_t *last;        /* each thread's last object */
};

extern const struct ab_param ab_cache_thrash_params[];
/* The rounds, then the metric threads_sharing_lines. */
int ab_cache_thrash_run(struct ab_trial *t, void **handed);

#endif
