/*
 * heartbeats.c - the daemon's heartbeat checks (heartbeats.h).
 *
 * Data: an array of entries, one per heartbeat check of the running
 * config, each holding its tracker (slo/heartbeat.h) and the state and
 * problem last reported to the change callback; entry_of maps a check's
 * index in the config to its entry. Pings arrive on the HTTP server's
 * threads into a queue (a linked list under mu, bounded in count and
 * bytes) and a uv_async_t wakes the loop, which feeds them to the
 * trackers in arrival order. One uv_timer_t is armed at the earliest
 * moment any tracker has something to do: a deadline (a slot missed, a
 * cron slot opening, a run reaching max_duration) or a due time (the
 * state turns "late").
 *
 * Invariants: trackers, entries and the config are touched only on the
 * loop thread; the queue only under mu. Before a ping is fed, its
 * tracker is ticked up to the ping's own time, so a ping that arrived
 * just before its deadline but was handled just after it still meets its
 * slot. Each ping is stored (ys_writer_push_ping) with the duration of
 * the run it ended and its body; each closed slot becomes one result,
 * passed to the same callback as the scheduler's probe results.
 *
 * Several daemons (docs/ha.md): every daemon stores the pings it takes,
 * but only the lease holder (leading) ticks the trackers and emits slot
 * verdicts; a follower feeds its own pings to its trackers (its own view,
 * for the API) and emits nothing. The leader also gets the pings other
 * daemons stored (ys_heartbeats_feed, from ha/hb_feed.c); each entry's
 * seen set (hb_seen.h) holds the pings fed already, so a ping this daemon
 * took and then read back from the store counts once.
 *
 * Trackers borrow their cron and zone from the check's spec (or the
 * config's default zone, loaded with the config off the loop), so both
 * are refreshed whenever the config is swapped, and the old config is
 * released only after that.
 */
#include "live/heartbeats.h"

#include "live/hb_seen.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "probe/heartbeat_spec.h"
#include "probe/probe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TICK_BATCH 16
#define DAY_MS INT64_C(86400000)
/* The timer wakes at least this often, so a step of the wall clock (which
 * the loop's monotonic timer does not see) delays a verdict by at most
 * this much. */
#define MAX_SLEEP_MS 60000

struct entry {
    char *name;
    size_t check; /* index in hb->cfg->checks */
    struct ys_hb_tracker t;
    enum ys_hb_state reported_state;
    enum ys_hb_problem reported_problem;
    struct ys_hb_seen seen; /* pings fed already */
};

struct queued {
    struct queued *next;
    char *name;
    struct ys_ping ping;
    char *body; /* owned; NULL when none */
    size_t body_len;
};

struct ys_heartbeats {
    struct ys_writer *writer;
    ys_sched_result_cb on_result;
    void *arg;
    ys_heartbeats_change_cb on_change;
    void *change_arg;
    struct ys_config *cfg;
    struct entry *v;
    size_t n;
    size_t *entry_of; /* cfg->n_checks slots: entry index + 1, 0 for other kinds */
    uv_async_t async;
    uv_timer_t timer;
    bool started;
    bool following; /* another daemon holds the lease: no ticks, no verdicts */
    int open_handles;
    pthread_mutex_t mu; /* guards the queue and refusing */
    struct queued *head, *tail;
    size_t queued, queued_bytes;
    bool refusing;
};

static bool is_heartbeat(const struct ys_check *ck)
{
    return ck->type && !ck->type->start && ck->spec && strcmp(ck->type->name, "heartbeat") == 0;
}

struct ys_heartbeats *ys_heartbeats_new(struct ys_writer *w, ys_sched_result_cb on_result,
                                        void *arg)
{
    struct ys_heartbeats *hb = ys_xcalloc(1, sizeof *hb);
    hb->writer = w;
    hb->on_result = on_result;
    hb->arg = arg;
    pthread_mutex_init(&hb->mu, NULL);
    return hb;
}

