/*
 * dns_client.c - one DNS question to one server on the libuv loop, through
 * c-ares (see dns_client.h).
 *
 * Each query owns an ares channel set up with that one server, one try and
 * the question's timeout, so a server's answer and response time stand on
 * their own. c-ares tells us through its sock-state callback which sockets
 * it wants watched; each gets a heap-allocated uv_poll_t (a `watch`) whose
 * events call ares_process_fd. One uv_timer_t drives c-ares's own timeouts
 * and our hard deadline, and defers verdicts reached inside start. The
 * socket-create callback sees the socket type, which is how we learn that
 * c-ares retried over TCP after a truncated UDP answer.
 *
 * Flags: NOCHECKRESP so SERVFAIL and REFUSED answers reach us instead of
 * being retried away; NORECURSE when the question says so (the RD bit is
 * also set in the query we build). No EDNS: a plain 512-byte UDP limit, so
 * large answers take the TCP path the same way for every server.
 *
 * Lifecycle invariants:
 * - The answer callback runs inside ares_process_fd, where the channel must
 *   not be destroyed; it only records the verdict (`answered`). Whoever
 *   called into c-ares delivers it afterwards (deliver), once.
 * - `over` turns true once (deliver or cancel). Teardown stops and closes
 *   every poll handle first, then destroys the channel (which closes the
 *   sockets), so libuv never watches a closed fd. The query is freed in
 *   the last close callback.
 *
 * Loop thread only; ares_library_init runs once (pthread_once).
 */
#include "probe/dns_client.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <ares.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct watch {
    struct ys_dns_query *q;
    ares_socket_t fd;
    uv_poll_t poll;
};

struct ys_dns_query {
    uv_loop_t *loop;
    ares_channel ch;
    bool ch_open;
    uv_timer_t timer;
    struct watch **w; /* sockets c-ares wants watched */
    size_t nw, capw;
    ys_dns_query_cb cb;
    void *arg;
    int qtype;
    int64_t timeout_ms;
    int64_t t0_us, deadline_us;
    bool used_tcp;
    bool in_start; /* a verdict now waits for start to return */
    bool answered; /* status, resp and message hold the verdict */
    bool over;
    int closing; /* close callbacks still to come */
    enum ys_dns_status status;
    struct ys_dns_response resp;
    char message[160];
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;

static void lib_init(void)
{
    lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

/* ---- servers ----------------------------------------------------------- */

int ys_dns_server_parse(const char *s, char *canon, size_t size)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port = NULL;
    size_t hlen;
    bool v6 = false;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return YS_EINVAL;
        hlen = (size_t)(close - s - 1);
        s++;
        port = close[1] == ':' ? close + 2 : NULL;
        v6 = true;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) { /* a bare IPv6 address */
            colon = NULL;
            v6 = true;
        }
        hlen = colon ? (size_t)(colon - s) : strlen(s);
        port = colon ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof host)
        return YS_EINVAL;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    unsigned char addr[16];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1)
        return YS_EINVAL;
    long p = 53;
    if (port) {
        char *end;
        if (*port < '0' || *port > '9')
            return YS_EINVAL;
        p = strtol(port, &end, 10);
        if (*end || p < 1 || p > 65535)
            return YS_EINVAL;
    }
    char norm[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, addr, norm, sizeof norm);
    int n = snprintf(canon, size, v6 ? "[%s]:%ld" : "%s:%ld", norm, p);
    return n < 0 || (size_t)n >= size ? YS_ETOOBIG : 0;
}

/* ---- lifecycle --------------------------------------------------------- */

static void on_close(uv_handle_t *h)
{
    struct ys_dns_query *q;
    if (h->type == UV_POLL) {
        struct watch *w = h->data;
        q = w->q;
        free(w);
    } else {
        q = h->data;
    }
    if (--q->closing == 0) {
        ys_dns_response_free(&q->resp);
        free(q->w);
        free(q);
    }
}

static void close_watch(struct ys_dns_query *q, size_t i)
{
    struct watch *w = q->w[i];
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_close);
    q->closing++;
    q->w[i] = q->w[--q->nw];
}

static void teardown(struct ys_dns_query *q)
{
    q->over = true;
    uv_timer_stop(&q->timer);
    uv_close((uv_handle_t *)&q->timer, on_close);
    q->closing++;
    while (q->nw > 0)
        close_watch(q, q->nw - 1);
    if (q->ch_open) {
        /* Calls the answer callback with ARES_EDESTRUCTION if still
         * pending (ignored: over) and closes the sockets. */
        ares_destroy(q->ch);
        q->ch_open = false;
    }
}

