/*
 * web.h - the HTTP server inside `yardstick run`: the JSON API (/api/v1),
 * /metrics, /healthz, /readyz and the embedded dashboard.
 *
 * It runs on libmicrohttpd's own threads and never touches the loop: it
 * reads live figures from the snapshots the loop publishes (live/state.h)
 * and history from read-only store connections, one per server thread.
 * docs/internals/web.md describes the threads and limits; docs/api.md the
 * routes.
 */
#ifndef YS_WEB_WEB_H
#define YS_WEB_WEB_H

#include "config/model.h"
#include "core/err.h"
#include "live/state.h"

struct ys_web;
struct ys_outbox;
struct ys_heartbeats;

/* Starts serving cfg->server (listen address, limits, auth) with figures
 * from live (borrowed; must outlive the server) and history from the store
 * described by cfg->storage. Heartbeat pings (/ping/...) go to hb
 * (borrowed, must outlive the server; NULL: pings are answered 503). Takes a config reference of its own, so call
 * it on the loop thread (or before the loop runs). Settings are read once:
 * a reload does not move the server. Returns 0 and *out, or YS_EIO (with
 * err: the address is busy or invalid) or YS_EINVAL. */
int ys_web_start(struct ys_config *cfg, struct ys_live_state *live, struct ys_heartbeats *hb,
                 struct ys_web **out, struct ys_err *err);
/* Lets /metrics report the outbox's delivery counters (thread-safe; o
 * must outlive the server or be unset with NULL first). */
void ys_web_set_outbox(struct ys_web *w, struct ys_outbox *o);
/* Whether this daemon holds the notifier lease and how often that changed
 * (src/ha/lease.h), for /metrics and /api/v1/status. Thread-safe. */
void ys_web_set_leader(struct ys_web *w, bool leader, uint64_t lease_changes);
/* Whether this daemon probes its partition (holds the partition lease,
 * src/ha/lease.h) or stands by, for /api/v1/status. Process-wide (one
 * daemon per process; api_status.c). Thread-safe. */
void ys_web_set_probing(bool probing);
/* Stops the server: closes every connection, joins its threads and drops
 * every snapshot reference it held. Call on the loop thread or after the
 * loop ended, before freeing live. NULL is a no-op. */
void ys_web_stop(struct ys_web *w);

#endif
