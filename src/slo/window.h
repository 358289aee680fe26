/*
 * window.h - SLO and goal windows: rolling (the last 30d) or calendar
 * (this month, this quarter) in a time zone. Pure.
 */
#ifndef YS_SLO_WINDOW_H
#define YS_SLO_WINDOW_H

#include "core/tz.h"

#include <stdint.h>

enum ys_window_kind { YS_WINDOW_ROLLING = 0, YS_WINDOW_MONTH, YS_WINDOW_QUARTER };

struct ys_window {
    enum ys_window_kind kind;
    int64_t length_ms; /* rolling only */
};

/* Parses "30d", "4w", "month", "quarter". Returns 0 or YS_EINVAL. */
int ys_window_parse(const char *s, struct ys_window *out);
/* The window's nominal length: a rolling window's own; 30 days for a
 * calendar month and 90 for a quarter (what burn-rate factors are scaled
 * by: they cannot follow the calendar). */
int64_t ys_window_nominal_ms(const struct ys_window *w);
/* The window containing at_ms: rolling [at - length, at); calendar the
 * local month or quarter (start inclusive, end exclusive) in tz. */
void ys_window_bounds(const struct ys_window *w, const struct ys_tz *tz, int64_t at_ms,
                      int64_t *start_ms, int64_t *end_ms);

#endif
