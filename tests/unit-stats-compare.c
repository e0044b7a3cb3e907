/* A/B statistics (lib/stats-compare.c) against answers computed elsewhere.
 *
 * Where the numbers come from (Debian 12: python3-scipy 1.10.1, r-base-core
 * 4.2.2; d = math.log(a/b) in Python, the same libm log as the C code):
 *  - p-values: scipy.stats.wilcoxon(d) (method='exact', or method='approx',
 *    correction=True where there are zeros, ties or n > 50) and
 *    scipy.stats.mannwhitneyu(x, y) (method='auto', the rule we follow);
 *  - Hodges–Lehmann estimates and exact intervals: R's
 *    wilcox.test(d, conf.int=TRUE) and wilcox.test(x, y, conf.int=TRUE)
 *    (exact=TRUE where R would otherwise switch to its own approximation);
 *    ranks: R's qsignrank(0.025, n) and qwilcox(0.025, m, n);
 *  - intervals from the normal approximation (ties, n > 50): R's differ
 *    there (it solves for a continuous bound), so these come from a numpy
 *    rendering of the documented rule: sorted Walsh averages (differences),
 *    k = ceil(mu - 1.959963984540054 sigma - 0.5), sigma tie-corrected;
 *  - the bootstrap: a Python port of xoshiro256** / splitmix64 (checked
 *    against the reference vectors: splitmix64(0) = 0xe220a8397b1dcdaf;
 *    state {1,2,3,4} -> 11520, 0, 1509978240, 1215971899390074240), the same
 *    resampling, numpy.quantile;
 *  - the data sets: Python's random.Random with the seeds named below,
 *    rounded to 6 decimals (printed with repr, so they round-trip). */
#include "compare.h"

#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
/* Relative agreement, for p-values and ratios far from 1. */
#define CHECK_REL(a, b, tol) CHECK(fabs((double)(a) - (double)(b)) <= (tol) * fabs((double)(b)))

/* 10 % slower with 1 % noise, under a 5 % drift shared by the two runs of a
 * pair (Random(7): drift = exp(gauss(0, .05)), b = 100 drift exp(gauss(0,
 * .01)), a = 110 drift exp(gauss(0, .01))). */
static const double shift_a[] = {
    107.727715, 113.125693, 109.228361, 106.679553, 105.052918, 110.264024, 113.969697,
    111.996964, 115.730351, 110.470984, 112.752229, 110.95491, 99.736397, 115.760265,
    113.578357, 113.84976, 102.54668, 101.180737, 105.339908, 106.067875
};
static const double shift_b[] = {
    99.030772, 102.543043, 99.392348, 97.806831, 95.751501, 99.3299, 105.020407,
    103.912877, 105.909, 102.471568, 101.362717, 100.187293, 91.691217, 104.257992,
    103.21459, 102.780471, 91.480736, 90.777064, 95.152752, 98.886224
};
/* A/A: both 100 exp(gauss(0, .03)), Random(1002), the first seed of
 * 1001.. whose exact Wilcoxon p exceeded 0.5. */
static const double aa_a[] = {
    96.937509, 99.589071, 100.288247, 101.571334, 95.899787, 100.424331, 96.652121,
    96.808858, 99.138323, 100.372636, 100.814684, 105.364786, 96.651668, 101.859125,
    97.774503, 95.585249, 101.771733, 102.907812, 96.054303, 94.421565
};
static const double aa_b[] = {
    98.76282, 106.527396, 102.151254, 97.068894, 94.002, 96.722637, 97.719964,
    100.914691, 100.407445, 98.683452, 99.160665, 95.854149, 94.641217, 104.584971,
    98.662891, 98.903254, 93.747684, 103.790248, 104.818014, 102.826821
};
/* 60 pairs, past the exact tables (Random(60): a = 100 exp(gauss(.01, .03)),
 * then b = 100 exp(gauss(0, .03))). */
