/*
 * heartbeat.c - the heartbeat tracker (heartbeat.h): pings and clock
 * readings in, one result per scheduled slot out.
 *
 * Data: the current slot's due time, whether it already got its verdict
 * (cron mode; in period mode the slot due at due_ms is always the next one
 * expected, and `judged` says whether the one before it got its verdict),
 * the open runs in the order they started, and the flags the state is
 * read from (missed, failed).
 *
 * Invariants:
 *  - every slot gets exactly one verdict: a ping closes it (ys_hb_ping
 *    returns 1) or its deadline does (ys_hb_tick emits "missed"); a ping
 *    for a slot already closed only changes the state;
 *  - period mode: due_ms is the next expected success; after a verdict at
 *    t it is t + period, after a miss it moves on by one period; a ping
 *    before due_ms - period / 2 belongs to the slot judged before (when
 *    there is one) and moves nothing, except the first after a miss;
 *  - cron mode: due_ms is a fire time of the schedule (or -1 when the
 *    schedule never fires); slots between due_ms and now are closed by
 *    tick in order, so a ping never skips one;
 *  - runs[0..n_runs) are ordered by when they were opened; at most one
 *    run has a given id ("" included: a second anonymous start replaces
 *    the first, since a job that starts again without ending has died).
 *
 * Which slot a ping belongs to (period mode): the one whose due time is
 * nearest. A ping before the middle of the period that leads to due_ms
 * is for the slot judged before: a retry or a second report of a run
 * already counted, or after a miss the missed run arriving late. Counting
 * it as the next slot would count one run for two slots (and let anyone
 * who can reach the port add ok events at will). Cron mode asks the same
 * question of the schedule (the latest fire time at or before the ping,
 * with a little skew, see heartbeat.h).
 *
 * Pure: no I/O, no clock reading, no global state.
 */
#include "slo/heartbeat.h"

#include "core/clock.h"
#include "core/duration.h"

#include <stdio.h>
#include <string.h>

#define SKEW_MAX_MS INT64_C(60000)
#define RESTORE_BATCH 16
/* How a missed slot's message starts; restore looks for it. */
#define MISSED_PREFIX "missed: "

static bool cron_mode(const struct ys_hb_tracker *t)
{
    return t->sched.period_ms <= 0 && t->sched.cron;
}

static int64_t fire_after(const struct ys_hb_tracker *t, int64_t after_ms)
{
    return ys_cron_next(t->sched.cron, t->sched.tz, after_ms);
}

/* Whether the current slot still waits for its verdict. */
static bool slot_open(const struct ys_hb_tracker *t)
{
    if (!cron_mode(t))
        return true;
    return t->due_ms >= 0 && !t->slot_closed;
}

void ys_hb_init(struct ys_hb_tracker *t, const struct ys_hb_schedule *s, int64_t now_ms)
{
    memset(t, 0, sizeof *t);
    t->sched = *s;
    t->last_duration_ms = -1;
    if (cron_mode(t)) {
        /* The slot in progress when tracking starts may have been met
         * already, unseen: the first slot judged is the next one. */
        t->due_ms = fire_after(t, now_ms);
        t->slot_closed = t->due_ms < 0;
    } else {
        t->due_ms = now_ms + (s->period_ms > 0 ? s->period_ms : 1);
    }
}

/* ---- runs ---- */

static int find_run(const struct ys_hb_tracker *t, const char *run_id)
{
    for (int i = 0; i < t->n_runs; i++)
        if (strcmp(t->runs[i].run_id, run_id) == 0)
            return i;
    return -1;
}

static void drop_run(struct ys_hb_tracker *t, int i)
{
    memmove(&t->runs[i], &t->runs[i + 1], (size_t)(t->n_runs - i - 1) * sizeof t->runs[0]);
    t->n_runs--;
}

static void open_run(struct ys_hb_tracker *t, const char *run_id, int64_t ts_ms)
{
    int i = find_run(t, run_id);
    if (i >= 0)
        drop_run(t, i); /* started again: the new start wins */
    if (t->n_runs == YS_HB_MAX_RUNS)
        drop_run(t, 0);
    struct ys_hb_run *r = &t->runs[t->n_runs++];
    r->start_ms = ts_ms;
    snprintf(r->run_id, sizeof r->run_id, "%s", run_id);
}

/* Ends the run an ending ping names (or the newest, without an id).
 * Returns its duration in ms, or -1 when no open run matches. */
