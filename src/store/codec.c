/*
 * codec.c - byte encodings of results and minute rollups (see codec.h).
 *
 * A chunk record starts with a varint "head" of bits (below); the common
 * case (same status, same bytes, same certificate, no error) sets only
 * bits 0-1 and fits one byte. Then come: the timestamp as a zigzag
 * delta-of-delta (probes run at a fixed interval, so this is the jitter),
 * the present phases each as a zigzag delta from the previous present one
 * (curl's phase times are cumulative, so these are the phase lengths), the
 * duration as a delta from the last phase, and only the fields whose bit
 * says they changed. Everything is lossless.
 *
 * Decoders validate every field and never read past the reader's end.
 * Pure code, run by whichever thread holds the store connection.
 */
#include "store/codec.h"

#include "core/err.h"
#include "core/xalloc.h"
#include "slo/sketch.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
    H_OK = 1 << 0,
    H_TLS = 1 << 1,
    H_ERR = 1 << 2,      /* errclass and message id follow */
    H_STATUS = 1 << 3,   /* status changed */
    H_BYTES = 1 << 4,    /* bytes changed */
    H_VALUE = 1 << 5,    /* has a value */
    H_VALUE_CH = 1 << 6, /* the value changed */
    H_MASK = 1 << 7,     /* the set of present phases changed */
    H_TRUNC = 1 << 8,
    H_LEAF = 1 << 9,
    H_EARLIEST = 1 << 10,
    H_SUBJECT = 1 << 11,
    H_ISSUER = 1 << 12,
    H_XFLAGS = 1 << 13, /* result flags beyond the known three */
    H_ALL = (1 << 14) - 1
};

#define KNOWN_FLAGS (YS_RF_HAS_VALUE | YS_RF_HAS_TLS | YS_RF_TRUNCATED)

void ys_buf_free(struct ys_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void reserve(struct ys_buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n)
        cap *= 2;
    b->p = ys_xrealloc(b->p, cap);
    b->cap = cap;
}

