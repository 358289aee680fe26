/*
 * ping.c - the heartbeat ping routes: a job tells the daemon it ran.
 *
 *   GET|POST|HEAD /ping/<check>              success (exit code 0 implied)
 *                 /ping/<check>/start        a run begins
 *                 /ping/<check>/fail         the run failed
 *                 /ping/<check>/<0-255>      the run ended with this exit code
 *   ?rid=<run id>  pairs a start with its end (at most 63 characters)
 *   a body (any bytes) is kept as the run's log tail, capped at the check's
 *   max_body; the rest is read and thrown away, never buffered
 *
 * These routes do not use server.auth (a job's credential should open its
 * own check, not the API): a check's token, or else server.ping_token,
 * is required when set, as `Authorization: Bearer <t>`, an
 * `X-Yardstick-Token` header or `?token=`. Both sides are hashed with
 * SHA-256 and compared with CRYPTO_memcmp, so the comparison takes the
 * same time whatever the guess and whatever its length.
 *
 * Replies: 200 "OK\n"; 404 for an unknown check or one that is not a
 * heartbeat; 403 for a missing or wrong token; 400 for a bad run id or
 * exit code; 503 when the queue to the loop is full.
 *
 * A request lives across MHD's calls: begin (headers in: route, check,
 * token, all answered at once when refused), body (chunks: kept up to the
 * cap), finish (the ping is handed to live/heartbeats.c). The ping's time
 * is when its headers arrived.
 *
 * Threads: the server's pool threads; the intake is thread-safe.
 */
#include "web/web_int.h"

#include "core/clock.h"
#include "core/xalloc.h"
#include "live/heartbeats.h"
#include "probe/heartbeat_spec.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PING_PREFIX "/ping/"
/* A body beyond this is not a log tail: the connection is dropped rather
 * than read for ever. */
#define PING_DISCARD_MAX (64 * 1024 * 1024)

struct ys_web_ping {
    struct ys_web *web;
    char name[YS_RESULT_NAME_MAX];
    struct ys_ping ping;
    char *body; /* up to max_body bytes, allocated as they arrive */
    size_t len, cap, seen;
};

bool ys_web_is_ping(const char *url)
{
    return strncmp(url, PING_PREFIX, strlen(PING_PREFIX)) == 0;
}

static void reply_text(struct ys_web_reply *rep, unsigned status, const char *text)
{
    rep->status = status;
    rep->body = ys_xstrdup(text);
    rep->len = strlen(text);
    rep->content_type = "text/plain; charset=utf-8";
}

static void sha256(const char *s, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL);
}

/* The token the request carries, by the first of the three ways found. */
static const char *given_token(struct MHD_Connection *conn)
{
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth) {
        while (*auth == ' ')
            auth++;
        if (strncasecmp(auth, "Bearer ", 7) == 0) {
            for (auth += 7; *auth == ' '; auth++)
                ;
            return auth;
        }
    }
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Yardstick-Token");
    if (h)
        return h;
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
}

