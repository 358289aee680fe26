/*
 * report_json.c - the whole report model as one JSON document (jansson):
 * numbers as numbers (ratios as ratios, budgets as ratios, durations in
 * seconds, instants in epoch ms and RFC 3339), NAN and "no data" as null.
 *
 * Pure formatting; the caller's thread.
 */
#include "report/report.h"

#include "core/clock.h"

#include <jansson.h>
#include <math.h>

static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *goal_json(const struct ys_report_goal *g)
{
    const struct ys_goal_eval *e = &g->eval;
    json_t *o = json_object(), *trend = json_array();
    json_object_set_new(o, "id", json_string(g->goal->id));
    json_object_set_new(o, "title", str_or_null(g->goal->title));
    json_object_set_new(o, "area", str_or_null(g->goal->area));
    json_object_set_new(o, "priority",
                        g->goal->priority >= 0 ? json_integer(g->goal->priority) : json_null());
    json_object_set_new(o, "baseline", str_or_null(g->goal->baseline));
    json_object_set_new(o, "target", json_string(g->goal->target.text));
    json_object_set_new(o, "due", str_or_null(g->goal->due_text));
    json_object_set_new(o, "value", e->has_value ? num(e->value) : json_null());
    json_object_set_new(o, "current", g->current[0] ? json_string(g->current) : json_null());
    json_object_set_new(o, "status", json_string(ys_goal_status_name(e->status)));
    json_object_set_new(o, "note", e->note[0] ? json_string(e->note) : json_null());
    for (size_t i = 0; i < e->n_trend; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "t_ms", json_integer(e->trend[i].t_ms));
        json_object_set_new(p, "value", num(e->trend[i].value));
        json_array_append_new(trend, p);
    }
    json_object_set_new(o, "trend", trend);
    json_t *pr = json_object();
    json_object_set_new(pr, "valid", json_boolean(e->projection.valid));
    json_object_set_new(pr, "slope_per_day",
                        e->projection.valid ? num(e->projection.slope_per_day) : json_null());
    json_object_set_new(pr, "reach_ms",
                        e->projection.valid && e->projection.reach_ms
                            ? json_integer(e->projection.reach_ms)
                            : json_null());
    json_object_set_new(o, "projection", pr);
    return o;
}

static json_t *slo_json(const struct ys_report_slo *s)
{
    const struct ys_budget *b = &s->st.budget;
    json_t *o = json_object(), *burn = json_object(), *fired = json_array();
    json_object_set_new(o, "name", json_string(s->slo->name));
    json_object_set_new(o, "objective", json_real(s->slo->objective));
    json_object_set_new(o, "window_start_ms", json_integer(s->st.window_start_ms));
    json_object_set_new(o, "window_end_ms", json_integer(s->st.window_end_ms));
    json_object_set_new(o, "total", json_integer((json_int_t)s->st.counts.total));
    json_object_set_new(o, "good", json_integer((json_int_t)s->st.counts.good));
    json_object_set_new(o, "sli", b->no_data ? json_null() : num(b->sli));
    json_t *bj = json_object();
    json_object_set_new(bj, "no_data", json_boolean(b->no_data));
    json_object_set_new(bj, "allowed_bad", b->no_data ? json_null() : num(b->allowed_bad));
    json_object_set_new(bj, "consumed_bad", b->no_data ? json_null() : num(b->consumed_bad));
    json_object_set_new(bj, "remaining", b->no_data ? json_null() : num(b->remaining));
    json_object_set_new(bj, "exhausted_at_ms",
                        b->exhausted_at_ms ? json_integer(b->exhausted_at_ms) : json_null());
    json_object_set_new(o, "budget", bj);
    for (int w = 0; w < YS_BURN_COUNT; w++)
        json_object_set_new(burn, ys_burn_window_name[w], num(s->st.burn[w]));
    json_object_set_new(o, "burn", burn);
    json_object_set_new(o, "alert", json_string(ys_alert_state_name(s->st.alert)));
    for (int i = 0; i < 4; i++)
        json_array_append_new(fired, json_boolean(s->st.fired[i]));
    json_object_set_new(o, "fired", fired);
    return o;
}

