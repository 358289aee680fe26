/*
 * test_dns_spec.c - the dns and dns_records kinds' config fields (values,
 * defaults, every error at its line and column) and the assertions of
 * ys_dns_expect_eval on hand-made responses.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "probe/dns_spec.h"
#include "probe/probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

static void test_full(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: www\n"
             "    kind: dns\n"
             "    query: www.example.org\n"
             "    type: mx\n"
             "    servers: [\"1.1.1.1\", \"[2606:4700::1111]:5353\"]\n"
             "    recursion: false\n"
             "    expect: { rcode: nxdomain, answers: [\"10 mx.example.org\"], contains: [],\n"
             "              min_ttl: 60, max_ttl: 3600, soa_serial_min: 7,\n"
             "              max_response_time: 250ms }\n");
    assert_int_equal(l.rc, 0);
    const struct ys_dns_spec *s = l.cfg->checks[0].spec;
    assert_string_equal(s->query, "www.example.org");
    assert_int_equal(s->type, YS_DNS_MX);
    assert_int_equal(s->servers.n, 2);
    assert_string_equal(s->servers.v[0], "1.1.1.1:53");
    assert_string_equal(s->servers.v[1], "[2606:4700::1111]:5353");
    assert_false(s->recursion);
    assert_int_equal(s->expect.rcode, 3);
    assert_true(s->expect.has_answers);
    assert_string_equal(s->expect.answers.v[0], "10 mx.example.org.");
    assert_int_equal(s->expect.min_ttl, 60);
    assert_int_equal(s->expect.max_ttl, 3600);
    assert_true(s->expect.has_soa_serial_min);
    assert_int_equal(s->expect.soa_serial_min, 7);
    assert_int_equal(s->expect.max_response_ms, 250);
    unload(&l);
}

static void test_defaults_and_shorthand(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - { name: a, kind: dns, query: x.org, servers: 10.0.0.1:53, expect: [192.0.2.1] }\n"
             "  - { name: t, kind: dns, query: x.org, type: TXT, servers: \"::1\", expect: v=spf1 }\n");
    assert_int_equal(l.rc, 0);
    const struct ys_dns_spec *a = l.cfg->checks[0].spec, *t = l.cfg->checks[1].spec;
    assert_int_equal(a->type, YS_DNS_A);
    assert_true(a->recursion);
    assert_int_equal(a->expect.rcode, 0);
    assert_int_equal(a->expect.min_ttl, -1);
    assert_int_equal(a->expect.max_response_ms, -1);
    assert_false(a->expect.has_soa_serial_min);
    assert_string_equal(a->expect.answers.v[0], "192.0.2.1");
    assert_string_equal(t->servers.v[0], "[::1]:53");
    assert_string_equal(t->expect.answers.v[0], "\"v=spf1\"");
    unload(&l);
}

static void test_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: bad\n"
             "    kind: dns\n"
             "    type: PTR\n"
             "    servers: [1.1.1.1, dns.google, \"1.2.3.4:99999\"]\n"
             "    expect: { rcode: NOPE, answers: [not-an-ip], min_ttl: -1, colour: red }\n"
             "  - name: nosrv\n"
             "    kind: dns\n"
             "    query: x.org\n"
             "  - name: rec\n"
             "    kind: dns_records\n"
             "    servers: 1.1.1.1\n"
             "    min_percent: 120\n"
             "    records:\n"
             "      - { name: a.org, type: A, value: nope }\n"
             "      - { name: b.org, value: 1.2.3.4 }\n"
             "      - just-a-string\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 5, "missing required field 'query'");
    assert_diag(&l, 4, 11, "type must be one of");
    assert_diag(&l, 5, 24, "server 'dns.google' must be an IP address");
    assert_diag(&l, 5, 36, "server '1.2.3.4:99999'");
    assert_diag(&l, 6, 22, "rcode must be");
    assert_diag(&l, 6, 38, "'not-an-ip' is not a valid A value");
    assert_diag(&l, 6, 59, "min_ttl must be between");
    assert_diag(&l, 6, 63, "unknown key 'colour'");
    assert_diag(&l, 7, 5, "missing required field 'servers'");
    assert_diag(&l, 13, 18, "min_percent must be between 0 and 100");
    assert_diag(&l, 15, 40, "'nope' is not a valid A value");
    assert_diag(&l, 16, 9, "missing required field 'type'");
    assert_diag(&l, 17, 9, "records[2] must be a mapping");
    unload(&l);
}

static void test_records_grouping(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: rec\n"
             "    kind: dns_records\n"
             "    servers: [1.1.1.1, 8.8.8.8]\n"
             "    records:\n"
             "      - { name: a.org, type: A, value: 192.0.2.1 }\n"
             "      - { name: A.org, type: A, value: 192.0.2.2 }\n"
             "      - { name: a.org, type: CNAME, value: t.net }\n");
    assert_int_equal(l.rc, 0);
    const struct ys_dns_records_spec *s = l.cfg->checks[0].spec;
    assert_int_equal(s->n, 3);
    assert_int_equal(s->nq, 2); /* a.org A (twice, names case-insensitive), a.org CNAME */
    assert_int_equal(s->v[0].question, s->v[1].question);
    assert_string_equal(s->v[2].value, "t.net.");
    assert_true(s->min_percent == 100.0);
    unload(&l);
}

