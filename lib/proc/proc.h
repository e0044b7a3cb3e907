/*
 * proc.h — the allocator under test and the processes that host it:
 * subjects (names and paths), the heap bound in a child, the runner that
 * spawns and reaps children; child.h, which it includes, the child entry
 * point with its mode table.
 */
#ifndef AB_PROC_H
#define AB_PROC_H

#include "core.h"
#include "allocbench-plugin.h"

#include <malloc.h>
#include <pthread.h>

struct cJSON;

/* --------------------------------------------------------------- subject.c */

enum ab_subject_kind {
    AB_SUBJECT_SYSTEM,  /* the C library's allocator, nothing preloaded */
    AB_SUBJECT_PRELOAD, /* a malloc-compatible .so, LD_PRELOAD'ed */
    AB_SUBJECT_PLUGIN,  /* a .so exporting allocbench_plugin_entry */
};

enum ab_family {
    AB_FAMILY_OTHER,
    AB_FAMILY_GLIBC,
    AB_FAMILY_JEMALLOC,
    AB_FAMILY_TCMALLOC,
    AB_FAMILY_MIMALLOC,
    AB_FAMILY_PLUGIN,
};

/* The allocators known by name (a const table). */
struct ab_named_allocator {
    const char *name;
    enum ab_family family;
    const char *sonames[3];   /* tried in order in the library folders */
    const char *package;      /* the Debian package that provides it */
    const char *plugin_file;  /* in-tree plugins: file under the plugin dir */
};
const struct ab_named_allocator *ab_named_allocators(size_t *count);

struct ab_subject {
    char name[AB_NAME_MAX];       /* glibc, jemalloc, ... or the file's stem */
    char spec[PATH_MAX];          /* what the user gave */
    enum ab_subject_kind kind;
    enum ab_family family;
    char path[PATH_MAX];          /* resolved, real path */
    /* Filled by ab_subject_describe (from a child). */
    bool described;
    char version[128];
    char malloc_from[PATH_MAX];   /* where malloc really resolves */
    char describe_error[512];     /* non-empty: the subject cannot run */
    enum ab_code describe_code;
};

const char *ab_subject_kind_name(enum ab_subject_kind kind);
const char *ab_family_name(enum ab_family family);
/* Resolve a name or a path into a subject, classifying a path in a short-lived
 * child (dlopen never happens in this process).  AB_OK, or -EINVAL with one
 * line in err and the code to report in *code (ALLOCBENCH_UNKNOWN_ALLOCATOR,
 * ALLOCBENCH_BAD_SUBJECT, ALLOCBENCH_PLUGIN_ABI, ALLOCBENCH_NOT_INSTALLED). */
int ab_subject_resolve(const char *spec, struct ab_subject *out, char *err, size_t errlen,
                       enum ab_code *code);
/* Find a named allocator's library; false when not installed. */
bool ab_subject_find_named(const struct ab_named_allocator *na, char *path, size_t len);
/* Run a describe child: version, where malloc comes from. */
int ab_subject_describe(struct ab_subject *s, double timeout_s);
/* Describe each; an unusable one is warned about (its trials report it). */

/* ------------------------------------------------------------------ heap.c */

/* The allocator as the trial child sees it: resolved function pointers (no
 * PLT stub, no lazy binding on the measured path) and its introspection. */
struct ab_heap {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    size_t (*usable_size)(void *);           /* NULL when not offered */
    /* Best-effort bulk allocation, NULL when the allocator has none. */
    size_t (*alloc_bulk)(const struct ab_heap *h, size_t size, size_t n, void **out);
    const struct allocbench_plugin *plugin;  /* plugin subjects only */
    enum ab_family family;
    enum ab_subject_kind kind;
    char version[128];
    char malloc_from[PATH_MAX];
    /* Introspection entry points, NULL when absent. */
    int (*mallctl)(const char *, void *, size_t *, void *, size_t);
    int (*mallctlbymib)(const size_t *, size_t, void *, size_t *, void *, size_t);
    size_t bulk_mib[4];                      /* experimental.batch_alloc */
    size_t bulk_miblen;
    int (*tc_numeric)(const char *, size_t *);
    struct mallinfo2 (*mallinfo2)(void);     /* glibc only */
    void (*mi_process_info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                            size_t *, size_t *);
    /* The allocator's own call that gives free memory back (ab_heap_release). */
    int (*malloc_trim)(size_t);              /* glibc */
    void (*tc_release)(void);                /* MallocExtension_ReleaseFreeMemory */
    void (*mi_collect)(bool);                /* mimalloc */
    void *plugin_handle;
};

