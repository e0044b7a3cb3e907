/*
 * exhaust.c — exhaustion, shared by the stress case and the workload.
 *
 * Everything that might kill the process runs in a forked helper whose
 * findings land in a shared mapping, so an abort or a crash at the limit is
 * a finding of this case (ALLOCATOR_EXHAUSTION), not a dead case.  The
 * helper asks for sizes no allocator can serve (near SIZE_MAX and
 * PTRDIFF_MAX, an overflowing calloc), then for each of four block sizes:
 * lowers RLIMIT_AS to `as_limit` bytes above the address space in use (a
 * cgroup limit would kill instead of refusing), allocates until NULL on
 * every thread writing each block whole (a write that faults is an unusable
 * block), checks the errno, lifts the limit to check overlaps and patterns,
 * frees part, lowers it again and allocates again (recovery).  For a plugin
 * configured with a page limit, the backend must also stay within it: its
 * reported mapping and the address space it grew by, and a request it
 * refused must stay refused while nothing is freed.
 */
#include "verify.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSIZES 4
static const size_t fill_sizes[NSIZES] = {64, 4096, 256u << 10, 4u << 20};
static const char *const size_names[NSIZES] = {"64B", "4KiB", "256KiB", "4MiB"};

enum phase { PH_START, PH_HUGE, PH_FILL, PH_RETRY, PH_VERIFY, PH_RECOVER, PH_FREE, PH_LATE,
             PH_DONE };
static const char *const phase_words[] = {
    [PH_START] = "starting",
    [PH_HUGE] = "asking for an impossible size",
    [PH_FILL] = "allocating up to the limit",
    [PH_RETRY] = "asking again after a refusal",
    [PH_VERIFY] = "verifying blocks after exhaustion",
    [PH_RECOVER] = "allocating again after frees",
    [PH_FREE] = "freeing after exhaustion",
    [PH_LATE] = "in a thread's first malloc at the limit",
    [PH_DONE] = "finishing",
};

enum job { JOB_FILL, JOB_RETRY, JOB_TRACK, JOB_FREE_PART, JOB_REFILL, JOB_TRACK_AGAIN,
           JOB_FREE_ALL, JOB_EXIT };

/* What the helper leaves for its parent: plain data in a shared mapping. */
struct shared {
    struct ab_findings f;
    volatile int phase;
    volatile int huge_index;
    volatile int size_index;
    volatile int refused;           /* some request at the limit was refused */
    volatile uint64_t headroom;     /* the limit, in bytes above the base */
    volatile uint64_t grown;        /* address space grown since the base */
    volatile int64_t vm0;           /* the base of the size in progress */
    volatile int bad;               /* a block faulted when written */
    volatile uintptr_t bad_addr;
    volatile size_t bad_size;
    /* per size */
    uint64_t blocks[NSIZES], bytes[NSIZES], freed[NSIZES], again[NSIZES];
    int null_errno[NSIZES];         /* errno at the first NULL; -1 none seen */
    bool capped[NSIZES];            /* the block array filled without a NULL */
    uint64_t mapped_peak;           /* the backend's figure at refusals; 0 unknown */
    bool mapped_valid;
    uint64_t vm_peak_growth;
    bool sizes_done;                /* every size was filled, checked and freed */
    /* The late thread: created before any limit, its first malloc at one. */
    bool late_ran;
    int late_errno[2];              /* errno of its two requests; -1 served */
};

/* The helper's signal handler can only reach its state through a global:
 * the shared page (set once in the helper) and, per thread, the block
 * being written. */
static struct shared *helper_shared;
static __thread volatile sig_atomic_t touching;
static __thread uintptr_t touch_addr;
static __thread size_t touch_size;

static void on_fault(int sig)
{
    if (touching && helper_shared) {
        helper_shared->bad = 1;
        helper_shared->bad_addr = touch_addr;
        helper_shared->bad_size = touch_size;
        _exit(3);
    }
    signal(sig, SIG_DFL); /* the allocator's own fault: die of it */
}

#define OVERLAPS_KEPT 64

struct worker {
    struct ab_stress *s;
    /* Blocks found overlapping: the pattern of the block they overlap was
     * written over by theirs, which is the overlap, not a second fault. */
    uintptr_t overlap_lo[OVERLAPS_KEPT], overlap_hi[OVERLAPS_KEPT];
    unsigned noverlaps;
    struct shared *sh;
    unsigned index;
    struct ab_block *blocks, *again;
    size_t cap, n, nagain, freed;
    size_t again_tracked;           /* again[] below this are in the live set */
    size_t size;
    int null_errno;
    bool capped;
    uint64_t seq;
    struct allocbench_checkpoint cp;
    bool cp_saved, restored;
    uint64_t ops, verified;
    pthread_t tid;
};

