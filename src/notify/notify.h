/*
 * notify.h - the notifier kinds (webhook, slack, alertmanager, exec): the
 * driver table their configs are parsed by, and the event document they
 * format. Delivery at least once is src/outbox/outbox.h's business:
 *
 * Flow: the alert evaluator on the loop decides an alert fired, resolved
 * or is due a reminder and calls ys_notify_submit (non-blocking: a copy
 * goes into a queue). The notifier thread writes the alert's record and
 * one outbox row per notifier in one transaction of its own store
 * connection, then delivers pending rows: in id order per notifier, one
 * attempt in flight per notifier (so the rows of one alert arrive in
 * order), concurrently across notifiers, retried with exponential backoff
 * and jitter until max_age, then given up (logged, counted). Rows still
 * pending when the daemon stops or dies are delivered after the restart.
 *
 * Alertmanager notifiers also re-post every firing alert every
 * resend_interval with endsAt ahead of now, as Prometheus does, and post
 * it with endsAt = resolved time once resolved.
 *
 * The payload every notifier formats is the event document (JSON):
 *   {"key", "rule", "status": "firing"|"resolved", "repeat": bool,
 *    "labels": {...}, "annotations": {...}, "firing_at", "resolved_at",
 *    "event_at" (RFC 3339 UTC), "url"}
 */
#ifndef YS_NOTIFY_NOTIFY_H
#define YS_NOTIFY_NOTIFY_H

#include "config/model.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

struct ys_node;
struct ys_diag;
struct ys_notifier_ops;

/* A notifier kind: one entry in the table of notify/registry.c. */
struct ys_notifier_type {
    const char *name;
    /* The kind's own keys (besides name, kind, timeout, max_age,
     * rate_limit), NULL-terminated. */
    const char *const *keys;
    /* Reads the kind's fields from the notifier's map node into an owned
     * spec; adds every problem to d and returns YS_ECONFIG if any. */
    int (*parse)(const struct ys_node *n, void **spec, struct ys_diag *d);
    void (*free_spec)(void *spec);
    /* Delivery: private to src/notify (see notifier_int.h). */
    const struct ys_notifier_ops *ops;
};

const struct ys_notifier_type *ys_notifier_type_find(const char *name);
/* NULL-terminated kind names, for "did you mean". */
const char *const *ys_notifier_type_names(void);

#endif
