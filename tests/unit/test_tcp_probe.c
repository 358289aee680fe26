/*
 * test_tcp_probe.c - the tcp probe on a real libuv loop against servers
 * this test makes itself on 127.0.0.1 (and ::1 when the host has it).
 *
 * Each server is a plain blocking socket served by one thread, so it
 * answers while the test thread runs the loop: a banner server, an echo
 * server that waits for a request, a listener that never accepts (the
 * kernel completes the handshake, nothing is ever said), and a port that
 * was bound and released (refused). Checks come from YAML through
 * ys_config_load_string, so the kind's own parse builds the spec.
 * TLS is covered by tests/integration with `openssl s_server`.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/result.h"
#include "probe/probe.h"
#include "probe/tcp_spec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- servers ------------------------------------------------------------ */

enum mode { SRV_BANNER, SRV_BANNER_CLOSE, SRV_ECHO, SRV_SILENT };

struct server {
    enum mode mode;
    const char *reply; /* written after accept (SRV_BANNER) or after a request (SRV_ECHO) */
    size_t reply_len;
    int lfd, port;
    pthread_t th;
    bool running;
};

/* Waits at most 5 s in any call, so a broken probe fails the test instead
 * of hanging it. */
static void set_timeouts(int fd)
{
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int listen_on(int family, int *port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0) {
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    set_timeouts(fd);
    return fd;
}

static void drain_until_close(int fd)
{
    char buf[256];
    while (recv(fd, buf, sizeof buf, 0) > 0)
        ;
}

static void *serve(void *arg)
{
    struct server *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    set_timeouts(fd);
    if (s->mode == SRV_ECHO) {
        char req[256];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof req - 1 && (r = recv(fd, req + n, sizeof req - 1 - n, 0)) > 0) {
            n += (size_t)r;
            req[n] = '\0';
            if (strstr(req, "\r\n"))
                break;
        }
    }
    send(fd, s->reply, s->reply_len, MSG_NOSIGNAL);
    if (s->mode != SRV_BANNER_CLOSE)
        drain_until_close(fd);
    close(fd);
    return NULL;
}

static void server_start(struct server *s, int family, enum mode mode, const char *reply,
                         size_t reply_len)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->reply = reply;
    s->reply_len = reply_len;
    s->lfd = listen_on(family, &s->port);
    assert_true(s->lfd >= 0);
    if (mode != SRV_SILENT) {
        assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
        s->running = true;
    }
}

static void server_stop(struct server *s)
{
    if (s->running) {
        shutdown(s->lfd, SHUT_RDWR); /* wakes an accept that never got a client */
        pthread_join(s->th, NULL);
    }
    close(s->lfd);
}

/* A port that was just in use and is now closed: connecting is refused. */
static int closed_port(void)
{
    int port = 0;
    int fd = listen_on(AF_INET, &port);
    assert_true(fd >= 0);
    close(fd);
    return port;
}

/* ---- running a probe ------------------------------------------------------ */

struct run {
    struct ys_config *cfg;
    struct ys_result result;
    int done_calls;
    int64_t t0_us, done_us;
};

static void on_done(struct ys_probe *probe, const struct ys_result *result, void *arg)
{
    struct run *r = arg;
    (void)probe;
    r->result = *result;
    r->done_calls++;
    r->done_us = ys_mono_us();
}

static struct ys_check *load_check(struct run *r, const char *fields)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "checks:\n  - name: p\n    kind: tcp\n%s", fields);
    struct ys_diag d;
    ys_diag_init(&d, "t.yaml");
    int rc = ys_config_load_string(yaml, strlen(yaml), &r->cfg, &d);
    if (rc != 0)
        ys_diag_print(&d, stderr);
    ys_diag_free(&d);
    assert_int_equal(rc, 0);
    return &r->cfg->checks[0];
}