struct helper {
    struct ab_stress *s;
    const struct ab_exhaust_config *c;
    struct shared *sh;
    struct worker *w;
    pthread_barrier_t bar;
    volatile enum job job;
    unsigned recovery_every;        /* free one block in this many */
};

/* Allocate without touching anything but the block: under the limit the
 * harness must not map (the live-set shadow waits for the limit to lift). */
static void *raw_alloc(struct worker *w, size_t size, struct ab_block *b)
{
    const struct ab_heap *h = w->s->heap;
    errno = 0;
    void *p = h->malloc(size);
    if (!p)
        return NULL;
    w->ops++;
    size_t usable = size;
    if (w->s->verify)
        usable = ab_block_contract(w->s, p, size, 0, "malloc");
    touch_addr = (uintptr_t)p;
    touch_size = usable;
    touching = 1;
    if (w->s->verify)
        ab_pattern_fill(p, usable, ++w->seq);
    else
        memset(p, 0xa5, usable); /* every page, so a block past the limit faults here */
    touching = 0;
    b->p = p;
    b->usable = usable;
    b->seq = w->seq;
    return p;
}

/* Under the limit blocks are written before the live set can take them:
 * overlaps are found here, all of them first, then the patterns. */
static void track(struct worker *w, struct ab_block *b)
{
    if (!b->p || !w->s->verify)
        return;
    if (ab_shadow_add(w->s->shadow, b->p, b->usable) == -EEXIST) {
        ab_stress_diag(w->s, AB_ALLOCBENCH_BLOCK_OVERLAP,
                       "malloc(%zu) near exhaustion returned [%p, +%zu) which overlaps a live "
                       "block", w->size, b->p, b->usable);
        if (w->noverlaps < OVERLAPS_KEPT) {
            w->overlap_lo[w->noverlaps] = (uintptr_t)b->p;
            w->overlap_hi[w->noverlaps++] = (uintptr_t)b->p + b->usable;
        }
        b->p = NULL; /* leave it: it belongs to another block too */
    }
}

static void check_pattern(struct worker *w, const struct ab_block *b)
{
    if (!b->p || !w->s->verify || !ab_pattern_check(b->p, b->usable, b->seq))
        return;
    uintptr_t lo = (uintptr_t)b->p, hi = lo + b->usable;
    for (unsigned k = 0; k < w->noverlaps; k++)
        if (w->overlap_lo[k] < hi && lo < w->overlap_hi[k]) {
            /* Written over by the block that overlaps it (reported): its
             * pattern is restored so its free does not report it twice. */
            ab_pattern_fill(b->p, b->usable, b->seq);
            return;
        }
    ab_stress_diag(w->s, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                   "block [%p, +%zu) changed while live near exhaustion", b->p, b->usable);
}

static void job_fill(struct worker *w)
{
    const struct allocbench_plugin *pl = w->s->heap->plugin;
    w->n = w->nagain = w->freed = w->again_tracked = 0;
    w->noverlaps = 0;
    w->null_errno = -1;
    w->capped = false;
    w->cp_saved = pl && pl->checkpoint_save && pl->checkpoint_save(&w->cp) == 0;
    w->restored = false;
    while (w->n < w->cap) {
        /* How close to the limit, for a death to be told from a crash
         * before it: one statm read per 1024 blocks. */
        if (w->index == 0 && (w->n & 1023) == 0 && w->sh->vm0 > 0) {
            int64_t vm = ab_stress_vm_bytes(w->s);
            if (vm > w->sh->vm0)
                w->sh->grown = (uint64_t)(vm - w->sh->vm0);
        }
        if (!raw_alloc(w, w->size, &w->blocks[w->n])) {
            w->null_errno = errno;
            w->sh->refused = 1;
            return;
        }
        w->n++;
    }
    w->capped = true;
}

/* A refused request must stay refused while nothing is freed. */
static void job_retry(struct worker *w)
{
    if (w->null_errno < 0)
        return;
    for (int k = 0; k < 2; k++) {
        struct ab_block b;
        if (!raw_alloc(w, w->size, &b))
            continue;
        ab_stress_diag(w->s, AB_ALLOCATOR_PAGE_EXHAUSTION,
                       "refused malloc(%zu) at its page limit, then handed out %p for the same "
                       "request with nothing freed", w->size, b.p);
        if (w->nagain < w->cap)
            w->again[w->nagain++] = b;
    }
}

static void job_free_part(struct helper *hp, struct worker *w)
{
    for (size_t i = 0; i < w->n; i += hp->recovery_every) {
        if (!w->blocks[i].p)
            continue;
        w->verified += ab_block_free(w->s, &w->blocks[i]);
        w->freed++;
    }
}

