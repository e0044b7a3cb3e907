/*
 * budget.c — fast-path budgets as data (results/budgets/size-classes.tsv)
 * and the check of fast-path reports against them.
 *
 * The file: a header row naming the columns allocator, op, size,
 * max_instructions, max_branches and optionally max_slow_path_share, then
 * one budget per line.  `*` in allocator or size makes a default row; the
 * most specific row wins (allocator and size, then allocator, then size,
 * then neither).  An empty ceiling is no ceiling for that figure.
 */
#include "ab.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { COL_ALLOCATOR, COL_OP, COL_SIZE, COL_MAX_INS, COL_MAX_BR, COL_MAX_SHARE, COL_COUNT };

static const char *const col_names[COL_COUNT] = {"allocator",        "op",
                                                 "size",             "max_instructions",
                                                 "max_branches",     "max_slow_path_share"};

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

int ab_budgets_load(const char *path, struct ab_budgets *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = ab_read_file(path, 16u << 20, &len);
    if (!text) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: cannot be read: %s", path, strerror(e));
        return -e;
    }
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
        char *f[16];
        size_t nf = split_tabs(line, f, 16);
        if (lineno == 1) {
            if (nf > 16) {
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
                             "unknown column '%s' (expected allocator, op, size, "
                             "max_instructions, max_branches[, max_slow_path_share])",
                             f[i]);
                else if (col[k] >= 0)
                    rc = bad(err, errlen, path, 1, "column '%s' twice", f[i]);
                else
                    col[k] = (int)i;
            }
            for (int c = 0; c < COL_MAX_SHARE && !rc; c++)
                if (col[c] < 0)
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
        memset(&b, 0, sizeof b);
        b.line = lineno;
        const char *a = f[col[COL_ALLOCATOR]], *op = f[col[COL_OP]], *sz = f[col[COL_SIZE]];
        if (!*a || strlen(a) >= sizeof b.allocator || strchr(a, ' ')) {
            rc = bad(err, errlen, path, lineno, "allocator '%s': a name or *", a);
            break;
        }
        ab_strlcpy(b.allocator, a, sizeof b.allocator);
        if (ab_fp_op_parse(op) < 0) {
            rc = bad(err, errlen, path, lineno,
                     "op '%s': one of malloc, free, calloc, realloc, aligned", op);
            break;
        }
        ab_strlcpy(b.op, op, sizeof b.op);
        if (!strcmp(sz, "*")) {
            b.any_size = true;
        } else if (ab_parse_u64(sz, 1, 1ull << 30, false, &b.size)) {
            rc = bad(err, errlen, path, lineno, "size '%s': bytes in [1, 1073741824] or *", sz);
            break;
        }
        if (ceiling(f[col[COL_MAX_INS]], 1e12, &b.max_instructions)) {
            rc = bad(err, errlen, path, lineno, "max_instructions '%s': a count >= 0 or empty",
                     f[col[COL_MAX_INS]]);
            break;
        }
        if (ceiling(f[col[COL_MAX_BR]], 1e12, &b.max_branches)) {
            rc = bad(err, errlen, path, lineno, "max_branches '%s': a count >= 0 or empty",
                     f[col[COL_MAX_BR]]);
            break;
        }
        b.max_slow_path_share = NAN;
        if (col[COL_MAX_SHARE] >= 0 &&
            ceiling(f[col[COL_MAX_SHARE]], 1, &b.max_slow_path_share)) {
            rc = bad(err, errlen, path, lineno,
                     "max_slow_path_share '%s': a share in [0, 1] or empty",
                     f[col[COL_MAX_SHARE]]);
            break;
        }
        if (isnan(b.max_instructions) && isnan(b.max_branches) &&
            isnan(b.max_slow_path_share)) {
            rc = bad(err, errlen, path, lineno, "no ceiling on this line");
            break;
        }
        for (size_t i = 0; i < out->n && !rc; i++) {
            const struct ab_budget *o = &out->b[i];
            if (!strcmp(o->allocator, b.allocator) && !strcmp(o->op, b.op) &&
                o->any_size == b.any_size && o->size == b.size)
                rc = bad(err, errlen, path, lineno, "the same budget as line %u", o->line);
        }
        if (rc)
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
    if (rc)
        ab_budgets_free(out);
    return rc;
}

void ab_budgets_free(struct ab_budgets *b)
{
    free(b->b);
    b->b = NULL;
    b->n = 0;
}

