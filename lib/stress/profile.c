/*
 * profile.c — the allocator profiles of seed 003 as data: one TSV file
 * (stress/profiles.tsv), a header row naming the columns, one profile per
 * line.  Every field is checked against its range; the first bad one stops
 * the load with "FILE:LINE: why", which `stress` turns into exit status 2.
 */
#include "stress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The seed's six profiles and the ABI bit a plugin is configured with. */
static const struct {
    const char *name;
    uint32_t bit;
} seed_profiles[] = {
    {"freestanding", ALLOCBENCH_PROFILE_FREESTANDING},
    {"hosted-small", ALLOCBENCH_PROFILE_HOSTED_SMALL},
    {"hosted-server", ALLOCBENCH_PROFILE_HOSTED_SERVER},
    {"realtime", ALLOCBENCH_PROFILE_REALTIME},
    {"test-fixture", ALLOCBENCH_PROFILE_TEST_FIXTURE},
    {"compiler-internal", ALLOCBENCH_PROFILE_COMPILER_INTERNAL},
};
#define NSEED (sizeof seed_profiles / sizeof seed_profiles[0])

/* The columns, in the order the shipped file has them; a file may order
 * them differently but must have every one. */
#define AB_PROFILE_COLUMNS(X)                                                                  \
    X(profile) X(threads) X(ops) X(duration) X(large_ops) X(live) X(sizes) X(large) X(cases)  \
    X(remote_frees) X(remote_bound) X(as_limit) X(page_limit) X(hugepages) X(numa)             \
    X(shutdown_slope) X(summary)

enum column {
#define AB_COL_ENUM(c) COL_##c,
    AB_PROFILE_COLUMNS(AB_COL_ENUM)
#undef AB_COL_ENUM
    NCOLS
};

static const char *const column_names[NCOLS] = {
#define AB_COL_NAME(c) #c,
    AB_PROFILE_COLUMNS(AB_COL_NAME)
#undef AB_COL_NAME
};

unsigned ab_profile_threads(const struct ab_profile *p)
{
    if (!p->threads_per_cpu)
        return p->threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t n = (uint64_t)p->threads * (uint64_t)(cpus > 0 ? cpus : 1);
    return n > AB_MAX_THREADS ? AB_MAX_THREADS : (unsigned)n;
}

const struct ab_profile *ab_profile_find(const struct ab_profiles *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i].name, name))
            return &ps->p[i];
    return NULL;
}

void ab_profiles_free(struct ab_profiles *ps)
{
    free(ps->p);
    free(ps->text);
    ps->text = NULL;
    ps->p = NULL;
    ps->n = 0;
}

static bool too_long(const char *v, size_t size, char *why, size_t n)
{
    if (strlen(v) < size)
        return false;
    snprintf(why, n, "longer than %zu bytes", size - 1);
    return true;
}

