/*
 * model.c - the configuration file turned into struct ys_config (model.h).
 *
 * The YAML is first read into a node tree (node.c), then walked section by
 * section: storage, defaults, then checks (defaults first, since a check's
 * effective interval and timeout come from them). Each check's common
 * fields are read here; its kind's own fields are read by the kind's parse
 * function from the probe registry. slos come next (they name checks),
 * then goals, milestones and actions (model_slo.c, model_goal.c), each
 * resolving its references to indices. Parsing never stops at the first
 * problem: every error goes to the diag list, and the load fails at the
 * end if any was added, so `yardstick validate` shows them all at once.
 *
 * Invariants of a returned config: every check has a unique valid name, a
 * known type, a spec from that type, interval >= 100ms and timeout >=
 * 10ms; the config is immutable apart from refs and each check's store_id.
 * A name index (open addressing over check positions) makes
 * ys_config_find O(1), because reload diffs look up every check.
 *
 * Runs on the thread that loads (the CLI, or the loop on SIGHUP); refs are
 * only touched on the loop thread.
 */
#include "config/model.h"

#include "config/diag.h"
#include "config/instance.h"
#include "config/model_int.h"
#include "config/node.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "probe/probe.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YS_CHECK_NAME_MAX 128
#define YS_MIN_INTERVAL_MS 100
#define YS_MIN_TIMEOUT_MS 10

static const char *const top_keys[] = {
    "storage", "defaults",  "checks",  "slos",   "goals",   "milestones",
    "actions", "alerts",    "notifiers", "sources", "server", "title", "maintenance",
    "remote_write", "instance", NULL,
};

static const char *const storage_keys[] = {"kind", "path", "dsn", "retention", NULL};
static const char *const retention_keys[] = {"raw", "minute", "hour", "day", NULL};
static const char *const defaults_keys[] = {"interval", "timeout", "timezone",
                                            "evaluation_interval", NULL};
static const char *const incident_keys[] = {"open_after", "close_after", NULL};
static const char *const storage_kinds[] = {"sqlite", "postgres", NULL};
static const char *const check_common_keys[] = {
    "name", "kind", "interval", "timeout", "labels", "description", "incident",
    "locations", "down_when", NULL,
};
static const char *const down_when_keys[] = {"failing", NULL};

static void check_free(struct ys_check *c)
{
    if (c->spec && c->type && c->type->free_spec)
        c->type->free_spec(c->spec);
    free(c->name);
    ys_strmap_free(&c->labels);
    ys_strlist_free(&c->locations);
}

static void config_free(struct ys_config *c)
{
    for (size_t i = 0; i < c->n_checks; i++)
        check_free(&c->checks[i]);
    free(c->checks);
    ys_model_free_slos(c);
    ys_model_free_goals(c);
    ys_model_free_server(c);
    ys_model_free_notifiers(c);
    ys_model_free_alerts(c);
    ys_model_free_sources(c);
    ys_model_free_remote_write(c);
    ys_model_free_instance(c);
    free(c->defaults.timezone);
    ys_tz_free(&c->default_tz);
    free(c->index);
    free(c->storage.kind);
    free(c->storage.path);
    free(c->path);
    free(c->title);
    free(c);
}

/* Reads a map section's presence and type; returns whether to go on. */
static bool want_map(const struct ys_node *n, const char *what, struct ys_diag *d)
{
    if (!n || (n->type == YS_NODE_SCALAR && n->is_null))
        return false; /* absent or `key:` with nothing: defaults apply */
    if (n->type == YS_NODE_MAP)
        return true;
    ys_diag_add(d, n->line, n->col, "%s must be a mapping, not %s", what, ys_node_type_name(n));
    return false;
}

