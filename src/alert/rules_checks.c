/*
 * rules_checks.c - the rule kinds about checks: check_down (an incident is
 * open), cert_expiry (the leaf certificate's days left under one of the
 * rule's thresholds; each lower threshold is a new level and notifies
 * again) and heartbeat (a problem the rule lists: missed, failed,
 * too_long, too_short).
 *
 * Threads: the loop thread, on every result and heartbeat change.
 */
#include "alert/alert_int.h"

#include <stdio.h>
#include <string.h>

bool ys_alert_rule_covers(const struct ys_alert_rule *r, size_t check)
{
    if (r->check_names.n == 0 && r->selector.n == 0)
        return true;
    for (size_t i = 0; i < r->n_members; i++)
        if (r->members[i] == check)
            return true;
    return false;
}

static long index_of(const struct ys_alerts *a, const struct ys_check *check)
{
    if (!a->cfg || check < a->cfg->checks || check >= a->cfg->checks + a->cfg->n_checks)
        return -1; /* a probe started under a config since swapped out */
    return (long)(check - a->cfg->checks);
}

static json_t *check_labels(const struct ys_check *check)
{
    json_t *l = json_pack("{s:s}", "check", check->name);
    const char *area = ys_strmap_get(&check->labels, "area");
    if (area)
        json_object_set_new(l, "area", json_string(area));
    return l;
}

static void check_down(struct ys_alerts *a, const struct ys_alert_rule *r,
                       const struct ys_check *ck, long idx, const struct ys_result *res,
                       bool incident_open, int64_t now_ms)
{
    char summary[YS_RESULT_MSG_MAX + YS_RESULT_NAME_MAX + 16];
    snprintf(summary, sizeof summary, "%s is down: %s", ck->name,
             res->message[0] ? res->message : "failing");
    json_t *labels = incident_open ? check_labels(ck) : NULL; /* only an opening needs them */
    /* A failing result never resolves: after a kill -9 the alert can be
     * resumed firing while the incident that opened it was still in the
     * writer's queue, lost; the tracker then counts failures from zero,
     * and resolving on them would announce the same outage twice. */
    struct ys_condition c = {.rule = r, .subject = ck->name, .check = idx,
                             .active = incident_open, .hold = !res->ok, .summary = summary,
                             .labels = labels};
    ys_alerts_set(a, &c, now_ms);
    json_decref(labels);
}

static void cert_expiry(struct ys_alerts *a, const struct ys_alert_rule *r,
                        const struct ys_check *ck, long idx, const struct ys_result *res,
                        int64_t now_ms)
{
    if (!(res->flags & YS_RF_HAS_TLS))
        return; /* no certificate seen this time: keep the last verdict */
    int64_t days = ys_tls_days_left(&res->tls, now_ms / 1000);
    int level = 0;
    while ((size_t)level < r->n_days && days < r->days[level])
        level++;
    char summary[YS_RESULT_NAME_MAX + 96], threshold[24], left[24];
    snprintf(summary, sizeof summary, "the certificate of %s expires in %lld days", ck->name,
             (long long)days);
    snprintf(threshold, sizeof threshold, "%lldd", level ? (long long)r->days[level - 1] : 0LL);
    snprintf(left, sizeof left, "%lld", (long long)days);
    json_t *labels = check_labels(ck);
    json_object_set_new(labels, "threshold", json_string(threshold));
    struct ys_condition c = {.rule = r, .subject = ck->name, .check = idx, .active = level > 0,
                             .level = level, .summary = summary, .labels = labels};
    ys_alerts_set(a, &c, now_ms);
    json_decref(labels);
}

void ys_alerts_feed_result(struct ys_alerts *a, const struct ys_check *check,
                           const struct ys_result *r, bool incident_open, int64_t now_ms)
{
    long idx = index_of(a, check);
    if (idx < 0)
        return;
    for (size_t i = 0; i < a->cfg->n_alerts; i++) {
        const struct ys_alert_rule *rule = &a->cfg->alerts[i];
        if (!ys_alert_rule_covers(rule, (size_t)idx))
            continue;
        if (rule->kind == YS_ALERT_CHECK_DOWN)
            check_down(a, rule, check, idx, r, incident_open, now_ms);
        else if (rule->kind == YS_ALERT_CERT_EXPIRY)
            cert_expiry(a, rule, check, idx, r, now_ms);
    }
}

void ys_alerts_feed_heartbeat(struct ys_alerts *a, const struct ys_check *check,
                              enum ys_hb_state state, enum ys_hb_problem problem, int64_t now_ms)
{
    long idx = index_of(a, check);
    if (idx < 0)
        return;
    for (size_t i = 0; i < a->cfg->n_alerts; i++) {
        const struct ys_alert_rule *rule = &a->cfg->alerts[i];
        if (rule->kind != YS_ALERT_HEARTBEAT || !ys_alert_rule_covers(rule, (size_t)idx))
            continue;
        bool active = problem != YS_HBP_NONE && (rule->heartbeat_problems & (1u << problem));
        char summary[YS_RESULT_NAME_MAX + 64];
        snprintf(summary, sizeof summary, "job %s: %s (state %s)", check->name,
                 ys_hb_problem_name(problem), ys_hb_state_name(state));
        json_t *labels = check_labels(check);
        if (active)
            json_object_set_new(labels, "problem", json_string(ys_hb_problem_name(problem)));
        struct ys_condition c = {.rule = rule, .subject = check->name, .check = idx,
                                 .active = active, .level = (int)problem, .summary = summary,
                                 .labels = labels};
        ys_alerts_set(a, &c, now_ms);
        json_decref(labels);
    }
}
