/*
 * metrics.c - GET /metrics: the live snapshot and the cached SLO and goal
 * evaluation in the Prometheus text format 0.0.4, or OpenMetrics 1.0 when
 * the scraper's Accept header asks for application/openmetrics-text.
 *
 * The two formats differ here in three ways only: OpenMetrics names a
 * counter family without its _total suffix in # TYPE, has an info type
 * (family yardstick_check, sample yardstick_check_info), and ends with
 * # EOF. Every family has # HELP and # TYPE lines; label values are
 * escaped (backslash, double quote, newline); check labels become
 * Prometheus labels with invalid characters replaced by '_' and names
 * that would clash with ours (check, kind, or a __ prefix) skipped.
 * Figures without data are left out rather than written as NaN.
 *
 * The renderer is pure (ys_web_metrics_render) so it can be tested on a
 * hand-built snapshot. Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include "core/xalloc.h"
#include "remote/remote.h"
#include "query/rules_gen.h"

#include <microhttpd.h>

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char *p;
    size_t n, cap;
    bool om; /* OpenMetrics */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < o->cap - o->n) {
            o->n += (size_t)k;
            return;
        }
        o->cap = o->cap * 2 + (k > 0 ? (size_t)k : 0);
        o->p = ys_xrealloc(o->p, o->cap);
    }
}

char *ys_web_metrics_escape(const char *in, char *buf, size_t size)
{
    size_t n = 0;
    for (; *in; in++) {
        const char *rep = *in == '\\' ? "\\\\" : *in == '"' ? "\\\"" : *in == '\n' ? "\\n" : NULL;
        size_t k = rep ? 2 : 1;
        /* Stop before a UTF-8 continuation byte would be split off. */
        if (n + k >= size)
            break;
        if (rep) {
            memcpy(buf + n, rep, 2);
        } else {
            buf[n] = *in;
        }
        n += k;
    }
    while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80 && *in)
        n--;
    while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0xC0 && *in)
        n--;
    buf[n] = '\0';
    return buf;
}

/* # HELP and # TYPE for a family; for counters name is without _total. */
static void family(struct out *o, const char *name, const char *type, const char *help)
{
    bool counter = strcmp(type, "counter") == 0;
    const char *suffix = counter && !o->om ? "_total" : "";
    put(o, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, suffix, help, name, suffix, type);
}

static void value(struct out *o, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        put(o, "%.0f\n", v);
    else
        put(o, "%.10g\n", v);
}

/* A label name from a check label key: [a-zA-Z_][a-zA-Z0-9_]*. */
static bool label_name(const char *key, char *buf, size_t size)
{
    size_t n = 0;
    for (; *key && n + 1 < size; key++, n++) {
        char c = *key;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (n > 0 && c >= '0' && c <= '9');
        buf[n] = ok ? c : '_';
    }
    buf[n] = '\0';
    return n > 0 && strncmp(buf, "__", 2) != 0 && strcmp(buf, "check") != 0 &&
           strcmp(buf, "kind") != 0;
}

/* The events of latency SLOs (docs/rules.md), one series per distinct
 * threshold of the SLOs covering a check: the good ones (passing and at
 * most the threshold long) and all of them. Both count from the moment
 * the threshold came to cover the check, so a reload that adds a latency
 * SLO starts the pair together at 0 and their ratio stays honest, which
 * the check's yardstick_check_results_total (kept over reloads) is not. */
static void render_latency_events(struct out *o, const struct ys_live_snapshot *s)
{
    static const struct {
        const char *name, *help;
    } fams[] = {
        {"yardstick_check_results_fast",
         "Passing probes that took at most threshold seconds, per latency SLO threshold."},
        {"yardstick_check_results_latency",
         "Probes counted since the latency SLO threshold began to cover the check "
         "(the total of yardstick_check_results_fast_total)."},
    };
    const struct ys_config *cfg = s->cfg;
    char e1[512], th[32];
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        family(o, fams[f].name, "counter", fams[f].help);
        for (size_t i = 0; i < cfg->n_checks; i++)
            for (uint32_t k = 0; k < s->checks[i].fast_n; k++) {
                size_t at = s->checks[i].fast_at + k;
                put(o, "%s_total{check=\"%s\",threshold=\"%s\"} %llu\n", fams[f].name,
                    ys_web_metrics_escape(cfg->checks[i].name, e1, sizeof e1),
                    ys_rules_seconds(s->fast_le_ms[at], th, sizeof th),
                    (unsigned long long)(f == 0 ? s->fast[at] : s->slot_total[at]));
            }
    }
}

