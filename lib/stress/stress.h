/*
 * stress.h — `allocbench stress`: the profiles file, the case registry,
 * the stress engine, its child mode and its report document.
 */
#ifndef AB_STRESS_H
#define AB_STRESS_H

#include "report.h"
#include "shard.h"
#include "verify.h"

/* =============================================================== stress
 * `allocbench stress --profile P`: the seven verified stress cases of seed
 * 003, run each in a fresh child, and the exhaustion and shutdown
 * mechanisms they share with the workloads of the same names. */

/* ---------------------------------------------------------- profile.c */

#define AB_PROFILES_MAX 65536       /* bytes of a profiles file (it travels in argv) */
struct ab_profiles {
    char path[PATH_MAX];
    char *text;                    /* the file as read, once (loaded only) */
    struct ab_profile *p;
    size_t n;
};

/* The profiles file: --profiles, else $ALLOCBENCH_PROFILES, else
 * stress/profiles.tsv beside the executable (the build tree), else the
 * installed copy.  Returns 0 or -ENOENT (err says where it looked). */
int ab_profiles_locate(const char *given, char *path, size_t len, char *err, size_t errlen);
/* Parse the whole file; a malformed one gives -EINVAL and "FILE:LINE: why"
 * in err, an unreadable one -errno.  The file is read once (a stream, a FIFO
 * or /dev/stdin works); its text is kept for the children, which parse it
 * rather than read the file again. */
int ab_profiles_load(const char *path, struct ab_profiles *out, char *err, size_t errlen);
int ab_profiles_parse(const char *path, const char *text, struct ab_profiles *out, char *err,
                      size_t errlen);
void ab_profiles_free(struct ab_profiles *ps);
const struct ab_profile *ab_profile_find(const struct ab_profiles *ps, const char *name);
/* Threads the profile asks for on this machine (per CPU resolved). */
unsigned ab_profile_threads(const struct ab_profile *p);

/* ------------------------------------------------------------ knobs.c */

/* One case child's policies, from the profile and the allocator's family
 * (the table in knobs.c): what the parent sets before exec, the
 * environment, and what the child is told (the request's "policy"). */
#define AB_PLAN_ENV_MAX 6
struct ab_policy_plan {
    bool hugepages;                /* opted in through the knob in hugepages_how */
    bool thp_disable;              /* PR_SET_THP_DISABLE before exec */
    int numa_node;                 /* to bind; -1 none */
    bool numa_process;             /* by the process policy (set before exec) */
    bool numa_skipped;             /* opted in, but this machine cannot (numa_na) */
    uint64_t page_limit;           /* exhaustion only; 0 none */
    enum ab_limit_kind limit_kind;
    char hugepages_how[96], numa_how[96], limit_how[96];
    char hugepages_na[240], numa_na[240];
    char env_text[AB_PLAN_ENV_MAX][256];
    const char *env[AB_PLAN_ENV_MAX + 1];
    unsigned nenv;
};
void ab_policy_plan(const struct ab_profile *p, enum ab_family family, bool exhaustion,
                    struct ab_policy_plan *out);
/* For ab_exec_setup.before_exec, ctx the plan. */
void ab_policy_before_exec(const void *plan);
void ab_policy_plan_json(const struct ab_policy_plan *pl, struct cJSON *req);
void ab_policy_plan_read(const struct cJSON *req, struct ab_policy_plan *out);

/* The child mode "stress" (stress.c reads the request into this):
 * configure the plugin for the profile, run the case, build the reply. */
struct ab_stress_request {
    const char *case_name, *profiles_file, *profiles, *profile; /* profiles: the text */
    unsigned threads;
    uint64_t ops;                  /* per thread per timed case; 0: no cap */
    double duration_s;             /* per timed case; 0: no cap */
    uint64_t seed;
    bool verify;
};
extern const struct ab_child_mode ab_mode_stress;

/* ------------------------------------------------------------ stress-run.c */

const struct ab_stress_case *const *ab_stress_cases(size_t *count);
int ab_stress_case_index(const char *name);

enum ab_case_verdict {
    AB_CASE_PASS,
    AB_CASE_FAIL,                  /* a diagnostic fired */
    AB_CASE_INCOMPLETE,            /* an allocation failed outside exhaustion */
    AB_CASE_NA,                    /* the profile or the plugin rules it out */
};
const char *ab_case_verdict_name(enum ab_case_verdict v);

struct ab_stress_config {
    const struct ab_profile *profile;
    const char *profiles_path;
    const char *profiles_text;     /* the file's content, read once */
    struct ab_subject *subjects;
    size_t nsubjects;
    struct ab_case_set cases;      /* asked for (all when the user named none) */
    uint64_t ops;                  /* per thread per timed case; 0: no cap */
    double duration_s;             /* per timed case; 0: no cap */
    uint64_t seed;
    bool verify;
    double timeout_s;
    char out_dir[PATH_MAX];
    const struct ab_observer *obs; /* progress and warnings; NULL: silent */
    /* --shard K/N: only this slice of the cases (count 0: all), each case
     * with every allocator.  A case costs one per allocator, none where the
     * profile rules it out (no child runs). */
    struct ab_shard shard;
};

struct ab_stress_record {
    unsigned subject, case_index;
    enum ab_case_verdict verdict;
    char reason[512];              /* why NA, incomplete, or the child's fate */
    bool ran;                      /* the case ran to its end in a child */
    unsigned threads;
    struct ab_findings f;
    double elapsed_s;
    char stderr_tail[1024];
};

struct ab_stress_run {
    const struct ab_stress_config *cfg;
    struct ab_session session;     /* host, start time, progress */
    struct ab_stress_record *records;
    size_t nrecords;
    unsigned failures;             /* records whose verdict is not pass or NA */
    /* Per case of the registry: whether this shard runs it; the expected
     * costs of this shard's cases and of all asked for. */
    bool case_in_shard[AB_CASES_MAX];
    double shard_cost, matrix_cost;
};

int ab_stress_execute(const struct ab_stress_config *cfg, struct ab_stress_run *run);
void ab_stress_free(struct ab_stress_run *run);

/* ------------------------------------------------------------ stress-doc.c */

/* Checks as a JSON array of {name, verdict, detail} (the child's reply and
 * report.json). */
struct cJSON *ab_checks_json(const struct ab_check *c, unsigned n);
/* The stress run's report document (report.json; "command": "stress"),
 * which every format renders; NULL when out of memory.  The caller deletes
 * it. */
struct cJSON *ab_stress_doc(const struct ab_stress_run *run);

#endif
