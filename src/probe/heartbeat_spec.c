/*
 * heartbeat_spec.c - the `heartbeat` kind: parsing its fields (see
 * heartbeat_spec.h) and its probe type, which is passive: start is NULL,
 * so the scheduler never runs it and `check` skips it. Its results come
 * from pings (src/web/ping.c -> src/live/heartbeats.c -> slo/heartbeat.c).
 *
 * Every problem is reported with its FILE:LINE:COL and parsing goes on,
 * so `validate` shows them all. Defaults are chosen here so the tracker
 * gets a complete schedule: grace 10% of the period (at least 1m: a job
 * started by cron on a busy host is often a minute late), or for a cron
 * schedule 5m, shortened to half the shortest gap between fire times so
 * that one ping can only be meant for one slot.
 *
 * Runs on whichever thread loads a config (cron gap scans read the wall
 * clock once; nothing else touches the outside world but the zone files).
 */
#include "probe/heartbeat_spec.h"

#include "config/diag.h"
#include "config/model.h"
#include "config/read.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/probe.h"

#include <stdlib.h>
#include <string.h>

#define MIN_MS INT64_C(60000)
#define DAY_MS INT64_C(86400000)
#define GAP_SCAN_FIRES 1000

const char *const ys_heartbeat_keys[] = {
    "period", "grace", "cron", "tz", "token", "max_duration", "min_duration", "max_body", NULL,
};

int64_t ys_heartbeat_cron_min_gap(const struct ys_cron *c, const struct ys_tz *tz, int64_t from_ms)
{
    int64_t gap = INT64_MAX;
    int64_t prev = ys_cron_next(c, tz, from_ms);
    for (int i = 0; i < GAP_SCAN_FIRES && prev >= 0 && prev - from_ms < 366 * DAY_MS; i++) {
        int64_t next = ys_cron_next(c, tz, prev);
        if (next < 0)
            break;
        if (next - prev < gap)
            gap = next - prev;
        prev = next;
    }
    return gap;
}

static void parse_cron(const struct ys_node *n, struct ys_heartbeat_spec *s, int *rc,
                       struct ys_diag *d)
{
    struct ys_err err = {{0}};
    if (ys_cfg_string(n, "cron", &s->cron_text, d) < 0) {
        *rc = YS_ECONFIG;
    } else if (ys_cron_parse(s->cron_text, &s->cron, &err) < 0) {
        ys_diag_add(d, n->line, n->col, "cron: %s", err.msg);
        *rc = YS_ECONFIG;
    } else if (ys_cron_next(&s->cron, &s->tz, ys_wall_ms()) < 0) {
        ys_diag_add(d, n->line, n->col, "cron '%s' never fires (none within 5 years)",
                    s->cron_text);
        *rc = YS_ECONFIG;
    }
}

static void parse_tz(const struct ys_node *n, struct ys_heartbeat_spec *s, int *rc,
                     struct ys_diag *d)
{
    char *name = NULL;
    struct ys_err err = {{0}};
    struct ys_tz tz;
    if (ys_cfg_string(n, "tz", &name, d) < 0) {
        *rc = YS_ECONFIG;
        return;
    }
    if (ys_tz_load(name, NULL, &tz, &err) < 0) {
        ys_diag_add(d, n->line, n->col, "tz: unknown time zone '%s' (%s)", name, err.msg);
        *rc = YS_ECONFIG;
    } else {
        ys_tz_free(&s->tz);
        s->tz = tz;
        s->tz_given = true;
    }
    free(name);
}

/* period or cron, exactly one, and tz only beside cron. */
static void parse_schedule(const struct ys_node *check, const struct ys_check *base,
                           struct ys_heartbeat_spec *s, int *rc, struct ys_diag *d)
{
    const struct ys_node *period = ys_node_get(check, "period");
    const struct ys_node *cron = ys_node_get(check, "cron");
    const struct ys_node *tz = ys_node_get(check, "tz");
    if (period && cron) {
        ys_diag_add(d, cron->line, cron->col,
                    "period and cron exclude each other: give a heartbeat one schedule");
        *rc = YS_ECONFIG;
    } else if (!period && !cron) {
        char *where =
            base && base->name ? ys_xasprintf("check '%s'", base->name) : ys_xstrdup("heartbeat");
        ys_diag_add(d, check->line, check->col,
                    "missing required field 'period' or 'cron' in %s (a heartbeat needs a "
                    "schedule: period: 1h, or cron: \"0 * * * *\")",
                    where);
        free(where);
        *rc = YS_ECONFIG;
    }
    if (tz && !cron) {
        ys_diag_add(d, tz->line, tz->col, "tz applies to a cron schedule only");
        *rc = YS_ECONFIG;
    } else if (tz) {
        parse_tz(tz, s, rc, d);
    }
    if (period) {
        if (ys_cfg_duration(period, "period", &s->period_ms, d) < 0)
            *rc = YS_ECONFIG;
        else if (s->period_ms < 1000) {
            ys_diag_add(d, period->line, period->col, "period must be at least 1s");
            *rc = YS_ECONFIG;
        }
    }
    if (cron && !(period && cron))
        parse_cron(cron, s, rc, d);
}