static void on_deferred(uv_timer_t *t);

/* Hands the recorded verdict to the caller, once, then winds down. */
static void deliver(struct ys_dns_query *q)
{
    if (q->over || !q->answered)
        return;
    if (q->in_start) {
        uv_timer_start(&q->timer, on_deferred, 0, 0);
        return;
    }
    q->over = true; /* a cancel from inside cb is a no-op */
    q->resp.used_tcp = q->used_tcp;
    q->cb(q->status, q->status == YS_DNS_OK ? &q->resp : NULL, q->message, q->arg);
    teardown(q);
}

static void on_deferred(uv_timer_t *t)
{
    deliver(t->data);
}

static void set_verdict(struct ys_dns_query *q, enum ys_dns_status st, const char *msg)
{
    if (q->answered)
        return;
    q->answered = true;
    q->status = st;
    snprintf(q->message, sizeof q->message, "%s", msg);
}

static void timed_out(struct ys_dns_query *q)
{
    char dur[32], msg[64];
    ys_duration_format(q->timeout_ms, dur, sizeof dur);
    snprintf(msg, sizeof msg, "timed out after %s", dur);
    set_verdict(q, YS_DNS_TIMEOUT, msg);
}

/* ---- c-ares callbacks ---------------------------------------------------- */

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct ys_dns_query *q = arg;
    (void)timeouts;
    if (q->over || q->answered)
        return;
    q->resp.rtt_us = ys_mono_us() - q->t0_us;
    int64_t rtt = q->resp.rtt_us;
    char msg[96];
    switch (status) {
    case ARES_SUCCESS:
        if (ys_dns_response_parse(abuf, (size_t)alen, q->qtype, &q->resp) < 0) {
            snprintf(msg, sizeof msg, "malformed response (%d bytes)", alen);
            set_verdict(q, YS_DNS_BADRESP, msg);
        } else {
            set_verdict(q, YS_DNS_OK, "");
        }
        q->resp.rtt_us = rtt; /* parse cleared it */
        break;
    case ARES_ETIMEOUT: timed_out(q); break;
    case ARES_ECONNREFUSED: set_verdict(q, YS_DNS_REFUSED, "connection refused"); break;
    case ARES_EBADRESP: set_verdict(q, YS_DNS_BADRESP, "malformed response"); break;
    default:
        snprintf(msg, sizeof msg, "query failed: %s", ares_strerror(status));
        set_verdict(q, YS_DNS_ERROR, msg);
        break;
    }
}

static int on_socket_create(ares_socket_t fd, int type, void *data)
{
    struct ys_dns_query *q = data;
    (void)fd;
    if (type == SOCK_STREAM)
        q->used_tcp = true;
    return 0;
}

static void on_poll(uv_poll_t *h, int status, int events);

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct ys_dns_query *q = data;
    if (q->over)
        return; /* ares_destroy closing its sockets: the polls are closing */
    size_t i = 0;
    while (i < q->nw && q->w[i]->fd != fd)
        i++;
    if (!readable && !writable) {
        if (i < q->nw)
            close_watch(q, i);
        return;
    }
    if (i == q->nw) {
        struct watch *w = ys_xcalloc(1, sizeof *w);
        w->q = q;
        w->fd = fd;
        if (uv_poll_init_socket(q->loop, &w->poll, fd) < 0) {
            free(w);
            set_verdict(q, YS_DNS_ERROR, "cannot watch the DNS socket");
            return;
        }
        w->poll.data = w;
        if (q->nw == q->capw) {
            q->capw = q->capw ? q->capw * 2 : 4;
            q->w = ys_xrealloc(q->w, q->capw * sizeof *q->w);
        }
        q->w[q->nw++] = w;
    }
    int ev = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    uv_poll_start(&q->w[i]->poll, ev, on_poll);
}

/* ---- the loop side ------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

/* Re-arms the timer for c-ares's next timeout, capped by our deadline. */
static void arm_timer(struct ys_dns_query *q)
{
    if (q->over || q->answered)
        return;
    int64_t left_us = q->deadline_us - ys_mono_us();
    if (left_us < 0)
        left_us = 0;
    struct timeval max = {(time_t)(left_us / 1000000), (suseconds_t)(left_us % 1000000)}, tv;
    struct timeval *next = ares_timeout(q->ch, &max, &tv);
    uint64_t ms = (uint64_t)next->tv_sec * 1000 + (uint64_t)(next->tv_usec + 999) / 1000;
    uv_timer_start(&q->timer, on_timer, ms, 0);
}

