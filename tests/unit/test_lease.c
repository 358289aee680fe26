/*
 * test_lease.c - the notifier lease: the store function (store.h `lease`,
 * sqlite_lease.c / pg_lease.c) and the thread and loop side around it
 * (src/ha/lease.c). Runs on SQLite, and on PostgreSQL as pg/test_lease.
 *
 *  - take, refuse, renew, release and take over after expiry, between
 *    two connections with different holders;
 *  - four threads racing for a free lease: exactly one wins;
 *  - ys_lease: the first daemon holds it, the second does not; when the
 *    first stops (releasing it), the second's callback says it holds it
 *    within a renewal period;
 *  - two daemons with the same instance id (a copied config, or a restart
 *    while the old process still renews) never both hold it: the holder
 *    carries a per-process nonce;
 *  - a gated lease (the notifier's, on the partition lease): held only
 *    while the gate is; a partition rename loses it at once and takes the
 *    new name; the partition name of an instance;
 *  - the safety property: a holder whose renewals hang (the lease table
 *    locked by another connection) considers the lease lost within 3/4
 *    of the ttl of its last renewal, before the store could give it to
 *    another, and holds it again once the store answers.
 */
#include "core/clock.h"
#include "core/err.h"
#include "ha/lease.h"
#include "store/store.h"

#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

static int setup(void **state)
{
    (void)state;
    return fixture_setup("");
}

static bool take(struct ys_store *s, const char *holder, int64_t ttl_ms)
{
    struct ys_err err = {{0}};
    bool held = true;
    if (s->type->lease(s, YS_LEASE_NOTIFIER, holder, ttl_ms, &held, &err) < 0)
        fail_msg("lease: %s", err.msg);
    return held;
}

static void test_take_renew_release(void **state)
{
    (void)state;
    struct ys_store *a = fixture_open(false, 0), *b = fixture_open(false, 0);
    assert_non_null(a->type->lease);
    assert_true(take(a, "a", 60000));  /* free: a takes it (creating the table) */
    assert_false(take(b, "b", 60000)); /* held and not expired */
    assert_true(take(a, "a", 60000));  /* renewed */
    assert_false(take(b, "b", 0));     /* releasing what b does not hold: no-op */
    assert_false(take(b, "b", 60000));
    assert_false(take(a, "a", 0)); /* released */
    assert_true(take(b, "b", 60000));
    assert_false(take(a, "a", 60000));
    /* Expiry: b's lease runs out, then a takes it. */
    assert_true(take(b, "b", 1));
    usleep(20000);
    assert_true(take(a, "a", 60000));
    assert_false(take(b, "b", 60000));
    ys_store_close(a);
    ys_store_close(b);
}

struct racer {
    struct ys_store *s;
    char holder[16];
    pthread_barrier_t *go;
    bool held;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct ys_err err = {{0}};
    pthread_barrier_wait(r->go);
    for (int tries = 0; tries < 50; tries++) { /* SQLite: busy past its timeout is retried */
        int rc = r->s->type->lease(r->s, YS_LEASE_NOTIFIER, r->holder, 60000, &r->held, &err);
        if (rc == 0)
            return NULL;
        if (rc != YS_EBUSY)
            break;
    }
    r->held = false;
    fprintf(stderr, "%s: %s\n", r->holder, err.msg);
    return NULL;
}

static void test_race_one_winner(void **state)
{
    (void)state;
    enum { N = 4 };
    struct ys_store *first = fixture_open(false, 0);
    assert_true(take(first, "setup", 1)); /* the table exists and the lease expired */
    usleep(20000);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N);
    struct racer r[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        r[i] = (struct racer){.s = fixture_open(false, 0), .go = &go};
        snprintf(r[i].holder, sizeof r[i].holder, "racer-%d", i);
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    int winners = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        winners += r[i].held;
        ys_store_close(r[i].s);
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(winners, 1);
    ys_store_close(first);
}

/* ---- ys_lease on a loop ---------------------------------------------- */

struct watch {
    int calls;
    bool last;
    int64_t at_us; /* of the last call */
};

