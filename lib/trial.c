/*
 * trial.c — the measured phase inside a trial child: threads, barriers,
 * warm-up, the clock and the readings around it.  Workloads only say what
 * one round does.
 */
#include "ab.h"
#include "ab-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Callgrind counts only the measured phase, each thread its own (its
 * collection state is per thread).  Outside valgrind this is never called. */
static void collect(const struct ab_trial *t)
{
#if AB_HAVE_CALLGRIND_H
    if (t->collect)
        ab_callgrind_toggle();
#else
    (void)t;
#endif
}

int64_t ab_trial_param(const struct ab_trial *t, const char *name)
{
    for (size_t i = 0; i < t->wl->nparams; i++)
        if (!strcmp(t->wl->params[i].name, name))
            return t->params.v[i];
    abort(); /* a workload asked for a parameter it does not declare */
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

void ab_trial_diag(struct ab_trial *t, enum ab_code code, const char *fmt, ...)
{
    if (t->ndiags == sizeof t->diags / sizeof t->diags[0])
        return;
    struct ab_diag *d = &t->diags[t->ndiags++];
    d->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof d->detail, fmt, ap);
    va_end(ap);
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
    th->t0 = ab_now_ns();
    collect(th->t);
    if (w->setup_rc == 0)
        for (unsigned i = 0; i < th->t->rounds && !th->error; i++)
            ops += w->r->round(th);
    collect(th->t);
    th->t1 = ab_now_ns();
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
        w[i].th.rng = t->seed * 0x100000001b3ull + i * 0x9e3779b97f4a7c15ull + t->repetition;
        w[i].r = r;
    }
    int rc = 0;
    if (n == 1) {
        /* One thread runs on the child's main thread, as a plain program would. */
        const struct ab_heap *h = t->heap;
        if (h->plugin && h->plugin->thread_attach)
            h->plugin->thread_attach();
        struct ab_thread *th = &w[0].th;
        w[0].setup_rc = r->setup ? r->setup(th) : 0;
        if (w[0].setup_rc == 0) {
            for (unsigned i = 0; i < t->warmup && !th->error; i++)
                r->round(th);
            reading(t, &t->rss_before_kib, &t->stats_before);
            uint64_t ops = 0;
            th->t0 = ab_now_ns();
            collect(t);
            for (unsigned i = 0; i < t->rounds && !th->error; i++)
                ops += r->round(th);
            collect(t);
            th->t1 = ab_now_ns();
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
    uint64_t first = UINT64_MAX, last = 0;
    t->ops = 0;
    t->thread_ns = 0;
    for (unsigned i = 0; i < n; i++) {
        if (w[i].setup_rc)
            rc = w[i].setup_rc;
        if (w[i].th.error)
            rc = w[i].th.error;
        t->ops += w[i].th.ops;
        t->thread_ns += w[i].th.t1 - w[i].th.t0;
        if (w[i].th.t0 < first)
            first = w[i].th.t0;
        if (w[i].th.t1 > last)
            last = w[i].th.t1;
    }
    t->wall_ns = last - first;
    ab_buf_free(w, n * sizeof *w);
    return rc;
}
