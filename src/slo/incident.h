/*
 * incident.h - incidents: failing periods of a check, and their statistics.
 * Pure.
 *
 * An incident opens after open_after consecutive failures and closes after
 * close_after consecutive successes, so one dropped packet is no outage.
 * It starts at the first failure of the opening streak and ends at the
 * first success of the closing streak; its first error is the message of
 * that first failure.
 */
#ifndef YS_SLO_INCIDENT_H
#define YS_SLO_INCIDENT_H

#include "core/result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_incident {
    uint32_t check_id;
    int64_t start_ms;
    int64_t end_ms; /* 0 while open */
    char first_error[YS_RESULT_MSG_MAX];
};

/* Per-check state machine, fed results in time order. */
struct ys_incident_tracker {
    int open_after;  /* default 2 */
    int close_after; /* default 1 */
    int fail_streak, ok_streak;
    bool open;
    int64_t streak_start_ms; /* first failure of the current failing streak */
    int64_t recovery_ms;     /* first success of the current ok streak while open */
    char streak_error[YS_RESULT_MSG_MAX];
    struct ys_incident current; /* valid while open */
};

enum ys_incident_event { YS_INCIDENT_NONE = 0, YS_INCIDENT_OPENED, YS_INCIDENT_CLOSED };

void ys_incident_tracker_init(struct ys_incident_tracker *t, uint32_t check_id, int open_after,
                              int close_after);
/* Resumes tracking an incident that was open when the process stopped. */
void ys_incident_tracker_resume(struct ys_incident_tracker *t, const struct ys_incident *open);
/* Feeds one result. On OPENED or CLOSED, *out holds the incident (for
 * CLOSED with end_ms set). */
enum ys_incident_event ys_incident_feed(struct ys_incident_tracker *t, int64_t ts_ms, bool ok,
                                        const char *message, struct ys_incident *out);

struct ys_incident_stats {
    size_t count;         /* incidents overlapping the window */
    int64_t downtime_ms;  /* their total duration clipped to the window */
    int64_t longest_ms;   /* the longest (clipped) */
    int64_t mttr_ms;      /* mean time to recovery of closed ones; -1 if none */
    int64_t mtbf_ms;      /* mean time between failures: (window - downtime) / count; -1 if none */
};

/* Statistics of incidents (any order) over [start_ms, end_ms), treating an
 * open incident as lasting until min(now_ms, end_ms). */
void ys_incident_stats(const struct ys_incident *v, size_t n, int64_t start_ms, int64_t end_ms,
                       int64_t now_ms, struct ys_incident_stats *out);

#endif
