/*
 * pg.c - the PostgreSQL store backend: connection, schema and its
 * migrations, the prepared-statement table, helpers, check ids, close.
 * Appends, rollups, queries, pruning, incidents/pings and the outbox live
 * in pg_append.c, pg_rollup.c, pg_query.c, pg_prune.c, pg_records.c and
 * pg_outbox.c; pg_rows.c sends a batch's writes as multi-row statements.
 * docs/internals/store.md describes the design and the schema.
 *
 * The store's location (ys_store_options.path) is a libpq connection
 * string or URI (`storage.dsn`). Each struct pg_store is one synchronous
 * libpq connection used by one thread at a time (the writer thread, the
 * outbox thread, or a reader), like the SQLite backend's connections;
 * PostgreSQL's MVCC lets readers run beside the writer. A committed
 * transaction survives a process kill (synchronous_commit is left on).
 *
 * Schema: the tables live in the connection's current schema (the first
 * of search_path), versioned by the one row of `yardstick_schema`. A
 * writable open applies the missing migrations in one transaction that
 * first takes a transaction-level advisory lock named after the schema,
 * so two daemons starting together migrate once, one after the other.
 * A read-only open never writes: it fails with YS_ENOTFOUND when there is
 * no yardstick schema there, and sets default_transaction_read_only.
 *
 * Messages name the server as user@host:port/db (s->label), never the
 * password, which may sit in the connection string.
 */
#include "store/lease_int.h"
#include "store/pg_int.h"

#include "core/utf8.h"
#include "core/xalloc.h"
#include "slo/sketch.h"

#include <assert.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 1

/* Version 1: the whole schema of SQLite's version 4, in PostgreSQL terms.
 * Integers are BIGINT (read back as int8). Text compared or ordered by
 * queries is COLLATE "C", so orders are bytewise, as in SQLite. Ids of
 * rows SQLite orders by rowid (ping, facts, goal_record) are BIGSERIAL.
 * Index choices, beside SQLite's (sqlite.c explains those):
 * - ping_check and facts_check end with id, so "ts_ms, then arrival"
 *   orders come from the index;
 * - outbox_pending is partial (state = 0): the delivery thread's queries
 *   (pending, heads, next, count, notifier heads) read only pending rows,
 *   however long the log; alert_key is included so heads and next read
 *   the index only;
 * - outbox_created is (created_ms, id), the log's order. */
