/*
 * maintenance.c - whether a maintenance window is open (see maintenance.h).
 *
 * A one-off window is the interval [start, end). A recurring one is the
 * union of its occurrences [F, F + duration) over the cron's fire times F.
 * All occurrences last equally long, so the one that started last ends
 * last: the window is open at t exactly when the latest F <= t satisfies
 * F + duration > t, and one ys_cron_prev answers it.
 *
 * When it closes. Occurrences that overlap or touch (the next F at or
 * before the current end) keep the window open without a break, so
 * "until" follows that chain rather than stopping at the end of the
 * occurrences open at t: an evaluator that sleeps until then does not
 * wake to find the window still open. The chain is followed for at most
 * MAINT_CHAIN_MAX occurrences (a window that never closes, such as hourly
 * for two hours, would go on for ever); asking again at that time goes on.
 * For the same reason ys_maint_next_open returns the next time the window
 * goes from closed to open, skipping occurrences that start inside an
 * open stretch. Pure; any thread.
 */
#include "slo/maintenance.h"

#define MAINT_CHAIN_MAX 64

/* The end of the open stretch that contains the occurrence starting at f. */
static int64_t chain_end(const struct ys_maint_window *w, int64_t f)
{
    int64_t end = f + w->duration_ms;
    for (int i = 0; i < MAINT_CHAIN_MAX; i++) {
        int64_t n = ys_cron_next(w->cron, w->tz, f);
        if (n < 0 || n > end)
            break;
        f = n;
        end = n + w->duration_ms;
    }
    return end;
}

bool ys_maint_active(const struct ys_maint_window *w, int64_t t_ms, int64_t *until_ms)
{
    if (!w->recurring) {
        if (t_ms < w->start_ms || t_ms >= w->end_ms)
            return false;
        if (until_ms)
            *until_ms = w->end_ms;
        return true;
    }
    if (!w->cron || !w->tz || w->duration_ms <= 0)
        return false;
    int64_t f = ys_cron_prev(w->cron, w->tz, t_ms);
    if (f < 0 || f + w->duration_ms <= t_ms)
        return false;
    if (until_ms)
        *until_ms = chain_end(w, f);
    return true;
}

int64_t ys_maint_next_open(const struct ys_maint_window *w, int64_t t_ms)
{
    if (!w->recurring)
        return w->start_ms > t_ms && w->end_ms > w->start_ms ? w->start_ms : -1;
    if (!w->cron || !w->tz || w->duration_ms <= 0)
        return -1;
    int64_t from = t_ms, until;
    /* Open now: the next opening is the first fire after the stretch
     * closes (a fire exactly at its end belongs to the stretch). */
    if (ys_maint_active(w, t_ms, &until))
        from = until;
    int64_t n = ys_cron_next(w->cron, w->tz, from);
    /* Past the chain cap the window may still be open just before n; look
     * a bounded number of stretches further, and call a window that never
     * closes within them one that never opens anew. */
    for (int i = 0; n >= 0; i++) {
        if (!ys_maint_active(w, n - 1, &until))
            return n;
        if (i == 4)
            return -1;
        n = ys_cron_next(w->cron, w->tz, until);
    }
    return -1;
}
