/*
 * merge.c — `allocbench merge`: shard reports checked to be the shards of
 * one matrix and their records put in the unsharded order (their context:
 * merge-context.c; reading them: merge-read.c).  A shard holds whole
 * configurations, so every record is taken as its shard wrote it: nothing
 * is recomputed.
 */
#include "merge.h"
#include "merge-context.h"
#include "proc.h"
#include "report.h"
#include "shard.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int refuse(enum ab_code *code, enum ab_code c, char *err, size_t errlen, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
static int refuse(enum ab_code *code, enum ab_code c, char *err, size_t errlen, const char *fmt,
                  ...)
{
    *code = c;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* ------------------------------------------------------------ the matrix */

/* One axis of the matrix: the record member named field takes one of
 * values, in the order the unsharded run takes them. */
struct axis {
    const char *field;
    const cJSON *values;
    size_t n;
};

struct shape {
    struct axis ax[4];
    size_t nax, cells;
    cJSON *names;                  /* the allocators, from context.subjects */
};

/* A record array of a command's report: sorted by repetition first (the
 * unsharded run's outer loop), and whether its records are the
 * configurations (each exactly once in the matrix). */
struct array_kind {
    const char *name;
    bool by_repetition, configures;
};

static const struct array_kind run_arrays[] = {
    {"trials", true, false}, {"aggregates", false, true},
    {"comparisons", false, false}, {"diagnostics", true, false},
};
static const struct array_kind fastpath_arrays[] = {{"rows", false, true}};
static const struct array_kind stress_arrays[] = {
    {"cases", false, true}, {"diagnostics", false, false},
};

/* The axes of a command, in the order of its loops: each a member of its
 * records and where the matrix lists its values (NULL: the allocators).
 * The records are ordered by the first `ordered` axes; within those a
 * shard's own order holds (all of one configuration is in one shard): run
 * takes its allocators in reverse in odd repetitions. */
struct command_kind {
    const char *name;
    const struct array_kind *arrays;
    size_t narrays;
    const char *fields[4], *block, *lists[4];
    size_t ordered;
    /* Members of the block that are the machine's, outside the digest:
     * "key" or "object.key". */
    const char *machine[3];
};

static const struct command_kind kinds[] = {
    {"run", run_arrays, 4, {"variant", "threads", "allocator"}, "run",
     {"variants", "threads", NULL}, 2},
    {"fastpath", fastpath_arrays, 1, {"allocator", "pattern", "size", "op"}, "config",
     {NULL, "patterns", "sizes", "ops"}, 4},
    {"stress", stress_arrays, 2, {"allocator", "case"}, "stress", {NULL, "cases"}, 2,
     {"profiles_file", "profile.threads_here"}},
};

static bool same_value(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsString(a) && cJSON_IsString(b))
        return !strcmp(a->valuestring, b->valuestring);
    return cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
}

/* More configurations than any command line makes (run: 32 variants x
 * 64 thread counts x 16 allocators). */
#define MAX_CELLS ((size_t)1 << 20)
#define MAX_VALUES 4096

/* The shape of the matrix from one shard's document, or the list that is
 * missing or malformed (a value twice, a matrix too large). */
static const char *shape_of(const struct command_kind *k, const cJSON *doc, struct shape *sh)
{
    memset(sh, 0, sizeof *sh);
    sh->names = cJSON_CreateArray();
    const cJSON *s;
    cJSON_ArrayForEach(s, get(get(doc, "context"), "subjects"))
        cJSON_AddItemToArray(sh->names, cJSON_CreateString(ab_json_str(s, "name")));
    sh->cells = 1;
    for (size_t a = 0; a < 4 && k->fields[a]; a++) {
        const cJSON *v = k->lists[a] ? get(get(doc, k->block), k->lists[a]) : sh->names;
        if (!cJSON_IsArray(v))
            return k->lists[a];
        sh->ax[a] = (struct axis){k->fields[a], v, (size_t)cJSON_GetArraySize(v)};
        const char *list = k->lists[a] ? k->lists[a] : "subjects";
        if (sh->ax[a].n > MAX_VALUES || (sh->ax[a].n && sh->cells > MAX_CELLS / sh->ax[a].n))
            return list;
        /* Each value once, a string or a number: one cell per configuration. */
        for (const cJSON *x = v->child; x; x = x->next) {
            if (!cJSON_IsString(x) && !cJSON_IsNumber(x))
                return list;
            for (const cJSON *y = v->child; y != x; y = y->next)
                if (same_value(x, y))
                    return list;
        }
        sh->cells *= sh->ax[a].n;
        sh->nax++;
    }
    return NULL;
}

