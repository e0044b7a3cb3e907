/*
 * counter-callgrind.c — exact per-call counts under valgrind's callgrind.
 *
 * The measuring child is re-executed under `valgrind --tool=callgrind
 * --collect-atstart=no --branch-sim=yes`.  Around each measured call it
 * switches collection on and off (CALLGRIND_TOGGLE_COLLECT) and then dumps
 * the counts under a label naming the batch and the call.  The
 * orchestrating process reads the dumps: the inclusive cost of the one call
 * that ab_fp_batch_call makes is the cost of the measured function alone,
 * harness excluded.  Ir gives instructions, Bc conditional branches, Bi
 * indirect branches; direct jumps, calls and returns are not counted, so
 * "branches" stays null.
 *
 * Where callgrind counts otherwise than the hardware: a `rep` string
 * instruction counts once per iteration plus once (and as many conditional
 * branches); a locked read-modify-write (other than cmpxchg) adds one
 * conditional branch (valgrind retries it as a compare-and-swap); valgrind
 * hides some CPU features, so code that dispatches on them (glibc's string
 * functions) can run another variant than natively.
 *
 * Cost: ~0.3-0.75 s to start, ~11 ns per instruction simulated, and a dump
 * per call: about 0.5 ms and 4 KiB of temporary file here.
 */
#include "ab.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#define LABEL "ab-fp "

/* ------------------------------------------------------ measuring child */

static int callgrind_batch(struct ab_fp_batch *b)
{
    if (!RUNNING_ON_VALGRIND)
        return -ENOTCONN;
    char label[64];
    for (size_t i = 0; i < b->n; i++) {
        snprintf(label, sizeof label, LABEL "%u %zu", b->index, i);
        CALLGRIND_TOGGLE_COLLECT;
        ab_fp_batch_call(b, i);
        CALLGRIND_TOGGLE_COLLECT;
        CALLGRIND_DUMP_STATS_AT(label);
    }
    return 0;
}

/* ---------------------------------------------------------- orchestrator */

/* One dump: one measured call. */
struct dump {
    long batch, call;        /* from the label; -1 none */
    double calls;            /* calls made from ab_fp_batch_call: 1 */
    double ir, bc, bi;       /* their inclusive cost */
};

enum { EV_IR, EV_BC, EV_BI, EV_COUNT };

#define TRIGGER "desc: Trigger: Client Request: " LABEL

/* Read one callgrind output file (uncompressed names and positions). */
static int parse_dump(const char *path, struct dump *d)
{
    d->batch = d->call = -1;
    d->calls = d->ir = d->bc = d->bi = 0;
    size_t len;
    char *text = ab_read_file(path, 1u << 30, &len);
    if (!text)
        return -errno;
    int col[EV_COUNT] = {-1, -1, -1};
    bool in_caller = false, cost_next = false;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (cost_next) {
            /* "<position> <event costs...>" after a calls= line. */
            cost_next = false;
            char *p = line, *end;
            strtod(p, &end); /* the position */
            p = end;
            double v[16] = {0};
            int n = 0;
            while (n < 16) {
                double x = strtod(p, &end);
                if (end == p)
                    break;
                v[n++] = x;
                p = end;
            }
            double *dst[EV_COUNT] = {&d->ir, &d->bc, &d->bi};
            for (int e = 0; e < EV_COUNT; e++)
                if (col[e] >= 0 && col[e] < n)
                    *dst[e] += v[col[e]];
            continue;
        }
        if (!strncmp(line, "events:", 7)) {
            int i = 0;
            for (char *s2 = NULL, *ev = strtok_r(line + 7, " ", &s2); ev;
                 ev = strtok_r(NULL, " ", &s2), i++) {
                if (!strcmp(ev, "Ir"))
                    col[EV_IR] = i;
                else if (!strcmp(ev, "Bc"))
                    col[EV_BC] = i;
                else if (!strcmp(ev, "Bi"))
                    col[EV_BI] = i;
            }
        } else if (!strncmp(line, TRIGGER, strlen(TRIGGER))) {
            char *end;
            d->batch = strtol(line + strlen(TRIGGER), &end, 10);
            d->call = strtol(end, NULL, 10);
        } else if (!strncmp(line, "fn=", 3)) {
            in_caller = !strcmp(line + 3, "ab_fp_batch_call");
        } else if (!strncmp(line, "calls=", 6) && in_caller) {
            d->calls += strtod(line + 6, NULL);
            cost_next = true;
        }
    }
    free(text);
    return col[EV_IR] >= 0 ? 0 : -EPROTO;
}

