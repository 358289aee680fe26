/*
 * test_config.c - the configuration loader: node tree, typed readers, the
 * model, and every error message path with its exact FILE:LINE:COL.
 *
 * Configs are loaded from strings (ys_config_load_string) and from temp
 * files (ys_config_load). Errors are looked up by position and message
 * substring, so a test fails if an error moves, changes or goes missing.
 * The http and tcp kinds' own errors are theirs to test; the checks here
 * use fields those kinds accept.
 */
#include "config/diag.h"
#include "config/model.h"
#include "config/node.h"
#include "config/read.h"
#include "core/err.h"
#include "probe/probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static struct ys_diag D;
static struct ys_config *C;

static int setup(void **state)
{
    (void)state;
    ys_diag_init(&D, "t.yaml");
    C = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ys_config_unref(C);
    ys_diag_free(&D);
    return 0;
}

static int load(const char *yaml)
{
    return ys_config_load_string(yaml, strlen(yaml), &C, &D);
}

static void dump(void)
{
    ys_diag_print(&D, stderr);
}

/* Asserts there is an error at line:col whose message contains sub. */
#define expect_error(line, col, sub) expect_error_at(line, col, sub, __FILE__, __LINE__)
static void expect_error_at(int line, int col, const char *sub, const char *file, int at)
{
    for (size_t i = 0; i < D.n; i++)
        if (D.v[i].line == line && D.v[i].col == col && strstr(D.v[i].msg, sub))
            return;
    dump();
    _fail(file, at);
    (void)sub;
}

/* Asserts there is an error whose message is exactly msg, at line:col. */
static void expect_exact(int line, int col, const char *msg)
{
    for (size_t i = 0; i < D.n; i++)
        if (D.v[i].line == line && D.v[i].col == col && strcmp(D.v[i].msg, msg) == 0)
            return;
    dump();
    fail_msg("no error '%s' at %d:%d", msg, line, col);
}

static const char *const minimal = "checks:\n"
                                   "  - name: api\n"
                                   "    kind: http\n"
                                   "    url: http://127.0.0.1:8080/health\n"
                                   "    labels: {area: core, team: infra}\n"
                                   "  - name: db\n"
                                   "    kind: tcp\n"
                                   "    address: 127.0.0.1:5432\n"
                                   "    interval: 5s\n"
                                   "    timeout: 250ms\n";

static void test_minimal_and_defaults(void **state)
{
    (void)state;
    if (load(minimal) != 0)
        dump();
    assert_int_equal(D.n, 0);
    assert_non_null(C);
    assert_int_equal(C->refs, 1);
    assert_string_equal(C->path, "t.yaml");
    assert_string_equal(C->storage.kind, "sqlite");
    assert_string_equal(C->storage.path, "var/yardstick.db");
    assert_int_equal(C->storage.retention.raw_ms, INT64_C(7) * 86400000);
    assert_int_equal(C->storage.retention.minute_ms, INT64_C(35) * 86400000);
    assert_int_equal(C->storage.retention.hour_ms, INT64_C(400) * 86400000);
    assert_int_equal(C->storage.retention.day_ms, 0);
    assert_int_equal(C->defaults.interval_ms, 30000);
    assert_int_equal(C->defaults.timeout_ms, 10000);
    assert_int_equal(C->n_checks, 2);

    const struct ys_check *api = ys_config_find(C, "api");
    assert_ptr_equal(api, &C->checks[0]);
    assert_ptr_equal(api->type, ys_probe_type_find("http"));
    assert_int_equal(api->interval_ms, 30000);
    assert_int_equal(api->timeout_ms, 10000);
    assert_int_equal(api->line, 2);
    assert_int_equal(api->col, 5);
    assert_non_null(api->spec);
    assert_int_equal(api->labels.n, 2);
    assert_string_equal(ys_strmap_get(&api->labels, "area"), "core");
    assert_string_equal(ys_strmap_get(&api->labels, "team"), "infra");
    assert_null(ys_strmap_get(&api->labels, "zone"));

    const struct ys_check *db = ys_config_find(C, "db");
    assert_ptr_equal(db, &C->checks[1]);
    assert_int_equal(db->interval_ms, 5000);
    assert_int_equal(db->timeout_ms, 250);
    assert_null(ys_config_find(C, "nope"));
}

