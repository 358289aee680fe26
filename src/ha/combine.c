/*
 * combine.c - the combiner: per-location results in, k-of-n verdicts out.
 *
 * Runs on the lease holder only, on a thread of its own (it reads the
 * store, which may block; the loop never waits on it). Every second it
 * walks the multi-location checks of the current config. For each it
 * keeps `next`: the start of the first slot not yet combined. A slot
 * [s, s + interval) (combine_verdict.c says how slots align) is combined
 * once every location has a result in it, or once it is older than
 * interval + timeout + YS_COMBINE_GRACE_MS whatever arrived; slots are
 * combined in order, so one late location holds back only its own check.
 * The results of each location come from the store (query_raw of the
 * "<check>@<location>" series, on a read connection of the thread's own),
 * because the other locations' daemons write them there.
 *
 * Continuity across leaders: when the thread starts (the lease was won),
 * each check's `next` is derived from the newest combined result in the
 * store, or kept from this process's own memory when that is later (its
 * results may still sit in the writer's queue), so a new leader neither
 * leaves a gap nor writes a slot twice. At most YS_COMBINE_MAX_SLOTS
 * slots are looked back; older ones stay uncombined (logged).
 *
 * Combined results go to the loop through a locked queue and a uv_async;
 * the loop hands them to the daemon's callback. The per-check states are
 * touched only by the thread while it runs and by pause after the join.
 */
#include "ha/combine.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How far back a starting leader combines (slots per check). */
#define YS_COMBINE_MAX_SLOTS 200
/* Combined results waiting for the loop, at most. */
#define YS_COMBINE_QUEUE_MAX 4096
#define TICK_MS 1000

struct out_item {
    char name[YS_LOC_NAME_MAX];
    struct ys_result r;
};

struct check_state {
    char *name;
    int64_t next_ms; /* start of the first slot not yet combined; 0: not known */
    bool derived;    /* next_ms was checked against the store since the thread started */
};

struct ys_combiner {
    uv_loop_t *loop;
    uv_async_t async;
    char *kind, *path;
    struct ys_store_options opt;
    ys_combine_result_cb cb;
    void *arg;
    pthread_t thread;
    bool running; /* loop thread's view: a thread was started and not joined */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ys_config *cfg; /* lock */
    bool stop;             /* lock */
    struct out_item *q;    /* lock: for the loop */
    size_t q_n, q_cap;
    struct check_state *st; /* thread (or loop when paused) */
    size_t n_st;
};

/* One location's results over the slots being combined, oldest first. */
struct loc_rows {
    struct ys_result *v;
    size_t n, cap, pos;
};

static int collect(const struct ys_result *r, void *arg)
{
    struct loc_rows *rows = arg;
    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 16;
        rows->v = ys_xrealloc(rows->v, rows->cap * sizeof *rows->v);
    }
    rows->v[rows->n++] = *r;
    return 0;
}

static int newest(const struct ys_result *r, void *arg)
{
    int64_t *ts = arg;
    if (r->ts_ms > *ts)
        *ts = r->ts_ms;
    return 0;
}

static struct check_state *state_for(struct ys_combiner *c, const char *name, size_t hint)
{
    if (hint < c->n_st && strcmp(c->st[hint].name, name) == 0)
        return &c->st[hint];
    for (size_t i = 0; i < c->n_st; i++)
        if (strcmp(c->st[i].name, name) == 0)
            return &c->st[i];
    c->st = ys_xrealloc(c->st, (c->n_st + 1) * sizeof *c->st);
    c->st[c->n_st] = (struct check_state){.name = ys_xstrdup(name)};
    return &c->st[c->n_st++];
}

/* Where a leader that starts now goes on for ck: after the newest
 * combined result, never before the look-back horizon. */
static void derive_next(struct ys_store *s, const struct ys_check *ck, struct check_state *st,
                        int64_t now)
{
    int64_t iv = ck->interval_ms;
    int64_t horizon = ys_combine_slot_start(ck->name, iv, now - YS_COMBINE_MAX_SLOTS * iv);
    int64_t ts = 0;
    struct ys_err err = {{0}};
    if (ck->store_id &&
        s->type->query_raw(s, ck->store_id, horizon, now + 1, newest, &ts, &err) < 0) {
        ys_warn("combine", "check %s: reading combined results: %s", ck->name, err.msg);
        return; /* try again next tick */
    }
    int64_t from_store = ts ? ys_combine_slot_start(ck->name, iv, ts) + iv : horizon;
    if (st->next_ms < from_store)
        st->next_ms = from_store;
    if (st->next_ms < horizon) {
        ys_warn("combine", "check %s: slots before %lld not combined (over %d slots back)",
                ck->name, (long long)horizon, YS_COMBINE_MAX_SLOTS);
        st->next_ms = horizon;
    }
    st->derived = true;
}

