/*
 * store.h - the storage interface: results, rollups, retention.
 *
 * A backend is one `const struct ys_store_type` (sqlite now, postgres
 * later) listed in registry.c. The interface speaks only in plain structs
 * (struct ys_result, struct ys_rollup): no SQLite type crosses it.
 *
 * A struct ys_store is one connection, used by one thread at a time. The
 * daemon opens one for the writer thread and others for readers (CLI,
 * HTTP API); the backend must let readers run beside the writer.
 *
 * Durability: append writes the raw results and updates the minute, hour
 * and day rollups of every bucket they touch in one transaction; once it
 * returns 0, those results survive kill -9.
 */
#ifndef YS_STORE_STORE_H
#define YS_STORE_STORE_H

#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "slo/heartbeat.h"
#include "slo/incident.h"

#include <stdbool.h>
#include <stdint.h>

struct ys_sketch;

enum ys_resolution { YS_RES_RAW = 0, YS_RES_MINUTE, YS_RES_HOUR, YS_RES_DAY };

/* Parses "raw|minute|hour|day". Returns 0 or YS_EINVAL. */
int ys_resolution_parse(const char *s, enum ys_resolution *out);
const char *ys_resolution_name(enum ys_resolution r);
/* Bucket length in ms (0 for raw). */
int64_t ys_resolution_ms(enum ys_resolution r);

/* Aggregates of one check over one UTC-aligned bucket. */
struct ys_rollup {
    uint32_t check_id;
    enum ys_resolution res;
    int64_t bucket_ms;       /* bucket start, epoch ms, aligned to res */
    uint64_t total;          /* probes */
    uint64_t ok;             /* probes that passed */
    int64_t sum_duration_us; /* sum of the passing probes' durations (mean = sum / ok) */
    struct ys_sketch *latency; /* passing probes' durations in microseconds; owned by the rollup */
};

struct ys_store_options {
    const char *path;   /* sqlite: the database file (its folder is created);
                           postgres: the libpq connection string (storage.dsn) */
    bool read_only;
    struct ys_retention retention;
};

struct ys_store;

/* A value recorded by hand for a goal measured `manual`. */
struct ys_goal_record {
    int64_t ts_ms;
    double value;
    char note[YS_RESULT_MSG_MAX];
};

/* A stored ping: the ping, the finished run's duration and the body the
 * job sent (its log tail, capped by the check's max_body). */
struct ys_ping_record {
    struct ys_ping ping;
    int64_t duration_ms; /* of the run this ping ended; -1 none */
    const char *body;    /* borrowed; NULL when none */
    size_t body_len;
};

/* The persistent state of one alert (see src/alert/): which rule and
 * subject it is, whether it fires, and its labels and annotations as a
 * JSON document the notifiers format. */
#define YS_ALERT_KEY_MAX 192
struct ys_alert_record {
    char key[YS_ALERT_KEY_MAX]; /* stable identity: "rule/subject[/detail]" */
    bool firing;
    int64_t firing_ms;          /* when it started firing */
    int64_t resolved_ms;        /* 0 while firing */
    int64_t last_notified_ms;   /* the last notification queued (for repeat_interval) */
    const char *doc;            /* JSON: {rule, labels, annotations, ...}; borrowed */
};

/* One notification waiting in (or delivered from) the outbox. */
enum ys_outbox_state { YS_OUTBOX_PENDING = 0, YS_OUTBOX_DELIVERED, YS_OUTBOX_GIVEN_UP };
#define YS_NOTIFIER_NAME_MAX 64
struct ys_outbox_row {
    int64_t id;                         /* assigned by notify_commit; delivery order */
    char notifier[YS_NOTIFIER_NAME_MAX];
    char alert_key[YS_ALERT_KEY_MAX];
    int64_t created_ms;
    int64_t next_attempt_ms;
    int attempts;
    uint8_t state;                      /* enum ys_outbox_state */
    int64_t done_ms;                    /* delivered or given up at; 0 while pending */
    char last_error[YS_RESULT_MSG_MAX];
    const char *payload;                /* JSON event for the notifier; borrowed */
};

