/*
 * test_writer.c - the store writer thread: results pushed from two threads
 * all arrive after a flush; a full queue drops and counts; stop drains
 * what is queued; a failing store is retried once, then counted; the ping
 * queue is bounded by count and by body bytes; results reach the store in
 * the order pushed while the ring partly drains, wraps and drains again.
 *
 * The queue-full and failure cases use a fake store whose append blocks
 * on a gate or fails on demand, so the timing is deterministic.
 */
#include "core/err.h"
#include "core/result.h"
#include "store/store.h"
#include "store/writer.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define T0 INT64_C(1767225600000)

/* ---- a fake store ---- */

struct fake {
    struct ys_store super;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool gate_open;
    int pass; /* appends let through while the gate is closed */
    int in_append;
    int fail_next; /* how many appends fail */
    uint64_t appended, calls;
    uint64_t pings, ping_bytes;
    int64_t seen[64]; /* duration_us of each result appended, in order */
    size_t nseen;
    struct ys_result last; /* the last result appended */
};

static void fake_close(struct ys_store *s)
{
    struct fake *f = (struct fake *)s;
    (void)f; /* the test owns and frees it */
}

static int fake_append(struct ys_store *s, const struct ys_result *r, size_t n,
                       struct ys_err *err)
{
    struct fake *f = (struct fake *)s;
    pthread_mutex_lock(&f->mu);
    f->in_append++;
    pthread_cond_broadcast(&f->cv);
    while (!f->gate_open && f->pass == 0)
        pthread_cond_wait(&f->cv, &f->mu);
    if (!f->gate_open)
        f->pass--;
    f->in_append--;
    f->calls++;
    int rc = 0;
    if (f->fail_next > 0) {
        f->fail_next--;
        rc = ys_err_set(err, YS_EBUSY, "fake: busy");
    } else {
        f->appended += n;
        for (size_t i = 0; i < n && f->nseen < 64; i++)
            f->seen[f->nseen++] = r[i].duration_us;
        if (n)
            f->last = r[n - 1];
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static int fake_prune(struct ys_store *s, int64_t now, int budget, int *deleted,
                      struct ys_err *err)
{
    (void)s, (void)now, (void)budget, (void)err;
    *deleted = 0;
    return 0;
}

static int fake_put_pings(struct ys_store *s, const struct ys_ping_record *recs, size_t n,
                          struct ys_err *err)
{
    struct fake *f = (struct fake *)s;
    (void)err;
    usleep(20000); /* slow, so a flush that did not wait for pings would see none */
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < n; i++) {
        f->pings++;
        f->ping_bytes += recs[i].body_len;
    }
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static const struct ys_store_type fake_type = {
    .name = "fake", .close = fake_close, .append = fake_append, .prune = fake_prune,
    .put_pings = fake_put_pings,
};

static void fake_init(struct fake *f, bool open)
{
    memset(f, 0, sizeof *f);
    f->super.type = &fake_type;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->gate_open = open;
}

static void fake_open_gate(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->gate_open = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fake_wait_in_append(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    while (f->in_append == 0)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

/* Lets the append that waits through and waits for the next one to block. */
static void fake_pass_one(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    uint64_t calls = f->calls;
    f->pass = 1;
    pthread_cond_broadcast(&f->cv);
    while (f->calls == calls || f->in_append == 0)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static struct ys_result result(uint32_t id, int64_t i)
{
    struct ys_result r;
    ys_result_init(&r);
    r.check_id = id;
    r.ts_ms = T0 + i * 1000;
    r.duration_us = 1000 + i;
    return r;
}

/* ---- two producers into a real SQLite store ---- */

#define PER_THREAD 5000

struct producer {
    struct ys_writer *w;
    uint32_t id;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int64_t i = 0; i < PER_THREAD; i++) {
        struct ys_result r = result(p->id, i);
        while (ys_writer_push(p->w, &r) == YS_EBUSY)
            usleep(100);
    }
    return NULL;
}

static int count(const struct ys_result *r, void *arg)
{
    (void)r;
    (*(size_t *)arg)++;
    return 0;
}

static void test_two_threads(void **state)
{
    (void)state;
    char dir[] = "/tmp/ys_test_writer_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/w.db", dir);
    struct ys_store_options opt = {.path = path};
    struct ys_store *s, *reader;
    struct ys_err err;
    assert_int_equal(ys_store_open("sqlite", &opt, &s, &err), 0);
    uint32_t a, b;
    assert_int_equal(s->type->check_id(s, "a", &a, &err), 0);
    assert_int_equal(s->type->check_id(s, "b", &b, &err), 0);
    struct ys_writer_options wo = {.flush_ms = 20, .batch_max = 300, .queue_max = 1000};
    struct ys_writer *w;
    assert_int_equal(ys_writer_start(s, &wo, &w, &err), 0);
    struct producer pa = {w, a}, pb = {w, b};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, produce, &pa);
    pthread_create(&tb, NULL, produce, &pb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ys_writer_flush(w);
    /* A second connection sees everything once flush returned. */
    opt.read_only = true;
    assert_int_equal(ys_store_open("sqlite", &opt, &reader, &err), 0);
    size_t na = 0, nb = 0;
    assert_int_equal(reader->type->query_raw(reader, a, 0, INT64_MAX / 2, count, &na, &err), 0);
    assert_int_equal(reader->type->query_raw(reader, b, 0, INT64_MAX / 2, count, &nb, &err), 0);
    assert_int_equal(na, PER_THREAD);
    assert_int_equal(nb, PER_THREAD);
    struct ys_writer_stats st;
    ys_writer_stats(w, &st);
    assert_int_equal(st.written, 2 * PER_THREAD);
    assert_int_equal(st.queued, 2 * PER_THREAD);
    assert_int_equal(st.failed, 0);
    assert_true(st.batches >= 2 * PER_THREAD / 300);
    ys_store_close(reader);
    ys_writer_stop(w);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_queue_full_and_drain(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    struct ys_writer_options wo = {.flush_ms = 60000, .batch_max = 2, .queue_max = 4};
    struct ys_writer *w;
    struct ys_err err;
    assert_int_equal(ys_writer_start(&f.super, &wo, &w, &err), 0);
    struct ys_result r = result(1, 0);
    /* Two go into a batch the fake holds; then four fill the queue. */
    assert_int_equal(ys_writer_push(w, &r), 0);
    assert_int_equal(ys_writer_push(w, &r), 0);
    fake_wait_in_append(&f);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ys_writer_push(w, &r), 0);
    assert_int_equal(ys_writer_push(w, &r), YS_EBUSY);
    assert_int_equal(ys_writer_push(w, &r), YS_EBUSY);
    struct ys_writer_stats st;
    ys_writer_stats(w, &st);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.queued, 6);
    fake_open_gate(&f);
    ys_writer_stop(w); /* drains the four queued */
    assert_int_equal(f.appended, 6);
}

/* Pushes result v (tagged in duration_us); returns the push's code. */
static int push_tagged(struct ys_writer *w, int64_t v)
{
    struct ys_result r = result(1, v);
    r.duration_us = v;
    return ys_writer_push(w, &r);
}

static void test_ring_order(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    struct ys_writer_options wo = {.flush_ms = 60000, .batch_max = 3, .queue_max = 5};
    struct ys_writer *w;
    struct ys_err err;
    assert_int_equal(ys_writer_start(&f.super, &wo, &w, &err), 0);
    /* 0-2 make a batch the fake holds: the ring is empty again. */
    for (int64_t v = 0; v < 3; v++)
        assert_int_equal(push_tagged(w, v), 0);
    fake_wait_in_append(&f);
    /* 3-7 fill it from its start; 8 is dropped. */
    for (int64_t v = 3; v < 8; v++)
        assert_int_equal(push_tagged(w, v), 0);
    assert_int_equal(push_tagged(w, 8), YS_EBUSY);
    /* The thread writes 0-2 and takes 3-5, leaving 6 and 7 at the ring's
     * end; 9-11 wrap around to its start, and 12 is dropped. */
    fake_pass_one(&f);
    for (int64_t v = 9; v < 12; v++)
        assert_int_equal(push_tagged(w, v), 0);
    assert_int_equal(push_tagged(w, 12), YS_EBUSY);
    fake_open_gate(&f);
    ys_writer_flush(w);
    /* Drained: more pushes start over and still come out in order. */
    for (int64_t v = 13; v < 18; v++)
        assert_int_equal(push_tagged(w, v), 0);
    ys_writer_flush(w);
    ys_writer_stop(w);
    static const int64_t want[] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17};
    assert_int_equal(f.nseen, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < f.nseen; i++)
        assert_int_equal(f.seen[i], want[i]);
}

/* A server's Latin-1 bytes in a message or a certificate name reach the
 * store as valid UTF-8 (PostgreSQL would refuse the whole batch). */
static void test_texts_scrubbed(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    fake_open_gate(&f);
    struct ys_writer *w;
    struct ys_err err;
    assert_int_equal(ys_writer_start(&f.super, NULL, &w, &err), 0);
    struct ys_result r = result(1, 0);
    snprintf(r.message, sizeof r.message, "HTTP 500: caf\xe9 ferm\xe9");
    snprintf(r.tls.subject, sizeof r.tls.subject, "CN=M\xfcller");
    snprintf(r.facts, sizeof r.facts, "{\"reason\":\"\xff\"}");
    assert_int_equal(ys_writer_push(w, &r), 0);
    ys_writer_stop(w);
    assert_string_equal(f.last.message, "HTTP 500: caf? ferm?");
    assert_string_equal(f.last.tls.subject, "CN=M?ller");
    assert_string_equal(f.last.facts, "{\"reason\":\"?\"}");
}

static void test_failure_retried_then_counted(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, true);
    f.fail_next = 1; /* the retry succeeds */
    struct ys_writer *w;
    struct ys_err err;
    struct ys_writer_options wo = {.flush_ms = 10, .batch_max = 10, .queue_max = 100};
    assert_int_equal(ys_writer_start(&f.super, &wo, &w, &err), 0);
    struct ys_result r = result(1, 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ys_writer_push(w, &r), 0);
    ys_writer_flush(w);
    struct ys_writer_stats st;
    ys_writer_stats(w, &st);
    assert_int_equal(st.written, 5);
    assert_int_equal(st.failed, 0);
    pthread_mutex_lock(&f.mu);
    f.fail_next = 2; /* both tries fail: the batch is lost and counted */
    pthread_mutex_unlock(&f.mu);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ys_writer_push(w, &r), 0);
    ys_writer_flush(w);
    ys_writer_stats(w, &st);
    assert_int_equal(st.written, 5);
    assert_int_equal(st.failed, 3);
    ys_writer_stop(w);
    assert_int_equal(f.appended, 5);
}

