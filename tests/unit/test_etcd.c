/*
 * test_etcd.c - the etcd kind: its config fields (values, defaults, every
 * error with its line and column) and the parsers of etcd's answers, fed
 * with answers recorded from Debian's etcd 3.4.23 and with malformed ones.
 *
 * Config cases load a whole config through ys_config_load_string, so the
 * kind's parse runs exactly as `yardstick validate` runs it.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "probe/etcd_spec.h"
#include "probe/probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

static const struct ys_etcd_spec *only_spec(const struct loaded *l)
{
    if (l->rc != 0)
        dump(l);
    assert_int_equal(l->rc, 0);
    assert_int_equal(l->cfg->n_checks, 1);
    assert_string_equal(l->cfg->checks[0].type->name, "etcd");
    return l->cfg->checks[0].spec;
}

static void test_full(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: etcd\n"
             "    kind: etcd\n"
             "    endpoints: [\"https://10.0.0.5:2379/\", \"http://[::1]:2379\", "
             "\"https://etcd-2.local\"]\n"
             "    min_healthy: 2\n"
             "    tls: { insecure: true }\n");
    const struct ys_etcd_spec *s = only_spec(&l);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->ep[0].url, "https://10.0.0.5:2379");
    assert_string_equal(s->ep[0].name, "10.0.0.5:2379");
    assert_true(s->ep[0].https);
    assert_string_equal(s->ep[1].url, "http://[::1]:2379");
    assert_string_equal(s->ep[1].name, "[::1]:2379");
    assert_false(s->ep[1].https);
    /* No port: the scheme's, written out so messages name it. */
    assert_string_equal(s->ep[2].name, "etcd-2.local:443");
    assert_int_equal(s->min_healthy, 2);
    assert_true(s->tls.insecure);
    unload(&l);
}

/* A single string is a list of one; min_healthy defaults to all. */
static void test_defaults(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: one\n"
             "    kind: etcd\n"
             "    endpoints: http://127.0.0.1:2379\n");
    const struct ys_etcd_spec *s = only_spec(&l);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->min_healthy, 1);
    assert_false(s->tls.present);
    unload(&l);
}

static void test_missing_endpoints(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: none\n"
             "    kind: etcd\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 5, "missing required field 'endpoints'");
    unload(&l);
}

/* One config with many fields wrong: each error is reported, in place. */
static void test_every_error_with_position(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: bad\n"
             "    kind: etcd\n"
             "    endpoints:\n"
             "      - ftp://127.0.0.1:2379\n"
             "      - http://127.0.0.1:2379/health\n"
             "      - http://127.0.0.1:2379\n"
             "      - http://127.0.0.1:2379/\n"
             "    min_healthy: 0\n"
             "    endpionts: x\n"
             "    tls: { server_name: etcd.local, cert_file: /etc/hostname }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 5, 9, "scheme must be http or https");
    assert_diag(&l, 6, 9, "must be scheme://host:port only");
    assert_diag(&l, 8, 9, "is listed twice");
    assert_diag(&l, 9, 18, "min_healthy");
    assert_diag(&l, 10, 5, "unknown key 'endpionts'");
    assert_diag(&l, 10, 5, "did you mean 'endpoints'?");
    assert_diag(&l, 11, 25, "tls.server_name is not supported by etcd checks");
    assert_diag(&l, 11, 10, "tls.cert_file needs tls.key_file");
    unload(&l);
}

static void test_min_healthy_above_endpoints(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: two\n"
             "    kind: etcd\n"
             "    endpoints: [\"http://127.0.0.1:1\", \"http://127.0.0.1:2\"]\n"
             "    min_healthy: 3\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 5, 18, "min_healthy must be between 1 and 2");
    unload(&l);
}

static void test_bad_endpoint_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *value, *diag;
    } bad[] = {
        {"[]", "endpoints must be a list of 1 to 16 URLs"},
        {"{a: b}", "endpoints must be a list of 1 to 16 URLs"},
        {"\"http://u:p@h:1\"", "must be scheme://host:port only"},
        {"\"http://h:1/?x=1\"", "must be scheme://host:port only"},
        {"\"not a url\"", "bad URL 'not a url'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "checks:\n  - name: e\n    kind: etcd\n    endpoints: %s\n",
                 bad[i].value);
        struct loaded l;
        load(&l, yaml);
        if (l.rc != YS_ECONFIG)
            fail_msg("endpoints %s was accepted", bad[i].value);
        assert_diag(&l, 4, 16, bad[i].diag);
        unload(&l);
    }
}

/* ---- answers (recorded from etcd 3.4.23 unless said otherwise) ---------- */

#define S(lit) lit, sizeof lit - 1