static int64_t end_run(struct ys_hb_tracker *t, const char *run_id, int64_t ts_ms)
{
    int i = run_id[0] ? find_run(t, run_id) : t->n_runs - 1;
    if (i < 0)
        return -1;
    int64_t d = ts_ms - t->runs[i].start_ms;
    drop_run(t, i);
    return d > 0 ? d : 0;
}

/* ---- verdicts ---- */

struct verdict {
    enum ys_hb_problem problem;
    char msg[YS_RESULT_MSG_MAX];
};

static void judge(const struct ys_hb_tracker *t, const struct ys_ping *p, int64_t dur_ms,
                  struct verdict *v)
{
    char a[32], b[32];
    v->problem = YS_HBP_NONE;
    v->msg[0] = '\0';
    if (p->kind == YS_PING_FAIL || p->exit_code > 0) {
        v->problem = YS_HBP_FAILED;
        if (p->exit_code >= 0)
            snprintf(v->msg, sizeof v->msg, "job reported failure (exit %d)", p->exit_code);
        else
            snprintf(v->msg, sizeof v->msg, "job reported failure");
    } else if (dur_ms >= 0 && t->sched.min_duration_ms > 0 && dur_ms < t->sched.min_duration_ms) {
        v->problem = YS_HBP_TOO_SHORT;
        snprintf(v->msg, sizeof v->msg, "too short: ran %s, min_duration %s",
                 ys_duration_format(dur_ms, a, sizeof a),
                 ys_duration_format(t->sched.min_duration_ms, b, sizeof b));
    } else if (dur_ms >= 0 && t->sched.max_duration_ms > 0 && dur_ms > t->sched.max_duration_ms) {
        v->problem = YS_HBP_TOO_LONG;
        snprintf(v->msg, sizeof v->msg, "too long: ran %s, max_duration %s",
                 ys_duration_format(dur_ms, a, sizeof a),
                 ys_duration_format(t->sched.max_duration_ms, b, sizeof b));
    }
}

static void fill_result(struct ys_result *out, const struct ys_ping *p, int64_t dur_ms,
                        const struct verdict *v)
{
    ys_result_init(out);
    out->check_id = p->check_id;
    out->ts_ms = p->ts_ms;
    if (dur_ms >= 0) {
        out->duration_us = dur_ms * 1000;
        out->value = (double)dur_ms / 1000.0;
        out->flags |= YS_RF_HAS_VALUE;
    }
    if (v->problem != YS_HBP_NONE)
        ys_result_fail(out, YS_EC_ASSERTION, "%s", v->msg);
}

/* The cron slot a ping at ts belongs to: the latest fire time at or
 * before ts + skew, skew = min(60 s, half the gap to the previous fire). */
static int64_t cron_slot_of(const struct ys_hb_tracker *t, int64_t ts)
{
    int64_t before = ys_cron_prev(t->sched.cron, t->sched.tz, ts);
    int64_t after = fire_after(t, ts);
    if (after >= 0) {
        int64_t skew = SKEW_MAX_MS;
        if (before >= 0 && (after - before) / 2 < skew)
            skew = (after - before) / 2;
        if (after - ts <= skew)
            return after;
    }
    return before;
}

/* Whether a verdict ping at ts closes a slot (moving due_ms as the slot
 * rules say) or comes for one already closed. */
static bool closes_slot(struct ys_hb_tracker *t, int64_t ts)
{
    if (!cron_mode(t)) {
        /* Before the middle of the period leading to due_ms, a ping is a
         * repeat for the slot judged last (a retry, a second report, a
         * flood): it must not count again, nor move the schedule, or a
         * job pinging every minute would never reach its next slot. The
         * one exception is the missed run arriving late: the job's rhythm
         * moved, so the next slot is due a period after it. */
        if (t->judged && ts < t->due_ms - t->sched.period_ms / 2) {
            if (t->missed)
                t->due_ms = ts + t->sched.period_ms;
            return false;
        }
        t->due_ms = ts + t->sched.period_ms;
        t->judged = true;
        return true;
    }
    if (t->due_ms < 0)
        return false;
    int64_t f = cron_slot_of(t, ts);
    if (f < 0 || f < t->due_ms || (f == t->due_ms && t->slot_closed))
        return false;
    /* f > due with the current slot open only happens when tick was not
     * called up to ts; the ping then meets the oldest open slot. */
    if (f > t->due_ms && t->slot_closed)
        t->due_ms = f;
    t->slot_closed = true;
    return true;
}