static void job_refill(struct worker *w)
{
    const struct allocbench_plugin *pl = w->s->heap->plugin;
    size_t start = w->nagain;
    for (size_t k = 0; k < w->freed && w->nagain < w->cap; k++)
        if (!raw_alloc(w, w->size, &w->again[w->nagain]))
            break;
        else
            w->nagain++;
    if (w->nagain > start || !w->freed || !w->cp_saved)
        return;
    /* An arena whose free returns nothing recovers at its release point:
     * restore the checkpoint taken before the fill, which releases every
     * block of this size on this thread, then ask again. */
    if (pl->checkpoint_restore(&w->cp))
        return;
    w->restored = true;
    for (size_t i = 0; i < w->n; i++)
        ab_block_forget(w->s, &w->blocks[i]);
    for (size_t i = 0; i < w->again_tracked; i++)
        ab_block_forget(w->s, &w->again[i]);
    w->n = w->nagain = w->again_tracked = 0;
    for (size_t k = 0; k < w->freed && w->nagain < w->cap; k++)
        if (!raw_alloc(w, w->size, &w->again[w->nagain]))
            break;
        else
            w->nagain++;
}

static void job_free_all(struct worker *w)
{
    for (size_t i = 0; i < w->n; i++)
        w->verified += ab_block_free(w->s, &w->blocks[i]);
    for (size_t i = 0; i < w->nagain; i++)
        w->verified += ab_block_free(w->s, &w->again[i]);
    w->n = w->nagain = 0;
    /* An arena that recovered at its checkpoint gets the rest of this size
     * back the same way, so the next size starts from the same place. */
    if (w->restored)
        w->s->heap->plugin->checkpoint_restore(&w->cp);
}

struct worker_arg {
    struct helper *hp;
    struct worker *w;
};

/* A thread that has not allocated yet when the limit comes: its first
 * malloc must fail closed too (a thread cache set up on first use may need
 * memory the limit refuses).  64 B, then 4 KiB; a block it gets is written
 * whole and freed after the limit is lifted. */
static const size_t late_sizes[2] = {64, 4096};

struct late {
    struct ab_stress *s;
    struct shared *sh;
    pthread_barrier_t go, done;     /* with the helper's main thread */
    void *got[2];
    pthread_t tid;
};

static void *late_main(void *arg)
{
    struct late *l = arg;
    const struct ab_heap *h = l->s->heap;
    const struct allocbench_plugin *pl = h->plugin;
    pthread_barrier_wait(&l->go); /* the limit is reached */
    if (pl && pl->thread_attach)
        pl->thread_attach();
    for (int k = 0; k < 2; k++) {
        errno = 0;
        void *p = h->malloc(late_sizes[k]);
        l->sh->late_errno[k] = p ? -1 : errno;
        if (p) {
            touch_addr = (uintptr_t)p;
            touch_size = late_sizes[k];
            touching = 1;
            memset(p, 0x5a, late_sizes[k]);
            touching = 0;
        }
        l->got[k] = p;
    }
    l->sh->late_ran = true;
    pthread_barrier_wait(&l->done); /* the limit is lifted */
    for (int k = 0; k < 2; k++)
        h->free(l->got[k]);
    if (pl && pl->thread_detach)
        pl->thread_detach();
    return NULL;
}

static void *worker_loop(void *arg)
{
    struct worker_arg *a = arg;
    struct helper *hp = a->hp;
    struct worker *w = a->w;
    const struct allocbench_plugin *pl = w->s->heap->plugin;
    if (pl && pl->thread_attach)
        pl->thread_attach();
    /* A thread's first allocation sets up its arena or cache: done here,
     * before any limit, it is not what the limit is about. */
    w->s->heap->free(w->s->heap->malloc(64));
    pthread_barrier_wait(&hp->bar); /* every thread is ready */
    for (;;) {
        pthread_barrier_wait(&hp->bar);
        enum job j = hp->job;
        if (j == JOB_EXIT)
            break;
        switch (j) {
        case JOB_FILL: job_fill(w); break;
        case JOB_RETRY: job_retry(w); break;
        case JOB_TRACK:
            for (size_t i = 0; i < w->n; i++)
                track(w, &w->blocks[i]);
            for (size_t i = 0; i < w->nagain; i++)
                track(w, &w->again[i]);
            for (size_t i = 0; i < w->n; i++)
                check_pattern(w, &w->blocks[i]);
            for (size_t i = 0; i < w->nagain; i++)
                check_pattern(w, &w->again[i]);
            w->again_tracked = w->nagain;
            break;
        case JOB_FREE_PART: job_free_part(hp, w); break;
        case JOB_REFILL: job_refill(w); break;
        case JOB_TRACK_AGAIN:
            for (size_t i = w->again_tracked; i < w->nagain; i++)
                track(w, &w->again[i]);
            for (size_t i = w->again_tracked; i < w->nagain; i++)
                check_pattern(w, &w->again[i]);
            w->again_tracked = w->nagain;
            break;
        case JOB_FREE_ALL: job_free_all(w); break;
        case JOB_EXIT: break;
        }
        pthread_barrier_wait(&hp->bar);
    }
    if (pl && pl->thread_detach)
        pl->thread_detach();
    return NULL;
}

