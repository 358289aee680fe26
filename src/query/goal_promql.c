/*
 * goal_promql.c - evaluating a goal measured by PromQL (goal_promql.h)
 * against its prometheus sources, when a report, the web API or the alert
 * evaluator asks for the goal.
 *
 * Now: one instant query per source at now, with $window replaced by the
 * goal's window (rolling: its length; calendar: from the window's start to
 * now). Trend: for a rolling window one query_range per source, step 1d,
 * from the first trend day's end to the last, so a source answers the
 * whole trend in one request; for a calendar window, whose length changes
 * every day, one instant query per source and day of the current window.
 * A source's value at an instant is the mean of its series (their count
 * kept), merged across sources by goal_promql_merge.c.
 *
 * The requests of one round run in parallel on a libcurl multi handle of
 * this call's own (the caller's thread blocks: report, web, or the alert
 * evaluator's threadpool, never the loop), each bounded by its source's
 * timeout, else defaults.timeout. Request setup, credentials and the
 * JSON envelope are the promql kind's (probe/promql_http.c). A source
 * that fails or returns no series is named in the note and left out;
 * all of them failing is no data, never 0.
 */
#include "query/goal_promql.h"
#include "query/query_int.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "probe/promql.h"
#include "probe/promql_http.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_MAX_RESPONSE (4 * YS_PROMQL_MAX_RESPONSE) /* 30 points a series */
#define WHY_MAX (YS_RESULT_MSG_MAX + 32)                /* "class: " and a message */

/* One request: a source's instant or range query. */
struct pq_req {
    struct ys_promql_http http;
    const struct ys_source *src;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode code;
    long status;
};

static int64_t source_timeout(const struct ys_config *cfg, const struct ys_source *src)
{
    if (src->timeout_ms > 0)
        return src->timeout_ms;
    return cfg->defaults.timeout_ms > 0 ? cfg->defaults.timeout_ms : 10000;
}

/* Sets q up for path (borrowed) on src. */
static void req_init(struct pq_req *q, const struct ys_config *cfg, const struct ys_source *src,
                     const char *path, size_t body_max)
{
    memset(q, 0, sizeof *q);
    q->src = src;
    CURL *easy = curl_easy_init();
    if (!easy)
        abort(); /* libcurl only fails here when out of memory */
    ys_promql_http_setup(&q->http, easy, src, path, source_timeout(cfg, src), body_max);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, q);
}

static void req_free(struct pq_req *q)
{
    curl_easy_cleanup(q->http.easy);
    ys_promql_http_cleanup(&q->http);
}

/* Runs every request of qs at once; returns when each has finished or
 * timed out (each easy handle carries its own timeout). */
static void run_all(struct pq_req *qs, size_t n)
{
    CURLM *m = curl_multi_init();
    if (!m)
        abort();
    for (size_t i = 0; i < n; i++) {
        qs[i].code = CURLE_FAILED_INIT;
        curl_multi_add_handle(m, qs[i].http.easy);
    }
    int running = 1, left;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
            break;
    }
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left))) {
        char *priv = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        struct pq_req *q = (struct pq_req *)priv;
        q->code = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &q->status);
    }
    for (size_t i = 0; i < n; i++)
        curl_multi_remove_handle(m, qs[i].http.easy);
    curl_multi_cleanup(m);
}

/* The response's data object, owned by *doc; NULL with why when the
 * request or the API failed. */
static const json_t *req_data(const struct pq_req *q, json_t **doc, char *why, size_t cap)
{
    enum ys_errclass ec;
    *doc = NULL;
    if (q->code != CURLE_OK || q->http.too_big) {
        char msg[YS_RESULT_MSG_MAX], prefix[160];
        ec = ys_promql_http_failure(&q->http, q->src->name, q->code, q->errbuf, msg, sizeof msg);
        /* The note names the source itself: drop the message's "source X: ". */
        int len = snprintf(prefix, sizeof prefix, "source %s: ", q->src->name);
        bool named = len > 0 && strncmp(msg, prefix, (size_t)len) == 0;
        snprintf(why, cap, "%s: %s", ys_errclass_name(ec), named ? msg + len : msg);
        return NULL;
    }
    char msg[YS_RESULT_MSG_MAX];
    *doc = ys_promql_http_parse(q->status, q->http.body, q->http.body_len, &ec, msg, sizeof msg);
    if (!*doc)
        snprintf(why, cap, "%s: %s", ys_errclass_name(ec), msg);
    return *doc ? json_object_get(*doc, "data") : NULL;
}

/* Adds a finite sample to v; NaN and infinities carry no mean. */
static void add_sample(struct ys_pq_value *v, double x)
{
    if (isfinite(x)) {
        v->sum += x;
        v->n++;
    }
}