void ys_heartbeats_set_change_cb(struct ys_heartbeats *hb, ys_heartbeats_change_cb cb, void *arg)
{
    hb->on_change = cb;
    hb->change_arg = arg;
}

static struct entry *find(const struct ys_heartbeats *hb, const char *name)
{
    const struct ys_check *ck = hb->cfg ? ys_config_find(hb->cfg, name) : NULL;
    if (!ck)
        return NULL;
    size_t k = hb->entry_of[ck - hb->cfg->checks];
    return k ? &hb->v[k - 1] : NULL;
}

/* ---- config ---- */

/* A check whose definition changed starts a fresh slot at now but keeps
 * what it knows of the job: a reload must neither invent misses for the
 * time before it nor forget an open run or a problem. */
static void restart_schedule(struct ys_hb_tracker *t, const struct ys_hb_schedule *s,
                             int64_t now_ms)
{
    struct ys_hb_tracker old = *t;
    ys_hb_init(t, s, now_ms);
    t->problem = old.problem;
    t->last_ping_ms = old.last_ping_ms;
    t->last_success_ms = old.last_success_ms;
    t->last_duration_ms = old.last_duration_ms;
    memcpy(t->runs, old.runs, sizeof t->runs);
    t->n_runs = old.n_runs;
    t->ever_pinged = old.ever_pinged;
    t->missed = old.missed;
    t->failed = old.failed;
    /* A ping in the first half of the fresh slot is still the run missed
     * before the reload arriving late; otherwise it meets the fresh slot. */
    t->judged = old.missed;
}

static void rearm(struct ys_heartbeats *hb, int64_t now_ms);

void ys_heartbeats_apply(struct ys_heartbeats *hb, struct ys_config *cfg, int64_t now_ms)
{
    struct entry *v = ys_xcalloc(cfg->n_checks ? cfg->n_checks : 1, sizeof *v);
    size_t *entry_of = ys_xcalloc(cfg->n_checks ? cfg->n_checks : 1, sizeof *entry_of);
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        if (!is_heartbeat(ck))
            continue;
        struct entry *e = &v[n];
        struct ys_hb_schedule sched;
        ys_heartbeat_spec_schedule(ck->spec, &cfg->default_tz, &sched);
        e->name = ys_xstrdup(ck->name);
        e->check = i;
        struct entry *old = find(hb, ck->name);
        if (!old) {
            ys_hb_init(&e->t, &sched, now_ms);
            ys_hb_seen_init(&e->seen, INT64_MIN);
        } else {
            e->t = old->t;
            e->seen = old->seen;
            e->reported_state = old->reported_state;
            e->reported_problem = old->reported_problem;
            if (hb->cfg->checks[old->check].fingerprint == ck->fingerprint)
                e->t.sched = sched; /* same schedule; the new spec's cron and zone */
            else
                restart_schedule(&e->t, &sched, now_ms);
        }
        entry_of[i] = ++n;
    }
    for (size_t i = 0; i < hb->n; i++)
        free(hb->v[i].name);
    free(hb->v);
    free(hb->entry_of);
    hb->v = v;
    hb->n = n;
    hb->entry_of = entry_of;
    ys_config_ref(cfg);
    if (hb->cfg)
        ys_config_unref(hb->cfg);
    hb->cfg = cfg;
    rearm(hb, now_ms);
}

struct collected {
    struct ys_ping v[YS_HB_RESTORE_PINGS];
    size_t n;
};

static int collect(const struct ys_ping_record *rec, void *arg)
{
    struct collected *c = arg;
    if (c->n < YS_HB_RESTORE_PINGS)
        c->v[c->n++] = rec->ping;
    return 0;
}

struct newest {
    struct ys_result r;
    bool found;
};

static int keep_newest(const struct ys_result *r, void *arg)
{
    struct newest *n = arg;
    n->r = *r; /* oldest first: the last one kept is the newest */
    n->found = true;
    return 0;
}

/* The newest stored result of check id: the last slot judged before the
 * restart. Read in windows that grow from two slots back, so a long
 * history is not read whole, up to the raw retention (past it nothing is
 * left to find). */
