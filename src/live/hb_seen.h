/*
 * hb_seen.h - which heartbeat pings a tracker was already fed, so a ping
 * reaches it once however it arrives (docs/ha.md, "Heartbeats").
 *
 * With several daemons on one store, a job pings any of them; each stores
 * its pings, and the lease holder feeds its trackers with the pings it
 * takes itself and with those it reads back from the store (ha/hb_feed.h).
 * The store has no ping id both backends return, and a ping the leader
 * took shows up in the store too, so a ping is known by what it says: its
 * time, kind, exit code and run id. Two pings of one check alike in all
 * of these (the same millisecond) count as one, which is what a retry is.
 *
 * The set remembers the last YS_HB_SEEN_MAX pings of one check, and a
 * horizon: a ping at or before it is old (restored from the store, or
 * fallen out of the set). Pure; one set per check per thread.
 */
#ifndef YS_LIVE_HB_SEEN_H
#define YS_LIVE_HB_SEEN_H

#include "slo/heartbeat.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pings remembered per check: far more than a job sends within the feed's
 * re-read window (hb_feed.h) at any sane rate. */
#define YS_HB_SEEN_MAX 256

struct ys_hb_seen_key {
    int64_t ts_ms;
    uint64_t hash; /* of kind, exit code and run id */
};

struct ys_hb_seen {
    int64_t horizon_ms; /* pings with ts <= this are old */
    struct ys_hb_seen_key keys[YS_HB_SEEN_MAX];
    size_t n, next; /* a ring in insertion order */
};

/* Empties s; pings at or before horizon_ms are old. */
void ys_hb_seen_init(struct ys_hb_seen *s, int64_t horizon_ms);
/* Whether p is news: not older than the horizon and not seen yet. If it
 * is, it is remembered (the oldest remembered one is forgotten when the
 * set is full, and the horizon moves up to it). */
bool ys_hb_seen_add(struct ys_hb_seen *s, const struct ys_ping *p);

#endif