static const char *const migrate_0_to_1_sql =
    "CREATE TABLE IF NOT EXISTS checks(id BIGSERIAL PRIMARY KEY,"
    " name TEXT COLLATE \"C\" UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS texts(id BIGSERIAL PRIMARY KEY,"
    " s TEXT COLLATE \"C\" UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS chunk(id BIGSERIAL PRIMARY KEY, check_id BIGINT NOT NULL,"
    " start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL, n BIGINT NOT NULL,"
    " data BYTEA NOT NULL);"
    "CREATE INDEX IF NOT EXISTS chunk_check ON chunk(check_id, start_ms, id);"
    "CREATE TABLE IF NOT EXISTS rollup(check_id BIGINT NOT NULL, res BIGINT NOT NULL,"
    " bucket_ms BIGINT NOT NULL, total BIGINT NOT NULL, ok BIGINT NOT NULL,"
    " sum_us BIGINT NOT NULL, sketch BYTEA NOT NULL, PRIMARY KEY(check_id, res, bucket_ms));"
    "CREATE TABLE IF NOT EXISTS rollup_minute(check_id BIGINT NOT NULL,"
    " hour_ms BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY(check_id, hour_ms));"
    "CREATE TABLE IF NOT EXISTS incident(check_id BIGINT NOT NULL, start_ms BIGINT NOT NULL,"
    " end_ms BIGINT NOT NULL, first_error TEXT NOT NULL, PRIMARY KEY(check_id, start_ms));"
    "CREATE INDEX IF NOT EXISTS incident_start ON incident(start_ms);"
    "CREATE TABLE IF NOT EXISTS goal_record(id BIGSERIAL PRIMARY KEY,"
    " goal_id TEXT COLLATE \"C\" NOT NULL, ts_ms BIGINT NOT NULL,"
    " value DOUBLE PRECISION NOT NULL, note TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS goal_record_goal ON goal_record(goal_id, ts_ms, id);"
    "CREATE TABLE IF NOT EXISTS ping(id BIGSERIAL PRIMARY KEY, check_id BIGINT NOT NULL,"
    " ts_ms BIGINT NOT NULL, kind BIGINT NOT NULL, exit_code BIGINT NOT NULL,"
    " run_id TEXT NOT NULL, duration_ms BIGINT NOT NULL, body BYTEA);"
    "CREATE INDEX IF NOT EXISTS ping_check ON ping(check_id, ts_ms, id);"
    "CREATE TABLE IF NOT EXISTS alert(key TEXT COLLATE \"C\" PRIMARY KEY,"
    " firing BIGINT NOT NULL, firing_ms BIGINT NOT NULL, resolved_ms BIGINT NOT NULL,"
    " last_notified_ms BIGINT NOT NULL, doc TEXT);"
    "CREATE INDEX IF NOT EXISTS alert_state ON alert(firing, resolved_ms);"
    "CREATE TABLE IF NOT EXISTS outbox(id BIGSERIAL PRIMARY KEY,"
    " notifier TEXT COLLATE \"C\" NOT NULL, alert_key TEXT COLLATE \"C\" NOT NULL,"
    " created_ms BIGINT NOT NULL, next_attempt_ms BIGINT NOT NULL, attempts BIGINT NOT NULL,"
    " state BIGINT NOT NULL, done_ms BIGINT NOT NULL, last_error TEXT NOT NULL, payload TEXT);"
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(notifier, id) INCLUDE (alert_key)"
    " WHERE state = 0;"
    "CREATE INDEX IF NOT EXISTS outbox_created ON outbox(created_ms, id);"
    "CREATE TABLE IF NOT EXISTS facts(id BIGSERIAL PRIMARY KEY, check_id BIGINT NOT NULL,"
    " ts_ms BIGINT NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS facts_check ON facts(check_id, ts_ms, id);"
    "DELETE FROM yardstick_schema; INSERT INTO yardstick_schema(version) VALUES (1);";

/* migrations[v] brings version v to v + 1. */
static const char *const migrations[SCHEMA_VERSION] = {
    [0] = migrate_0_to_1_sql,
};

#define PG_OUTBOX_COLS                                                                         \
    "id, notifier, alert_key, created_ms, next_attempt_ms, attempts, state, done_ms,"          \
    " last_error, payload"

/* Each statement's SQL and its parameters' types (i int8, f float8,
 * t text, b bytea). */
