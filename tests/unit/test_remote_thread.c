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
 *
 * Also staleness markers on a reload (ys_remote_apply): with a receiver
 * that refuses connections, everything stays in the queue, which is then
 * read back and decoded: a removed check and the old label set of a
 * relabelled one get a marker (NaN bits 0x7ff0000000000002) in each of
 * the series they had, after their last sample; an unchanged check none;
 * a late result of the removed check, older than its marker, is not sent.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/result.h"
#include "probe/probe.h"
#include "remote/remote.h"
#include "remote/remote.pb-c.h"
#include "remote/remote_int.h"

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
#include <snappy-c.h>

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

static struct ys_config *load_cfg(const char *yaml)
{
    struct ys_diag diag;
    struct ys_config *cfg = NULL;
    ys_diag_init(&diag, "t.yaml");
    int rc = ys_config_load_string(yaml, strlen(yaml), &cfg, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "  diag %d:%d: %s\n", diag.v[i].line, diag.v[i].col, diag.v[i].msg);
    ys_diag_free(&diag);
    assert_int_equal(rc, 0);
    return cfg;
}

static const char *label(const Prometheus__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i]->name, name) == 0)
            return ts->labels[i]->value;
    return "";
}

/* Markers found in the queue, as "check/team/__name__/phase" lines;
 * min_ts[0] gets the earliest of check a's, min_ts[1] of the others. */
static void read_markers(const char *qdir, char *out, size_t size, int64_t *min_ts)
{
    struct ys_rwq *q = NULL;
    struct ys_err err;
    assert_int_equal(ys_rwq_open(qdir, 1 << 20, &q, &err), 0);
    char *body = NULL;
    size_t len = 0, used = 0;
    uint32_t ns = 0;
    uint64_t dropped = 0;
    out[0] = '\0';
    while (ys_rwq_peek(q, &body, &len, &ns, &dropped, &err) == 0) {
        size_t raw_len = 0;
        assert_int_equal(snappy_uncompressed_length(body, len, &raw_len), SNAPPY_OK);
        char *raw = malloc(raw_len + 1);
        assert_int_equal(snappy_uncompress(body, len, raw, &raw_len), SNAPPY_OK);
        Prometheus__WriteRequest *req =
            prometheus__write_request__unpack(NULL, raw_len, (const uint8_t *)raw);
        assert_non_null(req);
        for (size_t i = 0; i < req->n_timeseries; i++) {
            const Prometheus__TimeSeries *ts = req->timeseries[i];
            for (size_t j = 0; j < ts->n_samples; j++) {
                uint64_t bits;
                memcpy(&bits, &ts->samples[j]->value, sizeof bits);
                if (bits != YS_RW_STALE_NAN)
                    continue;
                int k = strcmp(label(ts, "check"), "a") == 0 ? 0 : 1;
                if (ts->samples[j]->timestamp < min_ts[k])
                    min_ts[k] = ts->samples[j]->timestamp;
                used +=
                    (size_t)snprintf(out + used, size - used, "%s/%s/%s/%s\n", label(ts, "check"),
                                     label(ts, "team"), label(ts, "__name__"), label(ts, "phase"));
                assert_true(used < size);
            }
        }
        prometheus__write_request__free_unpacked(req, NULL);
        free(raw);
        free(body);
        assert_int_equal(ys_rwq_ack(q, &err), 0);
    }
    ys_rwq_close(q);
}

static void test_stale_markers(void **state)
{
    (void)state;
    int port = 0, lfd = silent_receiver(&port);
    close(lfd); /* nothing listens: every request fails, every batch stays queued */
    char yaml[1024];
    const char *rw_yaml =
        "remote_write:\n"
        "  - name: gone\n"
        "    url: http://127.0.0.1:%d/api/v1/write\n"
        "    flush_interval: 10ms\n"
        "    timeout: 1s\n"
        "checks:\n"
        "  - { name: a, kind: tcp, address: '127.0.0.1:1', labels: { team: %s } }\n"
        "  - { name: b, kind: tcp, address: '127.0.0.1:1' }\n"
        "%s";
    snprintf(yaml, sizeof yaml, rw_yaml, port, "x",
             "  - { name: c, kind: tcp, address: '127.0.0.1:1' }\n");
    struct ys_config *before = load_cfg(yaml);
    snprintf(yaml, sizeof yaml, rw_yaml, port, "y", "");
    struct ys_config *after = load_cfg(yaml);
    struct ys_remote *rw = NULL;
    struct ys_err err;
    assert_int_equal(ys_remote_start(before, dir, &rw, &err), 0);
    struct ys_result r;
    ys_result_init(&r);
    r.ok = true;
    int64_t now = ys_wall_ms();
    for (size_t i = 0; i < before->n_checks; i++) {
        r.ts_ms = now - 1000 + (int64_t)i;
        r.phase_us[YS_PHASE_DNS] = i == 0 ? 10 : -1;
        ys_remote_push(rw, &before->checks[i], &r);
    }
    /* a's last result is stamped ahead of the clock: its markers must
     * still come after it. */
    int64_t last = now + 60000;
    r.ts_ms = last;
    ys_remote_push(rw, &before->checks[0], &r);
    ys_remote_apply(rw, after);
    /* c's probe that was in flight at the reload: older than the marker,
     * it would make the receiver refuse its batch, so it is not sent. */
    r.ts_ms = now - 500;
    ys_remote_push(rw, &before->checks[2], &r);
    ys_remote_flush(rw);
    struct ys_remote_stats st;
    ys_remote_stats(rw, &st);
    uint64_t pending = st.v[0].pending;
    free(st.v);
    ys_remote_stop(rw);

    char got[2048], qdir[128];
    int64_t min_ts[2] = {INT64_MAX, INT64_MAX};
    snprintf(qdir, sizeof qdir, "%s/gone", dir);
    read_markers(qdir, got, sizeof got, min_ts);
    print_message("markers:\n%s", got);
    assert_non_null(strstr(got, "a/x/yardstick_check_up/\n"));
    assert_non_null(strstr(got, "a/x/yardstick_check_duration_seconds/\n"));
    assert_non_null(strstr(got, "a/x/yardstick_check_phase_seconds/dns\n"));
    assert_non_null(strstr(got, "c//yardstick_check_up/\n"));
    assert_non_null(strstr(got, "c//yardstick_check_duration_seconds/\n"));
    assert_null(strstr(got, "b/"));                       /* unchanged */
    assert_null(strstr(got, "c//yardstick_check_phase")); /* c never had one */
    int n = 0;
    for (const char *p = got; *p; p++)
        n += *p == '\n';
    assert_int_equal(n, 5);
    assert_true(min_ts[0] > last); /* after a's last sample */
    assert_true(min_ts[1] >= now); /* c's: at the reload */
    /* Results: a 3 samples (with dns), b 2, c 2, a's last 2; 5 markers; not
     * c's late result. */
    assert_int_equal(pending, 3 + 2 + 2 + 2 + 5);
    ys_config_unref(before);
    ys_config_unref(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_silent_receiver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_markers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
