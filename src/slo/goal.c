/*
 * goal.c - goal status and the least-squares projection (see goal.h).
 * Pure; any thread.
 *
 * The fit runs over (x = days from now_ms, value), centred on now so that
 * millisecond timestamps near 2^41 do not swamp the sums; the intercept is
 * then moved to t = 0 ms as the header asks. A projection is valid only
 * with at least 3 points at two or more distinct times, and a slope moving
 * toward the bound (up for ">=", down for "<="). Ranges and booleans have
 * no direction, so they never project. Status (docs/goals.md):
 *   no data > met > missed (now after due) > on track (reach <= due) >
 *   at risk. A goal with no due date (due_ms 0) is never missed and is on
 *   track whenever the line reaches the bound at all.
 */
#include "slo/goal.h"

#include <math.h>

#define DAY_MS 86400000.0

const char *ys_goal_status_name(enum ys_goal_status s)
{
    switch (s) {
    case YS_GOAL_MET: return "met";
    case YS_GOAL_ON_TRACK: return "on track";
    case YS_GOAL_AT_RISK: return "at risk";
    case YS_GOAL_MISSED: return "missed";
    case YS_GOAL_NO_DATA:
    default: return "no data";
    }
}

void ys_goal_project(const struct ys_target *t, const struct ys_trend_point *v, size_t n,
                     int64_t now_ms, struct ys_projection *out)
{
    *out = (struct ys_projection){0};
    size_t used = 0;
    double sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i].value))
            continue;
        sx += (double)(v[i].t_ms - now_ms) / DAY_MS;
        sy += v[i].value;
        used++;
    }
    if (used < 3)
        return;
    double mx = sx / (double)used, my = sy / (double)used, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i].value))
            continue;
        double dx = (double)(v[i].t_ms - now_ms) / DAY_MS - mx;
        sxx += dx * dx;
        sxy += dx * (v[i].value - my);
    }
    if (!(sxx > 0))
        return;
    double slope = sxy / sxx;
    double at_now = my - slope * mx; /* the line's value at now_ms */
    out->slope_per_day = slope;
    out->intercept = at_now - slope * ((double)now_ms / DAY_MS);
    int dir = ys_target_direction(t);
    if (dir == 0 || !(slope * dir > 0))
        return;
    out->valid = true;
    double days = (t->lo - at_now) / slope;
    if (fabs(days) < 1e6) /* beyond ~2700 years: "never" */
        out->reach_ms = now_ms + (int64_t)llround(days * DAY_MS);
}

enum ys_goal_status ys_goal_status(const struct ys_target *t, bool has_value, double value,
                                   int64_t due_ms, int64_t now_ms, const struct ys_projection *proj)
{
    if (!has_value || isnan(value))
        return YS_GOAL_NO_DATA;
    if (ys_target_met(t, value))
        return YS_GOAL_MET;
    if (due_ms != 0 && now_ms > due_ms)
        return YS_GOAL_MISSED;
    if (proj && proj->valid && proj->reach_ms != 0 && (due_ms == 0 || proj->reach_ms <= due_ms))
        return YS_GOAL_ON_TRACK;
    return YS_GOAL_AT_RISK;
}
