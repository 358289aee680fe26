/*
 * scheduler.c - per-check timers with stable phases (see scheduler.h).
 *
 * Data: one entry per check, each with its own uv_timer_t (libuv keeps
 * timers in a heap, so 10,000 of them cost a few hundred KiB and O(log n)
 * per firing). Entries sit in a doubly linked list. An entry points at its
 * check inside the running config; a probe in flight holds a reference on
 * the config it started from, so a reload can free the old config only
 * when the last such probe is done.
 *
 * Slots are computed on the wall clock (so phases survive restarts), and
 * the delay until a slot is handed to the loop's monotonic timer.
 */
#include "sched/scheduler.h"

#include "config/instance.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "slo/sketch.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    uv_timer_t timer;
    struct ys_scheduler *sched;
    struct entry *prev, *next;
    struct ys_check *check;      /* in sched->cfg */
    struct ys_config *probe_cfg; /* reference held while a probe runs */
    struct ys_probe *inflight;
    int64_t due_ms;              /* wall-clock slot of the next firing */
    bool stopping;
};

struct ys_scheduler {
    struct ys_probe_env *env;
    ys_sched_result_cb cb;
    void *cb_arg;
    struct ys_config *cfg;
    struct entry *head;
    size_t open_handles;
    size_t in_flight;
    size_t max_in_flight;
    bool stopping;
    bool standby; /* another daemon holds this one's partition: probe nothing */
    struct ys_sched_stats stats;
    struct ys_sketch *lateness; /* milliseconds */
};

int64_t ys_sched_next_slot(const char *name, int64_t interval_ms, int64_t now_ms)
{
    int64_t phase = (int64_t)(ys_hash_str(YS_HASH_INIT, name) % (uint64_t)interval_ms);
    int64_t base = now_ms - phase;
    int64_t k = base >= 0 ? base / interval_ms : -((-base + interval_ms - 1) / interval_ms);
    return (k + 1) * interval_ms + phase;
}

static void fire(uv_timer_t *t);

static void arm(struct entry *e, int64_t now_ms)
{
    int64_t delay = e->due_ms - now_ms;
    uv_timer_start(&e->timer, fire, (uint64_t)(delay > 0 ? delay : 0), 0);
}

static void maybe_free_scheduler(struct ys_scheduler *s)
{
    if (s->stopping && s->open_handles == 0 && !s->head) {
        if (s->cfg)
            ys_config_unref(s->cfg);
        ys_sketch_free(s->lateness);
        free(s);
    }
}

static void entry_closed(uv_handle_t *h)
{
    struct entry *e = h->data;
    struct ys_scheduler *s = e->sched;
    free(e);
    s->open_handles--;
    maybe_free_scheduler(s);
}

