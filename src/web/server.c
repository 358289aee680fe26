/*
 * server.c - the HTTP server: libmicrohttpd setup, the router and the
 * replies.
 *
 * MHD runs its own threads (an internal polling thread per pool member,
 * epoll on Linux; 2 by default), so nothing here runs on the probe loop:
 * a flood of requests costs CPU on other threads and never holds the loop.
 * What one client may take is bounded: connections (in total and per IP),
 * an idle timeout, a header deadline (conn_guard.c), header memory
 * (MHD_OPTION_CONNECTION_MEMORY_LIMIT: larger headers get 431), no request
 * bodies at all (413), GET and HEAD only (405), ranges and rows capped by
 * the handlers (params.c). The one exception is /ping/... (ping.c): a job
 * may POST its log tail there, which is kept up to the check's max_body
 * and read past and dropped beyond it; those routes check the ping token,
 * not server.auth.
 *
 * A request is answered in the access handler's first call (headers
 * complete): it takes a reference on the current live snapshot, routes by
 * path, and queues the reply. Auth (auth.c) guards every route but
 * /healthz.
 *
 * Threads: ys_web_start/stop on the loop thread (or before it runs); the
 * callbacks on MHD's pool threads.
 */
#include "web/web_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "web/assets.h"
#include "web/auth.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_MEMORY (32 * 1024) /* per connection: request line + headers */
#define POOL_THREADS 2
#define API "/api/v1/"

static int marker; /* *con_cls once a request has been seen */

void ys_web_reply_json(struct ys_web_reply *rep, unsigned status, json_t *doc)
{
    rep->status = status;
    rep->body = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10));
    rep->len = rep->body ? strlen(rep->body) : 0;
    rep->content_type = "application/json";
    json_decref(doc);
}

void ys_web_reply_error(struct ys_web_reply *rep, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ys_web_reply_json(rep, status, json_pack("{s:s}", "error", msg));
}

const char *ys_web_arg(const struct ys_web_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ys_web_header(const struct ys_web_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

json_t *ys_web_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void reply_healthz(struct ys_web_reply *rep)
{
    rep->status = MHD_HTTP_OK;
    rep->body = ys_xstrdup("ok\n");
    rep->len = 3;
    rep->content_type = "text/plain; charset=utf-8";
}

/* 200 when the loop publishes (snapshot fresh), a config is loaded and the
 * writer lost no batch in the last minute; otherwise 503 with why. */
static void reply_readyz(struct ys_web_req *req, struct ys_web_reply *rep)
{
    const struct ys_live_snapshot *s = req->snap;
    const char *why = NULL;
    if (!s || !s->cfg)
        why = "no configuration loaded yet";
    else if (req->now_ms - s->published_ms > YS_WEB_READY_STALE_MS)
        why = "the probe loop has not published its state for more than 5s";
    else if (s->writer_failed_at_ms && req->now_ms - s->writer_failed_at_ms < 60000)
        why = "the store writer failed a batch in the last minute";
    if (why) {
        ys_web_reply_json(rep, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:b,s:s}", "ready", 0, "reason", why));
        return;
    }
    ys_web_reply_json(rep, MHD_HTTP_OK,
                      json_pack("{s:b,s:I,s:I}", "ready", 1, "checks", (json_int_t)s->cfg->n_checks,
                                "snapshot_age_ms", (json_int_t)(req->now_ms - s->published_ms)));
}

static bool reply_asset(const char *url, struct ys_web_reply *rep)
{
    const unsigned char *data;
    size_t len;
    const char *type;
    if (ys_web_assets_find(url, &data, &len, &type) != 0)
        return false;
    rep->status = MHD_HTTP_OK;
    rep->static_body = data;
    rep->len = len;
    rep->content_type = type;
    return true;
}

/* Whether p (after "checks/") is "<name>/pings". */
static bool is_pings_path(const char *p)
{
    const char *slash = strchr(p, '/');
    return slash && slash > p && strcmp(slash, "/pings") == 0;
}

/* checks/<name>/pings: the name is copied out of the path. */
static void route_pings(struct ys_web_req *req, const char *p, struct ys_web_reply *rep)
{
    char name[256];
    size_t n = (size_t)(strchr(p, '/') - p);
    if (n >= sizeof name) {
        ys_web_reply_error(rep, MHD_HTTP_NOT_FOUND, "no check of that name");
        return;
    }
    memcpy(name, p, n);
    name[n] = '\0';
    ys_web_api_pings(req, name, rep);
}

/* Routes an authorised request with a snapshot. */
static void route_api(struct ys_web_req *req, struct ys_web_reply *rep)
{
    const char *url = req->url;
    const char *p = url + strlen(API);
    if (strcmp(url, "/metrics") == 0)
        ys_web_metrics(req, rep);
    else if (strcmp(p, "checks") == 0)
        ys_web_api_checks(req, NULL, rep);
    else if (strncmp(p, "checks/", 7) == 0 && is_pings_path(p + 7))
        route_pings(req, p + 7, rep);
    else if (strncmp(p, "checks/", 7) == 0 && p[7])
        ys_web_api_checks(req, p + 7, rep);
    else if (strcmp(p, "slos") == 0)
        ys_web_api_slos(req, NULL, rep);
    else if (strncmp(p, "slos/", 5) == 0 && p[5])
        ys_web_api_slos(req, p + 5, rep);
    else if (strcmp(p, "goals") == 0)
        ys_web_api_goals(req, rep);
    else if (strcmp(p, "incidents") == 0)
        ys_web_api_incidents(req, rep);
    else if (strcmp(p, "alerts") == 0)
        ys_web_api_alerts(req, rep);
    else if (strcmp(p, "notifications") == 0)
        ys_web_api_notifications(req, rep);
    else if (strcmp(p, "certificates") == 0)
        ys_web_api_certificates(req, rep);
    else if (strcmp(p, "status") == 0)
        ys_web_api_status(req, rep);
    else
        ys_web_reply_error(rep, MHD_HTTP_NOT_FOUND, "no such route: %.200s", url);
}

static bool announces_body(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return te || (cl && strspn(cl, "0") != strlen(cl));
}

static void route(struct ys_web_req *req, const char *method, struct ys_web_reply *rep)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        rep->allow = true;
        ys_web_reply_error(rep, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "method %.16s not allowed: the API is read-only (GET, HEAD)", method);
    } else if (announces_body(req->conn)) {
        ys_web_reply_error(rep, MHD_HTTP_CONTENT_TOO_LARGE,
                           "request bodies are not accepted: the API is read-only");
    } else if (strcmp(req->url, "/healthz") == 0) {
        reply_healthz(rep);
    } else if (!ys_web_auth_check(&req->web->cfg->server,
                                  ys_web_header(req, MHD_HTTP_HEADER_AUTHORIZATION))) {
        rep->challenge = true;
        ys_web_reply_error(rep, MHD_HTTP_UNAUTHORIZED, "authentication required");
    } else if (strcmp(req->url, "/readyz") == 0) {
        reply_readyz(req, rep);
    } else if (strcmp(req->url, "/metrics") == 0 || strncmp(req->url, API, strlen(API)) == 0) {
        if (!req->snap)
            ys_web_reply_error(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "starting: no live state yet");
        else
            route_api(req, rep);
    } else if (!reply_asset(req->url, rep)) {
        ys_web_reply_error(rep, MHD_HTTP_NOT_FOUND, "not found: %.200s", req->url);
    }
}

