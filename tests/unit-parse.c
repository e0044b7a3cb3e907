/* Option and parameter parsing: ranges, suffixes, garbage, lists. */
#include "workload.h"
#include "check.h"

#include <cJSON.h>
#include <errno.h>
#include <string.h>

static const char *const variants[] = {"a", "b", NULL};
static const struct ab_param params[] = {
    {"n", AB_PARAM_INT, "10", 1, 100, NULL, "count"},
    {"size", AB_PARAM_SIZE, "4k", 16, 1 << 20, NULL, "bytes"},
    {"mode", AB_PARAM_CHOICE, "fast", 0, 0, "slow|fast|auto", "mode"},
};
static int dummy_run(struct ab_trial *t)
{
    (void)t;
    return 0;
}
static const struct ab_workload wl = {"t", "test", "", "op", variants, params, 3, "n=2", 1,
                                      dummy_run};

/* A reply's figures are counts, or the reply is not believed. */
static void reply_counts(void)
{
    static const char *const names[] = {"ops", "wall_ns"};
    char why[128];
    const char *good = "{\"rc\":0,\"ops\":10,\"wall_ns\":0}";
    const char *bad[] = {"{\"rc\":0,\"ops\":10}", "{\"rc\":0,\"ops\":-1,\"wall_ns\":1}",
                         "{\"rc\":0,\"ops\":1.5,\"wall_ns\":1}",
                         "{\"rc\":0,\"ops\":\"10\",\"wall_ns\":1}"};
    cJSON *d = cJSON_Parse(good);
    CHECK(ab_reply_counts(d, names, 2, why, sizeof why) == 0);
    cJSON_Delete(d);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = cJSON_Parse(bad[i]);
        CHECK(ab_reply_counts(d, names, 2, why, sizeof why) == -EPROTO && strstr(why, "\""));
        cJSON_Delete(d);
    }
}

int main(void)
{
    reply_counts();
    uint64_t u;
    CHECK(ab_parse_u64("42", 0, 100, false, &u) == 0 && u == 42);
    CHECK(ab_parse_u64("101", 0, 100, false, &u) == -ERANGE);
    CHECK(ab_parse_u64("0", 1, 100, false, &u) == -ERANGE);
    CHECK(ab_parse_u64("-1", 0, 100, false, &u) == -EINVAL);
    CHECK(ab_parse_u64("", 0, 100, false, &u) == -EINVAL);
    CHECK(ab_parse_u64("12x", 0, 100, false, &u) == -EINVAL);
    CHECK(ab_parse_u64("4k", 0, 1 << 20, false, &u) == -EINVAL); /* no suffix for counts */
    CHECK(ab_parse_u64("4k", 0, 1 << 20, true, &u) == 0 && u == 4096);
    CHECK(ab_parse_u64("2MiB", 0, 1ull << 40, true, &u) == 0 && u == 2u << 20);
    CHECK(ab_parse_u64("1G", 0, 1ull << 40, true, &u) == 0 && u == 1u << 30);
    CHECK(ab_parse_u64("99999999999999999999", 0, UINT64_MAX, false, &u) == -ERANGE);
    CHECK(ab_parse_u64("18446744073709551615", 0, UINT64_MAX, false, &u) == 0 && u == UINT64_MAX);
    CHECK(ab_parse_u64("17179869184G", 0, UINT64_MAX, true, &u) == -ERANGE); /* overflow */

    double d;
    CHECK(ab_parse_double("0.5", 0.1, 10, &d) == 0 && d == 0.5);
    CHECK(ab_parse_double("0", 0.1, 10, &d) == -ERANGE);
    CHECK(ab_parse_double("nan", 0.1, 10, &d) == -EINVAL);
    CHECK(ab_parse_double("1s", 0.1, 10, &d) == -EINVAL);
    CHECK(ab_parse_double("0x4", 0.1, 10, &d) == -EINVAL);
    CHECK(ab_parse_double(" 1", 0.1, 10, &d) == -EINVAL);
    CHECK(ab_parse_double("1e300", 0.1, 10, &d) == -ERANGE);
    CHECK(ab_parse_double("2.5e0", 0.1, 10, &d) == 0 && d == 2.5);

    int64_t i;
    CHECK(ab_parse_i64("-5", -10, 10, &i) == 0 && i == -5);
    CHECK(ab_parse_i64("11", -10, 10, &i) == -ERANGE);

    char items[4][AB_NAME_MAX * 4];
    CHECK(ab_split_list("a,bb,c", items, 4) == 3 && !strcmp(items[1], "bb"));
    CHECK(ab_split_list("a,,c", items, 4) == -EINVAL);
    CHECK(ab_split_list("a,", items, 4) == -EINVAL);
    CHECK(ab_split_list("a,b,c,d,e", items, 4) == -E2BIG);

    struct ab_params p;
    char err[256];
    CHECK(ab_params_defaults(&wl, &p, err, sizeof err) == 0);
    CHECK(p.v[0] == 10 && p.v[1] == 4096 && p.v[2] == 1);
    CHECK(ab_params_apply(&wl, &p, "n=100", err, sizeof err) == 0 && p.v[0] == 100 && p.set[0]);
    CHECK(ab_params_apply(&wl, &p, "n=101", err, sizeof err) == -EINVAL);
    CHECK(strstr(err, "outside") && strstr(err, "[1, 100]"));
    CHECK(ab_params_apply(&wl, &p, "size=1M", err, sizeof err) == 0 && p.v[1] == 1 << 20);
    CHECK(ab_params_apply(&wl, &p, "size=8", err, sizeof err) == -EINVAL);
    CHECK(ab_params_apply(&wl, &p, "mode=auto", err, sizeof err) == 0 && p.v[2] == 2);
    CHECK(ab_params_apply(&wl, &p, "mode=fastest", err, sizeof err) == -EINVAL);
    CHECK(strstr(err, "slow|fast|auto"));
    CHECK(ab_params_apply(&wl, &p, "nope=1", err, sizeof err) == -EINVAL && strstr(err, "nope"));
    CHECK(ab_params_apply(&wl, &p, "n", err, sizeof err) == -EINVAL);
    CHECK(ab_params_apply(&wl, &p, "=3", err, sizeof err) == -EINVAL);
    char buf[32];
    ab_params_text(&wl, &p, 2, buf, sizeof buf);
    CHECK(!strcmp(buf, "auto"));
    ab_params_text(&wl, &p, 0, buf, sizeof buf);
    CHECK(!strcmp(buf, "100"));

    CHECK(ab_workload_variant_index(&wl, "b") == 1);
    CHECK(ab_workload_variant_index(&wl, "c") == -1);
    CHECK(ab_workload_find("bulk-new") != NULL);
    CHECK(ab_workload_find("bulk") == NULL);
    return check_done();
}
