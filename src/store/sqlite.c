/*
 * sqlite.c - the SQLite store backend: open, schema, statement cache,
 * check ids, close. Appends (and results' facts), rollups, queries and
 * pruning live in sqlite_append.c, sqlite_rollup.c, sqlite_query.c and
 * sqlite_prune.c;
 * incidents, pings, alerts and the outbox in sqlite_incidents.c,
 * sqlite_pings.c and sqlite_outbox.c. docs/internals/store.md describes
 * the design and the schema.
 *
 * Each struct sq_store is one connection opened with SQLITE_OPEN_NOMUTEX:
 * exactly one thread uses it at a time (the writer thread, or a reader).
 * WAL mode lets readers run beside the writer; synchronous=NORMAL keeps
 * every committed transaction across a process kill (the WAL is written
 * before COMMIT returns), and may lose the last transactions on power loss.
 *
 * A read-only open never writes: it creates no folder, no table, and
 * fails with YS_ENOTFOUND if the database does not exist.
 */
#include "store/lease_int.h"
#include "store/sqlite_int.h"

#include "core/xalloc.h"
#include "slo/sketch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCHEMA_VERSION 4

/* Every open runs schema_sql (the version 1 tables; a new file starts at
 * version 1) and then each migration from the version found, so a new file
 * and an old one reach the current schema along the same path (a new file
 * goes 1 -> 2 -> 3 -> 4 inside the open's one migration transaction). */

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta VALUES('schema_version', 1);"
    "CREATE TABLE IF NOT EXISTS checks(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS text(id INTEGER PRIMARY KEY, s TEXT UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS chunk(id INTEGER PRIMARY KEY, check_id INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, n INTEGER NOT NULL,"
    " data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS chunk_check ON chunk(check_id, start_ms);"
    "CREATE TABLE IF NOT EXISTS rollup(check_id INTEGER NOT NULL, res INTEGER NOT NULL,"
    " bucket_ms INTEGER NOT NULL, total INTEGER NOT NULL, ok INTEGER NOT NULL,"
    " sum_us INTEGER NOT NULL, sketch BLOB NOT NULL,"
    " PRIMARY KEY(check_id, res, bucket_ms)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_minute(check_id INTEGER NOT NULL,"
    " hour_ms INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY(check_id, hour_ms)) WITHOUT ROWID;";

/* 1 -> 2: incidents and manual goal records, both kept forever. An open
 * incident has end_ms 0. incident_start serves range queries over every
 * check; the primary key serves those of one check. */
static const char *const migrate_1_to_2_sql =
    "CREATE TABLE IF NOT EXISTS incident(check_id INTEGER NOT NULL, start_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL, first_error TEXT NOT NULL,"
    " PRIMARY KEY(check_id, start_ms)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS incident_start ON incident(start_ms);"
    "CREATE TABLE IF NOT EXISTS goal_record(goal_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
    " value REAL NOT NULL, note TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS goal_record_goal ON goal_record(goal_id, ts_ms);"
    "UPDATE meta SET value = 2 WHERE key = 'schema_version';";

/* 2 -> 3: heartbeat pings, alert records and the notification outbox.
 * ping_check serves a check's range queries and per-check pruning; an
 * alert is found by key, and alert_state serves "firing, or resolved
 * since" and pruning. outbox ids come from AUTOINCREMENT so a pruned row's
 * id is never handed out again (they order delivery and name log rows);
 * outbox_pending serves a notifier's queue, outbox_created the log and
 * pruning. */
static const char *const migrate_2_to_3_sql =
    "CREATE TABLE IF NOT EXISTS ping(check_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, exit_code INTEGER NOT NULL, run_id TEXT NOT NULL,"
    " duration_ms INTEGER NOT NULL, body BLOB);"
    "CREATE INDEX IF NOT EXISTS ping_check ON ping(check_id, ts_ms);"
    "CREATE TABLE IF NOT EXISTS alert(key TEXT PRIMARY KEY, firing INTEGER NOT NULL,"
    " firing_ms INTEGER NOT NULL, resolved_ms INTEGER NOT NULL,"
    " last_notified_ms INTEGER NOT NULL, doc TEXT);"
    "CREATE INDEX IF NOT EXISTS alert_state ON alert(firing, resolved_ms);"
    "CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " notifier TEXT NOT NULL, alert_key TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " next_attempt_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, state INTEGER NOT NULL,"
    " done_ms INTEGER NOT NULL, last_error TEXT NOT NULL, payload TEXT);"
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(notifier, state, id);"
    "CREATE INDEX IF NOT EXISTS outbox_created ON outbox(created_ms);"
    "UPDATE meta SET value = 3 WHERE key = 'schema_version';";

