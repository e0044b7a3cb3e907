/*
 * budget.c — fast-path budgets as data (results/budgets/size-classes.tsv),
 * the check of fast-path reports against them, and budgets made from
 * reports (`allocbench budgets`).
 *
 * The file: a header row naming its columns, then one budget per line.
 * Required: allocator, op, size, max_instructions, max_branches.  Optional:
 * pattern (pairs or batch; a file without the column is about pairs),
 * counter (the backend the budget was measured with; without it any
 * counter is accepted), allocator_version (a report of another version
 * gets a warning), max_slow_path_share.  `*` in allocator or size makes a
 * default row; the most specific row wins (allocator and size, then
 * allocator, then size, then neither).  An empty ceiling is no ceiling for
 * that figure.
 *
 * The gate fails safe: a budget row that no report row matches, a ceiling
 * on a figure the report does not have, a budget measured with another
 * counter, and a check that checked no row at all each fail it.
 */
#include "fastpath.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { COL_ALLOCATOR, COL_OP, COL_SIZE, COL_PATTERN, COL_COUNTER, COL_VERSION, COL_MAX_INS,
       COL_MAX_BR, COL_MAX_SHARE, COL_COUNT };

static const char *const col_names[COL_COUNT] = {
    "allocator", "op", "size", "pattern", "counter", "allocator_version", "max_instructions",
    "max_branches", "max_slow_path_share"};
static const bool col_required[COL_COUNT] = {true, true, true, false, false, false,
                                             true, true, false};

/* A count in a report is at most COUNT_MAX; a ceiling may be one raised by
 * the largest headroom `budgets` takes (1000 percent), so that a file it
 * writes is one this parser reads. */
#define COUNT_MAX 1e15
#define CEILING_MAX (COUNT_MAX * 11)

