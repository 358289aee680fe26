/*
 * outbox_scan.c - which pending row of a notifier goes next.
 *
 * An alert's rows go in the order they were made (a resolve never before
 * its firing), so only the first pending row of each alert key, its head,
 * may go. The heads are read from the store as such (outbox_heads), so an
 * alert whose first row keeps failing holds back its own later rows only,
 * however many it has queued, never another alert's. Of the heads whose
 * retry time has come, the oldest (lowest id) is started if the
 * notifier's token bucket has a token; otherwise the scan notes when to
 * look again (the earliest retry time, give-up time or token).
 *
 * The list (struct ys_outbox_nf.heads) is kept between scans, because
 * reading it costs the notifier's whole pending backlog (the store groups
 * every pending row by key). It is kept whole by hand instead: when a
 * head leaves (delivered or given up), its alert's next row is looked up
 * among the next YS_OUTBOX_NEXT_WINDOW pending rows (all of them when
 * there are no more), and a row committed for an alert not in the list is
 * that alert's head. The list is read again only when it may lack a head:
 * at start and after a reload; when a lookup missed (the alert may have a
 * row further on) or a commit could not be placed, and nothing listed is
 * due; when it was cut at YS_OUTBOX_SCAN_MAX heads (read soonest due
 * first, so the cut leaves out those in the longest backoff) and the cut
 * is due. A backlog then costs a small lookup per delivery, not a read of
 * everything.
 *
 * Before each read, the rows at the front of the queue (the oldest) that
 * are older than the notifier's max_age are given up (outbox_expire.c).
 * The pending gauge is the store's count at each read, plus the rows
 * committed and less those done since. An outbox with only_key (notify
 * send beside a daemon) reads that key's head alone and leaves every
 * other row, old ones included, to the daemon.
 *
 * Outbox thread only.
 */
#include "outbox/outbox_int.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ys_outbox_heads_free(struct ys_outbox_nf *f)
{
    for (size_t i = 0; i < f->n_heads; i++)
        free((char *)f->heads[i].payload);
    free(f->heads);
    f->heads = NULL;
    f->n_heads = 0;
}

static int collect_head(const struct ys_outbox_row *row, void *arg)
{
    struct ys_outbox_nf *f = arg;
    if (f->n_heads >= YS_OUTBOX_SCAN_MAX)
        return 1;
    f->heads[f->n_heads] = *row;
    f->heads[f->n_heads++].payload = ys_xstrdup(row->payload ? row->payload : "");
    return 0;
}

static void wake_at(struct ys_outbox_nf *f, int64_t t)
{
    if (t < f->wake_ms)
        f->wake_ms = t;
}

static void set_pending(struct ys_outbox *o, struct ys_outbox_nf *f, uint64_t n)
{
    f->pending = n;
    ys_outbox_set_pending(o, f, n);
}

/* Gives up the old rows, reads the heads and counts what is pending.
 * Returns 0, or -1 when the store could not be read (retried in 1 s). */
static int load_heads(struct ys_outbox *o, struct ys_outbox_nf *f, int64_t now_ms)
{
    ys_outbox_heads_free(f);
    f->left = f->more = false;
    f->expire_ms = YS_NEVER;
    if (!o->only_key) {
        ys_outbox_expire(o, f, f->name, f->conf->max_age_ms, now_ms, &f->expire_ms);
        if (f->expire_ms <= now_ms)
            f->dirty = true; /* more old rows than one pass gives up */
    }
    f->heads = ys_xcalloc(YS_OUTBOX_SCAN_MAX, sizeof *f->heads);
    const struct ys_store_type *t = o->store->type;
    struct ys_err err = {{0}};
    uint64_t pending = 0;
    int rc = o->only_key
                 ? t->outbox_next(o->store, f->name, o->only_key, 0, 0, collect_head, f, &err)
                 : t->outbox_heads(o->store, f->name, YS_OUTBOX_SCAN_MAX, collect_head, f, &err);
    if (rc == 0)
        rc = t->outbox_count_pending(o->store, f->name, &pending, &err);
    if (rc < 0) {
        ys_error("notify", "notifier %s: cannot read the outbox: %s", f->name, err.msg);
        ys_outbox_heads_free(f);
        wake_at(f, now_ms + 1000);
        return -1;
    }
    f->requery = false;
    f->more = f->n_heads == YS_OUTBOX_SCAN_MAX;
    f->more_ms = f->more ? f->heads[f->n_heads - 1].next_attempt_ms : 0;
    set_pending(o, f, pending);
    return 0;
}

static size_t find_head(const struct ys_outbox_nf *f, const char *key)
{
    for (size_t i = 0; i < f->n_heads; i++)
        if (strcmp(f->heads[i].alert_key, key) == 0)
            return i;
    return SIZE_MAX;
}

/* Removes head i (its row is no longer pending) and looks up its alert's
 * next row, which is the alert's head now. */