/* Runs one probe of the check described by fields to its end. */
static void run_probe(struct run *r, const char *fields)
{
    memset(r, 0, sizeof *r);
    struct ys_check *check = load_check(r, fields);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct ys_probe_env env = {.loop = &loop, .curl = NULL};
    struct ys_probe *probe = NULL;
    r->t0_us = ys_mono_us();
    assert_int_equal(check->type->start(&env, check, on_done, r, &probe), 0);
    assert_non_null(probe);
    assert_int_equal(r->done_calls, 0); /* never from inside start */
    uv_run(&loop, UV_RUN_DEFAULT);
    /* The loop ends only once the probe closed every handle it opened. */
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(r->done_calls, 1);
    ys_config_unref(r->cfg);
}

static void expect_fail(const struct run *r, enum ys_errclass ec, const char *msg)
{
    assert_false(r->result.ok);
    if (r->result.errclass != ec || strcmp(r->result.message, msg) != 0)
        fail_msg("got %s \"%s\", wanted %s \"%s\"", ys_errclass_name(r->result.errclass),
                 r->result.message, ys_errclass_name(ec), msg);
}

/* ---- cases ------------------------------------------------------------------ */

static void test_banner_ok(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, AF_INET, SRV_BANNER, "+OK ready\r\n", 11);
    char f[256];
    snprintf(f, sizeof f, "    address: 127.0.0.1:%d\n    expect: \"+OK\"\n", s.port);
    struct run r;
    run_probe(&r, f);
    server_stop(&s);
    assert_true(r.result.ok);
    assert_string_equal(r.result.message, "");
    assert_int_equal(r.result.bytes, 11);
    assert_int_equal(r.result.phase_us[YS_PHASE_DNS], -1); /* an IP literal */
    assert_in_range(r.result.phase_us[YS_PHASE_CONNECT], 0, 1000000);
    assert_in_range(r.result.phase_us[YS_PHASE_TTFB], 0, 1000000);
    assert_int_equal(r.result.phase_us[YS_PHASE_TLS], -1);
    assert_in_range(r.result.duration_us, r.result.phase_us[YS_PHASE_CONNECT], 1000000);
    assert_false(r.result.flags & YS_RF_HAS_TLS);
}

/* The excerpt is escaped and the count is of bytes actually received. */
static void test_expect_mismatch(void **state)
{
    (void)state;
    static const char reply[] = "-ERR \"no\"\x01\r\n";
    struct server s;
    server_start(&s, AF_INET, SRV_BANNER_CLOSE, reply, sizeof reply - 1);
    char f[256];
    snprintf(f, sizeof f, "    address: 127.0.0.1:%d\n    expect: \"+OK\"\n", s.port);
    struct run r;
    run_probe(&r, f);
    server_stop(&s);
    expect_fail(&r, YS_EC_ASSERTION,
                "expected \"+OK\" in the first 12 bytes (connection closed), "
                "got \"-ERR \\\"no\\\"\\x01\\r\\n\"");
    assert_int_equal(r.result.bytes, 12);
}

static void test_send_expect(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, AF_INET, SRV_ECHO, "+PONG\r\n", 7);
    char f[256];
    snprintf(f, sizeof f,
             "    address: localhost:%d\n    ip_version: 4\n"
             "    send: \"PING\\r\\n\"\n    expect: PONG\n",
             s.port);
    struct run r;
    run_probe(&r, f);
    server_stop(&s);
    if (!r.result.ok)
        fail_msg("%s", r.result.message);
    assert_int_equal(r.result.bytes, 7);
    assert_in_range(r.result.phase_us[YS_PHASE_DNS], 0, 2000000); /* went through the resolver */
    assert_in_range(r.result.phase_us[YS_PHASE_TTFB], 0, 1000000);
}

/* The probe reads no further than max_read. */
static void test_max_read(void **state)
{
    (void)state;
    static char reply[100];
    memset(reply, 'x', sizeof reply);
    struct server s;
    server_start(&s, AF_INET, SRV_BANNER, reply, sizeof reply);
    char f[256];
    snprintf(f, sizeof f, "    address: 127.0.0.1:%d\n    expect: \"+OK\"\n    max_read: 16\n",
             s.port);
    struct run r;
    run_probe(&r, f);
    server_stop(&s);
    expect_fail(&r, YS_EC_ASSERTION,
                "expected \"+OK\" in the first 16 bytes, got \"xxxxxxxxxxxxxxxx\"");
    assert_int_equal(r.result.bytes, 16);
}

