/*
 * test_http_assert.c - the http probe's response assertions and the pure
 * parsers behind them (status patterns, JSON paths), driven by tables of
 * inputs beside the verdict and the exact message a person would read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/result.h"
#include "probe/http_assert.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- status patterns --------------------------------------------------- */

static void test_status_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc, lo, hi;
    } cases[] = {
        {"200", 0, 200, 200},         {"2xx", 0, 200, 299},         {"2XX", 0, 200, 299},
        {"5xx", 0, 500, 599},         {"200-299", 0, 200, 299},     {" 301 ", 0, 301, 301},
        {"200 - 204", 0, 200, 204},   {"404-404", 0, 404, 404},     {"abc", YS_EINVAL, 0, 0},
        {"600", YS_EINVAL, 0, 0},     {"99", YS_EINVAL, 0, 0},      {"2x", YS_EINVAL, 0, 0},
        {"6xx", YS_EINVAL, 0, 0},     {"299-200", YS_EINVAL, 0, 0}, {"", YS_EINVAL, 0, 0},
        {"200-", YS_EINVAL, 0, 0},    {"1000", YS_EINVAL, 0, 0},    {"-200", YS_EINVAL, 0, 0},
        {"2xx-3xx", YS_EINVAL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_http_status_range r = {0, 0};
        int rc = ys_http_status_pattern_parse(cases[i].in, &r);
        if (rc != cases[i].rc)
            fail_msg("pattern '%s': rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0 && (r.lo != cases[i].lo || r.hi != cases[i].hi))
            fail_msg("pattern '%s': %d-%d, want %d-%d", cases[i].in, r.lo, r.hi, cases[i].lo,
                     cases[i].hi);
    }
}

static void test_status_assert(void **state)
{
    (void)state;
    struct ys_http_status_range ranges[] = {{200, 299}, {301, 301}};
    struct ys_http_expect e = {.status = ranges, .n_status = 2, .status_text = "2xx, 301"};
    static const struct {
        long status;
        bool ok;
    } cases[] = {{200, true},  {204, true},  {299, true},  {301, true},
                 {300, false}, {302, false}, {503, false}, {0, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_result r;
        ys_result_init(&r);
        assert_int_equal(ys_http_assert_status(&e, cases[i].status, &r), cases[i].ok);
        assert_int_equal(r.ok, cases[i].ok);
        if (!cases[i].ok) {
            char want[64];
            snprintf(want, sizeof want, "status %ld, expected 2xx, 301", cases[i].status);
            assert_string_equal(r.message, want);
            assert_int_equal(r.errclass, YS_EC_HTTP_STATUS);
        }
    }
}

/* ---- JSON paths -------------------------------------------------------- */

static void test_json_paths(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* segments joined by '|', indexes as #n; NULL: error */
        size_t err_off;
    } cases[] = {
        {"a.b[0].c", "a|b|#0|c", 0},
        {"$.a", "a", 0},
        {"$", "", 0},
        {"$[1]", "#1", 0},
        {"a[0][12]", "a|#0|#12", 0},
        {"status.ok", "status|ok", 0},
        {"", NULL, 0},
        {"a..b", NULL, 2},
        {".a", NULL, 0},
        {"a.", NULL, 2},
        {"a[", NULL, 2},
        {"a[x]", NULL, 2},
        {"a[0]b", NULL, 4},
        {"a[1", NULL, 3},
        {"$a", NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_http_json_seg *segs = NULL;
        size_t n = 0, off = 999;
        int rc = ys_http_json_path_parse(cases[i].in, &segs, &n, &off);
        if (!cases[i].want) {
            if (rc != YS_EINVAL)
                fail_msg("path '%s' should fail", cases[i].in);
            if (off != cases[i].err_off)
                fail_msg("path '%s': error at %zu, want %zu", cases[i].in, off, cases[i].err_off);
            continue;
        }
        if (rc != 0)
            fail_msg("path '%s' failed at %zu", cases[i].in, off);
        char got[128] = "";
        size_t pos = 0;
        for (size_t k = 0; k < n; k++) {
            if (segs[k].key)
                pos += (size_t)snprintf(got + pos, sizeof got - pos, "%s%s", k ? "|" : "",
                                        segs[k].key);
            else
                pos += (size_t)snprintf(got + pos, sizeof got - pos, "%s#%zu", k ? "|" : "",
                                        segs[k].index);
        }
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("path '%s': got '%s', want '%s'", cases[i].in, got, cases[i].want);
        ys_http_json_path_free(segs, n);
    }
}

/* ---- body ------------------------------------------------------------- */

static pcre2_code *compile(const char *pattern)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    assert_non_null(re);
    return re;
}

static void test_body(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *contains, *not_contains, *regex;
        bool truncated;
        const char *msg; /* "" when ok */
    } cases[] = {
        {"all healthy here", "healthy", NULL, NULL, false, ""},
        {"all sick here", "healthy", NULL, NULL, false, "body does not contain \"healthy\""},
        {"", "x", NULL, NULL, false, "body does not contain \"x\""},
        {"status: error", NULL, "error", NULL, false, "body contains \"error\""},
        {"status: fine", NULL, "error", NULL, false, ""},
        {"up and running", NULL, NULL, "^up( and running)?$", false, ""},
        {"down", NULL, NULL, "^up", false, "body does not match /^up/"},
        {"version 12", "version", "beta", "[0-9]+", false, ""},
        {"abcdef", "xyz", NULL, NULL, true,
         "body does not contain \"xyz\" (body truncated at 6 bytes)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *c = (char *)cases[i].contains, *nc = (char *)cases[i].not_contains;
        struct ys_http_regex rx = {(char *)cases[i].regex, NULL};
        struct ys_http_expect e = {.max_response_time_ms = -1};
        if (c) {
            e.contains = &c;
            e.n_contains = 1;
        }
        if (nc) {
            e.not_contains = &nc;
            e.n_not_contains = 1;
        }
        if (rx.text) {
            rx.re = compile(rx.text);
            e.regex = &rx;
            e.n_regex = 1;
        }
        struct ys_http_response resp = {.status = 200,
                                        .body = cases[i].body,
                                        .body_len = strlen(cases[i].body),
                                        .truncated = cases[i].truncated};
        struct ys_result r;
        ys_result_init(&r);
        bool ok = ys_http_assert_body(&e, &resp, &r);
        pcre2_code_free(rx.re);
        if (ok != (cases[i].msg[0] == '\0') || strcmp(r.message, cases[i].msg) != 0)
            fail_msg("body case %zu: ok %d, message '%s', want '%s'", i, ok, r.message,
                     cases[i].msg);
        if (!ok)
            assert_int_equal(r.errclass, YS_EC_ASSERTION);
    }
}

/* ---- JSON ------------------------------------------------------------- */

static void test_json(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *path;
        enum ys_http_json_op op;
        const char *expected; /* NULL: YAML null */
        bool quoted;
        const char *msg;
    } cases[] = {
        {"{\"status\":{\"ok\":false}}", "status.ok", YS_JSON_EQUALS, "true", false,
         "json status.ok = false, expected true"},
        {"{\"status\":{\"ok\":false}}", "$.status.ok", YS_JSON_EQUALS, "false", false, ""},
        {"{\"status\":{\"ok\":true}}", "status.ok", YS_JSON_EQUALS, "true", false, ""},
        {"{\"n\":1.0}", "n", YS_JSON_EQUALS, "1", false, ""},
        {"{\"n\":1}", "n", YS_JSON_EQUALS, "1.0", false, ""},
        {"{\"n\":1}", "n", YS_JSON_EQUALS, "1", false, ""},
        {"{\"n\":2}", "n", YS_JSON_EQUALS, "1", false, "json n = 2, expected 1"},
        {"{\"n\":2}", "n", YS_JSON_EQUALS, "two", false, "json n = 2, expected two"},
        {"{\"n\":2.5}", "n", YS_JSON_EQUALS, "2.5", false, ""},
        {"{\"s\":\"1\"}", "s", YS_JSON_EQUALS, "1", false, ""},
        {"{\"s\":\"1\"}", "s", YS_JSON_EQUALS, "01", false, "json s = \"1\", expected \"01\""},
        {"{\"s\":\"up\"}", "s", YS_JSON_EQUALS, "down", true, "json s = \"up\", expected \"down\""},
        {"{\"n\":1}", "n", YS_JSON_EQUALS, "1", true, ""},
        {"{\"a\":{}}", "a.b.c", YS_JSON_EQUALS, "x", false, "json a.b.c not found"},
        {"{\"a\":{}}", "a.b", YS_JSON_EXISTS, NULL, false, "json a.b not found"},
        {"{\"a\":{\"b\":0}}", "a.b", YS_JSON_EXISTS, NULL, false, ""},
        {"{\"a\":{\"b\":0}}", "a.b", YS_JSON_ABSENT, NULL, false,
         "json a.b exists, expected absent"},
        {"{\"a\":{}}", "a.b", YS_JSON_ABSENT, NULL, false, ""},
        {"{\"items\":[{\"id\":3},{\"id\":7}]}", "items[1].id", YS_JSON_EQUALS, "7", false, ""},
        {"{\"items\":[{\"id\":3}]}", "items[1].id", YS_JSON_EXISTS, NULL, false,
         "json items[1].id not found"},
        {"{\"items\":[1]}", "items.id", YS_JSON_EXISTS, NULL, false, "json items.id not found"},
        {"{\"items\":{\"0\":1}}", "items[0]", YS_JSON_EXISTS, NULL, false,
         "json items[0] not found"},
        {"[10,20]", "$[1]", YS_JSON_EQUALS, "20", false, ""},
        {"{\"x\":null}", "x", YS_JSON_EQUALS, NULL, false, ""},
        {"{\"x\":null}", "x", YS_JSON_EQUALS, "null", false, ""},
        {"{\"x\":0}", "x", YS_JSON_EQUALS, NULL, false, "json x = 0, expected null"},
        {"{\"x\":true}", "x", YS_JSON_EQUALS, "false", false, "json x = true, expected false"},
        {"{\"x\":[1,2]}", "x", YS_JSON_EQUALS, "[1,2]", false, ""},
        {"not json", "x", YS_JSON_EXISTS, NULL, false, "body is not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_http_json_assert a = {.path = (char *)cases[i].path,
                                        .op = cases[i].op,
                                        .expected = (char *)cases[i].expected,
                                        .expected_quoted = cases[i].quoted};
        size_t off;
        assert_int_equal(ys_http_json_path_parse(a.path, &a.segs, &a.n_segs, &off), 0);
        struct ys_http_expect e = {.json = &a, .n_json = 1, .max_response_time_ms = -1};
        struct ys_http_response resp = {.body = cases[i].body, .body_len = strlen(cases[i].body)};
        struct ys_result r;
        ys_result_init(&r);
        bool ok = ys_http_assert_json(&e, &resp, &r);
        ys_http_json_path_free(a.segs, a.n_segs);
        /* The parse error's detail is jansson's: compare the prefix only. */
        size_t n = strlen(cases[i].msg);
        if (ok != (n == 0) || strncmp(r.message, cases[i].msg, n) != 0 ||
            (n && strcmp(cases[i].msg, "body is not JSON") != 0 && r.message[n] != '\0'))
            fail_msg("json case %zu (%s): ok %d, message '%s', want '%s'", i, cases[i].path, ok,
                     r.message, cases[i].msg);
    }
}

