/*
 * rules_plan.c - the rule kinds about the plan: slo_burn (the SRE
 * workbook's multiwindow burn-rate conditions: page and ticket are alerts
 * of their own, "rule/slo/page" and "rule/slo/ticket"), goal_status (a
 * goal at risk or missed) and milestone_due (due within due_within and
 * one of its goals neither met nor on track; the subject is the
 * milestone's title, so reordering milestones keeps each alert's identity).
 *
 * These need the store (rollups over hours and days), so a pass runs on a
 * libuv threadpool thread with a read-only connection of its own, every
 * eval_every_ms, and hands plain findings back to the loop, which reports
 * them through ys_alerts_set. A pass is skipped while the previous one
 * runs; findings for a config swapped out meanwhile are dropped. After a
 * pass, open plan alerts it did not report (their SLO, goal or milestone
 * is gone, or the rule no longer names it) are resolved; a subject that
 * could not be evaluated this time keeps its alert as it is.
 *
 * Threads: work() on a threadpool thread, the rest on the loop.
 */
#include "alert/alert_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "query/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ys_plan_eval {
    uv_work_t work;
    struct ys_alerts *a;
    struct ys_config *cfg; /* a reference, for the pass */
    int64_t now_ms;
    bool *slo_wanted, *goal_wanted;
    enum ys_alert_state *slo_state; /* per SLO */
    bool *slo_ok;                   /* evaluated without error */
    enum ys_goal_status *goal_status;
    bool *goal_ok;
};

static bool rule_names_goal(const struct ys_alert_rule *r, const char *id)
{
    if (r->goal_ids.n == 0)
        return true;
    for (size_t i = 0; i < r->goal_ids.n; i++)
        if (strcmp(r->goal_ids.v[i], id) == 0)
            return true;
    return false;
}

static bool rule_names_slo(const struct ys_alert_rule *r, size_t slo)
{
    if (r->slo_names.n == 0)
        return true;
    for (size_t i = 0; i < r->n_slos; i++)
        if (r->slos[i] == slo)
            return true;
    return false;
}

/* Marks the SLOs and goals some rule asks about; false when none is. */
static bool mark_wanted(struct ys_plan_eval *p)
{
    const struct ys_config *c = p->cfg;
    bool any = false;
    for (size_t i = 0; i < c->n_alerts; i++) {
        const struct ys_alert_rule *r = &c->alerts[i];
        for (size_t s = 0; r->kind == YS_ALERT_SLO_BURN && s < c->n_slos; s++)
            any |= p->slo_wanted[s] |= rule_names_slo(r, s);
        for (size_t g = 0; r->kind == YS_ALERT_GOAL_STATUS && g < c->n_goals; g++)
            any |= p->goal_wanted[g] |= rule_names_goal(r, c->goals[g].id);
        for (size_t m = 0; r->kind == YS_ALERT_MILESTONE_DUE && m < c->n_milestones; m++)
            for (size_t k = 0; k < c->milestones[m].goal_ids.n; k++) {
                size_t g = c->milestones[m].goals[k];
                any |= p->goal_wanted[g] |= rule_names_goal(r, c->goals[g].id);
            }
    }
    return any;
}

static void work(uv_work_t *w)
{
    struct ys_plan_eval *p = w->data;
    const struct ys_config *c = p->cfg;
    struct ys_store_options opt = {.path = c->storage.path, .read_only = true,
                                   .retention = c->storage.retention};
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    struct ys_tz tz;
    if (ys_store_open(c->storage.kind, &opt, &s, &err) < 0) {
        ys_warn("alert", "plan evaluation: %s", err.msg);
        return;
    }
    if (ys_tz_load(c->defaults.timezone, NULL, &tz, &err) < 0)
        ys_tz_utc(&tz);
    for (size_t i = 0; i < c->n_slos; i++) {
        struct ys_slo_status st;
        if (!p->slo_wanted[i])
            continue;
        p->slo_ok[i] = ys_query_slo(s, c, &c->slos[i], &tz, p->now_ms, &st, &err) == 0;
        p->slo_state[i] = st.alert;
    }
    for (size_t i = 0; i < c->n_goals; i++) {
        struct ys_goal_eval ge;
        if (!p->goal_wanted[i])
            continue;
        p->goal_ok[i] = ys_query_goal(s, c, &c->goals[i], &tz, p->now_ms, &ge, &err) == 0;
        p->goal_status[i] = ge.status;
    }
    ys_tz_free(&tz);
    ys_store_close(s);
}

