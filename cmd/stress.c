/* stress.c — `allocbench stress --profile P [options]`: parse, validate, hand over. */
#include "stress.h"
#include "cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SUBJECTS AB_CMD_MAX_SUBJECTS

static const char usage[] =
    "usage: allocbench stress --profile P [options]\n"
    "\n"
    "Runs the stress cases of an allocator profile (seed 003): local-free,\n"
    "remote-free, cross-thread-allocation, fragmentation, large-objects, exhaustion,\n"
    "shutdown-cleanup.  Each case runs in a fresh child process; every block is\n"
    "verified (a pattern from its address checked at free, no overlap with a live\n"
    "block, alignment and usable size).  Profiles: allocbench list profiles\n"
    "\n"
    "options:\n"
    "  --profile P           freestanding, hosted-small, hosted-server, realtime,\n"
    "                        test-fixture or compiler-internal (required)\n"
    "  --allocator A[,B...]  glibc, jemalloc, tcmalloc, mimalloc, bump, bump-fixed,\n"
    "                        or a path to a .so (plugin or malloc-compatible);\n"
    "                        default glibc; at most 16\n"
    "  --case C[,D...]       only these cases; default all of the profile's\n"
    "  --duration SECONDS    per timed case, 0.1..86400: replaces the profile's\n"
    "                        duration and lifts its operation cap\n"
    "  --ops N               operations per thread per timed case, 1..10^9: replaces\n"
    "                        the profile's count and lifts its duration cap\n"
    "  --seed S              seed of every random choice, 0..2^64-1; default 1\n"
    "  --no-verify           skip the block checks (to measure what they cost); the\n"
    "                        policy, exhaustion and shutdown checks still run\n"
    "  --profiles FILE       the profiles file; default $ALLOCBENCH_PROFILES, else\n"
    "                        stress/profiles.tsv of the build or the installed copy\n"
    "  --out DIR             report folder; default results/runs/<UTC timestamp>/\n"
    "  --format F            what stdout shows: console (default), json, tsv or\n"
    "                        markdown (tables for a pull request); the files are\n"
    "                        always written\n"
    "  --timeout SECONDS     per case, 0.1..86400; default 300, or twice the duration\n"
    "                        per timed case plus 60 when that is more; a case past it\n"
    "                        is killed and reported (ALLOCBENCH_TRIAL_TIMEOUT)\n"
    "  --shard K/N           only the K-th of N slices of the cases (every allocator of\n"
    "                        a case together), 0 <= K < N <= 10000; the slices'\n"
    "                        reports join with allocbench merge\n"
    "\n"
    "files written to DIR: allocator-stress-report.tsv,\n"
    "allocator-diagnostics-report.tsv, report.json, report.html (the verdict matrix:\n"
    "allocbench report DIR writes it again)\n"
    "\n"
    "exit status: 0 every case passed or does not apply; 1 a diagnostic fired or a\n"
    "case could not complete; 2 usage or input error (a malformed profiles file\n"
    "included); 3 an allocator or the profiles file is missing\n";

enum { OPT_PROFILE = 256, OPT_ALLOCATOR, OPT_CASE, OPT_DURATION, OPT_OPS, OPT_NO_VERIFY,
       OPT_PROFILES, OPT_SHARD };

static const struct ab_opt options[] = {
    {"profile", true, OPT_PROFILE},   {"allocator", true, OPT_ALLOCATOR},
    {"case", true, OPT_CASE},         {"duration", true, OPT_DURATION},
    {"ops", true, OPT_OPS},           {"no-verify", false, OPT_NO_VERIFY},
    {"profiles", true, OPT_PROFILES}, {"shard", true, OPT_SHARD},
};

/* What stress's own options set, and what parse makes of them. */
struct stress_args {
    const char *profile, *allocator, *cases, *profiles;
    uint64_t ops;
    double duration;
    bool ops_set, duration_set, no_verify;
    struct ab_shard shard;
    struct ab_common co;
    struct ab_case_set case_set;   /* asked for (all when --case is not given) */
    struct ab_cmd_allocators allocators;
};

static int on_option(int id, const char *v, void *ctx)
{
    struct stress_args *a = ctx;
    int rc;
    switch (id) {
    case OPT_PROFILE: a->profile = v; break;
    case OPT_ALLOCATOR: a->allocator = v; break;
    case OPT_CASE: a->cases = v; break;
    case OPT_DURATION:
        if ((rc = ab_parse_double(v, 0.1, 86400, &a->duration)))
            return ab_cmd_bad_number("duration", v, rc, "[0.1, 86400] seconds");
        a->duration_set = true;
        break;
    case OPT_OPS:
        if ((rc = ab_parse_u64(v, 1, 1000000000, false, &a->ops)))
            return ab_cmd_bad_number("ops", v, rc, "[1, 1000000000]");
        a->ops_set = true;
        break;
    case OPT_NO_VERIFY: a->no_verify = true; break;
    case OPT_PROFILES: a->profiles = v; break;
    case OPT_SHARD:
        if ((rc = ab_shard_parse(v, &a->shard)))
            return ab_cmd_bad_shard(v, rc);
        break;
    }
    return AB_EXIT_OK;
}