/* A retention is a duration or `forever` (stored as 0). */
static void parse_retention_one(const struct ys_node *n, const char *key, int64_t *out,
                                struct ys_diag *d)
{
    const struct ys_node *v = ys_node_get(n, key);
    if (!v)
        return;
    char what[64];
    snprintf(what, sizeof what, "storage.retention.%s", key);
    if (v->type == YS_NODE_SCALAR && strcmp(v->scalar, "forever") == 0) {
        *out = 0;
        return;
    }
    int64_t ms;
    if (v->type == YS_NODE_SCALAR && !v->is_null && ys_duration_parse(v->scalar, &ms) < 0) {
        ys_diag_add(d, v->line, v->col,
                    "%s: bad retention '%s' (use a duration such as 7d, or forever)", what,
                    v->scalar);
        return;
    }
    ys_cfg_duration(v, what, out, d);
}

static void parse_storage(const struct ys_node *n, struct ys_storage_config *s, struct ys_diag *d)
{
    if (!want_map(n, "storage", d))
        return;
    ys_cfg_check_keys(n, storage_keys, "storage", d);
    const struct ys_node *kind = ys_node_get(n, "kind");
    char *k = NULL;
    if (ys_cfg_string(kind, "storage.kind", &k, d) == 0 && k) {
        if (strcmp(k, "sqlite") != 0 && strcmp(k, "postgres") != 0) {
            const char *near = ys_cfg_nearest(k, storage_kinds);
            ys_diag_add(d, kind->line, kind->col,
                        "unknown storage kind '%s' (known: sqlite, postgres)%s%s%s", k,
                        near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
            free(k);
        } else {
            free(s->kind);
            s->kind = k;
        }
    }
    bool pg = strcmp(s->kind, "postgres") == 0;
    const struct ys_node *path_n = ys_node_get(n, "path"), *dsn_n = ys_node_get(n, "dsn");
    char *path = NULL;
    /* The store's location: a file for sqlite, a libpq connection string
     * for postgres (both reach the backend as ys_store_options.path). */
    if (path_n && pg)
        ys_diag_add(d, path_n->line, path_n->col,
                    "storage.path is for kind sqlite; kind postgres takes dsn");
    else if (dsn_n && !pg)
        ys_diag_add(d, dsn_n->line, dsn_n->col,
                    "storage.dsn is for kind postgres (add kind: postgres)");
    else if (pg && !dsn_n)
        ys_diag_add(d, kind->line, kind->col,
                    "storage kind postgres needs dsn (a libpq connection string, such as "
                    "\"${YARDSTICK_PG_DSN}\")");
    else if (ys_cfg_string(pg ? dsn_n : path_n, pg ? "storage.dsn" : "storage.path", &path,
                           d) == 0 && path) {
        if (pg && !*path)
            ys_diag_add(d, dsn_n->line, dsn_n->col, "storage.dsn is empty");
        free(s->path);
        s->path = path;
    }
    const struct ys_node *r = ys_node_get(n, "retention");
    if (!want_map(r, "storage.retention", d))
        return;
    ys_cfg_check_keys(r, retention_keys, "storage.retention", d);
    parse_retention_one(r, "raw", &s->retention.raw_ms, d);
    parse_retention_one(r, "minute", &s->retention.minute_ms, d);
    parse_retention_one(r, "hour", &s->retention.hour_ms, d);
    parse_retention_one(r, "day", &s->retention.day_ms, d);
}

/* A duration with a lower bound; what names the field in messages. */
static void read_bounded(const struct ys_node *n, const char *what, int64_t min_ms, int64_t *out,
                         struct ys_diag *d)
{
    int64_t ms = *out;
    if (!n || ys_cfg_duration(n, what, &ms, d) < 0)
        return;
    if (ms < min_ms) {
        ys_diag_add(d, n->line, n->col, "%s must be at least %lldms, not '%s'", what,
                    (long long)min_ms, n->scalar);
        return;
    }
    *out = ms;
}

/* The zone is loaded here, not only named, so an unknown one is reported
 * at its position and due dates can be computed in it. */
static void parse_timezone(const struct ys_node *n, struct ys_check_defaults *def,
                           struct ys_tz *tz, struct ys_diag *d)
{
    char *name = NULL;
    if (!n || ys_cfg_string(n, "defaults.timezone", &name, d) < 0)
        return;
    struct ys_tz loaded;
    struct ys_err err = {{0}};
    if (ys_tz_load(name, NULL, &loaded, &err) < 0) {
        ys_diag_add(d, n->line, n->col, "defaults.timezone: unknown time zone '%s' (%s)", name,
                    err.msg);
        free(name);
        return;
    }
    ys_tz_free(tz);
    *tz = loaded;
    free(def->timezone);
    def->timezone = name;
}

static void parse_defaults(const struct ys_node *n, struct ys_check_defaults *def,
                           struct ys_tz *tz, struct ys_diag *d)
{
    if (!want_map(n, "defaults", d))
        return;
    ys_cfg_check_keys(n, defaults_keys, "defaults", d);
    read_bounded(ys_node_get(n, "interval"), "defaults.interval", YS_MIN_INTERVAL_MS,
                 &def->interval_ms, d);
    read_bounded(ys_node_get(n, "timeout"), "defaults.timeout", YS_MIN_TIMEOUT_MS, &def->timeout_ms,
                 d);
    parse_timezone(ys_node_get(n, "timezone"), def, tz, d);
    read_bounded(ys_node_get(n, "evaluation_interval"), "defaults.evaluation_interval", 1000,
                 &def->evaluation_interval_ms, d);
}

bool ys_model_valid_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > YS_CHECK_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            return false;
    return true;
}

