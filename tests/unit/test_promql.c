/*
 * test_promql.c - the promql kind and the sources: section: config fields
 * and their errors with line and column, source resolution, and the
 * judging of recorded /api/v1/query responses (several series, scalar,
 * empty vector, error document, NaN and +Inf, matrix, malformed).
 *
 * Configs load through ys_config_load_string, so parsing runs exactly as
 * `yardstick validate` runs it. Responses are the shapes Prometheus 2.x
 * returns, written out by hand from its API documentation and from what
 * the integration test's Prometheus answered.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "probe/probe.h"
#include "probe/promql.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

#define SOURCE_A                                                                                   \
    "sources:\n"                                                                                   \
    "  - name: cluster-a\n"                                                                        \
    "    kind: prometheus\n"                                                                       \
    "    url: https://prom.example:9090/\n"                                                        \
    "    bearer_token: s3cret\n"                                                                   \
    "    tls: { ca_file: /etc/ca.pem, insecure_skip_verify: true }\n"                              \
    "    headers: { X-Scope-OrgID: team-a }\n"                                                     \
    "    timeout: 5s\n"

static void test_full(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, SOURCE_A "checks:\n"
                      "  - name: nodes-ready\n"
                      "    kind: promql\n"
                      "    source: cluster-a\n"
                      "    query: 'avg(up{job=\"x\"})'\n"
                      "    expect: \" >= 0.99 \"\n"
                      "    mode: any\n");
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    const struct ys_check *ck = &l.cfg->checks[0];
    const struct ys_promql_spec *s = ck->spec;
    assert_string_equal(ck->type->name, "promql");
    assert_non_null(ck->source);
    assert_ptr_equal(ck->source, &l.cfg->sources[0]);
    assert_string_equal(ck->source->url, "https://prom.example:9090");
    assert_string_equal(ck->source->bearer_token, "s3cret");
    assert_string_equal(ck->source->ca_file, "/etc/ca.pem");
    assert_true(ck->source->insecure_skip_verify);
    assert_string_equal(ys_strmap_get(&ck->source->headers, "X-Scope-OrgID"), "team-a");
    assert_int_equal(ck->source->timeout_ms, 5000);
    assert_string_equal(s->query, "avg(up{job=\"x\"})");
    assert_string_equal(s->query_escaped, "avg%28up%7Bjob%3D%22x%22%7D%29");
    assert_int_equal(s->op, YS_PQ_GE);
    assert_true(s->threshold == 0.99);
    assert_string_equal(s->expect, ">= 0.99");
    assert_int_equal(s->mode, YS_PQ_ANY);
    unload(&l);
}

static void test_basic_auth_and_defaults(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "sources:\n"
             "  - name: b\n"
             "    kind: prometheus\n"
             "    url: http://127.0.0.1:9090\n"
             "    basic_auth: { username: u, password: p }\n"
             "checks:\n"
             "  - { name: q, kind: promql, source: b, query: up }\n");
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    const struct ys_check *ck = &l.cfg->checks[0];
    const struct ys_promql_spec *s = ck->spec;
    assert_string_equal(ck->source->username, "u");
    assert_string_equal(ck->source->password, "p");
    assert_null(ck->source->bearer_token);
    assert_int_equal(ck->source->timeout_ms, 0);
    assert_int_equal(s->op, YS_PQ_NONE);
    assert_null(s->expect);
    assert_int_equal(s->mode, YS_PQ_ALL);
    unload(&l);
}

static void test_source_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "sources:\n"
             "  - name: a\n"                     /* 2 */
             "    kind: prometeus\n"             /* 3 */
             "    url: ftp://x\n"                /* 4 */
             "    bearer_token: t\n"             /* 5 */
             "    basic_auth: { username: u }\n" /* 6 */
             "    timout: 1s\n"                  /* 7 */
             "  - name: a\n"                     /* 8 */
             "    kind: prometheus\n"
             "    url: http://x\n"
             "    tls: { ca_fil: x }\n" /* 11 */
             "  - kind: prometheus\n"   /* 12 */
             "checks: []\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 3, 11,
                "unknown source kind 'prometeus' in sources[0] (did you mean 'prometheus'?)");
    assert_diag(&l, 4, 10, "bad URL 'ftp://x': scheme must be http or https");
    assert_diag(&l, 6, 17, "use bearer_token or basic_auth, not both");
    assert_diag(&l, 7, 5, "did you mean 'timeout'");
    assert_diag(&l, 8, 11, "duplicate source name 'a' (first defined at 2:11)");
    assert_diag(&l, 11, 12, "did you mean 'ca_file'");
    assert_diag(&l, 12, 5, "missing required field 'name'");
    assert_diag(&l, 12, 5, "missing required field 'url'");
    unload(&l);
}

