/*
 * test_notify_format.c - what each notifier kind sends for a fixed event
 * document: the webhook body with and without a template (hostile label
 * values stay inside their JSON strings), Slack's message, Alertmanager's
 * alert list with its startsAt/endsAt rules, and the exec kind's stdin
 * and environment (a real process).
 *
 * Specs come from a whole config loaded with ys_config_load_string, so
 * the kinds are exercised as configured; formatting gets a fixed now_ms.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/err.h"
#include "notify/notifier_int.h"
#include "notify/notify.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_fixture.h"

#define NOW_MS INT64_C(1767323045000) /* 2026-01-02T03:04:05Z */
#define EVIL "a\"b\\c\n}{ <@here> & \"},\"x\":\"y"

static const char *const event_text =
    "{\"key\":\"api-down/api\",\"rule\":\"api-down\",\"status\":\"firing\",\"repeat\":false,"
    "\"labels\":{\"check\":\"api\",\"severity\":\"page\",\"evil\":\"a\\\"b\\\\c\\n}{ <@here> & "
    "\\\"},\\\"x\\\":\\\"y\",\"bad-name\":\"z\",\"n\":3},"
    "\"annotations\":{\"summary\":\"API is down\",\"description\":\"3 failures in a row\"},"
    "\"firing_at\":\"2026-01-02T03:00:00.000Z\",\"resolved_at\":null,"
    "\"event_at\":\"2026-01-02T03:04:05.000Z\",\"url\":\"http://127.0.0.1:8080/#/checks/api\"}";

static const char *const config_text =
    "notifiers:\n"
    "  - name: plain\n"
    "    kind: webhook\n"
    "    url: http://127.0.0.1:1/plain\n"
    "    headers: { X-Token: secret }\n"
    "  - name: tmpl\n"
    "    kind: webhook\n"
    "    url: http://127.0.0.1:1/tmpl\n"
    "    method: PUT\n"
    "    headers: { Content-Type: text/plain }\n"
    "    template: '{\"t\": \"{{labels.evil}}\", \"s\": \"{{status}} {{rule}} {{key}}\", "
    "\"r\": \"{{repeat}}\", \"m\": \"{{labels.missing}}\", \"n\": \"{{labels.n}}\", "
    "\"sum\": \"{{ annotations.summary }}\", \"u\": \"{{url}}\"}'\n"
    "  - name: chat\n"
    "    kind: slack\n"
    "    url: https://hooks.example.org/T/B/X\n"
    "    channel: '#ops'\n"
    "  - name: am\n"
    "    kind: alertmanager\n"
    "    urls: [http://127.0.0.1:9093/, http://127.0.0.1:9094]\n"
    "    resend_interval: 30s\n"
    "    headers: { Authorization: Bearer t }\n"
    "  - name: run\n"
    "    kind: exec\n"
    "    command: [sh, -c, 'cat > \"$OUT\"; env | grep ^YARDSTICK_ | sort > \"$OUT.env\"; exit "
    "\"$CODE\"']\n";

struct fixture {
    struct loaded l;
    json_t *ev;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    load(&f->l, config_text);
    if (f->l.rc != 0)
        dump(&f->l);
    assert_int_equal(f->l.rc, 0);
    f->ev = json_loads(event_text, 0, NULL);
    assert_non_null(f->ev);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_decref(f->ev);
    unload(&f->l);
    free(f);
    return 0;
}

static const struct ys_notifier *nf(struct fixture *f, const char *name)
{
    for (size_t i = 0; i < f->l.cfg->n_notifiers; i++)
        if (strcmp(f->l.cfg->notifiers[i].name, name) == 0)
            return &f->l.cfg->notifiers[i];
    fail_msg("no notifier %s", name);
    return NULL;
}

/* Formats events for target of notifier name; returns the parsed body. */
static json_t *format(struct fixture *f, const char *name, const json_t *const *events, size_t n,
                      size_t target, struct ys_notify_http *req)
{
    const struct ys_notifier *n_ = nf(f, name);
    struct ys_err err = {{0}};
    int rc = n_->type->ops->http_request(n_->spec, events, n, target, NOW_MS, req, &err);
    if (rc != 0)
        fail_msg("format %s: %s", name, err.msg);
    json_error_t je;
    json_t *body = json_loads(req->body, 0, &je);
    if (!body)
        fail_msg("%s body is not JSON (%s): %s", name, je.text, req->body);
    return body;
}

static bool has_line(const struct curl_slist *l, const char *line)
{
    for (; l; l = l->next)
        if (strcmp(l->data, line) == 0)
            return true;
    return false;
}

static void test_webhook_plain(void **state)
{
    struct fixture *f = *state;
    struct ys_notify_http req;
    const json_t *evs[] = {f->ev};
    json_t *body = format(f, "plain", evs, 1, 0, &req);
    assert_true(json_equal(body, f->ev)); /* the event document as is */
    assert_string_equal(req.url, "http://127.0.0.1:1/plain");
    assert_string_equal(req.method, "POST");
    assert_true(has_line(req.headers, "X-Token: secret"));
    assert_true(has_line(req.headers, "Content-Type: application/json"));
    json_decref(body);
    ys_notify_http_free(&req);
}