static bool valid_label_key(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (s++; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* Inserts check i into the name index, or reports a duplicate. Returns
 * whether the name was new. */
static bool index_name(struct ys_config *c, const struct ys_node *seq, size_t i,
                       const struct ys_node *name_node, struct ys_diag *d)
{
    const char *name = c->checks[i].name;
    size_t mask = c->index_cap - 1;
    size_t h = (size_t)ys_hash_str(YS_HASH_INIT, name) & mask;
    for (; c->index[h]; h = (h + 1) & mask) {
        size_t j = c->index[h] - 1;
        if (strcmp(c->checks[j].name, name) != 0)
            continue;
        const struct ys_node *first = ys_node_get(seq->items[j], "name");
        ys_diag_add(d, name_node->line, name_node->col,
                    "duplicate check name '%s' (first defined at %d:%d)", name, first->line,
                    first->col);
        return false;
    }
    c->index[h] = i + 1;
    return true;
}

/* Reads name and kind; returns how messages should name the check. */
static char *parse_name_kind(const struct ys_node *n, size_t i, struct ys_check *ck,
                             struct ys_diag *d)
{
    char path[48];
    snprintf(path, sizeof path, "checks[%zu]", i);
    const struct ys_node *name = ys_node_get(n, "name");
    if (!name)
        ys_cfg_missing(n, "name", path, d);
    else if (ys_cfg_string(name, "name", &ck->name, d) == 0 && !ys_model_valid_name(ck->name)) {
        ys_diag_add(d, name->line, name->col, "bad check name '%s' (use 1-%d of A-Z a-z 0-9 . _ -)",
                    ck->name, YS_CHECK_NAME_MAX);
        free(ck->name);
        ck->name = NULL;
    }
    char *where = ck->name ? ys_xasprintf("check '%s'", ck->name) : ys_xstrdup(path);
    const struct ys_node *kind = ys_node_get(n, "kind");
    char *k = NULL;
    if (!kind)
        ys_cfg_missing(n, "kind", where, d);
    else if (ys_cfg_string(kind, "kind", &k, d) == 0) {
        ck->type = ys_probe_type_find(k);
        if (!ck->type) {
            const char *near = ys_cfg_nearest(k, ys_probe_type_names());
            ys_diag_add(d, kind->line, kind->col, "unknown kind '%s' in %s%s%s%s", k, where,
                        near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        }
        free(k);
    }
    return where;
}

/* The common keys plus the kind's own, for unknown-key messages. */
static const char **allowed_keys(const struct ys_probe_type *type)
{
    size_t nc = 0, nk = 0;
    while (check_common_keys[nc])
        nc++;
    while (type->keys && type->keys[nk])
        nk++;
    const char **v = ys_xcalloc(nc + nk + 1, sizeof *v);
    memcpy(v, check_common_keys, nc * sizeof *v);
    if (nk)
        memcpy(v + nc, type->keys, nk * sizeof *v);
    return v;
}

static void parse_labels(const struct ys_node *n, const char *path, struct ys_strmap *labels,
                         struct ys_diag *d)
{
    char what[64];
    snprintf(what, sizeof what, "%s.labels", path);
    if (!n)
        return;
    ys_cfg_strmap(n, what, labels, d);
    if (n->type != YS_NODE_MAP)
        return;
    for (size_t i = 0; i < n->n; i++)
        if (!valid_label_key(n->pairs[i].key))
            ys_diag_add(d, n->pairs[i].line, n->pairs[i].col,
                        "bad label name '%s' (use letters, digits and _, not starting with a "
                        "digit)",
                        n->pairs[i].key);
}

/* incident: { open_after: 2, close_after: 1 } */
static void parse_incident(const struct ys_node *n, const char *path, struct ys_check *ck,
                           struct ys_diag *d)
{
    char what[80];
    snprintf(what, sizeof what, "%s.incident", path);
    if (!want_map(n, what, d))
        return;
    ys_cfg_check_keys(n, incident_keys, what, d);
    int64_t v = ck->incident_open_after;
    snprintf(what, sizeof what, "%s.incident.open_after", path);
    if (ys_cfg_int(ys_node_get(n, "open_after"), what, 1, 100, &v, d) == 0)
        ck->incident_open_after = (int)v;
    v = ck->incident_close_after;
    snprintf(what, sizeof what, "%s.incident.close_after", path);
    if (ys_cfg_int(ys_node_get(n, "close_after"), what, 1, 100, &v, d) == 0)
        ck->incident_close_after = (int)v;
}

/* locations: [home, eu-west] and down_when: { failing: k } (src/ha/combine.c
 * turns the locations' results into the check's k-of-n verdict). k
 * defaults to 0, read as "all of them". A passive kind (heartbeat) is
 * pinged, not probed, so it has no locations to probe from. */
static void parse_locations(const struct ys_node *n, const char *path, struct ys_check *ck,
                            struct ys_diag *d)
{
    char what[80];
    const struct ys_node *loc = ys_node_get(n, "locations"), *dw = ys_node_get(n, "down_when");
    snprintf(what, sizeof what, "%s.locations", path);
    if (loc && ys_cfg_strlist(loc, what, &ck->locations, d) == 0 && ck->locations.n == 0)
        ys_diag_add(d, loc->line, loc->col, "%s is empty (name at least one location)", what);
    for (size_t i = 0; i < ck->locations.n; i++) {
        const struct ys_node *it = loc->type == YS_NODE_SEQ ? loc->items[i] : loc;
        const char *name = ck->locations.v[i];
        if (!ys_model_valid_name(name))
            ys_diag_add(d, it->line, it->col, "bad location name '%s' (use 1-128 of A-Z a-z 0-9 "
                        ". _ -)", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(ck->locations.v[j], name) == 0)
                ys_diag_add(d, it->line, it->col, "duplicate location '%s' in %s", name, what);
    }
    if (loc && ck->locations.n && ck->type && !ck->type->start)
        ys_diag_add(d, loc->line, loc->col, "%s: a %s check is pinged, not probed from "
                    "locations", what, ck->type->name);
    snprintf(what, sizeof what, "%s.down_when", path);
    if (!want_map(dw, what, d))
        return;
    ys_cfg_check_keys(dw, down_when_keys, what, d);
    if (!loc) {
        ys_diag_add(d, dw->line, dw->col, "%s needs locations (k of n locations failing)", what);
        return;
    }
    const struct ys_node *k = ys_node_get(dw, "failing");
    int64_t v = 0;
    snprintf(what, sizeof what, "%s.down_when.failing", path);
    if (!k || ys_cfg_int(k, what, 1, 1000, &v, d) < 0)
        return;
    if ((size_t)v > ck->locations.n)
        ys_diag_add(d, k->line, k->col, "%s is %lld but the check has only %zu location%s", what,
                    (long long)v, ck->locations.n, ck->locations.n == 1 ? "" : "s");
    else
        ck->down_when_failing = (int)v;
}

/* Reads one check: common fields here, the kind's fields by its parser. */
static void parse_check(const struct ys_node *n, size_t i, const struct ys_config *c,
                        struct ys_check *ck, struct ys_diag *d)
{
    ck->line = n->line;
    ck->col = n->col;
    ck->interval_ms = c->defaults.interval_ms;
    ck->timeout_ms = c->defaults.timeout_ms;
    ck->incident_open_after = 2;
    ck->incident_close_after = 1;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "checks[%zu] must be a mapping, not %s", i,
                    ys_node_type_name(n));
        return;
    }
    char *where = parse_name_kind(n, i, ck, d);
    char path[48], what[64];
    snprintf(path, sizeof path, "checks[%zu]", i);
    snprintf(what, sizeof what, "%s.interval", path);
    read_bounded(ys_node_get(n, "interval"), what, YS_MIN_INTERVAL_MS, &ck->interval_ms, d);
    snprintf(what, sizeof what, "%s.timeout", path);
    read_bounded(ys_node_get(n, "timeout"), what, YS_MIN_TIMEOUT_MS, &ck->timeout_ms, d);
    parse_labels(ys_node_get(n, "labels"), path, &ck->labels, d);
    parse_incident(ys_node_get(n, "incident"), path, ck, d);
    parse_locations(n, path, ck, d);
    char *desc = NULL;
    snprintf(what, sizeof what, "%s.description", path);
    ys_cfg_string(ys_node_get(n, "description"), what, &desc, d);
    free(desc);
    if (ck->type) {
        /* Without a known kind its keys are unknown too; checking only
         * the common ones would flag every kind field as a typo. */
        const char **allowed = allowed_keys(ck->type);
        ys_cfg_check_keys(n, allowed, where, d);
        free(allowed);
        ck->type->parse(n, ck, &ck->spec, d);
    }
    uint64_t h = ys_node_hash(n);
    h = ys_hash_bytes(h, &ck->interval_ms, sizeof ck->interval_ms);
    ck->fingerprint = ys_hash_bytes(h, &ck->timeout_ms, sizeof ck->timeout_ms);
    free(where);
}

static void parse_checks(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d)
{
    if (!seq || (seq->type == YS_NODE_SCALAR && seq->is_null))
        return;
    if (seq->type != YS_NODE_SEQ) {
        ys_diag_add(d, seq->line, seq->col, "checks must be a list of checks, not %s",
                    ys_node_type_name(seq));
        return;
    }
    c->checks = ys_xcalloc(seq->n ? seq->n : 1, sizeof *c->checks);
    c->n_checks = seq->n;
    c->index_cap = 16;
    while (c->index_cap < 2 * seq->n)
        c->index_cap *= 2;
    c->index = ys_xcalloc(c->index_cap, sizeof *c->index);
    for (size_t i = 0; i < seq->n; i++) {
        parse_check(seq->items[i], i, c, &c->checks[i], d);
        if (c->checks[i].name)
            index_name(c, seq, i, ys_node_get(seq->items[i], "name"), d);
    }
}

static void config_defaults(struct ys_config *c)
{
    c->storage.kind = ys_xstrdup("sqlite");
    c->storage.path = ys_xstrdup("var/yardstick.db");
    c->storage.retention.raw_ms = INT64_C(7) * 86400000;
    c->storage.retention.minute_ms = INT64_C(35) * 86400000;
    c->storage.retention.hour_ms = INT64_C(400) * 86400000;
    c->storage.retention.day_ms = 0;
    c->defaults.interval_ms = 30000;
    c->defaults.timeout_ms = 10000;
    c->defaults.evaluation_interval_ms = 60000;
    c->defaults.timezone = ys_xstrdup("UTC");
    atomic_init(&c->refs, 1);
}

/* Checks the root's shape and its top-level keys; returns whether the
 * sections can be read. */
static bool check_root(const struct ys_node *root, struct ys_diag *d, size_t errors_before)
{
    if (!root) {
        if (d->n == errors_before)
            ys_diag_add(d, 1, 1,
                        "the configuration is empty (expected a mapping with storage, "
                        "defaults and checks)");
        return false;
    }
    if (root->type != YS_NODE_MAP) {
        ys_diag_add(d, 1, 1,
                    "the configuration must be a mapping with storage, defaults and checks, "
                    "not %s",
                    ys_node_type_name(root));
        return false;
    }
    ys_cfg_check_keys(root, top_keys, NULL, d);
    return true;
}

/* Builds the config from a tree (borrowed). Returns 0 and *out, or
 * YS_ECONFIG if any diagnostic was added since errors_before. */
static int config_from_tree(const struct ys_node *root, const char *path, struct ys_config **out,
                            struct ys_diag *d, size_t errors_before)
{
    if (!check_root(root, d, errors_before))
        return YS_ECONFIG;
    struct ys_config *c = ys_xcalloc(1, sizeof *c);
    config_defaults(c);
    c->path = ys_xstrdup(path);
    struct ys_tz *tz = &c->default_tz;
    ys_tz_utc(tz);
    const struct ys_node *title = ys_node_get(root, "title");
    if (title)
        ys_cfg_string(title, "title", &c->title, d);
    parse_storage(ys_node_get(root, "storage"), &c->storage, d);
    parse_defaults(ys_node_get(root, "defaults"), &c->defaults, tz, d);
    parse_checks(ys_node_get(root, "checks"), c, d);
    ys_model_parse_sources(ys_node_get(root, "sources"), c, d);
    ys_model_resolve_sources(ys_node_get(root, "checks"), c, d);
    ys_model_parse_notifiers(ys_node_get(root, "notifiers"), c, d);
    ys_model_parse_slos(ys_node_get(root, "slos"), c, d);
    ys_model_parse_goals(root, c, tz, d);
    ys_model_parse_server(ys_node_get(root, "server"), c, d);
    ys_model_parse_alerts(root, c, tz, d);
    ys_model_parse_remote_write(ys_node_get(root, "remote_write"), c, d);
    ys_model_parse_instance(ys_node_get(root, "instance"), c, d);
    if (d->n > errors_before) {
        config_free(c);
        return YS_ECONFIG;
    }
    *out = c;
    return 0;
}

int ys_config_load(const char *path, struct ys_config **out, struct ys_diag *diag)
{
    size_t before = diag->n;
    struct ys_node *root = ys_node_load_file(path, diag);
    int rc = config_from_tree(root, path, out, diag, before);
    ys_node_free(root);
    return rc;
}

int ys_config_load_string(const char *text, size_t len, struct ys_config **out,
                          struct ys_diag *diag)
{
    size_t before = diag->n;
    struct ys_node *root = ys_node_load_string(text, len, diag);
    int rc = config_from_tree(root, diag->file, out, diag, before);
    ys_node_free(root);
    return rc;
}

void ys_config_ref(struct ys_config *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
}

void ys_config_unref(struct ys_config *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        config_free(c);
}

struct ys_check *ys_config_find(const struct ys_config *c, const char *name)
{
    if (!c || !name)
        return NULL;
    if (!c->index) {
        for (size_t i = 0; i < c->n_checks; i++)
            if (c->checks[i].name && strcmp(c->checks[i].name, name) == 0)
                return &c->checks[i];
        return NULL;
    }
    size_t mask = c->index_cap - 1;
    for (size_t h = (size_t)ys_hash_str(YS_HASH_INIT, name) & mask;; h = (h + 1) & mask) {
        size_t slot = c->index[h];
        if (slot == 0)
            return NULL;
        if (strcmp(c->checks[slot - 1].name, name) == 0)
            return &c->checks[slot - 1];
    }
}

struct ys_slo *ys_config_find_slo(const struct ys_config *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_slos; i++)
        if (c->slos[i].name && strcmp(c->slos[i].name, name) == 0)
            return &c->slos[i];
    return NULL;
}

struct ys_goal *ys_config_find_goal(const struct ys_config *c, const char *id)
{
    for (size_t i = 0; c && id && i < c->n_goals; i++)
        if (c->goals[i].id && strcmp(c->goals[i].id, id) == 0)
            return &c->goals[i];
    return NULL;
}
