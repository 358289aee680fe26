/*
 * test_remote_encode.c - results as remote-write samples and the request
 * body: what ys_rw_encode builds is uncompressed with snappy and unpacked
 * with protobuf-c (the generated prometheus.WriteRequest), and the series,
 * labels (sorted, sanitised), timestamps (sorted per series) and values
 * are checked against the results they came from; labels with an empty
 * value are not sent (the spec's MUST). Also the remote_write: config
 * section: defaults, every key, errors at their line:column (reserved
 * headers among them), and the default queue folder per store kind.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/result.h"
#include "probe/probe.h"
#include "remote/remote.h"
#include "remote/remote.pb-c.h"
#include "remote/remote_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>

#include "config_fixture.h"

static Prometheus__WriteRequest *decode(const char *body, size_t len)
{
    size_t raw_len = 0;
    assert_int_equal(snappy_uncompressed_length(body, len, &raw_len), SNAPPY_OK);
    char *raw = malloc(raw_len + 1);
    assert_int_equal(snappy_uncompress(body, len, raw, &raw_len), SNAPPY_OK);
    Prometheus__WriteRequest *req =
        prometheus__write_request__unpack(NULL, raw_len, (const uint8_t *)raw);
    free(raw);
    assert_non_null(req);
    return req;
}

static const char *label(const Prometheus__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i]->name, name) == 0)
            return ts->labels[i]->value;
    return NULL;
}

/* The series whose __name__ is name and whose label key (if any) is value. */
static const Prometheus__TimeSeries *series(const Prometheus__WriteRequest *req, const char *name,
                                            const char *key, const char *value)
{
    for (size_t i = 0; i < req->n_timeseries; i++) {
        const Prometheus__TimeSeries *ts = req->timeseries[i];
        const char *n = label(ts, "__name__"), *v = key ? label(ts, key) : NULL;
        if (n && strcmp(n, name) == 0 && (!key || (v && strcmp(v, value) == 0)))
            return ts;
    }
    fail_msg("no series %s", name);
    return NULL;
}

static struct ys_check make_check(const char *name, struct ys_strmap *labels)
{
    struct ys_check c;
    memset(&c, 0, sizeof c);
    c.name = (char *)name;
    c.type = ys_probe_type_find("http");
    assert_non_null(c.type);
    if (labels)
        c.labels = *labels;
    return c;
}

