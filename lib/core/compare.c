/* compare.c — is the candidate faster than the base, and by how much?
 *
 * Paired (`run`): repetition i of the candidate a and of the base b ran back
 * to back, so they share the machine's state of the moment (clock speed,
 * caches, the neighbours' load).  The ratio a[i]/b[i] cancels that drift,
 * which an unpaired method would count as noise.  We work on the log ratios
 * d[i] = log(a[i]/b[i]): timing noise is multiplicative, and on the log scale
 * a 10 % slowdown and its inverse are the same distance from 0.
 *  - Test: Wilcoxon signed-rank on d, zeros dropped (Wilcoxon's rule, also
 *    scipy's default).  p exact (null distribution by dynamic programming)
 *    when n' <= 50 and there is no zero and no tie in |d|, R's wilcox.test
 *    rule (R: n' < 50; scipy 1.10 stays "exact" through ties, which the
 *    untied table does not describe); else the normal approximation with
 *    the tie correction and a 0.5 continuity correction (R's default,
 *    scipy's correction=True; |T - mean| - 0.5 is clamped at 0, where scipy
 *    would let a half-integer T overshoot and return p slightly under 1).
 *  - Estimate: Hodges–Lehmann, the median of the n(n+1)/2 Walsh averages
 *    (d[i] + d[j])/2, i <= j; interval: Tukey's, [w(k), w(N + 1 - k)] of the
 *    sorted Walsh averages, k the smallest q with P(T <= q) >= 2.5 % under
 *    the signed-rank null (R's qsignrank rule, so the coverage
 *    1 - 2 P(T <= k - 1) is at least 95 %, 96.9 % at n = 6).  Exact when
 *    n <= 50 and no two d are equal, else normal approximation with the
 *    ties of d and continuity.  Ratio and interval are exp() of these.
 *    Assumes independent pairs whose log ratio is symmetric about its
 *    centre: no normality, no equal variances.  An order effect inside a
 *    pair (the second run finds the caches warm) reads as a real
 *    difference, so the caller alternates AB / BA.  Needs n >= 6 pairs: the
 *    all-one-sign outcome alone has probability 2^-n, and 2^-5 > 2.5 %.
 *  - The reported `ratio` is exp(HL), not median(a)/median(b): the point
 *    and the interval then come from one procedure, the point always lies
 *    inside its interval (a ratio of medians can read "1.12 [0.95, 1.04]"),
 *    and it uses the pairing.  ratio_of_medians is returned too, to print
 *    beside the medians; ab_cmp_bootstrap gives it an interval.
 * Unpaired (`compare BASE HEAD`, two report folders, no pairing):
 *  - Test: Mann–Whitney U, the test google-benchmark's tools/compare.py runs
 *    (through scipy.stats.mannwhitneyu).  p follows scipy's method='auto':
 *    exact when a sample has <= 8 values and no value is tied (here also
 *    only while the other has <= 1000: the table costs ~ 32 l^2 additions;
 *    scipy stays exact there), else normal with tie and continuity
 *    corrections.
 *  - Estimate: Hodges–Lehmann shift, the median of log a[i] - log b[j];
 *    interval: Moses', from the Mann–Whitney null the same way.  Exact when
 *    both samples have <= 50 values (or one <= 8 and the other <= 1000) and
 *    neither holds a tie, else normal with the within-sample ties.
 *    Assumes two independent samples whose log times differ by a shift
 *    only (same shape): then exp(shift) is the ratio of any quantile.
 *    Needs 1/C(m + n, m) < 2.5 %: 4 + 4, 3 + 5, 2 + 8 or 1 + 40 values.
 * Ties: the interval inverts the test at shifts theta with no zero in
 * d - theta; there only equal d (equal values within a sample) are tied, so
 * the interval keeps the zeros the test drops and corrects for those ties
 * alone.  R drops zeros from its interval as well; without zeros and ties,
 * R's exact intervals are ours.
 * Bootstrap: percentile interval of median(a)/median(b) over B resamples of
 * whole pairs (keeps the pairing), xoshiro256** seeded by splitmix64 from
 * the caller's seed.  Assumes independent pairs; the percentile method
 * under-covers at small n, so it is a cross-check, never the verdict, and
 * flagged valid only from 6 pairs and AB_CMP_BOOT_MIN_RESAMPLES resamples.
 * Cost: O(n^2 log n) time and n(n+1)/2 doubles for the Walsh averages
 * (m n for the unpaired), bounded by AB_CMP_MAX_PAIRS; exact tables take
 * O(n^3) (signed rank, n <= 50) and O((m + n) m^2 n / 2) (rank sum). */
