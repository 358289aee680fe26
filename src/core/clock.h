/*
 * clock.h - the two clocks: wall time for timestamps, monotonic for durations.
 *
 * Timestamps are milliseconds since the Unix epoch, UTC. Durations are
 * measured in microseconds from CLOCK_MONOTONIC and never from wall time,
 * so an NTP step cannot make a probe take negative time.
 */
#ifndef YS_CORE_CLOCK_H
#define YS_CORE_CLOCK_H

#include <stdint.h>

/* Wall clock, milliseconds since the epoch (UTC). */
int64_t ys_wall_ms(void);
/* Monotonic clock, microseconds since an arbitrary start. */
int64_t ys_mono_us(void);
/* Formats an epoch-ms timestamp as RFC 3339 UTC ("2026-11-29T20:17:25.123Z")
 * into buf (at least 32 bytes). Returns buf. */
char *ys_format_time(int64_t ms, char *buf, unsigned size);

#endif