/* The cell of a record (its configuration), or the axis it names a value
 * outside of. */
static const struct axis *cell_of(const struct shape *sh, const cJSON *rec, size_t *cell)
{
    *cell = 0;
    for (size_t a = 0; a < sh->nax; a++) {
        const cJSON *want = get(rec, sh->ax[a].field), *v;
        size_t i = 0;
        bool found = false;
        cJSON_ArrayForEach(v, sh->ax[a].values)
        {
            if (same_value(v, want)) {
                found = true;
                break;
            }
            i++;
        }
        if (!found)
            return &sh->ax[a];
        *cell = *cell * sh->ax[a].n + i;
    }
    return NULL;
}

/* A configuration in words: "variant loop, threads 1, allocator glibc". */
static void describe(const struct shape *sh, size_t cell, char *buf, size_t len)
{
    size_t idx[4];
    for (size_t a = sh->nax; a-- > 0;) {
        idx[a] = cell % sh->ax[a].n;
        cell /= sh->ax[a].n;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t a = 0; a < sh->nax && used < len; a++) {
        const cJSON *v = cJSON_GetArrayItem(sh->ax[a].values, (int)idx[a]);
        int w = cJSON_IsString(v)
                    ? snprintf(buf + used, len - used, "%s%s %s", a ? ", " : "", sh->ax[a].field,
                               v->valuestring)
                    : snprintf(buf + used, len - used, "%s%s %g", a ? ", " : "", sh->ax[a].field,
                               cJSON_IsNumber(v) ? v->valuedouble : NAN);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* ------------------------------------------------------------ ordering */

struct rec {
    const cJSON *item;
    double rep;
    size_t cell, seq;
};

static int by_order(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->rep != y->rep)
        return x->rep < y->rep ? -1 : 1;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One array of the merged report: every shard's records, in the order of
 * the unsharded run (ties keep the shard's own order); NULL when out of
 * memory or a record is outside the matrix (err says which). */
static cJSON *merged_array(const struct array_kind *ak, const struct shape *sh, size_t ordered,
                           const cJSON *const *docs, const char *const *paths, size_t n,
                           enum ab_code *code, char *err, size_t errlen)
{
    size_t inner = 1;                 /* cells per value of the ordered axes */
    for (size_t a = ordered; a < sh->nax; a++)
        inner *= sh->ax[a].n ? sh->ax[a].n : 1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)cJSON_GetArraySize(get(docs[i], ak->name));
    struct rec *r = malloc((total ? total : 1) * sizeof *r);
    if (!r) {
        refuse(code, AB_ALLOCBENCH_INTERNAL, err, errlen, "out of memory");
        return NULL;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *rec;
        int j = 0;
        cJSON_ArrayForEach(rec, get(docs[i], ak->name))
        {
            size_t cell;
            const struct axis *bad = cell_of(sh, rec, &cell);
            if (bad) {
                const cJSON *v = get(rec, bad->field);
                char *text = v ? cJSON_PrintUnformatted(v) : NULL;
                refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                       "%s: %s[%d]: %s %.64s is not in the matrix it claims", paths[i],
                       ak->name, j, bad->field, text ? text : "(missing)");
                free(text);
                free(r);
                return NULL;
            }
            r[m] = (struct rec){rec, ak->by_repetition ? ab_json_num(rec, "repetition", 0) : 0,
                                cell / inner, m};
            m++;
            j++;
        }
    }
    qsort(r, m, sizeof *r, by_order);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < m; i++)
        cJSON_AddItemToArray(arr, cJSON_Duplicate(r[i].item, true));
    free(r);
    if (!arr)
        refuse(code, AB_ALLOCBENCH_INTERNAL, err, errlen, "out of memory");
    return arr;
}

