/*
 * model_alert.c - the alerts: and maintenance: sections of the
 * configuration (model.h).
 *
 * An alert rule says when to alert (`when:` one of the rule kinds) about
 * which checks, SLOs or goals, with which labels, and whom to notify. Its
 * subjects are resolved here into indices, like an SLO's members, so the
 * evaluator on the loop never matches names or labels. A rule with neither
 * checks nor selector covers every check its kind applies to.
 *
 * A maintenance window is a one-off [start, end) or a recurring cron +
 * duration, in a time zone; during it matching checks notify nobody, and
 * with exclude_from_slo their results do not count for SLOs.
 *
 * Runs on the thread that loads the config.
 */
#include "config/model_int.h"

#include "config/read.h"
#include "core/civil.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "slo/heartbeat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

static const char *const rule_keys[] = {
    "name", "when", "checks", "selector", "slos", "goals", "days", "problems", "due_within",
    "severity", "labels", "annotations", "notify", "repeat_interval", NULL,
};

static const char *const maint_keys[] = {
    "name", "checks", "selector", "start", "end", "cron", "duration", "tz", "exclude_from_slo",
    NULL,
};

static const char *const kind_names[] = {
    "check_down", "cert_expiry", "heartbeat", "slo_burn", "goal_status", "milestone_due", NULL,
};

static const char *const problem_names[] = {"", "missed", "failed", "too_long", "too_short", NULL};

/* Reads the name of list item n and reports a bad or duplicate one. *name
 * is set (or stays NULL); returns how messages name the item. */
static char *parse_item_name(const struct ys_node *n, const char *section, size_t i,
                             char **name, const char *(*name_of)(const struct ys_config *, size_t),
                             const struct ys_config *c, struct ys_diag *d)
{
    char path[64];
    snprintf(path, sizeof path, "%s[%zu]", section, i);
    const struct ys_node *nn = ys_node_get(n, "name");
    if (!nn) {
        ys_cfg_missing(n, "name", path, d);
        return ys_xstrdup(path);
    }
    if (ys_cfg_string(nn, "name", name, d) < 0)
        return ys_xstrdup(path);
    if (!ys_model_valid_name(*name))
        ys_diag_add(d, nn->line, nn->col, "bad name '%s' in %s (use 1-128 of A-Z a-z 0-9 . _ -)",
                    *name, section);
    for (size_t j = 0; j < i; j++) {
        const char *other = name_of(c, j);
        if (other && strcmp(other, *name) == 0) {
            ys_diag_add(d, nn->line, nn->col, "duplicate name '%s' in %s", *name, section);
            break;
        }
    }
    return ys_xasprintf("%s '%s'", strcmp(section, "alerts") == 0 ? "alert" : "maintenance window",
                        *name);
}

static const char *rule_name_at(const struct ys_config *c, size_t i)
{
    return c->alerts[i].name;
}

static const char *maint_name_at(const struct ys_config *c, size_t i)
{
    return c->maintenance[i].name;
}

/* Finds name in a NULL-terminated list; reports it with a suggestion when
 * absent. Returns its index or -1. */
