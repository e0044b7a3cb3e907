/*
 * plugin.c — the ref plugin's descriptor, its profiles, configure() and fini().
 *
 * ref is a reference allocator after seed 003's hosted-server design:
 * per-thread heaps with size-class thread caches for the local fast path,
 * spans owned by one heap at a time, bounded lock-free remote-free queues,
 * central span lists behind a transfer cache, and a page backend that
 * holds a page limit and applies the hugepage and NUMA hooks where the
 * profile allows them.  README.md describes the design and its measured
 * costs.
 *
 * Profiles (configure picks one; before any configure, hosted-server's
 * tuning without hooks):
 *
 *   hosted-small   mmap'd spans, 64 KiB of cache per class and heap, remote
 *                  bound 1024, a small pool and large cache; no hooks
 *   hosted-server  256 KiB of cache per class and heap, remote bound 4096,
 *                  larger pool, transfer cache and large cache; hugepages
 *                  (MADV_HUGEPAGE, small spans mapped in 2 MiB chunks) and
 *                  NUMA binding (mbind MPOL_BIND) when asked for
 *   test-fixture   a deterministic backend: one fixed region (the page
 *                  limit, else 64 MiB or region=SIZE) placed first-fit, no
 *                  large cache, 16 KiB of cache per class, remote bound 64
 *
 * Options ("key=value,..."): remote_bound=N (1..2^32, at most the
 * profile's), tcache=SIZE (bytes per class and heap, 1k..16M; new heaps),
 * pool=N (empty spans kept), region=SIZE (test-fixture), xstats=0|1.
 */
#include "alloc.h"

#include "central.h"
#include "heap.h"
#include "page.h"

#include <errno.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static const struct ref_tuning tunings[] = {
    {
        .profile = ALLOCBENCH_PROFILE_HOSTED_SMALL,
        .remote_bound = 1024,
        .tcache_bytes = 64 * KiB,
        .pool_spans = 8,
        .transfer_spans = 8,
        .lcache_spans = 4,
        .lcache_bytes = 8 * MiB,
    },
    {
        .profile = ALLOCBENCH_PROFILE_HOSTED_SERVER,
        .remote_bound = 4096,
        .tcache_bytes = 256 * KiB,
        .pool_spans = 32,
        .transfer_spans = 16,
        .lcache_spans = 8,
        .lcache_bytes = 32 * MiB,
        .hooks = true,
    },
    {
        .profile = ALLOCBENCH_PROFILE_TEST_FIXTURE,
        .remote_bound = 64,
        .tcache_bytes = 16 * KiB,
        .pool_spans = 0,
        .transfer_spans = 4,
        .region_bytes = 64 * MiB,
    },
};
#define DEFAULT_TUNING 1 /* hosted-server */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* fork: the child inherits the locks as the parent held them at fork, so
 * hold all of them across it (in lock order). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&ref_g.lock);
    ref_heap_fork_lock(true);
    for (unsigned c = 0; c < REF_NCLASS; c++)
        pthread_mutex_lock(&ref_g.central[c].lock);
    pthread_mutex_lock(&ref_g.pb_lock);
}

static void fork_release(void)
{
    pthread_mutex_unlock(&ref_g.pb_lock);
    for (unsigned c = REF_NCLASS; c-- > 0;)
        pthread_mutex_unlock(&ref_g.central[c].lock);
    ref_heap_fork_lock(false);
    pthread_mutex_unlock(&ref_g.lock);
}

static void init(void)
{
    long page = sysconf(_SC_PAGESIZE);
    ref_g.page = page > 0 ? (size_t)page : 4096;
    ref_g.t = tunings[DEFAULT_TUNING];
    atomic_store(&ref_g.remote_bound, ref_g.t.remote_bound);
    ref_central_init();
    pthread_atfork(fork_prepare, fork_release, fork_release);
}

/* ------------------------------------------------------------ configure */

static int parse_u64(const char *s, size_t len, bool suffixes, uint64_t *out)
{
    char buf[32];
    if (!len || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] < '0' || buf[0] > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno)
        return -EINVAL;
    unsigned shift = 0;
    if (suffixes && (*end == 'k' || *end == 'K'))
        shift = 10, end++;
    else if (suffixes && (*end == 'm' || *end == 'M'))
        shift = 20, end++;
    else if (suffixes && (*end == 'g' || *end == 'G'))
        shift = 30, end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

struct options {
    uint64_t remote_bound;
    size_t tcache_bytes, region_bytes;
    unsigned pool_spans;
    bool xstats;
};

static int parse_options(const char *opts, struct options *o)
{
    for (const char *p = opts; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return -EINVAL;
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        uint64_t v;
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(p, k, klen))
        if (KEY("remote_bound")) {
            if (parse_u64(eq + 1, vlen, false, &v) || !v || v > UINT32_MAX)
                return -EINVAL;
            o->remote_bound = v;
        } else if (KEY("tcache")) {
            if (parse_u64(eq + 1, vlen, true, &v) || v < KiB || v > 16 * MiB)
                return -EINVAL;
            o->tcache_bytes = (size_t)v;
        } else if (KEY("pool")) {
            if (parse_u64(eq + 1, vlen, false, &v) || v > 4096)
                return -EINVAL;
            o->pool_spans = (unsigned)v;
        } else if (KEY("region")) {
            if (parse_u64(eq + 1, vlen, true, &v) || v < 4 * REF_SPAN ||
                v > REF_REGION_WORDS * 64 * REF_SPAN)
                return -EINVAL;
            o->region_bytes = (size_t)v;
        } else if (KEY("xstats")) {
            if (parse_u64(eq + 1, vlen, false, &v) || v > 1)
                return -EINVAL;
            o->xstats = v;
        } else {
            return -EINVAL;
        }
#undef KEY
        p = comma ? comma + 1 : p + len;
    }
    return 0;
}

