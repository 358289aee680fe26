/*
 * alerts.c - the table of open alerts and when each one notifies.
 *
 * An alert exists while its condition holds. Opening it notifies FIRING;
 * a change of level (a lower certificate threshold crossed, another
 * heartbeat problem) notifies FIRING again with the new labels; closing it
 * notifies RESOLVED if anyone was told it fired; while it stays open a
 * REPEAT goes out every repeat_interval. Nothing goes out while a
 * maintenance window covers the alert's check; the alert then notifies
 * when the window ends, if it still holds. A submission the outbox refuses
 * (queue full) is retried by the next tick, since `notified` stays false.
 *
 * The table is open-addressed with linear probing and backward-shift
 * deletion: alerts can number in the thousands (one per check of a rule
 * when many checks fail) and are looked up on every result.
 *
 * Threads: the loop thread.
 */
#include "alert/alert_int.h"

#include "core/clock.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 1000

static size_t slot_of(const struct ys_alerts *a, const char *key)
{
    size_t i = (size_t)ys_hash_str(YS_HASH_INIT, key) & (a->cap - 1);
    while (a->v[i].key[0] && strcmp(a->v[i].key, key) != 0)
        i = (i + 1) & (a->cap - 1);
    return i;
}

static void grow(struct ys_alerts *a)
{
    struct ys_alert *old = a->v;
    size_t old_cap = a->cap;
    a->cap = old_cap ? old_cap * 2 : 64;
    a->v = ys_xcalloc(a->cap, sizeof *a->v);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key[0])
            a->v[slot_of(a, old[i].key)] = old[i];
    free(old);
}

static void alert_clear(struct ys_alert *al)
{
    free(al->rule);
    ys_strlist_free(&al->notify);
    json_decref(al->labels);
    json_decref(al->annotations);
    memset(al, 0, sizeof *al);
}

/* Removes the alert at slot i, shifting later members of its probe chain
 * back so lookups never stop at a hole. */
