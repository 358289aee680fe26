/*
 * api_goals.c - GET /api/v1/goals: every goal with its measured value,
 * status, daily trend and projection (from the cached evaluation, eval.c),
 * and the milestones with their progress (the share of their goals met)
 * and status. Shapes: docs/api.md.
 *
 * Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include <microhttpd.h>

#include <stdio.h>

static json_t *goal_json(const struct ys_goal *g, const struct ys_goal_eval *ev, bool ok)
{
    char prio[16], text[64] = "";
    snprintf(prio, sizeof prio, "P%d", g->priority);
    bool has = ok && ev->has_value;
    if (has)
        ys_target_format_value(&g->target, ev->value, text, sizeof text);
    json_t *trend = json_array();
    for (size_t k = 0; ok && k < ev->n_trend; k++)
        json_array_append_new(trend, json_pack("{s:I,s:o}", "t_ms", (json_int_t)ev->trend[k].t_ms,
                                               "value", ys_web_num(ev->trend[k].value)));
    bool valid = ok && ev->projection.valid;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(g->id));
    json_object_set_new(o, "title", g->title ? json_string(g->title) : json_null());
    json_object_set_new(o, "area", g->area ? json_string(g->area) : json_null());
    json_object_set_new(o, "priority", g->priority >= 0 ? json_string(prio) : json_null());
    json_object_set_new(o, "baseline", g->baseline ? json_string(g->baseline) : json_null());
    json_object_set_new(o, "target", json_string(g->target.text));
    json_object_set_new(o, "due", g->due_text ? json_string(g->due_text) : json_null());
    json_object_set_new(o, "due_ms", g->due_ms ? json_integer(g->due_ms) : json_null());
    json_object_set_new(o, "measured", has ? ys_web_num(ev->value) : json_null());
    json_object_set_new(o, "measured_text", has ? json_string(text) : json_null());
    json_object_set_new(o, "status",
                        json_string(ys_goal_status_name(ok ? ev->status : YS_GOAL_NO_DATA)));
    json_object_set_new(o, "note", ok && ev->note[0] ? json_string(ev->note) : json_null());
    json_object_set_new(o, "trend", trend);
    json_object_set_new(o, "projection",
                        json_pack("{s:b,s:o}", "valid", valid, "reach_ms",
                                  valid && ev->projection.reach_ms
                                      ? json_integer(ev->projection.reach_ms)
                                      : json_null()));
    return o;
}

/* A milestone is met when all its goals are, missed when its due date has
 * passed without that, else open. */
static json_t *milestone_json(const struct ys_config *cfg, const struct ys_milestone *m,
                              const struct ys_web_eval *e, int64_t now_ms)
{
    json_t *ids = json_array();
    size_t met = 0;
    for (size_t k = 0; k < m->goal_ids.n; k++) {
        size_t gi = m->goals[k];
        json_array_append_new(ids, json_string(cfg->goals[gi].id));
        if (e->goal_rc[gi] == 0 && e->goals[gi].status == YS_GOAL_MET)
            met++;
    }
    size_t n = m->goal_ids.n;
    const char *status = n && met == n                     ? "met"
                         : m->due_ms && now_ms > m->due_ms ? "missed"
                                                           : "open";
    return json_pack("{s:s?,s:o,s:o,s:o,s:s,s:o}", "title", m->title, "due",
                     m->due_text ? json_string(m->due_text) : json_null(), "due_ms",
                     m->due_ms ? json_integer(m->due_ms) : json_null(), "progress",
                     n ? json_real((double)met / (double)n) : json_null(), "status", status,
                     "goals", ids);
}

void ys_web_api_goals(struct ys_web_req *req, struct ys_web_reply *rep)
{
    struct ys_err err = {{0}};
    struct ys_web_eval *e = ys_web_eval_get(req, &err);
    if (!e) {
        ys_web_reply_error(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", err.msg);
        return;
    }
    const struct ys_config *cfg = e->snap->cfg;
    json_t *goals = json_array(), *ms = json_array();
    for (size_t i = 0; i < cfg->n_goals; i++)
        json_array_append_new(goals, goal_json(&cfg->goals[i], &e->goals[i], e->goal_rc[i] == 0));
    for (size_t i = 0; i < cfg->n_milestones; i++)
        json_array_append_new(ms, milestone_json(cfg, &cfg->milestones[i], e, req->now_ms));
    ys_web_eval_release(e);
    ys_web_reply_json(rep, MHD_HTTP_OK, json_pack("{s:o,s:o}", "goals", goals, "milestones", ms));
}
