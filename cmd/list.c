/* list.c — `allocbench list [workloads|allocators|counters|profiles]`. */
#include "run.h"
#include "stress.h"
#include "fastpath.h"
#include "cmd.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char usage[] =
    "usage: allocbench list [workloads|allocators|counters|profiles]\n"
    "\n"
    "  workloads   every workload: variants, parameters (type, default, range), preset\n"
    "  allocators  the allocators known by name: installed or not, path, version\n"
    "  counters    the counter backends this build and machine offer\n"
    "  profiles    the stress profiles (from the profiles file) and the stress cases\n"
    "\nWithout an argument, all of them.\n"
    "\nexit status: 0 listed; 2 usage error (an unknown argument)\n";

static void list_workloads(void)
{
    size_t n;
    const struct ab_workload *const *w = ab_workloads(&n);
    for (size_t i = 0; i < n; i++) {
        printf("%s — %s\n", w[i]->name, w[i]->summary);
        printf("  one op: one %s; default %u measured rounds per trial\n", w[i]->unit,
               w[i]->default_rounds);
        if (w[i]->merit)
            printf("  figure of merit: %s\n", w[i]->merit);
        printf("  variants:");
        for (size_t v = 0; w[i]->variants[v]; v++)
            printf(" %s", w[i]->variants[v]);
        printf("\n  preset quick: %s\n  parameters:\n", w[i]->quick);
        for (size_t p = 0; p < w[i]->nparams; p++) {
            const struct ab_param *d = &w[i]->params[p];
            char range[96];
            if (d->type == AB_PARAM_CHOICE)
                snprintf(range, sizeof range, "one of %s", d->choices);
            else
                snprintf(range, sizeof range, "%s in [%lld, %lld]",
                         d->type == AB_PARAM_SIZE ? "bytes" : "integer", (long long)d->min,
                         (long long)d->max);
            printf("    %-10s default %-6s %s: %s\n", d->name, d->def, range, d->help);
        }
        if (i + 1 < n)
            putchar('\n');
    }
}

static void list_allocators(void)
{
    size_t n;
    const struct ab_named_allocator *na = ab_named_allocators(&n);
    printf("%-11s %-8s %-10s %-16s %s\n", "name", "kind", "installed", "version", "path");
    for (size_t i = 0; i < n; i++) {
        struct ab_subject s;
        char err[512];
        bool ok = ab_subject_resolve(na[i].name, &s, err, sizeof err, NULL) == AB_OK;
        if (ok && ab_subject_describe(&s, 10.0) == 0 && s.describe_error[0])
            ok = false;
        printf("%-11s %-8s %-10s %-16s %s\n", na[i].name,
               na[i].family == AB_FAMILY_GLIBC    ? "system"
               : na[i].family == AB_FAMILY_PLUGIN ? "plugin"
                                                  : "preload",
               ok ? "yes" : "no", ok && s.version[0] ? s.version : "-",
               ok ? s.path : na[i].package);
    }
}

static void list_counters(void)
{
    printf("%-10s %-10s %-28s %s\n", "name", "usable", "version", "what it counts");
    printf("%-10s %-10s %-28s %s\n", "none", "yes", "-", "wall-clock time only (monotonic clock)");
    size_t n;
    const struct ab_counter *const *c = ab_counters(&n);
    for (size_t i = 0; i < n; i++) {
        char version[128] = "", why[512] = "";
        bool ok = !c[i]->unavailable && c[i]->probe(version, sizeof version, why, sizeof why) == 0;
        if (c[i]->unavailable)
            snprintf(why, sizeof why, "not in this build: %s", c[i]->unavailable);
        printf("%-10s %-10s %-28s %s\n", c[i]->name, ok ? "yes" : "no",
               version[0] ? version : "-", c[i]->summary);
        if (!ok)
            printf("%-10s   why not: %s\n", "", why);
    }
#if AB_HAVE_TRACE
    printf("%-10s %-10s %-28s %s\n", "bpf", "yes", "-",
           "allocbench trace: uprobes on a live process (root; includes probe cost)");
#endif
}