#include "compare.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TAIL ((1.0 - AB_CMP_LEVEL) / 2)
#define Z_TAIL 1.959963984540054 /* the normal quantile at 1 - TAIL */
/* A cdf within this of TAIL counts as reaching it (R's qsignrank fuzz):
 * the rank sum's counts are sums of doubles, not always exact integers. */
#define TAIL_FUZZ (10 * DBL_EPSILON)
#define RANKSUM_SMALL 8      /* scipy's "exact" size for one sample */
#define RANKSUM_OTHER 1000   /* ... while the other is at most this */
#define MIN_PAIRS 6

static int cmp_double(const void *pa, const void *pb)
{
    double x = *(const double *)pa, y = *(const double *)pb;
    return (x > y) - (x < y);
}

static int cmp_abs(const void *pa, const void *pb)
{
    double x = fabs(*(const double *)pa), y = fabs(*(const double *)pb);
    return (x > y) - (x < y);
}

static double median_sorted(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

static double norm_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

static void ci_clear(struct ab_cmp_ci *ci)
{
    ci->low = ci->high = ci->coverage = NAN;
    ci->valid = ci->exact = false;
}

static bool all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

static bool all_times(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(isfinite(x[i]) && x[i] > 0))
            return false;
    return true;
}

/* Sum of t(t^2 - 1) over the groups of equal values of sorted s; 0: no tie. */
static double tie_term(const double *s, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && s[j] == s[i])
            j++;
        double t = (double)(j - i);
        sum += t * (t * t - 1);
        i = j;
    }
    return sum;
}

/* ------------------------------------------------ exact null distributions */

/* c[s] = number of the 2^n sign vectors with T+ = s, s <= n(n+1)/2; n <= 50,
 * so every count is an integer below 2^53 and exact. */
static void signrank_counts(size_t n, double *c)
{
    size_t top = 0;
    memset(c, 0, (n * (n + 1) / 2 + 1) * sizeof *c);
    c[0] = 1;
    for (size_t i = 1; i <= n; i++) {
        top += i;
        for (size_t s = top; s >= i; s--)
            c[s] += c[s - i];
    }
}

/* c[u] = number of arrangements of s values among s + l with U = u, u <= s l
 * (U: pairs with the s-sample value above the l-sample value).  Position i
 * of the sorted union taken as the (j+1)-th s-value adds i - j to U.
 * Cost: about (s + l) s^2 l / 2 additions. */
static int ranksum_counts(size_t s, size_t l, double *c)
{
    size_t width = s * l + 1;
    double *dp = calloc((s + 1) * width, sizeof *dp);
    if (!dp)
        return -ENOMEM;
    dp[0] = 1;
    for (size_t i = 0; i < s + l; i++) {
        size_t jmax = i < s - 1 ? i : s - 1;
        for (size_t j = jmax + 1; j-- > 0;) {
            if (i - j > l)
                break; /* smaller j: even more l-values before i */
            const double *from = dp + j * width;
            double *to = dp + (j + 1) * width + (i - j);
            for (size_t u = 0; u <= j * l; u++)
                to[u] += from[u];
        }
    }
    memcpy(c, dp + s * width, width * sizeof *c);
    free(dp);
    return 0;
}

/* Smallest q with P(T <= q) >= TAIL from counts c[0..len); -EDOM when q = 0,
 * i.e. even the most extreme outcome is too likely. */
