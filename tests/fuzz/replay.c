/* replay.c — a main for a fuzz target without libFuzzer: every file of
 * every folder named on the command line (or a file named itself) is
 * given to LLVMFuzzerTestOneInput once, in name order.  This is how
 * meson test replays the corpora with any compiler, and how a reproducer
 * is run under a debugger.  A folder with no input fails: a replay that
 * replays nothing proves nothing. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reports go to the descriptors: a target may have moved stdout and
 * stderr, the FILEs. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dprintf(2, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        dprintf(2, "replay: %s: %s\n", path, buf ? "read error" : "out of memory");
        free(buf);
        return -1;
    }
    /* An exact-size copy, so a read past the input is a sanitizer report
     * as under libFuzzer. */
    uint8_t *in = malloc(len ? len : 1);
    if (!in) {
        free(buf);
        return -1;
    }
    memcpy(in, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(in, len);
    free(in);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        dprintf(2, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    unsigned total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) {
            dprintf(2, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(argv[i]))
                return 1;
            total++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, NULL, by_name);
        if (n < 0) {
            dprintf(2, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        unsigned here = 0;
        int rc = 0;
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
            if (!rc && names[k]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode)) {
                rc = replay_file(path);
                here++;
            }
            free(names[k]);
        }
        free(names);
        if (rc)
            return 1;
        if (!here) {
            dprintf(2, "replay: %s holds no input\n", argv[i]);
            return 1;
        }
        total += here;
    }
    dprintf(1, "replayed %u inputs\n", total);
    return 0;
}
