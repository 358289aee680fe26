/*
 * outbox_int.h - private to src/outbox: the outbox's state, shared by the
 * thread and queue (outbox.c), committing submissions (outbox_commit.c),
 * choosing the next row (outbox_scan.c), delivering it (outbox_deliver.c),
 * giving rows up (outbox_expire.c) and Alertmanager re-posts
 * (outbox_repost.c).
 *
 * Ownership and threads: everything below `mu` in struct ys_outbox is
 * touched by any thread only with mu held (the submit queue, the config
 * waiting to be applied, the stats); everything else belongs to the
 * outbox thread alone. The thread holds a reference on `cfg`. A notifier's
 * state (struct ys_outbox_nf) is heap-allocated and keyed by name, so it survives a
 * reload that keeps the name, with its attempt in flight, its rate bucket
 * and its counters; an attempt owns all it needs (requests, process), so
 * the spec it was made from may be freed under it.
 */
#ifndef YS_OUTBOX_OUTBOX_INT_H
#define YS_OUTBOX_OUTBOX_INT_H

#include "core/err.h"
#include "notify/notifier_int.h"
#include "outbox/outbox.h"
#include "outbox/pace.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define YS_OUTBOX_QUEUE_MAX 4096   /* submissions waiting for the thread */
#define YS_OUTBOX_SCAN_MAX 256     /* heads (an alert's next row) a notifier keeps listed */
#define YS_OUTBOX_NEXT_WINDOW 256  /* pending rows looked at, at most, for an alert's next row */
#define YS_OUTBOX_EXPIRE_MAX 4096  /* rows given up per notifier per pass (then the next pass) */
#define YS_OUTBOX_REPOST_BATCH 256 /* alerts per Alertmanager re-post */
#define YS_NEVER INT64_MAX

/* One queued submission (copied from the caller's). */
struct ys_sub {
    struct ys_sub *next;
    struct ys_alert_record rec; /* rec.doc points at doc */
    char *doc;
    enum ys_alert_event_kind kind;
    struct ys_strlist notifiers;
    uint64_t seq;
};

/* One HTTP request of an attempt in flight. */
struct ys_http_target {
    struct ys_outbox_nf *owner;
    CURL *easy;
    struct ys_notify_http req;
    bool done, ok;
    struct ys_err err;
};

/* The one attempt a notifier has in flight: a row, or a re-post batch. */
struct ys_attempt {
    bool active;
    bool repost;              /* an Alertmanager re-post, not a row */
    struct ys_outbox_row row; /* the row being tried (payload NULL) */
    int64_t started_ms;
    size_t n_targets, n_done, n_ok;
    struct ys_http_target *targets; /* HTTP kinds */
    bool exec;
    struct ys_notify_proc proc; /* exec */
    int64_t deadline_ms;        /* exec: killed at */
    struct ys_err err;          /* the first failure's reason */
};

/* The outbox thread's state of one notifier. */
struct ys_outbox_nf {
    char name[YS_NOTIFIER_NAME_MAX];
    const struct ys_notifier *conf; /* in the outbox's current cfg */
    struct ys_attempt at;
    bool dirty;      /* rows may have become due: scan on the next pass */
    int64_t wake_ms; /* when a scan could start something (YS_NEVER: only when dirty) */
    struct ys_bucket bucket;
    int64_t limited_row;    /* the row last counted as rate_limited */
    int64_t next_repost_ms; /* alertmanager: the next round of re-posts */
    size_t repost_cursor;   /* alertmanager: where a round that needs several posts is */
    size_t stat;            /* index into the outbox's stats */

