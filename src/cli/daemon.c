/*
 * daemon.c - `yardstick run`: the long-running process.
 *
 * Threads: the loop thread (this one) owns the scheduler, every probe and
 * the signal handlers; the store writer thread owns the writing store
 * connection; a libuv threadpool thread parses the config on SIGHUP (it
 * reads the file and registers new checks in the store, both of which may
 * block) and hands the new model back to the loop, which swaps it in.
 *
 * The HTTP server (src/web) runs on libmicrohttpd's threads and reads the
 * live state the loop publishes every 250 ms (live/state.h). Heartbeat
 * pings it receives go to live/heartbeats.c through a queue and an async
 * handle; their results take the same path as probe results (on_result).
 *
 * Shutdown (SIGTERM/SIGINT): stop the scheduler (probes in flight are
 * cancelled; they have no result yet), close every loop handle, stop the
 * HTTP server, then stop the writer, which commits everything queued
 * before it returns.
 */
#include "cli/daemon.h"

#include "config/diag.h"
#include "config/instance.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "alert/alert.h"
#include "ha/combine.h"
#include "ha/follow.h"
#include "ha/hb_feed.h"
#include "live/heartbeats.h"
#include "live/incidents.h"
#include "live/state.h"
#include "ha/lease.h"
#include "outbox/outbox.h"
#include "probe/curl_multi.h"
#include "remote/remote.h"
#include "sched/scheduler.h"
#include "store/writer.h"
#include "web/web.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The store named for a log line, without a PostgreSQL password, in buf
 * (300 bytes; STORE_NAME's lives as long as the statement's block). */
static const char *store_name(const struct ys_config *cfg, char *buf)
{
    ys_store_describe(cfg->storage.kind, cfg->storage.path, buf, 300);
    return buf;
}
#define STORE_NAME(cfg) store_name((cfg), (char[300]){0})

struct daemon {
    uv_loop_t loop;
    struct ys_probe_env env;
    struct ys_scheduler *sched;
    struct ys_writer *writer;
    struct ys_live_incidents *incidents;
    struct ys_heartbeats *heartbeats; /* heartbeat checks, fed by pings */
    struct ys_live_state *live; /* published for the HTTP server */
    struct ys_outbox *outbox;   /* delivers notifications (its own thread) */
    struct ys_remote *remote;   /* Prometheus remote-write (its own thread); NULL: none */
    struct ys_alerts *alerts;   /* alert rules, on the loop */
    struct ys_lease *lease;     /* the notifier lease (ha/lease.h); alerts and outbox follow it */
    struct ys_lease *partition; /* the partition lease: only its holder probes; NULL: SQLite */
    bool leader;                /* holds the lease: evaluates alerts, runs the outbox */
    bool standby;               /* another daemon holds the partition lease */
    struct ys_alerts **retired; /* evaluators replaced on a lease change, freed at the end */
    size_t n_retired;
    struct ys_web *web;         /* NULL when server.enabled is false */
    struct ys_combiner *combiner; /* k-of-n verdicts of multi-location checks (ha/combine.h) */
    struct ys_follower *follower; /* other shards' results, for the leader's alerts (ha/follow.h) */
    struct ys_hb_feed *hb_feed;   /* pings other daemons stored, for the leader (ha/hb_feed.h) */
    struct ys_config *cfg;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t publish_timer;
    bool reloading;
    bool stopping;
};

struct reload_job {
    uv_work_t work;
    struct daemon *d;
    char *path;
    struct ys_config *cfg;
    struct ys_diag diag;
    struct ys_err err;
    int rc;
};

void ys_daemon_store_options(const struct ys_config *cfg, struct ys_store_options *opt,
                             bool read_only)
{
    memset(opt, 0, sizeof *opt);
    opt->path = cfg->storage.path;
    opt->read_only = read_only;
    opt->retention = cfg->storage.retention;
}

