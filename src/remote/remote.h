/*
 * remote.h - Prometheus remote-write from the daemon: every result becomes
 * samples (the /metrics names: yardstick_check_up, _duration_seconds,
 * _phase_seconds, yardstick_tls_cert_not_after_timestamp_seconds,
 * yardstick_check_value; yardstick_heartbeat_state for heartbeat checks)
 * sent to each remote_write: endpoint by a sender thread of its own,
 * through a bounded on-disk queue per endpoint (filled by one writer
 * thread that never waits for a receiver), so a receiver outage loses nothing
 * up to queue_max and a restart resumes sending. See docs/remote_write.md.
 */
#ifndef YS_REMOTE_REMOTE_H
#define YS_REMOTE_REMOTE_H

#include "config/model.h"
#include "core/err.h"
#include "core/result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_remote;

/* Counters of one endpoint, in samples (queue_bytes in bytes). */
struct ys_remote_stats_one {
    char name[129];
    uint64_t sent;        /* accepted by the receiver (2xx) */
    uint64_t failed;      /* in requests that failed and will be retried (5xx, 429, network) */
    uint64_t dropped;     /* given up: a 4xx answer, the queue over queue_max, a corrupt
                           * record, or the in-memory hand-over full */
    uint64_t queue_bytes; /* unsent bytes in the on-disk queue */
    uint64_t pending;     /* samples not yet accepted: on disk, in the batch being built,
                           * or handed over */
};

struct ys_remote_stats {
    size_t n;
    struct ys_remote_stats_one *v; /* owned by the caller; free() it */
};

/* Opens each endpoint's queue in its queue_dir, or dir/<name>/ without one
 * (created as needed, locked against other processes: YS_EBUSY when one
 * holds it; what a previous run left is resumed) and starts the threads. cfg is referenced
 * and its endpoints used until the stop, so a reload does not change them
 * (they take effect at the next start). With no endpoints, *out is NULL and 0 is
 * returned. The running instance is what ys_remote_stats_current reads. */
int ys_remote_start(struct ys_config *cfg, const char *dir, struct ys_remote **out,
                    struct ys_err *err);
/* The folder the daemon keeps queues in: "<folder of storage.path>/remote_write"
 * for SQLite, "var/remote_write" for PostgreSQL (storage.path is its
 * connection string). Returns owned (free). */
char *ys_remote_default_dir(const struct ys_config *cfg);
/* Hands one result of check (borrowed; labels read now) to the thread.
 * Never blocks on I/O; a full hand-over queue drops and counts. NULL rw
 * is a no-op. Any thread (the daemon's loop). */
void ys_remote_push(struct ys_remote *rw, const struct ys_check *check, const struct ys_result *r);
/* The same for a heartbeat check's new state ("up", "late", ... from
 * ys_hb_state_name) at ts_ms: one yardstick_heartbeat_state sample per
 * state, 1 for the current one. */
void ys_remote_push_heartbeat(struct ys_remote *rw, const struct ys_check *check, int state,
                              int64_t ts_ms);
/* A reload to cfg (borrowed; read now): every label set the thread has
 * sent samples for and cfg's checks no longer have (a check removed,
 * renamed or relabelled) gets a staleness marker in each of its series,
 * so the receiver ends them at once. NULL rw is a no-op. The daemon's
 * loop, after the reload is applied. */
void ys_remote_apply(struct ys_remote *rw, const struct ys_config *cfg);
/* Whether a and b differ in their remote_write sections (names, URLs,
 * credentials, TLS, limits): the running thread keeps the first until the
 * next start, so a reload warns. */
bool ys_remote_config_changed(const struct ys_config *a, const struct ys_config *b);
/* Blocks until everything pushed so far is in the on-disk queues (tests). */
void ys_remote_flush(struct ys_remote *rw);
void ys_remote_stats(struct ys_remote *rw, struct ys_remote_stats *out);
/* The stats of the instance started last and still running; n = 0 when
 * none. /metrics reads this (one daemon per process). */
void ys_remote_stats_current(struct ys_remote_stats *out);
/* Writes the batch being built to disk, stops the threads (a request in
 * flight is let finish, at most the endpoint's timeout, so that an
 * accepted batch is recorded), closes the queues and frees rw. NULL is a
 * no-op. */
void ys_remote_stop(struct ys_remote *rw);

#endif
