/*
 * migrate.c - copies a SQLite store (schema version 4) into a PostgreSQL
 * one (schema version 1: the same tables in PostgreSQL types), for
 * `yardstick migrate`. It knows both schemas, so it lives in src/store/
 * beside the two backends and uses the PostgreSQL backend's connection
 * and multi-row helpers (pg_int.h).
 *
 * Data: `tables` lists, per SQLite table, the columns to read, the key
 * that orders the copy (the primary key, or the rowid of rowid tables),
 * and the PostgreSQL table and column types to write. Ids are kept, rowids
 * become the BIGSERIAL ids (so "ts_ms, then arrival" orders survive), and
 * every serial sequence is moved past the largest id copied (the outbox's
 * past SQLite's AUTOINCREMENT high-water mark, so no id is reused).
 *
 * Resuming: the destination's `yardstick_migrate` table holds, per source
 * table, the key of the last row copied and how many rows were copied.
 * Each batch is one PostgreSQL transaction that inserts the rows and moves
 * that cursor, so a run killed at any point leaves either the whole batch
 * and its cursor or neither; the next run reads from the cursor on. The
 * inserts have no ON CONFLICT: a duplicate would be a bug, and fails.
 *
 * Invariants and limits: a run reads the source in one read transaction
 * (one snapshot, so chunks never name a text id the copy lacks). The
 * source may be a live daemon's store (a read-only connection, WAL); rows
 * added after the snapshot are copied by the next run, since each run
 * continues from the cursors, but a row changed after it was copied (the
 * open chunk, a rollup bucket being filled, an alert, an outbox row's
 * state) keeps the copied version: for an exact copy, stop the daemon and
 * run once more. The `lease` table is not copied: it is runtime state.
 * A destination with rows that no migration of this source wrote, or a
 * migration already running into it (a session advisory lock), is refused.
 *
 * Runs on the calling thread (the CLI's); it owns both connections.
 */
#include "store/migrate.h"

#include "store/pg_int.h"

#include "core/clock.h"
#include "core/xalloc.h"

#include <endian.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH 500
#define MAX_KEYS 3
#define MAX_COLS 10

struct table {
    const char *src;   /* SQLite table */
    const char *cols;  /* SQLite columns read, keys first */
    const char *key;   /* the ordering key, as SQL */
    int nkey;          /* leading columns of cols that make the key */
    bool text_key;     /* the key is one text column (alert) */
    const char *dst;   /* PostgreSQL table */
    const char *dcols; /* its columns, in the order of cols */
    const char *types[MAX_COLS];
    int ncols;
    bool serial; /* dst.id is a BIGSERIAL to move past the copied ids */
};

/* checks and texts first: every other table names their ids. */
// clang-format off
static const struct table tables[] = {
    {"checks", "id, name", "id", 1, false, "checks", "id, name", {"bigint", "text"}, 2, true},
    {"text", "id, s", "id", 1, false, "texts", "id, s", {"bigint", "text"}, 2, true},
    {"chunk", "id, check_id, start_ms, end_ms, n, data", "id", 1, false, "chunk",
     "id, check_id, start_ms, end_ms, n, data",
     {"bigint", "bigint", "bigint", "bigint", "bigint", "bytea"}, 6, true},
    {"rollup", "check_id, res, bucket_ms, total, ok, sum_us, sketch", "check_id, res, bucket_ms",
     3, false, "rollup", "check_id, res, bucket_ms, total, ok, sum_us, sketch",
     {"bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bytea"}, 7, false},
    {"rollup_minute", "check_id, hour_ms, data", "check_id, hour_ms", 2, false, "rollup_minute",
     "check_id, hour_ms, data", {"bigint", "bigint", "bytea"}, 3, false},
    {"incident", "check_id, start_ms, end_ms, first_error", "check_id, start_ms", 2, false,
     "incident", "check_id, start_ms, end_ms, first_error", {"bigint", "bigint", "bigint", "text"},
     4, false},
    {"goal_record", "rowid, goal_id, ts_ms, value, note", "rowid", 1, false, "goal_record",
     "id, goal_id, ts_ms, value, note", {"bigint", "text", "bigint", "double precision", "text"},
     5, true},
    {"ping", "rowid, check_id, ts_ms, kind, exit_code, run_id, duration_ms, body", "rowid", 1,
     false, "ping", "id, check_id, ts_ms, kind, exit_code, run_id, duration_ms, body",
     {"bigint", "bigint", "bigint", "bigint", "bigint", "text", "bigint", "bytea"}, 8, true},
    {"alert", "key, firing, firing_ms, resolved_ms, last_notified_ms, doc", "key", 1, true,
     "alert", "key, firing, firing_ms, resolved_ms, last_notified_ms, doc",
     {"text", "bigint", "bigint", "bigint", "bigint", "text"}, 6, false},
    {"outbox",
     "id, notifier, alert_key, created_ms, next_attempt_ms, attempts, state, done_ms,"
     " last_error, payload",
     "id", 1, false, "outbox",
     "id, notifier, alert_key, created_ms, next_attempt_ms, attempts, state, done_ms,"
     " last_error, payload",
     {"bigint", "text", "text", "bigint", "bigint", "bigint", "bigint", "bigint", "text", "text"},
     10, true},
    {"facts", "rowid, check_id, ts_ms, json", "rowid", 1, false, "facts",
     "id, check_id, ts_ms, json", {"bigint", "bigint", "bigint", "text"}, 4, true},
};
// clang-format on
#define NTABLES ((int)(sizeof tables / sizeof tables[0]))

