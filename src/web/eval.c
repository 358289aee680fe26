/*
 * eval.c - the server threads' store connections and the cached SLO, goal
 * and availability figures.
 *
 * Store: each pool thread opens its own read-only connection on first use
 * (a store handle belongs to one thread) and keeps it in a thread-specific
 * slot whose destructor closes it when MHD joins the thread.
 *
 * Cache: evaluating every SLO, goal and the 24h/7d/30d availability of
 * every check reads many rollups, so the figures are computed at most every
 * YS_WEB_EVAL_TTL_MS and shared. Whoever finds them stale recomputes them
 * outside the lock while others keep serving the stale copy; only when
 * there is no copy at all do they wait. A computed evaluation is
 * immutable and reference-counted; the cache holds one reference.
 *
 * Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

static void close_store(void *p)
{
    ys_store_close(p);
}

int ys_web_store_key_init(struct ys_web *w)
{
    return pthread_key_create(&w->store_key, close_store) == 0 ? 0 : YS_EINTERNAL;
}

struct ys_store *ys_web_store(struct ys_web *w, struct ys_err *err)
{
    struct ys_store *s = pthread_getspecific(w->store_key);
    if (s)
        return s;
    struct ys_store_options opt = {
        .path = w->cfg->storage.path,
        .read_only = true,
        .retention = w->cfg->storage.retention,
    };
    if (ys_store_open(w->cfg->storage.kind, &opt, &s, err) < 0)
        return NULL;
    pthread_setspecific(w->store_key, s);
    return s;
}

void ys_web_eval_release(struct ys_web_eval *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    ys_live_snapshot_release(e->snap);
    free(e->slos);
    free(e->slo_rc);
    free(e->goals);
    free(e->goal_rc);
    free(e->avail);
    free(e);
}

static void eval_availability(struct ys_store *s, const struct ys_config *cfg, int64_t now_ms,
                              double (*avail)[3])
{
    static const int64_t spans[3] = {DAY_MS, 7 * DAY_MS, 30 * DAY_MS};
    for (size_t i = 0; i < cfg->n_checks; i++) {
        uint32_t id = cfg->checks[i].store_id;
        for (int k = 0; k < 3; k++) {
            struct ys_counts c = {0, 0};
            struct ys_err err;
            avail[i][k] = NAN;
            if (id &&
                ys_query_counts(s, &id, 1, now_ms - spans[k], now_ms, -1, &c, NULL, &err) == 0 &&
                c.total > 0)
                avail[i][k] = (double)c.good / (double)c.total;
        }
    }
}

static struct ys_web_eval *evaluate(struct ys_store *s, struct ys_live_snapshot *snap,
                                    int64_t now_ms)
{
    const struct ys_config *cfg = snap->cfg;
    struct ys_web_eval *e = ys_xcalloc(1, sizeof *e);
    atomic_init(&e->refs, 1);
    ys_live_snapshot_ref(snap);
    e->snap = snap;
    e->at_ms = now_ms;
    e->slos = ys_xcalloc(cfg->n_slos + 1, sizeof *e->slos);
    e->slo_rc = ys_xcalloc(cfg->n_slos + 1, sizeof *e->slo_rc);
    e->goals = ys_xcalloc(cfg->n_goals + 1, sizeof *e->goals);
    e->goal_rc = ys_xcalloc(cfg->n_goals + 1, sizeof *e->goal_rc);
    e->avail = ys_xcalloc(cfg->n_checks + 1, sizeof *e->avail);
    struct ys_tz tz;
    struct ys_err err = {{0}};
    if (ys_tz_load(cfg->defaults.timezone, NULL, &tz, &err) < 0)
        ys_tz_utc(&tz);
    for (size_t i = 0; i < cfg->n_slos; i++) {
        e->slo_rc[i] = ys_query_slo(s, cfg, &cfg->slos[i], &tz, now_ms, &e->slos[i], &err);
        if (e->slo_rc[i] < 0)
            ys_warn("web", "slo %s: %s", cfg->slos[i].name, err.msg);
    }
    for (size_t i = 0; i < cfg->n_goals; i++) {
        e->goal_rc[i] = ys_query_goal(s, cfg, &cfg->goals[i], &tz, now_ms, &e->goals[i], &err);
        if (e->goal_rc[i] < 0)
            ys_warn("web", "goal %s: %s", cfg->goals[i].id, err.msg);
    }
    ys_tz_free(&tz);
    eval_availability(s, cfg, now_ms, e->avail);
    return e;
}

static bool fresh(const struct ys_web_eval *e, const struct ys_web_req *req)
{
    return e && e->snap->cfg == req->snap->cfg && req->now_ms - e->at_ms < YS_WEB_EVAL_TTL_MS &&
           req->now_ms >= e->at_ms;
}

struct ys_web_eval *ys_web_eval_get(struct ys_web_req *req, struct ys_err *err)
{
    struct ys_web *w = req->web;
    struct ys_store *s = ys_web_store(w, err);
    if (!s)
        return NULL;
    pthread_mutex_lock(&w->eval_mu);
    while (!fresh(w->eval, req) && w->evaluating && !w->eval)
        pthread_cond_wait(&w->eval_cv, &w->eval_mu);
    struct ys_web_eval *e = w->eval;
    if (fresh(e, req) || (e && w->evaluating)) {
        atomic_fetch_add(&e->refs, 1);
        pthread_mutex_unlock(&w->eval_mu);
        return e;
    }
    w->evaluating = true;
    pthread_mutex_unlock(&w->eval_mu);
    struct ys_web_eval *next = evaluate(s, req->snap, req->now_ms);
    pthread_mutex_lock(&w->eval_mu);
    struct ys_web_eval *old = w->eval;
    w->eval = next;
    w->evaluating = false;
    atomic_fetch_add(&next->refs, 1);
    pthread_cond_broadcast(&w->eval_cv);
    pthread_mutex_unlock(&w->eval_mu);
    ys_web_eval_release(old);
    return next;
}

void ys_web_eval_drop(struct ys_web *w)
{
    pthread_mutex_lock(&w->eval_mu);
    struct ys_web_eval *e = w->eval;
    w->eval = NULL;
    pthread_mutex_unlock(&w->eval_mu);
    ys_web_eval_release(e);
}
