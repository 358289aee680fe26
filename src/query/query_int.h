/*
 * query_int.h - helpers shared by the files of src/query (not for callers
 * outside the query layer).
 */
#ifndef YS_QUERY_QUERY_INT_H
#define YS_QUERY_QUERY_INT_H

#include "query/query.h"

#include "core/civil.h"

#include <stddef.h>
#include <stdint.h>

#define YS_MINUTE_MS 60000LL
#define YS_HOUR_MS 3600000LL
#define YS_DAY_MS 86400000LL

/* A growable list of store check ids. */
struct ys_idlist {
    uint32_t *v;
    size_t n, cap;
};
void ys_idlist_push(struct ys_idlist *l, uint32_t id);
void ys_idlist_free(struct ys_idlist *l);

/* Store ids of the SLO's member checks (those the store knows: id != 0). */
void ys_query_slo_ids(const struct ys_config *cfg, const struct ys_slo *slo, struct ys_idlist *out);
/* Store ids of the checks whose labels hold every pair of sel. */
void ys_query_selector_ids(const struct ys_config *cfg, const struct ys_strmap *sel,
                           struct ys_idlist *out);

/* Incident statistics over the checks ids[0..n) and [from_ms, to_ms). */
int ys_query_incident_stats_ids(struct ys_store *s, const uint32_t *ids, size_t n, int64_t from_ms,
                                int64_t to_ms, int64_t now_ms, struct ys_incident_stats *out,
                                struct ys_err *err);

/* The newest raw result of check id with ts < at_ms and within the raw
 * retention (searched an hour at a time, newest first) that satisfies want
 * (NULL: any). Returns 1 and fills *out, 0 if none, or a negative code. */
typedef int (*ys_result_pred)(const struct ys_result *r);
int ys_query_newest(struct ys_store *s, const struct ys_config *cfg, uint32_t id, int64_t at_ms,
                    ys_result_pred want, struct ys_result *out, struct ys_err *err);

/* Day rollups of ids[0..n) for the UTC days from from_ms (a UTC midnight)
 * on, summed per day into per_day[0..ndays); when sketches is not NULL,
 * each day's durations are merged into sketches[day]. */
int ys_query_daily_counts(struct ys_store *s, const uint32_t *ids, size_t n, int64_t from_ms,
                          size_t ndays, int64_t latency_threshold_us, struct ys_counts *per_day,
                          struct ys_sketch **sketches, struct ys_err *err);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), and
 * back; any day count, so date arithmetic is plain addition. */

#endif
