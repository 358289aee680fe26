/*
 * sketch_rank.h - how many values of a latency sketch are at most x. Pure.
 */
#ifndef YS_SLO_SKETCH_RANK_H
#define YS_SLO_SKETCH_RANK_H

#include <stdint.h>

struct ys_sketch;

/* Number of values in s whose bucket's representative value (the one
 * ys_sketch_quantile returns for it) is <= x; the zero bucket counts when
 * x >= 0. Within the sketch's 1% relative error of the exact count's edge. */
uint64_t ys_sketch_count_at_most(const struct ys_sketch *s, double x);

#endif
