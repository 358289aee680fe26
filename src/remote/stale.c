/*
 * stale.c - what the remote-write writer has sent per label set of a
 * check, so that a reload can end the series of a check that went away
 * with Prometheus staleness markers (remote.c, "Staleness").
 *
 * Data: a hash table (open addressing, linear probing, a power-of-two
 * capacity at most half full) keyed by the label-set blob of
 * ys_rw_base_labels; per set, the series it had samples in (YS_RW_S_*),
 * its newest timestamp, and, once a reload removed it, when its markers
 * were stamped. A set stays "ended" until the next reload, so that a
 * result still on its way is recognised as older than the markers and
 * left out: Prometheus refuses a whole batch holding an out-of-order
 * sample. Entries are only removed by rebuilding the table at a reload,
 * which is rare, so there are no tombstones. One thread: the writer.
 */
#include "remote/remote_int.h"

#include "core/hash.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct ys_rw_seen_one {
    char *base; /* owned; NULL: an empty slot */
    size_t base_len;
    uint64_t hash;
    uint32_t series;  /* YS_RW_S_* */
    int64_t last_ts;  /* its newest sample */
    int64_t ended_ts; /* 0: live; else when its markers were stamped */
    bool keep;        /* during a reload: still in the config */
};

/* The slot of base in t (cap > 0): its entry, or the empty slot where it
 * would go. */
static struct ys_rw_seen_one *slot(struct ys_rw_seen *t, const char *base, size_t len, uint64_t h)
{
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        struct ys_rw_seen_one *e = &t->v[i];
        if (!e->base || (e->hash == h && e->base_len == len && !memcmp(e->base, base, len)))
            return e;
    }
}

/* Puts e (moved; not in t yet) into t, growing it first if needed. */
static void put(struct ys_rw_seen *t, struct ys_rw_seen_one e)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct ys_rw_seen big = {ys_xcalloc(cap, sizeof *big.v), t->n, cap};
        for (size_t i = 0; i < t->cap; i++)
            if (t->v[i].base)
                *slot(&big, t->v[i].base, t->v[i].base_len, t->v[i].hash) = t->v[i];
        free(t->v);
        *t = big;
    }
    *slot(t, e.base, e.base_len, e.hash) = e;
    t->n++;
}

bool ys_rw_seen_note(struct ys_rw_seen *t, const char *base, size_t base_len, int64_t ts_ms,
                     uint32_t series)
{
    uint64_t h = ys_hash_bytes(YS_HASH_INIT, base, base_len);
    struct ys_rw_seen_one *e = t->cap ? slot(t, base, base_len, h) : NULL;
    if (!e || !e->base) {
        struct ys_rw_seen_one n = {
            ys_xmalloc(base_len ? base_len : 1), base_len, h, 0, ts_ms, 0, false};
        memcpy(n.base, base, base_len);
        put(t, n);
        e = slot(t, base, base_len, h);
    }
    if (e->ended_ts != 0) {
        if (ts_ms <= e->ended_ts)
            return false;
        e->ended_ts = 0; /* the check is back, with new samples */
        e->series = 0;
    }
    e->series |= series;
    if (ts_ms > e->last_ts)
        e->last_ts = ts_ms;
    return true;
}

void ys_rw_seen_apply(struct ys_rw_seen *t, const struct ys_rw_blob *keep, size_t n_keep,
                      int64_t ts_ms, struct ys_rw_samples **batches, size_t n)
{
    struct ys_rw_seen kept = {0};
    for (size_t i = 0; i < n_keep && t->cap; i++) {
        uint64_t h = ys_hash_bytes(YS_HASH_INIT, keep[i].p, keep[i].len);
        struct ys_rw_seen_one *e = slot(t, keep[i].p, keep[i].len, h);
        if (e->base)
            e->keep = true;
    }
    for (size_t i = 0; i < t->cap; i++) {
        struct ys_rw_seen_one e = t->v[i];
        if (!e.base)
            continue;
        if (!e.keep && e.ended_ts != 0) {
            free(e.base);
            continue;
        }
        if (!e.keep) {
            /* After the set's last sample, or the receiver refuses it. */
            e.ended_ts = ts_ms > e.last_ts ? ts_ms : e.last_ts + 1;
            for (size_t k = 0; k < n; k++)
                ys_rw_stale_samples(batches[k], e.base, e.base_len, e.series, e.ended_ts);
        }
        e.keep = false;
        put(&kept, e);
    }
    free(t->v);
    *t = kept;
}

void ys_rw_seen_free(struct ys_rw_seen *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->v[i].base);
    free(t->v);
    *t = (struct ys_rw_seen){0};
}
