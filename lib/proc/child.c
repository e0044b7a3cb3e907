/*
 * child.c — the hidden `__child` command: one request in a fresh process
 * that the allocator under test owns.  The request arrives as JSON in argv;
 * its "mode" picks a mode of the table the program hands over (cmd/modes.h);
 * the reply is one JSON document written to descriptor 3.
 */
#include "proc.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { AB_REPLY_FD = 3 };

/* glibc's allocator under its own names: the request and the reply are built
 * with it (cJSON hooks), never with the allocator under test, so a broken
 * allocator cannot corrupt the report of what it did.  The printed reply is
 * released with __libc_free for the same reason. */
void *__libc_malloc(size_t);
void __libc_free(void *);

/* This child's nonce, taken out of the environment at its start (the
 * subject's code never finds it there). */
static char nonce[17];

void ab_reply_nonce_take(void)
{
    const char *n = getenv(AB_REPLY_NONCE_ENV);
    if (n && !nonce[0])
        snprintf(nonce, sizeof nonce, "%s", n);
    unsetenv(AB_REPLY_NONCE_ENV);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -EIO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int ab_reply_write(int fd, cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return -ENOMEM;
    char head[64];
    size_t len = strlen(text);
    int hl = snprintf(head, sizeof head, "ABRP %s %zu\n", nonce, len);
    int rc = write_all(fd, head, (size_t)hl);
    if (!rc)
        rc = write_all(fd, text, len);
    __libc_free(text);
    return rc;
}

static int reply(cJSON *doc)
{
    int rc = ab_reply_write(AB_REPLY_FD, doc);
    close(AB_REPLY_FD);
    return rc ? 4 : 0;
}

cJSON *ab_child_reply(void)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "rc", AB_OK);
    return d;
}

cJSON *ab_child_error(enum ab_code code, const char *msg)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "rc", -EIO);
    cJSON_AddStringToObject(d, "code", ab_code_name(code));
    cJSON_AddStringToObject(d, "error", msg);
    return d;
}

bool ab_child_ok(const cJSON *reply)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(reply, "rc");
    return cJSON_IsNumber(rc) && rc->valuedouble == AB_OK;
}

int ab_reply_counts(const cJSON *reply, const char *const *names, size_t n, char *why,
                    size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, names[i]);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
            v->valuedouble != floor(v->valuedouble)) {
            snprintf(why, len, "the reply's \"%s\" is missing or not a count", names[i]);
            return -EPROTO;
        }
    }
    return 0;
}

enum ab_code ab_child_code(const cJSON *reply)
{
    return ab_code_from_name(ab_json_str(reply, "code"));
}

static const char *kind_name(enum ab_field_kind k)
{
    static const char *const names[] = {"a string",  "an integer", "a number", "true or false",
                                         "a decimal string", "an object", "an array"};
    return names[k];
}

static bool field_ok(const cJSON *v, const struct ab_field *f)
{
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
    switch (f->kind) {
    case AB_FIELD_STR:
        return cJSON_IsString(v) && strlen(v->valuestring) >= f->lo &&
               strlen(v->valuestring) <= f->hi;
    case AB_FIELD_INT:
        return cJSON_IsNumber(v) && isfinite(d) && d == floor(d) && d >= f->lo && d <= f->hi;
    case AB_FIELD_NUM:
        return cJSON_IsNumber(v) && isfinite(d) && d >= f->lo && d <= f->hi;
    case AB_FIELD_BOOL:
        return cJSON_IsBool(v);
    case AB_FIELD_SEED: {
        uint64_t s;
        return cJSON_IsString(v) && !ab_parse_u64(v->valuestring, 0, UINT64_MAX, false, &s);
    }
    case AB_FIELD_OBJ:
        return cJSON_IsObject(v);
    case AB_FIELD_ARR:
        return cJSON_IsArray(v) && cJSON_GetArraySize(v) >= f->lo &&
               cJSON_GetArraySize(v) <= f->hi;
    }
    return false;
}