static int bad(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "%s:%u: ", path, line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Split a line on tabs in place; returns the number of fields. */
static size_t split_tabs(char *line, char **f, size_t max)
{
    size_t n = 0;
    for (char *p = line;; p++) {
        if (n < max)
            f[n] = p;
        n++;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p = '\0';
    }
    return n;
}

static int ceiling(const char *s, double max, double *out)
{
    if (!*s) {
        *out = NAN;
        return 0;
    }
    return ab_parse_double(s, 0, max, out);
}

/* ------------------------------------------------------------ the hash */

static uint64_t key_hash(const char *allocator, enum ab_fp_op op, bool any_size, uint64_t size,
                         enum ab_fp_pattern pattern)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = allocator; *c; c++)
        h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    uint64_t parts[4] = {(uint64_t)op, any_size, any_size ? 0 : size, (uint64_t)pattern};
    for (int i = 0; i < 4; i++)
        h = (h ^ parts[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static bool key_is(const struct ab_budget *x, const char *allocator, enum ab_fp_op op,
                   bool any_size, uint64_t size, enum ab_fp_pattern pattern)
{
    return x->op == op && x->pattern == pattern && x->any_size == any_size &&
           (any_size || x->size == size) && !strcmp(x->allocator, allocator);
}

/* The budget of exactly this key, or NULL. */
static const struct ab_budget *lookup(const struct ab_budgets *b, const char *allocator,
                                      enum ab_fp_op op, bool any_size, uint64_t size,
                                      enum ab_fp_pattern pattern)
{
    if (!b->nslots)
        return NULL;
    size_t mask = b->nslots - 1;
    for (size_t h = key_hash(allocator, op, any_size, size, pattern) & mask;; h = (h + 1) & mask) {
        if (b->slot[h] == SIZE_MAX)
            return NULL;
        const struct ab_budget *x = &b->b[b->slot[h]];
        if (key_is(x, allocator, op, any_size, size, pattern))
            return x;
    }
}

static int index_all(struct ab_budgets *b, char *err, size_t errlen)
{
    size_t n = 16;
    while (n < 2 * b->n)
        n *= 2;
    b->slot = malloc(n * sizeof *b->slot);
    if (!b->slot)
        return -ENOMEM;
    b->nslots = n;
    for (size_t i = 0; i < n; i++)
        b->slot[i] = SIZE_MAX;
    for (size_t i = 0; i < b->n; i++) {
        const struct ab_budget *x = &b->b[i];
        const struct ab_budget *o =
            lookup(b, x->allocator, x->op, x->any_size, x->size, x->pattern);
        if (o)
            return bad(err, errlen, b->path, x->line, "the same budget as line %u", o->line);
        size_t h = key_hash(x->allocator, x->op, x->any_size, x->size, x->pattern) & (n - 1);
        while (b->slot[h] != SIZE_MAX)
            h = (h + 1) & (n - 1);
        b->slot[h] = i;
    }
    return 0;
}

/* ----------------------------------------------------------- the file */

static int parse_row(struct ab_budgets *out, char **f, const int *col, unsigned lineno,
                     struct ab_budget *b, char *err, size_t errlen)
{
    const char *path = out->path;
    memset(b, 0, sizeof *b);
    b->line = lineno;
    const char *a = f[col[COL_ALLOCATOR]], *op = f[col[COL_OP]], *sz = f[col[COL_SIZE]];
    if (!*a || strlen(a) >= sizeof b->allocator || strchr(a, ' '))
        return bad(err, errlen, path, lineno, "allocator '%s': a name or *", a);
    ab_strlcpy(b->allocator, a, sizeof b->allocator);
    int o = ab_fp_op_parse(op);
    if (o < 0)
        return bad(err, errlen, path, lineno,
                   "op '%s': one of malloc, free, calloc, realloc, aligned", op);
    b->op = (enum ab_fp_op)o;
    if (!strcmp(sz, "*"))
        b->any_size = true;
    else if (ab_parse_u64(sz, 1, 1ull << 30, false, &b->size))
        return bad(err, errlen, path, lineno, "size '%s': bytes in [1, 1073741824] or *", sz);
    b->pattern = AB_FP_PAIRS;
    if (col[COL_PATTERN] >= 0) {
        int p = ab_fp_pattern_parse(f[col[COL_PATTERN]]);
        if (p < 0)
            return bad(err, errlen, path, lineno, "pattern '%s': pairs or batch",
                       f[col[COL_PATTERN]]);
        b->pattern = (enum ab_fp_pattern)p;
    }
    if (col[COL_COUNTER] >= 0) {
        const char *c = f[col[COL_COUNTER]];
        if (strlen(c) >= sizeof b->counter || strchr(c, ' '))
            return bad(err, errlen, path, lineno, "counter '%s': a backend name or empty", c);
        ab_strlcpy(b->counter, c, sizeof b->counter);
    }
    if (col[COL_VERSION] >= 0) {
        const char *v = f[col[COL_VERSION]];
        if (strlen(v) >= sizeof b->version)
            return bad(err, errlen, path, lineno, "allocator_version: longer than %zu bytes",
                       sizeof b->version - 1);
        ab_strlcpy(b->version, v, sizeof b->version);
    }
    if (ceiling(f[col[COL_MAX_INS]], CEILING_MAX, &b->max_instructions))
        return bad(err, errlen, path, lineno, "max_instructions '%s': a count >= 0 or empty",
                   f[col[COL_MAX_INS]]);
    if (ceiling(f[col[COL_MAX_BR]], CEILING_MAX, &b->max_branches))
        return bad(err, errlen, path, lineno, "max_branches '%s': a count >= 0 or empty",
                   f[col[COL_MAX_BR]]);
    b->max_slow_path_share = NAN;
    if (col[COL_MAX_SHARE] >= 0 && ceiling(f[col[COL_MAX_SHARE]], 1, &b->max_slow_path_share))
        return bad(err, errlen, path, lineno,
                   "max_slow_path_share '%s': a share in [0, 1] or empty", f[col[COL_MAX_SHARE]]);
    if (isnan(b->max_instructions) && isnan(b->max_branches) && isnan(b->max_slow_path_share))
        return bad(err, errlen, path, lineno, "no ceiling on this line");
    return 0;
}

int ab_budgets_load(const char *path, struct ab_budgets *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = ab_read_file(path, 64u << 20, &len);
    if (!text) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: cannot be read: %s", path, strerror(e));
        return -e;
    }
    int rc = ab_budgets_parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

int ab_budgets_parse(const char *path, const char *data, size_t len, struct ab_budgets *out,
                     char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    ab_strlcpy(out->path, path, sizeof out->path);
    char *text = malloc(len + 1);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        return bad(err, errlen, path, 1, "not a text file (NUL byte)");
    }
    int col[COL_COUNT];
    for (int i = 0; i < COL_COUNT; i++)
        col[i] = -1;
    size_t ncols = 0, cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    char *next = text;
    for (char *line = next; line && !rc; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        else if (!*line)
            break; /* the end after a final newline */
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        char *f[COL_COUNT + 1];
        size_t nf = split_tabs(line, f, COL_COUNT + 1);
        if (lineno == 1) {
            if (nf > COL_COUNT) {
                rc = bad(err, errlen, path, 1, "too many columns in the header");
                break;
            }
            for (size_t i = 0; i < nf && !rc; i++) {
                int k = -1;
                for (int c = 0; c < COL_COUNT; c++)
                    if (!strcmp(f[i], col_names[c]))
                        k = c;
                if (k < 0)
                    rc = bad(err, errlen, path, 1,
                             "unknown column '%s' (expected allocator, op, size, [pattern, "
                             "counter, allocator_version,] max_instructions, max_branches[, "
                             "max_slow_path_share])",
                             f[i]);
                else if (col[k] >= 0)
                    rc = bad(err, errlen, path, 1, "column '%s' twice", f[i]);
                else
                    col[k] = (int)i;
            }
            for (int c = 0; c < COL_COUNT && !rc; c++)
                if (col_required[c] && col[c] < 0)
                    rc = bad(err, errlen, path, 1, "the header has no '%s' column",
                             col_names[c]);
            ncols = nf;
            continue;
        }
        if (!l) {
            rc = bad(err, errlen, path, lineno, "empty line");
            break;
        }
        if (nf != ncols) {
            rc = bad(err, errlen, path, lineno, "%zu fields, the header has %zu", nf, ncols);
            break;
        }
        struct ab_budget b;
        if ((rc = parse_row(out, f, col, lineno, &b, err, errlen)))
            break;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            struct ab_budget *nb = realloc(out->b, cap * sizeof *nb);
            if (!nb) {
                rc = -ENOMEM;
                snprintf(err, errlen, "%s: out of memory", path);
                break;
            }
            out->b = nb;
        }
        out->b[out->n++] = b;
    }
    if (!rc && lineno == 0)
        rc = bad(err, errlen, path, 1, "empty file (a header row is needed)");
    free(text);
    if (!rc && (rc = index_all(out, err, errlen)) == -ENOMEM)
        snprintf(err, errlen, "%s: out of memory", path);
    if (rc)
        ab_budgets_free(out);
    return rc;
}

