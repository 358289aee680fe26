/*
 * webhook.c - the `webhook` notifier: an HTTP request (POST unless told
 * otherwise) whose body is the event document, or a template filled from
 * it (template.c).
 *
 *   - name: ops-hook
 *     kind: webhook
 *     url: https://hooks.example.org/yardstick   (required; http or https)
 *     method: POST                               (POST, PUT or PATCH)
 *     headers: { Authorization: "Bearer ${HOOK_TOKEN}" }
 *     template: |                                (optional)
 *       {"text": "{{rule}} {{status}}: {{annotations.summary}}"}
 *
 * The body is sent as application/json unless headers set a Content-Type.
 */
#include "notify/notifier_int.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct webhook_spec {
    char *url;
    char *method;
    struct curl_slist *headers;
    char *template; /* NULL: the event document as is */
};

static const char *const keys[] = {"url", "method", "headers", "template", NULL};
static const char *const methods[] = {"POST", "PUT", "PATCH", NULL};

static void webhook_free(void *p)
{
    struct webhook_spec *s = p;
    if (!s)
        return;
    free(s->url);
    free(s->method);
    curl_slist_free_all(s->headers);
    free(s->template);
    free(s);
}

static int parse_method(const struct ys_node *n, struct webhook_spec *s, struct ys_diag *d)
{
    char *m = NULL;
    if (!n)
        return 0;
    if (ys_cfg_string(n, "method", &m, d) < 0)
        return YS_ECONFIG;
    for (char *p = m; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    for (size_t i = 0; methods[i]; i++) {
        if (strcmp(m, methods[i]) == 0) {
            free(s->method);
            s->method = m;
            return 0;
        }
    }
    const char *near = ys_cfg_nearest(m, methods);
    ys_diag_add(d, n->line, n->col, "method must be POST, PUT or PATCH, not '%s'%s%s%s", n->scalar,
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    free(m);
    return YS_ECONFIG;
}

static int webhook_parse(const struct ys_node *n, void **spec, struct ys_diag *d)
{
    struct webhook_spec *s = ys_xcalloc(1, sizeof *s);
    s->method = ys_xstrdup("POST");
    int rc = 0;
    const struct ys_node *url = ys_node_get(n, "url");
    if (!url) {
        ys_cfg_missing(n, "url", "a webhook notifier", d);
        rc = YS_ECONFIG;
    } else if (ys_notify_parse_url(url, "url", &s->url, d) < 0) {
        rc = YS_ECONFIG;
    }
    if (parse_method(ys_node_get(n, "method"), s, d) < 0)
        rc = YS_ECONFIG;
    if (ys_notify_parse_headers(ys_node_get(n, "headers"), "headers", &s->headers, d) < 0)
        rc = YS_ECONFIG;
    const struct ys_node *t = ys_node_get(n, "template");
    if (t && (ys_cfg_string(t, "template", &s->template, d) < 0 ||
              ys_notify_template_check(t, s->template, d) < 0))
        rc = YS_ECONFIG;
    if (rc < 0) {
        webhook_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

static int webhook_request(const void *spec, const json_t *const *events, size_t n_events,
                           size_t target, int64_t now_ms, struct ys_notify_http *out,
                           struct ys_err *err)
{
    const struct webhook_spec *s = spec;
    (void)target;
    (void)now_ms;
    if (n_events != 1)
        return ys_err_set(err, YS_EINVAL, "a webhook sends one event per request");
    memset(out, 0, sizeof *out);
    if (s->template)
        out->body = ys_notify_template_expand(s->template, events[0]);
    else
        out->body = json_dumps(events[0], JSON_COMPACT);
    if (!out->body)
        abort(); /* json_dumps of a valid document fails only when out of memory */
    out->url = ys_xstrdup(s->url);
    out->method = ys_xstrdup(s->method);
    ys_notify_copy_headers(&out->headers, s->headers);
    if (!ys_notify_has_header(out->headers, "Content-Type"))
        ys_notify_add_header(&out->headers, "Content-Type: application/json");
    return 0;
}

static const struct ys_notifier_ops ops = {
    .http_request = webhook_request,
};

const struct ys_notifier_type ys_notifier_webhook = {
    .name = "webhook",
    .keys = keys,
    .parse = webhook_parse,
    .free_spec = webhook_free,
    .ops = &ops,
};
