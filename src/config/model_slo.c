/*
 * model_slo.c - the slos: section of the configuration (model.h).
 *
 * An SLO names the checks it covers either as a list (`checks: [a, b]`) or
 * by a label selector (`selector: { area: networking }`), never both. The
 * members are resolved here, once, into indices of config->checks, so the
 * query layer never matches names or labels: a list's unknown names are
 * errors (with the nearest check name suggested), a selector that matches
 * nothing is an error, and a check listed twice counts once.
 *
 * Invariants of a parsed SLO: a unique valid name, 0 < objective < 1, at
 * least one member, a window, and for the latency indicator a threshold
 * > 0. Helpers shared with model_goal.c (check suggestions, selectors,
 * windows) live here too.
 *
 * Runs on the thread that loads the config.
 */
#include "config/model_int.h"

#include "config/read.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

static const char *const slo_keys[] = {
    "name", "checks", "selector", "objective", "window", "indicator", "description", NULL,
};

void ys_model_unknown_check(const struct ys_config *c, const struct ys_node *n, const char *name,
                            const char *where, struct ys_diag *d)
{
    const char **names = ys_xcalloc(c->n_checks + 1, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < c->n_checks; i++)
        if (c->checks[i].name)
            names[k++] = c->checks[i].name;
    const char *near = ys_cfg_nearest(name, names);
    ys_diag_add(d, n->line, n->col, "unknown check '%s' in %s%s%s%s", name, where,
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    free(names);
}

size_t ys_model_select(const struct ys_config *c, const struct ys_strmap *sel, size_t **out)
{
    size_t *v = ys_xcalloc(c->n_checks ? c->n_checks : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < c->n_checks; i++) {
        bool match = c->checks[i].name != NULL;
        for (size_t j = 0; match && j < sel->n; j++) {
            const char *have = ys_strmap_get(&c->checks[i].labels, sel->keys[j]);
            match = have && strcmp(have, sel->values[j]) == 0;
        }
        if (match)
            v[n++] = i;
    }
    *out = v;
    return n;
}

int ys_model_window(const struct ys_node *n, const char *what, struct ys_window *out,
                    struct ys_diag *d)
{
    char *s = NULL;
    if (!n || ys_cfg_string(n, what, &s, d) < 0)
        return n ? YS_ECONFIG : 0;
    int rc = ys_window_parse(s, out);
    if (rc < 0)
        ys_diag_add(d, n->line, n->col,
                    "%s: bad window '%s' (use a duration such as 30d or 4w, month or quarter)",
                    what, s);
    free(s);
    return rc < 0 ? YS_ECONFIG : 0;
}

/* "99.9%" or "99.9": a percentage strictly between 0 and 100, as a ratio. */
static void parse_objective(const struct ys_node *n, const char *where, double *out,
                            struct ys_diag *d)
{
    if (n->type != YS_NODE_SCALAR || n->is_null) {
        ys_diag_add(d, n->line, n->col, "objective in %s must be a percentage, not %s", where,
                    ys_node_type_name(n));
        return;
    }
    const char *s = n->scalar;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end == '%')
        end++;
    if (end == s || *end || errno || !isfinite(v) || !(v > 0 && v < 100)) {
        ys_diag_add(d, n->line, n->col,
                    "objective in %s must be a percentage above 0 and below 100, such as "
                    "99.9%%, not '%s'",
                    where, s);
        return;
    }
    *out = v / 100.0;
}

/* `availability` or `{ latency: 2s }`. */
static void parse_indicator(const struct ys_node *n, const char *where, struct ys_slo *slo,
                            struct ys_diag *d)
{
    static const char *const latency_keys[] = {"latency", NULL};
    if (n->type == YS_NODE_SCALAR && !n->is_null && strcmp(n->scalar, "availability") == 0) {
        slo->indicator = YS_SLI_AVAILABILITY;
        return;
    }
    if (n->type == YS_NODE_MAP) {
        const struct ys_node *lat = ys_node_get(n, "latency");
        ys_cfg_check_keys(n, latency_keys, where, d);
        if (!lat) {
            ys_cfg_missing(n, "latency", where, d);
            return;
        }
        char what[160];
        snprintf(what, sizeof what, "indicator latency in %s", where);
        if (ys_cfg_duration(lat, what, &slo->latency_threshold_ms, d) == 0)
            slo->indicator = YS_SLI_LATENCY;
        return;
    }
    if (n->type == YS_NODE_SCALAR && !n->is_null)
        ys_diag_add(d, n->line, n->col,
                    "indicator in %s must be availability or { latency: 2s }, not '%s'", where,
                    n->scalar);
    else
        ys_diag_add(d, n->line, n->col,
                    "indicator in %s must be availability or { latency: 2s }, not %s", where,
                    ys_node_type_name(n));
}

static void add_member(size_t *n_members, size_t *members, size_t idx)
{
    for (size_t i = 0; i < *n_members; i++)
        if (members[i] == idx)
            return;
    members[(*n_members)++] = idx;
}

/* Resolves checks: names into members. */
static void resolve_list(const struct ys_node *n, struct ys_config *c,
                         const struct ys_strlist *names, size_t *n_members, size_t **members,
                         const char *where, struct ys_diag *d)
{
    *members = ys_xcalloc(names->n ? names->n : 1, sizeof **members);
    for (size_t i = 0; i < names->n; i++) {
        const struct ys_node *at = n->type == YS_NODE_SEQ ? n->items[i] : n;
        struct ys_check *ck = ys_config_find(c, names->v[i]);
        if (ck)
            add_member(n_members, *members, (size_t)(ck - c->checks));
        else
            ys_model_unknown_check(c, at, names->v[i], where, d);
    }
    if (names->n == 0)
        ys_diag_add(d, n->line, n->col, "checks in %s must name at least one check", where);
}