static int newest_result(const struct ys_heartbeats *hb, struct ys_store *store, uint32_t id,
                         const struct ys_hb_schedule *s, int64_t now_ms, struct newest *out,
                         struct ys_err *err)
{
    int64_t span = 2 * ((s->period_ms > 0 ? s->period_ms : DAY_MS) + s->grace_ms);
    int64_t keep = hb->cfg->storage.retention.raw_ms;
    int64_t max_span = keep > 0 && keep < now_ms - DAY_MS ? keep + DAY_MS : now_ms;
    out->found = false;
    for (;;) {
        if (span > max_span)
            span = max_span;
        int rc = store->type->query_raw(store, id, now_ms - span, INT64_MAX, keep_newest, out, err);
        if (rc < 0 || out->found || span == max_span)
            return rc;
        span = span > max_span / 2 ? max_span : span * 2;
    }
}

int ys_heartbeats_restore(struct ys_heartbeats *hb, struct ys_store *store, int64_t now_ms,
                          struct ys_err *err)
{
    struct collected *c = ys_xmalloc(sizeof *c);
    struct newest *last = ys_xmalloc(sizeof *last);
    int rc = 0;
    for (size_t i = 0; i < hb->n && rc == 0; i++) {
        struct entry *e = &hb->v[i];
        uint32_t id = hb->cfg->checks[e->check].store_id;
        c->n = 0;
        if (id == 0)
            continue;
        rc =
            store->type->query_pings(store, id, 0, INT64_MAX, YS_HB_RESTORE_PINGS, collect, c, err);
        if (rc == 0)
            rc = newest_result(hb, store, id, &e->t.sched, now_ms, last, err);
        if (rc < 0 || (c->n == 0 && !last->found))
            continue;
        ys_hb_restore(&e->t, c->v, c->n, last->found ? &last->r : NULL, now_ms);
        /* Counted now: what is older than the newest ping read is old.
         * Pings taken here but not committed yet come back by the feed. */
        ys_hb_seen_init(&e->seen, c->n ? c->v[c->n - 1].ts_ms : INT64_MIN);
        ys_info("heartbeat", "check %s: %s after the last run (%zu pings read back)", e->name,
                ys_hb_state_name(ys_hb_state(&e->t, now_ms)), c->n);
    }
    free(last);
    free(c);
    return rc;
}

/* ---- results and changes ---- */

static void emit(struct ys_heartbeats *hb, const struct entry *e, struct ys_result *r)
{
    const struct ys_check *ck = &hb->cfg->checks[e->check];
    r->check_id = ck->store_id;
    if (hb->following)
        return; /* the lease holder writes the check's series */
    if (ck->store_id && hb->on_result)
        hb->on_result(ck, r, hb->arg);
}

static void tick_entry(struct ys_heartbeats *hb, struct entry *e, int64_t now_ms)
{
    struct ys_result r[TICK_BATCH];
    size_t n;
    do {
        n = ys_hb_tick(&e->t, now_ms, r, TICK_BATCH);
        for (size_t i = 0; i < n; i++)
            emit(hb, e, &r[i]);
    } while (n == TICK_BATCH);
}

static void report_changes(struct ys_heartbeats *hb, int64_t now_ms)
{
    for (size_t i = 0; i < hb->n; i++) {
        struct entry *e = &hb->v[i];
        enum ys_hb_state st = ys_hb_state(&e->t, now_ms);
        if (st == e->reported_state && e->t.problem == e->reported_problem)
            continue;
        ys_info("heartbeat", "check %s: %s -> %s%s%s", e->name, ys_hb_state_name(e->reported_state),
                ys_hb_state_name(st), e->t.problem ? ", problem " : "",
                ys_hb_problem_name(e->t.problem));
        e->reported_state = st;
        e->reported_problem = e->t.problem;
        if (hb->on_change)
            hb->on_change(&hb->cfg->checks[e->check], st, e->t.problem, now_ms, hb->change_arg);
    }
}

