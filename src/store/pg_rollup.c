/*
 * pg_rollup.c - minute, hour and day rollups in PostgreSQL, updated with
 * every batch: the logic of sqlite_rollup.c (whose comment, kept below,
 * explains it), with the rows queued in the batch's multi-row upserts
 * (pg_rows.c: INSERT ... ON CONFLICT DO UPDATE) instead of written one by
 * one. A bucket is read from the database only the first time a batch
 * touches it (after open, or after a failed transaction dropped the
 * caches); the queues are flushed before that read, so it sees every
 * queued write. The sketches are merged here, with codec.c and sketch.c,
 * exactly as SQLite's are, so both backends store the same bytes.
 *
 * From sqlite_rollup.c:
 *
 * Hour and day buckets are rows of `rollup` (total, ok, sum of durations,
 * encoded sketch). Minute buckets are packed per check and UTC hour into
 * one row of `rollup_minute` (codec.h: ys_minute_encode): a row per minute
 * would cost more than the raw results it summarises.
 *
 * Each check's cache (struct pg_check) holds the current hour, day and
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
#include "store/pg_int.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "slo/sketch.h"

#include <stdlib.h>
#include <string.h>

/* Folds the batch's values (slot->work) into the stored encoding. */
static void fold_work(const struct pg_check *c, struct pg_slot *slot, enum ys_resolution res)
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

static int slot_write(struct pg_store *s, struct pg_check *c, struct pg_slot *slot,
                      enum ys_resolution res, struct ys_err *err)
{
    (void)err;
    if (!slot->work)
        return 0;
    fold_work(c, slot, res);
    struct pg_rows *r = &s->batch[PG_B_ROLLUP];
    pg_rows_i64(r, c->id);
    pg_rows_i64(r, (int64_t)res);
    pg_rows_i64(r, slot->bucket_ms);
    pg_rows_i64(r, (int64_t)slot->total);
    pg_rows_i64(r, (int64_t)slot->ok);
    pg_rows_i64(r, slot->sum_us);
    pg_rows_bytes(r, slot->enc, slot->enc_len);
    return 0;
}

/* Makes slot hold bucket (loading the stored row, if any), ready to take
 * this batch's values in slot->work. */
static int slot_touch(struct pg_store *s, struct pg_check *c, struct pg_slot *slot,
                      enum ys_resolution res, int64_t bucket, struct ys_err *err)
{
    int rc;
    if (slot->bucket_ms != bucket) {
        if ((rc = slot_write(s, c, slot, res, err)) < 0)
            return rc;
        pg_slot_free(slot);
        slot->bucket_ms = bucket;
        if ((rc = pg_batch_flush(s, err)) < 0)
            return rc;
        struct pg_params p = {0};
        pg_p_i64(&p, c->id);
        pg_p_i64(&p, (int64_t)res);
        pg_p_i64(&p, bucket);
        PGresult *q = pg_run(s, PG_ROLLUP_GET, &p, "reading a rollup", err);
        if (!q)
            return YS_ESTORE;
        if (PQntuples(q) == 1) {
            slot->total = (uint64_t)pg_i64(q, 0, 0);
            slot->ok = (uint64_t)pg_i64(q, 0, 1);
            slot->sum_us = pg_i64(q, 0, 2);
            slot->enc_len = (size_t)PQgetlength(q, 0, 3);
            slot->enc = ys_xmalloc(slot->enc_len ? slot->enc_len : 1);
            memcpy(slot->enc, PQgetvalue(q, 0, 3), slot->enc_len);
        }
        PQclear(q);
    }
    if (!slot->work)
        slot->work = ys_sketch_new();
    return 0;
}

/* Latency (sum and sketch) counts passing probes only: a refused
 * connection answers in 0.1 ms and a timeout takes the whole timeout, so
 * failures would pull percentiles either way during an outage, and a
 * latency SLI must count a fast failure as bad. */
static void slot_add(struct pg_slot *slot, const struct ys_result *r)
{
    slot->total++;
    if (!r->ok)
        return;
    slot->ok++;
    slot->sum_us += r->duration_us;
    ys_sketch_add(slot->work, (double)r->duration_us, 1);
}

