/*
 * state.h - the live state of the daemon (last result, counters, open
 * incident, certificates seen per check), published by the loop thread as
 * immutable snapshots for the HTTP server's threads.
 *
 * The loop owns a private table it updates on every result; at most every
 * 250 ms (the daemon's publish timer) it copies the table into a new
 * reference-counted snapshot and swaps it in under a mutex held only to
 * swap or copy the pointer. Readers take a reference, read at leisure and
 * release it. A snapshot holds a reference to the config it describes, and
 * config references are the loop's business: so a snapshot whose last
 * reference goes on another thread is parked and freed by the next publish
 * on the loop (or by ys_live_state_free).
 */
#ifndef YS_LIVE_STATE_H
#define YS_LIVE_STATE_H

#include "config/model.h"
#include "core/result.h"
#include "sched/scheduler.h"
#include "slo/heartbeat.h"
#include "store/writer.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A heartbeat check's tracker, as live/heartbeats.c last saw it. */
struct ys_live_heartbeat {
    bool present;             /* the check is a heartbeat and the fields are filled */
    uint8_t state;            /* enum ys_hb_state */
    uint8_t problem;          /* enum ys_hb_problem */
    int64_t last_ping_ms;     /* 0: never */
    int64_t last_success_ms;  /* 0: never */
    int64_t last_duration_ms; /* -1: none */
    int64_t next_due_ms;      /* -1: none */
};

/* One check's live figures; the check itself is snap->cfg->checks[i]. */
struct ys_live_check {
    bool has_last;
    struct ys_result last; /* the newest result */
    bool has_tls;
    struct ys_tls_facts tls;        /* the newest TLS facts seen (kept across failures) */
    uint64_t total, ok;             /* results since the daemon started */
    uint64_t failures[YS_EC_COUNT]; /* by error class */
    bool incident_open;
    struct ys_live_heartbeat hb; /* heartbeat checks only */
    /* Passing probes at most as long as each distinct latency threshold
     * of the SLOs covering the check (for `yardstick rules`): counts in
     * fast[fast_at .. fast_at + fast_n) of the state or snapshot, their
     * thresholds at the same places in fast_le_ms, and every probe counted
     * since that slot was created in slot_total at the same places. */
    uint32_t fast_at, fast_n;
};

struct ys_live_snapshot {
    atomic_int refs;
    struct ys_live_state *owner;
    struct ys_config *cfg;        /* a reference; checks[i] is cfg->checks[i] */
    struct ys_live_check *checks; /* cfg->n_checks entries */
    int64_t published_ms;         /* wall clock of the publish */
    int64_t started_ms;           /* when the daemon started */
    struct ys_sched_stats sched;
    struct ys_writer_stats writer;
    int64_t writer_failed_at_ms; /* last time writer.failed grew; 0 never */
    uint64_t *fast;              /* n_fast counts, see ys_live_check.fast_at */
    uint64_t *slot_total;        /* n_fast counts of all probes, same places */
    int64_t *fast_le_ms;         /* n_fast thresholds in ms */
    size_t n_fast;
    struct ys_live_snapshot *next_dead; /* parked for the loop to free */
};

struct ys_live_state;

/* An empty state (no config yet). Loop thread. */
struct ys_live_state *ys_live_state_new(int64_t now_ms);
/* Frees the state and every snapshot; every reader must have released its
 * references (stop the web server first). NULL is a no-op. */
void ys_live_state_free(struct ys_live_state *st);
/* Makes cfg the described config (takes a reference of its own), keeping
 * the figures of checks that remain by name. Loop thread. */
void ys_live_state_apply(struct ys_live_state *st, struct ys_config *cfg);
/* Records one result of check (matched by name in the current config;
 * unknown names, from a config swapped out while the probe ran, are
 * ignored). Loop thread. */
void ys_live_state_feed(struct ys_live_state *st, const struct ys_check *check,
                        const struct ys_result *r, bool incident_open);
/* Sets the heartbeat figures of the check named name (ignored when the
 * current config has none). Loop thread. */
void ys_live_state_set_heartbeat(struct ys_live_state *st, const char *name,
                                 const struct ys_live_heartbeat *hb);
/* Publishes a snapshot of the private table with the given stats (either
 * may be NULL: zeros) and frees parked snapshots. Loop thread. */
void ys_live_state_publish(struct ys_live_state *st, const struct ys_sched_stats *sched,
                           const struct ys_writer_stats *writer, int64_t now_ms);
/* The current snapshot with a reference taken, or NULL before the first
 * publish. Any thread. */
struct ys_live_snapshot *ys_live_state_acquire(struct ys_live_state *st);
/* Takes one more reference on snap. Any thread. */
void ys_live_snapshot_ref(struct ys_live_snapshot *snap);
/* Drops a reference. Any thread; NULL is a no-op. */
void ys_live_snapshot_release(struct ys_live_snapshot *snap);
/* Index of the check named name in snap->cfg, or -1. */
long ys_live_snapshot_find(const struct ys_live_snapshot *snap, const char *name);

#endif
