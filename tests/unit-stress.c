/* Stress building blocks: profiles parse (and a malformed file names its
 * line), size mixes stay in range, and block verification fires on a fake
 * allocator that misaligns, lies about usable size, hands out dirty calloc
 * memory, loses realloc contents or hands a live block out twice, and on
 * nothing when the fake allocator behaves. */
#include "stress.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char header[] =
    "profile\tthreads\tops\tduration\tlarge_ops\tlive\tsizes\tlarge\tcases\tremote_frees\t"
    "remote_bound\tas_limit\tpage_limit\thugepages\tnuma\tshutdown_slope\tsummary\n";
static const char good_row[] =
    "hosted-small\t2\t1000\t-\t4\t64\t8-128:3,129-1024\t64k-1M\tall\tyes\t64\t32M\t8M\tforbid"
    "\tforbid\t2k\tsmall\n";

static int load(const char *rows, struct ab_profiles *ps, char *err, size_t n)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", header, rows);
    return ab_profiles_parse("p.tsv", text, ps, err, n);
}

/* A row of the test header from its fields after the name, tab-joined. */
#define ROW(name, rest) name "\t" rest "\n"
#define TAIL "\tyes\t64\t32M\t8M\tforbid\tforbid\t1k\tx"

static void bad(const char *rows, const char *where, const char *words)
{
    struct ab_profiles ps;
    char err[512] = "";
    CHECK(load(rows, &ps, err, sizeof err) == -EINVAL);
    CHECK(strstr(err, where) != NULL);
    CHECK(strstr(err, words) != NULL);
    if (!strstr(err, where) || !strstr(err, words))
        fprintf(stderr, "  error was: %s\n", err);
}

/* A fake allocator over a static arena; each fault switched on alone. */
static struct {
    _Alignas(4096) unsigned char arena[1 << 20];
    size_t used;
    bool misalign, lie_usable, dirty_calloc, lose_realloc, twice;
    void *last;
} fake;

static void *fake_malloc(size_t n)
{
    if (fake.twice && fake.last)
        return fake.last;
    size_t at = fake.used;
    if (at + n + 16 > sizeof fake.arena)
        return NULL;
    /* what fake_usable says, and the misaligned 8, keeping 16-byte steps */
    fake.used = at + (((n < 64 ? 64 : n) + 16 + 15) & ~(size_t)15);
    fake.last = fake.arena + at + (fake.misalign ? 8 : 0);
    return fake.last;
}
static void fake_free(void *p)
{
    (void)p;
}
static void *fake_calloc(size_t n, size_t s)
{
    unsigned char *p = fake_malloc(n * s);
    if (p)
        memset(p, fake.dirty_calloc ? 1 : 0, n * s);
    return p;
}
static void *fake_realloc(void *p, size_t n)
{
    void *q = fake_malloc(n);
    if (q && !fake.lose_realloc)
        memcpy(q, p, n); /* the arena is large enough to read past */
    return q;
}
static void *fake_aligned(size_t a, size_t n)
{
    uintptr_t base = (uintptr_t)fake.arena + fake.used;
    fake.used += (size_t)(((base + a - 1) & ~(uintptr_t)(a - 1)) - base); /* to the alignment */
    return fake_malloc(n);
}
static size_t fake_usable(void *p)
{
    (void)p;
    return fake.lie_usable ? 4 : 64;
}

static bool fires(enum ab_code code, void (*step)(struct ab_stress *))
{
    static struct ab_heap h;
    h.malloc = fake_malloc;
    h.free = fake_free;
    h.calloc = fake_calloc;
    h.realloc = fake_realloc;
    h.aligned_alloc = fake_aligned;
    h.usable_size = fake_usable;
    static struct ab_findings f;
    struct ab_stress s;
    ab_stress_init(&s, &h, &f);
    s.verify = true;
    s.shadow = ab_shadow_new();
    step(&s);
    bool only = f.ndiags == (code == AB_CODE_COUNT ? 0u : 1u) &&
                (code == AB_CODE_COUNT || f.diags[0].code == code);
    if (!only)
        for (unsigned i = 0; i < f.ndiags; i++)
            fprintf(stderr, "  %s %s\n", ab_code_name(f.diags[i].code), f.diags[i].detail);
    ab_shadow_free(s.shadow);
    memset(&fake, 0, sizeof fake);
    return only;
}