static const struct {
    const char *sql, *types;
} stmts[PG_STMT_COUNT] = {
    [PG_CHECK_GET] = {"SELECT id FROM checks WHERE name = $1", "t"},
    [PG_CHECK_ADD] = {"INSERT INTO checks(name) VALUES($1) ON CONFLICT (name) DO NOTHING"
                      " RETURNING id", "t"},
    [PG_TEXT_GET] = {"SELECT id FROM texts WHERE s = $1", "t"},
    [PG_TEXT_ADD] = {"INSERT INTO texts(s) VALUES($1) ON CONFLICT (s) DO NOTHING RETURNING id",
                     "t"},
    [PG_TEXT_BY_ID] = {"SELECT s FROM texts WHERE id = $1", "i"},
    [PG_CHUNK_LAST] = {"SELECT id, start_ms, end_ms, n, data FROM chunk WHERE check_id = $1"
                       " ORDER BY id DESC LIMIT 1", "i"},
    /* One page of the chunks starting in [$2, $3), after (start_ms, id)
     * ($4, $5): query_raw reads a long range a page at a time. */
    [PG_CHUNK_PAGE] = {"SELECT start_ms, id, data FROM chunk WHERE check_id = $1"
                       " AND start_ms >= $2 AND start_ms < $3 AND (start_ms, id) > ($4, $5)"
                       " ORDER BY start_ms, id LIMIT $6", "iiiiii"},
    [PG_ROLLUP_GET] = {"SELECT total, ok, sum_us, sketch FROM rollup"
                       " WHERE check_id = $1 AND res = $2 AND bucket_ms = $3", "iii"},
    [PG_ROLLUP_RANGE] = {"SELECT bucket_ms, total, ok, sum_us, sketch FROM rollup"
                         " WHERE check_id = $1 AND res = $2 AND bucket_ms >= $3"
                         " AND bucket_ms < $4 ORDER BY bucket_ms", "iiii"},
    [PG_MINUTE_GET] = {"SELECT data FROM rollup_minute WHERE check_id = $1 AND hour_ms = $2",
                       "ii"},
    [PG_MINUTE_RANGE] = {"SELECT hour_ms, data FROM rollup_minute WHERE check_id = $1"
                         " AND hour_ms >= $2 AND hour_ms < $3 ORDER BY hour_ms", "iii"},
    [PG_CHECK_NEXT] = {"SELECT id FROM checks WHERE id >= $1 ORDER BY id LIMIT 1", "i"},
    [PG_PRUNE_CHUNK] = {"DELETE FROM chunk WHERE id IN (SELECT id FROM chunk"
                        " WHERE check_id = $1 AND start_ms < $2 AND end_ms < $2 LIMIT $3)",
                        "iii"},
    [PG_PRUNE_ROLLUP] = {"DELETE FROM rollup WHERE check_id = $1 AND res = $2 AND bucket_ms IN"
                         " (SELECT bucket_ms FROM rollup WHERE check_id = $1 AND res = $2"
                         " AND bucket_ms < $3 LIMIT $4)", "iiii"},
    [PG_PRUNE_MINUTE] = {"DELETE FROM rollup_minute WHERE check_id = $1 AND hour_ms IN"
                         " (SELECT hour_ms FROM rollup_minute WHERE check_id = $1"
                         " AND hour_ms < $2 LIMIT $3)", "iii"},
    [PG_PRUNE_FACTS] = {"DELETE FROM facts WHERE id IN (SELECT id FROM facts"
                        " WHERE check_id = $1 AND ts_ms < $2 LIMIT $3)", "iii"},
    [PG_PRUNE_PING] = {"DELETE FROM ping WHERE id IN (SELECT id FROM ping"
                       " WHERE check_id = $1 AND ts_ms < $2 LIMIT $3)", "iii"},
    [PG_PRUNE_ALERT] = {"DELETE FROM alert WHERE key IN (SELECT key FROM alert"
                        " WHERE firing = 0 AND resolved_ms < $1 LIMIT $2)", "ii"},
    /* As in SQLite: done_ms < cutoff implies created_ms < cutoff, so the
     * created_ms index bounds the scan to old rows. */
    [PG_PRUNE_OUTBOX] = {"DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                         " WHERE created_ms < $1 AND state != 0 AND done_ms < $1 LIMIT $2)",
                         "ii"},
    [PG_INCIDENT_PUT] = {"INSERT INTO incident VALUES($1, $2, $3, $4)"
                         " ON CONFLICT (check_id, start_ms) DO UPDATE"
                         " SET end_ms = excluded.end_ms, first_error = excluded.first_error",
                         "iiit"},
    [PG_INCIDENT_RANGE] = {"SELECT check_id, start_ms, end_ms, first_error FROM incident"
                           " WHERE check_id = $1 AND start_ms < $3"
                           " AND (end_ms = 0 OR end_ms > $2) ORDER BY start_ms", "iii"},
    [PG_INCIDENT_RANGE_ALL] = {"SELECT check_id, start_ms, end_ms, first_error FROM incident"
                               " WHERE start_ms < $2 AND (end_ms = 0 OR end_ms > $1)"
                               " ORDER BY start_ms, check_id", "ii"},
    [PG_GOAL_PUT] = {"INSERT INTO goal_record(goal_id, ts_ms, value, note)"
                     " VALUES($1, $2, $3, $4)", "tift"},
    [PG_GOAL_RANGE] = {"SELECT ts_ms, value, note FROM goal_record WHERE goal_id = $1"
                       " AND ts_ms >= $2 AND ts_ms < $3 ORDER BY ts_ms, id", "tii"},
    [PG_PING_PUT] = {"INSERT INTO ping(check_id, ts_ms, kind, exit_code, run_id, duration_ms,"
                     " body) VALUES($1, $2, $3, $4, $5, $6, $7)", "iiiitib"},
    /* The oldest of the newest $4 + 1 pings in range, from the index. */
    [PG_PING_EDGE] = {"SELECT ts_ms, id FROM ping WHERE check_id = $1 AND ts_ms >= $2"
                      " AND ts_ms < $3 ORDER BY ts_ms DESC, id DESC LIMIT 1 OFFSET $4", "iiii"},
    [PG_PING_RANGE] = {"SELECT ts_ms, kind, exit_code, run_id, duration_ms, body FROM ping"
                       " WHERE check_id = $1 AND ts_ms >= $2 AND ts_ms < $3"
                       " AND (ts_ms > $2 OR id >= $4) ORDER BY ts_ms, id", "iiii"},
    [PG_ALERT_PUT] = {"INSERT INTO alert(key, firing, firing_ms, resolved_ms, last_notified_ms,"
                      " doc) VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE"
                      " SET firing = excluded.firing, firing_ms = excluded.firing_ms,"
                      " resolved_ms = excluded.resolved_ms,"
                      " last_notified_ms = excluded.last_notified_ms, doc = excluded.doc",
                      "tiiiit"},
    [PG_ALERT_LIST] = {"SELECT key, firing, firing_ms, resolved_ms, last_notified_ms, doc"
                       " FROM alert WHERE firing = 1 OR (firing = 0 AND resolved_ms >= $1)"
                       " ORDER BY firing_ms, key", "i"},
    /* Serialises notify_commit across connections, so outbox ids (from a
     * sequence, handed out at insert) become visible in id order. */
    [PG_OUTBOX_LOCK] = {"SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.outbox'))",
                        ""},
    [PG_OUTBOX_ADD] = {"INSERT INTO outbox(notifier, alert_key, created_ms, next_attempt_ms,"
                       " attempts, state, done_ms, last_error, payload)"
                       " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id", "ttiiiiitt"},
    [PG_OUTBOX_PENDING] = {"SELECT " PG_OUTBOX_COLS " FROM outbox WHERE notifier = $1"
                           " AND state = 0 ORDER BY id LIMIT $2", "ti"},
    [PG_OUTBOX_UPDATE] = {"UPDATE outbox SET state = $2, attempts = $3, next_attempt_ms = $4,"
                          " done_ms = $5, last_error = $6 WHERE id = $1", "iiiiit"},
    [PG_OUTBOX_LOG] = {"SELECT " PG_OUTBOX_COLS " FROM outbox WHERE created_ms >= $1"
                       " ORDER BY created_ms DESC, id DESC LIMIT $2", "ii"},
    /* Each alert key's first pending row, from the partial index. */
    [PG_OUTBOX_HEADS] = {"SELECT " PG_OUTBOX_COLS " FROM outbox WHERE id IN (SELECT min(id)"
                         " FROM outbox WHERE notifier = $1 AND state = 0 GROUP BY alert_key)"
                         " ORDER BY next_attempt_ms, id LIMIT $2", "ti"},
    /* At most $4 index entries after $3, stopping at the key's first. */
    [PG_OUTBOX_NEXT] = {"SELECT " PG_OUTBOX_COLS " FROM outbox WHERE id = (SELECT w.id FROM"
                        " (SELECT id, alert_key FROM outbox WHERE notifier = $1 AND state = 0"
                        " AND id > $3 ORDER BY id LIMIT $4) w WHERE w.alert_key = $2"
                        " ORDER BY w.id LIMIT 1)", "ttii"},
    [PG_OUTBOX_COUNT] = {"SELECT count(*) FROM outbox WHERE notifier = $1 AND state = 0", "t"},
    /* The notifier names with pending rows by a skip scan of the partial
     * index (one seek per name), then each name's first pending row. */
    [PG_OUTBOX_NOTIFIERS] = {"WITH RECURSIVE nf(name) AS (SELECT min(notifier) FROM outbox"
                             " WHERE state = 0 UNION ALL SELECT (SELECT min(notifier)"
                             " FROM outbox WHERE state = 0 AND notifier > nf.name) FROM nf"
                             " WHERE nf.name IS NOT NULL) SELECT " PG_OUTBOX_COLS
                             " FROM outbox WHERE id IN (SELECT (SELECT min(id) FROM outbox"
                             " WHERE notifier = nf.name AND state = 0) FROM nf"
                             " WHERE nf.name IS NOT NULL) ORDER BY notifier", ""},
    [PG_FACTS_RANGE] = {"SELECT ts_ms, json FROM facts WHERE check_id = $1 AND ts_ms >= $2"
                        " AND ts_ms < $3 ORDER BY ts_ms, id", "iii"},
};

