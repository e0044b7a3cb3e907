/* measure.c — clocks, resident-set and smaps_rollup readings, harness memory. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

uint64_t ab_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ab_statm_open(void)
{
    return open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
}

/* pread on a kept-open descriptor: no allocation, no path lookup, so a
 * reading does not disturb the heap it measures. */
void ab_statm_read(int fd, int64_t *vm_kib, int64_t *rss_kib)
{
    *vm_kib = *rss_kib = -1;
    if (fd < 0)
        return;
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *p = buf;
    unsigned long long size = strtoull(p, &p, 10);
    unsigned long long resident = strtoull(p, NULL, 10);
    unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
    *vm_kib = (int64_t)(size * page / 1024);
    *rss_kib = (int64_t)(resident * page / 1024);
}

int64_t ab_statm_rss_kib(int fd)
{
    int64_t vm, rss;
    ab_statm_read(fd, &vm, &rss);
    return rss;
}

void *ab_buf_alloc(size_t bytes)
{
    if (!bytes)
        bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void ab_buf_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}

/* Read here, not in host.c: the trial child needs it, and host.c links
 * hwloc. */
void ab_host_thp_mode(char *buf, size_t len)
{
    ab_strlcpy(buf, "", len);
    char *text = ab_read_file("/sys/kernel/mm/transparent_hugepage/enabled", 4096, NULL);
    if (!text)
        return;
    char *open = strchr(text, '['), *close = open ? strchr(open, ']') : NULL;
    if (open && close) {
        *close = '\0';
        ab_strlcpy(buf, open + 1, len);
    }
    free(text);
}

int ab_rollup_read(struct ab_rollup *out)
{
    memset(out, 0, sizeof *out);
    /* No allocation: the reading must not move the allocator it reads. */
    char buf[4096];
    int fd = open("/proc/self/smaps_rollup", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (ssize_t n; len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len));) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"Rss:", offsetof(struct ab_rollup, rss)},
        {"Anonymous:", offsetof(struct ab_rollup, anonymous)},
        {"AnonHugePages:", offsetof(struct ab_rollup, anon_huge)},
        {"Shared_Hugetlb:", offsetof(struct ab_rollup, shared_hugetlb)},
        {"Private_Hugetlb:", offsetof(struct ab_rollup, private_hugetlb)},
    };
    unsigned found = 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            size_t kl = strlen(keys[k].key);
            if (strncmp(line, keys[k].key, kl))
                continue;
            *(int64_t *)((char *)out + keys[k].off) = strtoll(line + kl, NULL, 10) * 1024;
            found++;
        }
    return found ? 0 : -ENODATA;
}
