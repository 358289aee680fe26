/*
 * test_sketch.c - DDSketch accuracy against exact percentiles, exact
 * merges, the encoding round trip and rejection of malformed buffers.
 *
 * Exact percentiles use the sketch's own rank rule (the value at rank
 * floor(q * (n - 1)) of the sorted data), so the bound checked is the
 * sketch's stated one: relative error <= 1%.
 */
#include "core/err.h"
#include "slo/sketch.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static double uniform01(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(uniform01())) * cos(2 * M_PI * uniform01());
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum dist { UNIFORM, LOGNORMAL, BIMODAL };

static double draw(enum dist d)
{
    switch (d) {
    case UNIFORM: return 1 + uniform01() * 99999;
    case LOGNORMAL: return 20000 * exp(0.8 * normal());
    default: return uniform01() < 0.9 ? 5000 * exp(0.1 * normal()) : 900000 * exp(0.2 * normal());
    }
}

static void check_accuracy(enum dist d, size_t n)
{
    static const double qs[] = {0.5, 0.9, 0.95, 0.99, 0.0, 1.0};
    double *v = malloc(n * sizeof *v);
    struct ys_sketch *s = ys_sketch_new();
    for (size_t i = 0; i < n; i++) {
        v[i] = draw(d);
        ys_sketch_add(s, v[i], 1);
    }
    qsort(v, n, sizeof *v, cmp_double);
    assert_int_equal(ys_sketch_count(s), n);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double exact = v[(size_t)(qs[i] * (double)(n - 1))];
        double got = ys_sketch_quantile(s, qs[i]);
        double rel = fabs(got - exact) / exact;
        if (rel > 0.01 + 1e-9)
            fail_msg("dist %d n %zu q %.2f: exact %f sketch %f rel %f", d, n, qs[i], exact, got,
                     rel);
    }
    ys_sketch_free(s);
    free(v);
}

static void test_accuracy(void **state)
{
    (void)state;
    const size_t sizes[] = {10000, 100000};
    for (int d = UNIFORM; d <= BIMODAL; d++)
        for (size_t i = 0; i < 2; i++)
            check_accuracy((enum dist)d, sizes[i]);
}

static void test_empty_and_zero(void **state)
{
    (void)state;
    struct ys_sketch *s = ys_sketch_new();
    assert_true(isnan(ys_sketch_quantile(s, 0.5)));
    ys_sketch_add(s, -5, 3);  /* negatives count as zero */
    ys_sketch_add(s, NAN, 1); /* so does NaN */
    ys_sketch_add(s, 100, 1);
    assert_int_equal(ys_sketch_count(s), 5);
    assert_true(ys_sketch_quantile(s, 0.5) == 0.0);
    assert_true(fabs(ys_sketch_quantile(s, 1.0) - 100) <= 1.0);
    assert_true(isnan(ys_sketch_quantile(s, 1.5)));
    ys_sketch_clear(s);
    assert_int_equal(ys_sketch_count(s), 0);
    assert_true(isnan(ys_sketch_quantile(s, 0.5)));
    ys_sketch_free(s);
    ys_sketch_free(NULL);
}

