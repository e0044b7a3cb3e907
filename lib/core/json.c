/*
 * json.c — the one set of JSON helpers (cJSON underneath): reading members
 * of requests, replies and reports, and writing figures where "not
 * measured" is null, never 0.
 */
#include "core.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ab_json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

double ab_json_num(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int64_t ab_json_int(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (int64_t)v->valuedouble : -1;
}

bool ab_json_bool(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

void ab_json_add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void ab_json_add_int(cJSON *o, const char *k, int64_t v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(o, k, (double)v);
    else
        cJSON_AddNullToObject(o, k);
}

void ab_json_add_str(cJSON *o, const char *k, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void ab_json_add_u64(cJSON *o, const char *k, uint64_t v)
{
    /* Exact however large: a number literal of its own, not a double. */
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON_AddRawToObject(o, k, buf);
}

int ab_json_u64(const cJSON *o, const char *k, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(v))
        return ab_parse_u64(v->valuestring, 0, UINT64_MAX, false, out);
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0 &&
        v->valuedouble == floor(v->valuedouble)) {
        *out = (uint64_t)v->valuedouble;
        return 0;
    }
    return -EINVAL;
}

size_t ab_utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || /* overlong, surrogate */
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))   /* overlong, > U+10FFFF */
        return 0;
    return n;
}

static bool utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = ab_utf8_seq(p);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* s with each stray byte as U+FFFD (EF BF BD). */
static char *utf8_replaced(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(3 * len + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = ab_utf8_seq(p);
        if (n) {
            memcpy(o, p, n);
            o += n, p += n;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3, p++;
        }
    }
    *o = '\0';
    return out;
}

static size_t fix_tree(cJSON *o)
{
    size_t fixed = 0;
    for (cJSON *c = o ? o->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring && !utf8_valid(c->valuestring)) {
            char *good = utf8_replaced(c->valuestring);
            if (!good)
                continue;
            if (cJSON_IsObject(o) && c->string) {
                size_t len = strlen(c->valuestring);
                char *hex = malloc(2 * len + 1), key[256];
                for (size_t i = 0; hex && i < len; i++)
                    snprintf(hex + 2 * i, 3, "%02x", (unsigned char)c->valuestring[i]);
                snprintf(key, sizeof key, "%s_hex", c->string);
                if (hex && !cJSON_GetObjectItemCaseSensitive(o, key))
                    cJSON_AddStringToObject(o, key, hex);
                free(hex);
            }
            cJSON_SetValuestring(c, good);
            free(good);
            fixed++;
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            fixed += fix_tree(c);
        }
        if (c->string && !utf8_valid(c->string)) { /* a member's own name */
            char *good = utf8_replaced(c->string);
            char *copy = good ? cJSON_malloc(strlen(good) + 1) : NULL;
            if (copy && !(c->type & cJSON_StringIsConst)) {
                strcpy(copy, good);
                cJSON_free(c->string);
                c->string = copy;
                fixed++;
            } else {
                cJSON_free(copy);
            }
            free(good);
        }
    }
    return fixed;
}

size_t ab_json_utf8_fix(cJSON *doc)
{
    return fix_tree(doc);
}

bool ab_json_utf8_fix_needed(const cJSON *o)
{
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
        if ((cJSON_IsString(c) && c->valuestring && !utf8_valid(c->valuestring)) ||
            (c->string && !utf8_valid(c->string)) ||
            ((cJSON_IsObject(c) || cJSON_IsArray(c)) && ab_json_utf8_fix_needed(c)))
            return true;
    return false;
}

const char *ab_json_duplicate(const cJSON *o)
{
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(o) && c->string)
            for (const cJSON *p = o->child; p != c; p = p->next)
                if (p->string && !strcmp(p->string, c->string))
                    return c->string;
        const char *d = cJSON_IsObject(c) || cJSON_IsArray(c) ? ab_json_duplicate(c) : NULL;
        if (d)
            return d;
    }
    return NULL;
}

cJSON *ab_json_parse_strict(const char *text, size_t len, char *why, size_t whylen)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    bool trailing = false;
    for (const char *p = end; doc && p && p < text + len; p++)
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
            trailing = true;
    const char *dup = doc && !trailing ? ab_json_duplicate(doc) : NULL;
    if (doc && !trailing && !dup)
        return doc;
    if (dup)
        snprintf(why, whylen, "an object holds \"%.64s\" twice", dup);
    else
        snprintf(why, whylen, trailing ? "not JSON (data after the document)" : "not JSON");
    cJSON_Delete(doc);
    return NULL;
}

/* The number literals of a JSON text, in order: each one's start. */
struct literals {
    const char *text, *end, *p;
};

/* The next number literal from l->p on (its length in *n), or NULL. */
static const char *next_literal(struct literals *l, size_t *n)
{
    const char *p = l->p;
    while (p < l->end) {
        if (*p == '"') {
            for (p++; p < l->end && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            p++;
            continue;
        }
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *s = p;
            while (p < l->end && *p && strchr("+-0123456789.eE", *p))
                p++;
            *n = (size_t)(p - s);
            l->p = p;
            return s;
        }
        p++;
    }
    l->p = p;
    return NULL;
}

/* Pre-order, as the text holds them: the n-th number item is the n-th
 * literal. */
static void keep_in(cJSON *o, struct literals *l)
{
    for (cJSON *c = o ? o->child : NULL; c; c = c->next) {
        if (cJSON_IsNumber(c)) {
            size_t n = 0;
            const char *s = next_literal(l, &n);
            if (!s)
                return;
            bool digits = n > 15 && n < 21;
            for (size_t i = 0; digits && i < n; i++)
                digits = s[i] >= '0' && s[i] <= '9';
            char buf[24];
            uint64_t v;
            if (!digits)
                continue;
            memcpy(buf, s, n);
            buf[n] = '\0';
            char *copy = cJSON_malloc(n + 1);
            if (ab_parse_u64(buf, 0, UINT64_MAX, false, &v) || v <= (1ull << 53) || !copy) {
                cJSON_free(copy);
                continue;
            }
            memcpy(copy, buf, n + 1);
            c->type = cJSON_Raw;
            c->valuestring = copy;
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            keep_in(c, l);
        }
    }
}

void ab_json_keep_integers(cJSON *doc, const char *text, size_t len)
{
    struct literals l = {text, text + len, text};
    if (cJSON_IsNumber(doc)) /* a document that is one number: nothing to keep */
        return;
    keep_in(doc, &l);
}
