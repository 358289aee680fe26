/*
 * pg_query.c - reading raw results and rollups back from PostgreSQL: the
 * logic of sqlite_query.c (its comment, kept below, explains it). Chunks
 * are read a page at a time (PG_CHUNK_PAGE, keyset on (start_ms, id)),
 * so a long range never holds more than a page and one hour in memory.
 * Every other query reads its whole result before the callbacks run, so
 * a callback may use the same handle here (unlike SQLite's).
 *
 * From sqlite_query.c:
 *
 * Raw: every chunk holds results of one UTC hour, so the chunks that can
 * overlap [from, to) are those that start in [floor_hour(from), to). The
 * results of one hour are decoded, sorted by time (a late result may sit
 * after newer ones) and handed to the callback; memory is bounded by one
 * hour of one check.
 *
 * Facts: an hour whose records carry YS_RF_FACTS_ROW reads the check's
 * facts rows of that hour, ordered by (ts_ms, rowid), and hands them to
 * the flagged results in (ts_ms, write) order: the k-th flagged result of
 * a millisecond gets the k-th row of that millisecond. So two results of
 * one check in the same millisecond (rare: a late result, a clock step)
 * keep their own facts, except when they sit in different chunks of the
 * hour in the opposite order, where theirs may swap. A flagged result
 * whose row was pruned first (rows go by their own ts, a chunk by its
 * last result) comes back without facts. The flag itself is cleared.
 *
 * Minute rollups: each row packs one hour; entries for the same minute
 * (written before and after a late result) are merged before the callback.
 *
 * Runs on whichever thread owns the connection.
 */
#include "store/pg_int.h"

#include "core/xalloc.h"
#include "slo/sketch.h"

#include <stdlib.h>
#include <string.h>

struct hour_rows {
    struct ys_result *r;
    size_t n, cap;
};

/* Insertion sort: stable, and linear on the usual input, which is already
 * in order (only late results move). */
static void sort_by_time(struct ys_result *r, size_t n)
{
    struct ys_result tmp;
    for (size_t i = 1; i < n; i++) {
        if (r[i].ts_ms >= r[i - 1].ts_ms)
            continue;
        size_t j = i;
        tmp = r[i];
        while (j > 0 && r[j - 1].ts_ms > tmp.ts_ms) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = tmp;
    }
}

/* Gives the hour's flagged results their facts rows (see the file
 * comment) and clears the flag. h is sorted by time. */
static int attach_facts(struct pg_store *s, uint32_t check_id, struct hour_rows *h,
                        struct ys_err *err)
{
    size_t i = 0;
    while (i < h->n && !(h->r[i].flags & YS_RF_FACTS_ROW))
        i++;
    if (i == h->n)
        return 0;
    int64_t hour = pg_floor(h->r[i].ts_ms, PG_HOUR_MS);
    struct pg_params p = {0};
    pg_p_i64(&p, check_id);
    pg_p_i64(&p, hour);
    pg_p_i64(&p, hour + PG_HOUR_MS);
    PGresult *q = pg_run(s, PG_FACTS_RANGE, &p, "reading facts", err);
    if (!q)
        return YS_ESTORE;
    for (int row = 0; i < h->n && row < PQntuples(q); row++) {
        int64_t ts = pg_i64(q, row, 0);
        /* Flagged results before this row's time lost theirs to pruning. */
        while (i < h->n && (!(h->r[i].flags & YS_RF_FACTS_ROW) || h->r[i].ts_ms < ts))
            i++;
        if (i == h->n || h->r[i].ts_ms != ts)
            continue; /* a row whose result is gone */
        int len = PQgetlength(q, row, 1);
        if (len > 0 && (size_t)len < sizeof h->r[i].facts)
            memcpy(h->r[i].facts, PQgetvalue(q, row, 1), (size_t)len + 1);
        i++;
    }
    PQclear(q);
    for (size_t k = 0; k < h->n; k++)
        h->r[k].flags &= (uint8_t)~YS_RF_FACTS_ROW;
    return 0;
}

