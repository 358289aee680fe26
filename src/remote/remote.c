/*
 * remote.c - the remote-write thread: results in, batches out to every
 * remote_write: endpoint, through each endpoint's on-disk queue.
 *
 * Data: a bounded hand-over list of items (one per result or heartbeat
 * change, its labels already read from the check) under `mu`, filled by
 * ys_remote_push on the daemon's loop; per endpoint, the samples of the
 * batch being built, its queue (queue.c), its HTTP client (send.c), its
 * backoff and its counters (the counters under `mu`, for /metrics).
 *
 * The loop, one pass at a time (the shape of src/outbox/outbox.c):
 *   1. wait on the condition until an item, a stop, a flush request or the
 *      next due time (a partial batch's flush_interval, a retry);
 *   2. turn the items into samples, appended to every endpoint's batch;
 *   3. cut full batches (batch_size samples), and partial ones whose
 *      oldest sample waited flush_interval, encode them (encode.c) and
 *      append each to the endpoint's queue, fsync'd;
 *   4. for each endpoint not backing off, send the oldest queued batch:
 *      sent, it is acknowledged; a 5xx, 429 or network failure sets a
 *      retry after an exponential backoff with jitter (100 ms doubling up
 *      to 5 s, times 0.5-1); any other 4xx drops and counts it.
 *
 * Invariants: a batch is on disk before any of it is sent; an endpoint
 * sends one batch at a time, oldest first, so each series' samples reach
 * the receiver in time order; only this thread touches queues and
 * clients. On stop the batch being built goes to disk, so the next start
 * sends it. Times are monotonic milliseconds.
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
#define IDLE_WAIT_MS 60000

struct item {
    struct item *next;
    char *base; /* labels of the check ("name\0value\0" pairs) */
    size_t base_len;
    int hb_state;       /* -1: a result */
    struct ys_result r; /* only the fields encode.c reads; message and facts empty */
};

struct ep {
    const struct ys_remote_write *conf; /* in rw->cfg */
    struct ys_rwq *q;
    struct ys_rw_sender snd;
    struct ys_rw_samples batch; /* being built */
    int64_t batch_since_ms;     /* when its oldest sample arrived */
    int64_t retry_at_ms;
    int64_t backoff_ms;
    uint64_t failures;             /* consecutive failed requests, for the log */
    struct ys_remote_stats_one st; /* under rw->mu */
};

struct ys_remote {
    struct ys_config *cfg;
    struct ep *eps;
    size_t n_eps;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake, flushed;
    struct item *head, *tail;
    size_t n_items;
    uint64_t pushed, done; /* items handed over / turned into queued batches */
    bool flush_req, stop_req;
    atomic_bool stopping; /* read by transfers in flight */
    unsigned seed;
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
    free(it);
}

/* Counts n dropped samples for every endpoint (the hand-over was full). */
static void count_dropped_all(struct ys_remote *rw, uint64_t n)
{
    for (size_t i = 0; i < rw->n_eps; i++)
        rw->eps[i].st.dropped += n;
}

static void enqueue(struct ys_remote *rw, struct item *it, size_t samples)
{
    pthread_mutex_lock(&rw->mu);
    if (rw->n_items >= ITEMS_MAX || rw->stop_req) {
        count_dropped_all(rw, samples);
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
    for (size_t i = 0; i < rw->n_eps; i++)
        rw->eps[i].st.pending += samples;
    pthread_cond_signal(&rw->wake);
    pthread_mutex_unlock(&rw->mu);
}

void ys_remote_push(struct ys_remote *rw, const struct ys_check *check, const struct ys_result *r)
{
    if (!rw)
        return;
    struct item *it = ys_xcalloc(1, sizeof *it);
    it->base = ys_rw_base_labels(check, &it->base_len);
    it->hb_state = -1;
    ys_result_init(&it->r);
    it->r.ts_ms = r->ts_ms;
    it->r.duration_us = r->duration_us;
    it->r.ok = r->ok;
    it->r.flags = r->flags;
    it->r.value = r->value;
    memcpy(it->r.phase_us, r->phase_us, sizeof it->r.phase_us);
    it->r.tls.leaf_not_after = r->tls.leaf_not_after;
    enqueue(rw, it, ys_rw_result_count(r));
}

void ys_remote_push_heartbeat(struct ys_remote *rw, const struct ys_check *check, int state,
                              int64_t ts_ms)
{
    if (!rw)
        return;
    struct item *it = ys_xcalloc(1, sizeof *it);
    it->base = ys_rw_base_labels(check, &it->base_len);
    it->hb_state = state;
    it->r.ts_ms = ts_ms;
    enqueue(rw, it, 6); /* one per heartbeat state */
}

/* Encodes the first n samples of e's batch and appends them to its queue. */
static void queue_batch(struct ys_remote *rw, struct ep *e, size_t n)
{
    struct ys_rw_samples b = {0};
    struct ys_err err = {{0}};
    char *body = NULL;
    size_t len = 0;
    uint64_t dropped = 0;
    ys_rw_samples_move(&b, &e->batch, n);
    size_t given = b.n;
    int rc = ys_rw_encode(b.v, &b.n, &body, &len, &err);
    if (rc == 0)
        rc = ys_rwq_append(e->q, body, len, (uint32_t)b.n, &dropped, &err);
    if (rc < 0) {
        ys_error("remote", "%s: %zu samples lost: %s", e->conf->name, b.n, err.msg);
        dropped += b.n;
    }
    dropped += given - b.n; /* replaced by a later value at the same time */
    if (dropped > 0 && rc == 0)
        ys_warn("remote", "%s: queue over queue_max (%lld bytes): %llu oldest samples dropped",
                e->conf->name, (long long)e->conf->queue_max, (unsigned long long)dropped);
    pthread_mutex_lock(&rw->mu);
    e->st.dropped += dropped;
    pthread_mutex_unlock(&rw->mu);
    free(body);
    ys_rw_samples_free(&b);
}

/* Steps 2 and 3: the items' samples into every batch, full or due batches
 * to disk. force: everything to disk (a flush or the stop). */
static void build_batches(struct ys_remote *rw, struct item *items, int64_t now, bool force)
{
    for (struct item *it = items, *next; it; it = next) {
        next = it->next;
        for (size_t i = 0; i < rw->n_eps; i++) {
            struct ep *e = &rw->eps[i];
            if (e->batch.n == 0)
                e->batch_since_ms = now;
            if (it->hb_state >= 0)
                ys_rw_heartbeat_samples(&e->batch, it->base, it->base_len, it->hb_state,
                                        it->r.ts_ms);
            else
                ys_rw_result_samples(&e->batch, it->base, it->base_len, &it->r);
            while (e->batch.n >= (size_t)e->conf->batch_size)
                queue_batch(rw, e, (size_t)e->conf->batch_size);
        }
        item_free(it);
    }
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        if (e->batch.n > 0 && (force || now - e->batch_since_ms >= e->conf->flush_interval_ms))
            queue_batch(rw, e, e->batch.n);
    }
}