static void read_duration(const struct ys_node *n, const char *what, int64_t *out, int *rc,
                          struct ys_diag *d)
{
    if (n && ys_cfg_duration(n, what, out, d) < 0)
        *rc = YS_ECONFIG;
}

/* grace: its default, or the written one checked against a cron's gaps. */
static void parse_grace(const struct ys_node *n, struct ys_heartbeat_spec *s, int *rc,
                        struct ys_diag *d)
{
    int64_t gap = INT64_MAX;
    if (s->cron_text && *rc == 0)
        gap = ys_heartbeat_cron_min_gap(&s->cron, &s->tz, ys_wall_ms());
    if (!n) {
        if (s->period_ms > 0)
            s->grace_ms = s->period_ms / 10 > MIN_MS ? s->period_ms / 10 : MIN_MS;
        else
            s->grace_ms = gap / 2 < 5 * MIN_MS ? gap / 2 : 5 * MIN_MS;
        return;
    }
    if (ys_cfg_duration(n, "grace", &s->grace_ms, d) < 0) {
        *rc = YS_ECONFIG;
    } else if (gap != INT64_MAX && s->grace_ms >= gap) {
        char g[32], a[32];
        ys_diag_add(d, n->line, n->col,
                    "grace %s must be shorter than the shortest gap between two runs of the "
                    "cron schedule (%s), so each ping belongs to one run",
                    ys_duration_format(s->grace_ms, g, sizeof g),
                    ys_duration_format(gap, a, sizeof a));
        *rc = YS_ECONFIG;
    }
}

static void parse_token(const struct ys_node *n, struct ys_heartbeat_spec *s, int *rc,
                        struct ys_diag *d)
{
    if (!n)
        return;
    if (ys_cfg_string(n, "token", &s->token, d) < 0) {
        *rc = YS_ECONFIG;
    } else if (s->token[0] == '\0') {
        ys_diag_add(d, n->line, n->col, "token must not be empty (is its variable set?)");
        *rc = YS_ECONFIG;
    }
}

static void parse_max_body(const struct ys_node *n, struct ys_heartbeat_spec *s, int *rc,
                           struct ys_diag *d)
{
    int64_t v = s->max_body;
    if (!n)
        return;
    if (ys_cfg_size(n, "max_body", &v, d) < 0) {
        *rc = YS_ECONFIG;
    } else if (v < 0 || v > YS_HB_MAX_BODY_LIMIT) {
        ys_diag_add(d, n->line, n->col, "max_body must be between 0 and 1MiB");
        *rc = YS_ECONFIG;
    } else {
        s->max_body = v;
    }
}

int ys_heartbeat_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                            struct ys_diag *d)
{
    *spec = NULL;
    struct ys_heartbeat_spec *s = ys_xcalloc(1, sizeof *s);
    ys_tz_utc(&s->tz);
    s->max_body = YS_HB_MAX_BODY_DEFAULT;
    int rc = 0;
    parse_schedule(check, base, s, &rc, d);
    parse_grace(ys_node_get(check, "grace"), s, &rc, d);
    read_duration(ys_node_get(check, "min_duration"), "min_duration", &s->min_duration_ms, &rc, d);
    read_duration(ys_node_get(check, "max_duration"), "max_duration", &s->max_duration_ms, &rc, d);
    if (s->min_duration_ms && s->max_duration_ms && s->min_duration_ms >= s->max_duration_ms) {
        const struct ys_node *n = ys_node_get(check, "min_duration");
        ys_diag_add(d, n->line, n->col, "min_duration must be shorter than max_duration");
        rc = YS_ECONFIG;
    }
    parse_token(ys_node_get(check, "token"), s, &rc, d);
    parse_max_body(ys_node_get(check, "max_body"), s, &rc, d);
    if (rc < 0) {
        ys_heartbeat_spec_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

void ys_heartbeat_spec_free(void *spec)
{
    struct ys_heartbeat_spec *s = spec;
    if (!s)
        return;
    ys_tz_free(&s->tz);
    free(s->cron_text);
    free(s->token);
    free(s);
}

void ys_heartbeat_spec_schedule(const struct ys_heartbeat_spec *spec,
                                const struct ys_tz *default_tz, struct ys_hb_schedule *out)
{
    memset(out, 0, sizeof *out);
    out->period_ms = spec->period_ms;
    if (spec->cron_text) {
        out->cron = &spec->cron;
        out->tz = spec->tz_given || !default_tz ? &spec->tz : default_tz;
    }
    out->grace_ms = spec->grace_ms;
    out->min_duration_ms = spec->min_duration_ms;
    out->max_duration_ms = spec->max_duration_ms;
}

/* Passive: no start, no cancel. The scheduler and `check` look at start. */
const struct ys_probe_type ys_probe_heartbeat = {
    .name = "heartbeat",
    .keys = ys_heartbeat_keys,
    .parse = ys_heartbeat_spec_parse,
    .free_spec = ys_heartbeat_spec_free,
    .start = NULL,
    .cancel = NULL,
};
