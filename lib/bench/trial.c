/*
 * trial.c — the measured phase inside a trial child: threads, barriers,
 * warm-up, the clock and the readings around it.  Workloads only say what
 * one round does.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A counter backend counts only the measured phase, each thread its own
 * (callgrind's collection state is per thread). */
static void collect(const struct ab_trial *t)
{
    if (t->collect)
        t->collect();
}

int64_t ab_trial_param(const struct ab_trial *t, const char *name)
{
    return ab_params_value(t->wl, &t->params, name);
}

void ab_trial_unavailable(struct ab_trial *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->unavailable_reason, sizeof t->unavailable_reason, fmt, ap);
    va_end(ap);
    t->unavailable = true;
}

void ab_trial_metric(struct ab_trial *t, const char *name, const char *unit, double value)
{
    if (t->nmetrics == AB_MAX_METRICS)
        return;
    t->metrics[t->nmetrics++] = (struct ab_metric){name, unit, value};
}

static pthread_mutex_t diag_lock = PTHREAD_MUTEX_INITIALIZER;

void ab_trial_diag(struct ab_trial *t, enum ab_code code, const char *fmt, ...)
{
    pthread_mutex_lock(&diag_lock);
    if (t->ndiags < sizeof t->diags / sizeof t->diags[0]) {
        struct ab_diag *d = &t->diags[t->ndiags];
        d->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->detail, sizeof d->detail, fmt, ap);
        va_end(ap);
        t->ndiags++;
    }
    pthread_mutex_unlock(&diag_lock);
}

void ab_trial_remote_frees(struct ab_trial *t, uint64_t frees, int64_t ns)
{
    ab_trial_metric(t, "remote_frees", "frees", (double)frees);
    ab_trial_metric(t, "ns_per_remote_free", "ns",
                    ns >= 0 && frees ? (double)ns / (double)frees : NAN);
    const struct allocbench_plugin *pl = t->heap->plugin;
    struct allocbench_plugin_stats st = {.struct_size = sizeof st};
    if (pl && pl->stats && pl->stats(&st) == 0 && (st.valid & ALLOCBENCH_STAT_REMOTE_DEPTH))
        ab_trial_metric(t, "pending_at_end", "blocks", (double)st.remote_free_depth);
}

void ab_trial_sample(struct ab_trial *t, const char *phase, int64_t live_bytes)
{
    if (t->nsamples == AB_MAX_SAMPLES)
        return;
    struct ab_sample *s = &t->samples[t->nsamples++];
    ab_strlcpy(s->phase, phase, sizeof s->phase);
    s->live_bytes = live_bytes;
    int64_t kib = ab_statm_rss_kib(t->statm_fd);
    s->rss_bytes = kib >= 0 ? kib * 1024 : -1;
    struct ab_alloc_stats st;
    ab_heap_stats(t->heap, &st);
    s->mapped_bytes = st.mapped;
    s->resident_bytes = st.resident;
}

/*
 * --pin.  The orchestrating process plans (hwloc_distrib: cores before
 * hyperthreads, one PU per thread) for the threads asked and for twice as
 * many, and the request carries the plans; a thread binds itself to its PU
 * with sched_setaffinity.  A plan of a topology that is not this machine's
 * (HWLOC_SYNTHETIC) binds as sched_setaffinity did; without a plan the
 * thread takes the i-th CPU this process may use.  What each thread got is
 * recorded.
 */
struct pin_plan {
    const int *pus;              /* NULL: no plan, affinity only */
    unsigned n;
    atomic_uint used_plan, used_affinity, failed;
};

void ab_trial_pin_prepare(struct ab_trial *t)
{
    if (!t->pin)
        return;
    unsigned n = t->threads ? t->threads : 1;
    struct pin_plan *pl = ab_buf_alloc(sizeof *pl);
    if (!pl)
        return;
    pl->n = n;
    pl->pus = NULL;
    for (unsigned k = 0; k < t->pin_nplans; k++)
        if (t->pin_plan_len[k] == n)
            pl->pus = t->pin_plans[k];
    t->nplaced = n;
    for (unsigned i = 0; i < n; i++)
        t->placement[i] = -1;
    t->pin_plan = pl;
}

void ab_trial_pin_release(struct ab_trial *t)
{
    struct pin_plan *pl = t->pin_plan;
    if (!pl)
        return;
    unsigned h = atomic_load(&pl->used_plan), a = atomic_load(&pl->used_affinity);
    ab_strlcpy(t->pin_method,
               atomic_load(&pl->failed) ? "failed"
               : h && a                 ? "mixed"
               : h                      ? "hwloc"
               : a                      ? "sched_setaffinity"
                                        : "none",
               sizeof t->pin_method);
    ab_buf_free(pl, sizeof *pl);
    t->pin_plan = NULL;
}

