/*
 * writer.c - the store writer thread (see writer.h).
 *
 * Data: a ring buffer of queue_max results guarded by one mutex; `head`
 * counts results ever accepted (their sequence numbers) and `done` counts
 * results the thread has finished with (committed, or given up on after a
 * failed retry). ys_writer_flush waits on `done_cv` until done reaches the
 * head it saw, so it returns once everything pushed before it is settled.
 *
 * The ring is big (65,536 results of about 1 KiB by default) and mostly
 * idle, so it is one untouched allocation whose pages the kernel maps on
 * first write, and it is filled from its start again whenever it drains:
 * result `seq` lives at ring[(seq - base) % queue_max], and `base` moves to
 * `head` each time the thread takes the last queued result. Under a load
 * the thread keeps up with, only the first few batches' worth of slots are
 * ever written, so resident memory follows the deepest the queue has been,
 * not its capacity.
 *
 * The thread sleeps on `work_cv` until flush_ms passed, batch_max results
 * wait, a flush is asked for, or stop. It copies up to batch_max results
 * out of the ring under the lock, and appends them with the lock released
 * so push never waits for the disk. A failed batch is retried once (a
 * reader's checkpoint or another process can make SQLite busy for a
 * moment), then counted as failed and logged. Pruning runs between
 * batches in steps of PRUNE_STEP rows, so it never holds up a batch long.
 *
 * Incidents have a second, small ring (INCIDENT_QUEUE_MAX) with its own
 * sequence numbers (inc_head, inc_tail, inc_done). They are taken with the
 * results of the same wake-up and written right after them, oldest first,
 * so an incident's open and close reach the store in the order pushed.
 *
 * Heartbeat pings have a third ring (PING_QUEUE_MAX) whose entries own a
 * copy of the ping's body. Bodies can be up to a MiB, so the ring is
 * bounded by count and by the body bytes queued (PING_BYTES_MAX); a ping
 * that fits neither is dropped, counted in pings_dropped and logged at
 * most once a second. Each wake-up takes every queued ping and writes them
 * in one put_pings transaction after the results and incidents; the
 * thread is woken early when the ring is half full either way. Taken
 * pings leave the byte count at once, so at most twice PING_BYTES_MAX of
 * bodies are held (the ring and the batch being written).
 *
 * Threads: push/flush/stats from any thread; the rest on the writer thread.
 */
#include "store/writer.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRUNE_STEP 500
#define PRUNE_MAX_STEPS 20 /* per wake-up, so a big backlog cannot stall batches */
#define INCIDENT_QUEUE_MAX 4096
#define PING_QUEUE_MAX 1024
#define PING_BYTES_MAX ((size_t)16 << 20)

struct ys_writer {
    struct ys_store *store;
    struct ys_writer_options opt;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    struct ys_result *ring;
    uint64_t head, tail; /* sequence numbers: ring[(seq - base) % queue_max] */
    uint64_t base;       /* a sequence number at ring[0]; moved to head when the ring drains */
    uint64_t done;
    uint64_t flush_want;  /* flush asked up to this sequence */
    struct ys_incident *inc_ring; /* inc_ring[seq % INCIDENT_QUEUE_MAX] */
    uint64_t inc_head, inc_tail, inc_done, inc_flush_want;
    struct ys_ping_record *ping_ring; /* ping_ring[seq % PING_QUEUE_MAX]; bodies owned */
    uint64_t ping_head, ping_tail, ping_done, ping_flush_want;
    size_t ping_bytes; /* body bytes in the ring */
    int64_t last_ping_drop_warn_ms;
    bool stopping;
    int64_t last_drop_warn_ms;
    int64_t next_prune_ms;
    struct ys_writer_stats stats;
    struct ys_result *batch; /* owned by the thread */
    struct ys_incident *inc_batch;
    struct ys_ping_record *ping_batch; /* bodies owned until written */
};

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void write_batch(struct ys_writer *w, size_t n)
{
    struct ys_err err = {{0}};
    int rc = w->store->type->append(w->store, w->batch, n, &err);
    if (rc < 0)
        rc = w->store->type->append(w->store, w->batch, n, &err);
    pthread_mutex_lock(&w->mu);
    if (rc < 0)
        w->stats.failed += n;
    else
        w->stats.written += n;
    w->stats.batches++;
    uint64_t total = w->stats.written;
    pthread_mutex_unlock(&w->mu);
    if (rc < 0)
        ys_error("store", "lost a batch of %zu results: %s", n, err.msg);
    else
        ys_debug("store", "committed %zu results (total %llu)", n, (unsigned long long)total);
}