void ab_budgets_free(struct ab_budgets *b)
{
    free(b->b);
    free(b->slot);
    b->b = NULL;
    b->slot = NULL;
    b->n = b->nslots = 0;
}

const struct ab_budget *ab_budget_find(const struct ab_budgets *b, const char *allocator,
                                       enum ab_fp_op op, uint64_t size,
                                       enum ab_fp_pattern pattern)
{
    const struct ab_budget *x;
    if ((x = lookup(b, allocator, op, false, size, pattern)) ||
        (x = lookup(b, allocator, op, true, 0, pattern)) ||
        (x = lookup(b, "*", op, false, size, pattern)))
        return x;
    return lookup(b, "*", op, true, 0, pattern);
}

/* ---------------------------------------------------- reading reports */

static int reject(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int reject(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "%s: ", path);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EPROTO;
}

/* A count in a report: null, or an integer in [0, COUNT_MAX]. */
static bool count_ok(const cJSON *v)
{
    return cJSON_IsNull(v) || (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
                               v->valuedouble >= 0 && v->valuedouble <= COUNT_MAX &&
                               v->valuedouble == floor(v->valuedouble));
}

/* Under max bytes; with name, no space, tab, line break or other control
 * character either (what a name in the budget file may not hold). */
static bool text_ok(const char *s, size_t max, bool name)
{
    if (strlen(s) >= max)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f || (name && *c == ' '))
            return false;
    return true;
}

