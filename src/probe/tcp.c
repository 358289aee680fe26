/*
 * tcp.c - the `tcp` probe kind: connect, optional TLS, optional send and
 * expect, on the libuv loop.
 *
 * A probe walks the steps dns -> connect -> tls -> send -> read, each
 * optional but connect. Names resolve through uv_getaddrinfo (libuv's
 * thread pool; IP literals skip it). The socket is a plain non-blocking
 * socket(2) watched by one uv_poll_t, so OpenSSL can run on the same fd
 * (tls_client.c) and every step waits the same way: the step's I/O call
 * says what it needs (readable or writable), and the poll handle is
 * re-armed for exactly that. One uv_timer_t bounds the whole probe by
 * check->timeout_ms, and also defers a verdict reached inside start, so
 * done never runs before start has returned.
 *
 * Lifecycle invariants:
 * - `over` turns true exactly once, in finish (done then runs once) or in
 *   cancel (done never runs); after it no step runs and no I/O is started.
 * - The probe frees itself when over, every handle it opened has closed
 *   (`closing` counts pending close callbacks) and the getaddrinfo request,
 *   which cannot always be cancelled, has called back.
 * - The fd is closed in the poll handle's close callback, never while the
 *   loop still watches it.
 *
 * The check's spec owns the TLS context (built here on first use), so the
 * CA store is read once per check. Loop thread only.
 */
#include "probe/probe.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/tcp_spec.h"
#include "probe/tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum tcp_step { STEP_DNS, STEP_CONNECT, STEP_TLS, STEP_SEND, STEP_READ };

static const char *const step_names[] = {"dns", "connect", "tls", "send", "read"};

/* The first read asks for this much; the buffer doubles up to max_read. */
#define READ_CHUNK 4096
/* Bytes of received data or of expect quoted in a message. */
#define EXCERPT_MAX 48

struct tcp_probe {
    struct ys_probe super; /* first: the scheduler sees a struct ys_probe */
    struct ys_tcp_spec *spec;
    uv_loop_t *loop;
    enum tcp_step step;
    int64_t step_start_us;
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    uv_poll_t poll;
    int fd;
    bool in_start;    /* a verdict now must wait for start to return */
    bool gai_pending; /* getaddrinfo's callback has not run yet */
    bool poll_open;   /* poll initialised and not yet closed */
    bool over;        /* finished or cancelled: tearing down */
    int closing;      /* close callbacks still to come */
    struct ys_tls_conn *tls;
    size_t sent;
    char *buf; /* bytes received, capped at spec->max_read */
    size_t len, cap;
    char peer[INET6_ADDRSTRLEN + 8]; /* "1.2.3.4:80" or "[::1]:80" */
};

extern const struct ys_probe_type ys_probe_tcp;

static void on_poll(uv_poll_t *h, int status, int events);
static void start_connect(struct tcp_probe *p, const struct sockaddr *sa);

/* ---- lifecycle -------------------------------------------------------- */

static void maybe_free(struct tcp_probe *p)
{
    if (!p->over || p->closing > 0 || p->gai_pending)
        return;
    free(p->buf);
    free(p);
}

static void on_close(uv_handle_t *h)
{
    struct tcp_probe *p = h->data;
    if (h == (uv_handle_t *)&p->poll && p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    p->closing--;
    maybe_free(p);
}

/* Stops everything; the close callbacks free the probe. */
static void teardown(struct tcp_probe *p)
{
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_close);
    p->closing++;
    if (p->gai_pending)
        uv_cancel((uv_req_t *)&p->gai); /* its callback still runs, later */
    ys_tls_conn_free(p->tls);
    p->tls = NULL;
    if (p->poll_open) {
        uv_poll_stop(&p->poll);
        uv_close((uv_handle_t *)&p->poll, on_close);
        p->closing++;
        p->poll_open = false;
    } else if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}

static void on_deferred(uv_timer_t *t);

/* Delivers the verdict: done runs once, then the probe winds down. */
static void finish(struct tcp_probe *p)
{
    if (p->over)
        return;
    if (p->in_start) {
        uv_timer_start(&p->timer, on_deferred, 0, 0);
        return;
    }
    p->over = true;
    p->super.result.bytes = (int64_t)p->len;
    ys_probe_base_finish(&p->super);
    teardown(p);
}

