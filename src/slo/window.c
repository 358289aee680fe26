/*
 * window.c - SLO and goal windows (see window.h).
 *
 * A rolling window is a length ending at the evaluation instant. A calendar
 * window is the local month or quarter containing the instant, so its
 * length in milliseconds varies: 28 to 31 days, plus or minus an hour when
 * a DST change falls inside it (October in Europe/Berlin is 31 days and one
 * hour). Bounds are start-inclusive, end-exclusive. Pure; any thread.
 */
#include "slo/window.h"

#include "core/duration.h"
#include "core/err.h"

#include <strings.h>

int ys_window_parse(const char *s, struct ys_window *out)
{
    if (!s)
        return YS_EINVAL;
    out->length_ms = 0;
    if (strcasecmp(s, "month") == 0) {
        out->kind = YS_WINDOW_MONTH;
        return 0;
    }
    if (strcasecmp(s, "quarter") == 0) {
        out->kind = YS_WINDOW_QUARTER;
        return 0;
    }
    int64_t ms;
    if (ys_duration_parse(s, &ms) < 0 || ms <= 0)
        return YS_EINVAL;
    out->kind = YS_WINDOW_ROLLING;
    out->length_ms = ms;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void ys_window_bounds(const struct ys_window *w, const struct ys_tz *tz, int64_t at_ms,
                      int64_t *start_ms, int64_t *end_ms)
{
    if (w->kind == YS_WINDOW_ROLLING) {
        *start_ms = at_ms - w->length_ms;
        *end_ms = at_ms;
        return;
    }
    int y, m, d, hh, mm, ss;
    ys_tz_utc_to_local(tz, floor_div(at_ms, 1000), &y, &m, &d, &hh, &mm, &ss);
    int first = w->kind == YS_WINDOW_QUARTER ? (m - 1) / 3 * 3 + 1 : m;
    int span = w->kind == YS_WINDOW_QUARTER ? 3 : 1;
    int end_y = y, end_m = first + span;
    if (end_m > 12) {
        end_m -= 12;
        end_y++;
    }
    *start_ms = ys_tz_local_to_utc(tz, y, first, 1, 0, 0, 0) * 1000;
    *end_ms = ys_tz_local_to_utc(tz, end_y, end_m, 1, 0, 0, 0) * 1000;
}

int64_t ys_window_nominal_ms(const struct ys_window *w)
{
    if (w->kind == YS_WINDOW_ROLLING)
        return w->length_ms;
    return (w->kind == YS_WINDOW_QUARTER ? 90 : 30) * INT64_C(86400000);
}
