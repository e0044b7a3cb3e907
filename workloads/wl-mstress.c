/*
 * mstress: Daan Leijen's stress test as mimalloc-bench runs it (mstress P 50
 * 25), written here after the original's algorithm.
 *
 * One round is one of the original's iterations: threads 1..N-1 are started
 * afresh, thread 0 runs on the main thread, and when all are done the main
 * thread frees each slot of the shared 1000-slot transfer array with chance
 * 50 (every slot in the last round).  Thread tid makes 100*scale*(tid%8+1)
 * allocations appended to a growing array (realloc'd in steps of 100000
 * pointers) and half as many retained ones, kept to its end.  Per step: with
 * chance 50 (or when nothing is left to retain) the next appended block of
 * 1 << (r % 5) words, else a retained block of 1 << (r % 7) words; then with
 * chance 66 the free of a random earlier appended block (its slot emptied;
 * it may be empty already: free(NULL)), and with chance 25 the exchange of a
 * random appended slot with a random transfer slot (blocks migrate between
 * threads and outlive the round).  A block of n words is n*100 words with
 * chance 1, and of those n*1000 with chance 10 or n*10000 with chance 1 (up
 * to 5 MiB); 40 words become 41.  Every word is written at allocation
 * ((n - i) ^ cookie) and checked before the free.  At its end a thread frees
 * its retained blocks, then every appended slot, then both arrays.  The
 * random streams are the original's: thread tid starts from (tid + 1) * 43
 * in every round, the main thread from 43 * 43 once (--seed does not apply);
 * chance(p) is r % 100 <= p, as there.
 *
 * A block whose words changed is reported (ALLOCBENCH_BLOCK_CORRUPTED) and
 * left alone, where the original aborts.  verify=1 adds a shadow of the live
 * blocks, which catches an allocation overlapping a live block
 * (ALLOCBENCH_BLOCK_OVERLAP) and a free of a block that is not live; it is
 * harness work (a shared structure on every malloc and free), off by default.
 * One op is one step; remote_frees are frees of blocks another thread (or an
 * earlier round's thread) allocated: a block carries its maker in the high
 * bits of its pointer while it is in the transfer array.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>

static const char *const variants[] = {"phases", NULL};

static const struct ab_param params[] = {
    {"scale", AB_PARAM_INT, "50", 1, 10000, NULL,
     "load per thread, percent: thread tid makes 100*scale*(tid%8+1) allocations"},
    {"verify", AB_PARAM_INT, "0", 0, 1, NULL,
     "also keep a shadow of the live blocks (overlaps; harness cost on every call)"},
};

#define TRANSFERS 1000
#define COOKIE 0xbf58476d1ce4e5b9ull
#define DATA_STEP 100000
#define MAX_ITEMS (64u * 10000u)

/* A thread's identity for remote_frees: 0 for the main thread (thread 0 of
 * every round), else 1 + its index among all threads started, mod 2^16 - 1.
 * It rides in the top 16 bits of a pointer in the transfer array (user
 * addresses on x86-64 and AArch64 have them clear). */
#define OWNER_SHIFT 48
#define ADDR_MASK ((UINT64_C(1) << OWNER_SHIFT) - 1)

struct shared {
    _Atomic(uint64_t) transfer[TRANSFERS];
    struct ab_trial *t;
    struct ab_shadow *shadow;     /* NULL: verify=0 */
    unsigned threads, round, rounds;
    uint64_t main_rng;
    uint32_t started;             /* threads started so far (owner ids) */
    atomic_uint_fast64_t remote, checked, bad;
    atomic_int failed;
};

/* One thread of a round. */
struct worker {
    struct shared *sh;
    unsigned tid;
    uint16_t owner;
    size_t allocs;
    uint16_t *maker;              /* per appended slot: who made its block */
    uint64_t steps, remote, checked;
    pthread_t thread;
};

/* The original's generator: the splitmix64 finaliser applied to the state
 * itself. */
static inline uint64_t pick(uint64_t *r)
{
    uint64_t x = *r;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    *r = x;
    return x;
}

static inline bool chance(unsigned perc, uint64_t *r)
{
    return pick(r) % 100 <= perc;
}

static uint64_t *alloc_items(struct worker *w, size_t items, uint64_t *r)
{
    struct shared *sh = w->sh;
    if (chance(1, r)) {
        if (chance(1, r))
            items *= 10000;
        else if (chance(10, r))
            items *= 1000;
        else
            items *= 100;
    }
    if (items == 40)
        items++;
    uint64_t *p = sh->t->heap->malloc(items * sizeof *p);
    if (!p) {
        atomic_store(&sh->failed, 1);
        return NULL;
    }
    if (sh->shadow && ab_shadow_add(sh->shadow, p, items * sizeof *p) == -EEXIST) {
        ab_trial_diag(sh->t, AB_ALLOCBENCH_BLOCK_OVERLAP,
                      "malloc(%zu) returned %p, overlapping a live block", items * sizeof *p,
                      (void *)p);
        return NULL; /* another holder's memory: neither written nor freed */
    }
    /* One store per word (volatile), as the original's -O2 build. */
    volatile uint64_t *word = p;
    for (size_t i = 0; i < items; i++)
        word[i] = (items - i) ^ COOKIE;
    return p;
}