static void step_alloc_free(struct ab_stress *s)
{
    struct ab_block b[4];
    for (int i = 0; i < 4; i++)
        CHECK(ab_block_alloc(s, &b[i], 48, 0, AB_ALLOC_MALLOC, (uint64_t)i) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(ab_block_free(s, &b[i]) == 1);
}
static void step_aligned(struct ab_stress *s)
{
    struct ab_block b;
    CHECK(ab_block_alloc(s, &b, 64, 64, AB_ALLOC_ALIGNED, 1) == 0);
    ab_block_free(s, &b);
}
static void step_calloc(struct ab_stress *s)
{
    struct ab_block b;
    CHECK(ab_block_alloc(s, &b, 40, 0, AB_ALLOC_CALLOC, 1) == 0);
    ab_block_free(s, &b);
}
static void step_realloc(struct ab_stress *s)
{
    struct ab_block b;
    CHECK(ab_block_alloc(s, &b, 32, 0, AB_ALLOC_MALLOC, 1) == 0);
    CHECK(ab_block_realloc(s, &b, 48, 2) == 0);
    ab_block_free(s, &b);
}
static void step_twice(struct ab_stress *s)
{
    struct ab_block a, b;
    CHECK(ab_block_alloc(s, &a, 32, 0, AB_ALLOC_MALLOC, 1) == 0);
    fake.twice = true;
    CHECK(ab_block_alloc(s, &b, 32, 0, AB_ALLOC_MALLOC, 2) == -EEXIST);
    CHECK(b.p == NULL);
    CHECK(ab_block_free(s, &a) == 1); /* the first holder's pattern survived */
}
static void step_scribble(struct ab_stress *s)
{
    struct ab_block b;
    CHECK(ab_block_alloc(s, &b, 32, 0, AB_ALLOC_MALLOC, 1) == 0);
    ((unsigned char *)b.p)[5] ^= 0x10;
    CHECK(!ab_block_check(s, &b));
    ab_block_free(s, &b);
}

int main(void)
{
    struct ab_profiles ps;
    char err[512];
    CHECK(load(good_row, &ps, err, sizeof err) == 0);
    const struct ab_profile *p = ab_profile_find(&ps, "hosted-small");
    CHECK(p && p->threads == 2 && !p->threads_per_cpu && p->ops == 1000 && p->duration_s == 0);
    CHECK(p && p->sizes.n == 2 && p->sizes.weight[0] == 3 && p->sizes.weight[1] == 1);
    CHECK(p && p->large.lo[0] == 64 << 10 && p->large.hi[0] == 1 << 20);
    CHECK(p && p->remote_frees && p->remote_bound == 64 && p->page_limit == 8u << 20);
    CHECK(p && p->abi_bit == ALLOCBENCH_PROFILE_HOSTED_SMALL && p->shutdown_slope == 2048);
    size_t ncases;
    ab_stress_cases(&ncases);
    CHECK(ncases == 7 && p && p->cases.n == ncases);
    uint64_t rng = 3;
    for (int i = 0; i < 10000 && p; i++) {
        size_t v = ab_size_mix_pick(&p->sizes, &rng);
        CHECK(v >= 8 && v <= 1024);
    }
    ab_profiles_free(&ps);

    /* The shipped file: six profiles, hooks opt-in on hosted-server only. */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/stress/profiles.tsv", getenv("AB_SOURCE") ? getenv("AB_SOURCE")
                                                                                : "..");
    CHECK(ab_profiles_load(path, &ps, err, sizeof err) == 0);
    CHECK(ps.n == 6);
    for (size_t i = 0; i < ps.n; i++) {
        bool server = !strcmp(ps.p[i].name, "hosted-server");
        CHECK((ps.p[i].hugepages == AB_HOOK_OPT_IN) == server);
        CHECK((ps.p[i].numa == AB_HOOK_OPT_IN) == server);
    }
    for (size_t i = 0; i < ps.n; i++)
        CHECK(ps.p[i].shutdown_slope > 0 && ps.p[i].shutdown_slope < 4096);
    const struct ab_profile *fs = ab_profile_find(&ps, "freestanding");
    CHECK(fs && !fs->remote_frees && fs->threads == 1);
    const struct ab_profile *hs = ab_profile_find(&ps, "hosted-server");
    CHECK(hs && hs->threads_per_cpu && ab_profile_threads(hs) >= hs->threads);
    ab_profiles_free(&ps);

    /* Malformed: each names the file and the line. */
    bad("hosted-small\t2\n", "p.tsv:2", "fields");
    bad(ROW("nosuch", "2\t1\t-\t4\t64\t8-16\t64k-1M\tall" TAIL), "p.tsv:2", "nosuch");
    bad(ROW("hosted-small", "0\t1\t-\t4\t64\t8-16\t64k-1M\tall" TAIL), "p.tsv:2", "threads");
    char two[1024];
    snprintf(two, sizeof two, "%s%s", good_row, good_row);
    bad(two, "p.tsv:3", "twice");
    bad(ROW("hosted-small", "2\t1\t-\t4\t64\t16-8\t64k-1M\tall" TAIL), "p.tsv:2", "sizes");
    bad(ROW("hosted-small", "2\t1\t-\t4\t64\t8-16\t64k-1M\tall\tyes\t64\t32M\t8M\topt-in\t"
                            "forbid\t1k\tx"),
        "p.tsv:2", "hosted-server");
    bad(ROW("hosted-small", "2\t-\t-\t4\t64\t8-16\t64k-1M\tall" TAIL), "p.tsv:2", "both");
    bad(ROW("hosted-small", "2\t1\t-\t4\t64\t8-16\t64k-1M\tlocal-free,nope" TAIL), "p.tsv:2",
        "nope");
    bad("\n", "p.tsv:2", "empty line");
    /* The shutdown bound is bytes per thread exit: at most 1G, k/M/G allowed. */
    bad(ROW("hosted-small", "2\t1\t-\t4\t64\t8-16\t64k-1M\tall\tyes\t64\t32M\t8M\tforbid\t"
                            "forbid\t2G\tx"),
        "p.tsv:2", "bytes per thread exit");
    bad(ROW("hosted-small", "2\t1\t-\t4\t64\t8-16\t64k-1M\tall\tyes\t64\t32M\t8M\tforbid\t"
                            "forbid\t-1\tx"),
        "p.tsv:2", "shutdown_slope");
    /* The column it replaced is no longer known. */
    char oldtext[2048];
    snprintf(oldtext, sizeof oldtext,
             "profile\tthreads\tops\tduration\tlarge_ops\tlive\tsizes\tlarge\tcases\t"
             "remote_frees\tremote_bound\tas_limit\tpage_limit\thugepages\tnuma\t"
             "shutdown_tolerance\tsummary\n%s", good_row);
    CHECK(ab_profiles_parse("o.tsv", oldtext, &ps, err, sizeof err) == -EINVAL &&
          strstr(err, "o.tsv:1") && strstr(err, "unknown column 'shutdown_tolerance'"));
    CHECK(ab_profiles_parse("q.tsv", "profile\tthreads\n", &ps, err, sizeof err) == -EINVAL &&
          strstr(err, "q.tsv:1"));
    CHECK(ab_profiles_parse("q.tsv", "", &ps, err, sizeof err) == -EINVAL &&
          strstr(err, "q.tsv:1"));

    /* Block verification: each fault fires its code alone; none fires none. */
    CHECK(fires(AB_CODE_COUNT, step_alloc_free));
    CHECK(fires(AB_CODE_COUNT, step_aligned));
    CHECK(fires(AB_CODE_COUNT, step_calloc));
    CHECK(fires(AB_CODE_COUNT, step_realloc));
    fake.misalign = true;
    CHECK(fires(AB_ALLOCBENCH_BLOCK_CONTRACT, step_aligned));
    fake.lie_usable = true;
    CHECK(fires(AB_ALLOCBENCH_BLOCK_CONTRACT, step_alloc_free));
    fake.dirty_calloc = true;
    CHECK(fires(AB_ALLOCBENCH_BLOCK_CORRUPTED, step_calloc));
    fake.lose_realloc = true;
    CHECK(fires(AB_ALLOCBENCH_BLOCK_CORRUPTED, step_realloc));
    CHECK(fires(AB_ALLOCBENCH_BLOCK_OVERLAP, step_twice));
    CHECK(fires(AB_ALLOCBENCH_BLOCK_CORRUPTED, step_scribble));
    return check_done();
}