static void test_check_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "sources:\n"
             "  - { name: cluster-a, kind: prometheus, url: 'http://127.0.0.1:9' }\n"
             "checks:\n"
             "  - name: one\n" /* 4 */
             "    kind: promql\n"
             "    source: cluster-b\n" /* 6 */
             "    query: up\n"
             "    expect: '>> 1'\n" /* 8 */
             "    mode: every\n"    /* 9 */
             "  - name: two\n"      /* 10 */
             "    kind: promql\n"
             "    expect: '== NaN'\n" /* 12 */
             "    qurey: up\n");      /* 13 */
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 6, 13, "unknown source 'cluster-b' in check 'one' (did you mean 'cluster-a'?)");
    assert_diag(&l, 8, 13, "expect must be a comparison");
    assert_diag(&l, 9, 11, "mode must be all or any, not 'every'");
    assert_diag(&l, 10, 5, "missing required field 'source'");
    assert_diag(&l, 10, 5, "missing required field 'query'");
    assert_diag(&l, 12, 13, "expect must be a comparison");
    assert_diag(&l, 13, 5, "did you mean 'query'");
    unload(&l);
}

static void test_expect_parse(void **state)
{
    (void)state;
    enum ys_promql_op op;
    double t;
    assert_int_equal(ys_promql_expect_parse("> 0.99", &op, &t), 0);
    assert_int_equal(op, YS_PQ_GT);
    assert_true(t == 0.99);
    assert_int_equal(ys_promql_expect_parse("==1", &op, &t), 0);
    assert_int_equal(op, YS_PQ_EQ);
    assert_true(t == 1);
    assert_int_equal(ys_promql_expect_parse("!= -2e3 ", &op, &t), 0);
    assert_int_equal(op, YS_PQ_NE);
    assert_true(t == -2000);
    assert_int_equal(ys_promql_expect_parse("<= 5", &op, &t), 0);
    assert_int_equal(op, YS_PQ_LE);
    assert_int_equal(ys_promql_expect_parse("= 1", &op, &t), YS_EINVAL);
    assert_int_equal(ys_promql_expect_parse(">", &op, &t), YS_EINVAL);
    assert_int_equal(ys_promql_expect_parse("> 1x", &op, &t), YS_EINVAL);
    assert_int_equal(ys_promql_expect_parse("> inf", &op, &t), YS_EINVAL);
}

/* Judges body with spec "expect" and mode; returns the result. */
static struct ys_result judge(const char *expect, enum ys_promql_mode mode, long status,
                              const char *body)
{
    struct ys_promql_spec s = {.mode = mode, .expect = (char *)expect};
    if (expect)
        assert_int_equal(ys_promql_expect_parse(expect, &s.op, &s.threshold), 0);
    struct ys_result r;
    ys_result_init(&r);
    r.ok = true;
    ys_promql_judge(&s, status, body, strlen(body), &r);
    return r;
}

static const char nodes[] =
    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
    "{\"metric\":{\"node\":\"n1\"},\"value\":[1764460000.123,\"1\"]},"
    "{\"metric\":{\"node\":\"n2\"},\"value\":[1764460000.123,\"1\"]},"
    "{\"metric\":{\"node\":\"n3\"},\"value\":[1764460000.123,\"0\"]}]}}";

static void test_vector_several(void **state)
{
    (void)state;
    struct ys_result r = judge("== 1", YS_PQ_ALL, 200, nodes);
    assert_false(r.ok);
    assert_int_equal(r.errclass, YS_EC_ASSERTION);
    assert_true(r.flags & YS_RF_HAS_VALUE);
    assert_true(r.value == 0); /* min for mode all */
    assert_string_equal(r.message, "1 of 3 series do not satisfy == 1 ({node=\"n3\"} = 0)");
    assert_string_equal(r.facts, "{\"series\":3,\"passing\":2}");

    r = judge("== 1", YS_PQ_ANY, 200, nodes);
    assert_true(r.ok);
    assert_true(r.flags & YS_RF_HAS_VALUE);
    assert_true(r.value == 1); /* max for mode any */
    assert_string_equal(r.message, "");

    r = judge("> 1", YS_PQ_ANY, 200, nodes);
    assert_false(r.ok);
    assert_string_equal(r.message, "none of 3 series satisfies > 1 (max 1)");

    r = judge(NULL, YS_PQ_ALL, 200, nodes);
    assert_true(r.ok);
    assert_true(r.value == 0);

    /* Labels every series shares, and __name__, tell nothing apart. */
    const char *scraped =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        "{\"metric\":{\"__name__\":\"m\",\"job\":\"ksm\",\"node\":\"a\"},\"value\":[1,\"1\"]},"
        "{\"metric\":{\"__name__\":\"m\",\"job\":\"ksm\",\"node\":\"b\"},\"value\":[1,\"0.5\"]}]}}";
    r = judge("> 0.9", YS_PQ_ALL, 200, scraped);
    assert_string_equal(r.message, "1 of 2 series do not satisfy > 0.9 ({node=\"b\"} = 0.5)");
    assert_true(r.value == 0.5);
}