static void write_incidents(struct ys_writer *w, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ys_incident *inc = &w->inc_batch[i];
        struct ys_err err = {{0}};
        int rc = w->store->type->put_incident(w->store, inc, &err);
        if (rc < 0)
            rc = w->store->type->put_incident(w->store, inc, &err);
        if (rc < 0) {
            failed++;
            ys_error("store", "lost an incident of check %u starting at %lld: %s",
                     (unsigned)inc->check_id, (long long)inc->start_ms, err.msg);
        }
    }
    if (failed) {
        pthread_mutex_lock(&w->mu);
        w->stats.failed += failed;
        pthread_mutex_unlock(&w->mu);
    }
}

static void write_pings(struct ys_writer *w, size_t n)
{
    struct ys_err err = {{0}};
    int rc = w->store->type->put_pings(w->store, w->ping_batch, n, &err);
    if (rc < 0)
        rc = w->store->type->put_pings(w->store, w->ping_batch, n, &err);
    pthread_mutex_lock(&w->mu);
    if (rc < 0)
        w->stats.failed += n;
    else
        w->stats.pings_written += n;
    pthread_mutex_unlock(&w->mu);
    if (rc < 0)
        ys_error("store", "lost %zu heartbeat pings: %s", n, err.msg);
    for (size_t i = 0; i < n; i++) {
        free((void *)w->ping_batch[i].body); /* the writer's copy (see push_ping) */
        w->ping_batch[i].body = NULL;
    }
}

static void prune_some(struct ys_writer *w)
{
    int64_t now = ys_wall_ms();
    if (w->opt.prune_every_ms <= 0 || now < w->next_prune_ms)
        return;
    int deleted = PRUNE_STEP;
    for (int i = 0; i < PRUNE_MAX_STEPS && deleted == PRUNE_STEP; i++) {
        struct ys_err err = {{0}};
        if (w->store->type->prune(w->store, now, PRUNE_STEP, &deleted, &err) < 0) {
            ys_error("store", "pruning failed: %s", err.msg);
            break;
        }
        pthread_mutex_lock(&w->mu);
        w->stats.pruned += (uint64_t)deleted;
        pthread_mutex_unlock(&w->mu);
    }
    /* Unfinished work resumes soon; finished waits for the next period. */
    w->next_prune_ms = now + (deleted == PRUNE_STEP ? w->opt.flush_ms : w->opt.prune_every_ms);
}

/* Copies every queued incident out. Called with mu held. */
static size_t take_incidents(struct ys_writer *w)
{
    size_t n = (size_t)(w->inc_head - w->inc_tail);
    for (size_t i = 0; i < n; i++)
        w->inc_batch[i] = w->inc_ring[(w->inc_tail + i) % INCIDENT_QUEUE_MAX];
    w->inc_tail += n;
    return n;
}

/* Moves every queued ping (and its body) out. Called with mu held. */
static size_t take_pings(struct ys_writer *w)
{
    size_t n = (size_t)(w->ping_head - w->ping_tail);
    for (size_t i = 0; i < n; i++)
        w->ping_batch[i] = w->ping_ring[(w->ping_tail + i) % PING_QUEUE_MAX];
    w->ping_tail += n;
    w->ping_bytes = 0;
    return n;
}

/* Half full by count or bytes: worth a write before flush_ms. mu held. */
static bool pings_pressing(const struct ys_writer *w)
{
    return w->ping_head - w->ping_tail >= PING_QUEUE_MAX / 2 || w->ping_bytes >= PING_BYTES_MAX / 2;
}

/* Waits for work and copies out a batch of results, every queued incident
 * and every queued ping. Returns the results' count, *ninc the incidents'
 * and *nping the pings'; *quit is set when stopping and every queue is
 * empty. Called with mu held. */
static size_t take_batch(struct ys_writer *w, size_t *ninc, size_t *nping, bool *quit)
{
    struct timespec until;
    deadline_after(&until, w->opt.flush_ms);
    while (!w->stopping && w->head - w->tail < w->opt.batch_max && w->flush_want <= w->done &&
           w->inc_flush_want <= w->inc_done && w->ping_flush_want <= w->ping_done &&
           !pings_pressing(w)) {
        if (pthread_cond_timedwait(&w->work_cv, &w->mu, &until) == ETIMEDOUT)
            break;
    }
    size_t n = (size_t)(w->head - w->tail);
    if (n > w->opt.batch_max)
        n = w->opt.batch_max;
    for (size_t i = 0; i < n; i++)
        w->batch[i] = w->ring[(w->tail + i - w->base) % w->opt.queue_max];
    w->tail += n;
    if (w->tail == w->head)
        w->base = w->head; /* empty: the next push starts at ring[0] again */
    *ninc = take_incidents(w);
    *nping = take_pings(w);
    *quit = w->stopping && n == 0 && *ninc == 0 && *nping == 0;
    return n;
}