static int exact_rank(const double *c, size_t len, size_t *k, double *coverage)
{
    double total = 0, acc = 0;
    for (size_t i = 0; i < len; i++)
        total += c[i];
    for (size_t q = 0; q < len; q++) {
        if ((acc + c[q]) / total >= TAIL - TAIL_FUZZ) {
            if (!q)
                return -EDOM;
            *k = q;
            *coverage = 1 - 2 * acc / total;
            return 0;
        }
        acc += c[q];
    }
    return -EDOM; /* not reached: the whole table sums to 1 */
}

/* The same rank from a normal approximation with continuity correction. */
static int normal_rank(double mu, double sigma, size_t *k, double *coverage)
{
    double q = ceil(mu - Z_TAIL * sigma - 0.5);
    if (!(q >= 1))
        return -EDOM;
    *k = (size_t)q;
    *coverage = 1 - 2 * norm_cdf((q - 0.5 - mu) / sigma);
    return 0;
}

/* ------------------------------------------------------------ signed rank */

#define SIGNRANK_LEN (AB_CMP_EXACT_MAX * (AB_CMP_EXACT_MAX + 1) / 2 + 1)

/* ties: sum of t(t^2 - 1) over the tie groups that survive a generic shift. */
static int signrank_rank(size_t n, double ties, size_t *k, double *coverage, bool *exact)
{
    if (n < MIN_PAIRS)
        return -EDOM;
    *exact = n <= AB_CMP_EXACT_MAX && ties == 0;
    if (*exact) {
        double c[SIGNRANK_LEN];
        signrank_counts(n, c);
        return exact_rank(c, n * (n + 1) / 2 + 1, k, coverage);
    }
    double nn = (double)n;
    double var = (nn * (nn + 1) * (2 * nn + 1) - ties / 2) / 24;
    return normal_rank(nn * (nn + 1) / 4, sqrt(var), k, coverage);
}

int ab_cmp_signrank_rank(size_t n, size_t *k, double *coverage)
{
    bool exact;
    if (!k || !coverage)
        return -EINVAL;
    return signrank_rank(n, 0, k, coverage, &exact);
}

/* T+ and p over the nonzero d; buf holds n doubles. */
static void signrank_test(const double *d, size_t n, double *buf, struct ab_cmp_signrank *out)
{
    size_t nz = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0)
            buf[nz++] = d[i];
    out->n_nonzero = nz;
    out->t_plus = 0;
    out->p = 1;
    out->p_exact = false;
    if (!nz)
        return;
    qsort(buf, nz, sizeof *buf, cmp_abs);
    double t_plus = 0, ties = 0;
    for (size_t i = 0; i < nz;) {
        size_t j = i + 1;
        while (j < nz && fabs(buf[j]) == fabs(buf[i]))
            j++;
        double t = (double)(j - i), mid = (double)(i + 1 + j) / 2;
        for (size_t q = i; q < j; q++)
            if (buf[q] > 0)
                t_plus += mid;
        ties += t * (t * t - 1);
        i = j;
    }
    double nn = (double)nz, m = nn * (nn + 1) / 2;
    double t_min = fmin(t_plus, m - t_plus);
    out->t_plus = t_plus;
    if (nz <= AB_CMP_EXACT_MAX && nz == n && ties == 0) {
        double c[SIGNRANK_LEN], cdf = 0;
        signrank_counts(nz, c);
        for (size_t s = 0; s <= (size_t)t_min; s++)
            cdf += c[s];
        out->p = fmin(1, 2 * cdf / ldexp(1, (int)nz));
        out->p_exact = true;
        return;
    }
    double se = sqrt((nn * (nn + 1) * (2 * nn + 1) - ties / 2) / 24);
    double z = (m / 2 - t_min - 0.5) / se;
    out->p = z > 0 ? fmin(1, erfc(z / sqrt(2.0))) : 1;
}

static void signrank_clear(struct ab_cmp_signrank *out)
{
    memset(out, 0, sizeof *out);
    out->t_plus = out->p = out->hl = NAN;
    ci_clear(&out->ci);
}

