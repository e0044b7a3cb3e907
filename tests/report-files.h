/* report-files.h — the C tests' view of a report set: the files every
 * registered format writes for a document, read back from a fresh folder. */
#ifndef AB_TEST_REPORT_FILES_H
#define AB_TEST_REPORT_FILES_H

#include "report.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Remove a folder of plain files. */
static inline void report_files_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

/* The file name of doc's report set (malloc'd), NULL when the set has no
 * such file or cannot be written. */
static inline char *report_file(const struct cJSON *doc, const char *name)
{
    char tmp[] = "/tmp/ab-unit-report.XXXXXX", out[64], path[128], err[512];
    if (!mkdtemp(tmp))
        return NULL;
    snprintf(out, sizeof out, "%s/out", tmp);
    char *text = NULL;
    if (ab_report_write(doc, out, err, sizeof err) == 0) {
        snprintf(path, sizeof path, "%s/%s", out, name);
        text = ab_read_file(path, 1 << 24, NULL);
    } else {
        fprintf(stderr, "ab_report_write: %s\n", err);
    }
    report_files_remove(out);
    rmdir(tmp);
    return text;
}

#endif