static const char *check_row(const cJSON *row)
{
    static const char *const strings[] = {"allocator", "op", "pattern", "status", "counter"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(row, strings[i])))
            return strings[i];
    /* No longer than a subject's name, or than struct ab_budget keeps the
     * counter and the version; * is the budget file's, never a name. */
    const char *a = ab_json_str(row, "allocator"), *counter = ab_json_str(row, "counter");
    if (!*a || strlen(a) >= AB_NAME_MAX || !strcmp(a, "*"))
        return "allocator";
    if (!*counter || !text_ok(counter, 32, true))
        return "counter";
    if (ab_fp_op_parse(ab_json_str(row, "op")) < 0)
        return "op";
    if (ab_fp_pattern_parse(ab_json_str(row, "pattern")) < 0)
        return "pattern";
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(row, "size");
    if (!cJSON_IsNumber(size) || !count_ok(size) || size->valuedouble < 1 ||
        size->valuedouble > (double)(1ull << 30))
        return "size";
    static const char *const figs[] = {"instructions", "branches", "conditional"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, figs[i]);
        if (!cJSON_IsObject(d) || !count_ok(cJSON_GetObjectItemCaseSensitive(d, "p50")))
            return figs[i];
    }
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(row, "slow_path_share");
    if (!cJSON_IsNull(sh) &&
        !(cJSON_IsNumber(sh) && sh->valuedouble >= 0 && sh->valuedouble <= 1))
        return "slow_path_share";
    const cJSON *ag = cJSON_GetObjectItemCaseSensitive(row, "repetitions_agree");
    if (!cJSON_IsNull(ag) && !cJSON_IsBool(ag))
        return "repetitions_agree";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "allocator_version");
    if (!cJSON_IsNull(v) && !(cJSON_IsString(v) && strlen(v->valuestring) < 128))
        return "allocator_version";
    return NULL;
}

int ab_fp_report_read(const char *arg, cJSON **out, char *err, size_t errlen)
{
    return ab_report_read(arg, ab_fp_report_parse, out, err, errlen);
}

int ab_fp_report_parse(const char *path, const char *text, size_t len, cJSON **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    char why[128];
    cJSON *doc = ab_json_parse_strict(text, len, why, sizeof why);
    if (!doc)
        return reject(err, errlen, path, "%s", why);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "schema_version");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "rows");
    int rc = 0;
    if (!cJSON_IsObject(doc) || !cJSON_IsString(schema) ||
        strcmp(schema->valuestring, AB_FP_SCHEMA)) {
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(doc, "command");
        rc = reject(err, errlen, path, "not a fast-path report (schema %s%s%s, expected %s)",
                    cJSON_IsString(schema) ? schema->valuestring : "missing",
                    cJSON_IsString(cmd) ? "; written by allocbench " : "",
                    cJSON_IsString(cmd) ? cmd->valuestring : "", AB_FP_SCHEMA);
    } else if (!cJSON_IsNumber(ver) || ver->valuedouble != AB_FP_SCHEMA_VERSION) {
        rc = reject(err, errlen, path,
                    "fast-path report of schema version %g, this allocbench reads %d%s",
                    cJSON_IsNumber(ver) ? ver->valuedouble : -1.0, AB_FP_SCHEMA_VERSION,
                    cJSON_IsNumber(ver) && ver->valuedouble < AB_FP_SCHEMA_VERSION
                        ? " (its rows are not the pairs fast path: count again)"
                        : "");
    } else if (!cJSON_IsArray(rows)) {
        rc = reject(err, errlen, path, "the report has no rows");
    } else {
        int i = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, rows)
        {
            const char *what = cJSON_IsObject(row) ? check_row(row) : "the row";
            if (what) {
                rc = reject(err, errlen, path, "row %d: %s is missing or malformed", i + 1, what);
                break;
            }
            i++;
        }
    }
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* ------------------------------------------------------------ the check */

static double fig(const cJSON *row, const char *name)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "p50");
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Counts print as integers, a fractional ceiling as given. */
static void fmt(char *buf, size_t len, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%g", v);
}

/* The report row a line is about: allocator, op, size and pattern. */
struct where {
    const char *allocator, *op, *pattern;
    unsigned long long size;
};

static bool over(FILE *out, const struct where *w, const char *what, double got, double max)
{
    if (isnan(max) || isnan(got) || got <= max)
        return false;
    char g[32], m[32];
    if (!strcmp(what, "slow_path_share")) {
        snprintf(g, sizeof g, "%.6g", got);
        snprintf(m, sizeof m, "%.6g", max);
    } else {
        fmt(g, sizeof g, got);
        fmt(m, sizeof m, max);
    }
    fprintf(out, "%s %s %s size=%llu pattern=%s %s=%s budget=%s\n",
            ab_code_name(AB_ALLOCATOR_FAST_PATH_BUDGET), w->allocator, w->op, w->size,
            w->pattern, what, g, m);
    return true;
}

int ab_gate_begin(struct ab_gate *c, const struct ab_budgets *b, FILE *out, FILE *warn)
{
    memset(c, 0, sizeof *c);
    c->budgets = b;
    c->out = out;
    c->warn = warn;
    c->used = calloc(b->n ? b->n : 1, sizeof *c->used);
    return c->used ? 0 : -ENOMEM;
}