static void run_job(struct helper *hp, enum job j)
{
    hp->job = j;
    pthread_barrier_wait(&hp->bar);
    if (j != JOB_EXIT) /* the workers leave without the second meeting */
        pthread_barrier_wait(&hp->bar);
}

static void set_limit(uint64_t bytes)
{
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    rl.rlim_cur = bytes ? (rlim_t)bytes : rl.rlim_max;
    setrlimit(RLIMIT_AS, &rl);
}

/* What the backend says its page limit counts (a plugin's mapped bytes,
 * tcmalloc's heap less what it returned), where it says: mimalloc's commit
 * holds the whole arena reserved at start, so its figure is the address
 * space alone. */
static bool backend_mapped(const struct ab_stress *s, uint64_t *out)
{
    struct ab_alloc_stats st;
    ab_heap_stats(s->heap, &st);
    if (st.limited < 0)
        return false;
    *out = (uint64_t)st.limited;
    return true;
}

/* The requests no allocator can serve: each must be refused. */
static void huge_requests(struct ab_stress *s, struct shared *sh)
{
    const struct ab_heap *h = s->heap;
    sh->phase = PH_HUGE;
    const size_t smax = SIZE_MAX, pmax = PTRDIFF_MAX;
    static const char *const what[] = {
        "malloc(SIZE_MAX)",
        "malloc(SIZE_MAX - 4095)",
        "malloc(PTRDIFF_MAX)",
        "malloc(PTRDIFF_MAX + 1)",
        "calloc(SIZE_MAX / 2 + 1, 2)",
        "calloc(2^32, 2^32 + 1)",
        "calloc(PTRDIFF_MAX, 1)",
        "aligned_alloc(4096, SIZE_MAX - 4095)",
        "realloc(p, SIZE_MAX)",
        "realloc(p, PTRDIFF_MAX + 1)",
    };
    unsigned asked = 0, refused = 0, absent = 0;
    for (int i = 0; i < (int)(sizeof what / sizeof what[0]); i++) {
        sh->huge_index = i;
        void *p = NULL;
        bool offered = true;
        switch (i) {
        case 0: p = h->malloc(smax); break;
        case 1: p = h->malloc(smax - 4095); break;
        case 2: p = h->malloc(pmax); break;
        case 3: p = h->malloc(pmax + 1); break;
        case 4:
        case 5:
        case 6:
            offered = h->calloc;
            if (offered)
                p = i == 4   ? h->calloc(smax / 2 + 1, 2)
                    : i == 5 ? h->calloc(1ull << 32, (1ull << 32) + 1)
                             : h->calloc(pmax, 1);
            break;
        case 7:
            offered = h->aligned_alloc;
            if (offered)
                p = h->aligned_alloc(4096, smax - 4095);
            break;
        default: {
            offered = h->realloc;
            if (!offered)
                break;
            struct ab_block b;
            struct worker w = {.s = s, .sh = sh};
            if (!raw_alloc(&w, 64, &b))
                break;
            p = h->realloc(b.p, i == 8 ? smax : pmax + 1);
            if (!p && s->verify && ab_pattern_check(b.p, b.usable, b.seq))
                ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION,
                               "a refused %s changed the block it was asked to grow", what[i]);
            if (!p)
                h->free(b.p);
            break;
        }
        }
        if (!offered) {
            absent++;
            continue;
        }
        asked++;
        if (!p) {
            refused++;
            continue;
        }
        /* Not freed: whatever came back cannot be that large. */
        ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION, "%s returned %p instead of NULL", what[i], p);
    }
    if (refused == asked)
        ab_stress_check(s, "impossible-sizes", AB_VERDICT_HELD,
                        "%u requests near SIZE_MAX and PTRDIFF_MAX and overflowing callocs all "
                        "NULL%s", asked, absent ? " (some functions not offered)" : "");
    else
        ab_stress_check(s, "impossible-sizes", AB_VERDICT_FAILED, "%u of %u served",
                        asked - refused, asked);
}