static void remove_at(struct ys_alerts *a, size_t i)
{
    alert_clear(&a->v[i]);
    a->n--;
    size_t j = i;
    for (;;) {
        j = (j + 1) & (a->cap - 1);
        if (!a->v[j].key[0])
            return;
        size_t home = (size_t)ys_hash_str(YS_HASH_INIT, a->v[j].key) & (a->cap - 1);
        /* move j back into the hole unless its home lies in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            a->v[i] = a->v[j];
            memset(&a->v[j], 0, sizeof a->v[j]);
            i = j;
        }
    }
}

static void iso8601(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The event document the outbox stores and the notifiers format;
 * maintenance names the window that keeps it quiet (NULL: none). */
static char *alert_doc(const struct ys_alerts *a, const struct ys_alert *al, int64_t resolved_ms,
                       const char *maintenance)
{
    char fired[32], resolved[32];
    iso8601(al->firing_ms, fired, sizeof fired);
    iso8601(resolved_ms, resolved, sizeof resolved);
    const char *check = json_string_value(json_object_get(al->labels, "check"));
    char *url = check ? ys_xasprintf("%s/#/check/%s", a->base_url, check)
                      : ys_xasprintf("%s/#/", a->base_url);
    json_t *doc = json_pack("{s:s, s:s, s:O, s:O, s:s, s:s?, s:s, s:s?}", "key", al->key, "rule",
                            al->rule, "labels", al->labels, "annotations", al->annotations,
                            "firing_at", fired, "resolved_at", resolved_ms ? resolved : NULL,
                            "url", url, "maintenance", maintenance);
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    free(url);
    return s;
}

static const struct ys_alert_rule *find_rule(const struct ys_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && i < cfg->n_alerts; i++)
        if (cfg->alerts[i].name && strcmp(cfg->alerts[i].name, name) == 0)
            return &cfg->alerts[i];
    return NULL;
}

/* Hands one change to the outbox; returns whether it was taken. A quiet
 * change (maintenance names the window) only records the alert's state:
 * it goes to no notifier. */
static bool submit(struct ys_alerts *a, struct ys_alert *al, enum ys_alert_event_kind kind,
                   int64_t now_ms, const char *maintenance)
{
    /* The alert's own list: a resolution still reaches whoever heard it
     * fire after a reload removed or changed the rule. */
    const char *const *names = (const char *const *)al->notify.v;
    size_t n = maintenance ? 0 : al->notify.n;
    int64_t resolved_ms = kind == YS_EVENT_RESOLVED ? now_ms : 0;
    char *doc = alert_doc(a, al, resolved_ms, maintenance);
    struct ys_alert_record rec = {
        .firing = kind != YS_EVENT_RESOLVED,
        .firing_ms = al->firing_ms,
        .resolved_ms = resolved_ms,
        .last_notified_ms = maintenance ? al->last_notified_ms : now_ms,
        .doc = doc,
    };
    snprintf(rec.key, sizeof rec.key, "%s", al->key);
    int rc = a->outbox ? ys_outbox_submit(a->outbox, &rec, kind, names, n) : 0;
    if (a->refuse_submits > 0) {
        a->refuse_submits--;
        rc = YS_EBUSY;
    }
    free(doc);
    if (rc < 0) {
        ys_warn("alert", "%s: the outbox is full; retrying", al->key);
        return false;
    }
    al->recorded = kind != YS_EVENT_RESOLVED;
    if (maintenance) {
        ys_info("alert", "%s %s, quiet: maintenance window %s", al->key,
                kind == YS_EVENT_RESOLVED ? "resolved" : "firing", maintenance);
        return true;
    }
    a->submitted[kind]++;
    ys_info("alert", "%s %s", al->key,
            kind == YS_EVENT_FIRING ? "firing" : kind == YS_EVENT_RESOLVED ? "resolved"
                                                                           : "still firing");
    return true;
}

/* The name of a maintenance window covering the alert now, or NULL. */
static const char *covered_by_maintenance(const struct ys_alerts *a, const struct ys_alert *al,
                                          int64_t now_ms)
{
    for (size_t i = 0; a->cfg && i < a->cfg->n_maintenance; i++) {
        const struct ys_maintenance *m = &a->cfg->maintenance[i];
        bool applies = m->n_members == 0 && m->check_names.n == 0 && m->selector.n == 0;
        for (size_t j = 0; !applies && al->check >= 0 && j < m->n_members; j++)
            applies = m->members[j] == (size_t)al->check;
        if (applies && ys_maint_active(&m->window, now_ms, NULL))
            return m->name;
    }
    return NULL;
}

bool ys_alerts_in_maintenance(const struct ys_alerts *a, size_t check, bool exclude_only,
                              int64_t now_ms)
{
    for (size_t i = 0; a->cfg && i < a->cfg->n_maintenance; i++) {
        const struct ys_maintenance *m = &a->cfg->maintenance[i];
        if (exclude_only && !m->exclude_from_slo)
            continue;
        bool applies = m->n_members == 0 && m->check_names.n == 0 && m->selector.n == 0;
        for (size_t j = 0; !applies && j < m->n_members; j++)
            applies = m->members[j] == check;
        if (applies && ys_maint_active(&m->window, now_ms, NULL))
            return true;
    }
    return false;
}

/* Sends what an open alert owes: its firing notice, or a reminder. */
static void notify_due(struct ys_alerts *a, struct ys_alert *al, int64_t now_ms)
{
    const char *window = covered_by_maintenance(a, al, now_ms);
    if (window) {
        /* recorded, so the API and dashboard show it, but told nobody */
        if (!al->recorded)
            submit(a, al, YS_EVENT_FIRING, now_ms, window);
        return;
    }
    if (!al->notified) {
        if (submit(a, al, YS_EVENT_FIRING, now_ms, NULL)) {
            al->notified = true;
            al->last_notified_ms = now_ms;
        }
        return;
    }
    const struct ys_alert_rule *rule = find_rule(a->cfg, al->rule);
    if (rule && rule->repeat_interval_ms > 0 &&
        now_ms - al->last_notified_ms >= rule->repeat_interval_ms &&
        submit(a, al, YS_EVENT_REPEAT, now_ms, NULL))
        al->last_notified_ms = now_ms;
}

/* Resolves the alert at slot i and removes it, unless the outbox refused
 * the resolution: then it stays, marked resolving, and tick retries, so a
 * full queue never leaves an alert firing in the store. Returns whether
 * slot i was emptied (a later entry may have moved into it). */
static bool resolve_at(struct ys_alerts *a, size_t i, int64_t now_ms)
{
    struct ys_alert *al = &a->v[i];
    /* Told nobody it fired (maintenance, or a queue that refused it): a
     * resolve would be the first word anyone hears; only close the record
     * a quiet firing left in the store. */
    bool taken = true;
    if (al->notified)
        taken = submit(a, al, YS_EVENT_RESOLVED, now_ms, NULL);
    else if (al->recorded)
        taken = submit(a, al, YS_EVENT_RESOLVED, now_ms, "(ended before anyone was told)");
    if (!taken) {
        al->resolving = true;
        return false;
    }
    remove_at(a, i);
    return true;
}

/* Copies the rule's notifier names onto the alert. */
static void take_notifiers(struct ys_alert *al, const struct ys_alert_rule *r)
{
    ys_strlist_free(&al->notify);
    al->notify.n = r->notify.n;
    al->notify.v = ys_xcalloc(r->notify.n + 1, sizeof *al->notify.v);
    for (size_t i = 0; i < r->notify.n; i++)
        al->notify.v[i] = ys_xstrdup(r->notify.v[i]);
}

static json_t *labels_for(const struct ys_condition *c)
{
    const struct ys_alert_rule *r = c->rule;
    json_t *l = json_object();
    for (size_t i = 0; i < r->labels.n; i++)
        json_object_set_new(l, r->labels.keys[i], json_string(r->labels.values[i]));
    if (c->labels)
        json_object_update(l, c->labels);
    json_object_set_new(l, "alertname", json_string(r->name));
    json_object_set_new(l, "severity", json_string(c->severity ? c->severity : r->severity));
    return l;
}

/* The rule's annotations with {{subject}} (and {{check}}) expanded, over
 * the condition's defaults. (Not ${...}: the config loader substitutes
 * environment variables there.) */
static json_t *annotations_for(const struct ys_condition *c)
{
    json_t *an = json_object();
    json_object_set_new(an, "summary", json_string(c->summary ? c->summary : c->subject));
    if (c->description)
        json_object_set_new(an, "description", json_string(c->description));
    for (size_t i = 0; i < c->rule->annotations.n; i++) {
        const char *v = c->rule->annotations.values[i];
        size_t cap = strlen(v) + 1, len = 0;
        char *out = ys_xmalloc(cap);
        while (*v) {
            const char *var = strncmp(v, "{{subject}}", 11) == 0 ? "{{subject}}"
                              : strncmp(v, "{{check}}", 9) == 0  ? "{{check}}"
                                                                 : NULL;
            const char *put = var ? c->subject : v;
            size_t plen = var ? strlen(c->subject) : 1;
            if (len + plen + 1 > cap)
                out = ys_xrealloc(out, cap = (len + plen + 1) * 2);
            memcpy(out + len, put, plen);
            len += plen;
            v += var ? strlen(var) : 1;
        }
        out[len] = '\0';
        json_object_set_new(an, c->rule->annotations.keys[i], json_string(out));
        free(out);
    }
    return an;
}

void ys_alerts_set(struct ys_alerts *a, const struct ys_condition *c, int64_t now_ms)
{
    char key[YS_ALERT_KEY_MAX];
    snprintf(key, sizeof key, "%s/%s", c->rule->name, c->subject);
    if (a->cap == 0 || (a->n + 1) * 4 > a->cap * 3)
        grow(a);
    size_t i = slot_of(a, key);
    struct ys_alert *al = &a->v[i];
    if (al->key[0])
        al->seen_pass = a->plan_pass;
    if (!c->active) {
        if (al->key[0] && !al->resolving && !c->hold)
            resolve_at(a, i, now_ms);
        return;
    }
    al->resolving = false; /* firing again before its resolution went out */
    bool fresh = !al->key[0];
    if (fresh) {
        snprintf(al->key, sizeof al->key, "%s", key);
        al->rule = ys_xstrdup(c->rule->name);
        al->firing_ms = now_ms;
        al->level = c->level;
        al->seen_pass = a->plan_pass;
        a->n++;
    }
    al->check = c->check;
    al->confirmed = true;
    if (fresh || al->level != c->level || !al->labels) {
        json_decref(al->labels);
        json_decref(al->annotations);
        al->labels = labels_for(c);
        al->annotations = annotations_for(c);
        take_notifiers(al, c->rule);
        if (!fresh && al->level != c->level && al->level >= 0)
            al->notified = false; /* a new level is news (not one resumed: unknown, -1) */
        al->level = c->level;
    }
    notify_due(a, al, now_ms);
}

size_t ys_alerts_firing(const struct ys_alerts *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->cap; i++)
        n += a->v[i].key[0] && !a->v[i].resolving;
    return n;
}