const struct ab_budget *ab_budget_find(const struct ab_budgets *b, const char *allocator,
                                       const char *op, uint64_t size)
{
    const struct ab_budget *best = NULL;
    int best_rank = -1;
    for (size_t i = 0; i < b->n; i++) {
        const struct ab_budget *x = &b->b[i];
        if (strcmp(x->op, op))
            continue;
        bool any_a = !strcmp(x->allocator, "*");
        if (!any_a && strcmp(x->allocator, allocator))
            continue;
        if (!x->any_size && x->size != size)
            continue;
        int rank = (any_a ? 0 : 2) + (x->any_size ? 0 : 1);
        if (rank > best_rank) {
            best = x;
            best_rank = rank;
        }
    }
    return best;
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

static bool over(FILE *out, const char *a, const char *op, uint64_t size, const char *what,
                 double got, double max)
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
    fprintf(out, "%s %s %s size=%llu %s=%s budget=%s\n",
            ab_code_name(AB_ALLOCATOR_FAST_PATH_BUDGET), a, op, (unsigned long long)size, what,
            g, m);
    return true;
}

int ab_budget_check_report(const struct ab_budgets *b, const cJSON *doc, FILE *out,
                           struct ab_check_totals *tot, char *err, size_t errlen)
{
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "schema_version");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "rows");
    if (!cJSON_IsObject(doc) || !cJSON_IsString(schema) ||
        strcmp(schema->valuestring, AB_FP_SCHEMA)) {
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(doc, "command");
        snprintf(err, errlen, "not a fast-path report (schema %s%s%s, expected %s)",
                 cJSON_IsString(schema) ? schema->valuestring : "missing",
                 cJSON_IsString(cmd) ? "; written by allocbench " : "",
                 cJSON_IsString(cmd) ? cmd->valuestring : "", AB_FP_SCHEMA);
        return -EPROTO;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != AB_SCHEMA_VERSION) {
        snprintf(err, errlen, "fast-path report of schema version %g, this allocbench reads %d",
                 cJSON_IsNumber(ver) ? ver->valuedouble : -1.0, AB_SCHEMA_VERSION);
        return -EPROTO;
    }
    if (!cJSON_IsArray(rows)) {
        snprintf(err, errlen, "the report has no rows");
        return -EPROTO;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(row, "allocator");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(row, "op");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(row, "size");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(row, "status");
        if (!cJSON_IsString(a) || !cJSON_IsString(op) || !cJSON_IsNumber(size) ||
            !cJSON_IsString(st)) {
            snprintf(err, errlen, "a row lacks allocator, op, size or status");
            return -EPROTO;
        }
        uint64_t sz = (uint64_t)size->valuedouble;
        tot->rows++;
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(row, "reason");
        const char *reason = cJSON_IsString(why) ? why->valuestring : "";
        if (!strcmp(st->valuestring, "unavailable")) {
            tot->unavailable++;
            fprintf(out, "UNAVAILABLE %s %s size=%llu: %s\n", a->valuestring,
                    op->valuestring, (unsigned long long)sz, reason);
            continue;
        }
        const cJSON *agree = cJSON_GetObjectItemCaseSensitive(row, "repetitions_agree");
        double ins = fig(row, "instructions");
        double br = fig(row, "branches");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(row, "slow_path_share");
        double share = cJSON_IsNumber(sh) ? sh->valuedouble : NAN;
        if (strcmp(st->valuestring, "ok") || isnan(ins) || !cJSON_IsTrue(agree)) {
            tot->unmeasured++;
            fprintf(out, "%s %s %s size=%llu not measured: %s\n",
                    ab_code_name(AB_ALLOCBENCH_TRIAL_FAILED), a->valuestring, op->valuestring,
                    (unsigned long long)sz,
                    !strcmp(st->valuestring, "ok") && !cJSON_IsTrue(agree)
                        ? "the repetitions disagree"
                        : (*reason ? reason : st->valuestring));
            continue;
        }
        const struct ab_budget *bg = ab_budget_find(b, a->valuestring, op->valuestring, sz);
        if (!bg) {
            tot->unchecked++;
            fprintf(out, "UNCHECKED %s %s size=%llu no budget\n", a->valuestring,
                    op->valuestring, (unsigned long long)sz);
            continue;
        }
        bool v = over(out, a->valuestring, op->valuestring, sz, "instructions", ins,
                      bg->max_instructions);
        v = over(out, a->valuestring, op->valuestring, sz, "branches", br, bg->max_branches) || v;
        v = over(out, a->valuestring, op->valuestring, sz, "slow_path_share", share,
                 bg->max_slow_path_share) ||
            v;
        /* A ceiling on a figure the backend does not count (branches under
         * callgrind, conditional under pmu) cannot hold or fail. */
        const char *missing = !isnan(bg->max_branches) && isnan(br)          ? "branches"
                              : !isnan(bg->max_slow_path_share) && isnan(share) ? "slow_path_share"
                                                                                 : NULL;
        if (v) {
            tot->violated++;
        } else if (missing) {
            tot->unchecked++;
            fprintf(out, "UNCHECKED %s %s size=%llu %s not counted by this report's backend\n",
                    a->valuestring, op->valuestring, (unsigned long long)sz, missing);
        } else {
            tot->held++;
        }
    }
    return 0;
}
