/*
 * outbox.c - the outbox thread: its queue of submissions, its loop, and
 * the public API of outbox.h.
 *
 * Data: a bounded queue of copied submissions (struct ys_sub) under `mu`,
 * filled by ys_outbox_submit from any thread (the evaluator on the loop,
 * the CLI); one struct ys_outbox_nf per configured notifier, the thread's own; a
 * libcurl multi handle on which every HTTP attempt runs.
 *
 * The loop, one pass at a time:
 *   1. take the queued submissions and a config given to ys_outbox_apply;
 *   2. commit the submissions: alert records and outbox rows in one store
 *      transaction (outbox_commit.c), then wake ys_outbox_flush callers;
 *   3. let libcurl move the transfers along and finish attempts whose
 *      requests ended; check exec attempts (exit, output, timeout);
 *   4. for every idle notifier whose rows may be due, scan its pending
 *      rows and start the next attempt (outbox_deliver.c), then
 *      Alertmanager re-posts that are due (outbox_repost.c), then, after
 *      a start, a reload or a row for an unknown name, or when the oldest
 *      reaches its max age, the rows of notifiers the config lacks
 *      (outbox_expire.c);
 *   5. sleep in curl_multi_poll until a socket, an exec process, the next
 *      due time (capped at 5 s) or curl_multi_wakeup from another thread.
 *
 * Invariants: a notifier has at most one attempt in flight (so its rows
 * go out one at a time, in order); the store is only touched on this
 * thread; a submission is committed before anything of it is sent.
 * Times are wall-clock milliseconds, as the rows store them.
 */
#include "outbox/outbox_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define POLL_CAP_MS 5000
#define POLL_NO_PIDFD_MS 20 /* exec without pidfds: how often to look */

void ys_sub_free(struct ys_sub *s)
{
    if (!s)
        return;
    free(s->doc);
    ys_strlist_free(&s->notifiers);
    free(s);
}

/* f's index into o->stats; NULL is YS_OUTBOX_REMOVED's, the last. */
static size_t stat_of(const struct ys_outbox *o, const struct ys_outbox_nf *f)
{
    return f ? f->stat : o->n_stats - 1;
}

void ys_outbox_count(struct ys_outbox *o, const struct ys_outbox_nf *f,
                     enum ys_outbox_counter which)
{
    pthread_mutex_lock(&o->mu);
    size_t i = stat_of(o, f);
    struct ys_outbox_stats_one *st = i < o->n_stats ? &o->stats[i] : NULL;
    if (st) {
        switch (which) {
        case YS_CT_DELIVERED: st->delivered++; break;
        case YS_CT_FAILED: st->attempts_failed++; break;
        case YS_CT_GIVEN_UP: st->given_up++; break;
        case YS_CT_RATE_LIMITED: st->rate_limited++; break;
        }
    }
    pthread_mutex_unlock(&o->mu);
}

void ys_outbox_set_pending(struct ys_outbox *o, const struct ys_outbox_nf *f, uint64_t pending)
{
    pthread_mutex_lock(&o->mu);
    size_t i = stat_of(o, f);
    if (i < o->n_stats)
        o->stats[i].pending = pending;
    pthread_mutex_unlock(&o->mu);
}

struct ys_outbox_nf *ys_outbox_nf(struct ys_outbox *o, const char *name)
{
    for (size_t i = 0; i < o->n_nfs; i++)
        if (strcmp(o->nfs[i]->name, name) == 0)
            return o->nfs[i];
    return NULL;
}

/* Sets f's configuration; a new or changed rate limit starts a full
 * bucket, an unchanged one keeps its tokens. */
static void nf_configure(struct ys_outbox_nf *f, const struct ys_notifier *conf, int64_t now_ms)
{
    if (!f->conf || f->bucket.rate != conf->rate_limit ||
        f->bucket.window_ms != conf->rate_window_ms)
        ys_bucket_init(&f->bucket, conf->rate_limit, conf->rate_window_ms, now_ms);
    f->conf = conf;
    f->dirty = true;
    f->requery = true; /* conservative: read what is pending afresh */
}

/* Rebuilds the notifier states for o->cfg, keeping those whose name stays
 * (attempt in flight, bucket, counters); drops the others' attempts (their
 * rows stay pending, see outbox_expire.c). The stats get one entry per
 * notifier and YS_OUTBOX_REMOVED's, whose counters carry over. */
