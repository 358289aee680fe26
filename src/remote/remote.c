/*
 * remote.c - the remote-write threads: results in, batches out to every
 * remote_write: endpoint, through each endpoint's on-disk queue.
 *
 * Threads: one writer, and one sender per endpoint, so that a slow or
 * silent receiver never holds up the disk queue, nor the other endpoints.
 *
 * The writer (run), one pass at a time (the shape of src/outbox/outbox.c):
 *   1. wait on `wake` until an item, a stop, a flush request or the next
 *      partial batch's flush_interval;
 *   2. turn the items into samples, appended to every endpoint's batch;
 *   3. cut full batches (batch_size samples), and partial ones whose oldest
 *      sample waited flush_interval, encode them (encode.c), append each to
 *      the endpoint's queue, fsync'd, and wake its sender.
 * It never waits for a receiver, so the hand-over list only fills when the
 * disk cannot keep up.
 *
 * A sender (send_loop) sends its endpoint's oldest queued batch whenever
 * there is one and it is not backing off: sent, it is acknowledged; a 5xx,
 * 429 or network failure retries after an exponential backoff with jitter
 * (100 ms doubling up to 5 s, times 0.5-1, counted from the answer) or the
 * receiver's Retry-After, whichever is longer; any other 4xx drops and
 * counts it.
 *
 * Data and locks: `mu` guards the hand-over list of items (one per result
 * or heartbeat change, its labels already read from the check), filled by
 * ys_remote_push on the daemon's loop, with a running count of its samples.
 * Each endpoint's `mu` guards its queue (queue.c, shared by the writer and
 * the sender) and its counters; the batch being built belongs to the
 * writer, the HTTP client and backoff to the sender. No thread holds two
 * of these mutexes at once, and none holds one across a request.
 *
 * Staleness: the writer remembers, per label set of a check (its `base`),
 * which series it has sent samples in and the newest timestamp (`seen`,
 * stale.c). A reload hands over the label sets of the new config's checks
 * (ys_remote_apply); every remembered set not among them (a check removed,
 * renamed or relabelled) gets a staleness marker in each of its series,
 * so the receiver ends them at once, as it does for a vanished scrape
 * target. The set is remembered as ended until the next reload: a result
 * of it that was still on its way (a probe in flight at the reload) is
 * older than the marker, and Prometheus would refuse the whole batch
 * holding it as out of order, so it is left out.
 *
 * Invariants: a batch is on disk before any of it is sent; an endpoint
 * sends one batch at a time, oldest first, so each series' samples reach
 * the receiver in time order. On stop the batch being built goes to disk,
 * so the next start sends it, and a request in flight is let finish
 * (bounded by the endpoint's timeout) so that a batch the receiver took is
 * recorded as sent. Waits and deadlines are monotonic milliseconds; sample
 * timestamps are wall-clock epoch milliseconds.
 */
#include "remote/remote.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "remote/remote_send.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ITEMS_MAX 20000 /* hand-over cap: minutes of a busy daemon */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define RETRY_AFTER_MAX_MS 60000 /* a receiver's Retry-After is honoured up to this */
#define IDLE_WAIT_MS 60000

#define ITEM_RESULT (-1)
#define ITEM_APPLY (-2)

/* One result or heartbeat change: only what encode.c reads, not the whole
 * struct ys_result (a kilobyte of message and facts). Or a reload's list
 * of the label sets that remain (ITEM_APPLY). */
struct item {
    struct item *next;
    char *base; /* labels of the check ("name\0value\0" pairs) */
    size_t base_len;
    int hb_state;            /* a heartbeat state, ITEM_RESULT or ITEM_APPLY */
    struct ys_rw_blob *keep; /* ITEM_APPLY: the label sets of the new config's checks */
    size_t n_keep;
    bool ok;
    uint8_t flags;
    uint32_t n_samples;
    int64_t ts_ms, duration_us, not_after;
    double value;
    int32_t phase_us[YS_PHASE_COUNT];
};

