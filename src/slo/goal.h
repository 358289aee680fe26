/*
 * goal.h - goal status and projection. Pure.
 *
 * Status rules (docs/goals.md):
 *   no data   - nothing measured yet
 *   met       - the measured value meets the target now
 *   missed    - not met, and the due date has passed
 *   on track  - not met, but the trend's projection reaches the target by due
 *   at risk   - not met, and the projection does not reach it by due (or
 *               there is no trend to project: too few points, flat or
 *               moving away)
 * The projection is a least-squares line through the daily values.
 */
#ifndef YS_SLO_GOAL_H
#define YS_SLO_GOAL_H

#include "slo/target.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ys_goal_status {
    YS_GOAL_NO_DATA = 0, YS_GOAL_MET, YS_GOAL_ON_TRACK, YS_GOAL_AT_RISK, YS_GOAL_MISSED
};
const char *ys_goal_status_name(enum ys_goal_status s); /* "no data", "met", "on track", ... */

struct ys_trend_point {
    int64_t t_ms;
    double value;
};

struct ys_projection {
    bool valid;          /* enough points (>= 3) and a non-zero slope toward the target */
    double slope_per_day;
    double intercept;    /* value at t = 0 ms */
    int64_t reach_ms;    /* when the line meets the target's bound; 0 if never */
};

/* Least-squares fit of points toward t's bound. */
void ys_goal_project(const struct ys_target *t, const struct ys_trend_point *v, size_t n,
                     int64_t now_ms, struct ys_projection *out);
enum ys_goal_status ys_goal_status(const struct ys_target *t, bool has_value, double value,
                                   int64_t due_ms, int64_t now_ms,
                                   const struct ys_projection *proj);

#endif
