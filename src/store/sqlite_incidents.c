/*
 * sqlite_incidents.c - incidents and manual goal records in SQLite.
 *
 * incident(check_id, start_ms, end_ms, first_error) is keyed by
 * (check_id, start_ms): an incident is written when it opens (end_ms 0)
 * and written again, by the same key, when it closes, so a put is an
 * upsert and a restart that resumes an open incident closes the same row.
 * goal_record(goal_id, ts_ms, value, note) is a plain history: every
 * `yardstick goal record` appends one row.
 *
 * Both are small (a few rows per check per day at most) and kept forever:
 * pruning never touches them, because incident statistics over a year and
 * a goal's trend need the whole history.
 *
 * Each put is its own statement (autocommit) unless the caller holds a
 * transaction. Runs on the thread that owns the connection.
 */
#include "store/sqlite_int.h"

#include <stdio.h>
#include <string.h>

int sq_put_incident(struct ys_store *st, const struct ys_incident *inc, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    sqlite3_stmt *q = sq_stmt(s, SQ_INCIDENT_PUT, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, inc->check_id);
    sqlite3_bind_int64(q, 2, inc->start_ms);
    sqlite3_bind_int64(q, 3, inc->end_ms);
    sqlite3_bind_text(q, 4, inc->first_error, (int)strnlen(inc->first_error,
                                                             sizeof inc->first_error),
                      SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "writing an incident");
}

int sq_query_incidents(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                       ys_store_incident_cb cb, void *arg, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, check_id ? SQ_INCIDENT_RANGE : SQ_INCIDENT_RANGE_ALL, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, check_id);
    sqlite3_bind_int64(q, 2, from_ms);
    sqlite3_bind_int64(q, 3, to_ms);
    int step;
    struct ys_incident inc;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&inc, 0, sizeof inc);
        inc.check_id = (uint32_t)sqlite3_column_int64(q, 0);
        inc.start_ms = sqlite3_column_int64(q, 1);
        inc.end_ms = sqlite3_column_int64(q, 2);
        const unsigned char *text = sqlite3_column_text(q, 3);
        snprintf(inc.first_error, sizeof inc.first_error, "%s", text ? (const char *)text : "");
        if (cb(&inc, arg)) {
            step = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "reading incidents");
}

int sq_put_goal_record(struct ys_store *st, const char *goal_id, const struct ys_goal_record *rec,
                       struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    sqlite3_stmt *q = sq_stmt(s, SQ_GOAL_PUT, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, goal_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, rec->ts_ms);
    sqlite3_bind_double(q, 3, rec->value);
    sqlite3_bind_text(q, 4, rec->note, (int)strnlen(rec->note, sizeof rec->note), SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "writing a goal record");
}

int sq_query_goal_records(struct ys_store *st, const char *goal_id, int64_t from_ms,
                          int64_t to_ms, ys_store_goal_record_cb cb, void *arg,
                          struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_GOAL_RANGE, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, goal_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, from_ms);
    sqlite3_bind_int64(q, 3, to_ms);
    int step;
    struct ys_goal_record rec;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&rec, 0, sizeof rec);
        rec.ts_ms = sqlite3_column_int64(q, 0);
        rec.value = sqlite3_column_double(q, 1);
        const unsigned char *text = sqlite3_column_text(q, 2);
        snprintf(rec.note, sizeof rec.note, "%s", text ? (const char *)text : "");
        if (cb(&rec, arg)) {
            step = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "reading goal records");
}