/* How far a table's copy got (a row of yardstick_migrate). */
struct cursor {
    bool set;
    int64_t k[MAX_KEYS];
    char *ktext;
    uint64_t copied;
};

struct run {
    const struct ys_migrate_options *opt;
    sqlite3 *db;
    struct pg_store *pg;
    char source[PATH_MAX];
    struct cursor cur[NTABLES];
    size_t batch;
};

static const char *const create_sql =
    "CREATE TABLE IF NOT EXISTS yardstick_migrate(tbl TEXT COLLATE \"C\" PRIMARY KEY,"
    " source TEXT NOT NULL, k1 BIGINT, k2 BIGINT, k3 BIGINT, ktext TEXT,"
    " copied BIGINT NOT NULL)";

/* ---- the source ----------------------------------------------------------- */

static int sq_fail(struct run *r, const char *what, struct ys_err *err)
{
    return ys_err_set(err, YS_ESTORE, "sqlite %s: %s: %s", r->opt->sqlite_path, what,
                      sqlite3_errmsg(r->db));
}

/* Opens the source read-only and checks its schema version: only the
 * current one is understood (an older file is upgraded by opening it
 * once with `yardstick run` or `history`). */
static int open_source(struct run *r, struct ys_err *err)
{
    const char *path = r->opt->sqlite_path;
    if (!realpath(path, r->source))
        return ys_err_set(err, YS_ENOTFOUND, "sqlite %s: no such database", path);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return sq_fail(r, "cannot open", err);
    sqlite3_busy_timeout(r->db, 5000);
    sqlite3_stmt *st = NULL;
    int version = -1, rc = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return sq_fail(r, "not a yardstick store", err);
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version != 4)
        rc = ys_err_set(err, YS_ESTORE,
                        "sqlite %s: schema version %d, this yardstick migrates version 4 (open "
                        "it once with this yardstick to upgrade it)",
                        path, version);
    /* One snapshot for the whole run: BEGIN is deferred, the first read
     * takes it. */
    if (rc == 0 && sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        rc = sq_fail(r, "BEGIN", err);
    return rc;
}

static int sq_int64(struct run *r, const char *sql, int64_t *out, struct ys_err *err)
{
    sqlite3_stmt *st = NULL;
    *out = 0;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(r, sql, err);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : sq_fail(r, sql, err);
}

/* ---- the destination ------------------------------------------------------ */

