/*
 * session.c — the skeleton every engine shares: the host and the start
 * time, the subjects described, and what the engine has to say while it
 * runs (progress, warnings) handed to the caller's observer.  Engines never
 * print.
 */
#include "proc.h"

#include <stdarg.h>
#include <string.h>

int ab_session_begin(struct ab_session *s, struct ab_subject *subjects, size_t n,
                     double timeout_s, const struct ab_observer *obs, size_t total)
{
    memset(s, 0, sizeof *s);
    s->obs = obs;
    s->total = total;
    ab_host_collect(&s->host);
    ab_utc_stamp(s->started_utc, sizeof s->started_utc);

    for (size_t i = 0; i < n; i++) {
        int rc = ab_subject_describe(&subjects[i], timeout_s);
        if (rc)
            return rc;
        if (subjects[i].describe_error[0])
            ab_session_warn(s, "%s: %s", subjects[i].name, subjects[i].describe_error);
    }
    return AB_OK;
}

static void progress(struct ab_session *s, const char *fmt, va_list ap)
{
    if (!s->obs || !s->obs->progress)
        return;
    char what[512];
    vsnprintf(what, sizeof what, fmt, ap);
    struct ab_progress p = {s->done, s->total, what};
    s->obs->progress(s->obs->ctx, &p);
}

void ab_session_progress(struct ab_session *s, const char *fmt, ...)
{
    s->done++;
    va_list ap;
    va_start(ap, fmt);
    progress(s, fmt, ap);
    va_end(ap);
}

void ab_session_working(struct ab_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    progress(s, fmt, ap);
    va_end(ap);
}

void ab_session_warn(struct ab_session *s, const char *fmt, ...)
{
    if (!s->obs || !s->obs->warning)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->obs->warning(s->obs->ctx, line);
}

void ab_session_note(struct ab_session *s, const char *fmt, ...)
{
    if (!s->obs || !s->obs->note)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->obs->note(s->obs->ctx, line);
}

void ab_session_end(struct ab_session *s)
{
    ab_host_load(s->host.load_end);
    if (s->obs && s->obs->progress) {
        struct ab_progress p = {s->done, s->total, NULL};
        s->obs->progress(s->obs->ctx, &p);
    }
}