struct ep {
    const struct ys_remote_write *conf; /* in rw->cfg */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t wake;           /* a batch queued, or the stop */
    struct ys_rwq *q;              /* under mu */
    struct ys_remote_stats_one st; /* under mu; pending: on disk plus the batch */
    size_t unqueued;               /* under mu: samples in the batch being built */
    bool stop;                     /* under mu */
    /* The writer's. */
    struct ys_rw_samples batch; /* being built */
    int64_t batch_since_ms;     /* when its oldest sample arrived */
    /* The sender's. */
    struct ys_rw_sender snd;
    int64_t retry_at_ms, backoff_ms;
    uint64_t failures; /* consecutive failed requests, for the log */
    unsigned seed;
};

struct ys_remote {
    struct ys_config *cfg;
    struct ys_rw_seen seen; /* the writer's; stale.c */
    struct ep *eps;
    size_t n_eps;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake, flushed;
    struct item *head, *tail;
    size_t n_items;
    uint64_t waiting;      /* samples handed over and not yet in a batch */
    uint64_t lost;         /* samples refused because the hand-over was full */
    uint64_t pushed, done; /* items handed over / turned into queued batches */
    bool flush_req, stop_req;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ys_remote *g_current; /* what /metrics reads; see remote.h */

static int64_t now_ms(void)
{
    return ys_mono_us() / 1000;
}

static void item_free(struct item *it)
{
    free(it->base);
    for (size_t i = 0; i < it->n_keep; i++)
        free(it->keep[i].p);
    free(it->keep);
    free(it);
}

static void enqueue(struct ys_remote *rw, struct item *it)
{
    pthread_mutex_lock(&rw->mu);
    /* A reload's list is let in over the cap: it carries no samples. */
    if ((rw->n_items >= ITEMS_MAX && it->hb_state != ITEM_APPLY) || rw->stop_req) {
        rw->lost += it->n_samples;
        pthread_mutex_unlock(&rw->mu);
        item_free(it);
        return;
    }
    if (rw->tail)
        rw->tail->next = it;
    else
        rw->head = it;
    rw->tail = it;
    rw->n_items++;
    rw->pushed++;
    rw->waiting += it->n_samples;
    pthread_cond_signal(&rw->wake);
    pthread_mutex_unlock(&rw->mu);
}

void ys_remote_push(struct ys_remote *rw, const struct ys_check *check, const struct ys_result *r)
{
    if (!rw)
        return;
    struct item *it = ys_xcalloc(1, sizeof *it);
    it->base = ys_rw_base_labels(check, &it->base_len);
    it->hb_state = ITEM_RESULT;
    it->ts_ms = r->ts_ms;
    it->duration_us = r->duration_us;
    it->ok = r->ok;
    it->flags = r->flags;
    it->value = r->value;
    memcpy(it->phase_us, r->phase_us, sizeof it->phase_us);
    it->not_after = r->tls.leaf_not_after;
    it->n_samples = (uint32_t)ys_rw_result_count(r);
    enqueue(rw, it);
}

void ys_remote_push_heartbeat(struct ys_remote *rw, const struct ys_check *check, int state,
                              int64_t ts_ms)
{
    if (!rw)
        return;
    struct item *it = ys_xcalloc(1, sizeof *it);
    it->base = ys_rw_base_labels(check, &it->base_len);
    it->hb_state = state;
    it->ts_ms = ts_ms;
    it->n_samples = (uint32_t)ys_rw_heartbeat_count();
    enqueue(rw, it);
}

void ys_remote_apply(struct ys_remote *rw, const struct ys_config *cfg)
{
    if (!rw)
        return;
    struct item *it = ys_xcalloc(1, sizeof *it);
    it->hb_state = ITEM_APPLY;
    it->ts_ms = ys_wall_ms();
    it->keep = ys_xcalloc(cfg->n_checks ? cfg->n_checks : 1, sizeof *it->keep);
    for (size_t i = 0; i < cfg->n_checks; i++)
        it->keep[i].p = ys_rw_base_labels(&cfg->checks[i], &it->keep[i].len);
    it->n_keep = cfg->n_checks;
    enqueue(rw, it);
}

/* The result an item carries (ITEM_RESULT). */
static void item_result(const struct item *it, struct ys_result *r)
{
    ys_result_init(r);
    r->ts_ms = it->ts_ms;
    r->duration_us = it->duration_us;
    r->ok = it->ok;
    r->flags = it->flags;
    r->value = it->value;
    memcpy(r->phase_us, it->phase_us, sizeof r->phase_us);
    r->tls.leaf_not_after = it->not_after;
}

/* Appends the samples of one item to every endpoint's batch. */
static void item_samples(struct ys_remote *rw, const struct item *it, int64_t now)
{
    struct ys_result r;
    uint32_t series = YS_RW_S_HEARTBEAT;
    for (size_t i = 0; i < rw->n_eps; i++)
        if (rw->eps[i].batch.n == 0)
            rw->eps[i].batch_since_ms = now;
    if (it->hb_state == ITEM_APPLY) {
        struct ys_rw_samples **batches = ys_xcalloc(rw->n_eps, sizeof *batches);
        for (size_t i = 0; i < rw->n_eps; i++)
            batches[i] = &rw->eps[i].batch;
        ys_rw_seen_apply(&rw->seen, it->keep, it->n_keep, it->ts_ms, batches, rw->n_eps);
        free(batches);
        return;
    }
    if (it->hb_state == ITEM_RESULT) {
        item_result(it, &r);
        series = ys_rw_result_series(&r);
    }
    if (!ys_rw_seen_note(&rw->seen, it->base, it->base_len, it->ts_ms, series)) {
        ys_debug("remote", "a result of a check the reload removed, older than its staleness "
                           "markers: not sent");
        return;
    }
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        if (it->hb_state == ITEM_RESULT)
            ys_rw_result_samples(&e->batch, it->base, it->base_len, &r);
        else
            ys_rw_heartbeat_samples(&e->batch, it->base, it->base_len, it->hb_state, it->ts_ms);
    }
}