static void *writer_main(void *arg)
{
    struct ys_writer *w = arg;
    bool quit = false;
    pthread_mutex_lock(&w->mu);
    while (!quit) {
        size_t ninc = 0, nping = 0;
        size_t n = take_batch(w, &ninc, &nping, &quit);
        pthread_mutex_unlock(&w->mu);
        if (n)
            write_batch(w, n);
        if (ninc)
            write_incidents(w, ninc);
        if (nping)
            write_pings(w, nping);
        if (!quit)
            prune_some(w);
        pthread_mutex_lock(&w->mu);
        w->done += n;
        w->inc_done += ninc;
        w->ping_done += nping;
        pthread_cond_broadcast(&w->done_cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int ys_writer_start(struct ys_store *store, const struct ys_writer_options *opt,
                    struct ys_writer **out, struct ys_err *err)
{
    struct ys_writer *w = ys_xcalloc(1, sizeof *w);
    w->store = store;
    w->opt = (struct ys_writer_options){200, 1000, 65536, 60000};
    if (opt) {
        w->opt.flush_ms = opt->flush_ms > 0 ? opt->flush_ms : w->opt.flush_ms;
        w->opt.batch_max = opt->batch_max ? opt->batch_max : w->opt.batch_max;
        w->opt.queue_max = opt->queue_max ? opt->queue_max : w->opt.queue_max;
        w->opt.prune_every_ms = opt->prune_every_ms;
    }
    w->ring = ys_xmalloc(w->opt.queue_max * sizeof *w->ring);
    w->batch = ys_xmalloc(w->opt.batch_max * sizeof *w->batch);
    w->inc_ring = ys_xmalloc(INCIDENT_QUEUE_MAX * sizeof *w->inc_ring);
    w->inc_batch = ys_xmalloc(INCIDENT_QUEUE_MAX * sizeof *w->inc_batch);
    w->ping_ring = ys_xmalloc(PING_QUEUE_MAX * sizeof *w->ping_ring);
    w->ping_batch = ys_xmalloc(PING_QUEUE_MAX * sizeof *w->ping_batch);
    /* Prune soon after start: a daemon that was down may have a backlog. */
    w->next_prune_ms = ys_wall_ms() + w->opt.flush_ms;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work_cv, &ca);
    pthread_cond_init(&w->done_cv, NULL);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->work_cv);
        pthread_cond_destroy(&w->done_cv);
        free(w->ring);
        free(w->batch);
        free(w->inc_ring);
        free(w->inc_batch);
        free(w->ping_ring);
        free(w->ping_batch);
        free(w);
        return ys_err_set(err, YS_EINTERNAL, "cannot start the store writer: %s", strerror(rc));
    }
    *out = w;
    return 0;
}

/* The texts of a result that may carry a server's bytes, made valid
 * UTF-8: one invalid byte would make PostgreSQL refuse the whole batch. */
static void scrub_result(struct ys_result *r)
{
    ys_utf8_scrub(r->message, sizeof r->message);
    ys_utf8_scrub(r->facts, sizeof r->facts);
    ys_utf8_scrub(r->tls.subject, sizeof r->tls.subject);
    ys_utf8_scrub(r->tls.issuer, sizeof r->tls.issuer);
}

