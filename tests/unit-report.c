/* Report writers: a synthetic run with a measured, an unavailable and a
 * crashed configuration.  The TSV header is exact, unmeasured figures are
 * null (JSON) or empty (TSV), never 0. */
#include "run.h"
#include "check.h"
#include "report-files.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

int main(void)
{
    static struct ab_subject subj[2];
    strcpy(subj[0].name, "glibc");
    strcpy(subj[0].path, "/lib/libc.so.6");
    strcpy(subj[0].version, "2.36");
    strcpy(subj[1].name, "crashy");
    strcpy(subj[1].path, "/tmp/crashy.so");
    subj[1].kind = AB_SUBJECT_PRELOAD;

    static struct ab_run_config cfg;
    cfg.wl = ab_workload_find("bulk-new");
    cfg.subjects = subj;
    cfg.nsubjects = 2;
    cfg.threads[0] = 1;
    cfg.nthreads = 1;
    cfg.variant_on[0] = cfg.variant_on[3] = true; /* loop, bulk */
    cfg.repetitions = 1;
    cfg.rounds = 1;
    char err[256];
    CHECK(ab_params_defaults(cfg.wl, &cfg.params, err, sizeof err) == 0);

    static struct ab_trial_record tr[4];
    for (int i = 0; i < 4; i++) {
        tr[i].threads = 1;
        tr[i].ns = tr[i].ns_per_op = tr[i].ops_per_s = NAN;
        tr[i].rss_start_kib = tr[i].rss_before_kib = tr[i].rss_after_kib = -1;
        tr[i].peak_rss_kib = -1;
        tr[i].stats_before = tr[i].stats_after = (struct ab_alloc_stats){-1, -1, -1, -1};
    }
    /* glibc loop: measured */
    tr[0] = (struct ab_trial_record){.variant = 0, .subject = 0, .threads = 1,
                                     .status = AB_TRIAL_OK, .ops = 4096, .ns = 40960,
                                     .ns_per_op = 10, .ops_per_s = 1e8, .rss_start_kib = 100,
                                     .rss_before_kib = 200, .rss_after_kib = 210,
                                     .peak_rss_kib = 300,
                                     .stats_before = {-1, -1, -1, -1},
                                     .stats_after = {5000, -1, -1, 8000}};
    /* glibc bulk: unavailable */
    tr[1].variant = 3;
    tr[1].status = AB_TRIAL_UNAVAILABLE;
    strcpy(tr[1].reason, "glibc offers no bulk allocation API");
    /* crashy loop: crashed */
    tr[2].subject = 1;
    tr[2].status = AB_TRIAL_CRASHED;
    tr[2].peak_rss_kib = 1234;
    tr[2].ndiags = 1;
    tr[2].diags[0].code = AB_ALLOCBENCH_TRIAL_CRASHED;
    strcpy(tr[2].diags[0].detail, "signal=SIGSEGV");
    /* crashy bulk: unavailable */
    tr[3].variant = 3;
    tr[3].subject = 1;
    tr[3].status = AB_TRIAL_UNAVAILABLE;

    static struct ab_aggregate ag[4];
    double ten = 10, big = 1e8;
    ag[0] = (struct ab_aggregate){.variant = 0, .subject = 0, .threads = 1,
                                  .status = AB_TRIAL_OK, .trials = 1, .measured = 1,
                                  .ops_per_trial = 4096, .peak_rss_kib = 300};
    ab_summarize(&ten, 1, &ag[0].ns_per_op);
    ab_summarize(&big, 1, &ag[0].ops_per_s);
    ag[1] = (struct ab_aggregate){.variant = 3, .subject = 0, .threads = 1,
                                  .status = AB_TRIAL_UNAVAILABLE, .trials = 1,
                                  .peak_rss_kib = -1};
    ag[2] = (struct ab_aggregate){.variant = 0, .subject = 1, .threads = 1,
                                  .status = AB_TRIAL_FAILED, .trials = 1, .peak_rss_kib = 1234};
    ag[3] = (struct ab_aggregate){.variant = 3, .subject = 1, .threads = 1,
                                  .status = AB_TRIAL_UNAVAILABLE, .trials = 1,
                                  .peak_rss_kib = -1};
    for (int i = 1; i < 4; i++) {
        ab_summarize(NULL, 0, &ag[i].ns_per_op);
        ab_summarize(NULL, 0, &ag[i].ops_per_s);
    }
    for (int i = 0; i < 4; i++) {
        ag[i].rounds = 500;
        ag[i].cv = NAN;
        ag[i].rusage = (struct ab_rusage_medians){NAN, NAN, NAN, NAN, NAN, NAN};
    }
    ag[0].rusage = (struct ab_rusage_medians){0.25, 0.01, 100, 0, 2, 3};
    /* crashy against glibc: no pair of measured trials, so no verdict. */
    static struct ab_comparison cmp[1];
    cmp[0] = (struct ab_comparison){.agg = &ag[2], .base = &ag[0], .pairs = 0,
                                    .verdict = AB_CMP_NONE};
    cmp[0].cmp.ratio = cmp[0].cmp.ratio_of_medians = cmp[0].cmp.test.p = NAN;

    struct ab_run run = {.cfg = &cfg, .trials = tr, .ntrials = 4, .aggs = ag, .naggs = 4,
                         .comparisons = cmp, .ncomparisons = 1, .failures = 1};
    strcpy(run.session.started_utc, "20260101T000000Z");

    cJSON *built = ab_run_doc(&run);
    CHECK(built != NULL);
    /* TSV: exact header, one row per aggregate, empty where not measured;
     * --format tsv prints the same file. */
    char *tsv = report_file(built, "allocator-fast-path-benchmarks.tsv");
    char *printed = ab_format_find("tsv")->print(built);
    CHECK(tsv && printed && !strcmp(tsv, printed));
    free(printed);
    CHECK(tsv != NULL);
    const char *want =
        "workload\tallocator\tvariant\tthreads\tops_per_trial\tns_per_op_median\t"
        "ns_per_op_min\tns_per_op_max\tns_per_op_ci95_low\tns_per_op_ci95_high\t"
        "peak_rss_kib\tns_per_op_mad\tops_per_s_median\ttrials\tmeasured\tstatus\trounds\tcv\t"
        "noisy\tuser_s_median\tsys_s_median\tminor_faults_median\tmajor_faults_median\t"
        "voluntary_switches_median\tinvoluntary_switches_median\n";
    CHECK(strncmp(tsv, want, strlen(want)) == 0);
    CHECK(strstr(tsv, "bulk-new\tglibc\tloop\t1\t4096\t10.000\t10.000\t10.000\t\t\t300\t0.000\t"
                      "100000000.000\t1\t1\tok\t500\t\tno\t0.250000\t0.010000\t100.0\t0.0\t2.0\t"
                      "3.0\n") != NULL);
    CHECK(strstr(tsv, "bulk-new\tglibc\tbulk\t1\t\t\t\t\t\t\t\t\t\t1\t0\tunavailable\t500\t\tno"
                      "\t\t\t\t\t\t\n") != NULL);
    CHECK(strstr(tsv, "bulk-new\tcrashy\tloop\t1\t\t\t\t\t\t\t1234\t\t\t1\t0\tfailed\t500\t\tno"
                      "\t\t\t\t\t\t\n") != NULL);
    int lines = 0;
    for (char *c = tsv; *c; c++)
        lines += *c == '\n';
    CHECK(lines == 5);
    free(tsv);

    char *dt = report_file(built, "allocator-diagnostics-report.tsv");
    CHECK(dt && !strcmp(dt, "code\tallocator\tprofile\tcase\tdetail\n"
                            "ALLOCBENCH_TRIAL_CRASHED\tcrashy\t\tbulk-new:loop:t1:r0\tsignal=SIGSEGV\n"));
    free(dt);

    /* No remote-free or page-backend rows: no such files. */
    char *none = report_file(built, "allocator-remote-free-report.tsv");
    CHECK(none == NULL);
    free(none);
    none = report_file(built, "allocator-page-backend-report.tsv");
    CHECK(none == NULL);
    free(none);

    /* report.json: the document, and what --format json prints. */
    char *json = report_file(built, "report.json");
    printed = ab_format_find("json")->print(built);
    CHECK(json && printed && !strcmp(json, printed));
    free(printed);

    /* The console: notes, diagnostics and relative figures from the
     * document. */
    char *con = ab_format_find("console")->print(built);
    CHECK(con && strstr(con, "\nnote: bulk on glibc: not available: glibc offers no bulk "
                             "allocation API\n"));
    CHECK(con && strstr(con, "\nALLOCBENCH_TRIAL_CRASHED crashy bulk-new:loop threads=1 "
                             "repetition=0 signal=SIGSEGV\n"));
    CHECK(con && strstr(con, "\nloop                1 crashy       glibc             - "
                             "-                       - - (under 6 pairs)\n"));
    CHECK(con && strstr(con, "crashy             1         -                 -      -        "
                             "-   1.2 MiB failed\n"));
    free(con);

    /* benchmark.json: the measured trial alone (one trial: no aggregates),
     * its CPU time from the trial's rusage where it has one, strings made
     * valid UTF-8. */
    cJSON *gb_doc = cJSON_Duplicate(built, true);
    cJSON *gb_ctx = (cJSON *)get(gb_doc, "context");
    cJSON *t0_gb = cJSON_GetArrayItem(get(gb_doc, "trials"), 0);
    cJSON *ru = cJSON_CreateObject();
    cJSON_AddNumberToObject(ru, "user_s", 0.001);
    cJSON_AddNumberToObject(ru, "sys_s", 0.0005);
    cJSON *la = cJSON_CreateObject(), *la_start = cJSON_AddArrayToObject(la, "start");
    cJSON_AddItemToArray(la_start, cJSON_CreateNumber(0.5));
    cJSON_AddItemToArray(la_start, cJSON_CreateNumber(0.25));
    cJSON_AddItemToArray(la_start, cJSON_CreateNull());
    /* Set, replacing what the document may hold already. */
    const struct {
        cJSON *obj;
        const char *key;
        cJSON *value;
    } sets[] = {
        {t0_gb, "rusage", ru},
        {gb_ctx, "hostname", cJSON_CreateString("h\xffx")},
        {gb_ctx, "cpu_governor", cJSON_CreateString("powersave")},
        {gb_ctx, "cpu_mhz", cJSON_CreateNumber(2399.6)},
        {gb_ctx, "load_average", la},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(sets[i].obj, sets[i].key);
        cJSON_AddItemToObject(sets[i].obj, sets[i].key, sets[i].value);
    }
    char *gb_text = ab_format_find("gbench")->print(gb_doc);
    cJSON *gb = gb_text ? cJSON_Parse(gb_text) : NULL;
    const cJSON *gbs = get(gb, "benchmarks"), *b0 = cJSON_GetArrayItem(gbs, 0);
    CHECK(cJSON_GetArraySize(gbs) == 1);
    CHECK(!strcmp(ab_json_str(b0, "name"), "bulk-new/loop/glibc/threads:1") &&
          !strcmp(ab_json_str(b0, "run_type"), "iteration") &&
          !strcmp(ab_json_str(b0, "time_unit"), "ns"));
    CHECK(ab_json_num(b0, "iterations", 0) == 4096 && ab_json_num(b0, "real_time", 0) == 10);
    CHECK_NEAR(ab_json_num(b0, "cpu_time", 0), 1.5e6 / 4096);
    CHECK(!strcmp(ab_json_str(get(gb, "context"), "date"), "2026-01-01T00:00:00+00:00"));
    CHECK(!strcmp(ab_json_str(get(gb, "context"), "host_name"), "h\xef\xbf\xbdx"));
    CHECK(cJSON_IsTrue(get(get(gb, "context"), "cpu_scaling_enabled")));
    CHECK(ab_json_num(get(gb, "context"), "mhz_per_cpu", 0) == 2400);
    const cJSON *load = get(get(gb, "context"), "load_avg");
    CHECK(cJSON_GetArraySize(load) == 2 && cJSON_GetArrayItem(load, 0)->valuedouble == 0.5 &&
          cJSON_GetArrayItem(load, 1)->valuedouble == 0.25);
    cJSON_Delete(gb);
    free(gb_text);
    /* Without rusage (null), cpu_time is the trial's ns per op; without
     * the figures, no member for them. */
    cJSON_DeleteItemFromObjectCaseSensitive(t0_gb, "rusage");
    cJSON_AddNullToObject(t0_gb, "rusage");
    gb_text = ab_format_find("gbench")->print(gb_doc);
    gb = gb_text ? cJSON_Parse(gb_text) : NULL;
    CHECK(ab_json_num(cJSON_GetArrayItem(get(gb, "benchmarks"), 0), "cpu_time", 0) == 10);
    cJSON_Delete(gb);
    free(gb_text);
    gb_text = ab_format_find("gbench")->print(built);
    gb = gb_text ? cJSON_Parse(gb_text) : NULL;
    CHECK(!get(get(gb, "context"), "cpu_scaling_enabled") &&
          !get(get(gb, "context"), "mhz_per_cpu"));
    cJSON_Delete(gb);
    free(gb_text);
    cJSON_Delete(gb_doc);

    /* --format markdown: the ratio table and the noisy note where the
     * document has them (comparisons[], aggregates[].noisy). */
    cJSON *md_doc = cJSON_Duplicate(built, true);
    cJSON_DeleteItemFromObjectCaseSensitive(md_doc, "comparisons");
    cJSON *md_cmp = cJSON_CreateObject();
    cJSON_AddStringToObject(md_cmp, "variant", "loop");
    cJSON_AddNumberToObject(md_cmp, "threads", 1);
    cJSON_AddStringToObject(md_cmp, "allocator", "cr|ashy");
    cJSON_AddStringToObject(md_cmp, "base", "glibc");
    cJSON_AddNumberToObject(md_cmp, "ratio", 1.25);
    cJSON_AddNumberToObject(md_cmp, "ci95_low", 1.1);
    cJSON_AddNumberToObject(md_cmp, "ci95_high", 1.4);
    cJSON_AddNumberToObject(md_cmp, "p_value", 0.0123);
    cJSON_AddStringToObject(md_cmp, "verdict", "slower");
    cJSON_AddTrueToObject(md_cmp, "noisy");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(md_doc, "comparisons"), md_cmp);
    cJSON *a0_md = cJSON_GetArrayItem(get(md_doc, "aggregates"), 0);
    cJSON_DeleteItemFromObjectCaseSensitive(a0_md, "noisy");
    cJSON_DeleteItemFromObjectCaseSensitive(a0_md, "noisy_why");
    cJSON_AddTrueToObject(a0_md, "noisy");
    cJSON_AddStringToObject(a0_md, "noisy_why", "cv 7 % over 5 %");
    char *md = ab_format_find("markdown")->print(md_doc);
    CHECK(md && strstr(md, "\n| variant | threads | allocator | base | ratio | 95 % CI | p | "
                           "verdict |\n|---|---:|---|---|---:|---:|---:|---|\n| loop | 1 | "
                           "cr\\|ashy | glibc | 1.250 | 1.100 to 1.400 | 0.0123 | slower "
                           "(noisy) |\n"));
    CHECK(md && strstr(md, "\n- noisy: loop on glibc, threads=1: cv 7 % over 5 %\n"));
    free(md);
    /* Without them, neither. */
    cJSON_DeleteItemFromObjectCaseSensitive(md_doc, "comparisons");
    cJSON_DeleteItemFromObjectCaseSensitive(a0_md, "noisy");
    md = ab_format_find("markdown")->print(md_doc);
    CHECK(md && !strstr(md, "| ratio |") && !strstr(md, "noisy"));
    free(md);
    cJSON_Delete(md_doc);

    cJSON *doc = cJSON_Parse(json);
    free(json);
    cJSON_Delete(built);
    CHECK(doc != NULL);
    CHECK(get(doc, "schema_version")->valueint == 1);
    const cJSON *trials = get(doc, "trials");
    CHECK(cJSON_GetArraySize(trials) == 4);
    const cJSON *t0 = cJSON_GetArrayItem(trials, 0), *t1 = cJSON_GetArrayItem(trials, 1);
    const cJSON *t2 = cJSON_GetArrayItem(trials, 2);
    CHECK(get(t0, "ns_per_op")->valuedouble == 10);
    CHECK(cJSON_IsNull(get(t0, "reason")));
    CHECK(cJSON_IsNull(get(get(t0, "allocator_before"), "mapped")));
    CHECK(get(get(t0, "allocator_after"), "mapped")->valuedouble == 8000);
    CHECK(cJSON_IsNull(get(get(t0, "allocator_after"), "active")));
    const char *nullkeys[] = {"ops", "ns", "ns_per_op", "ops_per_s", "rss_before_kib",
                              "peak_rss_kib"};
    for (size_t k = 0; k < sizeof nullkeys / sizeof nullkeys[0]; k++)
        CHECK(cJSON_IsNull(get(t1, nullkeys[k])));
    CHECK(!strcmp(get(t1, "status")->valuestring, "unavailable"));
    CHECK(!strcmp(get(t1, "reason")->valuestring, "glibc offers no bulk allocation API"));
    CHECK(!strcmp(get(t2, "status")->valuestring, "crashed"));
    CHECK(get(t2, "peak_rss_kib")->valuedouble == 1234);
    CHECK(cJSON_IsNull(get(t2, "ns_per_op")));
    const cJSON *diags = get(doc, "diagnostics");
    CHECK(cJSON_GetArraySize(diags) == 1);
    CHECK(!strcmp(get(cJSON_GetArrayItem(diags, 0), "code")->valuestring,
                  "ALLOCBENCH_TRIAL_CRASHED"));
    const cJSON *aggs = get(doc, "aggregates");
    const cJSON *a1 = cJSON_GetArrayItem(aggs, 1), *a0 = cJSON_GetArrayItem(aggs, 0);
    CHECK(cJSON_IsNull(get(get(a1, "ns_per_op"), "median")));
    CHECK(cJSON_IsNull(get(a1, "ops_per_trial")));
    CHECK(!strcmp(get(a1, "reason")->valuestring, "glibc offers no bulk allocation API"));
    CHECK(get(get(a0, "ns_per_op"), "median")->valuedouble == 10);
    CHECK(cJSON_IsNull(get(get(a0, "ns_per_op"), "ci95_low"))); /* one trial: no CI */
    CHECK(get(a0, "relative")->valuedouble == 1.0);
    CHECK(!strcmp(get(a0, "relative_base")->valuestring, "glibc"));
    const cJSON *subs = get(get(doc, "context"), "subjects");
    CHECK(cJSON_IsNull(get(cJSON_GetArrayItem(subs, 1), "version")));
    cJSON_Delete(doc);
    return check_done();
}
