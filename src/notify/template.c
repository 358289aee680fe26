/*
 * template.c - webhook body templates: JSON text with {{field}}
 * placeholders filled from the event document.
 *
 *   template: |
 *     {"text": "{{labels.check}} is {{status}}", "link": "{{url}}"}
 *
 * Fields: key, rule, status, repeat, firing_at, resolved_at, event_at,
 * url, labels.NAME, annotations.NAME (absent ones expand to nothing).
 * Values are JSON-escaped without quotes, so a placeholder must sit
 * inside a JSON string: that way a hostile label value (quotes, line
 * breaks, a closing brace) stays inside its string and can never change
 * the document's structure. The check at config time enforces it and
 * that the text is JSON once filled.
 *
 * Why {{...}} and not ${...}: the config loader replaces ${VAR} with
 * environment variables in every scalar (config/node.c), before any kind
 * sees its fields.
 *
 * Pure functions; any thread.
 */
#include "notify/notifier_int.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fields[] = {
    "key", "rule", "status", "repeat", "firing_at", "resolved_at", "event_at", "url", NULL,
};

struct buf {
    char *s;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->s = ys_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Appends s as the inside of a JSON string. */
static void put_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c == '\n') {
            put(b, "\\n", 2);
        } else if (c == '\r') {
            put(b, "\\r", 2);
        } else if (c == '\t') {
            put(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else {
            put(b, s, 1);
        }
    }
}

/* Finds the placeholder at p ("{{"): the name's span and the end. Returns
 * false if it is not closed. */
static bool placeholder(const char *p, const char **name, size_t *nlen, const char **end)
{
    const char *q = p + 2;
    while (*q == ' ')
        q++;
    const char *close = strstr(q, "}}");
    if (!close)
        return false;
    const char *e = close;
    while (e > q && e[-1] == ' ')
        e--;
    *name = q;
    *nlen = (size_t)(e - q);
    *end = close + 2;
    return true;
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0)
            return true;
    return false;
}

static bool valid_field(const char *name, size_t n)
{
    if (in_list(name, n, fields))
        return true;
    static const char *const prefixes[] = {"labels.", "annotations.", NULL};
    for (size_t i = 0; prefixes[i]; i++) {
        size_t pl = strlen(prefixes[i]);
        if (n > pl && strncmp(name, prefixes[i], pl) == 0)
            return true;
    }
    return false;
}

/* The value of a field in the event; "" when absent. */
static const char *field_value(const json_t *event, const char *name, char *tmp, size_t size)
{
    const char *dot = strchr(name, '.');
    if (dot) {
        snprintf(tmp, size, "%.*s", (int)(dot - name), name);
        const json_t *v = json_object_get(json_object_get(event, tmp), dot + 1);
        if (json_is_string(v))
            return json_string_value(v);
        if (json_is_integer(v)) {
            snprintf(tmp, size, "%lld", (long long)json_integer_value(v));
            return tmp;
        }
        return "";
    }
    const json_t *v = json_object_get(event, name);
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return json_is_string(v) ? json_string_value(v) : "";
}

/* Walks tmpl, appending literal text and calling fill for placeholders.
 * Tracks whether the scan is inside a JSON string. Returns NULL or a
 * problem (owned). */
static char *walk(const char *tmpl, const json_t *event, struct buf *out)
{
    bool in_str = false;
    const char *p = tmpl;
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            const char *name, *end;
            size_t nlen;
            if (!placeholder(p, &name, &nlen, &end))
                return ys_xstrdup("a {{ is not closed with }}");
            if (!valid_field(name, nlen)) {
                char *nm = ys_xstrndup(name, nlen);
                const char *near = ys_cfg_nearest(nm, fields);
                char *why = ys_xasprintf("unknown field '%s' in {{...}}%s%s%s (use key, rule, "
                                         "status, repeat, firing_at, resolved_at, event_at, url, "
                                         "labels.NAME or annotations.NAME)",
                                         nm, near ? " (did you mean '" : "", near ? near : "",
                                         near ? "'?)" : "");
                free(nm);
                return why;
            }
            if (!in_str)
                return ys_xstrdup("a {{...}} placeholder must sit inside a JSON string, as in "
                                  "\"{{status}}\" (values are inserted JSON-escaped)");
            char name_z[160], tmp[160];
            snprintf(name_z, sizeof name_z, "%.*s", (int)nlen, name);
            put_escaped(out, event ? field_value(event, name_z, tmp, sizeof tmp) : "x");
            p = end;
            continue;
        }
        if (*p == '\\' && in_str && p[1]) {
            put(out, p, 2);
            p += 2;
            continue;
        }
        if (*p == '"')
            in_str = !in_str;
        put(out, p, 1);
        p++;
    }
    return NULL;
}

int ys_notify_template_check(const struct ys_node *n, const char *tmpl, struct ys_diag *d)
{
    struct buf b = {0};
    put(&b, "", 0);
    char *why = walk(tmpl, NULL, &b);
    if (!why) {
        json_error_t je;
        json_t *doc = json_loads(b.s, JSON_DECODE_ANY, &je);
        if (!doc)
            why = ys_xasprintf("not JSON once filled in: %s (line %d, column %d of the template)",
                               je.text, je.line, je.column);
        json_decref(doc);
    }
    free(b.s);
    if (!why)
        return 0;
    ys_diag_add(d, n->line, n->col, "template: %s", why);
    free(why);
    return YS_ECONFIG;
}

char *ys_notify_template_expand(const char *tmpl, const json_t *event)
{
    struct buf b = {0};
    put(&b, "", 0);
    /* The template passed the check at load time; a problem here cannot
     * happen, and the text so far is what we have. */
    free(walk(tmpl, event, &b));
    return b.s;
}
