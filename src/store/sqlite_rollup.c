/*
 * sqlite_rollup.c - minute, hour and day rollups, updated with every batch.
 *
 * Hour and day buckets are rows of `rollup` (total, ok, sum of durations,
 * encoded sketch). Minute buckets are packed per check and UTC hour into
 * one row of `rollup_minute` (codec.h: ys_minute_encode): a row per minute
 * would cost more than the raw results it summarises.
 *
 * Each check's cache (struct sq_check) holds the current hour, day and
 * minute buckets, so a batch only reads a bucket the first time it is
 * touched after open (or after a failed transaction dropped the caches);
 * then it merges into what the row held. A result for another bucket
 * (late, or a new hour) writes the dirty one out first and loads the
 * other, so out-of-order results are merged correctly, just slower.
 *
 * Cost per touched check and batch is what matters (a check probing every
 * 30 s is in one batch of every 150): so an hour or day slot's `work` holds
 * only the values of the current batch, and slot_write merges them into
 * the stored encoding in place (ys_codec_sketch_merge) instead of decoding
 * the bucket's sketch into a dense array and encoding it again. The open
 * minute's sketch, which covers one minute, stays decoded between batches
 * while its check probes more than once a minute.
 *
 * Runs on the thread that owns the connection (the store writer).
 */
#include "store/sqlite_int.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "slo/sketch.h"

#include <stdlib.h>
#include <string.h>

/* Folds the batch's values (slot->work) into the stored encoding. */
static void fold_work(const struct sq_check *c, struct sq_slot *slot, enum ys_resolution res)
{
    size_t len = 0;
    unsigned char *enc = NULL;
    if (slot->enc_len == 0)
        enc = ys_sketch_encode(slot->work, &len);
    else if (!(enc = ys_codec_sketch_merge(slot->enc, slot->enc_len, slot->work, &len))) {
        struct ys_sketch *all = NULL;
        if (ys_sketch_decode(slot->enc, slot->enc_len, &all) < 0) {
            ys_warn("store", "check %u: unreadable %s sketch at %lld, starting afresh", c->id,
                    ys_resolution_name(res), (long long)slot->bucket_ms);
            all = ys_sketch_new();
        }
        ys_sketch_merge(all, slot->work);
        enc = ys_sketch_encode(all, &len);
        ys_sketch_free(all);
    }
    free(slot->enc);
    slot->enc = enc;
    slot->enc_len = len;
    ys_sketch_free(slot->work);
    slot->work = NULL;
}

static int slot_write(struct sq_store *s, struct sq_check *c, struct sq_slot *slot,
                      enum ys_resolution res, struct ys_err *err)
{
    if (!slot->work)
        return 0;
    fold_work(c, slot, res);
    sqlite3_stmt *q = sq_stmt(s, SQ_ROLLUP_PUT, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int(q, 2, (int)res);
    sqlite3_bind_int64(q, 3, slot->bucket_ms);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)slot->total);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)slot->ok);
    sqlite3_bind_int64(q, 6, slot->sum_us);
    sqlite3_bind_blob(q, 7, slot->enc, (int)slot->enc_len, SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "writing a rollup");
}

/* Makes slot hold bucket (loading the stored row, if any), ready to take
 * this batch's values in slot->work. */
static int slot_touch(struct sq_store *s, struct sq_check *c, struct sq_slot *slot,
                      enum ys_resolution res, int64_t bucket, struct ys_err *err)
{
    int rc;
    if (slot->bucket_ms != bucket) {
        if ((rc = slot_write(s, c, slot, res, err)) < 0)
            return rc;
        sq_slot_free(slot);
        slot->bucket_ms = bucket;
        sqlite3_stmt *q = sq_stmt(s, SQ_ROLLUP_GET, err);
        if (!q)
            return YS_ESTORE;
        sqlite3_bind_int64(q, 1, c->id);
        sqlite3_bind_int(q, 2, (int)res);
        sqlite3_bind_int64(q, 3, bucket);
        int step = sqlite3_step(q);
        if (step == SQLITE_ROW) {
            slot->total = (uint64_t)sqlite3_column_int64(q, 0);
            slot->ok = (uint64_t)sqlite3_column_int64(q, 1);
            slot->sum_us = sqlite3_column_int64(q, 2);
            slot->enc_len = (size_t)sqlite3_column_bytes(q, 3);
            slot->enc = ys_xmalloc(slot->enc_len);
            memcpy(slot->enc, sqlite3_column_blob(q, 3), slot->enc_len);
        }
        sqlite3_reset(q);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return sq_fail(s, err, "reading a rollup");
    }
    if (!slot->work)
        slot->work = ys_sketch_new();
    return 0;
}

/* Latency (sum and sketch) counts passing probes only: a refused
 * connection answers in 0.1 ms and a timeout takes the whole timeout, so
 * failures would pull percentiles either way during an outage, and a
 * latency SLI must count a fast failure as bad. */
static void slot_add(struct sq_slot *slot, const struct ys_result *r)
{
    slot->total++;
    if (!r->ok)
        return;
    slot->ok++;
    slot->sum_us += r->duration_us;
    ys_sketch_add(slot->work, (double)r->duration_us, 1);
}

static struct ys_agg agg_of(struct sq_slot *slot)
{
    struct ys_agg a = {slot->bucket_ms, slot->total, slot->ok, slot->sum_us, slot->work};
    return a;
}