/* Sorts and completes one hour's results and hands those in [from, to) to
 * cb. Returns 1 when cb asked to stop, 0, or a negative code. */
static int emit(struct pg_store *s, uint32_t check_id, struct hour_rows *h, int64_t from,
                int64_t to, ys_store_result_cb cb, void *arg, struct ys_err *err)
{
    sort_by_time(h->r, h->n);
    int stop = attach_facts(s, check_id, h, err);
    if (stop < 0)
        return stop;
    for (size_t i = 0; i < h->n && !stop; i++)
        if (h->r[i].ts_ms >= from && h->r[i].ts_ms < to)
            stop = cb(&h->r[i], arg) != 0;
    h->n = 0;
    return stop;
}

static int decode_chunk(struct pg_store *s, uint32_t check_id, const void *data, size_t len,
                        struct hour_rows *h, struct ys_err *err)
{
    struct ys_reader rd = {data, len, 0};
    struct ys_chunk_state st;
    struct ys_text_ids ids;
    int rc;
    memset(&st, 0, sizeof st);
    while (rd.pos < rd.len) {
        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 256;
            h->r = ys_xrealloc(h->r, h->cap * sizeof *h->r);
        }
        struct ys_result *r = &h->r[h->n];
        if (ys_chunk_decode(&st, &rd, r, &ids) < 0)
            return ys_err_set(err, YS_ESTORE, "postgres %s: check %u: a raw chunk is corrupt",
                              s->label, check_id);
        r->check_id = check_id;
        if ((rc = pg_text_lookup(s, ids.message, r->message, sizeof r->message, err)) < 0 ||
            (rc = pg_text_lookup(s, ids.subject, r->tls.subject, sizeof r->tls.subject, err)) < 0 ||
            (rc = pg_text_lookup(s, ids.issuer, r->tls.issuer, sizeof r->tls.issuer, err)) < 0)
            return rc;
        h->n++;
    }
    return 0;
}

int pg_query_raw(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                 ys_store_result_cb cb, void *arg, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct hour_rows h = {0};
    int rc = 0, stop = 0, rows = 0;
    int64_t hour = INT64_MIN, after_start = INT64_MIN, after_id = 0;
    if (from_ms >= to_ms)
        return 0;
    do {
        struct pg_params p = {0};
        pg_p_i64(&p, check_id);
        pg_p_i64(&p, pg_floor(from_ms, PG_HOUR_MS));
        pg_p_i64(&p, to_ms);
        pg_p_i64(&p, after_start);
        pg_p_i64(&p, after_id);
        pg_p_i64(&p, PG_CHUNK_PAGE_ROWS);
        PGresult *q = pg_run(s, PG_CHUNK_PAGE, &p, "reading raw results", err);
        if (!q) {
            rc = YS_ESTORE;
            goto out;
        }
        rows = PQntuples(q);
        for (int i = 0; i < rows && !stop && rc == 0; i++) {
            after_start = pg_i64(q, i, 0);
            after_id = pg_i64(q, i, 1);
            int64_t chunk_hour = pg_floor(after_start, PG_HOUR_MS);
            if (chunk_hour != hour) {
                if ((stop = emit(s, check_id, &h, from_ms, to_ms, cb, arg, err)) < 0)
                    rc = stop;
                hour = chunk_hour;
            }
            if (!stop && rc == 0)
                rc = decode_chunk(s, check_id, PQgetvalue(q, i, 2), (size_t)PQgetlength(q, i, 2),
                                  &h, err);
        }
        PQclear(q);
    } while (rows == PG_CHUNK_PAGE_ROWS && !stop && rc == 0);
    if (!stop && rc == 0 && (stop = emit(s, check_id, &h, from_ms, to_ms, cb, arg, err)) < 0)
        rc = stop;
out:
    free(h.r);
    return rc;
}

