/*
 * incident.c - the per-check incident state machine and window statistics
 * (see incident.h). Pure; a tracker belongs to whoever feeds it (the loop
 * thread in the daemon, a query replaying history), never shared.
 *
 * Tracker invariants: fail_streak counts consecutive failures and
 * ok_streak consecutive successes (only counted while open); exactly one of
 * them is non-zero after any result. streak_start_ms / streak_error belong
 * to the first failure of the current failing streak, recovery_ms to the
 * first success of the current ok streak. A failure while open resets the
 * ok streak, so with close_after = 3 "S S F S S S" closes at the last S
 * with the incident ending at the first S of that final streak.
 */
#include "slo/incident.h"

#include <stdio.h>
#include <string.h>

void ys_incident_tracker_init(struct ys_incident_tracker *t, uint32_t check_id, int open_after,
                              int close_after)
{
    memset(t, 0, sizeof *t);
    t->open_after = open_after > 0 ? open_after : 2;
    t->close_after = close_after > 0 ? close_after : 1;
    t->current.check_id = check_id;
}

void ys_incident_tracker_resume(struct ys_incident_tracker *t, const struct ys_incident *open)
{
    t->open = true;
    t->current = *open;
    t->current.end_ms = 0;
    t->fail_streak = t->open_after;
    t->ok_streak = 0;
    t->streak_start_ms = open->start_ms;
    snprintf(t->streak_error, sizeof t->streak_error, "%s", open->first_error);
}

static enum ys_incident_event feed_failure(struct ys_incident_tracker *t, int64_t ts_ms,
                                           const char *message, struct ys_incident *out)
{
    t->ok_streak = 0;
    if (t->fail_streak++ == 0) {
        t->streak_start_ms = ts_ms;
        snprintf(t->streak_error, sizeof t->streak_error, "%s", message ? message : "");
    }
    if (t->open || t->fail_streak < t->open_after)
        return YS_INCIDENT_NONE;
    t->open = true;
    t->current.start_ms = t->streak_start_ms;
    t->current.end_ms = 0;
    memcpy(t->current.first_error, t->streak_error, sizeof t->current.first_error);
    if (out)
        *out = t->current;
    return YS_INCIDENT_OPENED;
}

enum ys_incident_event ys_incident_feed(struct ys_incident_tracker *t, int64_t ts_ms, bool ok,
                                        const char *message, struct ys_incident *out)
{
    if (!ok)
        return feed_failure(t, ts_ms, message, out);
    t->fail_streak = 0;
    if (!t->open)
        return YS_INCIDENT_NONE;
    if (t->ok_streak++ == 0)
        t->recovery_ms = ts_ms;
    if (t->ok_streak < t->close_after)
        return YS_INCIDENT_NONE;
    t->open = false;
    t->ok_streak = 0;
    t->current.end_ms = t->recovery_ms;
    if (out)
        *out = t->current;
    return YS_INCIDENT_CLOSED;
}

/*
 * MTTR averages the full (unclipped) durations of the closed incidents that
 * overlap the window: a recovery time should not shrink because the window
 * cut it. Downtime and the longest outage are clipped. MTBF divides the
 * elapsed part of the window (up to now) less downtime by the count.
 */
void ys_incident_stats(const struct ys_incident *v, size_t n, int64_t start_ms, int64_t end_ms,
                       int64_t now_ms, struct ys_incident_stats *out)
{
    *out = (struct ys_incident_stats){0, 0, 0, -1, -1};
    int64_t closed_sum = 0, closed_n = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t s = v[i].start_ms;
        int64_t e = v[i].end_ms ? v[i].end_ms : (now_ms < end_ms ? now_ms : end_ms);
        if (e < s)
            e = s;
        if (s >= end_ms || (e <= start_ms && s < start_ms))
            continue;
        int64_t cs = s > start_ms ? s : start_ms, ce = e < end_ms ? e : end_ms;
        int64_t clipped = ce > cs ? ce - cs : 0;
        out->count++;
        out->downtime_ms += clipped;
        if (clipped > out->longest_ms)
            out->longest_ms = clipped;
        if (v[i].end_ms) {
            closed_sum += v[i].end_ms - v[i].start_ms;
            closed_n++;
        }
    }
    if (closed_n)
        out->mttr_ms = closed_sum / closed_n;
    if (out->count) {
        int64_t elapsed = (now_ms < end_ms ? now_ms : end_ms) - start_ms;
        int64_t up = elapsed - out->downtime_ms;
        out->mtbf_ms = (up > 0 ? up : 0) / (int64_t)out->count;
    }
}
