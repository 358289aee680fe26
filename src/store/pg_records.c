/*
 * pg_records.c - incidents, manual goal records and heartbeat pings in
 * PostgreSQL, with the semantics of sqlite_incidents.c and sqlite_pings.c
 * (read those comments for the why).
 *
 * incident is keyed by (check_id, start_ms): a put is an upsert, so the
 * row written when an incident opens is the one closed later. goal_record
 * and ping are plain histories; what SQLite orders by rowid (several rows
 * in one millisecond, in arrival order) is ordered by the BIGSERIAL id
 * here. Ping bodies are any bytes (BYTEA). "The newest max pings, oldest
 * first" is, as in SQLite, an index-only query for where they start
 * (ping_check ends with id) and then a forward read of the range, so the
 * bodies are never sorted.
 *
 * Incidents and goal records are kept forever; pings expire with raw
 * retention (pg_prune.c). Runs on the thread that owns the connection;
 * the reads work on read-only connections.
 */
#include "store/pg_int.h"

#include <stdio.h>
#include <string.h>

/* Runs a write that returns no rows. */
static int run_write(struct pg_store *s, enum pg_stmt which, struct pg_params *p,
                     const char *what, struct ys_err *err)
{
    PGresult *res = pg_run(s, which, p, what, err);
    pg_params_free(p);
    if (!res)
        return YS_ESTORE;
    PQclear(res);
    return 0;
}

int pg_put_incident(struct ys_store *st, const struct ys_incident *inc, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    if (s->read_only)
        return pg_read_only_error(s, err);
    struct pg_params p = {0};
    pg_p_i64(&p, inc->check_id);
    pg_p_i64(&p, inc->start_ms);
    pg_p_i64(&p, inc->end_ms);
    pg_p_text(&p, inc->first_error, strnlen(inc->first_error, sizeof inc->first_error));
    return run_write(s, PG_INCIDENT_PUT, &p, "writing an incident", err);
}

int pg_query_incidents(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                       ys_store_incident_cb cb, void *arg, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct pg_params p = {0};
    if (check_id)
        pg_p_i64(&p, check_id);
    pg_p_i64(&p, from_ms);
    pg_p_i64(&p, to_ms);
    PGresult *q = pg_run(s, check_id ? PG_INCIDENT_RANGE : PG_INCIDENT_RANGE_ALL, &p,
                         "reading incidents", err);
    if (!q)
        return YS_ESTORE;
    struct ys_incident inc;
    for (int i = 0; i < PQntuples(q); i++) {
        memset(&inc, 0, sizeof inc);
        inc.check_id = (uint32_t)pg_i64(q, i, 0);
        inc.start_ms = pg_i64(q, i, 1);
        inc.end_ms = pg_i64(q, i, 2);
        pg_text(q, i, 3, inc.first_error, sizeof inc.first_error);
        if (cb(&inc, arg))
            break;
    }
    PQclear(q);
    return 0;
}

int pg_put_goal_record(struct ys_store *st, const char *goal_id, const struct ys_goal_record *rec,
                       struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    if (s->read_only)
        return pg_read_only_error(s, err);
    struct pg_params p = {0};
    pg_p_text(&p, goal_id, strlen(goal_id));
    pg_p_i64(&p, rec->ts_ms);
    pg_p_f64(&p, rec->value);
    pg_p_text(&p, rec->note, strnlen(rec->note, sizeof rec->note));
    return run_write(s, PG_GOAL_PUT, &p, "writing a goal record", err);
}

int pg_query_goal_records(struct ys_store *st, const char *goal_id, int64_t from_ms, int64_t to_ms,
                          ys_store_goal_record_cb cb, void *arg, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct pg_params p = {0};
    pg_p_text(&p, goal_id, strlen(goal_id));
    pg_p_i64(&p, from_ms);
    pg_p_i64(&p, to_ms);
    PGresult *q = pg_run(s, PG_GOAL_RANGE, &p, "reading goal records", err);
    pg_params_free(&p);
    if (!q)
        return YS_ESTORE;
    struct ys_goal_record rec;
    for (int i = 0; i < PQntuples(q); i++) {
        memset(&rec, 0, sizeof rec);
        rec.ts_ms = pg_i64(q, i, 0);
        rec.value = pg_f64(q, i, 1);
        pg_text(q, i, 2, rec.note, sizeof rec.note);
        if (cb(&rec, arg))
            break;
    }
    PQclear(q);
    return 0;
}