static int pick(const struct ys_node *n, const char *what, const char *const *names,
                struct ys_diag *d)
{
    char *s = NULL;
    if (ys_cfg_string(n, what, &s, d) < 0)
        return -1;
    for (int i = 0; names[i]; i++) {
        if (names[i][0] && strcmp(names[i], s) == 0) {
            free(s);
            return i;
        }
    }
    const char *near = ys_cfg_nearest(s, names);
    ys_diag_add(d, n->line, n->col, "%s: unknown value '%s'%s%s%s", what, s,
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    free(s);
    return -1;
}

static void parse_days(const struct ys_node *n, const char *where, struct ys_alert_rule *r,
                       struct ys_diag *d)
{
    static const int64_t defaults[] = {30, 14, 7};
    if (!n) {
        memcpy(r->days, defaults, sizeof defaults);
        r->n_days = 3;
        return;
    }
    if (n->type != YS_NODE_SEQ || n->n == 0 || n->n > YS_ALERT_MAX_DAYS) {
        ys_diag_add(d, n->line, n->col, "days in %s must be a list of 1 to %d day counts",
                    where, YS_ALERT_MAX_DAYS);
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        int64_t v;
        if (ys_cfg_int(n->items[i], "days", 0, 3650, &v, d) < 0)
            return;
        r->days[r->n_days++] = v;
    }
    /* descending, so the evaluator finds the lowest threshold crossed */
    for (size_t i = 1; i < r->n_days; i++)
        for (size_t j = i; j > 0 && r->days[j] > r->days[j - 1]; j--) {
            int64_t t = r->days[j];
            r->days[j] = r->days[j - 1];
            r->days[j - 1] = t;
        }
}

static void parse_problems(const struct ys_node *n, struct ys_alert_rule *r, struct ys_diag *d)
{
    if (!n) {
        r->heartbeat_problems = (1u << YS_HBP_MISSED) | (1u << YS_HBP_FAILED) |
                                (1u << YS_HBP_TOO_LONG) | (1u << YS_HBP_TOO_SHORT);
        return;
    }
    if (n->type != YS_NODE_SEQ || n->n == 0) {
        ys_diag_add(d, n->line, n->col,
                    "problems must be a list of missed, failed, too_long, too_short");
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        int k = pick(n->items[i], "problems", problem_names, d);
        if (k > 0)
            r->heartbeat_problems |= 1u << k;
    }
}

/* Resolves names of list n against the SLOs. */
static void resolve_slos(const struct ys_node *n, struct ys_config *c, struct ys_alert_rule *r,
                         const char *where, struct ys_diag *d)
{
    char what[160];
    snprintf(what, sizeof what, "slos in %s", where);
    if (!n || ys_cfg_strlist(n, what, &r->slo_names, d) < 0)
        return;
    r->slos = ys_xcalloc(r->slo_names.n ? r->slo_names.n : 1, sizeof *r->slos);
    for (size_t i = 0; i < r->slo_names.n; i++) {
        struct ys_slo *slo = ys_config_find_slo(c, r->slo_names.v[i]);
        const struct ys_node *at = n->type == YS_NODE_SEQ ? n->items[i] : n;
        if (slo)
            r->slos[r->n_slos++] = (size_t)(slo - c->slos);
        else
            ys_diag_add(d, at->line, at->col, "unknown slo '%s' in %s", r->slo_names.v[i], where);
    }
}

static void resolve_goals(const struct ys_node *n, struct ys_config *c, struct ys_alert_rule *r,
                          const char *where, struct ys_diag *d)
{
    char what[160];
    snprintf(what, sizeof what, "goals in %s", where);
    if (!n || ys_cfg_strlist(n, what, &r->goal_ids, d) < 0)
        return;
    for (size_t i = 0; i < r->goal_ids.n; i++) {
        const struct ys_node *at = n->type == YS_NODE_SEQ ? n->items[i] : n;
        if (!ys_config_find_goal(c, r->goal_ids.v[i]))
            ys_diag_add(d, at->line, at->col, "unknown goal '%s' in %s", r->goal_ids.v[i], where);
    }
}

static void resolve_notifiers(const struct ys_node *n, struct ys_config *c,
                              struct ys_alert_rule *r, const char *where, struct ys_diag *d)
{
    char what[160];
    snprintf(what, sizeof what, "notify in %s", where);
    if (!n || ys_cfg_strlist(n, what, &r->notify, d) < 0)
        return;
    r->notifiers = ys_xcalloc(r->notify.n ? r->notify.n : 1, sizeof *r->notifiers);
    const char **names = ys_xcalloc(c->n_notifiers + 1, sizeof *names);
    for (size_t j = 0; j < c->n_notifiers; j++)
        names[j] = c->notifiers[j].name ? c->notifiers[j].name : "";
    for (size_t i = 0; i < r->notify.n; i++) {
        const struct ys_node *at = n->type == YS_NODE_SEQ ? n->items[i] : n;
        size_t j = 0;
        while (j < c->n_notifiers && strcmp(names[j], r->notify.v[i]) != 0)
            j++;
        if (j < c->n_notifiers) {
            r->notifiers[i] = j;
            continue;
        }
        const char *near = ys_cfg_nearest(r->notify.v[i], names);
        ys_diag_add(d, at->line, at->col, "unknown notifier '%s' in %s%s%s%s", r->notify.v[i],
                    where, near ? " (did you mean '" : "", near ? near : "",
                    near ? "'?)" : "");
    }
    free(names);
}

static void parse_rule_subjects(const struct ys_node *n, struct ys_config *c,
                                struct ys_alert_rule *r, const char *where, struct ys_diag *d)
{
    bool on_checks = r->kind == YS_ALERT_CHECK_DOWN || r->kind == YS_ALERT_CERT_EXPIRY ||
                     r->kind == YS_ALERT_HEARTBEAT;
    static const struct {
        const char *key;
        enum ys_alert_kind kind;
    } only[] = {{"days", YS_ALERT_CERT_EXPIRY},   {"problems", YS_ALERT_HEARTBEAT},
                {"slos", YS_ALERT_SLO_BURN},      {"due_within", YS_ALERT_MILESTONE_DUE}};
    for (size_t i = 0; i < sizeof only / sizeof only[0]; i++) {
        const struct ys_node_pair *p = ys_node_pair(n, only[i].key);
        if (p && r->kind != only[i].kind)
            ys_diag_add(d, p->line, p->col, "%s in %s applies only to when: %s", only[i].key,
                        where, kind_names[only[i].kind]);
    }
    const struct ys_node_pair *g = ys_node_pair(n, "goals");
    if (g && r->kind != YS_ALERT_GOAL_STATUS && r->kind != YS_ALERT_MILESTONE_DUE)
        ys_diag_add(d, g->line, g->col, "goals in %s applies only to when: goal_status or "
                    "milestone_due", where);
    if (on_checks) {
        ys_model_members(n, c, where, false, &r->check_names, &r->selector, &r->n_members,
                         &r->members, d);
    } else {
        const struct ys_node_pair *p = ys_node_pair(n, "checks");
        if (!p)
            p = ys_node_pair(n, "selector");
        if (p)
            ys_diag_add(d, p->line, p->col, "%s in %s applies only to check rules", p->key,
                        where);
    }
    if (r->kind == YS_ALERT_CERT_EXPIRY)
        parse_days(ys_node_get(n, "days"), where, r, d);
    if (r->kind == YS_ALERT_HEARTBEAT)
        parse_problems(ys_node_get(n, "problems"), r, d);
    resolve_slos(ys_node_get(n, "slos"), c, r, where, d);
    resolve_goals(ys_node_get(n, "goals"), c, r, where, d);
    const struct ys_node *due = ys_node_get(n, "due_within");
    if (due)
        ys_cfg_duration(due, "due_within", &r->due_within_ms, d);
}

static void parse_rule(const struct ys_node *n, size_t i, struct ys_config *c, struct ys_diag *d)
{
    struct ys_alert_rule *r = &c->alerts[i];
    r->line = n->line;
    r->col = n->col;
    r->repeat_interval_ms = 4 * 3600 * INT64_C(1000);
    r->due_within_ms = 14 * DAY_MS;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "alerts[%zu] must be a mapping, not %s", i,
                    ys_node_type_name(n));
        return;
    }
    char *where = parse_item_name(n, "alerts", i, &r->name, rule_name_at, c, d);
    ys_cfg_check_keys(n, rule_keys, where, d);
    const struct ys_node *when = ys_node_get(n, "when");
    int k = when ? pick(when, "when", kind_names, d) : -1;
    if (!when)
        ys_cfg_missing(n, "when", where, d);
    if (k >= 0) {
        r->kind = (enum ys_alert_kind)k;
        parse_rule_subjects(n, c, r, where, d);
    }
    ys_cfg_string(ys_node_get(n, "severity"), "severity", &r->severity, d);
    if (!r->severity)
        r->severity = ys_xstrdup("warning");
    ys_cfg_strmap(ys_node_get(n, "labels"), "labels", &r->labels, d);
    ys_cfg_strmap(ys_node_get(n, "annotations"), "annotations", &r->annotations, d);
    resolve_notifiers(ys_node_get(n, "notify"), c, r, where, d);
    const struct ys_node *rep = ys_node_get(n, "repeat_interval");
    if (rep && rep->type == YS_NODE_SCALAR && !rep->is_null &&
        (strcmp(rep->scalar, "0") == 0 || strcmp(rep->scalar, "never") == 0))
        r->repeat_interval_ms = 0;
    else if (rep)
        ys_cfg_duration(rep, "repeat_interval", &r->repeat_interval_ms, d);
    free(where);
}