void ys_model_members(const struct ys_node *n, struct ys_config *c, const char *where,
                      bool required, struct ys_strlist *names, struct ys_strmap *sel,
                      size_t *n_members, size_t **members, struct ys_diag *d)
{
    const struct ys_node *list = ys_node_get(n, "checks");
    const struct ys_node *seln = ys_node_get(n, "selector");
    char what[160];
    if (list && seln) {
        const struct ys_node_pair *p = ys_node_pair(n, "selector");
        ys_diag_add(d, p->line, p->col, "%s has both checks and selector: give one of them",
                    where);
        return;
    }
    if (!list && !seln) {
        if (required)
            ys_cfg_missing(n, "checks' or 'selector", where, d);
        return;
    }
    if (list) {
        snprintf(what, sizeof what, "checks in %s", where);
        if (ys_cfg_strlist(list, what, names, d) == 0)
            resolve_list(list, c, names, n_members, members, where, d);
        return;
    }
    snprintf(what, sizeof what, "selector in %s", where);
    if (ys_cfg_strmap(seln, what, sel, d) < 0)
        return;
    if (sel->n == 0) {
        ys_diag_add(d, seln->line, seln->col, "selector in %s must hold at least one label",
                    where);
        return;
    }
    *n_members = ys_model_select(c, sel, members);
    if (*n_members == 0)
        ys_diag_add(d, seln->line, seln->col, "selector in %s matches no check", where);
}

/* Reads name and reports duplicates; returns how messages name the SLO. */
static char *parse_slo_name(const struct ys_node *n, size_t i, struct ys_config *c,
                            struct ys_slo *slo, struct ys_diag *d)
{
    const struct ys_node *name = ys_node_get(n, "name");
    char path[48];
    snprintf(path, sizeof path, "slos[%zu]", i);
    if (!name) {
        ys_cfg_missing(n, "name", path, d);
        return ys_xstrdup(path);
    }
    if (ys_cfg_string(name, "slo name", &slo->name, d) < 0)
        return ys_xstrdup(path);
    if (!ys_model_valid_name(slo->name)) {
        ys_diag_add(d, name->line, name->col, "bad slo name '%s' (use 1-128 of A-Z a-z 0-9 . _ -)",
                    slo->name);
    }
    for (size_t j = 0; j < i; j++) {
        if (c->slos[j].name && strcmp(c->slos[j].name, slo->name) == 0) {
            ys_diag_add(d, name->line, name->col,
                        "duplicate slo name '%s' (first defined at %d:%d)", slo->name,
                        c->slos[j].line, c->slos[j].col);
            break;
        }
    }
    return ys_xasprintf("slo '%s'", slo->name);
}

static void parse_slo(const struct ys_node *n, size_t i, struct ys_config *c, struct ys_diag *d)
{
    struct ys_slo *slo = &c->slos[i];
    slo->line = n->line;
    slo->col = n->col;
    slo->window = (struct ys_window){YS_WINDOW_ROLLING, 30 * DAY_MS};
    slo->indicator = YS_SLI_AVAILABILITY;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "slos[%zu] must be a mapping, not %s", i,
                    ys_node_type_name(n));
        return;
    }
    char *where = parse_slo_name(n, i, c, slo, d);
    ys_cfg_check_keys(n, slo_keys, where, d);
    ys_model_members(n, c, where, true, &slo->check_names, &slo->selector, &slo->n_members,
                     &slo->members, d);
    const struct ys_node *obj = ys_node_get(n, "objective");
    if (!obj)
        ys_cfg_missing(n, "objective", where, d);
    else
        parse_objective(obj, where, &slo->objective, d);
    char what[160];
    snprintf(what, sizeof what, "window in %s", where);
    ys_model_window(ys_node_get(n, "window"), what, &slo->window, d);
    const struct ys_node *ind = ys_node_get(n, "indicator");
    if (ind)
        parse_indicator(ind, where, slo, d);
    char *desc = NULL;
    snprintf(what, sizeof what, "description in %s", where);
    ys_cfg_string(ys_node_get(n, "description"), what, &desc, d);
    free(desc);
    free(where);
}

void ys_model_parse_slos(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d)
{
    if (!seq || (seq->type == YS_NODE_SCALAR && seq->is_null))
        return;
    if (seq->type != YS_NODE_SEQ) {
        ys_diag_add(d, seq->line, seq->col, "slos must be a list of SLOs, not %s",
                    ys_node_type_name(seq));
        return;
    }
    c->slos = ys_xcalloc(seq->n ? seq->n : 1, sizeof *c->slos);
    c->n_slos = seq->n;
    for (size_t i = 0; i < seq->n; i++)
        parse_slo(seq->items[i], i, c, d);
}

void ys_model_free_slos(struct ys_config *c)
{
    for (size_t i = 0; i < c->n_slos; i++) {
        struct ys_slo *s = &c->slos[i];
        free(s->name);
        ys_strlist_free(&s->check_names);
        ys_strmap_free(&s->selector);
        free(s->members);
    }
    free(c->slos);
    c->slos = NULL;
    c->n_slos = 0;
}
