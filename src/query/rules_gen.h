/*
 * rules_gen.h - Prometheus recording and alerting rules for the SLOs of a
 * config, over the metrics yardstick exports on /metrics, or the same SLOs
 * as a Sloth `prometheus/v1` spec (`yardstick rules`, docs/rules.md).
 *
 * The alert conditions are the windows of yardstick's own (slo/slo_math.h):
 * page when the 1h and 5m error ratios are both above 14.4 times the error
 * budget or the 6h and 30m ones above 6 times; ticket for 3x over 1d and
 * 2h or 1x over 3d and 6h. Those factors are the SRE workbook's for a
 * 30-day SLO (2%, 5%, 10% and 10% of the budget spent in the long
 * window); by default they are scaled to the SLO's own period so that the
 * shares stay the same, as Sloth does (YS_RULES_FACTORS_WINDOW).
 * Pure: config in, text out; any thread.
 */
#ifndef YS_QUERY_RULES_GEN_H
#define YS_QUERY_RULES_GEN_H

#include "config/model.h"
#include "core/err.h"
#include "slo/slo_math.h"

#include <stddef.h>
#include <stdint.h>

enum ys_rules_format { YS_RULES_PROMETHEUS = 0, YS_RULES_SLOTH };

/* How the burn-rate factors follow the SLO's period: WINDOW scales the
 * workbook's 30-day factors by period / 30d (the same share of the budget
 * spent in each long window, Sloth's rule, and yardstick's own slo_burn
 * evaluation's); FIXED keeps 14.4/6/3/1 for every period. */
enum ys_rules_factors { YS_RULES_FACTORS_WINDOW = 0, YS_RULES_FACTORS_FIXED };

#define YS_RULES_DAY_MS INT64_C(86400000)

struct ys_rules_options {
    enum ys_rules_format format;
    const char *slo; /* only the SLO of this name; NULL: every SLO */
    const char
        *matchers; /* label matchers added to every selector, e.g. job="yardstick"; NULL: none */
    const char *service; /* sloth: the spec's service; NULL: "yardstick" */
    int min_events;      /* a window with fewer probes has no ratio (yardstick's is 10); 0: no such
                            clause */
    enum ys_rules_factors factors; /* prometheus format; sloth computes its own */
};

/* The alert's name in the rules (both severities, told apart by the
 * severity label). */
#define YS_RULES_ALERT_NAME "YardstickErrorBudgetBurn"

/* ms as seconds, exactly and without trailing zeros ("0.25", "2",
 * "0.001"): the threshold label of yardstick_check_results_fast_total.
 * Returns buf. */
const char *ys_rules_seconds(int64_t ms, char *buf, size_t size);

/* A duration as Prometheus writes it, in its largest whole unit ("30d",
 * "36h", "90s", "1500ms"). Returns buf. */
const char *ys_rules_duration(int64_t ms, char *buf, size_t size);

/* The label matchers of slo's checks: check="a" for one check,
 * check=~"a|b\\.c" for several, then matchers if not NULL. Returns owned. */
char *ys_rules_selector(const struct ys_config *cfg, const struct ys_slo *slo,
                        const char *matchers);

/* PromQL for the rate of slo's bad events and of all its events over
 * window (a Prometheus duration, or Sloth's "{{.window}}"). Availability:
 * failed probes of yardstick_check_results_total; latency: the probes of
 * the threshold's yardstick_check_results_latency_total minus its passing
 * ones at most the threshold long (yardstick_check_results_fast_total),
 * two counters that start together. Returns owned. */
char *ys_rules_errors_expr(const struct ys_config *cfg, const struct ys_slo *slo,
                           const char *matchers, const char *window);
char *ys_rules_total_expr(const struct ys_config *cfg, const struct ys_slo *slo,
                          const char *matchers, const char *window);

/* The period the factors of slo are scaled to: a rolling window's length;
 * 30 days for a calendar month and 90 for a quarter (nominal lengths: a
 * rule cannot follow the calendar). */
int64_t ys_rules_slo_period_ms(const struct ys_slo *slo);

/* The burn-rate factor of condition c (one of ys_burn_conditions) for
 * slo: c->factor when f is FIXED, else c->factor * period / 30d. */
double ys_rules_burn_factor(const struct ys_slo *slo, const struct ys_burn_condition *c,
                            enum ys_rules_factors f);

/* Renders the rules of cfg (every SLO, or o->slo) as YAML. Returns 0 and
 * an owned NUL-terminated text in *out (its length in *len when not
 * NULL); YS_ENOTFOUND when o->slo names no SLO, YS_EINVAL when the config
 * has no SLO, YS_EINTERNAL when the YAML emitter fails; err says why. */
int ys_rules_render(const struct ys_config *cfg, const struct ys_rules_options *o, char **out,
                    size_t *len, struct ys_err *err);

#endif