/* ---- parameters and results ------------------------------------------- */

static void param(struct pg_params *p, const void *v, int len)
{
    assert(p->n < PG_MAX_PARAMS); /* a statement with more: raise PG_MAX_PARAMS */
    p->v[p->n] = v;
    p->len[p->n] = len;
    p->fmt[p->n] = 1;
    p->n++;
}

void pg_p_i64(struct pg_params *p, int64_t v)
{
    p->num[p->n] = htobe64((uint64_t)v);
    param(p, &p->num[p->n], 8);
}

void pg_p_f64(struct pg_params *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    p->num[p->n] = htobe64(bits);
    param(p, &p->num[p->n], 8);
}

void pg_p_bytes(struct pg_params *p, const void *data, size_t len)
{
    param(p, data ? data : "", (int)len);
}

void pg_p_text(struct pg_params *p, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (unsigned char)s[i] < 0x80 && s[i] != '\0')
        i++;
    if (i < len && p->n < PG_MAX_PARAMS) { /* not plain ASCII: check it on a copy */
        char *copy = ys_xmalloc(len + 1);
        memcpy(copy, s, len);
        copy[len] = '\0';
        if (ys_utf8_scrub(copy, len + 1) > 0 || strlen(copy) < len) {
            p->owned[p->n] = copy;
            param(p, copy, (int)strlen(copy)); /* PostgreSQL text cannot hold NUL */
            return;
        }
        free(copy);
    }
    param(p, s, (int)len);
}

