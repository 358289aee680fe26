/*
 * pace.h - when the outbox may try again: retry backoff and per-notifier
 * rate limits. Pure functions of their inputs (the caller passes the clock
 * and the random draw), so the unit tests check them with tables.
 */
#ifndef YS_OUTBOX_PACE_H
#define YS_OUTBOX_PACE_H

#include <stdint.h>

#define YS_BACKOFF_BASE_MS 1000
#define YS_BACKOFF_MAX_MS (5 * 60 * 1000)

/* The wait before the next attempt after `attempts` failed ones (>= 1):
 * 1 s doubling to at most 5 min, times 0.8 + 0.4 * u for u in [0, 1)
 * (+/-20% jitter, so notifications that failed together do not all retry
 * in the same instant). */
int64_t ys_backoff_ms(int attempts, double u);

/* A token bucket: `rate` attempts per `window_ms`, in bursts of up to
 * `rate`. rate 0 means no limit. */
struct ys_bucket {
    int64_t rate, window_ms;
    double tokens;
    int64_t last_ms; /* when tokens was last brought up to date */
};

/* Starts full at now_ms. */
void ys_bucket_init(struct ys_bucket *b, int64_t rate, int64_t window_ms, int64_t now_ms);
/* Takes one token if there is one and returns 0; otherwise returns how
 * many ms until there will be one (>= 1), taking nothing. */
int64_t ys_bucket_take(struct ys_bucket *b, int64_t now_ms);

#endif
