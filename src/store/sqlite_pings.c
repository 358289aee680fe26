/*
 * sqlite_pings.c - heartbeat pings in SQLite.
 *
 * ping(check_id, ts_ms, kind, exit_code, run_id, duration_ms, body) is a
 * plain history, one row per ping received, indexed by (check_id, ts_ms).
 * The body (the job's log tail) is stored as given, any bytes, as a BLOB;
 * the caller caps its size. Pings at the same millisecond keep their
 * arrival order through the rowid, so every read orders by (ts_ms, rowid).
 *
 * "The newest max pings, oldest first" is two steps: an index-only query
 * finds the oldest of the newest max (its ts_ms and rowid), then the range
 * is read forward from there. Sorting the rows themselves backwards and
 * then forwards would make SQLite hold every body in a sorter.
 *
 * Pings expire with raw retention (sqlite_prune.c). Runs on the thread
 * that owns the connection; reads work on read-only connections.
 */
#include "store/sqlite_int.h"

#include <stdio.h>
#include <string.h>

static int put_one(struct sq_store *s, const struct ys_ping_record *rec, struct ys_err *err)
{
    sqlite3_stmt *q = sq_stmt(s, SQ_PING_PUT, err);
    if (!q)
        return YS_ESTORE;
    const struct ys_ping *p = &rec->ping;
    sqlite3_bind_int64(q, 1, p->check_id);
    sqlite3_bind_int64(q, 2, p->ts_ms);
    sqlite3_bind_int(q, 3, p->kind);
    sqlite3_bind_int(q, 4, p->exit_code);
    sqlite3_bind_text(q, 5, p->run_id, (int)strnlen(p->run_id, sizeof p->run_id), SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, rec->duration_ms);
    if (rec->body)
        sqlite3_bind_blob64(q, 7, rec->body, rec->body_len, SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q); /* drop the borrowed body pointer */
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "writing a ping");
}

int sq_put_pings(struct ys_store *st, const struct ys_ping_record *recs, size_t n,
                 struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    int rc;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    if (n == 0)
        return 0;
    if ((rc = sq_exec(s, SQ_BEGIN, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = put_one(s, &recs[i], err)) < 0)
            goto fail;
    if ((rc = sq_exec(s, SQ_COMMIT, err)) < 0)
        goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(s->db))
        sq_exec(s, SQ_ROLLBACK, NULL);
    return rc;
}

/* Finds where the newest max pings in range start: *from_ms and *rowid of
 * the oldest of them. Leaves both alone when the range holds max or fewer. */
static int find_edge(struct sq_store *s, uint32_t check_id, int64_t *from_ms, int64_t to_ms,
                     size_t max, int64_t *rowid, struct ys_err *err)
{
    if (sq_limit(max) < 0)
        return 0; /* no cap */
    sqlite3_stmt *q = sq_stmt(s, SQ_PING_EDGE, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, check_id);
    sqlite3_bind_int64(q, 2, *from_ms);
    sqlite3_bind_int64(q, 3, to_ms);
    sqlite3_bind_int64(q, 4, sq_limit(max) - 1);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        *from_ms = sqlite3_column_int64(q, 0);
        *rowid = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : sq_fail(s, err, "reading pings");
}

static void read_row(sqlite3_stmt *q, uint32_t check_id, struct ys_ping_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->ping.check_id = check_id;
    rec->ping.ts_ms = sqlite3_column_int64(q, 0);
    rec->ping.kind = (uint8_t)sqlite3_column_int(q, 1);
    rec->ping.exit_code = (int16_t)sqlite3_column_int(q, 2);
    const unsigned char *run_id = sqlite3_column_text(q, 3);
    snprintf(rec->ping.run_id, sizeof rec->ping.run_id, "%s", run_id ? (const char *)run_id : "");
    rec->duration_ms = sqlite3_column_int64(q, 4);
    /* A NULL or empty body both read back as NULL, length 0. */
    rec->body = sqlite3_column_blob(q, 5);
    rec->body_len = rec->body ? (size_t)sqlite3_column_bytes(q, 5) : 0;
}

int sq_query_pings(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                   size_t max, ys_store_ping_cb cb, void *arg, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    int64_t start = from_ms, rowid = 0;
    int rc;
    if (from_ms >= to_ms)
        return 0;
    if (max > 0 && (rc = find_edge(s, check_id, &start, to_ms, max, &rowid, err)) < 0)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, SQ_PING_RANGE, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, check_id);
    sqlite3_bind_int64(q, 2, start);
    sqlite3_bind_int64(q, 3, to_ms);
    sqlite3_bind_int64(q, 4, rowid);
    int step;
    struct ys_ping_record rec;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        read_row(q, check_id, &rec);
        if (cb(&rec, arg)) {
            step = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "reading pings");
}