static struct ys_agg agg_of(struct pg_slot *slot)
{
    struct ys_agg a = {slot->bucket_ms, slot->total, slot->ok, slot->sum_us, slot->work};
    return a;
}

static int minute_write(struct pg_store *s, struct pg_check *c, struct ys_err *err)
{
    struct pg_minutes *m = &c->min;
    if (!m->dirty)
        return 0;
    /* The row is the finished minutes plus the open one, which is
     * re-encoded each batch: appended to `done` for the write (the batch
     * copies it) and cut off again. */
    (void)err;
    size_t done_len = m->done.len;
    if (m->cur.work && m->cur.total) {
        int32_t ctx = m->ctx;
        struct ys_agg a = agg_of(&m->cur);
        ys_minute_encode(&a, m->hour_ms, &ctx, &m->done);
    }
    struct pg_rows *r = &s->batch[PG_B_MINUTE];
    pg_rows_i64(r, c->id);
    pg_rows_i64(r, m->hour_ms);
    pg_rows_bytes(r, m->done.p, m->done.len); /* copied: done is cut back next */
    m->done.len = done_len;
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

static int minutes_load(struct pg_store *s, struct pg_check *c, int64_t hour, struct ys_err *err)
{
    struct pg_minutes *m = &c->min;
    int rc = pg_batch_flush(s, err);
    if (rc < 0)
        return rc;
    struct pg_params p = {0};
    pg_p_i64(&p, c->id);
    pg_p_i64(&p, hour);
    PGresult *q = pg_run(s, PG_MINUTE_GET, &p, "reading minutes", err);
    if (!q)
        return YS_ESTORE;
    m->hour_ms = hour;
    m->ctx = 0;
    if (PQntuples(q) == 1) {
        struct ys_reader rd = {(const unsigned char *)PQgetvalue(q, 0, 0),
                               (size_t)PQgetlength(q, 0, 0), 0};
        struct ys_agg a;
        int32_t ctx = 0;
        while (rd.pos < rd.len && ys_minute_decode(&rd, hour, &ctx, &a) == 0)
            ys_sketch_free(a.sketch);
        if (rd.pos == rd.len) {
            ys_buf_put(&m->done, rd.p, rd.len);
            m->ctx = ctx;
        } else {
            ys_warn("store", "check %u: unreadable minute rollups at %lld, starting afresh", c->id,
                    (long long)hour);
        }
    }
    PQclear(q);
    return 0;
}

static int minute_touch(struct pg_store *s, struct pg_check *c, int64_t ts, struct ys_err *err)
{
    struct pg_minutes *m = &c->min;
    int64_t hour = pg_floor(ts, PG_HOUR_MS), minute = pg_floor(ts, 60000);
    int rc;
    if (m->hour_ms != hour) {
        if ((rc = minute_write(s, c, err)) < 0)
            return rc;
        pg_slot_free(&m->cur);
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
        pg_slot_free(&m->cur);
        m->cur.bucket_ms = minute;
    }
    if (!m->cur.work) {
        if (!m->cur.enc_len || ys_sketch_decode(m->cur.enc, m->cur.enc_len, &m->cur.work) < 0)
            m->cur.work = ys_sketch_new();
    }
    m->dirty = true;
    return 0;
}

int pg_rollup_add(struct pg_store *s, struct pg_check *c, const struct ys_result *r,
                  struct ys_err *err)
{
    int rc;
    int64_t hour = pg_floor(r->ts_ms, PG_HOUR_MS), day = pg_floor(r->ts_ms, 24 * PG_HOUR_MS);
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

int pg_rollup_write(struct pg_store *s, struct pg_check *c, struct ys_err *err)
{
    int rc;
    if ((rc = slot_write(s, c, &c->hour, YS_RES_HOUR, err)) < 0 ||
        (rc = slot_write(s, c, &c->day, YS_RES_DAY, err)) < 0)
        return rc;
    return minute_write(s, c, err);
}