/* The newest result of rows in [s, e), advancing rows->pos; NULL if none. */
static const struct ys_result *in_slot(struct loc_rows *rows, int64_t s, int64_t e)
{
    const struct ys_result *hit = NULL;
    while (rows->pos < rows->n && rows->v[rows->pos].ts_ms < s)
        rows->pos++;
    for (size_t i = rows->pos; i < rows->n && rows->v[i].ts_ms < e; i++)
        hit = &rows->v[i];
    return hit;
}

/* Queues one combined result for the loop; false when the queue is full. */
static bool emit(struct ys_combiner *c, const char *name, const struct ys_result *r)
{
    pthread_mutex_lock(&c->lock);
    bool ok = c->q_n < YS_COMBINE_QUEUE_MAX;
    if (ok) {
        if (c->q_n == c->q_cap) {
            c->q_cap = c->q_cap ? c->q_cap * 2 : 16;
            c->q = ys_xrealloc(c->q, c->q_cap * sizeof *c->q);
        }
        struct out_item *it = &c->q[c->q_n++];
        snprintf(it->name, sizeof it->name, "%s", name);
        it->r = *r;
    }
    pthread_mutex_unlock(&c->lock);
    if (ok)
        uv_async_send(&c->async);
    return ok;
}

/* Combines the finished slots of ck from st->next_ms on. */
static void combine_slots(struct ys_combiner *c, const struct ys_check *ck, struct check_state *st,
                          struct loc_rows *rows, int64_t now)
{
    size_t n = ck->locations.n;
    const struct ys_result **pick = ys_xcalloc(n, sizeof *pick);
    const char *const *names = (const char *const *)ck->locations.v;
    int64_t iv = ck->interval_ms;
    for (int64_t s = st->next_ms; s <= now; s += iv) {
        size_t have = 0;
        for (size_t j = 0; j < n; j++)
            have += (pick[j] = in_slot(&rows[j], s, s + iv)) != NULL;
        bool final = now >= s + iv + ck->timeout_ms + YS_COMBINE_GRACE_MS;
        if (have < n && !final)
            break; /* wait for the late locations */
        struct ys_result out;
        if (ys_combine_verdict(names, pick, n, ck->down_when_failing, &out) > 0) {
            out.check_id = ck->store_id;
            out.ts_ms = s + iv / 2;
            if (!emit(c, ck->name, &out))
                break; /* the loop is behind: this slot again next tick */
        }
        st->next_ms = s + iv;
    }
    free(pick);
}

/* One pass over check ck: reads its locations' results and combines. */
static void combine_check(struct ys_combiner *c, struct ys_store *s, const struct ys_check *ck,
                          size_t hint, int64_t now)
{
    struct check_state *st = state_for(c, ck->name, hint);
    if (!st->derived)
        derive_next(s, ck, st, now);
    if (!st->derived || !ck->store_id)
        return;
    int64_t first = ys_combine_slot_start(ck->name, ck->interval_ms, st->next_ms);
    if (first != st->next_ms) /* the interval changed on reload: realign */
        st->next_ms = first + ck->interval_ms;
    size_t n = ck->locations.n;
    struct loc_rows *rows = ys_xcalloc(n, sizeof *rows);
    int rc = 0;
    for (size_t j = 0; j < n && rc == 0; j++) {
        uint32_t id = ys_combine_series_id(ck->name, ck->locations.v[j]);
        struct ys_err err = {{0}};
        if (id &&
            (rc = s->type->query_raw(s, id, st->next_ms, now + 1, collect, &rows[j], &err)) < 0)
            ys_warn("combine", "check %s@%s: %s", ck->name, ck->locations.v[j], err.msg);
    }
    if (rc == 0)
        combine_slots(c, ck, st, rows, now);
    for (size_t j = 0; j < n; j++)
        free(rows[j].v);
    free(rows);
}

static void pass(struct ys_combiner *c, struct ys_store *s, const struct ys_config *cfg)
{
    size_t hint = 0;
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        if (ck->locations.n == 0)
            continue;
        combine_check(c, s, ck, hint++, ys_wall_ms());
    }
}

static bool has_locations(const struct ys_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_checks; i++)
        if (cfg->checks[i].locations.n)
            return true;
    return false;
}

