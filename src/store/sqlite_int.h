/*
 * sqlite_int.h - private to the SQLite backend (sqlite*.c): the connection
 * struct, its statement cache and the per-check write caches.
 *
 * The write caches (struct sq_check) live on the writer's connection: the
 * open chunk's codec state and the rollup buckets being filled. They are a
 * copy of what the database holds after the last commit; when a
 * transaction fails they are all dropped (sq_forget_caches) and rebuilt
 * from the database on next use, so memory never runs ahead of disk.
 */
#ifndef YS_STORE_SQLITE_INT_H
#define YS_STORE_SQLITE_INT_H

#include "store/codec.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdbool.h>

#define SQ_CHUNK_MAX_BYTES 2048       /* a chunk closes past this size... */
#define SQ_HOUR_MS INT64_C(3600000)   /* ...or when a result's UTC hour changes */
#define SQ_MAX_CHECK_ID (1u << 24)    /* caches are arrays indexed by check id */

enum sq_stmt {
    SQ_CHECK_GET, SQ_CHECK_ADD, SQ_TEXT_GET, SQ_TEXT_ADD, SQ_TEXT_BY_ID,
    SQ_CHUNK_LAST, SQ_CHUNK_ADD, SQ_CHUNK_APPEND, SQ_CHUNK_RANGE,
    SQ_ROLLUP_GET, SQ_ROLLUP_PUT, SQ_ROLLUP_RANGE,
    SQ_MINUTE_GET, SQ_MINUTE_PUT, SQ_MINUTE_RANGE,
    SQ_CHECK_NEXT, SQ_PRUNE_CHUNK, SQ_PRUNE_ROLLUP, SQ_PRUNE_MINUTE,
    SQ_BEGIN, SQ_COMMIT, SQ_ROLLBACK,
    SQ_INCIDENT_PUT, SQ_INCIDENT_RANGE, SQ_INCIDENT_RANGE_ALL, SQ_GOAL_PUT, SQ_GOAL_RANGE,
    SQ_PING_PUT, SQ_PING_EDGE, SQ_PING_RANGE, SQ_PRUNE_PING,
    SQ_ALERT_PUT, SQ_ALERT_LIST, SQ_PRUNE_ALERT,
    SQ_OUTBOX_ADD, SQ_OUTBOX_PENDING, SQ_OUTBOX_UPDATE, SQ_OUTBOX_LOG, SQ_PRUNE_OUTBOX,
    SQ_OUTBOX_HEADS, SQ_OUTBOX_NEXT, SQ_OUTBOX_COUNT, SQ_OUTBOX_NOTIFIERS,
    SQ_FACTS_ADD, SQ_FACTS_RANGE, SQ_PRUNE_FACTS,
    SQ_STMT_COUNT
};

/* One hour or day bucket being filled. The sketch is kept encoded between
 * batches (a few hundred bytes, not a dense array per check) and decoded
 * into work while a batch touches it. */
struct sq_slot {
    int64_t bucket_ms; /* -1: nothing cached */
    uint64_t total, ok;
    int64_t sum_us;
    unsigned char *enc;
    size_t enc_len;
    struct ys_sketch *work; /* non-NULL while dirty in this batch */
};

/* The minute rollups of one UTC hour: finished entries as stored, plus the
 * minute being filled. */
struct sq_minutes {
    int64_t hour_ms; /* -1: nothing cached */
    struct ys_buf done;
    int32_t ctx;     /* codec context after done */
    struct sq_slot cur;
    bool dirty;
};

/* The check's open chunk. */
struct sq_chunk {
    bool loaded;
    int64_t id;       /* 0: not inserted yet */
    int64_t hour_ms, start_ms, end_ms;
    uint32_t n;
    size_t size;      /* bytes in the db plus pending */
    struct ys_chunk_state st;
    struct ys_buf pending; /* encoded in this batch, not yet written */
    uint32_t pending_n;
};

struct sq_check {
    uint32_t id;
    bool dirty; /* on the batch's dirty list */
    struct sq_chunk chunk;
    struct sq_slot hour, day;
    struct sq_minutes min;
};

struct sq_text_entry {
    char *s;
    uint32_t id;
};

struct sq_store {
    struct ys_store super;
    sqlite3 *db;
    bool read_only;
    struct ys_retention retention;
    sqlite3_stmt *stmt[SQ_STMT_COUNT];
    struct sq_check **checks; /* indexed by check id */
    size_t ncheck;
    uint32_t *dirty;          /* check ids touched by the current batch */
    size_t ndirty, dirty_cap;
    struct sq_text_entry *text; /* open-addressing string -> id cache */
    size_t text_cap, text_n;
    uint32_t prune_cursor;    /* next check id prune looks at */
};