static void on_deferred(uv_timer_t *t)
{
    finish(t->data);
}

static void phase_end(struct tcp_probe *p, enum ys_phase phase, int64_t since_us)
{
    int64_t d = ys_mono_us() - since_us;
    p->super.result.phase_us[phase] = (int32_t)(d > INT32_MAX ? INT32_MAX : d);
}

static void enter(struct tcp_probe *p, enum tcp_step step)
{
    p->step = step;
    p->step_start_us = ys_mono_us();
}

/* Re-arms the poll handle for what the step's I/O call asked for. */
static void wait_for(struct tcp_probe *p, int want)
{
    int ev = want == YS_TLS_WANT_WRITE ? UV_WRITABLE : UV_READABLE;
    int rc = uv_poll_start(&p->poll, ev, on_poll);
    if (rc < 0) {
        ys_result_fail(&p->super.result, YS_EC_INTERNAL, "cannot watch the socket: %s",
                       uv_strerror(rc));
        finish(p);
    }
}

/* ---- messages --------------------------------------------------------- */

/* Writes a short, printable, double-quoted form of data into out. */
static void excerpt(const char *data, size_t len, char *out, size_t size)
{
    size_t o = 0;
    out[o++] = '"';
    size_t i = 0;
    for (; i < len && i < EXCERPT_MAX && o + 8 < size; i++) {
        unsigned char c = (unsigned char)data[i];
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        if (esc)
            o += (size_t)snprintf(out + o, size - o, "%s", esc);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (i < len && o + 5 < size)
        o += (size_t)snprintf(out + o, size - o, "...");
    out[o++] = '"';
    out[o] = '\0';
}

static void fail_expect(struct tcp_probe *p, bool eof)
{
    char want[EXCERPT_MAX * 4 + 8], got[EXCERPT_MAX * 4 + 8];
    excerpt(p->spec->expect, p->spec->expect_len, want, sizeof want);
    if (p->len == 0) {
        ys_result_fail(&p->super.result, YS_EC_ASSERTION,
                       "expected %s, but the connection closed before any byte arrived", want);
        return;
    }
    excerpt(p->buf, p->len, got, sizeof got);
    ys_result_fail(&p->super.result, YS_EC_ASSERTION,
                   "expected %s in the first %zu bytes%s, got %s", want, p->len,
                   eof ? " (connection closed)" : "", got);
}

static void on_timeout(uv_timer_t *t)
{
    struct tcp_probe *p = t->data;
    char dur[32];
    ys_duration_format(p->super.check->timeout_ms, dur, sizeof dur);
    if (p->step == STEP_READ && p->spec->expect && p->len > 0) {
        char want[EXCERPT_MAX * 4 + 8], got[EXCERPT_MAX * 4 + 8];
        excerpt(p->spec->expect, p->spec->expect_len, want, sizeof want);
        excerpt(p->buf, p->len, got, sizeof got);
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT,
                       "timed out after %s during read: expected %s, got %s so far", dur, want,
                       got);
    } else {
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT, "timed out after %s during %s", dur,
                       step_names[p->step]);
    }
    finish(p);
}

static void fail_sys(struct tcp_probe *p, enum ys_errclass ec, const char *what, int sys_errno)
{
    ys_result_fail(&p->super.result, ec, "%s %s: %s", what, p->peer,
                   uv_strerror(uv_translate_sys_error(sys_errno)));
    finish(p);
}

/* ---- read and send ---------------------------------------------------- */

/* Reads what is available into buf, up to max_read. Returns >0 for
 * "wait for that event", 0 for "bytes arrived", -1 at EOF, -2 on failure
 * (result already failed). */
