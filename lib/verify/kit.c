/*
 * kit.c — a stress case inside its child: verified blocks, threads and
 * findings, the toolkit the cases (stress/) and the verifying workloads are
 * made of.
 *
 * Every block is checked three ways: at allocation its alignment, usable
 * size and (calloc) zeroing, and that it overlaps no live block (the shadow
 * of verify.c); then the address-derived pattern is written over all its
 * usable bytes and checked when it is freed.  Cost per verified block: two
 * shadow updates (one atomic per 512 bytes) and a pattern write and read
 * (one multiply-add per 8 bytes each way).
 */
#include "verify.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ab_verdict_name(enum ab_verdict v)
{
    switch (v) {
    case AB_VERDICT_HELD: return "held";
    case AB_VERDICT_FAILED: return "failed";
    case AB_VERDICT_NA: return "not-applicable";
    case AB_VERDICT_SKIPPED: return "skipped";
    }
    return "?";
}

void ab_stress_init(struct ab_stress *s, const struct ab_heap *h, struct ab_findings *f)
{
    memset(s, 0, sizeof *s);
    memset(f, 0, sizeof *f);
    s->heap = h;
    s->f = f;
    s->threads = 1;
    s->seed = 1;
    s->statm_fd = -1;
    s->hooks.numa_node = -1;
    pthread_mutex_init(&s->lock, NULL);
}

void ab_stress_diag(struct ab_stress *s, enum ab_code code, const char *fmt, ...)
{
    struct ab_findings *f = s->f;
    pthread_mutex_lock(&s->lock);
    unsigned i = 0;
    while (i < f->ndiags && f->diags[i].code != code)
        i++;
    if (i < f->ndiags) {
        f->diag_count[i]++; /* the first detail stands for all */
    } else if (i < AB_FINDINGS_MAX) {
        f->diags[i].code = code;
        f->diag_count[i] = 1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->diags[i].detail, sizeof f->diags[i].detail, fmt, ap);
        va_end(ap);
        f->ndiags++;
    }
    pthread_mutex_unlock(&s->lock);
}

bool ab_stress_has_diag(const struct ab_stress *s, enum ab_code code)
{
    for (unsigned i = 0; i < s->f->ndiags; i++)
        if (s->f->diags[i].code == code)
            return true;
    return false;
}

void ab_stress_check(struct ab_stress *s, const char *name, enum ab_verdict v, const char *fmt,
                     ...)
{
    struct ab_findings *f = s->f;
    pthread_mutex_lock(&s->lock);
    if (f->nchecks < AB_FINDINGS_MAX) {
        struct ab_check *c = &f->checks[f->nchecks++];
        ab_strlcpy(c->name, name, sizeof c->name);
        c->verdict = v;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->detail, sizeof c->detail, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&s->lock);
}

void ab_stress_figure(struct ab_stress *s, const char *name, const char *unit, double value)
{
    struct ab_findings *f = s->f;
    pthread_mutex_lock(&s->lock);
    if (f->nfigures < AB_FINDINGS_MAX) {
        struct ab_figure *g = &f->figures[f->nfigures++];
        ab_strlcpy(g->name, name, sizeof g->name);
        ab_strlcpy(g->unit, unit, sizeof g->unit);
        g->value = value;
    }
    pthread_mutex_unlock(&s->lock);
}

void ab_stress_incomplete(struct ab_stress *s, const char *fmt, ...)
{
    pthread_mutex_lock(&s->lock);
    if (!s->f->incomplete) {
        s->f->incomplete = true;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->f->incomplete_reason, sizeof s->f->incomplete_reason, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&s->lock);
}

void ab_stress_count(struct ab_stress *s, uint64_t ops, uint64_t verified)
{
    __atomic_fetch_add(&s->f->ops, ops, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->f->verified, verified, __ATOMIC_RELAXED);
}

/* ----------------------------------------------------------------- blocks */

static const char *how_name(enum ab_alloc_how how)
{
    return how == AB_ALLOC_CALLOC ? "calloc" : how == AB_ALLOC_ALIGNED ? "aligned_alloc" : "malloc";
}

/* The alignment every block of this size must have: the fundamental 16 of
 * x86-64, or the largest power of two not above a smaller size (an 8-byte
 * object needs no more than 8). */
static size_t fundamental_alignment(size_t size)
{
    size_t a = 16;
    while (a > 1 && a > size)
        a >>= 1;
    return a;
}

static void hold(struct ab_block *b, void *p, size_t usable, uint64_t seq)
{
    b->p = p;
    b->usable = usable;
    b->seq = seq;
}

/* "malloc(24)", "aligned_alloc(256, 256)": formatted only for a report. */
static void call_text(char *buf, size_t n, const char *fn, size_t size, size_t align)
{
    if (align)
        snprintf(buf, n, "%s(%zu, %zu)", fn, align, size);
    else
        snprintf(buf, n, "%s(%zu)", fn, size);
}

