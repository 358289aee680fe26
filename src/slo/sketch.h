/*
 * sketch.h - a mergeable latency sketch with bounded relative error (DDSketch).
 *
 * Values (durations in microseconds, or any non-negative number) fall into
 * logarithmic buckets: bucket i holds values in (gamma^(i-1), gamma^i] with
 * gamma = (1 + a) / (1 - a) and a = 0.01, so any quantile read back is
 * within 1% of a value the sketch was given (relative error <= a). Values
 * below YS_SKETCH_MIN_VALUE count in a zero bucket. Sketches of adjacent
 * buckets merge exactly: the P95 of a year is the P95 of merged days.
 *
 * Pure: no I/O, no globals. Not thread-safe; one owner at a time.
 */
#ifndef YS_SLO_SKETCH_H
#define YS_SLO_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define YS_SKETCH_RELATIVE_ACCURACY 0.01
#define YS_SKETCH_MIN_VALUE 1e-9

struct ys_sketch;

/* Returns an owned, empty sketch (free with ys_sketch_free). */
struct ys_sketch *ys_sketch_new(void);
void ys_sketch_free(struct ys_sketch *s);
void ys_sketch_clear(struct ys_sketch *s);
struct ys_sketch *ys_sketch_clone(const struct ys_sketch *s);

/* Adds value count times (negative values count as zero). */
void ys_sketch_add(struct ys_sketch *s, double value, uint64_t count);
/* Adds every count of from into into. */
void ys_sketch_merge(struct ys_sketch *into, const struct ys_sketch *from);
uint64_t ys_sketch_count(const struct ys_sketch *s);
/* The q-quantile (0 <= q <= 1); NAN when the sketch is empty. */
double ys_sketch_quantile(const struct ys_sketch *s, double q);

/* Serialises s compactly (sparse buckets, varints). Returns an owned
 * buffer (free with free()) and its length in *len. */
unsigned char *ys_sketch_encode(const struct ys_sketch *s, size_t *len);
/* Parses an encoded sketch. Returns 0 and an owned sketch, or YS_EINVAL on
 * malformed input (never reads past len). */
int ys_sketch_decode(const unsigned char *buf, size_t len, struct ys_sketch **out);

/* Low-level bucket access, for codecs that pack many sketches together
 * (store/codec.c). Indices are the logarithmic bucket numbers above. */
#define YS_SKETCH_INDEX_LIMIT 60000 /* |index| beyond this is malformed */
/* Count of values in the zero bucket. */
uint64_t ys_sketch_zero_count(const struct ys_sketch *s);
/* Iterates the non-empty buckets in increasing index order. Start with
 * *cursor = 0; returns 1 and fills *index and *count, or 0 at the end. */
int ys_sketch_next_bin(const struct ys_sketch *s, size_t *cursor, int32_t *index,
                       uint64_t *count);
/* Adds count to bucket index. Returns YS_EINVAL (and adds nothing) when
 * |index| > YS_SKETCH_INDEX_LIMIT. */
int ys_sketch_add_bin(struct ys_sketch *s, int32_t index, uint64_t count);
/* Adds count values to the zero bucket. */
void ys_sketch_add_zero(struct ys_sketch *s, uint64_t count);

#endif