static void rebuild(struct ys_outbox *o, int64_t now_ms)
{
    const struct ys_config *c = o->cfg;
    struct ys_outbox_nf **nfs = ys_xcalloc(c->n_notifiers ? c->n_notifiers : 1, sizeof *nfs);
    struct ys_outbox_stats_one *stats = ys_xcalloc(c->n_notifiers + 1, sizeof *stats);
    size_t n = 0;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < c->n_notifiers; i++) {
        const struct ys_notifier *conf = &c->notifiers[i];
        struct ys_outbox_nf *f = ys_outbox_nf(o, conf->name);
        if (f) {
            for (size_t j = 0; j < o->n_nfs; j++)
                if (o->nfs[j] == f)
                    o->nfs[j] = NULL; /* taken */
            stats[n] = o->stats[f->stat];
        } else {
            f = ys_xcalloc(1, sizeof *f);
            snprintf(f->name, sizeof f->name, "%s", conf->name);
            f->wake_ms = YS_NEVER;
            f->expire_ms = YS_NEVER;
            f->limited_row = -1;
            f->next_repost_ms = now_ms;
            snprintf(stats[n].name, sizeof stats[n].name, "%s", conf->name);
        }
        nf_configure(f, conf, now_ms);
        f->stat = n;
        nfs[n++] = f;
    }
    if (o->n_stats > 0)
        stats[n] = o->stats[o->n_stats - 1];
    else
        snprintf(stats[n].name, sizeof stats[n].name, "%s", YS_OUTBOX_REMOVED);
    free(o->stats);
    o->stats = stats;
    o->n_stats = n + 1;
    pthread_mutex_unlock(&o->mu);
    for (size_t j = 0; j < o->n_nfs; j++) {
        if (!o->nfs[j])
            continue;
        ys_outbox_abort(o, o->nfs[j]);
        ys_outbox_heads_free(o->nfs[j]);
        free(o->nfs[j]);
    }
    free(o->nfs);
    o->nfs = nfs;
    o->n_nfs = n;
}

/* Takes the queue and a new config; returns whether to stop. */
static bool take_work(struct ys_outbox *o, int64_t now_ms)
{
    pthread_mutex_lock(&o->mu);
    bool stopping = o->stopping;
    struct ys_config *cfg = o->new_cfg;
    o->new_cfg = NULL;
    if (o->q_head) {
        struct ys_sub **tail = &o->batch;
        while (*tail)
            tail = &(*tail)->next;
        *tail = o->q_head;
        o->q_head = o->q_tail = NULL;
        o->q_n = 0;
    }
    pthread_mutex_unlock(&o->mu);
    if (cfg) {
        ys_config_unref(o->cfg);
        o->cfg = cfg;
        rebuild(o, now_ms);
        o->orphans_due = o->orphans_announce = true;
    }
    return stopping;
}

static void commit_pending(struct ys_outbox *o, int64_t now_ms, bool last)
{
    if (!o->batch || (now_ms < o->commit_retry_ms && !last))
        return;
    if (ys_outbox_commit(o, now_ms) == 0)
        return;
    o->commit_retry_ms = now_ms + 1000;
    if (!last)
        return;
    /* Stopping with a store that refuses: nothing more can be done. */
    size_t n = 0;
    while (o->batch) {
        struct ys_sub *s = o->batch;
        o->batch = s->next;
        ys_sub_free(s);
        n++;
    }
    ys_error("notify", "outbox: %zu notification%s lost at shutdown: the store refused them", n,
             n == 1 ? "" : "s");
}