int ab_cmp_signrank(const double *d, size_t n, struct ab_cmp_signrank *out)
{
    if (!out)
        return -EINVAL;
    signrank_clear(out);
    if (!d || n < 2 || !all_finite(d, n))
        return -EINVAL;
    /* n(n+1)/2 > AB_CMP_MAX_PAIRS, without overflow */
    if (n > AB_CMP_MAX_PAIRS || n * (n + 1) / 2 > AB_CMP_MAX_PAIRS)
        return -E2BIG;
    size_t nw = n * (n + 1) / 2;
    double *s = malloc(n * sizeof *s);
    double *w = malloc(nw * sizeof *w);
    if (!s || !w) {
        free(s);
        free(w);
        return -ENOMEM;
    }
    out->n = n;
    signrank_test(d, n, s, out);

    memcpy(s, d, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            w[at++] = (s[i] + s[j]) / 2;
    qsort(w, nw, sizeof *w, cmp_double);
    out->hl = median_sorted(w, nw);

    size_t k;
    double coverage;
    bool exact;
    if (!signrank_rank(n, tie_term(s, n), &k, &coverage, &exact)) {
        out->ci.low = w[k - 1];
        out->ci.high = w[nw - k];
        out->ci.coverage = coverage;
        out->ci.valid = true;
        out->ci.exact = exact;
    }
    free(s);
    free(w);
    return 0;
}

/* --------------------------------------------------------------- rank sum */

/* 1/C(m + n, m) < TAIL: can the most extreme arrangement reach the tail? */
static bool ranksum_reachable(size_t m, size_t n)
{
    size_t s = m < n ? m : n, l = m < n ? n : m;
    double c = 1;
    for (size_t i = 1; i <= s && c <= 1 / TAIL; i++)
        c = c * (double)(l + i) / (double)i;
    return 1 / c < TAIL - TAIL_FUZZ;
}

static bool ranksum_exact_size(size_t m, size_t n)
{
    size_t s = m < n ? m : n, l = m < n ? n : m;
    return (l <= AB_CMP_EXACT_MAX) || (s <= RANKSUM_SMALL && l <= RANKSUM_OTHER);
}

/* Counts of U for sizes m, n into a fresh array of m n + 1 doubles. */
static int ranksum_table(size_t m, size_t n, double **c)
{
    size_t s = m < n ? m : n, l = m < n ? n : m;
    *c = malloc((m * n + 1) * sizeof **c);
    if (!*c)
        return -ENOMEM;
    int rc = ranksum_counts(s, l, *c);
    if (rc) {
        free(*c);
        *c = NULL;
    }
    return rc;
}

static int ranksum_rank(size_t m, size_t n, double ties, size_t *k, double *coverage,
                        bool *exact)
{
    if (!ranksum_reachable(m, n))
        return -EDOM;
    *exact = ties == 0 && ranksum_exact_size(m, n);
    if (*exact) {
        double *c;
        int rc = ranksum_table(m, n, &c);
        if (rc)
            return rc;
        rc = exact_rank(c, m * n + 1, k, coverage);
        free(c);
        return rc;
    }
    double mm = (double)m, nn = (double)n, nt = mm + nn;
    double var = mm * nn / 12 * ((nt + 1) - ties / (nt * (nt - 1)));
    return normal_rank(mm * nn / 2, sqrt(var), k, coverage);
}

int ab_cmp_ranksum_rank(size_t n_x, size_t n_y, size_t *k, double *coverage)
{
    bool exact;
    if (!k || !coverage || !n_x || !n_y)
        return -EINVAL;
    if (n_x > AB_CMP_MAX_PAIRS / n_y)
        return -E2BIG;
    return ranksum_rank(n_x, n_y, 0, k, coverage, &exact);
}

struct tagged {
    double v;
    bool from_x;
};

static int cmp_tagged(const void *pa, const void *pb)
{
    double x = ((const struct tagged *)pa)->v, y = ((const struct tagged *)pb)->v;
    return (x > y) - (x < y);
}

static int ranksum_test(const double *x, size_t m, const double *y, size_t n,
                        struct ab_cmp_ranksum *out)
{
    size_t nt = m + n;
    struct tagged *all = malloc(nt * sizeof *all);
    if (!all)
        return -ENOMEM;
    for (size_t i = 0; i < m; i++)
        all[i] = (struct tagged){x[i], true};
    for (size_t i = 0; i < n; i++)
        all[m + i] = (struct tagged){y[i], false};
    qsort(all, nt, sizeof *all, cmp_tagged);
    double r1 = 0, ties = 0;
    for (size_t i = 0; i < nt;) {
        size_t j = i + 1;
        while (j < nt && all[j].v == all[i].v)
            j++;
        double t = (double)(j - i), mid = (double)(i + 1 + j) / 2;
        for (size_t q = i; q < j; q++)
            if (all[q].from_x)
                r1 += mid;
        ties += t * (t * t - 1);
        i = j;
    }
    free(all);
    double mm = (double)m, nn = (double)n, mn = mm * nn;
    out->u = r1 - mm * (mm + 1) / 2;
    double u_max = fmax(out->u, mn - out->u);
    size_t s = m < n ? m : n, l = m < n ? n : m;
    if (ties == 0 && s <= RANKSUM_SMALL && l <= RANKSUM_OTHER) {
        double *c, cdf = 0;
        int rc = ranksum_table(m, n, &c);
        if (rc)
            return rc;
        for (size_t u = 0; u <= (size_t)(mn - u_max); u++)
            cdf += c[u];
        double total = 0;
        for (size_t u = 0; u <= m * n; u++)
            total += c[u];
        free(c);
        out->p = fmin(1, 2 * cdf / total);
        out->p_exact = true;
        return 0;
    }
    double sd = sqrt(mn / 12 * ((mm + nn + 1) - ties / ((mm + nn) * (mm + nn - 1))));
    out->p = sd > 0 ? fmin(1, erfc((u_max - mn / 2 - 0.5) / sd / sqrt(2.0))) : 1;
    out->p_exact = false;
    return 0;
}

static void ranksum_clear(struct ab_cmp_ranksum *out)
{
    memset(out, 0, sizeof *out);
    out->u = out->p = out->hl = NAN;
    ci_clear(&out->ci);
}

int ab_cmp_ranksum(const double *x, size_t n_x, const double *y, size_t n_y,
                   struct ab_cmp_ranksum *out)
{
    if (!out)
        return -EINVAL;
    ranksum_clear(out);
    if (!x || !y || !n_x || !n_y || !all_finite(x, n_x) || !all_finite(y, n_y))
        return -EINVAL;
    if (n_x > AB_CMP_MAX_PAIRS / n_y)
        return -E2BIG;
    size_t nd = n_x * n_y;
    double *sx = malloc(n_x * sizeof *sx);
    double *sy = malloc(n_y * sizeof *sy);
    double *diff = malloc(nd * sizeof *diff);
    int rc = -ENOMEM;
    if (!sx || !sy || !diff)
        goto done;
    rc = ranksum_test(x, n_x, y, n_y, out);
    if (rc)
        goto done;
    out->n_x = n_x;
    out->n_y = n_y;

    memcpy(sx, x, n_x * sizeof *sx);
    memcpy(sy, y, n_y * sizeof *sy);
    qsort(sx, n_x, sizeof *sx, cmp_double);
    qsort(sy, n_y, sizeof *sy, cmp_double);
    for (size_t i = 0; i < n_x; i++)
        for (size_t j = 0; j < n_y; j++)
            diff[i * n_y + j] = sx[i] - sy[j];
    qsort(diff, nd, sizeof *diff, cmp_double);
    out->hl = median_sorted(diff, nd);

    size_t k;
    double coverage;
    bool exact;
    int r = ranksum_rank(n_x, n_y, tie_term(sx, n_x) + tie_term(sy, n_y), &k, &coverage,
                         &exact);
    if (r == -ENOMEM) {
        rc = r;
    } else if (!r) {
        out->ci.low = diff[k - 1];
        out->ci.high = diff[nd - k];
        out->ci.coverage = coverage;
        out->ci.valid = true;
        out->ci.exact = exact;
    }
done:
    free(sx);
    free(sy);
    free(diff);
    if (rc)
        ranksum_clear(out);
    return rc;
}

/* ------------------------------------------------------------ time ratios */

static void ratio_ci(const struct ab_cmp_ci *in, struct ab_cmp_ci *out)
{
    *out = *in;
    if (in->valid) {
        out->low = exp(in->low);
        out->high = exp(in->high);
    }
}

/* median(a) / median(b); scratch holds max(n_a, n_b) doubles. */
static double ratio_of_medians(const double *a, size_t n_a, const double *b, size_t n_b,
                               double *scratch)
{
    memcpy(scratch, a, n_a * sizeof *scratch);
    qsort(scratch, n_a, sizeof *scratch, cmp_double);
    double ma = median_sorted(scratch, n_a);
    memcpy(scratch, b, n_b * sizeof *scratch);
    qsort(scratch, n_b, sizeof *scratch, cmp_double);
    return ma / median_sorted(scratch, n_b);
}

/* log(a/b) rather than log a - log b, so that equal ratios (a quantised
 * timer: 100/110 and 200/220) are equal, tied, log ratios. */
static double log_ratio(double a, double b)
{
    double r = a / b;
    return isnormal(r) && r < INFINITY ? log(r) : log(a) - log(b);
}

static void paired_clear(struct ab_cmp_paired *out)
{
    signrank_clear(&out->test);
    out->ratio = out->ratio_of_medians = NAN;
    ci_clear(&out->ci);
}

int ab_cmp_paired(const double *a, const double *b, size_t n, struct ab_cmp_paired *out)
{
    if (!out)
        return -EINVAL;
    paired_clear(out);
    if (!a || !b || n < 2 || !all_times(a, n) || !all_times(b, n))
        return -EINVAL;
    double *d = malloc(n * sizeof *d);
    if (!d)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = log_ratio(a[i], b[i]);
    int rc = ab_cmp_signrank(d, n, &out->test);
    if (!rc) {
        out->ratio = exp(out->test.hl);
        out->ratio_of_medians = ratio_of_medians(a, n, b, n, d);
        ratio_ci(&out->test.ci, &out->ci);
    }
    free(d);
    if (rc)
        paired_clear(out);
    return rc;
}

static void unpaired_clear(struct ab_cmp_unpaired *out)
{
    ranksum_clear(&out->test);
    out->ratio = out->ratio_of_medians = NAN;
    ci_clear(&out->ci);
}

int ab_cmp_unpaired(const double *a, size_t n_a, const double *b, size_t n_b,
                    struct ab_cmp_unpaired *out)
{
    if (!out)
        return -EINVAL;
    unpaired_clear(out);
    if (!a || !b || n_a < 2 || n_b < 2 || !all_times(a, n_a) || !all_times(b, n_b))
        return -EINVAL;
    double *la = malloc(n_a * sizeof *la);
    double *lb = malloc(n_b * sizeof *lb);
    int rc = -ENOMEM;
    if (la && lb) {
        for (size_t i = 0; i < n_a; i++)
            la[i] = log(a[i]);
        for (size_t i = 0; i < n_b; i++)
            lb[i] = log(b[i]);
        rc = ab_cmp_ranksum(la, n_a, lb, n_b, &out->test);
    }
    if (!rc) {
        out->ratio = exp(out->test.hl);
        ratio_ci(&out->test.ci, &out->ci);
        out->ratio_of_medians = ratio_of_medians(a, n_a, b, n_b, n_a >= n_b ? la : lb);
    }
    free(la);
    free(lb);
    if (rc)
        unpaired_clear(out);
    return rc;
}

/* -------------------------------------------------------------- bootstrap */

/* xoshiro256** (Blackman & Vigna), state filled by splitmix64 from the seed. */
struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n): rejects the top UINT64_MAX % n + 1 values. */
static size_t rng_below(struct rng *r, size_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
    do
        v = rng_next(r);
    while (v >= lim);
    return (size_t)(v % n);
}

