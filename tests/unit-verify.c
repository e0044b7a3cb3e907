/* Verification: the pattern catches a changed byte anywhere; the shadow
 * catches any overlap (and only overlaps), across chunk borders, and scales. */
#include "verify.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    unsigned char buf[100];
    for (size_t size = 0; size <= 100; size += 7) {
        ab_pattern_fill(buf, size, 42);
        CHECK(ab_pattern_check(buf, size, 42) == 0);
        if (size) {
            CHECK(ab_pattern_check(buf, size, 43) != 0); /* another sequence */
            buf[size - 1] ^= 1;
            CHECK(ab_pattern_check(buf, size, 42) == size); /* offset + 1 */
        }
    }
    ab_pattern_fill(buf + 1, 50, 7);
    CHECK(ab_pattern_check(buf + 1, 50, 7) == 0);
    memmove(buf, buf + 1, 50); /* same bytes, other address: caught */
    CHECK(ab_pattern_check(buf, 50, 7) != 0);

    struct ab_shadow *s = ab_shadow_new();
    CHECK(s != NULL);
    char *base = (char *)0x7f0000000000ull; /* never dereferenced */
    CHECK(ab_shadow_add(s, base, 32) == 0);
    CHECK(ab_shadow_add(s, base + 32, 32) == 0);          /* adjacent: fine */
    CHECK(ab_shadow_add(s, base + 16, 8) == -EEXIST);     /* inside */
    CHECK(ab_shadow_add(s, base - 8, 16) == -EEXIST);     /* straddles the start */
    CHECK(ab_shadow_add(s, base - 64, 64) == 0);          /* ends where it starts */
    CHECK(ab_shadow_remove(s, base - 64, 64) == 0);
    /* A refused block leaves nothing marked. */
    CHECK(ab_shadow_add(s, base + 64, 4096) == 0);
    CHECK(ab_shadow_add(s, base + 64 + 4096 - 8, 1000) == -EEXIST);
    CHECK(ab_shadow_add(s, base + 64 + 4096, 1000) == 0);
    CHECK(ab_shadow_remove(s, base + 64 + 4096, 1000) == 0);
    CHECK(ab_shadow_remove(s, base + 64, 4096) == 0);
    CHECK(ab_shadow_remove(s, base + 64, 8) == -ENOENT);  /* double free */
    CHECK(ab_shadow_remove(s, base, 32) == 0);
    CHECK(ab_shadow_add(s, base + 8, 8) == 0);            /* freed bytes are free again */
    /* Across a 2 MiB chunk border, and a large block. */
    char *edge = base + (2u << 20) - 24;
    CHECK(ab_shadow_add(s, edge, 48) == 0);
    CHECK(ab_shadow_add(s, edge + 40, 8) == -EEXIST);
    CHECK(ab_shadow_add(s, base + (64u << 20), 64u << 20) == 0);
    CHECK(ab_shadow_add(s, base + (100u << 20), 16) == -EEXIST);
    CHECK(ab_shadow_remove(s, base + (64u << 20), 64u << 20) == 0);
    CHECK(ab_shadow_add(s, base + (100u << 20), 16) == 0);
    ab_shadow_free(s);

    /* A million 16-byte blocks: marked, overlaps found, shadow small. */
    s = ab_shadow_new();
    char *b2 = (char *)0x600000000000ull;
    size_t n = 1000000, refused = 0;
    for (size_t i = 0; i < n; i++)
        CHECK(ab_shadow_add(s, b2 + 16 * i, 16) == 0);
    for (size_t i = 0; i < n; i += 1000)
        refused += ab_shadow_add(s, b2 + 16 * i + 8, 16) == -EEXIST;
    CHECK(refused == n / 1000);
    CHECK(ab_shadow_bytes(s) < (16u << 20));
    ab_shadow_free(s);
    return check_done();
}
