/*
 * test_remote_queue.c - the remote-write on-disk queue (src/remote/queue.c)
 * in a temporary folder: batches come back in order and byte for byte;
 * an acknowledged batch is not seen again, also after a reopen (a
 * restart); an unacknowledged one is; going over max_bytes drops whole
 * segments, oldest first, and counts their samples; a torn tail (a crash
 * mid-append) is cut off at open without losing the whole records before it.
 */
#include "remote/remote_int.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ys-test-rwq.XXXXXX");
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

static void append(struct ys_rwq *q, int i, size_t size, uint64_t *dropped)
{
    char *buf = malloc(size);
    memset(buf, 'a' + i % 26, size);
    snprintf(buf, size, "batch %d", i);
    struct ys_err err;
    assert_int_equal(ys_rwq_append(q, buf, size, (uint32_t)(10 + i), dropped, &err), 0);
    free(buf);
}

/* Peeks and checks the batch is number i; acks when asked. */
static void expect(struct ys_rwq *q, int i, bool ack)
{
    char *data = NULL, want[32];
    size_t len = 0;
    uint32_t ns = 0;
    uint64_t dropped = 0;
    struct ys_err err;
    assert_int_equal(ys_rwq_peek(q, &data, &len, &ns, &dropped, &err), 0);
    snprintf(want, sizeof want, "batch %d", i);
    assert_string_equal(data, want);
    assert_int_equal(ns, 10 + i);
    free(data);
    if (ack)
        assert_int_equal(ys_rwq_ack(q, &err), 0);
}

static void expect_empty(struct ys_rwq *q)
{
    char *data = NULL;
    size_t len = 0;
    uint32_t ns = 0;
    uint64_t dropped = 0;
    struct ys_err err;
    assert_int_equal(ys_rwq_peek(q, &data, &len, &ns, &dropped, &err), 1);
    assert_int_equal(ys_rwq_samples(q), 0);
    assert_int_equal(ys_rwq_bytes(q), 0);
}

static void test_order_ack_restart(void **state)
{
    (void)state;
    struct ys_rwq *q = NULL;
    struct ys_err err;
    uint64_t dropped = 0;
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    expect_empty(q);
    for (int i = 0; i < 5; i++)
        append(q, i, 100, &dropped);
    assert_int_equal(ys_rwq_samples(q), 10 + 11 + 12 + 13 + 14);
    assert_int_equal(ys_rwq_bytes(q), 5 * (16 + 100));
    expect(q, 0, true);
    expect(q, 1, true);
    expect(q, 2, false); /* peeked, not acknowledged: a send that failed */
    expect(q, 2, false);
    ys_rwq_close(q);
    /* A restart resumes at the first unacknowledged batch. */
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    assert_int_equal(ys_rwq_samples(q), 12 + 13 + 14);
    assert_int_equal(ys_rwq_bytes(q), 3 * (16 + 100));
    expect(q, 2, true);
    append(q, 5, 100, &dropped);
    expect(q, 3, true);
    expect(q, 4, true);
    expect(q, 5, true);
    expect_empty(q);
    ys_rwq_close(q);
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    expect_empty(q);
    ys_rwq_close(q);
    assert_int_equal(dropped, 0);
}

static void test_overflow_drops_oldest(void **state)
{
    (void)state;
    struct ys_rwq *q = NULL;
    struct ys_err err;
    uint64_t dropped = 0;
    /* 64KiB cap: 16KiB segments; 4KiB batches, so four to a segment. */
    assert_int_equal(ys_rwq_open(dir, 64 * 1024, &q, &err), 0);
    for (int i = 0; i < 16; i++)
        append(q, i, 4096 - 16, &dropped);
    assert_int_equal(dropped, 0);
    expect(q, 0, true); /* one sent: its samples are not counted as dropped */
    for (int i = 16; i < 20; i++)
        append(q, i, 4096 - 16, &dropped);
    assert_true(ys_rwq_bytes(q) <= 64 * 1024);
    /* The first segment (batches 0-3, 0 already sent) went: 11+12+13. */
    assert_int_equal(dropped, 11 + 12 + 13);
    expect(q, 4, false);
    ys_rwq_close(q);
    /* The drop is remembered across a restart. */
    assert_int_equal(ys_rwq_open(dir, 64 * 1024, &q, &err), 0);
    expect(q, 4, true);
    uint64_t left = 0;
    for (int i = 5; i < 20; i++)
        left += 10 + (uint64_t)i;
    assert_int_equal(ys_rwq_samples(q), left);
    for (int i = 5; i < 20; i++)
        expect(q, i, true);
    expect_empty(q);
    ys_rwq_close(q);
}

static void test_torn_tail(void **state)
{
    (void)state;
    struct ys_rwq *q = NULL;
    struct ys_err err;
    uint64_t dropped = 0;
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    append(q, 0, 50, &dropped);
    append(q, 1, 50, &dropped);
    ys_rwq_close(q);
    /* Half a record at the end, as a crash mid-write leaves it. */
    char path[128];
    snprintf(path, sizeof path, "%s/%020d.seg", dir, 1);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "WRSY\x40\x00\x00\x00garbage", 15), 15);
    close(fd);
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    assert_int_equal(ys_rwq_bytes(q), 2 * (16 + 50));
    append(q, 2, 50, &dropped);
    expect(q, 0, true);
    expect(q, 1, true);
    expect(q, 2, true);
    expect_empty(q);
    ys_rwq_close(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_ack_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
