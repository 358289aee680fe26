/*
 * node.c - libyaml's event stream turned into a tree of ys_node (node.h).
 *
 * The builder pulls events one at a time and builds each node recursively:
 * a scalar becomes a leaf, a sequence or mapping start pulls events until
 * its end. Every node and every mapping key keeps its 1-based line and
 * column (libyaml's marks are 0-based). ${VAR} in scalars is replaced from
 * the environment as each scalar is made.
 *
 * Invariants: a returned tree is complete (no NULL items or values); the
 * nesting depth is capped (YS_NODE_MAX_DEPTH) so recursion is bounded
 * whatever the input; the input is capped at 16 MiB. Errors that leave the
 * tree usable (an unset variable, a duplicate key, an alias) are reported
 * and parsing goes on; a syntax error stops it and no tree is returned.
 * Only the first YAML document is read; a second one is an error, as it
 * would otherwise be silently ignored.
 *
 * Runs on whichever thread loads a config; keeps no global state.
 */
#include "config/node.h"

#include "config/diag.h"
#include "core/hash.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define YS_NODE_MAX_INPUT (16u * 1024 * 1024)
#define YS_NODE_MAX_DEPTH 64

struct builder {
    yaml_parser_t parser;
    struct ys_diag *diag;
    bool failed; /* a syntax error: the tree is abandoned */
};

static struct ys_node *new_node(enum ys_node_type type, const yaml_mark_t *m)
{
    struct ys_node *n = ys_xcalloc(1, sizeof *n);
    n->type = type;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

void ys_node_free(struct ys_node *n)
{
    if (!n)
        return;
    free(n->scalar);
    for (size_t i = 0; i < n->n && n->type == YS_NODE_MAP; i++) {
        free(n->pairs[i].key);
        ys_node_free(n->pairs[i].value);
    }
    for (size_t i = 0; i < n->n && n->type == YS_NODE_SEQ; i++)
        ys_node_free(n->items[i]);
    free(n->pairs);
    free(n->items);
    free(n);
}

static void syntax_error(struct builder *b)
{
    const yaml_parser_t *p = &b->parser;
    const char *problem = p->problem ? p->problem : "unreadable input";
    if (p->context)
        ys_diag_add(b->diag, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                    "YAML syntax error: %s %s", p->context, problem);
    else
        ys_diag_add(b->diag, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                    "YAML syntax error: %s", problem);
    b->failed = true;
}

/* Pulls the next event; on a syntax error reports it and returns false. */
static bool next_event(struct builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev)) {
        syntax_error(b);
        return false;
    }
    return true;
}

static bool is_var_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static void append(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap = *cap ? *cap * 2 : 64;
        *out = ys_xrealloc(*out, *cap);
    }
    memcpy(*out + *len, s, n);
    *len += n;
    (*out)[*len] = '\0';
}

/* Appends one ${NAME} expansion at p (pointing at '$') to out; returns the
 * number of input bytes consumed, or 0 if this '$' is literal. An unset
 * variable expands to nothing, after a diagnostic. */
static size_t expand_var(const char *p, const char *end, char **out, size_t *len, size_t *cap,
                         const struct ys_node *at, struct ys_diag *d)
{
    if (end - p < 2 || p[1] != '{')
        return 0;
    const char *name = p + 2, *q = name;
    while (q < end && *q != '}')
        q++;
    if (q == end) {
        ys_diag_add(d, at->line, at->col, "unterminated ${ in '%s' (write ${NAME})", at->scalar);
        return (size_t)(end - p);
    }
    size_t nlen = (size_t)(q - name);
    bool valid = nlen > 0 && is_var_start(name[0]);
    for (size_t i = 1; valid && i < nlen; i++)
        valid = isalnum((unsigned char)name[i]) || name[i] == '_';
    char *var = ys_xstrndup(name, nlen);
    if (!valid) {
        ys_diag_add(d, at->line, at->col, "bad environment variable name '%s' in ${...}", var);
    } else {
        const char *val = getenv(var);
        if (val)
            append(out, len, cap, val, strlen(val));
        else
            ys_diag_add(d, at->line, at->col, "environment variable %s is not set", var);
    }
    free(var);
    return (size_t)(q + 1 - p);
}

/* Sets n->scalar from the raw text, with ${VAR} replaced. n->scalar holds
 * the raw text while expanding so messages can quote it. */
static void set_scalar(struct ys_node *n, const char *raw, size_t rlen, struct ys_diag *d)
{
    n->scalar = ys_xstrndup(raw, rlen);
    if (!memchr(raw, '$', rlen))
        return;
    char *out = NULL;
    size_t len = 0, cap = 0;
    size_t errors_before = d->n;
    append(&out, &len, &cap, "", 0);
    const char *p = raw, *end = raw + rlen;
    while (p < end) {
        const char *dollar = memchr(p, '$', (size_t)(end - p));
        if (!dollar) {
            append(&out, &len, &cap, p, (size_t)(end - p));
            break;
        }
        append(&out, &len, &cap, p, (size_t)(dollar - p));
        size_t used = expand_var(dollar, end, &out, &len, &cap, n, d);
        if (used == 0) {
            append(&out, &len, &cap, "$", 1);
            used = 1;
        }
        p = dollar + used;
    }
    free(n->scalar);
    n->scalar = out;
    /* Readers skip a value whose expansion failed, so one mistake is one
     * error rather than "not set" followed by "bad URL ''". */
    n->unresolved = d->n > errors_before;
}