static int minute_write(struct sq_store *s, struct sq_check *c, struct ys_err *err)
{
    struct sq_minutes *m = &c->min;
    if (!m->dirty)
        return 0;
    /* The row is the finished minutes plus the open one, which is
     * re-encoded each batch: appended to `done` for the write and cut off
     * again, so no copy of the hour's blob is made. */
    size_t done_len = m->done.len;
    if (m->cur.work && m->cur.total) {
        int32_t ctx = m->ctx;
        struct ys_agg a = agg_of(&m->cur);
        ys_minute_encode(&a, m->hour_ms, &ctx, &m->done);
    }
    sqlite3_stmt *q = sq_stmt(s, SQ_MINUTE_PUT, err);
    int step = SQLITE_ERROR;
    if (q) {
        sqlite3_bind_int64(q, 1, c->id);
        sqlite3_bind_int64(q, 2, m->hour_ms);
        sqlite3_bind_blob(q, 3, m->done.p ? (void *)m->done.p : (void *)"", (int)m->done.len,
                          SQLITE_STATIC);
        step = sqlite3_step(q);
        sqlite3_reset(q);
    }
    m->done.len = done_len;
    if (step != SQLITE_DONE)
        return q ? sq_fail(s, err, "writing minute rollups") : YS_ESTORE;
    /* Between batches the open minute's sketch is kept encoded unless its
     * check probes more than once a minute (it is small, and will be
     * touched again soon): a check at 60s would hold it decoded for nothing. */
    if (m->cur.work && m->cur.total < 2) {
        free(m->cur.enc);
        m->cur.enc = ys_sketch_encode(m->cur.work, &m->cur.enc_len);
        ys_sketch_free(m->cur.work);
        m->cur.work = NULL;
    }
    m->dirty = false;
    return 0;
}

static int minutes_load(struct sq_store *s, struct sq_check *c, int64_t hour, struct ys_err *err)
{
    struct sq_minutes *m = &c->min;
    sqlite3_stmt *q = sq_stmt(s, SQ_MINUTE_GET, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int64(q, 2, hour);
    int step = sqlite3_step(q);
    m->hour_ms = hour;
    m->ctx = 0;
    if (step == SQLITE_ROW) {
        struct ys_reader rd = {sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0), 0};
        struct ys_agg a;
        int32_t ctx = 0;
        while (rd.pos < rd.len && ys_minute_decode(&rd, hour, &ctx, &a) == 0)
            ys_sketch_free(a.sketch);
        if (rd.pos == rd.len) {
            ys_buf_put(&m->done, rd.p, rd.len);
            m->ctx = ctx;
        } else {
            ys_warn("store", "check %u: unreadable minute rollups at %lld, starting afresh",
                    c->id, (long long)hour);
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : sq_fail(s, err, "reading minutes");
}

static int minute_touch(struct sq_store *s, struct sq_check *c, int64_t ts, struct ys_err *err)
{
    struct sq_minutes *m = &c->min;
    int64_t hour = sq_floor(ts, SQ_HOUR_MS), minute = sq_floor(ts, 60000);
    int rc;
    if (m->hour_ms != hour) {
        if ((rc = minute_write(s, c, err)) < 0)
            return rc;
        sq_slot_free(&m->cur);
        ys_buf_free(&m->done);
        if ((rc = minutes_load(s, c, hour, err)) < 0)
            return rc;
    }
    if (m->cur.bucket_ms != minute) {
        if (m->cur.total) {
            if (!m->cur.work && ys_sketch_decode(m->cur.enc, m->cur.enc_len, &m->cur.work) < 0)
                m->cur.work = ys_sketch_new(); /* we wrote enc ourselves; cannot happen */
            struct ys_agg a = agg_of(&m->cur);
            ys_minute_encode(&a, m->hour_ms, &m->ctx, &m->done);
        }
        sq_slot_free(&m->cur);
        m->cur.bucket_ms = minute;
    }
    if (!m->cur.work) {
        if (!m->cur.enc_len || ys_sketch_decode(m->cur.enc, m->cur.enc_len, &m->cur.work) < 0)
            m->cur.work = ys_sketch_new();
    }
    m->dirty = true;
    return 0;
}

int sq_rollup_add(struct sq_store *s, struct sq_check *c, const struct ys_result *r,
                  struct ys_err *err)
{
    int rc;
    int64_t hour = sq_floor(r->ts_ms, SQ_HOUR_MS), day = sq_floor(r->ts_ms, 24 * SQ_HOUR_MS);
    if ((rc = slot_touch(s, c, &c->hour, YS_RES_HOUR, hour, err)) < 0)
        return rc;
    slot_add(&c->hour, r);
    if ((rc = slot_touch(s, c, &c->day, YS_RES_DAY, day, err)) < 0)
        return rc;
    slot_add(&c->day, r);
    if ((rc = minute_touch(s, c, r->ts_ms, err)) < 0)
        return rc;
    slot_add(&c->min.cur, r);
    return 0;
}

int sq_rollup_write(struct sq_store *s, struct sq_check *c, struct ys_err *err)
{
    int rc;
    if ((rc = slot_write(s, c, &c->hour, YS_RES_HOUR, err)) < 0 ||
        (rc = slot_write(s, c, &c->day, YS_RES_DAY, err)) < 0)
        return rc;
    return minute_write(s, c, err);
}
