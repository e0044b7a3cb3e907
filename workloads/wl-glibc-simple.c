/*
 * glibc-simple: glibc's single-threaded malloc benchmark (benchtests,
 * bench-malloc-simple) as mimalloc-bench runs it (glibc-simple, with its
 * FIFO/LIFO frees and byte touch), written here after the original's
 * algorithm.  For each block size of size, 2*size and 4*size (16, 32, 64
 * bytes by default): malloc an array of 1600 pointers, then for each n of
 * 25, 100, 400 and 1600 run iters/n times "malloc n blocks, writing every
 * byte of each, free the first half in allocation order and the second
 * newest first", four times over: once to warm up and once measured on the
 * calling thread, once on a fresh thread (which exits and is joined: glibc's
 * thread arena), and once more on the calling thread (glibc: its main arena
 * with SINGLE_THREAD_P false); then free the array.  The tcache, fastbins
 * and their equivalents see n blocks live at a time.
 *
 * One round is the original's whole run (3 sizes x 4 runs x 4 counts,
 * iters blocks each: 48 * iters blocks); one op is one block's malloc, byte
 * writes and free.  With --threads N every thread runs it on its own
 * (--threads 1 is the original, on the child's main thread).
 */
#include "workload.h"

#include <errno.h>

static const char *const variants[] = {"fifo-lifo", NULL};

static const struct ab_param params[] = {
    {"size", AB_PARAM_SIZE, "16", 1, 1 << 20, NULL,
     "the first block size (then twice and four times it)"},
    {"iters", AB_PARAM_INT, "2000000", 1600, 1000000000, NULL,
     "blocks per run of each count (NUM_ITERS): iters/n times n blocks"},
};

#define MAX_ALLOCS 1600
static const int counts[] = {25, 100, 400, MAX_ALLOCS};
#define NCOUNTS (sizeof counts / sizeof counts[0])

struct run {
    const struct ab_heap *h;
    char **arr;
    size_t size, iters;
    uint64_t blocks;
    bool failed;          /* a malloc returned NULL */
};

/* iters/n times: n mallocs with every byte written, n/2 frees oldest first,
 * the rest newest first.  The bytes are written one store each (volatile),
 * as the original's -O2 build writes them, not as vector stores. */
static void do_benchmark(struct run *r, int n)
{
    void *(*const do_malloc)(size_t) = r->h->malloc;
    void (*const do_free)(void *) = r->h->free;
    char **const arr = r->arr;
    const size_t size = r->size, reps = r->iters / (size_t)n;
    for (size_t j = 0; j < reps; j++) {
        for (int i = 0; i < n; i++) {
            volatile char *p = do_malloc(size);
            arr[i] = (char *)p;
            if (!p) {
                r->failed = true; /* free(NULL) below is harmless */
                continue;
            }
            for (size_t g = 0; g < size; g++)
                p[g] = (char)g;
        }
        for (int i = 0; i < n / 2; i++)
            do_free(arr[i]);
        for (int i = n - 1; i >= n / 2; i--)
            do_free(arr[i]);
    }
    r->blocks += reps * (size_t)n;
}

static void *thread_runs(void *arg)
{
    struct run *r = arg;
    for (size_t i = 0; i < NCOUNTS; i++)
        do_benchmark(r, counts[i]);
    return NULL;
}

static int bench(struct ab_thread *th, struct run *r)
{
    r->arr = r->h->malloc(MAX_ALLOCS * sizeof *r->arr);
    if (!r->arr)
        return -ENOMEM;
    for (size_t i = 0; i < NCOUNTS; i++) /* the warm-up run */
        do_benchmark(r, counts[i]);
    for (size_t i = 0; i < NCOUNTS; i++)
        do_benchmark(r, counts[i]);
    int rc = ab_trial_run_thread(th, thread_runs, r);
    for (size_t i = 0; i < NCOUNTS && !rc; i++)
        do_benchmark(r, counts[i]);
    r->h->free(r->arr);
    return rc ? rc : r->failed ? -ENOMEM : 0;
}

static uint64_t round_fn(struct ab_thread *th)
{
    struct ab_trial *t = th->t;
    size_t size = (size_t)ab_trial_param(t, "size");
    struct run r = {.h = t->heap, .iters = (size_t)ab_trial_param(t, "iters")};
    for (unsigned k = 0; k < 3 && !th->error; k++) {
        r.size = size << k;
        int rc = bench(th, &r);
        if (rc)
            th->error = rc;
    }
    return r.blocks;
}

static int run(struct ab_trial *t)
{
    static const struct ab_rounds r = {NULL, round_fn, NULL};
    return ab_trial_run_rounds(t, &r);
}

const struct ab_workload ab_wl_glibc_simple = {
    .name = "glibc-simple",
    .summary = "glibc's bench-malloc-simple: batches of 25 to 1600 blocks of 16, 32 and 64 "
               "bytes freed half FIFO, half LIFO, on the main thread and a fresh one",
    .seed = "classic: glibc benchtests bench-malloc-simple, as mimalloc-bench runs it",
    .unit = "block",
    .variants = variants,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .quick = "iters=16000",
    .default_rounds = 1,
    .run = run,
    .merit = "run time of the fixed work: the measured phase's wall time (ns), as the "
             "original's",
};
