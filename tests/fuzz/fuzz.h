/* fuzz.h — what every fuzz target in tests/fuzz/ defines: libFuzzer's entry
 * point, called once per input (libFuzzer's main with clang, replay.c's
 * with any compiler).  A target checks its parser's promises and aborts
 * when one is broken; a crash, a leak or a sanitizer report is a finding.
 * Nothing a target calls may touch the file system or start a process. */
#ifndef AB_FUZZ_H
#define AB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: say which on descriptor 2 (a target may have put
 * stderr, the FILE, elsewhere), and abort: a finding. */
#define AB_FUZZ_CHECK(cond)                                                                  \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            dprintf(2, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#endif