/* Called for each row; return non-zero to stop early. The struct is
 * borrowed for the call. */
typedef int (*ys_store_result_cb)(const struct ys_result *r, void *arg);
typedef int (*ys_store_rollup_cb)(const struct ys_rollup *r, void *arg);
typedef int (*ys_store_incident_cb)(const struct ys_incident *inc, void *arg);
typedef int (*ys_store_goal_record_cb)(const struct ys_goal_record *rec, void *arg);
typedef int (*ys_store_ping_cb)(const struct ys_ping_record *rec, void *arg);
typedef int (*ys_store_alert_cb)(const struct ys_alert_record *rec, void *arg);
typedef int (*ys_store_outbox_cb)(const struct ys_outbox_row *row, void *arg);

struct ys_store_type {
    const char *name;
    int (*open)(const struct ys_store_options *opt, struct ys_store **out, struct ys_err *err);
    void (*close)(struct ys_store *s);
    /* Returns the stable id of the check named name, creating it if needed
     * (a read-only store returns YS_ENOTFOUND for an unknown name). */
    int (*check_id)(struct ys_store *s, const char *name, uint32_t *id, struct ys_err *err);
    /* Appends n results and updates their rollups, in one transaction. */
    int (*append)(struct ys_store *s, const struct ys_result *results, size_t n,
                  struct ys_err *err);
    /* Raw results of check_id with from_ms <= ts < to_ms, oldest first. */
    int (*query_raw)(struct ys_store *s, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                     ys_store_result_cb cb, void *arg, struct ys_err *err);
    /* Rollups of check_id at res whose bucket starts in [from_ms, to_ms). */
    int (*query_rollups)(struct ys_store *s, uint32_t check_id, enum ys_resolution res,
                         int64_t from_ms, int64_t to_ms, ys_store_rollup_cb cb, void *arg,
                         struct ys_err *err);
    /* Deletes at most budget expired rows or chunks (one small transaction),
     * so pruning never stalls writes. *deleted tells how many went; call
     * again while it equals budget. */
    int (*prune)(struct ys_store *s, int64_t now_ms, int budget, int *deleted,
                 struct ys_err *err);
    /* Inserts or updates the incident keyed by (check_id, start_ms): an
     * open one (end_ms 0) is written when it opens and again when it
     * closes. */
    int (*put_incident)(struct ys_store *s, const struct ys_incident *inc, struct ys_err *err);
    /* Incidents of check_id (0: every check) overlapping [from_ms, to_ms),
     * open ones included, oldest first. */
    int (*query_incidents)(struct ys_store *s, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                           ys_store_incident_cb cb, void *arg, struct ys_err *err);
    /* Appends a manual value for goal_id. */
    int (*put_goal_record)(struct ys_store *s, const char *goal_id,
                           const struct ys_goal_record *rec, struct ys_err *err);
    /* Records of goal_id with from_ms <= ts < to_ms, oldest first. */
    int (*query_goal_records)(struct ys_store *s, const char *goal_id, int64_t from_ms,
                              int64_t to_ms, ys_store_goal_record_cb cb, void *arg,
                              struct ys_err *err);

    /* Heartbeat pings. put_pings appends n in one transaction. */
    int (*put_pings)(struct ys_store *s, const struct ys_ping_record *recs, size_t n,
                     struct ys_err *err);
    /* Pings of check_id with from_ms <= ts < to_ms; when max > 0 only the
     * newest max of them. Oldest first either way. */
    int (*query_pings)(struct ys_store *s, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                       size_t max, ys_store_ping_cb cb, void *arg, struct ys_err *err);