size_t ab_block_contract(struct ab_stress *s, void *p, size_t size, size_t align,
                         const char *fn)
{
    size_t need = align ? align : fundamental_alignment(size);
    size_t usable = s->heap->usable_size ? s->heap->usable_size(p) : size;
    if ((uintptr_t)p % need == 0 && usable >= size)
        return usable; /* the common case: nothing to format */
    char call[64];
    call_text(call, sizeof call, fn, size, align);
    if ((uintptr_t)p % need)
        ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_CONTRACT, "%s returned %p, not aligned to %zu bytes",
                       call, p, need);
    if (usable >= size)
        return usable;
    ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_CONTRACT,
                   "malloc_usable_size says %zu bytes for the block %s returned at %p", usable,
                   call, p);
    return size;
}

int ab_block_alloc(struct ab_stress *s, struct ab_block *b, size_t size, size_t align,
                   enum ab_alloc_how how, uint64_t seq)
{
    const struct ab_heap *h = s->heap;
    void *p;
    errno = 0;
    switch (how) {
    case AB_ALLOC_CALLOC: p = h->calloc(size, 1); break;
    case AB_ALLOC_ALIGNED: p = h->aligned_alloc(align, size); break;
    case AB_ALLOC_MALLOC:
    default: p = h->malloc(size); break;
    }
    b->p = NULL;
    if (!p)
        return -ENOMEM;
    if (!s->verify) {
        if (how != AB_ALLOC_CALLOC)
            ab_touch(p, size, seq);
        hold(b, p, size, seq);
        return 0;
    }
    size_t a = how == AB_ALLOC_ALIGNED ? align : 0;
    size_t usable = ab_block_contract(s, p, size, a, how_name(how));
    int rc = ab_shadow_add(s->shadow, p, usable);
    if (rc == -EEXIST) {
        /* Handed out while part of it is live: leave it alone (writing it
         * would corrupt the other holder) and leave it allocated. */
        char call[64];
        call_text(call, sizeof call, how_name(how), size, a);
        ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_OVERLAP,
                       "%s returned [%p, +%zu) which overlaps a live block", call, p, usable);
        return -EEXIST;
    }
    if (rc)
        ab_stress_incomplete(s, "the live-set shadow is full (%zu bytes)",
                             ab_shadow_bytes(s->shadow));
    if (how == AB_ALLOC_CALLOC) {
        const unsigned char *c = p;
        for (size_t i = 0; i < size; i++)
            if (c[i]) {
                ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                               "calloc(%zu) block at %p is not zero at offset %zu", size, p, i);
                break;
            }
    }
    ab_pattern_fill(p, usable, seq);
    hold(b, p, usable, seq);
    return 0;
}

static bool pattern_ok(struct ab_stress *s, const struct ab_block *b, const char *when)
{
    size_t off = ab_pattern_check(b->p, b->usable, b->seq);
    if (!off)
        return true;
    ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                   "block [%p, +%zu) changed at offset %zu while live (found %s)", b->p,
                   b->usable, off - 1, when);
    return false;
}

bool ab_block_check(struct ab_stress *s, const struct ab_block *b)
{
    return !s->verify || pattern_ok(s, b, "on another thread");
}

void ab_block_rewrite(struct ab_stress *s, struct ab_block *b, uint64_t seq)
{
    if (!s->verify) {
        ab_touch(b->p, b->usable, seq);
        return;
    }
    pattern_ok(s, b, "on another thread");
    ab_pattern_fill(b->p, b->usable, seq);
    b->seq = seq;
}

unsigned ab_block_free(struct ab_stress *s, struct ab_block *b)
{
    if (!b->p)
        return 0;
    unsigned verified = 0;
    if (s->verify) {
        pattern_ok(s, b, "at free");
        if (ab_shadow_remove(s->shadow, b->p, b->usable))
            ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_OVERLAP,
                           "block [%p, +%zu) was partly cleared from the live set by another "
                           "block's free", b->p, b->usable);
        verified = 1;
    }
    s->heap->free(b->p);
    b->p = NULL;
    return verified;
}

void ab_block_forget(struct ab_stress *s, struct ab_block *b)
{
    if (b->p && s->verify)
        ab_shadow_remove(s->shadow, b->p, b->usable);
    b->p = NULL;
}

/* A position-independent digest of n bytes: realloc may move a block, and
 * the pattern is tied to the address it was written at. */
