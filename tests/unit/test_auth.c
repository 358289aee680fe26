/*
 * test_auth.c - server.auth (config/model_server.c) and the Authorization
 * check (web/auth.c): bearer tokens, basic users with SHA-256 passwords,
 * malformed headers, the config's own errors, and loopback detection.
 */
#include "config/diag.h"
#include "config/model.h"
#include "web/auth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* printf %s secret | sha256sum */
#define SECRET_SHA "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"

static struct ys_config *load(const char *server, size_t *errors)
{
    char text[2048];
    snprintf(text, sizeof text,
             "storage: { path: /tmp/unused.db }\n"
             "checks:\n"
             "  - { name: a, kind: tcp, address: \"127.0.0.1:1\" }\n"
             "%s",
             server);
    struct ys_diag d;
    ys_diag_init(&d, "test.yaml");
    struct ys_config *c = NULL;
    int rc = ys_config_load_string(text, strlen(text), &c, &d);
    *errors = d.n;
    ys_diag_free(&d);
    return rc == 0 ? c : NULL;
}

static void test_defaults(void **state)
{
    (void)state;
    size_t errors;
    struct ys_config *c = load("", &errors);
    assert_non_null(c);
    assert_true(c->server.enabled);
    assert_false(c->server.listen_explicit);
    assert_string_equal(c->server.host, "127.0.0.1");
    assert_int_equal(c->server.port, 8080);
    assert_int_equal(c->server.max_connections, 256);
    assert_int_equal(c->server.timeout_ms, 10000);
    assert_false(ys_web_auth_required(&c->server));
    assert_true(ys_web_auth_check(&c->server, NULL));
    ys_config_unref(c);
}

static void test_listen_v6_and_disabled(void **state)
{
    (void)state;
    size_t errors;
    struct ys_config *c = load("server: { listen: \"[::1]:9191\", enabled: false }\n", &errors);
    assert_non_null(c);
    assert_string_equal(c->server.host, "::1");
    assert_int_equal(c->server.port, 9191);
    assert_true(c->server.listen_explicit);
    assert_false(c->server.enabled);
    ys_config_unref(c);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "server: { listen: 127.0.0.1 }\n",                                      /* no port */
        "server: { listen: 127.0.0.1:70000 }\n",                                /* port range */
        "server: { max_connections: 0 }\n",                                     /* limit */
        "server: { timeout: 10ms }\n",                                          /* too short */
        "server: { bogus: 1 }\n",                                               /* unknown key */
        "server: { auth: { tokens: [\"\"] } }\n",                               /* empty token */
        "server: { auth: {} }\n",                                               /* nothing */
        "server: { auth: { basic: [{ user: a, password_sha256: abc }] } }\n",   /* short digest */
        "server: { auth: { basic: [{ password_sha256: " SECRET_SHA " }] } }\n", /* no user */
        "server: { auth: { basic: [{ user: \"a:b\", password_sha256: " SECRET_SHA " }] } }\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t errors = 0;
        struct ys_config *c = load(bad[i], &errors);
        if (c)
            fail_msg("accepted: %s", bad[i]);
        assert_true(errors >= 1);
    }
}

static const char AUTH_CFG[] = "server:\n"
                               "  auth:\n"
                               "    tokens: [tok-123, other]\n"
                               "    basic:\n"
                               "      - { user: admin, password_sha256: " SECRET_SHA " }\n";

static void test_headers(void **state)
{
    (void)state;
    size_t errors;
    struct ys_config *c = load(AUTH_CFG, &errors);
    assert_non_null(c);
    assert_true(ys_web_auth_required(&c->server));
    /* base64("admin:secret") = YWRtaW46c2VjcmV0 ; ("admin:wrong") = YWRtaW46d3Jvbmc= ;
     * ("root:secret") = cm9vdDpzZWNyZXQ= ; ("adminsecret") = YWRtaW5zZWNyZXQ= */
    static const struct {
        const char *header;
        bool ok;
    } cases[] = {
        {NULL, false},
        {"", false},
        {"Bearer tok-123", true},
        {"bearer tok-123", true},
        {"Bearer  other", true},
        {"Bearer tok-12", false},
        {"Bearer tok-1234", false},
        {"Bearer ", false},
        {"Token tok-123", false},
        {"tok-123", false},
        {"Basic YWRtaW46c2VjcmV0", true},
        {"basic YWRtaW46c2VjcmV0", true},
        {"Basic YWRtaW46d3Jvbmc=", false},
        {"Basic cm9vdDpzZWNyZXQ=", false},
        {"Basic YWRtaW5zZWNyZXQ=", false},
        {"Basic !!!!", false},
        {"Basic YWRtaW46c2VjcmV", false},
        {"Basic ", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bool got = ys_web_auth_check(&c->server, cases[i].header);
        if (got != cases[i].ok)
            fail_msg("'%s': expected %d, got %d", cases[i].header ? cases[i].header : "(null)",
                     cases[i].ok, got);
    }
    ys_config_unref(c);
}

static void test_tokens_only_refuse_basic(void **state)
{
    (void)state;
    size_t errors;
    struct ys_config *c = load("server: { auth: { tokens: [t] } }\n", &errors);
    assert_non_null(c);
    assert_true(ys_web_auth_check(&c->server, "Bearer t"));
    assert_false(ys_web_auth_check(&c->server, "Basic dDp0")); /* t:t */
    ys_config_unref(c);
}

static void test_loopback(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        bool loop;
    } cases[] = {
        {"127.0.0.1", true}, {"127.1.2.3", true}, {"::1", true},       {"localhost", true},
        {"0.0.0.0", false},  {"::", false},       {"10.0.0.1", false}, {"example.org", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (ys_web_is_loopback(cases[i].host) != cases[i].loop)
            fail_msg("%s: expected %d", cases[i].host, cases[i].loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_listen_v6_and_disabled),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_tokens_only_refuse_basic),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
