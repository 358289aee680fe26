/*
 * test_duration.c - durations (core/duration.h and ys_cfg_duration) and
 * sizes (ys_cfg_size), table-driven: each row is the text a user types
 * beside the value worked out by hand, or beside the fact it must fail.
 */
#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/duration.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct dur_case {
    const char *text;
    int rc;
    int64_t ms;
};

static const struct dur_case dur_cases[] = {
    {"250ms", 0, 250},
    {"1ms", 0, 1},
    {"30s", 0, 30000},
    {"5m", 0, 300000},
    {"1h", 0, 3600000},
    {"7d", 0, 604800000},
    {"2w", 0, 1209600000},
    {"1h30m", 0, 5400000},
    {"1m30s500ms", 0, 90500},
    {"0s", 0, 0},
    {"100000d", 0, INT64_C(8640000000000)},
    {"", YS_EINVAL, 0},
    {"30", YS_EINVAL, 0},
    {"5 minutes", YS_EINVAL, 0},
    {"5min", YS_EINVAL, 0},
    {"-5s", YS_EINVAL, 0},
    {"1.5s", YS_EINVAL, 0},
    {"s", YS_EINVAL, 0},
    {"10x", YS_EINVAL, 0},
    {"1h 30m", YS_EINVAL, 0},
    {"99999999999999999999s", YS_EINVAL, 0},
    {"9223372036854775807d", YS_EINVAL, 0},
};

static void test_duration_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dur_cases / sizeof dur_cases[0]; i++) {
        int64_t ms = -42;
        int rc = ys_duration_parse(dur_cases[i].text, &ms);
        if (rc != dur_cases[i].rc)
            fail_msg("'%s': rc %d, want %d", dur_cases[i].text, rc, dur_cases[i].rc);
        if (rc == 0 && ms != dur_cases[i].ms)
            fail_msg("'%s': %lld ms, want %lld", dur_cases[i].text, (long long)ms,
                     (long long)dur_cases[i].ms);
        if (rc != 0)
            assert_int_equal(ms, -42); /* untouched on failure */
    }
}

static void test_duration_format_roundtrip(void **state)
{
    (void)state;
    static const int64_t values[] = {1, 250, 1000, 30000, 90500, 5400000, 86400000 + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[64];
        int64_t back = 0;
        ys_duration_format(values[i], buf, sizeof buf);
        assert_int_equal(ys_duration_parse(buf, &back), 0);
        assert_int_equal(back, values[i]);
    }
    char buf[64];
    assert_string_equal(ys_duration_format(5400000, buf, sizeof buf), "1h30m");
    assert_string_equal(ys_duration_format(250, buf, sizeof buf), "250ms");
}

/* Parses "v: <text>" and hands the value node to a reader. */
struct doc {
    struct ys_diag d;
    struct ys_node *root;
};

static const struct ys_node *value_of(struct doc *doc, const char *yaml)
{
    ys_diag_init(&doc->d, "t.yaml");
    doc->root = ys_node_load_string(yaml, strlen(yaml), &doc->d);
    assert_non_null(doc->root);
    assert_int_equal(doc->d.n, 0);
    return ys_node_get(doc->root, "v");
}

static void doc_free(struct doc *doc)
{
    ys_node_free(doc->root);
    ys_diag_free(&doc->d);
}

static void test_cfg_duration(void **state)
{
    (void)state;
    struct doc doc;
    int64_t ms = 7;

    assert_int_equal(ys_cfg_duration(value_of(&doc, "v: 1h30m\n"), "x", &ms, &doc.d), 0);
    assert_int_equal(ms, 5400000);
    doc_free(&doc);

    ms = 7;
    assert_int_equal(ys_cfg_duration(NULL, "x", &ms, NULL), 0);
    assert_int_equal(ms, 7);

    assert_int_equal(
        ys_cfg_duration(value_of(&doc, "v: 5 minutes\n"), "checks[2].interval", &ms, &doc.d),
        YS_ECONFIG);
    assert_int_equal(ms, 7);
    assert_int_equal(doc.d.n, 1);
    assert_int_equal(doc.d.v[0].line, 1);
    assert_int_equal(doc.d.v[0].col, 4);
    assert_string_equal(
        doc.d.v[0].msg,
        "checks[2].interval: bad duration '5 minutes' (use 250ms, 30s, 5m, 1h, 7d)");
    doc_free(&doc);

    assert_int_equal(ys_cfg_duration(value_of(&doc, "v: 0s\n"), "t", &ms, &doc.d), YS_ECONFIG);
    assert_non_null(strstr(doc.d.v[0].msg, "greater than zero"));
    doc_free(&doc);

    assert_int_equal(ys_cfg_duration(value_of(&doc, "v: {a: 1}\n"), "timeout", &ms, &doc.d),
                     YS_ECONFIG);
    assert_string_equal(doc.d.v[0].msg, "timeout must be a duration, not a mapping");
    doc_free(&doc);

    assert_int_equal(ys_cfg_duration(value_of(&doc, "v:\n"), "timeout", &ms, &doc.d), YS_ECONFIG);
    assert_string_equal(doc.d.v[0].msg, "timeout must be a duration, not an empty value");
    doc_free(&doc);
    assert_int_equal(ms, 7);
}

struct size_case {
    const char *text;
    int rc;
    int64_t bytes;
};

static const struct size_case size_cases[] = {
    {"1000", 0, 1000},
    {"0", 0, 0},
    {"1MiB", 0, 1048576},
    {"512KiB", 0, 524288},
    {"10MB", 0, 10000000},
    {"1GiB", 0, 1073741824},
    {"2kb", 0, 2000},
    {"64 KiB", 0, 65536},
    {"5B", 0, 5},
    {"1TiB", 0, INT64_C(1099511627776)},
    {"1.5MiB", YS_ECONFIG, 0},
    {"MiB", YS_ECONFIG, 0},
    {"-1", YS_ECONFIG, 0},
    {"10 apples", YS_ECONFIG, 0},
    {"99999999999GiB", YS_ECONFIG, 0},
    {"99999999999999999999", YS_ECONFIG, 0},
};

static void test_cfg_size_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof size_cases / sizeof size_cases[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "v: \"%s\"\n", size_cases[i].text);
        struct doc doc;
        int64_t bytes = -42;
        int rc = ys_cfg_size(value_of(&doc, yaml), "max_body", &bytes, &doc.d);
        if (rc != size_cases[i].rc)
            fail_msg("'%s': rc %d, want %d", size_cases[i].text, rc, size_cases[i].rc);
        if (rc == 0) {
            assert_int_equal(bytes, size_cases[i].bytes);
            assert_int_equal(doc.d.n, 0);
        } else {
            assert_int_equal(bytes, -42);
            assert_int_equal(doc.d.n, 1);
            assert_non_null(strstr(doc.d.v[0].msg, "max_body: bad size"));
        }
        doc_free(&doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse_table),
        cmocka_unit_test(test_duration_format_roundtrip),
        cmocka_unit_test(test_cfg_duration),
        cmocka_unit_test(test_cfg_size_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