static void test_storage_and_retention(void **state)
{
    (void)state;
    const char *yaml = "storage:\n"
                       "  path: /tmp/x.db\n"
                       "  retention: {raw: 1d, minute: 10d, hour: forever, day: 3650d}\n"
                       "defaults: {interval: 1m, timeout: 2s}\n"
                       "checks:\n"
                       "  - {name: a, kind: tcp, address: 'localhost:1'}\n";
    assert_int_equal(load(yaml), 0);
    assert_string_equal(C->storage.path, "/tmp/x.db");
    assert_int_equal(C->storage.retention.raw_ms, 86400000);
    assert_int_equal(C->storage.retention.minute_ms, INT64_C(10) * 86400000);
    assert_int_equal(C->storage.retention.hour_ms, 0);
    assert_int_equal(C->storage.retention.day_ms, INT64_C(3650) * 86400000);
    assert_int_equal(C->checks[0].interval_ms, 60000);
    assert_int_equal(C->checks[0].timeout_ms, 2000);
}

static void test_storage_errors(void **state)
{
    (void)state;
    const char *yaml = "storage:\n"
                       "  kind: postgres\n"
                       "  retention:\n"
                       "    raw: 7 days\n"
                       "    minit: 1d\n"
                       "    hour: [1d]\n";
    assert_int_equal(load(yaml), YS_ECONFIG);
    assert_null(C);
    expect_exact(2, 9, "storage kind postgres needs dsn (a libpq connection string, such as "
                       "\"${YARDSTICK_PG_DSN}\")");
    expect_error(4, 10, "storage.retention.raw: bad retention '7 days'");
    expect_exact(5, 5, "unknown key 'minit' in storage.retention (did you mean 'minute'?)");
    expect_exact(6, 11, "storage.retention.hour must be a duration, not a sequence");
    assert_int_equal(D.n, 4);

    teardown(NULL);
    setup(NULL);
    assert_int_equal(load("storage: {kind: sqlit}\n"), YS_ECONFIG);
    expect_exact(1, 17, "unknown storage kind 'sqlit' (known: sqlite, postgres); did you mean "
                        "'sqlite'?");
    teardown(NULL);
    setup(NULL);
    assert_int_equal(load("storage: var/x.db\n"), YS_ECONFIG);
    expect_exact(1, 10, "storage must be a mapping, not a string");
}

static void test_unknown_keys_with_suggestions(void **state)
{
    (void)state;
    const char *yaml = "chekcs: []\n"
                       "zzzzzz: 1\n"
                       "defaults: {intervl: 5s}\n";
    assert_int_equal(load(yaml), YS_ECONFIG);
    expect_exact(1, 1, "unknown key 'chekcs' (did you mean 'checks'?)");
    expect_exact(2, 1, "unknown key 'zzzzzz'");
    expect_exact(3, 12, "unknown key 'intervl' in defaults (did you mean 'interval'?)");
    assert_int_equal(D.n, 3);
}

