/*
 * combine.h - probes from several locations and the k-of-n verdict.
 *
 * A check with `locations: [home, eu-west, us-east]` is probed by the
 * daemon of each of those locations; each stores its results as a series
 * of its own, named "<check>@<location>" in the store. The check's own
 * name holds the combined verdict, which only the lease holder writes:
 * the combiner (combine.c, a thread of its own) reads the locations'
 * results of each interval slot from the store and hands one combined
 * result per slot to the loop, which treats it like a probe result
 * (writer, live state, incidents, alerts). docs/ha.md, "Locations".
 *
 * Three parts: the pure verdict of one slot (combine_verdict.c), the
 * store ids of the per-location series (combine_ids.c), and the combiner
 * thread (combine.c).
 */
#ifndef YS_HA_COMBINE_H
#define YS_HA_COMBINE_H

#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Store names "<check>@<location>" are at most this long (with the NUL). */
#define YS_LOC_NAME_MAX 272

/* Extra time after a slot's probes could have finished (slot end +
 * timeout) before the combiner stops waiting for late locations. */
#define YS_COMBINE_GRACE_MS 5000

/* ---- the verdict (pure) ---- */

/* The combined result of one slot. locations[i] names location i and
 * results[i] is its result in the slot, or NULL when it reported none.
 * A missing location is unknown, not failed: n is the count of those that
 * reported, and the check is down when at least k of them failed (k = 0
 * means all n of them; with fewer than k reporting it is not down). A
 * location whose result says "no data" counts as missing.
 * Fills out (check_id and ts_ms are the caller's): duration is the median
 * of the reported durations; message names the failing locations; facts
 * are {"locations":{"home":"ok","eu-west":"connect: refused"}} (missing
 * ones "no result"). Returns how many locations reported; with 0, out
 * holds a NO_DATA result. */
size_t ys_combine_verdict(const char *const *locations, const struct ys_result *const *results,
                          size_t n, int k, struct ys_result *out);

/* The start of the slot holding t for a check of this name and interval.
 * Slots are interval long and aligned to the interval, shifted by the
 * check's stable phase (sched/) so that the instant every location probes
 * sits in the middle of the slot: a probe a few ms early or late stays in
 * its slot. The combined result is stamped at the middle. */
int64_t ys_combine_slot_start(const char *name, int64_t interval_ms, int64_t t_ms);

/* ---- which checks, which series ---- */

/* This daemon's location (instance.location; "default" when unset). */
const char *ys_combine_my_location(const struct ys_config *cfg);
/* Whether this daemon probes ck: a check without locations everywhere,
 * one with locations only where instance.location is among them. */
bool ys_combine_probes_here(const struct ys_config *cfg, const struct ys_check *ck);

/* Registers "<check>@<location>" in store for every location of every
 * multi-location check of cfg, and remembers the ids of this daemon's own
 * series (any thread; a cache shared by the process under a lock, since
 * the store's name -> id mapping never changes). Returns 0 or a store
 * error. */
int ys_combine_register(struct ys_store *store, const struct ys_config *cfg, struct ys_err *err);
/* The store id of this daemon's own series of multi-location check ck, or
 * 0 when not registered (or ck has no locations). Never blocks on I/O. */
uint32_t ys_combine_own_id(const struct ys_config *cfg, const struct ys_check *ck);
/* The cached store id of series "<check>@<location>", or 0. */
uint32_t ys_combine_series_id(const char *check, const char *location);
/* Forgets the cached ids (tests; process exit). */
void ys_combine_ids_clear(void);

/* ---- the combiner (the lease holder's) ---- */

struct ys_combiner;

/* Called on the loop thread with each combined result (borrowed); name is
 * the check's. */
typedef void (*ys_combine_result_cb)(const char *name, const struct ys_result *r, void *arg);

/* Returns an owned combiner on loop, idle until ys_combiner_resume. kind
 * and opt say which store to read (copied). Loop thread. */
struct ys_combiner *ys_combiner_new(uv_loop_t *loop, const char *kind,
                                    const struct ys_store_options *opt, ys_combine_result_cb cb,
                                    void *arg);
/* Makes cfg the config to combine (takes a reference); on reload too. */
void ys_combiner_apply(struct ys_combiner *c, struct ys_config *cfg);
/* Starts combining (the lease was won): a thread of its own opens a read
 * connection and first finds, per check, the newest combined result in
 * the store, so a new leader goes on where the old one stopped. A no-op
 * when running. */
void ys_combiner_resume(struct ys_combiner *c);
/* Stops combining (the lease was lost): joins the thread; combined
 * results not yet handed to the loop are dropped (the next leader makes
 * them again). A no-op when idle. */
void ys_combiner_pause(struct ys_combiner *c);
/* Pauses and closes the combiner; it frees itself once its loop handle is
 * closed (run the loop). NULL is a no-op. */
void ys_combiner_close(struct ys_combiner *c);
/* Whether the combiner runs (tests, the API). */
bool ys_combiner_running(const struct ys_combiner *c);

#endif
