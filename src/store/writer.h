/*
 * writer.h - the store writer thread: results in through a bounded queue,
 * out to the store in batched transactions.
 *
 * The loop thread calls ys_writer_push, which never blocks on disk: it
 * copies the result into the queue under a short lock. The writer thread
 * takes everything queued every flush_ms (or as soon as batch_max results
 * wait), appends them in one transaction, and between batches prunes
 * expired data in small steps. When the queue is full the result is
 * dropped, counted and logged (once per second at most): the loop is never
 * held up by a slow disk.
 */
#ifndef YS_STORE_WRITER_H
#define YS_STORE_WRITER_H

#include "core/result.h"
#include "store/store.h"

#include <stdint.h>

struct ys_writer_options {
    int flush_ms;        /* default 200 */
    size_t batch_max;    /* default 1000 */
    size_t queue_max;    /* default 65536 */
    int prune_every_ms;  /* default 60000; 0 disables pruning */
};

struct ys_writer_stats {
    uint64_t queued;   /* pushed and accepted */
    uint64_t written;  /* committed to the store */
    uint64_t dropped;  /* rejected because the queue was full */
    uint64_t failed;   /* lost because the store failed a batch */
    uint64_t batches;
    uint64_t pruned;
    uint64_t pings_written; /* heartbeat pings committed */
    uint64_t pings_dropped; /* pings rejected because their queue was full */
};

struct ys_writer;

/* Starts the thread. Takes store (closed by ys_writer_stop). opt may be
 * NULL for defaults. */
int ys_writer_start(struct ys_store *store, const struct ys_writer_options *opt,
                    struct ys_writer **out, struct ys_err *err);
/* Thread-safe, non-blocking. Returns 0, or YS_EBUSY when the queue is full
 * (the result is dropped and counted). */
int ys_writer_push(struct ys_writer *w, const struct ys_result *r);
/* Thread-safe, non-blocking: queues an incident (opened or closed) to be
 * written with the next batch. Incidents are few; their queue is separate
 * and small, and a full one drops and counts like results. */
int ys_writer_push_incident(struct ys_writer *w, const struct ys_incident *inc);
/* Thread-safe, non-blocking: queues a heartbeat ping (and its body,
 * copied) for the next batch. Returns 0 or YS_EBUSY (queue full: dropped,
 * counted, logged). */
int ys_writer_push_ping(struct ys_writer *w, const struct ys_ping_record *rec);
/* Thread-safe: how many more pings, and body bytes, the ping queue takes
 * now. The ping intake refuses (503) past this, so a ping answered 200 is
 * not dropped later for want of room. */
void ys_writer_ping_room(struct ys_writer *w, size_t *pings, size_t *bytes);
/* Blocks until everything pushed so far is committed (tests, `check`). */
void ys_writer_flush(struct ys_writer *w);
void ys_writer_stats(struct ys_writer *w, struct ys_writer_stats *out);
/* Writes everything still queued, stops the thread, closes the store,
 * frees w. */
void ys_writer_stop(struct ys_writer *w);

#endif
