/*
 * api_alerts.c - GET /api/v1/alerts: the alerts firing now and those
 * resolved in the last `since` (default 24h), and GET
 * /api/v1/notifications: the notification log (the outbox: pending,
 * delivered and given-up notifications, newest first). Both read this
 * thread's store connection: the outbox thread writes alert records and
 * outbox rows there, so the store is the one truth. Shapes: docs/api.md.
 *
 * Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include <microhttpd.h>
#include <stdlib.h>

#define DAY_MS INT64_C(86400000)
#define MAX_NOTIFICATIONS 500

static const char *const outbox_states[] = {"pending", "delivered", "given_up"};

struct collect {
    json_t *arr;
    bool truncated;
};

static int collect_alert(const struct ys_alert_record *rec, void *arg)
{
    struct collect *c = arg;
    if (json_array_size(c->arr) >= YS_WEB_MAX_ROWS) {
        c->truncated = true;
        return 1;
    }
    json_t *doc = json_loads(rec->doc ? rec->doc : "{}", 0, NULL);
    json_t *o = json_pack("{s:s, s:b, s:I, s:o, s:I}", "key", rec->key, "firing", rec->firing,
                          "firing_ms", (json_int_t)rec->firing_ms, "resolved_ms",
                          rec->resolved_ms ? json_integer(rec->resolved_ms) : json_null(),
                          "last_notified_ms", (json_int_t)rec->last_notified_ms);
    if (json_is_object(doc)) {
        static const char *const keep[] = {"rule", "labels", "annotations", "url", "maintenance"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            json_t *v = json_object_get(doc, keep[i]);
            if (v)
                json_object_set(o, keep[i], v);
        }
    }
    json_decref(doc);
    json_array_append_new(c->arr, o);
    return 0;
}

static int collect_row(const struct ys_outbox_row *row, void *arg)
{
    struct collect *c = arg;
    json_t *payload = json_loads(row->payload ? row->payload : "null", JSON_DECODE_ANY, NULL);
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:I, s:s, s:i, s:o, s:o, s:s}", "id", (json_int_t)row->id,
        "notifier", row->notifier, "alert_key", row->alert_key, "created_ms",
        (json_int_t)row->created_ms, "state",
        row->state < 3 ? outbox_states[row->state] : "unknown", "attempts", row->attempts,
        "next_attempt_ms",
        row->state == YS_OUTBOX_PENDING ? json_integer(row->next_attempt_ms) : json_null(),
        "done_ms", row->done_ms ? json_integer(row->done_ms) : json_null(), "last_error",
        row->last_error);
    json_t *status = json_object_get(payload, "status");
    json_object_set(o, "status", status ? status : json_null());
    json_decref(payload);
    json_array_append_new(c->arr, o);
    return 0;
}

static bool store_ok(struct ys_web_reply *rep, struct ys_store *s, int rc, struct ys_err *err)
{
    if (s && rc == 0)
        return true;
    ys_web_reply_error(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", err->msg);
    return false;
}

void ys_web_api_alerts(struct ys_web_req *req, struct ys_web_reply *rep)
{
    char why[256];
    int64_t from, to;
    if (ys_web_parse_range(ys_web_arg(req, "since"), NULL, req->now_ms, DAY_MS, &from, &to, why,
                           sizeof why) < 0) {
        ys_web_reply_error(rep, MHD_HTTP_BAD_REQUEST, "%s", why);
        return;
    }
    struct ys_err err = {{0}};
    struct ys_store *s = ys_web_store(req->web, &err);
    struct collect c = {.arr = json_array()};
    int rc = s ? s->type->query_alerts(s, from, collect_alert, &c, &err) : YS_ESTORE;
    if (!store_ok(rep, s, rc, &err)) {
        json_decref(c.arr);
        return;
    }
    size_t firing = 0;
    for (size_t i = 0; i < json_array_size(c.arr); i++)
        firing += json_is_true(json_object_get(json_array_get(c.arr, i), "firing"));
    ys_web_reply_json(rep, MHD_HTTP_OK,
                      json_pack("{s:o, s:I, s:I, s:b}", "alerts", c.arr, "firing",
                                (json_int_t)firing, "since_ms", (json_int_t)from, "truncated",
                                c.truncated));
}

void ys_web_api_notifications(struct ys_web_req *req, struct ys_web_reply *rep)
{
    char why[256];
    int64_t from, to;
    if (ys_web_parse_range(ys_web_arg(req, "since"), NULL, req->now_ms, 7 * DAY_MS, &from, &to,
                           why, sizeof why) < 0) {
        ys_web_reply_error(rep, MHD_HTTP_BAD_REQUEST, "%s", why);
        return;
    }
    long limit = 100;
    const char *l = ys_web_arg(req, "limit");
    if (l) {
        char *end;
        limit = strtol(l, &end, 10);
        if (*end || limit < 1 || limit > MAX_NOTIFICATIONS) {
            ys_web_reply_error(rep, MHD_HTTP_BAD_REQUEST, "limit must be 1 to %d",
                               MAX_NOTIFICATIONS);
            return;
        }
    }
    struct ys_err err = {{0}};
    struct ys_store *s = ys_web_store(req->web, &err);
    struct collect c = {.arr = json_array()};
    int rc = s ? s->type->outbox_log(s, from, (size_t)limit, collect_row, &c, &err) : YS_ESTORE;
    if (!store_ok(rep, s, rc, &err)) {
        json_decref(c.arr);
        return;
    }
    ys_web_reply_json(rep, MHD_HTTP_OK,
                      json_pack("{s:o, s:I}", "notifications", c.arr, "since_ms",
                                (json_int_t)from));
}