int ab_fields_check(const cJSON *o, const char *where, const struct ab_field *f, size_t n,
                    char *err, size_t len)
{
    if (!cJSON_IsObject(o))
        return snprintf(err, len, "%s is not an object", where), -EINVAL;
    const cJSON *m;
    cJSON_ArrayForEach(m, o)
    {
        const struct ab_field *d = NULL;
        for (size_t i = 0; i < n && !d; i++)
            if (!strcmp(f[i].key, m->string))
                d = &f[i];
        if (!d)
            return snprintf(err, len, "%s has no member \"%s\"", where, m->string), -EINVAL;
        for (const cJSON *p = o->child; p != m; p = p->next)
            if (!strcmp(p->string, m->string))
                return snprintf(err, len, "%s has \"%s\" twice", where, m->string), -EINVAL;
        if (!field_ok(m, d)) {
            if (d->kind == AB_FIELD_INT || d->kind == AB_FIELD_NUM)
                snprintf(err, len, "%s: \"%s\" must be %s in %.17g..%.17g", where, m->string,
                         kind_name(d->kind), d->lo, d->hi);
            else if (d->kind == AB_FIELD_STR || d->kind == AB_FIELD_ARR)
                snprintf(err, len, "%s: \"%s\" must be %s of length %.17g..%.17g", where,
                         m->string, kind_name(d->kind), d->lo, d->hi);
            else
                snprintf(err, len, "%s: \"%s\" must be %s", where, m->string,
                         kind_name(d->kind));
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (f[i].required && !cJSON_GetObjectItemCaseSensitive(o, f[i].key))
            return snprintf(err, len, "%s has no \"%s\"", where, f[i].key), -EINVAL;
    return 0;
}

static const struct ab_field subject_fields[] = {
    {"kind", AB_FIELD_STR, true, 1, 16},
    {"path", AB_FIELD_STR, true, 1, PATH_MAX - 1},
};

int ab_child_request(const char *text, const struct ab_child_mode *const *modes, size_t nmodes,
                     cJSON **req, const struct ab_child_mode **mode, char *err, size_t len)
{
    *mode = NULL;
    *req = cJSON_ParseWithOpts(text, NULL, true);
    if (!*req)
        return snprintf(err, len, "the request is not one JSON document"), -EINVAL;
    const char *name = ab_json_str(*req, "mode");
    for (size_t i = 0; i < nmodes && !*mode; i++)
        if (!strcmp(modes[i]->name, name))
            *mode = modes[i];
    if (!*mode)
        return snprintf(err, len, "the request names no mode of this program"), -EINVAL;
    const struct ab_child_mode *m = *mode;
    /* The table the mode declares, with "mode" and "subject" added. */
    struct ab_field all[64];
    size_t n = 0;
    all[n++] = (struct ab_field){"mode", AB_FIELD_STR, true, 1, 32};
    if (m->binds_heap)
        all[n++] = (struct ab_field){"subject", AB_FIELD_OBJ, true, 0, 0};
    for (size_t i = 0; i < m->nfields && n < sizeof all / sizeof all[0]; i++)
        all[n++] = m->fields[i];
    char where[64];
    snprintf(where, sizeof where, "the %s request", m->name);
    if (ab_fields_check(*req, where, all, n, err, len))
        return -EINVAL;
    if (m->binds_heap) {
        const cJSON *subj = cJSON_GetObjectItemCaseSensitive(*req, "subject");
        if (ab_fields_check(subj, "its subject", subject_fields,
                            sizeof subject_fields / sizeof subject_fields[0], err, len))
            return -EINVAL;
        const char *kind = ab_json_str(subj, "kind");
        if (strcmp(kind, "plugin") && strcmp(kind, "preload") && strcmp(kind, "system"))
            return snprintf(err, len, "its subject's kind is not system, preload or plugin"),
                   -EINVAL;
    }
    if (m->check && m->check(*req, err, len))
        return -EINVAL;
    return 0;
}


int ab_child_main(const char *request, const struct ab_child_mode *const *modes, size_t nmodes)
{
    cJSON_Hooks hooks = {__libc_malloc, __libc_free};
    cJSON_InitHooks(&hooks);
    ab_reply_nonce_take();
    cJSON *req;
    const struct ab_child_mode *mode;
    char why[512];
    if (ab_child_request(request, modes, nmodes, &req, &mode, why, sizeof why)) {
        cJSON_Delete(req);
        return ab_error(AB_ALLOCBENCH_USAGE, "bad request: %s", why);
    }
    int rc;
    if (!mode->binds_heap) {
        /* A backend watching a measuring child from outside: no allocator
         * is bound here (nothing is preloaded into this process). */
        rc = reply(mode->run(req, NULL));
    } else {
        const cJSON *subj = cJSON_GetObjectItemCaseSensitive(req, "subject");
        const char *kind = ab_json_str(subj, "kind");
        enum ab_subject_kind k = !strcmp(kind, "plugin")    ? AB_SUBJECT_PLUGIN
                                 : !strcmp(kind, "preload") ? AB_SUBJECT_PRELOAD
                                                            : AB_SUBJECT_SYSTEM;
        struct ab_heap heap;
        char err[512] = "";
        if (ab_heap_open(&heap, k, ab_json_str(subj, "path"), err, sizeof err)) {
            cJSON *d = ab_child_error(AB_ALLOCBENCH_SUBJECT_MISMATCH, err);
            cJSON_AddStringToObject(d, "malloc_from", heap.malloc_from);
            rc = reply(d);
        } else {
            /* A mode that closes the heap itself (a plugin's fini under
             * test) says so; the others leave it to this. */
            cJSON *d = mode->run(req, &heap);
            if (!mode->closes_heap)
                ab_heap_close(&heap);
            rc = reply(d);
        }
    }
    cJSON_Delete(req);
    return rc;
}