/* ---- eval ------------------------------------------------------------------ */

static struct ys_dns_answer ans[3] = {
    {YS_DNS_A, 300, "192.0.2.2"},
    {YS_DNS_A, 60, "192.0.2.1"},
    {YS_DNS_CNAME, 300, "c.example.org."},
};

static void test_eval(void **state)
{
    (void)state;
    struct ys_dns_response r = {.rcode = 0, .n = 3, .v = ans, .rtt_us = 12000};
    char *ok_answers[] = {"192.0.2.1", "192.0.2.2"}, *wrong[] = {"192.0.2.1", "192.0.2.9"};
    char *cname[] = {"c.example.org."};
    struct {
        struct ys_dns_expect e;
        int rcode;
        int ec;
        const char *msg;
    } cases[] = {
        {{.min_ttl = -1, .max_ttl = -1, .max_response_ms = -1}, 0, YS_EC_NONE, ""},
        {{.has_answers = true, .answers = {2, ok_answers}, .min_ttl = -1, .max_ttl = -1,
          .max_response_ms = -1},
         0, YS_EC_NONE, ""},
        {{.has_answers = true, .answers = {2, wrong}, .min_ttl = -1, .max_ttl = -1,
          .max_response_ms = -1},
         0, YS_EC_ASSERTION,
         "answers [192.0.2.1, 192.0.2.2] differ from expected [192.0.2.1, 192.0.2.9]"},
        {{.contains = {1, cname}, .min_ttl = -1, .max_ttl = -1, .max_response_ms = -1}, 0,
         YS_EC_NONE, ""},
        {{.contains = {1, wrong + 1}, .min_ttl = -1, .max_ttl = -1, .max_response_ms = -1}, 0,
         YS_EC_ASSERTION, "answers [192.0.2.1, 192.0.2.2] lack 192.0.2.9"},
        {{.min_ttl = 100, .max_ttl = -1, .max_response_ms = -1}, 0, YS_EC_ASSERTION,
         "TTL 60 of 192.0.2.1 is below min_ttl 100"},
        {{.min_ttl = -1, .max_ttl = 200, .max_response_ms = -1}, 0, YS_EC_ASSERTION,
         "TTL 300 of 192.0.2.2 is above max_ttl 200"},
        {{.min_ttl = -1, .max_ttl = -1, .max_response_ms = 10}, 0, YS_EC_ASSERTION,
         "response time 12ms exceeds max_response_time 10ms"},
        {{.min_ttl = -1, .max_ttl = -1, .max_response_ms = -1, .has_soa_serial_min = true,
          .soa_serial_min = 5},
         0, YS_EC_ASSERTION, "no SOA in the response, expected serial >= 5"},
        {{.min_ttl = -1, .max_ttl = -1, .max_response_ms = -1}, 3, YS_EC_DNS,
         "rcode NXDOMAIN, expected NOERROR"},
        {{.rcode = 3, .min_ttl = -1, .max_ttl = -1, .max_response_ms = -1}, 0, YS_EC_ASSERTION,
         "rcode NOERROR, expected NXDOMAIN"},
        {{.rcode = 3, .min_ttl = -1, .max_ttl = -1, .max_response_ms = -1}, 3, YS_EC_NONE, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[240];
        r.rcode = cases[i].rcode;
        int ec = ys_dns_expect_eval(&cases[i].e, YS_DNS_A, &r, msg, sizeof msg);
        if (ec != cases[i].ec || strcmp(msg, cases[i].msg) != 0)
            fail_msg("case %zu: class %d '%s', expected %d '%s'", i, ec, msg, cases[i].ec,
                     cases[i].msg);
    }
    /* NOERROR without any record of the asked type. */
    struct ys_dns_expect none = {.min_ttl = -1, .max_ttl = -1, .max_response_ms = -1};
    struct ys_dns_response empty = {.rcode = 0};
    char msg[240];
    assert_int_equal(ys_dns_expect_eval(&none, YS_DNS_AAAA, &empty, msg, sizeof msg), YS_EC_DNS);
    assert_string_equal(msg, "no AAAA records (NOERROR with an empty answer)");
    /* SOA serial from the authority section. */
    struct ys_dns_expect soa = {.rcode = 3, .min_ttl = -1, .max_ttl = -1, .max_response_ms = -1,
                                .has_soa_serial_min = true, .soa_serial_min = 8};
    struct ys_dns_response nx = {.rcode = 3, .has_soa = true, .soa_serial = 7};
    assert_int_equal(ys_dns_expect_eval(&soa, YS_DNS_A, &nx, msg, sizeof msg), YS_EC_ASSERTION);
    assert_string_equal(msg, "SOA serial 7 is below 8");
    nx.soa_serial = 8;
    assert_int_equal(ys_dns_expect_eval(&soa, YS_DNS_A, &nx, msg, sizeof msg), YS_EC_NONE);
}

static void test_normalize(void **state)
{
    (void)state;
    static const struct {
        int type;
        const char *in, *out;
    } ok[] = {
        {YS_DNS_AAAA, "2001:DB8:0::1", "2001:db8::1"}, {YS_DNS_CNAME, "t.net", "t.net."},
        {YS_DNS_NS, "ns1.x.", "ns1.x."},              {YS_DNS_TXT, "a \"b\"", "\"a \\\"b\\\"\""},
        {YS_DNS_TXT, "\"x\" \"y\"", "\"x\" \"y\""},   {YS_DNS_SRV, "1 2 3 t", "1 2 3 t."},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[512];
        assert_int_equal(ys_dns_value_normalize(ok[i].type, ok[i].in, out, sizeof out), 0);
        assert_string_equal(out, ok[i].out);
    }
    char out[512];
    assert_int_equal(ys_dns_value_normalize(YS_DNS_A, "::1", out, sizeof out), YS_EINVAL);
    assert_int_equal(ys_dns_value_normalize(YS_DNS_CNAME, "", out, sizeof out), YS_EINVAL);
    assert_true(ys_dns_value_equal(YS_DNS_CNAME, "T.NET.", "t.net."));
    assert_false(ys_dns_value_equal(YS_DNS_TXT, "\"A\"", "\"a\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),   cmocka_unit_test(test_defaults_and_shorthand),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_records_grouping),
        cmocka_unit_test(test_eval),   cmocka_unit_test(test_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