static void test_check_errors(void **state)
{
    (void)state;
    const char *yaml = "checks:\n"
                       "  - name: api\n"                   /* 2 */
                       "    kind: http\n"                  /* 3 */
                       "    url: http://x/\n"              /* 4 */
                       "    intreval: 5s\n"                /* 5 */
                       "  - name: web\n"                   /* 6 */
                       "    kind: htp\n"                   /* 7 */
                       "    interval: 5 minutes\n"         /* 8 */
                       "  - kind: tcp\n"                   /* 9 */
                       "    address: a:1\n"                /* 10 */
                       "    timeout: {a: 1}\n"             /* 11 */
                       "  - name: api\n"                   /* 12 */
                       "    kind: tcp\n"                   /* 13 */
                       "    address: a:2\n"                /* 14 */
                       "    interval: 50ms\n"              /* 15 */
                       "    timeout: 5ms\n"                /* 16 */
                       "  - name: 'bad name!'\n"           /* 17 */
                       "    labels: {1x: a, ok: {b: c}}\n" /* 18 */
                       "  - just a string\n"               /* 19 */
                       "  - name: d\n"                     /* 20 */
                       "    kind: [tcp]\n"                 /* 21 */
                       "    description: {x: 1}\n";        /* 22 */
    assert_int_equal(load(yaml), YS_ECONFIG);
    assert_null(C);
    expect_exact(5, 5, "unknown key 'intreval' in check 'api' (did you mean 'interval'?)");
    expect_exact(7, 11, "unknown kind 'htp' in check 'web' (did you mean 'http'?)");
    expect_exact(8, 15,
                 "checks[1].interval: bad duration '5 minutes' (use 250ms, 30s, 5m, 1h, 7d)");
    expect_exact(9, 5, "missing required field 'name' in checks[2]");
    expect_exact(11, 14, "checks[2].timeout must be a duration, not a mapping");
    expect_exact(12, 11, "duplicate check name 'api' (first defined at 2:11)");
    expect_exact(15, 15, "checks[3].interval must be at least 100ms, not '50ms'");
    expect_exact(16, 14, "checks[3].timeout must be at least 10ms, not '5ms'");
    expect_error(17, 11, "bad check name 'bad name!'");
    expect_exact(17, 5, "missing required field 'kind' in checks[4]");
    expect_error(18, 14, "bad label name '1x'");
    expect_exact(18, 25, "checks[4].labels.ok must be a string, not a mapping");
    expect_exact(19, 5, "checks[5] must be a mapping, not a string");
    expect_exact(21, 11, "kind must be a string, not a sequence");
    expect_exact(22, 18, "checks[6].description must be a string, not a mapping");
    assert_int_equal(D.n, 15);
}

static void test_kind_errors_are_reported_too(void **state)
{
    (void)state;
    /* The kind's parser runs even when common fields are wrong, so both
     * kinds of problem show up in one run. */
    const char *yaml = "checks:\n"
                       "  - name: a\n"
                       "    kind: http\n"
                       "    interval: nope\n"
                       "    url: htp://x\n"
                       "  - name: b\n"
                       "    kind: tcp\n"
                       "    addres: x:1\n";
    assert_int_equal(load(yaml), YS_ECONFIG);
    expect_error(4, 15, "checks[0].interval: bad duration 'nope'");
    expect_exact(5, 10, "bad URL 'htp://x': scheme must be http or https");
    expect_exact(8, 5, "unknown key 'addres' in check 'b' (did you mean 'address'?)");
    expect_error(6, 5, "missing required field 'address'");
}

static void test_env_substitution(void **state)
{
    (void)state;
    setenv("YS_TEST_HOST", "127.0.0.1", 1);
    setenv("YS_TEST_PORT", "9000", 1);
    unsetenv("YS_TEST_UNSET");
    const char *yaml = "storage: {path: '/data/${YS_TEST_PORT}.db'}\n"
                       "checks:\n"
                       "  - name: a\n"
                       "    kind: tcp\n"
                       "    address: ${YS_TEST_HOST}:${YS_TEST_PORT}\n"
                       "    labels: {cost: \"$5 and ${YS_TEST_PORT}$\", at: \"${YS_TEST_HOST}\"}\n";
    if (load(yaml) != 0)
        dump();
    assert_non_null(C);
    assert_string_equal(C->storage.path, "/data/9000.db");
    assert_string_equal(ys_strmap_get(&C->checks[0].labels, "cost"), "$5 and 9000$");
    assert_string_equal(ys_strmap_get(&C->checks[0].labels, "at"), "127.0.0.1");

    teardown(NULL);
    setup(NULL);
    const char *bad = "checks:\n"
                      "  - name: a\n"
                      "    kind: tcp\n"
                      "    address: \"${YS_TEST_UNSET}:1\"\n"
                      "    labels: {x: '${1BAD}', y: '${OPEN'}\n";
    assert_int_equal(load(bad), YS_ECONFIG);
    expect_exact(4, 14, "environment variable YS_TEST_UNSET is not set");
    expect_error(5, 17, "bad environment variable name '1BAD'");
    expect_error(5, 31, "unterminated ${");
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    assert_int_equal(load("checks:\n  - name: a\n    kind: [tcp\n"), YS_ECONFIG);
    assert_int_equal(D.n, 1);
    assert_non_null(strstr(D.v[0].msg, "YAML syntax error"));
    assert_int_equal(D.v[0].line, 4);

    teardown(NULL);
    setup(NULL);
    assert_int_equal(load("a: b: c\n"), YS_ECONFIG);
    expect_exact(1, 5, "YAML syntax error: mapping values are not allowed in this context");
}

