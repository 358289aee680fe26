/*
 * test_remote_thread.c - the remote-write threads (src/remote/remote.c)
 * against a receiver that never answers: a loopback socket that listens
 * and never accepts, so the kernel completes each connection, takes the
 * request, and nothing answers until the socket closes. While a request
 * hangs on it, more results than the hand-over list holds (20,000) are
 * pushed: every one must reach the disk queue (ys_remote_flush returns
 * long before the request's timeout), none is dropped, the queue's bytes
 * grow. A sender that writes to disk and sends on one thread fails this:
 * it stops draining the hand-over list for the whole timeout.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/result.h"
#include "probe/probe.h"
#include "remote/remote.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define N_RESULTS 25000

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ys-test-rwt.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* A listening socket on a free loopback port that never accepts. */
static int silent_receiver(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static struct ys_remote_stats_one stats(struct ys_remote *rw)
{
    struct ys_remote_stats st;
    ys_remote_stats(rw, &st);
    assert_int_equal(st.n, 1);
    struct ys_remote_stats_one one = st.v[0];
    free(st.v);
    return one;
}

static void test_silent_receiver(void **state)
{
    (void)state;
    int port = 0, lfd = silent_receiver(&port);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "remote_write:\n"
             "  - name: silent\n"
             "    url: http://127.0.0.1:%d/api/v1/write\n"
             "    batch_size: 5000\n"
             "    flush_interval: 10ms\n"
             "    timeout: 10s\n",
             port);
    struct ys_diag diag;
    struct ys_config *cfg = NULL;
    ys_diag_init(&diag, "t.yaml");
    assert_int_equal(ys_config_load_string(yaml, strlen(yaml), &cfg, &diag), 0);
    ys_diag_free(&diag);
    struct ys_remote *rw = NULL;
    struct ys_err err;
    assert_int_equal(ys_remote_start(cfg, dir, &rw, &err), 0);

    struct ys_check ck;
    memset(&ck, 0, sizeof ck);
    ck.name = "api";
    ck.type = ys_probe_type_find("http");
    struct ys_result r;
    ys_result_init(&r);
    r.ok = true;
    r.ts_ms = 1700000000000;
    /* The first batch goes out and hangs: nothing answers it. */
    ys_remote_push(rw, &ck, &r);
    ys_remote_flush(rw);
    usleep(300 * 1000);
    uint64_t bytes0 = stats(rw).queue_bytes;
    assert_true(bytes0 > 0);

    int64_t t0 = ys_mono_us();
    /* At about a daemon's pace (1,000 results every 20 ms), not faster
     * than any thread could take them: only a stuck one lets 20,000 pile up. */
    for (int i = 1; i <= N_RESULTS; i++) {
        r.ts_ms = 1700000000000 + i;
        r.duration_us = i;
        ys_remote_push(rw, &ck, &r);
        if (i % 1000 == 0)
            usleep(20 * 1000);
    }
    ys_remote_flush(rw);
    int64_t took_ms = (ys_mono_us() - t0) / 1000;
    struct ys_remote_stats_one st = stats(rw);
    print_message("%d results to disk in %lld ms while a request hangs; queue %llu bytes\n",
                  N_RESULTS, (long long)took_ms, (unsigned long long)st.queue_bytes);
    assert_true(took_ms < 9000); /* before the hung request's 10 s timeout */
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.sent, 0);
    assert_true(st.queue_bytes > bytes0);
    assert_int_equal(st.pending, (uint64_t)(N_RESULTS + 1) * 2); /* up and duration each */

    /* Closing the socket resets the hung connection, so the stop, which
     * lets a request in flight finish, does not wait for the timeout. */
    close(lfd);
    ys_remote_stop(rw);
    ys_config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_silent_receiver, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
