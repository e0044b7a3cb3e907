/* modes.h — the child modes, one line each: a mode is a const struct
 * ab_child_mode ab_mode_<name> in the engine it belongs to.  Nothing else
 * changes to add one.  AB_CHILD_MODES run in allocbench-trial, with the
 * allocator under test; AB_SUPERVISOR_MODES in allocbench itself, re-
 * executed with nothing preloaded (a backend watching a trial child). */
#ifndef AB_MODES_H
#define AB_MODES_H

#define AB_CHILD_MODES(X) \
    X(describe)           \
    X(baseline)           \
    X(trial)              \
    X(stress)             \
    X(fastpath)

#define AB_SUPERVISOR_MODES(X) X(supervise)

#endif