int ys_daemon_register_checks(struct ys_config *cfg, struct ys_err *err)
{
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    ys_daemon_store_options(cfg, &opt, false);
    int rc = ys_store_open(cfg->storage.kind, &opt, &store, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < cfg->n_checks && rc == 0; i++)
        rc = store->type->check_id(store, cfg->checks[i].name, &cfg->checks[i].store_id, err);
    if (rc == 0)
        rc = ys_combine_register(store, cfg, err); /* the "<check>@<location>" series */
    ys_store_close(store);
    return rc;
}

/* Whether check (of any config, current or swapped out) is in a
 * maintenance window excluded from SLOs now. */
static bool excluded_now(const struct daemon *d, const struct ys_check *check, int64_t now_ms)
{
    const struct ys_config *c = d->cfg;
    if (c->n_maintenance == 0 || check < c->checks || check >= c->checks + c->n_checks)
        return false;
    return ys_alerts_in_maintenance(d->alerts, (size_t)(check - c->checks), true, now_ms);
}

/* A result of the check's own series: a probe's, a heartbeat's, or the
 * combined verdict of a multi-location check. */
static void deliver_result(const struct ys_check *check, const struct ys_result *res, void *arg)
{
    struct daemon *d = arg;
    int64_t now = ys_wall_ms();
    struct ys_result copy;
    const struct ys_result *r = res;
    if (excluded_now(d, check, now)) {
        copy = *res;
        copy.flags |= YS_RF_EXCLUDED;
        r = &copy;
    }
    if (!r->ok)
        ys_info("probe", "check %s failed: %s: %s", check->name, ys_errclass_name(r->errclass),
                r->message);
    ys_writer_push(d->writer, r);
    ys_remote_push(d->remote, check, r);
    ys_live_incidents_feed(d->incidents, check, r);
    if (d->leader)
        ys_alerts_feed_result(d->alerts, check, r,
                              ys_live_incidents_is_open(d->incidents, check->store_id), now);
    ys_live_state_feed(d->live, check, r,
                       ys_live_incidents_is_open(d->incidents, check->store_id));
}

/* Probe and heartbeat results. A multi-location check's probe result is
 * one location's view: it goes to this daemon's "<check>@<location>"
 * series only, and the lease holder's combiner turns the locations'
 * results into the check's verdict (on_combined). */
static void on_result(const struct ys_check *check, const struct ys_result *res, void *arg)
{
    struct daemon *d = arg;
    if (check->locations.n == 0) {
        deliver_result(check, res, d);
        return;
    }
    struct ys_result r = *res;
    r.check_id = ys_combine_own_id(d->cfg, check);
    if (!ys_combine_probes_here(d->cfg, check) || r.check_id == 0)
        return;
    if (excluded_now(d, check, ys_wall_ms()))
        r.flags |= YS_RF_EXCLUDED;
    if (!r.ok)
        ys_info("probe", "check %s@%s failed: %s: %s", check->name, ys_combine_my_location(d->cfg),
                ys_errclass_name(r.errclass), r.message);
    ys_writer_push(d->writer, &r);
}

/* A combined result from the combiner (only while this daemon holds the
 * lease): the check's own series, counted like any probe result. */
static void on_combined(const char *name, const struct ys_result *r, void *arg)
{
    struct daemon *d = arg;
    const struct ys_check *check = ys_config_find(d->cfg, name);
    if (check && check->locations.n && check->store_id == r->check_id)
        deliver_result(check, r, d);
}

/* A result another shard's daemon probed and stored, read back by the
 * follower feed (only while this daemon holds the lease): alerts and live
 * state, with the feed's incident state; not the writer (it is stored),
 * nor this daemon's incident table (the prober writes the incidents). */
static void on_followed(const char *name, const struct ys_result *r, bool incident_open, void *arg)
{
    struct daemon *d = arg;
    const struct ys_check *check = ys_config_find(d->cfg, name);
    if (!check || check->store_id != r->check_id || !ys_follow_wants(d->cfg, check))
        return;
    if (d->leader)
        ys_alerts_feed_result(d->alerts, check, r, incident_open, ys_wall_ms());
    ys_live_state_feed(d->live, check, r, incident_open);
}

