/*
 * goal.c - a goal's measured value at an instant, its daily trend over the
 * last YS_TREND_DAYS days, the projection and the status.
 *
 * The value is in the target's unit (target.h): percents as 99.5, latencies
 * and incident durations in seconds, freshness as the age in seconds of the
 * newest passing result. Each trend point is the same measurement taken
 * over the window that ends at that local day's end (today: at now); days
 * with no data are left out, so the projection only fits real values.
 *
 * cold_p50/cold_p95/warm_p50/warm_p95 (http cold_start) read raw results
 * within the raw retention, the only place that tells cold from warm.
 * PromQL measures read their sources instead of the store
 * (goal_promql.c).
 *
 * Cost: a rolling window of whole days whose trend days end on UTC
 * midnights reads the day rollups once and sums them per window
 * (daily_trend); anything else is one measurement per trend day. A
 * selector's pass share has no trend (it is a snapshot).
 *
 * Any thread, with its own store connection.
 */
#include "query/goal_promql.h"
#include "query/query_int.h"

#include "core/xalloc.h"
#include "slo/sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct measurement {
    bool has;
    double value;
};

static void measure_window(const struct ys_config *cfg, const struct ys_measure *m,
                           struct ys_window *w)
{
    *w = m->window;
    if (w->kind == YS_WINDOW_ROLLING && w->length_ms <= 0) {
        if (m->kind == YS_MEASURE_SLO && m->ref_index < cfg->n_slos)
            *w = cfg->slos[m->ref_index].window;
        else
            *w = (struct ys_window){YS_WINDOW_ROLLING, 30 * YS_DAY_MS};
    }
}

static void measure_ids(const struct ys_config *cfg, const struct ys_measure *m,
                        struct ys_idlist *ids)
{
    if (m->kind == YS_MEASURE_SLO && m->ref_index < cfg->n_slos)
        ys_query_slo_ids(cfg, &cfg->slos[m->ref_index], ids);
    else if (m->kind == YS_MEASURE_CHECK && m->ref_index < cfg->n_checks &&
             cfg->checks[m->ref_index].store_id != 0)
        ys_idlist_push(ids, cfg->checks[m->ref_index].store_id);
    else if (m->kind == YS_MEASURE_SELECTOR)
        ys_query_selector_ids(cfg, &m->selector, ids);
}

static double quantile_of(enum ys_measure_stat st)
{
    switch (st) {
    case YS_STAT_P50: return 0.50;
    case YS_STAT_P90: return 0.90;
    case YS_STAT_P95: return 0.95;
    default: return 0.99;
    }
}

static int has_value(const struct ys_result *r)
{
    return (r->flags & YS_RF_HAS_VALUE) != 0;
}
static int has_tls(const struct ys_result *r)
{
    return (r->flags & YS_RF_HAS_TLS) != 0;
}
static int is_ok(const struct ys_result *r)
{
    return r->ok;
}

/* last_value, cert_days_left, freshness and pass_share: from the newest
 * raw results before at. */