static void remove_tree(const char *dir)
{
    DIR *dh = opendir(dir);
    if (dh) {
        struct dirent *e;
        char p[PATH_MAX];
        while ((e = readdir(dh)))
            if (e->d_name[0] != '.' && snprintf(p, sizeof p, "%s/%s", dir, e->d_name) <
                                           (int)sizeof p)
                unlink(p);
        closedir(dh);
    }
    rmdir(dir);
}

/* A batch of the reply and the counts of its calls. */
struct slot {
    cJSON *batch;
    long index;
    size_t n, seen;
    uint64_t *ins, *cond;      /* per call, in call order */
    double bi;
    bool bad;
};

/* Put each dump's counts into its batch of the reply. */
static void merge(cJSON *doc, const char *dir)
{
    size_t ns = 0;
    cJSON *b;
    cJSON *batches = cJSON_GetObjectItemCaseSensitive(doc, "batches");
    struct slot *slots = calloc((size_t)cJSON_GetArraySize(batches) + 1, sizeof *slots);
    if (!slots)
        return;
    cJSON_ArrayForEach(b, batches)
    {
        if (strcmp(ab_json_str(b, "status"), "ok"))
            continue;
        struct slot *s = &slots[ns++];
        s->batch = b;
        s->index = (long)ab_json_num(b, "index", -1);
        s->n = (size_t)ab_json_num(b, "calls", 0);
        s->ins = calloc(s->n ? s->n : 1, sizeof *s->ins);
        s->cond = calloc(s->n ? s->n : 1, sizeof *s->cond);
        s->bad = !s->ins || !s->cond;
    }
    DIR *dh = opendir(dir);
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        char p[PATH_MAX];
        struct dump d;
        if (e->d_name[0] == '.' ||
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p ||
            parse_dump(p, &d) || d.batch < 0)
            continue;
        for (size_t i = 0; i < ns; i++) {
            struct slot *s = &slots[i];
            if (s->index != d.batch || s->bad)
                continue;
            if (d.call < 0 || (size_t)d.call >= s->n || d.calls != 1) {
                s->bad = true;
                break;
            }
            s->ins[d.call] = (uint64_t)d.ir;
            s->cond[d.call] = (uint64_t)d.bc;
            s->bi += d.bi;
            s->seen++;
            break;
        }
    }
    if (dh)
        closedir(dh);
    for (size_t i = 0; i < ns; i++) {
        struct slot *s = &slots[i];
        if (s->bad || s->seen != s->n) {
            char why[160];
            snprintf(why, sizeof why, "callgrind counted %zu of %zu calls as single calls",
                     s->bad ? 0 : s->seen, s->n);
            cJSON_ReplaceItemInObject(s->batch, "status", cJSON_CreateString("failed"));
            cJSON_AddStringToObject(s->batch, "reason", why);
        } else {
            cJSON_AddItemToObject(s->batch, "instructions", ab_fp_hist_json(s->ins, s->n));
            cJSON_AddItemToObject(s->batch, "conditional", ab_fp_hist_json(s->cond, s->n));
            cJSON_AddNumberToObject(s->batch, "indirect", s->bi);
        }
        free(s->ins);
        free(s->cond);
    }
    free(slots);
}

