/*
 * follow_cursor.c - the follower feed's pure parts: which checks it
 * follows, and the per-check cursor (follow.h).
 *
 * The cursor is the newest result timestamp already handed on. It is
 * enough because one daemon probes a followed check and its writer
 * commits that check's results in time order, so a result that becomes
 * visible in the store later never has an older ts than one seen before.
 */
#include "ha/follow.h"

#include "config/instance.h"
#include "probe/probe.h"

bool ys_follow_wants(const struct ys_config *cfg, const struct ys_check *ck)
{
    if (!ck->type || !ck->type->start || ck->locations.n > 0)
        return false; /* passive (pings reach every daemon), or the combiner's */
    return !ys_instance_probes_check(&cfg->instance, ck);
}

void ys_follow_cursor_init(struct ys_follow_cursor *c, int64_t newest_ms, int64_t now_ms)
{
    c->seen_ms = newest_ms;
    c->next_poll_ms = now_ms;
}

bool ys_follow_cursor_due(const struct ys_follow_cursor *c, int64_t now_ms)
{
    return now_ms >= c->next_poll_ms;
}

void ys_follow_cursor_polled(struct ys_follow_cursor *c, int64_t now_ms, int64_t interval_ms)
{
    c->next_poll_ms =
        now_ms + (interval_ms > YS_FOLLOW_MIN_POLL_MS ? interval_ms : YS_FOLLOW_MIN_POLL_MS);
}

bool ys_follow_cursor_take(struct ys_follow_cursor *c, int64_t ts_ms)
{
    if (ts_ms <= c->seen_ms)
        return false;
    c->seen_ms = ts_ms;
    return true;
}
