/*
 * hb_seen.c - the set of heartbeat pings already fed (hb_seen.h).
 *
 * A linear scan of at most YS_HB_SEEN_MAX 16-byte keys per ping: pings
 * come at human rates (a job per period), and the scan touches 4 KiB.
 */
#include "live/hb_seen.h"

#include <string.h>

void ys_hb_seen_init(struct ys_hb_seen *s, int64_t horizon_ms)
{
    memset(s, 0, sizeof *s);
    s->horizon_ms = horizon_ms;
}

/* FNV-1a (64-bit) over what tells two pings at one millisecond apart. */
static uint64_t key_hash(const struct ys_ping *p)
{
    uint64_t h = UINT64_C(14695981039346656037);
    unsigned char head[3] = {p->kind, (unsigned char)((uint16_t)p->exit_code & 0xff),
                             (unsigned char)((uint16_t)p->exit_code >> 8)};
    for (size_t i = 0; i < sizeof head; i++)
        h = (h ^ head[i]) * UINT64_C(1099511628211);
    for (size_t i = 0; i < sizeof p->run_id && p->run_id[i]; i++)
        h = (h ^ (unsigned char)p->run_id[i]) * UINT64_C(1099511628211);
    return h;
}

bool ys_hb_seen_add(struct ys_hb_seen *s, const struct ys_ping *p)
{
    if (p->ts_ms <= s->horizon_ms)
        return false;
    struct ys_hb_seen_key k = {.ts_ms = p->ts_ms, .hash = key_hash(p)};
    for (size_t i = 0; i < s->n; i++)
        if (s->keys[i].ts_ms == k.ts_ms && s->keys[i].hash == k.hash)
            return false;
    if (s->n == YS_HB_SEEN_MAX) {
        /* Forgotten: anything at or before it is old from now on. */
        if (s->keys[s->next].ts_ms > s->horizon_ms)
            s->horizon_ms = s->keys[s->next].ts_ms;
    } else {
        s->n++;
    }
    s->keys[s->next] = k;
    s->next = (s->next + 1) % YS_HB_SEEN_MAX;
    return true;
}
