/*
 * counter-callgrind.c — exact per-call counts under valgrind's callgrind.
 *
 * One measuring child per allocator and repetition is re-executed under
 * `valgrind --tool=callgrind --collect-atstart=no --branch-sim=yes
 * --dump-instr=yes`; it forks a process per size (sizes_in_one_child), so a
 * size's counts do not depend on the sizes before it, and the simulator
 * starts once.  Each counted call is made from a call site of its own: a
 * block of SITES stubs (`call *%r11`), call i of a batch through stub
 * i % SITES, with collection switched on (CALLGRIND_TOGGLE_COLLECT) around
 * it.  Callgrind keeps an inclusive cost per call instruction, so one dump
 * per SITES calls, labelled with the batch and the chunk, holds every call's
 * own count: the cost of the measured function alone, harness excluded.  Ir
 * gives instructions, Bc conditional branches, Bi indirect branches; direct
 * jumps, calls and returns are not counted, so "branches" stays null.
 *
 * Where callgrind counts otherwise than the hardware: a `rep` string
 * instruction counts once per iteration plus once (and as many conditional
 * branches); a locked read-modify-write (other than cmpxchg) adds one
 * conditional branch (valgrind retries it as a compare-and-swap); valgrind
 * hides some CPU features, so code that dispatches on them (glibc's string
 * functions) can run another variant than natively.
 *
 * Cost: ~0.3-0.75 s to start, ~11 ns per instruction simulated, and a dump
 * (about 0.5 ms) per SITES counted calls.
 */
#include "counter.h"

#if AB_HAVE_CALLGRIND_H

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#define LABEL "ab-fp "
#define SITES 4096
#define SITE_BYTES 8

/*
 * ab_cg_via(fn, site, a0, a1) calls fn(a0, a1) from the call instruction of
 * one stub, which it calls (so the stack is aligned as the ABI wants at
 * fn's entry, and callgrind sees the stub entered by a call).
 */
__asm__(".text\n"
        ".globl ab_cg_via\n"
        ".hidden ab_cg_via\n"
        ".type ab_cg_via, @function\n"
        "ab_cg_via:\n"
        "    mov %rdi, %r11\n"
        "    mov %rsi, %rax\n"
        "    mov %rdx, %rdi\n"
        "    mov %rcx, %rsi\n"
        "    call *%rax\n"
        "    ret\n"
        ".size ab_cg_via, .-ab_cg_via\n"
        ".balign 16\n"
        ".globl ab_cg_sites\n"
        ".hidden ab_cg_sites\n"
        ".type ab_cg_sites, @function\n"
        "ab_cg_sites:\n"
        ".rept 4096\n"
        "    call *%r11\n"
        "    ret\n"
        "    .balign 8\n"
        ".endr\n"
        ".size ab_cg_sites, .-ab_cg_sites\n");
void *ab_cg_via(const void *fn, const void *site, uintptr_t a0, uintptr_t a1);
extern const char ab_cg_sites[];

/* ------------------------------------------------------ measuring child */

static int callgrind_batch(struct ab_fp_batch *b)
{
    if (!RUNNING_ON_VALGRIND)
        return -ENOTCONN;
    const void *fn = ab_fp_batch_fn(b);
    char label[64];
    for (size_t i = 0; i < b->n; i++) {
        size_t k = i % SITES;
        uintptr_t a0, a1;
        ab_fp_batch_pre(b, i);
        ab_fp_batch_args(b, i, &a0, &a1);
        CALLGRIND_TOGGLE_COLLECT;
        void *r = ab_cg_via(fn, ab_cg_sites + SITE_BYTES * k, a0, a1);
        CALLGRIND_TOGGLE_COLLECT;
        ab_fp_batch_result(b, i, r);
        ab_fp_batch_post(b, i);
        if (k == SITES - 1 || i + 1 == b->n) {
            snprintf(label, sizeof label, LABEL "%u %zu", b->index, i / SITES);
            CALLGRIND_DUMP_STATS_AT(label);
        }
    }
    return 0;
}

/* ---------------------------------------------------------- orchestrator */

/* One call site's cost in a dump. */
struct site {
    uint64_t pos, calls;
    double ir, bc, bi;
};

/* One dump: one chunk of a batch. */
struct dump {
    long batch, chunk;       /* from the label; -1 none */
    struct site *sites;
    size_t nsites, cap;
};

enum { EV_IR, EV_BC, EV_BI, EV_COUNT };

#define TRIGGER "desc: Trigger: Client Request: " LABEL

/* The event columns of an "events:" line. */
static void event_columns(char *line, int col[EV_COUNT])
{
    static const char *const names[EV_COUNT] = {"Ir", "Bc", "Bi"};
    int i = 0;
    for (char *s2 = NULL, *ev = strtok_r(line, " ", &s2); ev; ev = strtok_r(NULL, " ", &s2), i++)
        for (int e = 0; e < EV_COUNT; e++)
            if (!strcmp(ev, names[e]))
                col[e] = i;
}

/* Read one callgrind output file (uncompressed names and positions,
 * instruction positions): its label and the calls made from the stubs. */