static void head_leaves(struct ys_outbox *o, struct ys_outbox_nf *f, size_t i)
{
    char key[YS_ALERT_KEY_MAX];
    memcpy(key, f->heads[i].alert_key, sizeof key);
    int64_t id = f->heads[i].id;
    free((char *)f->heads[i].payload);
    memmove(&f->heads[i], &f->heads[i + 1], (f->n_heads - i - 1) * sizeof *f->heads);
    f->n_heads--;
    set_pending(o, f, f->pending > 0 ? f->pending - 1 : 0);
    if (f->requery)
        return;
    /* With few rows pending (or one alert's only, for notify send) the
     * lookup reads them all and a miss means there is no next row. */
    size_t window = o->only_key || f->pending <= YS_OUTBOX_NEXT_WINDOW ? 0 : YS_OUTBOX_NEXT_WINDOW;
    size_t before = f->n_heads;
    struct ys_err err = {{0}};
    if (o->store->type->outbox_next(o->store, f->name, key, id, window, collect_head, f, &err) <
        0) {
        ys_error("notify", "notifier %s: cannot read the outbox: %s", f->name, err.msg);
        f->requery = true;
    } else if (f->n_heads == before && window > 0) {
        f->left = true; /* the alert may have a row further on */
    }
    f->dirty = true;
}

void ys_outbox_heads_settle(struct ys_outbox *o, struct ys_outbox_nf *f,
                            const struct ys_outbox_row *row)
{
    size_t i = 0;
    while (i < f->n_heads && f->heads[i].id != row->id)
        i++;
    if (i == f->n_heads) {
        f->requery = true; /* not a listed row: the list is not to be trusted */
        return;
    }
    if (row->state != YS_OUTBOX_PENDING) {
        head_leaves(o, f, i);
        return;
    }
    struct ys_outbox_row *h = &f->heads[i];
    h->attempts = row->attempts;
    h->next_attempt_ms = row->next_attempt_ms;
    memcpy(h->last_error, row->last_error, sizeof h->last_error);
}

void ys_outbox_heads_added(struct ys_outbox *o, struct ys_outbox_nf *f,
                           const struct ys_outbox_row *row)
{
    set_pending(o, f, f->pending + 1);
    f->dirty = true;
    if (f->requery || (o->only_key && strcmp(row->alert_key, o->only_key) != 0))
        return;
    if (find_head(f, row->alert_key) != SIZE_MAX)
        return; /* a later row of a listed alert */
    if (f->more || f->left || !f->heads || f->n_heads >= YS_OUTBOX_SCAN_MAX) {
        f->requery = true; /* the alert may have an earlier row the list lacks */
        return;
    }
    collect_head(row, f); /* the list is whole: the alert had no pending row */
}

/* Gives up head i (never sendable, or too old) and takes it off the list. */
static void give_up_head(struct ys_outbox *o, struct ys_outbox_nf *f, size_t i, int64_t now_ms,
                         const char *why)
{
    struct ys_outbox_row row = f->heads[i];
    row.payload = NULL;
    char old[YS_RESULT_MSG_MAX];
    if (!why) {
        ys_outbox_why_old(f, &row, f->conf->max_age_ms, old, sizeof old);
        why = old;
    }
    ys_outbox_give_up(o, f, &row, now_ms, why);
    head_leaves(o, f, i);
}

/* The due head with the lowest id (the oldest waiting), after giving up
 * heads past max_age; SIZE_MAX when none is due (f->wake_ms says when one
 * will be). */
static size_t due_head(struct ys_outbox *o, struct ys_outbox_nf *f, int64_t now_ms)
{
    size_t best = SIZE_MAX;
    size_t i = 0;
    while (i < f->n_heads) {
        const struct ys_outbox_row *r = &f->heads[i];
        int64_t deadline = r->created_ms + f->conf->max_age_ms;
        if (now_ms >= deadline) {
            give_up_head(o, f, i, now_ms, NULL);
            if (best != SIZE_MAX && best > i)
                best--;
            continue;
        }
        if (r->next_attempt_ms > now_ms)
            wake_at(f, r->next_attempt_ms < deadline ? r->next_attempt_ms : deadline);
        else if (best == SIZE_MAX || r->id < f->heads[best].id)
            best = i;
        i++;
    }
    return best;
}

/* Starts the due head that has waited longest. Returns true when one was
 * tried or must wait for a token; false when none is due. */
static bool try_heads(struct ys_outbox *o, struct ys_outbox_nf *f, int64_t now_ms)
{
    for (;;) {
        size_t i = due_head(o, f, now_ms);
        if (i == SIZE_MAX)
            return false;
        struct ys_outbox_row *r = &f->heads[i];
        int64_t wait = ys_bucket_take(&f->bucket, now_ms);
        if (wait > 0) {
            if (f->limited_row != r->id)
                ys_outbox_count(o, f, YS_CT_RATE_LIMITED);
            f->limited_row = r->id;
            wake_at(f, now_ms + wait);
            return true;
        }
        struct ys_err err = {{0}};
        if (ys_outbox_start_row(o, f, r, now_ms, &err) == YS_EINVAL) {
            give_up_head(o, f, i, now_ms, err.msg);
            continue;
        }
        return true; /* started, or failed to start and recorded (f is dirty) */
    }
}

void ys_outbox_scan(struct ys_outbox *o, struct ys_outbox_nf *f, int64_t now_ms)
{
    f->dirty = false;
    bool loaded = false;
    for (;;) {
        f->wake_ms = YS_NEVER;
        if (now_ms >= f->expire_ms)
            f->requery = true;
        if (f->requery) {
            if (load_heads(o, f, now_ms) < 0)
                return;
            loaded = true;
        }
        wake_at(f, f->expire_ms);
        if (f->more)
            wake_at(f, f->more_ms);
        if (try_heads(o, f, now_ms) || loaded)
            return;
        /* Nothing listed is due: read the list again if the store may
         * hold a head it lacks that could be due. */
        if (!f->left && !(f->more && now_ms >= f->more_ms))
            return;
        f->requery = true;
    }
}