static void test_merge_exact(void **state)
{
    (void)state;
    struct ys_sketch *all = ys_sketch_new(), *parts[4], *merged = ys_sketch_new();
    for (int p = 0; p < 4; p++)
        parts[p] = ys_sketch_new();
    for (int i = 0; i < 40000; i++) {
        double v = draw((enum dist)(i % 3));
        ys_sketch_add(all, v, 1);
        ys_sketch_add(parts[i % 4], v, 1);
    }
    for (int p = 0; p < 4; p++) {
        ys_sketch_merge(merged, parts[p]);
        ys_sketch_free(parts[p]);
    }
    assert_int_equal(ys_sketch_count(merged), ys_sketch_count(all));
    for (double q = 0; q <= 1.0; q += 0.01)
        assert_true(ys_sketch_quantile(merged, q) == ys_sketch_quantile(all, q));
    struct ys_sketch *c = ys_sketch_clone(all);
    assert_true(ys_sketch_quantile(c, 0.95) == ys_sketch_quantile(all, 0.95));
    ys_sketch_free(c);
    ys_sketch_free(all);
    ys_sketch_free(merged);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct ys_sketch *s = ys_sketch_new(), *d = NULL;
    ys_sketch_add(s, 0, 7);
    for (int i = 0; i < 5000; i++)
        ys_sketch_add(s, draw(BIMODAL), (uint64_t)(1 + i % 3));
    ys_sketch_add(s, 1e-6, 1);
    size_t len;
    unsigned char *buf = ys_sketch_encode(s, &len);
    assert_int_equal(ys_sketch_decode(buf, len, &d), 0);
    assert_int_equal(ys_sketch_count(d), ys_sketch_count(s));
    assert_int_equal(ys_sketch_zero_count(d), 7);
    for (double q = 0; q <= 1.0; q += 0.05)
        assert_true(ys_sketch_quantile(d, q) == ys_sketch_quantile(s, q));
    /* Every truncation is rejected, never read past. */
    for (size_t cut = 0; cut < len; cut++) {
        struct ys_sketch *t = NULL;
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        assert_int_equal(ys_sketch_decode(copy, cut, &t), YS_EINVAL);
        free(copy);
    }
    free(buf);
    ys_sketch_free(s);
    ys_sketch_free(d);
    /* The empty sketch round-trips too. */
    s = ys_sketch_new();
    buf = ys_sketch_encode(s, &len);
    assert_int_equal(ys_sketch_decode(buf, len, &d), 0);
    assert_true(isnan(ys_sketch_quantile(d, 0.5)));
    free(buf);
    ys_sketch_free(s);
    ys_sketch_free(d);
}

static void test_garbage(void **state)
{
    (void)state;
    static const struct {
        unsigned char b[12];
        size_t len;
    } cases[] = {
        {{0}, 0},                                      /* empty */
        {{2, 0, 0}, 3},                                /* unknown version */
        {{1, 0, 1, 2, 0}, 5},                          /* zero count */
        {{1, 0, 2, 2, 1, 0, 1}, 7},                    /* repeated index */
        {{1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x7f, 1}, 9}, /* index far out of range */
        {{1, 0, 0, 9}, 4},                             /* trailing byte */
        {{1, 0x80, 0x80}, 3},                          /* unterminated varint */
        {{1, 0, 100, 2, 1}, 5},                        /* more buckets than bytes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_sketch *s = NULL;
        if (ys_sketch_decode(cases[i].b, cases[i].len, &s) != YS_EINVAL)
            fail_msg("case %zu accepted", i);
        assert_null(s);
    }
    /* Random bytes never crash (and whatever decodes re-encodes). */
    for (int i = 0; i < 20000; i++) {
        unsigned char b[16];
        size_t len = 1 + (size_t)(uniform01() * 15);
        for (size_t k = 0; k < len; k++)
            b[k] = (unsigned char)(uniform01() * 256);
        b[0] = 1;
        struct ys_sketch *s = NULL;
        if (ys_sketch_decode(b, len, &s) == 0) {
            size_t elen;
            unsigned char *e = ys_sketch_encode(s, &elen);
            free(e);
            ys_sketch_free(s);
        }
    }
}

static void test_bucket_cap(void **state)
{
    (void)state;
    /* Values spread over 300 orders of magnitude: the bucket count stays
     * capped and the top quantile stays accurate. */
    struct ys_sketch *s = ys_sketch_new();
    for (int e = -9; e <= 300; e++)
        ys_sketch_add(s, pow(10, e), 1);
    ys_sketch_add(s, INFINITY, 1);
    size_t cur = 0, n = 0;
    int32_t idx;
    uint64_t c;
    while (ys_sketch_next_bin(s, &cur, &idx, &c))
        n++;
    assert_true(n <= 4096);
    assert_int_equal(ys_sketch_count(s), 311);
    double p = ys_sketch_quantile(s, (double)309 / 310);
    assert_true(fabs(p - 1e300) / 1e300 <= 0.01);
    assert_int_equal(ys_sketch_add_bin(s, 70000, 1), YS_EINVAL);
    ys_sketch_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),   cmocka_unit_test(test_empty_and_zero),
        cmocka_unit_test(test_merge_exact), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_garbage),    cmocka_unit_test(test_bucket_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