/* Runs sql with text parameters (NULL is SQL NULL) and text results. */
static PGresult *pg_text_exec(struct run *r, const char *sql, int n, const char *const *vals,
                              const char *what, struct ys_err *err)
{
    PGresult *res = PQexecParams(r->pg->conn, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    pg_fail(r->pg, res, what, err);
    PQclear(res);
    return NULL;
}

static int64_t text_i64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int read_cursors(struct run *r, bool *any, struct ys_err *err)
{
    PGresult *res = pg_text_exec(r,
                                 "SELECT tbl, source, k1, k2, k3, ktext, copied"
                                 " FROM yardstick_migrate",
                                 0, NULL, "reading yardstick_migrate", err);
    if (!res)
        return YS_ESTORE;
    int rc = 0;
    *any = PQntuples(res) > 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        if (strcmp(PQgetvalue(res, i, 1), r->source) != 0) {
            rc = ys_err_set(err, YS_EBUSY,
                            "postgres %s holds a migration of %s, not of %s: migrate into an "
                            "empty database or schema",
                            r->pg->label, PQgetvalue(res, i, 1), r->source);
            break;
        }
        for (int t = 0; t < NTABLES; t++) {
            if (strcmp(PQgetvalue(res, i, 0), tables[t].src) != 0)
                continue;
            struct cursor *c = &r->cur[t];
            c->set = true;
            for (int k = 0; k < MAX_KEYS; k++)
                c->k[k] = text_i64(res, i, 2 + k);
            if (!PQgetisnull(res, i, 5))
                c->ktext = ys_xstrdup(PQgetvalue(res, i, 5));
            c->copied = (uint64_t)text_i64(res, i, 6);
        }
    }
    PQclear(res);
    return rc;
}

/* A destination that no migration has written to must be empty: its rows
 * would mix with the copy's (and their ids collide). */
static int check_empty(struct run *r, struct ys_err *err)
{
    for (int t = 0; t < NTABLES; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 1", tables[t].dst);
        PGresult *res = pg_text_exec(r, sql, 0, NULL, "looking at the destination", err);
        if (!res)
            return YS_ESTORE;
        int n = PQntuples(res);
        PQclear(res);
        if (n > 0)
            return ys_err_set(err, YS_EBUSY,
                              "postgres %s already holds data (table %s) that no migration of "
                              "%s wrote: migrate into an empty database or schema",
                              r->pg->label, tables[t].dst, r->source);
    }
    return 0;
}

/* Creates yardstick_migrate, takes the session lock that keeps a second
 * migration out, reads the cursors and checks whose they are. */
static int prepare_destination(struct run *r, struct ys_err *err)
{
    int rc;
    if ((rc = pg_cmd(r->pg, create_sql, err)) < 0)
        return rc;
    PGresult *res = pg_text_exec(r,
                                 "SELECT pg_try_advisory_lock(hashtext(current_schema()"
                                 " || '.yardstick_migrate'))",
                                 0, NULL, "locking yardstick_migrate", err);
    if (!res)
        return YS_ESTORE;
    bool locked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!locked)
        return ys_err_set(err, YS_EBUSY, "postgres %s: another migration is running into it",
                          r->pg->label);
    bool any;
    if ((rc = read_cursors(r, &any, err)) < 0)
        return rc;
    return any ? 0 : check_empty(r, err);
}

/* Moves the cursor of table t to c, in the batch's transaction. */
static int save_cursor(struct run *r, int t, const struct cursor *c, struct ys_err *err)
{
    char k[MAX_KEYS][24], copied[24];
    const char *vals[8] = {tables[t].src, r->source, NULL, NULL, NULL, c->ktext, copied};
    for (int i = 0; i < tables[t].nkey && !tables[t].text_key; i++) {
        snprintf(k[i], sizeof k[i], "%" PRId64, c->k[i]);
        vals[2 + i] = k[i];
    }
    snprintf(copied, sizeof copied, "%" PRIu64, c->copied);
    PGresult *res = pg_text_exec(
        r,
        "INSERT INTO yardstick_migrate(tbl, source, k1, k2, k3, ktext, copied)"
        " VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tbl) DO UPDATE SET k1 = excluded.k1,"
        " k2 = excluded.k2, k3 = excluded.k3, ktext = excluded.ktext, copied = excluded.copied",
        7, vals, "saving the migration's progress", err);
    if (!res)
        return YS_ESTORE;
    PQclear(res);
    return 0;
}

/* ---- copying -------------------------------------------------------------- */