/* Encodes the first n samples of e's batch, appends them to its queue and
 * wakes its sender. The writer's. */
static void queue_batch(struct ep *e, size_t n)
{
    struct ys_rw_samples b = {0};
    struct ys_err err = {{0}};
    char *body = NULL;
    size_t len = 0;
    uint64_t dropped = 0;
    ys_rw_samples_move(&b, &e->batch, n);
    size_t given = b.n;
    int rc = ys_rw_encode(b.v, &b.n, &body, &len, &err);
    pthread_mutex_lock(&e->mu);
    if (rc == 0)
        rc = ys_rwq_append(e->q, body, len, (uint32_t)b.n, &dropped, &err);
    if (rc < 0)
        dropped += b.n;
    dropped += given - b.n; /* replaced by a later value at the same time */
    e->st.dropped += dropped;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->mu);
    if (rc < 0)
        ys_error("remote", "%s: %zu samples lost: %s", e->conf->name, b.n, err.msg);
    else if (dropped > given - b.n)
        ys_warn("remote", "%s: queue over queue_max (%lld bytes): %llu oldest samples dropped",
                e->conf->name, (long long)e->conf->queue_max,
                (unsigned long long)(dropped - (given - b.n)));
    free(body);
    ys_rw_samples_free(&b);
}

/* Steps 2 and 3: the items' samples into every batch, full or due batches
 * to disk. force: everything to disk (a flush or the stop). */
static void build_batches(struct ys_remote *rw, struct item *items, int64_t now, bool force)
{
    for (struct item *it = items, *next; it; it = next) {
        next = it->next;
        item_samples(rw, it, now);
        for (size_t i = 0; i < rw->n_eps; i++) {
            struct ep *e = &rw->eps[i];
            while (e->batch.n >= (size_t)e->conf->batch_size)
                queue_batch(e, (size_t)e->conf->batch_size);
        }
        item_free(it);
    }
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        if (e->batch.n > 0 && (force || now - e->batch_since_ms >= e->conf->flush_interval_ms))
            queue_batch(e, e->batch.n);
    }
}

/* Refreshes e's queue figures; e->mu held. */
static void refresh(struct ep *e)
{
    e->st.queue_bytes = ys_rwq_bytes(e->q);
    e->st.pending = ys_rwq_samples(e->q) + e->unqueued;
}

/* When the writer must wake next without new items: the oldest partial
 * batch's flush_interval. */
static int64_t next_due(struct ys_remote *rw, int64_t now)
{
    int64_t due = now + IDLE_WAIT_MS;
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        if (e->batch.n > 0 && e->batch_since_ms + e->conf->flush_interval_ms < due)
            due = e->batch_since_ms + e->conf->flush_interval_ms;
    }
    return due;
}