/* 3 -> 4: results' kind-specific facts (struct ys_result.facts, JSON
 * text), one row per result that has some, beside the chunk that holds
 * the result; query_raw pairs them by (check_id, ts_ms) and write order
 * (sqlite_query.c). A rowid table: two results of one check may share a
 * millisecond. facts_check serves that pairing and per-check pruning. */
static const char *const migrate_3_to_4_sql =
    "CREATE TABLE IF NOT EXISTS facts(check_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"
    " json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS facts_check ON facts(check_id, ts_ms);"
    "UPDATE meta SET value = 4 WHERE key = 'schema_version';";

/* migrations[v] brings version v to v + 1. */
static const char *const migrations[SCHEMA_VERSION] = {
    [1] = migrate_1_to_2_sql,
    [2] = migrate_2_to_3_sql,
    [3] = migrate_3_to_4_sql,
};

#define SQ_OUTBOX_COLS                                                                         \
    "id, notifier, alert_key, created_ms, next_attempt_ms, attempts, state, done_ms,"          \
    " last_error, payload"

static const char *const stmt_sql[SQ_STMT_COUNT] = {
    [SQ_CHECK_GET] = "SELECT id FROM checks WHERE name = ?1",
    [SQ_CHECK_ADD] = "INSERT INTO checks(name) VALUES(?1)",
    [SQ_TEXT_GET] = "SELECT id FROM text WHERE s = ?1",
    [SQ_TEXT_ADD] = "INSERT INTO text(s) VALUES(?1)",
    [SQ_TEXT_BY_ID] = "SELECT s FROM text WHERE id = ?1",
    [SQ_CHUNK_LAST] = "SELECT id, start_ms, end_ms, n, data FROM chunk WHERE check_id = ?1"
                      " ORDER BY id DESC LIMIT 1",
    [SQ_CHUNK_ADD] = "INSERT INTO chunk(check_id, start_ms, end_ms, n, data)"
                     " VALUES(?1, ?2, ?3, ?4, ?5)",
    /* || yields TEXT; the CAST keeps the column a BLOB, bytes unchanged. */
    [SQ_CHUNK_APPEND] = "UPDATE chunk SET data = CAST(data || ?1 AS BLOB), n = ?2,"
                        " start_ms = ?3, end_ms = ?4 WHERE id = ?5",
    [SQ_CHUNK_RANGE] = "SELECT start_ms, data FROM chunk WHERE check_id = ?1"
                       " AND start_ms >= ?2 AND start_ms < ?3 ORDER BY start_ms, id",
    [SQ_ROLLUP_GET] = "SELECT total, ok, sum_us, sketch FROM rollup"
                      " WHERE check_id = ?1 AND res = ?2 AND bucket_ms = ?3",
    [SQ_ROLLUP_PUT] = "INSERT OR REPLACE INTO rollup VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_ROLLUP_RANGE] = "SELECT bucket_ms, total, ok, sum_us, sketch FROM rollup"
                        " WHERE check_id = ?1 AND res = ?2 AND bucket_ms >= ?3"
                        " AND bucket_ms < ?4 ORDER BY bucket_ms",
    [SQ_MINUTE_GET] = "SELECT data FROM rollup_minute WHERE check_id = ?1 AND hour_ms = ?2",
    [SQ_MINUTE_PUT] = "INSERT OR REPLACE INTO rollup_minute VALUES(?1, ?2, ?3)",
    [SQ_MINUTE_RANGE] = "SELECT hour_ms, data FROM rollup_minute WHERE check_id = ?1"
                        " AND hour_ms >= ?2 AND hour_ms < ?3 ORDER BY hour_ms",
    [SQ_CHECK_NEXT] = "SELECT id FROM checks WHERE id >= ?1 ORDER BY id LIMIT 1",
    [SQ_PRUNE_CHUNK] = "DELETE FROM chunk WHERE id IN (SELECT id FROM chunk"
                       " WHERE check_id = ?1 AND start_ms < ?2 AND end_ms < ?2 LIMIT ?3)",
    [SQ_PRUNE_ROLLUP] = "DELETE FROM rollup WHERE check_id = ?1 AND res = ?2 AND bucket_ms IN"
                        " (SELECT bucket_ms FROM rollup WHERE check_id = ?1 AND res = ?2"
                        " AND bucket_ms < ?3 LIMIT ?4)",
    [SQ_PRUNE_MINUTE] = "DELETE FROM rollup_minute WHERE check_id = ?1 AND hour_ms IN"
                        " (SELECT hour_ms FROM rollup_minute WHERE check_id = ?1"
                        " AND hour_ms < ?2 LIMIT ?3)",
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_INCIDENT_PUT] = "INSERT INTO incident VALUES(?1, ?2, ?3, ?4)"
                        " ON CONFLICT(check_id, start_ms) DO UPDATE"
                        " SET end_ms = excluded.end_ms, first_error = excluded.first_error",
    [SQ_INCIDENT_RANGE] = "SELECT check_id, start_ms, end_ms, first_error FROM incident"
                          " WHERE check_id = ?1 AND start_ms < ?3"
                          " AND (end_ms = 0 OR end_ms > ?2) ORDER BY start_ms",
    [SQ_INCIDENT_RANGE_ALL] = "SELECT check_id, start_ms, end_ms, first_error FROM incident"
                              " WHERE start_ms < ?3 AND (end_ms = 0 OR end_ms > ?2)"
                              " ORDER BY start_ms, check_id",
    [SQ_GOAL_PUT] = "INSERT INTO goal_record(goal_id, ts_ms, value, note) VALUES(?1, ?2, ?3, ?4)",
    [SQ_GOAL_RANGE] = "SELECT ts_ms, value, note FROM goal_record WHERE goal_id = ?1"
                      " AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms, rowid",
    [SQ_PING_PUT] = "INSERT INTO ping(check_id, ts_ms, kind, exit_code, run_id, duration_ms, body)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* The oldest of the newest ?4 + 1 pings in range: where a capped query
     * starts. Reads the index only, so the bodies are never sorted. */
    [SQ_PING_EDGE] = "SELECT ts_ms, rowid FROM ping WHERE check_id = ?1 AND ts_ms >= ?2"
                     " AND ts_ms < ?3 ORDER BY ts_ms DESC, rowid DESC LIMIT 1 OFFSET ?4",
    /* Pings from (?2, rowid ?4) on; ?4 = 0 takes every ping at ?2. */
    [SQ_PING_RANGE] = "SELECT ts_ms, kind, exit_code, run_id, duration_ms, body FROM ping"
                      " WHERE check_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
                      " AND (ts_ms > ?2 OR rowid >= ?4) ORDER BY ts_ms, rowid",
    [SQ_PRUNE_PING] = "DELETE FROM ping WHERE rowid IN (SELECT rowid FROM ping"
                      " WHERE check_id = ?1 AND ts_ms < ?2 LIMIT ?3)",
    [SQ_ALERT_PUT] = "INSERT OR REPLACE INTO alert(key, firing, firing_ms, resolved_ms,"
                     " last_notified_ms, doc) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    /* Two index ranges of alert_state (firing is stored as 0 or 1). */
    [SQ_ALERT_LIST] = "SELECT key, firing, firing_ms, resolved_ms, last_notified_ms, doc"
                      " FROM alert WHERE firing = 1 OR (firing = 0 AND resolved_ms >= ?1)"
                      " ORDER BY firing_ms, key",
    [SQ_PRUNE_ALERT] = "DELETE FROM alert WHERE key IN (SELECT key FROM alert"
                       " WHERE firing = 0 AND resolved_ms < ?1 LIMIT ?2)",
    [SQ_OUTBOX_ADD] = "INSERT INTO outbox(notifier, alert_key, created_ms, next_attempt_ms,"
                      " attempts, state, done_ms, last_error, payload)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [SQ_OUTBOX_PENDING] = "SELECT " SQ_OUTBOX_COLS " FROM outbox WHERE notifier = ?1"
                          " AND state = 0 ORDER BY id LIMIT ?2",
    [SQ_OUTBOX_UPDATE] = "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_ms = ?4,"
                         " done_ms = ?5, last_error = ?6 WHERE id = ?1",
    [SQ_OUTBOX_LOG] = "SELECT " SQ_OUTBOX_COLS " FROM outbox WHERE created_ms >= ?1"
                      " ORDER BY created_ms DESC, id DESC LIMIT ?2",
    /* A row is done after it was created, so done_ms < cutoff implies
     * created_ms < cutoff: the created_ms index bounds the scan to old rows
     * (the few still pending among them are skipped), no index on done_ms. */
    [SQ_PRUNE_OUTBOX] = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                        " WHERE created_ms < ?1 AND state != 0 AND done_ms < ?1 LIMIT ?2)",
    /* The first pending row of each alert key: the notifier's
     * outbox_pending range, grouped in a temporary b-tree, so the cost
     * follows the notifier's pending rows, not the log. */
    [SQ_OUTBOX_HEADS] = "SELECT " SQ_OUTBOX_COLS " FROM outbox WHERE id IN (SELECT min(id)"
                        " FROM outbox WHERE notifier = ?1 AND state = 0 GROUP BY alert_key)"
                        " ORDER BY next_attempt_ms, id LIMIT ?2",
    /* Walks at most ?4 entries of outbox_pending after ?3 (alert_key read
     * from each row), stopping at the key's first row. */
    [SQ_OUTBOX_NEXT] = "SELECT " SQ_OUTBOX_COLS " FROM outbox WHERE id = (SELECT id FROM"
                       " (SELECT id, alert_key FROM outbox WHERE notifier = ?1 AND state = 0"
                       " AND id > ?3 ORDER BY id LIMIT ?4) WHERE alert_key = ?2 LIMIT 1)",
    [SQ_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE notifier = ?1 AND state = 0",
    /* Every notifier name in the outbox by a skip scan of outbox_pending
     * (one index seek per name, whatever the number of rows), then each
     * name's first pending row, if it has one. */
    [SQ_OUTBOX_NOTIFIERS] = "WITH RECURSIVE nf(name) AS (SELECT min(notifier) FROM outbox"
                            " UNION ALL SELECT (SELECT min(notifier) FROM outbox"
                            " WHERE notifier > nf.name) FROM nf WHERE nf.name IS NOT NULL)"
                            " SELECT " SQ_OUTBOX_COLS " FROM outbox WHERE id IN (SELECT"
                            " (SELECT min(id) FROM outbox WHERE notifier = nf.name AND state = 0)"
                            " FROM nf WHERE nf.name IS NOT NULL) ORDER BY notifier",
    [SQ_FACTS_ADD] = "INSERT INTO facts(check_id, ts_ms, json) VALUES(?1, ?2, ?3)",
    [SQ_FACTS_RANGE] = "SELECT ts_ms, json FROM facts WHERE check_id = ?1 AND ts_ms >= ?2"
                       " AND ts_ms < ?3 ORDER BY ts_ms, rowid",
    [SQ_PRUNE_FACTS] = "DELETE FROM facts WHERE rowid IN (SELECT rowid FROM facts"
                       " WHERE check_id = ?1 AND ts_ms < ?2 LIMIT ?3)",
};

