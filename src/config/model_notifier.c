/*
 * model_notifier.c - the notifiers: section of the configuration (model.h):
 * where alert notifications go.
 *
 *   notifiers:
 *     - name: ops-hook          # 1-63 of A-Z a-z 0-9 . _ -, unique
 *       kind: webhook           # webhook | slack | alertmanager | exec
 *       timeout: 10s            # one delivery attempt (default 10s)
 *       max_age: 24h            # retried until a notification is this old
 *       rate_limit: 20/1m       # at most 20 attempts a minute (default none)
 *       url: https://...        # the kind's own keys (src/notify/<kind>.c)
 *
 * The common keys are read here; the kind's keys by its parse function
 * from the notifier registry (src/notify/registry.c), which also lists
 * them for "did you mean". Every problem is reported at its position and
 * parsing goes on.
 *
 * Runs on the thread that loads the config.
 */
#include "config/model_int.h"

#include "config/read.h"
#include "core/duration.h"
#include "core/xalloc.h"
#include "notify/notify.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFIER_NAME_MAX 63 /* fits YS_NOTIFIER_NAME_MAX with its NUL */
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_AGE_MS (INT64_C(24) * 3600 * 1000)
#define MIN_TIMEOUT_MS 10

static const char *const common_keys[] = {"name", "kind", "timeout", "max_age", "rate_limit", NULL};

/* The common keys plus the kind's own, for unknown-key messages. */
static const char **allowed_keys(const struct ys_notifier_type *type)
{
    size_t nc = 0, nk = 0;
    while (common_keys[nc])
        nc++;
    while (type->keys && type->keys[nk])
        nk++;
    const char **v = ys_xcalloc(nc + nk + 1, sizeof *v);
    memcpy(v, common_keys, nc * sizeof *v);
    if (nk)
        memcpy(v + nc, type->keys, nk * sizeof *v);
    return v;
}

/* "20/1m", "5/s", "100/1h": a count and the window it applies to. */
static void parse_rate(const struct ys_node *n, const char *where, struct ys_notifier *nf,
                       struct ys_diag *d)
{
    if (!n)
        return;
    const char *s = n->type == YS_NODE_SCALAR && !n->is_null ? n->scalar : NULL;
    const char *slash = s ? strchr(s, '/') : NULL;
    long long count = 0;
    int64_t window = 0;
    if (slash && isdigit((unsigned char)s[0])) {
        char *end;
        errno = 0;
        count = strtoll(s, &end, 10);
        if (end != slash || errno)
            count = 0;
        char *dur = ys_xasprintf("%s%s", isdigit((unsigned char)slash[1]) ? "" : "1", slash + 1);
        if (ys_duration_parse(dur, &window) < 0)
            window = 0;
        free(dur);
    }
    if (count < 1 || count > 1000000 || window <= 0) {
        ys_diag_add(d, n->line, n->col,
                    "%s.rate_limit must be COUNT/DURATION such as 20/1m (1-1000000 per window), "
                    "not '%s'",
                    where, s ? s : ys_node_type_name(n));
        return;
    }
    nf->rate_limit = count;
    nf->rate_window_ms = window;
}

