/*
 * heap.c — the allocator as a trial child reaches it.  Every entry point is a
 * resolved function pointer (dlsym), so a measured call never goes through a
 * PLT stub or the lazy-binding resolver, and every one is checked with dladdr
 * to come from the library the user asked for: a preload the dynamic loader
 * ignored must never turn into a silent glibc run.
 */
#include "proc.h"

#include <cJSON.h>
#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <stdlib.h>
#include <string.h>

/* The plugin bound in this child, for the adapters whose C signatures cannot
 * carry it (calloc, usable_size).  Set once by ab_heap_open. */
static const struct allocbench_plugin *bound_plugin;

bool ab_heap_origin_is(const void *addr, const char *path)
{
    Dl_info info;
    if (!addr || !dladdr(addr, &info) || !info.dli_fname)
        return false;
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(info.dli_fname, a) || !realpath(path, b))
        return false;
    return strcmp(a, b) == 0;
}

int ab_plugin_validate(const struct allocbench_plugin *p, char *err, size_t errlen)
{
    if (!p) {
        snprintf(err, errlen, ALLOCBENCH_PLUGIN_ENTRY " returned NULL");
        return -EINVAL;
    }
    if (p->abi_version != ALLOCBENCH_PLUGIN_ABI_VERSION) {
        snprintf(err, errlen, "ABI version %u, this allocbench speaks %u", p->abi_version,
                 ALLOCBENCH_PLUGIN_ABI_VERSION);
        return -EINVAL;
    }
    if (p->struct_size < sizeof *p) {
        snprintf(err, errlen, "descriptor of %u bytes, ABI %u needs %zu", p->struct_size,
                 ALLOCBENCH_PLUGIN_ABI_VERSION, sizeof *p);
        return -EINVAL;
    }
    const char *missing = !p->name            ? "name"
                          : !p->version       ? "version"
                          : !p->malloc        ? "malloc"
                          : !p->free          ? "free"
                          : !p->realloc       ? "realloc"
                          : !p->aligned_alloc ? "aligned_alloc"
                          : !p->usable_size   ? "usable_size"
                                              : NULL;
    if (missing) {
        snprintf(err, errlen, "required member '%s' is NULL", missing);
        return -EINVAL;
    }
    if (!p->name[0] || strlen(p->name) >= AB_NAME_MAX) {
        snprintf(err, errlen, "name must be 1 to %d characters", AB_NAME_MAX - 1);
        return -EINVAL;
    }
    if ((p->checkpoint_save == NULL) != (p->checkpoint_restore == NULL)) {
        snprintf(err, errlen, "checkpoint_save and checkpoint_restore come as a pair");
        return -EINVAL;
    }
    return 0;
}

static void *plugin_calloc(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = bound_plugin->malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static size_t plugin_usable(void *p)
{
    return bound_plugin->usable_size(p);
}

static size_t plugin_bulk(const struct ab_heap *h, size_t size, size_t n, void **out)
{
    return h->plugin->alloc_bulk(size, n, out);
}

/* jemalloc's experimental.batch_alloc: best effort, fills up to num. */
struct je_batch_packet {
    void **ptrs;
    size_t num;
    size_t size;
    int flags;
};

static size_t jemalloc_bulk(const struct ab_heap *h, size_t size, size_t n, void **out)
{
    struct je_batch_packet pkt = {out, n, size, 0};
    size_t filled = 0, len = sizeof filled;
    if (h->mallctlbymib(h->bulk_mib, h->bulk_miblen, &filled, &len, &pkt, sizeof pkt))
        return 0;
    return filled;
}

/* Look a symbol up the way the process resolves it, and keep it only when the
 * subject's library really defines it. */
static void *own_sym(const char *name, const char *path)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    return p && ab_heap_origin_is(p, path) ? p : NULL;
}

void *ab_heap_sym(const struct ab_heap *h, const char *name)
{
    if (h->kind == AB_SUBJECT_PLUGIN || !h->malloc_from[0])
        return NULL;
    return own_sym(name, h->malloc_from);
}

#define AB_SET_FN(dst, src) memcpy(&(dst), &(src), sizeof(dst))