    /* What may go next (outbox_scan.c): the first pending row of each
     * alert key (payloads owned), at most YS_OUTBOX_SCAN_MAX, read from the
     * store and kept up to date by hand between reads. */
    struct ys_outbox_row *heads;
    size_t n_heads;
    bool requery;      /* read the list again before choosing */
    bool left;         /* an alert's next row was not found near: it may have one further on */
    bool more;         /* the last read was cut at YS_OUTBOX_SCAN_MAX heads */
    int64_t more_ms;   /* when more: the last head's due time (the rest are due later) */
    int64_t expire_ms; /* when the oldest pending row reaches max_age */
    uint64_t pending;  /* counted at the last read, plus rows committed, less rows done */
};

/* A firing alert, kept for Alertmanager re-posts. */
struct ys_firing {
    char key[YS_ALERT_KEY_MAX];
    json_t *event; /* its event document, status firing */
    struct ys_strlist notifiers;
};

struct ys_outbox {
    pthread_t thread;
    bool started;
    struct ys_store *store;
    CURLM *multi;
    char *base_url;
    char *only_key; /* deliver only this alert key's rows; NULL: every row */
    bool orphans;   /* handle rows of notifiers the config lacks */
    bool reposts;   /* Alertmanager re-posts */

    /* Outbox thread only. */
    struct ys_config *cfg;
    bool orphans_due;       /* look at the orphans on the next pass */
    bool orphans_announce;  /* ...and log which notifiers have some (start, reload) */
    int64_t orphan_wake_ms; /* when the oldest orphan reaches its max age */
    struct ys_outbox_nf **nfs;
    size_t n_nfs;
    struct ys_firing *firing;
    size_t n_firing, cap_firing;
    int64_t commit_retry_ms; /* a failed commit is retried at */
    struct ys_sub *batch;    /* taken from the queue, not yet committed */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    bool exited;               /* the thread has left its loop */
    struct ys_config *new_cfg; /* from ys_outbox_apply, not yet taken */
    struct ys_sub *q_head, *q_tail;
    size_t q_n;
    uint64_t seq_submitted, seq_committed;
    struct ys_outbox_stats_one *stats; /* one per notifier of cfg, by nf->stat, then
                                          YS_OUTBOX_REMOVED */
    size_t n_stats;
    uint64_t submitted, dropped;
};

/* Copies src into dst (size bytes), cut short if it must be. */
static inline void ys_copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* outbox.c */
enum ys_outbox_counter { YS_CT_DELIVERED, YS_CT_FAILED, YS_CT_GIVEN_UP, YS_CT_RATE_LIMITED };
/* Adds one to a counter of f's stats, or of YS_OUTBOX_REMOVED's when f is
 * NULL (takes mu). */
void ys_outbox_count(struct ys_outbox *o, const struct ys_outbox_nf *f,
                     enum ys_outbox_counter which);
/* Sets the pending gauge of f (NULL: YS_OUTBOX_REMOVED). */
void ys_outbox_set_pending(struct ys_outbox *o, const struct ys_outbox_nf *f, uint64_t pending);
/* The state of the notifier called name, or NULL. */
struct ys_outbox_nf *ys_outbox_nf(struct ys_outbox *o, const char *name);
void ys_sub_free(struct ys_sub *s);

/* outbox_commit.c */
/* Writes the batch (alert records and rows) in one transaction. Returns 0
 * (the batch is freed) or the store's error (the batch is kept). */
int ys_outbox_commit(struct ys_outbox *o, int64_t now_ms);

/* outbox_expire.c */
/* Marks a row given up (store, log, counter of f; f NULL: the notifier is
 * not in the config, counted under YS_OUTBOX_REMOVED). */
void ys_outbox_give_up(struct ys_outbox *o, struct ys_outbox_nf *f, struct ys_outbox_row *row,
                       int64_t now_ms, const char *why);
/* The reason for giving up row because it is max_age_ms old: f's max_age,
 * or (f NULL) the notifier is not in the config; with its last error. */
void ys_outbox_why_old(const struct ys_outbox_nf *f, const struct ys_outbox_row *row,
                       int64_t max_age_ms, char *why, size_t size);
