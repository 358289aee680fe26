/*
 * test_remote_queue.c - the remote-write on-disk queue (src/remote/queue.c)
 * in a temporary folder: batches come back in order and byte for byte;
 * an acknowledged batch is not seen again, also after a reopen (a
 * restart); an unacknowledged one is; going over max_bytes drops whole
 * segments, oldest first, and counts their samples; a torn tail (a crash
 * mid-append) is cut off at open without losing the whole records before it;
 * a flipped byte in a middle record is caught by its checksum, while
 * running and at open; a missing head file resends rather than loses; a
 * head file that cannot be saved loses nothing; a second open of the same
 * folder is refused (flock); and the fsyncs that make a record durable are
 * made: the folder after a segment is created or removed and after the
 * head's rename, head.tmp before it. fsync is interposed below to see them.
 */
#include "remote/remote_int.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];

/* fsync calls seen, by what was synced. */
static int dir_syncs, head_tmp_syncs, other_syncs;

/* Interposes libc's fsync for this executable (queue.c links into it), to
 * count which files and folders are synced, then does the real one. */
int fsync(int fd)
{
    struct stat st;
    char link[64], target[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    size_t tl = strlen(target);
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        dir_syncs++;
    else if (tl >= 9 && strcmp(target + tl - 9, "/head.tmp") == 0)
        head_tmp_syncs++;
    else
        other_syncs++;
    return (int)syscall(SYS_fsync, fd);
}

static void reset_syncs(void)
{
    dir_syncs = head_tmp_syncs = other_syncs = 0;
}

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

static char *seg_file(int seq)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%020d.seg", dir, seq);
    return path;
}

/* Flips one byte of a record's body on disk. */
static void flip(int seq, off_t at)
{
    int fd = open(seg_file(seq), O_RDWR);
    assert_true(fd >= 0);
    unsigned char c = 0;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

static void test_flipped_byte(void **state)
{
    (void)state;
    struct ys_rwq *q = NULL;
    struct ys_err err;
    uint64_t dropped = 0;
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    for (int i = 0; i < 3; i++)
        append(q, i, 100, &dropped);
    /* While running: batch 1's body changes under the queue. */
    flip(1, 116 + 16 + 50);
    expect(q, 0, true);
    char *data = NULL;
    size_t len = 0;
    uint32_t ns = 0;
    assert_int_equal(ys_rwq_peek(q, &data, &len, &ns, &dropped, &err), YS_EIO);
    assert_null(data);
    assert_non_null(strstr(err.msg, "unreadable record"));
    assert_int_equal(dropped, 11 + 12); /* the rest of the segment, counted */
    expect_empty(q);
    ys_rwq_close(q);
    /* At open: the scan stops at the bad record; what is before it is sent. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/head '%s'/*.seg", dir, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    for (int i = 0; i < 3; i++)
        append(q, i, 100, &dropped);
    ys_rwq_close(q);
    flip(1, 116 + 16 + 50);
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    assert_int_equal(ys_rwq_samples(q), 10);
    expect(q, 0, true);
    expect_empty(q);
    ys_rwq_close(q);
}

/* Without its head file a queue starts at its oldest segment again: the
 * batches in it are sent twice, none is lost. */
static void test_missing_head(void **state)
{
    (void)state;
    struct ys_rwq *q = NULL;
    struct ys_err err;
    uint64_t dropped = 0;
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    for (int i = 0; i < 3; i++)
        append(q, i, 100, &dropped);
    expect(q, 0, true);
    expect(q, 1, true);
    ys_rwq_close(q);
    char path[128];
    snprintf(path, sizeof path, "%s/head", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &q, &err), 0);
    assert_int_equal(ys_rwq_samples(q), 10 + 11 + 12);
    for (int i = 0; i < 3; i++)
        expect(q, i, true);
    expect_empty(q);
    ys_rwq_close(q);
}

/* A head that cannot be saved (here: a folder in its place) is not a lost
 * batch: append still succeeds and counts only what overflow dropped. */
static void test_head_save_fails(void **state)
{
    (void)state;
    struct ys_rwq *q = NULL;
    struct ys_err err;
    uint64_t dropped = 0;
    char path[128];
    snprintf(path, sizeof path, "%s/head", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/head/x", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(ys_rwq_open(dir, 64 * 1024, &q, &err), 0);
    for (int i = 0; i < 20; i++) {
        char buf[4096 - 16];
        memset(buf, 'x', sizeof buf);
        snprintf(buf, sizeof buf, "batch %d", i);
        assert_int_equal(ys_rwq_append(q, buf, sizeof buf, (uint32_t)(10 + i), &dropped, &err), 0);
    }
    assert_int_equal(dropped, 10 + 11 + 12 + 13); /* one segment over the cap */
    for (int i = 4; i < 20; i++) {
        expect(q, i, false);
        assert_int_equal(ys_rwq_ack(q, &err), YS_EIO); /* said, not hidden */
    }
    ys_rwq_close(q);
}

static void test_lock(void **state)
{
    (void)state;
    struct ys_rwq *a = NULL, *b = NULL;
    struct ys_err err;
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &a, &err), 0);
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &b, &err), YS_EBUSY);
    assert_null(b);
    assert_non_null(strstr(err.msg, "in use by another process"));
    ys_rwq_close(a);
    assert_int_equal(ys_rwq_open(dir, 1 << 20, &b, &err), 0);
    ys_rwq_close(b);
}

static void test_fsyncs(void **state)
{
    (void)state;
    struct ys_rwq *q = NULL;
    struct ys_err err;
    uint64_t dropped = 0;
    assert_int_equal(ys_rwq_open(dir, 64 * 1024, &q, &err), 0);
    reset_syncs();
    append(q, 0, 4096 - 16, &dropped); /* creates segment 1 */
    assert_int_equal(dir_syncs, 1);
    reset_syncs();
    append(q, 1, 4096 - 16, &dropped); /* same segment: its data is fdatasync'd */
    assert_int_equal(dir_syncs, 0);
    reset_syncs();
    expect(q, 0, true);
    assert_int_equal(head_tmp_syncs, 1); /* head.tmp before the rename */
    assert_int_equal(dir_syncs, 1);      /* the rename */
    for (int i = 2; i < 5; i++)
        append(q, i, 4096 - 16, &dropped); /* 4 to a segment: 4 starts segment 2 */
    expect(q, 1, true);
    expect(q, 2, true);
    reset_syncs();
    expect(q, 3, true); /* the last of segment 1: it is unlinked */
    assert_int_equal(head_tmp_syncs, 1);
    assert_int_equal(dir_syncs, 2); /* the unlink and the rename */
    assert_int_equal(ys_rwq_segments(q), 1);
    ys_rwq_close(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_ack_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_save_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsyncs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
