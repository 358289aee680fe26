/*
 * api_pings.c - GET /api/v1/checks/<name>/pings?limit=N: the newest
 * stored pings of a heartbeat check, newest first, each with its kind,
 * time, run id, exit code, the duration of the run it ended and its body
 * (the job's log tail) as text.
 *
 * Bodies are any bytes the job sent; JSON strings must be UTF-8, so
 * invalid sequences become U+FFFD (lossy, as a terminal would show them).
 * jansson refuses invalid UTF-8 outright and has no lossy mode, hence the
 * small decoder here. Shapes: docs/api.md.
 *
 * Threads: the server's pool threads, through their read-only store.
 */
#include "web/web_int.h"

#include "core/clock.h"
#include "core/xalloc.h"

#include <microhttpd.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 20
#define LIMIT_MAX 1000

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t min, cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values past Unicode are invalid. */
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

/* body as a JSON string, invalid bytes replaced by U+FFFD. */
static json_t *lossy_string(const char *body, size_t n)
{
    const unsigned char *s = (const unsigned char *)body;
    char *out = ys_xmalloc(n * 3 + 1); /* each bad byte becomes 3 */
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(s + i, n - i);
        if (len) {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

static const char *kind_name(const struct ys_ping *p)
{
    return p->kind == YS_PING_START ? "start" : p->kind == YS_PING_FAIL ? "fail" : "success";
}

static int add_ping(const struct ys_ping_record *rec, void *arg)
{
    json_t *arr = arg;
    const struct ys_ping *p = &rec->ping;
    char ts[40];
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind_name(p)));
    json_object_set_new(o, "ts", json_string(ys_format_time(p->ts_ms, ts, sizeof ts)));
    json_object_set_new(o, "ts_ms", json_integer(p->ts_ms));
    json_object_set_new(o, "run_id",
                        p->run_id[0] ? lossy_string(p->run_id, strnlen(p->run_id, sizeof p->run_id))
                                     : json_null());
    json_object_set_new(o, "exit_code",
                        p->exit_code >= 0 ? json_integer(p->exit_code) : json_null());
    json_object_set_new(o, "duration_ms",
                        rec->duration_ms >= 0 ? json_integer(rec->duration_ms) : json_null());
    json_object_set_new(o, "body_bytes", json_integer((json_int_t)rec->body_len));
    json_object_set_new(o, "body",
                        rec->body ? lossy_string(rec->body, rec->body_len) : json_null());
    json_array_insert_new(arr, 0, o); /* the store reads oldest first */
    return 0;
}

static int parse_limit(const char *s, long *out)
{
    if (!s) {
        *out = LIMIT_DEFAULT;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > LIMIT_MAX)
        return YS_EINVAL;
    *out = v;
    return 0;
}

void ys_web_api_pings(struct ys_web_req *req, const char *name, struct ys_web_reply *rep)
{
    long i = ys_live_snapshot_find(req->snap, name);
    const struct ys_check *ck = i >= 0 ? &req->snap->cfg->checks[i] : NULL;
    if (!ck || ck->type->start || strcmp(ck->type->name, "heartbeat") != 0) {
        ys_web_reply_error(rep, MHD_HTTP_NOT_FOUND, "no heartbeat check named '%.160s'", name);
        return;
    }
    long limit;
    if (parse_limit(ys_web_arg(req, "limit"), &limit) < 0) {
        ys_web_reply_error(rep, MHD_HTTP_BAD_REQUEST, "limit must be a number from 1 to %d",
                           LIMIT_MAX);
        return;
    }
    struct ys_err err = {{0}};
    struct ys_store *s = ys_web_store(req->web, &err);
    json_t *arr = json_array();
    int rc = s ? 0 : YS_ESTORE;
    if (rc == 0 && ck->store_id)
        rc =
            s->type->query_pings(s, ck->store_id, 0, INT64_MAX, (size_t)limit, add_ping, arr, &err);
    if (rc < 0) {
        json_decref(arr);
        ys_web_reply_error(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", err.msg);
        return;
    }
    ys_web_reply_json(rep, MHD_HTTP_OK, json_pack("{s:s,s:o}", "check", ck->name, "pings", arr));
}