/* ---------------------------------------------------------------- merge */

static bool shard_of(const cJSON *doc, unsigned *index, unsigned *count)
{
    const cJSON *s = get(doc, "shard");
    double i = ab_json_num(s, "index", -1), c = ab_json_num(s, "count", -1);
    if (!cJSON_IsObject(s) || c < 1 || c > AB_SHARD_MAX || c != floor(c) || i < 0 || i >= c ||
        i != floor(i))
        return false;
    *index = (unsigned)i;
    *count = (unsigned)c;
    return true;
}

/* Whether two reports' blocks of the matrix are the same, but for what is
 * the machine's. */
static bool same_block(const struct command_kind *k, const cJSON *a, const cJSON *b)
{
    cJSON *x = cJSON_Duplicate(get(a, k->block), true);
    cJSON *y = cJSON_Duplicate(get(b, k->block), true);
    cJSON *both[2] = {x, y};
    for (int i = 0; i < 2; i++)
        for (size_t m = 0; m < sizeof k->machine / sizeof k->machine[0] && k->machine[m]; m++) {
            char key[64];
            ab_strlcpy(key, k->machine[m], sizeof key);
            char *dot = strchr(key, '.');
            cJSON *o = both[i];
            if (dot) {
                *dot = '\0';
                o = cJSON_GetObjectItemCaseSensitive(o, key);
            }
            cJSON_DeleteItemFromObjectCaseSensitive(o, dot ? dot + 1 : key);
        }
    bool same = x && y && cJSON_Compare(x, y, true);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return same;
}

/* Whether two reports name the same allocators in the same order. */
static bool same_names(const cJSON *a, const cJSON *b)
{
    const cJSON *x = get(get(a, "context"), "subjects")->child;
    const cJSON *y = get(get(b, "context"), "subjects")->child;
    for (; x && y; x = x->next, y = y->next)
        if (strcmp(ab_json_str(x, "name"), ab_json_str(y, "name")))
            return false;
    return !x && !y;
}

static void build_text(const cJSON *doc, char *buf, size_t len)
{
    const cJSON *ab = get(get(doc, "context"), "allocbench");
    const char *rev = ab_json_str(ab, "git_revision");
    snprintf(buf, len, "allocbench %s (revision %s, %s build)", ab_json_str(ab, "version"),
             *rev ? rev : "unknown", ab_json_str(ab, "build_type"));
}

/* The failures the command unsharded exits 1 for. */
static unsigned count_failures(const char *command, const cJSON *m)
{
    unsigned f = 0;
    const cJSON *r;
    if (!strcmp(command, "fastpath"))
        return (unsigned)ab_json_num(m, "failures", 0);
    if (!strcmp(command, "run")) {
        cJSON_ArrayForEach(r, get(m, "trials"))
        {
            const char *st = ab_json_str(r, "status");
            f += !strcmp(st, "crashed") || !strcmp(st, "timeout") || !strcmp(st, "failed");
        }
        return f;
    }
    cJSON_ArrayForEach(r, get(m, "cases"))
    {
        const char *v = ab_json_str(r, "verdict");
        f += strcmp(v, "pass") && strcmp(v, "not-applicable");
    }
    return f;
}

/* A configuration found in report b that report a holds already. */
static int twice(cJSON *const *docs, const char *const *paths, size_t a, size_t b,
                 const char *what, enum ab_code *code, char *err, size_t errlen)
{
    unsigned ia, ca, ib, cb;
    shard_of(docs[a], &ia, &ca);
    shard_of(docs[b], &ib, &cb);
    if (a == b)
        return refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                      "%s holds configuration (%s) twice", paths[b], what);
    if (ia == ib)
        return refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                      "shard %u/%u is given twice (%s and %s)", ib, cb, paths[a], paths[b]);
    return refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                  "configuration (%s) is in %s (shard %u/%u) and in %s (shard %u/%u): each "
                  "configuration in one shard only",
                  what, paths[a], ia, ca, paths[b], ib, cb);
}

