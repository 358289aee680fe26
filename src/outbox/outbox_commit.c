/*
 * outbox_commit.c - submissions into the store: each becomes its alert's
 * record and one outbox row per notifier, all in one transaction, so an
 * alert's state never runs ahead of its notifications (kill -9 between
 * the two cannot lose a notification the evaluator thinks was queued).
 *
 * The event document a row carries is the submitted document with what
 * the thread adds: key, status, repeat, event_at (now), and, where the
 * evaluator left them out, firing_at, resolved_at and url (base_url).
 * The alert record keeps the submitted document plus "notifiers" (the
 * names it was routed to), which is what a restarted outbox needs to
 * re-post firing alerts to the right Alertmanagers.
 *
 * A row for a name the config has no notifier of (the evaluator routed
 * the alert under a config a reload has just replaced) is committed like
 * any other and left to the orphan handling of outbox_expire.c: it stays
 * pending in case the notifier comes back.
 *
 * Outbox thread only.
 */
#include "outbox/outbox_int.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_time(json_t *doc, const char *key, int64_t ms)
{
    char buf[40];
    json_object_set_new(doc, key, json_string(ys_format_time(ms, buf, sizeof buf)));
}

/* Adds the thread's fields to a copy of the submitted document. */
static json_t *make_event(const struct ys_outbox *o, const json_t *doc, const struct ys_sub *s,
                          int64_t now_ms)
{
    json_t *ev = json_deep_copy(doc);
    bool resolved = s->kind == YS_EVENT_RESOLVED;
    json_object_set_new(ev, "key", json_string(s->rec.key));
    json_object_set_new(ev, "status", json_string(resolved ? "resolved" : "firing"));
    json_object_set_new(ev, "repeat", json_boolean(s->kind == YS_EVENT_REPEAT));
    set_time(ev, "event_at", now_ms);
    if (!json_object_get(ev, "firing_at") && s->rec.firing_ms > 0)
        set_time(ev, "firing_at", s->rec.firing_ms);
    if (!json_is_string(json_object_get(ev, "resolved_at"))) {
        if (resolved)
            set_time(ev, "resolved_at", s->rec.resolved_ms > 0 ? s->rec.resolved_ms : now_ms);
        else
            json_object_set_new(ev, "resolved_at", json_null());
    }
    if (!json_object_get(ev, "url") && o->base_url)
        json_object_set_new(ev, "url", json_string(o->base_url));
    return ev;
}

static char *dump(const json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    if (!s)
        abort(); /* json_dumps of a document we built fails only when out of memory */
    return s;
}

/* What one commit writes, and what is kept for after it succeeds. */
struct commit {
    size_t n_recs, n_rows;
    struct ys_alert_record *recs;
    struct ys_outbox_row *rows;
    json_t **events; /* per record; NULL where the submission was dropped */
    struct ys_sub **subs;
};

static void commit_free(struct commit *c)
{
    for (size_t i = 0; i < c->n_recs; i++) {
        free((char *)c->recs[i].doc);
        json_decref(c->events[i]);
    }
    for (size_t i = 0; i < c->n_rows; i++)
        free((char *)c->rows[i].payload);
    free(c->recs);
    free(c->rows);
    free(c->events);
    free(c->subs);
}

