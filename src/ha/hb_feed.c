/*
 * hb_feed.c - the heartbeat feed thread (hb_feed.h): pings stored by any
 * daemon, from the store to the lease holder's loop.
 *
 * Every YS_HB_FEED_POLL_MS the thread reads each heartbeat check's pings
 * from YS_HB_FEED_OVERLAP_MS before the newest one it saw (query_pings, on
 * the (check_id, ts_ms) index of both backends) and queues those its own
 * seen set (live/hb_seen.h) calls news. The loop's trackers keep a seen
 * set too, with the pings this daemon took itself, so each ping is fed
 * once. The thread, its store connection, the queue and the uv_async are
 * worker.c's, as for follow.c; per-check state is touched by the thread
 * while it runs and by pause/resume after the join.
 */
#include "ha/hb_feed.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "ha/worker.h"
#include "live/hb_seen.h"
#include "probe/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pings stamped this far ahead of now still count (clock skew). */
#define FUTURE_MS (3600 * 1000LL)
#define NAME_MAX_LEN 272

struct out_item {
    char name[NAME_MAX_LEN];
    struct ys_ping_record rec; /* body NULL */
};

struct check_state {
    uint32_t id;
    int64_t newest_ms; /* the newest ping seen */
    struct ys_hb_seen seen;
};

struct ys_hb_feed {
    struct ys_worker *w;
    ys_hb_feed_cb cb;
    void *arg;
    int64_t from_ms;
    struct check_state *st; /* thread (or loop when idle) */
    size_t n_st;
};

static bool is_heartbeat(const struct ys_check *ck)
{
    return ck->type && !ck->type->start && ck->store_id &&
           strcmp(ck->type->name, "heartbeat") == 0;
}

static struct check_state *state_for(struct ys_hb_feed *f, uint32_t id)
{
    for (size_t i = 0; i < f->n_st; i++)
        if (f->st[i].id == id)
            return &f->st[i];
    f->st = ys_xrealloc(f->st, (f->n_st + 1) * sizeof *f->st);
    struct check_state *st = &f->st[f->n_st++];
    st->id = id;
    /* The first read goes back the overlap before from_ms too; what the
     * trackers' restore counted already, their own seen set drops. */
    st->newest_ms = f->from_ms;
    ys_hb_seen_init(&st->seen, INT64_MIN);
    return st;
}

struct poll_ctx {
    struct ys_hb_feed *f;
    const char *name;
    struct check_state *st;
    size_t sent;
    bool full;
};

static int take(const struct ys_ping_record *rec, void *arg)
{
    struct poll_ctx *c = arg;
    struct ys_hb_seen before = c->st->seen; /* kept only once queued */
    if (!ys_hb_seen_add(&c->st->seen, &rec->ping))
        return 0;
    struct out_item it;
    snprintf(it.name, sizeof it.name, "%s", c->name);
    it.rec = *rec;
    it.rec.body = NULL;
    it.rec.body_len = rec->body_len; /* the size, for the slot's result */
    c->full = !ys_worker_push(c->f->w, &it);
    if (c->full) {
        c->st->seen = before; /* the loop is behind: this one at the next poll */
        return 1;
    }
    if (rec->ping.ts_ms > c->st->newest_ms)
        c->st->newest_ms = rec->ping.ts_ms;
    c->sent++;
    return 0;
}

static void pass(void *owner, struct ys_store *s, const struct ys_config *cfg)
{
    struct ys_hb_feed *f = owner;
    size_t sent = 0;
    struct ys_err err = {{0}};
    int64_t now = ys_wall_ms();
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        if (!is_heartbeat(ck))
            continue;
        struct poll_ctx c = {.f = f, .name = ck->name, .st = state_for(f, ck->store_id)};
        if (s->type->query_pings(s, ck->store_id, c.st->newest_ms - YS_HB_FEED_OVERLAP_MS,
                                 now + FUTURE_MS, 0, take, &c, &err) < 0) {
            if (ys_worker_failed(f->w))
                ys_warn("hb-feed", "check %s: reading pings: %s (retrying)", ck->name, err.msg);
        }
        sent += c.sent;
        if (c.full)
            break;
    }
    if (sent)
        ys_worker_wake(f->w);
}

static bool has_heartbeats(const struct ys_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_checks; i++)
        if (is_heartbeat(&cfg->checks[i]))
            return true;
    return false;
}

/* Loop thread: hands a queued ping to the callback. */
static void deliver(void *owner, const void *item)
{
    struct ys_hb_feed *f = owner;
    const struct out_item *it = item;
    f->cb(it->name, &it->rec, f->arg);
}

static void closed(void *owner)
{
    struct ys_hb_feed *f = owner;
    free(f->st);
    free(f);
}

static const struct ys_worker_ops ops = {
    .tag = "hb-feed", .thread = "heartbeat feed", .item_size = sizeof(struct out_item),
    .tick_ms = YS_HB_FEED_POLL_MS, .wants = has_heartbeats, .pass = pass,
    .deliver = deliver, .closed = closed,
};

struct ys_hb_feed *ys_hb_feed_new(uv_loop_t *loop, const char *kind,
                                  const struct ys_store_options *opt, ys_hb_feed_cb cb, void *arg)
{
    struct ys_hb_feed *f = ys_xcalloc(1, sizeof *f);
    f->cb = cb;
    f->arg = arg;
    f->w = ys_worker_new(loop, kind, opt, &ops, f);
    return f;
}

void ys_hb_feed_apply(struct ys_hb_feed *f, struct ys_config *cfg)
{
    if (f)
        ys_worker_apply(f->w, cfg);
}

void ys_hb_feed_resume(struct ys_hb_feed *f, int64_t from_ms)
{
    if (!f || ys_worker_running(f->w))
        return;
    free(f->st); /* another leader's time since: start afresh */
    f->st = NULL;
    f->n_st = 0;
    f->from_ms = from_ms;
    ys_worker_start(f->w);
}

void ys_hb_feed_pause(struct ys_hb_feed *f)
{
    if (f)
        ys_worker_stop(f->w);
}

void ys_hb_feed_close(struct ys_hb_feed *f)
{
    if (f)
        ys_worker_close(f->w);
}
