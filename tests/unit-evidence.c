/* The evidence files of the workload catalogue: remote-free rows come from
 * aggregates with a remote_frees metric (pending_at_end only where it was
 * reported), page-backend rows from trial samples (empty where a figure was
 * not reported), and neither is written for a run without rows for it. */
#include "run.h"
#include "check.h"
#include "report-files.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const variants[] = {"v", NULL};
static const struct ab_param params[] = {{"n", AB_PARAM_INT, "1", 1, 9, NULL, "n"}};
static int noop(struct ab_trial *t)
{
    (void)t;
    return 0;
}
static const struct ab_workload wl = {.name = "w", .summary = "s", .seed = "", .unit = "op",
                                      .variants = variants, .params = params, .nparams = 1,
                                      .quick = "n=1", .default_rounds = 1, .run = noop};

/* A file of the run's report set, NULL when the set has no such file. */
static char *evidence(const struct ab_run *run, const char *name)
{
    cJSON *doc = ab_run_doc(run);
    char *text = report_file(doc, name);
    cJSON_Delete(doc);
    return text;
}

static int lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

int main(void)
{
    static struct ab_subject subj[2];
    strcpy(subj[0].name, "plug");
    strcpy(subj[1].name, "glibc");
    static struct ab_run_config cfg;
    cfg.wl = &wl;
    cfg.subjects = subj;
    cfg.nsubjects = 2;
    static struct ab_run run;
    run.cfg = &cfg;

    /* No rows: no file. */
    char *text = evidence(&run, "allocator-remote-free-report.tsv");
    CHECK(text == NULL);
    free(text);

    static struct ab_aggregate aggs[2];
    run.aggs = aggs;
    run.naggs = 2;
    double v[3];
    aggs[0].subject = 0, aggs[0].threads = 2, aggs[0].measured = 3;
    const char *names[3] = {"remote_frees", "ns_per_remote_free", "pending_at_end"};
    double vals[3] = {4096, 12.5, 7};
    for (int i = 0; i < 3; i++) {
        strcpy(aggs[0].metrics[i].name, names[i]);
        v[0] = v[1] = v[2] = vals[i];
        ab_summarize(v, 3, &aggs[0].metrics[i].s);
    }
    aggs[0].nmetrics = 3;
    /* A timing nobody measured and no depth reported: empty fields. */
    aggs[1].subject = 1, aggs[1].threads = 1, aggs[1].measured = 2;
    strcpy(aggs[1].metrics[0].name, "remote_frees");
    v[0] = v[1] = 10;
    ab_summarize(v, 2, &aggs[1].metrics[0].s);
    strcpy(aggs[1].metrics[1].name, "ns_per_remote_free");
    ab_summarize(v, 0, &aggs[1].metrics[1].s);
    aggs[1].nmetrics = 2;
    text = evidence(&run, "allocator-remote-free-report.tsv");
    CHECK(text && !strncmp(text, "workload\tallocator\tthreads\tremote_frees\t"
                                 "ns_per_remote_free\tpending_at_end\tvariant\ttrials\n",
                           strlen("workload\tallocator\tthreads\tremote_frees\t"
                                  "ns_per_remote_free\tpending_at_end\tvariant\ttrials\n")));
    CHECK(text && strstr(text, "\nw\tplug\t2\t4096\t12.500\t7\tv\t3\n"));
    CHECK(text && strstr(text, "\nw\tglibc\t1\t10\t\t\tv\t2\n"));
    CHECK(text && lines(text) == 3);
    free(text);

    text = evidence(&run, "allocator-page-backend-report.tsv");
    CHECK(text == NULL);
    free(text);
    static struct ab_trial_record tr[1];
    struct ab_sample s[2] = {{"fill-0", 4096, 8192, 12288, -1}, {"release", 0, 4096, -1, -1}};
    tr[0].subject = 1, tr[0].threads = 1, tr[0].repetition = 4;
    tr[0].samples = s;
    tr[0].nsamples = 2;
    run.trials = tr;
    run.ntrials = 1;
    text = evidence(&run, "allocator-page-backend-report.tsv");
    CHECK(text && !strncmp(text, "workload\tallocator\tphase\t", 24));
    CHECK(text && strstr(text, "\nw\tglibc\tfill-0\t4096\t8192\t12288\t\tv\t1\t4\n"));
    CHECK(text && strstr(text, "\nw\tglibc\trelease\t0\t4096\t\t\tv\t1\t4\n"));
    CHECK(text && lines(text) == 3);
    free(text);
    return check_done();
}