static void read_duration(const struct ys_node *n, const char *where, const char *key,
                          int64_t min_ms, int64_t *out, struct ys_diag *d)
{
    char what[96];
    snprintf(what, sizeof what, "%s.%s", where, key);
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

/* Reads name and kind; returns how messages should name the notifier. */
static char *parse_name_kind(const struct ys_node *n, size_t i, struct ys_notifier *nf,
                             struct ys_diag *d)
{
    char path[48];
    snprintf(path, sizeof path, "notifiers[%zu]", i);
    const struct ys_node *name = ys_node_get(n, "name");
    if (!name) {
        ys_cfg_missing(n, "name", path, d);
    } else if (ys_cfg_string(name, "name", &nf->name, d) == 0 &&
               (!ys_model_valid_name(nf->name) || strlen(nf->name) > NOTIFIER_NAME_MAX)) {
        ys_diag_add(d, name->line, name->col,
                    "bad notifier name '%s' (use 1-%d of A-Z a-z 0-9 . _ -)", nf->name,
                    NOTIFIER_NAME_MAX);
        free(nf->name);
        nf->name = NULL;
    }
    char *where = nf->name ? ys_xasprintf("notifier '%s'", nf->name) : ys_xstrdup(path);
    const struct ys_node *kind = ys_node_get(n, "kind");
    char *k = NULL;
    if (!kind) {
        ys_cfg_missing(n, "kind", where, d);
    } else if (ys_cfg_string(kind, "kind", &k, d) == 0) {
        nf->type = ys_notifier_type_find(k);
        if (!nf->type) {
            const char *near = ys_cfg_nearest(k, ys_notifier_type_names());
            if (near)
                ys_diag_add(d, kind->line, kind->col,
                            "unknown notifier kind '%s' in %s (did you mean '%s'?)", k, where,
                            near);
            else
                ys_diag_add(d, kind->line, kind->col,
                            "unknown notifier kind '%s' in %s (use webhook, slack, alertmanager "
                            "or exec)",
                            k, where);
        }
        free(k);
    }
    return where;
}

static void parse_notifier(const struct ys_node *n, size_t i, struct ys_notifier *nf,
                           struct ys_diag *d)
{
    nf->line = n->line;
    nf->col = n->col;
    nf->timeout_ms = DEFAULT_TIMEOUT_MS;
    nf->max_age_ms = DEFAULT_MAX_AGE_MS;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "notifiers[%zu] must be a mapping, not %s", i,
                    ys_node_type_name(n));
        return;
    }
    char *where = parse_name_kind(n, i, nf, d);
    char path[48];
    snprintf(path, sizeof path, "notifiers[%zu]", i);
    read_duration(ys_node_get(n, "timeout"), path, "timeout", MIN_TIMEOUT_MS, &nf->timeout_ms, d);
    read_duration(ys_node_get(n, "max_age"), path, "max_age", 1000, &nf->max_age_ms, d);
    parse_rate(ys_node_get(n, "rate_limit"), path, nf, d);
    if (nf->type) {
        /* Without a known kind its keys are unknown too; checking only
         * the common ones would flag every kind field as a typo. */
        const char **allowed = allowed_keys(nf->type);
        ys_cfg_check_keys(n, allowed, where, d);
        free(allowed);
        nf->type->parse(n, &nf->spec, d);
    }
    free(where);
}

void ys_model_parse_notifiers(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d)
{
    if (!seq || (seq->type == YS_NODE_SCALAR && seq->is_null))
        return;
    if (seq->type != YS_NODE_SEQ) {
        ys_diag_add(d, seq->line, seq->col, "notifiers must be a list of notifiers, not %s",
                    ys_node_type_name(seq));
        return;
    }
    c->notifiers = ys_xcalloc(seq->n ? seq->n : 1, sizeof *c->notifiers);
    c->n_notifiers = seq->n;
    for (size_t i = 0; i < seq->n; i++) {
        struct ys_notifier *nf = &c->notifiers[i];
        parse_notifier(seq->items[i], i, nf, d);
        for (size_t j = 0; nf->name && j < i; j++) {
            if (!c->notifiers[j].name || strcmp(c->notifiers[j].name, nf->name) != 0)
                continue;
            const struct ys_node *at = ys_node_get(seq->items[i], "name");
            const struct ys_node *first = ys_node_get(seq->items[j], "name");
            ys_diag_add(d, at->line, at->col,
                        "duplicate notifier name '%s' (first defined at %d:%d)", nf->name,
                        first->line, first->col);
            break;
        }
    }
}

void ys_model_free_notifiers(struct ys_config *c)
{
    for (size_t i = 0; i < c->n_notifiers; i++) {
        struct ys_notifier *nf = &c->notifiers[i];
        if (nf->spec && nf->type && nf->type->free_spec)
            nf->type->free_spec(nf->spec);
        free(nf->name);
    }
    free(c->notifiers);
    c->notifiers = NULL;
    c->n_notifiers = 0;
}

const struct ys_notifier *ys_model_find_notifier(const struct ys_config *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_notifiers; i++)
        if (c->notifiers[i].name && strcmp(c->notifiers[i].name, name) == 0)
            return &c->notifiers[i];
    return NULL;
}
