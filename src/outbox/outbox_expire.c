/*
 * outbox_expire.c - giving notifications up: too old for their notifier's
 * max_age, or kept too long for a notifier the config no longer has.
 *
 * A pending row is only ever given up by age. Rows of a notifier that is
 * not in the config (removed or renamed by a reload, or named by an alert
 * the evaluator routed under the previous config) are "orphans": they stay
 * pending, counted under YS_OUTBOX_REMOVED, so a notifier put back under
 * the same name delivers them; once older than the config's largest
 * max_age they are given up like any other, logged and counted under
 * YS_OUTBOX_REMOVED. Which notifiers have pending rows comes from the
 * store (outbox_notifier_heads), not from the notification log, so old
 * orphans are found however many rows came after them.
 *
 * Rows are read lowest id first, which is creation order: the old ones are
 * at the front. Expiring reads them in batches and stops at the first row
 * young enough, whose age says when to look again; at most
 * YS_OUTBOX_EXPIRE_MAX are given up per call so a backlog of thousands
 * (one alert repeating every minute for a day) cannot stall the thread.
 *
 * Outbox thread only.
 */
#include "outbox/outbox_int.h"

#include "core/duration.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ORPHAN_MAX_AGE_MS (24 * 3600 * INT64_C(1000))
#define EXPIRE_BATCH 256

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
    ys_outbox_count(o, f, YS_CT_GIVEN_UP);
}

void ys_outbox_why_old(const struct ys_outbox_nf *f, const struct ys_outbox_row *row,
                       int64_t max_age_ms, char *why, size_t size)
{
    char age[32];
    ys_duration_format(max_age_ms, age, sizeof age);
    const char *sep = row->last_error[0] ? "; last error: " : "";
    if (f)
        snprintf(why, size, "not delivered within max_age %.31s%s%.160s", age, sep,
                 row->last_error);
    else
        snprintf(
            why, size,
            "notifier '%.63s' is not in the config and the notification is older than %.31s%s%.60s",
            row->notifier, age, sep, row->last_error);
}

int64_t ys_outbox_orphan_max_age(const struct ys_config *cfg)
{
    int64_t max = 0;
    for (size_t i = 0; i < cfg->n_notifiers; i++)
        if (cfg->notifiers[i].max_age_ms > max)
            max = cfg->notifiers[i].max_age_ms;
    return max > 0 ? max : DEFAULT_ORPHAN_MAX_AGE_MS;
}

/* The old rows at the front of a notifier's queue, read before any is
 * updated (an update under the open statement of the same connection
 * would disturb it). */
struct old_rows {
    struct ys_outbox_row v[EXPIRE_BATCH];
    size_t n;
    int64_t cutoff;   /* created at or before: old */
    int64_t young_ms; /* created_ms of the first young row; INT64_MIN: none seen */
};

static int collect_old(const struct ys_outbox_row *row, void *arg)
{
    struct old_rows *a = arg;
    if (row->created_ms > a->cutoff) {
        a->young_ms = row->created_ms;
        return 1;
    }
    a->v[a->n] = *row;
    a->v[a->n++].payload = NULL;
    return a->n >= EXPIRE_BATCH;
}

void ys_outbox_expire(struct ys_outbox *o, struct ys_outbox_nf *f, const char *notifier,
                      int64_t max_age_ms, int64_t now_ms, int64_t *next_ms)
{
    struct old_rows *a = ys_xmalloc(sizeof *a);
    *next_ms = now_ms; /* the cap was reached unless a batch says otherwise */
    for (size_t done = 0; done < YS_OUTBOX_EXPIRE_MAX; done += a->n) {
        a->n = 0;
        a->cutoff = now_ms - max_age_ms;
        a->young_ms = INT64_MIN;
        struct ys_err err = {{0}};
        if (o->store->type->outbox_pending(o->store, notifier, EXPIRE_BATCH, collect_old, a, &err) <
            0) {
            ys_error("notify", "notifier %s: cannot read the outbox: %s", notifier, err.msg);
            *next_ms = now_ms + 1000;
            break;
        }
        for (size_t i = 0; i < a->n; i++) {
            char why[YS_RESULT_MSG_MAX];
            ys_outbox_why_old(f, &a->v[i], max_age_ms, why, sizeof why);
            ys_outbox_give_up(o, f, &a->v[i], now_ms, why);
        }
        if (a->young_ms != INT64_MIN) {
            *next_ms = a->young_ms + max_age_ms;
            break;
        }
        if (a->n < EXPIRE_BATCH) {
            *next_ms = YS_NEVER; /* nothing left pending */
            break;
        }
    }
    free(a);
}

/* The first pending row of each notifier the config lacks. */
struct orphans {
    struct ys_outbox *o;
    struct ys_outbox_row *v;
    size_t n, cap;
};

static int collect_orphan(const struct ys_outbox_row *row, void *arg)
{
    struct orphans *a = arg;
    if (ys_outbox_nf(a->o, row->notifier))
        return 0;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->v = ys_xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n] = *row;
    a->v[a->n++].payload = NULL;
    return 0;
}

void ys_outbox_orphans(struct ys_outbox *o, int64_t now_ms)
{
    bool announce = o->orphans_announce;
    o->orphans_due = o->orphans_announce = false;
    o->orphan_wake_ms = YS_NEVER;
    if (!o->orphans)
        return;
    struct orphans a = {.o = o};
    struct ys_err err = {{0}};
    if (o->store->type->outbox_notifier_heads(o->store, collect_orphan, &a, &err) < 0) {
        ys_error("notify", "outbox: cannot list the notifiers with pending rows: %s", err.msg);
        o->orphan_wake_ms = now_ms + 60000;
        free(a.v);
        return;
    }
    int64_t max_age = ys_outbox_orphan_max_age(o->cfg);
    char age[32];
    ys_duration_format(max_age, age, sizeof age);
    uint64_t total = 0;
    for (size_t i = 0; i < a.n; i++) {
        const char *name = a.v[i].notifier;
        int64_t next = YS_NEVER;
        ys_outbox_expire(o, NULL, name, max_age, now_ms, &next);
        if (next < o->orphan_wake_ms)
            o->orphan_wake_ms = next;
        uint64_t n = 0;
        if (o->store->type->outbox_count_pending(o->store, name, &n, &err) < 0)
            ys_error("notify", "notifier %s: cannot count pending rows: %s", name, err.msg);
        total += n;
        if (announce && n > 0)
            ys_warn("notify",
                    "notifier %s is not in the config: its %llu pending notification%s %s kept "
                    "until %s old (the config's largest max_age), in case it comes back",
                    name, (unsigned long long)n, n == 1 ? "" : "s", n == 1 ? "is" : "are", age);
    }
    ys_outbox_set_pending(o, NULL, total);
    free(a.v);
}
