/*
 * test_http_spec.c - parsing of an http check's fields: every error with
 * its position, and the prepared request (status defaults, header list,
 * server_name and connect_to rewriting, compiled assertions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/diag.h"
#include "config/model.h"
#include "config/node.h"
#include "core/err.h"
#include "probe/http_spec.h"

#include <stdlib.h>
#include <string.h>

/* Parses yaml as a check map; returns rc, fills d (caller frees). */
static int parse(const char *yaml, struct ys_http_spec **out, struct ys_diag *d)
{
    ys_diag_init(d, "t.yaml");
    struct ys_node *root = ys_node_load_string(yaml, strlen(yaml), d);
    assert_non_null(root);
    int rc = ys_http_spec_parse(root, NULL, out, d);
    ys_node_free(root);
    return rc;
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int line, col;
        const char *msg; /* a substring of the one diagnostic expected */
    } cases[] = {
        {"method: GET\n", 1, 1, "missing required field 'url'"},
        {"url: ftp://example.org/\n", 1, 6, "bad URL 'ftp://example.org/'"},
        {"url: example.org\n", 1, 6, "needs a scheme"},
        {"url: http://a/\nexpect:\n  status: [200, 2yx]\n", 3, 17,
         "bad status pattern '2yx' (use 200, 2xx or 200-299)"},
        {"url: http://a/\nexpect:\n  status: 700\n", 3, 11, "bad status pattern '700'"},
        {"url: http://a/\nexpect:\n  body_regex: 'a(b'\n", 3, 15,
         "expect.body_regex: bad regex 'a(b': missing closing parenthesis at offset 3"},
        {"url: http://a/\nexpect:\n  stauts: 200\n", 3, 3,
         "unknown key 'stauts' in expect (did you mean 'status'?)"},
        {"url: http://a/\nexpect:\n  json:\n    - { path: a, equal: 1 }\n", 4, 18,
         "unknown key 'equal' in expect.json (did you mean 'equals'?)"},
        {"url: http://a/\nexpect:\n  json:\n    - { path: 'a..b' }\n", 4, 15,
         "bad path 'a..b' at character 3"},
        {"url: http://a/\nexpect:\n  json:\n    - { equals: 1 }\n", 4, 7,
         "missing required field 'path'"},
        {"url: http://a/\nexpect:\n  json:\n    - { path: a, equals: 1, exists: true }\n", 4, 37,
         "use either equals or exists"},
        {"url: http://a/\nexpect:\n  headers:\n    - { name: X, regex: '[' }\n", 4, 25,
         "expect.headers.regex: bad regex '['"},
        {"url: http://a/\nexpect:\n  headers: [ X ]\n", 3, 14,
         "expect.headers[0] must be a mapping"},
        {"url: http://a/\nexpect: [1]\n", 2, 9, "expect must be a mapping"},
        {"url: http://a/\nfollow_redirects: maybe\n", 2, 19, "must be true or false"},
        {"url: http://a/\nmax_redirects: lots\n", 2, 16, "max_redirects must be an integer"},
        {"url: http://a/\nmax_body: big\n", 2, 11, "bad size 'big'"},
        {"url: http://a/\nip_version: 5\n", 2, 13, "ip_version must be 4, 6 or any"},
        {"url: http://a/\nheaders: [a]\n", 2, 10, "headers must be a mapping"},
        {"url: http://a/\nheaders: { 'Bad Name': x }\n", 2, 12, "bad header name 'Bad Name'"},
        {"url: http://a/\nmethod: 'GE T'\n", 2, 9, "bad HTTP method"},
        {"url: http://a/\nconnect_to: nowhere\n", 2, 13, "connect_to: bad address 'nowhere'"},
        {"url: http://a/\nexpect:\n  max_response_time: 30\n", 3, 22, "max_response_time"},
        {"url: http://a/\ntls: { insecur: true }\n", 2, 8, "did you mean 'insecure'"},
        {"url: http://a/\ncold_start: 90s\n", 2, 13, "cold_start must be a mapping"},
        {"url: http://a/\ncold_start: {}\n", 2, 13, "needs one of idle or header, not neither"},
        {"url: http://a/\ncold_start: { idle: 9s, header: X }\n", 2, 13, "not both"},
        {"url: http://a/\ncold_start: { idle: soon }\n", 2, 21, "cold_start.idle"},
        {"url: http://a/\ncold_start: { idle: 0s }\n", 2, 21,
         "cold_start.idle must be greater than zero"},
        {"url: http://a/\ncold_start: { idle: 9s, value: x }\n", 2, 32,
         "cold_start.value goes with header"},
        {"url: http://a/\ncold_start: { header: 'X Y' }\n", 2, 23,
         "cold_start.header: bad header name 'X Y'"},
        {"url: http://a/\ncold_start: { header: X, iddle: 9s }\n", 2, 26, "did you mean 'idle'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_diag d;
        struct ys_http_spec *s = (struct ys_http_spec *)1;
        int rc = parse(cases[i].yaml, &s, &d);
        if (rc != YS_ECONFIG || s != NULL)
            fail_msg("case %zu: rc %d, want YS_ECONFIG and no spec", i, rc);
        if (d.n != 1)
            fail_msg("case %zu: %zu diagnostics, want 1 (first: %s)", i, d.n,
                     d.n ? d.v[0].msg : "-");
        if (d.v[0].line != cases[i].line || d.v[0].col != cases[i].col ||
            !strstr(d.v[0].msg, cases[i].msg))
            fail_msg("case %zu: %d:%d: %s\n   want %d:%d: ...%s...", i, d.v[0].line, d.v[0].col,
                     d.v[0].msg, cases[i].line, cases[i].col, cases[i].msg);
        ys_diag_free(&d);
    }
}