/* Allocator-reported figures in bytes; -1 = not reported.  limited: what
 * the allocator's own page limit counts (a plugin's mapped bytes,
 * tcmalloc's heap less what it returned to the system). */
struct ab_alloc_stats {
    int64_t allocated, active, resident, mapped, limited;
};

/* Bind the heap for the subject described by (kind, path).  For preloaded and
 * system subjects checks with dladdr that malloc comes from path; on mismatch
 * fills err and returns -ESRCH.  Plugins are dlopen'ed and validated. */
int ab_heap_open(struct ab_heap *h, enum ab_subject_kind kind, const char *path, char *err,
                 size_t errlen);
void ab_heap_close(struct ab_heap *h);
void ab_heap_stats(const struct ab_heap *h, struct ab_alloc_stats *out);
/* The figures as report.json and the child's reply hold them (null: -1). */
struct cJSON *ab_alloc_stats_json(const struct ab_alloc_stats *s);
/* Ask the allocator to give back the free memory it holds, through its own
 * call: glibc malloc_trim(0), jemalloc the calling thread's tcache flush
 * and a purge of every arena, tcmalloc ReleaseFreeMemory, mimalloc
 * mi_collect(true) (on the main thread it also reclaims the segments of
 * exited threads).  False when the allocator has no such call. */
bool ab_heap_release(const struct ab_heap *h);
/* Validate a plugin descriptor; fills err and returns -EINVAL when wrong. */
int ab_plugin_validate(const struct allocbench_plugin *p, char *err, size_t errlen);
/* True when the shared object at path defines (not merely reaches) sym. */
bool ab_heap_origin_is(const void *addr, const char *path);
/* An entry point of the allocator under test by name (mi_heap_new, mallocx,
 * ...): NULL unless the library malloc comes from defines it. */
void *ab_heap_sym(const struct ab_heap *h, const char *name);

#include "child.h" /* the child entry point, its modes and requests */

/* ---------------------------------------------------------------- runner.c */

enum ab_child_status {
    AB_CHILD_OK,        /* exited 0 with a well-formed document */
    AB_CHILD_CRASHED,   /* killed by a signal */
    AB_CHILD_TIMEOUT,   /* killed by us after the time limit */
    AB_CHILD_FAILED,    /* exited without a well-formed document */
};

/* What the kernel accounted to a child process (wait4), its whole life:
 * start-up and warm-up included. */
struct ab_rusage {
    bool valid;
    double user_s, sys_s;
    int64_t minor_faults, major_faults, voluntary_switches, involuntary_switches;
};

struct ab_child_result {
    enum ab_child_status status;
    int signal;          /* CRASHED */
    int exit_code;       /* FAILED */
    double elapsed_s;
    int64_t maxrss_kib;  /* from wait4 */
    struct ab_rusage rusage;
    struct cJSON *doc;   /* OK: the parsed reply, owned by the caller */
    char stderr_tail[1024];
    /* The reply channel carried something else (why); the status is FAILED. */
    char channel_error[256];
    /* A process the child left behind held its pipes after it exited. */
    bool leftover;
};

/*
 * The reply channel.  The runner gives each child a fresh random nonce (in
 * the environment, AB_REPLY_NONCE_ENV, which the child takes out of it at
 * once); a reply is "ABRP <nonce> <length>\n" and then exactly one JSON
 * object of that length.  Anything else on the channel (bytes before the
 * frame, a wrong nonce, trailing bytes, a second object) is refused: a
 * subject that writes to an inherited descriptor cannot pass for the
 * child's reply.
 */
#define AB_REPLY_NONCE_ENV "ALLOCBENCH_REPLY_NONCE"
/* The child's side: take the nonce out of the environment (once, at
 * start), and write doc framed on fd (consumed).  0 or -errno. */
void ab_reply_nonce_take(void);
int ab_reply_write(int fd, struct cJSON *doc);
/* The reader's side: the framed reply in buf[0..len) against nonce; AB_OK
 * with *doc, or -EPROTO with why. */
