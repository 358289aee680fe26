/*
 * codec.h - compact byte encodings used by the store: varints, raw result
 * chunks and packed minute rollups. No SQLite in here: the codec is pure,
 * so it is tested (and could be reused by another backend) without a db.
 *
 * A chunk is a byte stream of results of one check, each encoded as the
 * difference from the previous one (struct ys_chunk_state). The stream is
 * self-contained: decoding starts from a zeroed state, so the store keeps
 * only the state after the last record in memory and can rebuild it by
 * decoding the chunk.
 */
#ifndef YS_STORE_CODEC_H
#define YS_STORE_CODEC_H

#include "core/result.h"

#include <stddef.h>
#include <stdint.h>

struct ys_sketch;

/* A growable byte buffer (owned; free with ys_buf_free). */
struct ys_buf {
    unsigned char *p;
    size_t len, cap;
};

void ys_buf_free(struct ys_buf *b);
void ys_buf_put(struct ys_buf *b, const void *data, size_t n);
void ys_buf_put_varint(struct ys_buf *b, uint64_t v);
/* Zigzag varint: small magnitudes of either sign take one byte. */
void ys_buf_put_zz(struct ys_buf *b, int64_t v);

/* A bounded reader: every get fails with YS_EINVAL rather than read past
 * len. */
struct ys_reader {
    const unsigned char *p;
    size_t len, pos;
};

int ys_rd_varint(struct ys_reader *r, uint64_t *out);
int ys_rd_zz(struct ys_reader *r, int64_t *out);

/* Dictionary ids of a result's texts (0 is the empty string). */
struct ys_text_ids {
    uint32_t message, subject, issuer;
};

/* What the next record of a chunk is encoded against. Zero it for a new
 * chunk. */
struct ys_chunk_state {
    int64_t ts, ts_delta;
    int64_t bytes;
    double value;
    int64_t leaf_na, earliest_na;
    uint32_t subject, issuer;
    uint16_t status;
    uint8_t phase_mask;
};

/* Appends r to out, advancing st. r->check_id is not stored (the chunk row
 * has it); texts are stored as the ids in ids. */
void ys_chunk_encode(struct ys_chunk_state *st, const struct ys_result *r,
                     const struct ys_text_ids *ids, struct ys_buf *out);
/* Decodes the next record from rd into r (texts left empty, their ids in
 * *ids). Returns 0 or YS_EINVAL on malformed input. */
int ys_chunk_decode(struct ys_chunk_state *st, struct ys_reader *rd, struct ys_result *r,
                    struct ys_text_ids *ids);

/* One bucket's aggregates (minute, hour or day). */
struct ys_agg {
    int64_t bucket_ms;
    uint64_t total, ok;
    int64_t sum_us;
    struct ys_sketch *sketch; /* owned by whoever filled the struct */
};

/* Minute rollups are packed per check and UTC hour into one blob: a list
 * of entries (minute within the hour, counts, sum, sketch), the sketch's
 * first bucket coded against the previous entry's (*ctx, 0 for the first
 * entry). A minute may appear more than once (a late result after the
 * minute was closed); readers merge such entries. */
void ys_minute_encode(const struct ys_agg *a, int64_t hour_ms, int32_t *ctx,
                      struct ys_buf *out);
/* Decodes one entry into a (a->sketch is allocated, owned by the caller).
 * Returns 0 or YS_EINVAL. */
int ys_minute_decode(struct ys_reader *rd, int64_t hour_ms, int32_t *ctx, struct ys_agg *a);

/* Merges the sketch `add` into `enc`, an encoding made by ys_sketch_encode,
 * without decoding it into a dense sketch: a merge of two sorted bucket
 * lists. The bytes are exactly those of ys_sketch_encode(decode(enc) + add).
 * Returns an owned buffer (free with free()) and its length in *len, or
 * NULL when it cannot promise that: enc is malformed or of another format
 * version, or the merged buckets span so wide a range that sketch.c might
 * collapse some (then decode, ys_sketch_merge and encode instead). */
unsigned char *ys_codec_sketch_merge(const unsigned char *enc, size_t enc_len,
                                     const struct ys_sketch *add, size_t *len);

#endif
