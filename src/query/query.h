/*
 * query.h - the thin layer between the store and the pure SLO maths: it
 * reads rollups, incidents and goal records through the store interface and
 * hands plain numbers to slo/. Used by `report`, and later by the web API
 * and the alert evaluator.
 *
 * Any thread, with a store connection of its own (read-only is enough).
 */
#ifndef YS_QUERY_QUERY_H
#define YS_QUERY_QUERY_H

#include "config/model.h"
#include "core/err.h"
#include "core/tz.h"
#include "slo/goal.h"
#include "slo/incident.h"
#include "slo/slo_math.h"
#include "store/store.h"

struct ys_sketch;

/* Minimum events for an SLI, a burn rate or a statistic to be more than
 * "no data". */
#define YS_QUERY_MIN_EVENTS 10

/* Totals for the checks ids[0..n) over [from_ms, to_ms), at minute
 * precision (the window's edges round to minutes), read from the coarsest
 * rollups that tile the range exactly (days inside, hours and minutes at
 * the edges). good counts ok probes, and when latency_threshold_us >= 0 only
 * those faster than it (from the sketches, within their 1% error). If
 * latency is not NULL, every duration sketch is merged into it. */
int ys_query_counts(struct ys_store *s, const uint32_t *ids, size_t n, int64_t from_ms,
                    int64_t to_ms, int64_t latency_threshold_us, struct ys_counts *out,
                    struct ys_sketch *latency, struct ys_err *err);

struct ys_slo_status {
    int64_t window_start_ms, window_end_ms;
    struct ys_counts counts;
    struct ys_budget budget;
    double burn[YS_BURN_COUNT]; /* NAN = no data */
    enum ys_alert_state alert;
    bool fired[4];              /* which of ys_burn_conditions fire */
};

/* Evaluates slo of cfg at now_ms in tz. */
int ys_query_slo(struct ys_store *s, const struct ys_config *cfg, const struct ys_slo *slo,
                 const struct ys_tz *tz, int64_t now_ms, struct ys_slo_status *out,
                 struct ys_err *err);

#define YS_TREND_DAYS 30

struct ys_goal_eval {
    bool has_value;
    double value;               /* in the target's unit */
    enum ys_goal_status status;
    struct ys_trend_point trend[YS_TREND_DAYS]; /* daily values, oldest first */
    size_t n_trend;
    struct ys_projection projection;
    /* What kept part of the data out, for a person ("source staging:
     * timed out after 10s; source prod: no series"); "" when nothing did.
     * Filled by PromQL measures, whose sources can fail one at a time. */
    char note[256];
};

/* Measures goal at now_ms: its value now, its daily trend over the last
 * YS_TREND_DAYS days, the projection and the status. */
int ys_query_goal(struct ys_store *s, const struct ys_config *cfg, const struct ys_goal *goal,
                  const struct ys_tz *tz, int64_t now_ms, struct ys_goal_eval *out,
                  struct ys_err *err);

/* Incident statistics of check_id (0: every check) over [from_ms, to_ms). */
int ys_query_incident_stats(struct ys_store *s, uint32_t check_id, int64_t from_ms,
                            int64_t to_ms, int64_t now_ms, struct ys_incident_stats *out,
                            struct ys_err *err);

#endif
