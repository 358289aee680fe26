/*
 * follow.c - the follower feed thread (follow.h): other shards' results
 * from the store to the lease holder's loop.
 *
 * Runs on the lease holder only, on a thread of its own with a read-only
 * store connection, so the loop never waits on the store. Every second it
 * walks the followed checks of the current config (ys_follow_wants); a
 * check is polled once per max(interval, 1 s): one query_raw of its
 * results after its cursor, at most YS_FOLLOW_BATCH handed on per poll.
 *
 * Starting (the lease was won), each check is read once before it is
 * followed: its open incident in the store is resumed into the feed's own
 * tracker, its last few results are replayed into that tracker (a failing
 * streak in progress counts), and its cursor starts at the newest of them,
 * so nothing already stored is announced as news.
 *
 * The thread, its store connection, the queue to the loop and the uv_async
 * are worker.c's, as for the combiner. The per-check states are touched
 * only by the thread while it runs and by pause/resume after the join.
 */
#include "ha/follow.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "ha/worker.h"
#include "slo/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 1000
/* How far ahead of now a result's ts may be and still be read (clock skew
 * between the daemons). */
#define FUTURE_MS (24 * 3600 * 1000LL)
#define NAME_MAX_LEN 272 /* as YS_LOC_NAME_MAX: longer names are not followed */

struct out_item {
    char name[NAME_MAX_LEN];
    bool open;
    struct ys_result r;
};

struct check_state {
    char *name;
    uint32_t id;
    bool started; /* cursor and tracker read from the store since the thread started */
    bool seen;    /* followed in this pass; one that stops being followed starts afresh */
    struct ys_follow_cursor cur;
    struct ys_incident_tracker t;
};

struct ys_follower {
    struct ys_worker *w;
    ys_follow_result_cb cb;
    void *arg;
    struct check_state *st; /* thread (or loop when idle) */
    size_t n_st;
};

/* Rows of one query, oldest first, at most YS_FOLLOW_BATCH. */
struct rows {
    struct ys_result *v;
    size_t n, cap;
};

static int collect(const struct ys_result *r, void *arg)
{
    struct rows *rows = arg;
    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 16;
        rows->v = ys_xrealloc(rows->v, rows->cap * sizeof *rows->v);
    }
    rows->v[rows->n++] = *r;
    return rows->n >= YS_FOLLOW_BATCH; /* the rest at the next poll */
}

/* Keeps the newest YS_FOLLOW_BATCH rows instead (the replay at start). */
static int collect_tail(const struct ys_result *r, void *arg)
{
    struct rows *rows = arg;
    if (rows->n == YS_FOLLOW_BATCH) {
        memmove(rows->v, rows->v + 1, (rows->n - 1) * sizeof *rows->v);
        rows->n--;
    }
    collect(r, rows);
    return 0;
}

static int open_incident(const struct ys_incident *inc, void *arg)
{
    struct ys_incident *open = arg;
    if (inc->end_ms == 0 && inc->start_ms >= open->start_ms)
        *open = *inc;
    return 0;
}

/* A store error: logged once per outage, not once per check and poll
 * (the PostgreSQL store reconnects by itself; the feed just tries again). */
static void store_failed(struct ys_follower *f, const struct ys_check *ck, const char *what,
                         const struct ys_err *err)
{
    if (ys_worker_failed(f->w))
        ys_warn("follow", "check %s: %s: %s (retrying; further errors not logged)", ck->name, what,
                err->msg);
}

/* The state of ck; hint is where it was found in the last pass (the
 * followed checks come in config order, so usually right there). */
static struct check_state *state_for(struct ys_follower *f, const struct ys_check *ck, size_t hint)
{
    for (size_t k = 0; k < f->n_st; k++) {
        size_t i = (hint + k) % f->n_st;
        if (strcmp(f->st[i].name, ck->name) == 0) {
            if (f->st[i].id != ck->store_id)
                f->st[i].started = false;
            f->st[i].id = ck->store_id;
            f->st[i].seen = true;
            return &f->st[i];
        }
    }
    f->st = ys_xrealloc(f->st, (f->n_st + 1) * sizeof *f->st);
    f->st[f->n_st] =
        (struct check_state){.name = ys_xstrdup(ck->name), .id = ck->store_id, .seen = true};
    return &f->st[f->n_st++];
}

/* Reads ck's open incident and last results into st (see the top).
 * Returns false on a store error (tried again next tick). */
static bool start_check(struct ys_follower *f, struct ys_store *s, const struct ys_check *ck,
                        struct check_state *st, int64_t now)
{
    struct ys_err err = {{0}};
    struct ys_incident open = {.start_ms = -1};
    int64_t step =
        ck->interval_ms > YS_FOLLOW_MIN_POLL_MS ? ck->interval_ms : YS_FOLLOW_MIN_POLL_MS;
    int64_t from = now - (int64_t)(ck->incident_open_after + ck->incident_close_after + 2) * step -
                   ck->timeout_ms;
    struct rows rows = {0};
    if (s->type->query_incidents(s, ck->store_id, now, INT64_MAX, open_incident, &open, &err) < 0 ||
        s->type->query_raw(s, ck->store_id, from, now + FUTURE_MS, collect_tail, &rows, &err) < 0) {
        store_failed(f, ck, "reading its state", &err);
        free(rows.v);
        return false;
    }
    ys_incident_tracker_init(&st->t, ck->store_id, ck->incident_open_after,
                             ck->incident_close_after);
    if (open.start_ms >= 0)
        ys_incident_tracker_resume(&st->t, &open);
    int64_t newest = from - 1;
    for (size_t i = 0; i < rows.n; i++) {
        if (rows.v[i].ts_ms > open.start_ms) /* after the resumed incident's start */
            ys_incident_feed(&st->t, rows.v[i].ts_ms, rows.v[i].ok, rows.v[i].message, NULL);
        if (rows.v[i].ts_ms > newest)
            newest = rows.v[i].ts_ms;
    }
    free(rows.v);
    ys_follow_cursor_init(&st->cur, newest, now);
    st->started = true;
    return true;
}

