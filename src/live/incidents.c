/*
 * incidents.c - live incident tracking (incidents.h).
 *
 * Data: an array of entries sorted by the check's store id, each holding
 * the check's name (for log lines) and its struct ys_incident_tracker; a
 * result finds its entry by binary search. The table is rebuilt from the
 * config at start and on every reload: a check that stays keeps its
 * tracker, streaks and open incident (only its thresholds change), so a
 * reload neither forgets an outage nor opens a second one.
 *
 * Every OPENED and CLOSED event is pushed to the store writer, which
 * upserts by (check, start): the open row is written when it opens and
 * overwritten when it closes. At start, incidents still open in the store
 * are resumed, so the process picking up after a restart closes the same
 * row instead of opening another.
 *
 * Runs on the loop thread only (resume at start, before the loop runs).
 */
#include "live/incidents.h"

#include "core/duration.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "slo/incident.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    uint32_t check_id;
    char *name;
    bool carried; /* during apply: the check is still configured */
    struct ys_incident_tracker t;
};

struct ys_live_incidents {
    struct ys_writer *writer;
    struct entry *v; /* sorted by check_id, unique */
    size_t n;
};

struct ys_live_incidents *ys_live_incidents_new(struct ys_writer *w)
{
    struct ys_live_incidents *li = ys_xcalloc(1, sizeof *li);
    li->writer = w;
    return li;
}

static void free_entries(struct entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

void ys_live_incidents_free(struct ys_live_incidents *li)
{
    if (!li)
        return;
    free_entries(li->v, li->n);
    free(li);
}

static int by_id(const void *a, const void *b)
{
    uint32_t x = ((const struct entry *)a)->check_id, y = ((const struct entry *)b)->check_id;
    return (x > y) - (x < y);
}

static struct entry *find(const struct ys_live_incidents *li, uint32_t check_id)
{
    struct entry key = {.check_id = check_id};
    if (!li || li->n == 0)
        return NULL; /* bsearch wants a non-null base even when empty */
    return bsearch(&key, li->v, li->n, sizeof *li->v, by_id);
}

static void push(struct ys_live_incidents *li, const struct ys_incident *inc)
{
    if (ys_writer_push_incident(li->writer, inc) < 0)
        ys_error("incident", "could not queue the incident of check %u for the store",
                 (unsigned)inc->check_id);
}

/* Closes the open incident of a check that left the configuration. */
static void close_removed(struct ys_live_incidents *li, struct entry *e, int64_t now_ms)
{
    struct ys_incident inc = e->t.current;
    inc.end_ms = now_ms > inc.start_ms ? now_ms : inc.start_ms + 1;
    push(li, &inc);
    ys_info("incident", "incident on check %s closed: the check was removed from the "
            "configuration", e->name);
}

void ys_live_incidents_apply(struct ys_live_incidents *li, const struct ys_config *cfg,
                             int64_t now_ms)
{
    struct entry *v = ys_xcalloc(cfg->n_checks ? cfg->n_checks : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        if (ck->store_id == 0 || !ck->name)
            continue;
        struct entry *e = &v[n++];
        struct entry *old = find(li, ck->store_id);
        e->check_id = ck->store_id;
        e->name = ys_xstrdup(ck->name);
        if (old) {
            e->t = old->t;
            e->t.open_after = ck->incident_open_after;
            e->t.close_after = ck->incident_close_after;
            old->carried = true;
        } else {
            ys_incident_tracker_init(&e->t, ck->store_id, ck->incident_open_after,
                                     ck->incident_close_after);
        }
    }
    for (size_t i = 0; i < li->n; i++)
        if (!li->v[i].carried && li->v[i].t.open)
            close_removed(li, &li->v[i], now_ms);
    free_entries(li->v, li->n);
    qsort(v, n, sizeof *v, by_id);
    li->v = v;
    li->n = n;
}

struct resume_ctx {
    struct ys_live_incidents *li;
    size_t resumed;
    bool (*want)(uint32_t check_id, void *arg); /* NULL: every check */
    void *want_arg;
};

static int resume_one(const struct ys_incident *inc, void *arg)
{
    struct resume_ctx *ctx = arg;
    struct entry *e = find(ctx->li, inc->check_id);
    if (inc->end_ms != 0 || !e || (ctx->want && !ctx->want(inc->check_id, ctx->want_arg)))
        return 0;
    ys_incident_tracker_resume(&e->t, inc);
    ctx->resumed++;
    ys_info("incident", "incident on check %s still open since the last run: %s", e->name,
            inc->first_error);
    return 0;
}

int ys_live_incidents_resume(struct ys_live_incidents *li, struct ys_store *store,
                             struct ys_err *err)
{
    struct resume_ctx ctx = {li, 0, NULL, NULL};
    return store->type->query_incidents(store, 0, 0, INT64_MAX, resume_one, &ctx, err);
}

int ys_live_incidents_resume_if(struct ys_live_incidents *li, struct ys_store *store,
                                bool (*want)(uint32_t check_id, void *arg), void *arg,
                                struct ys_err *err)
{
    struct resume_ctx ctx = {li, 0, want, arg};
    return store->type->query_incidents(store, 0, 0, INT64_MAX, resume_one, &ctx, err);
}

void ys_live_incidents_feed(struct ys_live_incidents *li, const struct ys_check *check,
                            const struct ys_result *r)
{
    struct entry *e = find(li, check->store_id);
    if (!e)
        return;
    struct ys_incident inc;
    enum ys_incident_event ev = ys_incident_feed(&e->t, r->ts_ms, r->ok, r->message, &inc);
    if (ev == YS_INCIDENT_NONE)
        return;
    push(li, &inc);
    if (ev == YS_INCIDENT_OPENED) {
        ys_info("incident", "incident opened on check %s: %s", e->name, inc.first_error);
    } else {
        char took[32];
        ys_duration_format(inc.end_ms - inc.start_ms, took, sizeof took);
        ys_info("incident", "incident on check %s closed after %s", e->name, took);
    }
}

bool ys_live_incidents_is_open(const struct ys_live_incidents *li, uint32_t check_id)
{
    const struct entry *e = find(li, check_id);
    return e && e->t.open;
}