static int read_some(struct tcp_probe *p)
{
    size_t max = (size_t)p->spec->max_read;
    if (p->len == p->cap) {
        p->cap = p->cap ? p->cap * 2 : READ_CHUNK;
        if (p->cap > max)
            p->cap = max;
        p->buf = ys_xrealloc(p->buf, p->cap);
    }
    size_t got = 0;
    if (p->tls) {
        struct ys_err err;
        int rc = ys_tls_conn_read(p->tls, p->buf + p->len, p->cap - p->len, &got, &err);
        if (rc != 0) {
            if (rc < 0)
                ys_result_fail(&p->super.result, YS_EC_TLS, "%s", err.msg);
            return rc > 0 ? rc : -2;
        }
    } else {
        ssize_t n = recv(p->fd, p->buf + p->len, p->cap - p->len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return YS_TLS_WANT_READ;
        if (n < 0) {
            ys_result_fail(&p->super.result, YS_EC_CONNECT, "cannot read from %s: %s", p->peer,
                           uv_strerror(uv_translate_sys_error(errno)));
            return -2;
        }
        got = (size_t)n;
    }
    if (got == 0)
        return -1;
    p->len += got;
    return 0;
}

/* Whether expect is in buf, looking only where the last read can have
 * completed it. */
static bool expect_found(const struct tcp_probe *p, size_t old_len)
{
    size_t elen = p->spec->expect_len;
    size_t from = old_len >= elen ? old_len - elen + 1 : 0;
    return p->len >= elen && memmem(p->buf + from, p->len - from, p->spec->expect, elen);
}

static void read_step(struct tcp_probe *p)
{
    for (;;) {
        size_t old_len = p->len;
        int rc = read_some(p);
        if (rc > 0) {
            wait_for(p, rc);
            return;
        }
        if (rc == -2) {
            finish(p);
            return;
        }
        if (old_len == 0 && p->len > 0)
            phase_end(p, YS_PHASE_TTFB, p->step_start_us);
        if (!p->spec->expect) {
            /* Without expect, the first bytes (or a close) end the probe. */
            finish(p);
            return;
        }
        if (rc == -1 || p->len == (size_t)p->spec->max_read) {
            if (!expect_found(p, old_len))
                fail_expect(p, rc == -1);
            finish(p);
            return;
        }
        if (expect_found(p, old_len)) {
            finish(p);
            return;
        }
    }
}

static void begin_read(struct tcp_probe *p)
{
    if (!p->spec->send && !p->spec->expect) {
        finish(p);
        return;
    }
    /* After a send, step_start stays where the send began, so ttfb is
     * measured from the request, as a client would see it. */
    if (p->step != STEP_SEND)
        enter(p, STEP_READ);
    p->step = STEP_READ;
    read_step(p);
}

static void send_step(struct tcp_probe *p)
{
    while (p->sent < p->spec->send_len) {
        const char *at = p->spec->send + p->sent;
        size_t left = p->spec->send_len - p->sent, n = 0;
        if (p->tls) {
            struct ys_err err;
            int rc = ys_tls_conn_write(p->tls, at, left, &n, &err);
            if (rc > 0) {
                wait_for(p, rc);
                return;
            }
            if (rc < 0) {
                ys_result_fail(&p->super.result, YS_EC_TLS, "%s", err.msg);
                finish(p);
                return;
            }
        } else {
            ssize_t w = send(p->fd, at, left, MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                wait_for(p, YS_TLS_WANT_WRITE);
                return;
            }
            if (w < 0) {
                fail_sys(p, YS_EC_CONNECT, "cannot send to", errno);
                return;
            }
            n = (size_t)w;
        }
        p->sent += n;
    }
    begin_read(p);
}

static void begin_exchange(struct tcp_probe *p)
{
    if (p->spec->send) {
        enter(p, STEP_SEND);
        send_step(p);
    } else {
        begin_read(p);
    }
}

/* ---- tls ---------------------------------------------------------------- */

static void format_date(int64_t epoch_s, char *buf, size_t size)
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, size, "?");
}

/* Fails the probe when the leaf expires sooner than min_days_left. */
static bool cert_days_ok(struct tcp_probe *p)
{
    const struct ys_tls_facts *f = &p->super.result.tls;
    int64_t min = p->spec->tls.min_days_left;
    if (min < 0 || !f->leaf_not_after)
        return true;
    int64_t days = ys_tls_days_left(f, ys_wall_ms() / 1000);
    if (days >= min)
        return true;
    char date[32];
    format_date(f->leaf_not_after, date, sizeof date);
    if (days >= 0)
        ys_result_fail(&p->super.result, YS_EC_ASSERTION,
                       "certificate expires in %lld day%s (%s), less than %lld", (long long)days,
                       days == 1 ? "" : "s", date, (long long)min);
    else
        ys_result_fail(&p->super.result, YS_EC_ASSERTION,
                       "certificate expired %lld day%s ago (%s)", (long long)-days,
                       days == -1 ? "" : "s", date);
    return false;
}