static int callgrind_probe(char *version, size_t vlen, char *why, size_t wlen)
{
    FILE *p = popen("valgrind --version 2>/dev/null", "r");
    char line[128] = "";
    if (p) {
        if (!fgets(line, sizeof line, p))
            line[0] = '\0';
        pclose(p);
    }
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "valgrind-", 9)) {
        snprintf(why, wlen, "valgrind is not installed (Debian package valgrind)");
        return AB_EXIT_RESOURCE;
    }
    snprintf(version, vlen, "%s", line);
    return 0;
}

/* Run a child under callgrind with its output in a fresh folder. */
static int callgrind_exec(const char *request, const char *preload, double timeout_s,
                      struct ab_child_result *out, char *dir, size_t dirlen)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dirlen, "%s/allocbench-callgrind-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -errno;
    char outfile[PATH_MAX + 64];
    snprintf(outfile, sizeof outfile, "--callgrind-out-file=%s/callgrind.out", dir);
    const char *const wrapper[] = {"valgrind",
                                   "--quiet",
                                   "--tool=callgrind",
                                   "--collect-atstart=no",
                                   "--branch-sim=yes",
                                   "--compress-strings=no",
                                   "--compress-pos=no",
                                   outfile,
                                   NULL};
    int rc = ab_runner_exec_wrapped(wrapper, request, preload, timeout_s, out);
    if (rc)
        remove_tree(dir);
    return rc;
}

static int callgrind_spawn(const char *request, const char *preload, double timeout_s,
                           struct ab_child_result *out)
{
    char dir[PATH_MAX];
    int rc = callgrind_exec(request, preload, timeout_s, out, dir, sizeof dir);
    if (rc)
        return rc;
    if (out->status == AB_CHILD_OK && out->doc)
        merge(out->doc, dir);
    remove_tree(dir);
    return 0;
}

void ab_callgrind_toggle(void)
{
    CALLGRIND_TOGGLE_COLLECT;
}

/* The totals of the dump written at exit (the only one of a workload run). */
static int callgrind_workload(const char *request, const char *preload, double timeout_s,
                              struct ab_child_result *out, double totals[3])
{
    char dir[PATH_MAX];
    totals[0] = totals[1] = totals[2] = NAN;
    int rc = callgrind_exec(request, preload, timeout_s, out, dir, sizeof dir);
    if (rc)
        return rc;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/callgrind.out", dir);
    size_t len;
    char *text = ab_read_file(path, 1u << 30, &len);
    int col[EV_COUNT] = {-1, -1, -1};
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "events:", 7)) {
            int i = 0;
            for (char *s2 = NULL, *ev = strtok_r(line + 7, " ", &s2); ev;
                 ev = strtok_r(NULL, " ", &s2), i++)
                for (int e = 0; e < EV_COUNT; e++)
                    if (!strcmp(ev, (const char *const[]){"Ir", "Bc", "Bi"}[e]))
                        col[e] = i;
        } else if (!strncmp(line, "totals:", 7) || !strncmp(line, "summary:", 8)) {
            char *p = strchr(line, ':') + 1, *end;
            for (int i = 0; i < 16; i++, p = end) {
                double v = strtod(p, &end);
                if (end == p)
                    break;
                for (int e = 0; e < EV_COUNT; e++)
                    if (col[e] == i)
                        totals[e] = v;
            }
            break;
        }
    }
    free(text);
    remove_tree(dir);
    return 0;
}

const struct ab_counter ab_counter_callgrind = {
    .name = "callgrind",
    .summary = "exact per-call counts under valgrind (instructions, conditional branches)",
    /* One dump file of about 4 KiB per call, read when the child ends. */
    .max_calls = 20000,
    .max_calls_why = "callgrind writes a dump file of about 4 KiB per counted call",
    .probe = callgrind_probe,
    .spawn = callgrind_spawn,
    .batch = callgrind_batch,
    .workload = callgrind_workload,
};