static void test_round_trip(void **state)
{
    (void)state;
    char *keys[] = {"team", "area-x", "check", "__hidden", "9lives", "team"};
    char *vals[] = {"web", "edge", "clash", "no", "cat", "dup"};
    struct ys_strmap lm = {6, keys, vals};
    struct ys_check ck = make_check("api", &lm);
    size_t blen = 0;
    char *base = ys_rw_base_labels(&ck, &blen);
    struct ys_rw_samples s = {0};
    /* Two results pushed newest first: the encoder must sort them. */
    struct ys_result r1, r2;
    ys_result_init(&r1);
    r1.ts_ms = 1700000002500;
    r1.ok = false;
    r1.duration_us = 250000;
    ys_result_init(&r2);
    r2.ts_ms = 1700000001000;
    r2.ok = true;
    r2.duration_us = 1500;
    r2.phase_us[YS_PHASE_DNS] = 100;
    r2.phase_us[YS_PHASE_TTFB] = 1200;
    r2.flags = YS_RF_HAS_TLS | YS_RF_HAS_VALUE;
    r2.tls.leaf_not_after = 1800000000;
    r2.value = 42.5;
    assert_int_equal(ys_rw_result_samples(&s, base, blen, &r1), ys_rw_result_count(&r1));
    assert_int_equal(ys_rw_result_samples(&s, base, blen, &r2), ys_rw_result_count(&r2));
    assert_int_equal(s.n, 2 + 6);
    char *body = NULL;
    size_t len = 0, n = s.n;
    struct ys_err err;
    assert_int_equal(ys_rw_encode(s.v, &n, &body, &len, &err), 0);
    assert_int_equal(n, 8);
    Prometheus__WriteRequest *req = decode(body, len);
    /* up, duration, 2 phases, tls, value */
    assert_int_equal(req->n_timeseries, 6);
    for (size_t i = 0; i < req->n_timeseries; i++) {
        const Prometheus__TimeSeries *ts = req->timeseries[i];
        for (size_t j = 1; j < ts->n_labels; j++)
            assert_true(strcmp(ts->labels[j - 1]->name, ts->labels[j]->name) < 0);
        for (size_t j = 1; j < ts->n_samples; j++)
            assert_true(ts->samples[j - 1]->timestamp < ts->samples[j]->timestamp);
        assert_string_equal(label(ts, "check"), "api");
        assert_string_equal(label(ts, "kind"), "http");
        assert_string_equal(label(ts, "team"), "web"); /* the first of two */
        assert_string_equal(label(ts, "area_x"), "edge");
        assert_string_equal(label(ts, "_lives"), "cat");
        assert_null(label(ts, "__hidden"));
    }
    const Prometheus__TimeSeries *up = series(req, "yardstick_check_up", NULL, NULL);
    assert_int_equal(up->n_samples, 2);
    assert_int_equal(up->samples[0]->timestamp, 1700000001000);
    assert_true(up->samples[0]->value == 1.0);
    assert_int_equal(up->samples[1]->timestamp, 1700000002500);
    assert_true(up->samples[1]->value == 0.0);
    const Prometheus__TimeSeries *dur = series(req, "yardstick_check_duration_seconds", NULL, NULL);
    assert_true(dur->samples[0]->value == 0.0015);
    assert_true(dur->samples[1]->value == 0.25);
    const Prometheus__TimeSeries *ttfb =
        series(req, "yardstick_check_phase_seconds", "phase", "ttfb");
    assert_int_equal(ttfb->n_samples, 1);
    assert_true(ttfb->samples[0]->value == 0.0012);
    assert_true(series(req, "yardstick_tls_cert_not_after_timestamp_seconds", NULL, NULL)
                    ->samples[0]
                    ->value == 1800000000.0);
    assert_true(series(req, "yardstick_check_value", NULL, NULL)->samples[0]->value == 42.5);
    prometheus__write_request__free_unpacked(req, NULL);
    free(body);
    free(base);
    ys_rw_samples_free(&s);
}

/* Two values for one series and time: the later pushed is kept. */
static void test_duplicate_timestamps(void **state)
{
    (void)state;
    struct ys_check ck = make_check("job", NULL);
    size_t blen = 0;
    char *base = ys_rw_base_labels(&ck, &blen);
    struct ys_rw_samples s = {0};
    ys_rw_heartbeat_samples(&s, base, blen, 4 /* running */, 1000);
    ys_rw_heartbeat_samples(&s, base, blen, 1 /* up */, 1000);
    ys_rw_heartbeat_samples(&s, base, blen, 2 /* late */, 2000);
    size_t n = s.n;
    char *body = NULL;
    size_t len = 0;
    struct ys_err err;
    assert_int_equal(ys_rw_encode(s.v, &n, &body, &len, &err), 0);
    assert_int_equal(n, 12);
    s.n = n;
    Prometheus__WriteRequest *req = decode(body, len);
    assert_int_equal(req->n_timeseries, 6);
    const Prometheus__TimeSeries *upst = series(req, "yardstick_heartbeat_state", "state", "up");
    assert_int_equal(upst->n_samples, 2);
    assert_true(upst->samples[0]->value == 1.0);
    assert_true(upst->samples[1]->value == 0.0);
    const Prometheus__TimeSeries *run =
        series(req, "yardstick_heartbeat_state", "state", "running");
    assert_true(run->samples[0]->value == 0.0);
    prometheus__write_request__free_unpacked(req, NULL);
    free(body);
    free(base);
    ys_rw_samples_free(&s);
}

/* An empty label value is the same as no label to a receiver, and the
 * spec says it MUST NOT be sent: a check label "" and an empty extra value
 * are left out; the other labels stay. */
