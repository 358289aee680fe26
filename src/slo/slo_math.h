/*
 * slo_math.h - SLIs, error budgets and burn rates from event counts. Pure.
 *
 * An SLO counts events: total probes and good ones (ok for availability,
 * ok and faster than the threshold for latency). Over a window:
 *   SLI            = good / total
 *   allowed bad    = (1 - objective) * total
 *   budget left    = 1 - bad / allowed bad   (may go below 0)
 *   burn rate(w)   = (bad_w / total_w) / (1 - objective)
 * A burn rate of 1 spends exactly the budget over the window. The alert
 * conditions are the SRE workbook's multiwindow, multi-burn-rate ones.
 * With fewer than min_events events a figure is "no data", never 0 or 100%.
 */
#ifndef YS_SLO_SLO_MATH_H
#define YS_SLO_SLO_MATH_H

#include <stdbool.h>
#include <stdint.h>

struct ys_counts {
    uint64_t total;
    uint64_t good;
};

struct ys_budget {
    bool no_data;
    double sli;             /* good / total */
    double allowed_bad;     /* (1 - objective) * total */
    double consumed_bad;    /* total - good */
    double remaining;       /* 1 - consumed / allowed (ratio; negative when overspent) */
    int64_t exhausted_at_ms; /* when the budget runs out at the recent burn; 0: not before the window ends, or already */
};

/* Burn-rate windows, in this order everywhere (API, metrics, report). */
enum ys_burn_window {
    YS_BURN_5M = 0, YS_BURN_30M, YS_BURN_1H, YS_BURN_2H, YS_BURN_6H, YS_BURN_1D, YS_BURN_3D,
    YS_BURN_COUNT
};
extern const int64_t ys_burn_window_ms[YS_BURN_COUNT];
extern const char *const ys_burn_window_name[YS_BURN_COUNT]; /* "5m", "30m", ... */

enum ys_alert_state { YS_ALERT_NO_DATA = 0, YS_ALERT_OK, YS_ALERT_TICKET, YS_ALERT_PAGE };
const char *ys_alert_state_name(enum ys_alert_state s); /* "no data", "ok", "ticket", "page" */

/* One multiwindow condition: long and short window both above factor. */
struct ys_burn_condition {
    enum ys_burn_window long_w, short_w;
    double factor;
    enum ys_alert_state severity;
};
/* 14.4x 1h&5m page; 6x 6h&30m page; 3x 1d&2h ticket; 1x 3d&6h ticket. */
extern const struct ys_burn_condition ys_burn_conditions[4];

/* Burn rate from counts; NAN when counts.total < min_events. */
double ys_burn_rate(struct ys_counts c, double objective, uint64_t min_events);
/* The most severe condition that fires given burn[YS_BURN_COUNT] (NAN =
 * no data). Which conditions fire is written to fired[4] when not NULL. */
/* Each condition's factor is multiplied by scale: 1 keeps the workbook's
 * 30-day factors, ys_burn_scale(period) keeps their share of the budget
 * for an SLO of another period. */
enum ys_alert_state ys_burn_alert(const double burn[YS_BURN_COUNT], double scale, bool fired[4]);
/* period / 30 days: the workbook's factors spend 2%, 5%, 10% and 10% of a
 * 30-day budget in their long windows; the same shares of another
 * period's budget need the factors times this (Sloth does the same). */
double ys_burn_scale(int64_t period_ms);
/* Budget over a window [start_ms, end_ms) evaluated at now_ms; recent is
 * the burn rate used to project exhaustion (e.g. the 1h one; NAN: none).
 * Exhaustion: events arrive at total / (now - start) per ms, bad ones at
 * recent * (1 - objective) times that; the bad events still allowed run
 * out at now + (allowed - consumed) / that rate. exhausted_at_ms is 0 when
 * the budget is already spent (remaining <= 0: read remaining to tell), when
 * there is no recent burn (NAN or <= 0), or when the date falls at or after
 * the window's end. A rolling window ends at now (end_ms <= now_ms): its
 * horizon is then one window length ahead, an approximation since bad
 * events sliding out of the window would give budget back.
 * No data (total < min_events or 0): no_data, sli and remaining NAN. */
void ys_budget_compute(struct ys_counts window, double objective, uint64_t min_events,
                       double recent_burn, int64_t start_ms, int64_t end_ms, int64_t now_ms,
                       struct ys_budget *out);

#endif