void pg_params_free(struct pg_params *p)
{
    for (int i = 0; i < PG_MAX_PARAMS; i++) {
        free(p->owned[i]);
        p->owned[i] = NULL;
    }
}

void pg_p_null(struct pg_params *p)
{
    param(p, NULL, 0);
}

void pg_p_limit(struct pg_params *p, size_t max)
{
    if (max == 0 || max > (size_t)INT64_MAX)
        pg_p_null(p); /* LIMIT NULL is no limit */
    else
        pg_p_i64(p, (int64_t)max);
}

int64_t pg_i64(const PGresult *res, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(res, row, col);
    uint64_t x = 0;
    int len = PQgetlength(res, row, col);
    if (PQgetisnull(res, row, col) || len > 8)
        return 0;
    for (int i = 0; i < len; i++)
        x = x << 8 | v[i];
    if (len == 4)
        return (int32_t)(uint32_t)x;
    if (len == 2)
        return (int16_t)(uint16_t)x;
    return (int64_t)x;
}

double pg_f64(const PGresult *res, int row, int col)
{
    uint64_t bits = (uint64_t)pg_i64(res, row, col);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

void pg_text(const PGresult *res, int row, int col, char *dst, size_t size)
{
    snprintf(dst, size, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

int pg_changes(const PGresult *res)
{
    return (int)strtol(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* ---- errors and statements --------------------------------------------- */

int pg_fail(struct pg_store *s, const PGresult *res, const char *what, struct ys_err *err)
{
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!*msg)
        msg = PQerrorMessage(s->conn);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    /* Serialization failures, deadlocks and lock timeouts are worth a retry. */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int rc = state && (strncmp(state, "40", 2) == 0 || strcmp(state, "55P03") == 0) ? YS_EBUSY
                                                                                      : YS_ESTORE;
    return ys_err_set(err, rc, "postgres %s: %s: %.*s", s->label, what, (int)len, msg);
}

int pg_read_only_error(struct pg_store *s, struct ys_err *err)
{
    return ys_err_set(err, YS_EINVAL, "postgres %s: the store is open read-only", s->label);
}

/* After a lost connection: reconnects once, so a database restart costs
 * the daemon the batches in flight, not its store. */
static int ensure_connected(struct pg_store *s, struct ys_err *err)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return 0;
    PQreset(s->conn);
    memset(s->prepared, 0, sizeof s->prepared);
    pg_forget_caches(s);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return pg_fail(s, NULL, "reconnecting", err);
    if (s->read_only)
        return pg_cmd(s, "SET default_transaction_read_only = on", err);
    return 0;
}

static int prepare(struct pg_store *s, enum pg_stmt which, struct ys_err *err)
{
    Oid types[PG_MAX_PARAMS];
    int n = 0;
    for (const char *t = stmts[which].types; *t; t++)
        types[n++] = *t == 'i' ? 20 : *t == 'f' ? 701 : *t == 'b' ? 17 : 25;
    char name[16];
    snprintf(name, sizeof name, "ys%d", (int)which);
    PGresult *res = PQprepare(s->conn, name, stmts[which].sql, n, types);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(s, res, "preparing a statement", err);
    else
        s->prepared[which] = true;
    PQclear(res);
    return rc;
}

PGresult *pg_run(struct pg_store *s, enum pg_stmt which, const struct pg_params *p,
                 const char *what, struct ys_err *err)
{
    static const struct pg_params none;
    if (!p)
        p = &none;
    /* Outside a transaction, a lost connection is re-established; inside
     * one, the transaction is lost anyway and the call fails. */
    if ((!s->in_tx && ensure_connected(s, err) < 0) ||
        (!s->prepared[which] && prepare(s, which, err) < 0))
        return NULL;
    char name[16];
    snprintf(name, sizeof name, "ys%d", (int)which);
    PGresult *res = PQexecPrepared(s->conn, name, p->n, p->v, p->len, p->fmt, 1);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    pg_fail(s, res, what, err);
    PQclear(res);
    return NULL;
}

int pg_cmd(struct pg_store *s, const char *sql, struct ys_err *err)
{
    PGresult *res = PQexec(s->conn, sql);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_fail(s, res, sql, err);
    PQclear(res);
    return rc;
}

int pg_begin(struct pg_store *s, struct ys_err *err)
{
    int rc = ensure_connected(s, err);
    if (rc == 0 && (rc = pg_cmd(s, "BEGIN", err)) == 0)
        s->in_tx = true;
    return rc;
}

int pg_commit(struct pg_store *s, struct ys_err *err)
{
    int rc = pg_cmd(s, "COMMIT", err);
    if (rc == 0)
        s->in_tx = false;
    return rc;
}

void pg_rollback(struct pg_store *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        pg_cmd(s, "ROLLBACK", NULL);
    s->in_tx = false;
}

/* ---- caches -------------------------------------------------------------- */

void pg_slot_free(struct pg_slot *slot)
{
    free(slot->enc);
    ys_sketch_free(slot->work);
    memset(slot, 0, sizeof *slot);
    slot->bucket_ms = -1;
}

void pg_check_free(struct pg_check *c)
{
    if (!c)
        return;
    ys_buf_free(&c->chunk.pending);
    pg_slot_free(&c->hour);
    pg_slot_free(&c->day);
    pg_slot_free(&c->min.cur);
    ys_buf_free(&c->min.done);
    free(c);
}

static void free_texts(struct pg_text_entry **t, size_t *cap, size_t *n)
{
    for (size_t i = 0; i < *cap; i++)
        free((*t)[i].s);
    free(*t);
    *t = NULL;
    *cap = *n = 0;
}

void pg_forget_caches(struct pg_store *s)
{
    for (uint32_t i = 0; i < s->ncheck; i++) {
        pg_check_free(s->checks[i]);
        s->checks[i] = NULL;
    }
    s->ndirty = 0;
    free_texts(&s->text, &s->text_cap, &s->text_n);
    free_texts(&s->byid, &s->byid_cap, &s->byid_n);
    for (int i = 0; i < PG_B_COUNT; i++)
        pg_rows_reset(&s->batch[i]);
}

/* ---- open, schema, close -------------------------------------------------- */

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation exists, skipping" and the like */
}

/* Names the server for messages from the connection string alone (when
 * connecting failed): user@host:port/db, whatever is given. */
void ys_pg_label(const char *dsn, char *label, size_t size)
{
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
    }
    snprintf(label, size, "%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
             host ? host : "(default host)", port ? ":" : "", port ? port : "", db ? db : "");
    PQconninfoFree(opts);
}

static int read_version(struct pg_store *s, int *version, struct ys_err *err)
{
    PGresult *res = PQexecParams(s->conn, "SELECT max(version) FROM yardstick_schema", 0, NULL,
                                 NULL, NULL, NULL, 1);
    int rc = 0;
    *version = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        *version = (int)pg_i64(res, 0, 0);
    } else {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "42P01") == 0) /* undefined_table */
            rc = ys_err_set(err, YS_ENOTFOUND, "postgres %s: no yardstick schema there",
                            s->label);
        else
            rc = pg_fail(s, res, "reading the schema version", err);
    }
    PQclear(res);
    return rc;
}