static void render_checks(struct out *o, const struct ys_live_snapshot *s)
{
    const struct ys_config *cfg = s->cfg;
    char e1[512], e2[512];
    family(o, "yardstick_check_up", "gauge",
           "Whether the check's last probe passed (1) or not (0).");
    for (size_t i = 0; i < cfg->n_checks; i++)
        if (s->checks[i].has_last)
            put(o, "yardstick_check_up{check=\"%s\",kind=\"%s\"} %d\n",
                ys_web_metrics_escape(cfg->checks[i].name, e1, sizeof e1),
                ys_web_metrics_escape(cfg->checks[i].type->name, e2, sizeof e2),
                s->checks[i].last.ok ? 1 : 0);
    family(o, "yardstick_check_duration_seconds", "gauge", "Duration of the check's last probe.");
    for (size_t i = 0; i < cfg->n_checks; i++)
        if (s->checks[i].has_last) {
            put(o, "yardstick_check_duration_seconds{check=\"%s\"} ",
                ys_web_metrics_escape(cfg->checks[i].name, e1, sizeof e1));
            value(o, (double)s->checks[i].last.duration_us / 1e6);
        }
    static const char *const phases[YS_PHASE_COUNT] = {"dns", "connect", "tls", "ttfb"};
    family(o, "yardstick_check_phase_seconds", "gauge", "Phase timings of the check's last probe.");
    for (size_t i = 0; i < cfg->n_checks; i++)
        for (int p = 0; s->checks[i].has_last && p < YS_PHASE_COUNT; p++)
            if (s->checks[i].last.phase_us[p] >= 0) {
                put(o, "yardstick_check_phase_seconds{check=\"%s\",phase=\"%s\"} ",
                    ys_web_metrics_escape(cfg->checks[i].name, e1, sizeof e1), phases[p]);
                value(o, (double)s->checks[i].last.phase_us[p] / 1e6);
            }
    family(o, "yardstick_check_results", "counter", "Probe results since the daemon started.");
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const char *name = ys_web_metrics_escape(cfg->checks[i].name, e1, sizeof e1);
        put(o, "yardstick_check_results_total{check=\"%s\",result=\"ok\"} %llu\n", name,
            (unsigned long long)s->checks[i].ok);
        put(o, "yardstick_check_results_total{check=\"%s\",result=\"fail\"} %llu\n", name,
            (unsigned long long)(s->checks[i].total - s->checks[i].ok));
    }
    render_latency_events(o, s);
    family(o, "yardstick_check_failures", "counter", "Failed probes by error class.");
    for (size_t i = 0; i < cfg->n_checks; i++)
        for (unsigned ec = 1; ec < YS_EC_COUNT; ec++)
            put(o, "yardstick_check_failures_total{check=\"%s\",error=\"%s\"} %llu\n",
                ys_web_metrics_escape(cfg->checks[i].name, e1, sizeof e1), ys_errclass_name(ec),
                (unsigned long long)s->checks[i].failures[ec]);
    family(o, "yardstick_tls_cert_not_after_timestamp_seconds", "gauge",
           "Expiry of the leaf certificate the check saw last, as a Unix time.");
    for (size_t i = 0; i < cfg->n_checks; i++)
        if (s->checks[i].has_tls)
            put(o, "yardstick_tls_cert_not_after_timestamp_seconds{check=\"%s\"} %lld\n",
                ys_web_metrics_escape(cfg->checks[i].name, e1, sizeof e1),
                (long long)s->checks[i].tls.leaf_not_after);
}

static void render_info(struct out *o, const struct ys_live_snapshot *s)
{
    char e1[512], e2[512], ln[160];
    if (o->om)
        put(o, "# HELP yardstick_check Each check, its kind and labels.\n"
               "# TYPE yardstick_check info\n");
    else
        family(o, "yardstick_check_info", "gauge", "Each check, its kind and labels.");
    for (size_t i = 0; i < s->cfg->n_checks; i++) {
        const struct ys_check *ck = &s->cfg->checks[i];
        put(o, "yardstick_check_info{check=\"%s\",kind=\"%s\"",
            ys_web_metrics_escape(ck->name, e1, sizeof e1),
            ys_web_metrics_escape(ck->type->name, e2, sizeof e2));
        for (size_t k = 0; k < ck->labels.n; k++) {
            bool dup = false;
            if (!label_name(ck->labels.keys[k], ln, sizeof ln))
                continue;
            for (size_t j = 0; j < k && !dup; j++) {
                char other[160];
                dup = label_name(ck->labels.keys[j], other, sizeof other) && !strcmp(ln, other);
            }
            if (!dup)
                put(o, ",%s=\"%s\"", ln,
                    ys_web_metrics_escape(ck->labels.values[k], e1, sizeof e1));
        }
        put(o, "} 1\n");
    }
}