/* The stored value is the decisive one for the operator: series 3, 7, 5
 * (in that order), each condition and mode beside the value by hand. */
static void test_decisive_value(void **state)
{
    (void)state;
    static const char three[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        "{\"metric\":{\"s\":\"a\"},\"value\":[1,\"3\"]},"
        "{\"metric\":{\"s\":\"b\"},\"value\":[1,\"7\"]},"
        "{\"metric\":{\"s\":\"c\"},\"value\":[1,\"5\"]}]}}";
    static const struct {
        const char *expect;
        enum ys_promql_mode mode;
        double value;
        bool ok;
    } cases[] = {
        {"> 4", YS_PQ_ALL, 3, false},  /* the lowest fails a lower bound first */
        {">= 3", YS_PQ_ALL, 3, true},  /* passing: still the one nearest failing */
        {"< 6", YS_PQ_ALL, 7, false},  /* the highest fails an upper bound */
        {"<= 7", YS_PQ_ALL, 7, true},
        {"== 3", YS_PQ_ALL, 7, false}, /* the first series that fails */
        {"!= 5", YS_PQ_ALL, 5, false},
        {"!= 9", YS_PQ_ALL, 3, true},  /* none fails: the first */
        {"> 4", YS_PQ_ANY, 7, true},   /* any: the best */
        {"> 8", YS_PQ_ANY, 7, false},
        {"< 6", YS_PQ_ANY, 3, true},
        {"< 2", YS_PQ_ANY, 3, false},
        {"== 5", YS_PQ_ANY, 5, true},  /* the first that passes */
        {"== 9", YS_PQ_ANY, 3, false}, /* none passes: the first */
        {NULL, YS_PQ_ALL, 3, true},
        {NULL, YS_PQ_ANY, 7, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_result r = judge(cases[i].expect, cases[i].mode, 200, three);
        if (r.value != cases[i].value || r.ok != cases[i].ok)
            print_error("case %zu (%s, %s): value %g ok %d\n", i,
                        cases[i].expect ? cases[i].expect : "none",
                        cases[i].mode == YS_PQ_ALL ? "all" : "any", r.value, r.ok);
        assert_true(r.flags & YS_RF_HAS_VALUE);
        assert_true(r.value == cases[i].value);
        assert_int_equal(r.ok, cases[i].ok);
    }
    struct ys_result r = judge("< 2", YS_PQ_ANY, 200, three);
    assert_string_equal(r.message, "none of 3 series satisfies < 2 (min 3)");
}

static void test_single_and_scalar(void **state)
{
    (void)state;
    const char *one = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                      "{\"metric\":{},\"value\":[1764460000,\"0.6666666666666666\"]}]}}";
    struct ys_result r = judge("> 0.99", YS_PQ_ALL, 200, one);
    assert_false(r.ok);
    assert_true(fabs(r.value - 2.0 / 3) < 1e-12);
    assert_string_equal(r.message, "value 0.666667 does not satisfy > 0.99");
    r = judge(">= 0.5", YS_PQ_ALL, 200, one);
    assert_true(r.ok);
    assert_true(r.flags & YS_RF_HAS_VALUE);

    const char *scalar = "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":["
                         "1764460000,\"42\"]}}";
    r = judge("== 42", YS_PQ_ALL, 200, scalar);
    assert_true(r.ok);
    assert_true(r.value == 42);
    assert_string_equal(r.facts, "{\"series\":1,\"passing\":1}");
}

static void test_empty_vector(void **state)
{
    (void)state;
    const char *empty =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
    struct ys_result r = judge("> 0", YS_PQ_ALL, 200, empty);
    assert_false(r.ok);
    assert_string_equal(r.message, "no data: the query returned no series");
    assert_int_equal(r.errclass, YS_EC_NO_DATA); /* its own class, not an assertion */
    assert_string_equal(ys_errclass_name(r.errclass), "no_data");
    assert_false(ys_result_counts(&r)); /* SLOs leave it out */
    assert_false(r.flags & YS_RF_HAS_VALUE); /* never 0 */
    r = judge(NULL, YS_PQ_ANY, 200, empty);
    assert_false(r.ok);
    assert_false(r.flags & YS_RF_HAS_VALUE);
}

static void test_error_document(void **state)
{
    (void)state;
    const char *err = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
                      "\"invalid parameter \\\"query\\\": 1:5: parse error: unexpected "
                      "<op:/>\"}";
    struct ys_result r = judge("> 0", YS_PQ_ALL, 400, err);
    assert_false(r.ok);
    assert_int_equal(r.errclass, YS_EC_HTTP_STATUS);
    assert_string_equal(r.message, "Prometheus error bad_data: invalid parameter \"query\": 1:5: "
                                   "parse error: unexpected <op:/>");
    assert_false(r.flags & YS_RF_HAS_VALUE);

    r = judge("> 0", YS_PQ_ALL, 401, "Unauthorized\n");
    assert_false(r.ok);
    assert_int_equal(r.errclass, YS_EC_HTTP_STATUS);
    assert_non_null(strstr(r.message, "HTTP 401 from Prometheus: unauthorized"));
    r = judge("> 0", YS_PQ_ALL, 403, "");
    assert_non_null(strstr(r.message, "HTTP 403 from Prometheus: forbidden"));
    r = judge("> 0", YS_PQ_ALL, 502, "<html>bad gateway</html>");
    assert_string_equal(r.message, "HTTP 502 from Prometheus (not an API response)");
}

static void test_nan_inf(void **state)
{
    (void)state;
    const char *v = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                    "{\"metric\":{\"a\":\"1\"},\"value\":[1,\"NaN\"]},"
                    "{\"metric\":{\"a\":\"2\"},\"value\":[1,\"+Inf\"]},"
                    "{\"metric\":{\"a\":\"3\"},\"value\":[1,\"5\"]}]}}";
    /* NaN satisfies nothing; it is skipped for the stored value. */
    struct ys_result r = judge("> 0", YS_PQ_ALL, 200, v);
    assert_false(r.ok);
    assert_string_equal(r.message, "1 of 3 series do not satisfy > 0 ({a=\"1\"} = nan)");
    assert_true(r.value == 5);
    /* The max is +Inf: it passes, but is not stored (not finite). */
    r = judge("> 0", YS_PQ_ANY, 200, v);
    assert_true(r.ok);
    assert_false(r.flags & YS_RF_HAS_VALUE);
    const char *nan1 =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"NaN\"]}}";
    r = judge("> 0", YS_PQ_ALL, 200, nan1);
    assert_false(r.ok);
    assert_false(r.flags & YS_RF_HAS_VALUE);
    assert_string_equal(r.message, "value nan does not satisfy > 0");
    /* not even "!= 0" (NaN compares unequal to everything in C) */
    r = judge("!= 0", YS_PQ_ALL, 200, nan1);
    assert_false(r.ok);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *body, *msg;
    } cases[] = {
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
         "\"value\":[1,2]}]}}",
         "malformed response: a series without a [time, \"value\"] sample"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
         "\"value\":[1,\"12abc\"]}]}}",
         "malformed response: a series without a [time, \"value\"] sample"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}",
         "the query returned a range vector (matrix); write an instant query"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"x\"]}}",
         "the query returned a string or an unknown type, not a vector or scalar"},
        {"{\"status\":\"success\"}", "malformed response: no data.resultType or data.result"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":{}}}",
         "malformed response: data.result is not a list"},
        {"{\"data\":{}}", "malformed response: no status field"},
        {"", "malformed response: empty body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_result r = judge("> 0", YS_PQ_ALL, 200, cases[i].body);
        assert_false(r.ok);
        assert_false(r.flags & YS_RF_HAS_VALUE);
        assert_string_equal(r.message, cases[i].msg);
    }
    struct ys_result r = judge("> 0", YS_PQ_ALL, 200, "{\"status\": \"succ");
    assert_false(r.ok);
    assert_non_null(strstr(r.message, "malformed response: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_basic_auth_and_defaults),
        cmocka_unit_test(test_source_errors),
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_expect_parse),
        cmocka_unit_test(test_vector_several),
        cmocka_unit_test(test_decisive_value),
        cmocka_unit_test(test_single_and_scalar),
        cmocka_unit_test(test_empty_vector),
        cmocka_unit_test(test_error_document),
        cmocka_unit_test(test_nan_inf),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
