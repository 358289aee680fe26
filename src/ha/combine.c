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
 * The thread, its store connection, the queue to the loop and the uv_async
 * are worker.c's; this file keeps what to read and how to combine. The
 * per-check states are touched only by the thread while it runs and by
 * pause after the join.
 */
#include "ha/combine.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "ha/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How far back a starting leader combines (slots per check). */
#define YS_COMBINE_MAX_SLOTS 200
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
    struct ys_worker *w;
    ys_combine_result_cb cb;
    void *arg;
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
    struct out_item it;
    snprintf(it.name, sizeof it.name, "%s", name);
    it.r = *r;
    if (!ys_worker_push(c->w, &it))
        return false;
    ys_worker_wake(c->w);
    return true;
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

static void pass(void *owner, struct ys_store *s, const struct ys_config *cfg)
{
    size_t hint = 0;
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        if (ck->locations.n == 0)
            continue;
        combine_check(owner, s, ck, hint++, ys_wall_ms());
    }
}

static bool has_locations(const struct ys_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_checks; i++)
        if (cfg->checks[i].locations.n)
            return true;
    return false;
}

/* Loop thread: hands a queued result to the callback. */
static void deliver(void *owner, const void *item)
{
    struct ys_combiner *c = owner;
    const struct out_item *it = item;
    c->cb(it->name, &it->r, c->arg);
}

/* After the join: a result the loop never took goes back to being
 * uncombined, so the next leader (or this one, later) makes it. */
static void unsent(void *owner, const void *item)
{
    struct ys_combiner *c = owner;
    const struct out_item *it = item;
    const struct ys_check *ck = ys_config_find(ys_worker_config(c->w), it->name);
    int64_t s = ck ? ys_combine_slot_start(ck->name, ck->interval_ms, it->r.ts_ms) : it->r.ts_ms;
    for (size_t j = 0; j < c->n_st; j++)
        if (strcmp(c->st[j].name, it->name) == 0 && s < c->st[j].next_ms)
            c->st[j].next_ms = s;
}

static void closed(void *owner)
{
    struct ys_combiner *c = owner;
    for (size_t i = 0; i < c->n_st; i++)
        free(c->st[i].name);
    free(c->st);
    free(c);
}

static const struct ys_worker_ops ops = {
    .tag = "combine", .thread = "combiner", .item_size = sizeof(struct out_item),
    .tick_ms = TICK_MS, .wants = has_locations, .pass = pass,
    .deliver = deliver, .unsent = unsent, .closed = closed,
};

struct ys_combiner *ys_combiner_new(uv_loop_t *loop, const char *kind,
                                    const struct ys_store_options *opt, ys_combine_result_cb cb,
                                    void *arg)
{
    struct ys_combiner *c = ys_xcalloc(1, sizeof *c);
    c->cb = cb;
    c->arg = arg;
    c->w = ys_worker_new(loop, kind, opt, &ops, c);
    return c;
}

void ys_combiner_apply(struct ys_combiner *c, struct ys_config *cfg)
{
    if (c)
        ys_worker_apply(c->w, cfg);
}

void ys_combiner_resume(struct ys_combiner *c)
{
    if (ys_worker_running(c->w))
        return;
    for (size_t i = 0; i < c->n_st; i++)
        c->st[i].derived = false;
    if (ys_worker_start(c->w))
        ys_info("combine", "combining multi-location checks (this instance holds the lease)");
}

void ys_combiner_pause(struct ys_combiner *c)
{
    if (!c || !ys_worker_running(c->w))
        return;
    ys_worker_stop(c->w);
    ys_info("combine", "stopped combining");
}

bool ys_combiner_running(const struct ys_combiner *c)
{
    return c && ys_worker_running(c->w);
}

void ys_combiner_close(struct ys_combiner *c)
{
    if (!c)
        return;
    ys_combiner_pause(c);
    ys_worker_close(c->w);
}