int ys_hb_ping(struct ys_hb_tracker *t, const struct ys_ping *p, struct ys_result *out)
{
    t->last_ping_ms = p->ts_ms;
    t->ever_pinged = true;
    if (p->kind == YS_PING_START) {
        open_run(t, p->run_id, p->ts_ms);
        return 0;
    }
    int64_t dur = end_run(t, p->run_id, p->ts_ms);
    if (dur >= 0)
        t->last_duration_ms = dur;
    struct verdict v;
    judge(t, p, dur, &v);
    if (v.problem == YS_HBP_NONE)
        t->last_success_ms = p->ts_ms;
    bool closes = closes_slot(t, p->ts_ms); /* reads missed: before it is reset */
    t->missed = false;
    t->failed = v.problem != YS_HBP_NONE;
    t->problem = v.problem;
    if (!closes)
        return 0;
    fill_result(out, p, dur, &v);
    return 1;
}

/* ---- deadlines ---- */

static void emit_miss(struct ys_hb_tracker *t, struct ys_result *out)
{
    char due[40], grace[32];
    ys_result_init(out);
    out->ts_ms = t->due_ms + t->sched.grace_ms;
    ys_result_fail(out, YS_EC_TIMEOUT,
                   MISSED_PREFIX "no success ping for the slot due %s (grace %s)",
                   ys_format_time(t->due_ms, due, sizeof due),
                   ys_duration_format(t->sched.grace_ms, grace, sizeof grace));
    t->missed = true;
    t->failed = false;
    t->judged = true;
    t->problem = YS_HBP_MISSED;
}

/* An open run past max_duration is the problem of the moment, before it
 * ends (the alert should not wait for a job that may never end). */
static void flag_long_runs(struct ys_hb_tracker *t, int64_t now_ms)
{
    if (t->sched.max_duration_ms <= 0 || t->problem == YS_HBP_TOO_LONG)
        return;
    for (int i = 0; i < t->n_runs; i++)
        if (now_ms >= t->runs[i].start_ms + t->sched.max_duration_ms) {
            t->problem = YS_HBP_TOO_LONG;
            return;
        }
}

size_t ys_hb_tick(struct ys_hb_tracker *t, int64_t now_ms, struct ys_result *out, size_t max)
{
    size_t n = 0;
    while (n < max) {
        if (!cron_mode(t)) {
            if (now_ms < t->due_ms + t->sched.grace_ms)
                break;
            emit_miss(t, &out[n++]);
            t->due_ms += t->sched.period_ms;
        } else if (t->due_ms < 0) {
            break;
        } else if (!t->slot_closed) {
            if (now_ms < t->due_ms + t->sched.grace_ms)
                break;
            emit_miss(t, &out[n++]);
            t->slot_closed = true;
        } else {
            int64_t next = fire_after(t, t->due_ms);
            if (next < 0 || next > now_ms)
                break;
            t->due_ms = next;
            t->slot_closed = false;
        }
    }
    flag_long_runs(t, now_ms);
    return n;
}

int64_t ys_hb_next_deadline(const struct ys_hb_tracker *t)
{
    int64_t d = INT64_MAX;
    if (!cron_mode(t)) {
        d = t->due_ms + t->sched.grace_ms;
    } else if (t->due_ms >= 0) {
        if (!t->slot_closed) {
            d = t->due_ms + t->sched.grace_ms;
        } else {
            int64_t next = fire_after(t, t->due_ms);
            if (next >= 0)
                d = next;
        }
    }
    if (t->sched.max_duration_ms > 0 && t->problem != YS_HBP_TOO_LONG)
        for (int i = 0; i < t->n_runs; i++)
            if (t->runs[i].start_ms + t->sched.max_duration_ms < d)
                d = t->runs[i].start_ms + t->sched.max_duration_ms;
    return d;
}

/* ---- restore ---- */

/* Closes every slot whose deadline passed by ts, without emitting. */
static void quiet_until(struct ys_hb_tracker *t, int64_t ts)
{
    struct ys_result r[RESTORE_BATCH];
    if (!cron_mode(t)) {
        int64_t deadline = t->due_ms + t->sched.grace_ms;
        if (ts >= deadline) {
            int64_t k = (ts - deadline) / t->sched.period_ms + 1;
            t->due_ms += k * t->sched.period_ms;
            t->missed = true;
            t->failed = false;
            t->judged = true;
            t->problem = YS_HBP_MISSED;
        }
        flag_long_runs(t, ts);
        return;
    }
    while (ys_hb_tick(t, ts, r, RESTORE_BATCH) == RESTORE_BATCH)
        ;
}

