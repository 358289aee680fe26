/*
 * sketch.c - DDSketch: quantiles with bounded relative error, mergeable.
 *
 * Data: a dense array of counts `bins`, where bins[k] counts the values in
 * logarithmic bucket (offset + k); [lo, hi] is the range of buckets that
 * may be non-empty (valid only while bin_total > 0), always inside the
 * array. Values below YS_SKETCH_MIN_VALUE (and negatives, NaN) count in a
 * separate zero bucket.
 *
 * Invariants: count == zero + sum(bins); hi - lo < YS_SKETCH_MAX_BINS. When
 * a new value would stretch the range past that cap, the lowest buckets
 * are collapsed into the lowest kept one: the high quantiles (the ones an
 * SLO asks about) keep their accuracy and a hostile value costs at most
 * the cap in memory.
 *
 * Encoding (version 1): version byte, varint zero count, varint number of
 * non-empty buckets, then per bucket: zigzag varint of the index delta
 * from the previous bucket (the first from 0), varint count. Decode never
 * reads past len and rejects anything else with YS_EINVAL.
 *
 * Pure and single-owner: whichever thread holds the sketch runs it.
 */
#include "slo/sketch.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define YS_SKETCH_MAX_BINS 4096
#define SKETCH_VERSION 1

struct ys_sketch {
    uint64_t *bins;
    int32_t offset;     /* bucket index of bins[0] */
    uint32_t cap;       /* length of bins */
    int32_t lo, hi;     /* possibly non-empty range, when bin_total > 0 */
    uint64_t bin_total; /* sum of bins */
    uint64_t zero;
};

static double log_gamma(void)
{
    static const double a = YS_SKETCH_RELATIVE_ACCURACY;
    return log((1 + a) / (1 - a));
}

struct ys_sketch *ys_sketch_new(void)
{
    return ys_xcalloc(1, sizeof(struct ys_sketch));
}

void ys_sketch_free(struct ys_sketch *s)
{
    if (!s)
        return;
    free(s->bins);
    free(s);
}

void ys_sketch_clear(struct ys_sketch *s)
{
    if (s->bins)
        memset(s->bins, 0, s->cap * sizeof *s->bins);
    s->bin_total = 0;
    s->zero = 0;
}

struct ys_sketch *ys_sketch_clone(const struct ys_sketch *s)
{
    struct ys_sketch *c = ys_xmalloc(sizeof *c);
    *c = *s;
    if (s->bins) {
        c->bins = ys_xmalloc(s->cap * sizeof *s->bins);
        memcpy(c->bins, s->bins, s->cap * sizeof *s->bins);
    }
    return c;
}

/* Makes the array cover [lo, hi], keeping the counts of the old range. */
static void grow(struct ys_sketch *s, int32_t lo, int32_t hi)
{
    if (s->bins && lo >= s->offset && (int64_t)hi < (int64_t)s->offset + s->cap)
        return;
    uint32_t span = (uint32_t)(hi - lo + 1);
    uint32_t cap = span + span / 2 + 32;
    int32_t offset = lo - (int32_t)((cap - span) / 2);
    uint64_t *bins = ys_xcalloc(cap, sizeof *bins);
    if (s->bins) {
        /* Copy whatever the old and new arrays share; buckets outside
         * [lo, hi] are zero, so copying them is harmless. */
        int64_t from = s->offset > offset ? s->offset : offset;
        int64_t old_end = (int64_t)s->offset + s->cap, new_end = (int64_t)offset + cap;
        int64_t to = old_end < new_end ? old_end : new_end;
        for (int64_t i = from; i < to; i++)
            bins[i - offset] = s->bins[i - s->offset];
    }
    free(s->bins);
    s->bins = bins;
    s->offset = offset;
    s->cap = cap;
}

/* Folds every bucket below new_lo into new_lo and makes new_lo the floor. */
static void collapse_below(struct ys_sketch *s, int32_t new_lo)
{
    uint64_t folded = 0;
    int32_t end = s->hi < new_lo ? s->hi : new_lo - 1;
    for (int32_t i = s->lo; i <= end; i++) {
        folded += s->bins[i - s->offset];
        s->bins[i - s->offset] = 0;
    }
    if (s->hi < new_lo)
        s->hi = new_lo;
    s->lo = new_lo;
    grow(s, s->lo, s->hi);
    s->bins[new_lo - s->offset] += folded;
}

int ys_sketch_add_bin(struct ys_sketch *s, int32_t index, uint64_t count)
{
    if (index > YS_SKETCH_INDEX_LIMIT || index < -YS_SKETCH_INDEX_LIMIT)
        return YS_EINVAL;
    if (count == 0)
        return 0;
    if (s->bin_total == 0) {
        s->lo = s->hi = index;
    } else if (index > s->hi) {
        if (index - s->lo >= YS_SKETCH_MAX_BINS)
            collapse_below(s, index - (YS_SKETCH_MAX_BINS - 1));
        s->hi = index;
    } else if (index < s->lo) {
        if (s->hi - index >= YS_SKETCH_MAX_BINS)
            index = s->hi - (YS_SKETCH_MAX_BINS - 1);
        s->lo = index;
    }
    grow(s, s->lo, s->hi);
    s->bins[index - s->offset] += count;
    s->bin_total += count;
    return 0;
}

