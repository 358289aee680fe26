/*
 * promql_http.c - one GET against a Prometheus source's HTTP API and the
 * reading of its JSON envelope, shared by the promql probe kind and the
 * PromQL goal measures (promql_http.h).
 *
 * The body grows by doubling up to the caller's cap; past it the write
 * callback refuses the data, libcurl stops with CURLE_WRITE_ERROR and
 * too_big says why. Sample values are strings in Prometheus's JSON ("0.5",
 * "NaN", "+Inf"), read with strtod, which accepts those spellings.
 *
 * No state of its own: any thread, one struct per transfer.
 */
#include "probe/promql_http.h"

#include "config/model.h"
#include "core/duration.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct ys_promql_http *h = arg;
    size_t n = size * nmemb;
    if (n > h->body_max - h->body_len) {
        h->too_big = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (h->body_len + n > h->body_cap) {
        size_t cap = h->body_cap ? h->body_cap : 16384;
        while (cap < h->body_len + n)
            cap *= 2;
        h->body_cap = cap;
        h->body = ys_xrealloc(h->body, cap);
    }
    memcpy(h->body + h->body_len, data, n);
    h->body_len += n;
    return n;
}

static void set_headers(struct ys_promql_http *h, const struct ys_source *src)
{
    h->headers = curl_slist_append(NULL, "Accept: application/json");
    for (size_t i = 0; h->headers && i < src->headers.n; i++) {
        char *line = ys_xasprintf("%s: %s", src->headers.keys[i], src->headers.values[i]);
        struct curl_slist *l = curl_slist_append(h->headers, line);
        free(line);
        if (!l)
            abort(); /* libcurl only fails here when out of memory */
        h->headers = l;
    }
    if (!h->headers)
        abort();
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
}

void ys_promql_http_setup(struct ys_promql_http *h, CURL *easy, const struct ys_source *src,
                          const char *path_query, int64_t timeout_ms, size_t body_max)
{
    memset(h, 0, sizeof *h);
    h->easy = easy;
    h->body_max = body_max;
    h->timeout_ms = timeout_ms;
    h->url = ys_xasprintf("%s%s", src->url, path_query);
    curl_easy_setopt(easy, CURLOPT_URL, h->url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "yardstick/" YS_VERSION);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, h);
    set_headers(h, src);
    if (src->bearer_token) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, src->bearer_token);
    } else if (src->username) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(easy, CURLOPT_USERNAME, src->username);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, src->password ? src->password : "");
    }
    if (src->ca_file)
        curl_easy_setopt(easy, CURLOPT_CAINFO, src->ca_file);
    if (src->insecure_skip_verify) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

void ys_promql_http_cleanup(struct ys_promql_http *h)
{
    curl_slist_free_all(h->headers);
    free(h->url);
    free(h->body);
    h->headers = NULL;
    h->url = h->body = NULL;
}

/* libcurl's reason without its " after N ms": the duration is known
 * already, and a message that changes with every probe would add a row to
 * the store's text dictionary each time. */
static void curl_reason(CURLcode code, const char *errbuf, char *out, size_t cap)
{
    snprintf(out, cap, "%s", errbuf && errbuf[0] ? errbuf : curl_easy_strerror(code));
    char *after = strstr(out, " after ");
    if (!after)
        return;
    char *q = after + 7;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q > after + 7 && strncmp(q, " ms", 3) == 0)
        memmove(after, q + 3, strlen(q + 3) + 1);
}

enum ys_errclass ys_promql_http_failure(const struct ys_promql_http *h, const char *source,
                                        CURLcode code, const char *errbuf, char *out, size_t cap)
{
    char why[CURL_ERROR_SIZE], limit[32];
    if (h->too_big) {
        snprintf(out, cap, "response larger than %zu MiB: narrow the query",
                 h->body_max / (1024 * 1024));
        return YS_EC_ASSERTION;
    }
    curl_reason(code, errbuf, why, sizeof why);
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(out, cap, "source %s: %s", source, why);
        return YS_EC_DNS;
    case CURLE_OPERATION_TIMEDOUT:
        ys_duration_format(h->timeout_ms, limit, sizeof limit);
        snprintf(out, cap, "source %s: timed out after %s", source, limit);
        return YS_EC_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: snprintf(out, cap, "source %s: %s", source, why); return YS_EC_TLS;
    default: snprintf(out, cap, "source %s: %s", source, why); return YS_EC_CONNECT;
    }
}

json_t *ys_promql_http_parse(long http_status, const char *body, size_t len, enum ys_errclass *ec,
                             char *why, size_t cap)
{
    if (http_status == 401 || http_status == 403) {
        *ec = YS_EC_HTTP_STATUS;
        snprintf(why, cap,
                 "HTTP %ld from Prometheus: %s (check the source's bearer_token or basic_auth)",
                 http_status, http_status == 401 ? "unauthorized" : "forbidden");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = body && len ? json_loadb(body, len, 0, &jerr) : NULL;
    const char *status = json_string_value(json_object_get(doc, "status"));
    if (status && strcmp(status, "success") == 0)
        return doc;
    if (!status) {
        bool api = http_status >= 200 && http_status <= 299;
        *ec = api ? YS_EC_ASSERTION : YS_EC_HTTP_STATUS;
        if (!api)
            snprintf(why, cap, "HTTP %ld from Prometheus (not an API response)", http_status);
        else
            snprintf(why, cap, "malformed response: %s",
                     doc   ? "no status field"
                     : len ? jerr.text
                           : "empty body");
    } else {
        const char *type = json_string_value(json_object_get(doc, "errorType"));
        const char *msg = json_string_value(json_object_get(doc, "error"));
        *ec = http_status >= 400 ? YS_EC_HTTP_STATUS : YS_EC_ASSERTION;
        snprintf(why, cap, "Prometheus error %s: %s", type ? type : "(no type)",
                 msg ? msg : "(no message)");
    }
    json_decref(doc);
    return NULL;
}

bool ys_promql_sample(const json_t *pair, double *ts, double *out)
{
    const char *s = json_string_value(json_array_get(pair, 1));
    if (!json_is_array(pair) || json_array_size(pair) != 2 || !s || !*s ||
        !json_is_number(json_array_get(pair, 0)))
        return false;
    char *end;
    *out = strtod(s, &end);
    if (ts)
        *ts = json_number_value(json_array_get(pair, 0));
    return *end == '\0';
}
