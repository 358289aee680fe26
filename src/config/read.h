/*
 * read.h - typed reads from a config tree, each reporting its own errors.
 *
 * Every reader takes the node (which may be NULL when the key is absent),
 * a description for messages and the diagnostics list. On a type or format
 * error it adds "FILE:LINE:COL: <what> must be ..." and returns YS_ECONFIG,
 * leaving *out untouched, so callers can set defaults first and go on.
 * These are shared by the model parser and every probe kind's parser.
 */
#ifndef YS_CONFIG_READ_H
#define YS_CONFIG_READ_H

#include "config/node.h"

#include <stdbool.h>
#include <stdint.h>

struct ys_diag;

/* A string map such as labels or headers; owns keys and values. */
struct ys_strmap {
    size_t n;
    char **keys;
    char **values;
};
void ys_strmap_free(struct ys_strmap *m);
const char *ys_strmap_get(const struct ys_strmap *m, const char *key);

/* Reports every key of map not in allowed (NULL-terminated), suggesting the
 * nearest allowed key ("unknown key 'intreval' (did you mean 'interval'?)").
 * Returns the number of unknown keys. */
int ys_cfg_check_keys(const struct ys_node *map, const char *const *allowed, const char *where,
                      struct ys_diag *d);
/* The nearest string to s in list (edit distance), or NULL if none is close. */
const char *ys_cfg_nearest(const char *s, const char *const *list);

/* Adds "missing required field 'key'" at the map's position. */
void ys_cfg_missing(const struct ys_node *map, const char *key, const char *where,
                    struct ys_diag *d);

/* out becomes an owned copy (free the previous value yourself). */
int ys_cfg_string(const struct ys_node *n, const char *what, char **out, struct ys_diag *d);
int ys_cfg_bool(const struct ys_node *n, const char *what, bool *out, struct ys_diag *d);
int ys_cfg_int(const struct ys_node *n, const char *what, int64_t min, int64_t max, int64_t *out,
               struct ys_diag *d);
int ys_cfg_double(const struct ys_node *n, const char *what, double *out, struct ys_diag *d);
/* A duration such as 250ms, 30s, 5m, 1h, 7d, in milliseconds, > 0. */
int ys_cfg_duration(const struct ys_node *n, const char *what, int64_t *out_ms, struct ys_diag *d);
/* A size such as 1MiB, 512KiB, 1000 (bytes). */
int ys_cfg_size(const struct ys_node *n, const char *what, int64_t *out, struct ys_diag *d);
/* A map of string to string (labels, headers). */
int ys_cfg_strmap(const struct ys_node *n, const char *what, struct ys_strmap *out,
                  struct ys_diag *d);
/* A string or a sequence of strings; out->n strings in out->v (owned). */
struct ys_strlist {
    size_t n;
    char **v;
};
void ys_strlist_free(struct ys_strlist *l);
int ys_cfg_strlist(const struct ys_node *n, const char *what, struct ys_strlist *out,
                   struct ys_diag *d);
/* Checks a URL's shape: scheme in schemes (NULL-terminated), a host.
 * Does not copy; returns 0 or YS_ECONFIG with a diagnostic. */
int ys_cfg_url(const struct ys_node *n, const char *what, const char *const *schemes,
               struct ys_diag *d);
/* host:port, [v6]:port; host returned owned, port in 1..65535. */
int ys_cfg_hostport(const struct ys_node *n, const char *what, char **host, int *port,
                    struct ys_diag *d);

#endif