static void test_duplicate_keys_and_aliases(void **state)
{
    (void)state;
    const char *yaml = "defaults:\n"
                       "  interval: 5s\n"
                       "  interval: 6s\n"
                       "checks:\n"
                       "  - &base {name: a, kind: tcp, address: 'h:1'}\n"
                       "  - *base\n"
                       "? [complex, key]\n"
                       ": 1\n";
    assert_int_equal(load(yaml), YS_ECONFIG);
    expect_exact(3, 3, "duplicate key 'interval' (first defined at 2:3)");
    expect_error(5, 5, "anchors (&base) are not supported");
    expect_error(6, 5, "aliases (*base) are not supported");
    expect_error(7, 3, "mapping keys must be plain strings, not a sequence");
}

static void test_empty_and_not_a_mapping(void **state)
{
    (void)state;
    static const char *const cases[] = {"", "# only a comment\n", "---\n", "- a\n- b\n",
                                        "just text\n"};
    static const char *const want[] = {"is empty", "is empty", "not an empty value",
                                       "not a sequence", "not a string"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        teardown(NULL);
        setup(NULL);
        assert_int_equal(load(cases[i]), YS_ECONFIG);
        assert_int_equal(D.n, 1);
        assert_int_equal(D.v[0].line, 1);
        assert_int_equal(D.v[0].col, 1);
        if (!strstr(D.v[0].msg, want[i]))
            fail_msg("case %zu: '%s'", i, D.v[0].msg);
    }
    /* An empty checks list is a valid, if idle, config. */
    teardown(NULL);
    setup(NULL);
    assert_int_equal(load("checks: []\n"), 0);
    assert_int_equal(C->n_checks, 0);
    assert_null(ys_config_find(C, "a"));
}

static void test_second_document_and_depth(void **state)
{
    (void)state;
    assert_int_equal(load("checks: []\n---\nchecks: []\n"), YS_ECONFIG);
    expect_error(2, 1, "only one YAML document");

    teardown(NULL);
    setup(NULL);
    char deep[400];
    size_t n = 0;
    deep[n++] = 'x';
    deep[n++] = ':';
    deep[n++] = ' ';
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    assert_int_equal(load(deep), YS_ECONFIG);
    expect_error(1, 68, "nesting deeper than 64 levels");
}

static void test_diag_print_sorted(void **state)
{
    (void)state;
    ys_diag_add(&D, 3, 1, "c");
    ys_diag_add(&D, 1, 5, "b");
    ys_diag_add(&D, 1, 2, "a");
    ys_diag_add(&D, 3, 1, "d");
    ys_diag_add(&D, 0, 0, "no position %d", 7);
    char buf[512] = {0};
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    ys_diag_print(&D, f);
    fclose(f);
    assert_string_equal(buf, "t.yaml: no position 7\n"
                             "t.yaml:1:2: a\n"
                             "t.yaml:1:5: b\n"
                             "t.yaml:3:1: c\n"
                             "t.yaml:3:1: d\n");
}

static void test_multiple_errors_one_load(void **state)
{
    (void)state;
    const char *yaml = "storage: {kind: postgres}\n"
                       "defaults: {interval: soon}\n"
                       "checks:\n"
                       "  - {name: a, kind: tcp, address: 'h:1', timeout: x}\n"
                       "  - {name: a, kind: tcp, address: 'h:1'}\n";
    assert_int_equal(load(yaml), YS_ECONFIG);
    assert_int_equal(D.n, 4);
    char buf[1024] = {0};
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ys_diag_print(&D, f);
    fclose(f);
    const char *want = "t.yaml:1:17: storage kind postgres needs dsn (a libpq connection "
                       "string, such as \"${YARDSTICK_PG_DSN}\")\n"
                       "t.yaml:2:22: defaults.interval: bad duration 'soon' (use 250ms, 30s, "
                       "5m, 1h, 7d)\n"
                       "t.yaml:4:51: checks[0].timeout: bad duration 'x' (use 250ms, 30s, 5m, "
                       "1h, 7d)\n"
                       "t.yaml:5:12: duplicate check name 'a' (first defined at 4:12)\n";
    assert_string_equal(buf, want);
}