static void test_empty_label_values(void **state)
{
    (void)state;
    char *keys[] = {"team", "tier"};
    char *vals[] = {"", "1"};
    struct ys_strmap lm = {2, keys, vals};
    struct ys_check ck = make_check("api", &lm);
    size_t blen = 0;
    char *base = ys_rw_base_labels(&ck, &blen);
    struct ys_rw_samples s = {0};
    struct ys_result r;
    ys_result_init(&r);
    r.ts_ms = 1700000000000;
    r.ok = true;
    ys_rw_result_samples(&s, base, blen, &r);
    ys_rw_samples_add(&s, "yardstick_heartbeat_state", base, blen, "state", "", r.ts_ms, 1);
    char *body = NULL;
    size_t len = 0, n = s.n;
    struct ys_err err;
    assert_int_equal(ys_rw_encode(s.v, &n, &body, &len, &err), 0);
    Prometheus__WriteRequest *req = decode(body, len);
    assert_int_equal(req->n_timeseries, 3);
    for (size_t i = 0; i < req->n_timeseries; i++) {
        const Prometheus__TimeSeries *ts = req->timeseries[i];
        for (size_t j = 0; j < ts->n_labels; j++)
            assert_true(ts->labels[j]->value[0] != '\0');
        assert_null(label(ts, "team"));
        assert_string_equal(label(ts, "tier"), "1");
    }
    assert_null(label(series(req, "yardstick_heartbeat_state", NULL, NULL), "state"));
    prometheus__write_request__free_unpacked(req, NULL);
    free(body);
    free(base);
    ys_rw_samples_free(&s);
}

/* The staleness table (stale.c) over many label sets, through its growth:
 * a reload ends the sets it does not keep, once; a late sample of an
 * ended set is refused, a newer one revives it. */
static void test_seen_table(void **state)
{
    (void)state;
    struct ys_rw_seen t = {0};
    struct ys_rw_blob keep[500];
    char name[32];
    for (int i = 0; i < 1000; i++) {
        int k = snprintf(name, sizeof name, "check%c%d", '\0', i) + 1;
        assert_true(ys_rw_seen_note(&t, name, (size_t)k, 1000 + i, YS_RW_S_UP));
        if (i % 2 == 0) {
            keep[i / 2] = (struct ys_rw_blob){malloc((size_t)k), (size_t)k};
            memcpy(keep[i / 2].p, name, (size_t)k);
        }
    }
    assert_int_equal(t.n, 1000);
    struct ys_rw_samples b = {0}, *bp = &b;
    ys_rw_seen_apply(&t, keep, 500, 1500, &bp, 1);
    assert_int_equal(b.n, 500); /* one marker (up) for each odd set */
    for (size_t i = 0; i < b.n; i++) {
        uint64_t bits;
        memcpy(&bits, &b.v[i].value, sizeof bits);
        assert_true(bits == YS_RW_STALE_NAN);
        assert_true(b.v[i].ts_ms >= 1500);
    }
    ys_rw_samples_free(&b);
    int k = snprintf(name, sizeof name, "check%c%d", '\0', 999) + 1; /* ended, last 1999 */
    assert_false(ys_rw_seen_note(&t, name, (size_t)k, 1999, YS_RW_S_UP));
    assert_false(ys_rw_seen_note(&t, name, (size_t)k, 2000, YS_RW_S_UP)); /* its marker's time */
    assert_true(ys_rw_seen_note(&t, name, (size_t)k, 2001, YS_RW_S_DURATION));
    /* Nothing kept: 500 live even sets and the revived one get markers;
     * the 499 ended ones are forgotten without. */
    ys_rw_seen_apply(&t, keep, 0, 3000, &bp, 1);
    assert_int_equal(b.n, 501);
    ys_rw_samples_free(&b);
    assert_int_equal(t.n, 501);
    for (int i = 0; i < 500; i++)
        free(keep[i].p);
    ys_rw_seen_free(&t);
}

