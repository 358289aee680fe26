/*
 * report.h - the report model: a plain snapshot of goals (by area),
 * milestones, SLOs, incidents and actions at one instant, built from the
 * store by the query layer, then rendered as a table, Markdown or JSON.
 *
 * Building reads the store; rendering is pure formatting of the model.
 */
#ifndef YS_REPORT_REPORT_H
#define YS_REPORT_REPORT_H

#include "query/query.h"

#include <stdbool.h>
#include <stdio.h>

struct ys_report_goal {
    const struct ys_goal *goal; /* borrowed from the config */
    struct ys_goal_eval eval;
    char current[48];                  /* the measured value in the target's unit, or "" */
    const char *arrow;                 /* "↑", "↓", "→" or "" (no trend) */
    char spark[YS_TREND_DAYS * 3 + 1]; /* a sparkline of the trend (UTF-8) */
};

struct ys_report_area {
    const char *name; /* borrowed; "" for goals without one */
    size_t *goals;    /* indices into report->goals, in config order */
    size_t n_goals;
};

struct ys_report_milestone {
    const struct ys_milestone *m;
    size_t n_met, n_goals;
    double progress; /* share of its goals met, 0..1 */
    enum ys_goal_status status;
};

struct ys_report_slo {
    const struct ys_slo *slo;
    struct ys_slo_status st;
};

struct ys_report_check_incidents {
    const struct ys_check *check;
    struct ys_incident_stats stats;
};

struct ys_report {
    const struct ys_config *cfg; /* borrowed: must outlive the report */
    char title[128];
    int64_t at_ms;
    char at_text[40];          /* at_ms in RFC 3339, UTC */
    int64_t incidents_from_ms; /* the incident summary covers [from, at) */
    struct ys_report_goal *goals;
    size_t n_goals;
    struct ys_report_area *areas;
    size_t n_areas;
    struct ys_report_milestone *milestones;
    size_t n_milestones;
    struct ys_report_slo *slos;
    size_t n_slos;
    struct ys_incident_stats incidents;                /* every check together */
    struct ys_report_check_incidents *check_incidents; /* checks with incidents only */
    size_t n_check_incidents;
    size_t n_status[YS_GOAL_MISSED + 1]; /* goals per status */
};

#define YS_REPORT_INCIDENT_DAYS 30

/* Builds the report of cfg at at_ms. s may be NULL (no store yet): every
 * figure is then "no data". The checks' store_id must be resolved (0 for a
 * check the store does not know). Returns 0 and an owned report (free with
 * ys_report_free), or a negative code with err filled. */
int ys_report_build(struct ys_store *s, const struct ys_config *cfg, const struct ys_tz *tz,
                    int64_t at_ms, struct ys_report **out, struct ys_err *err);
void ys_report_free(struct ys_report *r);

/* The status mark of Markdown reports: ✅ met, 🟢 on track, 🟠 at risk,
 * ❌ missed, ⚪ no data. */
const char *ys_report_status_mark(enum ys_goal_status s);

/* Parses --at: "YYYY-MM-DD" is the end of that day (the next local
 * midnight) in tz; RFC 3339 ("2025-06-30T12:00:00Z", "+02:00" offsets,
 * fractions) is that instant. Returns 0 or YS_EINVAL. */
int ys_report_parse_at(const char *s, const struct ys_tz *tz, int64_t *out_ms);

/* Renderers. color: ANSI colours in the table (the caller decides: a
 * terminal and NO_COLOR unset). */
void ys_report_write_table(FILE *out, const struct ys_report *r, bool color);
void ys_report_write_markdown(FILE *out, const struct ys_report *r);
void ys_report_write_json(FILE *out, const struct ys_report *r);

#endif