static const double n60_a[] = {
    99.600822, 104.794851, 100.4672, 106.633858, 98.37292, 101.563809, 105.378733,
    97.81031, 103.896969, 97.599991, 102.200435, 103.811442, 101.362651, 106.517429,
    106.498168, 101.314498, 102.307138, 103.274638, 97.916264, 97.772445, 97.22671,
    100.704919, 97.584108, 98.853678, 103.021584, 102.634241, 104.967788, 101.509704,
    100.384157, 103.197337, 99.906709, 108.392514, 105.63065, 105.827061, 102.697744,
    99.842532, 101.970959, 99.266176, 100.06855, 99.785691, 99.542325, 104.270997,
    97.044562, 105.052716, 100.527244, 100.377056, 99.774139, 100.532587, 102.381746,
    103.72382, 99.476618, 104.609574, 106.381366, 100.449841, 95.594225, 99.385659,
    103.382467, 105.286952, 108.377099, 99.730712
};
static const double n60_b[] = {
    96.066753, 99.737543, 97.624468, 102.177849, 101.612141, 99.892322, 101.33171,
    98.331054, 96.508315, 98.711225, 103.349574, 100.985501, 107.385269, 100.722827,
    103.724317, 98.523585, 100.589223, 95.294502, 100.303173, 101.092974, 97.811408,
    102.244742, 95.61781, 100.203857, 100.274003, 96.221065, 102.748094, 100.036187,
    95.721861, 95.567963, 104.904743, 100.461627, 97.336211, 100.410508, 101.695883,
    98.193444, 100.440789, 103.847413, 98.914913, 98.558583, 97.675002, 99.711179,
    100.129136, 98.978573, 101.99165, 97.190225, 100.737152, 102.552041, 99.402784,
    96.459055, 101.264896, 101.130571, 103.395637, 101.618349, 99.491265, 98.706232,
    102.045124, 96.808817, 101.159371, 98.106934
};
/* 5 against 100 (Random(99): x = 100 exp(gauss(.02, .02)), then y with
 * mean 0). */
static const double asym_x[] = {
    100.903613, 102.796628, 102.689383, 103.419978, 102.116427
};
static const double asym_y[] = {
    98.493295, 97.771602, 102.056844, 95.520213, 98.871629, 97.933447, 100.141031,
    98.946787, 99.091582, 101.592744, 98.888205, 97.715671, 101.977618, 101.708344,
    102.432124, 101.07476, 98.538756, 102.344819, 99.199238, 100.345289, 97.800649,
    98.711197, 100.914335, 101.357729, 100.064636, 102.498009, 99.838206, 95.912942,
    101.018451, 95.769358, 96.681062, 99.131645, 101.094211, 101.045969, 99.436046,
    100.701638, 97.435321, 104.888692, 99.486163, 99.70678, 99.536427, 102.26723,
    100.331179, 100.349425, 99.257468, 99.246028, 100.383845, 99.921771, 100.19856,
    98.837847, 102.158903, 101.07631, 103.408476, 101.304281, 100.471323, 99.90321,
    102.053444, 100.161928, 98.155214, 98.480595, 95.836546, 102.754731, 102.97108,
    97.34829, 98.074742, 98.417928, 98.721809, 100.919595, 100.636669, 100.575581,
    101.117628, 100.836195, 101.086547, 96.867056, 98.725528, 101.155222, 96.37235,
    102.79273, 102.528739, 100.304123, 100.715948, 99.378659, 102.614425, 101.343194,
    100.412951, 97.04881, 102.226837, 98.34536, 101.22919, 99.394131, 100.641288,
    103.348192, 96.938326, 99.643401, 98.034609, 98.39132, 100.597487, 98.36701,
    97.627561, 98.496572
};

static void test_textbook_signrank(void)
{
    /* Hollander & Wolfe (1973), p. 29, depression scale before (y) and after
     * (x) tranquilizer, the example of R's ?wilcox.test: V = 40, exact
     * p = 20/512 = 0.0390625; estimate 0.46, 95 % CI [0.01, 0.786]. */
    static const double x[] = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
    static const double y[] = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
    double d[LEN(x)];
    for (size_t i = 0; i < LEN(x); i++)
        d[i] = x[i] - y[i];
    struct ab_cmp_signrank s;
    CHECK(ab_cmp_signrank(d, LEN(d), &s) == 0);
    CHECK(s.n == 9 && s.n_nonzero == 9);
    CHECK_NEAR(s.t_plus, 40);
    CHECK(s.p_exact);
    CHECK_NEAR(s.p, 0.0390625);
    CHECK_NEAR(s.hl, 0.46000000000000008);
    CHECK(s.ci.valid && s.ci.exact);
    CHECK_NEAR(s.ci.low, 0.010000000000000009);
    CHECK_NEAR(s.ci.high, 0.78600000000000003);
    /* k = 6: 1 - 2 P(T+ <= 5) = 1 - 2 * 10/512 */
    CHECK_NEAR(s.ci.coverage, 0.9609375);

    /* The same data as times, on log ratios: scipy T = min = 6 (R: V = 39),
     * exact p = 0.0546875; R on log(x/y): estimate 0.32547182615888293, CI
     * [-0.0090429189309811364, 0.68661011637203762]. */
    struct ab_cmp_paired p;
    CHECK(ab_cmp_paired(x, y, LEN(x), &p) == 0);
    CHECK_NEAR(p.test.t_plus, 39);
    CHECK(p.test.p_exact);
    CHECK_NEAR(p.test.p, 0.0546875);
    CHECK_NEAR(p.ratio, exp(0.32547182615888293));
    CHECK_NEAR(p.ci.low, exp(-0.0090429189309811364));
    CHECK_NEAR(p.ci.high, exp(0.68661011637203762));
    CHECK_NEAR(p.ratio_of_medians, 1.5849056603773584); /* numpy */
    CHECK(p.ci.low <= p.ratio && p.ratio <= p.ci.high);
    enum ab_cmp_verdict v;
    CHECK(ab_cmp_verdict(&p.ci, &v) == 0 && v == AB_CMP_SAME);
}

