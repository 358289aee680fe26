/*
 * alert.h - the alert evaluator: turns what the loop learns (results,
 * incidents, heartbeat states) and what the periodic plan evaluation finds
 * (SLO burn rates, goal statuses, milestones) into alerts with a stable
 * identity, and hands each change of state to the outbox.
 *
 * Each alert is keyed "rule/subject" (rule name, then the check, SLO, goal
 * or milestone it is about). De-duplication: one notification per state
 * change (firing, a new level such as a lower certificate threshold, or
 * resolved); reminders every repeat_interval while firing; nothing while
 * a maintenance window covers the subject (a firing alert notifies once
 * the window ends, if it still fires). Flapping checks do not storm:
 * check_down follows the incident rule (N failures open, M successes
 * close), not single results.
 *
 * Threads: the loop thread only. The plan evaluation reads the store on a
 * libuv threadpool thread and hands its findings back to the loop.
 */
#ifndef YS_ALERT_ALERT_H
#define YS_ALERT_ALERT_H

#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "outbox/outbox.h"
#include "slo/heartbeat.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct ys_alerts;

/* outbox may be NULL (alerts are then tracked but go nowhere). base_url
 * is the dashboard's address for links ("http://127.0.0.1:8080"). */
struct ys_alerts *ys_alerts_new(uv_loop_t *loop, struct ys_outbox *outbox, const char *base_url);
/* Makes cfg the rules in force (takes a reference). Alerts whose rule is
 * gone or whose subject no longer matches are resolved. */
void ys_alerts_apply(struct ys_alerts *a, struct ys_config *cfg, int64_t now_ms);
/* Loads the alerts a previous run left firing, so a restart neither
 * notifies them again nor forgets to resolve them. */
int ys_alerts_resume(struct ys_alerts *a, struct ys_store *store, struct ys_err *err);
/* Starts the timer that sends reminders, ends maintenance suppression and
 * runs the plan evaluation every eval_every_ms (0: 60 s). */
void ys_alerts_start(struct ys_alerts *a, int64_t eval_every_ms);
/* One result of check, with its incident state after the result. */
void ys_alerts_feed_result(struct ys_alerts *a, const struct ys_check *check,
                           const struct ys_result *r, bool incident_open, int64_t now_ms);
/* A heartbeat check's state or problem changed. */
void ys_alerts_feed_heartbeat(struct ys_alerts *a, const struct ys_check *check,
                              enum ys_hb_state state, enum ys_hb_problem problem, int64_t now_ms);
/* Whether check (index into the applied config) is in a maintenance
 * window at now_ms; exclude_only: only windows excluded from SLOs. */
bool ys_alerts_in_maintenance(const struct ys_alerts *a, size_t check, bool exclude_only,
                              int64_t now_ms);
/* Number of alerts firing now. */
size_t ys_alerts_firing(const struct ys_alerts *a);
/* Stops the timers (closing handles on the loop); free after the loop ran. */
void ys_alerts_stop(struct ys_alerts *a);
void ys_alerts_free(struct ys_alerts *a);

#endif
