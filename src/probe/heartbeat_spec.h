/*
 * heartbeat_spec.h - the parsed fields of a `kind: heartbeat` check: a
 * passive check, measured by the pings a job sends to the daemon
 * (POST /ping/<name>, see docs/heartbeats.md), never probed.
 *
 *   - name: etcd-backup
 *     kind: heartbeat
 *     period: 1h                # a success expected every hour, or:
 *     cron: "0 * * * *"         # a success expected at each fire time
 *     tz: Europe/Berlin         # the cron's zone (default defaults.timezone)
 *     grace: 10m                # how late a ping may be
 *     token: ${BACKUP_TOKEN}    # required on pings (default server.ping_token)
 *     min_duration: 1m          # start..end shorter than this fails the run
 *     max_duration: 30m         # longer fails it (and alerts while it runs)
 *     max_body: 10KiB           # the log tail kept per ping (at most 1MiB)
 *
 * Exactly one of period and cron. grace defaults to 10% of the period (at
 * least 1m) or, for cron, to 5m but at most half the shortest gap between
 * two fire times; a cron grace must be shorter than that gap, so each ping
 * belongs to one slot.
 */
#ifndef YS_PROBE_HEARTBEAT_SPEC_H
#define YS_PROBE_HEARTBEAT_SPEC_H

#include "core/cron.h"
#include "core/tz.h"
#include "slo/heartbeat.h"

#include <stdbool.h>
#include <stdint.h>

struct ys_node;
struct ys_diag;
struct ys_check;

#define YS_HB_MAX_BODY_DEFAULT (10 * 1024)
#define YS_HB_MAX_BODY_LIMIT (1024 * 1024)

struct ys_heartbeat_spec {
    int64_t period_ms; /* > 0 in period mode, 0 in cron mode */
    char *cron_text;   /* as written; NULL in period mode */
    struct ys_cron cron;
    /* The cron's zone. The model hands a kind's parser only the check's
     * own node, not defaults.timezone, so when tz is not written the
     * daemon supplies the config's default_tz (ys_heartbeat_spec_schedule). */
    bool tz_given;
    struct ys_tz tz; /* loaded when tz_given; UTC otherwise */
    int64_t grace_ms;
    int64_t min_duration_ms; /* 0: none */
    int64_t max_duration_ms; /* 0: none */
    char *token;             /* NULL: server.ping_token applies, if set */
    int64_t max_body;        /* bytes kept of a ping's body, 0..YS_HB_MAX_BODY_LIMIT */
};

/* The keys of a heartbeat check besides the common ones, NULL-terminated. */
extern const char *const ys_heartbeat_keys[];

/* ys_probe_type.parse for heartbeat: reads check's fields into an owned
 * struct ys_heartbeat_spec (*spec; free with ys_heartbeat_spec_free).
 * Reports every problem with its position; returns 0 or YS_ECONFIG. */
int ys_heartbeat_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                            struct ys_diag *d);
/* Frees a spec. NULL is a no-op. */
void ys_heartbeat_spec_free(void *spec);
/* The tracker schedule of spec: its cron and tz (the spec's own zone, or
 * default_tz when none was written; both borrowed for the schedule's
 * life). */
void ys_heartbeat_spec_schedule(const struct ys_heartbeat_spec *spec,
                                const struct ys_tz *default_tz, struct ys_hb_schedule *out);
/* The shortest gap between two fire times of c in tz over the year after
 * from_ms (at most 1000 fires looked at), in ms; INT64_MAX when it fires
 * less than twice. Pure. */
int64_t ys_heartbeat_cron_min_gap(const struct ys_cron *c, const struct ys_tz *tz, int64_t from_ms);

#endif