/* Live state for the HTTP server: a snapshot at most every 250 ms. */
static void publish_live(struct daemon *d)
{
    struct ys_sched_stats ss;
    struct ys_writer_stats ws;
    ys_scheduler_stats(d->sched, &ss);
    ys_writer_stats(d->writer, &ws);
    ys_heartbeats_fill_live(d->heartbeats, d->live, ys_wall_ms());
    ys_live_state_publish(d->live, &ss, &ws, ys_wall_ms());
}

static void on_publish_timer(uv_timer_t *t)
{
    publish_live(t->data);
}

static void reload_work(uv_work_t *w)
{
    struct reload_job *job = w->data;
    ys_diag_init(&job->diag, job->path);
    job->rc = ys_config_load(job->path, &job->cfg, &job->diag);
    if (job->rc == 0)
        job->rc = ys_daemon_register_checks(job->cfg, &job->err);
}

/* Whether the server section differs in a way the running server does not
 * pick up (it reads its settings once, at start). */
static bool server_changed(const struct ys_server_config *a, const struct ys_server_config *b)
{
    if (a->enabled != b->enabled || a->port != b->port || strcmp(a->host, b->host) != 0 ||
        a->max_connections != b->max_connections || a->timeout_ms != b->timeout_ms ||
        a->max_connections_per_ip != b->max_connections_per_ip ||
        a->tokens.n != b->tokens.n || a->n_users != b->n_users)
        return true;
    for (size_t i = 0; i < a->tokens.n; i++)
        if (strcmp(a->tokens.v[i], b->tokens.v[i]) != 0)
            return true;
    for (size_t i = 0; i < a->n_users; i++)
        if (strcmp(a->users[i].user, b->users[i].user) != 0 ||
            memcmp(a->users[i].password_sha256, b->users[i].password_sha256, sizeof a->users[i].password_sha256) != 0)
            return true;
    return false;
}

static void reload_done(uv_work_t *w, int status)
{
    struct reload_job *job = w->data;
    struct daemon *d = job->d;
    d->reloading = false;
    if (d->stopping) {
        ys_info("config", "reload finished during shutdown; not applied");
    } else if (status == 0 && job->rc == 0) {
        if (strcmp(job->cfg->storage.path, d->cfg->storage.path) != 0)
            ys_warn("config", "storage changes take effect at the next restart");
        if (ys_remote_config_changed(job->cfg, d->cfg))
            ys_warn("config", "remote_write changes take effect at the next restart");
        if (server_changed(&job->cfg->server, &d->cfg->server))
            ys_warn("config", "server changes (listen, auth, limits) take effect at the next "
                              "restart; the server keeps its settings until then");
        char part[300]; /* before the scheduler: a new partition stands by first */
        ys_lease_partition_name(job->cfg, part, sizeof part);
        ys_lease_rename(d->partition, part);
        ys_scheduler_apply(d->sched, job->cfg);
        ys_live_incidents_apply(d->incidents, job->cfg, ys_wall_ms());
        ys_heartbeats_apply(d->heartbeats, job->cfg, ys_wall_ms());
        ys_live_state_apply(d->live, job->cfg);
        ys_alerts_apply(d->alerts, job->cfg, ys_wall_ms());
        ys_outbox_apply(d->outbox, job->cfg);
        ys_combiner_apply(d->combiner, job->cfg);
        ys_follower_apply(d->follower, job->cfg);
        ys_hb_feed_apply(d->hb_feed, job->cfg);
        ys_remote_apply(d->remote, job->cfg); /* staleness markers for checks gone */
        ys_config_unref(d->cfg);
        d->cfg = job->cfg;
        job->cfg = NULL;
        ys_info("config", "reloaded %s", job->path);
    } else {
        for (size_t i = 0; i < job->diag.n; i++)
            ys_error("config", "%s:%d:%d: %s", job->path, job->diag.v[i].line,
                     job->diag.v[i].col, job->diag.v[i].msg);
        if (job->rc == YS_ESTORE || (job->rc < 0 && job->diag.n == 0))
            ys_error("config", "reload failed: %s", job->err.msg);
        ys_error("config", "reload rejected; the running configuration stays");
    }
    if (job->cfg)
        ys_config_unref(job->cfg);
    ys_diag_free(&job->diag);
    free(job->path);
    free(job);
}

