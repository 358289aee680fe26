/*
 * queue.c - the on-disk queue of one remote-write endpoint: encoded
 * batches waiting to be sent, so a receiver outage or a restart loses
 * nothing up to queue_max bytes.
 *
 * Layout, in the endpoint's own folder:
 *   <seq>.seg   segment files, numbered upwards; the last one is appended
 *               to. A record is a 16-byte header (magic, body length,
 *               samples in it, a 32-bit FNV-1a of the body) and the body.
 *   head        "<seq> <offset>": where the oldest unsent record starts.
 *               Replaced by rename after each acknowledged batch (written
 *               to head.tmp, fsync'd, renamed, the folder fsync'd).
 *   lock        flock'd while the queue is open, so two processes never
 *               share a queue.
 *
 * A crash between the receiver's 2xx and the head's save sends that batch
 * again after the restart. The receiver does not tolerate that in general:
 * Prometheus answers the repeat with 400 (out of order or duplicate
 * sample), which counts as dropped although the samples are stored. The
 * window is one request per endpoint and only a crash (kill -9, power)
 * opens it; a stop lets the request in flight finish (remote.c).
 *
 * Invariants: records are appended whole and fsync'd before append
 * returns, and the folder is fsync'd after a segment is created or
 * removed, so a record that append reported written survives a power
 * loss; a torn tail (a crash mid-append) is cut off at open; the unsent
 * bytes (every segment from the head on) stay at most max_bytes after an
 * append, by dropping whole segments oldest first and counting their
 * samples; the write segment is never dropped. A segment is at most
 * max_bytes / 8 (16KiB..8MiB) before the next one starts, so dropping one
 * loses a small share of the queue. Not thread-safe: its users serialise
 * the calls (remote.c's writer appends and its sender peeks and acks, both
 * under the endpoint's mutex).
 */
#include "remote/remote_int.h"

#include "core/hash.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define REC_MAGIC UINT32_C(0x59535257) /* "YSRW" */
#define REC_HDR 16
#define REC_MAX (UINT32_C(256) << 20)
#define SEG_MIN (16 * 1024)
#define SEG_MAX (8 * 1024 * 1024)

struct seg {
    uint64_t seq;
    uint64_t bytes;   /* whole records only */
    uint64_t samples; /* in all its records */
};

struct ys_rwq {
    char *dir;
    uint64_t max_bytes, seg_max;
    struct seg *segs; /* oldest first; the last is the write segment */
    size_t n, cap;
    int wfd;               /* the write segment, O_APPEND; -1 before the first append */
    int lock_fd;           /* dir/lock, flock'd; -1 when not held */
    uint64_t head_off;     /* next unsent record in segs[0] */
    uint64_t head_samples; /* samples in segs[0] before head_off */
    bool peeked;           /* a peek is waiting for its ack */
    uint64_t peek_next;
    uint32_t peek_samples;
};

static uint32_t body_sum(const void *p, size_t n)
{
    return (uint32_t)ys_hash_bytes(YS_HASH_INIT, p, n);
}