static int helper_main(struct ab_stress *s, const struct ab_exhaust_config *c, struct shared *sh)
{
    helper_shared = sh;
    struct sigaction sa = {0};
    sa.sa_handler = on_fault;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    s->f = &sh->f;
    pthread_mutex_init(&s->lock, NULL);
    /* /proc/self was the parent when that descriptor was opened. */
    s->statm_fd = ab_statm_open();

    huge_requests(s, sh);

    unsigned T = c->threads ? c->threads : 1;
    struct helper hp = {.s = s, .c = c, .sh = sh};
    unsigned pct = c->recovery_pct ? c->recovery_pct : 50;
    hp.recovery_every = pct >= 100 ? 1 : 100 / pct;
    hp.w = ab_buf_alloc(T * sizeof *hp.w);
    struct worker_arg *args = ab_buf_alloc(T * sizeof *args);
    if (!hp.w || !args)
        return 2;
    uint64_t page_limit = s->hooks.page_limit;
    enum ab_limit_kind kind = page_limit ? s->hooks.limit_kind : AB_LIMIT_NONE;
    uint64_t headroom = page_limit ? page_limit : c->as_limit;
    sh->headroom = headroom;
    /* An allocator's own page limit (a plugin's, tcmalloc's, mimalloc's)
     * keeps an address-space limit as a backstop well above it: the page
     * limit must be what refuses.  One without is held to it by the
     * kernel: RLIMIT_AS that many bytes above what is in use. */
    uint64_t limit = kind == AB_LIMIT_BACKEND  ? 2 * page_limit + (64u << 20)
                     : kind == AB_LIMIT_RLIMIT ? page_limit
                                               : c->as_limit;
    struct late late = {.s = s, .sh = sh};
    if (c->late_thread) {
        pthread_barrier_init(&late.go, NULL, 2);
        pthread_barrier_init(&late.done, NULL, 2);
        if (pthread_create(&late.tid, NULL, late_main, &late))
            return 2;
    }
    pthread_barrier_init(&hp.bar, NULL, T + 1);
    for (unsigned i = 0; i < T; i++) {
        hp.w[i] = (struct worker){.s = s, .sh = sh, .index = i, .seq = (uint64_t)i << 48};
        args[i] = (struct worker_arg){&hp, &hp.w[i]};
        if (pthread_create(&hp.w[i].tid, NULL, worker_loop, &args[i]))
            return 2;
    }
    pthread_barrier_wait(&hp.bar); /* no limit before every thread is set up */
    for (int si = 0; si < NSIZES; si++) {
        size_t size = fill_sizes[si];
        sh->size_index = si;
        /* Room for a block in every byte of address space the limit lets
         * the process have (an allocator may reuse what it kept from the
         * sizes before), twice over; mapped before the limit is set. */
        int64_t vm_pre = ab_stress_vm_bytes(s);
        size_t cap = (size_t)(2 * ((uint64_t)(vm_pre > 0 ? vm_pre : 0) + limit) / size) + 4096;
        for (unsigned i = 0; i < T; i++) {
            hp.w[i].size = size;
            hp.w[i].cap = cap;
            hp.w[i].blocks = ab_buf_alloc(cap * sizeof(struct ab_block));
            hp.w[i].again = ab_buf_alloc(cap * sizeof(struct ab_block));
            if (!hp.w[i].blocks || !hp.w[i].again)
                return 2;
        }
        int64_t vm0 = ab_stress_vm_bytes(s);
        sh->vm0 = vm0;
        sh->grown = 0;
        sh->phase = PH_FILL;
        if (limit && vm0 > 0)
            set_limit((uint64_t)vm0 + limit);
        run_job(&hp, JOB_FILL);
        int64_t vm1 = ab_stress_vm_bytes(s);
        uint64_t grown = vm1 > vm0 && vm0 > 0 ? (uint64_t)(vm1 - vm0) : 0;
        sh->grown = grown;
        if (grown > sh->vm_peak_growth)
            sh->vm_peak_growth = grown;
        uint64_t mapped;
        if (kind == AB_LIMIT_BACKEND && backend_mapped(s, &mapped)) {
            sh->mapped_valid = true;
            if (mapped > sh->mapped_peak)
                sh->mapped_peak = mapped;
        }
        /* Under RLIMIT_AS the kernel refuses, and an allocator may rightly
         * find room another way next time (glibc: mmap after brk). */
        if (kind == AB_LIMIT_BACKEND) {
            sh->phase = PH_RETRY;
            run_job(&hp, JOB_RETRY);
        }
        uint64_t blocks = 0, bytes = 0;
        int err = -1;
        bool capped = false;
        for (unsigned i = 0; i < T; i++) {
            blocks += hp.w[i].n;
            for (size_t k = 0; k < hp.w[i].n; k++)
                bytes += hp.w[i].blocks[k].usable;
            if (hp.w[i].null_errno >= 0 && (err < 0 || hp.w[i].null_errno != ENOMEM))
                err = hp.w[i].null_errno;
            capped |= hp.w[i].capped;
        }
        sh->blocks[si] = blocks;
        sh->bytes[si] = bytes;
        sh->null_errno[si] = err;
        sh->capped[si] = capped;
        if (err >= 0 && err != ENOMEM) {
            ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION,
                           "malloc(%zu) at the limit returned NULL with errno %d (%s), not ENOMEM",
                           size, err, strerror(err));
        }
        if (capped)
            ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION,
                           "handed out %llu blocks of %zu bytes, more than the address space "
                           "the limit allows, without refusing one",
                           (unsigned long long)blocks, size);

        set_limit(0);
        sh->phase = PH_VERIFY;
        run_job(&hp, JOB_TRACK);
        sh->phase = PH_FREE;
        run_job(&hp, JOB_FREE_PART);
        sh->phase = PH_RECOVER;
        if (limit && vm0 > 0)
            set_limit((uint64_t)vm0 + limit);
        run_job(&hp, JOB_REFILL);
        set_limit(0);
        sh->phase = PH_VERIFY;
        run_job(&hp, JOB_TRACK_AGAIN);
        uint64_t freed = 0, again = 0;
        for (unsigned i = 0; i < T; i++) {
            freed += hp.w[i].freed;
            again += hp.w[i].nagain;
        }
        sh->freed[si] = freed;
        sh->again[si] = again;
        if (freed && !again)
            ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION,
                           "after freeing %llu blocks of %zu bytes at exhaustion, not one "
                           "malloc(%zu) succeeded", (unsigned long long)freed, size, size);
        sh->phase = PH_FREE;
        run_job(&hp, JOB_FREE_ALL);
        for (unsigned i = 0; i < T; i++) {
            ab_buf_free(hp.w[i].blocks, cap * sizeof(struct ab_block));
            ab_buf_free(hp.w[i].again, cap * sizeof(struct ab_block));
        }
    }
    sh->sizes_done = true;
    /* Counted now, so that a death with the late thread keeps them. */
    uint64_t ops = 0, verified = 0;
    for (unsigned i = 0; i < T; i++) {
        ops += hp.w[i].ops;
        verified += hp.w[i].verified;
        hp.w[i].ops = hp.w[i].verified = 0;
    }
    ab_stress_count(s, ops, verified);
    if (c->late_thread) {
        /* Exhaust again with the smallest size, then the late thread's
         * first malloc; last, so that a death there leaves every size's
         * findings standing. */
        size_t cap = 0;
        int64_t vm_pre = ab_stress_vm_bytes(s);
        cap = (size_t)(2 * ((uint64_t)(vm_pre > 0 ? vm_pre : 0) + limit) / fill_sizes[0]) + 4096;
        for (unsigned i = 0; i < T; i++) {
            hp.w[i].size = fill_sizes[0];
            hp.w[i].cap = cap;
            hp.w[i].blocks = ab_buf_alloc(cap * sizeof(struct ab_block));
            hp.w[i].again = ab_buf_alloc(sizeof(struct ab_block));
            if (!hp.w[i].blocks || !hp.w[i].again)
                return 2;
        }
        sh->size_index = 0;
        int64_t vm0 = ab_stress_vm_bytes(s);
        sh->vm0 = vm0;
        sh->phase = PH_FILL;
        if (limit && vm0 > 0)
            set_limit((uint64_t)vm0 + limit);
        run_job(&hp, JOB_FILL);
        sh->phase = PH_LATE;
        pthread_barrier_wait(&late.go);
        pthread_barrier_wait(&late.done);
        set_limit(0);
        pthread_join(late.tid, NULL);
        sh->phase = PH_VERIFY;
        run_job(&hp, JOB_TRACK);
        sh->phase = PH_FREE;
        run_job(&hp, JOB_FREE_ALL);
        for (unsigned i = 0; i < T; i++) {
            ab_buf_free(hp.w[i].blocks, cap * sizeof(struct ab_block));
            ab_buf_free(hp.w[i].again, sizeof(struct ab_block));
        }
    }
    sh->phase = PH_DONE;
    run_job(&hp, JOB_EXIT);
    ops = verified = 0;
    for (unsigned i = 0; i < T; i++) {
        pthread_join(hp.w[i].tid, NULL);
        ops += hp.w[i].ops;
        verified += hp.w[i].verified;
    }
    ab_stress_count(s, ops, verified);
    return 0;
}

