/*
 * curl_multi.c - one libcurl multi handle driven by a libuv loop.
 *
 * libcurl's multi-socket API tells us which sockets it wants watched
 * (CURLMOPT_SOCKETFUNCTION) and when it next needs a tick
 * (CURLMOPT_TIMERFUNCTION); we answer with one uv_poll_t per socket and one
 * uv_timer_t for the whole multi, and call curl_multi_socket_action when
 * either fires. After every socket_action the finished transfers are drained
 * with curl_multi_info_read: each is removed from the multi first, then its
 * done callback runs, so the callback may clean the easy handle up or add
 * new ones.
 *
 * Data: struct ys_curl_multi (the CURLM, the timer, the pool of idle easy
 * handles), one struct sock_ctx per socket libcurl watches (stored with
 * curl_multi_assign), and one struct easy_ctx per easy handle (stored in
 * its CURLOPT_PRIVATE, which therefore belongs to this module). A handle
 * from ys_curl_multi_easy_get keeps its easy_ctx (with its error buffer)
 * for life, through the pool; a foreign handle given to ys_curl_multi_add
 * gets a temporary one, freed when its transfer ends.
 *
 * The pool: curl_easy_init and curl_easy_cleanup cost more than the rest
 * of what yardstick adds to a plain-HTTP probe (callgrind: about 13,000
 * instructions of a probe's ~130,000), curl_easy_reset a fraction of that.
 * A reset handle keeps none of the caller's options and no connection
 * (those live in the multi's cache, and probes forbid reuse anyway). The
 * pool holds at most POOL_MAX idle handles (about 20 KiB each): enough for
 * the probes one loop turn finishes, without keeping the peak of a burst.
 *
 * Invariant (libuv's rule that an fd must not be closed while a poll handle
 * watches it): libcurl announces CURL_POLL_REMOVE before it closes a socket,
 * and we uv_close the poll handle right there. uv_close stops the watcher
 * synchronously while the fd is still open; stopping it later could delete
 * from epoll a new socket that reused the same fd number. The sock_ctx
 * memory is freed in the close callback and never touched after uv_close.
 *
 * Loop thread only.
 */
#include "probe/curl_multi.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define POOL_MAX 256

struct easy_ctx {
    CURL *easy;
    ys_curl_done_cb done; /* NULL while not in a transfer */
    void *arg;
    bool pooled;            /* from ys_curl_multi_easy_get */
    struct easy_ctx *next;  /* in the pool */
    char errbuf[CURL_ERROR_SIZE];
};

struct ys_curl_multi {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct easy_ctx *pool; /* idle handles, already reset */
    size_t pool_n;
};

struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct ys_curl_multi *m;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Ends ec's part in a transfer: a pooled handle keeps its context, a
 * foreign one loses its temporary context. */
static void release_ctx(CURL *easy, struct easy_ctx *ec)
{
    ec->done = NULL;
    ec->arg = NULL;
    if (!ec->pooled) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(ec);
    }
}

/* Hands every finished transfer to its owner. */
static void drain_done(struct ys_curl_multi *m)
{
    CURLMsg *msg;
    int pending;
    while ((msg = curl_multi_info_read(m->multi, &pending))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg is invalid once the handle is removed: copy what we need. */
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        struct easy_ctx *ec = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ec);
        curl_multi_remove_handle(m->multi, easy);
        if (ec && ec->done) {
            ys_curl_done_cb done = ec->done;
            void *arg = ec->arg;
            release_ctx(easy, ec);
            done(easy, code, arg);
        }
    }
}

static void socket_action(struct ys_curl_multi *m, curl_socket_t fd, int flags)
{
    int running;
    CURLMcode mc = curl_multi_socket_action(m->multi, fd, flags, &running);
    if (mc != CURLM_OK)
        ys_error("http", "curl_multi_socket_action: %s", curl_multi_strerror(mc));
    drain_done(m);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct sock_ctx *sc = poll->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    /* sc may be closed inside socket_action: read it first. */
    socket_action(sc->m, sc->fd, flags);
}