static int prepare_select(struct run *r, int t, sqlite3_stmt **st, struct ys_err *err)
{
    const struct table *tb = &tables[t];
    const struct cursor *c = &r->cur[t];
    char sql[512], where[128] = "";
    if (c->set && tb->text_key)
        snprintf(where, sizeof where, " WHERE %s > ?2", tb->key);
    else if (c->set)
        snprintf(where, sizeof where, " WHERE (%s) > (%s)", tb->key,
                 tb->nkey == 1   ? "?2"
                 : tb->nkey == 2 ? "?2, ?3"
                                 : "?2, ?3, ?4");
    snprintf(sql, sizeof sql, "SELECT %s FROM %s%s ORDER BY %s LIMIT ?1", tb->cols, tb->src, where,
             tb->key);
    if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
        return sq_fail(r, "reading", err);
    return 0;
}

static void bind_cursor(sqlite3_stmt *st, const struct table *tb, const struct cursor *c,
                        size_t batch)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)batch);
    if (!c->set)
        return;
    if (tb->text_key)
        sqlite3_bind_text(st, 2, c->ktext ? c->ktext : "", -1, SQLITE_TRANSIENT);
    else
        for (int k = 0; k < tb->nkey; k++)
            sqlite3_bind_int64(st, 2 + k, c->k[k]);
}

/* Adds the current row of st to rows, in the destination's types. */
static void add_row(struct pg_rows *rows, sqlite3_stmt *st, const struct table *tb)
{
    for (int col = 0; col < tb->ncols; col++) {
        const char *type = tb->types[col];
        if (sqlite3_column_type(st, col) == SQLITE_NULL) {
            pg_rows_null(rows);
        } else if (strcmp(type, "bigint") == 0) {
            pg_rows_i64(rows, sqlite3_column_int64(st, col));
        } else if (strcmp(type, "double precision") == 0) {
            double d = sqlite3_column_double(st, col);
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            bits = htobe64(bits); /* float8's binary format: IEEE 754, network order */
            pg_rows_bytes(rows, &bits, sizeof bits);
        } else {
            const void *p = sqlite3_column_blob(st, col);
            pg_rows_bytes(rows, p, (size_t)sqlite3_column_bytes(st, col));
        }
    }
}

static void remember_key(struct cursor *c, sqlite3_stmt *st, const struct table *tb)
{
    c->set = true;
    if (tb->text_key) {
        free(c->ktext);
        c->ktext = ys_xstrdup((const char *)sqlite3_column_text(st, 0));
        return;
    }
    for (int k = 0; k < tb->nkey; k++)
        c->k[k] = sqlite3_column_int64(st, k);
}

static void report(struct run *r, int t, uint64_t total, uint64_t this_run, int64_t start_us,
                   bool finished)
{
    if (!r->opt->progress)
        return;
    struct ys_migrate_progress p = {.table = tables[t].src,
                                    .index = t,
                                    .count = NTABLES,
                                    .copied = r->cur[t].copied,
                                    .total = total,
                                    .this_run = this_run,
                                    .elapsed_s = (double)(ys_mono_us() - start_us) / 1e6,
                                    .finished = finished};
    r->opt->progress(&p, r->opt->arg);
}

/* Sends one batch and moves the cursor, in one transaction. */
static int commit_batch(struct run *r, int t, struct pg_rows *rows, const struct cursor *next,
                        struct ys_err *err)
{
    char what[64];
    snprintf(what, sizeof what, "copying %s", tables[t].src);
    int rc;
    if ((rc = pg_begin(r->pg, err)) < 0)
        return rc;
    if ((rc = pg_rows_flush(r->pg, rows, what, NULL, err)) < 0 ||
        (rc = save_cursor(r, t, next, err)) < 0 || (rc = pg_commit(r->pg, err)) < 0) {
        pg_rollback(r->pg);
        return rc;
    }
    return 0;
}

