/*
 * outbox_deliver.c - delivery attempts: running one (HTTP on the outbox's
 * multi handle, or a process) and recording its outcome.
 *
 * Which row goes next is outbox_scan.c's business; it hands the row to
 * ys_outbox_start_row and hears of its outcome through
 * ys_outbox_heads_settle.
 *
 * Outcome: 2xx (at least one target for Alertmanager) or exit status 0
 * marks the row delivered; anything else counts a failed attempt and sets
 * the next try after an exponential backoff with jitter (pace.h). Both
 * are written to the row before anything else happens to the notifier,
 * so a crash repeats at most the attempt in flight: at least once.
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
#include <sys/wait.h>

/* A uniform draw in [0, 1) for the jitter. */
static double draw(void)
{
    return (double)arc4random() / 4294967296.0;
}

static void free_attempt(struct ys_outbox *o, struct ys_attempt *at)
{
    for (size_t i = 0; i < at->n_targets; i++) {
        struct ys_http_target *t = &at->targets[i];
        if (t->easy) {
            curl_multi_remove_handle(o->multi, t->easy);
            curl_easy_cleanup(t->easy);
        }
        ys_notify_http_free(&t->req);
    }
    free(at->targets);
    if (at->exec) {
        ys_notify_proc_kill(&at->proc);
        ys_notify_proc_close(&at->proc);
    }
    memset(at, 0, sizeof *at);
}

void ys_outbox_abort(struct ys_outbox *o, struct ys_outbox_nf *f)
{
    if (f->at.active)
        free_attempt(o, &f->at);
}

/* Writes a row's outcome and counts it. */
static void finish_row(struct ys_outbox *o, struct ys_outbox_nf *f, struct ys_outbox_row *row,
                       bool ok, const struct ys_err *err, int64_t now_ms)
{
    row->attempts++;
    if (ok) {
        row->state = YS_OUTBOX_DELIVERED;
        row->done_ms = now_ms;
        row->last_error[0] = '\0';
        ys_outbox_count(o, f, YS_CT_DELIVERED);
        ys_debug("notify", "notifier %s: delivered notification #%lld of %s (attempt %d)", f->name,
                 (long long)row->id, row->alert_key, row->attempts);
    } else {
        int64_t wait = ys_backoff_ms(row->attempts, draw());
        row->next_attempt_ms = now_ms + wait;
        ys_copy_text(row->last_error, sizeof row->last_error, err->msg);
        ys_outbox_count(o, f, YS_CT_FAILED);
        char in[32];
        ys_duration_format(wait, in, sizeof in);
        ys_warn("notify",
                "notifier %s: attempt %d of notification #%lld of %s failed: %s; "
                "next try in %s",
                f->name, row->attempts, (long long)row->id, row->alert_key, err->msg, in);
    }
    struct ys_err serr = {{0}};
    if (o->store->type->outbox_update(o->store, row, &serr) < 0)
        ys_error("notify", "outbox: cannot record the outcome of notification #%lld: %s",
                 (long long)row->id, serr.msg);
    ys_outbox_heads_settle(o, f, row);
    f->dirty = true;
}

/* Ends f's attempt with its outcome. */
static void finish(struct ys_outbox *o, struct ys_outbox_nf *f, bool ok, int64_t now_ms)
{
    struct ys_attempt *at = &f->at;
    bool repost = at->repost;
    struct ys_outbox_row row = at->row;
    struct ys_err err = at->err;
    if (!ok && !err.msg[0])
        snprintf(err.msg, sizeof err.msg, "failed without a reason");
    free_attempt(o, at);
    if (repost)
        ys_outbox_repost_done(o, f, ok, &err, now_ms);
    else
        finish_row(o, f, &row, ok, &err, now_ms);
}

/* Names the row and the attempt in headers, so a receiver can tell a
 * retry after a failed attempt (same delivery, next attempt) from a new
 * notification, and drop the copies at-least-once delivery may bring. */
static void add_delivery_headers(struct ys_notify_http *req, const struct ys_outbox_row *row)
{
    char h[64];
    snprintf(h, sizeof h, "X-Yardstick-Delivery: %lld", (long long)row->id);
    req->headers = curl_slist_append(req->headers, h);
    snprintf(h, sizeof h, "X-Yardstick-Attempt: %d", row->attempts + 1);
    req->headers = curl_slist_append(req->headers, h);
    if (!req->headers)
        abort(); /* only when out of memory */
}

