/*
 * api_incidents.c - GET /api/v1/incidents?check=&from=&to=: incidents
 * overlapping the range (default: the last 7 days), oldest first, for one
 * check or all, read from this thread's store connection. Also the
 * incident object the check detail uses. Shapes: docs/api.md.
 *
 * Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include <microhttpd.h>

#define DAY_MS INT64_C(86400000)

const char *ys_web_check_name(const struct ys_live_snapshot *snap, uint32_t id)
{
    for (size_t i = 0; id && i < snap->cfg->n_checks; i++)
        if (snap->cfg->checks[i].store_id == id)
            return snap->cfg->checks[i].name;
    return NULL;
}

json_t *ys_web_incident_json(const struct ys_live_snapshot *snap, const struct ys_incident *inc,
                             int64_t now_ms)
{
    const char *name = ys_web_check_name(snap, inc->check_id);
    bool open = inc->end_ms == 0;
    int64_t end = open ? now_ms : inc->end_ms;
    json_t *o = json_object();
    json_object_set_new(o, "check", name ? json_string(name) : json_null());
    json_object_set_new(o, "start_ms", json_integer(inc->start_ms));
    json_object_set_new(o, "end_ms", open ? json_null() : json_integer(inc->end_ms));
    json_object_set_new(o, "duration_s", json_real((double)(end - inc->start_ms) / 1000.0));
    json_object_set_new(o, "first_error", json_string(inc->first_error));
    json_object_set_new(o, "open", json_boolean(open));
    return o;
}

struct collect {
    const struct ys_live_snapshot *snap;
    json_t *arr;
    int64_t now_ms;
    bool truncated;
};

static int collect(const struct ys_incident *inc, void *arg)
{
    struct collect *c = arg;
    if (json_array_size(c->arr) >= YS_WEB_MAX_ROWS) {
        c->truncated = true;
        return 1;
    }
    json_array_append_new(c->arr, ys_web_incident_json(c->snap, inc, c->now_ms));
    return 0;
}

void ys_web_api_incidents(struct ys_web_req *req, struct ys_web_reply *rep)
{
    char why[256];
    int64_t from, to;
    if (ys_web_parse_range(ys_web_arg(req, "from"), ys_web_arg(req, "to"), req->now_ms, 7 * DAY_MS,
                           &from, &to, why, sizeof why) < 0) {
        ys_web_reply_error(rep, MHD_HTTP_BAD_REQUEST, "%s", why);
        return;
    }
    uint32_t id = 0;
    const char *check = ys_web_arg(req, "check");
    if (check) {
        long i = ys_live_snapshot_find(req->snap, check);
        if (i < 0) {
            ys_web_reply_error(rep, MHD_HTTP_NOT_FOUND, "no check named '%.160s'", check);
            return;
        }
        id = req->snap->cfg->checks[i].store_id;
    }
    struct ys_err err = {{0}};
    struct ys_store *s = ys_web_store(req->web, &err);
    struct collect c = {.snap = req->snap, .arr = json_array(), .now_ms = req->now_ms};
    int rc = s ? 0 : YS_ESTORE;
    if (rc == 0 && (id || !check))
        rc = s->type->query_incidents(s, id, from, to, collect, &c, &err);
    if (rc < 0) {
        json_decref(c.arr);
        ys_web_reply_error(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", err.msg);
        return;
    }
    ys_web_reply_json(rep, MHD_HTTP_OK,
                      json_pack("{s:o,s:I,s:I,s:b}", "incidents", c.arr, "from_ms",
                                (json_int_t)from, "to_ms", (json_int_t)to, "truncated",
                                c.truncated));
}
