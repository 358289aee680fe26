/*
 * alertmanager.c - the `alertmanager` notifier: alerts posted to one or
 * more Prometheus Alertmanagers (POST <url>/api/v2/alerts), so routing,
 * grouping, silences and inhibition happen where teams already run them.
 *
 *   - name: am
 *     kind: alertmanager
 *     urls: [http://am-0:9093, http://am-1:9093]   (a URL or a list; required)
 *     resend_interval: 1m                           (at least 1s; default 1m)
 *     headers: { Authorization: "Bearer ${AM_TOKEN}" }
 *
 * Each event becomes {labels, annotations, startsAt, endsAt,
 * generatorURL}, as Prometheus sends them: labels are the event's labels
 * plus alertname=<rule>; startsAt is firing_at. While an alert fires, its
 * endsAt is now + 4 x resend_interval and the outbox re-posts it every
 * resend_interval (Alertmanager resolves an alert by itself once endsAt
 * passes, so a yardstick that dies never leaves alerts firing forever);
 * on resolve, endsAt is the time it resolved.
 *
 * Several Alertmanagers are one target each, and a delivery counts as done
 * when at least one of them accepted it. That is Prometheus' rule too: the
 * members of an Alertmanager cluster share alerts, silences and the
 * notification log by gossip, so one copy is enough for the page to go
 * out once; requiring all would let one replica that is down hold every
 * notification (and, since rows of an alert go in order, every later one)
 * for up to max_age. Posts are idempotent (an alert is identified by its
 * labels), so re-sending to members that had it already is harmless; the
 * re-posts every resend_interval refresh a replica that missed one.
 */
#include "notify/notifier_int.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/clock.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RESEND_MS 60000
#define MIN_RESEND_MS 1000

struct am_spec {
    struct ys_strlist urls; /* base URLs, no trailing slash */
    int64_t resend_ms;
    struct curl_slist *headers;
};

static const char *const keys[] = {"urls", "resend_interval", "headers", NULL};

static void am_free(void *p)
{
    struct am_spec *s = p;
    if (!s)
        return;
    ys_strlist_free(&s->urls);
    curl_slist_free_all(s->headers);
    free(s);
}

static int parse_urls(const struct ys_node *n, struct am_spec *s, struct ys_diag *d)
{
    static const char *const schemes[] = {"http", "https", NULL};
    if (!n)
        return YS_ECONFIG;
    if (ys_cfg_strlist(n, "urls", &s->urls, d) < 0)
        return YS_ECONFIG;
    if (s->urls.n == 0) {
        ys_diag_add(d, n->line, n->col, "urls must name at least one Alertmanager");
        return YS_ECONFIG;
    }
    int rc = 0;
    for (size_t i = 0; i < s->urls.n; i++) {
        const struct ys_node *item = n->type == YS_NODE_SEQ ? n->items[i] : n;
        char what[32];
        snprintf(what, sizeof what, "urls[%zu]", i);
        if (ys_cfg_url(item, what, schemes, d) < 0) {
            rc = YS_ECONFIG;
            continue;
        }
        size_t len = strlen(s->urls.v[i]);
        while (len > 0 && s->urls.v[i][len - 1] == '/')
            s->urls.v[i][--len] = '\0';
    }
    return rc;
}