static enum MHD_Result send_reply(struct ys_web *w, struct MHD_Connection *conn,
                                  struct ys_web_reply *rep)
{
    struct MHD_Response *r;
    if (rep->static_body)
        r = MHD_create_response_from_buffer(rep->len, (void *)rep->static_body,
                                            MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(rep->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (rep->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (rep->allow_post)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
    if (rep->retry_after)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (rep->challenge) {
        const struct ys_server_config *s = &w->cfg->server;
        if (s->tokens.n)
            MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                    "Bearer realm=\"yardstick\"");
        if (s->n_users)
            MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                    "Basic realm=\"yardstick\", charset=\"UTF-8\"");
    }
    if (rep->status == MHD_HTTP_CONTENT_TOO_LARGE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, rep->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void disarm_guard(struct ys_web *w, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci)
        ys_conn_guard_arm(w->guard, ci->socket_context, false);
}

/* /ping/...: *con_cls holds the ping (ping.c) from the headers to the
 * end of the body, or &marker once it was refused. */
static enum MHD_Result on_ping(struct ys_web *w, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    struct ys_web_reply rep = {0};
    if (!*con_cls) {
        disarm_guard(w, conn);
        struct ys_web_ping *p = ys_web_ping_begin(w, conn, url, method, &rep);
        if (p) {
            *con_cls = p;
            return MHD_YES;
        }
        *con_cls = &marker;
        return send_reply(w, conn, &rep);
    }
    if (*con_cls == &marker) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        bool more = ys_web_ping_body(*con_cls, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return more ? MHD_YES : MHD_NO;
    }
    ys_web_ping_finish(*con_cls, &rep);
    return send_reply(w, conn, &rep);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct ys_web *w = cls;
    (void)version;
    if (ys_web_is_ping(url))
        return on_ping(w, conn, url, method, upload_data, upload_data_size, con_cls);
    if (!*con_cls) {
        /* Headers are in. Answer at once when a body is announced (413,
         * the connection then closes unread); otherwise wait for MHD's
         * second call, since a reply queued before it makes MHD close the
         * connection instead of keeping it alive. */
        *con_cls = &marker;
        disarm_guard(w, conn);
        if (!announces_body(conn))
            return MHD_YES;
    } else if (*upload_data_size) {
        /* A body we did not announce-check (chunked): drop it unread. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct ys_web_req req = {
        .web = w,
        .conn = conn,
        .url = url,
        .snap = ys_live_state_acquire(w->live),
        .now_ms = ys_wall_ms(),
    };
    struct ys_web_reply rep = {0};
    route(&req, method, &rep);
    ys_live_snapshot_release(req.snap);
    return send_reply(w, conn, &rep);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ys_web *w = cls;
    (void)toe;
    if (*con_cls && *con_cls != &marker)
        ys_web_ping_free(*con_cls); /* only pings keep a context of their own */
    *con_cls = NULL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci)
        ys_conn_guard_arm(w->guard, ci->socket_context, true);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct ys_web *w = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? ys_conn_guard_opened(w->guard, ci->connect_fd) : NULL;
    } else {
        ys_conn_guard_closed(w->guard, *socket_context);
        *socket_context = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* Debug: every refused or broken connection is logged, and an attack
     * must not flood the daemon's log. */
    ys_debug("web", "%s", msg);
}

/* Fills addr from host and port; returns its length, or 0 for a host that
 * is not a numeric address. */
static socklen_t make_addr(const char *host, int port, struct sockaddr_storage *addr, bool *v6)
{
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
    const char *h = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    *v6 = false;
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return sizeof *a4;
    }
    if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return sizeof *a6;
    }
    return 0;
}

