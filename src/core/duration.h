/*
 * duration.h - parse and format the durations users type: 250ms, 30s, 5m, 1h, 7d.
 *
 * Compound forms such as "1h30m" are accepted; a bare number is rejected so
 * that "30" is never silently read as 30 ms or 30 s.
 */
#ifndef YS_CORE_DURATION_H
#define YS_CORE_DURATION_H

#include <stdint.h>

/* Parses s into milliseconds. Returns 0, or YS_EINVAL for anything else
 * (empty, no unit, unknown unit, overflow, negative). */
int ys_duration_parse(const char *s, int64_t *out_ms);
/* Formats ms the way a user would write it ("1h30m", "250ms") into buf. */
char *ys_duration_format(int64_t ms, char *buf, unsigned size);

#endif
