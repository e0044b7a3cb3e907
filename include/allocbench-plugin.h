/*
 * allocbench plugin ABI, version 1.
 *
 * A plugin is a shared object that exports one function,
 *
 *     const struct allocbench_plugin *allocbench_plugin_entry(uint32_t host_abi);
 *
 * returning a pointer to a static, constant descriptor.  allocbench loads it
 * with dlopen() in each trial child (never in the orchestrating process) and
 * validates the descriptor before the first trial: abi_version must equal
 * ALLOCBENCH_PLUGIN_ABI_VERSION, struct_size must cover every member of this
 * version, and the required members must be non-NULL.  Anything else makes
 * allocbench refuse the plugin (exit status 2).
 *
 * The functions act on the calling thread's heap; the plugin decides what a
 * "heap" is (one per thread, one per process).  Optional members are NULL
 * when the plugin does not have the capability; a capability that exists but
 * refuses a request returns a negative errno value (a refusal is an answer).
 *
 * This header is self-contained C11 and is compiled alone as a test.
 */
#ifndef ALLOCBENCH_PLUGIN_H
#define ALLOCBENCH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALLOCBENCH_PLUGIN_ABI_VERSION 1u
#define ALLOCBENCH_PLUGIN_ENTRY "allocbench_plugin_entry"

/* Allocator profiles (seed 003); a plugin lists those it supports. */
enum allocbench_profile {
    ALLOCBENCH_PROFILE_FREESTANDING = 1u << 0,
    ALLOCBENCH_PROFILE_HOSTED_SMALL = 1u << 1,
    ALLOCBENCH_PROFILE_HOSTED_SERVER = 1u << 2,
    ALLOCBENCH_PROFILE_REALTIME = 1u << 3,
    ALLOCBENCH_PROFILE_TEST_FIXTURE = 1u << 4,
    ALLOCBENCH_PROFILE_COMPILER_INTERNAL = 1u << 5,
};

/* Opaque checkpoint storage, filled by checkpoint_save. */
struct allocbench_checkpoint {
    uint64_t opaque[6];
};

/* Passed to configure(); unknown fields must be zero. */
struct allocbench_plugin_config {
    uint32_t struct_size;   /* sizeof(struct allocbench_plugin_config) */
    uint32_t profile;       /* exactly one enum allocbench_profile bit */
    int32_t hugepages;      /* 1: back spans with transparent hugepages */
    int32_t numa_node;      /* >= 0: bind spans to this node; -1: no binding */
    uint64_t page_limit;    /* bytes the page backend may map; 0: no limit */
    const char *options;    /* plugin-specific "key=value,..." or NULL */
    uint64_t reserved[8];
};

/* Filled by stats(); a figure is valid only when its bit is set in valid. */
enum allocbench_stat_bit {
    ALLOCBENCH_STAT_MAPPED = 1u << 0,
    ALLOCBENCH_STAT_RESIDENT = 1u << 1,
    ALLOCBENCH_STAT_LIVE = 1u << 2,
    ALLOCBENCH_STAT_REMOTE_DEPTH = 1u << 3,
    ALLOCBENCH_STAT_REMOTE_BOUND = 1u << 4,
    ALLOCBENCH_STAT_TRANSFER_CACHE = 1u << 5,
    ALLOCBENCH_STAT_REMOTE_FREES = 1u << 6,
};

struct allocbench_plugin_stats {
    uint32_t struct_size;          /* set by the caller */
    uint32_t valid;                /* enum allocbench_stat_bit, set by the plugin */
    uint64_t mapped_bytes;         /* address space the page backend holds */
    uint64_t resident_bytes;       /* of which resident, where known */
    uint64_t live_bytes;           /* bytes in blocks handed out and not freed */
    uint64_t remote_free_depth;    /* blocks waiting in remote-free queues */
    uint64_t remote_free_bound;    /* the bound the queues promise */
    uint64_t transfer_cache_blocks;/* blocks held in transfer caches */
    uint64_t remote_frees;         /* remote frees accepted so far */
    uint64_t reserved[8];
};

struct allocbench_plugin {
    uint32_t abi_version;          /* ALLOCBENCH_PLUGIN_ABI_VERSION */
    uint32_t struct_size;          /* sizeof(struct allocbench_plugin) */
    const char *name;              /* short name, [a-z0-9-]+ */
    const char *version;           /* free-form version string */
    uint32_t profiles;             /* enum allocbench_profile bits supported */
    uint32_t flags;                /* reserved, zero */

    /* Required. */
    void *(*malloc)(size_t size);
    void (*free)(void *ptr);
    void *(*realloc)(void *ptr, size_t size);
    void *(*aligned_alloc)(size_t alignment, size_t size);
    size_t (*usable_size)(const void *ptr);

    /* Optional: NULL when absent. */
    void *(*calloc)(size_t count, size_t size);
    /* Best effort: allocate between 1 and n blocks of size bytes into out[],
     * return how many; 0 only when not even one block could be allocated. */
    size_t (*alloc_bulk)(size_t size, size_t n, void **out);
    /* Scopes: save the calling thread's heap position; restore releases every
     * block allocated since the matching save.  Checkpoints nest. */
    int (*checkpoint_save)(struct allocbench_checkpoint *cp);
    int (*checkpoint_restore)(const struct allocbench_checkpoint *cp);
    /* Documented drain points: the calling thread starts or stops using the
     * heap.  detach drains the thread's caches and remote-free queues. */
    int (*thread_attach)(void);
    int (*thread_detach)(void);
    int (*configure)(const struct allocbench_plugin_config *config);
    int (*stats)(struct allocbench_plugin_stats *out);
    /* Release everything the plugin mapped; no call may follow. */
    int (*fini)(void);

    void *reserved[8];
};

typedef const struct allocbench_plugin *(*allocbench_plugin_entry_fn)(uint32_t host_abi);

/* What a plugin exports (with default visibility).  host_abi is the ABI
 * version the host speaks; the plugin may return NULL to refuse it. */
const struct allocbench_plugin *allocbench_plugin_entry(uint32_t host_abi);

#ifdef __cplusplus
}
#endif

#endif /* ALLOCBENCH_PLUGIN_H */