/* Check every word, then free (free(NULL) too, as the original). */
static void free_items(struct shared *sh, uint64_t *p, uint64_t *checked)
{
    if (p) {
        uint64_t items = p[0] ^ COOKIE;
        if (items == 0 || items > MAX_ITEMS) {
            atomic_fetch_add(&sh->bad, 1);
            ab_trial_diag(sh->t, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                          "block %p: its first word changed while it was live", (void *)p);
            return;
        }
        for (uint64_t i = 0; i < items; i++)
            if ((p[i] ^ COOKIE) != items - i) {
                atomic_fetch_add(&sh->bad, 1);
                ab_trial_diag(sh->t, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                              "block %p of %llu words: word %llu changed while it was live",
                              (void *)p, (unsigned long long)items, (unsigned long long)i);
                return;
            }
        if (sh->shadow && ab_shadow_remove(sh->shadow, p, items * sizeof *p)) {
            atomic_fetch_add(&sh->bad, 1);
            ab_trial_diag(sh->t, AB_ALLOCBENCH_BLOCK_CORRUPTED,
                          "block %p of %llu words was not live when freed", (void *)p,
                          (unsigned long long)items);
            return;
        }
        (*checked)++;
    }
    sh->t->heap->free(p);
}

static void *stress(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    const struct ab_heap *h = sh->t->heap;
    uint64_t r = ((uint64_t)w->tid + 1) * 43;
    size_t allocs = w->allocs, retain = allocs / 2;
    uint64_t **data = NULL, **retained = h->malloc(retain * sizeof *retained);
    size_t data_size = 0, data_top = 0, retain_top = 0;
    uint64_t steps = 0, remote = 0, checked = 0;
    if (!retained && retain) {
        atomic_store(&sh->failed, 1);
        return NULL;
    }
    while ((allocs > 0 || retain > 0) && !atomic_load_explicit(&sh->failed, memory_order_relaxed)) {
        steps++;
        if (retain == 0 || (chance(50, &r) && allocs > 0)) {
            allocs--;
            if (data_top >= data_size) {
                data_size += DATA_STEP;
                uint64_t **grown = h->realloc(data, data_size * sizeof *data);
                if (!grown) {
                    atomic_store(&sh->failed, 1);
                    break;
                }
                data = grown;
            }
            w->maker[data_top] = w->owner;
            data[data_top++] = alloc_items(w, (size_t)1 << (pick(&r) % 5), &r);
        } else {
            retained[retain_top++] = alloc_items(w, (size_t)1 << (pick(&r) % 7), &r);
            retain--;
        }
        if (chance(66, &r) && data_top > 0) {
            size_t idx = (size_t)(pick(&r) % data_top);
            remote += data[idx] && w->maker[idx] != w->owner;
            free_items(sh, data[idx], &checked);
            data[idx] = NULL;
        }
        if (chance(25, &r) && data_top > 0) {
            size_t idx = (size_t)(pick(&r) % data_top);
            size_t tr = (size_t)(pick(&r) % TRANSFERS);
            uint64_t mine = (uint64_t)(uintptr_t)data[idx] |
                            (data[idx] ? (uint64_t)w->maker[idx] << OWNER_SHIFT : 0);
            uint64_t got = atomic_exchange_explicit(&sh->transfer[tr], mine, memory_order_acquire);
            data[idx] = (uint64_t *)(uintptr_t)(got & ADDR_MASK);
            w->maker[idx] = (uint16_t)(got >> OWNER_SHIFT);
        }
    }
    for (size_t i = 0; i < retain_top; i++)
        free_items(sh, retained[i], &checked);
    for (size_t i = 0; i < data_top; i++) {
        remote += data[i] && w->maker[i] != w->owner;
        free_items(sh, data[i], &checked);
    }
    h->free(retained);
    h->free(data);
    w->steps = steps;
    w->remote = remote;
    w->checked = checked;
    return NULL;
}

/* One of the original's iterations.  Harness work per round: one thread
 * start and join per thread (the original's), one atomic add per thread. */
