/*
 * etcd_spec.c - parsing an `etcd` check's fields into struct ys_etcd_spec,
 * and the parsers of etcd's /health, /version and /v3/kv/range answers.
 *
 * The spec is parsed once per config load (on whichever thread loads the
 * config): each endpoint URL is split here into the base URL requested and
 * the host:port that names it in messages, so a probe formats nothing on
 * the success path. Every problem is reported with its position and
 * parsing goes on, so `yardstick validate` shows them all at once.
 *
 * The answer parsers are pure functions over a body (jansson does the
 * JSON); they run on the loop thread after each request, and in the unit
 * tests on recorded answers.
 */
#include "probe/etcd_spec.h"

#include "config/diag.h"
#include "config/read.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ys_etcd_keys[] = {"endpoints", "min_healthy", "tls", NULL};

/* Splits one endpoint URL; reports at n and returns YS_ECONFIG when it has
 * a path, a query or credentials (the kind adds the paths itself). */
static int parse_endpoint(const struct ys_node *n, struct ys_etcd_endpoint *ep, struct ys_diag *d)
{
    static const char *const schemes[] = {"http", "https", NULL};
    if (ys_cfg_url(n, "endpoints", schemes, d) < 0)
        return YS_ECONFIG;
    CURLU *u = curl_url();
    if (!u)
        abort();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
    int rc = 0;
    if (curl_url_set(u, CURLUPART_URL, n->scalar, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        ys_diag_add(d, n->line, n->col, "endpoints: '%s' cannot be split into host and port",
                    n->scalar);
        rc = YS_ECONFIG;
        goto out;
    }
    (void)curl_url_get(u, CURLUPART_PATH, &path, 0);
    (void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
    (void)curl_url_get(u, CURLUPART_USER, &user, 0);
    if ((path && strcmp(path, "/") != 0) || query || user) {
        ys_diag_add(d, n->line, n->col,
                    "endpoints: '%s' must be scheme://host:port only (the check adds the "
                    "paths)",
                    n->scalar);
        rc = YS_ECONFIG;
        goto out;
    }
    ep->https = strcmp(scheme, "https") == 0;
    ep->name = ys_xasprintf("%s:%s", host, port);
    ep->url = ys_xasprintf("%s://%s", scheme, ep->name);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

static int parse_endpoints(const struct ys_node *c, struct ys_etcd_spec *s, struct ys_diag *d)
{
    const struct ys_node *n = ys_node_get(c, "endpoints");
    if (!n) {
        ys_cfg_missing(c, "endpoints", "an etcd check", d);
        return YS_ECONFIG;
    }
    size_t cnt = n->type == YS_NODE_SEQ ? n->n : 1;
    if (n->type == YS_NODE_MAP || cnt == 0 || cnt > YS_ETCD_MAX_ENDPOINTS) {
        ys_diag_add(d, n->line, n->col, "endpoints must be a list of 1 to %d URLs",
                    YS_ETCD_MAX_ENDPOINTS);
        return YS_ECONFIG;
    }
    int rc = 0;
    s->ep = ys_xcalloc(cnt, sizeof *s->ep);
    for (size_t i = 0; i < cnt; i++) {
        const struct ys_node *it = n->type == YS_NODE_SEQ ? n->items[i] : n;
        struct ys_etcd_endpoint ep = {0};
        if (parse_endpoint(it, &ep, d) < 0) {
            rc = YS_ECONFIG;
            continue;
        }
        for (size_t j = 0; j < s->n; j++) {
            if (strcmp(s->ep[j].url, ep.url) == 0) {
                ys_diag_add(d, it->line, it->col, "endpoints: '%s' is listed twice", it->scalar);
                rc = YS_ECONFIG;
                break;
            }
        }
        s->ep[s->n++] = ep; /* kept even when a duplicate, so free sees it */
    }
    return rc;
}

/* The tls: fields this kind cannot honour are refused rather than ignored. */
static int check_tls_fields(const struct ys_node *t, struct ys_diag *d)
{
    static const char *const unused[] = {"server_name", "min_days_left", "enabled", NULL};
    int rc = 0;
    if (!t || t->type != YS_NODE_MAP)
        return 0;
    for (size_t i = 0; unused[i]; i++) {
        const struct ys_node *v = ys_node_get(t, unused[i]);
        if (v) {
            ys_diag_add(d, v->line, v->col,
                        "tls.%s is not supported by etcd checks (the endpoint's scheme "
                        "decides TLS)",
                        unused[i]);
            rc = YS_ECONFIG;
        }
    }
    return rc;
}

int ys_etcd_spec_parse(const struct ys_node *check, const struct ys_check *base,
                       struct ys_etcd_spec **out, struct ys_diag *d)
{
    (void)base;
    struct ys_etcd_spec *s = ys_xcalloc(1, sizeof *s);
    int rc = parse_endpoints(check, s, d);
    const struct ys_node *t = ys_node_get(check, "tls");
    if (ys_tls_spec_parse(t, &s->tls, d) < 0)
        rc = YS_ECONFIG;
    if (check_tls_fields(t, d) < 0)
        rc = YS_ECONFIG;
    s->min_healthy = s->n;
    const struct ys_node *m = ys_node_get(check, "min_healthy");
    if (m && rc == 0) {
        int64_t v = (int64_t)s->n;
        if (ys_cfg_int(m, "min_healthy", 1, (int64_t)s->n, &v, d) < 0)
            rc = YS_ECONFIG;
        s->min_healthy = (size_t)v;
    } else if (m) {
        int64_t v = 1;
        if (ys_cfg_int(m, "min_healthy", 1, YS_ETCD_MAX_ENDPOINTS, &v, d) < 0)
            rc = YS_ECONFIG;
    }
    if (rc < 0) {
        ys_etcd_spec_free(s);
        *out = NULL;
        return YS_ECONFIG;
    }
    *out = s;
    return 0;
}

void ys_etcd_spec_free(struct ys_etcd_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->ep[i].url);
        free(s->ep[i].name);
    }
    free(s->ep);
    ys_tls_spec_free(&s->tls);
    free(s);
}

/* ---- answers ------------------------------------------------------------ */

/* Parses body as a JSON object; NULL with why otherwise. */
static json_t *load_object(const char *body, size_t len, const char **why)
{
    json_t *o = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!o) {
        *why = "not JSON";
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        *why = "not a JSON object";
        return NULL;
    }
    return o;
}

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int ys_etcd_parse_health(const char *body, size_t len, bool *healthy, char *reason,
                         size_t reason_size, const char **why)
{
    json_t *o = load_object(body, len, why);
    if (!o)
        return YS_EINVAL;
    int rc = 0;
    json_t *h = json_object_get(o, "health");
    const char *hs = json_string_value(h);
    if (json_is_boolean(h)) {
        *healthy = json_is_true(h);
    } else if (hs && (strcmp(hs, "true") == 0 || strcmp(hs, "false") == 0)) {
        *healthy = hs[0] == 't';
    } else {
        *why = h ? "\"health\" is neither true nor false" : "no \"health\" field";
        rc = YS_EINVAL;
        goto out;
    }
    copy_text(reason, reason_size, json_string_value(json_object_get(o, "reason")));
out:
    json_decref(o);
    return rc;
}

