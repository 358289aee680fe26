/*
 * follow.h - the follower feed: other shards' results, read back from the
 * store, for the lease holder's incidents, alerts and live state.
 *
 * With `instance.shard`, each check is probed by one daemon, which writes
 * its results to the shared store. The lease holder evaluates the alert
 * rules, which see results on its loop; without this feed it would see
 * only the checks it probes itself. The feed (follow.c, a thread of its
 * own with a read-only connection, like the combiner) polls the store for
 * the new results of every check this daemon does not probe but another
 * shard does, and hands them to the loop, which feeds alerts and live
 * state but not the writer (they are stored already). docs/ha.md,
 * "Sharding".
 *
 * The incident state of a followed check is the feed's own (the pure
 * tracker of slo/incident.h, on the thread, never written anywhere): the
 * prober writes the check's incidents; the leader only needs to know
 * whether one is open, for check_down and the live state. At start the
 * feed resumes the incidents open in the store and replays the check's
 * last few results into its tracker (never to the loop), so a failing
 * streak in progress at a takeover counts.
 *
 * Not followed: checks probed here, multi-location checks (the combiner
 * owns their verdict) and passive kinds (heartbeat: every daemon stores
 * the pings it takes, and the leader reads the others' through its own
 * feed, hb_feed.c).
 */
#ifndef YS_HA_FOLLOW_H
#define YS_HA_FOLLOW_H

#include "config/model.h"
#include "core/result.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* Results handed to the loop per check per poll, at most; the rest come
 * at the next poll (a follower that was far behind catches up in steps). */
#define YS_FOLLOW_BATCH 256
/* Shortest time between two polls of one check. */
#define YS_FOLLOW_MIN_POLL_MS 1000

/* ---- pure parts ---- */

/* Whether the daemon of config cfg follows ck: ck is probed (an active
 * kind), has no locations, and another shard than this daemon's probes
 * it. */
bool ys_follow_wants(const struct ys_config *cfg, const struct ys_check *ck);

/* Where a followed check stands: the newest result already handed on, and
 * when to poll next. */
struct ys_follow_cursor {
    int64_t seen_ms; /* results with ts <= seen_ms are old */
    int64_t next_poll_ms;
};

/* Starts a cursor at newest_ms (the newest result in the store at start,
 * or the earliest ts still news when there is none) and polls at now_ms. */
void ys_follow_cursor_init(struct ys_follow_cursor *c, int64_t newest_ms, int64_t now_ms);
/* Whether the check is due for a poll at now_ms. */
bool ys_follow_cursor_due(const struct ys_follow_cursor *c, int64_t now_ms);
/* A poll ran at now_ms: the next one after max(interval_ms, 1 s). */
void ys_follow_cursor_polled(struct ys_follow_cursor *c, int64_t now_ms, int64_t interval_ms);
/* Whether a result stamped ts_ms is news; if it is, it becomes the
 * newest seen. */
bool ys_follow_cursor_take(struct ys_follow_cursor *c, int64_t ts_ms);

/* ---- the feed (the lease holder's) ---- */

struct ys_follower;

/* Called on the loop thread with each new result (borrowed), the check's
 * name, and whether the check has an open incident after it. */
typedef void (*ys_follow_result_cb)(const char *name, const struct ys_result *r, bool incident_open,
                                    void *arg);

/* Returns an owned feed on loop, idle until ys_follower_resume. kind and
 * opt say which store to read (copied; opened read-only). Loop thread. */
struct ys_follower *ys_follower_new(uv_loop_t *loop, const char *kind,
                                    const struct ys_store_options *opt, ys_follow_result_cb cb,
                                    void *arg);
/* Makes cfg the config to follow (takes a reference); on reload too. */
void ys_follower_apply(struct ys_follower *f, struct ys_config *cfg);
/* Starts following (the lease was won): the thread starts each check's
 * cursor at its newest stored result, so history is not news. No-op when
 * running. */
void ys_follower_resume(struct ys_follower *f);
/* Stops (the lease was lost): joins the thread and drops what the loop had
 * not taken yet. No-op when idle. */
void ys_follower_pause(struct ys_follower *f);
/* Pauses and closes; frees itself once its loop handle is closed. NULL is
 * a no-op. */
void ys_follower_close(struct ys_follower *f);
/* Whether the feed runs (tests). */
bool ys_follower_running(const struct ys_follower *f);

#endif