static int am_parse(const struct ys_node *n, void **spec, struct ys_diag *d)
{
    struct am_spec *s = ys_xcalloc(1, sizeof *s);
    s->resend_ms = DEFAULT_RESEND_MS;
    int rc = 0;
    const struct ys_node *urls = ys_node_get(n, "urls");
    if (!urls) {
        ys_cfg_missing(n, "urls", "an alertmanager notifier", d);
        rc = YS_ECONFIG;
    } else if (parse_urls(urls, s, d) < 0) {
        rc = YS_ECONFIG;
    }
    const struct ys_node *r = ys_node_get(n, "resend_interval");
    if (r && ys_cfg_duration(r, "resend_interval", &s->resend_ms, d) < 0) {
        rc = YS_ECONFIG;
    } else if (s->resend_ms < MIN_RESEND_MS) {
        ys_diag_add(d, r->line, r->col, "resend_interval must be at least 1s, not '%s'", r->scalar);
        rc = YS_ECONFIG;
    }
    if (ys_notify_parse_headers(ys_node_get(n, "headers"), "headers", &s->headers, d) < 0)
        rc = YS_ECONFIG;
    if (rc < 0) {
        am_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

static size_t am_n_targets(const void *spec)
{
    return ((const struct am_spec *)spec)->urls.n;
}

static int64_t am_resend(const void *spec)
{
    return ((const struct am_spec *)spec)->resend_ms;
}

/* Prometheus' label name rule; other names would make Alertmanager
 * reject the whole batch, so they are left out. */
static bool label_name_ok(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (s++; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* Copies the string members of src (numbers and booleans as text, empty
 * values left out, as Prometheus treats an empty label as absent). */
static json_t *string_map(const json_t *src, bool labels)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        if (labels && !label_name_ok(k))
            continue;
        char num[32];
        const char *text = json_string_value(v);
        if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            text = num;
        } else if (json_is_boolean(v)) {
            text = json_is_true(v) ? "true" : "false";
        }
        if (text && *text)
            json_object_set_new(out, k, json_string(text));
    }
    return out;
}

static json_t *am_alert(const struct am_spec *s, const json_t *ev, int64_t now_ms)
{
    json_t *labels = string_map(json_object_get(ev, "labels"), true);
    const char *rule = ys_notify_str(ev, NULL, "rule");
    const char *key = ys_notify_str(ev, NULL, "key");
    if (!json_object_get(labels, "alertname"))
        json_object_set_new(labels, "alertname",
                            json_string(rule  ? rule
                                        : key ? key
                                              : "yardstick"));
    json_t *a = json_object();
    json_object_set_new(a, "labels", labels);
    json_object_set_new(a, "annotations", string_map(json_object_get(ev, "annotations"), false));
    const char *starts = ys_notify_str(ev, NULL, "firing_at");
    if (starts)
        json_object_set_new(a, "startsAt", json_string(starts));
    char ends[40];
    const char *resolved = ys_notify_str(ev, NULL, "resolved_at");
    if (strcmp(ys_notify_status(ev), "resolved") != 0)
        ys_format_time(now_ms + 4 * s->resend_ms, ends, sizeof ends);
    else if (resolved)
        snprintf(ends, sizeof ends, "%s", resolved);
    else
        ys_format_time(now_ms, ends, sizeof ends);
    json_object_set_new(a, "endsAt", json_string(ends));
    const char *url = ys_notify_str(ev, NULL, "url");
    if (url)
        json_object_set_new(a, "generatorURL", json_string(url));
    return a;
}

static int am_request(const void *spec, const json_t *const *events, size_t n_events, size_t target,
                      int64_t now_ms, struct ys_notify_http *out, struct ys_err *err)
{
    const struct am_spec *s = spec;
    if (target >= s->urls.n)
        return ys_err_set(err, YS_EINVAL, "no Alertmanager #%zu", target);
    json_t *list = json_array();
    for (size_t i = 0; i < n_events; i++)
        json_array_append_new(list, am_alert(s, events[i], now_ms));
    memset(out, 0, sizeof *out);
    out->body = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    if (!out->body)
        abort(); /* only when out of memory */
    out->url = ys_xasprintf("%s/api/v2/alerts", s->urls.v[target]);
    out->method = ys_xstrdup("POST");
    ys_notify_copy_headers(&out->headers, s->headers);
    if (!ys_notify_has_header(out->headers, "Content-Type"))
        ys_notify_add_header(&out->headers, "Content-Type: application/json");
    return 0;
}

static const struct ys_notifier_ops ops = {
    .n_targets = am_n_targets,
    .http_request = am_request,
    .resend_interval_ms = am_resend,
};

const struct ys_notifier_type ys_notifier_alertmanager = {
    .name = "alertmanager",
    .keys = keys,
    .parse = am_parse,
    .free_spec = am_free,
    .ops = &ops,
};
