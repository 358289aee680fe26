/*
 * scheduler.h - fires every check at its interval, on the loop thread.
 *
 * Each check has a stable phase: it runs at wall-clock times t with
 * t mod interval == hash(name) mod interval, so 10,000 checks spread evenly
 * over their interval and a restart keeps the rhythm. A check whose
 * previous probe is still running is not started again; the skip is
 * counted. ys_scheduler_apply swaps in a new config: unchanged checks
 * (same fingerprint) keep their timer and state, changed ones are
 * rescheduled, removed ones are stopped (their probe in flight cancelled).
 *
 * Loop thread only.
 */
#ifndef YS_SCHED_SCHEDULER_H
#define YS_SCHED_SCHEDULER_H

#include "config/model.h"
#include "core/result.h"
#include "probe/probe.h"

#include <stdbool.h>
#include <stdint.h>

struct ys_scheduler;

/* Probes in flight at once, at most. A monitor that starts every due probe
 * under overload makes all of them time out (measured: 20,000 checks at 1s
 * on 2 cores, 0.7% ok, 325 MiB); with a cap the excess slots are skipped
 * and counted as throttled, and the probes that run measure truthfully. */
#define YS_SCHED_MAX_IN_FLIGHT 2000

/* Called on the loop thread with every finished probe's result (borrowed). */
typedef void (*ys_sched_result_cb)(const struct ys_check *check, const struct ys_result *r,
                                   void *arg);

struct ys_sched_stats {
    uint64_t started;   /* probes started */
    uint64_t completed; /* probes that reported a result */
    uint64_t skipped;   /* firings skipped because the last probe still ran */
    uint64_t throttled; /* firings skipped because YS_SCHED_MAX_IN_FLIGHT probes ran */
    uint64_t failed_to_start;
    double lateness_p50_ms; /* how late firings were against their slot */
    double lateness_p99_ms;
    double lateness_max_ms;
};

/* Returns an owned scheduler that starts probes in env and reports to cb. */
struct ys_scheduler *ys_scheduler_new(struct ys_probe_env *env, ys_sched_result_cb cb, void *arg);
/* Makes cfg the running config (takes a reference). Every check's
 * store_id must be set. */
void ys_scheduler_apply(struct ys_scheduler *s, struct ys_config *cfg);
/* Probing (the default) or standing by: a daemon whose partition lease
 * (ha/lease.h) another daemon holds probes nothing, so one series never
 * has two writers (docs/ha.md). Standing by stops every entry (probes in
 * flight are cancelled); probing again schedules the config's checks as
 * ys_scheduler_apply does. */
void ys_scheduler_set_probing(struct ys_scheduler *s, bool probing);
/* Stops every timer and cancels probes in flight. The scheduler frees
 * itself once its handles are closed; run the loop until then. */
void ys_scheduler_stop(struct ys_scheduler *s);
void ys_scheduler_stats(const struct ys_scheduler *s, struct ys_sched_stats *out);
/* Changes the cap on probes in flight (default YS_SCHED_MAX_IN_FLIGHT). */
void ys_scheduler_set_max_in_flight(struct ys_scheduler *s, size_t max);

/* The first slot strictly after now_ms for a check with this name and
 * interval (exposed for tests). */
int64_t ys_sched_next_slot(const char *name, int64_t interval_ms, int64_t now_ms);

#endif
