/*
 * hb_feed.h - the heartbeat feed: pings other daemons stored, read back
 * for the lease holder's heartbeat trackers (docs/ha.md, "Heartbeats").
 *
 * A job may ping any daemon on the store; each stores what it takes
 * (live/heartbeats.c), but only the lease holder judges the slots. The
 * feed (hb_feed.c, a thread of its own with a read-only connection, like
 * the follower feed of follow.h) polls every heartbeat check's stored
 * pings and hands each one it has not handed on yet to the loop, which
 * passes it to ys_heartbeats_feed (not stored again; the trackers drop
 * the pings this daemon took itself, live/hb_seen.h).
 *
 * Each poll re-reads YS_HB_FEED_OVERLAP_MS before the newest ping seen:
 * several writers commit out of timestamp order (the writer batches, and
 * PostgreSQL sessions commit independently), so a ping may become visible
 * after a newer one was read.
 */
#ifndef YS_HA_HB_FEED_H
#define YS_HA_HB_FEED_H

#include "config/model.h"
#include "store/store.h"

#include <stdbool.h>
#include <uv.h>

#define YS_HB_FEED_POLL_MS 500
#define YS_HB_FEED_OVERLAP_MS 10000

struct ys_hb_feed;

/* Called on the loop thread with each ping read back (borrowed, body not
 * carried) and its check's name. */
typedef void (*ys_hb_feed_cb)(const char *name, const struct ys_ping_record *rec, void *arg);

/* Returns an owned feed on loop, idle until ys_hb_feed_resume. kind and
 * opt say which store to read (copied; opened read-only). Loop thread. */
struct ys_hb_feed *ys_hb_feed_new(uv_loop_t *loop, const char *kind,
                                  const struct ys_store_options *opt, ys_hb_feed_cb cb, void *arg);
/* Makes cfg the config whose heartbeat checks are read (takes a
 * reference); on reload too. */
void ys_hb_feed_apply(struct ys_hb_feed *f, struct ys_config *cfg);
/* Starts reading (the lease was won) at from_ms, the time the trackers
 * were restored: the first read goes back YS_HB_FEED_OVERLAP_MS before
 * it, for pings committed late. No-op when running. */
void ys_hb_feed_resume(struct ys_hb_feed *f, int64_t from_ms);
/* Stops (the lease was lost): joins the thread and drops what the loop
 * had not taken. No-op when idle. */
void ys_hb_feed_pause(struct ys_hb_feed *f);
/* Pauses and closes; frees itself once its loop handle is closed. NULL
 * is a no-op. */
void ys_hb_feed_close(struct ys_hb_feed *f);

#endif