/* Gives up the pending rows of notifier (f its state, NULL when the config
 * lacks it) that are max_age_ms old, oldest first, at most
 * YS_OUTBOX_EXPIRE_MAX. Sets *next_ms to when the next row gets that old:
 * YS_NEVER when none is pending, now_ms when the cap cut the work short. */
void ys_outbox_expire(struct ys_outbox *o, struct ys_outbox_nf *f, const char *notifier,
                      int64_t max_age_ms, int64_t now_ms, int64_t *next_ms);
/* How long rows of a notifier the config lacks are kept: the largest
 * max_age of its notifiers (each defaults to 24h), 24h with none. */
int64_t ys_outbox_orphan_max_age(const struct ys_config *cfg);
/* Counts the pending rows of notifiers the config lacks (under
 * YS_OUTBOX_REMOVED) and gives up those older than the orphan max age;
 * sets when to look again (orphan_wake_ms). */
void ys_outbox_orphans(struct ys_outbox *o, int64_t now_ms);

/* outbox_scan.c */
/* Gives up f's rows that are too old and starts the next attempt if a
 * row is due; otherwise sets f->wake_ms. f must be idle. */
void ys_outbox_scan(struct ys_outbox *o, struct ys_outbox_nf *f, int64_t now_ms);
/* Tells f's head list that row (a head) was tried: it leaves the list if it
 * is no longer pending, or takes row's new delivery fields. */
void ys_outbox_heads_settle(struct ys_outbox *o, struct ys_outbox_nf *f,
                            const struct ys_outbox_row *row);
/* Tells f's head list that row was committed for f. */
void ys_outbox_heads_added(struct ys_outbox *o, struct ys_outbox_nf *f,
                           const struct ys_outbox_row *row);
/* Frees f's head list (the rows stay in the store). */
void ys_outbox_heads_free(struct ys_outbox_nf *f);

/* outbox_deliver.c */
/* Starts an attempt of row (payload borrowed). Returns 0 (started, or
 * failed to start and recorded as a failed attempt) or YS_EINVAL when the
 * row can never be sent (err says why). */
int ys_outbox_start_row(struct ys_outbox *o, struct ys_outbox_nf *f,
                        const struct ys_outbox_row *row, int64_t now_ms, struct ys_err *err);
/* Handles transfers libcurl finished. */
void ys_outbox_curl_done(struct ys_outbox *o, int64_t now_ms);
/* Checks exec attempts: output, exit, timeout. */
void ys_outbox_exec_poll(struct ys_outbox *o, int64_t now_ms);
/* Starts an attempt of the HTTP kind of f over events (borrowed): one
 * row's (its delivery headers added), or a re-post's (row NULL). */
int ys_outbox_start_http(struct ys_outbox *o, struct ys_outbox_nf *f,
                         const struct ys_outbox_row *row, const json_t *const *events,
                         size_t n_events, int64_t now_ms, struct ys_err *err);
/* Abandons f's attempt in flight (the row stays as it is in the store). */
void ys_outbox_abort(struct ys_outbox *o, struct ys_outbox_nf *f);

/* outbox_repost.c */
/* Records an alert's new state for re-posts (event borrowed, referenced). */
void ys_outbox_firing_update(struct ys_outbox *o, const char *key, bool firing, json_t *event,
                             const struct ys_strlist *notifiers);
/* Loads the firing alerts from the store (at start). */
void ys_outbox_firing_load(struct ys_outbox *o);
void ys_outbox_firing_free(struct ys_outbox *o);
/* Starts f's next re-post round if it is due and f is idle. */
void ys_outbox_repost(struct ys_outbox *o, struct ys_outbox_nf *f, int64_t now_ms);
/* Called when a re-post attempt ends. */
void ys_outbox_repost_done(struct ys_outbox *o, struct ys_outbox_nf *f, bool ok,
                           const struct ys_err *err, int64_t now_ms);

#endif
