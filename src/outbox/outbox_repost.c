/*
 * outbox_repost.c - Alertmanager re-posts: every firing alert routed to
 * an alertmanager notifier is posted again every resend_interval, with
 * endsAt ahead of now, as Prometheus does. Alertmanager resolves an alert
 * by itself when endsAt passes, so the re-posts are what keeps it firing
 * there, and a yardstick that stops for good lets its alerts lapse rather
 * than fire forever.
 *
 * Re-posts are not outbox rows: they are idempotent refreshes of state
 * Alertmanager already has, and a missed one is repaired by the next. The
 * firing set (struct ys_firing) is kept in memory: updated when a
 * submission commits (a resolve removes the alert before its resolve row
 * can be sent) and loaded from the store's alert records at start. A
 * round posts all of a notifier's firing alerts in batches of
 * YS_OUTBOX_REPOST_BATCH through the notifier's single attempt slot, so a
 * re-post never overtakes a resolve row of the same notifier. Re-posts
 * are not rate-limited: one batch per resend_interval is the point.
 *
 * Outbox thread only.
 */
#include "outbox/outbox_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t find(const struct ys_outbox *o, const char *key)
{
    for (size_t i = 0; i < o->n_firing; i++)
        if (strcmp(o->firing[i].key, key) == 0)
            return i;
    return SIZE_MAX;
}

static void entry_free(struct ys_firing *e)
{
    json_decref(e->event);
    ys_strlist_free(&e->notifiers);
}

void ys_outbox_firing_update(struct ys_outbox *o, const char *key, bool firing, json_t *event,
                             const struct ys_strlist *notifiers)
{
    size_t i = find(o, key);
    if (!firing) {
        if (i == SIZE_MAX)
            return;
        entry_free(&o->firing[i]);
        memmove(&o->firing[i], &o->firing[i + 1], (o->n_firing - i - 1) * sizeof *o->firing);
        o->n_firing--;
        return;
    }
    if (i == SIZE_MAX) {
        if (o->n_firing == o->cap_firing) {
            o->cap_firing = o->cap_firing ? 2 * o->cap_firing : 16;
            o->firing = ys_xrealloc(o->firing, o->cap_firing * sizeof *o->firing);
        }
        i = o->n_firing++;
        memset(&o->firing[i], 0, sizeof o->firing[i]);
        snprintf(o->firing[i].key, sizeof o->firing[i].key, "%s", key);
    }
    struct ys_firing *e = &o->firing[i];
    entry_free(e);
    e->event = json_incref(event);
    e->notifiers.n = notifiers->n;
    e->notifiers.v = ys_xcalloc(notifiers->n ? notifiers->n : 1, sizeof *e->notifiers.v);
    for (size_t k = 0; k < notifiers->n; k++)
        e->notifiers.v[k] = ys_xstrdup(notifiers->v[k]);
}

void ys_outbox_firing_free(struct ys_outbox *o)
{
    for (size_t i = 0; i < o->n_firing; i++)
        entry_free(&o->firing[i]);
    free(o->firing);
    o->firing = NULL;
    o->n_firing = o->cap_firing = 0;
}

/* One stored firing alert back into the set. */
static int load_one(const struct ys_alert_record *rec, void *arg)
{
    struct ys_outbox *o = arg;
    if (!rec->firing || !rec->doc)
        return 0;
    json_t *doc = json_loads(rec->doc, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    struct ys_strlist names = {0};
    const json_t *list = json_object_get(doc, "notifiers");
    names.v = ys_xcalloc(json_array_size(list) + 1, sizeof *names.v);
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_is_string(json_array_get(list, i)))
            names.v[names.n++] = ys_xstrdup(json_string_value(json_array_get(list, i)));
    json_object_del(doc, "notifiers");
    char buf[40];
    json_object_set_new(doc, "key", json_string(rec->key));
    json_object_set_new(doc, "status", json_string("firing"));
    json_object_set_new(doc, "repeat", json_false());
    json_object_set_new(doc, "event_at",
                        json_string(ys_format_time(ys_wall_ms(), buf, sizeof buf)));
    if (!json_object_get(doc, "firing_at") && rec->firing_ms > 0)
        json_object_set_new(doc, "firing_at",
                            json_string(ys_format_time(rec->firing_ms, buf, sizeof buf)));
    json_object_set_new(doc, "resolved_at", json_null());
    if (!json_object_get(doc, "url") && o->base_url)
        json_object_set_new(doc, "url", json_string(o->base_url));
    ys_outbox_firing_update(o, rec->key, true, doc, &names);
    json_decref(doc);
    ys_strlist_free(&names);
    return 0;
}

void ys_outbox_firing_load(struct ys_outbox *o)
{
    struct ys_err err = {{0}};
    if (o->store->type->query_alerts(o->store, INT64_MAX, load_one, o, &err) < 0)
        ys_error("notify",
                 "outbox: cannot read the firing alerts (no re-posts until they "
                 "change): %s",
                 err.msg);
}

static bool routed_to(const struct ys_firing *e, const char *name)
{
    for (size_t i = 0; i < e->notifiers.n; i++)
        if (strcmp(e->notifiers.v[i], name) == 0)
            return true;
    return false;
}

void ys_outbox_repost(struct ys_outbox *o, struct ys_outbox_nf *f, int64_t now_ms)
{
    const struct ys_notifier_ops *ops = f->conf->type->ops;
    if (!ops->resend_interval_ms || f->at.active || now_ms < f->next_repost_ms)
        return;
    int64_t resend = ops->resend_interval_ms(f->conf->spec);
    const json_t **events = ys_xcalloc(YS_OUTBOX_REPOST_BATCH, sizeof *events);
    size_t n = 0, i = f->repost_cursor;
    for (; i < o->n_firing && n < YS_OUTBOX_REPOST_BATCH; i++)
        if (routed_to(&o->firing[i], f->name))
            events[n++] = o->firing[i].event;
    f->repost_cursor = i;
    if (n == 0) {
        f->repost_cursor = 0;
        f->next_repost_ms = now_ms + resend;
        free(events);
        return;
    }
    struct ys_err err = {{0}};
    if (ys_outbox_start_http(o, f, NULL, events, n, now_ms, &err) < 0) {
        ys_warn("notify", "notifier %s: cannot re-post %zu firing alert%s: %s", f->name, n,
                n == 1 ? "" : "s", err.msg);
        f->repost_cursor = 0;
        f->next_repost_ms = now_ms + resend;
    } else {
        f->at.repost = true;
        ys_debug("notify", "notifier %s: re-posting %zu firing alert%s", f->name, n,
                 n == 1 ? "" : "s");
    }
    free(events);
}

void ys_outbox_repost_done(struct ys_outbox *o, struct ys_outbox_nf *f, bool ok,
                           const struct ys_err *err, int64_t now_ms)
{
    if (!ok)
        ys_warn("notify", "notifier %s: re-post of firing alerts failed: %s", f->name, err->msg);
    /* A reload may have changed the notifier's kind under the re-post. */
    int64_t (*resend)(const void *) = f->conf->type->ops->resend_interval_ms;
    if (f->repost_cursor >= o->n_firing || !resend) {
        /* The round is done; a round that needs more batches goes on at
         * the next pass. */
        f->repost_cursor = 0;
        f->next_repost_ms = now_ms + (resend ? resend(f->conf->spec) : 0);
    }
}