static int check_version(struct pg_store *s, int version, struct ys_err *err)
{
    if (version == SCHEMA_VERSION)
        return 0;
    return ys_err_set(err, YS_ESTORE, "postgres %s: schema version %d, expected %d", s->label,
                      version, SCHEMA_VERSION);
}

/* Brings the schema to SCHEMA_VERSION in one transaction, under an
 * advisory lock, reading the version only once the lock is held. */
static int migrate(struct pg_store *s, struct ys_err *err)
{
    int version, rc;
    if ((rc = pg_cmd(s, "BEGIN", err)) < 0)
        return rc;
    if ((rc = pg_cmd(s, "SELECT pg_advisory_xact_lock(hashtext(current_schema()"
                        " || '.yardstick_schema'))", err)) < 0 ||
        (rc = pg_cmd(s, "CREATE TABLE IF NOT EXISTS yardstick_schema(version BIGINT NOT NULL)",
                     err)) < 0 ||
        (rc = read_version(s, &version, err)) < 0)
        goto fail;
    if (version > SCHEMA_VERSION) {
        rc = ys_err_set(err, YS_ESTORE,
                        "postgres %s: schema version %d is newer than this yardstick's (%d)",
                        s->label, version, SCHEMA_VERSION);
        goto fail;
    }
    for (int v = version; v < SCHEMA_VERSION; v++) {
        PGresult *res = PQexec(s->conn, migrations[v]);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            char what[64];
            snprintf(what, sizeof what, "migrating the schema from version %d to %d", v, v + 1);
            rc = pg_fail(s, res, what, err);
            PQclear(res);
            goto fail;
        }
        PQclear(res);
    }
    if ((rc = pg_cmd(s, "COMMIT", err)) < 0)
        goto fail;
    return 0;