static void on_change(bool held, void *arg)
{
    struct watch *w = arg;
    w->calls++;
    w->last = held;
    w->at_us = ys_mono_us();
}

struct until {
    uv_timer_t t;
    const struct watch *w;
    int calls;
    int64_t end_us;
};

static void poll_cb(uv_timer_t *t)
{
    struct until *u = t->data;
    if (u->w->calls >= u->calls || ys_mono_us() >= u->end_us)
        uv_stop(t->loop);
}

/* Runs the loop until w has seen `calls` calls or max_ms passed. */
static void run_until(uv_loop_t *loop, const struct watch *w, int calls, int max_ms)
{
    struct until u = {.w = w, .calls = calls, .end_us = ys_mono_us() + max_ms * INT64_C(1000)};
    uv_timer_init(loop, &u.t);
    u.t.data = &u;
    uv_timer_start(&u.t, poll_cb, 10, 10);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&u.t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void config_for(struct ys_config *cfg, const char *id)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->storage.kind = (char *)fixture_kind("sqlite");
    cfg->storage.path = path;
    cfg->instance.id = (char *)id;
    cfg->instance.location = (char *)"home";
    cfg->instance.lease_ttl_ms = 3000;
}

static void test_handover_on_stop(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_config ca, cb;
    config_for(&ca, "a");
    config_for(&cb, "b");
    struct watch wa = {0}, wb = {0};
    struct ys_lease *la = NULL, *lb = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_lease_start(&loop, &ca, on_change, &wa, &la, &err), 0);
    assert_int_equal(ys_lease_start(&loop, &cb, on_change, &wb, &lb, &err), 0);
    assert_true(ys_lease_held(la));
    assert_false(ys_lease_held(lb));
    run_until(&loop, &wb, 1, 1500); /* a renews; nothing changes for b */
    assert_int_equal(wa.calls, 0);
    assert_int_equal(wb.calls, 0);
    int64_t stopped = ys_mono_us();
    ys_lease_stop(la); /* releases */
    run_until(&loop, &wb, 1, 3000);
    assert_int_equal(wb.calls, 1);
    assert_true(wb.last);
    assert_true(ys_lease_held(lb));
    assert_int_equal(ys_lease_changes(lb), 1);
    /* b polls every ttl/3 = 1 s: a released lease is taken at its next try. */
    assert_true(wb.at_us - stopped < 1500000);
    assert_int_equal(wa.calls, 0); /* stop does not call back */
    ys_lease_stop(lb);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_same_id_one_holder(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_config cfg;
    config_for(&cfg, "twin"); /* one config, two daemons */
    struct watch w1 = {0}, w2 = {0};
    struct ys_lease *l1 = NULL, *l2 = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_lease_start(&loop, &cfg, on_change, &w1, &l1, &err), 0);
    assert_int_equal(ys_lease_start(&loop, &cfg, on_change, &w2, &l2, &err), 0);
    assert_true(ys_lease_held(l1));
    assert_false(ys_lease_held(l2));
    run_until(&loop, &w2, 1, 1500); /* renewals: still one holder */
    assert_true(ys_lease_held(l1));
    assert_false(ys_lease_held(l2));
    ys_lease_stop(l1);
    run_until(&loop, &w2, 1, 3000);
    assert_true(ys_lease_held(l2));
    ys_lease_stop(l2);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_gated_and_renamed(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_config ca, cb;
    config_for(&ca, "a");
    config_for(&cb, "b");
    char part[64];
    ys_lease_partition_name(&ca, part, sizeof part);
    assert_string_equal(part, "probe/home/0-0");
    cb.instance.shard_index = 2;
    cb.instance.shard_count = 3;
    cb.instance.location = NULL;
    ys_lease_partition_name(&cb, part, sizeof part);
    assert_string_equal(part, "probe/default/2-3");
    cb = ca;
    cb.instance.id = (char *)"b";
    struct watch wpa = {0}, wna = {0}, wpb = {0}, wnb = {0};
    struct ys_lease *pa = NULL, *na = NULL, *pb = NULL, *nb = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_lease_start_named(&loop, &ca, "probe/home/0-0", NULL, on_change, &wpa,
                                          &pa, &err), 0);
    assert_int_equal(ys_lease_start_named(&loop, &ca, YS_LEASE_NOTIFIER, pa, on_change, &wna, &na,
                                          &err), 0);
    assert_int_equal(ys_lease_start_named(&loop, &cb, "probe/home/0-0", NULL, on_change, &wpb,
                                          &pb, &err), 0);
    assert_int_equal(ys_lease_start_named(&loop, &cb, YS_LEASE_NOTIFIER, pb, on_change, &wnb, &nb,
                                          &err), 0);
    assert_true(ys_lease_held(pa) && ys_lease_held(na));
    assert_false(ys_lease_held(pb) || ys_lease_held(nb));
    /* The notifier is free, but b does not probe: b does not take it. */
    ys_lease_stop(na);
    na = NULL;
    run_until(&loop, &wnb, 1, 1500);
    assert_int_equal(wnb.calls, 0);
    assert_false(ys_lease_held(nb));
    /* a moves to another partition: it loses the old one at once, b takes
     * it (a releases it), and then the notifier. */
    ys_lease_rename(pa, "probe/elsewhere/0-0");
    assert_false(ys_lease_held(pa));
    assert_int_equal(wpa.calls, 1);
    run_until(&loop, &wpb, 1, 3000);
    assert_true(ys_lease_held(pb));
    ys_lease_kick(nb); /* as the daemon does when its partition changes */
    run_until(&loop, &wnb, 1, 3000);
    assert_true(ys_lease_held(nb));
    run_until(&loop, &wpa, 2, 3000); /* a holds its new partition */
    assert_true(ys_lease_held(pa));
    ys_lease_stop(na);
    ys_lease_stop(nb);
    ys_lease_stop(pa);
    ys_lease_stop(pb);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Blocks every write to the lease table from another connection until
 * unlock_table: a database that stops answering the holder. */
