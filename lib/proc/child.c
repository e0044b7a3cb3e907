/*
 * child.c — the hidden `__child` command: one request in a fresh process
 * that the allocator under test owns.  The request arrives as JSON in argv;
 * its "mode" picks a mode of the table the program hands over (cmd/modes.h);
 * the reply is one JSON document written to descriptor 3.
 */
#include "proc.h"

#include <cJSON.h>
#include <errno.h>
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

enum ab_code ab_child_code(const cJSON *reply)
{
    return ab_code_from_name(ab_json_str(reply, "code"));
}

/* The mode "describe": what the allocator says of itself. */
static cJSON *describe(const cJSON *req, struct ab_heap *heap)
{
    (void)req;
    cJSON *d = ab_child_reply();
    cJSON_AddStringToObject(d, "family", ab_family_name(heap->family));
    cJSON_AddStringToObject(d, "version", heap->version);
    cJSON_AddStringToObject(d, "malloc_from", heap->malloc_from);
    cJSON_AddBoolToObject(d, "bulk", heap->alloc_bulk != NULL);
    return d;
}

const struct ab_child_mode ab_mode_describe = {
    .name = "describe",
    .binds_heap = true,
    .run = describe,
};

int ab_child_main(const char *request, const struct ab_child_mode *const *modes, size_t nmodes)
{
    cJSON_Hooks hooks = {__libc_malloc, __libc_free};
    cJSON_InitHooks(&hooks);
    ab_reply_nonce_take();
    cJSON *req = cJSON_Parse(request);
    if (!req)
        return reply(ab_child_error(AB_ALLOCBENCH_INTERNAL, "malformed request")) ? 4 : 0;
    const struct ab_child_mode *mode = NULL;
    for (size_t i = 0; i < nmodes && !mode; i++)
        if (!strcmp(modes[i]->name, ab_json_str(req, "mode")))
            mode = modes[i];
    int rc;
    if (!mode) {
        rc = reply(ab_child_error(AB_ALLOCBENCH_INTERNAL, "no such mode in the request"));
    } else if (!mode->binds_heap) {
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