static void unlink_entry(struct entry *e)
{
    struct ys_scheduler *s = e->sched;
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

/* Stops an entry for good: cancels its probe and closes its timer. */
static void entry_stop(struct entry *e)
{
    e->stopping = true;
    uv_timer_stop(&e->timer);
    if (e->inflight) {
        e->inflight->type->cancel(e->inflight);
        e->inflight = NULL;
        e->sched->in_flight--;
        ys_config_unref(e->probe_cfg);
        e->probe_cfg = NULL;
    }
    unlink_entry(e);
    uv_close((uv_handle_t *)&e->timer, entry_closed);
}

static void probe_done(struct ys_probe *probe, const struct ys_result *r, void *arg)
{
    (void)probe;
    struct entry *e = arg;
    struct ys_scheduler *s = e->sched;
    s->stats.completed++;
    s->in_flight--;
    /* The check the probe ran is the one in probe_cfg; it has the same
     * name (and store id) as e->check. */
    if (s->cb)
        s->cb(e->check, r, s->cb_arg);
    e->inflight = NULL;
    ys_config_unref(e->probe_cfg);
    e->probe_cfg = NULL;
}

static void fire(uv_timer_t *t)
{
    struct entry *e = t->data;
    struct ys_scheduler *s = e->sched;
    int64_t now = ys_wall_ms();
    double late_ms = (double)(now - e->due_ms);
    ys_sketch_add(s->lateness, late_ms > 0 ? late_ms : 0, 1);
    if (late_ms > s->stats.lateness_max_ms)
        s->stats.lateness_max_ms = late_ms;
    if (e->inflight) {
        s->stats.skipped++;
        ys_debug("sched", "check %s: previous probe still running, skipped", e->check->name);
    } else if (s->in_flight >= s->max_in_flight) {
        /* Overload: more probes due than the cap allows in flight. Starting
         * them all would only make every probe time out together. */
        s->stats.throttled++;
        if (s->stats.throttled % 1000 == 1)
            ys_warn("sched", "%zu probes in flight (the cap): slots skipped, %llu so far",
                    s->in_flight, (unsigned long long)s->stats.throttled);
    } else {
        const struct ys_check *c = e->check;
        int rc = c->type->start(s->env, c, probe_done, e, &e->inflight);
        if (rc < 0) {
            s->stats.failed_to_start++;
            e->inflight = NULL;
            ys_error("sched", "check %s: cannot start probe (%s)", c->name, ys_strerror(rc));
        } else {
            s->stats.started++;
            s->in_flight++;
            e->probe_cfg = s->cfg;
            ys_config_ref(s->cfg);
        }
    }
    /* Next slot after this one, or after now when the firing came more
     * than an interval late (skip missed slots rather than burst). The
     * loop's timer may wake a millisecond before the wall-clock slot, so
     * "after now" alone could pick the same slot again. */
    int64_t after = now > e->due_ms ? now : e->due_ms;
    e->due_ms = ys_sched_next_slot(e->check->name, e->check->interval_ms, after);
    arm(e, now);
}

struct ys_scheduler *ys_scheduler_new(struct ys_probe_env *env, ys_sched_result_cb cb, void *arg)
{
    struct ys_scheduler *s = ys_xcalloc(1, sizeof *s);
    s->env = env;
    s->cb = cb;
    s->cb_arg = arg;
    s->lateness = ys_sketch_new();
    s->max_in_flight = YS_SCHED_MAX_IN_FLIGHT;
    return s;
}

static struct entry *find_entry(struct ys_scheduler *s, const char *name)
{
    for (struct entry *e = s->head; e; e = e->next)
        if (strcmp(e->check->name, name) == 0)
            return e;
    return NULL;
}

static void add_entry(struct ys_scheduler *s, struct ys_check *c, int64_t now)
{
    struct entry *e = ys_xcalloc(1, sizeof *e);
    e->sched = s;
    e->check = c;
    uv_timer_init(s->env->loop, &e->timer);
    e->timer.data = e;
    s->open_handles++;
    e->next = s->head;
    if (s->head)
        s->head->prev = e;
    s->head = e;
    e->due_ms = ys_sched_next_slot(c->name, c->interval_ms, now);
    arm(e, now);
}

/* Whether this scheduler runs check c of cfg now. A check that is passive
 * (a kind without start, such as heartbeat) is never run: pings measure
 * it, never a timer. Nor is one another shard probes (instance.shard:
 * config/instance.h has the rule), nor any while on standby. */
static bool runs(const struct ys_scheduler *s, const struct ys_config *cfg,
                 const struct ys_check *c)
{
    return !s->standby && c->type->start && ys_instance_probes_check(&cfg->instance, c);
}

void ys_scheduler_apply(struct ys_scheduler *s, struct ys_config *cfg)
{
    int64_t now = ys_wall_ms();
    size_t added = 0, changed = 0, removed = 0, kept = 0;
    /* Removed checks first, so their names are free. A check no longer run
     * here (runs()) counts as removed. */
    for (struct entry *e = s->head, *next; e; e = next) {
        next = e->next;
        const struct ys_check *now_c = ys_config_find(cfg, e->check->name);
        if (!now_c || !runs(s, cfg, now_c)) {
            entry_stop(e);
            removed++;
        }
    }
    for (size_t i = 0; i < cfg->n_checks; i++) {
        struct ys_check *c = &cfg->checks[i];
        if (!runs(s, cfg, c))
            continue; /* passive, another shard's, or standing by */
        struct entry *e = find_entry(s, c->name);
        if (!e) {
            add_entry(s, c, now);
            added++;
        } else if (e->check->fingerprint == c->fingerprint) {
            e->check = c; /* same schedule, same state */
            kept++;
        } else {
            bool new_slot = e->check->interval_ms != c->interval_ms;
            e->check = c;
            if (new_slot) {
                e->due_ms = ys_sched_next_slot(c->name, c->interval_ms, now);
                arm(e, now);
            }
            changed++;
        }
    }
    ys_config_ref(cfg);
    if (s->cfg)
        ys_config_unref(s->cfg);
    s->cfg = cfg;
    ys_info("sched", "config applied: %zu checks (%zu added, %zu changed, %zu removed, %zu kept)",
            cfg->n_checks, added, changed, removed, kept);
}

void ys_scheduler_set_probing(struct ys_scheduler *s, bool probing)
{
    if (s->stopping || s->standby == !probing)
        return;
    s->standby = !probing;
    ys_info("sched", "%s", probing ? "probing this daemon's partition"
                                   : "standing by: probing nothing");
    if (s->cfg)
        ys_scheduler_apply(s, s->cfg); /* stops or starts every entry */
}

void ys_scheduler_stop(struct ys_scheduler *s)
{
    s->stopping = true;
    while (s->head)
        entry_stop(s->head);
    maybe_free_scheduler(s);
}

void ys_scheduler_set_max_in_flight(struct ys_scheduler *s, size_t max)
{
    s->max_in_flight = max ? max : 1;
}

void ys_scheduler_stats(const struct ys_scheduler *s, struct ys_sched_stats *out)
{
    *out = s->stats;
    if (ys_sketch_count(s->lateness) > 0) {
        out->lateness_p50_ms = ys_sketch_quantile(s->lateness, 0.50);
        out->lateness_p99_ms = ys_sketch_quantile(s->lateness, 0.99);
    }
}