static void render_slos(struct out *o, const struct ys_web_eval *e)
{
    const struct ys_config *cfg = e->snap->cfg;
    char e1[512];
    family(o, "yardstick_slo_sli", "gauge",
           "SLI of the SLO over its window (ratio of good events).");
    for (size_t i = 0; i < cfg->n_slos; i++)
        if (e->slo_rc[i] == 0 && !e->slos[i].budget.no_data && isfinite(e->slos[i].budget.sli)) {
            put(o, "yardstick_slo_sli{slo=\"%s\"} ",
                ys_web_metrics_escape(cfg->slos[i].name, e1, sizeof e1));
            value(o, e->slos[i].budget.sli);
        }
    family(o, "yardstick_slo_error_budget_remaining_ratio", "gauge",
           "Share of the error budget left (negative when overspent).");
    for (size_t i = 0; i < cfg->n_slos; i++)
        if (e->slo_rc[i] == 0 && isfinite(e->slos[i].budget.remaining)) {
            put(o, "yardstick_slo_error_budget_remaining_ratio{slo=\"%s\"} ",
                ys_web_metrics_escape(cfg->slos[i].name, e1, sizeof e1));
            value(o, e->slos[i].budget.remaining);
        }
    family(o, "yardstick_slo_burn_rate", "gauge", "Error-budget burn rate over a trailing window.");
    for (size_t i = 0; i < cfg->n_slos; i++)
        for (int w = 0; e->slo_rc[i] == 0 && w < YS_BURN_COUNT; w++)
            if (isfinite(e->slos[i].burn[w])) {
                put(o, "yardstick_slo_burn_rate{slo=\"%s\",window=\"%s\"} ",
                    ys_web_metrics_escape(cfg->slos[i].name, e1, sizeof e1),
                    ys_burn_window_name[w]);
                value(o, e->slos[i].burn[w]);
            }
    family(o, "yardstick_slo_alert_state", "gauge", "1 for the SLO's current alert state.");
    for (size_t i = 0; i < cfg->n_slos; i++) {
        enum ys_alert_state cur = e->slo_rc[i] == 0 ? e->slos[i].alert : YS_ALERT_NO_DATA;
        for (int a = YS_ALERT_NO_DATA; a <= YS_ALERT_PAGE; a++)
            put(o, "yardstick_slo_alert_state{slo=\"%s\",severity=\"%s\"} %d\n",
                ys_web_metrics_escape(cfg->slos[i].name, e1, sizeof e1),
                ys_alert_state_name((enum ys_alert_state)a), a == (int)cur);
    }
}

static void render_goals(struct out *o, const struct ys_web_eval *e)
{
    const struct ys_config *cfg = e->snap->cfg;
    char e1[512];
    family(o, "yardstick_goal_status", "gauge", "1 for the goal's current status.");
    for (size_t i = 0; i < cfg->n_goals; i++) {
        enum ys_goal_status cur = e->goal_rc[i] == 0 ? e->goals[i].status : YS_GOAL_NO_DATA;
        for (int st = YS_GOAL_NO_DATA; st <= YS_GOAL_MISSED; st++)
            put(o, "yardstick_goal_status{goal=\"%s\",status=\"%s\"} %d\n",
                ys_web_metrics_escape(cfg->goals[i].id, e1, sizeof e1),
                ys_goal_status_name((enum ys_goal_status)st), st == (int)cur);
    }
    family(o, "yardstick_goal_value", "gauge", "The goal's measured value, in its target's unit.");
    for (size_t i = 0; i < cfg->n_goals; i++)
        if (e->goal_rc[i] == 0 && e->goals[i].has_value && isfinite(e->goals[i].value)) {
            put(o, "yardstick_goal_value{goal=\"%s\"} ",
                ys_web_metrics_escape(cfg->goals[i].id, e1, sizeof e1));
            value(o, e->goals[i].value);
        }
}

