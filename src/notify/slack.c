/*
 * slack.c - the `slack` notifier: a Slack incoming webhook (or anything
 * that takes its format: Mattermost, Rocket.Chat).
 *
 *   - name: team-chat
 *     kind: slack
 *     url: https://hooks.slack.com/services/T000/B000/XXXX   (required)
 *     channel: "#ops"          (optional; older webhooks honour it)
 *     username: yardstick      (optional)
 *
 * The message: {"text": "[FIRING] rule: summary <link|Open in yardstick>",
 * "attachments": [{color, title, title_link, text: description, fields:
 * the labels, footer: the alert key}]}. Text that Slack reads as markup
 * has &, < and > escaped, as its docs ask, so a label cannot forge a link
 * or a mention.
 */
#include "notify/notifier_int.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct slack_spec {
    char *url;
    char *channel;  /* NULL: the webhook's own */
    char *username; /* NULL: the webhook's own */
};

static const char *const keys[] = {"url", "channel", "username", NULL};

static void slack_free(void *p)
{
    struct slack_spec *s = p;
    if (!s)
        return;
    free(s->url);
    free(s->channel);
    free(s->username);
    free(s);
}

static int slack_parse(const struct ys_node *n, void **spec, struct ys_diag *d)
{
    struct slack_spec *s = ys_xcalloc(1, sizeof *s);
    int rc = 0;
    const struct ys_node *url = ys_node_get(n, "url");
    if (!url) {
        ys_cfg_missing(n, "url", "a slack notifier", d);
        rc = YS_ECONFIG;
    } else if (ys_notify_parse_url(url, "url", &s->url, d) < 0) {
        rc = YS_ECONFIG;
    }
    if (ys_cfg_string(ys_node_get(n, "channel"), "channel", &s->channel, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_string(ys_node_get(n, "username"), "username", &s->username, d) < 0)
        rc = YS_ECONFIG;
    if (rc < 0) {
        slack_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

/* Slack's markup escaping: &, < and > only. Returns an owned string. */
static char *escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    char *out = ys_xmalloc(n + 1), *o = out;
    for (; *s; s++) {
        const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (rep) {
            memcpy(o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* "[FIRING] rule: summary", unescaped. Returns an owned string. */
static char *title(const json_t *ev)
{
    const char *status = ys_notify_status(ev);
    bool repeat = json_is_true(json_object_get(ev, "repeat"));
    const char *rule = ys_notify_str(ev, NULL, "rule");
    const char *key = ys_notify_str(ev, NULL, "key");
    const char *summary = ys_notify_str(ev, "annotations", "summary");
    const char *tag = strcmp(status, "resolved") == 0 ? "RESOLVED"
                      : repeat                        ? "FIRING, reminder"
                                                      : "FIRING";
    const char *who = rule ? rule : key ? key : "alert";
    if (summary)
        return ys_xasprintf("[%s] %s: %s", tag, who, summary);
    return ys_xasprintf("[%s] %s", tag, who);
}

static json_t *fields(const json_t *ev)
{
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(ev, "labels"), k, v)
    {
        if (!json_is_string(v))
            continue;
        char *ev_v = escape(json_string_value(v));
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:b}", "title", k, "value", ev_v, "short", 1));
        free(ev_v);
    }
    return arr;
}

static json_t *attachment(const json_t *ev, const char *t_esc)
{
    const char *status = ys_notify_status(ev);
    const char *url = ys_notify_str(ev, NULL, "url");
    const char *desc = ys_notify_str(ev, "annotations", "description");
    const char *key = ys_notify_str(ev, NULL, "key");
    json_t *a = json_pack("{s:s, s:s, s:s}", "color",
                          strcmp(status, "resolved") == 0 ? "#2eb886" : "#d63232", "title", t_esc,
                          "fallback", t_esc);
    if (url)
        json_object_set_new(a, "title_link", json_string(url));
    if (desc) {
        char *d = escape(desc);
        json_object_set_new(a, "text", json_string(d));
        free(d);
    }
    json_object_set_new(a, "fields", fields(ev));
    if (key) {
        char *f = escape(key);
        json_object_set_new(a, "footer", json_string(f));
        free(f);
    }
    return a;
}

static int slack_request(const void *spec, const json_t *const *events, size_t n_events,
                         size_t target, int64_t now_ms, struct ys_notify_http *out,
                         struct ys_err *err)
{
    const struct slack_spec *s = spec;
    (void)target;
    (void)now_ms;
    if (n_events != 1)
        return ys_err_set(err, YS_EINVAL, "slack sends one event per message");
    const json_t *ev = events[0];
    char *t = title(ev), *t_esc = escape(t);
    const char *url = ys_notify_str(ev, NULL, "url");
    char *text;
    if (url) {
        char *u = escape(url);
        text = ys_xasprintf("%s <%s|Open in yardstick>", t_esc, u);
        free(u);
    } else {
        text = ys_xstrdup(t_esc);
    }
    json_t *msg = json_pack("{s:s}", "text", text);
    json_object_set_new(msg, "attachments", json_pack("[o]", attachment(ev, t_esc)));
    if (s->channel)
        json_object_set_new(msg, "channel", json_string(s->channel));
    if (s->username)
        json_object_set_new(msg, "username", json_string(s->username));
    memset(out, 0, sizeof *out);
    out->body = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    free(text);
    free(t_esc);
    free(t);
    if (!out->body)
        abort(); /* only when out of memory */
    out->url = ys_xstrdup(s->url);
    out->method = ys_xstrdup("POST");
    ys_notify_add_header(&out->headers, "Content-Type: application/json");
    return 0;
}

static const struct ys_notifier_ops ops = {
    .http_request = slack_request,
};

const struct ys_notifier_type ys_notifier_slack = {
    .name = "slack",
    .keys = keys,
    .parse = slack_parse,
    .free_spec = slack_free,
    .ops = &ops,
};
