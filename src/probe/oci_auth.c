/*
 * oci_auth.c - how the registry probe authenticates, as registries ask:
 * a 401 with a `Bearer realm=..,service=..,scope=..` challenge sends the
 * client to the realm for a token (basic credentials if the check has
 * them), then the request is retried with it; a Basic challenge gets the
 * credentials directly. Credentials never go to a plain-http realm of a
 * registry reached over TLS. Loop thread only.
 */
#include "probe/oci_int.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *token_url(struct oci_probe *p, const struct ys_oci_challenge *c)
{
    CURLU *u = curl_url();
    if (!u)
        abort();
    char *out = NULL, *url = NULL;
    char *scope =
        c->scope ? ys_xstrdup(c->scope) : ys_xasprintf("repository:%s:pull", p->spec->repository);
    char *q1 = c->service ? ys_xasprintf("service=%s", c->service) : NULL;
    char *q2 = ys_xasprintf("scope=%s", scope);
    if (curl_url_set(u, CURLUPART_URL, c->realm, 0) == CURLUE_OK &&
        (!q1 ||
         curl_url_set(u, CURLUPART_QUERY, q1, CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK) &&
        curl_url_set(u, CURLUPART_QUERY, q2, CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK)
        out = ys_xstrdup(url);
    curl_free(url);
    curl_url_cleanup(u);
    free(scope);
    free(q1);
    free(q2);
    return out;
}

/* A 401 on the main request: follow the challenge once. */
void ys_oci_challenged(struct oci_probe *p)
{
    struct ys_oci_challenge c;
    struct ys_err err = {{0}};
    struct ys_result *r = &p->super.result;
    if (p->auth_tried) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "HTTP 401 from %s: %s", ys_oci_url_path(p),
                       p->spec->username ? "credentials refused" : "anonymous access refused");
        ys_oci_finish(p);
        return;
    }
    p->auth_tried = true;
    if (ys_oci_challenge_parse(p->h_auth, &c, &err) < 0) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "HTTP 401 from %s: %s", ys_oci_url_path(p), err.msg);
        ys_oci_finish(p);
        return;
    }
    if (c.scheme == YS_OCI_AUTH_BASIC) {
        ys_oci_challenge_free(&c);
        if (!p->spec->username) {
            ys_result_fail(r, YS_EC_HTTP_STATUS,
                           "HTTP 401 from %s: the registry wants a username and password",
                           ys_oci_url_path(p));
            ys_oci_finish(p);
            return;
        }
        p->use_basic = true;
        ys_oci_issue(p, p->url);
        return;
    }
    free(p->token_url);
    p->token_url = token_url(p, &c);
    ys_oci_challenge_free(&c);
    if (!p->token_url) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "HTTP 401 from %s: bad token realm",
                       ys_oci_url_path(p));
        ys_oci_finish(p);
        return;
    }
    /* The credentials go to the realm: never in clear text when the
     * registry itself was reached over TLS. */
    if (p->spec->username && strncmp(p->token_url, "http://", 7) == 0 &&
        strncmp(p->url, "https://", 8) == 0) {
        ys_result_fail(r, YS_EC_HTTP_STATUS,
                       "HTTP 401 from %s: the token realm is plain http; not sending the "
                       "credentials there",
                       ys_oci_url_path(p));
        ys_oci_finish(p);
        return;
    }
    p->in_token = true;
    ys_oci_issue(p, p->token_url);
}

void ys_oci_got_token(struct oci_probe *p)
{
    struct ys_result *r = &p->super.result;
    /* The realm without its query (service and scope) names the endpoint. */
    const char *realm = ys_oci_url_path(p);
    int realm_len = (int)strcspn(realm, "?");
    if (p->status != 200) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "token endpoint %.*s answered HTTP %ld (%s)",
                       realm_len, realm, p->status,
                       p->spec->username ? "credentials refused" : "anonymous");
        ys_oci_finish(p);
        return;
    }
    json_error_t je;
    json_t *root = json_loadb(p->resp.data ? p->resp.data : "", p->resp.len, 0, &je);
    const char *tok = json_string_value(json_object_get(root, "token"));
    if (!tok || !tok[0])
        tok = json_string_value(json_object_get(root, "access_token"));
    if (!tok || !tok[0] || strpbrk(tok, "\r\n")) {
        json_decref(root);
        ys_result_fail(r, YS_EC_HTTP_STATUS, "token endpoint %.*s gave no token", realm_len, realm);
        ys_oci_finish(p);
        return;
    }
    free(p->bearer);
    p->bearer = ys_xasprintf("Authorization: Bearer %s", tok);
    json_decref(root);
    p->in_token = false;
    ys_oci_issue(p, p->url);
}