/* Waits on cond (its clock monotonic) with mu held, at most until due. */
static void wait_due(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t due)
{
    int64_t left = due - now_ms();
    if (left <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(cond, mu, &ts);
}

static void *run(void *arg)
{
    struct ys_remote *rw = arg;
    int64_t due = now_ms();
    for (;;) {
        pthread_mutex_lock(&rw->mu);
        while (!rw->head && !rw->stop_req && !rw->flush_req && now_ms() < due)
            wait_due(&rw->wake, &rw->mu, due);
        struct item *items = rw->head;
        rw->head = rw->tail = NULL;
        rw->n_items = 0;
        bool stop = rw->stop_req, force = stop || rw->flush_req;
        rw->flush_req = false;
        uint64_t taken = rw->pushed, taken_samples = 0;
        for (const struct item *it = items; it; it = it->next)
            taken_samples += it->n_samples;
        pthread_mutex_unlock(&rw->mu);
        int64_t now = now_ms();
        build_batches(rw, items, now, force);
        for (size_t i = 0; i < rw->n_eps; i++) {
            pthread_mutex_lock(&rw->eps[i].mu);
            rw->eps[i].unqueued = rw->eps[i].batch.n;
            refresh(&rw->eps[i]);
            pthread_mutex_unlock(&rw->eps[i].mu);
        }
        pthread_mutex_lock(&rw->mu);
        rw->waiting -= taken_samples;
        rw->done = taken;
        pthread_cond_broadcast(&rw->flushed);
        pthread_mutex_unlock(&rw->mu);
        if (stop)
            break;
        due = next_due(rw, now_ms());
    }
    return NULL;
}

/* The next wait after a failure: doubling, capped, times 0.5-1 so that many
 * yardsticks behind one receiver do not retry in step. */
static int64_t backoff(struct ep *e)
{
    e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (e->backoff_ms > BACKOFF_MAX_MS)
        e->backoff_ms = BACKOFF_MAX_MS;
    double f = 0.5 + 0.5 * ((double)rand_r(&e->seed) / RAND_MAX);
    return (int64_t)((double)e->backoff_ms * f);
}

/* After a request: the counters, the ack, the backoff. e->mu held. */
static void settle(struct ep *e, enum ys_rw_outcome out, uint32_t ns, int64_t retry_after_ms,
                   const char *why)
{
    struct ys_err err = {{0}};
    if (out != YS_RW_RETRY && ys_rwq_ack(e->q, &err) < 0)
        ys_warn("remote", "%s: %s (the batch may be sent again)", e->conf->name, err.msg);
    if (out == YS_RW_SENT)
        e->st.sent += ns;
    else if (out == YS_RW_RETRY)
        e->st.failed += ns;
    else
        e->st.dropped += ns;
    refresh(e);
    if (out == YS_RW_RETRY) {
        if (e->failures++ % 20 == 0)
            ys_warn("remote", "%s: %u samples not sent, will retry: %s", e->conf->name, ns, why);
        int64_t wait = backoff(e);
        if (retry_after_ms > RETRY_AFTER_MAX_MS)
            retry_after_ms = RETRY_AFTER_MAX_MS;
        /* Counted from the answer, so a slow failure is not retried at once. */
        e->retry_at_ms = now_ms() + (retry_after_ms > wait ? retry_after_ms : wait);
        return;
    }
    if (e->failures > 0)
        ys_info("remote", "%s: sending again after %llu failed attempts", e->conf->name,
                (unsigned long long)e->failures);
    e->failures = 0;
    e->backoff_ms = 0;
    if (out == YS_RW_DROP)
        ys_warn("remote", "%s: the receiver refused %u samples (dropped): %s", e->conf->name, ns,
                why);
}

/* One endpoint's sender: the oldest queued batch out, one at a time. */
static void *send_loop(void *arg)
{
    struct ep *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->stop && (ys_rwq_samples(e->q) == 0 || now_ms() < e->retry_at_ms))
            wait_due(&e->wake, &e->mu,
                     ys_rwq_samples(e->q) > 0 ? e->retry_at_ms : now_ms() + IDLE_WAIT_MS);
        if (e->stop)
            break;
        struct ys_err err = {{0}};
        char *body = NULL, why[256];
        size_t len = 0;
        uint32_t ns = 0;
        uint64_t dropped = 0;
        int rc = ys_rwq_peek(e->q, &body, &len, &ns, &dropped, &err);
        e->st.dropped += dropped;
        if (rc < 0)
            ys_error("remote", "%s: %s", e->conf->name, err.msg);
        if (rc == 1)
            wait_due(&e->wake, &e->mu, now_ms() + IDLE_WAIT_MS); /* nothing after all */
        if (rc != 0)
            continue; /* rc < 0: the bad record was skipped; on to the next */
        pthread_mutex_unlock(&e->mu);
        int64_t retry_after_ms = 0;
        enum ys_rw_outcome out = ys_rw_send(&e->snd, body, len, why, sizeof why, &retry_after_ms);
        free(body);
        pthread_mutex_lock(&e->mu);
        settle(e, out, ns, retry_after_ms, why);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

char *ys_remote_default_dir(const struct ys_config *cfg)
{
    /* A PostgreSQL store's "path" is its connection string: no folder in it. */
    if (cfg->storage.kind && strcmp(cfg->storage.kind, "postgres") == 0)
        return ys_xstrdup("var/remote_write");
    const char *path = cfg->storage.path ? cfg->storage.path : "var/yardstick.db";
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ys_xstrdup("remote_write");
    return ys_xasprintf("%.*s/remote_write", (int)(slash - path), path);
}

/* Stops and joins the senders, then frees every endpoint. */
static void free_eps(struct ys_remote *rw)
{
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        pthread_mutex_lock(&e->mu);
        e->stop = true;
        pthread_cond_signal(&e->wake);
        pthread_mutex_unlock(&e->mu);
    }
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        if (e->started)
            pthread_join(e->thread, NULL);
        ys_rwq_close(e->q);
        ys_rw_sender_free(&e->snd);
        ys_rw_samples_free(&e->batch);
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->mu);
    }
    free(rw->eps);
}

