/*
 * counts.c - event counts over a time range from rollups, and the small
 * id-list helpers the rest of the query layer shares.
 *
 * A range [from, to) (both rounded up to the minute, so the minute in
 * progress counts) is tiled by the coarsest rollups that fit exactly:
 *   minutes [from, h1) | hours [h1, d1) | days [d1, d2) | hours [d2, h2) | minutes [h2, to)
 * where h1/d1 are the first hour/day boundaries at or after from and d2/h2
 * the last ones at or before to. Each rollup bucket lies wholly inside one
 * segment, so every probe is counted once: a year is ~365 day rows plus at
 * most ~46 hour and ~118 minute rows per check.
 *
 * Good events: ok probes, or for latency SLIs the probes whose sketch bucket
 * is at most the threshold. Rollup sketches hold passing probes only, so a
 * failed probe is never good however fast it failed; the cap at the ok
 * count per bucket stays as a guard.
 *
 * Any thread, with its own store connection.
 */
#include "query/query_int.h"

#include "core/xalloc.h"
#include "slo/sketch.h"
#include "slo/sketch_rank.h"

#include <stdlib.h>
#include <string.h>

void ys_idlist_push(struct ys_idlist *l, uint32_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = ys_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = id;
}

void ys_idlist_free(struct ys_idlist *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

void ys_query_slo_ids(const struct ys_config *cfg, const struct ys_slo *slo, struct ys_idlist *out)
{
    for (size_t i = 0; i < slo->n_members; i++) {
        size_t k = slo->members[i];
        if (k < cfg->n_checks && cfg->checks[k].store_id != 0)
            ys_idlist_push(out, cfg->checks[k].store_id);
    }
}

void ys_query_selector_ids(const struct ys_config *cfg, const struct ys_strmap *sel,
                           struct ys_idlist *out)
{
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *c = &cfg->checks[i];
        bool match = c->store_id != 0;
        for (size_t k = 0; match && k < sel->n; k++) {
            const char *v = ys_strmap_get(&c->labels, sel->keys[k]);
            match = v && strcmp(v, sel->values[k]) == 0;
        }
        if (match)
            ys_idlist_push(out, c->store_id);
    }
}

struct count_acc {
    struct ys_counts *c;
    struct ys_sketch *latency;
    int64_t threshold_us;
};

static int add_rollup(const struct ys_rollup *r, void *arg)
{
    struct count_acc *a = arg;
    a->c->total += r->total;
    if (a->threshold_us < 0) {
        a->c->good += r->ok;
    } else {
        uint64_t fast = ys_sketch_count_at_most(r->latency, (double)a->threshold_us);
        a->c->good += fast < r->ok ? fast : r->ok;
    }
    if (a->latency && r->latency)
        ys_sketch_merge(a->latency, r->latency);
    return 0;
}

static int64_t floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    if (t % step != 0 && t < 0)
        q--;
    return q * step;
}

static int64_t ceil_to(int64_t t, int64_t step)
{
    int64_t f = floor_to(t, step);
    return f == t ? t : f + step;
}

struct segment {
    enum ys_resolution res;
    int64_t from, to;
};

/* Splits [from, to) (minute-aligned) into at most five aligned segments. */
static size_t tile(int64_t from, int64_t to, struct segment seg[5])
{
    int64_t h1 = ceil_to(from, YS_HOUR_MS), h2 = floor_to(to, YS_HOUR_MS);
    int64_t d1 = ceil_to(from, YS_DAY_MS), d2 = floor_to(to, YS_DAY_MS);
    size_t n = 0;
    if (d1 < d2) {
        seg[n++] = (struct segment){YS_RES_MINUTE, from, h1};
        seg[n++] = (struct segment){YS_RES_HOUR, h1, d1};
        seg[n++] = (struct segment){YS_RES_DAY, d1, d2};
        seg[n++] = (struct segment){YS_RES_HOUR, d2, h2};
        seg[n++] = (struct segment){YS_RES_MINUTE, h2, to};
    } else if (h1 < h2) {
        seg[n++] = (struct segment){YS_RES_MINUTE, from, h1};
        seg[n++] = (struct segment){YS_RES_HOUR, h1, h2};
        seg[n++] = (struct segment){YS_RES_MINUTE, h2, to};
    } else {
        seg[n++] = (struct segment){YS_RES_MINUTE, from, to};
    }
    return n;
}

