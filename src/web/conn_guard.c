/*
 * conn_guard.c - a deadline for request headers.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a slow-loris
 * client that sends one header byte a second is never idle and would hold
 * a connection slot for as long as its header fits the memory limit. This
 * guard keeps every connection in a list with the time its current request
 * header started (connect, or the end of the previous request on a
 * keep-alive connection); a small thread scans the list twice a second and
 * shuts down the socket of any connection whose header is late. MHD then
 * sees the socket fail and closes the connection through its usual path.
 *
 * Invariant: an entry is in the list exactly while its socket is open.
 * MHD calls the closed notification before it closes the socket, and the
 * scan holds the list lock while calling shutdown(2), so the guard never
 * touches a descriptor number that has been closed and reused.
 *
 * Threads: the guard's own thread, and MHD's pool threads through the
 * notify callbacks.
 */
#include "web/web_int.h"

#include "core/clock.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct entry {
    struct entry *prev, *next;
    int fd;
    bool armed;
    int64_t since_us;
};

struct ys_conn_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stop;
    int64_t timeout_us;
    struct entry head; /* circular list sentinel */
};

static void scan(struct ys_conn_guard *g)
{
    int64_t now = ys_mono_us();
    for (struct entry *e = g->head.next; e != &g->head; e = e->next) {
        if (e->armed && now - e->since_us > g->timeout_us) {
            shutdown(e->fd, SHUT_RDWR);
            e->armed = false;
        }
    }
}

static void *guard_main(void *arg)
{
    struct ys_conn_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 500 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        scan(g);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

struct ys_conn_guard *ys_conn_guard_start(int64_t timeout_ms)
{
    struct ys_conn_guard *g = ys_xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->timeout_us = timeout_ms * 1000;
    g->head.next = g->head.prev = &g->head;
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return NULL;
    }
    return g;
}

void ys_conn_guard_stop(struct ys_conn_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    /* MHD has closed every connection by now: the list is empty. */
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void *ys_conn_guard_opened(struct ys_conn_guard *g, int fd)
{
    struct entry *e = ys_xcalloc(1, sizeof *e);
    e->fd = fd;
    e->armed = true;
    e->since_us = ys_mono_us();
    pthread_mutex_lock(&g->mu);
    e->next = g->head.next;
    e->prev = &g->head;
    g->head.next->prev = e;
    g->head.next = e;
    pthread_mutex_unlock(&g->mu);
    return e;
}

void ys_conn_guard_closed(struct ys_conn_guard *g, void *entry)
{
    struct entry *e = entry;
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    e->prev->next = e->next;
    e->next->prev = e->prev;
    pthread_mutex_unlock(&g->mu);
    free(e);
}

void ys_conn_guard_arm(struct ys_conn_guard *g, void *entry, bool armed)
{
    struct entry *e = entry;
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    e->armed = armed;
    e->since_us = ys_mono_us();
    pthread_mutex_unlock(&g->mu);
}