/* The hooks only for hosted-server (-EPERM elsewhere), a NUMA node only if
 * it exists (-EINVAL), and only what this host can apply (probed on a
 * page).  The configuration holds for mappings made afterwards: configure
 * before the first allocation. */
static int ref_configure(const struct allocbench_plugin_config *c)
{
    pthread_once(&init_once, init);
    if (!c || c->struct_size < sizeof *c)
        return -EINVAL;
    for (size_t i = 0; i < sizeof c->reserved / sizeof c->reserved[0]; i++)
        if (c->reserved[i])
            return -EINVAL;
    if (!c->profile || (c->profile & (c->profile - 1)))
        return -EINVAL;
    const struct ref_tuning *t = NULL;
    for (size_t i = 0; i < sizeof tunings / sizeof tunings[0]; i++)
        if (tunings[i].profile == c->profile)
            t = &tunings[i];
    if (!t)
        return -ENOTSUP;
    if (c->hugepages < 0 || c->hugepages > 1 || c->numa_node < -1)
        return -EINVAL;
    bool hooks = c->hugepages || c->numa_node >= 0;
    if (hooks && !t->hooks)
        return -EPERM;
    if (c->numa_node >= 0 &&
        (numa_available() < 0 || c->numa_node > numa_max_node() ||
         !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)c->numa_node)))
        return -EINVAL;
    struct options o = {
        .remote_bound = t->remote_bound,
        .tcache_bytes = t->tcache_bytes,
        .region_bytes = t->region_bytes,
        .pool_spans = t->pool_spans,
    };
    int rc = parse_options(c->options, &o);
    if (rc)
        return rc;
    if (o.remote_bound > t->remote_bound)
        return -EINVAL; /* the profile's bound is a promise */
    if (t->region_bytes) {
        if (c->page_limit) /* the region is the limit, in whole spans */
            o.region_bytes = (size_t)(c->page_limit / REF_SPAN * REF_SPAN);
        if (o.region_bytes < 4 * REF_SPAN || o.region_bytes > REF_REGION_WORDS * 64 * REF_SPAN)
            return -EINVAL;
    } else if (o.region_bytes != t->region_bytes) {
        return -EINVAL; /* region= is the fixture's */
    }
    if ((rc = ref_page_hooks_probe(c->hugepages == 1, c->numa_node)))
        return rc;

    pthread_mutex_lock(&ref_g.lock);
    pthread_mutex_lock(&ref_g.pb_lock);
    /* The backend kind and the region are fixed once anything is mapped. */
    bool busy = atomic_load(&ref_g.mapped) &&
                ((t->region_bytes != 0) != (ref_g.t.region_bytes != 0) ||
                 (ref_g.region && o.region_bytes != ref_g.t.region_bytes));
    if (!busy) {
        ref_g.t = *t;
        ref_g.t.tcache_bytes = o.tcache_bytes;
        ref_g.t.pool_spans = o.pool_spans;
        ref_g.t.region_bytes = o.region_bytes;
        ref_g.hugepages = c->hugepages == 1;
        ref_g.numa_node = c->numa_node;
        ref_g.xstats = o.xstats;
        atomic_store(&ref_g.page_limit, c->page_limit);
        atomic_store(&ref_g.remote_bound, o.remote_bound);
    }
    pthread_mutex_unlock(&ref_g.pb_lock);
    pthread_mutex_unlock(&ref_g.lock);
    return busy ? -EBUSY : 0;
}

/* Everything the plugin mapped goes back: heaps, spans, pool, caches,
 * region.  Blocks still live are released with it; no call may follow
 * (other threads' heap pointers dangle). */
static int ref_fini(void)
{
    pthread_once(&init_once, init);
    pthread_mutex_lock(&ref_g.lock);
    ref_heap_fini_locked();
    ref_page_fini();
    ref_central_init();
    atomic_store(&ref_g.rdepth, 0);
    atomic_store(&ref_g.span_out_bytes, 0);
    atomic_store(&ref_g.large_live, 0);
    atomic_store(&ref_g.overflows, 0);
    atomic_store(&ref_g.orphan_remote_frees, 0);
    atomic_store(&ref_g.orphan_remote_bytes, 0);
    atomic_store(&ref_g.orphan_drained_bytes, 0);
    atomic_store(&ref_g.map_hint, 0);
    pthread_mutex_unlock(&ref_g.lock);
    return 0;
}

static const struct allocbench_plugin descriptor = {
    .abi_version = ALLOCBENCH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct allocbench_plugin),
    .name = "ref",
    .version = "1.0",
    .profiles = ALLOCBENCH_PROFILE_HOSTED_SMALL | ALLOCBENCH_PROFILE_HOSTED_SERVER |
                ALLOCBENCH_PROFILE_TEST_FIXTURE,
    .malloc = ref_malloc,
    .free = ref_free,
    .realloc = ref_realloc,
    .aligned_alloc = ref_aligned_alloc,
    .usable_size = ref_usable_size,
    .calloc = ref_calloc,
    .alloc_bulk = ref_alloc_bulk,
    .checkpoint_save = ref_heap_save,
    .checkpoint_restore = ref_heap_restore,
    .thread_attach = ref_heap_attach,
    .thread_detach = ref_heap_detach,
    .configure = ref_configure,
    .stats = ref_stats,
    .fini = ref_fini,
};

EXPORT const struct allocbench_plugin *allocbench_plugin_entry(uint32_t host_abi)
{
    if (host_abi != ALLOCBENCH_PLUGIN_ABI_VERSION)
        return NULL;
    pthread_once(&init_once, init);
    return &descriptor;
}
