/*
 * format-markdown.c — --format markdown: a document as Markdown tables,
 * ready to paste into a pull request.  It writes no file.  Each command's
 * document has its renderer; a command without one is not offered.
 */
#include "report.h"

#include <cJSON.h>
#include <string.h>

static const struct {
    const char *command;
    char *(*print)(const cJSON *doc);
} parts[] = {
    {"compare", ab_markdown_compare},
};

static char *print(const cJSON *doc)
{
    const char *command = ab_json_str(doc, "command");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!strcmp(parts[i].command, command))
            return parts[i].print(doc);
    return NULL;
}

static const char *const commands[] = {"compare", NULL};

const struct ab_format ab_format_markdown = {
    .name = "markdown",
    .summary = "Markdown tables for a pull request, on stdout only",
    .choosable = true,
    .commands = commands,
    .print = print,
};