static void test_textbook_ranksum(void)
{
    /* Hollander & Wolfe (1973), p. 69, permeability constants, R's example:
     * W = 35; scipy mannwhitneyu (exact, n_y = 5) p = 0.2544122544122544;
     * R: estimate 0.305, CI [-0.15, 0.76]; on logs 0.27137518778627184,
     * [-0.15139964645536838, 0.67266864921640468]. */
    static const double x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    static const double y[] = {1.15, 0.88, 0.90, 0.74, 1.21};
    struct ab_cmp_ranksum r;
    CHECK(ab_cmp_ranksum(x, LEN(x), y, LEN(y), &r) == 0);
    CHECK_NEAR(r.u, 35);
    CHECK(r.p_exact);
    CHECK_NEAR(r.p, 0.2544122544122544);
    CHECK_NEAR(r.hl, 0.30500000000000005);
    CHECK(r.ci.valid && r.ci.exact);
    CHECK_NEAR(r.ci.low, -0.15000000000000002);
    CHECK_NEAR(r.ci.high, 0.7599999999999999);

    struct ab_cmp_unpaired u;
    CHECK(ab_cmp_unpaired(x, LEN(x), y, LEN(y), &u) == 0);
    CHECK_NEAR(u.test.u, 35);
    CHECK_NEAR(u.test.p, 0.2544122544122544);
    CHECK_NEAR(u.ratio, exp(0.27137518778627184));
    CHECK_NEAR(u.ci.low, exp(-0.15139964645536838));
    CHECK_NEAR(u.ci.high, exp(0.67266864921640468));
    CHECK_NEAR(u.ratio_of_medians, 1.5722222222222222);
}

static void test_identical(void)
{
    static const double a[] = {101, 99, 103, 100, 102, 98, 104, 97, 105, 100};
    struct ab_cmp_paired p;
    CHECK(ab_cmp_paired(a, a, LEN(a), &p) == 0);
    CHECK(p.test.n == 10 && p.test.n_nonzero == 0);
    CHECK_NEAR(p.test.p, 1);
    CHECK_NEAR(p.ratio, 1);
    CHECK_NEAR(p.ratio_of_medians, 1);
    CHECK(p.ci.valid);
    CHECK(p.ci.low == 1 && p.ci.high == 1);
    enum ab_cmp_verdict v;
    CHECK(ab_cmp_verdict(&p.ci, &v) == 0 && v == AB_CMP_SAME);
    bool slow = true;
    CHECK(ab_cmp_slowdown(&p.ci, 0, &slow) == 0 && !slow);

    /* Five identical pairs: still ratio 1 and p 1, but no interval. */
    CHECK(ab_cmp_paired(a, a, 5, &p) == 0);
    CHECK_NEAR(p.ratio, 1);
    CHECK_NEAR(p.test.p, 1);
    CHECK(!p.ci.valid && isnan(p.ci.low) && isnan(p.ci.high));
    CHECK(ab_cmp_verdict(&p.ci, &v) == 0 && v == AB_CMP_NONE);

    struct ab_cmp_unpaired u;
    CHECK(ab_cmp_unpaired(a, LEN(a), a, LEN(a), &u) == 0);
    CHECK_NEAR(u.test.u, 50);
    CHECK_NEAR(u.test.p, 1); /* scipy: asymptotic (ties), clipped to 1 */
    CHECK_NEAR(u.ratio, 1);
    CHECK(u.ci.valid && u.ci.low < 1 && u.ci.high > 1);
}

