/*
 * slo.c - one SLO's state at an instant: SLI and error budget over its
 * window, burn rates over the seven standard windows, and the multiwindow
 * alert state. Counts come from ys_query_counts; the maths is slo/.
 *
 * The window's counts stop at now (a calendar month in progress counts its
 * days so far); the budget's exhaustion is projected at the 1h burn rate.
 *
 * Any thread, with its own store connection.
 */
#include "query/query_int.h"

#include <math.h>
#include <string.h>

int ys_query_slo(struct ys_store *s, const struct ys_config *cfg, const struct ys_slo *slo,
                 const struct ys_tz *tz, int64_t now_ms, struct ys_slo_status *out,
                 struct ys_err *err)
{
    struct ys_idlist ids = {0};
    int64_t threshold = slo->indicator == YS_SLI_LATENCY ? slo->latency_threshold_ms * 1000 : -1;
    int rc;
    memset(out, 0, sizeof *out);
    ys_query_slo_ids(cfg, slo, &ids);
    ys_window_bounds(&slo->window, tz, now_ms, &out->window_start_ms, &out->window_end_ms);
    int64_t to = out->window_end_ms < now_ms ? out->window_end_ms : now_ms;
    rc = ys_query_counts(s, ids.v, ids.n, out->window_start_ms, to, threshold, &out->counts, NULL,
                         err);
    for (int w = 0; rc == 0 && w < YS_BURN_COUNT; w++) {
        struct ys_counts c;
        rc = ys_query_counts(s, ids.v, ids.n, now_ms - ys_burn_window_ms[w], now_ms, threshold, &c,
                             NULL, err);
        out->burn[w] = ys_burn_rate(c, slo->objective, YS_QUERY_MIN_EVENTS);
    }
    ys_idlist_free(&ids);
    if (rc < 0)
        return rc;
    out->alert =
        ys_burn_alert(out->burn, ys_burn_scale(ys_window_nominal_ms(&slo->window)), out->fired);
    ys_budget_compute(out->counts, slo->objective, YS_QUERY_MIN_EVENTS, out->burn[YS_BURN_1H],
                      out->window_start_ms, out->window_end_ms, now_ms, &out->budget);
    return 0;
}
