/* compare.h — A/B comparison of benchmark timings: paired (Wilcoxon
 * signed-rank, Hodges–Lehmann on log ratios), unpaired (Mann–Whitney U,
 * Hodges–Lehmann shift of log times), a bootstrap cross-check, verdicts.
 *
 * Self-contained C11; the implementation needs libc and libm only.  Every
 * function returns 0 or a negative errno value and writes nothing global.
 * Direction: a is the candidate (HEAD, the allocator under test), b the base;
 * a ratio under 1 means the candidate takes less time.  Every interval is a
 * two-sided 95 % interval (AB_CMP_LEVEL); a result whose interval cannot
 * reach 95 % says so with ci.valid = false and NAN bounds, never a made-up
 * interval.  See the comment at the top of stats-compare.c for the choice
 * of methods, their assumptions and the smallest samples they need. */
#ifndef AB_CORE_COMPARE_H
#define AB_CORE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AB_CMP_LEVEL 0.95
/* Exact null distributions up to this many observations per sample (the
 * counts stay exact integers in a double); normal approximation beyond. */
#define AB_CMP_EXACT_MAX 50
/* Walsh averages (n(n+1)/2) or pairwise differences (n_a * n_b) held in
 * memory at once, 32 MiB: n <= 2895 pairs, or 2048 x 2048 unpaired.
 * Beyond it the estimators return -E2BIG. */
#define AB_CMP_MAX_PAIRS ((size_t)1 << 22)
/* The bootstrap interval is flagged valid from this many resamples on. */
#define AB_CMP_BOOT_MIN_RESAMPLES 1000

/* A 95 % interval, either of a location (the *_test structs, units of the
 * data) or of a time ratio (everything else). */
struct ab_cmp_ci {
    double low, high; /* NAN when !valid */
    double coverage;  /* achieved coverage (>= 0.95, e.g. 0.96875 for 6 pairs);
                         nominal 0.95 for the bootstrap; NAN when !valid */
    bool valid;       /* false: the sample is too small for 95 % */
    bool exact;       /* ranks from the exact null distribution, not the
                         normal approximation */
};

/* Wilcoxon signed-rank test and Hodges–Lehmann estimate of d[0..n). */
struct ab_cmp_signrank {
    size_t n;         /* all differences (the estimate and interval use all) */
    size_t n_nonzero; /* the test's sample: zeros are dropped (Wilcoxon's rule,
                         scipy's zero_method='wilcox') */
    double t_plus;    /* sum of the (mid)ranks of |d| over positive d: R's V;
                         scipy reports min(t_plus, n'(n'+1)/2 - t_plus) */
    double p;         /* two-sided; 1 when every d is 0 */
    bool p_exact;     /* exact null distribution: n' <= 50, no zero, no tie */
    double hl;        /* median of the Walsh averages (d[i] + d[j]) / 2, i <= j */
    struct ab_cmp_ci ci; /* of the pseudo-median, in units of d */
};

/* Mann–Whitney U test and Hodges–Lehmann shift of x against y. */
struct ab_cmp_ranksum {
    size_t n_x, n_y;
    double u;         /* U of x: (rank sum of x) - n_x(n_x+1)/2, as
                         scipy.stats.mannwhitneyu(x, y).statistic */
    double p;         /* two-sided, scipy's method='auto' rule */
    bool p_exact;
    double hl;        /* median of x[i] - y[j] */
    struct ab_cmp_ci ci; /* of the shift, in units of x */
};

/* Paired comparison: repetition i of a and of b ran back to back. */
struct ab_cmp_paired {
    struct ab_cmp_signrank test; /* on d[i] = log(a[i] / b[i]) */
    double ratio;            /* exp(test.hl): the reported point estimate,
                                always inside ci when ci is valid */
    double ratio_of_medians; /* median(a) / median(b), for display beside the
                                medians; may fall outside ci */
    struct ab_cmp_ci ci;     /* exp(test.ci) */
};

