/*
 * test_tcp_spec.c - the tcp kind's config fields: values, defaults, and
 * every error with its line and column.
 *
 * Each case loads a whole config through ys_config_load_string, so the
 * kind's parse runs exactly as `yardstick validate` runs it, unknown-key
 * suggestions included (those come from the model using ys_tcp_keys).
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "probe/probe.h"
#include "probe/tcp_spec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

static const struct ys_tcp_spec *only_spec(const struct loaded *l)
{
    if (l->rc != 0)
        dump(l);
    assert_int_equal(l->rc, 0);
    assert_int_equal(l->cfg->n_checks, 1);
    assert_string_equal(l->cfg->checks[0].type->name, "tcp");
    return l->cfg->checks[0].spec;
}

static void test_full(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: redis\n"
             "    kind: tcp\n"
             "    address: 127.0.0.1:6379\n"
             "    send: \"PING\\r\\n\"\n"
             "    expect: \"+PONG\"\n"
             "    max_read: 1KiB\n"
             "    ip_version: 4\n"
             "    tls: { min_days_left: 30, insecure: true, server_name: redis.local }\n");
    const struct ys_tcp_spec *s = only_spec(&l);
    assert_string_equal(s->host, "127.0.0.1");
    assert_int_equal(s->port, 6379);
    assert_int_equal(s->send_len, 6);
    assert_memory_equal(s->send, "PING\r\n", 6);
    assert_string_equal(s->expect, "+PONG");
    assert_int_equal(s->expect_len, 5);
    assert_int_equal(s->max_read, 1024);
    assert_int_equal(s->ip_version, 4);
    assert_true(ys_tcp_spec_tls_on(s));
    assert_int_equal(s->tls.min_days_left, 30);
    assert_true(s->tls.insecure);
    assert_string_equal(s->tls.server_name, "redis.local");
    assert_null(s->tls_client);
    unload(&l);
}

static void test_defaults_and_v6(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: v6\n"
             "    kind: tcp\n"
             "    address: \"[::1]:2379\"\n"
             "    ip_version: any\n");
    const struct ys_tcp_spec *s = only_spec(&l);
    assert_string_equal(s->host, "::1");
    assert_int_equal(s->port, 2379);
    assert_null(s->send);
    assert_null(s->expect);
    assert_int_equal(s->max_read, YS_TCP_MAX_READ_DEFAULT);
    assert_int_equal(s->ip_version, 0);
    assert_false(ys_tcp_spec_tls_on(s));
    unload(&l);
}

/* tls: present turns TLS on; enabled: false turns it off again. */
static void test_tls_switch(void **state)
{
    (void)state;
    static const struct {
        const char *tls;
        int on;
    } cases[] = {
        {"    tls: {}\n", 1},
        {"    tls: true\n", 1},
        {"    tls: false\n", 0},
        {"    tls: { enabled: false, min_days_left: 5 }\n", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "checks:\n  - name: e\n    kind: tcp\n    address: h:1\n%s",
                 cases[i].tls);
        struct loaded l;
        load(&l, yaml);
        const struct ys_tcp_spec *s = only_spec(&l);
        assert_int_equal(ys_tcp_spec_tls_on(s), cases[i].on);
        unload(&l);
    }
}

static void test_missing_address(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: noaddr\n"
             "    kind: tcp\n"
             "    expect: hi\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 5, "missing required field 'address' in check 'noaddr'");
    unload(&l);
}

/* One config with every field wrong: each error is reported, in place. */
static void test_every_error_with_position(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: bad\n"
             "    kind: tcp\n"
             "    address: \"db.local:99999\"\n"
             "    expect: \"\"\n"
             "    max_read: 32MiB\n"
             "    ip_version: 5\n"
             "    adress: x\n"
             "    tls: { min_days_left: -1, ca_fle: /x }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 4, 14, "address");
    assert_diag(&l, 5, 13, "expect must not be empty");
    assert_diag(&l, 6, 15, "max_read must be between 1 byte and 16MiB");
    assert_diag(&l, 7, 17, "ip_version must be 4, 6 or any");
    assert_diag(&l, 8, 5, "unknown key 'adress'");
    assert_diag(&l, 8, 5, "did you mean 'address'?");
    assert_diag(&l, 9, 27, "tls.min_days_left");
    assert_diag(&l, 9, 31, "unknown key 'ca_fle'");
    assert_diag(&l, 9, 31, "did you mean 'ca_file'?");
    unload(&l);
}

/* Shapes an address can go wrong in, each at the value's position. */
static void test_bad_addresses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"db.local\"", "\"db.local:0\"", "\"db.local:port\"", "\"[::1\"", "\":80\"", "[a, b]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "checks:\n  - name: a\n    kind: tcp\n    address: %s\n",
                 bad[i]);
        struct loaded l;
        load(&l, yaml);
        if (l.rc != YS_ECONFIG)
            fail_msg("address %s was accepted", bad[i]);
        assert_diag(&l, 4, 14, "address");
        unload(&l);
    }
}

static void test_tls_section_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: t\n"
             "    kind: tcp\n"
             "    address: h:443\n"
             "    tls:\n"
             "      insecure: maybe\n"
             "      cert_file: /etc/hostname\n"
             "      ca_file: /nonexistent/ca.pem\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 6, 17, "tls.insecure");
    assert_diag(&l, 8, 16, "tls.ca_file '/nonexistent/ca.pem' cannot be read");
    assert_diag(&l, 6, 7, "tls.cert_file needs tls.key_file");
    unload(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_defaults_and_v6),
        cmocka_unit_test(test_tls_switch),
        cmocka_unit_test(test_missing_address),
        cmocka_unit_test(test_every_error_with_position),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_tls_section_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