int ab_gate_begin_recorded(struct ab_gate *c, const struct ab_budgets *b, FILE *out, FILE *warn)
{
    if (ab_gate_begin(c, b, out, warn))
        return -ENOMEM;
    c->verdicts = cJSON_CreateArray();
    c->budget_findings = cJSON_CreateArray();
    if (!c->verdicts || !c->budget_findings) {
        ab_gate_end(c);
        return -ENOMEM;
    }
    return 0;
}

void ab_gate_end(struct ab_gate *c)
{
    free(c->used);
    c->used = NULL;
    cJSON_Delete(c->verdicts);
    cJSON_Delete(c->budget_findings);
    c->verdicts = c->budget_findings = NULL;
}

/* A ceiling the report cannot be held to: the figure was not counted. */
static bool missing(struct ab_gate *c, const struct where *w, const struct ab_budget *bg,
                    const char *what, double ceiling_v, double got, const char *counter)
{
    if (isnan(ceiling_v) || !isnan(got))
        return false;
    fprintf(c->out, "%s %s %s size=%llu pattern=%s %s: the budget (line %u) has a ceiling, "
            "the report has no %s (counted with %s)\n",
            ab_code_name(AB_ALLOCBENCH_BUDGET_FIGURE), w->allocator, w->op, w->size,
            w->pattern, what, bg->line, what, counter);
    return true;
}

/* One warning per allocator (the first pair of versions that differ). */
static void version_warning(struct ab_gate *c, const char *allocator, const char *want,
                            const char *got, unsigned line)
{
    for (unsigned i = 0; i < c->nwarned; i++)
        if (!strcmp(c->warned[i], allocator))
            return;
    if (c->nwarned < AB_GATE_WARN_MAX)
        ab_strlcpy(c->warned[c->nwarned++], allocator, sizeof c->warned[0]);
    c->version_warnings++;
    fprintf(c->warn, "allocbench: warning: %s is version %s in the report, its budgets "
            "(from line %u) were set on version %s (%s)\n",
            allocator, got, line, want, ab_code_name(AB_ALLOCBENCH_BUDGET_VERSION));
}

/* Recorded checks (ab_gate_begin_recorded): a report row's verdict with its
 * lines; a budget row that matched nothing (x), or, with x NULL, that
 * nothing was checked.  check --format json|junit renders them
 * (gate-verdict.c). */
static void gate_record(struct ab_gate *c, const cJSON *row, const char *verdict,
                        const char *lines)
{
    cJSON *o = cJSON_CreateObject(), *l = cJSON_CreateArray();
    if (!o || !l || !cJSON_AddItemToArray(c->verdicts, o)) {
        cJSON_Delete(o);
        cJSON_Delete(l);
        c->oom = true;
        return;
    }
    bool ok = cJSON_AddStringToObject(o, "allocator", ab_json_str(row, "allocator")) &&
              cJSON_AddStringToObject(o, "op", ab_json_str(row, "op")) &&
              cJSON_AddNumberToObject(o, "size", ab_json_num(row, "size", 0)) &&
              cJSON_AddStringToObject(o, "pattern", ab_json_str(row, "pattern")) &&
              cJSON_AddStringToObject(o, "verdict", verdict);
    ok = cJSON_AddItemToObject(o, "lines", l) && ok;
    for (const char *p = lines; ok && *p;) {
        size_t n = strcspn(p, "\n");
        char *one = strndup(p, n);
        cJSON *s = one ? cJSON_CreateString(one) : NULL;
        free(one);
        ok = s && cJSON_AddItemToArray(l, s);
        if (!ok)
            cJSON_Delete(s);
        p += n + (p[n] == '\n');
    }
    if (!ok)
        c->oom = true;
}

