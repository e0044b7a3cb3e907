/* Statistics: known inputs give known median, MAD, CI ranks and bounds;
 * seeded streams that do not overlap. */
#include "core.h"
#include "check.h"

#include <stdbool.h>

/* Whether the first 256 draws from a and from b share a value (two streams
 * one step apart in splitmix64's sequence share 255 of them). */
static bool overlap(uint64_t a, uint64_t b)
{
    uint64_t x[256], y[256];
    for (int i = 0; i < 256; i++) {
        x[i] = ab_rng_next(&a);
        y[i] = ab_rng_next(&b);
    }
    for (int i = 0; i < 256; i++)
        for (int j = 0; j < 256; j++)
            if (x[i] == y[j])
                return true;
    return false;
}

int main(void)
{
    struct ab_summary s;

    /* Neighbouring seeds, and neighbouring threads of a seed, start streams
     * of their own; the stepped states they replace (seed * the step, + i
     * steps per thread) overlap, and the check sees it. */
    for (uint64_t seed = 0; seed < 4; seed++) {
        CHECK(!overlap(ab_rng_stream(seed, 0), ab_rng_stream(seed + 1, 0)));
        CHECK(!overlap(ab_rng_stream(seed, 0), ab_rng_stream(seed, 1)));
        CHECK(ab_rng_stream(seed, 0) == ab_rng_stream(seed, 0));
    }
    CHECK(overlap(1 * 0x9e3779b97f4a7c15ull, 2 * 0x9e3779b97f4a7c15ull));
    CHECK(overlap(7 * 0x100000001b3ull, 7 * 0x100000001b3ull + 0x9e3779b97f4a7c15ull));

    double odd[] = {5, 1, 4, 2, 3};
    ab_summarize(odd, 5, &s);
    CHECK(s.n == 5);
    CHECK_NEAR(s.median, 3);
    CHECK_NEAR(s.min, 1);
    CHECK_NEAR(s.max, 5);
    CHECK_NEAR(s.mean, 3);
    CHECK_NEAR(s.mad, 1); /* |x-3| = 2,2,1,1,0 -> median 1 */
    /* n = 5: even (min, max) covers only 1 - 2/32 = 93.75 % */
    CHECK(!s.ci_valid);
    CHECK(isnan(s.ci_low) && isnan(s.ci_high));

    /* Sample standard deviation: sum of squares 10 over n - 1 = 4. */
    CHECK_NEAR(ab_stddev(odd, 5), sqrt(2.5));
    CHECK(ab_stddev(odd, 1) == 0 && isnan(ab_stddev(odd, 0)));
    double big[] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
    CHECK_NEAR(ab_stddev(big, 3), 1);

    double even[] = {10, 2, 8, 4};
    ab_summarize(even, 4, &s);
    CHECK_NEAR(s.median, 6);
    CHECK_NEAR(s.mad, 3); /* 4,4,2,2 -> 3 */

    /* Ranks: n = 6 -> (1, 6) covers 1 - 2/64 = 96.9 %; (2, 5) only 78 %. */
    size_t j, k;
    CHECK(ab_median_ci_ranks(6, &j, &k) && j == 1 && k == 6);
    /* n = 10 -> (2, 9): 1 - 2 * 11/1024 = 97.9 %; (3, 8) is 89 %. */
    CHECK(ab_median_ci_ranks(10, &j, &k) && j == 2 && k == 9);
    /* n = 20 -> (6, 15): 1 - 2 * P(B <= 5) = 0.9586; (7, 14) is 0.8847. */
    CHECK(ab_median_ci_ranks(20, &j, &k) && j == 6 && k == 15);
    CHECK(!ab_median_ci_ranks(5, &j, &k));
    CHECK(!ab_median_ci_ranks(1, &j, &k));

    double ten[] = {9, 1, 8, 2, 7, 3, 6, 4, 5, 10};
    ab_summarize(ten, 10, &s);
    CHECK(s.ci_valid);
    CHECK_NEAR(s.ci_low, 2);
    CHECK_NEAR(s.ci_high, 9);
    CHECK_NEAR(s.median, 5.5);
    CHECK_NEAR(s.mad, 2.5); /* |x-5.5|: .5 .5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 4.5 */

    /* The input is not reordered. */
    CHECK(ten[0] == 9 && ten[9] == 10);

    ab_summarize(ten, 0, &s);
    CHECK(s.n == 0 && isnan(s.median) && !s.ci_valid);

    double one[] = {42};
    ab_summarize(one, 1, &s);
    CHECK_NEAR(s.median, 42);
    CHECK_NEAR(s.mad, 0);
    CHECK(!s.ci_valid);
    return check_done();
}
