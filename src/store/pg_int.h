/*
 * pg_int.h - private to the PostgreSQL backend (pg*.c): the connection
 * struct, its prepared-statement table, parameter and multi-row helpers,
 * and the per-check write caches.
 *
 * The write caches (struct pg_check) are the same as the SQLite backend's
 * (sqlite_int.h says why they exist): the open chunk's codec state and the
 * rollup buckets being filled, a copy of what the database holds after the
 * last commit, all dropped when a transaction fails.
 *
 * Every statement is parameterised: single statements are prepared once
 * per connection (PQprepare, named "ys<n>"); the batch writes build their
 * SQL from placeholders only ("($1::bigint, $2::bytea), ...") and send
 * the values as binary parameters (struct pg_rows). Results are read in
 * binary format (integers are int8 in network order, text is raw bytes).
 */
#ifndef YS_STORE_PG_INT_H
#define YS_STORE_PG_INT_H

#include "store/codec.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <stdbool.h>

#define PG_CHUNK_MAX_BYTES 2048     /* as SQ_CHUNK_MAX_BYTES */
#define PG_HOUR_MS INT64_C(3600000)
#define PG_MAX_CHECK_ID (1u << 24)  /* caches are arrays indexed by check id */
#define PG_MAX_PARAMS 10            /* of a single prepared statement */
/* The session's statement_timeout unless the connection string's options
 * set one (pg.c's open): well above the longest prune or migration batch,
 * it ends a statement stuck behind a lock or a wedged server. */
#define PG_STATEMENT_TIMEOUT_MS 60000
#define PG_CHUNK_PAGE_ROWS 128      /* chunks per page of query_raw */

enum pg_stmt {
    PG_CHECK_GET, PG_CHECK_ADD, PG_TEXT_GET, PG_TEXT_ADD, PG_TEXT_BY_ID,
    PG_CHUNK_LAST, PG_CHUNK_PAGE,
    PG_ROLLUP_GET, PG_ROLLUP_RANGE, PG_MINUTE_GET, PG_MINUTE_RANGE,
    PG_CHECK_NEXT, PG_PRUNE_CHUNK, PG_PRUNE_ROLLUP, PG_PRUNE_MINUTE, PG_PRUNE_FACTS,
    PG_PRUNE_PING, PG_PRUNE_ALERT, PG_PRUNE_OUTBOX,
    PG_INCIDENT_PUT, PG_INCIDENT_RANGE, PG_INCIDENT_RANGE_ALL, PG_GOAL_PUT, PG_GOAL_RANGE,
    PG_PING_PUT, PG_PING_EDGE, PG_PING_RANGE,
    PG_ALERT_PUT, PG_ALERT_LIST, PG_OUTBOX_LOCK,
    PG_OUTBOX_ADD, PG_OUTBOX_PENDING, PG_OUTBOX_UPDATE, PG_OUTBOX_LOG,
    PG_OUTBOX_HEADS, PG_OUTBOX_NEXT, PG_OUTBOX_COUNT, PG_OUTBOX_NOTIFIERS,
    PG_FACTS_RANGE,
    PG_STMT_COUNT
};

/* The values of one prepared statement, all sent in binary format. */
struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    uint64_t num[PG_MAX_PARAMS]; /* storage for int8 and float8, network order */
    char *owned[PG_MAX_PARAMS];  /* scrubbed copies of invalid UTF-8 (pg_p_text) */
};

void pg_p_i64(struct pg_params *p, int64_t v);
void pg_p_f64(struct pg_params *p, double v);
/* Borrows data until the statement ran. */
void pg_p_bytes(struct pg_params *p, const void *data, size_t len);
/* Borrows s until the statement ran. Text that is not valid UTF-8 (which
 * PostgreSQL refuses, failing the whole transaction: an incident's first
 * error or an outbox row's last error quote what a server said) is bound
 * as a scrubbed copy (core/utf8.h) the params own: call pg_params_free
 * after the last statement that uses them. */
void pg_p_text(struct pg_params *p, const char *s, size_t len);
/* Frees pg_p_text's copies. */
void pg_params_free(struct pg_params *p);
void pg_p_null(struct pg_params *p);
/* LIMIT max: max 0 is no limit (NULL). */
void pg_p_limit(struct pg_params *p, size_t max);

/* Rows for one multi-row statement: head, then "(...), (...)" with one
 * placeholder per value, cast to the column's type, then tail. Values are
 * copied in, so the caller's buffers may change before the flush. */