/* The next moment the entry's state or verdicts can change. */
static int64_t wake_at(const struct ys_hb_tracker *t, int64_t now_ms)
{
    int64_t w = ys_hb_next_deadline(t);
    bool cron = t->sched.period_ms <= 0;
    bool open = !cron || (!t->slot_closed && t->due_ms >= 0);
    if (open && t->due_ms >= now_ms && t->due_ms + 1 < w)
        w = t->due_ms + 1; /* late from one millisecond after due */
    return w;
}

static void on_timer(uv_timer_t *timer);

static void rearm(struct ys_heartbeats *hb, int64_t now_ms)
{
    if (!hb->started || hb->refusing)
        return;
    if (hb->following) {
        uv_timer_stop(&hb->timer);
        return;
    }
    int64_t w = INT64_MAX;
    for (size_t i = 0; i < hb->n; i++) {
        int64_t x = wake_at(&hb->v[i].t, now_ms);
        if (x < w)
            w = x;
    }
    if (w == INT64_MAX) {
        uv_timer_stop(&hb->timer);
        return;
    }
    int64_t delay = w - now_ms;
    delay = delay < 0 ? 0 : delay > MAX_SLEEP_MS ? MAX_SLEEP_MS : delay;
    uv_timer_start(&hb->timer, on_timer, (uint64_t)delay, 0);
}

static void tick_all(struct ys_heartbeats *hb, int64_t now_ms)
{
    for (size_t i = 0; i < hb->n; i++)
        tick_entry(hb, &hb->v[i], now_ms);
    report_changes(hb, now_ms);
    rearm(hb, now_ms);
}

static bool drain(struct ys_heartbeats *hb);

/* libuv runs expired timers before it polls the async handle, so pings
 * already queued are read first: one stamped before a deadline that
 * passed while it waited must meet its slot, not be judged late after a
 * miss emitted for it. */
static void on_timer(uv_timer_t *timer)
{
    struct ys_heartbeats *hb = timer->data;
    drain(hb);
    tick_all(hb, ys_wall_ms());
}

/* ---- pings ---- */

static void store_ping(struct ys_heartbeats *hb, const struct ys_ping *p, int64_t duration_ms,
                       const struct queued *q)
{
    struct ys_ping_record rec = {
        .ping = *p,
        .duration_ms = duration_ms,
        .body = q->body,
        .body_len = q->body_len,
    };
    if (hb->writer && p->check_id && ys_writer_push_ping(hb->writer, &rec) < 0)
        ys_debug("heartbeat", "check %s: ping not stored (the writer's queue is full)", q->name);
}

static void handle(struct ys_heartbeats *hb, struct queued *q)
{
    struct entry *e = find(hb, q->name);
    if (!e) {
        /* The config was swapped between the server's lookup and now. */
        ys_debug("heartbeat", "ping for %s dropped: no longer a heartbeat check", q->name);
        return;
    }
    struct ys_ping p = q->ping;
    p.check_id = hb->cfg->checks[e->check].store_id;
    ys_hb_seen_add(&e->seen, &p); /* fed now; not again when read back */
    tick_entry(hb, e, p.ts_ms);
    int runs_before = e->t.n_runs;
    struct ys_result r;
    int closed = ys_hb_ping(&e->t, &p, &r);
    int64_t dur = p.kind != YS_PING_START && e->t.n_runs < runs_before ? e->t.last_duration_ms : -1;
    ys_debug("heartbeat", "check %s: %s ping%s%s (%zu body bytes)%s", e->name,
             p.kind == YS_PING_START  ? "start"
             : p.kind == YS_PING_FAIL ? "fail"
                                      : "success",
             p.run_id[0] ? ", run " : "", p.run_id, q->body_len,
             closed ? "" : ", no slot to close");
    if (closed) {
        r.bytes = (int64_t)q->body_len;
        emit(hb, e, &r);
    }
    store_ping(hb, &p, dur, q);
}

