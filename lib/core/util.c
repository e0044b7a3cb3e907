/* util.c — parsing, files and small helpers shared by the engine. */
#include "core.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void ab_strlcpy(char *dst, const char *src, size_t cap)
{
    if (!cap)
        return;
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int ab_parse_u64(const char *s, uint64_t min, uint64_t max, bool size, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    uint64_t mul = 1;
    if (size && *end) {
        switch (*end) {
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        default: return -EINVAL;
        }
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B')
            end++;
    }
    if (*end)
        return -EINVAL;
    if (v > UINT64_MAX / mul)
        return -ERANGE;
    v *= mul;
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int ab_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end)
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int ab_parse_double(const char *s, double min, double max, double *out)
{
    /* Decimal only: strtod would also take hex floats (0x10 seconds). */
    if (!s || !*s || s[strspn(s, "0123456789+-.eE")])
        return -EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int ab_split_list(const char *s, char items[][AB_NAME_MAX * 4], int max)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= AB_NAME_MAX * 4)
            return -EINVAL;
        if (n == max)
            return -E2BIG;
        memcpy(items[n], p, len);
        items[n][len] = '\0';
        n++;
        if (!c)
            break;
        p = c + 1;
    }
    return n;
}

int ab_mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf || !*path)
        return -ENAMETOOLONG;
    ab_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(buf, &st))
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (access(buf, W_OK | X_OK))
        return -errno;
    return 0;
}

int ab_out_dir_prepare(const char *out, char *dir, size_t len)
{
    if (out) {
        if (strlen(out) >= len)
            return -ENAMETOOLONG;
        ab_strlcpy(dir, out, len);
        return ab_mkdir_p(dir);
    }
    /* The default is a folder of its own: the time, and a suffix when a
     * run of the same second made that one (mkdir decides, so two runs
     * never share one). */
    char stamp[32];
    ab_utc_stamp(stamp, sizeof stamp);
    int rc = ab_mkdir_p("results/runs");
    for (unsigned k = 1; !rc && k < 1000; k++) {
        if (k == 1)
            snprintf(dir, len, "results/runs/%s", stamp);
        else
            snprintf(dir, len, "results/runs/%s-%u", stamp, k);
        if (!mkdir(dir, 0777))
            return 0;
        if (errno != EEXIST)
            return -errno;
    }
    return rc ? rc : -EEXIST;
}

static int write_atomic(const char *tmp, const char *path, const char *data, size_t len);

#define AB_PENDING_MAX 48
static struct {
    volatile sig_atomic_t used;
    bool dir;
    char path[PATH_MAX + NAME_MAX + 64];
} pending[AB_PENDING_MAX];

int ab_pending_add(const char *path, bool dir)
{
    if (strlen(path) >= sizeof pending[0].path)
        return -1;
    for (int i = 0; i < AB_PENDING_MAX; i++) {
        if (pending[i].used)
            continue;
        ab_strlcpy(pending[i].path, path, sizeof pending[i].path);
        pending[i].dir = dir;
        pending[i].used = 1;
        return i;
    }
    return -1;
}

void ab_pending_drop(int slot)
{
    if (slot >= 0 && slot < AB_PENDING_MAX)
        pending[slot].used = 0;
}

void ab_pending_remove(void)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < AB_PENDING_MAX; i++) {
            if (!pending[i].used || pending[i].dir != (pass == 1))
                continue;
            if (pass)
                rmdir(pending[i].path);
            else
                unlink(pending[i].path);
            pending[i].used = 0;
        }
}

int ab_out_dir_probe(const char *dir)
{
    char probe[PATH_MAX + 64];
    if (snprintf(probe, sizeof probe, "%s/.allocbench-probe.%ld", dir, (long)getpid()) >=
        (int)sizeof probe)
        return -ENAMETOOLONG;
    int slot = ab_pending_add(probe, false);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int rc = fd < 0 ? -errno : 0;
    if (!rc) {
        if (write(fd, "\n", 1) != 1 || fsync(fd))
            rc = errno ? -errno : -EIO;
        if (close(fd) && !rc)
            rc = -errno;
        if (unlink(probe) && !rc)
            rc = -errno;
    }
    ab_pending_drop(slot);
    return rc;
}

int ab_write_file_atomic(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX + 32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int slot = ab_pending_add(tmp, false);
    int rc = write_atomic(tmp, path, data, len);
    ab_pending_drop(slot);
    return rc;
}