int sq_fail(struct sq_store *s, struct ys_err *err, const char *what)
{
    int code = sqlite3_errcode(s->db);
    int rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? YS_EBUSY : YS_ESTORE;
    return ys_err_set(err, rc, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *sq_stmt(struct sq_store *s, enum sq_stmt which, struct ys_err *err)
{
    sqlite3_stmt *st = s->stmt[which];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(s->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        sq_fail(s, err, "prepare");
        return NULL;
    }
    s->stmt[which] = st;
    return st;
}

int sq_exec(struct sq_store *s, enum sq_stmt which, struct ys_err *err)
{
    sqlite3_stmt *st = sq_stmt(s, which, err);
    if (!st)
        return YS_ESTORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, err, stmt_sql[which]);
}

void sq_slot_free(struct sq_slot *slot)
{
    free(slot->enc);
    ys_sketch_free(slot->work);
    memset(slot, 0, sizeof *slot);
    slot->bucket_ms = -1;
}

static void check_free(struct sq_check *c)
{
    if (!c)
        return;
    ys_buf_free(&c->chunk.pending);
    sq_slot_free(&c->hour);
    sq_slot_free(&c->day);
    sq_slot_free(&c->min.cur);
    ys_buf_free(&c->min.done);
    free(c);
}

void sq_forget_caches(struct sq_store *s)
{
    for (uint32_t i = 0; i < s->ncheck; i++) {
        check_free(s->checks[i]);
        s->checks[i] = NULL;
    }
    s->ndirty = 0;
    for (size_t i = 0; i < s->text_cap; i++)
        free(s->text[i].s);
    free(s->text);
    s->text = NULL;
    s->text_cap = s->text_n = 0;
}

/* mkdir -p of path's folder. */
static int make_parent(const char *path, struct ys_err *err)
{
    char *dir = ys_xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (!slash || slash == dir)
        goto out;
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            rc = ys_err_set(err, YS_EIO, "cannot create %s: %s", dir, strerror(errno));
            goto out;
        }
        *p = c;
        if (c == '\0')
            break;
    }
