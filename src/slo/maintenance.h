/*
 * maintenance.h - when a maintenance window is open: one-off windows
 * [start, end) and recurring ones (a cron schedule in a time zone, each
 * occurrence lasting a fixed duration). Pure; the alert evaluator asks it
 * before notifying, and the daemon before counting a result for SLOs.
 */
#ifndef YS_SLO_MAINTENANCE_H
#define YS_SLO_MAINTENANCE_H

#include "core/cron.h"
#include "core/tz.h"

#include <stdbool.h>
#include <stdint.h>

struct ys_maint_window {
    int64_t start_ms, end_ms;   /* one-off: [start, end), epoch ms; unused when recurring */
    bool recurring;
    const struct ys_cron *cron; /* recurring: an occurrence starts at each fire time... */
    int64_t duration_ms;        /* ...and lasts this long (occurrences may overlap) */
    const struct ys_tz *tz;     /* the cron's zone */
};

/* Whether w is open at t_ms. When open and until_ms is not NULL, *until_ms
 * is when it closes (the latest end of the occurrences open at t). */
bool ys_maint_active(const struct ys_maint_window *w, int64_t t_ms, int64_t *until_ms);
/* The next time after t_ms at which w opens, or -1 when never (a one-off
 * window in the past). */
int64_t ys_maint_next_open(const struct ys_maint_window *w, int64_t t_ms);

#endif
