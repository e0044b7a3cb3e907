/* unit-fastpath.c — the distribution of counts (nearest-rank percentiles,
 * merged bins, mean) and the budget file's precedence of default rows. */
#include "fastpath.h"
#include "check.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void dist(void)
{
    struct ab_fp_dist d;
    uint64_t v1[] = {5, 1, 3}, c1[] = {1, 1, 1};
    CHECK(ab_fp_dist_from(v1, c1, 3, &d) == 0);
    CHECK(d.valid && d.calls == 3 && d.min == 1 && d.max == 5);
    CHECK(d.p50 == 3 && d.p90 == 5 && d.p99 == 5);
    CHECK_NEAR(d.mean, 3.0);
    CHECK(d.nbins == 3 && d.value[0] == 1 && d.value[2] == 5);
    ab_fp_dist_free(&d);

    /* Repeated values merge; an empty bin is dropped. */
    uint64_t v2[] = {7, 7, 2}, c2[] = {2, 3, 0};
    CHECK(ab_fp_dist_from(v2, c2, 3, &d) == 0);
    CHECK(d.nbins == 1 && d.value[0] == 7 && d.count[0] == 5 && d.min == 7 && d.p50 == 7);
    ab_fp_dist_free(&d);

    /* 99 fast calls and a slow one: p99 is still the fast count. */
    uint64_t v3[] = {1000, 10}, c3[] = {1, 99};
    CHECK(ab_fp_dist_from(v3, c3, 2, &d) == 0);
    CHECK(d.p50 == 10 && d.p90 == 10 && d.p99 == 10 && d.max == 1000);
    CHECK_NEAR(d.mean, 19.9);
    ab_fp_dist_free(&d);

    /* Half and half: the p50 is the lower count (rank 50 of 100). */
    uint64_t v4[] = {35, 300}, c4[] = {50, 50};
    CHECK(ab_fp_dist_from(v4, c4, 2, &d) == 0);
    CHECK(d.p50 == 35 && d.p90 == 300);
    ab_fp_dist_free(&d);

    CHECK(ab_fp_dist_from(v1, c1, 0, &d) == 0 && !d.valid);
    ab_fp_dist_free(&d);

    /* The wire form: [[count, calls], ...] ascending. */
    uint64_t calls[] = {9, 4, 9, 9};
    cJSON *h = ab_fp_hist_json(calls, 4);
    char *text = cJSON_PrintUnformatted(h);
    CHECK(text && !strcmp(text, "[[4,1],[9,3]]"));
    free(text);
    cJSON_Delete(h);
}

static void budgets(void)
{
    char path[] = "/tmp/ab-unit-budgets-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char text[] = "allocator\top\tsize\tmax_instructions\tmax_branches\n"
                        "*\tmalloc\t*\t100\t10\n"
                        "*\tmalloc\t64\t90\t9\n"
                        "glibc\tmalloc\t*\t80\t8\n"
                        "glibc\tmalloc\t64\t70\t\n";
    CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    struct ab_budgets b;
    char err[256];
    CHECK(ab_budgets_load(path, &b, err, sizeof err) == 0);
    CHECK(b.n == 4);
    const struct ab_budget *x = ab_budget_find(&b, "glibc", AB_FP_MALLOC, 64, AB_FP_PAIRS);
    CHECK(x && x->max_instructions == 70 && isnan(x->max_branches) && x->line == 5);
    /* A file without a pattern column is about pairs, and any counter. */
    CHECK(x && x->pattern == AB_FP_PAIRS && !x->counter[0] && !x->version[0]);
    CHECK(ab_budget_find(&b, "glibc", AB_FP_MALLOC, 64, AB_FP_BATCH) == NULL);
    x = ab_budget_find(&b, "glibc", AB_FP_MALLOC, 32, AB_FP_PAIRS);
    CHECK(x && x->max_instructions == 80);
    x = ab_budget_find(&b, "jemalloc", AB_FP_MALLOC, 64, AB_FP_PAIRS);
    CHECK(x && x->max_instructions == 90);
    x = ab_budget_find(&b, "jemalloc", AB_FP_MALLOC, 32, AB_FP_PAIRS);
    CHECK(x && x->max_instructions == 100);
    CHECK(ab_budget_find(&b, "jemalloc", AB_FP_FREE, 32, AB_FP_PAIRS) == NULL);
    ab_budgets_free(&b);
    unlink(path);
}

/* The pattern, counter and version columns; budgets found by pattern. */
static void budget_columns(void)
{
    char path[] = "/tmp/ab-unit-budgets-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char text[] = "allocator\top\tsize\tpattern\tcounter\tallocator_version\t"
                        "max_instructions\tmax_branches\tmax_slow_path_share\n"
                        "glibc\tmalloc\t16\tpairs\tptrace\t2.36\t41\t8\t0\n"
                        "glibc\tmalloc\t16\tbatch\tcallgrind\t2.36\t175\t\t0.993\n";
    CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    struct ab_budgets b;
    char err[256];
    CHECK(ab_budgets_load(path, &b, err, sizeof err) == 0);
    const struct ab_budget *p = ab_budget_find(&b, "glibc", AB_FP_MALLOC, 16, AB_FP_PAIRS);
    const struct ab_budget *q = ab_budget_find(&b, "glibc", AB_FP_MALLOC, 16, AB_FP_BATCH);
    CHECK(p && p->max_instructions == 41 && !strcmp(p->counter, "ptrace") &&
          !strcmp(p->version, "2.36") && p->max_slow_path_share == 0);
    CHECK(q && q->max_instructions == 175 && isnan(q->max_branches) &&
          !strcmp(q->counter, "callgrind") && q->max_slow_path_share == 0.993);
    ab_budgets_free(&b);
    unlink(path);
}

int main(void)
{
    dist();
    budgets();
    budget_columns();
    return check_done();
}