/* The poll timeout and the descriptors of exec attempts to watch. */
static int plan_poll(struct ys_outbox *o, int64_t now_ms, struct curl_waitfd *fds, unsigned *nfd)
{
    int64_t next = now_ms + POLL_CAP_MS;
    if (o->batch && o->commit_retry_ms < next)
        next = o->commit_retry_ms;
    if (o->orphans_due)
        next = now_ms;
    if (o->orphan_wake_ms < next)
        next = o->orphan_wake_ms;
    *nfd = 0;
    for (size_t i = 0; i < o->n_nfs; i++) {
        struct ys_outbox_nf *f = o->nfs[i];
        if (f->at.active && f->at.exec) {
            struct ys_notify_proc *p = &f->at.proc;
            if (p->pidfd >= 0)
                fds[(*nfd)++] = (struct curl_waitfd){.fd = p->pidfd, .events = CURL_WAIT_POLLIN};
            else if (now_ms + POLL_NO_PIDFD_MS < next)
                next = now_ms + POLL_NO_PIDFD_MS;
            if (p->out_fd >= 0)
                fds[(*nfd)++] = (struct curl_waitfd){.fd = p->out_fd, .events = CURL_WAIT_POLLIN};
            if (f->at.deadline_ms < next)
                next = f->at.deadline_ms;
        } else if (!f->at.active) {
            if (f->dirty)
                next = now_ms;
            if (f->wake_ms < next)
                next = f->wake_ms;
            if (o->reposts && f->conf && f->conf->type->ops->resend_interval_ms && o->n_firing &&
                f->next_repost_ms < next)
                next = f->next_repost_ms;
        }
    }
    return next <= now_ms ? 0 : (int)(next - now_ms);
}

static void pass(struct ys_outbox *o)
{
    int running = 0;
    curl_multi_perform(o->multi, &running);
    int64_t now = ys_wall_ms();
    ys_outbox_curl_done(o, now);
    ys_outbox_exec_poll(o, now);
    for (size_t i = 0; i < o->n_nfs; i++) {
        struct ys_outbox_nf *f = o->nfs[i];
        if (!f->at.active && (f->dirty || now >= f->wake_ms))
            ys_outbox_scan(o, f, now);
    }
    for (size_t i = 0; o->reposts && i < o->n_nfs; i++)
        if (!o->nfs[i]->at.active)
            ys_outbox_repost(o, o->nfs[i], now);
    if (o->orphans_due || now >= o->orphan_wake_ms)
        ys_outbox_orphans(o, now);
}