static void report_slo(struct ys_alerts *a, const struct ys_alert_rule *r, const struct ys_slo *slo,
                       enum ys_alert_state st, int64_t now_ms)
{
    static const struct {
        const char *name;
        enum ys_alert_state at;
    } levels[] = {{"page", YS_ALERT_PAGE}, {"ticket", YS_ALERT_TICKET}};
    for (size_t k = 0; k < 2; k++) {
        char subject[256], summary[320];
        snprintf(subject, sizeof subject, "%s/%s", slo->name, levels[k].name);
        snprintf(summary, sizeof summary, "SLO %s is burning its error budget (%s)", slo->name,
                 levels[k].name);
        json_t *labels = json_pack("{s:s}", "slo", slo->name);
        /* page when a page condition fires; ticket only when no page does */
        struct ys_condition c = {.rule = r, .subject = subject, .check = -1,
                                 .active = st == levels[k].at, .severity = levels[k].name,
                                 .summary = summary, .labels = labels};
        ys_alerts_set(a, &c, now_ms);
        json_decref(labels);
    }
}

static void report_goal(struct ys_alerts *a, const struct ys_alert_rule *r, const struct ys_goal *g,
                        enum ys_goal_status st, int64_t now_ms)
{
    char summary[512];
    snprintf(summary, sizeof summary, "goal %s (%s) is %s", g->id, g->title ? g->title : "",
             ys_goal_status_name(st));
    json_t *labels = json_pack("{s:s, s:s}", "goal", g->id, "status", ys_goal_status_name(st));
    if (g->area)
        json_object_set_new(labels, "area", json_string(g->area));
    struct ys_condition c = {.rule = r, .subject = g->id, .check = -1,
                             .active = st == YS_GOAL_AT_RISK || st == YS_GOAL_MISSED,
                             .level = (int)st, .summary = summary, .labels = labels};
    ys_alerts_set(a, &c, now_ms);
    json_decref(labels);
}

static void report_milestone(struct ys_alerts *a, const struct ys_alert_rule *r,
                             const struct ys_plan_eval *p, const struct ys_milestone *m,
                             size_t index, int64_t now_ms)
{
    bool due_soon = m->due_ms > 0 && m->due_ms - now_ms <= r->due_within_ms;
    const char *behind = NULL;
    for (size_t k = 0; k < m->goal_ids.n && !behind; k++) {
        size_t g = m->goals[k];
        if (!rule_names_goal(r, p->cfg->goals[g].id) || !p->goal_ok[g])
            continue;
        if (p->goal_status[g] != YS_GOAL_MET && p->goal_status[g] != YS_GOAL_ON_TRACK)
            behind = p->cfg->goals[g].id;
    }
    char subject[160], summary[512];
    if (m->title && m->title[0])
        snprintf(subject, sizeof subject, "%s", m->title);
    else
        snprintf(subject, sizeof subject, "milestone-%zu", index + 1);
    snprintf(summary, sizeof summary, "milestone \"%s\" is due %s and goal %s is not on track",
             m->title ? m->title : "", m->due_text ? m->due_text : "", behind ? behind : "");
    json_t *labels = json_pack("{s:s}", "milestone", m->title ? m->title : subject);
    struct ys_condition c = {.rule = r, .subject = subject, .check = -1,
                             .active = due_soon && behind, .summary = summary, .labels = labels};
    ys_alerts_set(a, &c, now_ms);
    json_decref(labels);
}