/* The index-th CPU of those this process may run on, or -1. */
static int allowed_cpu(unsigned index)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set))
        return -1;
    int count = CPU_COUNT(&set);
    if (count <= 0)
        return -1;
    unsigned want = index % (unsigned)count;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set) && want-- == 0)
            return c;
    return -1;
}

void ab_trial_pin_self(struct ab_trial *t, unsigned index)
{
    struct pin_plan *pl = t->pin_plan;
    if (!pl || index >= pl->n)
        return;
    int planned = pl->pus ? pl->pus[index] : -1;
    int cpu = planned >= 0 ? planned : allowed_cpu(index);
    cpu_set_t cs;
    CPU_ZERO(&cs);
    if (cpu >= 0 && cpu < CPU_SETSIZE) {
        CPU_SET(cpu, &cs);
        if (sched_setaffinity(0, sizeof cs, &cs) == 0) {
            t->placement[index] = cpu;
            atomic_fetch_add(planned >= 0 && t->pin_bindable ? &pl->used_plan
                                                             : &pl->used_affinity,
                             1);
            return;
        }
    }
    atomic_fetch_add(&pl->failed, 1);
}

void ab_trial_set_threads(struct ab_trial *t, unsigned n)
{
    if (n == t->threads || n == 0 || n > AB_MAX_THREADS)
        return;
    bool planned = t->pin_plan != NULL;
    ab_trial_pin_release(t);
    t->threads = n;
    if (planned)
        ab_trial_pin_prepare(t);
}

struct stand_in {
    struct ab_trial *t;
    unsigned index;
    void *(*fn)(void *);
    void *arg;
};

/* The stand-in lives in harness memory of its own (the thread that started
 * it may be gone by the time it runs: larson's) and frees it first. */
static void *stand_in_main(void *arg)
{
    struct stand_in s = *(struct stand_in *)arg;
    ab_buf_free(arg, sizeof s);
    const struct ab_heap *h = s.t->heap;
    ab_trial_pin_self(s.t, s.index);
    if (h->plugin && h->plugin->thread_attach)
        h->plugin->thread_attach();
    void *r = s.fn(s.arg);
    if (h->plugin && h->plugin->thread_detach)
        h->plugin->thread_detach();
    return r;
}

int ab_trial_start_thread(struct ab_trial *t, unsigned index, void *(*fn)(void *), void *arg,
                          pthread_t *tid)
{
    struct stand_in *s = ab_buf_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    *s = (struct stand_in){t, index, fn, arg};
    int rc = pthread_create(tid, NULL, stand_in_main, s);
    if (rc) {
        ab_buf_free(s, sizeof *s);
        return -rc;
    }
    return 0;
}

int ab_trial_run_thread(struct ab_thread *th, void *(*fn)(void *), void *arg)
{
    pthread_t tid;
    int rc = ab_trial_start_thread(th->t, th->index, fn, arg, &tid);
    if (rc)
        return rc;
    pthread_join(tid, NULL);
    return 0;
}

struct worker {
    struct ab_thread th;
    const struct ab_rounds *r;
    pthread_barrier_t *bar;
    int setup_rc;
    pthread_t tid;
};

static void reading(struct ab_trial *t, int64_t *rss, struct ab_alloc_stats *st)
{
    *rss = ab_statm_rss_kib(t->statm_fd);
    ab_heap_stats(t->heap, st);
}

/* One thread's life.  With a barrier (several threads) the main thread takes
 * its readings between the second and third waits and after the fourth. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ab_thread *th = &w->th;
    const struct ab_heap *h = th->t->heap;
    ab_trial_pin_self(th->t, th->index);
    if (h->plugin && h->plugin->thread_attach)
        h->plugin->thread_attach();
    w->setup_rc = w->r->setup ? w->r->setup(th) : 0;
    if (w->setup_rc == 0)
        for (unsigned i = 0; i < th->t->warmup && !th->error; i++)
            w->r->round(th);
    if (w->bar) {
        pthread_barrier_wait(w->bar); /* 1: all set up and warm */
        pthread_barrier_wait(w->bar); /* 2: the before-readings are taken */
    }
    uint64_t ops = 0;
    th->measuring = true;
    th->idle_ns = 0;
    th->t0 = ab_now_ns();
    collect(th->t);
    if (w->setup_rc == 0)
        for (unsigned i = 0; i < th->t->rounds && !th->error; i++)
            ops += w->r->round(th);
    collect(th->t);
    th->t1 = ab_now_ns();
    th->measuring = false;
    th->ops = ops;
    if (w->bar) {
        pthread_barrier_wait(w->bar); /* 3: all measured */
        pthread_barrier_wait(w->bar); /* 4: the after-readings are taken */
    }
    if (w->r->teardown && w->setup_rc == 0)
        w->r->teardown(th);
    if (h->plugin && h->plugin->thread_detach)
        h->plugin->thread_detach();
    return NULL;
}

