/*
 * model.h - the parsed configuration as plain structs.
 *
 * A config is parsed once (model.c) from a node tree and is immutable
 * afterwards. It is reference-counted because a reload swaps in a new one
 * while probes started from the old one may still be in flight: each
 * in-flight probe holds a reference, and the last unref frees it.
 *
 * Later sections (slos, goals, milestones, alerts, notifiers, sources,
 * server) are accepted as known top-level keys and parsed by their own
 * modules as they arrive.
 */
#ifndef YS_CONFIG_MODEL_H
#define YS_CONFIG_MODEL_H

#include "config/read.h"

#include <stdbool.h>
#include <stdint.h>

struct ys_diag;
struct ys_probe_type;

/* How long each resolution is kept; 0 means forever. */
struct ys_retention {
    int64_t raw_ms;    /* default 7d */
    int64_t minute_ms; /* default 35d */
    int64_t hour_ms;   /* default 400d */
    int64_t day_ms;    /* default 0 (forever) */
};

struct ys_storage_config {
    char *kind; /* "sqlite" (default) */
    char *path; /* default var/yardstick.db, relative to the working directory */
    struct ys_retention retention;
};

struct ys_check_defaults {
    int64_t interval_ms; /* default 30s */
    int64_t timeout_ms;  /* default 10s */
};

struct ys_check {
    char *name;
    const struct ys_probe_type *type;
    int64_t interval_ms;
    int64_t timeout_ms;
    struct ys_strmap labels;
    int line, col;        /* where the check starts in the file */
    uint64_t fingerprint; /* hash of the check's whole subtree, for reload diffs */
    uint32_t store_id;    /* filled by the daemon once the store knows the check */
    void *spec;           /* the kind's parsed fields; freed by type->free_spec */
};

struct ys_config {
    char *path;
    struct ys_storage_config storage;
    struct ys_check_defaults defaults;
    struct ys_check *checks;
    size_t n_checks;
    int refs; /* touched on the loop thread only */
    /* Private to model.c: open-addressing index of checks by name for
     * ys_config_find; slots hold check index + 1, 0 is empty; index_cap is
     * a power of two. NULL in a config built by hand: find then scans. */
    size_t *index;
    size_t index_cap;
};

/* Loads and validates path. Returns 0 and an owned config (refs = 1), or
 * YS_ECONFIG with every problem in diag (which must be initialised with the
 * file name). */
int ys_config_load(const char *path, struct ys_config **out, struct ys_diag *diag);
/* The same from a string (tests, fuzzing); name is used in diagnostics. */
int ys_config_load_string(const char *text, size_t len, struct ys_config **out,
                          struct ys_diag *diag);
void ys_config_ref(struct ys_config *c);
/* Drops a reference; frees the config and every check spec at zero. */
void ys_config_unref(struct ys_config *c);
/* Returns the check named name, or NULL. Borrows. */
struct ys_check *ys_config_find(const struct ys_config *c, const char *name);

#endif
