/*
 * sqlite_lease.c - the lease (store.h `lease`) in SQLite: which daemon
 * sharing this database file delivers notifications (src/ha/lease.c).
 *
 * lease(name PRIMARY KEY, holder, expires_ms) holds one row per lease.
 * Taking and renewing are one upsert whose WHERE lets the row change only
 * when the caller already holds it or it has expired, so of two daemons
 * racing for a free lease exactly one changes the row (SQLite serialises
 * writers); sqlite3_changes() tells the caller whether it was that one.
 * The clock is this process's wall clock: every daemon sharing a SQLite
 * file runs on the same machine, so they read the same clock.
 *
 * The table is created on first use (CREATE TABLE IF NOT EXISTS, when a
 * statement finds it missing) rather than by a schema migration, so the
 * backend's versioned schema (sqlite.c) did not have to change for it.
 * Statements are prepared per call: one call every ttl/3 seconds does not
 * need the statement cache. Runs on the thread owning the connection (the
 * lease thread's own).
 */
#include "store/lease_int.h"
#include "store/sqlite_int.h"

#include "core/clock.h"

#include <string.h>

static const char *const create_sql =
    "CREATE TABLE IF NOT EXISTS lease(name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " expires_ms INTEGER NOT NULL)";
static const char *const take_sql =
    "INSERT INTO lease(name, holder, expires_ms) VALUES(?1, ?2, ?3 + ?4)"
    " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder,"
    " expires_ms = excluded.expires_ms"
    " WHERE lease.holder = excluded.holder OR lease.expires_ms < ?3";
static const char *const release_sql =
    "UPDATE lease SET expires_ms = 0 WHERE name = ?1 AND holder = ?2";

/* Prepares sql, creating the lease table first if it is missing. */
static int prepare(struct sq_store *s, const char *sql, sqlite3_stmt **q, struct ys_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (sqlite3_prepare_v2(s->db, sql, -1, q, NULL) == SQLITE_OK)
            return 0;
        if (attempt > 0 || !strstr(sqlite3_errmsg(s->db), "no such table"))
            break;
        if (sqlite3_exec(s->db, create_sql, NULL, NULL, NULL) != SQLITE_OK)
            return sq_fail(s, err, "creating the lease table");
    }
    return sq_fail(s, err, "preparing the lease statement");
}

int sq_lease(struct ys_store *st, const char *name, const char *holder, int64_t ttl_ms, bool *held,
             struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = NULL;
    *held = false;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    int rc = prepare(s, ttl_ms > 0 ? take_sql : release_sql, &q, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, holder, -1, SQLITE_STATIC);
    if (ttl_ms > 0) {
        sqlite3_bind_int64(q, 3, ys_wall_ms());
        sqlite3_bind_int64(q, 4, ttl_ms);
    }
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = sq_fail(s, err, ttl_ms > 0 ? "taking the lease" : "releasing the lease");
    else
        *held = ttl_ms > 0 && sqlite3_changes(s->db) == 1;
    sqlite3_finalize(q);
    return rc;
}