fail:
    pg_rollback(s);
    return rc;
}

static int setup(struct pg_store *s, struct ys_err *err)
{
    int version, rc;
    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    if (!s->read_only && (rc = migrate(s, err)) < 0)
        return rc;
    if ((rc = read_version(s, &version, err)) < 0 || (rc = check_version(s, version, err)) < 0)
        return rc;
    return s->read_only ? pg_cmd(s, "SET default_transaction_read_only = on", err) : 0;
}

static void pg_close(struct ys_store *st)
{
    struct pg_store *s = (struct pg_store *)st;
    if (!s)
        return;
    pg_forget_caches(s);
    for (int i = 0; i < PG_B_COUNT; i++)
        pg_rows_free(&s->batch[i]);
    free(s->checks);
    free(s->dirty);
    PQfinish(s->conn);
    free(s);
}

/* The session's `options`: the connection string's own (a search_path,
 * say), plus the default statement timeout unless they set one. Passed
 * after the string, so the string cannot drop it by setting options. */
static char *session_options(const PQconninfoOption *parsed)
{
    const char *own = "";
    for (const PQconninfoOption *o = parsed; o->keyword; o++)
        if (strcmp(o->keyword, "options") == 0 && o->val)
            own = o->val;
    if (strstr(own, "statement_timeout"))
        return ys_xstrdup(own);
    return ys_xasprintf("%s%s-c statement_timeout=%d", own, *own ? " " : "",
                        PG_STATEMENT_TIMEOUT_MS);
}