void ys_heartbeats_feed(struct ys_heartbeats *hb, const char *name,
                        const struct ys_ping_record *rec)
{
    struct entry *e = find(hb, name);
    if (hb->following || !e || hb->cfg->checks[e->check].store_id != rec->ping.check_id ||
        !ys_hb_seen_add(&e->seen, &rec->ping))
        return;
    tick_entry(hb, e, rec->ping.ts_ms);
    struct ys_result r;
    if (ys_hb_ping(&e->t, &rec->ping, &r)) {
        r.bytes = (int64_t)rec->body_len;
        emit(hb, e, &r);
    }
    ys_debug("heartbeat", "check %s: ping at %lld read back from the store", e->name,
             (long long)rec->ping.ts_ms);
    tick_all(hb, ys_wall_ms());
}

void ys_heartbeats_follow(struct ys_heartbeats *hb)
{
    hb->following = true;
    rearm(hb, ys_wall_ms());
}

int ys_heartbeats_lead(struct ys_heartbeats *hb, struct ys_store *store, int64_t now_ms,
                       struct ys_err *err)
{
    int rc = store ? ys_heartbeats_restore(hb, store, now_ms, err) : 0;
    hb->following = false;
    if (hb->started && !hb->refusing)
        tick_all(hb, now_ms);
    return rc;
}

static void free_queued(struct queued *q)
{
    while (q) {
        struct queued *next = q->next;
        free(q->name);
        free(q->body);
        free(q);
        q = next;
    }
}

/* Feeds every queued ping to its tracker; returns whether there was any.
 * The caller ticks and reports afterwards. */
static bool drain(struct ys_heartbeats *hb)
{
    pthread_mutex_lock(&hb->mu);
    struct queued *q = hb->head;
    hb->head = hb->tail = NULL;
    hb->queued = hb->queued_bytes = 0;
    pthread_mutex_unlock(&hb->mu);
    if (!q)
        return false;
    for (struct queued *it = q; it; it = it->next)
        handle(hb, it);
    free_queued(q);
    return true;
}

static void on_async(uv_async_t *a)
{
    struct ys_heartbeats *hb = a->data;
    if (drain(hb))
        tick_all(hb, ys_wall_ms());
}

int ys_heartbeats_intake(struct ys_heartbeats *hb, const char *name, const struct ys_ping *p,
                         const char *body, size_t body_len)
{
    /* Every queued ping must also fit the writer's queue once the loop
     * hands it on: refusing here (503, the job retries) beats answering 200
     * and dropping it later. */
    size_t room = YS_HB_INTAKE_MAX, room_bytes = YS_HB_INTAKE_BYTES;
    if (hb->writer)
        ys_writer_ping_room(hb->writer, &room, &room_bytes);
    pthread_mutex_lock(&hb->mu);
    bool full = hb->refusing || hb->queued >= YS_HB_INTAKE_MAX ||
                hb->queued_bytes + body_len > YS_HB_INTAKE_BYTES || hb->queued >= room ||
                hb->queued_bytes + body_len > room_bytes;
    pthread_mutex_unlock(&hb->mu);
    if (full)
        return YS_EBUSY;
    /* Copies outside the lock, so a large body does not hold up others. */
    struct queued *q = ys_xcalloc(1, sizeof *q);
    q->name = ys_xstrdup(name);
    q->ping = *p;
    if (body && body_len) {
        q->body = ys_xmalloc(body_len);
        memcpy(q->body, body, body_len);
        q->body_len = body_len;
    }
    pthread_mutex_lock(&hb->mu);
    if (hb->refusing) {
        pthread_mutex_unlock(&hb->mu);
        free_queued(q);
        return YS_EBUSY;
    }
    if (hb->tail)
        hb->tail->next = q;
    else
        hb->head = q;
    hb->tail = q;
    hb->queued++;
    hb->queued_bytes += body_len;
    /* Under the lock, so close cannot slip in between the check of
     * refusing and the send on a handle being closed. */
    if (hb->started)
        uv_async_send(&hb->async);
    pthread_mutex_unlock(&hb->mu);
    return 0;
}