static void test_ties(void)
{
    /* A quantised timer: 102/100 four times over, a zero (101/101).
     * scipy.stats.wilcoxon(d, method='approx', correction=True):
     * p = 0.0036844482870212096 (R: 0.0036844482870212157), zeros dropped,
     * so n' = 11 and T+ = 66.  Interval (normal rule, numpy): k = 14,
     * [0.019139778449291003, 0.019610356576640623], estimate
     * 0.019422663895784516, coverage 0.9553697813958636. */
    static const double b[] = {100, 102, 101, 103, 100, 104, 102, 101, 103, 102, 100, 101};
    static const double a[] = {102, 104, 101, 105, 102, 106, 104, 103, 105, 104, 102, 103};
    struct ab_cmp_paired p;
    CHECK(ab_cmp_paired(a, b, LEN(a), &p) == 0);
    CHECK(p.test.n == 12 && p.test.n_nonzero == 11);
    CHECK_NEAR(p.test.t_plus, 66);
    CHECK(!p.test.p_exact);
    CHECK_REL(p.test.p, 0.0036844482870212096, 1e-12);
    CHECK_NEAR(p.test.hl, 0.019422663895784516);
    CHECK(p.ci.valid && !p.ci.exact);
    CHECK_NEAR(p.test.ci.low, 0.019139778449291003);
    CHECK_NEAR(p.test.ci.high, 0.019610356576640623);
    CHECK_NEAR(p.ci.coverage, 0.9553697813958636);
    enum ab_cmp_verdict v;
    CHECK(ab_cmp_verdict(&p.ci, &v) == 0 && v == AB_CMP_SLOWER);

    /* Ties within and across samples: scipy mannwhitneyu (auto ->
     * asymptotic) U = 44, p = 0.46496362458247187; interval (normal rule,
     * within-sample ties, numpy): k = 16, [-0.15415067982725827,
     * 0.4054651081081644], estimate 0.12565721414045317. */
    static const double x[] = {5, 6, 6, 7, 8, 8, 9, 10};
    static const double y[] = {4, 5, 5, 6, 7, 7, 8, 9, 9};
    struct ab_cmp_unpaired u;
    CHECK(ab_cmp_unpaired(x, LEN(x), y, LEN(y), &u) == 0);
    CHECK_NEAR(u.test.u, 44);
    CHECK(!u.test.p_exact);
    CHECK_REL(u.test.p, 0.46496362458247187, 1e-12);
    CHECK_NEAR(u.test.hl, 0.12565721414045317);
    CHECK(u.ci.valid && !u.ci.exact);
    CHECK_NEAR(u.test.ci.low, -0.15415067982725827);
    CHECK_NEAR(u.test.ci.high, 0.4054651081081644);
}

static void test_shift(void)
{
    /* scipy exact p = 2/2^20 = 1.9073486328125e-06 (all 20 log ratios > 0);
     * R: estimate 0.094231451219120202, CI [0.087758888960649983,
     * 0.1001678008372793]; numpy ratio of medians 1.1059996244807355. */
    struct ab_cmp_paired p;
    CHECK(ab_cmp_paired(shift_a, shift_b, LEN(shift_a), &p) == 0);
    CHECK_NEAR(p.test.t_plus, 210);
    CHECK(p.test.p_exact);
    CHECK_REL(p.test.p, 1.9073486328125e-06, 1e-12);
    CHECK_NEAR(p.test.hl, 0.094231451219120202);
    CHECK(p.ci.valid && p.ci.exact);
    CHECK_NEAR(p.test.ci.low, 0.087758888960649983);
    CHECK_NEAR(p.test.ci.high, 0.1001678008372793);
    CHECK_NEAR(p.ratio_of_medians, 1.1059996244807355);
    CHECK(p.ci.low > 1.09 && p.ci.high < 1.11);
    enum ab_cmp_verdict v;
    CHECK(ab_cmp_verdict(&p.ci, &v) == 0 && v == AB_CMP_SLOWER);
    CHECK(strcmp(ab_cmp_verdict_name(v), "slower") == 0);
    bool slow = false;
    CHECK(ab_cmp_slowdown(&p.ci, 0.05, &slow) == 0 && slow);
    CHECK(ab_cmp_slowdown(&p.ci, 0.10, &slow) == 0 && !slow); /* low = 1.0917 */

    /* The other way round: faster, the interval inverted. */
    struct ab_cmp_paired q;
    CHECK(ab_cmp_paired(shift_b, shift_a, LEN(shift_a), &q) == 0);
    CHECK(ab_cmp_verdict(&q.ci, &v) == 0 && v == AB_CMP_FASTER);
    CHECK(strcmp(ab_cmp_verdict_name(v), "faster") == 0);
    CHECK_NEAR(q.ci.low, 1 / p.ci.high);
    CHECK_NEAR(q.ci.high, 1 / p.ci.low);
    CHECK(ab_cmp_slowdown(&q.ci, 0, &slow) == 0 && !slow);

    /* Unpaired, the drift is noise: scipy (asymptotic, n > 8) U = 373,
     * p = 3.069100921857103e-06; R exact CI [0.064317080130333437,
     * 0.12123872940054525], estimate 0.094637861174637905. */
    struct ab_cmp_unpaired u;
    CHECK(ab_cmp_unpaired(shift_a, LEN(shift_a), shift_b, LEN(shift_b), &u) == 0);
    CHECK_NEAR(u.test.u, 373);
    CHECK(!u.test.p_exact);
    CHECK_REL(u.test.p, 3.069100921857103e-06, 1e-12);
    CHECK_NEAR(u.test.hl, 0.094637861174637905);
    CHECK(u.ci.valid && u.ci.exact);
    CHECK_NEAR(u.test.ci.low, 0.064317080130333437);
    CHECK_NEAR(u.test.ci.high, 0.12123872940054525);
    CHECK(ab_cmp_verdict(&u.ci, &v) == 0 && v == AB_CMP_SLOWER);
    /* pairing is worth it: the paired interval is over 4x narrower */
    CHECK(u.ci.high - u.ci.low > 4 * (p.ci.high - p.ci.low));
}