int ys_query_counts(struct ys_store *s, const uint32_t *ids, size_t n, int64_t from_ms,
                    int64_t to_ms, int64_t latency_threshold_us, struct ys_counts *out,
                    struct ys_sketch *latency, struct ys_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t from = ceil_to(from_ms, YS_MINUTE_MS), to = ceil_to(to_ms, YS_MINUTE_MS);
    if (!s || from >= to)
        return 0;
    struct segment seg[5];
    size_t nseg = tile(from, to, seg);
    struct count_acc acc = {out, latency, latency_threshold_us};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nseg; k++) {
            if (seg[k].from >= seg[k].to)
                continue;
            int rc = s->type->query_rollups(s, ids[i], seg[k].res, seg[k].from, seg[k].to,
                                            add_rollup, &acc, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

struct newest {
    ys_result_pred want;
    struct ys_result *out;
    bool found;
};

static int keep_newest(const struct ys_result *r, void *arg)
{
    struct newest *nw = arg;
    if (nw->want && !nw->want(r))
        return 0;
    if (!nw->found || r->ts_ms >= nw->out->ts_ms)
        *nw->out = *r;
    nw->found = true;
    return 0;
}

int ys_query_newest(struct ys_store *s, const struct ys_config *cfg, uint32_t id, int64_t at_ms,
                    ys_result_pred want, struct ys_result *out, struct ys_err *err)
{
    int64_t keep =
        cfg->storage.retention.raw_ms > 0 ? cfg->storage.retention.raw_ms : 7 * YS_DAY_MS;
    struct newest nw = {want, out, false};
    if (!s || id == 0)
        return 0;
    /* An hour at a time, newest first: the newest result is usually in the
     * first hour, and a whole week of raw rows is never decoded for it. */
    int64_t hi = at_ms, lo = floor_to(at_ms - 1, YS_HOUR_MS);
    while (hi > at_ms - keep) {
        int rc = s->type->query_raw(s, id, lo, hi, keep_newest, &nw, err);
        if (rc < 0)
            return rc;
        if (nw.found)
            return 1;
        hi = lo;
        lo -= YS_HOUR_MS;
    }
    return 0;
}

struct daily_acc {
    int64_t from;
    size_t ndays;
    struct ys_counts *c;
    struct ys_sketch **sk;
    int64_t threshold_us;
};

static int add_day(const struct ys_rollup *r, void *arg)
{
    struct daily_acc *a = arg;
    int64_t k = (r->bucket_ms - a->from) / YS_DAY_MS;
    if (k < 0 || (size_t)k >= a->ndays)
        return 0;
    struct count_acc one = {&a->c[k], a->sk ? a->sk[k] : NULL, a->threshold_us};
    return add_rollup(r, &one);
}

int ys_query_daily_counts(struct ys_store *s, const uint32_t *ids, size_t n, int64_t from_ms,
                          size_t ndays, int64_t latency_threshold_us, struct ys_counts *per_day,
                          struct ys_sketch **sketches, struct ys_err *err)
{
    struct daily_acc a = {from_ms, ndays, per_day, sketches, latency_threshold_us};
    memset(per_day, 0, ndays * sizeof *per_day);
    for (size_t i = 0; s && i < n; i++) {
        int rc = s->type->query_rollups(s, ids[i], YS_RES_DAY, from_ms,
                                        from_ms + (int64_t)ndays * YS_DAY_MS, add_day, &a, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}