static void tls_step(struct tcp_probe *p)
{
    struct ys_err err;
    int rc = ys_tls_conn_handshake(p->tls, &err);
    struct ys_result *r = &p->super.result;
    if (r->tls.leaf_not_after) {
        /* As the http kind does: days left is the result's value. */
        r->flags |= YS_RF_HAS_TLS | YS_RF_HAS_VALUE;
        r->value = (double)ys_tls_days_left(&r->tls, ys_wall_ms() / 1000);
    }
    if (rc > 0) {
        wait_for(p, rc);
        return;
    }
    if (rc < 0) {
        ys_result_fail(&p->super.result, YS_EC_TLS, "%s", err.msg);
        finish(p);
        return;
    }
    phase_end(p, YS_PHASE_TLS, p->step_start_us);
    if (!cert_days_ok(p)) {
        finish(p);
        return;
    }
    begin_exchange(p);
}

static void begin_tls(struct tcp_probe *p)
{
    struct ys_err err;
    enter(p, STEP_TLS);
    if (!p->spec->tls_client && ys_tls_client_new(&p->spec->tls, &p->spec->tls_client, &err) < 0) {
        ys_result_fail(&p->super.result, YS_EC_TLS, "%s", err.msg);
        finish(p);
        return;
    }
    const char *name = p->spec->tls.server_name ? p->spec->tls.server_name : p->spec->host;
    if (ys_tls_conn_new(p->spec->tls_client, p->fd, name, &p->super.result.tls, &p->tls, &err) <
        0) {
        ys_result_fail(&p->super.result, YS_EC_INTERNAL, "%s", err.msg);
        finish(p);
        return;
    }
    tls_step(p);
}

/* ---- connect ------------------------------------------------------------ */

static void connected(struct tcp_probe *p)
{
    phase_end(p, YS_PHASE_CONNECT, p->step_start_us);
    if (ys_tcp_spec_tls_on(p->spec))
        begin_tls(p);
    else
        begin_exchange(p);
}

static void check_connect(struct tcp_probe *p)
{
    int e = 0;
    socklen_t elen = sizeof e;
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
        e = errno;
    if (e == EINPROGRESS) {
        wait_for(p, YS_TLS_WANT_WRITE);
        return;
    }
    if (e != 0) {
        fail_sys(p, YS_EC_CONNECT, "cannot connect to", e);
        return;
    }
    connected(p);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct tcp_probe *p = h->data;
    (void)events;
    if (p->over)
        return;
    if (status < 0 && p->step != STEP_CONNECT) {
        /* libuv stops the handle on POLLERR; the socket says why. */
        int e = 0;
        socklen_t elen = sizeof e;
        if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 && e != 0) {
            fail_sys(p, p->tls ? YS_EC_TLS : YS_EC_CONNECT, "connection failed to", e);
            return;
        }
    }
    switch (p->step) {
    case STEP_CONNECT: check_connect(p); break;
    case STEP_TLS: tls_step(p); break;
    case STEP_SEND: send_step(p); break;
    case STEP_READ: read_step(p); break;
    case STEP_DNS: break;
    }
}

static void format_peer(struct tcp_probe *p, const struct sockaddr *sa)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof ip);
        snprintf(p->peer, sizeof p->peer, "[%s]:%d", ip, p->spec->port);
    } else {
        uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof ip);
        snprintf(p->peer, sizeof p->peer, "%s:%d", ip, p->spec->port);
    }
}