struct table_lock {
    sqlite3 *db;
    PGconn *pg;
};

static void lock_table(struct table_lock *tl)
{
    if (fixture_pg_dsn()) {
        tl->pg = PQconnectdb(path);
        assert_int_equal(PQstatus(tl->pg), CONNECTION_OK);
        PGresult *res = PQexec(tl->pg, "BEGIN; LOCK TABLE lease IN ACCESS EXCLUSIVE MODE");
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
    } else {
        assert_int_equal(sqlite3_open(path, &tl->db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(tl->db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    }
}

static void unlock_table(struct table_lock *tl)
{
    if (tl->pg) {
        PQclear(PQexec(tl->pg, "ROLLBACK"));
        PQfinish(tl->pg);
    } else {
        sqlite3_exec(tl->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(tl->db);
    }
}

static void test_hung_store_loses_before_expiry(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_config cfg;
    config_for(&cfg, "a");
    struct watch w = {0};
    struct ys_lease *l = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_lease_start(&loop, &cfg, on_change, &w, &l, &err), 0);
    assert_true(ys_lease_held(l));
    struct table_lock tl = {0};
    /* Every renewal that started before this moment succeeded; the store
     * would give the lease away 3 s after the last of them at the soonest. */
    int64_t locked = ys_mono_us();
    lock_table(&tl);
    run_until(&loop, &w, 1, 5000);
    assert_int_equal(w.calls, 1);
    assert_false(w.last);
    assert_false(ys_lease_held(l));
    int64_t lost_after_ms = (w.at_us - locked) / 1000;
    print_message("lost the lease %lld ms after the store stopped answering\n",
                  (long long)lost_after_ms);
    assert_true(lost_after_ms <= 2250 + 200); /* 3/4 ttl, with scheduling slack */
    assert_true(lost_after_ms < 3000);        /* before anyone else could take it */
    unlock_table(&tl);
    run_until(&loop, &w, 2, 10000); /* the store answers again: held again */
    assert_int_equal(w.calls, 2);
    assert_true(w.last);
    ys_lease_stop(l);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_take_renew_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_one_winner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handover_on_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_id_one_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gated_and_renamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hung_store_loses_before_expiry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