static void render_process(struct out *o, const struct ys_live_snapshot *s)
{
    /* A summary (promtool rejects a quantile label on a gauge); the sketch
     * behind it keeps no sum, so only quantiles and the count are given. */
    family(o, "yardstick_scheduler_lateness_seconds", "summary",
           "How late probes started against their slot, since the daemon started.");
    put(o, "yardstick_scheduler_lateness_seconds{quantile=\"0.5\"} ");
    value(o, s->sched.lateness_p50_ms / 1000.0);
    put(o, "yardstick_scheduler_lateness_seconds{quantile=\"0.99\"} ");
    value(o, s->sched.lateness_p99_ms / 1000.0);
    put(o, "yardstick_scheduler_lateness_seconds{quantile=\"1\"} ");
    value(o, s->sched.lateness_max_ms / 1000.0);
    put(o, "yardstick_scheduler_lateness_seconds_count %llu\n",
        (unsigned long long)s->sched.started);
    family(o, "yardstick_scheduler_probes_skipped", "counter",
           "Firings skipped because the check's previous probe still ran.");
    put(o, "yardstick_scheduler_probes_skipped_total %llu\n", (unsigned long long)s->sched.skipped);
    family(o, "yardstick_store_results_written", "counter", "Results committed to the store.");
    put(o, "yardstick_store_results_written_total %llu\n", (unsigned long long)s->writer.written);
    family(o, "yardstick_store_results_dropped", "counter",
           "Results dropped because the writer's queue was full.");
    put(o, "yardstick_store_results_dropped_total %llu\n", (unsigned long long)s->writer.dropped);
    family(o, "yardstick_store_pings_written", "counter", "Heartbeat pings committed to the store.");
    put(o, "yardstick_store_pings_written_total %llu\n",
        (unsigned long long)s->writer.pings_written);
    family(o, "yardstick_store_pings_dropped", "counter",
           "Heartbeat pings dropped because the writer's ping queue was full.");
    put(o, "yardstick_store_pings_dropped_total %llu\n",
        (unsigned long long)s->writer.pings_dropped);
    family(o, "yardstick_live_snapshot_age_seconds", "gauge",
           "Age of the live state this scrape was rendered from.");
    put(o, "yardstick_live_snapshot_age_seconds ");
}

/* Alerts firing, and per notifier what the outbox delivered, retried,
 * gave up and still holds. */
static void render_alerting(struct out *o, const struct ys_web_alerting *a)
{
    char e1[256];
    family(o, "yardstick_instance_leader", "gauge",
           "1 while this daemon holds the notifier lease (evaluates alerts, delivers).");
    put(o, "yardstick_instance_leader %d\n", a->leader ? 1 : 0);
    family(o, "yardstick_lease_changes", "counter",
           "Times this daemon gained or lost the notifier lease.");
    put(o, "yardstick_lease_changes_total %llu\n", (unsigned long long)a->lease_changes);
    if (a->firing >= 0) {
        family(o, "yardstick_alerts_firing", "gauge", "Alerts firing now.");
        put(o, "yardstick_alerts_firing %ld\n", a->firing);
    }
    const struct ys_outbox_stats *st = a->outbox;
    if (!st)
        return;
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } fams[] = {
        {"yardstick_notifications_delivered", "counter", "Notifications delivered.",
         offsetof(struct ys_outbox_stats_one, delivered)},
        {"yardstick_notification_attempts_failed", "counter",
         "Delivery attempts that failed (each is retried with backoff).",
         offsetof(struct ys_outbox_stats_one, attempts_failed)},
        {"yardstick_notifications_given_up", "counter",
         "Notifications given up after the notifier's max_age.",
         offsetof(struct ys_outbox_stats_one, given_up)},
        {"yardstick_notifications_rate_limited", "counter",
         "Deliveries held back by the notifier's rate limit.",
         offsetof(struct ys_outbox_stats_one, rate_limited)},
        {"yardstick_notifications_pending", "gauge", "Notifications waiting in the outbox.",
         offsetof(struct ys_outbox_stats_one, pending)},
    };
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        bool counter = fams[f].type[0] == 'c';
        family(o, fams[f].name, fams[f].type, fams[f].help);
        for (size_t i = 0; i < st->n; i++) {
            uint64_t v;
            memcpy(&v, (const char *)&st->v[i] + fams[f].off, sizeof v);
            put(o, "%s%s{notifier=\"%s\"} %llu\n", fams[f].name, counter ? "_total" : "",
                ys_web_metrics_escape(st->v[i].name, e1, sizeof e1), (unsigned long long)v);
        }
    }
}

/* Per remote_write endpoint: samples sent, failed (retried), dropped, and
 * what waits. Read from the running remote-write thread (remote.h); none
 * when the config has no remote_write. */
