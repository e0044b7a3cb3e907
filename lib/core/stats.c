/* stats.c — every statistic the reports carry is computed here. */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ab_median_sorted(const double *s, size_t n)
{
    if (!n)
        return NAN;
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

double ab_stddev(const double *x, size_t n)
{
    if (!n)
        return NAN;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    /* Two passes: no cancellation between a sum of squares and the mean's. */
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
}

/*
 * The median lies between order statistics x(j) and x(k) with probability
 * P(j <= B <= k - 1) for B ~ Binomial(n, 1/2).  Take the symmetric pair
 * (j, n + 1 - j) with the largest j that still covers 95 %.
 */
bool ab_median_ci_ranks(size_t n, size_t *j_out, size_t *k_out)
{
    if (n < 2 || n > 100000)
        return false;
    /* cdf[i] = P(B <= i), computed in log space to stay exact enough. */
    double lp_half = (double)n * log(0.5);
    double cdf = 0.0, logc = 0.0; /* log C(n, 0) */
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        cdf += exp(logc + lp_half);
        /* rank j = i + 1: coverage = 1 - 2 * P(B <= i) */
        if (1.0 - 2.0 * cdf >= 0.95)
            best = i + 1;
        else
            break;
        logc += log((double)(n - i)) - log((double)(i + 1));
    }
    if (!best)
        return false;
    *j_out = best;
    *k_out = n + 1 - best;
    return true;
}

void ab_summarize(const double *x, size_t n, struct ab_summary *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->median = out->min = out->max = out->mean = out->mad = NAN;
    out->ci_low = out->ci_high = NAN;
    if (!n)
        return;
    double *s = malloc(n * sizeof *s);
    double *d = malloc(n * sizeof *d);
    if (!s || !d) {
        free(s);
        free(d);
        out->n = 0;
        return;
    }
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += s[i];
    out->min = s[0];
    out->max = s[n - 1];
    out->mean = sum / (double)n;
    out->median = ab_median_sorted(s, n);
    for (size_t i = 0; i < n; i++)
        d[i] = fabs(s[i] - out->median);
    qsort(d, n, sizeof *d, cmp_double);
    out->mad = ab_median_sorted(d, n);
    size_t j, k;
    if (ab_median_ci_ranks(n, &j, &k)) {
        out->ci_valid = true;
        out->ci_low = s[j - 1];
        out->ci_high = s[k - 1];
    }
    free(s);
    free(d);
}