static void test_aa(void)
{
    /* A/A, 3 % noise (Random(1002)): scipy exact p = 0.7285060882568359,
     * T = 95; R: estimate -0.0048258262975984243, CI
     * [-0.026262372708812581, 0.018147657671314717]. */
    struct ab_cmp_paired p;
    CHECK(ab_cmp_paired(aa_a, aa_b, LEN(aa_a), &p) == 0);
    CHECK_NEAR(p.test.t_plus, 95);
    CHECK(p.test.p_exact);
    CHECK_NEAR(p.test.p, 0.7285060882568359);
    CHECK_NEAR(p.test.hl, -0.0048258262975984243);
    CHECK_NEAR(p.test.ci.low, -0.026262372708812581);
    CHECK_NEAR(p.test.ci.high, 0.018147657671314717);
    enum ab_cmp_verdict v;
    CHECK(ab_cmp_verdict(&p.ci, &v) == 0 && v == AB_CMP_SAME);
    CHECK(strcmp(ab_cmp_verdict_name(v), "same") == 0);

    /* scipy (asymptotic) U = 188, p = 0.7557428276359095; R exact CI
     * [-0.027003585013885889, 0.019836082589905324]. */
    struct ab_cmp_unpaired u;
    CHECK(ab_cmp_unpaired(aa_a, LEN(aa_a), aa_b, LEN(aa_b), &u) == 0);
    CHECK_NEAR(u.test.u, 188);
    CHECK_NEAR(u.test.p, 0.7557428276359095);
    CHECK_NEAR(u.test.ci.low, -0.027003585013885889);
    CHECK_NEAR(u.test.ci.high, 0.019836082589905324);
    CHECK(ab_cmp_verdict(&u.ci, &v) == 0 && v == AB_CMP_SAME);

    /* numpy: std(ddof=1) / mean = 0.029293328398767065 */
    double cv;
    CHECK(ab_cmp_cv(aa_a, LEN(aa_a), &cv) == 0);
    CHECK_NEAR(cv, 0.029293328398767065);
}

static void test_too_few(void)
{
    /* n = 5: scipy exact p = 0.3125 (T+ = 12); R's estimate
     * 0.010000083334583399 (R also prints a CI, with a warning that 95 %
     * is not achievable: we give none). */
    static const double a[] = {101.0, 99.0, 103.0, 100.5, 102.0};
    static const double b[] = {100.0, 100.0, 101.0, 99.5, 100.0};
    struct ab_cmp_paired p;
    CHECK(ab_cmp_paired(a, b, LEN(a), &p) == 0);
    CHECK_NEAR(p.test.t_plus, 12);
    CHECK(p.test.p_exact);
    CHECK_NEAR(p.test.p, 0.3125);
    CHECK_NEAR(p.ratio, exp(0.010000083334583399));
    CHECK(!p.ci.valid && !p.test.ci.valid);
    CHECK(isnan(p.ci.low) && isnan(p.ci.high) && isnan(p.ci.coverage));
    enum ab_cmp_verdict v = AB_CMP_SLOWER;
    CHECK(ab_cmp_verdict(&p.ci, &v) == 0 && v == AB_CMP_NONE);
    CHECK(ab_cmp_verdict_name(v) == NULL);
    bool slow = true;
    CHECK(ab_cmp_slowdown(&p.ci, 0, &slow) == 0 && !slow);

    /* 3 + 4 values: 1/C(7, 3) = 1/35 > 2.5 % */
    struct ab_cmp_unpaired u;
    CHECK(ab_cmp_unpaired(a, 3, b, 4, &u) == 0);
    CHECK(!u.ci.valid && isnan(u.ci.low));
    static const double y[] = {100.2, 99.7, 101.1, 99.5}; /* b holds a tie */
    CHECK(ab_cmp_unpaired(a, 4, y, 4, &u) == 0);
    CHECK(u.ci.valid && u.ci.exact);
    CHECK_NEAR(u.ci.coverage, 1 - 2.0 / 70);
}