static int pg_open(const struct ys_store_options *opt, struct ys_store **out, struct ys_err *err)
{
    int rc;
    if (!opt || !opt->path || !*opt->path)
        return ys_err_set(err, YS_EINVAL, "postgres: no connection string (storage.dsn)");
    /* Parsed first: libpq's parse error quotes the string, and with it
     * part of a password (`missing "=" after "sekrit..."`). */
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(opt->path, &perr);
    PQfreemem(perr);
    if (!parsed)
        return ys_err_set(err, YS_EINVAL, "postgres: malformed connection string (storage.dsn)");
    char *options = session_options(parsed);
    PQconninfoFree(parsed);
    struct pg_store *s = ys_xcalloc(1, sizeof *s);
    s->super.type = &ys_store_postgres;
    s->read_only = opt->read_only;
    s->retention = opt->retention;
    pg_batch_init(s);
    ys_pg_label(opt->path, s->label, sizeof s->label);
    /* The connection string comes last (expand_dbname), so what it says
     * wins; the defaults bound how long a server that stops answering can
     * hold a call: connecting (10 s), a dead peer or link (TCP keepalive
     * probes after 5 s idle, every 2 s, 3 lost: about 11 s; unacknowledged
     * data: 15 s), a statement (60 s, well above the longest prune or
     * migration batch). docs/configuration.md, "storage". */
    const char *const keys[] = {"connect_timeout", "application_name", "keepalives",
                                "keepalives_idle", "keepalives_interval", "keepalives_count",
                                "tcp_user_timeout", "dbname", "options", NULL};
    const char *const vals[] = {"10", "yardstick", "1", "5", "2", "3", "15000", opt->path,
                                options, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    free(options);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        rc = pg_fail(s, NULL, "cannot connect", err);
        goto fail;
    }
    snprintf(s->label, sizeof s->label, "%s@%s:%s/%s", PQuser(s->conn), PQhost(s->conn),
             PQport(s->conn), PQdb(s->conn));
    if ((rc = setup(s, err)) < 0)
        goto fail;
    *out = &s->super;
    return 0;
fail:
    pg_close(&s->super);
    return rc;
}

static int pg_check_id(struct ys_store *st, const char *name, uint32_t *id, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct pg_params p = {0};
    pg_p_text(&p, name, strlen(name));
    /* Look first: an insert that conflicts would still use up a sequence
     * value, and check ids index arrays. Then insert, and look again if a
     * concurrent insert won. */
    int rc = YS_ESTORE;
    for (int step = 0; step < 3 && rc == YS_ESTORE; step++) {
        if (step == 1 && s->read_only) {
            rc = ys_err_set(err, YS_ENOTFOUND, "no check named %s in the store", name);
            break;
        }
        PGresult *res = pg_run(s, step == 1 ? PG_CHECK_ADD : PG_CHECK_GET, &p, "check ids", err);
        if (!res)
            break;
        if (PQntuples(res) == 1) {
            *id = (uint32_t)pg_i64(res, 0, 0);
            rc = 0;
        }
        PQclear(res);
        if (rc < 0 && step == 2)
            rc = ys_err_set(err, YS_ESTORE, "postgres %s: check %s vanished", s->label, name);
    }
    pg_params_free(&p);
    return rc;
}

const struct ys_store_type ys_store_postgres = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .check_id = pg_check_id,
    .append = pg_append,
    .query_raw = pg_query_raw,
    .query_rollups = pg_query_rollups,
    .prune = pg_prune,
    .put_incident = pg_put_incident,
    .query_incidents = pg_query_incidents,
    .put_goal_record = pg_put_goal_record,
    .query_goal_records = pg_query_goal_records,
    .put_pings = pg_put_pings,
    .query_pings = pg_query_pings,
    .notify_commit = pg_notify_commit,
    .query_alerts = pg_query_alerts,
    .outbox_pending = pg_outbox_pending,
    .outbox_update = pg_outbox_update,
    .outbox_log = pg_outbox_log,
    .outbox_heads = pg_outbox_heads,
    .outbox_next = pg_outbox_next,
    .outbox_count_pending = pg_outbox_count_pending,
    .outbox_notifier_heads = pg_outbox_notifier_heads,
    .lease = pg_lease,
};