static int newest_stat(struct ys_store *s, const struct ys_config *cfg, const struct ys_idlist *ids,
                       enum ys_measure_stat st, int64_t at, struct measurement *out,
                       struct ys_err *err)
{
    ys_result_pred want = st == YS_STAT_LAST_VALUE       ? has_value
                          : st == YS_STAT_CERT_DAYS_LEFT ? has_tls
                          : st == YS_STAT_FRESHNESS      ? is_ok
                                                         : NULL;
    struct ys_result best, r;
    size_t seen = 0, passing = 0;
    bool found = false;
    for (size_t i = 0; i < ids->n; i++) {
        int rc = ys_query_newest(s, cfg, ids->v[i], at, want, &r, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        seen++;
        passing += r.ok;
        if (!found || r.ts_ms > best.ts_ms)
            best = r;
        found = true;
    }
    if (st == YS_STAT_PASS_SHARE) {
        /* A matching check with no result yet counts as not passing. */
        out->has = seen > 0;
        out->value = out->has ? 100.0 * (double)passing / (double)ids->n : 0;
        return 0;
    }
    out->has = found;
    if (!found)
        return 0;
    if (st == YS_STAT_LAST_VALUE)
        out->value = best.value;
    else if (st == YS_STAT_CERT_DAYS_LEFT)
        out->value = (double)ys_tls_days_left(&best.tls, at / 1000);
    else
        out->value = (double)(at - best.ts_ms) / 1000.0;
    return 0;
}

static int incident_stat(struct ys_store *s, const struct ys_idlist *ids, enum ys_measure_stat st,
                         int64_t from, int64_t to, int64_t at, struct measurement *out,
                         struct ys_err *err)
{
    struct ys_incident_stats is;
    int rc = ys_query_incident_stats_ids(s, ids->v, ids->n, from, to, at, &is, err);
    if (rc < 0)
        return rc;
    switch (st) {
    case YS_STAT_MTTR:
        out->has = is.mttr_ms >= 0;
        out->value = (double)is.mttr_ms / 1000.0;
        break;
    case YS_STAT_LONGEST_OUTAGE: out->value = (double)is.longest_ms / 1000.0; break;
    case YS_STAT_DOWNTIME: out->value = (double)is.downtime_ms / 1000.0; break;
    default: out->value = (double)is.count; break;
    }
    return 0;
}

struct manual_acc {
    bool found;
    double value;
};

static int keep_record(const struct ys_goal_record *rec, void *arg)
{
    struct manual_acc *m = arg;
    m->found = true;
    m->value = rec->value; /* oldest first: the last one wins */
    return 0;
}

/* cold_start latencies: rollups and sketches do not tell cold from warm,
 * so these read raw results. Cold: results flagged YS_RF_COLD. Warm: in
 * header mode the results not flagged; in idle mode the warm request's
 * time the probe wrote into facts ("warm_us", probe/http.c). */
struct cold_acc {
    struct ys_sketch *sk;
    bool warm;
};

static int add_cold(const struct ys_result *r, void *arg)
{
    struct cold_acc *a = arg;
    bool cold = (r->flags & YS_RF_COLD) != 0;
    /* Facts are our own one-line JSON of fixed shape: a search for the key
     * is enough, no JSON parser needed. */
    const char *w = cold ? strstr(r->facts, "\"warm_us\":") : NULL;
    const char *ws = w ? strstr(r->facts, "\"warm_status\":") : NULL;
    if (ws && (atoi(ws + 14) == 0 || atoi(ws + 14) >= 500))
        w = NULL; /* the warm request failed: no warm latency */
    /* Latencies are of probes that passed: a cold start that fails fast
     * (refused, a quick 503) would otherwise pull the cold P50 down. Its
     * failure counts in the check's availability instead. */
    if (!r->ok && !(a->warm && w))
        return 0;
    if (!a->warm && cold)
        ys_sketch_add(a->sk, (double)r->duration_us, 1);
    else if (a->warm && w)
        ys_sketch_add(a->sk, (double)strtoll(w + 10, NULL, 10), 1);
    else if (a->warm && !cold && strstr(r->facts, "\"cold\":false"))
        ys_sketch_add(a->sk, (double)r->duration_us, 1);
    return 0;
}

static int cold_stat(struct ys_store *s, const struct ys_config *cfg, const struct ys_idlist *ids,
                     enum ys_measure_stat st, int64_t from, int64_t to, struct measurement *out,
                     struct ys_err *err)
{
    int64_t raw = cfg->storage.retention.raw_ms > 0 ? cfg->storage.retention.raw_ms : 7 * YS_DAY_MS;
    if (from < to - raw)
        from = to - raw; /* older raw results are pruned: do not scan for them */
    struct cold_acc a = {ys_sketch_new(), st == YS_STAT_WARM_P50 || st == YS_STAT_WARM_P95};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ids->n; i++)
        rc = s->type->query_raw(s, ids->v[i], from, to, add_cold, &a, err);
    /* Cold probes are rare by design (one per idle period): any counts. */
    if (rc == 0 && ys_sketch_count(a.sk) > 0) {
        bool p50 = st == YS_STAT_COLD_P50 || st == YS_STAT_WARM_P50;
        out->value = ys_sketch_quantile(a.sk, p50 ? 0.50 : 0.95) / 1e6;
        out->has = !isnan(out->value);
    }
    ys_sketch_free(a.sk);
    return rc;
}

/* Counts-based statistics (SLI, availability, percentiles) and incident
 * statistics over the measure's window ending at at. */
