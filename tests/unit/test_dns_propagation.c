/*
 * test_dns_propagation.c - the dns_propagation kind's pure parts: server
 * normalisation, answer sets, the config fields, and the verdict across
 * probes (agreement, lag messages, propagation samples, max_lag, expect),
 * driven by tables of per-probe answers and times.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/xalloc.h"
#include "probe/dns_client.h"
#include "probe/dns_propagation_spec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_server_norm(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want; /* want NULL: rejected */
    } cases[] = {
        {"127.0.0.1", "127.0.0.1:53"},   {"127.0.0.1:5301", "127.0.0.1:5301"},
        {"::1", "[::1]:53"},             {"[::1]:5300", "[::1]:5300"},
        {"[2001:db8::1]", "[2001:db8::1]:53"},
        {"ns1.example.org", NULL},       {"127.0.0.1:0", NULL},
        {"127.0.0.1:70000", NULL},       {"127.0.0.1:", NULL},
        {"[::1]x", NULL},                {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[YS_DNSPROP_SERVER_MAX] = "";
        int rc = ys_dns_server_parse(cases[i].in, out, sizeof out);
        if (cases[i].want) {
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].want);
        } else {
            assert_true(rc < 0);
        }
    }
}

static void test_answers(void **state)
{
    (void)state;
    struct ys_dns_answer a[3] = {{.type = 1, .value = "192.0.2.9"},
                                 {.type = 1, .value = "192.0.2.10"},
                                 {.type = 1, .value = "192.0.2.1"}};
    struct ys_dns_response r = {.rcode = 0, .n = 3, .v = a};
    char *s = ys_dnsprop_answers_join(&r);
    assert_string_equal(s, "192.0.2.1, 192.0.2.10, 192.0.2.9");
    assert_true(ys_dnsprop_answers_have(s, "192.0.2.10"));
    assert_false(ys_dnsprop_answers_have(s, "192.0.2.2"));
    free(s);
    r.rcode = 3;
    s = ys_dnsprop_answers_join(&r);
    assert_string_equal(s, "NXDOMAIN");
    assert_false(ys_dnsprop_answers_have(s, "NXDOMAIN"));
    free(s);
    assert_true(ys_dnsprop_value_eq("NS1.example.org.", "ns1.example.org"));
    assert_false(ys_dnsprop_value_eq("ns1.example.org", "ns2.example.org"));
}

/* One probe of the table: each server's answers and serial (0: failed). */
struct step {
    int64_t t_ms;
    const char *ans[2];
    uint32_t serial[2];
    bool ok;
    double value; /* -1: no value */
    const char *msg; /* substring of the message */
};

static void run_steps(struct ys_dnsprop_spec *s, const struct step *st, size_t n)
{
    static const char *servers[2] = {"127.0.0.1:5301", "127.0.0.1:5302"};
    for (size_t i = 0; i < n; i++) {
        struct ys_dnsprop_view v[2];
        memset(v, 0, sizeof v);
        for (int k = 0; k < 2; k++) {
            v[k].server = servers[k];
            v[k].ok = st[i].serial[k] != 0;
            v[k].ec = YS_EC_TIMEOUT;
            snprintf(v[k].error, sizeof v[k].error, "no answer within 2s");
            v[k].answers = (char *)st[i].ans[k];
            v[k].has_serial = v[k].ok;
            v[k].serial = st[i].serial[k];
        }
        struct ys_result r;
        ys_result_init(&r);
        ys_dnsprop_evaluate(s, v, 2, st[i].t_ms * 1000, &r);
        if (r.ok != st[i].ok || !strstr(r.message, st[i].msg))
            fail_msg("step %zu: ok %d message '%s'", i, r.ok, r.message);
        /* The views' lags (the facts' "lags") name the servers the message does. */
        for (int k = 0; k < 2; k++) {
            char named[64];
            snprintf(named, sizeof named, "%s lags", servers[k]);
            if (v[k].lags != (strstr(r.message, named) != NULL))
                fail_msg("step %zu: server %d lags %d, message '%s'", i, k, v[k].lags, r.message);
        }
        if (st[i].value < 0)
            assert_false(r.flags & YS_RF_HAS_VALUE);
        else {
            assert_true(r.flags & YS_RF_HAS_VALUE);
            assert_float_equal(r.value, st[i].value, 1e-9);
        }
    }
}