static void gate_record_budget(struct ab_gate *c, const struct ab_budget *x, const char *size,
                           const char *line)
{
    if (!c->budget_findings)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(c->budget_findings, o)) {
        cJSON_Delete(o);
        c->oom = true;
        return;
    }
    bool ok;
    if (x) {
        ok = cJSON_AddStringToObject(o, "code", ab_code_name(AB_ALLOCBENCH_BUDGET_UNMATCHED)) &&
             cJSON_AddNumberToObject(o, "line", x->line) &&
             cJSON_AddStringToObject(o, "allocator", x->allocator) &&
             cJSON_AddStringToObject(o, "op", ab_fp_op_name(x->op)) &&
             cJSON_AddStringToObject(o, "size", size) &&
             cJSON_AddStringToObject(o, "pattern", ab_fp_pattern_name(x->pattern)) &&
             cJSON_AddStringToObject(o, "text", line);
    } else {
        char t[128];
        snprintf(t, sizeof t, "%s no report row was checked against a budget",
                 ab_code_name(AB_ALLOCBENCH_BUDGET_NOTHING_CHECKED));
        ok = cJSON_AddStringToObject(o, "code",
                                     ab_code_name(AB_ALLOCBENCH_BUDGET_NOTHING_CHECKED)) &&
             cJSON_AddStringToObject(o, "text", t);
    }
    if (!ok)
        c->oom = true;
}

/* One report row against its budget: its lines on c->out, and its
 * verdict (the names of the check's JSON and JUnit outputs). */
static const char *gate_row(struct ab_gate *c, const cJSON *row)
{
    FILE *out = c->out;
    {
        struct where w = {ab_json_str(row, "allocator"), ab_json_str(row, "op"),
                          ab_json_str(row, "pattern"),
                          (unsigned long long)ab_json_num(row, "size", 0)};
        const char *st = ab_json_str(row, "status");
        const char *counter = ab_json_str(row, "counter");
        c->rows++;
        const struct ab_budget *bg =
            ab_budget_find(c->budgets, w.allocator, (enum ab_fp_op)ab_fp_op_parse(w.op), w.size,
                           (enum ab_fp_pattern)ab_fp_pattern_parse(w.pattern));
        if (bg)
            c->used[bg - c->budgets->b] = true;
        const char *reason = ab_json_str(row, "reason");
        if (!strcmp(st, "unavailable")) {
            c->unavailable++;
            fprintf(out, "UNAVAILABLE %s %s size=%llu pattern=%s: %s\n", w.allocator, w.op,
                    w.size, w.pattern, reason);
            return "unavailable";
        }
        const cJSON *agree = cJSON_GetObjectItemCaseSensitive(row, "repetitions_agree");
        double ins = fig(row, "instructions");
        double br = fig(row, "branches");
        double share = ab_json_num(row, "slow_path_share", NAN);
        if (strcmp(st, "ok") || isnan(ins) || !cJSON_IsTrue(agree)) {
            c->unmeasured++;
            fprintf(out, "%s %s %s size=%llu pattern=%s not measured: %s\n",
                    ab_code_name(AB_ALLOCBENCH_TRIAL_FAILED), w.allocator, w.op, w.size,
                    w.pattern,
                    !strcmp(st, "ok") && !cJSON_IsTrue(agree) ? "the repetitions disagree"
                                                               : (*reason ? reason : st));
            return "not-measured";
        }
        if (!bg) {
            c->unchecked++;
            fprintf(out, "UNCHECKED %s %s size=%llu pattern=%s no budget\n", w.allocator, w.op,
                    w.size, w.pattern);
            return "unchecked";
        }
        if (bg->counter[0] && strcmp(bg->counter, counter)) {
            /* callgrind counts a locked read-modify-write as a conditional
             * branch and a rep string instruction once per iteration:
             * counts of two backends are not the same figure. */
            c->counter_mismatch++;
            fprintf(out, "%s %s %s size=%llu pattern=%s budget counter=%s (line %u) "
                    "report counter=%s\n",
                    ab_code_name(AB_ALLOCBENCH_BUDGET_COUNTER), w.allocator, w.op, w.size,
                    w.pattern, bg->counter, bg->line, counter);
            return "counter-mismatch";
        }
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(row, "allocator_version");
        const char *v = cJSON_IsString(ver) ? ver->valuestring : "";
        if (bg->version[0] && strcmp(bg->version, v))
            version_warning(c, w.allocator, bg->version, *v ? v : "unknown", bg->line);
        bool gone = missing(c, &w, bg, "instructions", bg->max_instructions, ins, counter);
        gone = missing(c, &w, bg, "branches", bg->max_branches, br, counter) || gone;
        gone = missing(c, &w, bg, "slow_path_share", bg->max_slow_path_share, share, counter) ||
               gone;
        if (gone) {
            c->figure_missing++;
            return "figure-missing";
        }
        bool v1 = over(out, &w, "instructions", ins, bg->max_instructions);
        bool v2 = over(out, &w, "branches", br, bg->max_branches);
        bool v3 = over(out, &w, "slow_path_share", share, bg->max_slow_path_share);
        if (v1 || v2 || v3) {
            c->violated++;
            return "over-budget";
        }
        c->held++;
        return "held";
    }
}

