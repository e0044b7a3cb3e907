/* cmdline.c — fuzz target: the command line, parsed as allocbench parses
 * it and never run.  The input is argv after the program's name, one item
 * per NUL-separated piece ("run\0bulk-new\0--threads\0002"); the first picks
 * the command (ab_cmd_dispatch), whose parse gets the rest.  Parse's
 * promises: it returns (never exits), frees what it takes, and prints
 * exactly one line on stderr when it refuses, none when it accepts, and
 * says the same of the same argv whatever was parsed before. */
#include "cmd.h"
#include "fuzz.h"

#include <string.h>

#define MAX_ITEMS 64

/* stderr, the FILE, goes to a buffer (its lines are counted); stdout,
 * where --help prints, to /dev/null.  glibc lets both be assigned;
 * libFuzzer and the sanitizers write to descriptor 2 themselves. */
static char errbuf[1 << 16];
static FILE *errf;

static void streams(void)
{
    if (errf)
        return;
    errf = fmemopen(errbuf, sizeof errbuf, "w");
    FILE *null = fopen("/dev/null", "w");
    AB_FUZZ_CHECK(errf && null);
    stderr = errf;
    stdout = null;
}

/* argv from the input: the program's name, then one item per piece. */
static int split(char *text, size_t size, char **argv)
{
    int argc = 0;
    argv[argc++] = "allocbench";
    for (char *p = text; p < text + size && argc <= MAX_ITEMS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    return argc;
}

/* What allocbench does with argv up to running the command: its status,
 * with what it said on stderr in said (NUL-terminated, cut at len). */
static int parse(int argc, char **argv, char *said, size_t len)
{
    rewind(errf);
    struct ab_dispatch d;
    int rc = ab_cmd_dispatch(argc, argv, &d);
    if (rc == AB_EXIT_OK && d.what == AB_DISPATCH_COMMAND) {
        AB_FUZZ_CHECK(d.cmd && d.cmd->parse && d.cmd->run && d.cmd->args_size);
        void *args = calloc(1, d.cmd->args_size);
        AB_FUZZ_CHECK(args);
        rc = d.cmd->parse(argc - 1, argv + 1, args);
        free(args);
    }
    fflush(errf);
    long n = ftell(errf);
    if (n < 0 || n >= (long)sizeof errbuf)
        n = sizeof errbuf - 1;
    snprintf(said, len, "%.*s", (int)n, errbuf);
    return rc;
}

/* Parses that leave getopt mid-way, or in another ordering ("+"). */
static void other_parses(void)
{
    static const char *const lines[][4] = {
        {"allocbench", "trace", "ls", NULL},
        {"allocbench", "run", "-xyz", NULL},
        {"allocbench", "fastpath", "--calls", NULL},
    };
    char said[256];
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char *argv[4];
        memcpy(argv, lines[i], sizeof argv);
        parse(3, argv, said, sizeof said);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    streams();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ITEMS + 2];
    static char said[sizeof errbuf], again[sizeof errbuf];

    int rc = parse(split(text, size, argv), argv, said, sizeof said);
    unsigned lines = 0;
    for (const char *c = said; *c; c++)
        lines += *c == '\n';
    if (lines > 1 || strstr(said, "(ALLOCBENCH_INTERNAL)\n"))
        dprintf(2, "stderr of %u lines: %s\n", lines, said);
    if (rc == AB_EXIT_OK || rc == AB_CMD_DONE)
        AB_FUZZ_CHECK(lines == 0);
    else
        AB_FUZZ_CHECK((rc == AB_EXIT_USAGE || rc == AB_EXIT_RESOURCE) && lines == 1);
    AB_FUZZ_CHECK(!strstr(said, "(ALLOCBENCH_INTERNAL)\n"));

    /* A function of argv alone: the same after other parses (getopt keeps
     * state between calls; parse must start it afresh). */
    other_parses();
    int rc2 = parse(split(text, size, argv), argv, again, sizeof again);
    if (rc2 != rc || strcmp(said, again))
        dprintf(2, "parsed again: %d, %s\nfirst: %d, %s\n", rc2, again, rc, said);
    AB_FUZZ_CHECK(rc2 == rc && !strcmp(said, again));
    free(text);
    return 0;
}