struct pg_rows {
    const char *head, *tail;
    const char *const *types; /* ncols SQL type names: "bigint", "bytea", "text" */
    int ncols;
    struct ys_buf data;  /* every value's bytes */
    size_t *off;         /* per value: offset in data */
    int *len;            /* per value: length, -1 for NULL */
    size_t nval, cap;
};

/* One hour or day bucket being filled (struct sq_slot). */
struct pg_slot {
    int64_t bucket_ms; /* -1: nothing cached */
    uint64_t total, ok;
    int64_t sum_us;
    unsigned char *enc;
    size_t enc_len;
    struct ys_sketch *work; /* non-NULL while dirty in this batch */
};

struct pg_minutes {
    int64_t hour_ms; /* -1: nothing cached */
    struct ys_buf done;
    int32_t ctx;
    struct pg_slot cur;
    bool dirty;
};

struct pg_chunk {
    bool loaded;
    int64_t id; /* 0: not inserted yet */
    int64_t hour_ms, start_ms, end_ms;
    uint32_t n;
    size_t size;
    struct ys_chunk_state st;
    struct ys_buf pending;
    uint32_t pending_n;
};

struct pg_check {
    uint32_t id;
    bool dirty;
    struct pg_chunk chunk;
    struct pg_slot hour, day;
    struct pg_minutes min;
};

struct pg_text_entry {
    char *s;
    uint32_t id;
};

/* The batch's queued writes, sent as a few multi-row statements. */
enum pg_batch {
    PG_B_CHUNK_NEW,    /* closed chunks written whole */
    PG_B_CHUNK_OPEN,   /* new open chunks: RETURNING check_id, id */
    PG_B_CHUNK_APPEND, /* records appended to a stored chunk */
    PG_B_ROLLUP, PG_B_MINUTE, PG_B_FACTS,
    PG_B_COUNT
};

struct pg_store {
    struct ys_store super;
    PGconn *conn;
    char label[160]; /* "host:port/db" for messages: never the password */
    bool read_only;
    bool in_tx; /* between pg_begin and its commit or rollback */
    struct ys_retention retention;
    bool prepared[PG_STMT_COUNT];
    struct pg_rows batch[PG_B_COUNT];
    struct pg_check **checks; /* indexed by check id */
    size_t ncheck;
    uint32_t *dirty;
    size_t ndirty, dirty_cap;
    struct pg_text_entry *text; /* open addressing: string -> id */
    size_t text_cap, text_n;
    struct pg_text_entry *byid; /* open addressing: id -> string (reads) */
    size_t byid_cap, byid_n;
    uint32_t prune_cursor;
};

extern const struct ys_store_type ys_store_postgres;

/* pg.c */
/* Runs a prepared statement (preparing it on first use). Returns the
 * result (PQclear it) or NULL with err filled, naming what failed. */
PGresult *pg_run(struct pg_store *s, enum pg_stmt which, const struct pg_params *p,
                 const char *what, struct ys_err *err);
/* Runs one parameterless command ("BEGIN", ...). */
int pg_cmd(struct pg_store *s, const char *sql, struct ys_err *err);
int pg_begin(struct pg_store *s, struct ys_err *err);
int pg_commit(struct pg_store *s, struct ys_err *err);
/* Rolls back an open transaction, if there is one (errors ignored). */
void pg_rollback(struct pg_store *s);
/* Fills err from res (or the connection) and returns YS_EBUSY or YS_ESTORE. */
int pg_fail(struct pg_store *s, const PGresult *res, const char *what, struct ys_err *err);
int pg_read_only_error(struct pg_store *s, struct ys_err *err);
int64_t pg_i64(const PGresult *res, int row, int col);
double pg_f64(const PGresult *res, int row, int col);
/* Copies a text column into dst (truncating, always terminated). */
void pg_text(const PGresult *res, int row, int col, char *dst, size_t size);
/* Rows changed by a command. */
int pg_changes(const PGresult *res);
void pg_forget_caches(struct pg_store *s);
void pg_slot_free(struct pg_slot *slot);
void pg_check_free(struct pg_check *c);

/* pg_rows.c */
void pg_rows_init(struct pg_rows *r, const char *head, const char *tail,
                  const char *const *types, int ncols);