void ys_alerts_keep(struct ys_alerts *a, const struct ys_alert_rule *rule, const char *subject)
{
    char key[YS_ALERT_KEY_MAX];
    snprintf(key, sizeof key, "%s/%s", rule->name, subject);
    struct ys_alert *al = ys_alerts_find(a, key);
    if (al)
        al->seen_pass = a->plan_pass;
}

static bool is_plan_rule(const struct ys_alert_rule *r)
{
    return r && (r->kind == YS_ALERT_SLO_BURN || r->kind == YS_ALERT_GOAL_STATUS ||
                 r->kind == YS_ALERT_MILESTONE_DUE);
}

void ys_alerts_sweep_plan(struct ys_alerts *a, int64_t now_ms)
{
    for (size_t i = 0; i < a->cap;) {
        struct ys_alert *al = &a->v[i];
        if (al->key[0] && !al->resolving && al->seen_pass != a->plan_pass &&
            is_plan_rule(find_rule(a->cfg, al->rule)) && resolve_at(a, i, now_ms))
            continue; /* a later entry may have moved into i */
        i++;
    }
}

struct ys_alert *ys_alerts_find(struct ys_alerts *a, const char *key)
{
    if (a->cap == 0)
        return NULL;
    struct ys_alert *al = &a->v[slot_of(a, key)];
    return al->key[0] ? al : NULL;
}