static int parse_dump(const char *path, struct dump *d)
{
    memset(d, 0, sizeof *d);
    d->batch = d->chunk = -1;
    size_t len;
    char *text = ab_read_file(path, 1u << 30, &len);
    if (!text)
        return -errno;
    int col[EV_COUNT] = {-1, -1, -1}, rc = 0;
    bool in_sites = false, cost_next = false;
    uint64_t calls = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && !rc;
         line = strtok_r(NULL, "\n", &save)) {
        if (cost_next) {
            /* "<call position> <inclusive event costs...>" after calls=. */
            cost_next = false;
            char *end;
            struct site st = {.pos = strtoull(line, &end, 0), .calls = calls};
            char *p = end;
            double v[16] = {0};
            int n = 0;
            while (n < 16) {
                double x = strtod(p, &end);
                if (end == p)
                    break;
                v[n++] = x;
                p = end;
            }
            double *dst[EV_COUNT] = {&st.ir, &st.bc, &st.bi};
            for (int e = 0; e < EV_COUNT; e++)
                if (col[e] >= 0 && col[e] < n)
                    *dst[e] = v[col[e]];
            if (d->nsites == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 256;
                struct site *ns = realloc(d->sites, cap * sizeof *ns);
                if (!ns) {
                    rc = -ENOMEM;
                    break;
                }
                d->sites = ns;
                d->cap = cap;
            }
            d->sites[d->nsites++] = st;
            continue;
        }
        if (!strncmp(line, "events:", 7)) {
            event_columns(line + 7, col);
        } else if (!strncmp(line, TRIGGER, strlen(TRIGGER))) {
            char *end;
            d->batch = strtol(line + strlen(TRIGGER), &end, 10);
            d->chunk = strtol(end, NULL, 10);
        } else if (!strncmp(line, "fn=", 3)) {
            in_sites = !strcmp(line + 3, "ab_cg_sites");
        } else if (!strncmp(line, "calls=", 6) && in_sites) {
            calls = strtoull(line + 6, NULL, 10);
            cost_next = true;
        }
    }
    free(text);
    if (!rc && col[EV_IR] < 0)
        rc = -EPROTO;
    if (rc)
        free(d->sites);
    return rc;
}

static int cmp_site(const void *a, const void *b)
{
    return ab_cmp_u64(&((const struct site *)a)->pos, &((const struct site *)b)->pos);
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

/* Put one chunk's counts into its batch: the stubs' calls in the order of
 * their sites are the chunk's calls in call order. */
static void take_dump(struct slot *s, struct dump *d)
{
    size_t first = (size_t)d->chunk * SITES;
    size_t want = s->n > first ? s->n - first : 0;
    if (want > SITES)
        want = SITES;
    qsort(d->sites, d->nsites, sizeof *d->sites, cmp_site);
    if (d->chunk < 0 || d->nsites != want) {
        s->bad = true;
        return;
    }
    for (size_t k = 0; k < d->nsites; k++) {
        if (d->sites[k].calls != 1 || (k && d->sites[k].pos == d->sites[k - 1].pos)) {
            s->bad = true;
            return;
        }
        s->ins[first + k] = (uint64_t)d->sites[k].ir;
        s->cond[first + k] = (uint64_t)d->sites[k].bc;
        s->bi += d->sites[k].bi;
    }
    s->seen += d->nsites;
}

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
            parse_dump(p, &d))
            continue;
        for (size_t i = 0; d.batch >= 0 && i < ns; i++)
            if (slots[i].index == d.batch && !slots[i].bad) {
                take_dump(&slots[i], &d);
                break;
            }
        free(d.sites);
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
        return -ENODEV;
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
    /* One file per process (a forked size is one) and per dump. */
    char outfile[PATH_MAX + 64];
    snprintf(outfile, sizeof outfile, "--callgrind-out-file=%s/callgrind.out.%%p", dir);
    const char *const wrapper[] = {"valgrind",
                                   "--quiet",
                                   "--tool=callgrind",
                                   "--collect-atstart=no",
                                   "--branch-sim=yes",
                                   "--compress-strings=no",
                                   "--compress-pos=no",
                                   "--dump-instr=yes",
                                   "--dump-line=no",
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

static void callgrind_collect(void)
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
    /* The one file in the folder: the child's, named after its pid. */
    char path[PATH_MAX + 300] = "";
    DIR *dh = opendir(dir);
    for (struct dirent *e; dh && (e = readdir(dh));)
        if (!strncmp(e->d_name, "callgrind.out.", 14))
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (dh)
        closedir(dh);
    size_t len;
    char *text = path[0] ? ab_read_file(path, 1u << 30, &len) : NULL;
    int col[EV_COUNT] = {-1, -1, -1};
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "events:", 7) && col[EV_IR] < 0) {
            event_columns(line + 7, col);
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

const struct ab_counter_child ab_counter_child_callgrind = {
    .name = "callgrind",
    .batch = callgrind_batch,
    .collect = callgrind_collect,
};

const struct ab_counter ab_counter_callgrind = {
    .name = "callgrind",
    .summary = "exact per-call counts under valgrind (instructions, conditional branches)",
    .sizes_in_one_child = true,
    .probe = callgrind_probe,
    .spawn = callgrind_spawn,
    .workload = callgrind_workload,
};

#else /* AB_HAVE_CALLGRIND_H */

const struct ab_counter_child ab_counter_child_callgrind = {.name = "callgrind"};

const struct ab_counter ab_counter_callgrind = {
    .name = "callgrind",
    .summary = "exact per-call counts under valgrind (instructions, conditional branches)",
    .unavailable = "built without valgrind/callgrind.h (Debian package valgrind; meson feature callgrind)",
};

#endif