static void test_propagation(void **state)
{
    (void)state;
    struct ys_dnsprop_spec s = {.max_lag_ms = 5000};
    const char *o = "192.0.2.1", *n = "192.0.2.2", *m = "192.0.2.3";
    static const char *const lag =
        "1/2 servers agree; 127.0.0.1:5302 lags: serial 1 < 2, answers [192.0.2.1]";
    const struct step st[] = {
        {1000, {o, o}, {1, 1}, true, -1, "all 2 servers agree: serial 1, answers [192.0.2.1]"},
        {1500, {n, o}, {2, 1}, true, -1, lag},
        {2000, {n, o}, {2, 1}, true, -1, lag},
        {2500, {n, n}, {2, 2}, true, 1.0, "propagated in 1.0s"},
        {3000, {n, n}, {2, 2}, true, -1, "all 2 servers agree"},
        /* Both change between two probes: a sample of 0. */
        {3500, {m, m}, {3, 3}, true, 0.0, "serial 3"},
        /* Lagging longer than max_lag (5s) fails, then agreement passes. */
        {4000, {o, m}, {4, 3}, true, -1, "127.0.0.1:5302 lags: serial 3 < 4"},
        {9000, {o, m}, {4, 3}, true, -1, "lags"},
        {9500, {o, m}, {4, 3}, false, -1, "servers disagree for 5s500ms (max_lag 5s)"},
        {10000, {o, o}, {4, 4}, true, 6.0, "propagated in 6.0s"},
        /* A server that does not answer fails the probe, naming it. */
        {10500, {o, o}, {4, 0}, false, -1, "127.0.0.1:5302: no answer within 2s (1/2"},
        {11000, {o, o}, {4, 4}, true, -1, "agree"},
    };
    run_steps(&s, st, sizeof st / sizeof st[0]);
}

static void test_no_sample_at_start(void **state)
{
    (void)state;
    struct ys_dnsprop_spec s = {.expect = "192.0.2.2"};
    /* A disagreement under way when the check starts yields no sample;
     * expect decides which state is newest even against serials. */
    const struct step st[] = {
        {0, {"192.0.2.1", "192.0.2.2"}, {7, 5}, true, -1,
         "127.0.0.1:5301 lags: serial 7, answers [192.0.2.1]"},
        {500, {"192.0.2.2", "192.0.2.2"}, {5, 5}, true, -1, "all 2 servers agree"},
        {1000, {"192.0.2.1", "192.0.2.1"}, {8, 8}, false, 0.0, "without the expected 192.0.2.2"},
    };
    run_steps(&s, st, sizeof st / sizeof st[0]);
}

static void test_parse(void **state)
{
    (void)state;
    static const char ok[] = "checks:\n"
                             "  - name: p\n"
                             "    kind: dns_propagation\n"
                             "    query: www.example.org\n"
                             "    type: aaaa\n"
                             "    zone: example.org\n"
                             "    servers: [\"127.0.0.1\", \"[::1]:5300\"]\n"
                             "    max_lag: 30s\n";
    struct ys_diag d;
    struct ys_config *cfg = NULL;
    ys_diag_init(&d, "t.yaml");
    assert_int_equal(ys_config_load_string(ok, strlen(ok), &cfg, &d), 0);
    const struct ys_dnsprop_spec *s = cfg->checks[0].spec;
    assert_string_equal(s->query, "www.example.org");
    assert_int_equal(s->type, YS_DNS_AAAA);
    assert_int_equal(s->servers.n, 2);
    assert_string_equal(s->servers.v[0], "127.0.0.1:53");
    assert_string_equal(s->servers.v[1], "[::1]:5300");
    assert_int_equal(s->max_lag_ms, 30000);
    assert_false(s->discover_ns);
    assert_int_equal(s->discover_port, 53);
    ys_config_unref(cfg);
    ys_diag_free(&d);

    static const char disc[] = "checks:\n"
                               "  - name: p\n"
                               "    kind: dns_propagation\n"
                               "    query: www.example.org\n"
                               "    zone: example.org\n"
                               "    servers: [\"127.0.0.1:5300\"]\n"
                               "    discover_ns: true\n"
                               "    discover_port: 5300\n";
    ys_diag_init(&d, "t.yaml");
    cfg = NULL;
    assert_int_equal(ys_config_load_string(disc, strlen(disc), &cfg, &d), 0);
    s = cfg->checks[0].spec;
    assert_true(s->discover_ns);
    assert_int_equal(s->discover_port, 5300);
    ys_config_unref(cfg);
    ys_diag_free(&d);

    static const char bad[] = "checks:\n"
                              "  - name: p\n"
                              "    kind: dns_propagation\n"
                              "    servers: [\"ns1.example.org\"]\n"
                              "    discover_ns: true\n"
                              "    discover_port: 0\n"
                              "  - name: q\n"
                              "    kind: dns_propagation\n"
                              "    query: www.example.org\n"
                              "    servers: [\"127.0.0.1\"]\n"
                              "    discover_port: 5300\n";
    ys_diag_init(&d, "t.yaml");
    cfg = NULL;
    assert_true(ys_config_load_string(bad, strlen(bad), &cfg, &d) < 0);
    assert_null(cfg);
    bool query = false, server = false, zone = false, port = false, port_alone = false;
    for (size_t i = 0; i < d.n; i++) {
        query |= strstr(d.v[i].msg, "'query'") != NULL;
        server |= d.v[i].line == 4 && d.v[i].col == 15 && strstr(d.v[i].msg, "'ns1.example.org' must be an IP address");
        zone |= d.v[i].line == 5 && strstr(d.v[i].msg, "needs a zone") != NULL;
        port |= d.v[i].line == 6 && strstr(d.v[i].msg, "discover_port must be between 1 and 65535");
        port_alone |= d.v[i].line == 11 && strstr(d.v[i].msg, "discover_port needs discover_ns: true");
    }
    assert_true(query && server && zone && port && port_alone);
    ys_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_norm),  cmocka_unit_test(test_answers),
        cmocka_unit_test(test_propagation),  cmocka_unit_test(test_no_sample_at_start),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