void ys_sketch_add_zero(struct ys_sketch *s, uint64_t count)
{
    s->zero += count;
}

void ys_sketch_add(struct ys_sketch *s, double value, uint64_t count)
{
    /* NaN and negatives compare false here and land in the zero bucket. */
    if (!(value >= YS_SKETCH_MIN_VALUE)) {
        s->zero += count;
        return;
    }
    /* Infinity goes to the bucket of the largest double, not further: a
     * bucket far above the rest would collapse every real value. */
    if (value > DBL_MAX)
        value = DBL_MAX;
    double idx = ceil(log(value) / log_gamma());
    ys_sketch_add_bin(s, (int32_t)idx, count);
}

void ys_sketch_merge(struct ys_sketch *into, const struct ys_sketch *from)
{
    into->zero += from->zero;
    size_t cur = 0;
    int32_t idx;
    uint64_t n;
    while (ys_sketch_next_bin(from, &cur, &idx, &n))
        ys_sketch_add_bin(into, idx, n);
}

uint64_t ys_sketch_count(const struct ys_sketch *s)
{
    return s->zero + s->bin_total;
}

uint64_t ys_sketch_zero_count(const struct ys_sketch *s)
{
    return s->zero;
}

int ys_sketch_next_bin(const struct ys_sketch *s, size_t *cursor, int32_t *index,
                       uint64_t *count)
{
    if (s->bin_total == 0)
        return 0;
    /* The cursor counts buckets from lo, so it survives no mutation. */
    for (int64_t i = (int64_t)s->lo + (int64_t)*cursor; i <= s->hi; i++) {
        uint64_t c = s->bins[i - s->offset];
        if (c) {
            *cursor = (size_t)(i - s->lo + 1);
            *index = (int32_t)i;
            *count = c;
            return 1;
        }
    }
    *cursor = (size_t)(s->hi - s->lo + 1);
    return 0;
}

double ys_sketch_quantile(const struct ys_sketch *s, double q)
{
    uint64_t total = ys_sketch_count(s);
    if (total == 0 || !(q >= 0 && q <= 1))
        return NAN;
    uint64_t rank = (uint64_t)(q * (double)(total - 1));
    if (rank < s->zero)
        return 0;
    uint64_t cum = s->zero;
    double gamma = exp(log_gamma());
    for (int32_t i = s->lo; i <= s->hi; i++) {
        cum += s->bins[i - s->offset];
        if (cum > rank)
            return 2 * exp(i * log_gamma()) / (gamma + 1);
    }
    return 2 * exp(s->hi * log_gamma()) / (gamma + 1);
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static int get_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return YS_EINVAL;
        unsigned char b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return YS_EINVAL;
}

unsigned char *ys_sketch_encode(const struct ys_sketch *s, size_t *len)
{
    size_t nbins = 0, cur = 0;
    int32_t idx;
    uint64_t n;
    while (ys_sketch_next_bin(s, &cur, &idx, &n))
        nbins++;
    unsigned char *buf = ys_xmalloc(1 + 10 + 10 + nbins * 20);
    size_t pos = 0;
    buf[pos++] = SKETCH_VERSION;
    pos += put_varint(buf + pos, s->zero);
    pos += put_varint(buf + pos, nbins);
    int64_t prev = 0;
    cur = 0;
    while (ys_sketch_next_bin(s, &cur, &idx, &n)) {
        int64_t d = idx - prev;
        pos += put_varint(buf + pos, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
        pos += put_varint(buf + pos, n);
        prev = idx;
    }
    *len = pos;
    return buf;
}

int ys_sketch_decode(const unsigned char *buf, size_t len, struct ys_sketch **out)
{
    size_t pos = 0;
    uint64_t zero, nbins, zz, n;
    if (len < 1 || buf[pos++] != SKETCH_VERSION)
        return YS_EINVAL;
    if (get_varint(buf, len, &pos, &zero) < 0 || get_varint(buf, len, &pos, &nbins) < 0)
        return YS_EINVAL;
    if (nbins > (len - pos) / 2) /* each bucket takes two bytes at least */
        return YS_EINVAL;
    struct ys_sketch *s = ys_sketch_new();
    s->zero = zero;
    int64_t idx = 0;
    for (uint64_t i = 0; i < nbins; i++) {
        if (get_varint(buf, len, &pos, &zz) < 0 || get_varint(buf, len, &pos, &n) < 0)
            goto bad;
        int64_t d = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
        /* Buckets come in increasing order; a repeat or a zero count is not
         * something encode writes. */
        if ((i > 0 && d <= 0) || n == 0 || d > 2 * YS_SKETCH_INDEX_LIMIT ||
            d < -2 * YS_SKETCH_INDEX_LIMIT)
            goto bad;
        idx += d;
        if (idx > YS_SKETCH_INDEX_LIMIT || idx < -YS_SKETCH_INDEX_LIMIT)
            goto bad;
        if (ys_sketch_add_bin(s, (int32_t)idx, n) < 0)
            goto bad;
    }
    if (pos != len)
        goto bad;
    *out = s;
    return 0;
bad:
    ys_sketch_free(s);
    return YS_EINVAL;
}
