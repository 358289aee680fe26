/*
 * worker.h - a thread that polls the store and hands items to the loop.
 *
 * The lease holder's feeds (the combiner, combine.c; the follower feed,
 * follow.c; the heartbeat feed, hb_feed.c) each read the store on a
 * thread of their own, so the loop never waits on it. This is their common
 * scaffolding: the thread with its own read-only store connection (opened
 * only once the config needs it), a tick, start/stop, the current config,
 * a locked queue of fixed-size items handed to the loop through a
 * uv_async, and store errors logged once per outage. The owner keeps what
 * is its own: what it reads, how it judges, what it delivers (ops).
 *
 * Threads: ys_worker_push, ys_worker_wake and ys_worker_failed are for the
 * ops' pass (the worker thread); everything else is for the loop thread.
 */
#ifndef YS_HA_WORKER_H
#define YS_HA_WORKER_H

#include "config/model.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct ys_worker;

struct ys_worker_ops {
    const char *tag;    /* log tag */
    const char *thread; /* for "cannot start the <thread> thread" */
    size_t item_size;   /* bytes of one queued item */
    int64_t tick_ms;    /* the wait between passes */
    /* Whether cfg (may be NULL) needs the store: no connection until then. */
    bool (*wants)(const struct ys_config *cfg);
    /* One pass over cfg on the worker thread, with the thread's store. */
    void (*pass)(void *owner, struct ys_store *s, const struct ys_config *cfg);
    /* Loop thread: one queued item, borrowed for the call. */
    void (*deliver)(void *owner, const void *item);
    /* Loop thread, after the join: one item the loop never took (may be NULL). */
    void (*unsent)(void *owner, const void *item);
    /* Loop thread, once closed: frees the owner. */
    void (*closed)(void *owner);
};

/* Returns an idle worker on loop for owner. kind (NULL: sqlite) and opt
 * say which store to read (copied; opened read-only). ops is borrowed for
 * the worker's life. */
struct ys_worker *ys_worker_new(uv_loop_t *loop, const char *kind,
                                const struct ys_store_options *opt,
                                const struct ys_worker_ops *ops, void *owner);
/* Makes cfg the config of the next passes (takes a reference). */
void ys_worker_apply(struct ys_worker *w, struct ys_config *cfg);
/* Starts the thread unless running; false (logged) when it cannot. */
bool ys_worker_start(struct ys_worker *w);
/* Stops and joins the thread, then drops the queue (ops->unsent first).
 * Does nothing when not running. */
void ys_worker_stop(struct ys_worker *w);
bool ys_worker_running(const struct ys_worker *w);
/* The config last applied; for the loop thread while stopped. */
const struct ys_config *ys_worker_config(const struct ys_worker *w);
/* Stops, then closes; ops->closed(owner) runs once the handle is closed. */
void ys_worker_close(struct ys_worker *w);

/* Worker thread: queues a copy of item; false when the queue is full (the
 * loop is behind). The loop sees it after ys_worker_wake. */
bool ys_worker_push(struct ys_worker *w, const void *item);
void ys_worker_wake(struct ys_worker *w);
/* Worker thread: counts a store error of this pass; true when it is the
 * first of an outage, the one to log. */
bool ys_worker_failed(struct ys_worker *w);

#endif
