/*
 * api_checks.c - GET /api/v1/checks and /api/v1/checks/<name>.
 *
 * The list comes from the live snapshot (last result, counters, incident
 * flag) and the cached evaluation (availability over 24h, 7d, 30d). The
 * detail adds history from this thread's store connection: raw results or
 * rollups with percentiles over from..to at the resolution the range calls
 * for (params.c picks it and caps the rows), and the incidents of the
 * range. Shapes: docs/api.md.
 *
 * Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include "config/instance.h"

#include "core/clock.h"
#include "core/result_json.h"
#include "ha/combine.h"
#include "slo/sketch.h"

#include <microhttpd.h>

#include <math.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

static const char *status_of(const struct ys_live_check *lc)
{
    if (!lc->has_last)
        return "unknown";
    return lc->last.ok ? "up" : "down";
}

static json_t *time_or_null(int64_t ms)
{
    char buf[40];
    return ms > 0 ? json_string(ys_format_time(ms, buf, sizeof buf)) : json_null();
}

/* A heartbeat's tracker, as live/heartbeats.c last published it. */
static json_t *heartbeat_json(const struct ys_live_heartbeat *hb)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(ys_hb_state_name(hb->state)));
    json_object_set_new(o, "problem", hb->problem ? json_string(ys_hb_problem_name(hb->problem))
                                                  : json_null());
    json_object_set_new(o, "last_ping", time_or_null(hb->last_ping_ms));
    json_object_set_new(o, "last_success", time_or_null(hb->last_success_ms));
    json_object_set_new(o, "last_duration_ms", hb->last_duration_ms >= 0
                                                   ? json_integer(hb->last_duration_ms)
                                                   : json_null());
    json_object_set_new(o, "next_due", time_or_null(hb->next_due_ms));
    return o;
}

json_t *ys_web_check_json(const struct ys_live_snapshot *snap, size_t i,
                          const struct ys_web_eval *eval)
{
    const struct ys_check *ck = &snap->cfg->checks[i];
    const struct ys_live_check *lc = &snap->checks[i];
    json_t *labels = json_object();
    for (size_t k = 0; k < ck->labels.n; k++)
        json_object_set_new(labels, ck->labels.keys[k], json_string(ck->labels.values[k]));
    json_t *avail = json_object();
    static const char *const names[3] = {"24h", "7d", "30d"};
    bool have = eval && eval->snap->cfg == snap->cfg;
    for (int k = 0; k < 3; k++)
        json_object_set_new(avail, names[k], have ? ys_web_num(eval->avail[i][k]) : json_null());
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(ck->name));
    json_object_set_new(o, "kind", json_string(ck->type->name));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "interval_s", json_real((double)ck->interval_ms / 1000.0));
    /* Pushed checks (heartbeats) are taken by every daemon; probed ones
     * by the daemons of their locations and shard (config/instance.h). */
    json_object_set_new(o, "probed_here",
                        json_boolean(!ck->type->start ||
                                     ys_instance_probes_check(&snap->cfg->instance, ck)));
    json_object_set_new(o, "status", json_string(status_of(lc)));
    json_object_set_new(o, "incident_open", json_boolean(lc->incident_open));
    json_object_set_new(o, "last",
                        lc->has_last ? ys_result_to_json(NULL, NULL, &lc->last) : json_null());
    json_object_set_new(o, "availability", avail);
    json_object_set_new(
        o, "counters",
        json_pack("{s:I,s:I}", "total", (json_int_t)lc->total, "ok", (json_int_t)lc->ok));
    if (lc->hb.present)
        json_object_set_new(o, "heartbeat", heartbeat_json(&lc->hb));
    return o;
}

static void list_checks(struct ys_web_req *req, struct ys_web_reply *rep)
{
    struct ys_err err;
    struct ys_web_eval *eval = ys_web_eval_get(req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < req->snap->cfg->n_checks; i++)
        json_array_append_new(arr, ys_web_check_json(req->snap, i, eval));
    ys_web_eval_release(eval);
    ys_web_reply_json(rep, MHD_HTTP_OK, json_pack("{s:o}", "checks", arr));
}

struct rows {
    json_t *arr;
    size_t n;
    bool truncated;
};

static int add_result(const struct ys_result *r, void *arg)
{
    struct rows *rows = arg;
    if (rows->n >= YS_WEB_MAX_ROWS) {
        rows->truncated = true;
        return 1;
    }
    json_array_append_new(rows->arr, ys_result_to_json(NULL, NULL, r));
    rows->n++;
    return 0;
}

static json_t *ms_quantile(const struct ys_sketch *s, double q)
{
    return s ? ys_web_num(ys_sketch_quantile(s, q) / 1000.0) : json_null();
}

static int add_rollup(const struct ys_rollup *r, void *arg)
{
    struct rows *rows = arg;
    if (rows->n >= YS_WEB_MAX_ROWS) {
        rows->truncated = true;
        return 1;
    }
    double total = (double)r->total;
    json_t *o = json_object();
    json_object_set_new(o, "bucket_ms", json_integer(r->bucket_ms));
    json_object_set_new(o, "total", json_integer((json_int_t)r->total));
    json_object_set_new(o, "ok", json_integer((json_int_t)r->ok));
    json_object_set_new(o, "availability", ys_web_num(r->total ? (double)r->ok / total : NAN));
    json_object_set_new(o, "mean_ms",
                        ys_web_num(r->ok ? (double)r->sum_duration_us / (double)r->ok / 1000.0 : NAN));
    json_object_set_new(o, "p50_ms", ms_quantile(r->latency, 0.50));
    json_object_set_new(o, "p90_ms", ms_quantile(r->latency, 0.90));
    json_object_set_new(o, "p95_ms", ms_quantile(r->latency, 0.95));
    json_object_set_new(o, "p99_ms", ms_quantile(r->latency, 0.99));
    json_array_append_new(rows->arr, o);
    rows->n++;
    return 0;
}