/* One field into the profile; on error fills why (without the location). */
static int parse_field(struct ab_profile *p, enum column col, const char *v, char *why,
                       size_t n)
{
    uint64_t u;
    switch (col) {
    case COL_profile:
        for (size_t i = 0; i < NSEED; i++)
            if (!strcmp(seed_profiles[i].name, v)) {
                ab_strlcpy(p->name, v, sizeof p->name);
                p->abi_bit = seed_profiles[i].bit;
                return 0;
            }
        snprintf(why, n, "'%s' is not one of the seed's profiles (freestanding, hosted-small, "
                         "hosted-server, realtime, test-fixture, compiler-internal)", v);
        return -EINVAL;
    case COL_threads: {
        char buf[32];
        if (strlen(v) >= sizeof buf)
            break; /* cut short, "0...02garbage" would pass */
        ab_strlcpy(buf, v, sizeof buf);
        char *slash = strchr(buf, '/');
        p->threads_per_cpu = slash != NULL;
        if (slash) {
            if (strcmp(slash, "/cpu"))
                break;
            *slash = '\0';
        }
        if (ab_parse_u64(buf, 1, AB_MAX_THREADS, false, &u))
            break;
        p->threads = (unsigned)u;
        return 0;
    }
    case COL_ops:
        if (!strcmp(v, "-")) {
            p->ops = 0;
            return 0;
        }
        if (ab_parse_u64(v, 1, 1000000000, false, &p->ops))
            break;
        return 0;
    case COL_duration:
        if (!strcmp(v, "-")) {
            p->duration_s = 0;
            return 0;
        }
        if (ab_parse_double(v, 0.1, 86400, &p->duration_s))
            break;
        return 0;
    case COL_large_ops:
        if (ab_parse_u64(v, 1, 1000000, false, &p->large_ops))
            break;
        return 0;
    case COL_live:
        if (ab_parse_u64(v, 1, 100000000, false, &p->live))
            break;
        return 0;
    /* The texts are kept for the reports: whole, or refused. */
    case COL_sizes:
        if (too_long(v, sizeof p->sizes_text, why, n))
            return -EINVAL;
        ab_strlcpy(p->sizes_text, v, sizeof p->sizes_text);
        return ab_size_mix_parse(v, 64u << 20, &p->sizes, why, n);
    case COL_large:
        if (too_long(v, sizeof p->large_text, why, n))
            return -EINVAL;
        ab_strlcpy(p->large_text, v, sizeof p->large_text);
        return ab_size_mix_parse(v, 1u << 30, &p->large, why, n);
    case COL_cases: {
        memset(&p->cases, 0, sizeof p->cases);
        if (!strcmp(v, "all")) {
            size_t nc;
            const struct ab_stress_case *const *all = ab_stress_cases(&nc);
            for (size_t i = 0; i < nc; i++)
                ab_case_set_add(&p->cases, all[i]->name);
            return 0;
        }
        static char items[AB_CASES_MAX + 1][AB_NAME_MAX * 4];
        int ni = ab_split_list(v, items, AB_CASES_MAX);
        if (ni < 0) {
            snprintf(why, n, "'%s' is not a list of stress cases (an empty item, or too many)",
                     v);
            return -EINVAL;
        }
        for (int i = 0; i < ni; i++) {
            const char *c = items[i];
            if (ab_stress_case_index(c) < 0) {
                snprintf(why, n, "'%.64s' is not a stress case (see: allocbench list profiles)", c);
                return -EINVAL;
            }
            if (ab_case_set_add(&p->cases, c)) {
                snprintf(why, n, "case '%.64s' twice", c);
                return -EINVAL;
            }
        }
        if (!p->cases.n)
            break;
        return 0;
    }
    case COL_remote_frees:
        if (strcmp(v, "yes") && strcmp(v, "no"))
            break;
        p->remote_frees = !strcmp(v, "yes");
        return 0;
    case COL_remote_bound:
        if (!strcmp(v, "-")) {
            p->remote_bound = 0;
            return 0;
        }
        if (ab_parse_u64(v, 1, 1000000000, false, &p->remote_bound))
            break;
        return 0;
    case COL_as_limit:
        if (ab_parse_u64(v, 1u << 20, 1ull << 40, true, &p->as_limit))
            break;
        return 0;
    case COL_page_limit:
        if (ab_parse_u64(v, 64u << 10, 1ull << 40, true, &p->page_limit))
            break;
        return 0;
    case COL_hugepages:
    case COL_numa: {
        enum ab_hook_policy h;
        if (!strcmp(v, "forbid"))
            h = AB_HOOK_FORBID;
        else if (!strcmp(v, "opt-in"))
            h = AB_HOOK_OPT_IN;
        else
            break;
        *(col == COL_hugepages ? &p->hugepages : &p->numa) = h;
        return 0;
    }
    case COL_shutdown_slope:
        if (ab_parse_u64(v, 0, 1ull << 30, true, &p->shutdown_slope))
            break;
        return 0;
    case COL_summary:
        if (too_long(v, sizeof p->summary, why, n))
            return -EINVAL;
        ab_strlcpy(p->summary, v, sizeof p->summary);
        return 0;
    case NCOLS:
        break;
    }
    static const char *const expect[NCOLS] = {
        [COL_threads] = "a thread count in [1, 1024], or N/cpu",
        [COL_ops] = "an operation count in [1, 1000000000], or -",
        [COL_duration] = "seconds in [0.1, 86400], or -",
        [COL_large_ops] = "a count in [1, 1000000]",
        [COL_live] = "a block count in [1, 100000000]",
        [COL_cases] = "all, or a list of stress cases",
        [COL_remote_frees] = "yes or no",
        [COL_remote_bound] = "a block count in [1, 1000000000], or -",
        [COL_as_limit] = "bytes in [1M, 1T]",
        [COL_page_limit] = "bytes in [64k, 1T]",
        [COL_hugepages] = "forbid or opt-in",
        [COL_numa] = "forbid or opt-in",
        [COL_shutdown_slope] = "bytes per thread exit in [0, 1G]",
    };
    snprintf(why, n, "'%s' is not %s", v, expect[col] ? expect[col] : "valid");
    return -EINVAL;
}