static void test_large(void)
{
    /* n = 60 > 50, no ties: scipy wilcoxon(method='approx',
     * correction=True) T = 427 (T+ = 1830 - 427), p = 0.0003322271828179664;
     * interval (normal rule, numpy) k = 649, [0.008713201542529749,
     * 0.02871922405516946], coverage 0.950222052567406 (R's exact=TRUE
     * interval is the same pair of Walsh averages). */
    struct ab_cmp_paired p;
    CHECK(ab_cmp_paired(n60_a, n60_b, LEN(n60_a), &p) == 0);
    CHECK_NEAR(p.test.t_plus, 1830 - 427);
    CHECK(!p.test.p_exact);
    CHECK_REL(p.test.p, 0.0003322271828179664, 1e-12);
    CHECK(p.ci.valid && !p.ci.exact);
    CHECK_NEAR(p.test.ci.low, 0.008713201542529749);
    CHECK_NEAR(p.test.ci.high, 0.02871922405516946);
    CHECK_NEAR(p.test.hl, 0.019203504134702655);
    CHECK_NEAR(p.ci.coverage, 0.950222052567406);

    /* 5 against 100: scipy exact (n_x <= 8, no ties) p =
     * 0.0017820510438590065; R wilcox.test(log x, log y, conf.int=TRUE,
     * exact=TRUE): estimate 0.023987065245161254, CI
     * [0.0097781446093136992, 0.040383742059721506]. */
    struct ab_cmp_unpaired u;
    CHECK(ab_cmp_unpaired(asym_x, LEN(asym_x), asym_y, LEN(asym_y), &u) == 0);
    CHECK_NEAR(u.test.u, 442);
    CHECK(u.test.p_exact);
    CHECK_REL(u.test.p, 0.0017820510438590065, 1e-12);
    CHECK(u.ci.valid && u.ci.exact);
    CHECK_NEAR(u.test.hl, 0.023987065245161254);
    CHECK_NEAR(u.test.ci.low, 0.0097781446093136992);
    CHECK_NEAR(u.test.ci.high, 0.040383742059721506);
}

static void test_ranks(void)
{
    /* R: sapply(6:52, function(n) qsignrank(0.025, n)); 51 and 52 come from
     * our normal approximation and still agree. */
    static const size_t qsignrank[] = {
        1, 3, 4, 6, 9, 11, 14, 18, 22, 26, 30, 35, 41, 47, 53, 59,
        66, 74, 82, 90, 99, 108, 117, 127, 138, 148, 160, 171, 183, 196, 209, 222,
        236, 250, 265, 280, 295, 311, 328, 344, 362, 379, 397, 416, 435, 454, 474,
    };
    size_t k;
    double cov;
    for (size_t i = 0; i < LEN(qsignrank); i++) {
        CHECK(ab_cmp_signrank_rank(6 + i, &k, &cov) == 0);
        CHECK(k == qsignrank[i]);
        CHECK(cov >= 0.95 && cov < 1);
    }
    CHECK(ab_cmp_signrank_rank(6, &k, &cov) == 0 && k == 1);
    CHECK_NEAR(cov, 1 - 2.0 / 64);
    CHECK(ab_cmp_signrank_rank(5, &k, &cov) == -EDOM);
    CHECK(ab_cmp_signrank_rank(1, &k, &cov) == -EDOM);

    /* R: qwilcox(0.025, m, n); 0 means not reachable. */
    static const struct {
        size_t m, n, q;
    } qwilcox[] = {
        {4, 4, 1},     {3, 5, 1},    {5, 3, 1},    {2, 8, 1},     {1, 40, 1},
        {1, 41, 1},    {6, 6, 6},    {8, 8, 14},   {10, 12, 30},  {20, 20, 128},
        {5, 100, 121}, {50, 50, 966}, {30, 50, 553}, {8, 1000, 2401},
        {3, 4, 0},     {1, 39, 0},
    };
    for (size_t i = 0; i < LEN(qwilcox); i++) {
        int rc = ab_cmp_ranksum_rank(qwilcox[i].m, qwilcox[i].n, &k, &cov);
        if (!qwilcox[i].q) {
            CHECK(rc == -EDOM);
        } else {
            CHECK(rc == 0 && k == qwilcox[i].q);
            CHECK(cov >= 0.95 && cov < 1);
        }
    }
}