static char *write_temp(const char *text, size_t len)
{
    char *path = strdup("/tmp/ys_test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_load_file(void **state)
{
    (void)state;
    char *path = write_temp(minimal, strlen(minimal));
    struct ys_diag d;
    ys_diag_init(&d, path);
    struct ys_config *c = NULL;
    assert_int_equal(ys_config_load(path, &c, &d), 0);
    assert_string_equal(c->path, path);
    assert_int_equal(c->n_checks, 2);
    ys_config_unref(c);
    ys_diag_free(&d);
    unlink(path);
    free(path);

    const char *bad = "checks:\n  - {name: a, kind: tcpp}\n";
    path = write_temp(bad, strlen(bad));
    ys_diag_init(&d, path);
    c = NULL;
    assert_int_equal(ys_config_load(path, &c, &d), YS_ECONFIG);
    assert_null(c);
    char buf[512] = {0}, want[512];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ys_diag_print(&d, f);
    fclose(f);
    snprintf(want, sizeof want, "%s:2:21: unknown kind 'tcpp' in check 'a' (did you mean 'tcp'?)\n",
             path);
    assert_string_equal(buf, want);
    ys_diag_free(&d);

    /* Larger than 16 MiB: refused before it is read (sparse file). */
    assert_int_equal(truncate(path, 16 * 1024 * 1024 + 1), 0);
    ys_diag_init(&d, path);
    assert_int_equal(ys_config_load(path, &c, &d), YS_ECONFIG);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.v[0].msg, "larger than 16 MiB"));
    ys_diag_free(&d);
    unlink(path);
    free(path);

    ys_diag_init(&d, "/nonexistent/ys.yaml");
    assert_int_equal(ys_config_load("/nonexistent/ys.yaml", &c, &d), YS_ECONFIG);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.v[0].msg, "cannot open"));
    ys_diag_free(&d);
}

static void test_refcount(void **state)
{
    (void)state;
    assert_int_equal(load(minimal), 0);
    ys_config_ref(C);
    ys_config_ref(C);
    assert_int_equal(C->refs, 3);
    ys_config_unref(C);
    ys_config_unref(C);
    assert_int_equal(C->refs, 1);
    /* teardown drops the last reference; valgrind and ASan check the free. */
    ys_config_unref(NULL);
    ys_config_ref(NULL);
}

static uint64_t fingerprint_of(const char *yaml, const char *name)
{
    struct ys_diag d;
    struct ys_config *c = NULL;
    ys_diag_init(&d, "f.yaml");
    if (ys_config_load_string(yaml, strlen(yaml), &c, &d) != 0) {
        ys_diag_print(&d, stderr);
        fail();
    }
    uint64_t fp = ys_config_find(c, name)->fingerprint;
    ys_config_unref(c);
    ys_diag_free(&d);
    return fp;
}

static void test_fingerprint(void **state)
{
    (void)state;
    const char *base = "checks:\n"
                       "  - {name: a, kind: tcp, address: 'h:1', labels: {x: '1', y: '2'}}\n"
                       "  - {name: b, kind: tcp, address: 'h:1', interval: 1m}\n";
    const char *same_other_layout = "# a comment moves every position\n"
                                    "checks:\n"
                                    "  - name: a\n"
                                    "    kind: tcp\n"
                                    "    labels:\n"
                                    "      y: '2'\n"
                                    "      x: '1'\n"
                                    "    address: h:1\n"
                                    "  - {name: b, kind: tcp, address: 'h:1', interval: 1m}\n";
    const char *label_changed =
        "checks:\n"
        "  - {name: a, kind: tcp, address: 'h:1', labels: {x: '1', y: '3'}}\n"
        "  - {name: b, kind: tcp, address: 'h:1', interval: 1m}\n";
    const char *defaults_changed =
        "defaults: {interval: 45s}\n"
        "checks:\n"
        "  - {name: a, kind: tcp, address: 'h:1', labels: {x: '1', y: '2'}}\n"
        "  - {name: b, kind: tcp, address: 'h:1', interval: 1m}\n";
    const char *explicit_default =
        "checks:\n"
        "  - {name: a, kind: tcp, address: 'h:1', labels: {x: '1', y: '2'}}\n"
        "  - {name: b, kind: tcp, address: 'h:2', interval: 1m}\n";

    uint64_t a = fingerprint_of(base, "a"), b = fingerprint_of(base, "b");
    assert_int_equal(a, fingerprint_of(base, "a"));
    assert_int_equal(a, fingerprint_of(same_other_layout, "a"));
    assert_int_equal(b, fingerprint_of(same_other_layout, "b"));
    assert_int_not_equal(a, fingerprint_of(label_changed, "a"));
    assert_int_equal(b, fingerprint_of(label_changed, "b"));
    /* A new default interval changes a but not b, which sets its own. */
    assert_int_not_equal(a, fingerprint_of(defaults_changed, "a"));
    assert_int_equal(b, fingerprint_of(defaults_changed, "b"));
    assert_int_not_equal(b, fingerprint_of(explicit_default, "b"));
    assert_int_not_equal(a, b);
}