/* The next wait after a failure: doubling, capped, times 0.5-1 so that many
 * yardsticks behind one receiver do not retry in step. */
static int64_t backoff(struct ys_remote *rw, struct ep *e)
{
    e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (e->backoff_ms > BACKOFF_MAX_MS)
        e->backoff_ms = BACKOFF_MAX_MS;
    double f = 0.5 + 0.5 * ((double)rand_r(&rw->seed) / RAND_MAX);
    return (int64_t)((double)e->backoff_ms * f);
}

/* Step 4 for one endpoint; returns whether it may send again at once. */
static bool send_one(struct ys_remote *rw, struct ep *e, int64_t now)
{
    struct ys_err err = {{0}};
    char *body = NULL, why[256];
    size_t len = 0;
    uint32_t ns = 0;
    uint64_t dropped = 0;
    int rc = ys_rwq_peek(e->q, &body, &len, &ns, &dropped, &err);
    if (rc != 0) {
        if (rc < 0)
            ys_error("remote", "%s: %s", e->conf->name, err.msg);
        pthread_mutex_lock(&rw->mu);
        e->st.dropped += dropped;
        pthread_mutex_unlock(&rw->mu);
        return rc < 0;
    }
    enum ys_rw_outcome out = ys_rw_send(&e->snd, body, len, why, sizeof why);
    free(body);
    if (out == YS_RW_RETRY && atomic_load(&rw->stopping))
        return false; /* aborted by the stop: it stays queued */
    if (out != YS_RW_RETRY && ys_rwq_ack(e->q, &err) < 0)
        ys_warn("remote", "%s: %s (the batch may be sent again)", e->conf->name, err.msg);
    pthread_mutex_lock(&rw->mu);
    if (out == YS_RW_SENT)
        e->st.sent += ns;
    else if (out == YS_RW_RETRY)
        e->st.failed += ns;
    else
        e->st.dropped += ns;
    pthread_mutex_unlock(&rw->mu);
    if (out == YS_RW_RETRY) {
        if (e->failures++ % 20 == 0)
            ys_warn("remote", "%s: %u samples not sent, will retry: %s", e->conf->name, ns, why);
        e->retry_at_ms = now + backoff(rw, e);
        return false;
    }
    if (e->failures > 0)
        ys_info("remote", "%s: sending again after %llu failed attempts", e->conf->name,
                (unsigned long long)e->failures);
    e->failures = 0;
    e->backoff_ms = 0;
    if (out == YS_RW_DROP)
        ys_warn("remote", "%s: the receiver refused %u samples (dropped): %s", e->conf->name, ns,
                why);
    return true;
}

/* Publishes every endpoint's queue size and pending samples. */
static void publish(struct ys_remote *rw)
{
    pthread_mutex_lock(&rw->mu);
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        uint64_t waiting = 0;
        for (struct item *it = rw->head; it; it = it->next)
            waiting += it->hb_state >= 0 ? 6 : ys_rw_result_count(&it->r);
        e->st.queue_bytes = ys_rwq_bytes(e->q);
        e->st.pending = ys_rwq_samples(e->q) + e->batch.n + waiting;
    }
    pthread_mutex_unlock(&rw->mu);
}