int ys_outbox_start_http(struct ys_outbox *o, struct ys_outbox_nf *f,
                         const struct ys_outbox_row *row, const json_t *const *events,
                         size_t n_events, int64_t now_ms, struct ys_err *err)
{
    const struct ys_notifier_ops *ops = f->conf->type->ops;
    struct ys_attempt *at = &f->at;
    size_t n = ops->n_targets ? ops->n_targets(f->conf->spec) : 1;
    at->targets = ys_xcalloc(n ? n : 1, sizeof *at->targets);
    at->n_targets = n;
    for (size_t i = 0; i < n; i++) {
        struct ys_http_target *t = &at->targets[i];
        t->owner = f;
        int rc = ops->http_request(f->conf->spec, events, n_events, i, now_ms, &t->req, err);
        if (rc < 0) {
            free_attempt(o, at);
            return YS_EINVAL;
        }
        if (row)
            add_delivery_headers(&t->req, row);
        t->easy = curl_easy_init();
        if (!t->easy)
            abort(); /* only when out of memory */
        if (ys_notify_http_easy(t->easy, &t->req, f->conf->timeout_ms, err) < 0 ||
            curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t) != CURLE_OK ||
            curl_multi_add_handle(o->multi, t->easy) != CURLM_OK) {
            curl_easy_cleanup(t->easy);
            t->easy = NULL;
            free_attempt(o, at);
            return YS_EINTERNAL;
        }
    }
    at->active = true;
    at->started_ms = now_ms;
    return 0;
}

int ys_outbox_start_row(struct ys_outbox *o, struct ys_outbox_nf *f,
                        const struct ys_outbox_row *row, int64_t now_ms, struct ys_err *err)
{
    json_error_t je;
    json_t *ev = json_loads(row->payload, 0, &je);
    if (!json_is_object(ev)) {
        json_decref(ev);
        return ys_err_set(err, YS_EINVAL, "the stored event is not a JSON object");
    }
    const struct ys_notifier_ops *ops = f->conf->type->ops;
    struct ys_attempt *at = &f->at;
    memset(at, 0, sizeof *at);
    at->row = *row;
    at->row.payload = NULL;
    int rc;
    if (ops->exec_start) {
        rc = ops->exec_start(f->conf->spec, ev, row->payload, f->name, &at->proc, err);
        if (rc == 0) {
            at->exec = true;
            at->active = true;
            at->started_ms = now_ms;
            at->deadline_ms = now_ms + f->conf->timeout_ms;
        }
    } else {
        const json_t *one[1] = {ev};
        rc = ys_outbox_start_http(o, f, row, one, 1, now_ms, err);
    }
    json_decref(ev);
    if (rc == YS_EINVAL)
        return rc;
    if (rc < 0) { /* could not start (a missing program, say): a failed attempt */
        struct ys_outbox_row copy = *row;
        copy.payload = NULL;
        finish_row(o, f, &copy, false, err, now_ms);
    }
    return 0;
}

void ys_outbox_curl_done(struct ys_outbox *o, int64_t now_ms)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(o->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg is invalid once the handle is removed: copy what we need. */
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        struct ys_http_target *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(o->multi, easy);
        if (!t)
            continue;
        struct ys_outbox_nf *f = t->owner;
        struct ys_attempt *at = &f->at;
        t->done = true;
        t->ok = ys_notify_http_outcome(easy, code, &t->req, &t->err);
        at->n_done++;
        if (t->ok)
            at->n_ok++;
        else if (!at->err.msg[0])
            at->err = t->err;
        if (!t->ok && at->n_targets > 1)
            ys_warn("notify", "notifier %s: %s", f->name, t->err.msg);
        if (at->n_done == at->n_targets)
            finish(o, f, at->n_ok > 0, now_ms);
    }
}

void ys_outbox_exec_poll(struct ys_outbox *o, int64_t now_ms)
{
    for (size_t i = 0; i < o->n_nfs; i++) {
        struct ys_outbox_nf *f = o->nfs[i];
        struct ys_attempt *at = &f->at;
        if (!at->active || !at->exec)
            continue;
        struct ys_notify_proc *p = &at->proc;
        ys_notify_proc_drain(p);
        int status = 0;
        if (ys_notify_proc_reap(p, &status)) {
            ys_notify_proc_drain(p);
            bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!ok)
                ys_notify_proc_describe(p, status, &at->err);
            finish(o, f, ok, now_ms);
        } else if (now_ms >= at->deadline_ms) {
            ys_notify_proc_kill(p);
            char t[32];
            ys_duration_format(f->conf->timeout_ms, t, sizeof t);
            ys_err_set(&at->err, YS_ETIMEDOUT, "killed after the timeout of %s", t);
            finish(o, f, false, now_ms);
        }
    }
}
