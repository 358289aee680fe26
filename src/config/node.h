/*
 * node.h - a YAML document as a small tree of maps, sequences and scalars,
 * each carrying the line and column it came from.
 *
 * libyaml's event stream is turned into this tree once (node.c); everything
 * else (the model parser, each probe kind's parser) walks the tree and never
 * sees a libyaml type. ${VAR} references in scalars are substituted from the
 * environment while the tree is built, so secrets need not sit in the file.
 *
 * Ownership: a tree is returned owned by ys_node_load_*; free the root with
 * ys_node_free. Every pointer into the tree borrows from the root.
 */
#ifndef YS_CONFIG_NODE_H
#define YS_CONFIG_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_diag;

enum ys_node_type { YS_NODE_SCALAR, YS_NODE_MAP, YS_NODE_SEQ };

struct ys_node;

/* One key of a mapping, with the key's own position (1-based). */
struct ys_node_pair {
    char *key;
    int line, col;
    struct ys_node *value;
};

struct ys_node {
    enum ys_node_type type;
    int line, col;  /* 1-based position of the node's first character */
    char *scalar;   /* SCALAR: the text after ${VAR} substitution */
    bool quoted;    /* SCALAR: written in quotes (so "yes" stays a string) */
    bool is_null;   /* SCALAR: plain ~, null or empty */
    bool unresolved; /* SCALAR: a ${VAR} in it was unset (already reported) */
    size_t n;       /* MAP: pairs; SEQ: items */
    struct ys_node_pair *pairs; /* MAP */
    struct ys_node **items;     /* SEQ */
};

/* Parses a file into a tree. On a YAML syntax error, an unreadable file or
 * an unset ${VAR}, adds diagnostics to diag and returns NULL (syntax errors)
 * or a tree (unset variables are reported but parsing goes on). */
struct ys_node *ys_node_load_file(const char *path, struct ys_diag *diag);
/* The same for a string already in memory; name is used in diagnostics. */
struct ys_node *ys_node_load_string(const char *text, size_t len, struct ys_diag *diag);
void ys_node_free(struct ys_node *root);

/* Returns the value of key in a MAP node, or NULL. Borrows. */
const struct ys_node *ys_node_get(const struct ys_node *map, const char *key);
/* Returns the pair of key in a MAP node (for the key's position), or NULL. */
const struct ys_node_pair *ys_node_pair(const struct ys_node *map, const char *key);
/* A stable fingerprint of a subtree (types, keys, values; not positions),
 * used to tell whether a check changed across a reload. */
uint64_t ys_node_hash(const struct ys_node *node);
/* "a mapping", "a sequence", "a string" etc. for messages. */
const char *ys_node_type_name(const struct ys_node *node);

#endif