/* The exact tables against plain enumeration, for samples small enough. */
static void test_enumeration(void)
{
    static const double d[] = {0.31, -0.12, 0.55, 0.07, -0.29, 0.91, 0.44, -0.03, 0.18, 0.62};
    const size_t n = LEN(d);
    struct ab_cmp_signrank s;
    CHECK(ab_cmp_signrank(d, n, &s) == 0 && s.p_exact);
    double m = (double)(n * (n + 1) / 2), t_min = fmin(s.t_plus, m - s.t_plus);
    unsigned hits = 0;
    for (unsigned mask = 0; mask < 1u << n; mask++) {
        unsigned t = 0;
        for (unsigned r = 1; r <= n; r++)
            if (mask >> (r - 1) & 1)
                t += r;
        hits += t <= t_min;
    }
    CHECK_NEAR(s.p, fmin(1, 2.0 * hits / (1u << n)));

    static const double x[] = {1.3, 2.9, 0.4, 3.7}, y[] = {2.2, 0.8, 3.1, 1.9, 0.1, 2.5};
    struct ab_cmp_ranksum r;
    CHECK(ab_cmp_ranksum(x, LEN(x), y, LEN(y), &r) == 0 && r.p_exact);
    double u_min = fmin(r.u, 24 - r.u);
    unsigned total = 0, low = 0;
    for (unsigned mask = 0; mask < 1u << 10; mask++) {
        unsigned u = 0, below = 0; /* positions 0..9: bit set = an x */
        for (unsigned i = 0; i < 10; i++) {
            if (mask >> i & 1)
                u += below;
            else
                below++;
        }
        if (below != 6)
            continue;
        total++;
        low += u <= u_min;
    }
    CHECK(total == 210);
    CHECK_NEAR(r.p, fmin(1, 2.0 * low / total));
}

static void test_bootstrap(void)
{
    /* The Python port (see the top): seed 42, 2000 resamples ->
     * [1.078500470771195, 1.110078878565266]; seed 43 -> low
     * 1.078811068769296; A/A seed 42 -> [0.9665847341643112,
     * 1.0267165535032017]. */
    struct ab_cmp_boot b1, b2;
    CHECK(ab_cmp_bootstrap(shift_a, shift_b, LEN(shift_a), 2000, 42, &b1) == 0);
    CHECK(ab_cmp_bootstrap(shift_a, shift_b, LEN(shift_a), 2000, 42, &b2) == 0);
    CHECK(b1.ci.low == b2.ci.low && b1.ci.high == b2.ci.high);
    CHECK(b1.ci.valid && !b1.ci.exact && b1.resamples == 2000 && b1.seed == 42);
    CHECK_NEAR(b1.ratio, 1.1059996244807355);
    CHECK_NEAR(b1.ci.low, 1.078500470771195);
    CHECK_NEAR(b1.ci.high, 1.110078878565266);
    CHECK_NEAR(b1.ci.coverage, 0.95);
    enum ab_cmp_verdict v;
    CHECK(ab_cmp_verdict(&b1.ci, &v) == 0 && v == AB_CMP_SLOWER);

    CHECK(ab_cmp_bootstrap(shift_a, shift_b, LEN(shift_a), 2000, 43, &b2) == 0);
    CHECK(b2.ci.low != b1.ci.low);
    CHECK_NEAR(b2.ci.low, 1.078811068769296);

    CHECK(ab_cmp_bootstrap(aa_a, aa_b, LEN(aa_a), 2000, 42, &b2) == 0);
    CHECK_NEAR(b2.ci.low, 0.9665847341643112);
    CHECK_NEAR(b2.ci.high, 1.0267165535032017);
    CHECK(ab_cmp_verdict(&b2.ci, &v) == 0 && v == AB_CMP_SAME);

    /* Too few resamples or pairs: computed, flagged invalid. */
    CHECK(ab_cmp_bootstrap(shift_a, shift_b, LEN(shift_a), 999, 42, &b2) == 0);
    CHECK(!b2.ci.valid && isnan(b2.ci.low));
    CHECK(ab_cmp_bootstrap(shift_a, shift_b, 5, 2000, 42, &b2) == 0);
    CHECK(!b2.ci.valid && isnan(b2.ci.high));
    CHECK(ab_cmp_bootstrap(shift_a, shift_b, LEN(shift_a), 0, 42, &b2) == -EINVAL);
}

static void test_cv(void)
{
    double cv;
    static const double x[] = {1, 2, 3, 4}, y[] = {100, 101, 99, 102, 98};
    CHECK(ab_cmp_cv(x, LEN(x), &cv) == 0);
    CHECK_NEAR(cv, 0.5163977794943222); /* numpy std(ddof=1) / mean */
    CHECK(ab_cmp_cv(y, LEN(y), &cv) == 0);
    CHECK_NEAR(cv, 0.0158113883008419);
    CHECK(ab_cmp_cv(x, 1, &cv) == -EINVAL && isnan(cv));
    static const double z[] = {1, 0, 2};
    CHECK(ab_cmp_cv(z, LEN(z), &cv) == -EINVAL);
}