static int open_plugin(struct ab_heap *h, const char *path, char *err, size_t errlen)
{
    h->plugin_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h->plugin_handle) {
        snprintf(err, errlen, "cannot load plugin: %s", dlerror());
        return -ENOENT;
    }
    void *sym = dlsym(h->plugin_handle, ALLOCBENCH_PLUGIN_ENTRY);
    allocbench_plugin_entry_fn entry;
    if (!sym) {
        snprintf(err, errlen, "'%s' has no " ALLOCBENCH_PLUGIN_ENTRY, path);
        return -ENOENT;
    }
    AB_SET_FN(entry, sym);
    const struct allocbench_plugin *p = entry(ALLOCBENCH_PLUGIN_ABI_VERSION);
    if (ab_plugin_validate(p, err, errlen))
        return -EINVAL;
    bound_plugin = p;
    h->plugin = p;
    h->family = AB_FAMILY_PLUGIN;
    h->malloc = p->malloc;
    h->free = p->free;
    h->realloc = p->realloc;
    h->aligned_alloc = p->aligned_alloc;
    h->calloc = p->calloc ? p->calloc : plugin_calloc;
    h->usable_size = plugin_usable;
    h->alloc_bulk = p->alloc_bulk ? plugin_bulk : NULL;
    ab_strlcpy(h->version, p->version, sizeof h->version);
    ab_strlcpy(h->malloc_from, path, sizeof h->malloc_from);
    return 0;
}

static void mimalloc_version(int v, char *buf, size_t len)
{
    /* mi_version() is major*100 + minor*10 + patch (209 is 2.0.9). */
    snprintf(buf, len, "%d.%d.%d", v / 100, (v % 100) / 10, v % 10);
}

int ab_heap_open(struct ab_heap *h, enum ab_subject_kind kind, const char *path, char *err,
                 size_t errlen)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
    if (kind == AB_SUBJECT_PLUGIN)
        return open_plugin(h, path, err, errlen);

    void *m = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info;
    if (m && dladdr(m, &info) && info.dli_fname && !realpath(info.dli_fname, h->malloc_from))
        ab_strlcpy(h->malloc_from, info.dli_fname, sizeof h->malloc_from);
    if (!ab_heap_origin_is(m, path)) {
        snprintf(err, errlen, "malloc resolves to '%s', not to '%s' (was the preload ignored?)",
                 h->malloc_from[0] ? h->malloc_from : "nothing", path);
        return -ESRCH;
    }
    void *f = own_sym("free", path);
    if (!f) {
        snprintf(err, errlen, "free does not resolve to '%s'", path);
        return -ESRCH;
    }
    AB_SET_FN(h->malloc, m);
    AB_SET_FN(h->free, f);
    void *s;
    if ((s = own_sym("calloc", path)))
        AB_SET_FN(h->calloc, s);
    if ((s = own_sym("realloc", path)))
        AB_SET_FN(h->realloc, s);
    if ((s = own_sym("aligned_alloc", path)))
        AB_SET_FN(h->aligned_alloc, s);
    if ((s = own_sym("malloc_usable_size", path)))
        AB_SET_FN(h->usable_size, s);

    h->family = AB_FAMILY_OTHER;
    if ((s = own_sym("mallctl", path))) {
        h->family = AB_FAMILY_JEMALLOC;
        AB_SET_FN(h->mallctl, s);
        const char *v = NULL;
        size_t len = sizeof v;
        if (h->mallctl("version", &v, &len, NULL, 0) == 0 && v)
            ab_strlcpy(h->version, v, sizeof h->version);
        if ((s = own_sym("mallctlbymib", path))) {
            AB_SET_FN(h->mallctlbymib, s);
            int (*nametomib)(const char *, size_t *, size_t *) = NULL;
            void *n2m = own_sym("mallctlnametomib", path);
            AB_SET_FN(nametomib, n2m);
            h->bulk_miblen = sizeof h->bulk_mib / sizeof h->bulk_mib[0];
            if (nametomib && nametomib("experimental.batch_alloc", h->bulk_mib,
                                       &h->bulk_miblen) == 0)
                h->alloc_bulk = jemalloc_bulk;
        }
    } else if ((s = own_sym("tc_version", path))) {
        h->family = AB_FAMILY_TCMALLOC;
        const char *(*tcv)(int *, int *, const char **);
        AB_SET_FN(tcv, s);
        int major = 0, minor = 0;
        const char *patch = NULL;
        const char *v = tcv(&major, &minor, &patch);
        ab_strlcpy(h->version, v ? v : "", sizeof h->version);
        if ((s = own_sym("MallocExtension_GetNumericProperty", path)))
            AB_SET_FN(h->tc_numeric, s);
        if ((s = own_sym("MallocExtension_ReleaseFreeMemory", path)))
            AB_SET_FN(h->tc_release, s);
    } else if ((s = own_sym("mi_version", path))) {
        h->family = AB_FAMILY_MIMALLOC;
        int (*miv)(void);
        AB_SET_FN(miv, s);
        mimalloc_version(miv(), h->version, sizeof h->version);
        if ((s = own_sym("mi_process_info", path)))
            AB_SET_FN(h->mi_process_info, s);
        if ((s = own_sym("mi_collect", path)))
            AB_SET_FN(h->mi_collect, s);
    } else if (own_sym("gnu_get_libc_version", path)) {
        /* malloc comes from the C library itself: glibc is the allocator. */
        h->family = AB_FAMILY_GLIBC;
        ab_strlcpy(h->version, gnu_get_libc_version(), sizeof h->version);
        if ((s = own_sym("mallinfo2", path)))
            AB_SET_FN(h->mallinfo2, s);
        if ((s = own_sym("malloc_trim", path)))
            AB_SET_FN(h->malloc_trim, s);
    }
    return 0;
}