    /* Alerts and the notification outbox. notify_commit writes the alert
     * records (insert or replace by key) and appends the outbox rows
     * (assigning their ids, in order, into rows[i].id) in one transaction,
     * so an alert's state never runs ahead of its notifications. */
    int (*notify_commit)(struct ys_store *s, const struct ys_alert_record *alerts, size_t n_alerts,
                         struct ys_outbox_row *rows, size_t n_rows, struct ys_err *err);
    /* Alert records: every firing one, plus resolved ones with
     * resolved_ms >= resolved_since_ms; oldest firing_ms first. */
    int (*query_alerts)(struct ys_store *s, int64_t resolved_since_ms, ys_store_alert_cb cb,
                        void *arg, struct ys_err *err);
    /* Pending rows of notifier, lowest id first, at most max. */
    int (*outbox_pending)(struct ys_store *s, const char *notifier, size_t max,
                          ys_store_outbox_cb cb, void *arg, struct ys_err *err);
    /* Writes a row's delivery fields (state, attempts, next_attempt_ms,
     * done_ms, last_error) by id. */
    int (*outbox_update)(struct ys_store *s, const struct ys_outbox_row *row, struct ys_err *err);
    /* The notification log: rows created at or after since_ms, newest
     * first, at most max, any state. */
    int (*outbox_log)(struct ys_store *s, int64_t since_ms, size_t max, ys_store_outbox_cb cb,
                      void *arg, struct ys_err *err);
    /* The first (lowest-id) pending row of each alert key of notifier,
     * soonest due first (next_attempt_ms, then id), at most max (0: all).
     * These are the rows that may go next: an alert's rows go in order, so
     * an alert whose first row keeps failing holds back only its own later
     * rows, however many there are. Costs the notifier's pending rows. */
    int (*outbox_heads)(struct ys_store *s, const char *notifier, size_t max,
                        ys_store_outbox_cb cb, void *arg, struct ys_err *err);
    /* The first pending row of alert_key among the next `window` pending
     * rows of notifier after id after_id (window 0: all of them; after_id
     * 0: from the first), if there is one there: an alert's next head once
     * its head is done. Costs the rows looked at, so a window bounds what a
     * miss costs; a miss in a window is no proof the key has no later row. */
    int (*outbox_next)(struct ys_store *s, const char *notifier, const char *alert_key,
                       int64_t after_id, size_t window, ys_store_outbox_cb cb, void *arg,
                       struct ys_err *err);
    /* How many rows of notifier are pending. */
    int (*outbox_count_pending)(struct ys_store *s, const char *notifier, uint64_t *n,
                                struct ys_err *err);
    /* The first (lowest-id) pending row of every notifier name that has
     * one, by name: which notifiers have rows waiting, configured or not. */
    int (*outbox_notifier_heads)(struct ys_store *s, ys_store_outbox_cb cb, void *arg,
                                 struct ys_err *err);
    /* The lease `name` for holder (src/ha/lease.c), in one statement:
     * ttl_ms > 0 takes it when it is free or expired, or renews it when
     * holder has it, until the store's clock + ttl_ms; ttl_ms == 0
     * releases it if holder has it. *held tells whether holder has it
     * afterwards. Optional: NULL means one daemon per store, which always
     * holds every lease. */
    int (*lease)(struct ys_store *s, const char *name, const char *holder, int64_t ttl_ms,
                 bool *held, struct ys_err *err);
};

/* Every store handle starts with this. */
struct ys_store {
    const struct ys_store_type *type;
};

/* Opens a store of the given kind ("sqlite", "postgres"; NULL: sqlite). */
int ys_store_open(const char *kind, const struct ys_store_options *opt, struct ys_store **out,
                  struct ys_err *err);
/* Names a store for people, in messages: the SQLite file's path, or a
 * PostgreSQL server as user@host:port/db, never its password (a DSN may
 * hold one). */
void ys_store_describe(const char *kind, const char *path, char *buf, size_t size);
void ys_store_close(struct ys_store *s);

#endif