static void test_errors(void)
{
    static const double good[] = {1, 2, 3, 4, 5, 6};
    double bad[LEN(good)];
    const double poison[] = {0, -1, NAN, INFINITY, -INFINITY};
    struct ab_cmp_paired p;
    struct ab_cmp_unpaired u;
    struct ab_cmp_boot b;
    for (size_t i = 0; i < LEN(poison); i++) {
        memcpy(bad, good, sizeof bad);
        bad[3] = poison[i];
        CHECK(ab_cmp_paired(bad, good, LEN(good), &p) == -EINVAL);
        CHECK(isnan(p.ratio) && !p.ci.valid && isnan(p.test.p));
        CHECK(ab_cmp_paired(good, bad, LEN(good), &p) == -EINVAL);
        CHECK(ab_cmp_unpaired(good, LEN(good), bad, LEN(bad), &u) == -EINVAL);
        CHECK(isnan(u.ratio) && !u.ci.valid);
        CHECK(ab_cmp_bootstrap(bad, good, LEN(good), 1000, 1, &b) == -EINVAL);
    }
    CHECK(ab_cmp_paired(good, good, 1, &p) == -EINVAL);
    CHECK(ab_cmp_paired(NULL, good, 3, &p) == -EINVAL);
    CHECK(ab_cmp_paired(good, good, 3, NULL) == -EINVAL);
    CHECK(ab_cmp_unpaired(good, 1, good, 5, &u) == -EINVAL);
    CHECK(ab_cmp_unpaired(good, 5, good, 1, &u) == -EINVAL);
    CHECK(ab_cmp_bootstrap(good, good, 1, 1000, 1, &b) == -EINVAL);

    /* Locations may be zero or negative, never non-finite. */
    struct ab_cmp_signrank s;
    struct ab_cmp_ranksum r;
    const double loc[] = {-1, 0, 2}, nan3[] = {1, NAN, 2};
    CHECK(ab_cmp_signrank(loc, 3, &s) == 0);
    CHECK(ab_cmp_signrank(nan3, 3, &s) == -EINVAL);
    CHECK(ab_cmp_signrank(loc, 1, &s) == -EINVAL);
    CHECK(ab_cmp_ranksum(loc, 3, loc, 1, &r) == 0);
    CHECK(ab_cmp_ranksum(loc, 3, nan3, 3, &r) == -EINVAL);
    CHECK(ab_cmp_ranksum(loc, 0, loc, 3, &r) == -EINVAL);

    /* Past AB_CMP_MAX_PAIRS: 2896 * 2897 / 2 > 2^22; 2048 * 2049 > 2^22. */
    double *big = malloc(4096 * sizeof *big);
    CHECK(big != NULL);
    if (big) {
        for (size_t i = 0; i < 4096; i++)
            big[i] = 1 + (double)i / 4096;
        CHECK(ab_cmp_paired(big, big, 2896, &p) == -E2BIG);
        CHECK(ab_cmp_unpaired(big, 2048, big, 2049, &u) == -E2BIG);
        free(big);
    }

    struct ab_cmp_ci ci = {.low = 1.2, .high = 1.1, .coverage = 0.95, .valid = true};
    enum ab_cmp_verdict v;
    bool slow;
    CHECK(ab_cmp_verdict(&ci, &v) == -EINVAL); /* low > high */
    ci.low = NAN;
    CHECK(ab_cmp_verdict(&ci, &v) == -EINVAL);
    ci.low = 1.05;
    CHECK(ab_cmp_slowdown(&ci, -0.01, &slow) == -EINVAL);
    CHECK(ab_cmp_slowdown(&ci, NAN, &slow) == -EINVAL);
    CHECK(ab_cmp_slowdown(&ci, 0.04, &slow) == 0 && slow);
    CHECK(ab_cmp_slowdown(&ci, 0.05, &slow) == 0 && !slow); /* 1.05 is not above 1.05 */
    ci.low = 1.0;
    CHECK(ab_cmp_verdict(&ci, &v) == 0 && v == AB_CMP_SAME); /* touching 1 holds it */
    CHECK(ab_cmp_verdict_name((enum ab_cmp_verdict)42) == NULL);
}

static void test_inputs_kept(void)
{
    double a[LEN(shift_a)], b[LEN(shift_b)];
    memcpy(a, shift_a, sizeof a);
    memcpy(b, shift_b, sizeof b);
    struct ab_cmp_paired p;
    struct ab_cmp_unpaired u;
    struct ab_cmp_boot bt;
    CHECK(ab_cmp_paired(a, b, LEN(a), &p) == 0);
    CHECK(ab_cmp_unpaired(a, LEN(a), b, LEN(b), &u) == 0);
    CHECK(ab_cmp_bootstrap(a, b, LEN(a), 1000, 7, &bt) == 0);
    CHECK(memcmp(a, shift_a, sizeof a) == 0 && memcmp(b, shift_b, sizeof b) == 0);
}

int main(void)
{
    test_textbook_signrank();
    test_textbook_ranksum();
    test_identical();
    test_ties();
    test_shift();
    test_aa();
    test_too_few();
    test_large();
    test_ranks();
    test_enumeration();
    test_bootstrap();
    test_cv();
    test_errors();
    test_inputs_kept();
    return check_done();
}