static int window_stat(struct ys_store *s, const struct ys_config *cfg, const struct ys_goal *g,
                       const struct ys_idlist *ids, const struct ys_tz *tz, int64_t at,
                       struct measurement *out, struct ys_err *err)
{
    const struct ys_measure *m = &g->measure;
    struct ys_window w;
    int64_t from, end, threshold = -1;
    measure_window(cfg, m, &w);
    ys_window_bounds(&w, tz, at, &from, &end);
    int64_t to = end < at ? end : at;
    if (m->stat >= YS_STAT_COLD_P50 && m->stat <= YS_STAT_WARM_P95)
        return cold_stat(s, cfg, ids, m->stat, from, to, out, err);
    bool pct = m->stat >= YS_STAT_P50 && m->stat <= YS_STAT_P99;
    if (m->kind == YS_MEASURE_SLO && m->stat == YS_STAT_SLI && m->ref_index < cfg->n_slos &&
        cfg->slos[m->ref_index].indicator == YS_SLI_LATENCY)
        threshold = cfg->slos[m->ref_index].latency_threshold_ms * 1000;
    struct ys_sketch *sk = pct ? ys_sketch_new() : NULL;
    struct ys_counts c;
    int rc = ys_query_counts(s, ids->v, ids->n, from, to, threshold, &c, sk, err);
    if (rc == 0 && c.total >= YS_QUERY_MIN_EVENTS) {
        out->has = true;
        if (pct)
            out->value = ys_sketch_quantile(sk, quantile_of(m->stat)) / 1e6;
        else if (m->stat <= YS_STAT_AVAILABILITY)
            out->value = 100.0 * (double)c.good / (double)c.total;
        else
            rc = incident_stat(s, ids, m->stat, from, to, at, out, err);
        out->has = out->has && !isnan(out->value);
    }
    ys_sketch_free(sk);
    return rc;
}

static int measure_at(struct ys_store *s, const struct ys_config *cfg, const struct ys_goal *g,
                      const struct ys_tz *tz, int64_t at, struct measurement *out,
                      struct ys_err *err)
{
    const struct ys_measure *m = &g->measure;
    memset(out, 0, sizeof *out);
    if (!s)
        return 0;
    if (m->kind == YS_MEASURE_MANUAL) {
        struct manual_acc acc = {false, 0};
        int rc = s->type->query_goal_records(s, g->id, INT64_MIN / 2, at, keep_record, &acc, err);
        out->has = acc.found;
        out->value = acc.value;
        return rc;
    }
    struct ys_idlist ids = {0};
    int rc = 0;
    measure_ids(cfg, m, &ids);
    if (ids.n == 0)
        ; /* nothing the store knows: no data */
    else if (m->stat == YS_STAT_LAST_VALUE || m->stat == YS_STAT_CERT_DAYS_LEFT ||
             m->stat == YS_STAT_FRESHNESS || m->stat == YS_STAT_PASS_SHARE)
        rc = newest_stat(s, cfg, &ids, m->stat, at, out, err);
    else
        rc = window_stat(s, cfg, g, &ids, tz, at, out, err);
    ys_idlist_free(&ids);
    return rc;
}

/* End (next local midnight) of the local day `back` days before the one
 * holding now_ms. */
static int64_t day_end(const struct ys_tz *tz, int64_t now_ms, int back)
{
    int y, m, d, hh, mm, ss;
    ys_tz_utc_to_local(tz, now_ms / 1000, &y, &m, &d, &hh, &mm, &ss);
    int64_t day_y;
    ys_civil_from_days(ys_days_from_civil(y, m, d) - back + 1, &day_y, &m, &d);
    return ys_tz_local_to_utc(tz, (int)day_y, m, d, 0, 0, 0) * 1000;
}

/* Whether the trend can come from one read of day rollups: a counts or
 * sketch statistic over a rolling window of whole days, every trend day
 * ending on a UTC midnight (always so in UTC). The sums are then exactly
 * what ys_query_counts returns for each window, at a fifteenth of the
 * rows: 59 day rows per check instead of 30 windows of 30. */
static bool daily_trend_ok(const struct ys_config *cfg, const struct ys_goal *g,
                           const int64_t *ends, size_t n, struct ys_window *w)
{
    enum ys_measure_stat st = g->measure.stat;
    if (g->measure.kind == YS_MEASURE_MANUAL || n == 0 || st > YS_STAT_P99)
        return false;
    measure_window(cfg, &g->measure, w);
    if (w->kind != YS_WINDOW_ROLLING || w->length_ms <= 0 || w->length_ms % YS_DAY_MS != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ends[i] % YS_DAY_MS != 0)
            return false;
    return true;
}