int ys_etcd_parse_version(const char *body, size_t len, char *server, size_t server_size,
                          char *cluster, size_t cluster_size, const char **why)
{
    json_t *o = load_object(body, len, why);
    if (!o)
        return YS_EINVAL;
    const char *sv = json_string_value(json_object_get(o, "etcdserver"));
    const char *cv = json_string_value(json_object_get(o, "etcdcluster"));
    int rc = 0;
    if (!sv || !*sv) {
        *why = "no \"etcdserver\" string";
        rc = YS_EINVAL;
    } else if (!cv) {
        *why = "no \"etcdcluster\" string";
        rc = YS_EINVAL;
    } else {
        copy_text(server, server_size, sv);
        copy_text(cluster, cluster_size, cv);
    }
    json_decref(o);
    return rc;
}

int ys_etcd_parse_range(const char *body, size_t len, char *message, size_t message_size)
{
    const char *why = NULL;
    json_t *o = load_object(body, len, &why);
    if (!o) {
        copy_text(message, message_size, why);
        return YS_EINVAL;
    }
    int rc = 0;
    const char *err = json_string_value(json_object_get(o, "message"));
    if (!err)
        err = json_string_value(json_object_get(o, "error"));
    if (json_is_object(json_object_get(o, "header"))) {
        copy_text(message, message_size, "");
    } else {
        copy_text(message, message_size, err && *err ? err : "no \"header\" in the answer");
        rc = YS_EINVAL;
    }
    json_decref(o);
    return rc;
}
