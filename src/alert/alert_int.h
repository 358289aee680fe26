/*
 * alert_int.h - private to src/alert: the table of alerts and the one
 * function every rule kind reports its condition through.
 */
#ifndef YS_ALERT_ALERT_INT_H
#define YS_ALERT_ALERT_INT_H

#include "alert/alert.h"

#include <jansson.h>

struct ys_alert {
    char key[YS_ALERT_KEY_MAX];
    char *rule;          /* the rule's name (rules are re-found by name on reload) */
    long check;          /* index into the applied config's checks; -1: not about a check */
    int level;           /* a change of level notifies again (e.g. a lower cert threshold) */
    bool notified;       /* a firing notification went to the outbox */
    bool recorded;       /* the store holds it as firing (notified, or quietly in maintenance) */
    bool resolving;      /* resolved, but the outbox refused the notice: retried by tick */
    uint64_t seen_pass;  /* plan rules: the last plan pass that reported it */
    struct ys_strlist notify; /* the notifiers told when it fired (kept for its resolution) */
    bool confirmed;      /* its condition was seen since start (resumed alerts are not) */
    int64_t firing_ms, last_notified_ms;
    json_t *labels, *annotations; /* owned */
};

struct ys_plan_eval; /* plan.c: a pass over SLOs, goals and milestones */

struct ys_alerts {
    uv_loop_t *loop;
    struct ys_outbox *outbox;
    char *base_url;
    struct ys_config *cfg;
    struct ys_alert *v; /* open-addressed by key hash; key[0] == 0 is empty */
    size_t cap, n;      /* cap is a power of two, kept under 3/4 full */
    uv_timer_t timer;
    bool timer_started, plan_running, stopped;
    int64_t eval_every_ms, next_plan_ms;
    uint64_t submitted[3]; /* by enum ys_alert_event_kind, since start */
    uint64_t plan_pass;    /* counts plan passes; alerts they report are stamped with it */
    int refuse_submits;    /* tests: the next N submissions fail as if the outbox were full */
};

/* What a rule kind found about one subject. */
struct ys_condition {
    const struct ys_alert_rule *rule;
    const char *subject;     /* check, SLO, goal or milestone name */
    long check;              /* index of the check, or -1 */
    bool active;
    bool hold; /* not active, yet no sign of recovery: an open alert stays as it is */
    int level;
    const char *severity;    /* NULL: the rule's */
    const char *summary;     /* the default summary when the rule gives none */
    const char *description; /* optional */
    json_t *labels;          /* extra labels (borrowed; may be NULL) */
};

/* Records cond at now_ms: opens, updates, or resolves the alert, and
 * notifies as alert.h describes. */
void ys_alerts_set(struct ys_alerts *a, const struct ys_condition *cond, int64_t now_ms);
/* Whether a rule with members covers check (no members: every check). */
bool ys_alert_rule_covers(const struct ys_alert_rule *r, size_t check);
/* The open alert with key, or NULL (tests). */
struct ys_alert *ys_alerts_find(struct ys_alerts *a, const char *key);
/* What the timer does each second: reminders, notices held back by a
 * maintenance window that ended, the plan pass when due. */
void ys_alerts_tick(struct ys_alerts *a, int64_t now_ms);
/* Marks the open alert rule/subject as reported by the current plan pass
 * (its subject could not be evaluated this time: keep its state). */
void ys_alerts_keep(struct ys_alerts *a, const struct ys_alert_rule *rule, const char *subject);
/* Resolves the open alerts of plan rules (slo_burn, goal_status,
 * milestone_due) the current pass did not report: their SLO, goal or
 * milestone is gone, or the rule no longer names it. */
void ys_alerts_sweep_plan(struct ys_alerts *a, int64_t now_ms);
/* Starts a plan pass on the threadpool when one is due. */
void ys_alerts_plan_maybe(struct ys_alerts *a, int64_t now_ms);

#endif