static json_t *stats_json(const struct ys_incident_stats *is)
{
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)is->count));
    json_object_set_new(o, "downtime_s", json_real((double)is->downtime_ms / 1000.0));
    json_object_set_new(o, "longest_s", json_real((double)is->longest_ms / 1000.0));
    json_object_set_new(o, "mttr_s",
                        is->mttr_ms >= 0 ? json_real((double)is->mttr_ms / 1000.0) : json_null());
    json_object_set_new(o, "mtbf_s",
                        is->mtbf_ms >= 0 ? json_real((double)is->mtbf_ms / 1000.0) : json_null());
    return o;
}

static json_t *milestone_json(const struct ys_report *r, const struct ys_report_milestone *m)
{
    json_t *o = json_object(), *ids = json_array();
    json_object_set_new(o, "title", json_string(m->m->title));
    json_object_set_new(o, "due", str_or_null(m->m->due_text));
    json_object_set_new(o, "goals_met", json_integer((json_int_t)m->n_met));
    json_object_set_new(o, "goals", json_integer((json_int_t)m->n_goals));
    json_object_set_new(o, "progress", json_real(m->progress));
    json_object_set_new(o, "status", json_string(ys_goal_status_name(m->status)));
    for (size_t k = 0; k < m->m->goal_ids.n; k++)
        json_array_append_new(ids, json_string(m->m->goal_ids.v[k]));
    json_object_set_new(o, "goal_ids", ids);
    (void)r;
    return o;
}

void ys_report_write_json(FILE *out, const struct ys_report *r)
{
    const struct ys_config *cfg = r->cfg;
    json_t *root = json_object(), *areas = json_array(), *ms = json_array();
    json_t *slos = json_array(), *actions = json_array(), *summary = json_object();
    json_object_set_new(root, "title", json_string(r->title));
    json_object_set_new(root, "at", json_string(r->at_text));
    json_object_set_new(root, "at_ms", json_integer(r->at_ms));
    for (int s = YS_GOAL_NO_DATA; s <= YS_GOAL_MISSED; s++)
        json_object_set_new(summary, ys_goal_status_name((enum ys_goal_status)s),
                            json_integer((json_int_t)r->n_status[s]));
    json_object_set_new(root, "summary", summary);
    for (size_t a = 0; a < r->n_areas; a++) {
        json_t *ao = json_object(), *goals = json_array();
        json_object_set_new(ao, "name", json_string(r->areas[a].name));
        for (size_t k = 0; k < r->areas[a].n_goals; k++)
            json_array_append_new(goals, goal_json(&r->goals[r->areas[a].goals[k]]));
        json_object_set_new(ao, "goals", goals);
        json_array_append_new(areas, ao);
    }
    json_object_set_new(root, "areas", areas);
    for (size_t i = 0; i < r->n_milestones; i++)
        json_array_append_new(ms, milestone_json(r, &r->milestones[i]));
    json_object_set_new(root, "milestones", ms);
    for (size_t i = 0; i < r->n_slos; i++)
        json_array_append_new(slos, slo_json(&r->slos[i]));
    json_object_set_new(root, "slos", slos);
    json_t *inc = stats_json(&r->incidents), *per = json_object();
    json_object_set_new(inc, "days", json_integer(YS_REPORT_INCIDENT_DAYS));
    for (size_t i = 0; i < r->n_check_incidents; i++)
        json_object_set_new(per, r->check_incidents[i].check->name,
                            stats_json(&r->check_incidents[i].stats));
    json_object_set_new(inc, "checks", per);
    json_object_set_new(root, "incidents", inc);
    for (size_t i = 0; i < cfg->n_actions; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "area", str_or_null(cfg->actions[i].area));
        json_object_set_new(o, "title", json_string(cfg->actions[i].title));
        json_object_set_new(o, "done", json_boolean(cfg->actions[i].done));
        json_array_append_new(actions, o);
    }
    json_object_set_new(root, "actions", actions);
    json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', out);
    json_decref(root);
}