/* --- typed readers on single values --------------------------------- */

struct doc {
    struct ys_diag d;
    struct ys_node *root;
};

static const struct ys_node *value_of(struct doc *doc, const char *yaml)
{
    ys_diag_init(&doc->d, "v.yaml");
    doc->root = ys_node_load_string(yaml, strlen(yaml), &doc->d);
    assert_non_null(doc->root);
    return ys_node_get(doc->root, "v");
}

static void doc_free(struct doc *doc)
{
    ys_node_free(doc->root);
    ys_diag_free(&doc->d);
}

static void test_url(void **state)
{
    (void)state;
    static const char *const web[] = {"http", "https", NULL};
    static const char *const three[] = {"a", "b", "c", NULL};
    static const struct {
        const char *yaml;
        const char *const *schemes;
        const char *msg; /* NULL: valid */
    } cases[] = {
        {"v: http://example.org/", web, NULL},
        {"v: HTTPS://[::1]:8443/x?y=1", web, NULL},
        {"v: https://user:pw@h:1/", web, NULL},
        {"v: htp://x", web, "bad URL 'htp://x': scheme must be http or https"},
        {"v: ftp://x", three, "bad URL 'ftp://x': scheme must be a, b or c"},
        {"v: example.org/x", web, "bad URL 'example.org/x': it needs a scheme"},
        {"v: http://", web, "bad URL 'http://': "},
        {"v: 'http://exa mple.org/'", web, "bad URL 'http://exa mple.org/': "},
        {"v: [http://x]", web, "must be a URL, not a sequence"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct doc doc;
        int rc = ys_cfg_url(value_of(&doc, cases[i].yaml), "url", cases[i].schemes, &doc.d);
        if (!cases[i].msg) {
            if (rc != 0)
                fail_msg("%s: %s", cases[i].yaml, doc.d.v[0].msg);
        } else {
            assert_int_equal(rc, YS_ECONFIG);
            assert_int_equal(doc.d.n, 1);
            if (!strstr(doc.d.v[0].msg, cases[i].msg))
                fail_msg("%s: got '%s'", cases[i].yaml, doc.d.v[0].msg);
            assert_int_equal(doc.d.v[0].line, 1);
            assert_int_equal(doc.d.v[0].col, 4);
        }
        doc_free(&doc);
    }
}

static void test_hostport(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        const char *host; /* NULL: invalid */
        int port;
    } cases[] = {
        {"v: example.org:443", "example.org", 443},
        {"v: 127.0.0.1:1", "127.0.0.1", 1},
        {"v: '[::1]:65535'", "::1", 65535},
        {"v: '[fe80::1%lo]:80'", "fe80::1%lo", 80},
        {"v: example.org", NULL, 0},
        {"v: example.org:0", NULL, 0},
        {"v: example.org:65536", NULL, 0},
        {"v: example.org:http", NULL, 0},
        {"v: example.org:80x", NULL, 0},
        {"v: example.org:-1", NULL, 0},
        {"v: ':80'", NULL, 0},
        {"v: ::1:80", NULL, 0},
        {"v: '[::1]'", NULL, 0},
        {"v: '[::1:80'", NULL, 0},
        {"v: '[]:80'", NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct doc doc;
        char *host = NULL;
        int port = -1;
        int rc = ys_cfg_hostport(value_of(&doc, cases[i].yaml), "address", &host, &port, &doc.d);
        if (cases[i].host) {
            if (rc != 0)
                fail_msg("%s: %s", cases[i].yaml, doc.d.v[0].msg);
            assert_string_equal(host, cases[i].host);
            assert_int_equal(port, cases[i].port);
        } else {
            if (rc != YS_ECONFIG)
                fail_msg("%s accepted", cases[i].yaml);
            assert_null(host);
            assert_int_equal(port, -1);
            assert_non_null(strstr(doc.d.v[0].msg, "address: bad address"));
        }
        free(host);
        doc_free(&doc);
    }
}

static void test_bool_int_double(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int rc;
        bool value;
    } bools[] = {
        {"v: true", 0, true},        {"v: yes", 0, true},         {"v: on", 0, true},
        {"v: True", 0, true},        {"v: false", 0, false},      {"v: no", 0, false},
        {"v: off", 0, false},        {"v: 'yes'", YS_ECONFIG, 0}, {"v: 1", YS_ECONFIG, 0},
        {"v: maybe", YS_ECONFIG, 0}, {"v: {}", YS_ECONFIG, 0},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        struct doc doc;
        bool v = !bools[i].value;
        int rc = ys_cfg_bool(value_of(&doc, bools[i].yaml), "insecure", &v, &doc.d);
        if (rc != bools[i].rc)
            fail_msg("%s: rc %d", bools[i].yaml, rc);
        if (rc == 0)
            assert_int_equal(v, bools[i].value);
        else
            assert_non_null(strstr(doc.d.v[0].msg, "insecure must be true or false"));
        doc_free(&doc);
    }

    struct doc doc;
    int64_t n = 5;
    assert_int_equal(ys_cfg_int(value_of(&doc, "v: 42"), "n", 0, 100, &n, &doc.d), 0);
    assert_int_equal(n, 42);
    doc_free(&doc);
    assert_int_equal(ys_cfg_int(value_of(&doc, "v: 101"), "n", 0, 100, &n, &doc.d), YS_ECONFIG);
    assert_string_equal(doc.d.v[0].msg, "n must be between 0 and 100, not 101");
    doc_free(&doc);
    assert_int_equal(ys_cfg_int(value_of(&doc, "v: 4x"), "n", 0, 100, &n, &doc.d), YS_ECONFIG);
    assert_string_equal(doc.d.v[0].msg, "n must be an integer, not '4x'");
    doc_free(&doc);
    assert_int_equal(n, 42);

    double x = 0;
    assert_int_equal(ys_cfg_double(value_of(&doc, "v: 99.95"), "x", &x, &doc.d), 0);
    assert_true(x > 99.949 && x < 99.951);
    doc_free(&doc);
    assert_int_equal(ys_cfg_double(value_of(&doc, "v: nan"), "x", &x, &doc.d), YS_ECONFIG);
    doc_free(&doc);
}