void pg_rows_free(struct pg_rows *r);
void pg_rows_reset(struct pg_rows *r);
void pg_rows_i64(struct pg_rows *r, int64_t v);
void pg_rows_bytes(struct pg_rows *r, const void *data, size_t len);
void pg_rows_null(struct pg_rows *r);
/* Reads the result of one statement of rows (cb may be NULL). */
typedef int (*pg_rows_cb)(struct pg_store *s, PGresult *res, size_t rows, struct ys_err *err);
/* Sends the queued rows as one statement (or a few, past PostgreSQL's
 * parameter limit), handing each result to cb. Empties r. */
int pg_rows_flush(struct pg_store *s, struct pg_rows *r, const char *what, pg_rows_cb cb,
                  struct ys_err *err);
/* Sets up s->batch. */
void pg_batch_init(struct pg_store *s);
/* Sends every queued batch write; the open chunks get their ids. */
int pg_batch_flush(struct pg_store *s, struct ys_err *err);

/* pg_append.c */
struct pg_check *pg_check_get(struct pg_store *s, uint32_t id);
int pg_append(struct ys_store *st, const struct ys_result *results, size_t n,
              struct ys_err *err);
int pg_text_lookup(struct pg_store *s, uint32_t id, char *buf, size_t size, struct ys_err *err);
/* pg_rollup.c */
int pg_rollup_add(struct pg_store *s, struct pg_check *c, const struct ys_result *r,
                  struct ys_err *err);
int pg_rollup_write(struct pg_store *s, struct pg_check *c, struct ys_err *err);
/* pg_query.c */
int pg_query_raw(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                 ys_store_result_cb cb, void *arg, struct ys_err *err);
int pg_query_rollups(struct ys_store *st, uint32_t check_id, enum ys_resolution res,
                     int64_t from_ms, int64_t to_ms, ys_store_rollup_cb cb, void *arg,
                     struct ys_err *err);
/* pg_prune.c */
int pg_prune(struct ys_store *st, int64_t now_ms, int budget, int *deleted, struct ys_err *err);
/* pg_records.c: incidents, goal records, pings */
int pg_put_incident(struct ys_store *st, const struct ys_incident *inc, struct ys_err *err);
int pg_query_incidents(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                       ys_store_incident_cb cb, void *arg, struct ys_err *err);
int pg_put_goal_record(struct ys_store *st, const char *goal_id, const struct ys_goal_record *rec,
                       struct ys_err *err);
int pg_query_goal_records(struct ys_store *st, const char *goal_id, int64_t from_ms,
                          int64_t to_ms, ys_store_goal_record_cb cb, void *arg,
                          struct ys_err *err);
int pg_put_pings(struct ys_store *st, const struct ys_ping_record *recs, size_t n,
                 struct ys_err *err);
int pg_query_pings(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                   size_t max, ys_store_ping_cb cb, void *arg, struct ys_err *err);
/* pg_outbox.c */
int pg_notify_commit(struct ys_store *st, const struct ys_alert_record *alerts, size_t n_alerts,
                     struct ys_outbox_row *rows, size_t n_rows, struct ys_err *err);
int pg_query_alerts(struct ys_store *st, int64_t resolved_since_ms, ys_store_alert_cb cb,
                    void *arg, struct ys_err *err);
int pg_outbox_pending(struct ys_store *st, const char *notifier, size_t max,
                      ys_store_outbox_cb cb, void *arg, struct ys_err *err);
int pg_outbox_update(struct ys_store *st, const struct ys_outbox_row *row, struct ys_err *err);
int pg_outbox_log(struct ys_store *st, int64_t since_ms, size_t max, ys_store_outbox_cb cb,
                  void *arg, struct ys_err *err);
int pg_outbox_heads(struct ys_store *st, const char *notifier, size_t max, ys_store_outbox_cb cb,
                    void *arg, struct ys_err *err);
int pg_outbox_next(struct ys_store *st, const char *notifier, const char *alert_key,
                   int64_t after_id, size_t window, ys_store_outbox_cb cb, void *arg,
                   struct ys_err *err);
int pg_outbox_count_pending(struct ys_store *st, const char *notifier, uint64_t *n,
                            struct ys_err *err);
int pg_outbox_notifier_heads(struct ys_store *st, ys_store_outbox_cb cb, void *arg,
                             struct ys_err *err);

static inline int64_t pg_floor(int64_t ts, int64_t len)
{
    int64_t q = ts / len;
    if (ts % len < 0)
        q--;
    return q * len;
}

/* user@host:port/db from a connection string, for messages (never the
 * password); also used by ys_store_describe (registry.c). */
void ys_pg_label(const char *dsn, char *label, size_t size);

#endif
