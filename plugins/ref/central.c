/*
 * central.c — central span lists and the transfer cache (central.h).
 *
 * Cost: every function here takes one class lock, held for a few list
 * operations; none walks a free list.  Adoption moves a whole span's batch
 * in O(1).
 */
#include "central.h"

#include "page.h"

static uint32_t span_avail(const struct ref_span *s)
{
    return s->nfree + (uint32_t)((size_t)(s->carve_end - s->carve) / s->block);
}

/* Unlink s from whichever central list holds it (class lock held). */
static void unlink_span(struct ref_central *c, struct ref_span *s)
{
    if (s->list == REF_LIST_TRANSFER) {
        if (s->prev)
            s->prev->next = s->next;
        else
            c->xfer_head = s->next;
        if (s->next)
            s->next->prev = s->prev;
        else
            c->xfer_tail = s->prev;
        c->nxfer--;
        atomic_fetch_sub_explicit(&c->xfer_blocks, span_avail(s), memory_order_relaxed);
        s->prev = s->next = NULL;
        s->list = REF_LIST_NONE;
    } else if (s->list == REF_LIST_PARTIAL) {
        ref_list_del(&c->partial, s);
    }
}

/* A span with blocks to give joins the transfer cache; the oldest there
 * moves on to the partial list when the cache is full. */
static void link_span(struct ref_central *c, struct ref_span *s)
{
    unsigned max = ref_g.t.transfer_spans;
    if (!max) {
        ref_list_push(&c->partial, s, REF_LIST_PARTIAL);
        return;
    }
    if (c->nxfer >= max) {
        /* An empty span is not worth keeping past the cache: it goes back
         * to the page backend (pb_lock nests inside the class lock). */
        struct ref_span *old = c->xfer_tail;
        unlink_span(c, old);
        if (atomic_load_explicit(&old->used, memory_order_relaxed))
            ref_list_push(&c->partial, old, REF_LIST_PARTIAL);
        else
            ref_page_span_release(old);
    }
    s->prev = NULL;
    s->next = c->xfer_head;
    if (c->xfer_head)
        c->xfer_head->prev = s;
    else
        c->xfer_tail = s;
    c->xfer_head = s;
    c->nxfer++;
    s->list = REF_LIST_TRANSFER;
    atomic_fetch_add_explicit(&c->xfer_blocks, span_avail(s), memory_order_relaxed);
}

void ref_central_release(struct ref_span *s)
{
    struct ref_central *c = &ref_g.central[s->cls];
    pthread_mutex_lock(&c->lock);
    atomic_store_explicit(&s->owner, NULL, memory_order_release);
    s->prev = s->next = NULL;
    s->list = REF_LIST_NONE;
    if (span_avail(s))
        link_span(c, s);
    pthread_mutex_unlock(&c->lock);
}

bool ref_central_keep(struct ref_span *s)
{
    struct ref_central *c = &ref_g.central[s->cls];
    pthread_mutex_lock(&c->lock);
    bool kept = c->nxfer < REF_KEEP_EMPTY && c->nxfer < ref_g.t.transfer_spans;
    if (kept) {
        atomic_store_explicit(&s->owner, NULL, memory_order_release);
        s->prev = s->next = NULL;
        link_span(c, s);
    }
    pthread_mutex_unlock(&c->lock);
    return kept;
}

bool ref_central_free(struct ref_span *s, struct ref_block *b)
{
    struct ref_central *c = &ref_g.central[s->cls];
    pthread_mutex_lock(&c->lock);
    /* Owners change only under this lock (adopt, release). */
    if (atomic_load_explicit(&s->owner, memory_order_relaxed)) {
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    b->next = s->free;
    s->free = b;
    s->nfree++;
    uint32_t used = atomic_load_explicit(&s->used, memory_order_relaxed) - 1;
    atomic_store_explicit(&s->used, used, memory_order_relaxed);
    atomic_fetch_sub_explicit(&ref_g.span_out_bytes, s->block, memory_order_relaxed);
    if (!used)
        unlink_span(c, s);
    else if (s->list == REF_LIST_NONE)
        link_span(c, s);
    else if (s->list == REF_LIST_TRANSFER)
        atomic_fetch_add_explicit(&c->xfer_blocks, 1, memory_order_relaxed);
    pthread_mutex_unlock(&c->lock);
    if (!used)
        ref_page_span_release(s);
    return true;
}

struct ref_span *ref_central_adopt(unsigned cls, struct ref_heap *h)
{
    struct ref_central *c = &ref_g.central[cls];
    pthread_mutex_lock(&c->lock);
    struct ref_span *s = c->xfer_head ? c->xfer_head : c->partial;
    if (s) {
        unlink_span(c, s);
        atomic_store_explicit(&s->owner, h, memory_order_release);
    }
    pthread_mutex_unlock(&c->lock);
    return s;
}

uint64_t ref_central_transfer_blocks(void)
{
    uint64_t n = 0;
    for (unsigned c = 0; c < REF_NCLASS; c++)
        n += atomic_load_explicit(&ref_g.central[c].xfer_blocks, memory_order_relaxed);
    return n;
}

void ref_central_init(void)
{
    for (unsigned c = 0; c < REF_NCLASS; c++) {
        struct ref_central *k = &ref_g.central[c];
        pthread_mutex_init(&k->lock, NULL);
        k->xfer_head = k->xfer_tail = k->partial = NULL;
        k->nxfer = 0;
        atomic_store_explicit(&k->xfer_blocks, 0, memory_order_relaxed);
    }
}
