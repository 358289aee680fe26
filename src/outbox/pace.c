/*
 * pace.c - retry backoff and token buckets (pace.h). Pure; any thread.
 */
#include "outbox/pace.h"

#include <math.h>

int64_t ys_backoff_ms(int attempts, double u)
{
    if (attempts < 1)
        attempts = 1;
    int64_t base = YS_BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && base < YS_BACKOFF_MAX_MS; i++)
        base *= 2;
    if (base > YS_BACKOFF_MAX_MS)
        base = YS_BACKOFF_MAX_MS;
    if (!(u >= 0.0) || u >= 1.0) /* also catches NaN */
        u = 0.5;
    return (int64_t)llround((double)base * (0.8 + 0.4 * u));
}

void ys_bucket_init(struct ys_bucket *b, int64_t rate, int64_t window_ms, int64_t now_ms)
{
    b->rate = rate > 0 && window_ms > 0 ? rate : 0;
    b->window_ms = window_ms;
    b->tokens = (double)b->rate;
    b->last_ms = now_ms;
}

int64_t ys_bucket_take(struct ys_bucket *b, int64_t now_ms)
{
    if (b->rate == 0)
        return 0;
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * (double)b->rate / (double)b->window_ms;
        if (b->tokens > (double)b->rate)
            b->tokens = (double)b->rate;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    double ms = (1.0 - b->tokens) * (double)b->window_ms / (double)b->rate;
    int64_t wait = (int64_t)ceil(ms);
    return wait < 1 ? 1 : wait;
}