static int write_atomic(const char *tmp, const char *path, const char *data, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return -errno;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            close(fd);
            unlink(tmp);
            return e;
        }
        done += (size_t)w;
    }
    if (fsync(fd) || close(fd)) {
        int e = -errno;
        unlink(tmp);
        return e;
    }
    if (rename(tmp, path)) {
        int e = -errno;
        unlink(tmp);
        return e;
    }
    return 0;
}

int ab_self_exe(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n < 0)
        return -errno;
    if ((size_t)n >= len - 1)
        return -ENAMETOOLONG;
    buf[n] = '\0';
    return 0;
}

int ab_self_dir(char *buf, size_t len)
{
    int r = ab_self_exe(buf, len);
    if (r)
        return r;
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    return 0;
}

char *ab_read_file(const char *path, size_t max, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (len == cap) {
            if (cap >= max) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    int e = errno;
    close(fd);
    if (buf) {
        buf[len] = '\0';
        if (len_out)
            *len_out = len;
    }
    errno = e;
    return buf;
}

char *ab_report_text(const char *arg, char *path, size_t pathlen, size_t *len, char *err,
                     size_t errlen)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(path, pathlen, "%s/report.json", arg);
    else
        ab_strlcpy(path, arg, pathlen);
    errno = 0;
    char *text = ab_read_file(path, 1u << 30, len);
    if (!text) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: cannot be read: %s", path, strerror(e));
        errno = e;
    }
    return text;
}

int ab_report_read(const char *arg, ab_report_parser parse, struct cJSON **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    char path[PATH_MAX];
    size_t len;
    char *text = ab_report_text(arg, path, sizeof path, &len, err, errlen);
    if (!text)
        return -errno;
    int rc = parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

void ab_utc_stamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

/* ln x for a finite x > 0: x = m * 2^e with m in [sqrt(1/2), sqrt(2)),
 * then ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172: the series
 * s^(2k+1) / (2k+1) is below an ulp after k = 11. */
static double ln_pos(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    int e = (int)((b >> 52) & 0x7ff) - 1023;
    if (e == -1023) /* subnormal: scale into the normal range first */
        return ln_pos(x * 0x1p64) - 64 * 0.69314718055994530942;
    b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    memcpy(&m, &b, sizeof m);
    if (m > 1.41421356237309504880) {
        m /= 2;
        e++;
    }
    double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
    for (int k = 0; k < 12; k++) {
        sum += term / (2 * k + 1);
        term *= s2;
    }
    return 2 * sum + e * 0.69314718055994530942;
}

/* e^t: t = n ln 2 + r, |r| <= ln 2 / 2, e^r by its Taylor series (18 terms:
 * below an ulp), times 2^n built in the exponent bits. */
static double exp_of(double t)
{
    if (t > 709.7)
        return HUGE_VAL;
    if (t < -708.3)
        return 0;
    double n = (double)(int64_t)(t / 0.69314718055994530942 + (t < 0 ? -0.5 : 0.5));
    double r = t - n * 0.69314718055994530942, term = 1, sum = 1;
    for (int k = 1; k < 18; k++) {
        term *= r / k;
        sum += term;
    }
    uint64_t b = (uint64_t)((int64_t)n + 1023) << 52;
    double p;
    memcpy(&p, &b, sizeof p);
    return sum * p;
}

double ab_pow_pos(double x, double y)
{
    return x == 1 || y == 0 ? 1 : exp_of(y * ln_pos(x));
}

size_t ab_rng_loguniform(uint64_t *state, size_t lo, size_t hi)
{
    size_t z = (size_t)((double)lo * ab_pow_pos((double)hi / (double)lo, ab_rng_unit(state)));
    return z < lo ? lo : z > hi ? hi : z;
}

int ab_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void ab_shuffle_u32(uint32_t *a, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ab_rng_below(rng, i);
        uint32_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}

int ab_beside_self(const char *rel, char *buf, size_t len)
{
    char dir[PATH_MAX];
    if (!rel || !*rel || ab_self_dir(dir, sizeof dir))
        return -ENOENT;
    if (snprintf(buf, len, "%s/%s", dir, rel) >= (int)len)
        return -ENAMETOOLONG;
    return access(buf, F_OK) == 0 ? 0 : -ENOENT;
}