/* Unpaired comparison of two independent samples (two report folders). */
struct ab_cmp_unpaired {
    struct ab_cmp_ranksum test; /* on x = log(a), y = log(b) */
    double ratio;               /* exp(test.hl) */
    double ratio_of_medians;
    struct ab_cmp_ci ci;        /* exp(test.ci) */
};

/* Percentile bootstrap of median(a) / median(b) over resampled pairs. */
struct ab_cmp_boot {
    size_t n, resamples;
    uint64_t seed;
    double ratio;        /* median(a) / median(b) of the data */
    struct ab_cmp_ci ci; /* 2.5 % and 97.5 % quantiles of the resampled ratios
                            (linear interpolation, numpy's default); valid from
                            6 pairs and AB_CMP_BOOT_MIN_RESAMPLES on */
};

enum ab_cmp_verdict {
    AB_CMP_NONE = 0, /* no valid interval: no verdict */
    AB_CMP_SAME,     /* the interval holds 1.0 */
    AB_CMP_FASTER,   /* the whole interval is below 1: a takes less time */
    AB_CMP_SLOWER,   /* the whole interval is above 1 */
};

/* Samples are times: every value must be finite and > 0, else -EINVAL.
 * n < 2 (either sample, for the unpaired one) -> -EINVAL; -ENOMEM; -E2BIG
 * past AB_CMP_MAX_PAIRS.  On error *out holds NANs and invalid intervals.
 * Inputs are not modified. */
int ab_cmp_paired(const double *a, const double *b, size_t n, struct ab_cmp_paired *out);
int ab_cmp_unpaired(const double *a, size_t n_a, const double *b, size_t n_b,
                    struct ab_cmp_unpaired *out);
/* resamples >= 1 (else -EINVAL); the same seed gives the same interval. */
int ab_cmp_bootstrap(const double *a, const double *b, size_t n, size_t resamples,
                     uint64_t seed, struct ab_cmp_boot *out);

/* The same tests on locations (differences d, or samples x and y): any finite
 * values; n >= 2 (n_x, n_y >= 1 for the rank sum), else -EINVAL. */
int ab_cmp_signrank(const double *d, size_t n, struct ab_cmp_signrank *out);
int ab_cmp_ranksum(const double *x, size_t n_x, const double *y, size_t n_y,
                   struct ab_cmp_ranksum *out);

/* Ranks (1-based) of the interval bounds for an untied sample: the interval
 * is [w(k), w(N + 1 - k)] of the N sorted Walsh averages or differences.
 * Exact up to AB_CMP_EXACT_MAX per sample (for the rank sum also one sample
 * <= 8 against one <= 1000), normal approximation beyond;
 * -EDOM when the sample cannot reach 95 %: fewer than 6 pairs; fewer values
 * than 4 + 4, 3 + 5, 2 + 8 or 1 + 40. */
int ab_cmp_signrank_rank(size_t n, size_t *k, double *coverage);
int ab_cmp_ranksum_rank(size_t n_x, size_t n_y, size_t *k, double *coverage);

/* Verdict of a ratio interval: AB_CMP_NONE for an invalid one.  -EINVAL for
 * a valid interval with bounds that are not finite, positive and ordered. */
int ab_cmp_verdict(const struct ab_cmp_ci *ci, enum ab_cmp_verdict *out);
/* "same", "faster", "slower"; NULL for AB_CMP_NONE (a report writes null or
 * "-" there, and why) and for an unknown value. */
const char *ab_cmp_verdict_name(enum ab_cmp_verdict v);
/* compare's gate: *out = true when ci is valid and its whole interval lies
 * above 1 + threshold (low > 1 + threshold).  threshold finite and >= 0. */
int ab_cmp_slowdown(const struct ab_cmp_ci *ci, double threshold, bool *out);
/* Coefficient of variation: sample standard deviation (n - 1) over the mean,
 * of positive finite times, n >= 2.  The noise threshold (5 %) is the
 * caller's. */
int ab_cmp_cv(const double *x, size_t n, double *out);

#endif