int pg_put_pings(struct ys_store *st, const struct ys_ping_record *recs, size_t n,
                 struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    int rc = 0;
    if (s->read_only)
        return pg_read_only_error(s, err);
    if (n == 0)
        return 0;
    if ((rc = pg_begin(s, err)) < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct ys_ping *pi = &recs[i].ping;
        struct pg_params p = {0};
        pg_p_i64(&p, pi->check_id);
        pg_p_i64(&p, pi->ts_ms);
        pg_p_i64(&p, pi->kind);
        pg_p_i64(&p, pi->exit_code);
        pg_p_text(&p, pi->run_id, strnlen(pi->run_id, sizeof pi->run_id));
        pg_p_i64(&p, recs[i].duration_ms);
        if (recs[i].body)
            pg_p_bytes(&p, recs[i].body, recs[i].body_len);
        else
            pg_p_null(&p);
        rc = run_write(s, PG_PING_PUT, &p, "writing a ping", err);
    }
    if (rc == 0)
        rc = pg_commit(s, err);
    if (rc < 0)
        pg_rollback(s);
    return rc;
}

/* Finds where the newest max pings in range start (see the file comment);
 * leaves *from_ms and *id alone when the range holds max or fewer. */
static int find_edge(struct pg_store *s, uint32_t check_id, int64_t *from_ms, int64_t to_ms,
                     size_t max, int64_t *id, struct ys_err *err)
{
    if (max > (size_t)INT64_MAX)
        return 0;
    struct pg_params p = {0};
    pg_p_i64(&p, check_id);
    pg_p_i64(&p, *from_ms);
    pg_p_i64(&p, to_ms);
    pg_p_i64(&p, (int64_t)max - 1);
    PGresult *q = pg_run(s, PG_PING_EDGE, &p, "reading pings", err);
    if (!q)
        return YS_ESTORE;
    if (PQntuples(q) == 1) {
        *from_ms = pg_i64(q, 0, 0);
        *id = pg_i64(q, 0, 1);
    }
    PQclear(q);
    return 0;
}

int pg_query_pings(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                   size_t max, ys_store_ping_cb cb, void *arg, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    int64_t start = from_ms, id = 0;
    int rc;
    if (from_ms >= to_ms)
        return 0;
    if (max > 0 && (rc = find_edge(s, check_id, &start, to_ms, max, &id, err)) < 0)
        return rc;
    struct pg_params p = {0};
    pg_p_i64(&p, check_id);
    pg_p_i64(&p, start);
    pg_p_i64(&p, to_ms);
    pg_p_i64(&p, id);
    PGresult *q = pg_run(s, PG_PING_RANGE, &p, "reading pings", err);
    if (!q)
        return YS_ESTORE;
    struct ys_ping_record rec;
    for (int i = 0; i < PQntuples(q); i++) {
        memset(&rec, 0, sizeof rec);
        rec.ping.check_id = check_id;
        rec.ping.ts_ms = pg_i64(q, i, 0);
        rec.ping.kind = (uint8_t)pg_i64(q, i, 1);
        rec.ping.exit_code = (int16_t)pg_i64(q, i, 2);
        pg_text(q, i, 3, rec.ping.run_id, sizeof rec.ping.run_id);
        rec.duration_ms = pg_i64(q, i, 4);
        /* A NULL or empty body both read back as NULL, length 0. */
        if (!PQgetisnull(q, i, 5) && PQgetlength(q, i, 5) > 0) {
            rec.body = PQgetvalue(q, i, 5);
            rec.body_len = (size_t)PQgetlength(q, i, 5);
        }
        if (cb(&rec, arg))
            break;
    }
    PQclear(q);
    return 0;
}