static bool plain_null(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (strncmp(s, "null", 4) == 0 || strncmp(s, "Null", 4) == 0 ||
                         strncmp(s, "NULL", 4) == 0));
}

static void reject_anchor(struct builder *b, const yaml_char_t *anchor, const yaml_mark_t *m)
{
    if (anchor)
        ys_diag_add(b->diag, (int)m->line + 1, (int)m->column + 1,
                    "anchors (&%s) are not supported: repeat the value instead", (char *)anchor);
}

static struct ys_node *build(struct builder *b, yaml_event_t *ev, int depth);

/* Reads a sequence's items up to its end event. */
static bool build_seq(struct builder *b, struct ys_node *seq, int depth)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (!next_event(b, &ev))
            return false;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return true;
        }
        struct ys_node *item = build(b, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!item)
            return false;
        if (seq->n == cap) {
            cap = cap ? cap * 2 : 4;
            seq->items = ys_xrealloc(seq->items, cap * sizeof *seq->items);
        }
        seq->items[seq->n++] = item;
    }
}

/* Adds key: value to map, reporting duplicates and non-scalar keys.
 * Takes key and value. */
static void add_pair(struct builder *b, struct ys_node *map, size_t *cap, struct ys_node *key,
                     struct ys_node *value)
{
    if (key->type != YS_NODE_SCALAR) {
        ys_diag_add(b->diag, key->line, key->col, "mapping keys must be plain strings, not %s",
                    ys_node_type_name(key));
        ys_node_free(key);
        ys_node_free(value);
        return;
    }
    const struct ys_node_pair *first = ys_node_pair(map, key->scalar);
    if (first) {
        ys_diag_add(b->diag, key->line, key->col, "duplicate key '%s' (first defined at %d:%d)",
                    key->scalar, first->line, first->col);
        ys_node_free(key);
        ys_node_free(value);
        return;
    }
    if (map->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        map->pairs = ys_xrealloc(map->pairs, *cap * sizeof *map->pairs);
    }
    struct ys_node_pair *p = &map->pairs[map->n++];
    p->key = key->scalar;
    p->line = key->line;
    p->col = key->col;
    p->value = value;
    key->scalar = NULL;
    ys_node_free(key);
}

/* Reads a mapping's key/value pairs up to its end event. */
static bool build_map(struct builder *b, struct ys_node *map, int depth)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (!next_event(b, &ev))
            return false;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return true;
        }
        struct ys_node *key = build(b, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!key)
            return false;
        struct ys_node *value = NULL;
        if (next_event(b, &ev)) {
            value = build(b, &ev, depth + 1);
            yaml_event_delete(&ev);
        }
        if (!value) {
            ys_node_free(key);
            return false;
        }
        add_pair(b, map, &cap, key, value);
    }
}

static struct ys_node *build_scalar(struct builder *b, const yaml_event_t *ev)
{
    struct ys_node *n = new_node(YS_NODE_SCALAR, &ev->start_mark);
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    n->is_null = !n->quoted && plain_null(v, len);
    reject_anchor(b, ev->data.scalar.anchor, &ev->start_mark);
    set_scalar(n, v, len, b->diag);
    return n;
}

/* Builds the node that starts with ev (borrowed; the caller deletes it).
 * Returns NULL only after a syntax error or the depth cap. */
static struct ys_node *build(struct builder *b, yaml_event_t *ev, int depth)
{
    if (depth > YS_NODE_MAX_DEPTH) {
        ys_diag_add(b->diag, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "nesting deeper than %d levels", YS_NODE_MAX_DEPTH);
        b->failed = true;
        return NULL;
    }
    struct ys_node *n = NULL;
    bool ok = true;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return build_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        ys_diag_add(b->diag, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "aliases (*%s) are not supported: repeat the value instead",
                    (char *)ev->data.alias.anchor);
        n = new_node(YS_NODE_SCALAR, &ev->start_mark);
        n->scalar = ys_xstrdup("");
        n->is_null = true;
        return n;
    case YAML_SEQUENCE_START_EVENT:
        reject_anchor(b, ev->data.sequence_start.anchor, &ev->start_mark);
        n = new_node(YS_NODE_SEQ, &ev->start_mark);
        ok = build_seq(b, n, depth);
        break;
    case YAML_MAPPING_START_EVENT:
        reject_anchor(b, ev->data.mapping_start.anchor, &ev->start_mark);
        n = new_node(YS_NODE_MAP, &ev->start_mark);
        ok = build_map(b, n, depth);
        break;
    default:
        /* libyaml only emits node events here; anything else is a bug in
         * it, reported rather than asserted because input must not abort. */
        ys_diag_add(b->diag, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "unexpected YAML event %d", (int)ev->type);
        b->failed = true;
        return NULL;
    }
    if (!ok) {
        ys_node_free(n);
        return NULL;
    }
    return n;
}

