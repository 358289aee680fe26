/*
 * test_hb_seen.c - the dedup of heartbeat pings with several daemons:
 * the pure seen set (live/hb_seen.h) and how the daemon's heartbeat table
 * uses it (live/heartbeats.h): a ping this daemon took and later read
 * back from the store (ys_heartbeats_feed) counts once; a ping only the
 * store had counts and closes its slot; a follower neither judges nor
 * takes fed pings, and taking the lease back judges again.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "live/hb_seen.h"
#include "live/heartbeats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct ys_ping ping_at(int64_t ts, uint8_t kind, const char *rid)
{
    struct ys_ping p = {.check_id = 7, .ts_ms = ts, .kind = kind, .exit_code = -1};
    snprintf(p.run_id, sizeof p.run_id, "%s", rid);
    return p;
}

static void test_seen_once(void **state)
{
    (void)state;
    struct ys_hb_seen s;
    ys_hb_seen_init(&s, 1000);
    struct ys_ping a = ping_at(2000, YS_PING_SUCCESS, "");
    assert_true(ys_hb_seen_add(&s, &a));
    assert_false(ys_hb_seen_add(&s, &a)); /* read back: already fed */
    struct ys_ping b = ping_at(2000, YS_PING_START, "");
    struct ys_ping c = ping_at(2000, YS_PING_SUCCESS, "r1");
    struct ys_ping d = ping_at(2000, YS_PING_FAIL, "");
    d.exit_code = 3;
    struct ys_ping e = d;
    e.exit_code = 4;
    assert_true(ys_hb_seen_add(&s, &b)); /* same ms, another kind */
    assert_true(ys_hb_seen_add(&s, &c)); /* another run */
    assert_true(ys_hb_seen_add(&s, &d));
    assert_true(ys_hb_seen_add(&s, &e)); /* another exit code */
    assert_false(ys_hb_seen_add(&s, &c));
    struct ys_ping old = ping_at(1000, YS_PING_SUCCESS, "x"); /* at the horizon */
    assert_false(ys_hb_seen_add(&s, &old));
    struct ys_ping after = ping_at(1001, YS_PING_SUCCESS, "x");
    assert_true(ys_hb_seen_add(&s, &after)); /* out of order, but after it */
}

static void test_seen_full(void **state)
{
    (void)state;
    struct ys_hb_seen s;
    ys_hb_seen_init(&s, INT64_MIN);
    for (int64_t i = 0; i < YS_HB_SEEN_MAX + 10; i++) {
        struct ys_ping p = ping_at(100 + i, YS_PING_SUCCESS, "");
        assert_true(ys_hb_seen_add(&s, &p));
    }
    /* The first 10 were forgotten: the horizon moved past them, so they
     * stay old rather than count again. */
    assert_int_equal(s.horizon_ms, 109);
    for (int64_t i = 0; i < YS_HB_SEEN_MAX + 10; i++) {
        struct ys_ping p = ping_at(100 + i, YS_PING_SUCCESS, "");
        assert_false(ys_hb_seen_add(&s, &p));
    }
}

/* ---- the table ---- */

struct got {
    size_t n;
};

static void on_result(const struct ys_check *check, const struct ys_result *r, void *arg)
{
    (void)check;
    (void)r;
    ((struct got *)arg)->n++;
}

static struct ys_config *load_cfg(void)
{
    static const char yaml[] = "checks:\n"
                               "  - name: job\n"
                               "    kind: heartbeat\n"
                               "    period: 1h\n";
    struct ys_diag d;
    struct ys_config *cfg = NULL;
    ys_diag_init(&d, "t.yaml");
    if (ys_config_load_string(yaml, strlen(yaml), &cfg, &d) != 0) {
        ys_diag_print(&d, stderr);
        fail_msg("config rejected");
    }
    ys_diag_free(&d);
    cfg->checks[0].store_id = 7;
    return cfg;
}

static void spin(uv_loop_t *loop)
{
    for (int i = 0; i < 20; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

static void fed(struct ys_heartbeats *hb, const struct ys_ping *p)
{
    struct ys_ping_record rec = {.ping = *p, .duration_ms = -1};
    ys_heartbeats_feed(hb, "job", &rec);
}

static void test_table(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct got got = {0};
    struct ys_config *cfg = load_cfg();
    struct ys_heartbeats *hb = ys_heartbeats_new(NULL, on_result, &got);
    int64_t t0 = ys_wall_ms();
    ys_heartbeats_apply(hb, cfg, t0);
    ys_heartbeats_start(hb, &loop);
    struct ys_hb_status st;

    /* A start taken here, then read back from the store: one run open, so
     * the success ends it and the job is UP (fed twice, a second run
     * would stay open: RUNNING). */
    struct ys_ping start = ping_at(t0 + 1, YS_PING_START, "");
    assert_int_equal(ys_heartbeats_intake(hb, "job", &start, NULL, 0), 0);
    spin(&loop);
    fed(hb, &start);
    struct ys_ping ok = ping_at(t0 + 2, YS_PING_SUCCESS, "");
    fed(hb, &ok); /* taken by another daemon: only the store had it */
    assert_int_equal(ys_heartbeats_status(hb, "job", t0 + 3, &st), 0);
    assert_int_equal(st.state, YS_HB_UP);
    assert_int_equal(st.last_ping_ms, t0 + 2);
    assert_int_equal(got.n, 1); /* the first slot, closed by the fed ping */

    /* Following: fed pings are ignored and nothing is judged. */
    ys_heartbeats_follow(hb);
    struct ys_ping later = ping_at(t0 + 10, YS_PING_START, "r");
    fed(hb, &later);
    assert_int_equal(ys_heartbeats_status(hb, "job", t0 + 11, &st), 0);
    assert_int_equal(st.last_ping_ms, t0 + 2);
    /* Leading again (no store: trackers kept): fed pings count. */
    assert_int_equal(ys_heartbeats_lead(hb, NULL, t0 + 12, NULL), 0);
    fed(hb, &later);
    assert_int_equal(ys_heartbeats_status(hb, "job", t0 + 13, &st), 0);
    assert_int_equal(st.state, YS_HB_RUNNING);
    assert_int_equal(st.last_ping_ms, t0 + 10);

    ys_heartbeats_close(hb);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_heartbeats_free(hb);
    ys_config_unref(cfg);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seen_once),
        cmocka_unit_test(test_seen_full),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