void ys_alerts_tick(struct ys_alerts *a, int64_t now_ms)
{
    for (size_t i = 0; i < a->cap;) {
        struct ys_alert *al = &a->v[i];
        if (al->key[0] && al->resolving) {
            if (resolve_at(a, i, now_ms))
                continue;
        } else if (al->key[0] && al->confirmed) {
            notify_due(a, al, now_ms);
        }
        i++;
    }
    ys_alerts_plan_maybe(a, now_ms);
}

static void on_tick(uv_timer_t *t)
{
    ys_alerts_tick(t->data, ys_wall_ms());
}

struct ys_alerts *ys_alerts_new(uv_loop_t *loop, struct ys_outbox *outbox, const char *base_url)
{
    struct ys_alerts *a = ys_xcalloc(1, sizeof *a);
    a->loop = loop;
    a->outbox = outbox;
    a->base_url = ys_xstrdup(base_url ? base_url : "");
    uv_timer_init(loop, &a->timer);
    a->timer.data = a;
    return a;
}

void ys_alerts_start(struct ys_alerts *a, int64_t eval_every_ms)
{
    a->eval_every_ms = eval_every_ms > 0 ? eval_every_ms : 60000;
    a->next_plan_ms = ys_wall_ms() + 2000; /* soon after start: the store is warm */
    a->timer_started = true;
    uv_timer_start(&a->timer, on_tick, TICK_MS, TICK_MS);
}

/* Whether the alert still has a rule that covers its check. */
static bool still_applies(const struct ys_config *cfg, const struct ys_alert *al)
{
    const struct ys_alert_rule *r = find_rule(cfg, al->rule);
    if (!r)
        return false;
    if (al->check < 0)
        return true;
    return (size_t)al->check < cfg->n_checks && ys_alert_rule_covers(r, (size_t)al->check);
}