/* numpy.quantile's default (linear, "type 7") on sorted v[0..n). */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)h;
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

int ab_cmp_bootstrap(const double *a, const double *b, size_t n, size_t resamples,
                     uint64_t seed, struct ab_cmp_boot *out)
{
    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->ratio = NAN;
    ci_clear(&out->ci);
    if (!a || !b || n < 2 || !resamples || !all_times(a, n) || !all_times(b, n))
        return -EINVAL;
    if (n > SIZE_MAX / 2 / sizeof(double) || resamples > SIZE_MAX / sizeof(double))
        return -E2BIG;
    double *ra = malloc(2 * n * sizeof *ra);
    double *ratios = malloc(resamples * sizeof *ratios);
    if (!ra || !ratios) {
        free(ra);
        free(ratios);
        return -ENOMEM;
    }
    double *rb = ra + n;
    struct rng g;
    rng_seed(&g, seed);
    for (size_t r = 0; r < resamples; r++) {
        for (size_t i = 0; i < n; i++) {
            size_t j = rng_below(&g, n);
            ra[i] = a[j];
            rb[i] = b[j];
        }
        qsort(ra, n, sizeof *ra, cmp_double);
        qsort(rb, n, sizeof *rb, cmp_double);
        ratios[r] = median_sorted(ra, n) / median_sorted(rb, n);
    }
    qsort(ratios, resamples, sizeof *ratios, cmp_double);
    out->n = n;
    out->resamples = resamples;
    out->seed = seed;
    out->ratio = ratio_of_medians(a, n, b, n, ra);
    out->ci.low = quantile_sorted(ratios, resamples, TAIL);
    out->ci.high = quantile_sorted(ratios, resamples, 1 - TAIL);
    out->ci.coverage = AB_CMP_LEVEL;
    out->ci.valid = n >= MIN_PAIRS && resamples >= AB_CMP_BOOT_MIN_RESAMPLES;
    if (!out->ci.valid)
        out->ci.low = out->ci.high = out->ci.coverage = NAN;
    free(ra);
    free(ratios);
    return 0;
}