/* The page limit: held by the backend, or by the kernel. */
static void check_page_limit(struct ab_stress *s, const struct shared *sh, bool closed)
{
    const struct ab_hooks *hk = &s->hooks;
    if (!hk->page_limit) {
        ab_stress_check(s, "page-limit", AB_VERDICT_NA, "%s",
                        hk->limit_na[0] ? hk->limit_na
                        : s->heap->plugin ? "the plugin has no page limit configured"
                                          : "no page limit was asked");
        return;
    }
    uint64_t limit = hk->page_limit;
    if (hk->limit_kind == AB_LIMIT_RLIMIT) {
        /* The kernel refuses; what is the allocator's is failing closed. */
        if (closed)
            ab_stress_check(s, "page-limit", AB_VERDICT_HELD,
                            "%s %llu bytes above the address space in use: every refusal NULL "
                            "with ENOMEM, no crash (address space grew %llu)",
                            hk->limit_how, (unsigned long long)limit,
                            (unsigned long long)sh->vm_peak_growth);
        else
            ab_stress_check(s, "page-limit", AB_VERDICT_FAILED,
                            "did not fail closed under %s %llu bytes", hk->limit_how,
                            (unsigned long long)limit);
        return;
    }
    /* The bytes handed out, the backend's own figure, and the address
     * space it really grew by (a 1 MiB allowance for the thread's first
     * metadata). */
    uint64_t most = 0;
    for (int si = 0; si < NSIZES; si++)
        most = sh->bytes[si] > most ? sh->bytes[si] : most;
    bool over_stats = sh->mapped_valid && sh->mapped_peak > limit;
    bool over_vm = sh->vm_peak_growth > limit + (1u << 20);
    if (most > limit)
        ab_stress_diag(s, AB_ALLOCATOR_PAGE_EXHAUSTION,
                       "page limit %llu bytes (%s): handed out %llu bytes in blocks of one size "
                       "before refusing", (unsigned long long)limit, hk->limit_how,
                       (unsigned long long)most);
    if (over_stats || over_vm) {
        char rep[48] = "no figure for the";
        if (sh->mapped_valid)
            snprintf(rep, sizeof rep, "%llu", (unsigned long long)sh->mapped_peak);
        ab_stress_diag(s, AB_ALLOCATOR_PAGE_EXHAUSTION,
                       "page limit %llu bytes (%s): at its refusals the backend reported %s "
                       "bytes mapped and the address space had grown by %llu bytes",
                       (unsigned long long)limit, hk->limit_how, rep,
                       (unsigned long long)sh->vm_peak_growth);
    }
    if (over_stats || over_vm || ab_stress_has_diag(s, AB_ALLOCATOR_PAGE_EXHAUSTION) || !closed)
        ab_stress_check(s, "page-limit", AB_VERDICT_FAILED, "the backend did not fail closed");
    else if (sh->mapped_valid)
        ab_stress_check(s, "page-limit", AB_VERDICT_HELD,
                        "%s: stayed within %llu bytes (peak reported %llu, address space grew "
                        "%llu)", hk->limit_how, (unsigned long long)limit,
                        (unsigned long long)sh->mapped_peak,
                        (unsigned long long)sh->vm_peak_growth);
    else
        ab_stress_check(s, "page-limit", AB_VERDICT_HELD,
                        "%s: stayed within %llu bytes (no figure of its own; address space "
                        "grew %llu)", hk->limit_how, (unsigned long long)limit,
                        (unsigned long long)sh->vm_peak_growth);
}

