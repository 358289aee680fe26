/*
 * slo_math.c - SLIs, error budgets, burn rates and the multiwindow alert
 * conditions (see slo_math.h). Pure functions of event counts; any thread.
 *
 * Conventions kept here so every consumer agrees:
 *   - "no data" is NAN for a burn rate and no_data for a budget, never 0.
 *   - a condition fires when BOTH its windows burn strictly above its
 *     factor (as the workbook's "> 14.4 * error budget" rules), so a burn
 *     of exactly 14.4 does not page.
 *   - ys_burn_alert says "no data" only when no condition could be judged
 *     (each has a window without data); otherwise "ok" if none fires.
 *   - an objective of 100% has no budget: burn is 0 without failures and
 *     +inf with any; remaining is 1 without failures and 0 with any.
 */
#include "slo/slo_math.h"

#include <math.h>

const int64_t ys_burn_window_ms[YS_BURN_COUNT] = {
    5 * 60000, 30 * 60000, 3600000, 2 * 3600000, 6 * 3600000, 86400000, 3 * 86400000,
};

const char *const ys_burn_window_name[YS_BURN_COUNT] = {"5m", "30m", "1h", "2h", "6h", "1d", "3d"};

const struct ys_burn_condition ys_burn_conditions[4] = {
    {YS_BURN_1H, YS_BURN_5M, 14.4, YS_ALERT_PAGE},
    {YS_BURN_6H, YS_BURN_30M, 6.0, YS_ALERT_PAGE},
    {YS_BURN_1D, YS_BURN_2H, 3.0, YS_ALERT_TICKET},
    {YS_BURN_3D, YS_BURN_6H, 1.0, YS_ALERT_TICKET},
};

const char *ys_alert_state_name(enum ys_alert_state s)
{
    switch (s) {
    case YS_ALERT_OK: return "ok";
    case YS_ALERT_TICKET: return "ticket";
    case YS_ALERT_PAGE: return "page";
    case YS_ALERT_NO_DATA:
    default: return "no data";
    }
}

static uint64_t bad_events(struct ys_counts c)
{
    return c.good >= c.total ? 0 : c.total - c.good;
}

double ys_burn_rate(struct ys_counts c, double objective, uint64_t min_events)
{
    if (c.total == 0 || c.total < min_events)
        return NAN;
    double bad_share = (double)bad_events(c) / (double)c.total;
    double allowed_share = 1.0 - objective;
    if (allowed_share <= 0)
        return bad_share > 0 ? INFINITY : 0.0;
    return bad_share / allowed_share;
}

double ys_burn_scale(int64_t period_ms)
{
    return period_ms > 0 ? (double)period_ms / (30.0 * 86400000.0) : 1.0;
}

enum ys_alert_state ys_burn_alert(const double burn[YS_BURN_COUNT], double scale, bool fired[4])
{
    enum ys_alert_state state = YS_ALERT_NO_DATA;
    for (int i = 0; i < 4; i++) {
        const struct ys_burn_condition *c = &ys_burn_conditions[i];
        double lw = burn[c->long_w], sw = burn[c->short_w];
        bool judged = !isnan(lw) && !isnan(sw);
        double factor = c->factor * scale;
        bool fires = judged && lw > factor && sw > factor;
        if (fired)
            fired[i] = fires;
        if (judged && state == YS_ALERT_NO_DATA)
            state = YS_ALERT_OK;
        if (fires && c->severity > state)
            state = c->severity;
    }
    return state;
}

/* When the remaining budget runs out at the recent burn; 0 if not before
 * the horizon. A rolling window ends "now" and slides: its horizon is one
 * window length ahead, and bad events sliding out of the window (which
 * would give budget back) are ignored, so the date is an approximation
 * that errs early. */
static int64_t exhaustion(double remaining_bad, double recent_burn, double objective,
                          uint64_t total, int64_t start_ms, int64_t end_ms, int64_t now_ms)
{
    if (remaining_bad <= 0 || isnan(recent_burn) || recent_burn <= 0 || now_ms <= start_ms)
        return 0;
    double rate = (double)total / (double)(now_ms - start_ms); /* events per ms */
    double bad_per_ms = recent_burn * (1.0 - objective) * rate;
    if (!(bad_per_ms > 0))
        return 0;
    int64_t horizon = end_ms > now_ms ? end_ms : now_ms + (end_ms - start_ms);
    double at = (double)now_ms + remaining_bad / bad_per_ms;
    if (!(at < (double)horizon))
        return 0;
    return (int64_t)ceil(at);
}

void ys_budget_compute(struct ys_counts window, double objective, uint64_t min_events,
                       double recent_burn, int64_t start_ms, int64_t end_ms, int64_t now_ms,
                       struct ys_budget *out)
{
    *out = (struct ys_budget){0};
    if (window.total == 0 || window.total < min_events) {
        out->no_data = true;
        out->sli = NAN;
        out->remaining = NAN;
        return;
    }
    double total = (double)window.total;
    out->consumed_bad = (double)bad_events(window);
    out->sli = (total - out->consumed_bad) / total;
    out->allowed_bad = (1.0 - objective) * total;
    if (out->allowed_bad > 0)
        out->remaining = 1.0 - out->consumed_bad / out->allowed_bad;
    else
        out->remaining = out->consumed_bad > 0 ? 0.0 : 1.0;
    out->exhausted_at_ms = exhaustion(out->allowed_bad - out->consumed_bad, recent_burn, objective,
                                      window.total, start_ms, end_ms, now_ms);
}
