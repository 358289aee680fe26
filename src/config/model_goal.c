/*
 * model_goal.c - the goals:, milestones: and actions: sections of the
 * configuration (model.h).
 *
 * A goal binds a typed target (slo/target.h) to a measure: manual values,
 * an SLO's SLI, a statistic of one check, a statistic over the checks a
 * label selector matches, or a PromQL query over the goal's window on one
 * or more prometheus sources, merged (query/goal_promql.c). References
 * are resolved here into indices (measure.ref_index, measure.sources,
 * milestone goals), so an unknown name is a config error with the nearest
 * known name suggested, and the query layer never looks names up.
 *
 * Due dates are whole days: a goal due 2025-09-30 is due at the end of
 * that day, the next local midnight in defaults.timezone, so work done on
 * the due day still counts.
 *
 * Invariants of a parsed goal: a unique id of [a-z0-9._-], a title, a
 * parsed target, priority -1 or 0..3, due_ms 0 or a valid instant, and a
 * measure whose references are valid indices. Milestones refer to goals
 * by resolved index; actions are plain text.
 *
 * Runs on the thread that loads the config.
 */
#include "config/model_int.h"

#include "config/read.h"
#include "core/civil.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)
#define GOAL_ID_MAX 128

static const char *const goal_keys[] = {
    "id", "title", "area", "priority", "baseline", "target", "due", "measure", "description",
    NULL,
};
static const char *const measure_keys[] = {
    "slo", "check", "selector", "promql", "source", "sources", "merge", "stat", "window", NULL,
};
static const char *const merge_names[] = {"min", "max", "avg", "weighted", NULL};
static const char *const milestone_keys[] = {"title", "due", "goals", NULL};
static const char *const action_keys[] = {"area", "title", "done", NULL};

struct stat_name {
    const char *name;
    enum ys_measure_stat stat;
};

static const struct stat_name check_stats[] = {
    {"availability", YS_STAT_AVAILABILITY}, {"p50", YS_STAT_P50},
    {"p90", YS_STAT_P90},                   {"p95", YS_STAT_P95},
    {"p99", YS_STAT_P99},                   {"last_value", YS_STAT_LAST_VALUE},
    {"cert_days_left", YS_STAT_CERT_DAYS_LEFT}, {"mttr", YS_STAT_MTTR},
    {"longest_outage", YS_STAT_LONGEST_OUTAGE}, {"incidents", YS_STAT_INCIDENTS},
    {"downtime", YS_STAT_DOWNTIME},         {"freshness", YS_STAT_FRESHNESS},
    {"cold_p50", YS_STAT_COLD_P50},         {"cold_p95", YS_STAT_COLD_P95},
    {"warm_p50", YS_STAT_WARM_P50},         {"warm_p95", YS_STAT_WARM_P95},
    {NULL, 0},
};
static const char *const check_stat_names[] = {
    "availability", "p50",  "p90",       "p95",       "p99",      "last_value",
    "cert_days_left", "mttr", "longest_outage", "incidents", "downtime", "freshness",
    "cold_p50", "cold_p95", "warm_p50", "warm_p95", NULL,
};
static const struct stat_name selector_stats[] = {
    {"pass_share", YS_STAT_PASS_SHARE}, {"availability", YS_STAT_AVAILABILITY}, {NULL, 0},
};
static const char *const selector_stat_names[] = {"pass_share", "availability", NULL};

/* Strict YYYY-MM-DD with a real calendar date. */
static bool parse_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    return *y >= 1970 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= ys_days_in_month(*y, *m);
}

/* Reads a due date: the text, and the next local midnight in tz. */
static void parse_due(const struct ys_node *n, const char *where, const struct ys_tz *tz,
                      char **text, int64_t *due_ms, struct ys_diag *d)
{
    char what[160];
    snprintf(what, sizeof what, "due in %s", where);
    char *s = NULL;
    if (!n || ys_cfg_string(n, what, &s, d) < 0)
        return;
    int y, m, day;
    if (!parse_date(s, &y, &m, &day)) {
        ys_diag_add(d, n->line, n->col, "%s: bad date '%s' (use YYYY-MM-DD, such as 2025-09-30)",
                    what, s);
        free(s);
        return;
    }
    int64_t next_y;
    ys_civil_from_days(ys_days_from_civil(y, m, day) + 1, &next_y, &m, &day);
    *due_ms = ys_tz_local_to_utc(tz, (int)next_y, m, day, 0, 0, 0) * 1000;
    *text = s;
}

