/*
 * xmalloc: the asymmetric benchmark of Lever and Boreham ("malloc()
 * Performance in a Multithreaded Linux Environment", USENIX 2000) as
 * mimalloc-bench runs it (xmalloc-test -w N -t 5 -s 64), written here after
 * the original's algorithm.  --threads N runs N allocating and N freeing
 * threads, as -w N does.  An allocating thread mallocs a batch (a header and
 * `batch` pointers, from the allocator under test), fills it with `batch`
 * blocks of `size` bytes, writing the first min(size, 128) bytes of each,
 * and pushes it onto one shared stack (LIFO, a mutex and two condition
 * variables); a freeing thread pops the newest batch, frees its blocks in
 * order and then the batch.  The stack holds at most `depth` batches (the
 * original's limit of 100): an allocating thread waits while it is full.
 * Every block is freed by a thread that did not allocate it.
 *
 * The original runs for a fixed time; here one round is `batches` batches
 * per allocating thread, and every freeing thread frees as many (any batch,
 * whoever made it).  One op is one block freed; the figure is frees per
 * second, as the original's (it prints rtime = 100 / Mfrees per second).
 */
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static const char *const variants[] = {"asymmetric", NULL};

static const struct ab_param params[] = {
    {"size", AB_PARAM_SIZE, "64", 1, 1 << 20, NULL, "bytes per block (-s)"},
    {"batch", AB_PARAM_INT, "4096", 1, 1 << 20, NULL,
     "blocks per batch (the original's OBJECTS_PER_BATCH)"},
    {"batches", AB_PARAM_INT, "16", 1, 100000000, NULL,
     "batches each allocating thread makes per round"},
    {"depth", AB_PARAM_INT, "100", 1, 1 << 20, NULL,
     "batches the shared stack holds before allocating threads wait (the original's 100)"},
};

/* A batch as the original lays it out: in memory from the allocator. */
struct batch {
    struct batch *next;
    void *objects[];
};

struct shared {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct batch *top;
    size_t count, depth;
    size_t size, batch, batches;
    unsigned workers;                 /* of each role */
    atomic_uint_fast64_t frees, free_ns;
    atomic_int failed;
};

/* After an allocation failed nobody waits: the stack may grow past depth,
 * and a pop finds NULL once it is empty. */
static void push(struct shared *sh, struct batch *b)
{
    pthread_mutex_lock(&sh->lock);
    while (sh->count >= sh->depth && !atomic_load(&sh->failed))
        pthread_cond_wait(&sh->not_full, &sh->lock);
    b->next = sh->top;
    sh->top = b;
    sh->count++;
    pthread_cond_signal(&sh->not_empty);
    pthread_mutex_unlock(&sh->lock);
}

static struct batch *pop(struct shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    while (!sh->top && !atomic_load(&sh->failed))
        pthread_cond_wait(&sh->not_empty, &sh->lock);
    struct batch *b = sh->top;
    if (b) {
        sh->top = b->next;
        sh->count--;
        pthread_cond_signal(&sh->not_full);
    }
    pthread_mutex_unlock(&sh->lock);
    return b;
}

static void fail(struct shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    atomic_store(&sh->failed, 1);
    pthread_cond_broadcast(&sh->not_empty);
    pthread_cond_broadcast(&sh->not_full);
    pthread_mutex_unlock(&sh->lock);
}

/* Thread 2i frees, thread 2i + 1 allocates: the original starts releaser i,
 * then allocator i. */
static bool allocating(const struct ab_thread *th)
{
    return th->index & 1;
}

/* Allocating: per batch one malloc of the header, then per block a malloc
 * and a memset of min(size, 128) bytes.  A NULL stops the trial: the batch
 * goes out with the blocks it got, and nobody waits any more. */
static uint64_t make(struct ab_thread *th, struct shared *sh)
{
    const struct ab_heap *h = th->t->heap;
    size_t fill = sh->size > 128 ? 128 : sh->size;
    for (size_t k = 0; k < sh->batches; k++) {
        struct batch *b = h->malloc(sizeof *b + sh->batch * sizeof b->objects[0]);
        if (!b) {
            fail(sh);
            th->error = -ENOMEM;
            return 0;
        }
        for (size_t i = 0; i < sh->batch; i++) {
            void *p = atomic_load_explicit(&sh->failed, memory_order_relaxed)
                          ? NULL
                          : h->malloc(sh->size);
            if (p)
                memset(p, (int)(i % 256), fill);
            else if (!atomic_load(&sh->failed))
                fail(sh);
            b->objects[i] = p;
        }
        push(sh, b);
    }
    return 0;
}

/* Freeing: the blocks in order, then the batch; two clock reads per batch
 * time the frees (ns_per_remote_free). */
static uint64_t release(struct ab_thread *th, struct shared *sh)
{
    const struct ab_heap *h = th->t->heap;
    uint64_t frees = 0, ns = 0;
    for (size_t k = 0; k < sh->batches; k++) {
        struct batch *b = pop(sh);
        if (!b)
            break;
        uint64_t t0 = ab_now_ns();
        for (size_t i = 0; i < sh->batch; i++)
            if (b->objects[i]) {
                h->free(b->objects[i]);
                frees++;
            }
        h->free(b);
        ns += ab_now_ns() - t0;
    }
    /* The batches are remote frees too. */
    if (th->measuring) {
        atomic_fetch_add(&sh->frees, frees + sh->batches);
        atomic_fetch_add(&sh->free_ns, ns);
    }
    return frees;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct shared *sh = th->t->shared;
    return allocating(th) ? make(th, sh) : release(th, sh);
}

static int run(struct ab_trial *t)
{
    struct shared sh = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .not_empty = PTHREAD_COND_INITIALIZER,
        .not_full = PTHREAD_COND_INITIALIZER,
        .depth = (size_t)ab_trial_param(t, "depth"),
        .size = (size_t)ab_trial_param(t, "size"),
        .batch = (size_t)ab_trial_param(t, "batch"),
        .batches = (size_t)ab_trial_param(t, "batches"),
        .workers = t->threads ? t->threads : 1,
    };
    if (2 * sh.workers > AB_MAX_THREADS)
        return -EINVAL;
    ab_trial_set_threads(t, 2 * sh.workers);
    t->shared = &sh;
    static const struct ab_rounds r = {NULL, round_fn, NULL};
    int rc = ab_trial_run_rounds(t, &r);
    /* Every round frees what it made; a failed one may leave batches. */
    while (sh.top) {
        struct batch *b = sh.top;
        sh.top = b->next;
        for (size_t i = 0; i < sh.batch; i++)
            t->heap->free(b->objects[i]);
        t->heap->free(b);
    }
    if (!rc && atomic_load(&sh.failed))
        rc = -ENOMEM;
    if (rc)
        return rc;
    ab_trial_remote_frees(t, atomic_load(&sh.frees), (int64_t)atomic_load(&sh.free_ns));
    ab_trial_metric(t, "producers", "threads", sh.workers);
    ab_trial_metric(t, "consumers", "threads", sh.workers);
    return 0;
}

const struct ab_workload ab_wl_xmalloc = {
    .name = "xmalloc",
    .summary = "Lever & Boreham's xmalloc-test: N allocating and N freeing threads, batches "
               "of blocks migrating through one shared stack",
    .seed = "classic: xmalloc-test (Lever, Boreham; Eder), as mimalloc-bench runs it",
    .unit = "block",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "batch=256,batches=4",
    .default_rounds = 20,
    .run = run,
    .merit = "frees per second (ops_per_s; one op is one block freed), the original's "
             "free/sec",
};