static void test_webhook_template_escapes(void **state)
{
    struct fixture *f = *state;
    struct ys_notify_http req;
    const json_t *evs[] = {f->ev};
    json_t *body = format(f, "tmpl", evs, 1, 0, &req);
    /* The hostile value arrives whole, inside its string, and adds no key. */
    assert_int_equal(json_object_size(body), 7);
    assert_string_equal(json_string_value(json_object_get(body, "t")), EVIL);
    assert_null(json_object_get(body, "x"));
    assert_string_equal(json_string_value(json_object_get(body, "s")),
                        "firing api-down api-down/api");
    assert_string_equal(json_string_value(json_object_get(body, "r")), "false");
    assert_string_equal(json_string_value(json_object_get(body, "m")), "");
    assert_string_equal(json_string_value(json_object_get(body, "n")), "3");
    assert_string_equal(json_string_value(json_object_get(body, "sum")), "API is down");
    assert_string_equal(json_string_value(json_object_get(body, "u")),
                        "http://127.0.0.1:8080/#/checks/api");
    assert_string_equal(req.method, "PUT");
    /* A configured Content-Type replaces the default one. */
    assert_true(has_line(req.headers, "Content-Type: text/plain"));
    assert_false(has_line(req.headers, "Content-Type: application/json"));
    json_decref(body);
    ys_notify_http_free(&req);
}

static void test_slack(void **state)
{
    struct fixture *f = *state;
    struct ys_notify_http req;
    const json_t *evs[] = {f->ev};
    json_t *body = format(f, "chat", evs, 1, 0, &req);
    const char *text = json_string_value(json_object_get(body, "text"));
    assert_non_null(text);
    assert_non_null(strstr(text, "[FIRING] api-down: API is down"));
    assert_non_null(strstr(text, "<http://127.0.0.1:8080/#/checks/api|Open in yardstick>"));
    assert_string_equal(json_string_value(json_object_get(body, "channel")), "#ops");
    json_t *a = json_array_get(json_object_get(body, "attachments"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "color")), "#d63232");
    assert_string_equal(json_string_value(json_object_get(a, "title_link")),
                        "http://127.0.0.1:8080/#/checks/api");
    assert_string_equal(json_string_value(json_object_get(a, "text")), "3 failures in a row");
    assert_string_equal(json_string_value(json_object_get(a, "footer")), "api-down/api");
    /* Labels become fields, with Slack's markup escaped: no forged mention. */
    char *dump_ = json_dumps(json_object_get(a, "fields"), 0);
    assert_non_null(strstr(dump_, "&lt;@here&gt; &amp;"));
    assert_null(strstr(dump_, "<@here>"));
    free(dump_);
    assert_string_equal(req.url, "https://hooks.example.org/T/B/X");
    json_decref(body);
    ys_notify_http_free(&req);

    json_t *res = json_deep_copy(f->ev);
    json_object_set_new(res, "status", json_string("resolved"));
    const json_t *rev[] = {res};
    body = format(f, "chat", rev, 1, 0, &req);
    assert_non_null(strstr(json_string_value(json_object_get(body, "text")), "[RESOLVED]"));
    a = json_array_get(json_object_get(body, "attachments"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "color")), "#2eb886");
    json_decref(body);
    ys_notify_http_free(&req);
    json_object_set_new(res, "status", json_string("firing"));
    json_object_set_new(res, "repeat", json_true());
    body = format(f, "chat", rev, 1, 0, &req);
    assert_non_null(strstr(json_string_value(json_object_get(body, "text")), "reminder"));
    json_decref(body);
    ys_notify_http_free(&req);
    json_decref(res);
}

static void test_alertmanager_firing(void **state)
{
    struct fixture *f = *state;
    struct ys_notify_http req;
    const json_t *evs[] = {f->ev};
    json_t *body = format(f, "am", evs, 1, 1, &req);
    assert_string_equal(req.url, "http://127.0.0.1:9094/api/v2/alerts");
    assert_true(has_line(req.headers, "Authorization: Bearer t"));
    assert_true(json_is_array(body));
    assert_int_equal(json_array_size(body), 1);
    json_t *a = json_array_get(body, 0);
    json_t *labels = json_object_get(a, "labels");
    assert_string_equal(json_string_value(json_object_get(labels, "alertname")), "api-down");
    assert_string_equal(json_string_value(json_object_get(labels, "check")), "api");
    assert_string_equal(json_string_value(json_object_get(labels, "severity")), "page");
    assert_string_equal(json_string_value(json_object_get(labels, "evil")), EVIL);
    assert_string_equal(json_string_value(json_object_get(labels, "n")), "3");
    assert_null(json_object_get(labels, "bad-name")); /* Alertmanager would refuse it */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a, "annotations"), "summary")),
        "API is down");
    assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
                        "2026-01-02T03:00:00.000Z");
    /* Firing: endsAt = now + 4 x resend_interval (30 s). */
    char want[40];
    ys_format_time(NOW_MS + 4 * 30000, want, sizeof want);
    assert_string_equal(json_string_value(json_object_get(a, "endsAt")), want);
    assert_string_equal(want, "2026-01-02T03:06:05.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "generatorURL")),
                        "http://127.0.0.1:8080/#/checks/api");
    json_decref(body);
    ys_notify_http_free(&req);
    const struct ys_notifier *am = nf(f, "am");
    struct ys_err err = {{0}};
    assert_int_equal(am->type->ops->http_request(am->spec, evs, 1, 2, NOW_MS, &req, &err),
                     YS_EINVAL);
    body = format(f, "am", evs, 1, 0, &req);
    assert_string_equal(req.url, "http://127.0.0.1:9093/api/v2/alerts"); /* slash trimmed */
    json_decref(body);
    ys_notify_http_free(&req);
}