/* "2026-12-01 02:00", "2026-12-01T02:00:30" (local in tz) or with a
 * trailing Z (UTC). Returns 0 or YS_EINVAL. */
static int parse_local_time(const char *s, const struct ys_tz *tz, int64_t *out_ms)
{
    int y, mo, dd, hh, mi, ss = 0, used = 0;
    char sep;
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &dd, &sep, &hh, &mi, &used) != 6 ||
        (sep != ' ' && sep != 'T'))
        return YS_EINVAL;
    const char *rest = s + used;
    if (*rest == ':' && sscanf(rest, ":%2d%n", &ss, &used) == 1)
        rest += used;
    bool utc = *rest == 'Z';
    if (utc)
        rest++;
    if (*rest || mo < 1 || mo > 12 || dd < 1 || dd > ys_days_in_month(y, mo) || hh > 23 ||
        mi > 59 || ss > 59 || hh < 0 || mi < 0 || ss < 0)
        return YS_EINVAL;
    if (utc)
        *out_ms = (ys_days_from_civil(y, mo, dd) * 86400 + hh * 3600 + mi * 60 + ss) * 1000;
    else
        *out_ms = ys_tz_local_to_utc(tz, y, mo, dd, hh, mi, ss) * 1000;
    return 0;
}

static void read_time(const struct ys_node *n, const char *what, const struct ys_tz *tz,
                      int64_t *out, struct ys_diag *d)
{
    char *s = NULL;
    if (ys_cfg_string(n, what, &s, d) < 0)
        return;
    if (parse_local_time(s, tz, out) < 0)
        ys_diag_add(d, n->line, n->col,
                    "%s: bad time '%s' (use YYYY-MM-DD HH:MM in the window's tz, or end "
                    "with Z for UTC)", what, s);
    free(s);
}

