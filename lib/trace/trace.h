/*
 * trace.h — `allocbench trace`: uprobes on a live process's allocator.
 */
#ifndef AB_TRACE_H
#define AB_TRACE_H

#include "report.h"

/* ------------------------------------------- trace.c, trace-resolve.c */

/* allocbench trace: uprobes on the library that serves malloc in a live
 * process (built only with libbpf; see meson_options.txt). */
#define AB_TRACE_MAX_PROBES 128 /* = AB_TRACE_SLOTS in trace-bpf.h */
#define AB_TRACE_NBINS 65       /* log2 bins: 0, then [2^(k-1), 2^k - 1] */

#define AB_TRACE_MAX_OBJECTS 8   /* files probed in one process image */

/* One probed function: a distinct address in a file (aliases share it). */
struct ab_trace_probe {
    char name[64];          /* the first of its names in the probe table */
    char aliases[256];      /* its other names there, comma-separated */
    unsigned object;        /* the file defining it (ab_trace_lib.objects) */
    uint64_t offset;        /* file offset of its first instruction */
    unsigned kind;          /* enum ab_trace_kind (trace-bpf.h) */
    unsigned size_arg, count_arg;
    char first_insn[64];    /* its first instruction, "" when not decoded */
    char attach_error[96];  /* "" when both probes attached */
};

struct ab_trace_object {
    char path[PATH_MAX];      /* as the target names it */
    char open_path[PATH_MAX]; /* read and attached: a /proc/PID/map_files link
                                 when the target has it mapped */
    enum ab_family family;
};

/* What serves the allocator calls of one process image.  The loader binds
 * each name to the first object in its order defining it, so besides the
 * object serving malloc there can be others: the C library's aligned_alloc
 * under an allocator that replaces only malloc, calloc, realloc and free;
 * libstdc++'s operator new over glibc's malloc. */
struct ab_trace_lib {
    struct ab_trace_object objects[AB_TRACE_MAX_OBJECTS];
    size_t nobjects;
    size_t malloc_object;     /* the one serving malloc */
    char chosen_by[32];       /* "--lib", "loader order" or "mappings" */
    struct ab_trace_probe probes[AB_TRACE_MAX_PROBES];
    size_t nprobes;
};

/* Add to lib the probe-table entry points that path defines and no object
 * added before it does (read through open_path).  0 (nothing added when it
 * defines none of them); -ENOENT (err says so) when need_malloc and it
 * defines no malloc; -EINVAL when it is not a readable ELF file. */
int ab_trace_plan_object(struct ab_trace_lib *lib, const char *path, const char *open_path,
                         bool need_malloc, char *err, size_t errlen);
/* What serves process pid's allocator calls: each entry point from the
 * first object in the dynamic loader's search order (the executable,
 * preloads, then its needed libraries, as `ld.so --list` prints them for
 * the process's environment) that defines it; with mapped, only objects pid
 * has mapped (else the image has just been exec'd and maps nothing yet).
 * override (--lib) probes that one file only.  AB_OK, or -EINVAL with err
 * and the code to report in *code. */
int ab_trace_find_lib(int pid, bool mapped, const char *override, struct ab_trace_lib *lib,
                      char *err, size_t errlen, enum ab_code *code);
/* The paths in `ld.so --list` output, in order (text is modified).  Returns
 * the count (at most max). */
size_t ab_trace_parse_ldlist(char *text, char (*paths)[PATH_MAX], size_t max);
/* A command as execv will run it: a path, or a name searched in PATH; it
 * must be an executable regular file (ELF or #!).  AB_OK or -EINVAL, like
 * above. */
int ab_trace_resolve_command(const char *cmd, char *path, size_t len, char *err,
                             size_t errlen, enum ab_code *code);

struct ab_trace_config {
    int pid;                   /* --pid; 0 with a command */
    char *const *command;      /* the command and its arguments; NULL with --pid */
    char lib[PATH_MAX];        /* --lib, "" to find it */
    double duration_s;         /* 0: until the process exits or a signal */
    unsigned top;              /* outstanding size groups reported */
    uint64_t max_live;         /* blocks tracked at once */
    char out_dir[PATH_MAX];
    const struct ab_observer *obs; /* what the tracer says; NULL: silent */
};

/* A probed function and what it saw.  A call counts at its return, when it
 * is its thread's outermost allocator call. */
struct ab_trace_func {
    struct ab_trace_probe probe;
    uint64_t calls, nested, failed, bytes, null_frees, untracked_frees;
    uint64_t lat_sum_ns;
    uint64_t clock_calls, clock_sum_ns;   /* task-clock, calls not switched out */
    uint64_t insn_calls, insn_sum;        /* instructions, where a PMU counts */
    uint64_t size_hist[AB_TRACE_NBINS];
    uint64_t lat_hist[AB_TRACE_NBINS];
};

/* Outstanding blocks of one requested size. */
struct ab_trace_group {
    uint64_t size, count, bytes;
};

struct ab_trace_result {
    const struct ab_trace_config *cfg;
    struct ab_session session;     /* host, start time */
    int pid;
    bool started;                /* allocbench started the process (-- CMD) */
    char command[1024];          /* the command line, for the record */
    char exe[PATH_MAX];          /* the traced image */
    unsigned images;             /* exec'd images traced (the figures are the last's) */
    struct ab_trace_lib lib;
    char ended_by[32];           /* "exit", "duration" or "signal SIGINT" ... */
    int exit_status, exit_signal;/* -1 when not known (not our child, or alive) */
    double traced_s;             /* the figures' interval: enabled to stopped */
    double attach_ms, detach_ms; /* the last image's probes */
    size_t attached;             /* probes attached (entry and return count once) */
    struct ab_trace_func funcs[AB_TRACE_MAX_PROBES];
    size_t nfuncs;
    uint64_t live_count, live_bytes;
    struct ab_trace_group *groups; /* the top groups by bytes */
    size_t ngroups, groups_total;
    uint64_t live_dropped, live_replaced, unmatched, no_state, switched, exec_stop_failed;
    uint64_t max_live;
    bool clock_available, insn_available;
    char clock_reason[160], insn_reason[160]; /* why not, when not */
};

/* Check the input (the pid names a user process, the command can be run,
 * --lib defines malloc): AB_OK when it can go ahead, else -EINVAL with err
 * and the code to report in *code. */
int ab_trace_check(const struct ab_trace_config *cfg, char *err, size_t errlen,
                   enum ab_code *code);
/* Trace until the process exits, the duration ends or SIGINT/SIGTERM/SIGHUP
 * arrives; probes are detached before it returns.  AB_OK or -EINVAL, like
 * above. */
int ab_trace_execute(const struct ab_trace_config *cfg, struct ab_trace_result *res, char *err,
                     size_t errlen, enum ab_code *code);
void ab_trace_free(struct ab_trace_result *res);
/* The bounds of log2 bin k. */
void ab_trace_bin_bounds(unsigned k, uint64_t *low, uint64_t *high);

/* ------------------------------------------------------------ trace-doc.c */

/* What the trace saw as its report document (report.json; "command":
 * "trace"), which every format renders; NULL when out of memory.  The
 * caller deletes it. */
struct cJSON *ab_trace_doc(const struct ab_trace_result *r);

#endif
