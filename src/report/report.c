/*
 * report.c - builds the report model (report.h) from a config and a store:
 * every goal measured with its trend and status, goals grouped by area in
 * the order areas first appear, milestones rolled up from their goals,
 * every SLO's budget and burn state, and incidents over the last 30 days.
 *
 * Milestone roll-up: all goals met -> met; else any missed -> missed; else
 * any at risk -> at risk; else every goal without data -> no data; else on
 * track. Progress is the share of its goals met.
 *
 * The model borrows the config (goal, SLO and check pointers) and owns the
 * rest. Built on the caller's thread with the caller's store connection.
 */
#include "report/report.h"

#include "core/clock.h"
#include "core/xalloc.h"
#include "query/query_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ys_report_status_mark(enum ys_goal_status s)
{
    switch (s) {
    case YS_GOAL_MET: return "✅";
    case YS_GOAL_ON_TRACK: return "🟢";
    case YS_GOAL_AT_RISK: return "🟠";
    case YS_GOAL_MISSED: return "❌";
    default: return "⚪";
    }
}

static void sparkline(const struct ys_goal_eval *e, char *buf, size_t size)
{
    static const char *const bars[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    double lo = INFINITY, hi = -INFINITY;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n_trend; i++) {
        lo = fmin(lo, e->trend[i].value);
        hi = fmax(hi, e->trend[i].value);
    }
    for (size_t i = 0; i < e->n_trend && len + 4 <= size; i++) {
        int k = hi > lo ? (int)((e->trend[i].value - lo) / (hi - lo) * 7.0 + 0.5) : 3;
        size_t bl = strlen(bars[k]);
        memcpy(buf + len, bars[k], bl + 1);
        len += bl;
    }
}

static const char *arrow(const struct ys_goal_eval *e)
{
    if (e->n_trend < 2)
        return "";
    double first = e->trend[0].value, last = e->trend[e->n_trend - 1].value;
    double eps = 1e-9 * fmax(1.0, fabs(first));
    return last > first + eps ? "↑" : last < first - eps ? "↓" : "→";
}

static void config_title(const struct ys_config *cfg, char *buf, size_t size)
{
    if (cfg->title) {
        snprintf(buf, size, "%s", cfg->title);
        return;
    }
    const char *p = cfg->path ? cfg->path : "yardstick";
    const char *base = strrchr(p, '/');
    base = base ? base + 1 : p;
    size_t n = strcspn(base, ".");
    snprintf(buf, size, "%.*s", (int)n, base);
}

static int build_goals(struct ys_store *s, struct ys_report *r, const struct ys_tz *tz,
                       struct ys_err *err)
{
    const struct ys_config *cfg = r->cfg;
    r->goals = ys_xcalloc(cfg->n_goals ? cfg->n_goals : 1, sizeof *r->goals);
    r->areas = ys_xcalloc(cfg->n_goals ? cfg->n_goals : 1, sizeof *r->areas);
    r->n_goals = cfg->n_goals;
    for (size_t i = 0; i < cfg->n_goals; i++) {
        struct ys_report_goal *g = &r->goals[i];
        g->goal = &cfg->goals[i];
        int rc = ys_query_goal(s, cfg, g->goal, tz, r->at_ms, &g->eval, err);
        if (rc < 0)
            return rc;
        if (g->eval.has_value)
            ys_target_format_value(&g->goal->target, g->eval.value, g->current, sizeof g->current);
        g->arrow = arrow(&g->eval);
        sparkline(&g->eval, g->spark, sizeof g->spark);
        r->n_status[g->eval.status]++;
        const char *area = g->goal->area ? g->goal->area : "";
        size_t a = 0;
        while (a < r->n_areas && strcmp(r->areas[a].name, area) != 0)
            a++;
        if (a == r->n_areas) {
            r->areas[a].name = area;
            r->areas[a].goals = ys_xcalloc(cfg->n_goals, sizeof(size_t));
            r->n_areas++;
        }
        r->areas[a].goals[r->areas[a].n_goals++] = i;
    }
    return 0;
}

static void build_milestones(struct ys_report *r)
{
    const struct ys_config *cfg = r->cfg;
    r->n_milestones = cfg->n_milestones;
    r->milestones = ys_xcalloc(cfg->n_milestones ? cfg->n_milestones : 1, sizeof *r->milestones);
    for (size_t i = 0; i < cfg->n_milestones; i++) {
        struct ys_report_milestone *m = &r->milestones[i];
        size_t count[YS_GOAL_MISSED + 1] = {0};
        m->m = &cfg->milestones[i];
        for (size_t k = 0; k < m->m->goal_ids.n; k++) {
            size_t gi = m->m->goals ? m->m->goals[k] : cfg->n_goals;
            if (gi < r->n_goals)
                count[r->goals[gi].eval.status]++;
            m->n_goals++;
        }
        m->n_met = count[YS_GOAL_MET];
        m->progress = m->n_goals ? (double)m->n_met / (double)m->n_goals : 0;
        m->status = m->n_goals && m->n_met == m->n_goals   ? YS_GOAL_MET
                    : count[YS_GOAL_MISSED]                ? YS_GOAL_MISSED
                    : count[YS_GOAL_AT_RISK]               ? YS_GOAL_AT_RISK
                    : count[YS_GOAL_NO_DATA] == m->n_goals ? YS_GOAL_NO_DATA
                                                           : YS_GOAL_ON_TRACK;
    }
}