/* ---- headers ---------------------------------------------------------- */

static const char *const fake_headers[][2] = {
    {"Content-Type", "text/html"},
    {"X-Request-Id", "a1b2c3"},
    {NULL, NULL},
};

static const char *fake_header(void *ctx, const char *name)
{
    (void)ctx;
    for (size_t i = 0; fake_headers[i][0]; i++)
        if (strcasecmp(fake_headers[i][0], name) == 0)
            return fake_headers[i][1];
    return NULL;
}

static void test_headers(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum ys_http_header_op op;
        const char *value;
        const char *msg;
    } cases[] = {
        {"content-type", YS_HDR_EXISTS, NULL, ""},
        {"CONTENT-TYPE", YS_HDR_EQUALS, "text/html", ""},
        {"Content-Type", YS_HDR_EQUALS, "application/json",
         "header Content-Type is \"text/html\", expected \"application/json\""},
        {"X-Missing", YS_HDR_EXISTS, NULL, "header X-Missing is missing"},
        {"X-Missing", YS_HDR_EQUALS, "x", "header X-Missing is missing"},
        {"X-Missing", YS_HDR_ABSENT, NULL, ""},
        {"x-request-id", YS_HDR_ABSENT, NULL, "header x-request-id is \"a1b2c3\", expected absent"},
        {"X-Request-Id", YS_HDR_REGEX, "^[0-9a-f]+$", ""},
        {"X-Request-Id", YS_HDR_REGEX, "^[0-9]+$",
         "header X-Request-Id is \"a1b2c3\", does not match /^[0-9]+$/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_http_header_assert h = {
            .name = (char *)cases[i].name, .op = cases[i].op, .value = (char *)cases[i].value};
        if (h.op == YS_HDR_REGEX)
            h.re = compile(h.value);
        struct ys_http_expect e = {.headers = &h, .n_headers = 1, .max_response_time_ms = -1};
        struct ys_http_response resp = {.header = fake_header};
        struct ys_result r;
        ys_result_init(&r);
        bool ok = ys_http_assert_headers(&e, &resp, &r);
        pcre2_code_free(h.re);
        if (ok != (cases[i].msg[0] == '\0') || strcmp(r.message, cases[i].msg) != 0)
            fail_msg("header case %zu: ok %d, message '%s', want '%s'", i, ok, r.message,
                     cases[i].msg);
    }
}