/* An instant query's result into v. Returns false with why. */
static bool parse_instant(const json_t *data, struct ys_pq_value *v, char *why, size_t cap)
{
    const char *type = json_string_value(json_object_get(data, "resultType"));
    const json_t *res = json_object_get(data, "result"), *e;
    double x;
    size_t i;
    if (type && strcmp(type, "scalar") == 0 && ys_promql_sample(res, NULL, &x)) {
        add_sample(v, x);
        return true;
    }
    if (!type || strcmp(type, "vector") != 0 || !json_is_array(res)) {
        snprintf(why, cap, "the query returned %s, not an instant vector",
                 type ? type : "a malformed response");
        return false;
    }
    json_array_foreach(res, i, e)
    {
        if (ys_promql_sample(json_object_get(e, "value"), NULL, &x))
            add_sample(v, x);
    }
    return true;
}

/* A query_range result (a matrix) into per[0..npts), point k at
 * start_ms + k * step_ms. Returns false with why. */
static bool parse_range(const json_t *data, int64_t start_ms, int64_t step_ms, size_t npts,
                        struct ys_pq_value *per, char *why, size_t cap)
{
    const char *type = json_string_value(json_object_get(data, "resultType"));
    const json_t *res = json_object_get(data, "result"), *e, *pair;
    size_t i, j;
    if (!type || strcmp(type, "matrix") != 0 || !json_is_array(res)) {
        snprintf(why, cap, "query_range returned %s, not a matrix",
                 type ? type : "a malformed response");
        return false;
    }
    json_array_foreach(res, i, e)
    {
        json_array_foreach(json_object_get(e, "values"), j, pair)
        {
            double ts, x;
            if (!ys_promql_sample(pair, &ts, &x))
                continue;
            double k = round((ts * 1000.0 - (double)start_ms) / (double)step_ms);
            if (k >= 0 && k < (double)npts)
                add_sample(&per[(size_t)k], x);
        }
    }
    return true;
}

/* Appends "source: why" to the note (once per source) and logs it. */
static void note_source(const struct ys_goal *g, const struct ys_source *src, const char *why,
                        struct ys_goal_eval *out)
{
    char item[160];
    snprintf(item, sizeof item, "source %s: ", src->name);
    if (strstr(out->note, item))
        return;
    ys_warn("goal", "goal %s: source %s: %s", g->id, src->name, why);
    size_t len = strlen(out->note);
    snprintf(out->note + len, sizeof out->note - len, "%s%s%s", len ? "; " : "", item, why);
}

/* The query for an instant with a window of window_ms, URL-encoded. */
static char *encoded_query(const struct ys_goal *g, int64_t window_ms)
{
    char dur[32];
    ys_pq_duration(window_ms, dur, sizeof dur);
    char *q = ys_pq_expand(g->measure.query, dur);
    char *esc = curl_easy_escape(NULL, q, (int)strlen(q));
    if (!esc)
        abort();
    char *owned = ys_xstrdup(esc);
    curl_free(esc);
    free(q);
    return owned;
}

static char *instant_path(const char *esc, int64_t at_ms)
{
    return ys_xasprintf("/api/v1/query?query=%s&time=%lld.%03d", esc, (long long)(at_ms / 1000),
                        (int)(at_ms % 1000));
}

/* Merged value of the measure at each of ats[0..n) (instant queries,
 * window_ms[i] each), all sources and instants at once; trend: the
 * instants are past days of the trend, not now. */
static void instants(const struct ys_config *cfg, const struct ys_goal *g, const int64_t *ats,
                     const int64_t *window_ms, size_t n, bool trend, bool *has, double *vals,
                     struct ys_goal_eval *out)
{
    const struct ys_measure *m = &g->measure;
    size_t ns = m->n_sources;
    struct pq_req *qs = ys_xcalloc(n * ns + 1, sizeof *qs);
    struct ys_pq_value *v = ys_xcalloc(ns ? ns : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char *esc = encoded_query(g, window_ms[i]);
        char *path = instant_path(esc, ats[i]);
        for (size_t k = 0; k < ns; k++)
            req_init(&qs[i * ns + k], cfg, &cfg->sources[m->sources[k]], path,
                     YS_PROMQL_MAX_RESPONSE);
        free(path);
        free(esc);
    }
    run_all(qs, n * ns);
    for (size_t i = 0; i < n; i++) {
        memset(v, 0, ns * sizeof *v);
        for (size_t k = 0; k < ns; k++) {
            struct pq_req *q = &qs[i * ns + k];
            char why[WHY_MAX];
            json_t *doc;
            const json_t *data = req_data(q, &doc, why, sizeof why);
            if (data && parse_instant(data, &v[k], why, sizeof why) && v[k].n == 0)
                snprintf(why, sizeof why, "no series");
            /* A past day without series is a day without data, as for
             * query_range: only failures are worth a note then. */
            if (!data || (v[k].n == 0 && !trend)) {
                char said[WHY_MAX + 16];
                snprintf(said, sizeof said, "%s%s", trend ? "trend: " : "", why);
                note_source(g, q->src, said, out);
            }
            json_decref(doc);
        }
        has[i] = ys_pq_merge(m->merge, v, ns, &vals[i]);
    }
    for (size_t i = 0; i < n * ns; i++)
        req_free(&qs[i]);
    free(qs);
    free(v);
}