static void start_connect(struct tcp_probe *p, const struct sockaddr *sa)
{
    format_peer(p, sa);
    enter(p, STEP_CONNECT);
    p->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
        fail_sys(p, YS_EC_CONNECT, "cannot open a socket for", errno);
        return;
    }
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = uv_poll_init_socket(p->loop, &p->poll, p->fd);
    if (rc < 0) {
        ys_result_fail(&p->super.result, YS_EC_INTERNAL, "cannot watch the socket: %s",
                       uv_strerror(rc));
        finish(p);
        return;
    }
    p->poll.data = p;
    p->poll_open = true;
    socklen_t salen =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (connect(p->fd, sa, salen) == 0)
        connected(p);
    else if (errno == EINPROGRESS)
        wait_for(p, YS_TLS_WANT_WRITE);
    else
        fail_sys(p, YS_EC_CONNECT, "cannot connect to", errno);
}

/* ---- dns ---------------------------------------------------------------- */

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct tcp_probe *p = req->data;
    p->gai_pending = false;
    if (p->over) {
        uv_freeaddrinfo(res);
        maybe_free(p);
        return;
    }
    if (status < 0 || !res) {
        int v = p->spec->ip_version;
        ys_result_fail(&p->super.result, YS_EC_DNS, "cannot resolve '%s'%s: %s", p->spec->host,
                       v == 4   ? " to an IPv4 address"
                       : v == 6 ? " to an IPv6 address"
                                : "",
                       status < 0 ? uv_strerror(status) : "no address");
        uv_freeaddrinfo(res);
        finish(p);
        return;
    }
    phase_end(p, YS_PHASE_DNS, p->step_start_us);
    struct sockaddr_storage ss;
    memcpy(&ss, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    start_connect(p, (const struct sockaddr *)&ss);
}

/* An IP literal of the wanted family needs no resolver. */
static bool parse_literal(const struct ys_tcp_spec *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (s->ip_version != 6 && uv_ip4_addr(s->host, s->port, (struct sockaddr_in *)ss) == 0)
        return true;
    if (s->ip_version != 4 && uv_ip6_addr(s->host, s->port, (struct sockaddr_in6 *)ss) == 0)
        return true;
    return false;
}

static void start_resolve(struct tcp_probe *p)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = p->spec->ip_version == 4   ? AF_INET
                      : p->spec->ip_version == 6 ? AF_INET6
                                                 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%d", p->spec->port);
    enter(p, STEP_DNS);
    p->gai.data = p;
    int rc = uv_getaddrinfo(p->loop, &p->gai, on_resolved, p->spec->host, port, &hints);
    if (rc < 0) {
        ys_result_fail(&p->super.result, YS_EC_DNS, "cannot resolve '%s': %s", p->spec->host,
                       uv_strerror(rc));
        finish(p);
        return;
    }
    p->gai_pending = true;
}

/* ---- the type ------------------------------------------------------------ */

static int tcp_start(struct ys_probe_env *env, const struct ys_check *check, ys_probe_done_cb done,
                     void *arg, struct ys_probe **out)
{
    struct tcp_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_tcp, check, done, arg);
    p->spec = check->spec;
    p->loop = env->loop;
    p->fd = -1;
    p->in_start = true;
    uv_timer_init(p->loop, &p->timer);
    p->timer.data = p;
    /* The loop's cached time may be stale, and libuv keeps it in whole
     * milliseconds (floored): without the extra millisecond the timer can
     * fire up to 1 ms before timeout_ms has passed on the monotonic clock
     * the duration is measured with. */
    uv_update_time(p->loop);
    uv_timer_start(&p->timer, on_timeout, (uint64_t)check->timeout_ms + 1, 0);

    struct sockaddr_storage ss;
    if (parse_literal(p->spec, &ss))
        start_connect(p, (const struct sockaddr *)&ss);
    else
        start_resolve(p);
    p->in_start = false;
    *out = &p->super;
    return 0;
}

static void tcp_cancel(struct ys_probe *probe)
{
    struct tcp_probe *p = (struct tcp_probe *)probe;
    if (p->over)
        return;
    p->over = true;
    p->super.done = NULL;
    teardown(p);
}

const struct ys_probe_type ys_probe_tcp = {
    .name = "tcp",
    .keys = ys_tcp_keys,
    .parse = ys_tcp_spec_parse,
    .free_spec = ys_tcp_spec_free,
    .start = tcp_start,
    .cancel = tcp_cancel,
};