struct inc_vec {
    struct ys_incident *v;
    size_t n, cap;
};

static int collect(const struct ys_incident *inc, void *arg)
{
    struct inc_vec *iv = arg;
    if (iv->n == iv->cap) {
        iv->cap = iv->cap ? iv->cap * 2 : 16;
        iv->v = ys_xrealloc(iv->v, iv->cap * sizeof *iv->v);
    }
    iv->v[iv->n++] = *inc;
    return 0;
}

/* One read of every check's incidents, then statistics per check. */
static int build_incidents(struct ys_store *s, struct ys_report *r, struct ys_err *err)
{
    const struct ys_config *cfg = r->cfg;
    struct inc_vec iv = {0};
    int64_t from = r->incidents_from_ms, to = r->at_ms;
    int rc = s ? s->type->query_incidents(s, 0, from, to, collect, &iv, err) : 0;
    if (rc < 0)
        goto out;
    ys_incident_stats(iv.v, iv.n, from, to, to, &r->incidents);
    r->check_incidents = ys_xcalloc(cfg->n_checks ? cfg->n_checks : 1, sizeof *r->check_incidents);
    struct ys_incident *one = ys_xcalloc(iv.n ? iv.n : 1, sizeof *one);
    for (size_t c = 0; c < cfg->n_checks; c++) {
        size_t n = 0;
        for (size_t i = 0; i < iv.n; i++)
            if (cfg->checks[c].store_id != 0 && iv.v[i].check_id == cfg->checks[c].store_id)
                one[n++] = iv.v[i];
        if (n == 0)
            continue;
        struct ys_report_check_incidents *ci = &r->check_incidents[r->n_check_incidents++];
        ci->check = &cfg->checks[c];
        ys_incident_stats(one, n, from, to, to, &ci->stats);
    }
    free(one);
out:
    free(iv.v);
    return rc;
}

int ys_report_build(struct ys_store *s, const struct ys_config *cfg, const struct ys_tz *tz,
                    int64_t at_ms, struct ys_report **out, struct ys_err *err)
{
    struct ys_report *r = ys_xcalloc(1, sizeof *r);
    int rc;
    r->cfg = cfg;
    r->at_ms = at_ms;
    r->incidents_from_ms = at_ms - YS_REPORT_INCIDENT_DAYS * YS_DAY_MS;
    ys_format_time(at_ms, r->at_text, sizeof r->at_text);
    config_title(cfg, r->title, sizeof r->title);
    if ((rc = build_goals(s, r, tz, err)) < 0)
        goto fail;
    build_milestones(r);
    r->n_slos = cfg->n_slos;
    r->slos = ys_xcalloc(cfg->n_slos ? cfg->n_slos : 1, sizeof *r->slos);
    for (size_t i = 0; i < cfg->n_slos; i++) {
        r->slos[i].slo = &cfg->slos[i];
        if ((rc = ys_query_slo(s, cfg, &cfg->slos[i], tz, at_ms, &r->slos[i].st, err)) < 0)
            goto fail;
    }
    if ((rc = build_incidents(s, r, err)) < 0)
        goto fail;
    *out = r;
    return 0;
fail:
    ys_report_free(r);
    return rc;
}

void ys_report_free(struct ys_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_areas; i++)
        free(r->areas[i].goals);
    free(r->areas);
    free(r->goals);
    free(r->milestones);
    free(r->slos);
    free(r->check_incidents);
    free(r);
}

static bool valid_date(int y, int m, int d)
{
    /* Rejects 2025-02-30. */
    return m >= 1 && m <= 12 && d >= 1 && y >= 1970 && y <= 9999 && d <= ys_days_in_month(y, m);
}

int ys_report_parse_at(const char *s, const struct ys_tz *tz, int64_t *out_ms)
{
    int y, m, d, hh, mi, ss, n = 0, oh, om;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && s[n] == '\0' && n == 10) {
        if (!valid_date(y, m, d))
            return YS_EINVAL;
        int64_t next_y;
        ys_civil_from_days(ys_days_from_civil(y, m, d) + 1, &next_y, &m, &d);
        *out_ms = ys_tz_local_to_utc(tz, (int)next_y, m, d, 0, 0, 0) * 1000;
        return 0;
    }
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &m, &d, &hh, &mi, &ss, &n) != 6 ||
        n != 19 || !valid_date(y, m, d) || hh > 23 || mi > 59 || ss > 60)
        return YS_EINVAL;
    const char *p = s + n;
    double frac = 0;
    if (*p == '.') {
        char *end;
        frac = strtod(p, &end);
        if (end == p + 1)
            return YS_EINVAL;
        p = end;
    }
    int64_t off_s = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off_s = 0;
    } else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
               n == 5 && p[6] == '\0' && oh <= 23 && om <= 59) {
        off_s = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else {
        return YS_EINVAL;
    }
    int64_t t = ys_days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss - off_s;
    *out_ms = t * 1000 + (int64_t)(frac * 1000.0 + 0.5);
    return 0;
}