/* Turns one submission into its record and rows. */
static void build_one(struct ys_outbox *o, struct ys_sub *s, struct commit *c, int64_t now_ms)
{
    json_error_t je;
    json_t *doc = json_loads(s->doc, 0, &je);
    if (!json_is_object(doc)) {
        ys_error("notify",
                 "outbox: dropping the notification of %s: its document is not a "
                 "JSON object (%s)",
                 s->rec.key, doc ? "not an object" : je.text);
        json_decref(doc);
        return;
    }
    json_t *ev = make_event(o, doc, s, now_ms);
    json_t *names = json_array();
    for (size_t i = 0; i < s->notifiers.n; i++)
        json_array_append_new(names, json_string(s->notifiers.v[i]));
    json_object_set_new(doc, "notifiers", names);
    struct ys_alert_record *rec = &c->recs[c->n_recs];
    *rec = s->rec;
    rec->firing = s->kind != YS_EVENT_RESOLVED;
    rec->doc = dump(doc);
    json_decref(doc);
    char *payload = dump(ev);
    for (size_t i = 0; i < s->notifiers.n; i++) {
        struct ys_outbox_row *row = &c->rows[c->n_rows++];
        memset(row, 0, sizeof *row);
        snprintf(row->notifier, sizeof row->notifier, "%s", s->notifiers.v[i]);
        snprintf(row->alert_key, sizeof row->alert_key, "%s", s->rec.key);
        row->created_ms = now_ms;
        row->next_attempt_ms = now_ms;
        row->state = YS_OUTBOX_PENDING;
        row->payload = i == 0 ? payload : ys_xstrdup(payload);
    }
    if (s->notifiers.n == 0)
        free(payload);
    c->events[c->n_recs] = ev;
    c->subs[c->n_recs++] = s;
}

/* After the transaction: re-post state, notifiers to scan, rows for
 * names no notifier has, flush waiters. */
static void after_commit(struct ys_outbox *o, struct commit *c, uint64_t last_seq)
{
    for (size_t i = 0; o->reposts && i < c->n_recs; i++)
        ys_outbox_firing_update(o, c->subs[i]->rec.key, c->recs[i].firing, c->events[i],
                                &c->subs[i]->notifiers);
    for (size_t i = 0; i < c->n_rows; i++) {
        struct ys_outbox_nf *f = ys_outbox_nf(o, c->rows[i].notifier);
        if (f) {
            ys_outbox_heads_added(o, f, &c->rows[i]);
            continue;
        }
        if (!o->orphans)
            continue;
        char age[32];
        ys_duration_format(ys_outbox_orphan_max_age(o->cfg), age, sizeof age);
        ys_warn("notify",
                "no notifier named '%s' in the config: notification #%lld of %s stays pending "
                "until %s old, in case one comes back",
                c->rows[i].notifier, (long long)c->rows[i].id, c->rows[i].alert_key, age);
        o->orphans_due = true;
    }
    pthread_mutex_lock(&o->mu);
    if (last_seq > o->seq_committed)
        o->seq_committed = last_seq;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

int ys_outbox_commit(struct ys_outbox *o, int64_t now_ms)
{
    struct commit c = {0};
    size_t n_subs = 0, n_rows = 0;
    uint64_t last_seq = 0;
    for (struct ys_sub *s = o->batch; s; s = s->next) {
        n_subs++;
        n_rows += s->notifiers.n;
        last_seq = s->seq;
    }
    c.recs = ys_xcalloc(n_subs, sizeof *c.recs);
    c.rows = ys_xcalloc(n_rows ? n_rows : 1, sizeof *c.rows);
    c.events = ys_xcalloc(n_subs, sizeof *c.events);
    c.subs = ys_xcalloc(n_subs, sizeof *c.subs);
    for (struct ys_sub *s = o->batch; s; s = s->next)
        build_one(o, s, &c, now_ms);
    struct ys_err err = {{0}};
    int rc = o->store->type->notify_commit(o->store, c.recs, c.n_recs, c.rows, c.n_rows, &err);
    if (rc < 0) {
        ys_error("notify", "outbox: cannot queue %zu notification%s (retrying): %s", c.n_rows,
                 c.n_rows == 1 ? "" : "s", err.msg);
        commit_free(&c);
        return rc;
    }
    after_commit(o, &c, last_seq);
    commit_free(&c);
    while (o->batch) {
        struct ys_sub *s = o->batch;
        o->batch = s->next;
        ys_sub_free(s);
    }
    return 0;
}