void ab_gate_report(struct ab_gate *c, const cJSON *doc)
{
    const cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(doc, "rows"))
    {
        if (!c->verdicts) {
            gate_row(c, row);
            continue;
        }
        /* Recorded too: the row's lines are caught, kept with its verdict,
         * then printed as they would have been. */
        FILE *out = c->out;
        char *lines = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&lines, &len);
        if (!mem) {
            c->oom = true;
            gate_row(c, row);
            continue;
        }
        c->out = mem;
        const char *verdict = gate_row(c, row);
        c->out = out;
        if (fclose(mem) == 0 && lines) {
            fputs(lines, out);
            gate_record(c, row, verdict, lines);
        } else {
            c->oom = true;
        }
        free(lines);
    }
}


void ab_gate_finish(struct ab_gate *c)
{
    const struct ab_budgets *b = c->budgets;
    for (size_t i = 0; i < b->n; i++) {
        if (c->used[i])
            continue;
        const struct ab_budget *x = &b->b[i];
        char size[24];
        if (x->any_size)
            snprintf(size, sizeof size, "*");
        else
            snprintf(size, sizeof size, "%llu", (unsigned long long)x->size);
        c->unmatched++;
        char line[PATH_MAX + AB_NAME_MAX + 256];
        snprintf(line, sizeof line, "%s %s:%u %s %s size=%s pattern=%s matches no report row",
                 ab_code_name(AB_ALLOCBENCH_BUDGET_UNMATCHED), b->path, x->line, x->allocator,
                 ab_fp_op_name(x->op), size, ab_fp_pattern_name(x->pattern));
        fprintf(c->out, "%s\n", line);
        gate_record_budget(c, x, size, line);
    }
    if (!c->held && !c->violated) {
        c->nothing_checked = true;
        fprintf(c->out, "%s no report row was checked against a budget\n",
                ab_code_name(AB_ALLOCBENCH_BUDGET_NOTHING_CHECKED));
        gate_record_budget(c, NULL, NULL, NULL);
    }
}

void ab_gate_used_lines(const struct ab_gate *c, char *buf, size_t len)
{
    const struct ab_budgets *b = c->budgets;
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < b->n && at < len;) {
        if (!c->used[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < b->n && c->used[j + 1] && b->b[j + 1].line == b->b[j].line + 1)
            j++;
        int n = i == j ? snprintf(buf + at, len - at, "%s%u", at ? ", " : "", b->b[i].line)
                       : snprintf(buf + at, len - at, "%s%u-%u", at ? ", " : "", b->b[i].line,
                                  b->b[j].line);
        if (n < 0 || (size_t)n >= len - at) {
            if (len > 4)
                snprintf(buf + (len - 4 > at ? at : len - 4), 4, "...");
            break;
        }
        at += (size_t)n;
        i = j + 1;
    }
}

bool ab_gate_failed(const struct ab_gate *c, bool require_budget)
{
    return c->violated || c->unmeasured || c->unmatched || c->counter_mismatch ||
           c->figure_missing || c->nothing_checked || (require_budget && c->unchecked);
}

/* ------------------------------------------------ budgets from reports */

/* A ceiling with headroom: counts round down (a ceiling is a count that
 * holds), never below the count itself. */
static double with_headroom(double v, double pct, bool share)
{
    double x = v * (1 + pct / 100);
    if (share)
        return x > 1 ? 1 : x;
    x = floor(x + 1e-9);
    return x < v ? v : x;
}

struct made {
    const cJSON *row;
    double ins, br, share;
};