static bool valid_goal_id(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > GOAL_ID_MAX)
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '.' &&
            *s != '_' && *s != '-')
            return false;
    return true;
}

/* Reads a stat name from table; names lists them for suggestions. */
static void parse_stat(const struct ys_node *n, const char *where, const struct stat_name *table,
                       const char *const *names, enum ys_measure_stat *out, struct ys_diag *d)
{
    char *s = NULL;
    if (!n || ys_cfg_string(n, "measure.stat", &s, d) < 0)
        return;
    for (size_t i = 0; table[i].name; i++) {
        if (strcmp(table[i].name, s) == 0) {
            *out = table[i].stat;
            free(s);
            return;
        }
    }
    const char *near = ys_cfg_nearest(s, names);
    ys_diag_add(d, n->line, n->col, "unknown stat '%s' in %s%s%s%s", s, where,
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    free(s);
}

static void measure_slo(const struct ys_node *v, struct ys_config *c, struct ys_measure *ms,
                        const char *where, struct ys_diag *d)
{
    ms->kind = YS_MEASURE_SLO;
    ms->stat = YS_STAT_SLI;
    if (ys_cfg_string(v, "measure.slo", &ms->ref, d) < 0)
        return;
    struct ys_slo *slo = ys_config_find_slo(c, ms->ref);
    if (slo) {
        ms->ref_index = (size_t)(slo - c->slos);
        ms->window = slo->window;
        return;
    }
    const char **names = ys_xcalloc(c->n_slos + 1, sizeof *names);
    for (size_t i = 0, k = 0; i < c->n_slos; i++)
        if (c->slos[i].name)
            names[k++] = c->slos[i].name;
    const char *near = ys_cfg_nearest(ms->ref, names);
    ys_diag_add(d, v->line, v->col, "unknown slo '%s' in %s%s%s%s", ms->ref, where,
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    free(names);
}

static void measure_check(const struct ys_node *v, struct ys_config *c, struct ys_measure *ms,
                          const char *where, struct ys_diag *d)
{
    ms->kind = YS_MEASURE_CHECK;
    ms->stat = YS_STAT_AVAILABILITY;
    if (ys_cfg_string(v, "measure.check", &ms->ref, d) < 0)
        return;
    struct ys_check *ck = ys_config_find(c, ms->ref);
    if (ck)
        ms->ref_index = (size_t)(ck - c->checks);
    else
        ys_model_unknown_check(c, v, ms->ref, where, d);
}

static void measure_selector(const struct ys_node *v, struct ys_config *c, struct ys_measure *ms,
                             const char *where, struct ys_diag *d)
{
    ms->kind = YS_MEASURE_SELECTOR;
    ms->stat = YS_STAT_PASS_SHARE;
    if (ys_cfg_strmap(v, "measure.selector", &ms->selector, d) < 0)
        return;
    size_t *members = NULL;
    size_t n = ms->selector.n ? ys_model_select(c, &ms->selector, &members) : 0;
    free(members);
    if (n == 0)
        ys_diag_add(d, v->line, v->col, "measure.selector in %s matches no check", where);
}

/* source, sources and merge belong to promql measures: reports them on
 * another kind. */
static void promql_only_keys(const struct ys_node *n, const char *src, const char *where,
                             struct ys_diag *d)
{
    static const char *const keys[] = {"source", "sources", "merge"};
    for (size_t i = 0; i < 3; i++) {
        const struct ys_node_pair *p = ys_node_pair(n, keys[i]);
        if (p)
            ys_diag_add(d, p->line, p->col,
                        "measure in %s: %s applies to promql measures, not %s", where, keys[i],
                        src);
    }
}

/* Resolves one source name into out; reports an unknown name with the
 * nearest prometheus source, and a source of another kind. */
static bool resolve_source(const struct ys_node *v, const char *name, const struct ys_config *c,
                           const char *where, size_t *out, struct ys_diag *d)
{
    const char **names = ys_xcalloc(c->n_sources + 1, sizeof *names);
    size_t k = 0;
    for (size_t j = 0; j < c->n_sources; j++) {
        const struct ys_source *s = &c->sources[j];
        if (!s->name)
            continue;
        if (strcmp(s->name, name) == 0) {
            free(names);
            if (s->kind != YS_SOURCE_PROMETHEUS) {
                ys_diag_add(d, v->line, v->col,
                            "source '%s' of the promql measure in %s is not a prometheus source",
                            name, where);
                return false;
            }
            *out = j;
            return true;
        }
        if (s->kind == YS_SOURCE_PROMETHEUS)
            names[k++] = s->name;
    }
    const char *near = ys_cfg_nearest(name, names);
    ys_diag_add(d, v->line, v->col, "unknown source '%s' in the promql measure of %s%s%s%s", name,
                where, near ? " (did you mean '" : " (define it under sources:", near ? near : "",
                near ? "'?)" : ")");
    free(names);
    return false;
}

/* source: NAME or sources: [A, B]; neither: every prometheus source. */
static void promql_sources(const struct ys_node *n, const struct ys_config *c,
                           struct ys_measure *ms, const char *where, struct ys_diag *d)
{
    const struct ys_node *one = ys_node_get(n, "source"), *many = ys_node_get(n, "sources");
    struct ys_strlist names = {0};
    if (one && many) {
        ys_diag_add(d, many->line, many->col,
                    "measure in %s has both source and sources: give one", where);
        return;
    }
    if (one || many) {
        const struct ys_node *at = one ? one : many;
        if (ys_cfg_strlist(at, one ? "measure.source" : "measure.sources", &names, d) < 0)
            return;
        if (names.n == 0)
            ys_diag_add(d, at->line, at->col, "measure.sources in %s is empty", where);
        ms->sources = ys_xcalloc(names.n ? names.n : 1, sizeof *ms->sources);
        for (size_t i = 0; i < names.n; i++) {
            const struct ys_node *v = at->type == YS_NODE_SEQ ? at->items[i] : at;
            if (resolve_source(v, names.v[i], c, where, &ms->sources[ms->n_sources], d))
                ms->n_sources++;
        }
        ys_strlist_free(&names);
        return;
    }
    ms->sources = ys_xcalloc(c->n_sources ? c->n_sources : 1, sizeof *ms->sources);
    for (size_t j = 0; j < c->n_sources; j++)
        if (c->sources[j].kind == YS_SOURCE_PROMETHEUS && c->sources[j].name)
            ms->sources[ms->n_sources++] = j;
    if (ms->n_sources == 0)
        ys_diag_add(d, n->line, n->col,
                    "the promql measure in %s needs a prometheus source (define one under "
                    "sources:)",
                    where);
}

static void measure_promql(const struct ys_node *n, const struct ys_node *v,
                           const struct ys_config *c, struct ys_measure *ms, const char *where,
                           struct ys_diag *d)
{
    ms->kind = YS_MEASURE_PROMQL;
    ms->merge = YS_MERGE_MIN;
    if (ys_cfg_string(v, "measure.promql", &ms->query, d) == 0 && !ms->query[0])
        ys_diag_add(d, v->line, v->col, "measure.promql in %s is empty: write a PromQL query",
                    where);
    promql_sources(n, c, ms, where, d);
    const struct ys_node *m = ys_node_get(n, "merge");
    char *merge = NULL;
    if (!m || ys_cfg_string(m, "measure.merge", &merge, d) < 0)
        return;
    size_t i = 0;
    while (merge_names[i] && strcmp(merge_names[i], merge) != 0)
        i++;
    if (merge_names[i]) {
        ms->merge = (enum ys_measure_merge)i;
    } else {
        const char *near = ys_cfg_nearest(merge, merge_names);
        ys_diag_add(d, m->line, m->col,
                    "unknown merge '%s' in %s (use min, max, avg or weighted%s%s%s)", merge, where,
                    near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    }
    free(merge);
}

/* Which of slo, check, selector, promql the map holds; reports none or
 * several. */
static const char *measure_source(const struct ys_node *n, const char *where, struct ys_diag *d)
{
    static const char *const sources[] = {"slo", "check", "selector", "promql"};
    const char *found = NULL;
    for (size_t i = 0; i < 4; i++) {
        const struct ys_node_pair *p = ys_node_pair(n, sources[i]);
        if (p && found) {
            ys_diag_add(d, p->line, p->col, "measure in %s has both %s and %s: give one", where,
                        found, sources[i]);
            return NULL;
        }
        if (p)
            found = sources[i];
    }
    if (!found)
        ys_diag_add(d, n->line, n->col,
                    "measure in %s needs one of slo, check, selector or promql (or write manual)",
                    where);
    return found;
}

static void parse_measure(const struct ys_node *n, struct ys_config *c, struct ys_measure *ms,
                          const char *where, struct ys_diag *d)
{
    ms->kind = YS_MEASURE_MANUAL;
    ms->window = (struct ys_window){YS_WINDOW_ROLLING, 30 * DAY_MS};
    if (!n || (n->type == YS_NODE_SCALAR && !n->is_null && strcmp(n->scalar, "manual") == 0))
        return;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col,
                    "measure in %s must be manual or a mapping with slo, check, selector or "
                    "promql, not %s%s%s",
                    where, n->type == YS_NODE_SCALAR ? "'" : "",
                    n->type == YS_NODE_SCALAR ? n->scalar : ys_node_type_name(n),
                    n->type == YS_NODE_SCALAR ? "'" : "");
        return;
    }
    ys_cfg_check_keys(n, measure_keys, where, d);
    const char *src = measure_source(n, where, d);
    if (!src)
        return;
    const struct ys_node *v = ys_node_get(n, src);
    const struct ys_node *stat = ys_node_get(n, "stat");
    if (strcmp(src, "promql") != 0)
        promql_only_keys(n, src, where, d);
    if (strcmp(src, "promql") == 0) {
        measure_promql(n, v, c, ms, where, d);
        if (stat)
            ys_diag_add(d, stat->line, stat->col,
                        "measure in %s: stat applies to check and selector measures, not promql "
                        "(the query computes the value)",
                        where);
    } else if (strcmp(src, "slo") == 0) {
        measure_slo(v, c, ms, where, d);
        if (stat)
            ys_diag_add(d, stat->line, stat->col,
                        "measure in %s: stat applies to check and selector measures, not slo",
                        where);
    } else if (strcmp(src, "check") == 0) {
        measure_check(v, c, ms, where, d);
        parse_stat(stat, where, check_stats, check_stat_names, &ms->stat, d);
    } else {
        measure_selector(v, c, ms, where, d);
        parse_stat(stat, where, selector_stats, selector_stat_names, &ms->stat, d);
    }
    ys_model_window(ys_node_get(n, "window"), "measure.window", &ms->window, d);
}

static void parse_priority(const struct ys_node *n, const char *where, int *out,
                           struct ys_diag *d)
{
    if (!n)
        return;
    if (n->type == YS_NODE_SCALAR && !n->is_null && (n->scalar[0] == 'P' || n->scalar[0] == 'p') &&
        n->scalar[1] >= '0' && n->scalar[1] <= '3' && n->scalar[2] == '\0') {
        *out = n->scalar[1] - '0';
        return;
    }
    ys_diag_add(d, n->line, n->col, "priority in %s must be P0, P1, P2 or P3, not %s%s%s", where,
                n->type == YS_NODE_SCALAR ? "'" : "",
                n->type == YS_NODE_SCALAR ? n->scalar : ys_node_type_name(n),
                n->type == YS_NODE_SCALAR ? "'" : "");
}

static void parse_target(const struct ys_node *n, const char *where, struct ys_target *out,
                         struct ys_diag *d)
{
    char what[160], why[160] = "";
    snprintf(what, sizeof what, "target in %s", where);
    char *s = NULL;
    if (ys_cfg_string(n, what, &s, d) < 0)
        return;
    if (ys_target_parse(s, out, why, sizeof why) < 0)
        ys_diag_add(d, n->line, n->col, "%s: %s", where, why[0] ? why : "bad target");
    free(s);
}

/* Reads the id and reports bad or duplicate ones; returns the message name. */
static char *parse_goal_id(const struct ys_node *n, size_t i, struct ys_config *c,
                           struct ys_goal *g, struct ys_diag *d)
{
    char path[48];
    snprintf(path, sizeof path, "goals[%zu]", i);
    const struct ys_node *id = ys_node_get(n, "id");
    if (!id) {
        ys_cfg_missing(n, "id", path, d);
        return ys_xstrdup(path);
    }
    if (ys_cfg_string(id, "goal id", &g->id, d) < 0)
        return ys_xstrdup(path);
    if (!valid_goal_id(g->id))
        ys_diag_add(d, id->line, id->col, "bad goal id '%s' (use 1-%d of a-z 0-9 . _ -)", g->id,
                    GOAL_ID_MAX);
    for (size_t j = 0; j < i; j++) {
        if (c->goals[j].id && strcmp(c->goals[j].id, g->id) == 0) {
            ys_diag_add(d, id->line, id->col, "duplicate goal id '%s' (first defined at %d:%d)",
                        g->id, c->goals[j].line, c->goals[j].col);
            break;
        }
    }
    return ys_xasprintf("goal '%s'", g->id);
}

static void parse_goal(const struct ys_node *n, size_t i, struct ys_config *c,
                       const struct ys_tz *tz, struct ys_diag *d)
{
    struct ys_goal *g = &c->goals[i];
    g->line = n->line;
    g->col = n->col;
    g->priority = -1;
    g->measure.window = (struct ys_window){YS_WINDOW_ROLLING, 30 * DAY_MS};
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "goals[%zu] must be a mapping, not %s", i,
                    ys_node_type_name(n));
        return;
    }
    char *where = parse_goal_id(n, i, c, g, d);
    ys_cfg_check_keys(n, goal_keys, where, d);
    char what[160];
    const struct ys_node *title = ys_node_get(n, "title");
    snprintf(what, sizeof what, "title in %s", where);
    if (!title)
        ys_cfg_missing(n, "title", where, d);
    ys_cfg_string(title, what, &g->title, d);
    snprintf(what, sizeof what, "area in %s", where);
    ys_cfg_string(ys_node_get(n, "area"), what, &g->area, d);
    snprintf(what, sizeof what, "baseline in %s", where);
    const struct ys_node *base = ys_node_get(n, "baseline");
    if (base && !(base->type == YS_NODE_SCALAR && base->is_null))
        ys_cfg_string(base, what, &g->baseline, d);
    parse_priority(ys_node_get(n, "priority"), where, &g->priority, d);
    const struct ys_node *target = ys_node_get(n, "target");
    if (!target)
        ys_cfg_missing(n, "target", where, d);
    else
        parse_target(target, where, &g->target, d);
    parse_due(ys_node_get(n, "due"), where, tz, &g->due_text, &g->due_ms, d);
    parse_measure(ys_node_get(n, "measure"), c, &g->measure, where, d);
    char *desc = NULL;
    snprintf(what, sizeof what, "description in %s", where);
    ys_cfg_string(ys_node_get(n, "description"), what, &desc, d);
    free(desc);
    free(where);
}