static void *thread_main(void *arg)
{
    struct ys_outbox *o = arg;
    if (o->reposts)
        ys_outbox_firing_load(o);
    struct curl_waitfd *fds = NULL;
    size_t fds_cap = 0;
    for (;;) {
        int64_t now = ys_wall_ms();
        bool stopping = take_work(o, now);
        commit_pending(o, now, stopping);
        if (stopping)
            break;
        pass(o);
        if (fds_cap < 2 * o->n_nfs + 1) {
            fds_cap = 2 * o->n_nfs + 1;
            fds = ys_xrealloc(fds, fds_cap * sizeof *fds);
        }
        unsigned nfd = 0;
        int timeout = plan_poll(o, ys_wall_ms(), fds, &nfd);
        int numfds = 0;
        curl_multi_poll(o->multi, fds, nfd, timeout, &numfds);
    }
    free(fds);
    for (size_t i = 0; i < o->n_nfs; i++)
        ys_outbox_abort(o, o->nfs[i]);
    pthread_mutex_lock(&o->mu);
    o->exited = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

int ys_outbox_start(struct ys_config *cfg, const char *store_kind,
                    const struct ys_store_options *opt, const struct ys_outbox_options *oo,
                    struct ys_outbox **out, struct ys_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ys_err_set(err, YS_EINTERNAL, "libcurl failed to initialise");
    struct ys_outbox *o = ys_xcalloc(1, sizeof *o);
    int rc = ys_store_open(store_kind, opt, &o->store, err);
    if (rc == 0 && (!o->store->type->notify_commit || !o->store->type->outbox_pending ||
                    !o->store->type->outbox_update || !o->store->type->query_alerts ||
                    !o->store->type->outbox_log || !o->store->type->outbox_heads ||
                    !o->store->type->outbox_next || !o->store->type->outbox_count_pending ||
                    !o->store->type->outbox_notifier_heads))
        rc = ys_err_set(err, YS_ESTORE, "the %s store does not keep a notification outbox",
                        store_kind);
    if (rc < 0) {
        if (o->store)
            ys_store_close(o->store);
        free(o);
        curl_global_cleanup();
        return rc;
    }
    o->multi = curl_multi_init();
    if (!o->multi)
        abort(); /* only when out of memory */
    o->base_url = oo->base_url ? ys_xstrdup(oo->base_url) : NULL;
    o->only_key = oo->only_key ? ys_xstrdup(oo->only_key) : NULL;
    o->orphans = !oo->no_orphans;
    o->reposts = !oo->no_reposts;
    o->orphans_due = o->orphans_announce = true; /* on the first pass */
    o->orphan_wake_ms = YS_NEVER;
    ys_config_ref(cfg);
    o->cfg = cfg;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    rebuild(o, ys_wall_ms());
    if (pthread_create(&o->thread, NULL, thread_main, o) != 0) {
        o->started = false;
        ys_outbox_stop(o);
        return ys_err_set(err, YS_EINTERNAL, "cannot start the notifier thread");
    }
    o->started = true;
    *out = o;
    return 0;
}

void ys_outbox_apply(struct ys_outbox *o, struct ys_config *cfg)
{
    if (!o || !cfg)
        return;
    ys_config_ref(cfg);
    pthread_mutex_lock(&o->mu);
    struct ys_config *old = o->new_cfg;
    o->new_cfg = cfg;
    pthread_mutex_unlock(&o->mu);
    ys_config_unref(old);
    curl_multi_wakeup(o->multi);
}

/* An owned copy of a submission. */
static struct ys_sub *sub_copy(const struct ys_alert_record *rec, enum ys_alert_event_kind kind,
                               const char *const *notifiers, size_t n)
{
    struct ys_sub *s = ys_xcalloc(1, sizeof *s);
    s->rec = *rec;
    s->doc = ys_xstrdup(rec->doc ? rec->doc : "{}");
    s->rec.doc = s->doc;
    s->kind = kind;
    s->notifiers.n = n;
    s->notifiers.v = ys_xcalloc(n ? n : 1, sizeof *s->notifiers.v);
    for (size_t i = 0; i < n; i++)
        s->notifiers.v[i] = ys_xstrdup(notifiers[i]);
    return s;
}

int ys_outbox_submit(struct ys_outbox *o, const struct ys_alert_record *rec,
                     enum ys_alert_event_kind kind, const char *const *notifiers,
                     size_t n_notifiers)
{
    struct ys_sub *s = sub_copy(rec, kind, notifiers, n_notifiers);
    pthread_mutex_lock(&o->mu);
    if (o->q_n >= YS_OUTBOX_QUEUE_MAX || o->stopping) {
        o->dropped++;
        pthread_mutex_unlock(&o->mu);
        ys_sub_free(s);
        return YS_EBUSY;
    }
    s->seq = ++o->seq_submitted;
    if (o->q_tail)
        o->q_tail->next = s;
    else
        o->q_head = s;
    o->q_tail = s;
    o->q_n++;
    o->submitted++;
    pthread_mutex_unlock(&o->mu);
    curl_multi_wakeup(o->multi);
    return 0;
}

void ys_outbox_flush(struct ys_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    uint64_t want = o->seq_submitted;
    while (o->seq_committed < want && !o->exited)
        pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

void ys_outbox_stats(struct ys_outbox *o, struct ys_outbox_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    out->n = o->n_stats;
    out->v = ys_xcalloc(o->n_stats ? o->n_stats : 1, sizeof *out->v);
    memcpy(out->v, o->stats, o->n_stats * sizeof *out->v);
    out->submitted = o->submitted;
    out->dropped = o->dropped;
    pthread_mutex_unlock(&o->mu);
}

void ys_outbox_stop(struct ys_outbox *o)
{
    if (!o)
        return;
    if (o->started) {
        pthread_mutex_lock(&o->mu);
        o->stopping = true;
        pthread_mutex_unlock(&o->mu);
        curl_multi_wakeup(o->multi);
        pthread_join(o->thread, NULL);
    }
    for (size_t i = 0; i < o->n_nfs; i++) {
        ys_outbox_abort(o, o->nfs[i]);
        ys_outbox_heads_free(o->nfs[i]);
        free(o->nfs[i]);
    }
    free(o->nfs);
    ys_outbox_firing_free(o);
    while (o->q_head) {
        struct ys_sub *s = o->q_head;
        o->q_head = s->next;
        ys_sub_free(s);
    }
    while (o->batch) {
        struct ys_sub *s = o->batch;
        o->batch = s->next;
        ys_sub_free(s);
    }
    ys_config_unref(o->new_cfg);
    ys_config_unref(o->cfg);
    free(o->stats);
    free(o->base_url);
    free(o->only_key);
    curl_multi_cleanup(o->multi);
    ys_store_close(o->store);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    free(o);
    curl_global_cleanup();
}
