/*
 * pg_lease.c - the lease (store.h `lease`) in PostgreSQL: which of the
 * daemons sharing this database delivers notifications (src/ha/lease.c).
 *
 * lease(name PRIMARY KEY, holder, expires_ms) holds one row per lease.
 * Taking and renewing are one INSERT ... ON CONFLICT DO UPDATE whose WHERE
 * lets the row change only when the caller holds it already or it has
 * expired. PostgreSQL locks the conflicting row and evaluates the WHERE on
 * its newest version, so of several daemons racing for an expired lease
 * exactly one updates it; RETURNING tells the caller whether it did.
 *
 * Both "now" and the expiry come from the database's clock (now(), the
 * statement's transaction start), never from the daemons': machines whose
 * clocks disagree still agree on when a lease ran out, so skew cannot make
 * two holders.
 *
 * The table is created on first use (when the statement finds it
 * missing), under a transaction-level advisory lock so two daemons
 * starting together do not race on CREATE TABLE; not as a schema
 * migration, because pg.c's versioned schema was being changed when this
 * was written. Statements are sent with PQexecParams (text parameters):
 * one call every ttl/3 seconds does not need pg.c's prepared-statement
 * table. Runs on the thread owning the connection (the lease thread's).
 */
#include "store/lease_int.h"
#include "store/pg_int.h"

#include <stdio.h>
#include <string.h>

#define NOW_MS "(extract(epoch FROM now()) * 1000)::bigint"

static const char *const take_sql =
    "INSERT INTO lease(name, holder, expires_ms) VALUES($1, $2, " NOW_MS " + $3::bigint)"
    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
    " expires_ms = excluded.expires_ms"
    " WHERE lease.holder = excluded.holder OR lease.expires_ms < " NOW_MS " RETURNING holder";
static const char *const release_sql =
    "UPDATE lease SET expires_ms = 0 WHERE name = $1 AND holder = $2";

static int create_table(struct pg_store *s, struct ys_err *err)
{
    int rc = pg_begin(s, err);
    if (rc == 0 &&
        (rc = pg_cmd(s, "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.lease'))",
                     err)) == 0 &&
        (rc = pg_cmd(s,
                     "CREATE TABLE IF NOT EXISTS lease(name TEXT COLLATE \"C\" PRIMARY KEY,"
                     " holder TEXT NOT NULL, expires_ms BIGINT NOT NULL)",
                     err)) == 0 &&
        (rc = pg_commit(s, err)) == 0)
        return 0;
    pg_rollback(s);
    return rc;
}

/* After a lost connection: reconnects once (as pg.c does for its own
 * statements), so a database restart costs one renewal, not the lease. */
static int connected(struct pg_store *s, struct ys_err *err)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return 0;
    PQreset(s->conn);
    memset(s->prepared, 0, sizeof s->prepared);
    pg_forget_caches(s);
    return PQstatus(s->conn) == CONNECTION_OK ? 0 : pg_fail(s, NULL, "reconnecting", err);
}

int pg_lease(struct ys_store *st, const char *name, const char *holder, int64_t ttl_ms, bool *held,
             struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    const char *values[3] = {name, holder, ttl};
    *held = false;
    if (s->read_only)
        return pg_read_only_error(s, err);
    int rc = connected(s, err);
    for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
        PGresult *res = PQexecParams(s->conn, ttl_ms > 0 ? take_sql : release_sql,
                                     ttl_ms > 0 ? 3 : 2, NULL, values, NULL, NULL, 0);
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            *held = ttl_ms > 0 && PQntuples(res) == 1;
            PQclear(res);
            return 0;
        }
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool missing = state && strcmp(state, "42P01") == 0; /* undefined_table */
        if (!missing || attempt > 0)
            rc = pg_fail(s, res, ttl_ms > 0 ? "taking the lease" : "releasing the lease", err);
        PQclear(res);
        if (rc == 0)
            rc = create_table(s, err);
    }
    return rc;
}
