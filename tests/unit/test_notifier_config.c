/*
 * test_notifier_config.c - the notifiers: section: common keys and their
 * defaults, each kind's keys, and every error with its line and column.
 *
 * Each case loads a whole config through ys_config_load_string, so the
 * section is parsed exactly as `yardstick validate` parses it, unknown-key
 * suggestions included (those come from the kinds' key lists).
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "notify/notifier_int.h"
#include "notify/notify.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

static const struct ys_notifier *find(const struct loaded *l, const char *name)
{
    for (size_t i = 0; i < l->cfg->n_notifiers; i++)
        if (strcmp(l->cfg->notifiers[i].name, name) == 0)
            return &l->cfg->notifiers[i];
    fail_msg("no notifier %s", name);
    return NULL;
}

static void test_full(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "notifiers:\n"
             "  - name: hook\n"
             "    kind: webhook\n"
             "    url: https://hooks.example.org/y\n"
             "    method: put\n"
             "    headers: { X-Token: abc }\n"
             "    template: '{\"text\": \"{{rule}} {{labels.check}}\"}'\n"
             "    timeout: 3s\n"
             "    max_age: 2h\n"
             "    rate_limit: 20/1m\n"
             "  - name: chat\n"
             "    kind: slack\n"
             "    url: https://hooks.slack.com/services/T/B/X\n"
             "    channel: '#ops'\n"
             "    rate_limit: 5/s\n"
             "  - name: am\n"
             "    kind: alertmanager\n"
             "    urls: [http://127.0.0.1:9093/, http://127.0.0.1:9094]\n"
             "    resend_interval: 30s\n"
             "  - name: fix\n"
             "    kind: exec\n"
             "    command: [/bin/true, --flag]\n");
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.cfg->n_notifiers, 4);
    const struct ys_notifier *h = find(&l, "hook");
    assert_string_equal(h->type->name, "webhook");
    assert_int_equal(h->timeout_ms, 3000);
    assert_int_equal(h->max_age_ms, 2 * 3600 * 1000);
    assert_int_equal(h->rate_limit, 20);
    assert_int_equal(h->rate_window_ms, 60000);
    assert_int_equal(h->line, 2);
    assert_int_equal(h->col, 5);
    const struct ys_notifier *c = find(&l, "chat");
    assert_string_equal(c->type->name, "slack");
    assert_int_equal(c->timeout_ms, 10000);            /* default */
    assert_int_equal(c->max_age_ms, 24 * 3600 * 1000); /* default */
    assert_int_equal(c->rate_limit, 5);
    assert_int_equal(c->rate_window_ms, 1000);
    const struct ys_notifier *am = find(&l, "am");
    assert_int_equal(am->type->ops->n_targets(am->spec), 2);
    assert_int_equal(am->type->ops->resend_interval_ms(am->spec), 30000);
    const struct ys_notifier *x = find(&l, "fix");
    assert_string_equal(x->type->name, "exec");
    assert_int_equal(x->rate_limit, 0); /* none */
    assert_non_null(x->type->ops->exec_start);
    unload(&l);
}

static void test_alertmanager_single_url_and_default_resend(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "notifiers:\n"
             "  - { name: am, kind: alertmanager, urls: 'http://127.0.0.1:9093' }\n");
    assert_int_equal(l.rc, 0);
    const struct ys_notifier *am = find(&l, "am");
    assert_int_equal(am->type->ops->n_targets(am->spec), 1);
    assert_int_equal(am->type->ops->resend_interval_ms(am->spec), 60000);
    unload(&l);
}

static void test_kind_and_key_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "notifiers:\n"
             "  - name: a\n"
             "    kind: webhok\n"
             "    url: http://x\n"
             "  - name: b\n"
             "    kind: slack\n"
             "    urll: http://x\n"
             "  - name: c\n"
             "    kind: alertmanager\n"
             "    urls: [http://x, 'ftp://y']\n"
             "    resend_interval: 500ms\n"
             "  - kind: exec\n"
             "    command: 'rollback --now'\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 3, 11, "unknown notifier kind 'webhok'");
    assert_diag(&l, 3, 11, "did you mean 'webhook'");
    assert_diag(&l, 7, 5, "unknown key 'urll'");
    assert_diag(&l, 7, 5, "did you mean 'url'");
    assert_diag(&l, 5, 5, "missing required field 'url'"); /* at the map */
    assert_diag(&l, 10, 22, "scheme must be http or https");
    assert_diag(&l, 11, 22, "resend_interval must be at least 1s");
    assert_diag(&l, 12, 5, "missing required field 'name'");
    assert_diag(&l, 13, 14, "not a shell line");
    unload(&l);
}