static int open_ep(struct ep *e, const char *dir, struct ys_err *err)
{
    snprintf(e->st.name, sizeof e->st.name, "%s", e->conf->name);
    char *sub = e->conf->queue_dir ? ys_xstrdup(e->conf->queue_dir)
                                   : ys_xasprintf("%s/%s", dir, e->conf->name);
    int rc = ys_rwq_open(sub, e->conf->queue_max, &e->q, err);
    free(sub);
    if (rc == 0 && ys_rw_sender_init(&e->snd, e->conf) < 0)
        rc = ys_err_set(err, YS_EINTERNAL, "%s: cannot initialise libcurl", e->conf->name);
    if (rc < 0)
        return rc;
    refresh(e);
    if (e->st.pending > 0)
        ys_info("remote", "%s: resuming %llu queued samples", e->conf->name,
                (unsigned long long)e->st.pending);
    if (pthread_create(&e->thread, NULL, send_loop, e) != 0)
        return ys_err_set(err, YS_EINTERNAL, "%s: cannot start a remote-write thread",
                          e->conf->name);
    e->started = true;
    return 0;
}

static int open_eps(struct ys_remote *rw, const char *dir, struct ys_err *err)
{
    rw->eps = ys_xcalloc(rw->cfg->n_remote_writes, sizeof *rw->eps);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = 0;
    for (size_t i = 0; i < rw->cfg->n_remote_writes && rc == 0; i++) {
        struct ep *e = &rw->eps[i];
        e->conf = &rw->cfg->remote_writes[i];
        e->seed = (unsigned)ys_mono_us() ^ (unsigned)i;
        pthread_mutex_init(&e->mu, NULL);
        pthread_cond_init(&e->wake, &ca);
        rw->n_eps++;
        rc = open_ep(e, dir, err);
    }
    pthread_condattr_destroy(&ca);
    return rc;
}

int ys_remote_start(struct ys_config *cfg, const char *dir, struct ys_remote **out,
                    struct ys_err *err)
{
    *out = NULL;
    if (cfg->n_remote_writes == 0)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ys_err_set(err, YS_EINTERNAL, "cannot initialise libcurl");
    struct ys_remote *rw = ys_xcalloc(1, sizeof *rw);
    ys_config_ref(cfg);
    rw->cfg = cfg;
    pthread_mutex_init(&rw->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rw->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&rw->flushed, NULL);
    int rc = open_eps(rw, dir, err);
    if (rc == 0 && pthread_create(&rw->thread, NULL, run, rw) != 0)
        rc = ys_err_set(err, YS_EINTERNAL, "cannot start the remote-write thread");
    if (rc < 0) {
        free_eps(rw);
        pthread_cond_destroy(&rw->wake);
        pthread_cond_destroy(&rw->flushed);
        pthread_mutex_destroy(&rw->mu);
        ys_config_unref(rw->cfg);
        free(rw);
        curl_global_cleanup();
        return rc;
    }
    pthread_mutex_lock(&g_mu);
    g_current = rw;
    pthread_mutex_unlock(&g_mu);
    *out = rw;
    return 0;
}