/* Waits up to ms on the condition; lock held. Returns whether to stop. */
static bool wait_tick(struct ys_combiner *c, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (!c->stop)
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    return c->stop;
}

static void *run(void *arg)
{
    struct ys_combiner *c = arg;
    struct ys_store *store = NULL;
    bool warned = false;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct ys_config *cfg = c->cfg;
        ys_config_ref(cfg);
        pthread_mutex_unlock(&c->lock);
        struct ys_err err = {{0}};
        /* No connection (a PostgreSQL session) until a check needs one. */
        if (!store && has_locations(cfg) && ys_store_open(c->kind, &c->opt, &store, &err) < 0) {
            if (!warned)
                ys_error("combine", "cannot open the store: %s (retrying)", err.msg);
            warned = true;
            store = NULL;
        }
        if (store && cfg)
            pass(c, store, cfg);
        ys_config_unref(cfg);
        pthread_mutex_lock(&c->lock);
        wait_tick(c, TICK_MS);
    }
    pthread_mutex_unlock(&c->lock);
    ys_store_close(store);
    return NULL;
}

/* Loop thread: hands queued results to the callback. */
static void on_async(uv_async_t *h)
{
    struct ys_combiner *c = h->data;
    pthread_mutex_lock(&c->lock);
    struct out_item *q = c->q;
    size_t n = c->q_n;
    c->q = NULL;
    c->q_n = c->q_cap = 0;
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < n; i++)
        c->cb(q[i].name, &q[i].r, c->arg);
    free(q);
}

struct ys_combiner *ys_combiner_new(uv_loop_t *loop, const char *kind,
                                    const struct ys_store_options *opt, ys_combine_result_cb cb,
                                    void *arg)
{
    struct ys_combiner *c = ys_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->kind = ys_xstrdup(kind);
    c->path = ys_xstrdup(opt->path ? opt->path : "");
    c->opt = *opt;
    c->opt.path = c->path;
    c->opt.read_only = true;
    c->cb = cb;
    c->arg = arg;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    uv_async_init(loop, &c->async, on_async);
    c->async.data = c;
    return c;
}

void ys_combiner_apply(struct ys_combiner *c, struct ys_config *cfg)
{
    if (!c)
        return;
    ys_config_ref(cfg);
    pthread_mutex_lock(&c->lock);
    struct ys_config *old = c->cfg;
    c->cfg = cfg;
    pthread_mutex_unlock(&c->lock);
    ys_config_unref(old);
}

void ys_combiner_resume(struct ys_combiner *c)
{
    if (c->running)
        return;
    for (size_t i = 0; i < c->n_st; i++)
        c->st[i].derived = false;
    pthread_mutex_lock(&c->lock);
    c->stop = false;
    pthread_mutex_unlock(&c->lock);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        ys_error("combine", "cannot start the combiner thread");
        return;
    }
    c->running = true;
    ys_info("combine", "combining multi-location checks (this instance holds the lease)");
}

/* After the join: results the loop never took go back to being
 * uncombined, so the next leader (or this one, later) makes them. */
static void drop_queue(struct ys_combiner *c)
{
    for (size_t i = 0; i < c->q_n; i++)
        for (size_t j = 0; j < c->n_st; j++)
            if (strcmp(c->st[j].name, c->q[i].name) == 0) {
                const struct ys_config *cfg = c->cfg;
                const struct ys_check *ck = ys_config_find(cfg, c->q[i].name);
                int64_t s = ck ? ys_combine_slot_start(ck->name, ck->interval_ms, c->q[i].r.ts_ms)
                               : c->q[i].r.ts_ms;
                if (s < c->st[j].next_ms)
                    c->st[j].next_ms = s;
            }
    free(c->q);
    c->q = NULL;
    c->q_n = c->q_cap = 0;
}

void ys_combiner_pause(struct ys_combiner *c)
{
    if (!c || !c->running)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    c->running = false;
    drop_queue(c);
    ys_info("combine", "stopped combining");
}

bool ys_combiner_running(const struct ys_combiner *c)
{
    return c && c->running;
}

static void on_closed(uv_handle_t *h)
{
    struct ys_combiner *c = h->data;
    for (size_t i = 0; i < c->n_st; i++)
        free(c->st[i].name);
    free(c->st);
    free(c->q);
    ys_config_unref(c->cfg);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c->kind);
    free(c->path);
    free(c);
}

void ys_combiner_close(struct ys_combiner *c)
{
    if (!c)
        return;
    ys_combiner_pause(c);
    uv_close((uv_handle_t *)&c->async, on_closed);
}