/* Every problem is reported in one pass, not just the first. */
static void test_all_errors_reported(void **state)
{
    (void)state;
    struct ys_diag d;
    struct ys_http_spec *s;
    const char *yaml = "url: gopher://x/\n"
                       "max_redirects: -1\n"
                       "expect:\n"
                       "  status: [abc, 2xx, 999]\n"
                       "  body_regex: ['ok', '(']\n";
    assert_int_equal(parse(yaml, &s, &d), YS_ECONFIG);
    assert_null(s);
    assert_int_equal(d.n, 5);
    ys_diag_free(&d);
}

static void test_defaults(void **state)
{
    (void)state;
    struct ys_diag d;
    struct ys_http_spec *s;
    assert_int_equal(parse("url: http://127.0.0.1:8080/health\n", &s, &d), 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(s->url, "http://127.0.0.1:8080/health");
    assert_false(s->https);
    assert_null(s->method);
    assert_false(s->follow_redirects);
    assert_int_equal(s->max_redirects, 10);
    assert_int_equal(s->max_body, 1024 * 1024);
    assert_int_equal(s->ipresolve, CURL_IPRESOLVE_WHATEVER);
    assert_null(s->headers);
    assert_null(s->connect_to);
    assert_false(s->need_body);
    assert_int_equal(s->expect.n_status, 2);
    assert_string_equal(s->expect.status_text, "2xx, 3xx");
    assert_int_equal(s->expect.max_response_time_ms, -1);
    assert_int_equal(s->tls.min_days_left, -1);
    ys_http_spec_free(s);
    ys_diag_free(&d);

    assert_int_equal(parse("url: https://a/\nfollow_redirects: true\n", &s, &d), 0);
    assert_true(s->https);
    assert_int_equal(s->expect.n_status, 1);
    assert_string_equal(s->expect.status_text, "2xx");
    ys_http_spec_free(s);
    ys_diag_free(&d);
}

static void test_full(void **state)
{
    (void)state;
    struct ys_diag d;
    struct ys_http_spec *s;
    const char *yaml = "url: https://10.0.0.5:8443/x?y=1\n"
                       "method: post\n"
                       "headers: { X-Token: abc, X-Empty: '' }\n"
                       "body: '{\"a\":1}'\n"
                       "max_body: 64KiB\n"
                       "ip_version: 6\n"
                       "max_redirects: 3\n"
                       "expect:\n"
                       "  status: [200, 400-404]\n"
                       "  body_contains: [ok, fine]\n"
                       "  body_not_contains: error\n"
                       "  body_regex: '^o'\n"
                       "  json:\n"
                       "    - { path: '$.a.b[2]', equals: 'x' }\n"
                       "    - { path: c, exists: false }\n"
                       "    - { path: d }\n"
                       "  headers:\n"
                       "    - { name: Content-Type, equals: application/json }\n"
                       "    - { name: X-Id, regex: '^[0-9]+$' }\n"
                       "  max_response_time: 1500ms\n"
                       "tls: { server_name: example.org, insecure: true }\n";
    assert_int_equal(parse(yaml, &s, &d), 0);
    if (d.n)
        fail_msg("%d:%d: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
    assert_string_equal(s->url, "https://example.org:8443/x?y=1");
    assert_non_null(s->connect_to);
    assert_string_equal(s->connect_to->data, "example.org:8443:10.0.0.5:8443");
    assert_string_equal(s->method, "POST");
    assert_false(s->head);
    assert_string_equal(s->headers->data, "X-Token: abc");
    assert_string_equal(s->headers->next->data, "X-Empty;");
    assert_int_equal(s->body_len, 7);
    assert_int_equal(s->max_body, 64 * 1024);
    assert_int_equal(s->ipresolve, CURL_IPRESOLVE_V6);
    assert_int_equal(s->max_redirects, 3);
    const struct ys_http_expect *e = &s->expect;
    assert_int_equal(e->n_status, 2);
    assert_int_equal(e->status[1].lo, 400);
    assert_int_equal(e->status[1].hi, 404);
    assert_string_equal(e->status_text, "200, 400-404");
    assert_int_equal(e->n_contains, 2);
    assert_string_equal(e->contains[1], "fine");
    assert_int_equal(e->n_not_contains, 1);
    assert_int_equal(e->n_regex, 1);
    assert_non_null(e->regex[0].re);
    assert_int_equal(e->n_json, 3);
    assert_int_equal(e->json[0].op, YS_JSON_EQUALS);
    assert_int_equal(e->json[0].n_segs, 3);
    assert_true(e->json[0].expected_quoted);
    assert_int_equal(e->json[1].op, YS_JSON_ABSENT);
    assert_int_equal(e->json[2].op, YS_JSON_EXISTS);
    assert_int_equal(e->n_headers, 2);
    assert_int_equal(e->headers[0].op, YS_HDR_EQUALS);
    assert_int_equal(e->headers[1].op, YS_HDR_REGEX);
    assert_non_null(e->headers[1].re);
    assert_int_equal(e->max_response_time_ms, 1500);
    assert_true(s->need_body);
    assert_true(s->tls.insecure);
    ys_http_spec_free(s);
    ys_diag_free(&d);
}

static void test_connect_to(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *url, *line;
    } cases[] = {
        {"url: http://example.org/\nconnect_to: 127.0.0.1:8080\n", "http://example.org/",
         "example.org:80:127.0.0.1:8080"},
        {"url: https://example.org/\nconnect_to: '[::1]:8443'\n", "https://example.org/",
         "example.org:443:[::1]:8443"},
        {"url: https://127.0.0.1:9443/\ntls: { server_name: svc.local }\n",
         "https://svc.local:9443/", "svc.local:9443:127.0.0.1:9443"},
        {"url: https://[::1]/\ntls: { server_name: svc.local }\n", "https://svc.local/",
         "svc.local:443:[::1]:443"},
        {"url: https://a.example/\nconnect_to: b.example:444\ntls: { server_name: c.example }\n",
         "https://c.example/", "c.example:443:b.example:444"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_diag d;
        struct ys_http_spec *s;
        if (parse(cases[i].yaml, &s, &d) != 0)
            fail_msg("case %zu: %s", i, d.n ? d.v[0].msg : "?");
        assert_string_equal(s->url, cases[i].url);
        assert_non_null(s->connect_to);
        assert_string_equal(s->connect_to->data, cases[i].line);
        assert_null(s->connect_to->next);
        ys_http_spec_free(s);
        ys_diag_free(&d);
    }
}

static void test_head_needs_no_body(void **state)
{
    (void)state;
    struct ys_diag d;
    struct ys_http_spec *s;
    assert_int_equal(parse("url: http://a/\nmethod: HEAD\nexpect: { body_contains: x }\n", &s, &d),
                     0);
    assert_true(s->head);
    assert_false(s->need_body);
    ys_http_spec_free(s);
    ys_diag_free(&d);
    assert_int_equal(parse("url: http://a/\nmethod: get\n", &s, &d), 0);
    assert_null(s->method); /* GET is libcurl's default: nothing to set */
    ys_http_spec_free(s);
    ys_diag_free(&d);
}

/* parse() with a base check: cold_start's idle mode reads its interval. */
static int parse_with(const char *yaml, int64_t interval_ms, int64_t timeout_ms,
                      struct ys_http_spec **out, struct ys_diag *d)
{
    struct ys_check base = {0};
    base.interval_ms = interval_ms;
    base.timeout_ms = timeout_ms;
    ys_diag_init(d, "t.yaml");
    struct ys_node *root = ys_node_load_string(yaml, strlen(yaml), d);
    assert_non_null(root);
    int rc = ys_http_spec_parse(root, &base, out, d);
    ys_node_free(root);
    return rc;
}

static void test_cold_start(void **state)
{
    (void)state;
    struct ys_diag d;
    struct ys_http_spec *s;
    assert_int_equal(parse("url: http://a/\n", &s, &d), 0);
    assert_int_equal(s->cold.mode, YS_COLD_OFF);
    ys_http_spec_free(s);
    ys_diag_free(&d);

    /* idle mode: the interval covers idle plus two timeouts (90 + 2 x 5). */
    const char *idle = "url: http://a/\ninterval: 100s\ncold_start: { idle: 90s }\n";
    assert_int_equal(parse_with(idle, 100000, 5000, &s, &d), 0);
    assert_int_equal(s->cold.mode, YS_COLD_IDLE);
    assert_int_equal(s->cold.idle_ms, 90000);
    ys_http_spec_free(s);
    ys_diag_free(&d);

    /* One millisecond short: an error at the interval, saying what is needed. */
    assert_int_equal(parse_with(idle, 99999, 5000, &s, &d), YS_ECONFIG);
    assert_null(s);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 11);
    assert_non_null(strstr(d.v[0].msg, "too short for cold_start.idle"));
    assert_non_null(strstr(d.v[0].msg, "(1m40s)"));
    ys_diag_free(&d);

    /* No interval written (the default applies): the error points at idle. */
    assert_int_equal(
        parse_with("url: http://a/\ncold_start: { idle: 90s }\n", 30000, 10000, &s, &d),
        YS_ECONFIG);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 21);
    ys_diag_free(&d);

    /* header mode: value defaults to "true"; the interval does not matter. */
    assert_int_equal(
        parse_with("url: http://a/\ncold_start: { header: X-Cold-Start }\n", 1000, 1000, &s, &d),
        0);
    assert_int_equal(s->cold.mode, YS_COLD_HEADER);
    assert_string_equal(s->cold.header, "X-Cold-Start");
    assert_string_equal(s->cold.value, "true");
    ys_http_spec_free(s);
    ys_diag_free(&d);
    assert_int_equal(parse("url: http://a/\ncold_start: { header: X-Cold, value: '1' }\n", &s, &d),
                     0);
    assert_string_equal(s->cold.value, "1");
    ys_http_spec_free(s);
    ys_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_full),
        cmocka_unit_test(test_connect_to), cmocka_unit_test(test_head_needs_no_body),
        cmocka_unit_test(test_cold_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