static char *seg_path(const struct ys_rwq *q, uint64_t seq)
{
    return ys_xasprintf("%s/%020" PRIu64 ".seg", q->dir, seq);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Makes the folder's entries (a new or removed segment, the renamed head)
 * durable; errors are ignored, as the data itself is already synced. */
static void sync_dir(const struct ys_rwq *q)
{
    int fd = open(q->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fsync(fd) < 0) {
        /* some file systems cannot sync a folder; nothing more to do */
    }
    close(fd);
}

/* mkdir -p for the queue's folder. */
static int make_dirs(const char *dir, struct ys_err *err)
{
    char *p = ys_xstrdup(dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0750) < 0 && errno != EEXIST) {
            int e = errno;
            ys_err_set(err, YS_EIO, "cannot create %s: %s", p, strerror(e));
            free(p);
            return YS_EIO;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return 0;
}

/* Walks a segment's records, stopping at the first torn or corrupt one.
 * Sets its whole-record size and sample count, and the samples before
 * offset upto. The records are checked without reading bodies twice:
 * only the header and the body's checksum. */
static void scan_segment(int fd, const char *path, uint64_t upto, struct seg *s, uint64_t *before)
{
    struct stat st;
    uint64_t off = 0, size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    char *buf = NULL;
    size_t buf_cap = 0;
    s->bytes = s->samples = 0;
    *before = 0;
    while (off + REC_HDR <= size) {
        unsigned char h[REC_HDR];
        if (pread(fd, h, REC_HDR, (off_t)off) != REC_HDR || get32(h) != REC_MAGIC)
            break;
        uint32_t len = get32(h + 4), ns = get32(h + 8);
        if (len > REC_MAX || off + REC_HDR + len > size)
            break;
        if (len > buf_cap) {
            buf_cap = len;
            buf = ys_xrealloc(buf, buf_cap);
        }
        if (pread(fd, buf, len, (off_t)(off + REC_HDR)) != (ssize_t)len ||
            body_sum(buf, len) != get32(h + 12))
            break;
        if (off < upto)
            *before += ns;
        off += REC_HDR + len;
        s->samples += ns;
    }
    free(buf);
    s->bytes = off;
    if (off < size)
        ys_warn("remote",
                "%s: a torn or corrupt record at offset %" PRIu64 "; the %" PRIu64
                " bytes from there on are cut off",
                path, off, size - off);
    if (off < size && ftruncate(fd, (off_t)off) < 0) {
        /* The torn tail stays; appends then go after it and the next
         * scan stops there again, so the later records are lost, not
         * misread. Nothing better to do on a read-only or full disk. */
    }
}

static int seq_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct seg *)a)->seq, y = ((const struct seg *)b)->seq;
    return x < y ? -1 : x > y;
}

static void push_seg(struct ys_rwq *q, uint64_t seq)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 8;
        q->segs = ys_xrealloc(q->segs, q->cap * sizeof *q->segs);
    }
    q->segs[q->n++] = (struct seg){.seq = seq};
}

static int list_segments(struct ys_rwq *q, struct ys_err *err)
{
    DIR *d = opendir(q->dir);
    if (!d)
        return ys_err_set(err, YS_EIO, "cannot open %s: %s", q->dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end = NULL;
        unsigned long long seq = strtoull(e->d_name, &end, 10);
        if (end != e->d_name && strcmp(end, ".seg") == 0)
            push_seg(q, (uint64_t)seq);
    }
    closedir(d);
    if (q->n > 0)
        qsort(q->segs, q->n, sizeof *q->segs, seq_cmp);
    return 0;
}

static void read_head(const struct ys_rwq *q, uint64_t *seq, uint64_t *off)
{
    char *path = ys_xasprintf("%s/head", q->dir);
    FILE *f = fopen(path, "r");
    unsigned long long s = 0, o = 0;
    if (f && fscanf(f, "%llu %llu", &s, &o) == 2) {
        *seq = s;
        *off = o;
    }
    if (f)
        fclose(f);
    free(path);
}

static int save_head(const struct ys_rwq *q, struct ys_err *err)
{
    char *tmp = ys_xasprintf("%s/head.tmp", q->dir), *path = ys_xasprintf("%s/head", q->dir);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    bool written =
        f && fprintf(f, "%" PRIu64 " %" PRIu64 "\n", q->n ? q->segs[0].seq : 0, q->head_off) > 0 &&
        fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (f && fclose(f) != 0 && written) {
        written = false;
        e = errno;
    }
    if (written && rename(tmp, path) < 0) {
        written = false;
        e = errno;
    }
    if (!written)
        rc = ys_err_set(err, YS_EIO, "cannot write %s: %s", path, strerror(e));
    else
        sync_dir(q);
    free(tmp);
    free(path);
    return rc;
}

/* Removes segs[0] (sent or dropped) from disk and the list. */
static void drop_first(struct ys_rwq *q)
{
    char *path = seg_path(q, q->segs[0].seq);
    if (unlink(path) == 0)
        sync_dir(q);
    free(path);
    if (q->n == 1 && q->wfd >= 0) {
        close(q->wfd);
        q->wfd = -1;
    }
    memmove(q->segs, q->segs + 1, (q->n - 1) * sizeof *q->segs);
    q->n--;
    q->head_off = q->head_samples = 0;
    q->peeked = false;
}