char *ab_budgets_from_reports(cJSON *const *docs, size_t ndocs, double headroom_pct,
                              char *err, size_t errlen)
{
    size_t cap = 0, n = 0;
    for (size_t d = 0; d < ndocs; d++)
        cap += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(docs[d], "rows"));
    struct made *m = calloc(cap ? cap : 1, sizeof *m);
    struct ab_budgets idx = {.path = "(reports)"};
    idx.b = calloc(cap ? cap : 1, sizeof *idx.b);
    char *text = NULL;
    if (!m || !idx.b) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t d = 0; d < ndocs; d++) {
        const cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(docs[d], "rows"))
        {
            const char *st = ab_json_str(row, "status");
            const char *a = ab_json_str(row, "allocator"), *op = ab_json_str(row, "op");
            const char *pat = ab_json_str(row, "pattern");
            unsigned long long size = (unsigned long long)ab_json_num(row, "size", 0);
            if (!strcmp(st, "unavailable"))
                continue;
            struct made r = {row, fig(row, "instructions"), fig(row, "branches"),
                             ab_json_num(row, "slow_path_share", NAN)};
            /* What the gate counts as not measured cannot set a budget. */
            if (strcmp(st, "ok") || isnan(r.ins) ||
                !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "repetitions_agree"))) {
                snprintf(err, errlen, "%s %s size=%llu pattern=%s was not measured cleanly "
                         "(%s%s%s): a budget is only set from an agreeing count",
                         a, op, size, pat, strcmp(st, "ok") || !isnan(r.ins) ? st
                                                                              : "no instructions",
                         *ab_json_str(row, "reason") ? ": " : "", ab_json_str(row, "reason"));
                goto out;
            }
            /* What the budget file cannot hold is refused, not written. */
            const cJSON *ver = cJSON_GetObjectItemCaseSensitive(row, "allocator_version");
            if (!text_ok(a, AB_NAME_MAX, true) ||
                (cJSON_IsString(ver) && !text_ok(ver->valuestring, 128, false))) {
                snprintf(err, errlen, "%s %s size=%llu pattern=%s: a budget file cannot name "
                         "this allocator or its version (a space, tab or line break in it)",
                         a, op, size, pat);
                goto out;
            }
            struct ab_budget key = {.op = (enum ab_fp_op)ab_fp_op_parse(op),
                                    .pattern = (enum ab_fp_pattern)ab_fp_pattern_parse(pat),
                                    .size = size};
            ab_strlcpy(key.allocator, a, sizeof key.allocator);
            size_t k;
            for (k = 0; k < n; k++)
                if (key_is(&idx.b[k], key.allocator, key.op, false, size, key.pattern))
                    break;
            if (k < n) {
                const struct made *o = &m[k];
                /* Every figure a ceiling is set from, or the budget holds
                 * one report and fails the other. */
                bool same_counts = o->ins == r.ins &&
                                   (o->br == r.br || (isnan(o->br) && isnan(r.br))) &&
                                   (o->share == r.share || (isnan(o->share) && isnan(r.share)));
                if (!same_counts || strcmp(ab_json_str(o->row, "counter"),
                                           ab_json_str(row, "counter"))) {
                    snprintf(err, errlen, "%s %s size=%llu pattern=%s is %g/%g, slow share %g "
                             "(%s) in one report and %g/%g, slow share %g (%s) in another", a,
                             op, size, pat, o->ins, o->br, o->share,
                             ab_json_str(o->row, "counter"), r.ins, r.br, r.share,
                             ab_json_str(row, "counter"));
                    goto out;
                }
                continue;
            }
            idx.b[n] = key;
            m[n++] = r;
        }
    }
    if (!n) {
        snprintf(err, errlen, "the reports have no measured row to set a budget from");
        goto out;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    fputs("allocator\top\tsize\tpattern\tcounter\tallocator_version\tmax_instructions\t"
          "max_branches\tmax_slow_path_share\n", f);
    for (size_t i = 0; i < n; i++) {
        const cJSON *row = m[i].row;
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(row, "allocator_version");
        char ins[32], br[32] = "", sh[32] = "";
        fmt(ins, sizeof ins, with_headroom(m[i].ins, headroom_pct, false));
        if (!isnan(m[i].br))
            fmt(br, sizeof br, with_headroom(m[i].br, headroom_pct, false));
        if (!isnan(m[i].share)) {
            /* Printed short, never below the share itself: where six
             * digits round down, all of them (%.17g reads back exactly). */
            double x = with_headroom(m[i].share, headroom_pct, true);
            snprintf(sh, sizeof sh, "%.6g", x);
            if (strtod(sh, NULL) < x)
                snprintf(sh, sizeof sh, "%.17g", x);
        }
        fprintf(f, "%s\t%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%s\n", ab_json_str(row, "allocator"),
                ab_json_str(row, "op"), (unsigned long long)ab_json_num(row, "size", 0),
                ab_json_str(row, "pattern"), ab_json_str(row, "counter"),
                cJSON_IsString(ver) ? ver->valuestring : "", ins, br, sh);
    }
    if (fclose(f)) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    text = buf;
out:
    free(m);
    free(idx.b);
    return text;
}
