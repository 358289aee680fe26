/*
 * lease.c - the single-notifier lease (lease.h): a thread that takes and
 * renews the lease row, and the loop-side view of it.
 *
 * Data: the thread publishes, under mu, whether its last attempt holds the
 * lease and until when it may believe so (valid_until_us, monotonic: the
 * attempt's send time + 3/4 ttl); a failed attempt changes nothing, so
 * the belief simply runs out. The loop side (async callback and deadline
 * timer) turns that into `held` and calls the callback on each change.
 * The loop's `held` can only be true while now < valid_until_us: the
 * deadline timer is armed at valid_until_us whenever it is.
 *
 * Threads: ys_lease_start, ys_lease_held, ys_lease_stop and the callbacks
 * run on the loop thread; lease_main on its own thread, which alone uses
 * the store connection after start.
 *
 * A gated lease (the notifier's, gated on the partition lease) is taken
 * and believed only while its gate is believed held; when the gate is
 * not, the next attempt releases it. A renamed lease (the partition after
 * a reload that changed location or shard) is believed lost at once; the
 * next attempt releases the old name and tries the new one.
 */
#include "ha/lease.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ys_lease {
    uv_loop_t *loop;
    uv_async_t async;
    uv_timer_t deadline;
    int open_handles;
    ys_lease_cb cb;
    void *arg;
    const struct ys_lease *gate; /* believed only while gate is; NULL: none */
    char *holder;
    int64_t ttl_ms;
    struct ys_store *store; /* the thread's; NULL: no lease function (always held) */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* guarded by mu */
    char *name;          /* the lease's name in the store */
    char *release_name;  /* an old name still to release (ys_lease_rename); NULL: none */
    bool kick;           /* attempt now (ys_lease_kick) */
    bool stop;
    bool t_held;            /* the last successful attempt's answer */
    int64_t valid_until_us; /* monotonic; believe t_held until then */
    bool failing;           /* the last attempt failed (logged once per run of failures) */
    /* loop thread */
    bool held;
    bool stopping;
    uint64_t changes;
};

static int64_t valid_span_us(const struct ys_lease *l)
{
    return l->ttl_ms * 1000 * 3 / 4;
}

static bool believed(const struct ys_lease *l, int64_t *until_us);

/* Releases name if held; logs. Lease thread. */
static void release(struct ys_lease *l, const char *name)
{
    struct ys_err err = {{0}};
    bool held;
    if (l->store->type->lease(l->store, name, l->holder, 0, &held, &err) < 0)
        ys_warn("ha", "lease %s: releasing: %s (it expires by itself)", name, err.msg);
    else
        ys_info("ha", "lease %s released by %s", name, l->holder);
}

/* One take-or-renew (a release while the gate is not held); publishes the
 * answer. Lease thread (or start). */
static void attempt(struct ys_lease *l)
{
    struct ys_err err = {{0}};
    bool held = false;
    pthread_mutex_lock(&l->mu);
    char *name = ys_xstrdup(l->name), *old = l->release_name;
    bool was_held = l->t_held;
    l->release_name = NULL;
    pthread_mutex_unlock(&l->mu);
    if (old)
        release(l, old);
    free(old);
    int64_t sent = ys_mono_us();
    int rc;
    if (l->gate && !believed(l->gate, NULL)) {
        if (was_held)
            release(l, name);
        rc = 0; /* not held: nothing to renew while the gate is not */
    } else {
        rc = l->store->type->lease(l->store, name, l->holder, l->ttl_ms, &held, &err);
    }
    free(name);
    pthread_mutex_lock(&l->mu);
    if (rc == 0) {
        l->t_held = held;
        l->valid_until_us = held ? sent + valid_span_us(l) : 0;
        if (l->failing)
            ys_info("ha", "lease: the store answers again");
        l->failing = false;
    } else if (!l->failing) {
        l->failing = true;
        ys_warn("ha", "lease %s: %s (retrying every %lld ms)", l->name, err.msg,
                (long long)(l->ttl_ms / 3));
    }
    pthread_mutex_unlock(&l->mu);
}

static void *lease_main(void *arg)
{
    struct ys_lease *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (l->ttl_ms / 3) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        while (!l->stop && !l->kick && pthread_cond_timedwait(&l->cv, &l->mu, &ts) == 0)
            ;
        if (l->stop)
            break;
        l->kick = false;
        pthread_mutex_unlock(&l->mu);
        attempt(l);
        uv_async_send(&l->async);
        pthread_mutex_lock(&l->mu);
    }
    bool held = l->t_held;
    char *old = l->release_name;
    l->release_name = NULL;
    pthread_mutex_unlock(&l->mu);
    if (old)
        release(l, old);
    free(old);
    if (held)
        release(l, l->name);
    return NULL;
}

/* The thread's view now, with the deadline applied. Any thread. */
static bool believed(const struct ys_lease *l, int64_t *until_us)
{
    if (!l->store)
        return true;
    if (l->gate && !believed(l->gate, NULL))
        return false;
    pthread_mutex_lock((pthread_mutex_t *)&l->mu);
    bool held = l->t_held && ys_mono_us() < l->valid_until_us;
    if (until_us)
        *until_us = l->valid_until_us;
    pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
    return held;
}

static void on_deadline(uv_timer_t *t);

/* Loop thread: brings `held` up to date, re-arms the deadline timer and
 * calls the callback on a change. */
static void evaluate(struct ys_lease *l)
{
    int64_t until = 0;
    if (l->stopping)
        return;
    bool held = believed(l, &until);
    if (held && l->store) {
        int64_t wait_ms = (until - ys_mono_us()) / 1000 + 1;
        uv_timer_start(&l->deadline, on_deadline, (uint64_t)(wait_ms > 0 ? wait_ms : 0), 0);
    }
    if (held == l->held)
        return;
    l->held = held;
    l->changes++;
    ys_info("ha", "%s %s the %s lease", l->holder, held ? "now holds" : "lost", l->name);
    l->cb(held, l->arg);
}

