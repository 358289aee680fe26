/*
 * sqlite_outbox.c - alert records and the notification outbox in SQLite.
 *
 * alert(key, firing, firing_ms, resolved_ms, last_notified_ms, doc) holds
 * one row per alert identity, replaced whole on every write. outbox(id,
 * notifier, alert_key, created_ms, next_attempt_ms, attempts, state,
 * done_ms, last_error, payload) is the queue of notifications: a row is
 * appended pending, and the notifier thread rewrites its delivery fields
 * until it is delivered or given up.
 *
 * Invariant: an alert's state never runs ahead of its notifications.
 * notify_commit writes both in one BEGIN IMMEDIATE transaction, so after
 * a crash either the alert changed and its notifications are queued, or
 * neither happened. Outbox ids come from AUTOINCREMENT: increasing across
 * commits and never reused after pruning, so they order delivery and name
 * a log row for good.
 *
 * The delivery thread reads what may go next by alert key (outbox_heads:
 * each key's first pending row; outbox_next: one key's next row) and
 * counts a notifier's pending rows, all through the outbox_pending index,
 * so none is capped by or costs the size of the log;
 * outbox_notifier_heads finds the notifiers that have pending rows,
 * configured or not, for the same reason.
 *
 * Pruning (sqlite_prune.c) removes delivered and given-up rows and
 * resolved alerts older than raw retention; pending rows and firing alerts
 * stay. Runs on the thread that owns the connection; the reads (alerts,
 * the log) also work on read-only connections.
 */
#include "store/sqlite_int.h"

#include <stdio.h>
#include <string.h>

static int put_alert(struct sq_store *s, const struct ys_alert_record *a, struct ys_err *err)
{
    sqlite3_stmt *q = sq_stmt(s, SQ_ALERT_PUT, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, a->key, (int)strnlen(a->key, sizeof a->key), SQLITE_STATIC);
    sqlite3_bind_int(q, 2, a->firing ? 1 : 0);
    sqlite3_bind_int64(q, 3, a->firing_ms);
    sqlite3_bind_int64(q, 4, a->resolved_ms);
    sqlite3_bind_int64(q, 5, a->last_notified_ms);
    if (a->doc)
        sqlite3_bind_text(q, 6, a->doc, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q); /* drop the borrowed pointers */
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "writing an alert");
}

static int add_row(struct sq_store *s, struct ys_outbox_row *row, struct ys_err *err)
{
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_ADD, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, row->notifier, (int)strnlen(row->notifier, sizeof row->notifier),
                      SQLITE_STATIC);
    sqlite3_bind_text(q, 2, row->alert_key, (int)strnlen(row->alert_key, sizeof row->alert_key),
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, row->created_ms);
    sqlite3_bind_int64(q, 4, row->next_attempt_ms);
    sqlite3_bind_int(q, 5, row->attempts);
    sqlite3_bind_int(q, 6, row->state);
    sqlite3_bind_int64(q, 7, row->done_ms);
    sqlite3_bind_text(q, 8, row->last_error, (int)strnlen(row->last_error, sizeof row->last_error),
                      SQLITE_STATIC);
    if (row->payload)
        sqlite3_bind_text(q, 9, row->payload, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (step != SQLITE_DONE)
        return sq_fail(s, err, "queueing a notification");
    row->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int sq_notify_commit(struct ys_store *st, const struct ys_alert_record *alerts, size_t n_alerts,
                     struct ys_outbox_row *rows, size_t n_rows, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    int rc;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    if (n_alerts == 0 && n_rows == 0)
        return 0;
    if ((rc = sq_exec(s, SQ_BEGIN, err)) < 0)
        return rc;
    for (size_t i = 0; i < n_alerts; i++)
        if ((rc = put_alert(s, &alerts[i], err)) < 0)
            goto fail;
    for (size_t i = 0; i < n_rows; i++)
        if ((rc = add_row(s, &rows[i], err)) < 0)
            goto fail;
    if ((rc = sq_exec(s, SQ_COMMIT, err)) < 0)
        goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(s->db))
        sq_exec(s, SQ_ROLLBACK, NULL);
    /* Nothing was queued: ids handed out before the failure are void. */
    for (size_t i = 0; i < n_rows; i++)
        rows[i].id = 0;
    return rc;
}