static void test_refused(void **state)
{
    (void)state;
    int port = closed_port();
    char f[256], msg[128];
    snprintf(f, sizeof f, "    address: 127.0.0.1:%d\n", port);
    snprintf(msg, sizeof msg, "cannot connect to 127.0.0.1:%d: connection refused", port);
    struct run r;
    run_probe(&r, f);
    expect_fail(&r, YS_EC_CONNECT, msg);
    assert_int_equal(r.result.phase_us[YS_PHASE_CONNECT], -1);
}

/* A listener that never answers: the timeout fires on time, naming the
 * step it interrupted. */
static void test_timeout(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, AF_INET, SRV_SILENT, NULL, 0);
    char f[256];
    snprintf(f, sizeof f, "    address: 127.0.0.1:%d\n    timeout: 300ms\n    expect: \"+OK\"\n",
             s.port);
    struct run r;
    run_probe(&r, f);
    server_stop(&s);
    expect_fail(&r, YS_EC_TIMEOUT, "timed out after 300ms during read");
    int64_t elapsed = r.done_us - r.t0_us;
    assert_in_range(elapsed, 300000, 400000);
    assert_in_range(r.result.duration_us, 300000, 400000);
    assert_in_range(r.result.phase_us[YS_PHASE_CONNECT], 0, 300000);
    assert_int_equal(r.result.phase_us[YS_PHASE_TTFB], -1);
}

static void test_ipv6(void **state)
{
    (void)state;
    struct server s;
    int port;
    int probe_fd = listen_on(AF_INET6, &port);
    if (probe_fd < 0)
        skip(); /* no ::1 on this host */
    close(probe_fd);
    server_start(&s, AF_INET6, SRV_BANNER, "hello\n", 6);
    char f[256];
    snprintf(f, sizeof f, "    address: \"[::1]:%d\"\n    ip_version: 6\n    expect: hello\n",
             s.port);
    struct run r;
    run_probe(&r, f);
    server_stop(&s);
    if (!r.result.ok)
        fail_msg("%s", r.result.message);
    assert_int_equal(r.result.bytes, 6);
}

static void cancel_cb(uv_timer_t *t)
{
    struct ys_probe *probe = t->data;
    probe->type->cancel(probe);
    uv_close((uv_handle_t *)t, NULL);
}

/* Cancel at delay_ms (0: right after start): done never runs and the
 * probe still closes everything, so the loop ends (valgrind: no leak). */
static void cancel_after(const char *host, uint64_t delay_ms)
{
    struct server s;
    server_start(&s, AF_INET, SRV_SILENT, NULL, 0);
    char f[256];
    snprintf(f, sizeof f, "    address: %s:%d\n    expect: \"+OK\"\n", host, s.port);
    struct run r;
    memset(&r, 0, sizeof r);
    struct ys_check *check = load_check(&r, f);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_probe_env env = {.loop = &loop};
    struct ys_probe *probe = NULL;
    assert_int_equal(check->type->start(&env, check, on_done, &r, &probe), 0);
    uv_timer_t t;
    if (delay_ms == 0) {
        probe->type->cancel(probe);
    } else {
        uv_timer_init(&loop, &t);
        t.data = probe;
        uv_timer_start(&t, cancel_cb, delay_ms, 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(r.done_calls, 0);
    ys_config_unref(r.cfg);
    server_stop(&s);
}

static void test_cancel(void **state)
{
    (void)state;
    cancel_after("127.0.0.1", 0);
    cancel_after("127.0.0.1", 50);
    cancel_after("localhost", 0); /* while the resolver may still run */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_banner_ok),   cmocka_unit_test(test_expect_mismatch),
        cmocka_unit_test(test_send_expect), cmocka_unit_test(test_max_read),
        cmocka_unit_test(test_refused),     cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_ipv6),        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