/* ---------------------------------------------------------------- verdicts */

static bool ci_usable(const struct ab_cmp_ci *ci)
{
    return isfinite(ci->low) && isfinite(ci->high) && ci->low > 0 && ci->low <= ci->high;
}

int ab_cmp_verdict(const struct ab_cmp_ci *ci, enum ab_cmp_verdict *out)
{
    if (!ci || !out)
        return -EINVAL;
    *out = AB_CMP_NONE;
    if (!ci->valid)
        return 0;
    if (!ci_usable(ci))
        return -EINVAL;
    *out = ci->high < 1 ? AB_CMP_FASTER : ci->low > 1 ? AB_CMP_SLOWER : AB_CMP_SAME;
    return 0;
}

const char *ab_cmp_verdict_name(enum ab_cmp_verdict v)
{
    switch (v) {
    case AB_CMP_SAME:
        return "same";
    case AB_CMP_FASTER:
        return "faster";
    case AB_CMP_SLOWER:
        return "slower";
    case AB_CMP_NONE:
        break;
    }
    return NULL;
}

int ab_cmp_slowdown(const struct ab_cmp_ci *ci, double threshold, bool *out)
{
    if (!ci || !out || !isfinite(threshold) || threshold < 0)
        return -EINVAL;
    *out = false;
    if (!ci->valid)
        return 0;
    if (!ci_usable(ci))
        return -EINVAL;
    *out = ci->low > 1 + threshold;
    return 0;
}

int ab_cmp_cv(const double *x, size_t n, double *out)
{
    if (!out)
        return -EINVAL;
    *out = NAN;
    if (!x || n < 2 || !all_times(x, n))
        return -EINVAL;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double)n, ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    *out = sqrt(ss / (double)(n - 1)) / mean;
    return 0;
}