int ys_writer_push(struct ys_writer *w, const struct ys_result *r)
{
    int64_t warn_dropped = -1;
    pthread_mutex_lock(&w->mu);
    if (w->head - w->tail >= w->opt.queue_max) {
        w->stats.dropped++;
        int64_t now = ys_mono_us() / 1000;
        if (now - w->last_drop_warn_ms >= 1000 || w->stats.dropped == 1) {
            w->last_drop_warn_ms = now;
            warn_dropped = (int64_t)w->stats.dropped;
        }
        pthread_mutex_unlock(&w->mu);
        if (warn_dropped >= 0)
            ys_warn("store", "writer queue full (%zu): results dropped, %lld so far",
                    w->opt.queue_max, (long long)warn_dropped);
        return YS_EBUSY;
    }
    struct ys_result *slot = &w->ring[(w->head - w->base) % w->opt.queue_max];
    *slot = *r;
    scrub_result(slot);
    w->head++;
    w->stats.queued++;
    if (w->head - w->tail >= w->opt.batch_max)
        pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int ys_writer_push_incident(struct ys_writer *w, const struct ys_incident *inc)
{
    pthread_mutex_lock(&w->mu);
    if (w->inc_head - w->inc_tail >= INCIDENT_QUEUE_MAX) {
        w->stats.dropped++;
        pthread_mutex_unlock(&w->mu);
        ys_warn("store", "incident queue full (%d): incident of check %u dropped",
                INCIDENT_QUEUE_MAX, (unsigned)inc->check_id);
        return YS_EBUSY;
    }
    w->inc_ring[w->inc_head % INCIDENT_QUEUE_MAX] = *inc;
    w->inc_head++;
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* Whether a ping of len body bytes is refused. Called with mu held. */
static bool pings_full(const struct ys_writer *w, size_t len)
{
    return w->ping_head - w->ping_tail >= PING_QUEUE_MAX || len > PING_BYTES_MAX - w->ping_bytes;
}

void ys_writer_ping_room(struct ys_writer *w, size_t *pings, size_t *bytes)
{
    pthread_mutex_lock(&w->mu);
    *pings = PING_QUEUE_MAX - (size_t)(w->ping_head - w->ping_tail);
    *bytes = PING_BYTES_MAX - w->ping_bytes;
    pthread_mutex_unlock(&w->mu);
}

int ys_writer_push_ping(struct ys_writer *w, const struct ys_ping_record *rec)
{
    size_t len = rec->body ? rec->body_len : 0;
    char *body = NULL;
    int64_t warn_dropped = -1;
    /* Copy outside the lock: a MiB memcpy must not hold up other producers.
     * A body that can never fit is not copied; it is dropped below. */
    if (len && len <= PING_BYTES_MAX) {
        body = ys_xmalloc(len);
        memcpy(body, rec->body, len);
    }
    pthread_mutex_lock(&w->mu);
    if (pings_full(w, len)) {
        w->stats.pings_dropped++;
        int64_t now = ys_mono_us() / 1000;
        if (now - w->last_ping_drop_warn_ms >= 1000 || w->stats.pings_dropped == 1) {
            w->last_ping_drop_warn_ms = now;
            warn_dropped = (int64_t)w->stats.pings_dropped;
        }
        pthread_mutex_unlock(&w->mu);
        free(body);
        if (warn_dropped >= 0)
            ys_warn("store", "ping queue full (%d pings, %zu body bytes): ping of check %u"
                    " dropped, %lld so far", PING_QUEUE_MAX, PING_BYTES_MAX,
                    (unsigned)rec->ping.check_id, (long long)warn_dropped);
        return YS_EBUSY;
    }
    struct ys_ping_record *slot = &w->ping_ring[w->ping_head % PING_QUEUE_MAX];
    *slot = *rec;
    slot->body = body;
    slot->body_len = len;
    ys_utf8_scrub(slot->ping.run_id, sizeof slot->ping.run_id); /* from a URL */
    w->ping_head++;
    w->ping_bytes += len;
    if (pings_pressing(w))
        pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void ys_writer_flush(struct ys_writer *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t want = w->head, inc_want = w->inc_head, ping_want = w->ping_head;
    if (want > w->flush_want)
        w->flush_want = want;
    if (inc_want > w->inc_flush_want)
        w->inc_flush_want = inc_want;
    if (ping_want > w->ping_flush_want)
        w->ping_flush_want = ping_want;
    pthread_cond_signal(&w->work_cv);
    while (w->done < want || w->inc_done < inc_want || w->ping_done < ping_want)
        pthread_cond_wait(&w->done_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void ys_writer_stats(struct ys_writer *w, struct ys_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}

void ys_writer_stop(struct ys_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    ys_store_close(w->store);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work_cv);
    pthread_cond_destroy(&w->done_cv);
    free(w->ring);
    free(w->batch);
    free(w->inc_ring);
    free(w->inc_batch);
    /* The thread drained the ring before it quit; this is only a guard. */
    for (uint64_t seq = w->ping_tail; seq < w->ping_head; seq++)
        free((void *)w->ping_ring[seq % PING_QUEUE_MAX].body);
    free(w->ping_ring);
    free(w->ping_batch);
    free(w);
}