/* The window's zone: its own tz:, else the default one, loaded again so
 * the window owns its copy. */
static void load_zone(const struct ys_node *n, const struct ys_config *c, struct ys_tz *tz,
                      struct ys_diag *d)
{
    char *name = NULL;
    struct ys_err err = {{0}};
    if (n && ys_cfg_string(n, "tz", &name, d) < 0)
        return;
    const char *want = name ? name : c->defaults.timezone;
    if (!want || strcmp(want, "UTC") == 0)
        ys_tz_utc(tz);
    else if (ys_tz_load(want, NULL, tz, &err) < 0) {
        ys_tz_utc(tz);
        if (n)
            ys_diag_add(d, n->line, n->col, "tz: unknown time zone '%s' (%s)", want, err.msg);
    }
    free(name);
}

static void parse_window(const struct ys_node *n, struct ys_maintenance *m, const char *where,
                         struct ys_diag *d)
{
    const struct ys_node *start = ys_node_get(n, "start"), *end = ys_node_get(n, "end");
    const struct ys_node *cron = ys_node_get(n, "cron"), *dur = ys_node_get(n, "duration");
    m->window.tz = &m->tz;
    m->window.cron = &m->cron;
    if (cron) {
        char *expr = NULL;
        struct ys_err err = {{0}};
        m->window.recurring = true;
        if (start || end)
            ys_diag_add(d, cron->line, cron->col, "%s has both cron and start/end: give one",
                        where);
        if (ys_cfg_string(cron, "cron", &expr, d) == 0 && ys_cron_parse(expr, &m->cron, &err) < 0)
            ys_diag_add(d, cron->line, cron->col, "cron in %s: %s", where, err.msg);
        free(expr);
        if (!dur)
            ys_cfg_missing(n, "duration", where, d);
        else if (ys_cfg_duration(dur, "duration", &m->window.duration_ms, d) == 0 &&
                 m->window.duration_ms <= 0)
            ys_diag_add(d, dur->line, dur->col, "duration in %s must be above 0", where);
        return;
    }
    if (!start || !end) {
        ys_cfg_missing(n, start ? "end" : "start' or 'cron", where, d);
        return;
    }
    read_time(start, "start", &m->tz, &m->window.start_ms, d);
    read_time(end, "end", &m->tz, &m->window.end_ms, d);
    if (m->window.end_ms <= m->window.start_ms)
        ys_diag_add(d, end->line, end->col, "end in %s must come after start", where);
}