static void test_strlist_strmap_string(void **state)
{
    (void)state;
    struct doc doc;
    struct ys_strlist l = {0};
    assert_int_equal(ys_cfg_strlist(value_of(&doc, "v: one"), "b", &l, &doc.d), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0], "one");
    doc_free(&doc);
    assert_int_equal(ys_cfg_strlist(value_of(&doc, "v: [a, 'b', c]"), "b", &l, &doc.d), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[2], "c");
    doc_free(&doc);
    assert_int_equal(ys_cfg_strlist(value_of(&doc, "v: [a, [b]]"), "b", &l, &doc.d), YS_ECONFIG);
    assert_string_equal(doc.d.v[0].msg, "b[1] must be a string, not a sequence");
    assert_int_equal(l.n, 3);
    doc_free(&doc);
    ys_strlist_free(&l);
    ys_strlist_free(&l);

    struct ys_strmap m = {0};
    assert_int_equal(ys_cfg_strmap(value_of(&doc, "v: [a]"), "headers", &m, &doc.d), YS_ECONFIG);
    assert_non_null(strstr(doc.d.v[0].msg, "headers must be a mapping"));
    doc_free(&doc);
    assert_int_equal(ys_cfg_strmap(value_of(&doc, "v: {A: '1', B: 2}"), "headers", &m, &doc.d), 0);
    assert_string_equal(ys_strmap_get(&m, "B"), "2");
    doc_free(&doc);
    ys_strmap_free(&m);

    char *s = NULL;
    assert_int_equal(ys_cfg_string(value_of(&doc, "v: ~"), "body", &s, &doc.d), YS_ECONFIG);
    assert_string_equal(doc.d.v[0].msg, "body must be a string, not an empty value");
    doc_free(&doc);
    assert_int_equal(ys_cfg_string(value_of(&doc, "v: ''"), "body", &s, &doc.d), 0);
    assert_string_equal(s, "");
    free(s);
    doc_free(&doc);
}

