/*
 * tz.h - time zones from the system's TZif files (/usr/share/zoneinfo),
 * loaded once into a plain table that pure code (slo/window.c) can use.
 *
 * Why by hand: glibc only converts through the process-wide TZ variable
 * (tzset/localtime_r), which cannot serve two zones at once and is not safe
 * to switch while other threads convert times. A TZif reader is small: a
 * list of transitions plus, for times past the last one, the POSIX TZ rule
 * in the file's footer.
 */
#ifndef YS_CORE_TZ_H
#define YS_CORE_TZ_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* A POSIX TZ rule "STDoffset[DST[offset],start[/time],end[/time]]" with
 * Mm.w.d dates, as found in TZif footers. */
struct ys_tz_rule {
    int32_t std_offset_s; /* seconds east of UTC */
    int32_t dst_offset_s;
    int has_dst;
    int start_month, start_week, start_wday, start_time_s; /* Mm.w.d/time, local std time */
    int end_month, end_week, end_wday, end_time_s;         /* local dst time */
};

struct ys_tz {
    char name[64];
    size_t n;             /* transitions */
    int64_t *at;          /* UTC seconds of each transition, ascending */
    int32_t *offset;      /* offset in force from at[i] on, seconds east of UTC */
    int32_t first_offset; /* before the first transition */
    int has_rule;
    struct ys_tz_rule rule; /* after the last transition */
};

/* Loads zone name ("UTC", "Europe/Berlin") from dir (NULL: /usr/share/zoneinfo).
 * Returns 0 or YS_ENOTFOUND / YS_EINVAL with err filled. Free with ys_tz_free. */
int ys_tz_load(const char *name, const char *dir, struct ys_tz *out, struct ys_err *err);
/* The UTC zone, without touching the disk. */
void ys_tz_utc(struct ys_tz *out);
void ys_tz_free(struct ys_tz *tz);
/* Offset (seconds east of UTC) in force at UTC time t_s. Pure. */
int32_t ys_tz_offset_at(const struct ys_tz *tz, int64_t t_s);
/* UTC seconds of local wall time (y, m 1-12, d, hh:mm:ss) in tz; for a
 * local time that occurs twice the earlier, for one skipped by a DST gap
 * the instant just after the gap. Pure. */
int64_t ys_tz_local_to_utc(const struct ys_tz *tz, int y, int m, int d, int hh, int mm, int ss);
/* Splits UTC time t_s into local calendar fields in tz. Pure. */
void ys_tz_utc_to_local(const struct ys_tz *tz, int64_t t_s, int *y, int *m, int *d, int *hh,
                        int *mm, int *ss);

/* Parses a POSIX TZ rule as found in TZif footers ("CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+01>-1"). Only Mm.w.d dates; Jn and n forms are rejected. Returns 0 or
 * YS_EINVAL with err filled. Pure. */
int ys_tz_rule_parse(const char *s, struct ys_tz_rule *r, struct ys_err *err);

#endif