int ab_merge_doc(cJSON *const *docs_in, const char *const *paths_in, size_t n,
                 const struct ab_observer *obs, cJSON **out, unsigned *failures,
                 enum ab_code *code, char *err, size_t errlen)
{
    *out = NULL;
    *failures = 0;
    *code = AB_ALLOCBENCH_INTERNAL;
    if (!n)
        return refuse(code, AB_ALLOCBENCH_USAGE, err, errlen, "no shard to merge");
    const char *command = ab_json_str(docs_in[0], "command");
    const struct command_kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, command))
            k = &kinds[i];
    if (!k)
        return refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                      "%s: a report of allocbench %.32s: merge joins shards of run, fastpath or "
                      "stress", paths_in[0], command);

    /* Every report a shard of the same command, build, matrix and split. */
    unsigned count0 = 0, index0 = 0;
    char b0[256], bi[256];
    build_text(docs_in[0], b0, sizeof b0);
    const char *digest0 = ab_json_str(docs_in[0], "matrix_digest");
    for (size_t i = 0; i < n; i++) {
        const cJSON *d = docs_in[i];
        unsigned index, count;
        if (strcmp(ab_json_str(d, "command"), command))
            return refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                          "%s is a report of allocbench %.32s, %s one of %s: shards of one "
                          "command only", paths_in[i], ab_json_str(d, "command"), paths_in[0],
                          command);
        if (!shard_of(d, &index, &count))
            return refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                          "%s: not a shard (no \"shard\" with its index and count: its %s had no "
                          "--shard K/N)", paths_in[i], command);
        if (i == 0) {
            index0 = index;
            count0 = count;
        }
        build_text(d, bi, sizeof bi);
        if (strcmp(b0, bi))
            return refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                          "%s was written by %s, %s by %s: shards of one build only",
                          paths_in[i], bi, paths_in[0], b0);
        const char *digest = ab_json_str(d, "matrix_digest");
        if (!*digest)
            return refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                          "%s: no matrix_digest", paths_in[i]);
        if (strcmp(digest, digest0))
            return refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                          "%s is of another matrix than %s (matrix_digest %.20s... against "
                          "%.20s...): other options, allocators or counter",
                          paths_in[i], paths_in[0], digest, digest0);
        /* The digest names the matrix; its lists, as the shards give them,
         * must be the same too (a report edited, or cut from another). */
        if (!same_block(k, d, docs_in[0]) || !same_names(d, docs_in[0]))
            return refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                          "%s is of another matrix than %s (its %s block or its allocators "
                          "differ under one matrix_digest)", paths_in[i], paths_in[0], k->block);
        if (count != count0)
            return refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                          "%s is shard %u/%u, %s is %u/%u: shards of one split only",
                          paths_in[i], index, count, paths_in[0], index0, count0);
    }

    struct shape sh;
    const char *missing = shape_of(k, docs_in[0], &sh);
    if (missing) {
        cJSON_Delete(sh.names);
        return refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                      "%s: %s.%s is missing or malformed", paths_in[0],
                      strcmp(missing, "subjects") ? k->block : "context", missing);
    }
    int rc = 0;
    long *owner = malloc((sh.cells ? sh.cells : 1) * sizeof *owner);
    size_t *given = calloc(count0, sizeof *given); /* doc + 1 per shard index */
    const cJSON **docs = malloc(n * sizeof *docs);
    const char **paths = malloc(n * sizeof *paths);
    unsigned *shards = malloc(n * sizeof *shards);
    cJSON *m = NULL;
    if (!owner || !given || !docs || !paths || !shards) {
        rc = refuse(code, AB_ALLOCBENCH_INTERNAL, err, errlen, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < sh.cells; c++)
        owner[c] = -1;

    /* Each configuration in one shard only. */
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned index, count;
        shard_of(docs_in[i], &index, &count);
        for (size_t a = 0; a < k->narrays && !rc; a++) {
            if (!k->arrays[a].configures)
                continue;
            const cJSON *rec;
            cJSON_ArrayForEach(rec, get(docs_in[i], k->arrays[a].name))
            {
                size_t cell;
                const struct axis *bad = cell_of(&sh, rec, &cell);
                char what[512];
                if (bad) {
                    rc = refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                                "%s: a record of %s names a %s that is not in the matrix",
                                paths_in[i], k->arrays[a].name, bad->field);
                    break;
                }
                if (owner[cell] >= 0) {
                    describe(&sh, cell, what, sizeof what);
                    rc = twice(docs_in, paths_in, (size_t)owner[cell], i, what, code, err,
                               errlen);
                    break;
                }
                owner[cell] = (long)i;
            }
        }
        if (!rc && given[index])
            rc = refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                        "shard %u/%u is given twice (%s and %s)", index, count,
                        paths_in[given[index] - 1], paths_in[i]);
        given[index] = i + 1;
    }
    /* Every shard, and every configuration of the matrix, there. */
    size_t have = 0;
    for (unsigned s = 0; s < count0 && !rc; s++)
        have += given[s] != 0;
    for (unsigned s = 0; s < count0 && !rc; s++)
        if (!given[s])
            rc = refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                        "shard %u/%u is missing (%zu of the %u shards given)", s, count0, have,
                        count0);
    for (size_t c = 0; c < sh.cells && !rc; c++)
        if (owner[c] < 0) {
            char what[512];
            describe(&sh, c, what, sizeof what);
            rc = refuse(code, AB_ALLOCBENCH_MERGE_MISMATCH, err, errlen,
                        "configuration (%s) is in no shard: a report cut short?", what);
        }
    /* Every other record (trials, comparisons, diagnostics) of a
     * configuration its own shard holds: none is taken twice. */
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t a = 0; a < k->narrays && !rc; a++) {
            if (k->arrays[a].configures)
                continue;
            const cJSON *rec;
            int j = 0;
            cJSON_ArrayForEach(rec, get(docs_in[i], k->arrays[a].name))
            {
                size_t cell;
                const struct axis *bad = cell_of(&sh, rec, &cell);
                if (bad) {
                    rc = refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                                "%s: %s[%d]: its %s is not in the matrix", paths_in[i],
                                k->arrays[a].name, j, bad->field);
                    break;
                }
                if (owner[cell] != (long)i) {
                    char what[512];
                    describe(&sh, cell, what, sizeof what);
                    rc = refuse(code, AB_ALLOCBENCH_BAD_INPUT, err, errlen,
                                "%s: %s[%d] is of configuration (%s), which this shard does "
                                "not hold", paths_in[i], k->arrays[a].name, j, what);
                    break;
                }
                j++;
            }
        }
    if (rc)
        goto done;

    /* In shard order: the first shard's document is the frame. */
    for (unsigned s = 0, j = 0; s < count0; s++) {
        docs[j] = docs_in[given[s] - 1];
        paths[j] = paths_in[given[s] - 1];
        shards[j++] = s;
    }
    m = cJSON_Duplicate(docs[0], true);
    cJSON *ctx = m ? ab_merge_context(docs, shards, n, obs) : NULL;
    if (!m || !ctx) {
        cJSON_Delete(ctx);
        rc = refuse(code, AB_ALLOCBENCH_INTERNAL, err, errlen, "out of memory");
        goto done;
    }
    ab_merge_put(m, "context", ctx);
    for (size_t a = 0; a < k->narrays; a++) {
        cJSON *arr = merged_array(&k->arrays[a], &sh, k->ordered, docs, paths, n, code, err,
                                  errlen);
        if (!arr) {
            rc = -EINVAL;
            goto done;
        }
        ab_merge_put(m, k->arrays[a].name, arr);
    }
    ab_merge_put(m, "shard", cJSON_CreateNull());
    if (get(m, "failures")) {
        double f = 0;
        for (size_t i = 0; i < n; i++)
            f += ab_json_num(docs[i], "failures", 0);
        ab_merge_put(m, "failures", cJSON_CreateNumber(f));
    }
    *failures = count_failures(command, m);
done:
    cJSON_Delete(sh.names);
    free(owner);
    free(given);
    free(docs);
    free(paths);
    free(shards);
    if (rc) {
        cJSON_Delete(m);
        return rc;
    }
    *out = m;
    return 0;
}