static void resolve_goal_ids(const struct ys_node *n, struct ys_config *c, struct ys_milestone *m,
                             const char *where, struct ys_diag *d)
{
    const char **ids = ys_xcalloc(c->n_goals + 1, sizeof *ids);
    for (size_t i = 0, k = 0; i < c->n_goals; i++)
        if (c->goals[i].id)
            ids[k++] = c->goals[i].id;
    m->goals = ys_xcalloc(m->goal_ids.n ? m->goal_ids.n : 1, sizeof *m->goals);
    for (size_t i = 0; i < m->goal_ids.n; i++) {
        const struct ys_node *at = n->type == YS_NODE_SEQ ? n->items[i] : n;
        struct ys_goal *g = ys_config_find_goal(c, m->goal_ids.v[i]);
        if (g) {
            m->goals[i] = (size_t)(g - c->goals);
            continue;
        }
        const char *near = ys_cfg_nearest(m->goal_ids.v[i], ids);
        ys_diag_add(d, at->line, at->col, "unknown goal '%s' in %s%s%s%s", m->goal_ids.v[i],
                    where, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    }
    free(ids);
}

static void parse_milestone(const struct ys_node *n, size_t i, struct ys_config *c,
                            const struct ys_tz *tz, struct ys_diag *d)
{
    struct ys_milestone *m = &c->milestones[i];
    m->line = n->line;
    m->col = n->col;
    char where[48];
    snprintf(where, sizeof where, "milestones[%zu]", i);
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "%s must be a mapping, not %s", where,
                    ys_node_type_name(n));
        return;
    }
    ys_cfg_check_keys(n, milestone_keys, where, d);
    const struct ys_node *title = ys_node_get(n, "title");
    if (!title)
        ys_cfg_missing(n, "title", where, d);
    ys_cfg_string(title, "milestone title", &m->title, d);
    parse_due(ys_node_get(n, "due"), where, tz, &m->due_text, &m->due_ms, d);
    const struct ys_node *goals = ys_node_get(n, "goals");
    if (goals && ys_cfg_strlist(goals, "milestone goals", &m->goal_ids, d) == 0)
        resolve_goal_ids(goals, c, m, where, d);
}