void ab_heap_close(struct ab_heap *h)
{
    if (h->plugin && h->plugin->fini)
        h->plugin->fini();
    /* The plugin stays mapped: blocks may still be referenced until exit. */
}

void ab_heap_stats(const struct ab_heap *h, struct ab_alloc_stats *out)
{
    out->allocated = out->active = out->resident = out->mapped = out->limited = -1;
    switch (h->family) {
    case AB_FAMILY_JEMALLOC: {
        uint64_t epoch = 1;
        size_t sz = sizeof epoch;
        if (h->mallctl("epoch", &epoch, &sz, &epoch, sz))
            return;
        static const char *const keys[4] = {"stats.allocated", "stats.active",
                                            "stats.resident", "stats.mapped"};
        int64_t *dst[4] = {&out->allocated, &out->active, &out->resident, &out->mapped};
        for (int i = 0; i < 4; i++) {
            size_t v, len = sizeof v;
            if (h->mallctl(keys[i], &v, &len, NULL, 0) == 0)
                *dst[i] = (int64_t)v;
        }
        break;
    }
    case AB_FAMILY_TCMALLOC: {
        if (!h->tc_numeric)
            return;
        size_t alloc, heap, unmapped;
        if (h->tc_numeric("generic.current_allocated_bytes", &alloc))
            out->allocated = (int64_t)alloc;
        if (h->tc_numeric("generic.heap_size", &heap)) {
            out->mapped = (int64_t)heap;
            /* TCMALLOC_HEAP_LIMIT_MB counts this (page_heap.cc EnsureLimit). */
            if (h->tc_numeric("tcmalloc.pageheap_unmapped_bytes", &unmapped))
                out->resident = out->limited = (int64_t)(heap - unmapped);
        }
        break;
    }
    case AB_FAMILY_MIMALLOC: {
        if (!h->mi_process_info)
            return;
        size_t el, us, sy, rss, prss, commit, pcommit, faults;
        h->mi_process_info(&el, &us, &sy, &rss, &prss, &commit, &pcommit, &faults);
        out->resident = (int64_t)rss;
        out->mapped = (int64_t)commit;
        break;
    }
    case AB_FAMILY_GLIBC: {
        if (!h->mallinfo2)
            return;
        struct mallinfo2 mi = h->mallinfo2();
        out->allocated = (int64_t)(mi.uordblks + mi.hblkhd);
        out->mapped = (int64_t)(mi.arena + mi.hblkhd);
        break;
    }
    case AB_FAMILY_PLUGIN: {
        if (!h->plugin->stats)
            return;
        struct allocbench_plugin_stats st = {.struct_size = sizeof st};
        if (h->plugin->stats(&st))
            return;
        if (st.valid & ALLOCBENCH_STAT_MAPPED)
            out->mapped = out->limited = (int64_t)st.mapped_bytes;
        if (st.valid & ALLOCBENCH_STAT_RESIDENT)
            out->resident = (int64_t)st.resident_bytes;
        if (st.valid & ALLOCBENCH_STAT_LIVE)
            out->allocated = (int64_t)st.live_bytes;
        break;
    }
    case AB_FAMILY_OTHER:
        break;
    }
}

bool ab_heap_release(const struct ab_heap *h)
{
    switch (h->family) {
    case AB_FAMILY_GLIBC:
        if (!h->malloc_trim)
            return false;
        h->malloc_trim(0);
        return true;
    case AB_FAMILY_JEMALLOC:
        /* 4096 is MALLCTL_ARENAS_ALL. */
        h->mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
        return h->mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0;
    case AB_FAMILY_TCMALLOC:
        if (!h->tc_release)
            return false;
        h->tc_release();
        return true;
    case AB_FAMILY_MIMALLOC:
        if (!h->mi_collect)
            return false;
        h->mi_collect(true);
        return true;
    case AB_FAMILY_PLUGIN:
    case AB_FAMILY_OTHER:
        break;
    }
    return false;
}

cJSON *ab_alloc_stats_json(const struct ab_alloc_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    ab_json_add_int(o, "allocated", s->allocated);
    ab_json_add_int(o, "active", s->active);
    ab_json_add_int(o, "resident", s->resident);
    ab_json_add_int(o, "mapped", s->mapped);
    return o;
}