static void render_remote(struct out *o)
{
    struct ys_remote_stats st;
    ys_remote_stats_current(&st);
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } fams[] = {
        {"yardstick_remote_write_samples_sent", "counter",
         "Samples the remote-write receiver accepted.",
         offsetof(struct ys_remote_stats_one, sent)},
        {"yardstick_remote_write_samples_failed", "counter",
         "Samples in remote-write requests that failed and are retried (5xx, 429, network).",
         offsetof(struct ys_remote_stats_one, failed)},
        {"yardstick_remote_write_samples_dropped", "counter",
         "Samples given up: refused with a 4xx, dropped from a full queue or a corrupt "
         "record, or the hand-over list was full.",
         offsetof(struct ys_remote_stats_one, dropped)},
        {"yardstick_remote_write_queue_bytes", "gauge",
         "Unsent bytes in the endpoint's on-disk queue.",
         offsetof(struct ys_remote_stats_one, queue_bytes)},
        {"yardstick_remote_write_pending_samples", "gauge",
         "Samples not yet accepted by the receiver.",
         offsetof(struct ys_remote_stats_one, pending)},
    };
    char e1[300];
    for (size_t f = 0; st.n > 0 && f < sizeof fams / sizeof fams[0]; f++) {
        bool counter = fams[f].type[0] == 'c';
        family(o, fams[f].name, fams[f].type, fams[f].help);
        for (size_t i = 0; i < st.n; i++) {
            uint64_t v;
            memcpy(&v, (const char *)&st.v[i] + fams[f].off, sizeof v);
            put(o, "%s%s{endpoint=\"%s\"} %llu\n", fams[f].name, counter ? "_total" : "",
                ys_web_metrics_escape(st.v[i].name, e1, sizeof e1), (unsigned long long)v);
        }
    }
    free(st.v);
}

char *ys_web_metrics_render(const struct ys_live_snapshot *snap, const struct ys_web_eval *eval,
                            const struct ys_web_alerting *alerting, bool openmetrics, int64_t now_ms, size_t *len)
{
    struct out o = {.cap = 4096, .om = openmetrics};
    o.p = ys_xmalloc(o.cap);
    o.p[0] = '\0';
    render_checks(&o, snap);
    render_info(&o, snap);
    if (eval && eval->snap->cfg == snap->cfg) {
        render_slos(&o, eval);
        render_goals(&o, eval);
    }
    if (alerting)
        render_alerting(&o, alerting);
    render_process(&o, snap);
    int64_t age = now_ms - snap->published_ms;
    value(&o, (double)(age > 0 ? age : 0) / 1000.0);
    render_remote(&o);
    if (openmetrics)
        put(&o, "# EOF\n");
    *len = o.n;
    return o.p;
}

static int count_one(const struct ys_alert_record *rec, void *arg)
{
    *(long *)arg += rec->firing;
    return 0;
}

/* Firing alerts, from the store (where the outbox thread records them);
 * -1 when the store cannot say. */
static long count_firing(struct ys_web_req *req)
{
    struct ys_err err;
    struct ys_store *s = ys_web_store(req->web, &err);
    long n = 0;
    if (!s || s->type->query_alerts(s, INT64_MAX, count_one, &n, &err) < 0)
        return -1;
    return n;
}

void ys_web_metrics(struct ys_web_req *req, struct ys_web_reply *rep)
{
    const char *accept = ys_web_header(req, MHD_HTTP_HEADER_ACCEPT);
    bool om = accept && strstr(accept, "application/openmetrics-text");
    struct ys_err err;
    struct ys_web_eval *eval =
        req->snap->cfg->n_slos || req->snap->cfg->n_goals ? ys_web_eval_get(req, &err) : NULL;
    struct ys_outbox_stats st = {0};
    struct ys_outbox *outbox = atomic_load(&req->web->outbox);
    struct ys_web_alerting alerting = {.outbox = outbox ? &st : NULL,
                                       .firing = count_firing(req),
                                       .leader = atomic_load(&req->web->leader),
                                       .lease_changes = atomic_load(&req->web->lease_changes)};
    if (outbox)
        ys_outbox_stats(outbox, &st);
    rep->body = ys_web_metrics_render(req->snap, eval, &alerting, om, req->now_ms, &rep->len);
    free(st.v);
    ys_web_eval_release(eval);
    rep->status = MHD_HTTP_OK;
    rep->content_type = om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                           : "text/plain; version=0.0.4; charset=utf-8";
}
