/* modes.h — the child modes, one line each: a mode is a const struct
 * ab_child_mode ab_mode_<name> in the engine it belongs to.  Nothing else
 * changes to add one. */
#ifndef AB_MODES_H
#define AB_MODES_H

#define AB_MODES(X) \
    X(describe)     \
    X(trial)        \
    X(stress)       \
    X(fastpath)     \
    X(supervise)

#endif
