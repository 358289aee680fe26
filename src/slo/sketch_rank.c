/*
 * sketch_rank.c - the rank of a threshold in a DDSketch: the number of
 * values at most x, used by latency SLIs ("the share of probes faster than
 * 2s") on merged rollup sketches.
 *
 * A bucket counts whole or not at all: it counts when its representative
 * value, 2 * gamma^i / (gamma + 1) (the value ys_sketch_quantile reads back
 * for it), is <= x. So a threshold and a quantile agree: if the P95 read
 * from a sketch is <= x, at least 95% of its values count here.
 *
 * Pure; any thread, one owner of the sketch at a time.
 */
#include "slo/sketch_rank.h"

#include "slo/sketch.h"

#include <math.h>

uint64_t ys_sketch_count_at_most(const struct ys_sketch *s, double x)
{
    if (!s || !(x >= 0))
        return 0;
    const double a = YS_SKETCH_RELATIVE_ACCURACY;
    const double lg = log((1 + a) / (1 - a));
    const double gamma = (1 + a) / (1 - a);
    uint64_t n = ys_sketch_zero_count(s);
    size_t cursor = 0;
    int32_t index;
    uint64_t count;
    while (ys_sketch_next_bin(s, &cursor, &index, &count)) {
        double rep = 2 * exp(index * lg) / (gamma + 1);
        if (rep > x)
            break; /* buckets come in increasing order */
        n += count;
    }
    return n;
}
