/*
 * hb_feed.c - the heartbeat feed thread (hb_feed.h): pings stored by any
 * daemon, from the store to the lease holder's loop.
 *
 * Every YS_HB_FEED_POLL_MS the thread reads each heartbeat check's pings
 * from YS_HB_FEED_OVERLAP_MS before the newest one it saw (query_pings, on
 * the (check_id, ts_ms) index of both backends) and queues those its own
 * seen set (live/hb_seen.h) calls news. The loop's trackers keep a seen
 * set too, with the pings this daemon took itself, so each ping is fed
 * once. Queue and uv_async as in follow.c; per-check state is touched by
 * the thread while it runs and by pause/resume after the join.
 */
#include "ha/hb_feed.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "live/hb_seen.h"
#include "probe/probe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX 4096
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
    uv_loop_t *loop;
    uv_async_t async;
    char *kind, *path;
    struct ys_store_options opt;
    ys_hb_feed_cb cb;
    void *arg;
    pthread_t thread;
    bool running; /* loop thread's view */
    int64_t from_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ys_config *cfg; /* lock */
    bool stop;             /* lock */
    struct out_item *q;    /* lock: for the loop */
    size_t q_n, q_cap;
    struct check_state *st; /* thread (or loop when idle) */
    size_t n_st;
    bool failing;
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
    pthread_mutex_lock(&c->f->lock);
    struct ys_hb_feed *f = c->f;
    c->full = f->q_n >= QUEUE_MAX;
    if (!c->full) {
        if (f->q_n == f->q_cap) {
            f->q_cap = f->q_cap ? f->q_cap * 2 : 16;
            f->q = ys_xrealloc(f->q, f->q_cap * sizeof *f->q);
        }
        struct out_item *it = &f->q[f->q_n++];
        snprintf(it->name, sizeof it->name, "%s", c->name);
        it->rec = *rec;
        it->rec.body = NULL;
        it->rec.body_len = rec->body_len; /* the size, for the slot's result */
    }
    pthread_mutex_unlock(&c->f->lock);
    if (c->full) {
        c->st->seen = before; /* the loop is behind: this one at the next poll */
        return 1;
    }
    if (rec->ping.ts_ms > c->st->newest_ms)
        c->st->newest_ms = rec->ping.ts_ms;
    c->sent++;
    return 0;
}

static size_t pass(struct ys_hb_feed *f, struct ys_store *s, const struct ys_config *cfg)
{
    size_t sent = 0, errors = 0;
    struct ys_err err = {{0}};
    int64_t now = ys_wall_ms();
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        if (!is_heartbeat(ck))
            continue;
        struct poll_ctx c = {.f = f, .name = ck->name, .st = state_for(f, ck->store_id)};
        if (s->type->query_pings(s, ck->store_id, c.st->newest_ms - YS_HB_FEED_OVERLAP_MS,
                                 now + FUTURE_MS, 0, take, &c, &err) < 0) {
            if (!f->failing && errors == 0)
                ys_warn("hb-feed", "check %s: reading pings: %s (retrying)", ck->name, err.msg);
            errors++;
        }
        sent += c.sent;
        if (c.full)
            break;
    }
    if (f->failing && errors == 0)
        ys_info("hb-feed", "reading the store again");
    f->failing = errors > 0;
    return sent;
}

static void wait_tick(struct ys_hb_feed *f, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (!f->stop)
        pthread_cond_timedwait(&f->cond, &f->lock, &ts);
}

static bool has_heartbeats(const struct ys_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_checks; i++)
        if (is_heartbeat(&cfg->checks[i]))
            return true;
    return false;
}

static void *run(void *arg)
{
    struct ys_hb_feed *f = arg;
    struct ys_store *store = NULL;
    bool warned = false;
    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        struct ys_config *cfg = f->cfg;
        ys_config_ref(cfg);
        pthread_mutex_unlock(&f->lock);
        struct ys_err err = {{0}};
        if (!store && has_heartbeats(cfg) && ys_store_open(f->kind, &f->opt, &store, &err) < 0) {
            if (!warned)
                ys_error("hb-feed", "cannot open the store: %s (retrying)", err.msg);
            warned = true;
            store = NULL;
        }
        if (store && cfg && pass(f, store, cfg))
            uv_async_send(&f->async);
        ys_config_unref(cfg);
        pthread_mutex_lock(&f->lock);
        wait_tick(f, YS_HB_FEED_POLL_MS);
    }
    pthread_mutex_unlock(&f->lock);
    ys_store_close(store);
    return NULL;
}

static void on_async(uv_async_t *h)
{
    struct ys_hb_feed *f = h->data;
    pthread_mutex_lock(&f->lock);
    struct out_item *q = f->q;
    size_t n = f->q_n;
    f->q = NULL;
    f->q_n = f->q_cap = 0;
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < n; i++)
        f->cb(q[i].name, &q[i].rec, f->arg);
    free(q);
}

struct ys_hb_feed *ys_hb_feed_new(uv_loop_t *loop, const char *kind,
                                  const struct ys_store_options *opt, ys_hb_feed_cb cb, void *arg)
{
    struct ys_hb_feed *f = ys_xcalloc(1, sizeof *f);
    f->loop = loop;
    f->kind = ys_xstrdup(kind ? kind : "sqlite");
    f->path = ys_xstrdup(opt->path ? opt->path : "");
    f->opt = *opt;
    f->opt.path = f->path;
    f->opt.read_only = true;
    f->cb = cb;
    f->arg = arg;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    uv_async_init(loop, &f->async, on_async);
    f->async.data = f;
    return f;
}

void ys_hb_feed_apply(struct ys_hb_feed *f, struct ys_config *cfg)
{
    if (!f)
        return;
    ys_config_ref(cfg);
    pthread_mutex_lock(&f->lock);
    struct ys_config *old = f->cfg;
    f->cfg = cfg;
    pthread_mutex_unlock(&f->lock);
    ys_config_unref(old);
}

void ys_hb_feed_resume(struct ys_hb_feed *f, int64_t from_ms)
{
    if (!f || f->running)
        return;
    free(f->st); /* another leader's time since: start afresh */
    f->st = NULL;
    f->n_st = 0;
    f->from_ms = from_ms;
    pthread_mutex_lock(&f->lock);
    f->stop = false;
    pthread_mutex_unlock(&f->lock);
    if (pthread_create(&f->thread, NULL, run, f) != 0) {
        ys_error("hb-feed", "cannot start the heartbeat feed thread");
        return;
    }
    f->running = true;
}

void ys_hb_feed_pause(struct ys_hb_feed *f)
{
    if (!f || !f->running)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    f->running = false;
    free(f->q);
    f->q = NULL;
    f->q_n = f->q_cap = 0;
}

static void on_closed(uv_handle_t *h)
{
    struct ys_hb_feed *f = h->data;
    free(f->st);
    free(f->q);
    ys_config_unref(f->cfg);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f->kind);
    free(f->path);
    free(f);
}

void ys_hb_feed_close(struct ys_hb_feed *f)
{
    if (!f)
        return;
    ys_hb_feed_pause(f);
    uv_close((uv_handle_t *)&f->async, on_closed);
}