static int list_profiles(void)
{
    char path[PATH_MAX], err[1024];
    struct ab_profiles ps;
    int rc;
    if (ab_profiles_locate(NULL, path, sizeof path, err, sizeof err))
        return ab_error(AB_ALLOCBENCH_NOT_INSTALLED, "%s", err);
    if ((rc = ab_profiles_load(path, &ps, err, sizeof err)))
        return ab_error(rc == -EINVAL ? AB_ALLOCBENCH_BAD_INPUT : AB_ALLOCBENCH_NOT_INSTALLED,
                        "%s", err);
    size_t nc;
    const struct ab_stress_case *const *cases = ab_stress_cases(&nc);
    printf("profiles from %s\n", path);
    for (size_t i = 0; i < ps.n; i++) {
        const struct ab_profile *p = &ps.p[i];
        char ops[32] = "-", dur[32] = "-", bound[32] = "-";
        if (p->ops)
            snprintf(ops, sizeof ops, "%llu", (unsigned long long)p->ops);
        if (p->duration_s > 0)
            snprintf(dur, sizeof dur, "%g s", p->duration_s);
        if (p->remote_bound)
            snprintf(bound, sizeof bound, "%llu", (unsigned long long)p->remote_bound);
        printf("\n%s — %s\n", p->name, p->summary);
        printf("  threads %u%s (%u here); per thread per timed case: ops %s, duration %s; "
               "large-objects ops %llu\n",
               p->threads, p->threads_per_cpu ? "/cpu" : "", ab_profile_threads(p), ops, dur,
               (unsigned long long)p->large_ops);
        printf("  live blocks per thread %llu; sizes %s; large %s\n",
               (unsigned long long)p->live, p->sizes_text, p->large_text);
        printf("  remote frees %s, queue bound %s; exhaustion: address space %llu, page limit "
               "%llu bytes\n",
               p->remote_frees ? "allowed" : "forbidden", bound,
               (unsigned long long)p->as_limit, (unsigned long long)p->page_limit);
        printf("  hugepage hooks %s, NUMA hooks %s; shutdown slope %llu bytes per thread exit\n",
               ab_hook_policy_name(p->hugepages), ab_hook_policy_name(p->numa),
               (unsigned long long)p->shutdown_slope);
        printf("  cases:");
        for (size_t c = 0; c < nc; c++)
            if (ab_case_set_has(&p->cases, cases[c]->name))
                printf(" %s", cases[c]->name);
        putchar('\n');
    }
    printf("\nstress cases:\n");
    for (size_t c = 0; c < nc; c++)
        printf("  %-24s %s%s\n", cases[c]->name, cases[c]->summary,
               cases[c]->needs_remote ? " (needs remote frees)" : "");
    ab_profiles_free(&ps);
    return AB_EXIT_OK;
}

static int no_options(int id, const char *v, void *ctx)
{
    (void)id, (void)v, (void)ctx;
    return AB_EXIT_OK;
}

struct list_args {
    const char *what;              /* NULL: all of them */
};

static int list_parse(int argc, char **argv, void *args)
{
    struct list_args *a = args;
    const char *thing[1];
    struct ab_common co = {0};
    struct ab_args pos = {.max = 1, .v = thing};
    int rc = ab_cmd_parse(argc, argv, &ab_command_list, 0, &co, NULL, 0, no_options, NULL, &pos);
    if (rc)
        return rc;
    const char *what = a->what = pos.n ? thing[0] : NULL;
    if (what && strcmp(what, "workloads") && strcmp(what, "allocators") &&
        strcmp(what, "counters") && strcmp(what, "profiles"))
        return ab_error(AB_ALLOCBENCH_USAGE,
                        "list: '%s' is not workloads, allocators, counters or profiles", what);
    return AB_EXIT_OK;
}

static int list_all(const char *what);

/* On a terminal, a line wider than the terminal (100 columns where it
 * does not say) is cut there and ends in "~"; a last line says how to get
 * whole lines, which are what a pipe or a file gets. */
static int list_run(void *args)
{
    const char *what = ((struct list_args *)args)->what;
    if (!isatty(STDOUT_FILENO))
        return list_all(what);
    struct winsize ws;
    size_t width = !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col ? ws.ws_col : 100;
    FILE *tmp = tmpfile();
    int saved = tmp ? dup(STDOUT_FILENO) : -1;
    if (saved < 0) {
        if (tmp)
            fclose(tmp);
        return list_all(what);
    }
    fflush(stdout);
    dup2(fileno(tmp), STDOUT_FILENO);
    int rc = list_all(what);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool cut = false;
    while ((n = getline(&line, &cap, tmp)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if ((size_t)n > width && width > 1) {
            printf("%.*s~\n", (int)(width - 1), line);
            cut = true;
        } else {
            printf("%s\n", line);
        }
    }
    free(line);
    fclose(tmp);
    if (cut)
        printf("(~: cut at %zu columns; `allocbench list%s%s | cat` prints whole lines)\n",
               width, what ? " " : "", what ? what : "");
    return rc;
}

static int list_all(const char *what)
{
    if (!what || !strcmp(what, "workloads")) {
        if (!what)
            puts("workloads:\n");
        list_workloads();
    }
    if (!what || !strcmp(what, "allocators")) {
        if (!what)
            puts("\nallocators:\n");
        list_allocators();
    }
    if (!what || !strcmp(what, "counters")) {
        if (!what)
            puts("\ncounters:\n");
        list_counters();
    }
    if (!what || !strcmp(what, "profiles")) {
        if (!what)
            puts("\nprofiles:\n");
        return list_profiles();
    }
    return AB_EXIT_OK;
}

const struct ab_command ab_command_list = {
    .name = "list",
    .synopsis = "list workloads, allocators, counters or profiles",
    .usage = usage,
    .parse = list_parse,
    .args_size = sizeof(struct list_args),
    .run = list_run,
};