void ab_trial_idle(struct ab_thread *th, uint64_t ns)
{
    if (!th->measuring || !ns)
        return;
    uint64_t t0 = ab_now_ns();
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
    th->idle_ns += ab_now_ns() - t0;
}

int ab_trial_run_rounds(struct ab_trial *t, const struct ab_rounds *r)
{
    unsigned n = t->threads ? t->threads : 1;
    struct worker *w = ab_buf_alloc(n * sizeof *w);
    if (!w)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        w[i].th.t = t;
        w[i].th.index = i;
        /* Independent, reproducible stream per thread and repetition. */
        w[i].th.rng = ab_rng_stream(ab_rng_stream(t->seed, t->repetition), i);
        w[i].r = r;
    }
    int rc = 0;
    if (n == 1) {
        /* One thread runs on the child's main thread, as a plain program would. */
        const struct ab_heap *h = t->heap;
        ab_trial_pin_self(t, 0);
        if (h->plugin && h->plugin->thread_attach)
            h->plugin->thread_attach();
        struct ab_thread *th = &w[0].th;
        w[0].setup_rc = r->setup ? r->setup(th) : 0;
        if (w[0].setup_rc == 0) {
            for (unsigned i = 0; i < t->warmup && !th->error; i++)
                r->round(th);
            reading(t, &t->rss_before_kib, &t->stats_before);
            uint64_t ops = 0;
            th->measuring = true;
            th->idle_ns = 0;
            th->t0 = ab_now_ns();
            collect(t);
            for (unsigned i = 0; i < t->rounds && !th->error; i++)
                ops += r->round(th);
            collect(t);
            th->t1 = ab_now_ns();
            th->measuring = false;
            th->ops = ops;
            reading(t, &t->rss_after_kib, &t->stats_after);
            if (r->teardown)
                r->teardown(th);
        }
        if (h->plugin && h->plugin->thread_detach)
            h->plugin->thread_detach();
    } else {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, n + 1);
        unsigned started = 0;
        for (unsigned i = 0; i < n; i++) {
            w[i].bar = &bar;
            if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
                break;
            started++;
        }
        if (started < n) {
            /* Cannot proceed without every thread at the barriers. */
            abort();
        }
        pthread_barrier_wait(&bar);
        reading(t, &t->rss_before_kib, &t->stats_before);
        pthread_barrier_wait(&bar);
        pthread_barrier_wait(&bar);
        reading(t, &t->rss_after_kib, &t->stats_after);
        pthread_barrier_wait(&bar);
        for (unsigned i = 0; i < n; i++)
            pthread_join(w[i].tid, NULL);
        pthread_barrier_destroy(&bar);
    }
    uint64_t first = UINT64_MAX, last = 0, idle = UINT64_MAX;
    t->ops = 0;
    t->thread_ns = 0;
    for (unsigned i = 0; i < n; i++) {
        if (w[i].setup_rc)
            rc = w[i].setup_rc;
        if (w[i].th.error)
            rc = w[i].th.error;
        t->ops += w[i].th.ops;
        t->thread_ns += w[i].th.t1 - w[i].th.t0 - w[i].th.idle_ns;
        if (w[i].th.t0 < first)
            first = w[i].th.t0;
        if (w[i].th.t1 > last)
            last = w[i].th.t1;
        if (w[i].th.idle_ns < idle)
            idle = w[i].th.idle_ns;
    }
    /* The pauses every thread took together are no part of the work. */
    t->wall_ns = last - first - idle;
    ab_buf_free(w, n * sizeof *w);
    return rc;
}

/* ---------------------------------------- a verifying context for a trial */

int ab_stress_from_trial(struct ab_stress *s, struct ab_findings *f, const struct ab_trial *t)
{
    ab_stress_init(s, t->heap, f);
    s->threads = t->threads ? t->threads : 1;
    s->seed = t->seed + t->repetition * 0x9e3779b97f4a7c15ull;
    s->verify = true;
    s->statm_fd = t->statm_fd;
    s->shadow = ab_shadow_new();
    return s->shadow ? 0 : -ENOMEM;
}

void ab_stress_to_trial(const struct ab_stress *s, struct ab_trial *t)
{
    const struct ab_findings *f = s->f;
    for (unsigned i = 0; i < f->ndiags; i++) {
        if (f->diag_count[i] > 1)
            ab_trial_diag(t, f->diags[i].code, "%s (%llu occurrences)", f->diags[i].detail,
                          (unsigned long long)f->diag_count[i]);
        else
            ab_trial_diag(t, f->diags[i].code, "%s", f->diags[i].detail);
    }
    if (f->incomplete)
        ab_trial_diag(t, AB_ALLOCBENCH_TRIAL_FAILED, "%s", f->incomplete_reason);
}