/* Reads stream-start, one document and stream-end. Returns the root, or
 * NULL for an empty stream or after a syntax error. */
static struct ys_node *build_document(struct builder *b)
{
    yaml_event_t ev;
    struct ys_node *root = NULL;
    if (!next_event(b, &ev))
        return NULL;
    yaml_event_delete(&ev); /* stream start */
    if (!next_event(b, &ev))
        return NULL;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return NULL;
    }
    yaml_event_delete(&ev); /* document start */
    if (!next_event(b, &ev))
        return NULL;
    root = build(b, &ev, 0);
    yaml_event_delete(&ev);
    if (!root)
        return NULL;
    if (!next_event(b, &ev)) /* document end */
        goto fail;
    yaml_event_delete(&ev);
    if (!next_event(b, &ev))
        goto fail;
    if (ev.type == YAML_DOCUMENT_START_EVENT) {
        ys_diag_add(b->diag, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                    "only one YAML document is allowed in a configuration file");
    }
    yaml_event_delete(&ev);
    return root;
fail:
    ys_node_free(root);
    return NULL;
}

struct ys_node *ys_node_load_string(const char *text, size_t len, struct ys_diag *diag)
{
    if (len > YS_NODE_MAX_INPUT) {
        ys_diag_add(diag, 0, 0, "file is larger than %u MiB", YS_NODE_MAX_INPUT >> 20);
        return NULL;
    }
    struct builder b = {.diag = diag};
    if (!yaml_parser_initialize(&b.parser)) {
        ys_diag_add(diag, 0, 0, "cannot initialise the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    struct ys_node *root = build_document(&b);
    yaml_parser_delete(&b.parser);
    if (b.failed) {
        ys_node_free(root);
        return NULL;
    }
    return root;
}

struct ys_node *ys_node_load_file(const char *path, struct ys_diag *diag)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ys_diag_add(diag, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size > YS_NODE_MAX_INPUT) {
        ys_diag_add(diag, 0, 0, "file is larger than %u MiB", YS_NODE_MAX_INPUT >> 20);
        fclose(f);
        return NULL;
    }
    /* Read up to one byte past the cap so a file that grew (or a pipe)
     * is caught too. */
    size_t cap = 64 * 1024, len = 0;
    char *buf = ys_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > YS_NODE_MAX_INPUT)
                break;
            cap *= 2;
            buf = ys_xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    struct ys_node *root = NULL;
    if (ferror(f))
        ys_diag_add(diag, 0, 0, "cannot read: %s", strerror(errno));
    else
        root = ys_node_load_string(buf, len, diag);
    fclose(f);
    free(buf);
    return root;
}

const struct ys_node_pair *ys_node_pair(const struct ys_node *map, const char *key)
{
    if (!map || map->type != YS_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->pairs[i].key, key) == 0)
            return &map->pairs[i];
    return NULL;
}

const struct ys_node *ys_node_get(const struct ys_node *map, const char *key)
{
    const struct ys_node_pair *p = ys_node_pair(map, key);
    return p ? p->value : NULL;
}

/* Mappings hash the same whatever their key order (a reordered label map
 * is not a changed check): each pair is hashed on its own and the pair
 * hashes are summed, which commutes. Sequences keep their order. */
static uint64_t hash_node(uint64_t h, const struct ys_node *n)
{
    h = ys_hash_bytes(h, &(unsigned char){(unsigned char)n->type}, 1);
    switch (n->type) {
    case YS_NODE_SCALAR:
        h = ys_hash_bytes(h, &(unsigned char){n->is_null}, 1);
        return ys_hash_str(h, n->scalar ? n->scalar : "");
    case YS_NODE_SEQ:
        h = ys_hash_bytes(h, &n->n, sizeof n->n);
        for (size_t i = 0; i < n->n; i++)
            h = hash_node(h, n->items[i]);
        return h;
    case YS_NODE_MAP: {
        uint64_t sum = 0;
        for (size_t i = 0; i < n->n; i++)
            sum += hash_node(ys_hash_str(YS_HASH_INIT, n->pairs[i].key), n->pairs[i].value);
        h = ys_hash_bytes(h, &n->n, sizeof n->n);
        return ys_hash_bytes(h, &sum, sizeof sum);
    }
    }
    return h;
}

uint64_t ys_node_hash(const struct ys_node *node)
{
    return node ? hash_node(YS_HASH_INIT, node) : YS_HASH_INIT;
}

const char *ys_node_type_name(const struct ys_node *node)
{
    if (!node)
        return "missing";
    switch (node->type) {
    case YS_NODE_MAP: return "a mapping";
    case YS_NODE_SEQ: return "a sequence";
    case YS_NODE_SCALAR: return node->is_null ? "an empty value" : "a string";
    }
    return "a value";
}