static void test_alertmanager_resolved_and_batch(void **state)
{
    struct fixture *f = *state;
    json_t *res = json_deep_copy(f->ev);
    json_object_set_new(res, "status", json_string("resolved"));
    json_object_set_new(res, "resolved_at", json_string("2026-01-02T03:04:00.000Z"));
    json_t *other = json_deep_copy(f->ev);
    json_object_set_new(json_object_get(other, "labels"), "alertname", json_string("own"));
    json_object_set_new(other, "rule", json_string("cert-expiry"));
    const json_t *evs[] = {res, other};
    struct ys_notify_http req;
    json_t *body = format(f, "am", evs, 2, 0, &req);
    assert_int_equal(json_array_size(body), 2);
    json_t *a = json_array_get(body, 0);
    /* Resolved: endsAt = the time it resolved. */
    assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
                        "2026-01-02T03:04:00.000Z");
    json_t *b = json_array_get(body, 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b, "labels"), "alertname")), "own");
    json_decref(body);
    ys_notify_http_free(&req);
    /* Resolved without resolved_at: endsAt = now. */
    json_object_del(res, "resolved_at");
    const json_t *one[] = {res};
    body = format(f, "am", one, 1, 0, &req);
    assert_string_equal(json_string_value(json_object_get(json_array_get(body, 0), "endsAt")),
                        "2026-01-02T03:04:05.000Z");
    json_decref(body);
    ys_notify_http_free(&req);
    json_decref(res);
    json_decref(other);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Runs the exec notifier to its end; returns the wait status. */
static int run_exec(struct fixture *f, const char *doc, struct ys_notify_proc *p)
{
    const struct ys_notifier *x = nf(f, "run");
    struct ys_err err = {{0}};
    int rc = x->type->ops->exec_start(x->spec, f->ev, doc, "run", p, &err);
    if (rc != 0)
        fail_msg("exec_start: %s", err.msg);
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        ys_notify_proc_drain(p);
        if (ys_notify_proc_reap(p, &status))
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(p->pid, 0); /* reaped */
    ys_notify_proc_drain(p);
    ys_notify_proc_close(p);
    return status;
}

static void test_exec(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/ys_exec_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[128], env[140];
    snprintf(out, sizeof out, "%s/stdin", dir);
    snprintf(env, sizeof env, "%s/stdin.env", dir);
    setenv("OUT", out, 1);
    setenv("CODE", "0", 1);
    setenv("YARDSTICK_ALERT_STATUS", "stale", 1); /* replaced, not duplicated */
    struct ys_notify_proc p;
    int status = run_exec(f, event_text, &p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char *got = slurp(out);
    assert_non_null(got);
    assert_string_equal(got, event_text);
    free(got);
    got = slurp(env);
    assert_non_null(got);
    assert_non_null(strstr(got, "YARDSTICK_ALERT_STATUS=firing\n"));
    assert_null(strstr(got, "stale"));
    assert_non_null(strstr(got, "YARDSTICK_ALERT_KEY=api-down/api\n"));
    assert_non_null(strstr(got, "YARDSTICK_ALERT_RULE=api-down\n"));
    assert_non_null(strstr(got, "YARDSTICK_ALERT_SEVERITY=page\n"));
    assert_non_null(strstr(got, "YARDSTICK_ALERT_SUMMARY=API is down\n"));
    assert_non_null(strstr(got, "YARDSTICK_NOTIFIER=run\n"));
    free(got);

    /* A failing command: its status and output make the error. */
    setenv("OUT", "/nonexistent-dir/x", 1);
    setenv("CODE", "3", 1);
    status = run_exec(f, "{}", &p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    struct ys_err err = {{0}};
    ys_notify_proc_describe(&p, status, &err);
    assert_non_null(strstr(err.msg, "exit status 3: "));
    assert_non_null(strstr(err.msg, "nonexistent-dir"));
    unsetenv("OUT");
    unsetenv("CODE");
    unsetenv("YARDSTICK_ALERT_STATUS");
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    (void)assert_diag; /* the fixture's; these cases load valid configs only */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_webhook_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_template_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alertmanager_firing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alertmanager_resolved_and_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
