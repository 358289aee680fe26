/*
 * incidents.h - live incident tracking: one state machine (slo/incident.h)
 * per check, fed every result on the loop thread, pushing each incident
 * to the store writer when it opens and again when it closes.
 */
#ifndef YS_LIVE_INCIDENTS_H
#define YS_LIVE_INCIDENTS_H

#include "config/model.h"
#include "core/result.h"
#include "store/store.h"
#include "store/writer.h"

#include <stdint.h>

struct ys_live_incidents;

/* A table pushing to w (borrowed; must outlive the table). Free with
 * ys_live_incidents_free. */
struct ys_live_incidents *ys_live_incidents_new(struct ys_writer *w);
/* Frees the table. Open incidents stay open in the store, to be resumed at
 * the next start. NULL is a no-op. */
void ys_live_incidents_free(struct ys_live_incidents *li);
/* Builds the table from cfg's checks (by store_id; checks with id 0 are
 * skipped), keeping the state of checks already tracked and taking their
 * new open_after/close_after. A removed check's open incident is closed
 * at now_ms, since no result will ever close it. Loop thread. */
void ys_live_incidents_apply(struct ys_live_incidents *li, const struct ys_config *cfg,
                             int64_t now_ms);
/* Resumes the incidents still open in store (from a previous run) on the
 * checks of the table, so a restart does not open a second one. Blocks on
 * the store: call at start, before the loop runs. Returns 0 or an error. */
int ys_live_incidents_resume(struct ys_live_incidents *li, struct ys_store *store,
                             struct ys_err *err);
/* As ys_live_incidents_resume, for the checks want(check_id, arg) says
 * only: a daemon that starts writing a check's incidents after another
 * did (it took over a partition, or the lease for a multi-location
 * check's verdict) resumes what the other left open, so an outage that
 * spans the handover keeps one incident. Blocks on the store. */
int ys_live_incidents_resume_if(struct ys_live_incidents *li, struct ys_store *store,
                                bool (*want)(uint32_t check_id, void *arg), void *arg,
                                struct ys_err *err);
/* Feeds one result of check (its store_id keys the table). Loop thread. */
void ys_live_incidents_feed(struct ys_live_incidents *li, const struct ys_check *check,
                            const struct ys_result *r);
/* Whether the check with store id check_id has an open incident. */
bool ys_live_incidents_is_open(const struct ys_live_incidents *li, uint32_t check_id);

#endif
