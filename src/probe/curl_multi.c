/*
 * curl_multi.c - one libcurl multi handle driven by a libuv loop.
 *
 * libcurl's multi-socket API tells us which sockets it wants watched
 * (CURLMOPT_SOCKETFUNCTION) and when it next needs a tick
 * (CURLMOPT_TIMERFUNCTION); we answer with an epoll set of our own, watched
 * by the loop through one uv_poll_t (an epoll fd is readable while it has
 * events), and one uv_timer_t for the whole multi, and call
 * curl_multi_socket_action when either fires. After every socket_action the
 * finished transfers are drained with curl_multi_info_read: each is removed
 * from the multi first, then its done callback runs, so the callback may
 * clean the easy handle up or add new ones.
 *
 * Why not a uv_poll_t per socket: every probe opens a socket, and libuv
 * makes each new poll handle cost two probing epoll_ctl calls and an ioctl,
 * and each close a scan of the events of the current loop turn (quadratic
 * when thousands of probes are in flight). Our own set costs one epoll_ctl
 * per change libcurl asks for (add, modify, delete) and nothing else. The
 * one poll handle is referenced (keeps the loop alive) only while libcurl
 * has sockets, as the per-socket handles were: `check` ends its loop when
 * nothing is left to wait for.
 *
 * Data: struct ys_curl_multi (the CURLM, the timer, the pool of idle easy
 * handles), one struct sock_ctx per socket libcurl watches (stored with
 * curl_multi_assign), and one struct easy_ctx per easy handle (stored in
 * its CURLOPT_PRIVATE, which therefore belongs to this module). A handle
 * from ys_curl_multi_easy_get keeps its easy_ctx (with its error buffer)
 * for life, through the pool; a foreign handle given to ys_curl_multi_add
 * gets a temporary one, freed when its transfer ends.
 *
 * The pool: curl_easy_init and curl_easy_cleanup cost about 13,000
 * instructions a probe (callgrind; a whole plain-HTTP probe in libcurl is
 * about 90,000), curl_easy_reset about 3,000.
 * A reset handle keeps none of the caller's options and no connection
 * (those live in the multi's cache, and probes forbid reuse anyway). The
 * pool holds at most POOL_MAX idle handles (about 20 KiB each): enough for
 * the probes one loop turn finishes, without keeping the peak of a burst.
 *
 * Invariants: libcurl announces CURL_POLL_REMOVE before it closes a socket,
 * and we take the fd out of the epoll set right there, while it is still
 * open (later, a new socket could have reused the number). An event read
 * from the set carries the socket's sock_ctx, not its fd number: a socket
 * removed while the events of the same epoll_wait are being handed out is
 * marked dead and freed only after the last of them, so a stale event is
 * dropped instead of reaching a new socket with the same number.
 *
 * Loop thread only.
 */
#include "probe/curl_multi.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define POOL_MAX 256
#define EVENTS_MAX 128 /* per epoll_wait; more wait for the next loop turn */

struct sock_ctx {
    curl_socket_t fd;
    uint32_t events;       /* what the epoll set watches; 0: not in it */
    struct sock_ctx *dead; /* next in the multi's list of removed sockets */
};

struct easy_ctx {
    CURL *easy;
    ys_curl_done_cb done; /* NULL while not in a transfer */
    void *arg;
    bool pooled;           /* from ys_curl_multi_easy_get */
    struct easy_ctx *next; /* in the pool */
    char errbuf[CURL_ERROR_SIZE];
};

