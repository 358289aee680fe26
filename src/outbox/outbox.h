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

/* The stats entry of rows whose notifier is not in the config (a name no
 * notifier can have): they are kept pending until the config's largest
 * max_age in case the notifier comes back, then given up and counted here. */
#define YS_OUTBOX_REMOVED "(removed)"

struct ys_outbox_stats {
    size_t n;                      /* one per configured notifier, then YS_OUTBOX_REMOVED */
    struct ys_outbox_stats_one *v; /* owned by the caller after ys_outbox_stats; free() it */
    uint64_t submitted, dropped;   /* dropped: the submit queue was full */
};

struct ys_outbox;

/* How an outbox runs. All zero is the daemon's: every pending row, rows of
 * notifiers the config lacks given up once older than its largest max_age,
 * Alertmanager re-posts. A command that runs beside a daemon on its store
 * (notify send) delivers only its own alert's rows and leaves the rest,
 * orphans and re-posts included, to the daemon. */
struct ys_outbox_options {
    const char *base_url; /* the dashboard, for the events' link; NULL: none (copied) */
    const char *only_key; /* deliver only this alert key's rows; NULL: every row (copied) */
    bool no_orphans;      /* leave rows of notifiers the config lacks alone */
    bool no_reposts;      /* no Alertmanager re-posts (the firing set is not loaded) */
};

/* Opens a store connection of its own (kind and opt as the writer's) and
 * starts the thread, which first resumes every pending row and, unless
 * oo says otherwise, every firing alert (for alertmanager re-posts) and
 * the rows of notifiers the config lacks. cfg is referenced; oo borrowed. */
int ys_outbox_start(struct ys_config *cfg, const char *store_kind,
                    const struct ys_store_options *opt, const struct ys_outbox_options *oo,
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