static int copy_table(struct run *r, int t, struct ys_err *err)
{
    const struct table *tb = &tables[t];
    struct cursor *c = &r->cur[t];
    char sql[128];
    int64_t total, start = ys_mono_us();
    uint64_t this_run = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tb->src);
    int rc = sq_int64(r, sql, &total, err);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    if ((rc = prepare_select(r, t, &st, err)) < 0)
        return rc;
    bool st_has_cursor = c->set;
    /* The cursor moves only once its batch committed: a failed batch
     * leaves c as the destination has it. */
    struct cursor next = {0};
    struct pg_rows rows;
    pg_rows_init(&rows, NULL, "", tb->types, tb->ncols);
    char head[512];
    snprintf(head, sizeof head, "INSERT INTO %s(%s) VALUES ", tb->dst, tb->dcols);
    rows.head = head;
    report(r, t, (uint64_t)total, 0, start, false);
    for (;;) {
        bool was_set = c->set;
        /* The first statement of a table never copied has no WHERE. */
        if (was_set && !st_has_cursor) {
            sqlite3_finalize(st);
            if ((rc = prepare_select(r, t, &st, err)) < 0)
                break;
            st_has_cursor = true;
        }
        bind_cursor(st, tb, c, r->batch);
        next = *c;
        next.ktext = c->ktext ? ys_xstrdup(c->ktext) : NULL;
        size_t n = 0;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            add_row(&rows, st, tb);
            remember_key(&next, st, tb);
            n++;
        }
        if (step != SQLITE_DONE) {
            rc = sq_fail(r, "reading", err);
        } else if (n > 0 || !was_set) {
            /* An empty table gets its row too, so "no cursor" only ever
             * means "never looked". */
            next.copied += n;
            rc = commit_batch(r, t, &rows, &next, err);
        }
        if (rc == 0) {
            free(c->ktext);
            *c = next;
            next.ktext = NULL;
            this_run += n;
        }
        free(next.ktext);
        if (rc < 0 || n < r->batch)
            break;
        report(r, t, (uint64_t)total, this_run, start, false);
    }
    sqlite3_finalize(st);
    pg_rows_free(&rows);
    if (rc == 0)
        report(r, t, (uint64_t)total, this_run, start, true);
    return rc;
}

/* Moves each serial sequence past the largest id now in its table (and
 * the outbox's past SQLite's AUTOINCREMENT mark), so the daemon's next
 * insert takes a fresh id. Idempotent. */
static int fix_sequences(struct run *r, struct ys_err *err)
{
    int64_t outbox_seq = 0;
    int rc = sq_int64(r, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'", &outbox_seq, err);
    if (rc < 0)
        return rc;
    for (int t = 0; t < NTABLES && rc == 0; t++) {
        if (!tables[t].serial)
            continue;
        char sql[320];
        int64_t floor = strcmp(tables[t].dst, "outbox") == 0 ? outbox_seq : 0;
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s', 'id'),"
                 " GREATEST((SELECT COALESCE(max(id), 0) FROM %s), %" PRId64 ") + 1, false)",
                 tables[t].dst, tables[t].dst, floor);
        PGresult *res = pg_text_exec(r, sql, 0, NULL, "moving the id sequences", err);
        if (!res)
            rc = YS_ESTORE;
        PQclear(res);
    }
    return rc;
}

int ys_migrate(const struct ys_migrate_options *opt, struct ys_err *err)
{
    struct run r = {.opt = opt, .batch = opt->batch ? opt->batch : DEFAULT_BATCH};
    struct ys_store *dst = NULL;
    int rc = open_source(&r, err);
    if (rc < 0)
        goto out;
    const struct ys_store_options dopt = {.path = opt->pg_dsn};
    if ((rc = ys_store_open("postgres", &dopt, &dst, err)) < 0)
        goto out;
    r.pg = (struct pg_store *)dst;
    if ((rc = prepare_destination(&r, err)) < 0)
        goto out;
    for (int t = 0; t < NTABLES && rc == 0; t++)
        rc = copy_table(&r, t, err);
    if (rc == 0)
        rc = fix_sequences(&r, err);
out:
    for (int t = 0; t < NTABLES; t++)
        free(r.cur[t].ktext);
    ys_store_close(dst); /* ends the session, and with it the advisory lock */
    if (r.db) {
        sqlite3_exec(r.db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(r.db);
    }
    return rc;
}