static uint64_t digest(const void *p, size_t n)
{
    const unsigned char *c = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, c + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

int ab_block_realloc(struct ab_stress *s, struct ab_block *b, size_t size, uint64_t seq)
{
    const struct ab_heap *h = s->heap;
    if (!s->verify) {
        void *q = h->realloc(b->p, size);
        if (!q)
            return -ENOMEM;
        ab_touch(q, size, seq);
        hold(b, q, size, seq);
        return 0;
    }
    pattern_ok(s, b, "before realloc");
    size_t keep = b->usable < size ? b->usable : size;
    uint64_t before = digest(b->p, keep);
    ab_shadow_remove(s->shadow, b->p, b->usable);
    errno = 0;
    void *q = h->realloc(b->p, size);
    if (!q) {
        ab_shadow_add(s->shadow, b->p, b->usable);
        return -ENOMEM;
    }
    if (digest(q, keep) != before)
        ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                       "realloc(%p, %zu) to %p did not keep the first %zu bytes", b->p, size, q,
                       keep);
    size_t usable = ab_block_contract(s, q, size, 0, "realloc");
    b->p = NULL;
    if (ab_shadow_add(s->shadow, q, usable) == -EEXIST) {
        ab_stress_diag(s, AB_ALLOCBENCH_BLOCK_OVERLAP,
                       "realloc(%zu) returned [%p, +%zu) which overlaps a live block", size, q,
                       usable);
        return -EEXIST;
    }
    ab_pattern_fill(q, usable, seq);
    hold(b, q, usable, seq);
    return 0;
}

void ab_stress_block_checks(struct ab_stress *s)
{
    static const struct {
        const char *name;
        enum ab_code code;
        const char *what;
    } checks[] = {
        {"patterns", AB_ALLOCBENCH_BLOCK_CORRUPTED, "every pattern intact at free"},
        {"overlap", AB_ALLOCBENCH_BLOCK_OVERLAP, "no block overlapped a live one"},
        {"contract", AB_ALLOCBENCH_BLOCK_CONTRACT, "alignment and usable size honoured"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (!s->verify)
            ab_stress_check(s, checks[i].name, AB_VERDICT_SKIPPED, "verification is off");
        else if (ab_stress_has_diag(s, checks[i].code))
            ab_stress_check(s, checks[i].name, AB_VERDICT_FAILED, "%s",
                            ab_code_summary(checks[i].code));
        else if (!s->f->verified && !s->f->ops)
            ab_stress_check(s, checks[i].name, AB_VERDICT_NA, "no block was allocated");
        else if (i == 2 && !s->heap->usable_size)
            ab_stress_check(s, checks[i].name, AB_VERDICT_HELD,
                            "alignment honoured; usable size not offered by the allocator");
        else
            ab_stress_check(s, checks[i].name, AB_VERDICT_HELD, "%s (%llu blocks)",
                            checks[i].what, (unsigned long long)s->f->verified);
    }
}

/* ---------------------------------------------------------------- threads */

bool ab_stress_more(const struct ab_stress *s, uint64_t done)
{
    if (s->ops_cap && done >= s->ops_cap)
        return false;
    /* The clock is read once per 64 operations: a vDSO call is cheap, but
     * not free next to a 20 ns malloc. */
    if (s->deadline_ns && (done & 63) == 0 && ab_now_ns() >= s->deadline_ns)
        return false;
    return true;
}

uint64_t ab_stress_rng(const struct ab_stress *s, unsigned i)
{
    return ab_rng_stream(s->seed, i);
}

struct stress_thread {
    struct ab_stress *s;
    unsigned index;
    void (*fn)(struct ab_stress *, unsigned, void *);
    void *arg;
    pthread_t tid;
};

static void *stress_thread_main(void *arg)
{
    struct stress_thread *t = arg;
    const struct allocbench_plugin *pl = t->s->heap->plugin;
    if (pl && pl->thread_attach)
        pl->thread_attach();
    t->fn(t->s, t->index, t->arg);
    if (pl && pl->thread_detach)
        pl->thread_detach();
    return NULL;
}

int ab_stress_threads(struct ab_stress *s, unsigned n,
                      void (*fn)(struct ab_stress *s, unsigned i, void *arg), void *arg)
{
    struct stress_thread *t = ab_buf_alloc(n * sizeof *t);
    if (!t)
        return -ENOMEM;
    unsigned started = 0;
    int rc = 0;
    for (; started < n; started++) {
        t[started] = (struct stress_thread){s, started, fn, arg, 0};
        if ((rc = pthread_create(&t[started].tid, NULL, stress_thread_main, &t[started])))
            break;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i].tid, NULL);
    ab_buf_free(t, n * sizeof *t);
    return rc ? -rc : 0;
}

int64_t ab_stress_vm_bytes(const struct ab_stress *s)
{
    int64_t vm, rss;
    ab_statm_read(s->statm_fd, &vm, &rss);
    return vm < 0 ? -1 : vm * 1024;
}

int64_t ab_stress_rss_bytes(const struct ab_stress *s)
{
    int64_t vm, rss;
    ab_statm_read(s->statm_fd, &vm, &rss);
    return rss < 0 ? -1 : rss * 1024;
}

/* ------------------------------------------------------------- case sets */

bool ab_case_set_has(const struct ab_case_set *s, const char *name)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->name[i], name))
            return true;
    return false;
}

int ab_case_set_add(struct ab_case_set *s, const char *name)
{
    if (ab_case_set_has(s, name))
        return -EEXIST;
    if (s->n == AB_CASES_MAX)
        return -E2BIG;
    if (strlen(name) >= sizeof s->name[0])
        return -ENAMETOOLONG;
    ab_strlcpy(s->name[s->n++], name, sizeof s->name[0]);
    return 0;
}