int ab_profiles_parse(const char *path, const char *text, struct ab_profiles *out, char *err,
                      size_t errlen)
{
    memset(out, 0, sizeof *out);
    ab_strlcpy(out->path, path, sizeof out->path);
    int order[NCOLS];
    size_t ncols = 0, cap = 0;
    unsigned line = 0;
    char why[400];
    const char *p = text;
    int rc = 0;
    while (*p) {
        line++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char row[2048];
        if (len >= sizeof row) {
            snprintf(why, sizeof why, "line longer than %zu bytes", sizeof row - 1);
            goto bad;
        }
        memcpy(row, p, len);
        row[len] = '\0';
        p = nl ? nl + 1 : p + len;
        if (len && row[len - 1] == '\r')
            row[--len] = '\0';
        if (!len) {
            snprintf(why, sizeof why, "empty line");
            goto bad;
        }
        char *fields[NCOLS + 1];
        size_t nf = 0;
        for (char *f = row;;) {
            char *tab = strchr(f, '\t');
            if (nf == NCOLS + 1)
                break;
            fields[nf++] = f;
            if (!tab)
                break;
            *tab = '\0';
            f = tab + 1;
        }
        if (line == 1) {
            for (size_t i = 0; i < nf && i < NCOLS; i++) {
                order[i] = -1;
                for (int c = 0; c < NCOLS; c++)
                    if (!strcmp(fields[i], column_names[c]))
                        order[i] = c;
                if (order[i] < 0) {
                    snprintf(why, sizeof why, "unknown column '%s'", fields[i]);
                    goto bad;
                }
                for (size_t j = 0; j < i; j++)
                    if (order[j] == order[i]) {
                        snprintf(why, sizeof why, "column '%s' twice", fields[i]);
                        goto bad;
                    }
            }
            if (nf != NCOLS) {
                for (int c = 0; c < NCOLS; c++) {
                    bool have = false;
                    for (size_t i = 0; i < nf && i < NCOLS; i++)
                        have |= order[i] == c;
                    if (!have) {
                        snprintf(why, sizeof why, "the header lacks column '%s'",
                                 column_names[c]);
                        goto bad;
                    }
                }
                snprintf(why, sizeof why, "the header has %zu columns, expected %d", nf, NCOLS);
                goto bad;
            }
            ncols = nf;
            continue;
        }
        if (nf != ncols) {
            snprintf(why, sizeof why, "%zu fields, the header has %zu", nf, ncols);
            goto bad;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            struct ab_profile *np = realloc(out->p, cap * sizeof *np);
            if (!np) {
                rc = -ENOMEM;
                snprintf(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            out->p = np;
        }
        struct ab_profile *pr = &out->p[out->n];
        memset(pr, 0, sizeof *pr);
        /* The name first, so a later error can say which profile. */
        for (size_t i = 0; i < nf; i++) {
            if (order[i] != COL_profile)
                continue;
            if (parse_field(pr, COL_profile, fields[i], why, sizeof why))
                goto bad;
        }
        if (ab_profile_find(out, pr->name)) {
            snprintf(why, sizeof why, "profile '%s' twice", pr->name);
            goto bad;
        }
        for (size_t i = 0; i < nf; i++) {
            if (order[i] == COL_profile)
                continue;
            char fwhy[300];
            if (parse_field(pr, (enum column)order[i], fields[i], fwhy, sizeof fwhy)) {
                snprintf(why, sizeof why, "profile %s, column '%s': %s", pr->name,
                         column_names[order[i]], fwhy);
                goto bad;
            }
        }
        if (!pr->ops && pr->duration_s == 0) {
            snprintf(why, sizeof why, "profile %s: ops and duration are both '-' (no bound)",
                     pr->name);
            goto bad;
        }
        if ((pr->hugepages == AB_HOOK_OPT_IN || pr->numa == AB_HOOK_OPT_IN) &&
            pr->abi_bit != ALLOCBENCH_PROFILE_HOSTED_SERVER) {
            snprintf(why, sizeof why,
                     "profile %s: hugepage and NUMA hooks may be opt-in only for hosted-server",
                     pr->name);
            goto bad;
        }
        out->n++;
    }
    if (line == 0) {
        snprintf(err, errlen, "%s:1: empty file, expected a header row", path);
        rc = -EINVAL;
        goto fail;
    }
    if (!out->n) {
        snprintf(err, errlen, "%s:%u: no profile after the header", path, line);
        rc = -EINVAL;
        goto fail;
    }
    return 0;
bad:
    snprintf(err, errlen, "%s:%u: %s", path, line, why);
    rc = -EINVAL;
fail:
    ab_profiles_free(out);
    return rc;
}

int ab_profiles_load(const char *path, struct ab_profiles *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = ab_read_file(path, AB_PROFILES_MAX, &len);
    if (!text) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc = -EINVAL;
    if (strlen(text) != len)
        snprintf(err, errlen, "%s: holds a NUL byte (not a text file)", path);
    else
        rc = ab_profiles_parse(path, text, out, err, errlen);
    if (rc)
        free(text);
    else
        out->text = text;
    return rc;
}

int ab_profiles_locate(const char *given, char *path, size_t len, char *err, size_t errlen)
{
    if (given) {
        ab_strlcpy(path, given, len);
        return 0;
    }
    const char *env = getenv("ALLOCBENCH_PROFILES");
    if (env && *env) {
        ab_strlcpy(path, env, len);
        return 0;
    }
    char dir[PATH_MAX];
    if (ab_self_dir(dir, sizeof dir) == 0) {
        snprintf(path, len, "%s/stress/profiles.tsv", dir);
        if (access(path, R_OK) == 0)
            return 0;
    }
    if (!ab_beside_self(AB_PROFILES_FROM_BIN, path, len) && access(path, R_OK) == 0)
        return 0;
    snprintf(path, len, "%s", AB_PROFILES_INSTALL_PATH);
    if (access(path, R_OK) == 0)
        return 0;
    snprintf(err, errlen,
             "no profiles file: not in $ALLOCBENCH_PROFILES, %s/stress/profiles.tsv or %s "
             "(give one with --profiles)",
             dir, AB_PROFILES_INSTALL_PATH);
    return -ENOENT;
}