static int rollups_rows(struct pg_store *s, uint32_t check_id, enum ys_resolution res,
                        int64_t from_ms, int64_t to_ms, ys_store_rollup_cb cb, void *arg,
                        struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_i64(&p, check_id);
    pg_p_i64(&p, (int64_t)res);
    pg_p_i64(&p, from_ms);
    pg_p_i64(&p, to_ms);
    PGresult *q = pg_run(s, PG_ROLLUP_RANGE, &p, "reading rollups", err);
    if (!q)
        return YS_ESTORE;
    int rc = 0, stop = 0;
    for (int i = 0; i < PQntuples(q) && !stop; i++) {
        struct ys_rollup r = {check_id,
                              res,
                              pg_i64(q, i, 0),
                              (uint64_t)pg_i64(q, i, 1),
                              (uint64_t)pg_i64(q, i, 2),
                              pg_i64(q, i, 3),
                              NULL};
        if (ys_sketch_decode((const unsigned char *)PQgetvalue(q, i, 4),
                             (size_t)PQgetlength(q, i, 4), &r.latency) < 0) {
            rc = ys_err_set(err, YS_ESTORE, "postgres %s: check %u: corrupt %s sketch", s->label,
                            check_id, ys_resolution_name(res));
            break;
        }
        stop = cb(&r, arg);
        ys_sketch_free(r.latency);
    }
    PQclear(q);
    return rc;
}

/* Decodes one packed hour of minute rollups into per-minute slots. */
static int minutes_decode(const void *data, size_t len, int64_t hour, struct ys_agg mins[60])
{
    struct ys_reader rd = {data, len, 0};
    int32_t ctx = 0;
    struct ys_agg a;
    while (rd.pos < rd.len) {
        if (ys_minute_decode(&rd, hour, &ctx, &a) < 0)
            return YS_EINVAL;
        struct ys_agg *m = &mins[(a.bucket_ms - hour) / 60000];
        if (!m->sketch) {
            *m = a;
            continue;
        }
        m->total += a.total;
        m->ok += a.ok;
        m->sum_us += a.sum_us;
        ys_sketch_merge(m->sketch, a.sketch);
        ys_sketch_free(a.sketch);
    }
    return 0;
}

static int rollups_minutes(struct pg_store *s, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                           ys_store_rollup_cb cb, void *arg, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_i64(&p, check_id);
    pg_p_i64(&p, pg_floor(from_ms, PG_HOUR_MS));
    pg_p_i64(&p, to_ms);
    PGresult *q = pg_run(s, PG_MINUTE_RANGE, &p, "reading minute rollups", err);
    if (!q)
        return YS_ESTORE;
    int rc = 0, stop = 0;
    for (int row = 0; row < PQntuples(q) && !stop; row++) {
        struct ys_agg mins[60];
        int64_t hour = pg_i64(q, row, 0);
        memset(mins, 0, sizeof mins);
        if (minutes_decode(PQgetvalue(q, row, 1), (size_t)PQgetlength(q, row, 1), hour, mins) < 0)
            rc = ys_err_set(err, YS_ESTORE, "postgres %s: check %u: corrupt minute rollups",
                            s->label, check_id);
        for (int i = 0; i < 60; i++) {
            struct ys_agg *m = &mins[i];
            if (!rc && !stop && m->sketch && m->bucket_ms >= from_ms && m->bucket_ms < to_ms) {
                struct ys_rollup r = {check_id, YS_RES_MINUTE, m->bucket_ms, m->total,
                                      m->ok,    m->sum_us,     m->sketch};
                stop = cb(&r, arg);
            }
            ys_sketch_free(m->sketch);
        }
        if (rc)
            break;
    }
    PQclear(q);
    return rc;
}

int pg_query_rollups(struct ys_store *st, uint32_t check_id, enum ys_resolution res,
                     int64_t from_ms, int64_t to_ms, ys_store_rollup_cb cb, void *arg,
                     struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    if (res == YS_RES_MINUTE)
        return rollups_minutes(s, check_id, from_ms, to_ms, cb, arg, err);
    if (res == YS_RES_HOUR || res == YS_RES_DAY)
        return rollups_rows(s, check_id, res, from_ms, to_ms, cb, arg, err);
    return ys_err_set(err, YS_EINVAL, "rollups exist per minute, hour and day, not raw");
}
