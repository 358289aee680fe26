/*
 * target.h - typed goal targets: ">= 99.5%", "<= 2s", "< 5m", "60%..80%",
 * "hourly", "yes", "64Mi", "1.12.0". Pure.
 *
 * Measured values are compared in the target's unit: percent as a number of
 * percent (99.5), durations in seconds, sizes in bytes, freshness as the
 * age of the newest success in seconds (hourly = age <= 3600), booleans as
 * 0/1, versions as major*1e6 + minor*1e3 + patch.
 */
#ifndef YS_SLO_TARGET_H
#define YS_SLO_TARGET_H

#include <stdbool.h>
#include <stddef.h>

enum ys_target_op {
    YS_TOP_GE = 0, YS_TOP_GT, YS_TOP_LE, YS_TOP_LT, YS_TOP_EQ,
    YS_TOP_RANGE /* lo <= v <= hi */
};

enum ys_target_unit {
    YS_TU_NUMBER = 0,
    YS_TU_PERCENT,   /* 99.5 means 99.5% */
    YS_TU_SECONDS,
    YS_TU_BYTES,
    YS_TU_FRESHNESS, /* value: age in seconds; lo = allowed age */
    YS_TU_BOOL,      /* 1 yes, 0 no */
    YS_TU_VERSION    /* major*1e6 + minor*1e3 + patch */
};

struct ys_target {
    enum ys_target_op op;
    enum ys_target_unit unit;
    double lo; /* the bound (for RANGE the lower one) */
    double hi; /* RANGE only */
    char text[96]; /* as written, for reports */
};

/* Parses s. Bare forms: "99.5%" means >= 99.5%; "< 5min" <; "Hourly",
 * "Daily", "Weekly", "Monthly", "Quarterly" freshness; "Yes"/"Automated"
 * yes; "60-80%" and "60%..80%" ranges; "2s", "5m", "1h" durations (bare
 * duration means <=); "64Mi", "1Gi", "512MB" sizes (bare size means <=);
 * "1.12.0" version (>=). Returns 0, or YS_EINVAL with why in err. */
int ys_target_parse(const char *s, struct ys_target *out, char *err, size_t errlen);
/* Whether value meets t. */
bool ys_target_met(const struct ys_target *t, double value);
/* +1 when larger values are better, -1 when smaller are, 0 for ranges and
 * booleans (no direction to project along). */
int ys_target_direction(const struct ys_target *t);
/* Formats value in t's unit ("99.52%", "1.8s", "64Mi", "yes", "1.12.0"). */
void ys_target_format_value(const struct ys_target *t, double value, char *buf, size_t size);

#endif
