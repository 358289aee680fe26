/*
 * pg_rows.c - a batch's writes as a few multi-row statements.
 *
 * One append batch touches a few rows per check (its open chunk, an hour,
 * a day and a minute rollup row, facts); one statement per row would cost
 * a round trip each. So the writer queues them in struct pg_rows, one per
 * kind of write (enum pg_batch), and sends each kind as one
 * "INSERT ... VALUES (...), (...) ON CONFLICT ... DO UPDATE" (or an
 * UPDATE ... FROM (VALUES ...)) inside the batch's transaction. The SQL
 * text holds placeholders only; values go as binary parameters.
 *
 * Invariant kept by the callers (pg_append.c, pg_rollup.c): the queues
 * are flushed before any read of the rows they write, so a read never
 * misses a queued write and one statement never holds a key twice (an
 * upsert may not touch a row twice).
 *
 * Runs on the thread that owns the connection (the store writer).
 */
#include "store/pg_int.h"

#include "core/xalloc.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL takes at most 65535 parameters per statement. */
#define MAX_PARAMS 60000

void pg_rows_init(struct pg_rows *r, const char *head, const char *tail, const char *const *types,
                  int ncols)
{
    memset(r, 0, sizeof *r);
    r->head = head;
    r->tail = tail;
    r->types = types;
    r->ncols = ncols;
}

void pg_rows_reset(struct pg_rows *r)
{
    r->data.len = 0;
    r->nval = 0;
}

void pg_rows_free(struct pg_rows *r)
{
    ys_buf_free(&r->data);
    free(r->off);
    free(r->len);
    r->off = NULL;
    r->len = NULL;
    r->nval = r->cap = 0;
}

static void add(struct pg_rows *r, const void *data, int len)
{
    if (r->nval == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->off = ys_xrealloc(r->off, r->cap * sizeof *r->off);
        r->len = ys_xrealloc(r->len, r->cap * sizeof *r->len);
    }
    r->off[r->nval] = r->data.len;
    r->len[r->nval] = len;
    if (len > 0)
        ys_buf_put(&r->data, data, (size_t)len);
    r->nval++;
}

void pg_rows_i64(struct pg_rows *r, int64_t v)
{
    uint64_t be = htobe64((uint64_t)v);
    add(r, &be, 8);
}

void pg_rows_bytes(struct pg_rows *r, const void *data, size_t len)
{
    add(r, data, (int)len);
}

void pg_rows_null(struct pg_rows *r)
{
    add(r, NULL, -1);
}

/* Sends rows [first, first + n) as one statement; cb (if any) reads its
 * result. */
static int send_rows(struct pg_store *s, struct pg_rows *r, size_t first, size_t n,
                     const char *what, pg_rows_cb cb, struct ys_err *err)
{
    struct ys_buf sql = {0};
    size_t nv = n * (size_t)r->ncols, base = first * (size_t)r->ncols;
    const char **vals = ys_xcalloc(nv, sizeof *vals);
    int *lens = ys_xcalloc(nv, sizeof *lens), *fmts = ys_xcalloc(nv, sizeof *fmts);
    char ph[48];
    ys_buf_put(&sql, r->head, strlen(r->head));
    for (size_t i = 0; i < nv; i++) {
        int col = (int)(i % (size_t)r->ncols);
        int len =
            snprintf(ph, sizeof ph, "%s%s$%zu::%s%s", col == 0 && i ? ", " : "",
                     col == 0 ? "(" : "", i + 1, r->types[col], col == r->ncols - 1 ? ")" : ", ");
        ys_buf_put(&sql, ph, (size_t)len);
        int vlen = r->len[base + i];
        /* An empty value still needs a non-NULL pointer (NULL is SQL NULL). */
        vals[i] = vlen < 0 ? NULL : r->data.p ? (const char *)r->data.p + r->off[base + i] : "";
        lens[i] = vlen < 0 ? 0 : vlen;
        fmts[i] = 1;
    }
    ys_buf_put(&sql, r->tail, strlen(r->tail) + 1);
    PGresult *res = PQexecParams(s->conn, (const char *)sql.p, (int)nv, NULL, vals, lens, fmts, 1);
    int rc = 0;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_fail(s, res, what, err);
    else if (cb)
        rc = cb(s, res, n, err);
    PQclear(res);
    ys_buf_free(&sql);
    free(vals);
    free(lens);
    free(fmts);
    return rc;
}