extern const struct ys_store_type ys_store_sqlite;

/* sqlite.c */
sqlite3_stmt *sq_stmt(struct sq_store *s, enum sq_stmt which, struct ys_err *err);
int sq_fail(struct sq_store *s, struct ys_err *err, const char *what);
int sq_exec(struct sq_store *s, enum sq_stmt which, struct ys_err *err);
void sq_forget_caches(struct sq_store *s);
void sq_slot_free(struct sq_slot *slot);
/* sqlite_append.c */
/* Returns the cache of check id, creating it (never NULL for id <= max). */
struct sq_check *sq_check_get(struct sq_store *s, uint32_t id);
int sq_append(struct ys_store *st, const struct ys_result *results, size_t n,
              struct ys_err *err);
int sq_text_id(struct sq_store *s, const char *text, uint32_t *id, struct ys_err *err);
/* Looks up a text by id into buf. */
int sq_text_lookup(struct sq_store *s, uint32_t id, char *buf, size_t size, struct ys_err *err);
/* sqlite_rollup.c */
int sq_rollup_add(struct sq_store *s, struct sq_check *c, const struct ys_result *r,
                  struct ys_err *err);
int sq_rollup_write(struct sq_store *s, struct sq_check *c, struct ys_err *err);
/* sqlite_query.c */
int sq_query_raw(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                 ys_store_result_cb cb, void *arg, struct ys_err *err);
int sq_query_rollups(struct ys_store *st, uint32_t check_id, enum ys_resolution res,
                     int64_t from_ms, int64_t to_ms, ys_store_rollup_cb cb, void *arg,
                     struct ys_err *err);
/* sqlite_prune.c */
int sq_prune(struct ys_store *st, int64_t now_ms, int budget, int *deleted, struct ys_err *err);
/* sqlite_incidents.c (incidents and goal records are kept forever) */
int sq_put_incident(struct ys_store *st, const struct ys_incident *inc, struct ys_err *err);
int sq_query_incidents(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                       ys_store_incident_cb cb, void *arg, struct ys_err *err);
int sq_put_goal_record(struct ys_store *st, const char *goal_id, const struct ys_goal_record *rec,
                       struct ys_err *err);
int sq_query_goal_records(struct ys_store *st, const char *goal_id, int64_t from_ms,
                          int64_t to_ms, ys_store_goal_record_cb cb, void *arg,
                          struct ys_err *err);

/* sqlite_pings.c (heartbeat pings; pruned with raw retention) */
int sq_put_pings(struct ys_store *st, const struct ys_ping_record *recs, size_t n,
                 struct ys_err *err);
int sq_query_pings(struct ys_store *st, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                   size_t max, ys_store_ping_cb cb, void *arg, struct ys_err *err);
/* sqlite_outbox.c (alert records and the notification outbox) */
int sq_notify_commit(struct ys_store *st, const struct ys_alert_record *alerts, size_t n_alerts,
                     struct ys_outbox_row *rows, size_t n_rows, struct ys_err *err);
int sq_query_alerts(struct ys_store *st, int64_t resolved_since_ms, ys_store_alert_cb cb,
                    void *arg, struct ys_err *err);
int sq_outbox_pending(struct ys_store *st, const char *notifier, size_t max,
                      ys_store_outbox_cb cb, void *arg, struct ys_err *err);
int sq_outbox_update(struct ys_store *st, const struct ys_outbox_row *row, struct ys_err *err);
int sq_outbox_log(struct ys_store *st, int64_t since_ms, size_t max, ys_store_outbox_cb cb,
                  void *arg, struct ys_err *err);
int sq_outbox_heads(struct ys_store *st, const char *notifier, size_t max, ys_store_outbox_cb cb,
                    void *arg, struct ys_err *err);
int sq_outbox_next(struct ys_store *st, const char *notifier, const char *alert_key,
                   int64_t after_id, size_t window, ys_store_outbox_cb cb, void *arg,
                   struct ys_err *err);
int sq_outbox_count_pending(struct ys_store *st, const char *notifier, uint64_t *n,
                            struct ys_err *err);
int sq_outbox_notifier_heads(struct ys_store *st, ys_store_outbox_cb cb, void *arg,
                             struct ys_err *err);

/* SQLite's LIMIT for "at most max": max 0 (or more than fits) is no limit. */
static inline int64_t sq_limit(size_t max)
{
    return max == 0 || max > (size_t)INT64_MAX ? -1 : (int64_t)max;
}

static inline int64_t sq_floor(int64_t ts, int64_t len)
{
    int64_t q = ts / len;
    if (ts % len < 0)
        q--;
    return q * len;
}

#endif