static int stress_parse(int argc, char **argv, void *args)
{
    static char case_items[16][AB_NAME_MAX * 4];
    struct stress_args *a = args;
    a->allocator = "glibc";
    a->co = (struct ab_common){.format = "console", .seed = 1, .timeout_s = 300};
    struct ab_args pos = {0};
    int rc = ab_cmd_parse(argc, argv, &ab_command_stress,
                          AB_COMMON_FORMAT | AB_COMMON_OUT | AB_COMMON_SEED | AB_COMMON_TIMEOUT,
                          &a->co, options, sizeof options / sizeof options[0], on_option, a,
                          &pos);
    if (rc)
        return rc;
    if (!a->profile)
        return ab_error(AB_ALLOCBENCH_USAGE,
                        "stress: which profile? --profile P (see: allocbench list profiles)");
    if (a->ops_set && a->duration_set)
        return ab_error(AB_ALLOCBENCH_USAGE, "stress: --ops and --duration exclude each other");

    const char *case_arg = a->cases;
    size_t ncases;
    const struct ab_stress_case *const *cases = ab_stress_cases(&ncases);
    for (size_t i = 0; i < ncases && !case_arg; i++)
        ab_case_set_add(&a->case_set, cases[i]->name);
    if (case_arg) {
        int n;
        if ((rc = ab_cmd_list("case", case_arg, case_items, 16, &n)))
            return rc;
        for (int i = 0; i < n; i++) {
            int ci = ab_stress_case_index(case_items[i]);
            if (ci < 0) {
                char known[256] = "";
                for (size_t k = 0; k < ncases; k++) {
                    strncat(known, k ? ", " : "", sizeof known - strlen(known) - 1);
                    strncat(known, cases[k]->name, sizeof known - strlen(known) - 1);
                }
                return ab_error(AB_ALLOCBENCH_USAGE, "--case: no case '%s' (cases: %s)",
                                case_items[i], known);
            }
            if (ab_case_set_add(&a->case_set, case_items[i]))
                return ab_error(AB_ALLOCBENCH_USAGE, "--case names %s twice", case_items[i]);
        }
    }
    return ab_cmd_allocators(a->allocator, &a->allocators);
}

static int stress_run(void *args)
{
    static struct ab_subject subjects[MAX_SUBJECTS];
    struct stress_args *a = args;
    const char *profile = a->profile, *profiles_arg = a->profiles;
    const char *out = a->co.out, *format = a->co.format;
    uint64_t ops = a->ops, seed = a->co.seed;
    double duration = a->duration, timeout = a->co.timeout_s;
    bool ops_set = a->ops_set, duration_set = a->duration_set, timeout_set = a->co.timeout_set;
    bool verify = !a->no_verify;
    int rc;

    char err[1024];
    static char path[PATH_MAX];
    if (ab_profiles_locate(profiles_arg, path, sizeof path, err, sizeof err))
        return ab_error(AB_ALLOCBENCH_NOT_INSTALLED, "%s", err);
    static struct ab_profiles profiles;
    if ((rc = ab_profiles_load(path, &profiles, err, sizeof err)))
        return ab_error(rc == -EINVAL || profiles_arg ? AB_ALLOCBENCH_BAD_INPUT
                                                      : AB_ALLOCBENCH_NOT_INSTALLED,
                        "%s", err);
    static struct ab_stress_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = ab_profile_find(&profiles, profile);
    if (!cfg.profile)
        return ab_error(AB_ALLOCBENCH_USAGE, "no profile '%s' in %s (see: allocbench list "
                                             "profiles)", profile, path);
    cfg.profiles_path = path;
    cfg.profiles_text = profiles.text;
    cfg.cases = a->case_set;
    cfg.ops = ops_set ? ops : duration_set ? 0 : cfg.profile->ops;
    cfg.duration_s = duration_set ? duration : ops_set ? 0 : cfg.profile->duration_s;

    size_t nsubjects;
    if ((rc = ab_cmd_subjects(&a->allocators, subjects, &nsubjects)))
        return rc;
    cfg.subjects = subjects;
    cfg.nsubjects = nsubjects;
    cfg.seed = seed;
    cfg.verify = verify;
    /* A case may run its whole duration, then verify and free what it holds. */
    if (!timeout_set && 2 * cfg.duration_s + 60 > timeout)
        timeout = 2 * cfg.duration_s + 60;
    cfg.timeout_s = timeout;
    cfg.shard = a->shard;
    cfg.obs = ab_cmd_observer();
    if ((rc = ab_cmd_out_dir(out, cfg.out_dir, sizeof cfg.out_dir)))
        return rc;
    ab_cmd_catch_signals();
    static struct ab_stress_run run;
    rc = ab_stress_execute(&cfg, &run);
    if (rc)
        return ab_error(AB_ALLOCBENCH_INTERNAL, "the stress run failed: %s", strerror(-rc));
    static const char *const where[] = {"allocator-stress-report.tsv",
                                        "allocator-diagnostics-report.tsv", "report.json",
                                        "report.html", NULL};
    rc = ab_cmd_report(ab_stress_doc(&run), cfg.out_dir, format, where);
    int status = rc ? rc : run.failures ? AB_EXIT_FAIL : AB_EXIT_OK;
    ab_stress_free(&run);
    ab_profiles_free(&profiles);
    return status;
}

const struct ab_command ab_command_stress = {
    .name = "stress",
    .synopsis = "run an allocator profile's verified stress cases",
    .usage = usage,
    .parse = stress_parse,
    .args_size = sizeof(struct stress_args),
    .run = stress_run,
};