static void test_config(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "remote_write:\n"
             "  - name: central\n"
             "    url: https://prom.example/api/v1/write\n"
             "    headers: { X-Scope-OrgID: team-a }\n"
             "    basic_auth: { username: u, password: p }\n"
             "    tls: { ca_file: ca.pem, cert_file: c.pem, key_file: k.pem }\n"
             "    batch_size: 100\n"
             "    flush_interval: 1s\n"
             "    queue_max: 1MiB\n"
             "    timeout: 2s\n"
             "    queue_dir: /srv/rw-central\n"
             "  - name: local\n"
             "    url: http://127.0.0.1:9090/api/v1/write\n");
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.cfg->n_remote_writes, 2);
    const struct ys_remote_write *a = &l.cfg->remote_writes[0], *b = &l.cfg->remote_writes[1];
    assert_string_equal(a->name, "central");
    assert_string_equal(a->username, "u");
    assert_string_equal(a->key_file, "k.pem");
    assert_string_equal(ys_strmap_get(&a->headers, "X-Scope-OrgID"), "team-a");
    assert_int_equal(a->batch_size, 100);
    assert_int_equal(a->flush_interval_ms, 1000);
    assert_int_equal(a->queue_max, 1024 * 1024);
    assert_int_equal(a->timeout_ms, 2000);
    assert_int_equal(b->batch_size, 500);
    assert_int_equal(b->flush_interval_ms, 5000);
    assert_int_equal(b->queue_max, 64 * 1024 * 1024);
    assert_int_equal(b->timeout_ms, 30000);
    assert_null(b->bearer_token);
    assert_string_equal(a->queue_dir, "/srv/rw-central");
    assert_null(b->queue_dir);
    unload(&l);
}

/* Headers yardstick sets itself cannot be overridden, in any case. */
static void test_reserved_headers(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "remote_write:\n"
             "  - name: a\n"
             "    url: http://x/\n"
             "    headers:\n"
             "      X-Scope-OrgID: ok\n"
             "      content-type: text/plain\n"
             "      AUTHORIZATION: Bearer x\n"
             "      X-Prometheus-Remote-Write-Version: 2.0.0\n"
             "      Host: elsewhere\n"
             "      User-Agent: me\n"
             "      Content-Encoding: gzip\n"
             "      Content-Length: '1'\n"
             "      connection: close\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 6, 7, "content-type: yardstick sets this header itself");
    assert_diag(&l, 7, 7, "use bearer_token or basic_auth");
    assert_diag(&l, 8, 7, "X-Prometheus-Remote-Write-Version: yardstick sets");
    assert_diag(&l, 9, 7, "Host: yardstick sets");
    assert_diag(&l, 10, 7, "User-Agent: yardstick sets");
    assert_diag(&l, 11, 7, "Content-Encoding: yardstick sets");
    assert_diag(&l, 12, 7, "Content-Length: yardstick sets");
    assert_diag(&l, 13, 7, "connection: yardstick sets");
    assert_int_equal(l.diag.n, 8); /* X-Scope-OrgID is fine */
    unload(&l);
}

/* The queue's folder: beside the SQLite file, never inside a PostgreSQL
 * connection string (it may hold a password). */
static void test_default_dir(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "storage: { path: /data/ys/y.db }\n");
    assert_int_equal(l.rc, 0);
    char *dir = ys_remote_default_dir(l.cfg);
    assert_string_equal(dir, "/data/ys/remote_write");
    free(dir);
    unload(&l);
    load(&l, "storage: { kind: postgres, dsn: 'postgresql://u:s3cret@db/ys' }\n");
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    dir = ys_remote_default_dir(l.cfg);
    assert_string_equal(dir, "var/remote_write");
    assert_null(strstr(dir, "s3cret"));
    free(dir);
    unload(&l);
}

static void test_config_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "remote_write:\n"
             "  - name: a\n"
             "    url: ftp://x/\n"
             "    batch_sise: 5\n"
             "  - name: a\n"
             "    url: http://x/\n"
             "    bearer_token: t\n"
             "    basic_auth: { username: u, password: p }\n"
             "    queue_max: 1KiB\n"
             "  - name: ..\n"
             "    url: http://x/\n"
             "    tls: { cert_file: c.pem }\n"
             "    headers: { 'Bad Name': v }\n"
             "  - url: http://x/\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 3, 10, "scheme must be http or https");
    assert_diag(&l, 4, 5, "batch_size");
    assert_diag(&l, 5, 11, "duplicate remote_write name 'a'");
    assert_diag(&l, 8, 17, "not both");
    assert_diag(&l, 9, 16, "at least 64KiB");
    assert_diag(&l, 10, 11, "bad remote_write name '..'");
    assert_diag(&l, 12, 23, "together");
    assert_diag(&l, 13, 16, "bad header");
    assert_diag(&l, 14, 5, "missing required field 'name'");
    unload(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_duplicate_timestamps),
        cmocka_unit_test(test_empty_label_values),
        cmocka_unit_test(test_seen_table),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_reserved_headers),
        cmocka_unit_test(test_default_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
