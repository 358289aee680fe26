/*
 * web_int.h - shared by the files of src/web: the server, the request and
 * reply the handlers see, the cached SLO/goal evaluation and the helpers
 * for parameters and JSON. Not for callers outside src/web.
 *
 * A handler runs on one of the server's pool threads with a request whose
 * snapshot is referenced for the request's lifetime. It fills the reply
 * (a status and an owned body) and never blocks on anything but its own
 * thread's read-only store connection.
 */
#ifndef YS_WEB_WEB_INT_H
#define YS_WEB_WEB_INT_H

#include "live/state.h"
#include "query/query.h"
#include "store/store.h"
#include "outbox/outbox.h"
#include "web/web.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
struct MHD_Daemon;
struct ys_conn_guard;
struct ys_heartbeats;

/* Caps on what one request may ask for. */
#define YS_WEB_MAX_SPAN_MS (INT64_C(400) * 86400000) /* from..to */
#define YS_WEB_MAX_ROWS 10000                        /* raw results or rollups per response */
#define YS_WEB_EVAL_TTL_MS 10000                     /* SLO/goal/availability cache */
#define YS_WEB_READY_STALE_MS 5000                   /* /readyz: snapshot age limit */

/* SLO, goal and availability figures, computed at most every
 * YS_WEB_EVAL_TTL_MS by whichever thread finds them stale. Immutable once
 * published; reference-counted across the server threads. */
struct ys_web_eval {
    atomic_int refs;
    struct ys_live_snapshot *snap; /* a reference: the config the figures belong to */
    int64_t at_ms;
    struct ys_slo_status *slos; /* snap->cfg->n_slos */
    int *slo_rc;                /* 0, or why that SLO could not be evaluated */
    struct ys_goal_eval *goals; /* snap->cfg->n_goals */
    int *goal_rc;
    double (*avail)[3]; /* per check: 24h, 7d, 30d ratios; NAN = no data */
};

struct ys_web {
    struct MHD_Daemon *mhd;
    struct ys_live_state *live;
    struct ys_config *cfg;   /* a reference: server settings, storage, auth */
    pthread_key_t store_key; /* each pool thread's read-only store */
    pthread_mutex_t eval_mu;
    pthread_cond_t eval_cv;
    struct ys_web_eval *eval; /* guarded by eval_mu */
    bool evaluating;          /* guarded by eval_mu */
    struct ys_conn_guard *guard;
    struct ys_heartbeats *hb; /* the ping intake; NULL: pings get 503 */
    _Atomic(struct ys_outbox *) outbox; /* for /metrics; NULL until ys_web_set_outbox */
    _Atomic bool leader;                /* holds the notifier lease (ys_web_set_leader) */
    _Atomic uint64_t lease_changes;
};

struct ys_web_req {
    struct ys_web *web;
    struct MHD_Connection *conn;
    const char *url;
    struct ys_live_snapshot *snap; /* referenced for the request */
    int64_t now_ms;
};

struct ys_web_reply {
    unsigned status;
    char *body; /* owned (malloc), or NULL */
    size_t len;
    const unsigned char *static_body; /* embedded asset: not freed */
    const char *content_type;
    bool challenge; /* 401: add WWW-Authenticate */
    bool allow;     /* 405: add Allow */
    bool allow_post;  /* 405 on a ping route: Allow includes POST */
    bool retry_after; /* 503: add Retry-After */
};

