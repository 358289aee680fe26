/*
 * k8s_client.c - one Kubernetes list, page by page, on the loop's libcurl
 * multi handle (k8s.h). Read-only: GET only.
 *
 * GET <server><path>?limit=500[&labelSelector=...][&continue=TOKEN]; each
 * page's items are appended to one array until metadata.continue is empty.
 * A 410 Gone means the continue token expired (the API server compacted
 * past it): the list restarts from the first page once, and a second 410
 * fails. All pages share the check's timeout: each request gets what is
 * left of it. A page's body is capped at YS_K8S_MAX_PAGE and the list at
 * YS_K8S_MAX_ITEMS items, so a huge cluster fails the check instead of
 * growing memory.
 *
 * Credentials come from the source (model_source.c, k8s_kubeconfig.c): a
 * bearer token (or a token file, read at every list because service
 * account tokens are rotated on disk), a client certificate and key (files
 * or PEM blobs), and a CA (file or PEM blob).
 *
 * Loop thread only; nothing blocks but the small token file read.
 */
#include "probe/k8s.h"

#include "config/model.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/curl_multi.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 16384

struct ys_k8s_list {
    struct ys_curl_multi *multi;
    const struct ys_source *src;
    CURL *easy;
    struct curl_slist *headers;
    char *path, *query, *url, *token;
    char *cont; /* the next page's continue token, NULL on the first page */
    char *body;
    size_t body_len, body_cap;
    bool too_big, restarted;
    int64_t deadline_us, timeout_ms;
    json_t *items;
    struct ys_result *r;
    ys_k8s_list_cb cb;
    void *arg;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct ys_k8s_list *l = arg;
    size_t n = size * nmemb;
    if (n > YS_K8S_MAX_PAGE - l->body_len) {
        l->too_big = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (l->body_len + n > l->body_cap) {
        size_t cap = l->body_cap ? l->body_cap : 16384;
        while (cap < l->body_len + n)
            cap *= 2;
        l->body_cap = cap;
        l->body = ys_xrealloc(l->body, cap);
    }
    memcpy(l->body + l->body_len, data, n);
    l->body_len += n;
    return n;
}

/* The token file's first line; NULL with r failed if unreadable. */
static char *read_token(const char *path, const char *src, struct ys_result *r)
{
    FILE *f = fopen(path, "r");
    char *buf = ys_xmalloc(TOKEN_MAX);
    size_t n = f ? fread(buf, 1, TOKEN_MAX - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        ys_result_fail(r, YS_EC_INTERNAL, "cluster %s: cannot read the token file %s", src, path);
        free(buf);
        return NULL;
    }
    return buf;
}

static void blob(CURL *e, CURLoption opt, const char *pem)
{
    struct curl_blob b = {.data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_COPY};
    curl_easy_setopt(e, opt, &b);
}

static void set_options(struct ys_k8s_list *l, int64_t timeout_ms)
{
    CURL *e = l->easy;
    const struct ys_source *s = l->src;
    free(l->url);
    char *cont = NULL;
    if (l->cont) {
        char *esc = curl_easy_escape(e, l->cont, 0);
        if (!esc)
            abort(); /* libcurl only fails here when out of memory */
        cont = ys_xasprintf("&continue=%s", esc);
        curl_free(esc);
    }
    l->url = ys_xasprintf("%s%s?limit=%d%s%s%s", s->url, l->path, YS_K8S_PAGE_LIMIT,
                          l->query[0] ? "&" : "", l->query, cont ? cont : "");
    free(cont);
    curl_easy_setopt(e, CURLOPT_URL, l->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 1 ? timeout_ms : 1));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "yardstick/" YS_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, l);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, l->headers);
    if (l->token) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, l->token);
    }
    if (s->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
    if (s->ca_pem)
        blob(e, CURLOPT_CAINFO_BLOB, s->ca_pem);
    if (s->cert_file) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, s->cert_file);
        curl_easy_setopt(e, CURLOPT_SSLKEY, s->key_file);
    }
    if (s->cert_pem) {
        blob(e, CURLOPT_SSLCERT_BLOB, s->cert_pem);
        blob(e, CURLOPT_SSLKEY_BLOB, s->key_pem);
    }
    if (s->insecure_skip_verify) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static void list_free(struct ys_k8s_list *l)
{
    if (l->easy)
        ys_curl_multi_easy_put(l->multi, l->easy);
    curl_slist_free_all(l->headers);
    free(l->path);
    free(l->query);
    free(l->url);
    free(l->token);
    free(l->cont);
    free(l->body);
    json_decref(l->items);
    free(l);
}

static void finish(struct ys_k8s_list *l, bool ok)
{
    l->cb(ok ? l->items : NULL, l->r, l->arg);
    list_free(l);
}