/* A rolling window's trend: one query_range per source, step 1d, from
 * ends[0] to ends[n-1]; each point merged across the sources. */
static void range_trend(const struct ys_config *cfg, const struct ys_goal *g, int64_t window_ms,
                        const int64_t *ends, size_t n, struct ys_goal_eval *out)
{
    const struct ys_measure *m = &g->measure;
    size_t ns = m->n_sources;
    int64_t start = ends[0], end = ends[n - 1];
    size_t npts = (size_t)((end - start) / YS_DAY_MS) + 1;
    if (npts > YS_TREND_DAYS - 1)
        npts = YS_TREND_DAYS - 1; /* room for now's point */
    struct pq_req *qs = ys_xcalloc(ns ? ns : 1, sizeof *qs);
    struct ys_pq_value *per = ys_xcalloc(ns * npts + 1, sizeof *per);
    char *esc = encoded_query(g, window_ms);
    char *path = ys_xasprintf(
        "/api/v1/query_range?query=%s&start=%lld.%03d&end=%lld.%03d&step=86400", esc,
        (long long)(start / 1000), (int)(start % 1000), (long long)(end / 1000), (int)(end % 1000));
    for (size_t k = 0; k < ns; k++)
        req_init(&qs[k], cfg, &cfg->sources[m->sources[k]], path, RANGE_MAX_RESPONSE);
    free(path);
    free(esc);
    run_all(qs, ns);
    for (size_t k = 0; k < ns; k++) {
        char why[WHY_MAX], trend_why[WHY_MAX + 16];
        json_t *doc;
        const json_t *data = req_data(&qs[k], &doc, why, sizeof why);
        if (!data || !parse_range(data, start, YS_DAY_MS, npts, &per[k * npts], why, sizeof why)) {
            snprintf(trend_why, sizeof trend_why, "trend: %s", why);
            note_source(g, qs[k].src, trend_why, out);
        }
        json_decref(doc);
        req_free(&qs[k]);
    }
    struct ys_pq_value *v = ys_xcalloc(ns ? ns : 1, sizeof *v);
    for (size_t p = 0; p < npts; p++) {
        double x;
        for (size_t k = 0; k < ns; k++)
            v[k] = per[k * npts + p];
        if (ys_pq_merge(m->merge, v, ns, &x))
            out->trend[out->n_trend++] = (struct ys_trend_point){start + (int64_t)p * YS_DAY_MS, x};
    }
    free(v);
    free(per);
    free(qs);
}

/* The window ending at at: its length (rolling) or from the calendar
 * window's start, in whole seconds. */
static int64_t window_at(const struct ys_measure *m, const struct ys_tz *tz, int64_t at)
{
    if (m->window.kind == YS_WINDOW_ROLLING)
        return m->window.length_ms > 0 ? m->window.length_ms : 30 * YS_DAY_MS;
    int64_t from, end;
    ys_window_bounds(&m->window, tz, at, &from, &end);
    int64_t ms = (at - from) / 1000 * 1000;
    return ms > 0 ? ms : 1000;
}

void ys_query_goal_promql(const struct ys_config *cfg, const struct ys_goal *g,
                          const struct ys_tz *tz, int64_t now_ms, const int64_t *ends,
                          size_t n_ends, bool *has, double *value, struct ys_goal_eval *out)
{
    const struct ys_measure *m = &g->measure;
    int64_t w = window_at(m, tz, now_ms);
    *has = false;
    if (m->n_sources == 0)
        return;
    /* Now first, so that the note gives the present reason a source fails. */
    instants(cfg, g, &now_ms, &w, 1, false, has, value, out);
    if (n_ends > 0 && m->window.kind == YS_WINDOW_ROLLING) {
        range_trend(cfg, g, w, ends, n_ends, out);
    } else if (n_ends > 0) {
        /* Calendar: only the days of the current window, each over its
         * own part of it. */
        int64_t from, end;
        ys_window_bounds(&m->window, tz, now_ms, &from, &end);
        int64_t ats[YS_TREND_DAYS], wins[YS_TREND_DAYS];
        bool hs[YS_TREND_DAYS];
        double vs[YS_TREND_DAYS];
        size_t n = 0;
        for (size_t i = 0; i < n_ends && n < YS_TREND_DAYS - 1; i++)
            if (ends[i] > from) {
                ats[n] = ends[i];
                wins[n++] = window_at(m, tz, ends[i]);
            }
        instants(cfg, g, ats, wins, n, true, hs, vs, out);
        for (size_t i = 0; i < n; i++)
            if (hs[i])
                out->trend[out->n_trend++] = (struct ys_trend_point){ats[i], vs[i]};
    }
}