/* The same up to now, except that the last slot whose deadline passed is
 * left open, so the next tick emits it: a check found overdue at start
 * counts one missed slot, not one per slot of the downtime. Slots whose
 * deadline passed by judged_ms (the newest stored result; 0 none) got
 * their result before the restart, so none of them is left open. */
static void quiet_until_now(struct ys_hb_tracker *t, int64_t now_ms, int64_t judged_ms)
{
    if (judged_ms > 0)
        quiet_until(t, judged_ms < now_ms ? judged_ms : now_ms);
    if (!cron_mode(t)) {
        int64_t deadline = t->due_ms + t->sched.grace_ms;
        if (now_ms >= deadline + t->sched.period_ms)
            quiet_until(t, now_ms - t->sched.period_ms);
        flag_long_runs(t, now_ms);
        return;
    }
    struct ys_hb_tracker before = *t;
    bool missed = false;
    struct ys_result r;
    for (;;) {
        struct ys_hb_tracker snap = *t;
        if (ys_hb_tick(t, now_ms, &r, 1) == 0)
            break;
        before = snap;
        missed = true;
    }
    if (!missed)
        return;
    /* Back to just before the last miss, then on to that slot, open: the
     * state reads DOWN now and the next tick emits the miss. */
    *t = before;
    while (t->slot_closed) {
        int64_t next = fire_after(t, t->due_ms);
        if (next < 0 || next > now_ms)
            break;
        t->due_ms = next;
        t->slot_closed = false;
    }
}

/* A check with no stored pings whose newest result is a miss at ts: the
 * schedule goes on from the missed slot (due ts - grace), which is closed
 * quietly, so the check is DOWN with problem missed from the start. A
 * fresh tracker instead would read NEW, then LATE with no problem (which
 * resolves a firing alert), then miss again a period later. Returns
 * false when the slot cannot be placed (a cron that never fired before). */
static bool resume_after_miss(struct ys_hb_tracker *t, int64_t ts)
{
    struct ys_hb_schedule s = t->sched;
    bool cron = cron_mode(t);
    int64_t due = ts - s.grace_ms;
    if (cron && (due = ys_cron_prev(s.cron, s.tz, due)) < 0)
        return false;
    /* Started one period (cron: one millisecond) before it, the tracker's
     * first slot is the missed one. */
    ys_hb_init(t, &s, due - (cron ? 1 : s.period_ms));
    quiet_until(t, ts);
    return t->missed;
}

void ys_hb_restore(struct ys_hb_tracker *t, const struct ys_ping *pings, size_t n,
                   const struct ys_result *last, int64_t now_ms)
{
    struct ys_hb_schedule s = t->sched;
    bool have_last = last && last->ts_ms <= now_ms; /* else from a clock that ran ahead */
    if (n > 0 && pings[0].ts_ms < now_ms) {
        ys_hb_init(t, &s, pings[0].ts_ms);
        struct ys_result r;
        for (size_t i = 0; i < n; i++) {
            if (pings[i].ts_ms > now_ms)
                break; /* from a clock that ran ahead; the live pings will tell */
            quiet_until(t, pings[i].ts_ms);
            ys_hb_ping(t, &pings[i], &r);
        }
    } else if (!(have_last && !last->ok && last->errclass == YS_EC_TIMEOUT &&
                 strncmp(last->message, MISSED_PREFIX, strlen(MISSED_PREFIX)) == 0 &&
                 resume_after_miss(t, last->ts_ms))) {
        ys_hb_init(t, &s, now_ms);
    }
    quiet_until_now(t, now_ms, have_last ? last->ts_ms : 0);
}

/* ---- state ---- */

enum ys_hb_state ys_hb_state(const struct ys_hb_tracker *t, int64_t now_ms)
{
    bool open = slot_open(t);
    if (t->missed || (open && now_ms >= t->due_ms + t->sched.grace_ms))
        return YS_HB_DOWN;
    if (t->n_runs > 0)
        return YS_HB_RUNNING;
    if (t->failed)
        return YS_HB_FAILED;
    if (open && now_ms > t->due_ms)
        return YS_HB_LATE;
    if (!t->ever_pinged)
        return YS_HB_NEW;
    return YS_HB_UP;
}

const char *ys_hb_state_name(enum ys_hb_state s)
{
    static const char *const names[] = {"new", "up", "late", "down", "running", "failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *ys_hb_problem_name(enum ys_hb_problem p)
{
    static const char *const names[] = {"", "missed", "failed", "too_long", "too_short"};
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "";
}