/* Queues one result for the loop; false when the queue is full. */
static bool emit(struct ys_follower *f, const char *name, const struct ys_result *r, bool open)
{
    struct out_item it;
    snprintf(it.name, sizeof it.name, "%s", name);
    it.open = open;
    it.r = *r;
    return ys_worker_push(f->w, &it);
}

/* One poll of ck: its results after the cursor, in order. Returns how
 * many were queued. */
static size_t poll_check(struct ys_follower *f, struct ys_store *s, const struct ys_check *ck,
                         struct check_state *st, int64_t now)
{
    struct ys_err err = {{0}};
    struct rows rows = {0};
    size_t sent = 0;
    if (s->type->query_raw(s, ck->store_id, st->cur.seen_ms + 1, now + FUTURE_MS, collect, &rows,
                           &err) < 0) {
        store_failed(f, ck, "reading new results", &err);
        free(rows.v);
        return 0; /* the cursor stays: the same results next time */
    }
    for (size_t i = 0; i < rows.n; i++) {
        const struct ys_result *r = &rows.v[i];
        if (r->ts_ms <= st->cur.seen_ms)
            continue;
        struct ys_incident_tracker t = st->t; /* committed only once queued */
        ys_incident_feed(&t, r->ts_ms, r->ok, r->message, NULL);
        if (!emit(f, ck->name, r, t.open))
            break; /* the loop is behind: from here at the next poll */
        st->t = t;
        ys_follow_cursor_take(&st->cur, r->ts_ms);
        sent++;
    }
    free(rows.v);
    ys_follow_cursor_polled(&st->cur, now, ck->interval_ms);
    return sent;
}

static void pass(void *owner, struct ys_store *s, const struct ys_config *cfg)
{
    struct ys_follower *f = owner;
    size_t sent = 0, hint = 0;
    for (size_t i = 0; i < f->n_st; i++)
        f->st[i].seen = false;
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        if (!ck->store_id || !ys_follow_wants(cfg, ck))
            continue;
        int64_t now = ys_wall_ms();
        struct check_state *st = state_for(f, ck, hint++);
        if (!st->started && !start_check(f, s, ck, st, now))
            continue;
        if (ys_follow_cursor_due(&st->cur, now))
            sent += poll_check(f, s, ck, st, now);
    }
    if (sent)
        ys_worker_wake(f->w);
    for (size_t i = 0; i < f->n_st; i++)
        if (!f->st[i].seen) /* probed here now (a reload), or gone */
            f->st[i].started = false;
}

static bool follows_any(const struct ys_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_checks; i++)
        if (ys_follow_wants(cfg, &cfg->checks[i]))
            return true;
    return false;
}

/* Loop thread: hands a queued result to the callback. */
static void deliver(void *owner, const void *item)
{
    struct ys_follower *f = owner;
    const struct out_item *it = item;
    f->cb(it->name, &it->r, it->open, f->arg);
}

/* unsent is NULL: a non-leader feeds no alerts; resume re-reads the store. */
static void closed(void *owner)
{
    struct ys_follower *f = owner;
    for (size_t i = 0; i < f->n_st; i++)
        free(f->st[i].name);
    free(f->st);
    free(f);
}

static const struct ys_worker_ops ops = {
    .tag = "follow", .thread = "follower feed", .item_size = sizeof(struct out_item),
    .tick_ms = TICK_MS, .wants = follows_any, .pass = pass,
    .deliver = deliver, .closed = closed,
};

struct ys_follower *ys_follower_new(uv_loop_t *loop, const char *kind,
                                    const struct ys_store_options *opt, ys_follow_result_cb cb,
                                    void *arg)
{
    struct ys_follower *f = ys_xcalloc(1, sizeof *f);
    f->cb = cb;
    f->arg = arg;
    f->w = ys_worker_new(loop, kind, opt, &ops, f);
    return f;
}

void ys_follower_apply(struct ys_follower *f, struct ys_config *cfg)
{
    if (f)
        ys_worker_apply(f->w, cfg);
}

void ys_follower_resume(struct ys_follower *f)
{
    if (!f || ys_worker_running(f->w))
        return;
    for (size_t i = 0; i < f->n_st; i++)
        f->st[i].started = false; /* another leader's results came meanwhile */
    if (ys_worker_start(f->w))
        ys_info("follow", "following other shards' results (this instance holds the lease)");
}

void ys_follower_pause(struct ys_follower *f)
{
    if (!f || !ys_worker_running(f->w))
        return;
    ys_worker_stop(f->w);
    ys_info("follow", "stopped following other shards");
}

bool ys_follower_running(const struct ys_follower *f)
{
    return f && ys_worker_running(f->w);
}

void ys_follower_close(struct ys_follower *f)
{
    if (!f)
        return;
    ys_follower_pause(f);
    ys_worker_close(f->w);
}