static int daily_trend(struct ys_store *s, const struct ys_config *cfg, const struct ys_goal *g,
                       const int64_t *ends, size_t n, const struct ys_window *w,
                       struct ys_goal_eval *out, struct ys_err *err)
{
    const struct ys_measure *m = &g->measure;
    bool pct = m->stat >= YS_STAT_P50 && m->stat <= YS_STAT_P99;
    int64_t threshold = -1, first = ends[0] - w->length_ms;
    size_t wdays = (size_t)(w->length_ms / YS_DAY_MS);
    size_t ndays = (size_t)((ends[n - 1] - first) / YS_DAY_MS);
    if (m->kind == YS_MEASURE_SLO && m->stat == YS_STAT_SLI &&
        cfg->slos[m->ref_index].indicator == YS_SLI_LATENCY)
        threshold = cfg->slos[m->ref_index].latency_threshold_ms * 1000;
    struct ys_idlist ids = {0};
    measure_ids(cfg, m, &ids);
    struct ys_counts *day = ys_xcalloc(ndays, sizeof *day);
    struct ys_sketch **sk = pct ? ys_xcalloc(ndays, sizeof *sk) : NULL;
    for (size_t k = 0; pct && k < ndays; k++)
        sk[k] = ys_sketch_new();
    int rc = ys_query_daily_counts(s, ids.v, ids.n, first, ndays, threshold, day, sk, err);
    struct ys_sketch *merged = pct ? ys_sketch_new() : NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t hi = (size_t)((ends[i] - first) / YS_DAY_MS);
        struct ys_counts c = {0, 0};
        if (merged)
            ys_sketch_clear(merged);
        for (size_t k = hi - wdays; k < hi; k++) {
            c.total += day[k].total;
            c.good += day[k].good;
            if (merged)
                ys_sketch_merge(merged, sk[k]);
        }
        if (c.total < YS_QUERY_MIN_EVENTS)
            continue;
        double v = pct ? ys_sketch_quantile(merged, quantile_of(m->stat)) / 1e6
                       : 100.0 * (double)c.good / (double)c.total;
        if (!isnan(v))
            out->trend[out->n_trend++] = (struct ys_trend_point){ends[i], v};
    }
    for (size_t k = 0; pct && k < ndays; k++)
        ys_sketch_free(sk[k]);
    free(sk);
    free(day);
    ys_sketch_free(merged);
    ys_idlist_free(&ids);
    return rc;
}

/* A PromQL measure asks its sources, not the store (goal_promql.c); the
 * trend days are the same local day ends as for the other measures. */
static int promql_goal(const struct ys_config *cfg, const struct ys_goal *goal,
                       const struct ys_tz *tz, int64_t now_ms, struct ys_goal_eval *out)
{
    int64_t ends[YS_TREND_DAYS];
    size_t n_ends = 0;
    for (int back = YS_TREND_DAYS - 1; back >= 1; back--) {
        int64_t t = day_end(tz, now_ms, back);
        if (t <= now_ms)
            ends[n_ends++] = t;
    }
    ys_query_goal_promql(cfg, goal, tz, now_ms, ends, n_ends, &out->has_value, &out->value, out);
    if (out->has_value)
        out->trend[out->n_trend++] = (struct ys_trend_point){now_ms, out->value};
    ys_goal_project(&goal->target, out->trend, out->n_trend, now_ms, &out->projection);
    out->status = ys_goal_status(&goal->target, out->has_value, out->value, goal->due_ms, now_ms,
                                 &out->projection);
    return 0;
}

int ys_query_goal(struct ys_store *s, const struct ys_config *cfg, const struct ys_goal *goal,
                  const struct ys_tz *tz, int64_t now_ms, struct ys_goal_eval *out,
                  struct ys_err *err)
{
    struct measurement now, p;
    int64_t ends[YS_TREND_DAYS];
    size_t n_ends = 0;
    struct ys_window w;
    memset(out, 0, sizeof *out);
    if (goal->measure.kind == YS_MEASURE_PROMQL)
        return promql_goal(cfg, goal, tz, now_ms, out);
    int rc = measure_at(s, cfg, goal, tz, now_ms, &now, err);
    /* The pass share of a selector is a snapshot of many checks' newest
     * results: it has no trend (30 days of it would read 30 x n checks'
     * raw chunks). */
    bool trend =
        goal->measure.kind == YS_MEASURE_MANUAL || goal->measure.stat != YS_STAT_PASS_SHARE;
    for (int back = YS_TREND_DAYS - 1; trend && back >= 1; back--) {
        int64_t t = day_end(tz, now_ms, back);
        if (t <= now_ms)
            ends[n_ends++] = t;
    }
    if (rc == 0 && s && daily_trend_ok(cfg, goal, ends, n_ends, &w))
        rc = daily_trend(s, cfg, goal, ends, n_ends, &w, out, err);
    else
        for (size_t i = 0; rc == 0 && i < n_ends; i++)
            if ((rc = measure_at(s, cfg, goal, tz, ends[i], &p, err)) == 0 && p.has)
                out->trend[out->n_trend++] = (struct ys_trend_point){ends[i], p.value};
    if (rc < 0)
        return rc;
    if (now.has)
        out->trend[out->n_trend++] = (struct ys_trend_point){now_ms, now.value};
    out->has_value = now.has;
    out->value = now.value;
    ys_goal_project(&goal->target, out->trend, out->n_trend, now_ms, &out->projection);
    out->status =
        ys_goal_status(&goal->target, now.has, now.value, goal->due_ms, now_ms, &out->projection);
    return 0;
}