/* The checks and figures, from what the helper left.  survived: it ran to
 * its end; sizes: at least every size was done (it may have died with the
 * late thread after). */
static void summarize(struct ab_stress *s, const struct shared *sh, bool survived, bool sizes)
{
    uint64_t headroom = sh->headroom;
    bool all_refused = true, all_recovered = true;
    char reached[160] = "";
    for (int si = 0; si < NSIZES && sizes; si++) {
        all_refused &= sh->null_errno[si] >= 0;
        all_recovered &= !sh->freed[si] || sh->again[si];
        char name[40];
        snprintf(name, sizeof name, "reached_%s", size_names[si]);
        ab_stress_figure(s, name, "ratio",
                         headroom ? (double)sh->bytes[si] / (double)headroom : NAN);
        snprintf(name, sizeof name, "recovered_%s", size_names[si]);
        ab_stress_figure(s, name, "ratio",
                         sh->freed[si] ? (double)sh->again[si] / (double)sh->freed[si] : NAN);
        size_t len = strlen(reached);
        snprintf(reached + len, sizeof reached - len, "%s%s %.2f", si ? ", " : "",
                 size_names[si], headroom ? (double)sh->bytes[si] / (double)headroom : 0.0);
    }
    ab_stress_figure(s, "limit_bytes", "bytes", headroom ? (double)headroom : NAN);
    if (!sizes)
        return; /* the caller said how it ended */
    if (survived)
        ab_stress_check(s, "no-abort", AB_VERDICT_HELD, "survived every request");
    if (ab_stress_has_diag(s, AB_ALLOCATOR_EXHAUSTION) && !all_refused)
        ab_stress_check(s, "refusal", AB_VERDICT_FAILED, "a size was never refused");
    else if (all_refused)
        ab_stress_check(s, "refusal", AB_VERDICT_HELD,
                        "every size refused at the limit; bytes reached per limit: %s", reached);
    else
        ab_stress_check(s, "refusal", AB_VERDICT_FAILED, "a size was never refused");
    bool enomem = true;
    for (int si = 0; si < NSIZES; si++)
        enomem &= sh->null_errno[si] < 0 || sh->null_errno[si] == ENOMEM;
    for (int k = 0; k < 2 && sh->late_ran; k++)
        enomem &= sh->late_errno[k] < 0 || sh->late_errno[k] == ENOMEM;
    ab_stress_check(s, "enomem", enomem ? AB_VERDICT_HELD : AB_VERDICT_FAILED,
                    enomem ? "every refusal came with ENOMEM" : "a refusal without ENOMEM");
    ab_stress_check(s, "usable", AB_VERDICT_HELD, "every block handed out was writable whole");
    ab_stress_check(s, "recovery", all_recovered ? AB_VERDICT_HELD : AB_VERDICT_FAILED,
                    all_recovered ? "allocation worked again after frees, every size"
                                  : "no allocation after frees");
    if (sh->late_ran) {
        char got[2][24];
        for (int k = 0; k < 2; k++)
            snprintf(got[k], sizeof got[k], "%s", sh->late_errno[k] < 0 ? "a block"
                                                   : sh->late_errno[k] == ENOMEM
                                                       ? "NULL, ENOMEM"
                                                       : "NULL, other errno");
        ab_stress_check(s, "late-thread", AB_VERDICT_HELD,
                        "a thread whose first malloc came at the limit: 64 B %s, 4 KiB %s",
                        got[0], got[1]);
    }
    check_page_limit(s, sh, survived && all_refused && enomem);
}

