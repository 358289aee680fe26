/*
 * remote_int.h - private to src/remote/: samples and their encoding
 * (encode.c), the on-disk queue (queue.c), and the HTTP request (send.c).
 * Exposed for the unit tests, which drive them without a thread.
 */
#ifndef YS_REMOTE_REMOTE_INT_H
#define YS_REMOTE_REMOTE_INT_H

#include "config/model.h"
#include "core/err.h"
#include "core/result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One sample. series is the sorted label set as "name\0value\0" pairs,
 * __name__ included, series_len bytes (owned). */
struct ys_rw_sample {
    char *series;
    size_t series_len;
    int64_t ts_ms;
    double value;
    size_t order; /* encode.c: position before sorting */
};

/* A growable array of samples. */
struct ys_rw_samples {
    struct ys_rw_sample *v;
    size_t n, cap;
};

/* Labels shared by a check's samples: check, kind and its own labels with
 * names sanitised to [a-zA-Z_][a-zA-Z0-9_]* (names that start with "__",
 * clash with check, kind, phase or state, or repeat an earlier one are
 * left out), as "name\0value\0" pairs (unsorted). Returns owned. */
char *ys_rw_base_labels(const struct ys_check *check, size_t *len);
/* Appends the samples of one result: up, duration, the phases that
 * happened, the certificate's notAfter and the value when present. base
 * is borrowed. Returns how many were appended. */
size_t ys_rw_result_samples(struct ys_rw_samples *s, const char *base, size_t base_len,
                            const struct ys_result *r);
/* How many samples ys_rw_result_samples would append for r. */
size_t ys_rw_result_count(const struct ys_result *r);
/* Appends yardstick_heartbeat_state{state=...} for every state, 1 for
 * state (an enum ys_hb_state). */
size_t ys_rw_heartbeat_samples(struct ys_rw_samples *s, const char *base, size_t base_len,
                               int state, int64_t ts_ms);
/* Which series a check has had samples in, as a bit set: up and duration
 * (a result), one bit per phase, the certificate's notAfter, the value,
 * and the heartbeat states (all six together). */
enum {
    YS_RW_S_UP = 1u << 0,
    YS_RW_S_DURATION = 1u << 1,
    YS_RW_S_PHASE0 = 1u << 2, /* << enum ys_phase */
    YS_RW_S_TLS = 1u << (2 + YS_PHASE_COUNT),
    YS_RW_S_VALUE = 1u << (3 + YS_PHASE_COUNT),
    YS_RW_S_HEARTBEAT = 1u << (4 + YS_PHASE_COUNT),
};
/* The series ys_rw_result_samples appends for r. */
uint32_t ys_rw_result_series(const struct ys_result *r);
/* Appends a Prometheus staleness marker (a NaN with the bits
 * YS_RW_STALE_NAN) at ts_ms for each series in mask, so the receiver ends
 * them at once rather than after its lookback. Returns how many. */
size_t ys_rw_stale_samples(struct ys_rw_samples *s, const char *base, size_t base_len,
                           uint32_t mask, int64_t ts_ms);
#define YS_RW_STALE_NAN UINT64_C(0x7ff0000000000002)
/* How many samples ys_rw_heartbeat_samples appends (one per state). */
size_t ys_rw_heartbeat_count(void);
/* Appends one sample named name with base and one more label (extra_name
 * NULL: none). Labels with an empty value are left out, as the protocol
 * wants. */
void ys_rw_samples_add(struct ys_rw_samples *s, const char *name, const char *base, size_t base_len,
                       const char *extra_name, const char *extra_value, int64_t ts_ms,
                       double value);
/* Moves the first n samples of from to the end of to. */
void ys_rw_samples_move(struct ys_rw_samples *to, struct ys_rw_samples *from, size_t n);
void ys_rw_samples_free(struct ys_rw_samples *s);

/* Sorts v by series then timestamp and encodes it as a prometheus
 * WriteRequest (one TimeSeries per series, samples in time order; of
 * samples with one series and timestamp only the last given is kept, as a
 * receiver rejects the whole request for such a pair with two values),
 * compressed with snappy's block format. Returns 0 and an owned body
 * (free), or YS_EINTERNAL. */
int ys_rw_encode(struct ys_rw_sample *v, size_t *n, char **body, size_t *len, struct ys_err *err);

/* A label set of a check, as ys_rw_base_labels makes it (owned). */
struct ys_rw_blob {
    char *p;
    size_t len;
};

/* What the remote-write writer has sent per label set, for staleness
 * markers (stale.c). All zeros is empty. */
struct ys_rw_seen_one;
struct ys_rw_seen {
    struct ys_rw_seen_one *v;
    size_t n, cap;
};

/* Notes that base (borrowed) gets samples at ts_ms in the series of
 * series (YS_RW_S_*). False when they are to be left out: base ended at
 * the last reload and ts_ms is not after its markers (a probe that was in
 * flight then; the receiver would refuse it as out of order). */
bool ys_rw_seen_note(struct ys_rw_seen *t, const char *base, size_t base_len, int64_t ts_ms,
                     uint32_t series);
/* A reload whose checks have the label sets keep (borrowed): every live
 * set not among them gets staleness markers, at ts_ms or just after its
 * last sample, appended to each of the n batches, and is remembered as
 * ended; sets that had already ended are forgotten. */
void ys_rw_seen_apply(struct ys_rw_seen *t, const struct ys_rw_blob *keep, size_t n_keep,
                      int64_t ts_ms, struct ys_rw_samples **batches, size_t n);
void ys_rw_seen_free(struct ys_rw_seen *t);

/* The on-disk queue of one endpoint: encoded batches in segment files
 * under a folder of its own; see queue.c. */
struct ys_rwq;

/* Opens (creating) dir, resuming what is there; max_bytes caps the unsent
 * bytes on disk. Holds a non-blocking flock on dir/lock until the close:
 * YS_EBUSY when another process (or another open queue) has it. */
int ys_rwq_open(const char *dir, int64_t max_bytes, struct ys_rwq **out, struct ys_err *err);
/* Appends one batch of n_samples samples and fsyncs it; if the queue then
 * holds more than max_bytes, drops whole segments, oldest first, and adds
 * the samples they held to *dropped. */
int ys_rwq_append(struct ys_rwq *q, const void *data, size_t len, uint32_t n_samples,
                  uint64_t *dropped, struct ys_err *err);
/* The oldest unsent batch: 0 and an owned copy (free), 1 when the queue is
 * empty, or YS_EIO (the bad record is skipped and its samples, if known,
 * added to *dropped). */
int ys_rwq_peek(struct ys_rwq *q, char **data, size_t *len, uint32_t *n_samples, uint64_t *dropped,
                struct ys_err *err);
/* Consumes the batch peek returned (its position is saved, so a restart
 * does not send it again). */
int ys_rwq_ack(struct ys_rwq *q, struct ys_err *err);
uint64_t ys_rwq_bytes(const struct ys_rwq *q);
uint64_t ys_rwq_samples(const struct ys_rwq *q);
size_t ys_rwq_segments(const struct ys_rwq *q);
void ys_rwq_close(struct ys_rwq *q);

/* What became of one request. */
enum ys_rw_outcome { YS_RW_SENT = 0, YS_RW_RETRY, YS_RW_DROP };

#endif