/* libcurl's reason without its " after N ms" (see promql.c for why). */
static void transfer_failed(struct ys_k8s_list *l, CURLcode code)
{
    char why[CURL_ERROR_SIZE], limit[32];
    const char *errbuf = ys_curl_multi_errbuf(l->easy);
    snprintf(why, sizeof why, "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
    char *after = strstr(why, " after ");
    if (after)
        *after = '\0';
    const char *src = l->src->name;
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        ys_result_fail(l->r, YS_EC_DNS, "cluster %s: %s", src, why);
        return;
    case CURLE_OPERATION_TIMEDOUT:
        ys_duration_format(l->timeout_ms, limit, sizeof limit);
        ys_result_fail(l->r, YS_EC_TIMEOUT, "cluster %s: timed out after %s", src, limit);
        return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: ys_result_fail(l->r, YS_EC_TLS, "cluster %s: %s", src, why); return;
    default: ys_result_fail(l->r, YS_EC_CONNECT, "cluster %s: %s", src, why); return;
    }
}

static void on_done(CURL *easy, CURLcode code, void *arg);

/* Starts the request for the current page; false with r failed if not. */
static bool request(struct ys_k8s_list *l)
{
    int64_t left_ms = (l->deadline_us - ys_mono_us()) / 1000;
    if (left_ms <= 0) {
        transfer_failed(l, CURLE_OPERATION_TIMEDOUT);
        return false;
    }
    if (l->easy)
        ys_curl_multi_easy_put(l->multi, l->easy);
    l->easy = ys_curl_multi_easy_get(l->multi);
    if (!l->easy) {
        ys_result_fail(l->r, YS_EC_INTERNAL, "libcurl could not allocate a handle");
        return false;
    }
    l->body_len = 0;
    l->too_big = false;
    set_options(l, left_ms);
    if (ys_curl_multi_add(l->multi, l->easy, on_done, l) < 0) {
        ys_result_fail(l->r, YS_EC_INTERNAL, "libcurl refused the request");
        return false;
    }
    return true;
}

/* Appends a page's items; false with r failed past the cap. */
static bool take_page(struct ys_k8s_list *l, json_t *page)
{
    json_t *items = json_object_get(page, "items");
    if (json_array_size(l->items) + json_array_size(items) > YS_K8S_MAX_ITEMS) {
        ys_result_fail(l->r, YS_EC_ASSERTION, "%s lists more than %d items: narrow the selector",
                       l->path, YS_K8S_MAX_ITEMS);
        return false;
    }
    json_array_extend(l->items, items);
    const char *next =
        json_string_value(json_object_get(json_object_get(page, "metadata"), "continue"));
    free(l->cont);
    l->cont = next && next[0] ? ys_xstrdup(next) : NULL;
    return true;
}

static void on_done(CURL *easy, CURLcode code, void *arg)
{
    struct ys_k8s_list *l = arg;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    l->r->status = (uint16_t)(status > 0 && status < 1000 ? status : 0);
    l->r->bytes += (int64_t)l->body_len;
    if (l->too_big) {
        l->r->flags |= YS_RF_TRUNCATED;
        ys_result_fail(l->r, YS_EC_ASSERTION, "a page of %s is larger than %d MiB", l->path,
                       YS_K8S_MAX_PAGE / (1024 * 1024));
        finish(l, false);
        return;
    }
    if (code != CURLE_OK) {
        transfer_failed(l, code);
        finish(l, false);
        return;
    }
    if (status == 410 && l->cont && !l->restarted) {
        /* The continue token expired: the list starts over, once. */
        l->restarted = true;
        free(l->cont);
        l->cont = NULL;
        json_array_clear(l->items);
        if (!request(l))
            finish(l, false);
        return;
    }
    json_t *page = ys_k8s_page_parse(l->src->name, status, l->body, l->body_len, l->r);
    bool ok = page && take_page(l, page);
    json_decref(page);
    if (ok && l->cont) {
        if (!request(l))
            finish(l, false);
        return;
    }
    finish(l, ok);
}

int ys_k8s_list_start(struct ys_curl_multi *m, const struct ys_source *src, const char *path,
                      const char *query, int64_t timeout_ms, struct ys_result *r, ys_k8s_list_cb cb,
                      void *arg, struct ys_k8s_list **out)
{
    struct ys_k8s_list *l = ys_xcalloc(1, sizeof *l);
    l->multi = m;
    l->src = src;
    l->path = ys_xstrdup(path);
    l->query = ys_xstrdup(query ? query : "");
    l->r = r;
    l->cb = cb;
    l->arg = arg;
    l->items = json_array();
    l->timeout_ms = timeout_ms;
    l->deadline_us = ys_mono_us() + timeout_ms * 1000;
    l->headers = curl_slist_append(NULL, "Accept: application/json");
    if (!l->headers || !l->items)
        abort(); /* only when out of memory */
    if (src->bearer_token)
        l->token = ys_xstrdup(src->bearer_token);
    else if (src->token_file && !(l->token = read_token(src->token_file, src->name, r))) {
        list_free(l);
        return YS_EIO;
    }
    if (!request(l)) {
        list_free(l);
        return YS_EINTERNAL;
    }
    *out = l;
    return 0;
}

void ys_k8s_list_cancel(struct ys_k8s_list *l)
{
    ys_curl_multi_remove(l->multi, l->easy);
    list_free(l);
}