struct ys_curl_multi {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    int epfd;
    uv_poll_t ep_poll;     /* referenced only while nsock > 0 */
    size_t nsock;          /* sockets libcurl has asked us to watch */
    int open_handles;      /* timer and ep_poll until their close callbacks */
    bool dispatching;      /* handing out the events of one epoll_wait */
    struct sock_ctx *dead; /* removed while dispatching: freed after */
    struct easy_ctx *pool; /* idle handles, already reset */
    size_t pool_n;
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

/* The epoll set has events: hand each to libcurl. */
static void on_epoll(uv_poll_t *poll, int status, int events)
{
    (void)events;
    struct ys_curl_multi *m = poll->data;
    struct epoll_event ev[EVENTS_MAX];
    if (status < 0) {
        ys_error("http", "watching the socket set: %s", uv_strerror(status));
        return;
    }
    int n = epoll_wait(m->epfd, ev, EVENTS_MAX, 0);
    m->dispatching = true;
    for (int i = 0; i < n; i++) {
        struct sock_ctx *sc = ev[i].data.ptr;
        if (sc->events == 0)
            continue; /* removed by an earlier event of this batch */
        int flags = 0;
        if (ev[i].events & (EPOLLERR | EPOLLHUP))
            flags |= CURL_CSELECT_ERR;
        if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
            flags |= CURL_CSELECT_IN;
        if (ev[i].events & EPOLLOUT)
            flags |= CURL_CSELECT_OUT;
        socket_action(m, sc->fd, flags);
    }
    m->dispatching = false;
    while (m->dead) {
        struct sock_ctx *sc = m->dead;
        m->dead = sc->dead;
        free(sc);
    }
}

static void on_timer(uv_timer_t *timer)
{
    socket_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

/* Takes sc's socket out of the set (it is still open) and frees sc, after
 * the current batch of events if one is being handed out. */
static void sock_remove(struct ys_curl_multi *m, struct sock_ctx *sc)
{
    if (sc->events) {
        struct epoll_event ev = {0};
        if (epoll_ctl(m->epfd, EPOLL_CTL_DEL, sc->fd, &ev) < 0 && errno != EBADF)
            ys_error("http", "epoll_ctl(DEL, %d): %s", (int)sc->fd, strerror(errno));
        sc->events = 0;
    }
    if (--m->nsock == 0)
        uv_unref((uv_handle_t *)&m->ep_poll);
    if (m->dispatching) {
        sc->dead = m->dead;
        m->dead = sc;
    } else {
        free(sc);
    }
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct ys_curl_multi *m = userp;
    struct sock_ctx *sc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sc) {
            curl_multi_assign(m->multi, fd, NULL);
            sock_remove(m, sc);
        }
        return 0;
    }
    if (!sc) {
        sc = ys_xcalloc(1, sizeof *sc);
        sc->fd = fd;
        curl_multi_assign(m->multi, fd, sc);
        if (m->nsock++ == 0)
            uv_ref((uv_handle_t *)&m->ep_poll);
    }
    uint32_t want = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        want |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        want |= EPOLLOUT;
    if (want == sc->events)
        return 0;
    struct epoll_event ev = {.events = want, .data.ptr = sc};
    int op = sc->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (want == 0) /* CURL_POLL_NONE: keep the socket, watch nothing */
        op = EPOLL_CTL_DEL;
    if (epoll_ctl(m->epfd, op, fd, &ev) < 0) {
        ys_error("http", "epoll_ctl(%d): %s", (int)fd, strerror(errno));
        return -1;
    }
    sc->events = want;
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

/* m is freed when the last of its loop handles has closed. */
static void handle_closed(uv_handle_t *h)
{
    struct ys_curl_multi *m = h->data;
    if (--m->open_handles == 0)
        free(m);
}

int ys_curl_multi_new(uv_loop_t *loop, struct ys_curl_multi **out)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return YS_EINTERNAL;
    struct ys_curl_multi *m = ys_xcalloc(1, sizeof *m);
    m->loop = loop;
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m->epfd < 0) {
        ys_error("http", "epoll_create1: %s", strerror(errno));
        free(m);
        return YS_EINTERNAL;
    }
    int rc = uv_poll_init(loop, &m->ep_poll, m->epfd);
    if (rc < 0) {
        ys_error("http", "uv_poll_init(epoll): %s", uv_strerror(rc));
        close(m->epfd);
        free(m);
        return YS_EINTERNAL;
    }
    m->ep_poll.data = m;
    m->multi = curl_multi_init();
    if (!m->multi || (rc = uv_poll_start(&m->ep_poll, UV_READABLE, on_epoll)) < 0) {
        if (m->multi)
            curl_multi_cleanup(m->multi);
        m->multi = NULL;
        /* The poll handle is the loop's until closed: m goes in its callback. */
        m->open_handles = 1;
        uv_close((uv_handle_t *)&m->ep_poll, handle_closed);
        close(m->epfd);
        return YS_EINTERNAL;
    }
    uv_unref((uv_handle_t *)&m->ep_poll);
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    m->open_handles = 2;
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
     * use m: it is freed only in the handles' close callbacks. */
    curl_multi_cleanup(m->multi);
    m->multi = NULL;
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, handle_closed);
    /* uv_close stops watching the epoll fd at once, so it may be closed. */
    uv_close((uv_handle_t *)&m->ep_poll, handle_closed);
    close(m->epfd);
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
