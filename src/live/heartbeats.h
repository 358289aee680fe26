/*
 * heartbeats.h - the daemon's heartbeat checks: one tracker
 * (slo/heartbeat.h) per `kind: heartbeat` check, fed by pings from the
 * HTTP server's threads and by a timer on the loop, emitting one result
 * per scheduled slot through the same callback the scheduler uses.
 *
 * Life cycle (daemon.c):
 *   ys_heartbeats_new -> ys_heartbeats_apply(cfg) -> ys_heartbeats_restore
 *   (store) -> ys_web_start(..., hb) -> ys_heartbeats_start(loop) -> ...
 *   ys_heartbeats_apply on reload ... -> ys_heartbeats_close at shutdown
 *   (closes the loop handles) -> ys_web_stop -> ys_heartbeats_free.
 *
 * Threads: ys_heartbeats_intake from any thread; everything else on the
 * loop thread (new, apply, restore and free before or after the loop
 * runs).
 */
#ifndef YS_LIVE_HEARTBEATS_H
#define YS_LIVE_HEARTBEATS_H

#include "config/model.h"
#include "live/state.h"
#include "sched/scheduler.h"
#include "slo/heartbeat.h"
#include "store/store.h"
#include "store/writer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Pings queued between the server threads and the loop, at most; more
 * are refused (the job gets 503 and may retry). */
#define YS_HB_INTAKE_MAX 4096
#define YS_HB_INTAKE_BYTES (32 * 1024 * 1024)
/* Stored pings read back per check at start. */
#define YS_HB_RESTORE_PINGS 64

struct ys_heartbeats;

/* Called on the loop when a heartbeat check's state or problem changes
 * (the first report after start compares against new/none, so a problem
 * restored from the store is reported once). */
typedef void (*ys_heartbeats_change_cb)(const struct ys_check *check, enum ys_hb_state state,
                                        enum ys_hb_problem problem, int64_t now_ms, void *arg);

/* What others may read of one heartbeat check. */
struct ys_hb_status {
    enum ys_hb_state state;
    enum ys_hb_problem problem;
    int64_t last_ping_ms;     /* 0: never */
    int64_t last_success_ms;  /* 0: never */
    int64_t last_duration_ms; /* the last finished run's; -1 none */
    int64_t next_due_ms;      /* the current or next slot's due time; -1 none */
};

/* A table that stores pings through w (borrowed; may be NULL in tests)
 * and reports each slot's result to on_result (with the check's store_id
 * set). Free with ys_heartbeats_free. */
struct ys_heartbeats *ys_heartbeats_new(struct ys_writer *w, ys_sched_result_cb on_result,
                                        void *arg);
/* Sets the change callback (NULL: none). Loop thread. */
void ys_heartbeats_set_change_cb(struct ys_heartbeats *hb, ys_heartbeats_change_cb cb, void *arg);
/* Makes cfg the running config (takes a reference): one tracker per
 * heartbeat check, kept by name across reloads; a check whose definition
 * changed starts a fresh slot at now_ms but keeps its history (last ping,
 * runs, problem). Cron checks without tz use cfg->default_tz (loaded with
 * the config: nothing is read from disk here). */
void ys_heartbeats_apply(struct ys_heartbeats *hb, struct ys_config *cfg, int64_t now_ms);
/* Rebuilds every tracker from the newest stored pings and the newest
 * stored result of its check (see ys_hb_restore), so a restart neither
 * forgets nor invents a miss: a check never pinged whose last slot was
 * missed is DOWN with problem missed from the first report on, and a miss
 * already stored is not emitted again. Blocks on store: call at start,
 * before the loop runs. Returns 0 or an error. */
int ys_heartbeats_restore(struct ys_heartbeats *hb, struct ys_store *store, int64_t now_ms,
                          struct ys_err *err);
/* Starts the intake's async handle and the deadline timer on loop, and
 * handles what was queued before. Loop thread. */
void ys_heartbeats_start(struct ys_heartbeats *hb, uv_loop_t *loop);
/* Any thread: queues one ping of the check named name (its body, the
 * job's log tail, is copied; the caller caps it). Returns 0, or YS_EBUSY
 * when the queue is full or the table is closing. */
int ys_heartbeats_intake(struct ys_heartbeats *hb, const char *name, const struct ys_ping *p,
                         const char *body, size_t body_len);
/* The status of the heartbeat check named name / at index i of the
 * running config, at now_ms. Returns 0, or YS_ENOTFOUND when it is not a
 * heartbeat check. Loop thread. */
int ys_heartbeats_status(const struct ys_heartbeats *hb, const char *name, int64_t now_ms,
                         struct ys_hb_status *out);
int ys_heartbeats_status_at(const struct ys_heartbeats *hb, size_t i, int64_t now_ms,
                            struct ys_hb_status *out);
/* Copies every heartbeat's status into live (ys_live_state_set_heartbeat)
 * for the next publish. Loop thread. */
void ys_heartbeats_fill_live(const struct ys_heartbeats *hb, struct ys_live_state *live,
                             int64_t now_ms);
/* Several daemons on one store (docs/ha.md): only the lease holder
 * judges slots. ys_heartbeats_follow: another daemon holds the lease;
 * pings are still stored and fed to this daemon's trackers (its own view,
 * for the API), but the timer stops and no result is emitted.
 * ys_heartbeats_lead: this daemon holds it (the default); the trackers
 * are rebuilt from the store first (ys_heartbeats_restore; store NULL:
 * kept as they are), so a takeover neither misses nor counts a slot
 * twice. Returns 0 or the restore's error. Loop thread. */
void ys_heartbeats_follow(struct ys_heartbeats *hb);
int ys_heartbeats_lead(struct ys_heartbeats *hb, struct ys_store *store, int64_t now_ms,
                       struct ys_err *err);
/* The leader's trackers get one ping another daemon stored (ha/hb_feed.h;
 * its check_id is the check's store id): fed unless it was fed already,
 * its slot verdict emitted, and not stored again. Followers ignore it.
 * Loop thread. */
void ys_heartbeats_feed(struct ys_heartbeats *hb, const char *name,
                        const struct ys_ping_record *rec);
/* Closes the loop handles (shutdown); later pings are refused. Run the
 * loop until they are closed. Loop thread. */
void ys_heartbeats_close(struct ys_heartbeats *hb);
/* Frees the table, once closed (or never started) and once no thread can
 * call intake any more (stop the web server first). NULL is a no-op. */
void ys_heartbeats_free(struct ys_heartbeats *hb);

#endif
