/*
 * outbox.h - the thread that delivers alert notifications at least once,
 * through the persistent outbox in the store. See src/notify/notify.h for
 * the flow and the event document.
 */
#ifndef YS_OUTBOX_OUTBOX_H
#define YS_OUTBOX_OUTBOX_H

#include "config/model.h"
#include "core/err.h"
#include "notify/notify.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

enum ys_alert_event_kind { YS_EVENT_FIRING = 0, YS_EVENT_RESOLVED, YS_EVENT_REPEAT };

struct ys_outbox_stats_one {
    char name[YS_NOTIFIER_NAME_MAX];
    uint64_t delivered, attempts_failed, given_up, rate_limited;
    uint64_t pending; /* rows pending at the last pass */
};

struct ys_outbox_stats {
    size_t n;
    struct ys_outbox_stats_one *v; /* owned by the caller after ys_outbox_stats; free() it */
    uint64_t submitted, dropped;   /* dropped: the submit queue was full */
};

struct ys_outbox;

/* Opens a store connection of its own (kind and opt as the writer's) and
 * starts the thread, which first resumes every pending row and every
 * firing alert (for alertmanager re-posts). cfg is referenced. */
int ys_outbox_start(struct ys_config *cfg, const char *store_kind,
                    const struct ys_store_options *opt, const char *base_url,
                    struct ys_outbox **out, struct ys_err *err);
/* Swaps in a reloaded config (its notifiers by name). Any thread. */
void ys_outbox_apply(struct ys_outbox *n, struct ys_config *cfg);
/* Queues an alert's new state for its notifiers (names borrowed, copied).
 * rec->doc is the event document without status/repeat/event_at, which
 * the thread adds. Thread-safe, never blocks on I/O. Returns 0 or YS_EBUSY
 * (queue full: dropped and counted; the evaluator retries at its next
 * pass because the alert's state was not committed). */
int ys_outbox_submit(struct ys_outbox *n, const struct ys_alert_record *rec,
                     enum ys_alert_event_kind kind, const char *const *notifiers,
                     size_t n_notifiers);
/* Blocks until everything submitted so far is committed to the outbox
 * (tests, shutdown). */
void ys_outbox_flush(struct ys_outbox *n);
void ys_outbox_stats(struct ys_outbox *n, struct ys_outbox_stats *out);
/* Commits what was submitted, stops the thread (attempts in flight are
 * abandoned and stay pending), closes the store, frees n. NULL is a no-op. */
void ys_outbox_stop(struct ys_outbox *n);

#endif