int ab_reply_parse(const char *buf, size_t len, const char *nonce, struct cJSON **doc,
                   char *why, size_t wlen);
/* A fresh nonce (16 hex digits, from getrandom). */
void ab_reply_nonce_new(char nonce[17]);
/* Make a child die with its parent and by itself after limit_s (0: no
 * limit): PR_SET_PDEATHSIG and an alarm that survives exec.  Call in the
 * child after fork. */
void ab_child_tether(double limit_s);
/* Track a child the orchestrating process forked outside the runner, so a
 * signal to the orchestrator kills it too (ab_runner_abort); 0 untracks. */
void ab_runner_track(pid_t pid);

/* The trial program (allocbench-trial): beside this one (the build tree),
 * else where it was installed.  0, or -ENOENT. */
int ab_trial_exe(char *buf, size_t len);
/* Run allocbench-trial as `__child <request>`, with LD_PRELOAD=preload when
 * preload is non-NULL, in its own process group; kill it after timeout_s. */
/* The name to put in LD_PRELOAD for the library at path: the path, or a
 * private link with a safe name when the path holds a space, a colon, a tab
 * or a newline.  NULL (errno set) when no link can be made. */
const char *ab_preload_path(const char *path);
int ab_runner_exec(const char *request, const char *preload, double timeout_s,
                   struct ab_child_result *out);
/* The same with the child started through a wrapper command (wrapper[0] is
 * looked up in PATH; e.g. valgrind and its options), NULL-terminated. */
int ab_runner_exec_wrapped(const char *const *wrapper, const char *request,
                           const char *preload, double timeout_s,
                           struct ab_child_result *out);
/* Re-execute this program (nothing preloaded) for a supervisor mode. */
int ab_runner_exec_supervisor(const char *request, double timeout_s,
                              struct ab_child_result *out);
/* What a child gets beyond its request: environment settings ("NAME=VALUE",
 * NULL-terminated; they replace inherited ones of the same name and come
 * first in environ) and a hook run in the forked child just before exec,
 * for what an exec inherits (prctl, memory policy); it may only make
 * system calls. */
struct ab_exec_setup {
    const char *const *env;
    void (*before_exec)(const void *ctx);
    const void *ctx;
};
int ab_runner_exec_setup(const char *request, const char *preload,
                         const struct ab_exec_setup *setup, double timeout_s,
                         struct ab_child_result *out);
void ab_child_result_free(struct ab_child_result *r);
/* Kill the child in flight (from a signal handler: async-signal-safe). */
void ab_runner_abort(void);

enum ab_trial_status {
    AB_TRIAL_OK,
    AB_TRIAL_UNAVAILABLE,
    AB_TRIAL_CRASHED,
    AB_TRIAL_TIMEOUT,
    AB_TRIAL_FAILED,
};

const char *ab_trial_status_name(enum ab_trial_status s);

/* --------------------------------------------------------------- session.c */

/* What an engine says while it runs; the caller decides what to show
 * (engines never print).  p->what NULL: the engine is done. */
struct ab_progress {
    size_t done, total;            /* units of work: trials, cases, children */
    const char *what;              /* the unit just finished, one line */
};
struct ab_observer {
    void (*progress)(void *ctx, const struct ab_progress *p); /* NULL: none */
    void (*warning)(void *ctx, const char *line);             /* NULL: none */
    void (*note)(void *ctx, const char *line);                /* NULL: none */
    void *ctx;
};

/* The skeleton every engine shares: host, start time, subjects described
 * (a subject that cannot run is a warning, and the engine records it),
 * progress over total units and warnings through the observer (NULL: a
 * silent run). */
struct ab_session {
    struct ab_host host;
    char started_utc[32];
    const struct ab_observer *obs;
    size_t done, total;
};
int ab_session_begin(struct ab_session *s, struct ab_subject *subjects, size_t n,
                     double timeout_s, const struct ab_observer *obs, size_t total);
void ab_session_progress(struct ab_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* What is under way, without a unit of work done (calibration). */
void ab_session_working(struct ab_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ab_session_warn(struct ab_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A line for the user that is neither progress nor a warning. */
void ab_session_note(struct ab_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ab_session_end(struct ab_session *s);

#endif
