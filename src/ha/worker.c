/*
 * worker.c - a thread that polls the store and hands items to the loop
 * (worker.h): the scaffolding the combiner and the two feeds share, kept
 * in one place so a fix to the thread, the queue or the shutdown order is
 * made once.
 *
 * The thread wakes every tick (or at once when stopped), takes a reference
 * to the current config, opens its read-only store connection the first
 * time the config needs one (a PostgreSQL session is not held for
 * nothing) and runs the owner's pass. Items go to the loop through a
 * locked queue and a uv_async; the loop hands each to the owner's deliver.
 */
#include "ha/worker.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Items waiting for the loop, at most (then the owner waits a tick). */
#define QUEUE_MAX 4096

struct ys_worker {
    uv_async_t async;
    const struct ys_worker_ops *ops;
    void *owner;
    char *kind, *path;
    struct ys_store_options opt;
    pthread_t thread;
    bool running; /* loop thread's view: a thread was started and not joined */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ys_config *cfg; /* lock */
    bool stop;             /* lock */
    char *q;               /* lock: q_n items of ops->item_size, for the loop */
    size_t q_n, q_cap;
    bool failing;  /* thread: the last pass had a store error (logged once) */
    size_t errors; /* thread: store errors in this pass */
};

bool ys_worker_push(struct ys_worker *w, const void *item)
{
    size_t size = w->ops->item_size;
    pthread_mutex_lock(&w->lock);
    bool ok = w->q_n < QUEUE_MAX;
    if (ok) {
        if (w->q_n == w->q_cap) {
            w->q_cap = w->q_cap ? w->q_cap * 2 : 16;
            w->q = ys_xrealloc(w->q, w->q_cap * size);
        }
        memcpy(w->q + w->q_n++ * size, item, size);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

void ys_worker_wake(struct ys_worker *w)
{
    uv_async_send(&w->async);
}

bool ys_worker_failed(struct ys_worker *w)
{
    bool first = !w->failing && w->errors == 0;
    w->errors++;
    return first;
}

/* The owner's pass, with the once-per-outage error bookkeeping around it
 * (the PostgreSQL store reconnects by itself; the pass just tries again). */
static void pass(struct ys_worker *w, struct ys_store *s, const struct ys_config *cfg)
{
    w->errors = 0;
    w->ops->pass(w->owner, s, cfg);
    if (w->failing && w->errors == 0)
        ys_info(w->ops->tag, "reading the store again");
    w->failing = w->errors > 0;
}

/* Waits up to ms on the condition; lock held. */
static void wait_tick(struct ys_worker *w, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (!w->stop)
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
}

static void *run(void *arg)
{
    struct ys_worker *w = arg;
    struct ys_store *store = NULL;
    bool warned = false;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct ys_config *cfg = w->cfg;
        ys_config_ref(cfg);
        pthread_mutex_unlock(&w->lock);
        struct ys_err err = {{0}};
        if (!store && w->ops->wants(cfg) && ys_store_open(w->kind, &w->opt, &store, &err) < 0) {
            if (!warned)
                ys_error(w->ops->tag, "cannot open the store: %s (retrying)", err.msg);
            warned = true;
            store = NULL;
        }
        if (store && cfg)
            pass(w, store, cfg);
        ys_config_unref(cfg);
        pthread_mutex_lock(&w->lock);
        wait_tick(w, w->ops->tick_ms);
    }
    pthread_mutex_unlock(&w->lock);
    ys_store_close(store);
    return NULL;
}

/* Loop thread: hands the queued items to the owner. */
static void on_async(uv_async_t *h)
{
    struct ys_worker *w = h->data;
    pthread_mutex_lock(&w->lock);
    char *q = w->q;
    size_t n = w->q_n;
    w->q = NULL;
    w->q_n = w->q_cap = 0;
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < n; i++)
        w->ops->deliver(w->owner, q + i * w->ops->item_size);
    free(q);
}

struct ys_worker *ys_worker_new(uv_loop_t *loop, const char *kind,
                                const struct ys_store_options *opt,
                                const struct ys_worker_ops *ops, void *owner)
{
    struct ys_worker *w = ys_xcalloc(1, sizeof *w);
    w->ops = ops;
    w->owner = owner;
    w->kind = ys_xstrdup(kind ? kind : "sqlite");
    w->path = ys_xstrdup(opt->path ? opt->path : "");
    w->opt = *opt;
    w->opt.path = w->path;
    w->opt.read_only = true;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    uv_async_init(loop, &w->async, on_async);
    w->async.data = w;
    return w;
}

void ys_worker_apply(struct ys_worker *w, struct ys_config *cfg)
{
    ys_config_ref(cfg);
    pthread_mutex_lock(&w->lock);
    struct ys_config *old = w->cfg;
    w->cfg = cfg;
    pthread_mutex_unlock(&w->lock);
    ys_config_unref(old);
}

bool ys_worker_start(struct ys_worker *w)
{
    if (w->running)
        return true;
    pthread_mutex_lock(&w->lock);
    w->stop = false;
    pthread_mutex_unlock(&w->lock);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        ys_error(w->ops->tag, "cannot start the %s thread", w->ops->thread);
        return false;
    }
    w->running = true;
    return true;
}

void ys_worker_stop(struct ys_worker *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = false;
    for (size_t i = 0; w->ops->unsent && i < w->q_n; i++)
        w->ops->unsent(w->owner, w->q + i * w->ops->item_size);
    free(w->q);
    w->q = NULL;
    w->q_n = w->q_cap = 0;
}

bool ys_worker_running(const struct ys_worker *w)
{
    return w->running;
}

const struct ys_config *ys_worker_config(const struct ys_worker *w)
{
    return w->cfg;
}

static void on_closed(uv_handle_t *h)
{
    struct ys_worker *w = h->data;
    w->ops->closed(w->owner);
    free(w->q);
    ys_config_unref(w->cfg);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w->kind);
    free(w->path);
    free(w);
}

void ys_worker_close(struct ys_worker *w)
{
    ys_worker_stop(w);
    uv_close((uv_handle_t *)&w->async, on_closed);
}
