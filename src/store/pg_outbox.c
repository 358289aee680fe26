/*
 * pg_outbox.c - alert records and the notification outbox in PostgreSQL,
 * with the semantics of sqlite_outbox.c (read its comment for the why).
 *
 * Invariant: an alert's state never runs ahead of its notifications:
 * notify_commit writes both in one transaction. Outbox ids come from a
 * sequence (BIGSERIAL): increasing, never reused after pruning. A
 * sequence hands ids out at insert, not at commit, so two transactions
 * inserting at once could commit in the other order and a reader could
 * see id 8 before id 7; notify_commit therefore first takes a
 * transaction-level advisory lock (PG_OUTBOX_LOCK), so commits, like
 * SQLite's BEGIN IMMEDIATE ones, follow one another and ids become
 * visible in order.
 *
 * The delivery thread's reads (pending, heads, next, count, notifier
 * heads) go through the partial index outbox_pending (pending rows only,
 * alert_key included), so none costs the size of the log. Pruning
 * (pg_prune.c) removes finished rows and resolved alerts older than raw
 * retention. Runs on the thread that owns the connection; the reads also
 * work on read-only connections.
 */
#include "store/pg_int.h"

#include <stdio.h>
#include <string.h>

static int put_alert(struct pg_store *s, const struct ys_alert_record *a, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, a->key, strnlen(a->key, sizeof a->key));
    pg_p_i64(&p, a->firing ? 1 : 0);
    pg_p_i64(&p, a->firing_ms);
    pg_p_i64(&p, a->resolved_ms);
    pg_p_i64(&p, a->last_notified_ms);
    if (a->doc)
        pg_p_text(&p, a->doc, strlen(a->doc));
    else
        pg_p_null(&p);
    PGresult *res = pg_run(s, PG_ALERT_PUT, &p, "writing an alert", err);
    pg_params_free(&p);
    if (!res)
        return YS_ESTORE;
    PQclear(res);
    return 0;
}

static int add_row(struct pg_store *s, struct ys_outbox_row *row, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, row->notifier, strnlen(row->notifier, sizeof row->notifier));
    pg_p_text(&p, row->alert_key, strnlen(row->alert_key, sizeof row->alert_key));
    pg_p_i64(&p, row->created_ms);
    pg_p_i64(&p, row->next_attempt_ms);
    pg_p_i64(&p, row->attempts);
    pg_p_i64(&p, row->state);
    pg_p_i64(&p, row->done_ms);
    pg_p_text(&p, row->last_error, strnlen(row->last_error, sizeof row->last_error));
    if (row->payload)
        pg_p_text(&p, row->payload, strlen(row->payload));
    else
        pg_p_null(&p);
    PGresult *res = pg_run(s, PG_OUTBOX_ADD, &p, "queueing a notification", err);
    pg_params_free(&p);
    if (!res)
        return YS_ESTORE;
    row->id = PQntuples(res) == 1 ? pg_i64(res, 0, 0) : 0;
    PQclear(res);
    return 0;
}

int pg_notify_commit(struct ys_store *st, const struct ys_alert_record *alerts, size_t n_alerts,
                     struct ys_outbox_row *rows, size_t n_rows, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    int rc;
    if (s->read_only)
        return pg_read_only_error(s, err);
    if (n_alerts == 0 && n_rows == 0)
        return 0;
    if ((rc = pg_begin(s, err)) < 0)
        return rc;
    PGresult *lock = pg_run(s, PG_OUTBOX_LOCK, NULL, "locking the outbox", err);
    if (!lock) {
        rc = YS_ESTORE;
        goto fail;
    }
    PQclear(lock);
    for (size_t i = 0; i < n_alerts; i++)
        if ((rc = put_alert(s, &alerts[i], err)) < 0)
            goto fail;
    for (size_t i = 0; i < n_rows; i++)
        if ((rc = add_row(s, &rows[i], err)) < 0)
            goto fail;
    if ((rc = pg_commit(s, err)) < 0)
        goto fail;
    return 0;
fail:
    pg_rollback(s);
    /* Nothing was queued: ids handed out before the failure are void. */
    for (size_t i = 0; i < n_rows; i++)
        rows[i].id = 0;
    return rc;
}

int pg_query_alerts(struct ys_store *st, int64_t resolved_since_ms, ys_store_alert_cb cb, void *arg,
                    struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct pg_params p = {0};
    pg_p_i64(&p, resolved_since_ms);
    PGresult *q = pg_run(s, PG_ALERT_LIST, &p, "reading alerts", err);
    if (!q)
        return YS_ESTORE;
    struct ys_alert_record a;
    for (int i = 0; i < PQntuples(q); i++) {
        memset(&a, 0, sizeof a);
        pg_text(q, i, 0, a.key, sizeof a.key);
        a.firing = pg_i64(q, i, 1) != 0;
        a.firing_ms = pg_i64(q, i, 2);
        a.resolved_ms = pg_i64(q, i, 3);
        a.last_notified_ms = pg_i64(q, i, 4);
        a.doc = PQgetisnull(q, i, 5) ? NULL : PQgetvalue(q, i, 5);
        if (cb(&a, arg))
            break;
    }
    PQclear(q);
    return 0;
}