int sq_query_alerts(struct ys_store *st, int64_t resolved_since_ms, ys_store_alert_cb cb, void *arg,
                    struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_ALERT_LIST, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, resolved_since_ms);
    int step;
    struct ys_alert_record a;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&a, 0, sizeof a);
        const unsigned char *key = sqlite3_column_text(q, 0);
        snprintf(a.key, sizeof a.key, "%s", key ? (const char *)key : "");
        a.firing = sqlite3_column_int(q, 1) != 0;
        a.firing_ms = sqlite3_column_int64(q, 2);
        a.resolved_ms = sqlite3_column_int64(q, 3);
        a.last_notified_ms = sqlite3_column_int64(q, 4);
        a.doc = (const char *)sqlite3_column_text(q, 5);
        if (cb(&a, arg)) {
            step = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "reading alerts");
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* Reads a row of SQ_OUTBOX_COLS; payload is borrowed from q. */
static void read_row(sqlite3_stmt *q, struct ys_outbox_row *row)
{
    memset(row, 0, sizeof *row);
    row->id = sqlite3_column_int64(q, 0);
    copy_text(row->notifier, sizeof row->notifier, q, 1);
    copy_text(row->alert_key, sizeof row->alert_key, q, 2);
    row->created_ms = sqlite3_column_int64(q, 3);
    row->next_attempt_ms = sqlite3_column_int64(q, 4);
    row->attempts = sqlite3_column_int(q, 5);
    row->state = (uint8_t)sqlite3_column_int(q, 6);
    row->done_ms = sqlite3_column_int64(q, 7);
    copy_text(row->last_error, sizeof row->last_error, q, 8);
    row->payload = (const char *)sqlite3_column_text(q, 9);
}

/* Steps q (bound by the caller) and hands each row to cb. */
static int each_row(struct sq_store *s, sqlite3_stmt *q, ys_store_outbox_cb cb, void *arg,
                    struct ys_err *err)
{
    int step;
    struct ys_outbox_row row;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        read_row(q, &row);
        if (cb(&row, arg)) {
            step = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "reading the outbox");
}

int sq_outbox_pending(struct ys_store *st, const char *notifier, size_t max, ys_store_outbox_cb cb,
                      void *arg, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_PENDING, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, notifier, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, sq_limit(max));
    return each_row(s, q, cb, arg, err);
}

int sq_outbox_update(struct ys_store *st, const struct ys_outbox_row *row, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_UPDATE, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, row->id);
    sqlite3_bind_int(q, 2, row->state);
    sqlite3_bind_int(q, 3, row->attempts);
    sqlite3_bind_int64(q, 4, row->next_attempt_ms);
    sqlite3_bind_int64(q, 5, row->done_ms);
    sqlite3_bind_text(q, 6, row->last_error, (int)strnlen(row->last_error, sizeof row->last_error),
                      SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    if (step != SQLITE_DONE)
        return sq_fail(s, err, "updating a notification");
    if (sqlite3_changes(s->db) == 0)
        return ys_err_set(err, YS_ENOTFOUND, "sqlite: no outbox row %lld", (long long)row->id);
    return 0;
}

int sq_outbox_log(struct ys_store *st, int64_t since_ms, size_t max, ys_store_outbox_cb cb,
                  void *arg, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_LOG, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, since_ms);
    sqlite3_bind_int64(q, 2, sq_limit(max));
    return each_row(s, q, cb, arg, err);
}

int sq_outbox_heads(struct ys_store *st, const char *notifier, size_t max, ys_store_outbox_cb cb,
                    void *arg, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_HEADS, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, notifier, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, sq_limit(max));
    return each_row(s, q, cb, arg, err);
}

int sq_outbox_next(struct ys_store *st, const char *notifier, const char *alert_key,
                   int64_t after_id, size_t window, ys_store_outbox_cb cb, void *arg,
                   struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_NEXT, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, notifier, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, alert_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, after_id);
    sqlite3_bind_int64(q, 4, sq_limit(window));
    return each_row(s, q, cb, arg, err);
}

int sq_outbox_count_pending(struct ys_store *st, const char *notifier, uint64_t *n,
                            struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_COUNT, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, notifier, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return step == SQLITE_ROW ? 0 : sq_fail(s, err, "counting pending notifications");
}

int sq_outbox_notifier_heads(struct ys_store *st, ys_store_outbox_cb cb, void *arg,
                             struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    sqlite3_stmt *q = sq_stmt(s, SQ_OUTBOX_NOTIFIERS, err);
    if (!q)
        return YS_ESTORE;
    return each_row(s, q, cb, arg, err);
}