/* While the thread is held in an append, pings pile up: 16 MiB of bodies
 * fill the byte bound, then 1024 pings the count bound. */
static void test_ping_queue_bounds(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    struct ys_writer_options wo = {.flush_ms = 60000, .batch_max = 1, .queue_max = 4};
    struct ys_writer *w;
    struct ys_err err;
    assert_int_equal(ys_writer_start(&f.super, &wo, &w, &err), 0);
    struct ys_result r = result(1, 0);
    assert_int_equal(ys_writer_push(w, &r), 0);
    fake_wait_in_append(&f);
    size_t mib = 1 << 20;
    char *body = calloc(1, mib);
    struct ys_ping_record p;
    memset(&p, 0, sizeof p);
    p.ping.check_id = 1;
    p.body = body;
    p.body_len = mib;
    size_t room, room_bytes;
    ys_writer_ping_room(w, &room, &room_bytes);
    assert_int_equal(room, 1024);
    assert_int_equal(room_bytes, 16 * mib);
    for (int i = 0; i < 16; i++)
        assert_int_equal(ys_writer_push_ping(w, &p), 0);
    ys_writer_ping_room(w, &room, &room_bytes);
    assert_int_equal(room, 1024 - 16);
    assert_int_equal(room_bytes, 0);
    assert_int_equal(ys_writer_push_ping(w, &p), YS_EBUSY); /* bytes full */
    p.body_len = 0;
    for (int i = 16; i < 1024; i++) /* bodyless pings still fit, up to the count */
        assert_int_equal(ys_writer_push_ping(w, &p), 0);
    assert_int_equal(ys_writer_push_ping(w, &p), YS_EBUSY); /* count full */
    ys_writer_ping_room(w, &room, &room_bytes);
    assert_int_equal(room, 0);
    free(body);
    struct ys_writer_stats st;
    ys_writer_stats(w, &st);
    assert_int_equal(st.pings_dropped, 2);
    assert_int_equal(st.pings_written, 0);
    fake_open_gate(&f);
    ys_writer_flush(w);
    ys_writer_stats(w, &st);
    assert_int_equal(st.pings_written, 1024);
    assert_int_equal(f.pings, 1024);
    assert_int_equal(f.ping_bytes, 16 * mib);
    ys_writer_stop(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_queue_full_and_drain),
        cmocka_unit_test(test_ring_order),
        cmocka_unit_test(test_texts_scrubbed),
        cmocka_unit_test(test_failure_retried_then_counted),
        cmocka_unit_test(test_ping_queue_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
