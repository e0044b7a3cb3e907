/* counters.h — the counter backends this build has: one line each, one file
 * each (lib/counter-<name>.c ending in `const struct ab_counter
 * ab_counter_<name>`).  Nothing else changes to add one.  `none` (time
 * only) is the absence of a counter, not an entry.  The order is --counter
 * auto's: the hardware where it counts, else the exact tracer, else the
 * simulator. */
#ifndef AB_COUNTERS_H
#define AB_COUNTERS_H

#include "ab-config.h"

#if AB_HAVE_CAPSTONE
#define AB_COUNTER_PTRACE(X) X(ptrace)
#else
#define AB_COUNTER_PTRACE(X)
#endif

#if AB_HAVE_CALLGRIND_H
#define AB_COUNTER_CALLGRIND(X) X(callgrind)
#else
#define AB_COUNTER_CALLGRIND(X)
#endif

#define AB_COUNTERS(X)    \
    X(pmu)                \
    AB_COUNTER_PTRACE(X)  \
    AB_COUNTER_CALLGRIND(X)

#endif
