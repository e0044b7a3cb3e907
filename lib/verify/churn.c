/*
 * churn.c — thread churn for shutdown cleanup, shared by the stress case and
 * the `shutdown` workload.  Each round starts `threads` threads; each frees
 * the blocks the previous round's thread of its rank left behind (remote
 * frees, their owner has exited), allocates `blocks` verified blocks, frees
 * its own share in random order, leaves the rest for the next round, and
 * exits.  Thread stacks are mapped and unmapped here: the C library's
 * stack cache would otherwise keep the address space of exited threads and
 * blur what the allocator keeps.
 */
#include "verify.h"

#include <errno.h>
#include <string.h>

#define CHURN_STACK (256u << 10)

struct ab_churn {
    struct ab_stress *s;
    struct ab_churn_config c;
    size_t keep;                    /* blocks each thread leaves behind */
    struct ab_block *left, *next;   /* [threads][keep]: last round's, this round's */
    size_t *nleft, *nnext;
    struct ab_block *work;          /* [threads][blocks] */
    uint64_t round, exits, thread_ns;
};

struct churn_thread {
    struct ab_churn *c;
    unsigned index;
    uint64_t ops, verified, ns;
    void *stack;
    pthread_t tid;
};

static void *churn_main(void *arg)
{
    struct churn_thread *t = arg;
    struct ab_churn *c = t->c;
    struct ab_stress *s = c->s;
    const struct allocbench_plugin *pl = s->heap->plugin;
    unsigned T = c->c.threads, i = t->index;
    uint64_t t0 = ab_now_ns();
    if (pl && pl->thread_attach)
        pl->thread_attach();
    /* Last round's blocks of the rank before this one: their owner is gone. */
    unsigned from = (i + T - 1) % T;
    for (size_t k = 0; k < c->nleft[from]; k++)
        t->verified += ab_block_free(s, &c->left[from * c->keep + k]);
    c->nleft[from] = 0;

    uint64_t rng = ab_stress_rng(s, i) ^ (c->round * 0xd1b54a32d192ed03ull);
    uint64_t seq = ((uint64_t)i << 48) | (c->round << 24);
    struct ab_block *w = &c->work[(size_t)i * c->c.blocks];
    size_t n = 0;
    for (; n < c->c.blocks; n++) {
        size_t size = ab_size_mix_pick(c->c.sizes, &rng);
        int rc = ab_block_alloc(s, &w[n], size, 0, AB_ALLOC_MALLOC, ++seq);
        if (rc == -ENOMEM) {
            ab_stress_incomplete(s, "malloc(%zu) returned NULL in round %llu of thread churn",
                                 size, (unsigned long long)c->round);
            break;
        }
        t->ops++;
    }
    /* Keep a random `keep` for the next round, free the rest in random order. */
    for (size_t k = n; k > 1; k--) {
        size_t j = (size_t)ab_rng_below(&rng, k);
        struct ab_block tmp = w[k - 1];
        w[k - 1] = w[j];
        w[j] = tmp;
    }
    size_t keep = n < c->keep ? n : c->keep;
    for (size_t k = keep; k < n; k++)
        t->verified += ab_block_free(s, &w[k]);
    for (size_t k = 0; k < keep; k++)
        c->next[i * c->keep + k] = w[k];
    c->nnext[i] = keep;
    if (pl && pl->thread_detach)
        pl->thread_detach();
    t->ns = ab_now_ns() - t0;
    return NULL;
}

struct ab_churn *ab_churn_new(struct ab_stress *s, const struct ab_churn_config *cfg)
{
    struct ab_churn *c = ab_buf_alloc(sizeof *c);
    if (!c)
        return NULL;
    c->s = s;
    c->c = *cfg;
    if (!c->c.threads)
        c->c.threads = 1;
    c->keep = c->c.blocks * c->c.handoff_pct / 100;
    size_t T = c->c.threads, kb = (c->keep ? c->keep : 1) * T * sizeof(struct ab_block);
    c->left = ab_buf_alloc(kb);
    c->next = ab_buf_alloc(kb);
    c->nleft = ab_buf_alloc(T * sizeof *c->nleft);
    c->nnext = ab_buf_alloc(T * sizeof *c->nnext);
    c->work = ab_buf_alloc((c->c.blocks ? c->c.blocks : 1) * T * sizeof(struct ab_block));
    if (!c->left || !c->next || !c->nleft || !c->nnext || !c->work) {
        ab_churn_free(c);
        return NULL;
    }
    /* Resident from the start, so a reading before the first round and one
     * after the last differ by the allocator's memory only. */
    memset(c->left, 0, kb);
    memset(c->next, 0, kb);
    memset(c->work, 0, (c->c.blocks ? c->c.blocks : 1) * T * sizeof(struct ab_block));
    return c;
}

int ab_churn_round(struct ab_churn *c)
{
    unsigned T = c->c.threads;
    struct churn_thread *t = ab_buf_alloc(T * sizeof *t);
    if (!t)
        return -ENOMEM;
    int rc = 0;
    unsigned started = 0;
    for (; started < T; started++) {
        t[started] = (struct churn_thread){.c = c, .index = started};
        t[started].stack = ab_buf_alloc(CHURN_STACK);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (!t[started].stack) {
            rc = ENOMEM;
        } else {
            pthread_attr_setstack(&attr, t[started].stack, CHURN_STACK);
            rc = pthread_create(&t[started].tid, &attr, churn_main, &t[started]);
        }
        pthread_attr_destroy(&attr);
        if (rc) {
            ab_buf_free(t[started].stack, CHURN_STACK);
            break;
        }
    }
    uint64_t ops = 0, verified = 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(t[i].tid, NULL);
        ab_buf_free(t[i].stack, CHURN_STACK);
        ops += t[i].ops;
        verified += t[i].verified;
        c->thread_ns += t[i].ns;
    }
    ab_stress_count(c->s, ops, verified);
    c->exits += started;
    c->round++;
    /* This round's leftovers become the next round's to free. */
    struct ab_block *b = c->left;
    c->left = c->next;
    c->next = b;
    size_t *n = c->nleft;
    c->nleft = c->nnext;
    c->nnext = n;
    ab_buf_free(t, T * sizeof *t);
    return rc ? -rc : 0;
}

void ab_churn_drain(struct ab_churn *c)
{
    uint64_t verified = 0;
    for (unsigned i = 0; i < c->c.threads; i++) {
        for (size_t k = 0; k < c->nleft[i]; k++)
            verified += ab_block_free(c->s, &c->left[i * c->keep + k]);
        c->nleft[i] = 0;
    }
    ab_stress_count(c->s, 0, verified);
}

uint64_t ab_churn_exits(const struct ab_churn *c)
{
    return c->exits;
}

uint64_t ab_churn_thread_ns(const struct ab_churn *c)
{
    return c->thread_ns;
}

void ab_churn_free(struct ab_churn *c)
{
    if (!c)
        return;
    size_t T = c->c.threads, kb = (c->keep ? c->keep : 1) * T * sizeof(struct ab_block);
    ab_buf_free(c->left, kb);
    ab_buf_free(c->next, kb);
    ab_buf_free(c->nleft, T * sizeof *c->nleft);
    ab_buf_free(c->nnext, T * sizeof *c->nnext);
    ab_buf_free(c->work, (c->c.blocks ? c->c.blocks : 1) * T * sizeof(struct ab_block));
    ab_buf_free(c, sizeof *c);
}