void ys_alerts_apply(struct ys_alerts *a, struct ys_config *cfg, int64_t now_ms)
{
    /* check indices move between configs: re-find each alert's check by
     * the name in its labels */
    for (size_t i = 0; i < a->cap; i++) {
        struct ys_alert *al = &a->v[i];
        if (!al->key[0] || al->check < 0)
            continue;
        const char *name = json_string_value(json_object_get(al->labels, "check"));
        struct ys_check *ck = name ? ys_config_find(cfg, name) : NULL;
        al->check = ck ? (long)(ck - cfg->checks) : -2;
    }
    ys_config_ref(cfg);
    ys_config_unref(a->cfg);
    a->cfg = cfg;
    if (a->timer_started)
        a->eval_every_ms = cfg->defaults.evaluation_interval_ms;
    for (size_t i = 0; i < a->cap;) {
        struct ys_alert *al = &a->v[i];
        if (al->key[0] && !al->resolving && (al->check == -2 || !still_applies(cfg, al)) &&
            resolve_at(a, i, now_ms))
            continue; /* a later entry may have moved into i: look again */
        i++;
    }
}

struct resume_ctx {
    struct ys_alerts *a;
    size_t n;
};

static int resume_one(const struct ys_alert_record *rec, void *arg)
{
    struct resume_ctx *ctx = arg;
    struct ys_alerts *a = ctx->a;
    if (!rec->firing)
        return 0;
    json_t *doc = json_loads(rec->doc ? rec->doc : "{}", 0, NULL);
    const char *rule = json_string_value(json_object_get(doc, "rule"));
    if (!rule) {
        json_decref(doc);
        return 0;
    }
    if (a->cap == 0 || (a->n + 1) * 4 > a->cap * 3)
        grow(a);
    struct ys_alert *al = &a->v[slot_of(a, rec->key)];
    if (al->key[0]) {
        json_decref(doc);
        return 0;
    }
    snprintf(al->key, sizeof al->key, "%s", rec->key);
    al->rule = ys_xstrdup(rule);
    al->labels = json_incref(json_object_get(doc, "labels"));
    al->annotations = json_incref(json_object_get(doc, "annotations"));
    json_t *names = json_object_get(doc, "notifiers"); /* added by the outbox thread */
    al->notify.v = ys_xcalloc(json_array_size(names) + 1, sizeof *al->notify.v);
    for (size_t k = 0; k < json_array_size(names); k++)
        if (json_is_string(json_array_get(names, k)))
            al->notify.v[al->notify.n++] = ys_xstrdup(json_string_value(json_array_get(names, k)));
    al->firing_ms = rec->firing_ms;
    al->last_notified_ms = rec->last_notified_ms;
    al->level = -1; /* not stored: the first condition fed sets it without news */
    al->recorded = true;
    al->notified = !json_is_string(json_object_get(doc, "maintenance"));
    al->check = -1;
    const char *check = json_string_value(json_object_get(al->labels, "check"));
    struct ys_check *ck = check && a->cfg ? ys_config_find(a->cfg, check) : NULL;
    if (ck)
        al->check = (long)(ck - a->cfg->checks);
    else if (check)
        al->check = -2;
    a->n++;
    ctx->n++;
    json_decref(doc);
    return 0;
}

int ys_alerts_resume(struct ys_alerts *a, struct ys_store *store, struct ys_err *err)
{
    struct resume_ctx ctx = {a, 0};
    if (!store->type->query_alerts)
        return 0;
    int rc = store->type->query_alerts(store, INT64_MAX, resume_one, &ctx, err);
    if (rc == 0 && ctx.n)
        ys_info("alert", "resumed %zu firing alerts", ctx.n);
    /* alerts whose rule or check went away while we were down */
    for (size_t i = 0; a->cfg && i < a->cap;) {
        struct ys_alert *al = &a->v[i];
        if (al->key[0] && (al->check == -2 || !still_applies(a->cfg, al)) &&
            resolve_at(a, i, ys_wall_ms()))
            continue;
        i++;
    }
    return rc;
}

void ys_alerts_stop(struct ys_alerts *a)
{
    if (!a || a->stopped)
        return;
    a->stopped = true;
    uv_close((uv_handle_t *)&a->timer, NULL);
}

void ys_alerts_free(struct ys_alerts *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->cap; i++)
        if (a->v[i].key[0])
            alert_clear(&a->v[i]);
    free(a->v);
    free(a->base_url);
    ys_config_unref(a->cfg);
    free(a);
}