static void parse_action(const struct ys_node *n, size_t i, struct ys_action *a,
                         struct ys_diag *d)
{
    char where[48];
    snprintf(where, sizeof where, "actions[%zu]", i);
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "%s must be a mapping, not %s", where,
                    ys_node_type_name(n));
        return;
    }
    ys_cfg_check_keys(n, action_keys, where, d);
    const struct ys_node *title = ys_node_get(n, "title");
    if (!title)
        ys_cfg_missing(n, "title", where, d);
    ys_cfg_string(title, "action title", &a->title, d);
    ys_cfg_string(ys_node_get(n, "area"), "action area", &a->area, d);
    ys_cfg_bool(ys_node_get(n, "done"), "action done", &a->done, d);
}

/* Checks that a section is a list; returns its length, or 0 to skip it. */
static size_t want_list(const struct ys_node *seq, const char *what, struct ys_diag *d)
{
    if (!seq || (seq->type == YS_NODE_SCALAR && seq->is_null))
        return 0;
    if (seq->type != YS_NODE_SEQ) {
        ys_diag_add(d, seq->line, seq->col, "%s must be a list, not %s", what,
                    ys_node_type_name(seq));
        return 0;
    }
    return seq->n;
}

void ys_model_parse_goals(const struct ys_node *root, struct ys_config *c, const struct ys_tz *tz,
                          struct ys_diag *d)
{
    const struct ys_node *seq = ys_node_get(root, "goals");
    size_t n = want_list(seq, "goals", d);
    c->goals = ys_xcalloc(n ? n : 1, sizeof *c->goals);
    c->n_goals = n;
    for (size_t i = 0; i < n; i++)
        parse_goal(seq->items[i], i, c, tz, d);
    seq = ys_node_get(root, "milestones");
    n = want_list(seq, "milestones", d);
    c->milestones = ys_xcalloc(n ? n : 1, sizeof *c->milestones);
    c->n_milestones = n;
    for (size_t i = 0; i < n; i++)
        parse_milestone(seq->items[i], i, c, tz, d);
    seq = ys_node_get(root, "actions");
    n = want_list(seq, "actions", d);
    c->actions = ys_xcalloc(n ? n : 1, sizeof *c->actions);
    c->n_actions = n;
    for (size_t i = 0; i < n; i++)
        parse_action(seq->items[i], i, &c->actions[i], d);
}

void ys_model_free_goals(struct ys_config *c)
{
    for (size_t i = 0; i < c->n_goals; i++) {
        struct ys_goal *g = &c->goals[i];
        free(g->id);
        free(g->title);
        free(g->area);
        free(g->baseline);
        free(g->due_text);
        free(g->measure.ref);
        ys_strmap_free(&g->measure.selector);
        free(g->measure.query);
        free(g->measure.sources);
    }
    free(c->goals);
    for (size_t i = 0; i < c->n_milestones; i++) {
        free(c->milestones[i].title);
        free(c->milestones[i].due_text);
        ys_strlist_free(&c->milestones[i].goal_ids);
        free(c->milestones[i].goals);
    }
    free(c->milestones);
    for (size_t i = 0; i < c->n_actions; i++) {
        free(c->actions[i].area);
        free(c->actions[i].title);
    }
    free(c->actions);
    c->goals = NULL;
    c->milestones = NULL;
    c->actions = NULL;
    c->n_goals = c->n_milestones = c->n_actions = 0;
}