out:
    free(dir);
    return rc;
}

static int read_version(struct sq_store *s, int *version, struct ys_err *err)
{
    sqlite3_stmt *st;
    *version = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return ys_err_set(err, YS_ESTORE, "sqlite: %s is not a yardstick database: %s",
                          sqlite3_db_filename(s->db, "main"), sqlite3_errmsg(s->db));
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int check_version(struct sq_store *s, struct ys_err *err)
{
    int version, rc = read_version(s, &version, err);
    if (rc < 0)
        return rc;
    if (version != SCHEMA_VERSION)
        return ys_err_set(err, YS_ESTORE, "sqlite: schema version %d, expected %d", version,
                          SCHEMA_VERSION);
    return 0;
}

/* Brings an older database to SCHEMA_VERSION, one step at a time, in one
 * transaction. The version is read again inside the write transaction, so
 * two processes opening at once migrate once. */
static int migrate(struct sq_store *s, struct ys_err *err)
{
    int version, rc;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(s, err, "starting the schema migration");
    if ((rc = read_version(s, &version, err)) < 0)
        goto fail;
    for (int v = version; v >= 1 && v < SCHEMA_VERSION; v++) {
        if (sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof what, "migrating the schema from version %d to %d", v, v + 1);
            rc = sq_fail(s, err, what);
            goto fail;
        }
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sq_fail(s, err, "committing the schema migration");
        goto fail;
    }
    return 0;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int setup(struct sq_store *s, struct ys_err *err)
{
    sqlite3_busy_timeout(s->db, 5000);
    if (s->read_only)
        return check_version(s, err);
    /* page_size only takes on a new file; it must precede the WAL switch. */
    if (sqlite3_exec(s->db,
                     "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL;"
                     " PRAGMA synchronous = NORMAL;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(s, err, "creating the schema");
    int rc = migrate(s, err);
    return rc < 0 ? rc : check_version(s, err);
}

static void sq_close(struct ys_store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    if (!s)
        return;
    sq_forget_caches(s);
    free(s->checks);
    free(s->dirty);
    for (int i = 0; i < SQ_STMT_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (!s->read_only)
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(s->db);
    free(s);
}

static int sq_open(const struct ys_store_options *opt, struct ys_store **out, struct ys_err *err)
{
    int rc;
    struct stat sb;
    if (!opt || !opt->path || !*opt->path)
        return ys_err_set(err, YS_EINVAL, "sqlite: no database path");
    if (opt->read_only && stat(opt->path, &sb) < 0)
        return ys_err_set(err, YS_ENOTFOUND, "sqlite: %s: %s", opt->path, strerror(errno));
    if (!opt->read_only && (rc = make_parent(opt->path, err)) < 0)
        return rc;
    struct sq_store *s = ys_xcalloc(1, sizeof *s);
    s->super.type = &ys_store_sqlite;
    s->read_only = opt->read_only;
    s->retention = opt->retention;
    int flags = SQLITE_OPEN_NOMUTEX |
                (opt->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(opt->path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = ys_err_set(err, YS_ESTORE, "sqlite: cannot open %s: %s", opt->path,
                        s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    if ((rc = setup(s, err)) < 0)
        goto fail;
    *out = &s->super;
    return 0;
fail:
    s->read_only = true; /* no checkpoint on a half-open handle */
    sq_close(&s->super);
    return rc;
}

static int sq_check_id(struct ys_store *st, const char *name, uint32_t *id, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_CHECK_GET, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        *id = (uint32_t)sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        return 0;
    }
    sqlite3_reset(q);
    if (step != SQLITE_DONE)
        return sq_fail(s, err, "reading checks");
    if (s->read_only)
        return ys_err_set(err, YS_ENOTFOUND, "no check named %s in the store", name);
    q = sq_stmt(s, SQ_CHECK_ADD, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    step = sqlite3_step(q);
    sqlite3_reset(q);
    if (step != SQLITE_DONE)
        return sq_fail(s, err, "adding a check");
    *id = (uint32_t)sqlite3_last_insert_rowid(s->db);
    return 0;
}

const struct ys_store_type ys_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .check_id = sq_check_id,
    .append = sq_append,
    .query_raw = sq_query_raw,
    .query_rollups = sq_query_rollups,
    .prune = sq_prune,
    .put_incident = sq_put_incident,
    .query_incidents = sq_query_incidents,
    .put_goal_record = sq_put_goal_record,
    .query_goal_records = sq_query_goal_records,
    .put_pings = sq_put_pings,
    .query_pings = sq_query_pings,
    .notify_commit = sq_notify_commit,
    .query_alerts = sq_query_alerts,
    .outbox_pending = sq_outbox_pending,
    .outbox_update = sq_outbox_update,
    .outbox_log = sq_outbox_log,
    .outbox_heads = sq_outbox_heads,
    .outbox_next = sq_outbox_next,
    .outbox_count_pending = sq_outbox_count_pending,
    .outbox_notifier_heads = sq_outbox_notifier_heads,
    .lease = sq_lease,
};