static void on_timer(uv_timer_t *timer)
{
    socket_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

static void free_sock_ctx(uv_handle_t *h)
{
    free(h->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct ys_curl_multi *m = userp;
    struct sock_ctx *sc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sc) {
            curl_multi_assign(m->multi, fd, NULL);
            uv_close((uv_handle_t *)&sc->poll, free_sock_ctx);
        }
        return 0;
    }
    if (!sc) {
        sc = ys_xcalloc(1, sizeof *sc);
        int rc = uv_poll_init_socket(m->loop, &sc->poll, fd);
        if (rc < 0) {
            ys_error("http", "uv_poll_init_socket(%d): %s", (int)fd, uv_strerror(rc));
            free(sc);
            return -1;
        }
        sc->fd = fd;
        sc->m = m;
        sc->poll.data = sc;
        curl_multi_assign(m->multi, fd, sc);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    int rc = uv_poll_start(&sc->poll, events, on_poll);
    if (rc < 0) {
        ys_error("http", "uv_poll_start(%d): %s", (int)fd, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct ys_curl_multi *m = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&m->timer);
    else /* 0 means "as soon as possible": the next loop iteration, not from here. */
        uv_timer_start(&m->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

int ys_curl_multi_new(uv_loop_t *loop, struct ys_curl_multi **out)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return YS_EINTERNAL;
    struct ys_curl_multi *m = ys_xcalloc(1, sizeof *m);
    m->loop = loop;
    m->multi = curl_multi_init();
    if (!m->multi) {
        free(m);
        return YS_EINTERNAL;
    }
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    /* Probes never reuse connections, so the cache only needs to be small;
     * no pipelining or multiplexing: each probe measures its own connection. */
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, 4L);
    curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    *out = m;
    return 0;
}

static void free_multi(uv_handle_t *h)
{
    free(h->data);
}

void ys_curl_multi_free(struct ys_curl_multi *m)
{
    if (!m)
        return;
    while (m->pool) {
        struct easy_ctx *ec = m->pool;
        m->pool = ec->next;
        curl_easy_cleanup(ec->easy);
        free(ec);
    }
    /* Cleanup may still call on_socket (REMOVE) and on_timer_change, which
     * use m: it is freed only in the timer's close callback. */
    curl_multi_cleanup(m->multi);
    m->multi = NULL;
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, free_multi);
}

CURL *ys_curl_multi_easy_get(struct ys_curl_multi *m)
{
    struct easy_ctx *ec = m->pool;
    if (ec) {
        m->pool = ec->next;
        m->pool_n--;
    } else {
        CURL *easy = curl_easy_init();
        if (!easy)
            return NULL;
        ec = ys_xcalloc(1, sizeof *ec);
        ec->easy = easy;
        ec->pooled = true;
    }
    ec->next = NULL;
    ec->errbuf[0] = '\0';
    curl_easy_setopt(ec->easy, CURLOPT_PRIVATE, ec);
    curl_easy_setopt(ec->easy, CURLOPT_ERRORBUFFER, ec->errbuf);
    return ec->easy;
}

void ys_curl_multi_easy_put(struct ys_curl_multi *m, CURL *easy)
{
    struct easy_ctx *ec = NULL;
    if (!easy)
        return;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ec);
    if (!ec || !ec->pooled || m->pool_n >= POOL_MAX) {
        curl_easy_cleanup(easy);
        free(ec);
        return;
    }
    /* Reset now, not at the next get: the options point into the caller's
     * memory (a check's spec may be freed by a reload before then). */
    curl_easy_reset(easy);
    ec->next = m->pool;
    m->pool = ec;
    m->pool_n++;
}

const char *ys_curl_multi_errbuf(CURL *easy)
{
    struct easy_ctx *ec = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ec);
    return ec && ec->pooled ? ec->errbuf : "";
}

int ys_curl_multi_add(struct ys_curl_multi *m, CURL *easy, ys_curl_done_cb done, void *arg)
{
    struct easy_ctx *ec = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ec);
    if (!ec) {
        ec = ys_xcalloc(1, sizeof *ec);
        ec->easy = easy;
        curl_easy_setopt(easy, CURLOPT_PRIVATE, ec);
    }
    ec->done = done;
    ec->arg = arg;
    CURLMcode mc = curl_multi_add_handle(m->multi, easy);
    if (mc != CURLM_OK) {
        ys_error("http", "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        release_ctx(easy, ec);
        return YS_EINTERNAL;
    }
    return 0;
}

void ys_curl_multi_remove(struct ys_curl_multi *m, CURL *easy)
{
    struct easy_ctx *ec = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ec);
    curl_multi_remove_handle(m->multi, easy);
    if (ec)
        release_ctx(easy, ec);
}

CURLM *ys_curl_multi_handle(struct ys_curl_multi *m)
{
    return m->multi;
}
