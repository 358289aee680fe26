/*
 * lease.h - the single-notifier lease: of the daemons sharing one store,
 * one at a time holds the lease "notifier" and runs alert evaluation and
 * notification delivery; the others probe and write results only.
 *
 * The lease is a row in the store (store.h `lease`) with an expiry from
 * the store's clock. A thread of its own, with a store connection of its
 * own, takes or renews it every ttl/3, so a slow or unreachable database
 * never blocks the loop. The loop learns of every change through an async
 * handle and calls the callback.
 *
 * Safety: a holder considers the lease lost at (send time of its last
 * successful renewal) + 3/4 ttl, measured on its own monotonic clock, and
 * a timer on the loop enforces that even while the lease thread hangs in
 * the database. The store expires the lease no sooner than that send time
 * + ttl (its clock starts later), so the old holder stops before another
 * can take over: two daemons never both believe they hold it. docs/ha.md
 * walks through the timeline.
 *
 * With a store that has no lease function (NULL in its type), the daemon
 * holds the lease alone from the start, and nothing runs.
 */
#ifndef YS_HA_LEASE_H
#define YS_HA_LEASE_H

#include "config/model.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct ys_lease;

/* Called on the loop thread when this daemon gains (held true) or loses
 * the lease. Not called for the state ys_lease_start found: read that
 * with ys_lease_held right after it returns. */
typedef void (*ys_lease_cb)(bool held, void *arg);

/* Opens a store connection (cfg->storage) for the lease thread, tries to
 * take the lease once (so ys_lease_held answers at once), then starts the
 * thread. cfg is borrowed (instance id and lease_ttl are copied). Returns
 * 0 and *out, or a negative code with err (the callback is then never
 * called). Loop thread. */
int ys_lease_start(uv_loop_t *loop, const struct ys_config *cfg, ys_lease_cb cb, void *arg,
                   struct ys_lease **out, struct ys_err *err);
/* As ys_lease_start, for the lease `name` (ys_lease_start is this with
 * YS_LEASE_NOTIFIER and no gate). With a gate (borrowed; stop this lease
 * before it), the lease is taken and believed only while the gate is
 * believed held, and released when it is not: the notifier lease is gated
 * on the partition lease, so the notifier always probes. */
int ys_lease_start_named(uv_loop_t *loop, const struct ys_config *cfg, const char *name,
                         const struct ys_lease *gate, ys_lease_cb cb, void *arg,
                         struct ys_lease **out, struct ys_err *err);
/* The partition lease's name for cfg's instance:
 * "probe/<location>/<i>-<n>" ("default" and 0-0 without location and
 * shard). Only its holder probes the partition's checks, so two daemons
 * never write one series (docs/ha.md, "One writer per partition"). */
void ys_lease_partition_name(const struct ys_config *cfg, char *buf, size_t size);
/* Makes the thread try at once rather than at its next period (after the
 * gate changed). Loop thread. */
void ys_lease_kick(struct ys_lease *l);
/* Switches to the lease `name` (a reload changed the partition): the old
 * one counts as lost now (the callback says so) and is released by the
 * thread, which then tries the new one. Loop thread. */
void ys_lease_rename(struct ys_lease *l, const char *name);
/* Whether this daemon holds the lease now (its deadline included). Loop
 * thread. */
bool ys_lease_held(const struct ys_lease *l);
/* How many times the lease was gained or lost since start (the state
 * found at start is not counted). Loop thread. */
uint64_t ys_lease_changes(const struct ys_lease *l);
/* Stops the thread, releasing the lease if held (stop whatever needs the
 * lease first), and closes the handles; l frees itself once they are
 * closed, so run the loop afterwards. The callback is not called again.
 * Loop thread. NULL is a no-op. */
void ys_lease_stop(struct ys_lease *l);

/* The name of the lease in the store. */
#define YS_LEASE_NOTIFIER "notifier"

#endif