static void on_deadline(uv_timer_t *t)
{
    evaluate(t->data);
}

static void on_async(uv_async_t *a)
{
    evaluate(a->data);
}

static void on_closed(uv_handle_t *h)
{
    struct ys_lease *l = h->data;
    if (--l->open_handles > 0)
        return;
    free(l->holder);
    free(l->name);
    free(l);
}

/* The holder: the instance id (or hostname/pid) and a random nonce drawn
 * per lease (so per process), so two processes never share a holder: not with a
 * copied config (two daemons with one id would both "hold" the lease),
 * nor a restart while the old process is wedged but renewing. The price:
 * a daemon restarted after kill -9 waits for its old lease to expire
 * (docs/ha.md). */
static char *make_holder(const struct ys_config *cfg)
{
    uint64_t nonce = 0;
    if (getentropy(&nonce, sizeof nonce) != 0 || !nonce) /* no entropy: still distinct */
        nonce = (uint64_t)ys_mono_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
    if (cfg->instance.id)
        return ys_xasprintf("%s/%016llx", cfg->instance.id, (unsigned long long)nonce);
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    return ys_xasprintf("%s/%ld/%016llx", host, (long)getpid(), (unsigned long long)nonce);
}

static int open_store(struct ys_lease *l, const struct ys_config *cfg, struct ys_err *err)
{
    struct ys_store_options opt = {.path = cfg->storage.path, .retention = cfg->storage.retention};
    int rc = ys_store_open(cfg->storage.kind, &opt, &l->store, err);
    if (rc == 0 && !l->store->type->lease) {
        ys_store_close(l->store); /* one daemon per store: nothing to agree on */
        l->store = NULL;
    }
    return rc;
}

void ys_lease_partition_name(const struct ys_config *cfg, char *buf, size_t size)
{
    const struct ys_instance_config *ic = &cfg->instance;
    snprintf(buf, size, "probe/%s/%d-%d", ic->location ? ic->location : "default",
             ic->shard_count > 0 ? ic->shard_index : 0, ic->shard_count);
}

int ys_lease_start(uv_loop_t *loop, const struct ys_config *cfg, ys_lease_cb cb, void *arg,
                   struct ys_lease **out, struct ys_err *err)
{
    return ys_lease_start_named(loop, cfg, YS_LEASE_NOTIFIER, NULL, cb, arg, out, err);
}

int ys_lease_start_named(uv_loop_t *loop, const struct ys_config *cfg, const char *name,
                         const struct ys_lease *gate, ys_lease_cb cb, void *arg,
                         struct ys_lease **out, struct ys_err *err)
{
    struct ys_lease *l = ys_xcalloc(1, sizeof *l);
    l->loop = loop;
    l->cb = cb;
    l->arg = arg;
    l->gate = gate;
    l->name = ys_xstrdup(name);
    l->holder = make_holder(cfg);
    l->ttl_ms = cfg->instance.lease_ttl_ms >= 3000 ? cfg->instance.lease_ttl_ms : 15000;
    int rc = open_store(l, cfg, err);
    if (rc < 0) {
        free(l->holder);
        free(l->name);
        free(l);
        return rc;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    uv_async_init(loop, &l->async, on_async);
    uv_timer_init(loop, &l->deadline);
    l->async.data = l->deadline.data = l;
    l->open_handles = 2;
    if (l->store) {
        attempt(l);
        l->thread_started = pthread_create(&l->thread, NULL, lease_main, l) == 0;
        if (!l->thread_started)
            ys_error("ha", "cannot start the lease thread; this daemon will not notify");
    }
    l->held = believed(l, NULL);
    evaluate(l); /* arms the deadline; no change, so no callback */
    char shard[32] = "every check";
    if (cfg->instance.shard_count > 0)
        snprintf(shard, sizeof shard, "shard %d/%d", cfg->instance.shard_index,
                 cfg->instance.shard_count);
    ys_info("ha", "instance %s (location %s, %s): %s the %s lease%s", l->holder,
            cfg->instance.location ? cfg->instance.location : "default", shard,
            l->held ? "holds" : "does not hold", l->name,
            l->store ? "" : " (store without leases)");
    *out = l;
    return 0;
}

bool ys_lease_held(const struct ys_lease *l)
{
    return l && l->held && believed(l, NULL);
}

uint64_t ys_lease_changes(const struct ys_lease *l)
{
    return l ? l->changes : 0;
}

void ys_lease_kick(struct ys_lease *l)
{
    if (!l || l->stopping || !l->thread_started)
        return;
    pthread_mutex_lock(&l->mu);
    l->kick = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void ys_lease_rename(struct ys_lease *l, const char *name)
{
    if (!l || l->stopping || strcmp(l->name, name) == 0)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->store && !l->release_name)
        l->release_name = l->name; /* released (if held) by the next attempt */
    else
        free(l->name);
    l->name = ys_xstrdup(name);
    l->t_held = false;
    l->valid_until_us = 0;
    pthread_mutex_unlock(&l->mu);
    ys_info("ha", "%s: the lease is now %s", l->holder, name);
    evaluate(l); /* lost now (unless the store has no leases) */
    ys_lease_kick(l);
}

void ys_lease_stop(struct ys_lease *l)
{
    if (!l || l->stopping)
        return;
    l->stopping = true;
    if (l->thread_started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    ys_store_close(l->store);
    l->store = NULL;
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    uv_close((uv_handle_t *)&l->async, on_closed);
    uv_close((uv_handle_t *)&l->deadline, on_closed);
}