/* Runs an outbox query (columns PG_OUTBOX_COLS) and hands each row to cb;
 * a row's payload is borrowed for the call. */
static int each_row(struct pg_store *s, enum pg_stmt which, struct pg_params *p,
                    ys_store_outbox_cb cb, void *arg, struct ys_err *err)
{
    PGresult *q = pg_run(s, which, p, "reading the outbox", err);
    if (p)
        pg_params_free(p);
    if (!q)
        return YS_ESTORE;
    struct ys_outbox_row row;
    for (int i = 0; i < PQntuples(q); i++) {
        memset(&row, 0, sizeof row);
        row.id = pg_i64(q, i, 0);
        pg_text(q, i, 1, row.notifier, sizeof row.notifier);
        pg_text(q, i, 2, row.alert_key, sizeof row.alert_key);
        row.created_ms = pg_i64(q, i, 3);
        row.next_attempt_ms = pg_i64(q, i, 4);
        row.attempts = (int)pg_i64(q, i, 5);
        row.state = (uint8_t)pg_i64(q, i, 6);
        row.done_ms = pg_i64(q, i, 7);
        pg_text(q, i, 8, row.last_error, sizeof row.last_error);
        row.payload = PQgetisnull(q, i, 9) ? NULL : PQgetvalue(q, i, 9);
        if (cb(&row, arg))
            break;
    }
    PQclear(q);
    return 0;
}

int pg_outbox_pending(struct ys_store *st, const char *notifier, size_t max, ys_store_outbox_cb cb,
                      void *arg, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, notifier, strlen(notifier));
    pg_p_limit(&p, max);
    return each_row((struct pg_store *)st, PG_OUTBOX_PENDING, &p, cb, arg, err);
}

int pg_outbox_update(struct ys_store *st, const struct ys_outbox_row *row, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    if (s->read_only)
        return pg_read_only_error(s, err);
    struct pg_params p = {0};
    pg_p_i64(&p, row->id);
    pg_p_i64(&p, row->state);
    pg_p_i64(&p, row->attempts);
    pg_p_i64(&p, row->next_attempt_ms);
    pg_p_i64(&p, row->done_ms);
    pg_p_text(&p, row->last_error, strnlen(row->last_error, sizeof row->last_error));
    PGresult *q = pg_run(s, PG_OUTBOX_UPDATE, &p, "updating a notification", err);
    pg_params_free(&p);
    if (!q)
        return YS_ESTORE;
    int changed = pg_changes(q);
    PQclear(q);
    if (changed == 0)
        return ys_err_set(err, YS_ENOTFOUND, "postgres %s: no outbox row %lld", s->label,
                          (long long)row->id);
    return 0;
}

int pg_outbox_log(struct ys_store *st, int64_t since_ms, size_t max, ys_store_outbox_cb cb,
                  void *arg, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_i64(&p, since_ms);
    pg_p_limit(&p, max);
    return each_row((struct pg_store *)st, PG_OUTBOX_LOG, &p, cb, arg, err);
}

int pg_outbox_heads(struct ys_store *st, const char *notifier, size_t max, ys_store_outbox_cb cb,
                    void *arg, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, notifier, strlen(notifier));
    pg_p_limit(&p, max);
    return each_row((struct pg_store *)st, PG_OUTBOX_HEADS, &p, cb, arg, err);
}

int pg_outbox_next(struct ys_store *st, const char *notifier, const char *alert_key,
                   int64_t after_id, size_t window, ys_store_outbox_cb cb, void *arg,
                   struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, notifier, strlen(notifier));
    pg_p_text(&p, alert_key, strlen(alert_key));
    pg_p_i64(&p, after_id);
    pg_p_limit(&p, window);
    return each_row((struct pg_store *)st, PG_OUTBOX_NEXT, &p, cb, arg, err);
}

int pg_outbox_count_pending(struct ys_store *st, const char *notifier, uint64_t *n,
                            struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct pg_params p = {0};
    pg_p_text(&p, notifier, strlen(notifier));
    PGresult *q = pg_run(s, PG_OUTBOX_COUNT, &p, "counting pending notifications", err);
    pg_params_free(&p);
    if (!q)
        return YS_ESTORE;
    *n = PQntuples(q) == 1 ? (uint64_t)pg_i64(q, 0, 0) : 0;
    PQclear(q);
    return 0;
}

int pg_outbox_notifier_heads(struct ys_store *st, ys_store_outbox_cb cb, void *arg,
                             struct ys_err *err)
{
    return each_row((struct pg_store *)st, PG_OUTBOX_NOTIFIERS, NULL, cb, arg, err);
}
