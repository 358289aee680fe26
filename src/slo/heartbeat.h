/*
 * heartbeat.h - the state of one heartbeat (push) check: which scheduled
 * slots were met by a ping, which were missed, failed, too short or too
 * long, and what state the job is in now. Pure: pings and clock readings
 * in, results out; the daemon's live/heartbeats.c drives it on the loop.
 *
 * Slots. Each scheduled slot is one event for SLOs and goals: exactly one
 * struct ys_result is emitted per slot, ok when a success ping met it.
 *  - period mode: slot due at D = last verdict + period (for a tracker
 *    with no history: start time + period). A success ping at t with
 *    D - period/2 <= t <= D + grace closes it ok, and the next slot is
 *    due at t + period. If D + grace passes with no verdict, a failed
 *    result (YS_EC_TIMEOUT, "missed") is emitted and the next slot is due
 *    at D + period. A ping before D - period/2 belongs to the slot judged
 *    before (the nearer due time): a retry, a second report or a flood
 *    of pings adds no result however many come, and does not move D
 *    (except the first ping after a miss: the missed run arriving late,
 *    after which the next slot is due at t + period). A tracker with no
 *    verdict yet lets its first verdict ping close the first slot.
 *  - cron mode: slots are the fire times F of the cron schedule in its
 *    time zone. A ping at t counts for the slot of the latest F <= t + skew,
 *    where skew = min(60 s, half the gap to the previous fire) absorbs
 *    clocks that run a little ahead. The first success in a slot closes it
 *    ok; F + grace passing with none emits "missed" for it.
 *  - A fail ping (or an exit code other than 0) closes the current slot
 *    failed (YS_EC_ASSERTION, "job reported failure (exit 3)").
 *  - The first verdict ping of a slot is its result. A later one in the
 *    same slot changes only the state: a fail after a success shows
 *    FAILED (problem failed), a success after a fail (a retry that worked)
 *    shows UP, and the slot keeps its first result either way.
 *  - A start ping opens a run (keyed by run id; "" is a run of its own).
 *    The success or fail that carries the same run id (or, without one, the
 *    newest open run) ends it; its duration is the result's duration_us
 *    and value (seconds, YS_RF_HAS_VALUE). A success whose run was shorter
 *    than min_duration or longer than max_duration closes the slot failed
 *    (YS_EC_ASSERTION, "too short: ran 2s, min_duration 10m").
 *  - A run still open past max_duration sets problem TOO_LONG (for alerts)
 *    at once, before it ends.
 * Pings that arrive for a slot already closed change the state (last
 * ping, last success, runs, UP or FAILED, problem) but emit nothing, so a
 * slot never counts twice.
 */
#ifndef YS_SLO_HEARTBEAT_H
#define YS_SLO_HEARTBEAT_H

#include "core/cron.h"
#include "core/result.h"

#include <stdbool.h>
#include <stdint.h>

enum ys_ping_kind { YS_PING_SUCCESS = 0, YS_PING_START, YS_PING_FAIL };

#define YS_PING_RUN_ID_MAX 64

/* One ping as received; the body (the job's log tail) travels apart. */
struct ys_ping {
    uint32_t check_id;
    int64_t ts_ms;
    uint8_t kind;                    /* enum ys_ping_kind; an exit code != 0 is YS_PING_FAIL */
    int16_t exit_code;               /* -1 when none was given */
    char run_id[YS_PING_RUN_ID_MAX]; /* "" when none */
};

struct ys_hb_schedule {
    int64_t period_ms;          /* > 0 in period mode, 0 in cron mode */
    const struct ys_cron *cron; /* cron mode; borrowed for the tracker's life */
    const struct ys_tz *tz;     /* cron's zone; borrowed */
    int64_t grace_ms;
    int64_t min_duration_ms; /* 0: no minimum */
    int64_t max_duration_ms; /* 0: no maximum */
};

enum ys_hb_state {
    YS_HB_NEW = 0, /* no ping yet and the first slot's deadline not reached */
    YS_HB_UP,
    YS_HB_LATE,    /* the slot is due and within its grace */
    YS_HB_DOWN,    /* the last slot was missed and no success since */
    YS_HB_RUNNING, /* a run is open (started, not ended) */
    YS_HB_FAILED   /* the last slot closed failed */
};

enum ys_hb_problem {
    YS_HBP_NONE = 0,
    YS_HBP_MISSED,
    YS_HBP_FAILED,
    YS_HBP_TOO_LONG,
    YS_HBP_TOO_SHORT
};

#define YS_HB_MAX_RUNS 8 /* open runs tracked at once; the oldest is dropped */

struct ys_hb_run {
    int64_t start_ms;
    char run_id[YS_PING_RUN_ID_MAX];
};

struct ys_hb_tracker {
    struct ys_hb_schedule sched;
    int64_t due_ms;                        /* the current slot's due time */
    bool slot_closed;                      /* cron: the current slot got its verdict */
    enum ys_hb_problem problem;            /* the latest slot's (or the open run's) problem */
    int64_t last_ping_ms, last_success_ms; /* 0: never */
    int64_t last_duration_ms;              /* the last finished run's; -1 none */
    struct ys_hb_run runs[YS_HB_MAX_RUNS];
    int n_runs;
    bool ever_pinged;
    bool missed; /* the last verdict was a miss and no success since */
    bool failed; /* the last verdict was a failure and no success since */
    bool judged; /* period mode: a slot got its verdict (ping or miss), so a
                  * ping before due_ms - period/2 is a repeat for it */
};

/* Starts tracking at now_ms with no history. */
void ys_hb_init(struct ys_hb_tracker *t, const struct ys_hb_schedule *s, int64_t now_ms);
/* Restores the state from the newest stored pings (oldest first) and the
 * newest stored result of the check (last; NULL when none) without
 * emitting anything, as after a restart. Slots whose deadline passed by
 * last->ts_ms already have their result and are not emitted again. A
 * check whose deadline passed after that is DOWN and counts one missed
 * slot at the next tick (not one per slot of the downtime). A check with
 * no pings whose last result is a miss is DOWN with problem missed at
 * once, and its slots go on from the missed one. */
void ys_hb_restore(struct ys_hb_tracker *t, const struct ys_ping *pings, size_t n,
                   const struct ys_result *last, int64_t now_ms);
/* Feeds one ping (its ts_ms is the time). Returns 1 and fills *out (its
 * check_id copied from the ping) when the ping closed a slot, else 0. */
int ys_hb_ping(struct ys_hb_tracker *t, const struct ys_ping *p, struct ys_result *out);
/* Closes every slot whose deadline passed by now_ms, oldest first, into
 * out (at most max; call again while it returns max). Sets problem
 * TOO_LONG for runs open past max_duration. check_id is left 0. */
size_t ys_hb_tick(struct ys_hb_tracker *t, int64_t now_ms, struct ys_result *out, size_t max);
/* The next time tick has something to do (a deadline or a run reaching
 * max_duration), epoch ms. */
int64_t ys_hb_next_deadline(const struct ys_hb_tracker *t);
enum ys_hb_state ys_hb_state(const struct ys_hb_tracker *t, int64_t now_ms);
const char *ys_hb_state_name(enum ys_hb_state s);     /* "up", "late", ... */
const char *ys_hb_problem_name(enum ys_hb_problem p); /* "missed", "too_long", ... ; "" none */

#endif