static void after_ares(struct ys_dns_query *q)
{
    if (q->answered)
        deliver(q);
    else
        arm_timer(q);
}

static void on_timer(uv_timer_t *t)
{
    struct ys_dns_query *q = t->data;
    ares_process_fd(q->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    if (!q->answered && ys_mono_us() >= q->deadline_us)
        timed_out(q);
    after_ares(q);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct watch *w = h->data;
    struct ys_dns_query *q = w->q;
    if (q->over)
        return;
    ares_socket_t fd = w->fd; /* w may be freed inside ares_process_fd */
    /* On a poll error let c-ares read and write, so it sees the error. */
    bool r = status < 0 || (events & UV_READABLE);
    bool wr = status < 0 || (events & UV_WRITABLE);
    ares_process_fd(q->ch, r ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
    after_ares(q);
}

/* ---- the API ------------------------------------------------------------- */

static int channel_open(struct ys_dns_query *q, const struct ys_dns_question *qs,
                        const char *server)
{
    struct ares_options o;
    memset(&o, 0, sizeof o);
    /* Every option that /etc/resolv.conf could set is given, so c-ares
     * does not read the file (a blocking read on the loop). */
    struct in_addr placeholder = {htonl(INADDR_LOOPBACK)};
    char lookups[] = "b";
    o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | (qs->recursion ? 0 : ARES_FLAG_NORECURSE);
    o.timeout = qs->timeout_ms > INT32_MAX ? INT32_MAX : (int)qs->timeout_ms;
    o.tries = 1;
    o.ndots = 1;
    o.servers = &placeholder;
    o.nservers = 1;
    o.ndomains = 0;
    o.lookups = lookups;
    o.nsort = 0;
    o.sock_state_cb = on_sock_state;
    o.sock_state_cb_data = q;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
               ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST |
               ARES_OPT_SOCK_STATE_CB;
    if (ares_init_options(&q->ch, &o, mask) != ARES_SUCCESS)
        return YS_EINTERNAL;
    q->ch_open = true;
    ares_set_socket_callback(q->ch, on_socket_create, q);
    if (ares_set_servers_ports_csv(q->ch, server) != ARES_SUCCESS)
        return YS_EINVAL;
    return 0;
}

int ys_dns_query_start(uv_loop_t *loop, const struct ys_dns_question *qs, ys_dns_query_cb cb,
                       void *arg, struct ys_dns_query **out)
{
    char server[INET6_ADDRSTRLEN + 16];
    if (!qs->name || !*qs->name || qs->timeout_ms <= 0 ||
        ys_dns_server_parse(qs->server, server, sizeof server) < 0)
        return YS_EINVAL;
    pthread_once(&lib_once, lib_init);
    if (lib_rc != ARES_SUCCESS)
        return YS_EINTERNAL;
    unsigned char *buf = NULL;
    int buflen = 0;
    if (ares_create_query(qs->name, 1 /* IN */, qs->type, 0, qs->recursion ? 1 : 0, &buf, &buflen,
                          0) != ARES_SUCCESS)
        return YS_EINVAL;

    struct ys_dns_query *q = ys_xcalloc(1, sizeof *q);
    q->loop = loop;
    q->cb = cb;
    q->arg = arg;
    q->qtype = qs->type;
    q->timeout_ms = qs->timeout_ms;
    int rc = channel_open(q, qs, server);
    if (rc < 0) {
        if (q->ch_open)
            ares_destroy(q->ch);
        ares_free_string(buf);
        free(q);
        return rc;
    }
    uv_timer_init(loop, &q->timer);
    q->timer.data = q;
    q->in_start = true;
    q->t0_us = ys_mono_us();
    q->deadline_us = q->t0_us + qs->timeout_ms * 1000;
    uv_update_time(loop);
    ares_send(q->ch, buf, buflen, on_answer, q);
    ares_free_string(buf);
    q->in_start = false;
    if (q->answered)
        uv_timer_start(&q->timer, on_deferred, 0, 0);
    else
        arm_timer(q);
    *out = q;
    return 0;
}

void ys_dns_query_cancel(struct ys_dns_query *q)
{
    if (!q || q->over)
        return;
    teardown(q);
}
