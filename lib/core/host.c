/* host.c — the context block: the machine the numbers were measured on. */
#include "core.h"

#include <gnu/libc-version.h>
#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <math.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static void cpu_model(char *buf, size_t len)
{
    ab_strlcpy(buf, "", len);
    char *text = ab_read_file("/proc/cpuinfo", 1 << 22, NULL);
    if (!text)
        return;
    char *line = strstr(text, "model name");
    if (line) {
        char *colon = strchr(line, ':');
        char *nl = strchr(line, '\n');
        if (colon && (!nl || colon < nl)) {
            colon++;
            while (*colon == ' ' || *colon == '\t')
                colon++;
            if (nl)
                *nl = '\0';
            ab_strlcpy(buf, colon, len);
        }
    }
    free(text);
}

/* The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled. */

static void topology(struct ab_host *h)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo))
        return;
    if (hwloc_topology_load(topo)) {
        hwloc_topology_destroy(topo);
        return;
    }
    int n;
    h->packages = (n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE)) > 0 ? (unsigned)n : 0;
    h->cores = (n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE)) > 0 ? (unsigned)n : 0;
    h->pus = (n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU)) > 0 ? (unsigned)n : 0;
    h->numa_nodes = (n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE)) > 0 ? (unsigned)n
                                                                                 : 0;
    static const hwloc_obj_type_t kinds[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE,
                                             HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
                                             HWLOC_OBJ_L4CACHE};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && h->ncaches < 8; k++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, kinds[k], 0);
        if (!o || !o->attr)
            continue;
        struct ab_cache *c = &h->caches[h->ncaches++];
        c->level = o->attr->cache.depth;
        c->size = o->attr->cache.size;
        ab_strlcpy(c->type,
                   o->attr->cache.type == HWLOC_OBJ_CACHE_DATA          ? "data"
                   : o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                                                                        : "unified",
                   sizeof c->type);
    }
    hwloc_topology_destroy(topo);
}

void ab_host_collect(struct ab_host *h)
{
    memset(h, 0, sizeof *h);
    h->trial_child_rss_kib = -1;
    if (gethostname(h->hostname, sizeof h->hostname))
        h->hostname[0] = '\0';
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(h->kernel, sizeof h->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    ab_strlcpy(h->glibc, gnu_get_libc_version(), sizeof h->glibc);
    cpu_model(h->cpu_model, sizeof h->cpu_model);
    ab_host_thp_mode(h->thp, sizeof h->thp);
    topology(h);
    char *g = ab_read_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", 256, NULL);
    if (g) {
        g[strcspn(g, "\n")] = '\0';
        ab_strlcpy(h->governor, g, sizeof h->governor);
        free(g);
    }
    h->cpu_mhz = NAN;
    char *f = ab_read_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", 256, NULL);
    if (f) {
        h->cpu_mhz = strtod(f, NULL) / 1000.0; /* kHz */
        free(f);
    } else if ((f = ab_read_file("/proc/cpuinfo", 1 << 20, NULL))) {
        const char *m = strstr(f, "cpu MHz");
        const char *colon = m ? strchr(m, ':') : NULL;
        if (colon)
            h->cpu_mhz = strtod(colon + 1, NULL);
        free(f);
    }
    if (!(h->cpu_mhz > 0))
        h->cpu_mhz = NAN;
    ab_host_load(h->load_start);
    h->load_end[0] = h->load_end[1] = h->load_end[2] = NAN;
}

void ab_host_load(double l[3])
{
    l[0] = l[1] = l[2] = NAN;
    double got[3];
    int n = getloadavg(got, 3);
    for (int i = 0; i < n && i < 3; i++)
        l[i] = got[i];
}

int ab_host_pin_plan(unsigned n, int *pus, bool *bindable)
{
    *bindable = false;
    for (unsigned i = 0; i < n; i++)
        pus[i] = -1;
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo))
        return -ENODEV;
    if (hwloc_topology_load(topo)) {
        hwloc_topology_destroy(topo);
        return -ENODEV;
    }
    /* hwloc_distrib fills the array with sets of its own (hwloc_bitmap_dup). */
    hwloc_cpuset_t *sets = calloc(n ? n : 1, sizeof *sets);
    int rc = sets ? AB_OK : -ENOMEM;
    hwloc_obj_t root = hwloc_get_root_obj(topo);
    /* hwloc "binds" to a topology loaded from elsewhere (XML, synthetic)
     * without doing anything: plan with it, and say it is not this one. */
    *bindable = hwloc_topology_is_thissystem(topo);
    if (rc == AB_OK && hwloc_distrib(topo, &root, 1, sets, n, INT_MAX, 0) == 0) {
        for (unsigned i = 0; i < n; i++) {
            hwloc_bitmap_singlify(sets[i]);
            pus[i] = hwloc_bitmap_first(sets[i]);
        }
    } else if (rc == AB_OK) {
        rc = -ENODEV;
    }
    for (unsigned i = 0; sets && i < n; i++)
        if (sets[i])
            hwloc_bitmap_free(sets[i]);
    free(sets);
    hwloc_topology_destroy(topo);
    return rc;
}

unsigned ab_host_thread_room(void)
{
    unsigned room = UINT_MAX;
    char *text = ab_read_file("/proc/sys/kernel/threads-max", 64, NULL);
    long max = text ? strtol(text, NULL, 10) : 0;
    free(text);
    struct rlimit rl;
    if (geteuid() != 0 && !getrlimit(RLIMIT_NPROC, &rl) && rl.rlim_cur != RLIM_INFINITY &&
        (max <= 0 || rl.rlim_cur < (rlim_t)max))
        max = (long)rl.rlim_cur;
    if (max <= 0)
        return room;
    /* The tasks running now (every thread counts against both limits). */
    long used = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%.20s/task", e->d_name);
        struct stat st;
        if (!stat(path, &st) && (geteuid() == 0 || st.st_uid == geteuid()))
            used += st.st_nlink > 2 ? (long)st.st_nlink - 2 : 1;
    }
    if (d)
        closedir(d);
    return max > used ? (unsigned)(max - used) : 0;
}