/* ---- time and certificate --------------------------------------------- */

static void test_time(void **state)
{
    (void)state;
    static const struct {
        int64_t limit_ms, took_us;
        const char *msg;
    } cases[] = {
        {2000, 2310000, "response took 2.31s, more than 2s"},
        {2000, 2000000, ""},
        {2000, 1999999, ""},
        {250, 500000, "response took 500ms, more than 250ms"},
        {1500, 1500001, "response took 1.50s, more than 1s500ms"},
        {-1, 99000000, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_http_expect e = {.max_response_time_ms = cases[i].limit_ms};
        struct ys_result r;
        ys_result_init(&r);
        bool ok = ys_http_assert_time(&e, cases[i].took_us, &r);
        if (ok != (cases[i].msg[0] == '\0') || strcmp(r.message, cases[i].msg) != 0)
            fail_msg("time case %zu: ok %d, message '%s', want '%s'", i, ok, r.message,
                     cases[i].msg);
    }
}

static void test_cert(void **state)
{
    (void)state;
    const int64_t now = 1796000000; /* 2026-11-30T00:53:20Z */
    static const struct {
        int64_t min_days, not_after_delta;
        const char *msg;
    } cases[] = {
        {14, 5 * 86400 + 100, "certificate expires in 5 days (2026-12-05), less than 14"},
        {14, 14 * 86400 + 5, ""},
        {14, 13 * 86400 + 86399, "certificate expires in 13 days (2026-12-14), less than 14"},
        {1, 3600, "certificate expires in 0 days (2026-11-30), less than 1"},
        {0, -(3 * 86400 + 10), "certificate expired 3 days ago (2026-11-27)"},
        {-1, -86400, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_tls_facts f = {.leaf_not_after = now + cases[i].not_after_delta};
        struct ys_result r;
        ys_result_init(&r);
        bool ok = ys_http_assert_cert(cases[i].min_days, &f, now, &r);
        if (ok != (cases[i].msg[0] == '\0') || strcmp(r.message, cases[i].msg) != 0)
            fail_msg("cert case %zu: ok %d, message '%s', want '%s'", i, ok, r.message,
                     cases[i].msg);
    }
    struct ys_result r;
    ys_result_init(&r);
    assert_true(ys_http_assert_cert(14, NULL, now, &r)); /* plain http: nothing to check */
    struct ys_tls_facts none = {0};
    assert_true(ys_http_assert_cert(14, &none, now, &r));
}

/* The first failure wins: a bad status hides a later body failure. */
static void test_all_first_failure(void **state)
{
    (void)state;
    struct ys_http_status_range ok2xx = {200, 299};
    char *c = "healthy";
    struct ys_http_expect e = {.status = &ok2xx,
                               .n_status = 1,
                               .status_text = "2xx",
                               .contains = &c,
                               .n_contains = 1,
                               .max_response_time_ms = 1000};
    struct ys_http_response resp = {
        .status = 503, .body = "down", .body_len = 4, .total_us = 5000000};
    struct ys_tls_facts f = {.leaf_not_after = 1796000000 + 86400 * 2};
    struct ys_result r;
    ys_result_init(&r);
    assert_false(ys_http_assert_all(&e, &resp, 14, &f, 1796000000, &r));
    assert_string_equal(r.message, "status 503, expected 2xx");
    assert_int_equal(r.errclass, YS_EC_HTTP_STATUS);

    resp.status = 200;
    ys_result_init(&r);
    assert_false(ys_http_assert_all(&e, &resp, 14, &f, 1796000000, &r));
    assert_string_equal(r.message, "certificate expires in 2 days (2026-12-02), less than 14");
    assert_int_equal(r.errclass, YS_EC_ASSERTION);

    ys_result_init(&r);
    assert_false(ys_http_assert_all(&e, &resp, -1, &f, 1796000000, &r));
    assert_string_equal(r.message, "body does not contain \"healthy\"");

    resp.body = "healthy";
    resp.body_len = 7;
    ys_result_init(&r);
    assert_false(ys_http_assert_all(&e, &resp, -1, &f, 1796000000, &r));
    assert_string_equal(r.message, "response took 5.00s, more than 1s");

    resp.total_us = 1000;
    ys_result_init(&r);
    assert_true(ys_http_assert_all(&e, &resp, -1, &f, 1796000000, &r));
    assert_true(r.ok);
    assert_string_equal(r.message, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_patterns),
        cmocka_unit_test(test_status_assert),
        cmocka_unit_test(test_json_paths),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_cert),
        cmocka_unit_test(test_all_first_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