void ys_buf_put(struct ys_buf *b, const void *data, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

void ys_buf_put_varint(struct ys_buf *b, uint64_t v)
{
    reserve(b, 10);
    while (v >= 0x80) {
        b->p[b->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (unsigned char)v;
}

void ys_buf_put_zz(struct ys_buf *b, int64_t v)
{
    ys_buf_put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

int ys_rd_varint(struct ys_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->len)
            return YS_EINVAL;
        unsigned char c = r->p[r->pos++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return YS_EINVAL;
}

int ys_rd_zz(struct ys_reader *r, int64_t *out)
{
    uint64_t v;
    if (ys_rd_varint(r, &v) < 0)
        return YS_EINVAL;
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

/* Integral values (days left, counts) go as a varint delta; anything else
 * as its 8 raw bytes. -0.0 is not integral here, so it survives. */
static int value_is_small_int(double v)
{
    return v == floor(v) && fabs(v) < 4503599627370496.0 && !(v == 0 && signbit(v));
}

static void put_value(struct ys_buf *out, double v, double prev)
{
    if (value_is_small_int(v) && value_is_small_int(prev)) {
        int64_t d = (int64_t)v - (int64_t)prev;
        ys_buf_put_varint(out, (((uint64_t)d << 1) ^ (uint64_t)(d >> 63)) << 1);
        return;
    }
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    ys_buf_put_varint(out, 1);
    for (int i = 0; i < 8; i++) {
        unsigned char c = (unsigned char)(bits >> (8 * i));
        ys_buf_put(out, &c, 1);
    }
}

static int get_value(struct ys_reader *rd, double prev, double *out)
{
    uint64_t tag;
    if (ys_rd_varint(rd, &tag) < 0)
        return YS_EINVAL;
    if (!(tag & 1)) {
        uint64_t zz = tag >> 1;
        int64_t d = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
        if (!value_is_small_int(prev) || d > (INT64_C(1) << 53) || d < -(INT64_C(1) << 53))
            return YS_EINVAL;
        *out = (double)((int64_t)prev + d);
        return 0;
    }
    if (tag != 1 || rd->len - rd->pos < 8)
        return YS_EINVAL;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)rd->p[rd->pos++] << (8 * i);
    memcpy(out, &bits, sizeof *out);
    return 0;
}

static uint64_t head_of(const struct ys_chunk_state *st, const struct ys_result *r,
                        const struct ys_text_ids *ids, uint8_t mask)
{
    uint64_t h = 0;
    if (r->ok)
        h |= H_OK;
    if (r->errclass || ids->message)
        h |= H_ERR;
    if (r->status != st->status)
        h |= H_STATUS;
    if (r->bytes != st->bytes)
        h |= H_BYTES;
    if (r->flags & YS_RF_HAS_VALUE) {
        h |= H_VALUE;
        if (memcmp(&r->value, &st->value, sizeof r->value) != 0)
            h |= H_VALUE_CH;
    }
    if (mask != st->phase_mask)
        h |= H_MASK;
    if (r->flags & YS_RF_TRUNCATED)
        h |= H_TRUNC;
    if (r->flags & YS_RF_HAS_TLS) {
        h |= H_TLS;
        if (r->tls.leaf_not_after != st->leaf_na)
            h |= H_LEAF;
        if (r->tls.earliest_not_after != st->earliest_na)
            h |= H_EARLIEST;
        if (ids->subject != st->subject)
            h |= H_SUBJECT;
        if (ids->issuer != st->issuer)
            h |= H_ISSUER;
    }
    if (r->flags & ~KNOWN_FLAGS)
        h |= H_XFLAGS;
    return h;
}

void ys_chunk_encode(struct ys_chunk_state *st, const struct ys_result *r,
                     const struct ys_text_ids *ids, struct ys_buf *out)
{
    uint8_t mask = 0;
    for (int i = 0; i < YS_PHASE_COUNT; i++)
        if (r->phase_us[i] >= 0)
            mask |= (uint8_t)(1u << i);
    uint64_t h = head_of(st, r, ids, mask);
    ys_buf_put_varint(out, h);
    int64_t delta = r->ts_ms - st->ts;
    ys_buf_put_zz(out, delta - st->ts_delta);
    st->ts = r->ts_ms;
    st->ts_delta = delta;
    if (h & H_MASK) {
        ys_buf_put_varint(out, mask);
        st->phase_mask = mask;
    }
    int64_t prev = 0;
    for (int i = 0; i < YS_PHASE_COUNT; i++) {
        if (mask & (1u << i)) {
            ys_buf_put_zz(out, (int64_t)r->phase_us[i] - prev);
            prev = r->phase_us[i];
        }
    }
    ys_buf_put_zz(out, r->duration_us - prev);
    if (h & H_ERR) {
        ys_buf_put_varint(out, r->errclass);
        ys_buf_put_varint(out, ids->message);
    }
    if (h & H_STATUS)
        ys_buf_put_varint(out, r->status);
    if (h & H_BYTES)
        ys_buf_put_zz(out, r->bytes - st->bytes);
    if (h & H_VALUE_CH)
        put_value(out, r->value, st->value);
    if (h & H_LEAF)
        ys_buf_put_zz(out, r->tls.leaf_not_after - st->leaf_na);
    if (h & H_EARLIEST)
        ys_buf_put_zz(out, r->tls.earliest_not_after - st->earliest_na);
    if (h & H_SUBJECT)
        ys_buf_put_varint(out, ids->subject);
    if (h & H_ISSUER)
        ys_buf_put_varint(out, ids->issuer);
    if (h & H_XFLAGS)
        ys_buf_put_varint(out, (uint64_t)(r->flags & ~KNOWN_FLAGS));
    st->status = r->status;
    st->bytes = r->bytes;
    if (h & H_VALUE_CH)
        st->value = r->value;
    if (h & H_TLS) {
        st->leaf_na = r->tls.leaf_not_after;
        st->earliest_na = r->tls.earliest_not_after;
        st->subject = ids->subject;
        st->issuer = ids->issuer;
    }
}

static int get_id(struct ys_reader *rd, uint32_t *out)
{
    uint64_t v;
    if (ys_rd_varint(rd, &v) < 0 || v > UINT32_MAX)
        return YS_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int get_delta(struct ys_reader *rd, int64_t *acc)
{
    int64_t d;
    if (ys_rd_zz(rd, &d) < 0)
        return YS_EINVAL;
    *acc = (int64_t)((uint64_t)*acc + (uint64_t)d); /* wraps, never UB */
    return 0;
}

static int decode_phases(struct ys_chunk_state *st, struct ys_reader *rd, uint64_t h,
                         struct ys_result *r)
{
    if (h & H_MASK) {
        uint64_t m;
        if (ys_rd_varint(rd, &m) < 0 || m >= (1u << YS_PHASE_COUNT))
            return YS_EINVAL;
        st->phase_mask = (uint8_t)m;
    }
    int64_t prev = 0;
    for (int i = 0; i < YS_PHASE_COUNT; i++) {
        r->phase_us[i] = -1;
        if (!(st->phase_mask & (1u << i)))
            continue;
        if (get_delta(rd, &prev) < 0 || prev < 0 || prev > INT32_MAX)
            return YS_EINVAL;
        r->phase_us[i] = (int32_t)prev;
    }
    if (get_delta(rd, &prev) < 0)
        return YS_EINVAL;
    r->duration_us = prev;
    return 0;
}

static int decode_tls(struct ys_chunk_state *st, struct ys_reader *rd, uint64_t h)
{
    if ((h & H_LEAF) && get_delta(rd, &st->leaf_na) < 0)
        return YS_EINVAL;
    if ((h & H_EARLIEST) && get_delta(rd, &st->earliest_na) < 0)
        return YS_EINVAL;
    if ((h & H_SUBJECT) && get_id(rd, &st->subject) < 0)
        return YS_EINVAL;
    if ((h & H_ISSUER) && get_id(rd, &st->issuer) < 0)
        return YS_EINVAL;
    return 0;
}

int ys_chunk_decode(struct ys_chunk_state *st, struct ys_reader *rd, struct ys_result *r,
                    struct ys_text_ids *ids)
{
    uint64_t h, v;
    int64_t dd;
    ys_result_init(r);
    memset(ids, 0, sizeof *ids);
    if (ys_rd_varint(rd, &h) < 0 || h > H_ALL || ys_rd_zz(rd, &dd) < 0)
        return YS_EINVAL;
    if (!(h & H_TLS) && (h & (H_LEAF | H_EARLIEST | H_SUBJECT | H_ISSUER)))
        return YS_EINVAL;
    st->ts_delta = (int64_t)((uint64_t)st->ts_delta + (uint64_t)dd);
    st->ts = (int64_t)((uint64_t)st->ts + (uint64_t)st->ts_delta);
    r->ts_ms = st->ts;
    if (decode_phases(st, rd, h, r) < 0)
        return YS_EINVAL;
    if (h & H_ERR) {
        if (ys_rd_varint(rd, &v) < 0 || v > UINT8_MAX || get_id(rd, &ids->message) < 0)
            return YS_EINVAL;
        r->errclass = (uint8_t)v;
    }
    if (h & H_STATUS) {
        if (ys_rd_varint(rd, &v) < 0 || v > UINT16_MAX)
            return YS_EINVAL;
        st->status = (uint16_t)v;
    }
    if ((h & H_BYTES) && get_delta(rd, &st->bytes) < 0)
        return YS_EINVAL;
    if ((h & H_VALUE_CH) && get_value(rd, st->value, &st->value) < 0)
        return YS_EINVAL;
    if (decode_tls(st, rd, h) < 0)
        return YS_EINVAL;
    if (h & H_XFLAGS) {
        if (ys_rd_varint(rd, &v) < 0 || v > UINT8_MAX || (v & KNOWN_FLAGS))
            return YS_EINVAL;
        r->flags = (uint8_t)v;
    }
    r->ok = (h & H_OK) != 0;
    r->status = st->status;
    r->bytes = st->bytes;
    if (h & H_VALUE) {
        r->flags |= YS_RF_HAS_VALUE;
        r->value = st->value;
    }
    if (h & H_TRUNC)
        r->flags |= YS_RF_TRUNCATED;
    if (h & H_TLS) {
        r->flags |= YS_RF_HAS_TLS;
        r->tls.leaf_not_after = st->leaf_na;
        r->tls.earliest_not_after = st->earliest_na;
        ids->subject = st->subject;
        ids->issuer = st->issuer;
    }
    return 0;
}

/* ---- merging into an encoded sketch -------------------------------------
 * The store keeps each hour and day sketch encoded between batches and
 * adds a batch's values to it here, in the encoded form: decoding into the
 * dense array and encoding again cost five times more (callgrind), for
 * every touched check in every batch. This reads sketch.c's version 1
 * format (version byte, varint zero count, varint bucket count, then per
 * bucket the zigzag varint index delta from the previous bucket, the first
 * from 0, and the varint count) and writes the same; anything else, and
 * anything ys_sketch_decode would reject, returns NULL. */
#define SKETCH_V1 1
/* sketch.c collapses the lowest buckets past a span of 4096; below this
 * span it never does, so the merge equals decode + merge + encode. Latency
 * in microseconds (1 us to days) spans well under 2,048 buckets. */
#define MERGE_MAX_SPAN 2048

struct enc_bins {
    struct ys_reader rd;
    uint64_t left;
    int64_t idx;
    uint64_t count;
    bool first;
};

/* Reads the next bucket of an encoding; 0 at the end, 1 with one, or
 * YS_EINVAL. The checks are ys_sketch_decode's. */
static int enc_next(struct enc_bins *e)
{
    uint64_t zz, n;
    if (e->left == 0)
        return 0;
    if (ys_rd_varint(&e->rd, &zz) < 0 || ys_rd_varint(&e->rd, &n) < 0)
        return YS_EINVAL;
    int64_t d = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
    if ((!e->first && d <= 0) || n == 0 || d > 2 * YS_SKETCH_INDEX_LIMIT ||
        d < -2 * YS_SKETCH_INDEX_LIMIT)
        return YS_EINVAL;
    e->idx += d;
    if (e->idx > YS_SKETCH_INDEX_LIMIT || e->idx < -YS_SKETCH_INDEX_LIMIT)
        return YS_EINVAL;
    e->first = false;
    e->count = n;
    e->left--;
    return 1;
}

static size_t put_raw_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Writes the merged buckets at out; returns their number, or -1 when enc
 * is bad or the span is too wide. */
static int64_t merge_bins(struct enc_bins *e, const struct ys_sketch *add, unsigned char *out,
                          size_t *used)
{
    size_t cur = 0, pos = 0;
    int32_t aidx;
    uint64_t an;
    int have_a = ys_sketch_next_bin(add, &cur, &aidx, &an);
    int have_e = enc_next(e);
    int64_t nbins = 0, prev = 0, lo = 0;
    while (have_e != 0 || have_a) {
        if (have_e < 0)
            return -1;
        int64_t idx;
        uint64_t n;
        if (have_e > 0 && (!have_a || e->idx <= aidx)) {
            idx = e->idx;
            n = e->count;
            if (have_a && aidx == idx) {
                n += an;
                have_a = ys_sketch_next_bin(add, &cur, &aidx, &an);
            }
            have_e = enc_next(e);
        } else {
            idx = aidx;
            n = an;
            have_a = ys_sketch_next_bin(add, &cur, &aidx, &an);
        }
        if (nbins == 0)
            lo = idx;
        else if (idx - lo >= MERGE_MAX_SPAN)
            return -1;
        int64_t d = idx - prev;
        pos += put_raw_varint(out + pos, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
        pos += put_raw_varint(out + pos, n);
        prev = idx;
        nbins++;
    }
    *used = pos;
    return nbins;
}

unsigned char *ys_codec_sketch_merge(const unsigned char *enc, size_t enc_len,
                                     const struct ys_sketch *add, size_t *len)
{
    struct enc_bins e = {{enc, enc_len, 0}, 0, 0, 0, true};
    uint64_t zero, nbins;
    if (enc_len < 1 || enc[0] != SKETCH_V1)
        return NULL;
    e.rd.pos = 1;
    if (ys_rd_varint(&e.rd, &zero) < 0 || ys_rd_varint(&e.rd, &nbins) < 0 ||
        nbins > (enc_len - e.rd.pos) / 2)
        return NULL;
    e.left = nbins;
    size_t add_bins = 0, cur = 0;
    int32_t idx;
    uint64_t n;
    while (ys_sketch_next_bin(add, &cur, &idx, &n))
        add_bins++;
    /* The header goes in front of the buckets once their number is known:
     * they are written after room for the longest header, then moved. */
    enum { HEAD_MAX = 1 + 10 + 10 };
    unsigned char *out = ys_xmalloc(HEAD_MAX + enc_len + add_bins * 20);
    size_t body = 0;
    int64_t merged = merge_bins(&e, add, out + HEAD_MAX, &body);
    if (merged < 0 || e.rd.pos != enc_len) {
        free(out);
        return NULL;
    }
    unsigned char head[HEAD_MAX];
    size_t h = 0;
    head[h++] = SKETCH_V1;
    h += put_raw_varint(head + h, zero + ys_sketch_zero_count(add));
    h += put_raw_varint(head + h, (uint64_t)merged);
    memmove(out + h, out + HEAD_MAX, body);
    memcpy(out, head, h);
    *len = h + body;
    return out;
}

/* Sketch buckets inside a minute entry: count 1 is the common case, so it
 * rides in the low bit of the index delta. */
static void put_bins(const struct ys_sketch *sk, int32_t *ctx, struct ys_buf *out)
{
    size_t cur = 0, nbins = 0;
    int32_t idx, prev = *ctx;
    uint64_t n, zero = ys_sketch_zero_count(sk);
    while (ys_sketch_next_bin(sk, &cur, &idx, &n))
        nbins++;
    ys_buf_put_varint(out, (uint64_t)nbins << 1 | (zero > 0));
    if (zero)
        ys_buf_put_varint(out, zero);
    cur = 0;
    for (size_t i = 0; ys_sketch_next_bin(sk, &cur, &idx, &n); i++) {
        int64_t d = (int64_t)idx - prev;
        uint64_t code = i == 0 ? (((uint64_t)d << 1) ^ (uint64_t)(d >> 63)) : (uint64_t)(d - 1);
        ys_buf_put_varint(out, code << 1 | (n != 1));
        if (n != 1)
            ys_buf_put_varint(out, n);
        if (i == 0)
            *ctx = idx;
        prev = idx;
    }
}

static int get_bins(struct ys_reader *rd, int32_t *ctx, struct ys_sketch *sk)
{
    uint64_t v, nbins, zero = 0, n = 1;
    if (ys_rd_varint(rd, &v) < 0)
        return YS_EINVAL;
    nbins = v >> 1;
    if ((v & 1) && (ys_rd_varint(rd, &zero) < 0 || zero == 0))
        return YS_EINVAL;
    if (nbins > rd->len - rd->pos)
        return YS_EINVAL;
    ys_sketch_add_zero(sk, zero);
    int64_t idx = *ctx;
    for (uint64_t i = 0; i < nbins; i++) {
        if (ys_rd_varint(rd, &v) < 0)
            return YS_EINVAL;
        uint64_t code = v >> 1;
        n = 1;
        if ((v & 1) && (ys_rd_varint(rd, &n) < 0 || n < 2))
            return YS_EINVAL;
        if (code > 4 * YS_SKETCH_INDEX_LIMIT)
            return YS_EINVAL;
        idx += i == 0 ? ((int64_t)(code >> 1) ^ -(int64_t)(code & 1)) : (int64_t)code + 1;
        if (idx > YS_SKETCH_INDEX_LIMIT || idx < -YS_SKETCH_INDEX_LIMIT)
            return YS_EINVAL;
        if (i == 0)
            *ctx = (int32_t)idx;
        ys_sketch_add_bin(sk, (int32_t)idx, n);
    }
    return 0;
}

void ys_minute_encode(const struct ys_agg *a, int64_t hour_ms, int32_t *ctx, struct ys_buf *out)
{
    ys_buf_put_varint(out, (uint64_t)((a->bucket_ms - hour_ms) / 60000));
    ys_buf_put_varint(out, a->total << 1 | (a->ok != a->total));
    if (a->ok != a->total)
        ys_buf_put_varint(out, a->total - a->ok);
    ys_buf_put_zz(out, a->sum_us);
    put_bins(a->sketch, ctx, out);
}

int ys_minute_decode(struct ys_reader *rd, int64_t hour_ms, int32_t *ctx, struct ys_agg *a)
{
    uint64_t minute, v, fails = 0;
    memset(a, 0, sizeof *a);
    if (ys_rd_varint(rd, &minute) < 0 || minute >= 60 || ys_rd_varint(rd, &v) < 0)
        return YS_EINVAL;
    a->bucket_ms = hour_ms + (int64_t)minute * 60000;
    a->total = v >> 1;
    if ((v & 1) && (ys_rd_varint(rd, &fails) < 0 || fails == 0 || fails > a->total))
        return YS_EINVAL;
    a->ok = a->total - fails;
    if (ys_rd_zz(rd, &a->sum_us) < 0)
        return YS_EINVAL;
    a->sketch = ys_sketch_new();
    if (get_bins(rd, ctx, a->sketch) < 0) {
        ys_sketch_free(a->sketch);
        a->sketch = NULL;
        return YS_EINVAL;
    }
    return 0;
}
