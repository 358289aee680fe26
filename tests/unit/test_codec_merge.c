/*
 * test_codec_merge.c - ys_codec_sketch_merge, the store's merge of a
 * batch's values into an encoded hour or day sketch, must give exactly the
 * bytes of decode + ys_sketch_merge + encode, and refuse (NULL) whatever it
 * cannot promise that for: other versions, malformed input, very wide
 * spans.
 */
#include "slo/sketch.h"
#include "store/codec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A small deterministic generator: the test must fail the same way twice. */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Adds n latency-like values (microseconds, log-spread, some zeros). */
static void fill(struct ys_sketch *s, int n, double lo, double hi)
{
    for (int i = 0; i < n; i++) {
        uint64_t r = next_rand();
        if (r % 17 == 0) {
            ys_sketch_add(s, 0, 1);
            continue;
        }
        double u = (double)(r >> 11) / 9007199254740992.0;
        ys_sketch_add(s, lo * __builtin_pow(hi / lo, u), 1 + r % 3);
    }
}

/* The reference: what the store did before the merge existed. */
static unsigned char *slow_merge(const unsigned char *enc, size_t len, const struct ys_sketch *add,
                                 size_t *out_len)
{
    struct ys_sketch *all = NULL;
    assert_int_equal(ys_sketch_decode(enc, len, &all), 0);
    ys_sketch_merge(all, add);
    unsigned char *out = ys_sketch_encode(all, out_len);
    ys_sketch_free(all);
    return out;
}

static void check_same(const struct ys_sketch *base, const struct ys_sketch *add)
{
    size_t len = 0, fast_len = 0, slow_len = 0;
    unsigned char *enc = ys_sketch_encode(base, &len);
    unsigned char *fast = ys_codec_sketch_merge(enc, len, add, &fast_len);
    unsigned char *slow = slow_merge(enc, len, add, &slow_len);
    assert_non_null(fast);
    assert_int_equal(fast_len, slow_len);
    assert_memory_equal(fast, slow, slow_len);
    free(enc);
    free(fast);
    free(slow);
}

static void test_matches_decode_merge_encode(void **state)
{
    (void)state;
    /* base values, added values: overlapping, disjoint below and above,
     * empty on either side, a single value. */
    static const struct {
        int n_base, n_add;
        double base_lo, base_hi, add_lo, add_hi;
    } cases[] = {
        {200, 20, 300, 5000, 300, 5000},    {200, 20, 300, 5000, 10, 200},
        {200, 20, 300, 5000, 6000, 900000}, {0, 20, 1, 2, 300, 5000},
        {200, 0, 300, 5000, 1, 2},          {1, 1, 1000, 1000, 1000, 1000},
        {5000, 500, 1, 5e6, 1, 5e6},        {50, 50, 1, 3, 2, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_sketch *base = ys_sketch_new(), *add = ys_sketch_new();
        fill(base, cases[i].n_base, cases[i].base_lo, cases[i].base_hi);
        fill(add, cases[i].n_add, cases[i].add_lo, cases[i].add_hi);
        check_same(base, add);
        /* And the merged result decodes to the sum of the counts. */
        size_t len = 0, mlen = 0;
        unsigned char *enc = ys_sketch_encode(base, &len);
        unsigned char *m = ys_codec_sketch_merge(enc, len, add, &mlen);
        struct ys_sketch *back = NULL;
        assert_int_equal(ys_sketch_decode(m, mlen, &back), 0);
        assert_int_equal(ys_sketch_count(back), ys_sketch_count(base) + ys_sketch_count(add));
        ys_sketch_free(back);
        free(enc);
        free(m);
        ys_sketch_free(base);
        ys_sketch_free(add);
    }
}

static void test_refuses_what_it_cannot_promise(void **state)
{
    (void)state;
    struct ys_sketch *base = ys_sketch_new(), *add = ys_sketch_new();
    fill(base, 100, 100, 10000);
    fill(add, 10, 100, 10000);
    size_t len = 0, out_len = 0;
    unsigned char *enc = ys_sketch_encode(base, &len);
    unsigned char *bad = malloc(len + 1);
    memcpy(bad, enc, len);

    /* Another format version. */
    bad[0] = 2;
    assert_null(ys_codec_sketch_merge(bad, len, add, &out_len));
    bad[0] = enc[0];
    /* Cut short, and with a trailing byte: decode rejects both. */
    assert_null(ys_codec_sketch_merge(bad, len - 1, add, &out_len));
    bad[len] = 0;
    assert_null(ys_codec_sketch_merge(bad, len + 1, add, &out_len));
    assert_null(ys_codec_sketch_merge(bad, 0, add, &out_len));
    struct ys_sketch *tmp = NULL;
    assert_int_not_equal(ys_sketch_decode(bad, len + 1, &tmp), 0);

    /* A span of buckets so wide that sketch.c could collapse some: from
     * 1e-6 to 1e18 is about 2,700 buckets. */
    struct ys_sketch *wide = ys_sketch_new();
    ys_sketch_add(wide, 1e18, 1);
    struct ys_sketch *tiny = ys_sketch_new();
    ys_sketch_add(tiny, 1e-6, 1);
    size_t wlen = 0;
    unsigned char *wenc = ys_sketch_encode(wide, &wlen);
    assert_null(ys_codec_sketch_merge(wenc, wlen, tiny, &out_len));

    free(wenc);
    ys_sketch_free(wide);
    ys_sketch_free(tiny);
    free(bad);
    free(enc);
    ys_sketch_free(base);
    ys_sketch_free(add);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_decode_merge_encode),
        cmocka_unit_test(test_refuses_what_it_cannot_promise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