/* Scans every segment and places the head where the last run left it. */
static void resume(struct ys_rwq *q)
{
    uint64_t head_seq = 0, head_off = 0;
    read_head(q, &head_seq, &head_off);
    while (q->n > 1 && q->segs[0].seq < head_seq)
        drop_first(q); /* fully sent before the last run stopped */
    for (size_t i = 0; i < q->n; i++) {
        char *path = seg_path(q, q->segs[i].seq);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        uint64_t before = 0;
        bool is_head = i == 0 && q->segs[0].seq == head_seq;
        if (fd >= 0) {
            scan_segment(fd, path, is_head ? head_off : 0, &q->segs[i], &before);
            close(fd);
        }
        free(path);
        if (is_head) {
            q->head_off = head_off < q->segs[0].bytes ? head_off : q->segs[0].bytes;
            q->head_samples = before;
        }
    }
}

/* Takes dir/lock, without waiting. */
static int lock_dir(struct ys_rwq *q, struct ys_err *err)
{
    char *path = ys_xasprintf("%s/lock", q->dir);
    int rc = 0;
    q->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (q->lock_fd < 0)
        rc = ys_err_set(err, YS_EIO, "cannot open %s: %s", path, strerror(errno));
    else if (flock(q->lock_fd, LOCK_EX | LOCK_NB) < 0)
        rc = errno == EWOULDBLOCK
                 ? ys_err_set(err, YS_EBUSY,
                              "the remote-write queue %s is in use by another process (%s is "
                              "locked); give each yardstick its own queue_dir",
                              q->dir, path)
                 : ys_err_set(err, YS_EIO, "cannot lock %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

int ys_rwq_open(const char *dir, int64_t max_bytes, struct ys_rwq **out, struct ys_err *err)
{
    int rc = make_dirs(dir, err);
    if (rc < 0)
        return rc;
    struct ys_rwq *q = ys_xcalloc(1, sizeof *q);
    q->dir = ys_xstrdup(dir);
    q->lock_fd = -1;
    q->max_bytes = max_bytes > 0 ? (uint64_t)max_bytes : 1;
    q->seg_max = q->max_bytes / 8;
    q->seg_max = q->seg_max < SEG_MIN ? SEG_MIN : q->seg_max > SEG_MAX ? SEG_MAX : q->seg_max;
    q->wfd = -1;
    rc = lock_dir(q, err);
    if (rc == 0)
        rc = list_segments(q, err);
    if (rc < 0) {
        ys_rwq_close(q);
        return rc;
    }
    resume(q);
    *out = q;
    return 0;
}

/* Opens the write segment, starting a new one when there is none or the
 * last is full. */
static int open_writer(struct ys_rwq *q, struct ys_err *err)
{
    bool full = q->n > 0 && q->segs[q->n - 1].bytes >= q->seg_max;
    if (q->wfd >= 0 && !full)
        return 0;
    if (q->wfd >= 0)
        close(q->wfd);
    q->wfd = -1;
    bool fresh = q->n == 0 || full;
    if (fresh)
        push_seg(q, q->n ? q->segs[q->n - 1].seq + 1 : 1);
    char *path = seg_path(q, q->segs[q->n - 1].seq);
    q->wfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    int rc = q->wfd < 0 ? ys_err_set(err, YS_EIO, "cannot open %s: %s", path, strerror(errno)) : 0;
    if (rc == 0 && fresh)
        sync_dir(q); /* the new segment's name, before a record in it counts as written */
    free(path);
    return rc;
}

int ys_rwq_append(struct ys_rwq *q, const void *data, size_t len, uint32_t n_samples,
                  uint64_t *dropped, struct ys_err *err)
{
    if (len > REC_MAX)
        return ys_err_set(err, YS_ETOOBIG, "a batch of %zu bytes is over the record cap", len);
    int rc = open_writer(q, err);
    if (rc < 0)
        return rc;
    unsigned char h[REC_HDR];
    put32(h, REC_MAGIC);
    put32(h + 4, (uint32_t)len);
    put32(h + 8, n_samples);
    put32(h + 12, body_sum(data, len));
    struct iovec iov[2] = {{h, REC_HDR}, {(void *)data, len}};
    ssize_t w = writev(q->wfd, iov, 2);
    if (w != (ssize_t)(REC_HDR + len) || fdatasync(q->wfd) < 0) {
        int e = w < 0 ? errno : EIO;
        /* Cut what part of the record went out, so the segment stays whole. */
        if (ftruncate(q->wfd, (off_t)q->segs[q->n - 1].bytes) < 0) {
            /* the next open's scan stops at the torn record */
        }
        return ys_err_set(err, YS_EIO, "cannot append to the remote-write queue in %s: %s", q->dir,
                          strerror(e));
    }
    q->segs[q->n - 1].bytes += REC_HDR + len;
    q->segs[q->n - 1].samples += n_samples;
    bool dropped_any = false;
    while (q->n > 1 && ys_rwq_bytes(q) > q->max_bytes) {
        *dropped += q->segs[0].samples - q->head_samples;
        drop_first(q);
        dropped_any = true;
    }
    if (dropped_any && save_head(q, err) < 0)
        /* The batch is on disk; only the head file is stale, which at
         * worst makes the next start send the oldest segment's first
         * batches again. Not a loss, so not reported as one. */
        ys_warn("remote", "%s", err->msg);
    return 0;
}

int ys_rwq_peek(struct ys_rwq *q, char **data, size_t *len, uint32_t *n_samples, uint64_t *dropped,
                struct ys_err *err)
{
    while (q->n > 1 && q->head_off >= q->segs[0].bytes)
        drop_first(q);
    if (q->n == 0 || q->head_off >= q->segs[0].bytes)
        return 1;
    char *path = seg_path(q, q->segs[0].seq);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char h[REC_HDR];
    int rc = YS_EIO;
    char *buf = NULL;
    uint32_t blen = 0;
    if (fd >= 0 && pread(fd, h, REC_HDR, (off_t)q->head_off) == REC_HDR && get32(h) == REC_MAGIC &&
        (blen = get32(h + 4)) <= REC_MAX) {
        buf = ys_xmalloc(blen + 1);
        if (pread(fd, buf, blen, (off_t)(q->head_off + REC_HDR)) == (ssize_t)blen &&
            body_sum(buf, blen) == get32(h + 12))
            rc = 0;
    }
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        /* The segment changed under us (or the disk lies): the rest of it
         * cannot be trusted, so it is dropped and counted. */
        ys_err_set(err, YS_EIO, "unreadable record in %s at %" PRIu64 "; segment dropped", path,
                   q->head_off);
        *dropped += q->segs[0].samples - q->head_samples;
        if (q->n > 1) {
            drop_first(q);
        } else {
            q->head_samples = q->segs[0].samples;
            q->head_off = q->segs[0].bytes;
        }
        save_head(q, NULL);
        free(buf);
        free(path);
        return rc;
    }
    free(path);
    *data = buf;
    *len = blen;
    *n_samples = get32(h + 8);
    q->peeked = true;
    q->peek_next = q->head_off + REC_HDR + blen;
    q->peek_samples = *n_samples;
    return 0;
}

int ys_rwq_ack(struct ys_rwq *q, struct ys_err *err)
{
    if (!q->peeked)
        return 0; /* its segment was dropped meanwhile */
    q->peeked = false;
    q->head_off = q->peek_next;
    q->head_samples += q->peek_samples;
    if (q->n > 1 && q->head_off >= q->segs[0].bytes)
        drop_first(q);
    return save_head(q, err);
}

uint64_t ys_rwq_bytes(const struct ys_rwq *q)
{
    uint64_t b = 0;
    for (size_t i = 0; i < q->n; i++)
        b += q->segs[i].bytes;
    return b - (q->n ? q->head_off : 0);
}

uint64_t ys_rwq_samples(const struct ys_rwq *q)
{
    uint64_t s = 0;
    for (size_t i = 0; i < q->n; i++)
        s += q->segs[i].samples;
    return s - (q->n ? q->head_samples : 0);
}

size_t ys_rwq_segments(const struct ys_rwq *q)
{
    return q->n;
}

void ys_rwq_close(struct ys_rwq *q)
{
    if (!q)
        return;
    if (q->wfd >= 0)
        close(q->wfd);
    if (q->lock_fd >= 0)
        close(q->lock_fd); /* releases the flock */
    free(q->segs);
    free(q->dir);
    free(q);
}