static void start_reload(struct daemon *d)
{
    if (d->reloading) {
        ys_warn("config", "a reload is already running; SIGHUP ignored");
        return;
    }
    struct reload_job *job = ys_xcalloc(1, sizeof *job);
    job->d = d;
    job->path = ys_xstrdup(d->cfg->path);
    job->work.data = job;
    d->reloading = true;
    ys_info("config", "SIGHUP: reloading %s", job->path);
    uv_queue_work(&d->loop, &job->work, reload_work, reload_done);
}

static void log_stats(struct daemon *d)
{
    struct ys_sched_stats st;
    ys_scheduler_stats(d->sched, &st);
    ys_info("sched", "probes=%llu skipped=%llu throttled=%llu lateness_p50_ms=%.1f "
            "lateness_p99_ms=%.1f lateness_max_ms=%.1f", (unsigned long long)st.completed,
            (unsigned long long)st.skipped, (unsigned long long)st.throttled,
            st.lateness_p50_ms, st.lateness_p99_ms,
            st.lateness_max_ms);
}

static void begin_shutdown(struct daemon *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = true;
    ys_info("daemon", "%s: stopping", why);
    log_stats(d);
    ys_scheduler_stop(d->sched);
    ys_heartbeats_close(d->heartbeats);
    ys_alerts_stop(d->alerts);
    /* The outbox stops before the lease is released, so the next holder
     * never delivers beside it; rows left pending are the next holder's. */
    ys_web_set_outbox(d->web, NULL);
    ys_outbox_stop(d->outbox);
    d->outbox = NULL;
    ys_combiner_close(d->combiner); /* before the lease goes: one combiner at a time */
    d->combiner = NULL;
    ys_follower_close(d->follower);
    d->follower = NULL;
    ys_hb_feed_close(d->hb_feed);
    d->hb_feed = NULL;
    ys_lease_stop(d->lease);
    /* The results probed so far are committed before the partition goes,
     * so its next prober never writes beside this daemon's writer. */
    ys_writer_flush(d->writer);
    ys_lease_stop(d->partition);
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->sig_hup, NULL);
    uv_close((uv_handle_t *)&d->publish_timer, NULL);
    ys_curl_multi_free(d->env.curl);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum == SIGHUP)
        start_reload(d);
    else
        begin_shutdown(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void watch_signal(struct daemon *d, uv_signal_t *h, int signum)
{
    uv_signal_init(&d->loop, h);
    h->data = d;
    uv_signal_start(h, on_signal, signum);
}

static int start_writer(struct daemon *d)
{
    struct ys_err err = {{0}};
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    int rc = ys_daemon_register_checks(d->cfg, &err);
    ys_daemon_store_options(d->cfg, &opt, false);
    if (rc == 0)
        rc = ys_store_open(d->cfg->storage.kind, &opt, &store, &err);
    if (rc == 0)
        rc = ys_writer_start(store, NULL, &d->writer, &err);
    if (rc < 0)
        ys_error("store", "%s: %s", STORE_NAME(d->cfg), err.msg);
    return rc;
}

/* Incident trackers for every check, resuming those a previous run left
 * open (read through a connection of its own: the writer owns the other). */
static int start_incidents(struct daemon *d)
{
    struct ys_err err = {{0}};
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    d->incidents = ys_live_incidents_new(d->writer);
    ys_live_incidents_apply(d->incidents, d->cfg, ys_wall_ms());
    ys_daemon_store_options(d->cfg, &opt, true);
    int rc = ys_store_open(d->cfg->storage.kind, &opt, &store, &err);
    if (rc == 0)
        rc = ys_live_incidents_resume(d->incidents, store, &err);
    ys_store_close(store);
    if (rc < 0)
        ys_error("store", "%s: reading open incidents: %s", STORE_NAME(d->cfg), err.msg);
    return rc;
}

/* Heartbeat trackers for every heartbeat check, rebuilt from the pings a
 * previous run stored, so a restart neither forgets a job's state nor
 * counts a spurious miss. */
static int start_heartbeats(struct daemon *d)
{
    struct ys_err err = {{0}};
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    d->heartbeats = ys_heartbeats_new(d->writer, on_result, d);
    ys_heartbeats_apply(d->heartbeats, d->cfg, ys_wall_ms());
    ys_daemon_store_options(d->cfg, &opt, true);
    int rc = ys_store_open(d->cfg->storage.kind, &opt, &store, &err);
    if (rc == 0)
        rc = ys_heartbeats_restore(d->heartbeats, store, ys_wall_ms(), &err);
    ys_store_close(store);
    if (rc < 0)
        ys_error("store", "%s: reading heartbeat pings: %s", STORE_NAME(d->cfg), err.msg);
    return rc;
}

/* A ping another daemon stored, read back while this one holds the lease:
 * to the trackers, which judge every daemon's pings (docs/ha.md). */
static void on_hb_fed(const char *name, const struct ys_ping_record *rec, void *arg)
{
    struct daemon *d = arg;
    ys_heartbeats_feed(d->heartbeats, name, rec);
}

/* Taking the lease: the trackers rebuilt from every daemon's stored pings
 * and the slot verdicts the previous holder wrote, then fed the pings
 * stored from now on. Blocks on the store, as start_heartbeats does. */
static void lead_heartbeats(struct daemon *d)
{
    struct ys_err err = {{0}};
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    int64_t now = ys_wall_ms();
    ys_daemon_store_options(d->cfg, &opt, true);
    int rc = ys_store_open(d->cfg->storage.kind, &opt, &store, &err);
    if (rc < 0)
        store = NULL; /* judged from what this daemon knows, rather than not at all */
    if (ys_heartbeats_lead(d->heartbeats, store, now, rc < 0 ? NULL : &err) < 0 || rc < 0)
        ys_error("heartbeat", "%s: reading heartbeat pings: %s", STORE_NAME(d->cfg), err.msg);
    ys_store_close(store);
    ys_hb_feed_resume(d->hb_feed, now);
}

static void on_heartbeat_change(const struct ys_check *check, enum ys_hb_state state,
                                enum ys_hb_problem problem, int64_t now_ms, void *arg)
{
    struct daemon *d = arg;
    if (d->leader)
        ys_alerts_feed_heartbeat(d->alerts, check, state, problem, now_ms);
    ys_remote_push_heartbeat(d->remote, check, (int)state, now_ms);
}

/* The dashboard's address, for links in notifications. */
static char *base_url(const struct ys_config *cfg)
{
    const char *h = cfg->server.host;
    bool v6 = strchr(h, ':') != NULL;
    return ys_xasprintf("http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "", cfg->server.port);
}

/* The outbox thread, which resumes what a previous run left pending. */
static int start_outbox(struct daemon *d)
{
    struct ys_err err = {{0}};
    struct ys_store_options opt;
    ys_daemon_store_options(d->cfg, &opt, false);
    char *url = base_url(d->cfg);
    int rc = ys_outbox_start(d->cfg, d->cfg->storage.kind, &opt,
                             &(struct ys_outbox_options){.base_url = url}, &d->outbox, &err);
    free(url);
    if (rc < 0)
        ys_error("notify", "%s: %s", STORE_NAME(d->cfg), err.msg);
    return rc;
}

/* The remote-write thread, which resumes what a previous run queued. */
static int start_remote(struct daemon *d)
{
    struct ys_err err = {{0}};
    char *dir = ys_remote_default_dir(d->cfg);
    int rc = ys_remote_start(d->cfg, dir, &d->remote, &err);
    if (rc < 0)
        ys_error("remote", "%s: %s", dir, err.msg);
    free(dir);
    return rc;
}

/* The alert evaluator, resuming the alerts a previous run left firing. */
static void start_alerts(struct daemon *d)
{
    struct ys_err err = {{0}};
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    char *url = base_url(d->cfg);
    d->alerts = ys_alerts_new(&d->loop, d->outbox, url);
    free(url);
    ys_alerts_apply(d->alerts, d->cfg, ys_wall_ms());
    ys_daemon_store_options(d->cfg, &opt, true);
    if (ys_store_open(d->cfg->storage.kind, &opt, &store, &err) < 0 ||
        ys_alerts_resume(d->alerts, store, &err) < 0)
        ys_error("alert", "reading firing alerts: %s", err.msg);
    ys_store_close(store);
    ys_alerts_start(d->alerts, d->cfg->defaults.evaluation_interval_ms);
}

/* The combiner of multi-location checks, idle until this daemon holds the
 * lease (it runs on the leader only). */
static void start_combiner(struct daemon *d)
{
    struct ys_store_options opt;
    ys_daemon_store_options(d->cfg, &opt, true);
    d->combiner = ys_combiner_new(&d->loop, d->cfg->storage.kind, &opt, on_combined, d);
    ys_combiner_apply(d->combiner, d->cfg);
    d->follower = ys_follower_new(&d->loop, d->cfg->storage.kind, &opt, on_followed, d);
    ys_follower_apply(d->follower, d->cfg);
    d->hb_feed = ys_hb_feed_new(&d->loop, d->cfg->storage.kind, &opt, on_hb_fed, d);
    ys_hb_feed_apply(d->hb_feed, d->cfg);
}

/* Replaces the alert evaluator; the old one is stopped now (its timer
 * closes on the loop) and freed after the loop, when no plan evaluation
 * can still be in flight for it. */
static void retire_alerts(struct daemon *d)
{
    if (!d->alerts)
        return;
    ys_alerts_stop(d->alerts);
    d->retired = ys_xrealloc(d->retired, (d->n_retired + 1) * sizeof *d->retired);
    d->retired[d->n_retired++] = d->alerts;
    d->alerts = NULL;
}

static const struct ys_check *check_by_id(const struct ys_config *cfg, uint32_t id)
{
    for (size_t i = 0; i < cfg->n_checks; i++)
        if (cfg->checks[i].store_id == id)
            return &cfg->checks[i];
    return NULL;
}

/* The checks whose incidents this daemon writes while it probes its
 * partition, and while it holds the notifier lease (combined verdicts). */
static bool probed_here(uint32_t id, void *arg)
{
    const struct daemon *d = arg;
    const struct ys_check *c = check_by_id(d->cfg, id);
    return c && c->type->start && !c->locations.n &&
           ys_instance_probes_check(&d->cfg->instance, c);
}

static bool combined_here(uint32_t id, void *arg)
{
    const struct daemon *d = arg;
    const struct ys_check *c = check_by_id(d->cfg, id);
    return c && c->locations.n;
}

/* A handover: another daemon wrote these checks' incidents until now, so
 * resume those it left open (one incident across the handover). Blocks
 * on the store, as start_alerts does. */
static void resume_incidents(struct daemon *d, bool (*want)(uint32_t, void *))
{
    struct ys_err err = {{0}};
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    ys_daemon_store_options(d->cfg, &opt, true);
    if (ys_store_open(d->cfg->storage.kind, &opt, &store, &err) < 0 ||
        ys_live_incidents_resume_if(d->incidents, store, want, d, &err) < 0)
        ys_error("incident", "%s: resuming open incidents: %s", STORE_NAME(d->cfg), err.msg);
    ys_store_close(store);
}

/* Taking the lease: the outbox thread (it resumes the shared pending
 * rows), an evaluator resuming the alerts firing in the store, and the
 * incidents of the combined verdicts. */
static void lead(struct daemon *d)
{
    d->leader = true;
    resume_incidents(d, combined_here);
    if (!d->outbox && start_outbox(d) < 0)
        ys_error("ha", "holding the lease without an outbox: notifications stay pending");
    retire_alerts(d);
    start_alerts(d);
    ys_web_set_outbox(d->web, d->outbox);
    ys_combiner_resume(d->combiner);
    ys_follower_resume(d->follower);
    lead_heartbeats(d);
}

/* Losing it (or never having it): no outbox, and an evaluator that is
 * never fed or started, kept for its maintenance windows (results are
 * still marked excluded in them). */
static void follow(struct daemon *d)
{
    d->leader = false;
    ys_combiner_pause(d->combiner);
    ys_follower_pause(d->follower);
    ys_hb_feed_pause(d->hb_feed);
    ys_heartbeats_follow(d->heartbeats);
    retire_alerts(d);
    char *url = base_url(d->cfg);
    d->alerts = ys_alerts_new(&d->loop, NULL, url);
    free(url);
    ys_alerts_apply(d->alerts, d->cfg, ys_wall_ms());
    ys_web_set_outbox(d->web, NULL);
    ys_outbox_stop(d->outbox); /* attempts in flight stay pending for the next holder */
    d->outbox = NULL;
}

/* The lease changed hands (loop thread): only its holder evaluates
 * alerts and delivers notifications; every daemon probes and writes. */
static void on_lease(bool held, void *arg)
{
    struct daemon *d = arg;
    if (d->stopping)
        return;
    if (!held) /* said first: follow() may block on the store (outbox join) */
        ys_web_set_leader(d->web, false, ys_lease_changes(d->lease));
    if (held)
        lead(d);
    else
        follow(d);
    ys_web_set_leader(d->web, held, ys_lease_changes(d->lease));
}

/* The partition lease changed hands (loop thread): its holder probes the
 * partition's checks, any other daemon of the partition stands by (a hot
 * standby), so a series never has two writers (docs/ha.md). The notifier
 * lease is gated on it: tell its thread to look again. */
static void on_partition(bool held, void *arg)
{
    struct daemon *d = arg;
    if (d->stopping)
        return;
    char part[300];
    ys_lease_partition_name(d->cfg, part, sizeof part);
    if (!held)
        ys_warn("ha", "standing by: not holding the partition %s (another daemon holds it, "
                      "or the store does not answer); probing nothing until this daemon takes "
                      "it", part);
    else if (d->standby)
        resume_incidents(d, probed_here); /* the previous prober's, before any result */
    d->standby = !held;
    ys_scheduler_set_probing(d->sched, held);
    ys_web_set_probing(held);
    ys_lease_kick(d->lease);
}

/* The partition lease, on PostgreSQL (the store daemons share). SQLite:
 * one daemon per file probes, restarts take over at once (docs/ha.md). */
static void start_partition(struct daemon *d)
{
    struct ys_err err = {{0}};
    char part[300];
    if (strcmp(d->cfg->storage.kind, "postgres") != 0)
        return;
    ys_lease_partition_name(d->cfg, part, sizeof part);
    if (ys_lease_start_named(&d->loop, d->cfg, part, NULL, on_partition, d, &d->partition,
                             &err) < 0) {
        ys_error("ha", "%s: the partition lease %s: %s; probing without it",
                 STORE_NAME(d->cfg), part, err.msg);
        return;
    }
    on_partition(ys_lease_held(d->partition), d);
}

static void start_lease(struct daemon *d)
{
    struct ys_err err = {{0}};
    if (ys_lease_start_named(&d->loop, d->cfg, YS_LEASE_NOTIFIER, d->partition, on_lease, d,
                             &d->lease, &err) < 0)
        ys_error("ha", "%s: the notifier lease: %s; this daemon will not notify",
                 STORE_NAME(d->cfg), err.msg);
    on_lease(ys_lease_held(d->lease), d);
}

/* The HTTP server. A busy default port (no server.listen written) only
 * warns, so a second daemon on one host still probes; a listen address
 * that was asked for and cannot be had is fatal. */
static int start_web(struct daemon *d)
{
    struct ys_err err = {{0}};
    if (!d->cfg->server.enabled)
        return 0;
    if (ys_web_start(d->cfg, d->live, d->heartbeats, &d->web, &err) == 0) {
        ys_web_set_outbox(d->web, d->outbox);
        return 0;
    }
    if (!d->cfg->server.listen_explicit) {
        ys_warn("web", "%s; the HTTP server is off (set server.listen to choose an address)",
                err.msg);
        return 0;
    }
    ys_error("web", "%s", err.msg);
    return -1;
}

/* Everything off the loop: store writer, open incidents, live state, web.
 * Returns 0, or -1 after logging why (stop_services cleans up either way). */
static int start_services(struct daemon *d)
{
    if (start_writer(d) < 0 || start_incidents(d) < 0 || start_heartbeats(d) < 0 ||
        start_remote(d) < 0)
        return -1;
    d->live = ys_live_state_new(ys_wall_ms());
    ys_live_state_apply(d->live, d->cfg);
    ys_heartbeats_fill_live(d->heartbeats, d->live, ys_wall_ms());
    ys_live_state_publish(d->live, NULL, NULL, ys_wall_ms());
    return start_web(d);
}

/* Stops what start_services started, in reverse order; the writer last,
 * so every result queued by the loop is committed. NULL-safe. */
static void stop_services(struct daemon *d)
{
    ys_web_stop(d->web);
    struct ys_writer_stats ws = {0};
    if (d->writer) {
        ys_writer_flush(d->writer);
        ys_writer_stats(d->writer, &ws);
    }
    ys_live_incidents_free(d->incidents);
    ys_heartbeats_free(d->heartbeats); /* after the web server: it queues pings */
    ys_alerts_free(d->alerts);
    for (size_t i = 0; i < d->n_retired; i++)
        ys_alerts_free(d->retired[i]);
    free(d->retired);
    ys_outbox_stop(d->outbox);
    ys_remote_stop(d->remote); /* after the loop: nothing pushes any more */
    ys_live_state_free(d->live);
    ys_writer_stop(d->writer);
    if (d->writer)
        ys_info("store", "stopped: %llu results written, %llu dropped, %llu failed",
                (unsigned long long)ws.written, (unsigned long long)ws.dropped,
                (unsigned long long)ws.failed);
    ys_config_unref(d->cfg);
}

static void start_loop(struct daemon *d)
{
    uv_loop_init(&d->loop);
    d->env.loop = &d->loop;
    if (ys_curl_multi_new(&d->loop, &d->env.curl) < 0) {
        ys_error("daemon", "cannot initialise libcurl");
        exit(1);
    }
    d->sched = ys_scheduler_new(&d->env, on_result, d);
    uv_timer_init(&d->loop, &d->publish_timer);
    d->publish_timer.data = d;
    uv_timer_start(&d->publish_timer, on_publish_timer, 250, 250);
    watch_signal(d, &d->sig_term, SIGTERM);
    watch_signal(d, &d->sig_int, SIGINT);
    watch_signal(d, &d->sig_hup, SIGHUP);
    start_partition(d); /* before the scheduler: a standby probes nothing */
    ys_scheduler_apply(d->sched, d->cfg);
    start_combiner(d);
    start_lease(d); /* after the combiner: holding the lease resumes it */
    /* After the alerts: its first tick may report a restored problem. */
    ys_heartbeats_set_change_cb(d->heartbeats, on_heartbeat_change, d);
    ys_heartbeats_start(d->heartbeats, &d->loop);
}

int ys_daemon_run(struct ys_config *cfg)
{
    struct daemon d = {.cfg = cfg};
    if (start_services(&d) < 0) {
        stop_services(&d);
        return 1;
    }
    start_loop(&d);
    ys_info("daemon", "running %zu checks from %s, store %s", cfg->n_checks, cfg->path,
            STORE_NAME(cfg));
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d.loop) != 0)
        ys_warn("daemon", "loop closed with handles still open");
    stop_services(&d);
    return 0;
}
