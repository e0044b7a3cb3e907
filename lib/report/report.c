/*
 * report.c — the registry of report formats (format-list.h, generated from
 * lib/report/meson.build) and the context block every report.json carries.
 */
#include "report.h"
#include "format-list.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AB_FORMAT_DECL(name) extern const struct ab_format ab_format_##name;
AB_FORMATS(AB_FORMAT_DECL)
#undef AB_FORMAT_DECL

static const struct ab_format *const registry[] = {
#define AB_FORMAT_PTR(name) &ab_format_##name,
    AB_FORMATS(AB_FORMAT_PTR)
#undef AB_FORMAT_PTR
};

const struct ab_format *const *ab_formats(size_t *count)
{
    *count = sizeof registry / sizeof registry[0];
    return registry;
}

const struct ab_format *ab_format_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

bool ab_format_prints(const struct ab_format *f, const char *command)
{
    if (!f->choosable || !f->print)
        return false;
    if (!f->commands)
        return true;
    for (const char *const *c = f->commands; *c; c++)
        if (!strcmp(*c, command))
            return true;
    return false;
}

bool ab_report_file_known(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        for (const char *const *w = registry[i]->writes; w && *w; w++)
            if (!strcmp(*w, name))
                return true;
    return false;
}

static char command_line[8192];

void ab_report_set_command_line(int argc, char **argv)
{
    size_t n = 0;
    command_line[0] = '\0';
    for (int i = 0; i < argc && n + 4 < sizeof command_line; i++) {
        const char *w = argv[i];
        bool plain = *w != '\0';
        for (const char *c = w; *c && plain; c++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           "-_=+,./:@%", *c) != NULL;
        if (i && n + 1 < sizeof command_line)
            command_line[n++] = ' ';
        if (!plain && n + 1 < sizeof command_line)
            command_line[n++] = '\'';
        for (const char *c = w; *c && n + 5 < sizeof command_line; c++) {
            if (*c == '\'' && !plain) { /* ' closes, \' is the quote, ' reopens */
                memcpy(command_line + n, "'\\''", 4);
                n += 4;
            } else {
                command_line[n++] = *c;
            }
        }
        if (!plain && n + 1 < sizeof command_line)
            command_line[n++] = '\'';
    }
    command_line[n] = '\0';
}

const char *ab_report_command_line(void)
{
    return command_line;
}

cJSON *ab_report_context_json(const struct ab_host *h, const char *started_utc,
                              const char *counter, const char *counter_version,
                              const struct ab_subject *subjects, size_t nsubjects)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *ab = cJSON_AddObjectToObject(c, "allocbench");
    cJSON_AddStringToObject(ab, "version", ab_version);
    ab_json_add_str(ab, "git_revision", ab_git_revision);
    cJSON_AddStringToObject(ab, "build_type", ab_build_type);
    cJSON_AddStringToObject(c, "started_utc", started_utc);
    ab_json_add_str(c, "command_line", command_line);
    ab_json_add_str(c, "hostname", h->hostname);
    ab_json_add_str(c, "cpu_model", h->cpu_model);
    ab_json_add_str(c, "kernel", h->kernel);
    ab_json_add_str(c, "glibc", h->glibc);
    ab_json_add_str(c, "thp", h->thp);
    ab_json_add_str(c, "cpu_governor", h->governor);
    ab_json_add_num(c, "cpu_mhz", h->cpu_mhz);
    cJSON_AddBoolToObject(c, "pinned", h->pinned);
    cJSON *la = cJSON_AddObjectToObject(c, "load_average");
    const double *ls[2] = {h->load_start, h->load_end};
    const char *lk[2] = {"start", "end"};
    for (int k = 0; k < 2; k++) {
        if (!isfinite(ls[k][0])) {
            cJSON_AddNullToObject(la, lk[k]);
            continue;
        }
        cJSON *arr = cJSON_AddArrayToObject(la, lk[k]);
        for (int i = 0; i < 3; i++)
            cJSON_AddItemToArray(arr, isfinite(ls[k][i]) ? cJSON_CreateNumber(ls[k][i])
                                                         : cJSON_CreateNull());
    }
    cJSON *t = cJSON_AddObjectToObject(c, "topology");
    ab_json_add_int(t, "packages", h->packages ? (int64_t)h->packages : -1);
    ab_json_add_int(t, "cores", h->cores ? (int64_t)h->cores : -1);
    ab_json_add_int(t, "pus", h->pus ? (int64_t)h->pus : -1);
    ab_json_add_int(t, "numa_nodes", h->numa_nodes ? (int64_t)h->numa_nodes : -1);
    cJSON *caches = cJSON_AddArrayToObject(t, "caches");
    for (unsigned i = 0; i < h->ncaches; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "level", h->caches[i].level);
        cJSON_AddStringToObject(o, "type", h->caches[i].type);
        cJSON_AddNumberToObject(o, "size_bytes", (double)h->caches[i].size);
        cJSON_AddItemToArray(caches, o);
    }
    cJSON_AddStringToObject(c, "counter", counter);
    ab_json_add_str(c, "counter_version", counter_version);
    ab_json_add_int(c, "trial_child_rss_kib", h->trial_child_rss_kib);
    if (!subjects)
        return c;
    cJSON *subs = cJSON_AddArrayToObject(c, "subjects");
    for (size_t i = 0; i < nsubjects; i++) {
        const struct ab_subject *s = &subjects[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddStringToObject(o, "kind", ab_subject_kind_name(s->kind));
        cJSON_AddStringToObject(o, "family", ab_family_name(s->family));
        cJSON_AddStringToObject(o, "path", s->path);
        ab_json_add_str(o, "version", s->version);
        ab_json_add_str(o, "malloc_from", s->malloc_from);
        ab_json_add_str(o, "error", s->describe_error);
        cJSON_AddItemToArray(subs, o);
    }
    return c;
}

cJSON *ab_report_matrix(const char *command, const char *block_name, cJSON *block,
                        const struct ab_subject *subjects, size_t nsubjects, const char *counter)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "command", command);
    cJSON_AddItemToObject(m, block_name, block);
    cJSON *names = cJSON_AddArrayToObject(m, "allocators");
    for (size_t i = 0; i < nsubjects; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(subjects[i].name));
    if (counter)
        cJSON_AddStringToObject(m, "counter", counter);
    return m;
}

void ab_report_add_matrix(cJSON *doc, cJSON *matrix, const struct ab_shard *shard, double cost,
                          double matrix_cost, cJSON *configurations)
{
    char *text = cJSON_PrintUnformatted(matrix);
    cJSON_Delete(matrix);
    if (text) {
        char hex[65], digest[80];
        ab_sha256_hex(text, strlen(text), hex);
        snprintf(digest, sizeof digest, "sha256:%s", hex);
        cJSON_AddStringToObject(doc, "matrix_digest", digest);
    } else {
        cJSON_AddNullToObject(doc, "matrix_digest"); /* out of memory: no digest to claim */
    }
    free(text);
    if (!shard || !shard->count) {
        cJSON_Delete(configurations);
        cJSON_AddNullToObject(doc, "shard");
        return;
    }
    cJSON *s = cJSON_AddObjectToObject(doc, "shard");
    cJSON_AddNumberToObject(s, "index", shard->index);
    cJSON_AddNumberToObject(s, "count", shard->count);
    cJSON_AddNumberToObject(s, "cost", cost);
    cJSON_AddNumberToObject(s, "matrix_cost", matrix_cost);
    cJSON_AddItemToObject(s, "configurations",
                          configurations ? configurations : cJSON_CreateArray());
}
