/*
 * child.h — part of proc.h (included by it): the hidden `__child` entry
 * point, the child modes and the requests they take, the reply.
 */
#ifndef AB_PROC_CHILD_H
#define AB_PROC_CHILD_H

#include "core.h"

struct cJSON;
struct ab_heap;

/* ----------------------------------------------------------------- child.c */

/*
 * A child mode: what a `__child` process does with a request of that
 * "mode".  One per engine (trial, stress, fastpath), one per supervising
 * counter backend, and describe; each a const descriptor listed once in
 * cmd/modes.h.  run returns the reply document (never NULL; a failure is
 * an ab_child_error document).
 */
/*
 * A request is checked whole before anything runs: every member is one the
 * mode declares (plus "mode" and, for a mode that binds a heap, "subject"),
 * of its kind and in its range, each once; then the mode's own check (a
 * workload's variant exists, a size list holds sizes).  A request that
 * fails is exit 2 with one line, never a crash: the parent never sends
 * one, so it is a caller's mistake, not a finding about an allocator.
 */
enum ab_field_kind {
    AB_FIELD_STR,                  /* a string (lo..hi: its length) */
    AB_FIELD_INT,                 /* an integer in lo..hi */
    AB_FIELD_NUM,                  /* a finite number in lo..hi */
    AB_FIELD_BOOL,
    AB_FIELD_SEED,                 /* a decimal string, 0..2^64-1 */
    AB_FIELD_OBJ,
    AB_FIELD_ARR,                  /* an array (lo..hi: its length) */
};
struct ab_field {
    const char *key;
    enum ab_field_kind kind;
    bool required;
    double lo, hi;
};
#define AB_FIELDS(a) .fields = (a), .nfields = sizeof(a) / sizeof((a)[0])

struct ab_child_mode {
    const char *name;
    bool binds_heap;               /* bind the subject's heap first */
    bool closes_heap;              /* run releases the heap itself */
    const struct ab_field *fields; /* the members of its request */
    size_t nfields;
    /* What the table cannot say; NULL when it says everything. */
    int (*check)(const struct cJSON *req, char *err, size_t len);
    struct cJSON *(*run)(const struct cJSON *req, struct ab_heap *heap);
};

/* Check members of o against a table (unknown members and duplicates are
 * refused); what names o in messages is where. */
int ab_fields_check(const struct cJSON *o, const char *where, const struct ab_field *f,
                    size_t n, char *err, size_t len);
/* Parse a request and check it whole; *mode is its mode.  The caller frees
 * *req.  Fills err and returns -EINVAL when the request is bad. */
int ab_child_request(const char *text, const struct ab_child_mode *const *modes, size_t nmodes,
                     struct cJSON **req, const struct ab_child_mode **mode, char *err,
                     size_t len);

extern const struct ab_child_mode ab_mode_describe;

/* Entry point of the hidden `__child` command: reads a request (JSON) from
 * argv, runs its mode, writes one JSON document to descriptor 3; returns
 * the exit status. */
int ab_child_main(const char *request, const struct ab_child_mode *const *modes, size_t nmodes);
/* Replies carry "rc": AB_OK, or a negative errno value with "code" (the
 * diagnostic's stable name, as reports write it) and "error" (one line). */
struct cJSON *ab_child_reply(void);
struct cJSON *ab_child_error(enum ab_code code, const char *msg);
bool ab_child_ok(const struct cJSON *reply);
/* A reply's figures: each named member a finite count (>= 0), else the
 * first that is not, in why, and -EPROTO (the reply is not believed). */
int ab_reply_counts(const struct cJSON *reply, const char *const *names, size_t n, char *why,
                    size_t len);
/* The diagnostic of a failed reply (ALLOCBENCH_INTERNAL when unnamed). */
enum ab_code ab_child_code(const struct cJSON *reply);

#endif