/* When the loop must wake next without new items. */
static int64_t next_due(struct ys_remote *rw, int64_t now, bool again)
{
    int64_t due = now + IDLE_WAIT_MS;
    if (again)
        return now;
    for (size_t i = 0; i < rw->n_eps; i++) {
        struct ep *e = &rw->eps[i];
        if (e->batch.n > 0 && e->batch_since_ms + e->conf->flush_interval_ms < due)
            due = e->batch_since_ms + e->conf->flush_interval_ms;
        if (ys_rwq_samples(e->q) > 0 && e->retry_at_ms < due)
            due = e->retry_at_ms > now ? e->retry_at_ms : now;
    }
    return due;
}

static void wait_until(struct ys_remote *rw, int64_t due)
{
    while (!rw->head && !rw->stop_req && !rw->flush_req) {
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
        pthread_cond_timedwait(&rw->wake, &rw->mu, &ts);
    }
}

static void *run(void *arg)
{
    struct ys_remote *rw = arg;
    int64_t due = now_ms();
    for (;;) {
        pthread_mutex_lock(&rw->mu);
        wait_until(rw, due);
        struct item *items = rw->head;
        rw->head = rw->tail = NULL;
        rw->n_items = 0;
        bool stop = rw->stop_req, force = stop || rw->flush_req;
        rw->flush_req = false;
        uint64_t taken = rw->pushed;
        pthread_mutex_unlock(&rw->mu);
        int64_t now = now_ms();
        build_batches(rw, items, now, force);
        publish(rw);
        pthread_mutex_lock(&rw->mu);
        rw->done = taken;
        pthread_cond_broadcast(&rw->flushed);
        pthread_mutex_unlock(&rw->mu);
        if (stop)
            break;
        bool again = false;
        for (size_t i = 0; i < rw->n_eps && !atomic_load(&rw->stopping); i++)
            if (now >= rw->eps[i].retry_at_ms && ys_rwq_samples(rw->eps[i].q) > 0)
                again |= send_one(rw, &rw->eps[i], now);
        publish(rw);
        due = next_due(rw, now_ms(), again);
    }
    return NULL;
}

char *ys_remote_default_dir(const struct ys_config *cfg)
{
    const char *path = cfg->storage.path ? cfg->storage.path : "var/yardstick.db";
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ys_xstrdup("remote_write");
    return ys_xasprintf("%.*s/remote_write", (int)(slash - path), path);
}

static void free_eps(struct ys_remote *rw)
{
    for (size_t i = 0; i < rw->n_eps; i++) {
        ys_rwq_close(rw->eps[i].q);
        ys_rw_sender_free(&rw->eps[i].snd);
        ys_rw_samples_free(&rw->eps[i].batch);
    }
    free(rw->eps);
}

static int open_eps(struct ys_remote *rw, const char *dir, struct ys_err *err)
{
    rw->eps = ys_xcalloc(rw->cfg->n_remote_writes, sizeof *rw->eps);
    for (size_t i = 0; i < rw->cfg->n_remote_writes; i++) {
        struct ep *e = &rw->eps[i];
        e->conf = &rw->cfg->remote_writes[i];
        rw->n_eps++;
        snprintf(e->st.name, sizeof e->st.name, "%s", e->conf->name);
        char *sub = ys_xasprintf("%s/%s", dir, e->conf->name);
        int rc = ys_rwq_open(sub, e->conf->queue_max, &e->q, err);
        free(sub);
        if (rc == 0 && ys_rw_sender_init(&e->snd, e->conf, &rw->stopping) < 0)
            rc = ys_err_set(err, YS_EINTERNAL, "%s: cannot initialise libcurl", e->conf->name);
        if (rc < 0)
            return rc;
        e->st.queue_bytes = ys_rwq_bytes(e->q);
        e->st.pending = ys_rwq_samples(e->q);
        if (e->st.pending > 0)
            ys_info("remote", "%s: resuming %llu queued samples", e->conf->name,
                    (unsigned long long)e->st.pending);
    }
    return 0;
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
    rw->seed = (unsigned)ys_mono_us();
    atomic_init(&rw->stopping, false);
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
        a->timeout_ms != b->timeout_ms || a->headers.n != b->headers.n)
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
    out->v = ys_xcalloc(rw->n_eps ? rw->n_eps : 1, sizeof *out->v);
    for (size_t i = 0; i < rw->n_eps; i++)
        out->v[i] = rw->eps[i].st;
    out->n = rw->n_eps;
    pthread_mutex_unlock(&rw->mu);
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
    atomic_store(&rw->stopping, true);
    pthread_cond_signal(&rw->wake);
    pthread_mutex_unlock(&rw->mu);
    pthread_join(rw->thread, NULL);
    for (struct item *it = rw->head, *next; it; it = next) {
        next = it->next;
        item_free(it);
    }
    free_eps(rw);
    pthread_cond_destroy(&rw->wake);
    pthread_cond_destroy(&rw->flushed);
    pthread_mutex_destroy(&rw->mu);
    ys_config_unref(rw->cfg);
    free(rw);
    curl_global_cleanup();
}
