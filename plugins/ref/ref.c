/*
 * ref.c — the state ref.h declares: one per process, every lock and list of
 * the central level and the page backend (the heaps hang off it).
 */
#include "ref.h"

REF_INTERNAL struct ref_state ref_g = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .pb_lock = PTHREAD_MUTEX_INITIALIZER,
    .numa_node = -1,
    .page = 4096,
};