static void parse_maintenance(const struct ys_node *n, size_t i, struct ys_config *c,
                              struct ys_diag *d)
{
    struct ys_maintenance *m = &c->maintenance[i];
    m->line = n->line;
    m->col = n->col;
    ys_tz_utc(&m->tz);
    m->window.tz = &m->tz;
    m->window.cron = &m->cron;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "maintenance[%zu] must be a mapping, not %s", i,
                    ys_node_type_name(n));
        return;
    }
    char *where = parse_item_name(n, "maintenance", i, &m->name, maint_name_at, c, d);
    ys_cfg_check_keys(n, maint_keys, where, d);
    ys_model_members(n, c, where, false, &m->check_names, &m->selector, &m->n_members,
                     &m->members, d);
    ys_tz_free(&m->tz);
    load_zone(ys_node_get(n, "tz"), c, &m->tz, d);
    parse_window(n, m, where, d);
    ys_cfg_bool(ys_node_get(n, "exclude_from_slo"), "exclude_from_slo", &m->exclude_from_slo, d);
    free(where);
}

/* A list section: NULL or null is empty; anything else but a list is an
 * error. Returns the list's length and allocates *out. */
static size_t section(const struct ys_node *seq, const char *name, size_t size, void **out,
                      struct ys_diag *d)
{
    if (!seq || (seq->type == YS_NODE_SCALAR && seq->is_null))
        return 0;
    if (seq->type != YS_NODE_SEQ) {
        ys_diag_add(d, seq->line, seq->col, "%s must be a list, not %s", name,
                    ys_node_type_name(seq));
        return 0;
    }
    *out = ys_xcalloc(seq->n ? seq->n : 1, size);
    return seq->n;
}

void ys_model_parse_alerts(const struct ys_node *root, struct ys_config *c,
                           const struct ys_tz *tz, struct ys_diag *d)
{
    (void)tz; /* windows load their own copy of the zone by name */
    const struct ys_node *alerts = ys_node_get(root, "alerts");
    const struct ys_node *maint = ys_node_get(root, "maintenance");
    void *p = NULL;
    c->n_alerts = section(alerts, "alerts", sizeof *c->alerts, &p, d);
    c->alerts = p;
    for (size_t i = 0; i < c->n_alerts; i++)
        parse_rule(alerts->items[i], i, c, d);
    p = NULL;
    c->n_maintenance = section(maint, "maintenance", sizeof *c->maintenance, &p, d);
    c->maintenance = p;
    for (size_t i = 0; i < c->n_maintenance; i++)
        parse_maintenance(maint->items[i], i, c, d);
}

void ys_model_free_alerts(struct ys_config *c)
{
    for (size_t i = 0; i < c->n_alerts; i++) {
        struct ys_alert_rule *r = &c->alerts[i];
        free(r->name);
        ys_strlist_free(&r->check_names);
        ys_strmap_free(&r->selector);
        free(r->members);
        ys_strlist_free(&r->slo_names);
        free(r->slos);
        ys_strlist_free(&r->goal_ids);
        free(r->severity);
        ys_strmap_free(&r->labels);
        ys_strmap_free(&r->annotations);
        ys_strlist_free(&r->notify);
        free(r->notifiers);
    }
    free(c->alerts);
    c->alerts = NULL;
    c->n_alerts = 0;
    for (size_t i = 0; i < c->n_maintenance; i++) {
        struct ys_maintenance *m = &c->maintenance[i];
        free(m->name);
        ys_strlist_free(&m->check_names);
        ys_strmap_free(&m->selector);
        free(m->members);
        ys_tz_free(&m->tz);
    }
    free(c->maintenance);
    c->maintenance = NULL;
    c->n_maintenance = 0;
}