int pg_rows_flush(struct pg_store *s, struct pg_rows *r, const char *what, pg_rows_cb cb,
                  struct ys_err *err)
{
    size_t rows = r->nval / (size_t)r->ncols, per = MAX_PARAMS / (size_t)r->ncols;
    int rc = 0;
    for (size_t first = 0; first < rows && rc == 0; first += per)
        rc = send_rows(s, r, first, rows - first < per ? rows - first : per, what, cb, err);
    pg_rows_reset(r);
    return rc;
}

static const char *const chunk_types[] = {"bigint", "bigint", "bigint", "bigint", "bytea"};
static const char *const append_types[] = {"bigint", "bytea", "bigint", "bigint", "bigint"};
static const char *const rollup_types[] = {"bigint", "bigint", "bigint", "bigint",
                                           "bigint", "bigint", "bytea"};
static const char *const minute_types[] = {"bigint", "bigint", "bytea"};
static const char *const facts_types[] = {"bigint", "bigint", "text"};

#define CHUNK_INSERT "INSERT INTO chunk(check_id, start_ms, end_ms, n, data) VALUES "

void pg_batch_init(struct pg_store *s)
{
    pg_rows_init(&s->batch[PG_B_CHUNK_NEW], CHUNK_INSERT, "", chunk_types, 5);
    pg_rows_init(&s->batch[PG_B_CHUNK_OPEN], CHUNK_INSERT, " RETURNING check_id, id", chunk_types,
                 5);
    pg_rows_init(&s->batch[PG_B_CHUNK_APPEND],
                 "UPDATE chunk AS c SET data = c.data || v.d, n = v.n, start_ms = v.s,"
                 " end_ms = v.e FROM (VALUES ",
                 ") AS v(id, d, n, s, e) WHERE c.id = v.id", append_types, 5);
    pg_rows_init(&s->batch[PG_B_ROLLUP],
                 "INSERT INTO rollup(check_id, res, bucket_ms, total, ok, sum_us, sketch) VALUES ",
                 " ON CONFLICT (check_id, res, bucket_ms) DO UPDATE SET total = excluded.total,"
                 " ok = excluded.ok, sum_us = excluded.sum_us, sketch = excluded.sketch",
                 rollup_types, 7);
    pg_rows_init(
        &s->batch[PG_B_MINUTE], "INSERT INTO rollup_minute(check_id, hour_ms, data) VALUES ",
        " ON CONFLICT (check_id, hour_ms) DO UPDATE SET data = excluded.data", minute_types, 3);
    pg_rows_init(&s->batch[PG_B_FACTS], "INSERT INTO facts(check_id, ts_ms, json) VALUES ", "",
                 facts_types, 3);
}

/* Gives each check's newly inserted open chunk its id. */
static int take_chunk_ids(struct pg_store *s, PGresult *res, size_t rows, struct ys_err *err)
{
    (void)rows;
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t check = pg_i64(res, i, 0);
        if (check <= 0 || (size_t)check >= s->ncheck || !s->checks[check])
            return ys_err_set(err, YS_ESTORE, "postgres %s: a chunk of unknown check %lld",
                              s->label, (long long)check);
        s->checks[check]->chunk.id = pg_i64(res, i, 1);
    }
    return 0;
}

/* An update of a chunk that is gone (pruned under the writer's cache). */
static int all_changed(struct pg_store *s, PGresult *res, size_t rows, struct ys_err *err)
{
    if ((size_t)pg_changes(res) == rows)
        return 0;
    return ys_err_set(err, YS_ESTORE, "postgres %s: chunks vanished under the writer", s->label);
}

int pg_batch_flush(struct pg_store *s, struct ys_err *err)
{
    static const char *const what[PG_B_COUNT] = {
        [PG_B_CHUNK_NEW] = "writing chunks",      [PG_B_CHUNK_OPEN] = "writing chunks",
        [PG_B_CHUNK_APPEND] = "writing chunks",   [PG_B_ROLLUP] = "writing rollups",
        [PG_B_MINUTE] = "writing minute rollups", [PG_B_FACTS] = "writing facts",
    };
    const pg_rows_cb cbs[PG_B_COUNT] = {
        [PG_B_CHUNK_OPEN] = take_chunk_ids, [PG_B_CHUNK_APPEND] = all_changed};
    int rc = 0;
    for (int b = 0; b < PG_B_COUNT && rc == 0; b++)
        if (s->batch[b].nval > 0)
            rc = pg_rows_flush(s, &s->batch[b], what[b], cbs[b], err);
    return rc;
}