static struct MHD_Daemon *start_mhd(struct ys_web *w, const struct sockaddr_storage *addr, bool v6)
{
    const struct ys_server_config *s = &w->cfg->server;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)s->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)s->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)((s->timeout_ms + 999) / 1000), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HEADER_MEMORY, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
}

static void web_free(struct ys_web *w)
{
    ys_conn_guard_stop(w->guard);
    ys_web_eval_drop(w);
    pthread_key_delete(w->store_key);
    pthread_cond_destroy(&w->eval_cv);
    pthread_mutex_destroy(&w->eval_mu);
    ys_config_unref(w->cfg);
    free(w);
}

void ys_web_set_outbox(struct ys_web *w, struct ys_outbox *o)
{
    if (w)
        atomic_store(&w->outbox, o);
}

void ys_web_set_leader(struct ys_web *w, bool leader, uint64_t lease_changes)
{
    if (!w)
        return;
    atomic_store(&w->leader, leader);
    atomic_store(&w->lease_changes, lease_changes);
}

int ys_web_start(struct ys_config *cfg, struct ys_live_state *live, struct ys_heartbeats *hb,
                 struct ys_web **out, struct ys_err *err)
{
    const struct ys_server_config *s = &cfg->server;
    struct sockaddr_storage addr;
    bool v6;
    if (make_addr(s->host, s->port, &addr, &v6) == 0)
        return ys_err_set(err, YS_EINVAL, "server.listen: '%s' is not an IP address", s->host);
    struct ys_web *w = ys_xcalloc(1, sizeof *w);
    ys_config_ref(cfg);
    w->cfg = cfg;
    w->live = live;
    w->hb = hb;
    pthread_mutex_init(&w->eval_mu, NULL);
    pthread_cond_init(&w->eval_cv, NULL);
    if (ys_web_store_key_init(w) < 0) {
        free(w);
        ys_config_unref(cfg);
        return ys_err_set(err, YS_EINTERNAL, "cannot create a thread key");
    }
    w->guard = ys_conn_guard_start(s->timeout_ms);
    w->mhd = w->guard ? start_mhd(w, &addr, v6) : NULL;
    if (!w->mhd) {
        web_free(w);
        return ys_err_set(err, YS_EIO, "cannot listen on %s%s%s:%d (address in use?)",
                          v6 ? "[" : "", s->host, v6 ? "]" : "", s->port);
    }
    if (!ys_web_is_loopback(s->host) && !ys_web_auth_required(s))
        ys_warn("web",
                "listening on %s:%d, which is not a loopback address, without "
                "server.auth: anyone who can reach it can read the API",
                s->host, s->port);
    ys_info("web", "listening on http://%s%s%s:%d/", v6 ? "[" : "", s->host, v6 ? "]" : "",
            s->port);
    *out = w;
    return 0;
}

void ys_web_stop(struct ys_web *w)
{
    if (!w)
        return;
    MHD_stop_daemon(w->mhd);
    web_free(w);
}