/* Reports what the pass found for one rule; subjects the pass could not
 * evaluate keep their alerts. */
static void report_rule(struct ys_alerts *a, const struct ys_plan_eval *p,
                        const struct ys_alert_rule *r)
{
    const struct ys_config *c = p->cfg;
    char subject[320];
    for (size_t s = 0; r->kind == YS_ALERT_SLO_BURN && s < c->n_slos; s++) {
        if (!rule_names_slo(r, s))
            continue;
        if (p->slo_ok[s]) {
            report_slo(a, r, &c->slos[s], p->slo_state[s], p->now_ms);
            continue;
        }
        snprintf(subject, sizeof subject, "%s/page", c->slos[s].name);
        ys_alerts_keep(a, r, subject);
        snprintf(subject, sizeof subject, "%s/ticket", c->slos[s].name);
        ys_alerts_keep(a, r, subject);
    }
    for (size_t g = 0; r->kind == YS_ALERT_GOAL_STATUS && g < c->n_goals; g++) {
        if (!rule_names_goal(r, c->goals[g].id))
            continue;
        if (p->goal_ok[g])
            report_goal(a, r, &c->goals[g], p->goal_status[g], p->now_ms);
        else
            ys_alerts_keep(a, r, c->goals[g].id);
    }
    for (size_t m = 0; r->kind == YS_ALERT_MILESTONE_DUE && m < c->n_milestones; m++)
        report_milestone(a, r, p, &c->milestones[m], m, p->now_ms);
}

static void plan_free(struct ys_plan_eval *p)
{
    ys_config_unref(p->cfg);
    free(p->slo_wanted);
    free(p->goal_wanted);
    free(p->slo_state);
    free(p->slo_ok);
    free(p->goal_status);
    free(p->goal_ok);
    free(p);
}

static void done(uv_work_t *w, int status)
{
    struct ys_plan_eval *p = w->data;
    struct ys_alerts *a = p->a;
    const struct ys_config *c = p->cfg;
    a->plan_running = false;
    if (status == 0 && !a->stopped && c == a->cfg) {
        a->plan_pass++;
        for (size_t i = 0; i < c->n_alerts; i++)
            report_rule(a, p, &c->alerts[i]);
        ys_alerts_sweep_plan(a, p->now_ms);
    }
    plan_free(p);
}

void ys_alerts_plan_maybe(struct ys_alerts *a, int64_t now_ms)
{
    if (a->plan_running || a->stopped || !a->cfg || now_ms < a->next_plan_ms)
        return;
    a->next_plan_ms = now_ms + a->eval_every_ms;
    struct ys_plan_eval *p = ys_xcalloc(1, sizeof *p);
    const struct ys_config *c = a->cfg;
    p->a = a;
    p->now_ms = now_ms;
    p->slo_wanted = ys_xcalloc(c->n_slos + 1, sizeof *p->slo_wanted);
    p->slo_state = ys_xcalloc(c->n_slos + 1, sizeof *p->slo_state);
    p->slo_ok = ys_xcalloc(c->n_slos + 1, sizeof *p->slo_ok);
    p->goal_wanted = ys_xcalloc(c->n_goals + 1, sizeof *p->goal_wanted);
    p->goal_status = ys_xcalloc(c->n_goals + 1, sizeof *p->goal_status);
    p->goal_ok = ys_xcalloc(c->n_goals + 1, sizeof *p->goal_ok);
    ys_config_ref(a->cfg);
    p->cfg = a->cfg;
    if (!mark_wanted(p)) {
        plan_free(p);
        return;
    }
    p->work.data = p;
    a->plan_running = true;
    uv_queue_work(a->loop, &p->work, work, done);
}