static uint64_t round_fn(struct ab_thread *th)
{
    struct shared *sh = th->t->shared;
    struct worker *w = th->state;
    unsigned n = sh->threads;
    for (unsigned i = 0; i < n; i++) {
        w[i].owner = i == 0 ? 0 : (uint16_t)(1 + sh->started++ % 0xfffe);
        w[i].steps = w[i].remote = w[i].checked = 0;
    }
    unsigned started = 1;
    for (; started < n; started++)
        if (ab_trial_start_thread(th->t, started, stress, &w[started], &w[started].thread)) {
            atomic_store(&sh->failed, 1);
            break;
        }
    stress(&w[0]);
    for (unsigned i = 1; i < started; i++)
        pthread_join(w[i].thread, NULL);
    uint64_t steps = 0, remote = 0, checked = 0;
    for (unsigned i = 0; i < n; i++) {
        steps += w[i].steps;
        remote += w[i].remote;
        checked += w[i].checked;
    }
    bool last = ++sh->round == sh->rounds;
    for (size_t i = 0; i < TRANSFERS; i++)
        if (chance(50, &sh->main_rng) || last) {
            uint64_t got = atomic_exchange(&sh->transfer[i], 0);
            uint64_t *p = (uint64_t *)(uintptr_t)(got & ADDR_MASK);
            remote += p && (got >> OWNER_SHIFT) != 0;
            free_items(sh, p, &checked);
        }
    if (th->measuring)
        atomic_fetch_add(&sh->remote, remote);
    atomic_fetch_add(&sh->checked, checked);
    if (atomic_load(&sh->failed))
        th->error = -ENOMEM;
    return steps;
}

static int setup(struct ab_thread *th)
{
    struct shared *sh = th->t->shared;
    unsigned n = sh->threads;
    size_t scale = (size_t)ab_trial_param(th->t, "scale");
    struct worker *w = ab_buf_alloc(n * sizeof *w);
    if (!w)
        return -ENOMEM;
    th->state = w;
    for (unsigned i = 0; i < n; i++) {
        w[i].sh = sh;
        w[i].tid = i;
        w[i].allocs = 100 * scale * (i % 8 + 1);
        if (!(w[i].maker = ab_buf_alloc(w[i].allocs * sizeof *w[i].maker)))
            return -ENOMEM;
    }
    return 0;
}

static void teardown(struct ab_thread *th)
{
    struct shared *sh = th->t->shared;
    struct worker *w = th->state;
    for (unsigned i = 0; i < sh->threads; i++)
        ab_buf_free(w[i].maker, w[i].allocs * sizeof *w[i].maker);
    ab_buf_free(w, sh->threads * sizeof *w);
}

static int run(struct ab_trial *t)
{
    struct shared *sh = ab_buf_alloc(sizeof *sh);
    if (!sh)
        return -ENOMEM;
    sh->t = t;
    sh->threads = t->threads ? t->threads : 1;
    sh->rounds = t->warmup + t->rounds;
    sh->main_rng = 43 * 43;
    int rc = 0;
    if (ab_trial_param(t, "verify") && !(sh->shadow = ab_shadow_new()))
        rc = -ENOMEM;
    if (!rc) {
        /* The rounds run on one thread, the child's main thread, which is
         * the original's thread 0; threads 1..N-1 are started in each round
         * (with --pin on the PUs planned for --threads). */
        t->shared = sh;
        unsigned threads = t->threads;
        t->threads = 1;
        static const struct ab_rounds r = {setup, round_fn, teardown};
        rc = ab_trial_run_rounds(t, &r);
        t->threads = threads;
    }
    /* After a failed round the transfer array may still hold blocks. */
    uint64_t ignored = 0;
    for (size_t i = 0; i < TRANSFERS; i++)
        free_items(sh, (uint64_t *)(uintptr_t)(atomic_exchange(&sh->transfer[i], 0) & ADDR_MASK),
                   &ignored);
    bool verified = sh->shadow != NULL;
    ab_shadow_free(sh->shadow);
    uint64_t remote = atomic_load(&sh->remote), checked = atomic_load(&sh->checked);
    ab_buf_free(sh, sizeof *sh);
    if (rc)
        return rc;
    ab_trial_remote_frees(t, remote, -1);
    ab_trial_metric(t, "blocks_checked", "blocks", (double)checked);
    ab_trial_metric(t, "blocks_verified", "blocks", verified ? (double)checked : NAN);
    return 0;
}

const struct ab_workload ab_wl_mstress = {
    .name = "mstress",
    .summary = "Leijen's mstress: threads recreated every round, blocks migrating through a "
               "transfer array and outliving their threads, every word checked",
    .seed = "classic: mstress (mimalloc-bench)",
    .unit = "step",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "scale=5",
    .default_rounds = 25,
    .run = run,
    .merit = "run time of the fixed work: the measured phase's wall time (ns), as the "
             "original's; the verdicts",
};