static void test_nearest_and_keys(void **state)
{
    (void)state;
    static const char *const keys[] = {"interval", "timeout",       "labels",
                                       "url",      "max_redirects", NULL};
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"intreval", "interval"},
        {"interva", "interval"},
        {"timeuot", "timeout"},
        {"lables", "labels"},
        {"ulr", "url"},
        {"max_redirect", "max_redirects"},
        {"maxredirect", "max_redirects"},
        {"zzz", NULL},
        {"something", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = ys_cfg_nearest(cases[i].in, keys);
        if (cases[i].want ? !got || strcmp(got, cases[i].want) : got != NULL)
            fail_msg("nearest(%s) = %s", cases[i].in, got ? got : "NULL");
    }
    struct doc doc;
    const struct ys_node *m = value_of(&doc, "v: {url: a, ulr: b, zzz: c}");
    assert_int_equal(ys_cfg_check_keys(m, keys, "check 'x'", &doc.d), 2);
    assert_string_equal(doc.d.v[0].msg, "unknown key 'ulr' in check 'x' (did you mean 'url'?)");
    assert_string_equal(doc.d.v[1].msg, "unknown key 'zzz' in check 'x'");
    assert_int_equal(doc.d.v[1].col, 21);
    ys_cfg_missing(m, "timeout", "check 'x'", &doc.d);
    assert_string_equal(doc.d.v[2].msg, "missing required field 'timeout' in check 'x'");
    assert_int_equal(doc.d.v[2].col, 4);
    doc_free(&doc);
}

static void test_node_tree(void **state)
{
    (void)state;
    struct doc doc;
    const char *yaml = "v:\n"
                       "  a: ~\n"
                       "  b: 'null'\n"
                       "  c: [1, \"two\"]\n"
                       "  d:\n";
    const struct ys_node *m = value_of(&doc, yaml);
    assert_int_equal(m->type, YS_NODE_MAP);
    assert_int_equal(m->n, 4);
    assert_int_equal(m->line, 2);
    assert_int_equal(m->col, 3);
    assert_true(ys_node_get(m, "a")->is_null);
    assert_false(ys_node_get(m, "b")->is_null);
    assert_true(ys_node_get(m, "b")->quoted);
    const struct ys_node *c = ys_node_get(m, "c");
    assert_int_equal(c->type, YS_NODE_SEQ);
    assert_int_equal(c->n, 2);
    assert_false(c->items[0]->quoted);
    assert_true(c->items[1]->quoted);
    assert_int_equal(c->items[1]->line, 4);
    assert_int_equal(c->items[1]->col, 10);
    assert_true(ys_node_get(m, "d")->is_null);
    const struct ys_node_pair *p = ys_node_pair(m, "c");
    assert_int_equal(p->line, 4);
    assert_int_equal(p->col, 3);
    assert_null(ys_node_get(m, "e"));
    assert_null(ys_node_get(c, "a"));
    assert_string_equal(ys_node_type_name(c), "a sequence");
    assert_string_equal(ys_node_type_name(m), "a mapping");
    assert_int_not_equal(ys_node_hash(m), ys_node_hash(c));
    doc_free(&doc);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_minimal_and_defaults),
        T(test_storage_and_retention),
        T(test_storage_errors),
        T(test_unknown_keys_with_suggestions),
        T(test_check_errors),
        T(test_kind_errors_are_reported_too),
        T(test_env_substitution),
        T(test_yaml_syntax_error),
        T(test_duplicate_keys_and_aliases),
        T(test_empty_and_not_a_mapping),
        T(test_second_document_and_depth),
        T(test_diag_print_sorted),
        T(test_multiple_errors_one_load),
        T(test_load_file),
        T(test_refcount),
        T(test_fingerprint),
        T(test_url),
        T(test_hostport),
        T(test_bool_int_double),
        T(test_strlist_strmap_string),
        T(test_nearest_and_keys),
        T(test_node_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