int ab_exhaust_run(struct ab_stress *s, const struct ab_exhaust_config *c)
{
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return -errno;
    for (int i = 0; i < NSIZES; i++)
        sh->null_errno[i] = -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        munmap(sh, sizeof *sh);
        return -e;
    }
    if (pid == 0) {
        ab_child_tether(0);
        _exit(helper_main(s, c, sh));
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    /* Merge what the helper found. */
    const struct ab_findings *hf = &sh->f;
    for (unsigned i = 0; i < hf->ndiags; i++)
        for (uint64_t k = 0; k < hf->diag_count[i]; k++)
            ab_stress_diag(s, hf->diags[i].code, "%s", hf->diags[i].detail);
    for (unsigned i = 0; i < hf->nchecks; i++)
        ab_stress_check(s, hf->checks[i].name, hf->checks[i].verdict, "%s",
                        hf->checks[i].detail);
    ab_stress_count(s, hf->ops, hf->verified);
    const char *where = phase_words[sh->phase];
    double used = sh->headroom ? 100.0 * (double)sh->grown / (double)sh->headroom : 0;
    bool survived = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3 && sh->bad) {
        ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION,
                       "handed out [%p, +%zu) for malloc(%zu) and it faults when written",
                       (void *)sh->bad_addr, (size_t)sh->bad_size,
                       fill_sizes[sh->size_index]);
        ab_stress_check(s, "usable", AB_VERDICT_FAILED, "a block faults when written");
        ab_stress_check(s, "no-abort", AB_VERDICT_SKIPPED, "stopped at the unusable block");
    } else if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        const char *name = sigabbrev_np(sig) ? sigabbrev_np(sig) : "?";
        bool at_limit = sh->phase == PH_HUGE || sh->refused || sh->phase > PH_FILL ||
                        (sh->headroom && sh->grown * 8 >= sh->headroom * 7);
        if (sh->phase == PH_HUGE)
            ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION, "died with SIG%s %s: request %d", name,
                           where, sh->huge_index + 1);
        else if (sh->phase == PH_LATE)
            ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION,
                           "died with SIG%s %s (another thread had exhausted it with %zu-byte "
                           "blocks; the thread was created before the limit)", name, where,
                           fill_sizes[0]);
        else if (at_limit)
            ab_stress_diag(s, AB_ALLOCATOR_EXHAUSTION,
                           "died with SIG%s %s with %zu-byte blocks", name, where,
                           fill_sizes[sh->size_index]);
        else
            ab_stress_diag(s, AB_ALLOCBENCH_TRIAL_CRASHED,
                           "signal=SIG%s %s with %zu-byte blocks, %.0f%% of the limit used: "
                           "before exhaustion", name, where, fill_sizes[sh->size_index], used);
        ab_stress_check(s, "no-abort", at_limit ? AB_VERDICT_FAILED : AB_VERDICT_SKIPPED,
                        at_limit ? "died at exhaustion" : "crashed before exhaustion");
        if (sh->phase == PH_LATE)
            ab_stress_check(s, "late-thread", AB_VERDICT_FAILED,
                            "died in a thread's first malloc at the limit");
        else if (at_limit && !sh->sizes_done)
            check_page_limit(s, sh, false); /* summarize has no sizes to judge */
    } else if (!survived) {
        ab_stress_diag(s, AB_ALLOCBENCH_TRIAL_FAILED, "the exhaustion helper exited with %d %s",
                       WIFEXITED(st) ? WEXITSTATUS(st) : -1, where);
    }
    summarize(s, sh, survived, survived || sh->sizes_done);
    munmap(sh, sizeof *sh);
    return 0;
}