static bool str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static bool endpoint_differs(const struct ys_remote_write *a, const struct ys_remote_write *b)
{
    if (str_differ(a->name, b->name) || str_differ(a->url, b->url) ||
        str_differ(a->bearer_token, b->bearer_token) || str_differ(a->username, b->username) ||
        str_differ(a->password, b->password) || str_differ(a->ca_file, b->ca_file) ||
        str_differ(a->cert_file, b->cert_file) || str_differ(a->key_file, b->key_file) ||
        a->insecure_skip_verify != b->insecure_skip_verify || a->batch_size != b->batch_size ||
        a->flush_interval_ms != b->flush_interval_ms || a->queue_max != b->queue_max ||
        a->timeout_ms != b->timeout_ms || str_differ(a->queue_dir, b->queue_dir) ||
        a->headers.n != b->headers.n)
        return true;
    for (size_t i = 0; i < a->headers.n; i++)
        if (str_differ(a->headers.keys[i], b->headers.keys[i]) ||
            str_differ(a->headers.values[i], b->headers.values[i]))
            return true;
    return false;
}

bool ys_remote_config_changed(const struct ys_config *a, const struct ys_config *b)
{
    if (a->n_remote_writes != b->n_remote_writes)
        return true;
    for (size_t i = 0; i < a->n_remote_writes; i++)
        if (endpoint_differs(&a->remote_writes[i], &b->remote_writes[i]))
            return true;
    return false;
}

void ys_remote_flush(struct ys_remote *rw)
{
    if (!rw)
        return;
    pthread_mutex_lock(&rw->mu);
    uint64_t want = rw->pushed;
    rw->flush_req = true;
    pthread_cond_signal(&rw->wake);
    while (rw->done < want || rw->flush_req)
        pthread_cond_wait(&rw->flushed, &rw->mu);
    pthread_mutex_unlock(&rw->mu);
}

void ys_remote_stats(struct ys_remote *rw, struct ys_remote_stats *out)
{
    out->n = 0;
    out->v = NULL;
    if (!rw)
        return;
    pthread_mutex_lock(&rw->mu);
    uint64_t waiting = rw->waiting, lost = rw->lost;
    pthread_mutex_unlock(&rw->mu);
    out->v = ys_xcalloc(rw->n_eps ? rw->n_eps : 1, sizeof *out->v);
    for (size_t i = 0; i < rw->n_eps; i++) {
        pthread_mutex_lock(&rw->eps[i].mu);
        out->v[i] = rw->eps[i].st;
        pthread_mutex_unlock(&rw->eps[i].mu);
        out->v[i].pending += waiting;
        out->v[i].dropped += lost;
    }
    out->n = rw->n_eps;
}

void ys_remote_stats_current(struct ys_remote_stats *out)
{
    pthread_mutex_lock(&g_mu);
    ys_remote_stats(g_current, out);
    pthread_mutex_unlock(&g_mu);
}

void ys_remote_stop(struct ys_remote *rw)
{
    if (!rw)
        return;
    pthread_mutex_lock(&g_mu);
    if (g_current == rw)
        g_current = NULL;
    pthread_mutex_unlock(&g_mu);
    pthread_mutex_lock(&rw->mu);
    rw->stop_req = true;
    pthread_cond_signal(&rw->wake);
    pthread_mutex_unlock(&rw->mu);
    pthread_join(rw->thread, NULL); /* the batches being built are on disk */
    for (struct item *it = rw->head, *next; it; it = next) {
        next = it->next;
        item_free(it);
    }
    free_eps(rw);
    ys_rw_seen_free(&rw->seen);
    pthread_cond_destroy(&rw->wake);
    pthread_cond_destroy(&rw->flushed);
    pthread_mutex_destroy(&rw->mu);
    ys_config_unref(rw->cfg);
    free(rw);
    curl_global_cleanup();
}
