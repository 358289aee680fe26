/*
 * civil.h - proleptic Gregorian calendar arithmetic (H. Hinnant's
 * days_from_civil / civil_from_days), shared by time zones, due dates,
 * daily trends and the importer. Pure; no time zone.
 */
#ifndef YS_CORE_CIVIL_H
#define YS_CORE_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of y-m-d (m 1-12). Days and months past their
 * range roll over (day 32 of January is February 1). */
int64_t ys_days_from_civil(int64_t y, int m, int d);
/* The date of day z since 1970-01-01. */
void ys_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
int ys_days_in_month(int64_t y, int m);

#endif