struct incidents {
    const struct ys_live_snapshot *snap;
    json_t *arr;
    int64_t now_ms;
};

static int add_incident(const struct ys_incident *inc, void *arg)
{
    struct incidents *in = arg;
    json_array_append_new(in->arr, ys_web_incident_json(in->snap, inc, in->now_ms));
    return json_array_size(in->arr) >= YS_WEB_MAX_ROWS;
}

/* Reads the history of check i into doc; returns 0 or replies an error. */
static int history(struct ys_web_req *req, size_t i, json_t *doc, struct ys_web_reply *rep)
{
    const struct ys_check *ck = &req->snap->cfg->checks[i];
    char why[256], note[256];
    int64_t from, to;
    enum ys_resolution res;
    if (ys_web_parse_range(ys_web_arg(req, "from"), ys_web_arg(req, "to"), req->now_ms, DAY_MS,
                           &from, &to, why, sizeof why) < 0 ||
        ys_web_pick_resolution(ys_web_arg(req, "resolution"), from, to, req->now_ms,
                               ck->interval_ms, &req->web->cfg->storage.retention, &res, note,
                               sizeof note, why, sizeof why) < 0) {
        ys_web_reply_error(rep, MHD_HTTP_BAD_REQUEST, "%s", why);
        return -1;
    }
    struct ys_err err = {{0}};
    struct ys_store *s = ys_web_store(req->web, &err);
    struct rows rows = {.arr = json_array()};
    struct incidents inc = {.snap = req->snap, .arr = json_array(), .now_ms = req->now_ms};
    int rc = s ? 0 : YS_ESTORE;
    if (rc == 0 && ck->store_id && res == YS_RES_RAW)
        rc = s->type->query_raw(s, ck->store_id, from, to, add_result, &rows, &err);
    else if (rc == 0 && ck->store_id)
        rc = s->type->query_rollups(s, ck->store_id, res, from, to, add_rollup, &rows, &err);
    if (rc == 0 && ck->store_id)
        rc = s->type->query_incidents(s, ck->store_id, from, to, add_incident, &inc, &err);
    json_object_set_new(doc, "from_ms", json_integer(from));
    json_object_set_new(doc, "to_ms", json_integer(to));
    json_object_set_new(doc, "resolution", json_string(ys_resolution_name(res)));
    if (note[0])
        json_object_set_new(doc, "note", json_string(note));
    json_object_set_new(doc, "truncated", json_boolean(rows.truncated));
    json_object_set_new(doc, res == YS_RES_RAW ? "results" : "rollups", rows.arr);
    json_object_set_new(doc, "incidents", inc.arr);
    if (rc < 0) {
        ys_web_reply_error(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", err.msg);
        return -1;
    }
    return 0;
}

static int keep_newest(const struct ys_result *r, void *arg)
{
    struct ys_result *last = arg;
    if (r->ts_ms >= last->ts_ms)
        *last = *r;
    return 0;
}

/* A multi-location check's "<check>@<location>" series (ha/combine.h):
 * each location's newest result of the last 10 intervals (at least 5
 * minutes), read from the store, since other daemons write most of them. */
static json_t *locations_json(struct ys_web_req *req, const struct ys_check *ck)
{
    json_t *arr = json_array();
    struct ys_err err = {{0}};
    struct ys_store *s = ys_web_store(req->web, &err);
    int64_t span = ck->interval_ms * 10 > 300000 ? ck->interval_ms * 10 : 300000;
    for (size_t j = 0; s && j < ck->locations.n; j++) {
        const char *loc = ck->locations.v[j];
        char name[YS_LOC_NAME_MAX];
        snprintf(name, sizeof name, "%s@%s", ck->name, loc);
        uint32_t id = ys_combine_series_id(ck->name, loc);
        struct ys_result last = {.ts_ms = 0};
        if ((id || s->type->check_id(s, name, &id, &err) == 0) &&
            s->type->query_raw(s, id, req->now_ms - span, req->now_ms + 1, keep_newest, &last,
                               &err) < 0)
            last.ts_ms = 0;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "location", loc, "series", name,
                                             "last", last.ts_ms ? ys_result_to_json(NULL, NULL,
                                                                                    &last)
                                                                : json_null()));
    }
    return arr;
}

void ys_web_api_checks(struct ys_web_req *req, const char *name, struct ys_web_reply *rep)
{
    if (!name) {
        list_checks(req, rep);
        return;
    }
    long i = ys_live_snapshot_find(req->snap, name);
    if (i < 0) {
        ys_web_reply_error(rep, MHD_HTTP_NOT_FOUND, "no check named '%.160s'", name);
        return;
    }
    struct ys_err err;
    struct ys_web_eval *eval = ys_web_eval_get(req, &err);
    json_t *doc = json_object();
    json_object_set_new(doc, "check", ys_web_check_json(req->snap, (size_t)i, eval));
    ys_web_eval_release(eval);
    const struct ys_check *ck = &req->snap->cfg->checks[i];
    if (ck->locations.n)
        json_object_set_new(json_object_get(doc, "check"), "locations", locations_json(req, ck));
    if (history(req, (size_t)i, doc, rep) < 0) {
        json_decref(doc);
        return;
    }
    ys_web_reply_json(rep, MHD_HTTP_OK, doc);
}
