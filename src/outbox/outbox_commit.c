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
 * Also here: giving rows up (too old, corrupt, or for a notifier that is
 * no longer configured), which is logged and counted.
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

#define ORPHAN_SCAN_MAX 10000

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
static void after_commit(struct ys_outbox *o, struct commit *c, uint64_t last_seq, int64_t now_ms)
{
    for (size_t i = 0; i < c->n_recs; i++)
        ys_outbox_firing_update(o, c->subs[i]->rec.key, c->recs[i].firing, c->events[i],
                                &c->subs[i]->notifiers);
    for (size_t i = 0; i < c->n_rows; i++) {
        struct ys_outbox_nf *f = ys_outbox_nf(o, c->rows[i].notifier);
        if (f) {
            f->dirty = true;
            continue;
        }
        char why[YS_RESULT_MSG_MAX];
        snprintf(why, sizeof why, "no notifier named '%s' in the config", c->rows[i].notifier);
        ys_outbox_give_up(o, NULL, &c->rows[i], now_ms, why);
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
    after_commit(o, &c, last_seq, now_ms);
    commit_free(&c);
    while (o->batch) {
        struct ys_sub *s = o->batch;
        o->batch = s->next;
        ys_sub_free(s);
    }
    return 0;
}

void ys_outbox_give_up(struct ys_outbox *o, struct ys_outbox_nf *f, struct ys_outbox_row *row,
                       int64_t now_ms, const char *why)
{
    row->state = YS_OUTBOX_GIVEN_UP;
    row->done_ms = now_ms;
    ys_copy_text(row->last_error, sizeof row->last_error, why);
    struct ys_err err = {{0}};
    if (o->store->type->outbox_update(o->store, row, &err) < 0)
        ys_error("notify", "outbox: cannot mark notification #%lld given up: %s",
                 (long long)row->id, err.msg);
    char age[32];
    ys_duration_format(now_ms - row->created_ms > 0 ? now_ms - row->created_ms : 1, age,
                       sizeof age);
    ys_warn("notify",
            "notifier %s: gave up on notification #%lld of %s after %d attempt%s over %s: %s",
            row->notifier, (long long)row->id, row->alert_key, row->attempts,
            row->attempts == 1 ? "" : "s", age, why);
    if (f)
        ys_outbox_count(o, f, YS_CT_GIVEN_UP);
}

struct orphans {
    struct ys_outbox *o;
    struct ys_outbox_row *v;
    size_t n, cap;
};

static int collect_orphan(const struct ys_outbox_row *row, void *arg)
{
    struct orphans *a = arg;
    if (row->state != YS_OUTBOX_PENDING || ys_outbox_nf(a->o, row->notifier))
        return 0;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->v = ys_xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n] = *row;
    a->v[a->n++].payload = NULL;
    return 0;
}

void ys_outbox_orphans(struct ys_outbox *o, int64_t now_ms)
{
    struct orphans a = {.o = o};
    struct ys_err err = {{0}};
    /* Rows are collected first: updating while the log is being read
     * would write under an open statement of the same connection. */
    if (o->store->type->outbox_log(o->store, 0, ORPHAN_SCAN_MAX, collect_orphan, &a, &err) < 0)
        ys_error("notify", "outbox: cannot read the notification log: %s", err.msg);
    for (size_t i = 0; i < a.n; i++) {
        char why[YS_RESULT_MSG_MAX];
        snprintf(why, sizeof why, "notifier '%s' is no longer in the config", a.v[i].notifier);
        ys_outbox_give_up(o, NULL, &a.v[i], now_ms, why);
    }
    free(a.v);
}
