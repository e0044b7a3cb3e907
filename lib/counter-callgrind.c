/*
 * counter-callgrind.c — exact counts under valgrind's callgrind.
 *
 * The measuring child is re-executed under `valgrind --tool=callgrind
 * --collect-atstart=no --branch-sim=yes`; it switches collection on around
 * each batch's loop (CALLGRIND_TOGGLE_COLLECT, a no-op of a few instructions
 * outside valgrind) and dumps the batch under its own label.  The
 * orchestrating process reads the dumps: the inclusive cost of the calls
 * made from the batch loops (ab_fp_loop_*), divided by their number, is the
 * per-call cost of the measured function alone, harness excluded.
 *
 * Callgrind gives totals, so these are means (periodic slow paths
 * included); it counts conditional (Bc) and indirect (Bi) branches but not
 * direct jumps, calls and returns, so "branches" stays null.  A `rep`
 * string instruction counts once per iteration here.  Valgrind hides
 * AVX-512, so code that dispatches on CPU features runs another variant
 * than natively.  Cost: ~0.3-0.75 s start-up, then ~11 ns per instruction.
 */
#include "ab.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#define LABEL "ab-fp-batch "

/* ------------------------------------------------------ measuring child */

static int callgrind_batch(struct ab_fp_batch *b)
{
    if (!RUNNING_ON_VALGRIND)
        return -ENOTCONN;
    char label[48];
    snprintf(label, sizeof label, LABEL "%u", b->index);
    CALLGRIND_TOGGLE_COLLECT;
    ab_fp_batch_run(b);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label);
    return 0;
}

/* ---------------------------------------------------------- orchestrator */

struct dump {
    long index;              /* the batch label's number; -1 none */
    double calls;
    double ir, bc, bi;       /* inclusive, over the calls */
};

enum { EV_IR, EV_BC, EV_BI, EV_COUNT };

/* Read one callgrind output file (uncompressed names and positions). */
static int parse_dump(const char *path, struct dump *d)
{
    size_t len;
    char *text = ab_read_file(path, 1u << 30, &len);
    if (!text)
        return -errno;
    d->index = -1;
    d->calls = d->ir = d->bc = d->bi = 0;
    int col[EV_COUNT] = {-1, -1, -1};
    bool in_loop = false, cost_next = false;
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
            if (col[EV_IR] >= 0 && col[EV_IR] < n)
                d->ir += v[col[EV_IR]];
            if (col[EV_BC] >= 0 && col[EV_BC] < n)
                d->bc += v[col[EV_BC]];
            if (col[EV_BI] >= 0 && col[EV_BI] < n)
                d->bi += v[col[EV_BI]];
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
        } else if (!strncmp(line, "desc: Trigger: Client Request: " LABEL,
                            strlen("desc: Trigger: Client Request: " LABEL))) {
            d->index = strtol(line + strlen("desc: Trigger: Client Request: " LABEL), NULL, 10);
        } else if (!strncmp(line, "fn=", 3)) {
            in_loop = !strncmp(line + 3, "ab_fp_loop_", 11);
        } else if (!strncmp(line, "calls=", 6) && in_loop) {
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

/* Put each dump's per-call means into the reply's batch of that index. */
static void merge(cJSON *doc, const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    size_t nd = 0, cap = 0;
    struct dump *dumps = NULL;
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        if (nd == cap) {
            cap = cap ? cap * 2 : 64;
            struct dump *nd2 = realloc(dumps, cap * sizeof *dumps);
            if (!nd2)
                break;
            dumps = nd2;
        }
        if (parse_dump(p, &dumps[nd]) == 0 && dumps[nd].index >= 0)
            nd++;
    }
    closedir(dh);
    cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "batches"))
    {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(b, "status");
        if (!cJSON_IsString(st) || strcmp(st->valuestring, "ok"))
            continue;
        long idx = (long)cJSON_GetObjectItemCaseSensitive(b, "index")->valuedouble;
        double n = cJSON_GetObjectItemCaseSensitive(b, "calls")->valuedouble;
        const struct dump *d = NULL;
        for (size_t i = 0; i < nd && !d; i++)
            if (dumps[i].index == idx)
                d = &dumps[i];
        if (!d || d->calls != n) {
            char why[160];
            snprintf(why, sizeof why, "callgrind attributed %.0f of %.0f calls to the batch",
                     d ? d->calls : 0.0, n);
            cJSON_ReplaceItemInObject(b, "status", cJSON_CreateString("failed"));
            cJSON_AddStringToObject(b, "reason", why);
            continue;
        }
        cJSON_AddNumberToObject(b, "instructions_mean", d->ir / n);
        cJSON_AddNumberToObject(b, "conditional_mean", d->bc / n);
        cJSON_AddNumberToObject(b, "indirect_mean", d->bi / n);
    }
    free(dumps);
}

int ab_callgrind_version(char *version, size_t vlen, char *why, size_t wlen);
int ab_callgrind_version(char *version, size_t vlen, char *why, size_t wlen)
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
int ab_callgrind_exec(const char *request, const char *preload, double timeout_s,
                      struct ab_child_result *out, char *dir, size_t dirlen);
int ab_callgrind_exec(const char *request, const char *preload, double timeout_s,
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
    int rc = ab_callgrind_exec(request, preload, timeout_s, out, dir, sizeof dir);
    if (rc)
        return rc;
    if (out->status == AB_CHILD_OK && out->doc)
        merge(out->doc, dir);
    remove_tree(dir);
    return 0;
}

static int callgrind_probe(char *version, size_t vlen, char *why, size_t wlen)
{
    return ab_callgrind_version(version, vlen, why, wlen);
}

const struct ab_counter ab_counter_callgrind = {
    .name = "callgrind",
    .summary = "exact means per call under valgrind (instructions, conditional branches)",
    .per_call = false,
    .probe = callgrind_probe,
    .spawn = callgrind_spawn,
    .batch = callgrind_batch,
};