static void test_common_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "notifiers:\n"
             "  - { name: a, kind: exec, command: [x], rate_limit: lots }\n"
             "  - { name: a, kind: exec, command: [x], timeout: 5ms }\n"
             "  - { name: 'bad name', kind: exec, command: [x], max_age: 0s }\n"
             "  - { name: d, kind: exec, command: [x], rate_limit: 0/1m }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 54, "notifiers[0].rate_limit must be COUNT/DURATION such as 20/1m");
    assert_diag(&l, 3, 13, "duplicate notifier name 'a' (first defined at 2:13)");
    assert_diag(&l, 3, 51, "notifiers[1].timeout must be at least 10ms");
    assert_diag(&l, 4, 13, "bad notifier name 'bad name'");
    assert_diag(&l, 4, 60, "must be greater than zero");
    assert_diag(&l, 5, 54, "rate_limit must be COUNT/DURATION");
    unload(&l);
}

static void test_webhook_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "notifiers:\n"
             "  - name: a\n"
             "    kind: webhook\n"
             "    url: example.org/hook\n"
             "    method: DELETE\n"
             "    headers: { 'Bad Name': x, X-Ok: \"a\\nb\" }\n"
             "  - name: b\n"
             "    kind: webhook\n"
             "    url: http://x\n"
             "    template: '{\"t\": \"{{statis}}\"}'\n"
             "  - name: c\n"
             "    kind: webhook\n"
             "    url: http://x\n"
             "    template: '{\"t\": {{status}}}'\n"
             "  - name: d\n"
             "    kind: webhook\n"
             "    url: http://x\n"
             "    template: '{\"t\": \"{{status}}\",}'\n"
             "  - name: e\n"
             "    kind: webhook\n"
             "    url: http://x\n"
             "    template: '{\"t\": \"{{status\"}'\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 4, 10, "it needs a scheme");
    assert_diag(&l, 5, 13, "method must be POST, PUT or PATCH, not 'DELETE'");
    assert_diag(&l, 6, 16, "bad header name 'Bad Name'");
    assert_diag(&l, 6, 37, "cannot contain a line break");
    assert_diag(&l, 10, 15, "unknown field 'statis'");
    assert_diag(&l, 10, 15, "did you mean 'status'");
    assert_diag(&l, 14, 15, "must sit inside a JSON string");
    assert_diag(&l, 18, 15, "not JSON once filled in");
    assert_diag(&l, 22, 15, "not closed");
    unload(&l);
}

static void test_section_shape(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "notifiers: { name: a }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 1, 12, "notifiers must be a list of notifiers");
    unload(&l);
    load(&l, "notifiers:\n  - just-a-name\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 5, "notifiers[0] must be a mapping");
    unload(&l);
    load(&l, "notifiers:\n");
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.cfg->n_notifiers, 0);
    unload(&l);
}

static void test_registry(void **state)
{
    (void)state;
    const char *const *names = ys_notifier_type_names();
    size_t n = 0;
    for (; names[n]; n++) {
        const struct ys_notifier_type *t = ys_notifier_type_find(names[n]);
        assert_non_null(t);
        assert_string_equal(t->name, names[n]);
        assert_non_null(t->ops);
    }
    assert_int_equal(n, 4);
    assert_null(ys_notifier_type_find("pagerduty"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_alertmanager_single_url_and_default_resend),
        cmocka_unit_test(test_kind_and_key_errors),
        cmocka_unit_test(test_common_errors),
        cmocka_unit_test(test_webhook_errors),
        cmocka_unit_test(test_section_shape),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