static void test_health(void **state)
{
    (void)state;
    bool h = false;
    char reason[YS_ETCD_TEXT_MAX];
    const char *why = NULL;
    assert_int_equal(
        ys_etcd_parse_health(S("{\"health\":\"true\"}"), &h, reason, sizeof reason, &why), 0);
    assert_true(h);
    assert_string_equal(reason, "");
    /* etcd 3.5's shape, with a reason. */
    assert_int_equal(ys_etcd_parse_health(S("{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}"),
                                          &h, reason, sizeof reason, &why),
                     0);
    assert_false(h);
    assert_string_equal(reason, "RAFT NO LEADER");
    assert_int_equal(ys_etcd_parse_health(S("{\"health\":true}"), &h, reason, sizeof reason, &why),
                     0);
    assert_true(h);
}

static void test_health_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"404 page not found\n", "not JSON"},
        {"[\"true\"]", "not a JSON object"},
        {"{}", "no \"health\" field"},
        {"{\"health\":\"yes\"}", "neither true nor false"},
        {"{\"health\":1}", "neither true nor false"},
        {"{\"health\":\"true\"", "not JSON"},
        {"", "not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool h = true;
        char reason[8];
        const char *why = NULL;
        assert_int_equal(ys_etcd_parse_health(cases[i].body, strlen(cases[i].body), &h, reason,
                                              sizeof reason, &why),
                         YS_EINVAL);
        assert_non_null(strstr(why, cases[i].why));
    }
}

static void test_version(void **state)
{
    (void)state;
    char sv[YS_ETCD_TEXT_MAX], cv[YS_ETCD_TEXT_MAX];
    const char *why = NULL;
    assert_int_equal(
        ys_etcd_parse_version(S("{\"etcdserver\":\"3.4.23\",\"etcdcluster\":\"3.4.0\"}"), sv,
                              sizeof sv, cv, sizeof cv, &why),
        0);
    assert_string_equal(sv, "3.4.23");
    assert_string_equal(cv, "3.4.0");
    assert_int_equal(
        ys_etcd_parse_version(S("{\"etcdserver\":\"3.4.23\"}"), sv, sizeof sv, cv, sizeof cv, &why),
        YS_EINVAL);
    assert_string_equal(why, "no \"etcdcluster\" string");
    assert_int_equal(ys_etcd_parse_version(S("{\"etcdserver\":3,\"etcdcluster\":\"3.4.0\"}"), sv,
                                           sizeof sv, cv, sizeof cv, &why),
                     YS_EINVAL);
    assert_string_equal(why, "no \"etcdserver\" string");
    assert_int_equal(ys_etcd_parse_version(S("etcd 3.4"), sv, sizeof sv, cv, sizeof cv, &why),
                     YS_EINVAL);
    assert_string_equal(why, "not JSON");
    /* A long version is cut to the buffer, never overflowing it. */
    char small[4];
    assert_int_equal(ys_etcd_parse_version(S("{\"etcdserver\":\"3.4.23\",\"etcdcluster\":\"x\"}"),
                                           small, sizeof small, cv, sizeof cv, &why),
                     0);
    assert_string_equal(small, "3.4");
}

static void test_range(void **state)
{
    (void)state;
    char msg[128];
    assert_int_equal(ys_etcd_parse_range(S("{\"header\":{\"cluster_id\":\"2360593584605291043\","
                                           "\"member_id\":\"13763281429695181982\",\"revision\":"
                                           "\"1\",\"raft_term\":\"2\"}}"),
                                         msg, sizeof msg),
                     0);
    assert_string_equal(msg, "");
    assert_int_equal(ys_etcd_parse_range(S("{\"error\":\"etcdserver: mvcc: required revision is a "
                                           "future revision\",\"message\":\"etcdserver: mvcc: "
                                           "required revision is a future revision\",\"code\":11}"),
                                         msg, sizeof msg),
                     YS_EINVAL);
    assert_string_equal(msg, "etcdserver: mvcc: required revision is a future revision");
    /* The gateway's older shape has only "error". */
    assert_int_equal(ys_etcd_parse_range(S("{\"error\":\"etcdserver: request timed out\","
                                           "\"code\":14}"),
                                         msg, sizeof msg),
                     YS_EINVAL);
    assert_string_equal(msg, "etcdserver: request timed out");
    assert_int_equal(ys_etcd_parse_range(S("{\"kvs\":[]}"), msg, sizeof msg), YS_EINVAL);
    assert_string_equal(msg, "no \"header\" in the answer");
    assert_int_equal(ys_etcd_parse_range(S("<html>"), msg, sizeof msg), YS_EINVAL);
    assert_string_equal(msg, "not JSON");
    assert_int_equal(ys_etcd_parse_range(S("{\"header\":\"x\"}"), msg, sizeof msg), YS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_missing_endpoints),
        cmocka_unit_test(test_every_error_with_position),
        cmocka_unit_test(test_min_healthy_above_endpoints),
        cmocka_unit_test(test_bad_endpoint_shapes),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_health_malformed),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
