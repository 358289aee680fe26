/*
 * goal_promql.h - goal measures computed by PromQL (measure: { promql: ...
 * }): the pure parts (merging the sources' values, the window as a PromQL
 * duration, $window substitution; goal_promql_merge.c) and the evaluation
 * against the sources (goal_promql.c). Query layer only.
 */
#ifndef YS_QUERY_GOAL_PROMQL_H
#define YS_QUERY_GOAL_PROMQL_H

#include "query/query.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One source's answer: the sum of its series' finite values and their
 * count; n == 0 is "no series" (the source is left out of the merge). */
struct ys_pq_value {
    double sum;
    size_t n;
};

/* Merges the sources v[0..n) that have series: min / max of their means,
 * the mean of their means (avg), or sum of sums / sum of counts
 * (weighted: each source weighted by its series count). Returns false,
 * and leaves *out alone, when no source has a series: no data, never 0. */
bool ys_pq_merge(enum ys_measure_merge m, const struct ys_pq_value *v, size_t n, double *out);

/* ms as a PromQL duration in the largest unit that divides it exactly
 * (30d, 36h, 90m, 45s, 1500ms); at least 1ms. */
void ys_pq_duration(int64_t ms, char *out, size_t cap);

/* query with every $window (not followed by a letter, digit or _) replaced
 * by window. Returns owned (free). */
char *ys_pq_expand(const char *query, const char *window);

/* Evaluates a promql goal at now_ms: the merged value now (*has, *value),
 * and the daily trend at ends[0..n_ends) (the local day ends before now)
 * into out->trend; a source that failed or had no series is named in
 * out->note and logged, and left out. Every request is bounded by the
 * source's timeout (else defaults.timeout). Never fails: a source that
 * cannot answer is no data. */
void ys_query_goal_promql(const struct ys_config *cfg, const struct ys_goal *g,
                          const struct ys_tz *tz, int64_t now_ms, const int64_t *ends,
                          size_t n_ends, bool *has, double *value, struct ys_goal_eval *out);

#endif