/* Replies with doc (taken) serialised compactly, as application/json. */
void ys_web_reply_json(struct ys_web_reply *rep, unsigned status, json_t *doc);
/* Replies {"error": "<message>"} with status. */
void ys_web_reply_error(struct ys_web_reply *rep, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A query-string argument, or NULL. Borrowed for the request. */
const char *ys_web_arg(const struct ys_web_req *req, const char *name);
/* A request header, or NULL. Borrowed for the request. */
const char *ys_web_header(const struct ys_web_req *req, const char *name);
/* A JSON number, or null for NaN and infinities (JSON has neither). */
json_t *ys_web_num(double v);
/* This thread's read-only store connection, opened on first use. Returns
 * NULL with err filled when the store cannot be opened. */
struct ys_store *ys_web_store(struct ys_web *w, struct ys_err *err);
/* Creates w->store_key (server start). Returns 0 or YS_EINTERNAL. */
int ys_web_store_key_init(struct ys_web *w);

/* The current evaluation for req's snapshot, computing it when missing or
 * older than YS_WEB_EVAL_TTL_MS (a stale one is served while another
 * thread recomputes). Returns a reference (release it), or NULL with err
 * filled when nothing could be computed. */
struct ys_web_eval *ys_web_eval_get(struct ys_web_req *req, struct ys_err *err);
void ys_web_eval_release(struct ys_web_eval *e);
/* Frees the cached evaluation (server stop). */
void ys_web_eval_drop(struct ys_web *w);

/* Parses a time: RFC 3339 ("2026-11-29T20:17:25Z", offsets and fractions
 * allowed), epoch milliseconds, "now", or "-<duration>" (e.g. -7d) before
 * now. Returns 0 or YS_EINVAL. */
int ys_web_parse_time(const char *s, int64_t now_ms, int64_t *out);
/* Reads from/to (NULL: to = now, from = to - default_span_ms), checking
 * from < to and the span <= YS_WEB_MAX_SPAN_MS. Returns 0, or YS_EINVAL
 * with a sentence naming the parameter in why. */
int ys_web_parse_range(const char *from, const char *to, int64_t now_ms, int64_t default_span_ms,
                       int64_t *from_ms, int64_t *to_ms, char *why, size_t whylen);
/* Picks the resolution for a range: res is "raw|minute|hour|day|auto"
 * (NULL: auto). Auto takes the finest resolution whose retention still
 * covers from_ms and that returns at most YS_WEB_MAX_ROWS rows (raw rows
 * estimated from interval_ms); an explicit one that would return more is
 * coarsened, and note says so. Returns 0, or YS_EINVAL with why. */
int ys_web_pick_resolution(const char *res, int64_t from_ms, int64_t to_ms, int64_t now_ms,
                           int64_t interval_ms, const struct ys_retention *ret,
                           enum ys_resolution *out, char *note, size_t notelen, char *why,
                           size_t whylen);

/* Route handlers, one file per resource. name is the decoded path segment
 * after the resource (NULL for the collection). */
void ys_web_api_checks(struct ys_web_req *req, const char *name, struct ys_web_reply *rep);
void ys_web_api_slos(struct ys_web_req *req, const char *name, struct ys_web_reply *rep);
void ys_web_api_goals(struct ys_web_req *req, struct ys_web_reply *rep);
void ys_web_api_incidents(struct ys_web_req *req, struct ys_web_reply *rep);
void ys_web_api_alerts(struct ys_web_req *req, struct ys_web_reply *rep);
void ys_web_api_notifications(struct ys_web_req *req, struct ys_web_reply *rep);
void ys_web_api_certificates(struct ys_web_req *req, struct ys_web_reply *rep);
/* GET /api/v1/status (api_status.c): this instance and its lease. */
void ys_web_api_status(struct ys_web_req *req, struct ys_web_reply *rep);
void ys_web_metrics(struct ys_web_req *req, struct ys_web_reply *rep);
/* GET /api/v1/checks/<name>/pings: the newest stored pings of a heartbeat. */
void ys_web_api_pings(struct ys_web_req *req, const char *name, struct ys_web_reply *rep);

/* The ping routes (ping.c), outside server.auth: /ping/<check>[/start|
 * /fail|/<exit code>]. A request spans MHD's calls: begin once the headers
 * are in (NULL with rep filled when refused at once), body for each chunk
 * (false: too much, drop the connection), finish when it is complete,
 * free when MHD is done with it. */
struct ys_web_ping;
bool ys_web_is_ping(const char *url);
struct ys_web_ping *ys_web_ping_begin(struct ys_web *w, struct MHD_Connection *conn,
                                      const char *url, const char *method,
                                      struct ys_web_reply *rep);
bool ys_web_ping_body(struct ys_web_ping *p, const char *data, size_t len);
void ys_web_ping_finish(struct ys_web_ping *p, struct ys_web_reply *rep);
void ys_web_ping_free(struct ys_web_ping *p);

/* The check object of the API (list and detail) for check i of snap;
 * eval may be NULL (availability null). Returns a new reference. */
json_t *ys_web_check_json(const struct ys_live_snapshot *snap, size_t i,
                          const struct ys_web_eval *eval);
/* An incident object; the check is named from snap (store id lookup). */
json_t *ys_web_incident_json(const struct ys_live_snapshot *snap, const struct ys_incident *inc,
                             int64_t now_ms);
/* The name of the check with store id id in snap, or NULL. */
const char *ys_web_check_name(const struct ys_live_snapshot *snap, uint32_t id);

/* The /metrics text for snap and eval (may be NULL: no SLO or goal
 * figures): Prometheus text format 0.0.4, or OpenMetrics 1.0 with `# EOF`.
 * Returns an owned string and its length in *len. Pure: any thread. */
/* Alerting figures for /metrics: the outbox's counters (NULL: no outbox)
 * and the alerts firing (-1: unknown). */
struct ys_web_alerting {
    const struct ys_outbox_stats *outbox;
    long firing;
    bool leader;            /* holds the notifier lease (src/ha/lease.h) */
    uint64_t lease_changes;
};
char *ys_web_metrics_render(const struct ys_live_snapshot *snap, const struct ys_web_eval *eval,
                            const struct ys_web_alerting *alerting,
                            bool openmetrics, int64_t now_ms, size_t *len);
/* Escapes a label value per the exposition format (backslash, double
 * quote, newline) into buf (size > 0, always terminated; truncates at a
 * character boundary). Returns buf. */
char *ys_web_metrics_escape(const char *in, char *buf, size_t size);

/* Connection guard (conn_guard.c): drops connections that have not sent
 * a complete request header within timeout_ms of connecting (or of their
 * previous request finishing), which an idle timeout alone cannot do
 * against a client sending one byte a second. */
struct ys_conn_guard *ys_conn_guard_start(int64_t timeout_ms);
void ys_conn_guard_stop(struct ys_conn_guard *g);
/* A connection opened on socket fd: returns its entry (kept in MHD's
 * socket context), armed: the header deadline runs from now. */
void *ys_conn_guard_opened(struct ys_conn_guard *g, int fd);
/* The connection is closing (before its socket closes). */
void ys_conn_guard_closed(struct ys_conn_guard *g, void *entry);
/* Disarms (a complete request header arrived) or re-arms (the request
 * finished; the next one's header deadline starts now). */
void ys_conn_guard_arm(struct ys_conn_guard *g, void *entry, bool armed);

#endif