static bool token_ok(const char *want, const char *got)
{
    if (!want)
        return true;
    if (!got || !got[0])
        return false;
    unsigned char a[32], b[32];
    sha256(want, a);
    sha256(got, b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

/* Splits "<check>[/<what>]" (after /ping/) into the check name and the
 * ping's kind and exit code. Returns 0, 404 or 400 (with why). */
static unsigned parse_route(const char *rest, char *name, size_t name_size, struct ys_ping *p,
                            const char **why)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *what = slash ? slash + 1 : "";
    if (n == 0 || n >= name_size) {
        *why = "no such check";
        return MHD_HTTP_NOT_FOUND;
    }
    memcpy(name, rest, n);
    name[n] = '\0';
    p->kind = YS_PING_SUCCESS;
    p->exit_code = -1;
    if (what[0] == '\0') {
        return 0;
    } else if (strcmp(what, "start") == 0) {
        p->kind = YS_PING_START;
    } else if (strcmp(what, "fail") == 0) {
        p->kind = YS_PING_FAIL;
    } else if (what[strspn(what, "0123456789")] == '\0') {
        int code = 0;
        for (const char *c = what; *c && code <= 255; c++)
            code = code * 10 + (*c - '0');
        if (code > 255) {
            *why = "exit code must be 0-255";
            return MHD_HTTP_BAD_REQUEST;
        }
        p->exit_code = (int16_t)code;
        p->kind = code ? YS_PING_FAIL : YS_PING_SUCCESS;
    } else {
        *why = "no such ping route (use /ping/<check>, /start, /fail or /<exit code>)";
        return MHD_HTTP_NOT_FOUND;
    }
    return 0;
}

/* Looks the check up in the current snapshot: a heartbeat, and the token
 * it requires. Returns 0 and the spec's body cap, or an HTTP status. */
static unsigned check_access(struct ys_web *w, struct MHD_Connection *conn, const char *name,
                             size_t *max_body, const char **why)
{
    struct ys_live_snapshot *snap = ys_live_state_acquire(w->live);
    unsigned status = 0;
    const struct ys_check *ck = snap ? ys_config_find(snap->cfg, name) : NULL;
    if (!snap) {
        *why = "starting: no configuration yet";
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
    } else if (!ck || !ck->type || ck->type->start || strcmp(ck->type->name, "heartbeat") != 0) {
        *why = "no heartbeat check of that name";
        status = MHD_HTTP_NOT_FOUND;
    } else {
        const struct ys_heartbeat_spec *s = ck->spec;
        const char *want = s->token ? s->token : snap->cfg->server.ping_token;
        if (!token_ok(want, given_token(conn))) {
            *why = "missing or wrong token";
            status = MHD_HTTP_FORBIDDEN;
        }
        *max_body = (size_t)s->max_body;
    }
    ys_live_snapshot_release(snap);
    return status;
}

struct ys_web_ping *ys_web_ping_begin(struct ys_web *w, struct MHD_Connection *conn,
                                      const char *url, const char *method, struct ys_web_reply *rep)
{
    struct ys_web_ping *p = ys_xcalloc(1, sizeof *p);
    const char *why = "";
    unsigned status = 0;
    p->web = w;
    p->ping.ts_ms = ys_wall_ms();
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 && strcmp(method, "HEAD") != 0) {
        rep->allow_post = true;
        why = "use GET, POST or HEAD";
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    }
    if (!status)
        status = parse_route(url + strlen(PING_PREFIX), p->name, sizeof p->name, &p->ping, &why);
    const char *rid = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "rid");
    if (!status && rid && strlen(rid) >= sizeof p->ping.run_id) {
        why = "rid must be at most 63 characters";
        status = MHD_HTTP_BAD_REQUEST;
    }
    if (!status)
        status = check_access(w, conn, p->name, &p->cap, &why);
    if (!status && !w->hb) {
        why = "heartbeats are not running";
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    if (status) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s\n", why);
        reply_text(rep, status, msg);
        free(p);
        return NULL;
    }
    if (rid)
        memcpy(p->ping.run_id, rid, strlen(rid) + 1);
    return p;
}

bool ys_web_ping_body(struct ys_web_ping *p, const char *data, size_t len)
{
    p->seen += len;
    if (p->seen > PING_DISCARD_MAX)
        return false;
    size_t keep = p->len < p->cap ? p->cap - p->len : 0;
    if (keep > len)
        keep = len;
    if (keep == 0)
        return true; /* past the cap: read and thrown away */
    if (!p->body)
        p->body = ys_xmalloc(p->cap);
    memcpy(p->body + p->len, data, keep);
    p->len += keep;
    return true;
}

void ys_web_ping_finish(struct ys_web_ping *p, struct ys_web_reply *rep)
{
    if (ys_heartbeats_intake(p->web->hb, p->name, &p->ping, p->body, p->len) < 0) {
        rep->retry_after = true;
        reply_text(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "busy: too many pings queued, retry\n");
        return;
    }
    reply_text(rep, MHD_HTTP_OK, "OK\n");
}

void ys_web_ping_free(struct ys_web_ping *p)
{
    if (!p)
        return;
    free(p->body);
    free(p);
}