/* ---- life cycle ---- */

void ys_heartbeats_start(struct ys_heartbeats *hb, uv_loop_t *loop)
{
    uv_async_init(loop, &hb->async, on_async);
    hb->async.data = hb;
    uv_timer_init(loop, &hb->timer);
    hb->timer.data = hb;
    hb->open_handles = 2;
    pthread_mutex_lock(&hb->mu);
    hb->started = true;
    pthread_mutex_unlock(&hb->mu);
    drain(hb);
    tick_all(hb, ys_wall_ms());
}

static void handle_closed(uv_handle_t *h)
{
    struct ys_heartbeats *hb = h->data;
    hb->open_handles--;
}

void ys_heartbeats_close(struct ys_heartbeats *hb)
{
    if (!hb)
        return;
    pthread_mutex_lock(&hb->mu);
    bool was_started = hb->started && !hb->refusing;
    hb->refusing = true;
    pthread_mutex_unlock(&hb->mu);
    if (!was_started)
        return;
    uv_timer_stop(&hb->timer);
    uv_close((uv_handle_t *)&hb->async, handle_closed);
    uv_close((uv_handle_t *)&hb->timer, handle_closed);
}

void ys_heartbeats_free(struct ys_heartbeats *hb)
{
    if (!hb)
        return;
    if (hb->open_handles)
        ys_error("heartbeat", "freed with %d loop handles still open", hb->open_handles);
    free_queued(hb->head);
    for (size_t i = 0; i < hb->n; i++)
        free(hb->v[i].name);
    free(hb->v);
    free(hb->entry_of);
    if (hb->cfg)
        ys_config_unref(hb->cfg);
    pthread_mutex_destroy(&hb->mu);
    free(hb);
}

/* ---- status ---- */

int ys_heartbeats_status_at(const struct ys_heartbeats *hb, size_t i, int64_t now_ms,
                            struct ys_hb_status *out)
{
    if (!hb->cfg || i >= hb->cfg->n_checks || !hb->entry_of[i])
        return YS_ENOTFOUND;
    const struct ys_hb_tracker *t = &hb->v[hb->entry_of[i] - 1].t;
    out->state = ys_hb_state(t, now_ms);
    out->problem = t->problem;
    out->last_ping_ms = t->last_ping_ms;
    out->last_success_ms = t->last_success_ms;
    out->last_duration_ms = t->last_duration_ms;
    out->next_due_ms = t->due_ms;
    if (t->sched.period_ms <= 0 && t->due_ms >= 0 && t->slot_closed)
        out->next_due_ms = ys_cron_next(t->sched.cron, t->sched.tz, t->due_ms);
    return 0;
}

int ys_heartbeats_status(const struct ys_heartbeats *hb, const char *name, int64_t now_ms,
                         struct ys_hb_status *out)
{
    const struct ys_check *ck = hb->cfg ? ys_config_find(hb->cfg, name) : NULL;
    if (!ck)
        return YS_ENOTFOUND;
    return ys_heartbeats_status_at(hb, (size_t)(ck - hb->cfg->checks), now_ms, out);
}

void ys_heartbeats_fill_live(const struct ys_heartbeats *hb, struct ys_live_state *live,
                             int64_t now_ms)
{
    for (size_t i = 0; i < hb->n; i++) {
        struct ys_hb_status s;
        if (ys_heartbeats_status_at(hb, hb->v[i].check, now_ms, &s) < 0)
            continue;
        struct ys_live_heartbeat lh = {
            .present = true,
            .state = (uint8_t)s.state,
            .problem = (uint8_t)s.problem,
            .last_ping_ms = s.last_ping_ms,
            .last_success_ms = s.last_success_ms,
            .last_duration_ms = s.last_duration_ms,
            .next_due_ms = s.next_due_ms,
        };
        ys_live_state_set_heartbeat(live, hb->v[i].name, &lh);
    }
}
