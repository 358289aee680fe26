/*
 * cron.h - five-field cron schedules ("0 * * * *", "30 2 * * 1-5",
 * "@daily") evaluated in a time zone, for heartbeat slots and recurring
 * maintenance windows.
 *
 * Fields: minute hour day-of-month month day-of-week, each a list of
 * values, ranges and steps (`*`, `5`, `1-5`, `*\/15`, `10-50/20`, `1,3,5`),
 * month and weekday names (JAN, MON), 7 as Sunday, and the macros
 * @hourly @daily @midnight @weekly @monthly @yearly @annually. As in Vixie
 * cron, when both day-of-month and day-of-week are restricted a day
 * matches if either does.
 *
 * Local times skipped by a DST gap fire once, at the first instant after
 * the gap; local times that occur twice fire once, at the first of them.
 * Pure: no I/O, no global state.
 */
#ifndef YS_CORE_CRON_H
#define YS_CORE_CRON_H

#include "core/err.h"
#include "core/tz.h"

#include <stdint.h>

struct ys_cron {
    uint64_t minutes;  /* bit m set: minute m (0-59) */
    uint32_t hours;    /* bit h: hour 0-23 */
    uint32_t mdays;    /* bit d: day of month 1-31 */
    uint16_t months;   /* bit m: month 1-12 */
    uint8_t wdays;     /* bit w: weekday 0-6, 0 = Sunday */
    unsigned char mday_star, wday_star; /* the field was `*` (or `*\/n`) */
};

/* Parses expr. Returns 0, or YS_EINVAL with err naming the field and the
 * token at fault ("hour: 24 is out of range 0-23"). */
int ys_cron_parse(const char *expr, struct ys_cron *out, struct ys_err *err);
/* The first fire time strictly after after_ms (epoch ms, UTC) in tz, in
 * epoch ms; -1 when none within 5 years (e.g. "0 0 30 2 *"). */
int64_t ys_cron_next(const struct ys_cron *c, const struct ys_tz *tz, int64_t after_ms);
/* The last fire time at or before at_ms; -1 when none within 5 years. */
int64_t ys_cron_prev(const struct ys_cron *c, const struct ys_tz *tz, int64_t at_ms);

#endif
