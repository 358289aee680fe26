/*
 * promql.c - running a promql check (promql.h): one GET of
 * <source>/api/v1/query?query=...&time=<probe start> through the loop's
 * libcurl multi handle (curl_multi.c), judged by promql_judge.c.
 *
 * A probe is a struct promql_probe (base first, as `super`) owning one easy
 * handle from the multi's pool, its URL, its header list and a body buffer
 * capped at YS_PROMQL_MAX_RESPONSE: a query that selects too much fails
 * instead of growing memory. Unlike the http kind, connections may be
 * reused: this kind measures a query's answer, not the network, and a
 * fresh TLS handshake to the same Prometheus every interval is waste.
 *
 * The request's timeout is the check's, or the source's when that is
 * shorter. Authentication (bearer token or basic auth), the CA file and
 * extra headers come from the check's source (model_source.c).
 *
 * Lifecycle: start -> (libcurl runs) -> on_done: verdict, done callback,
 * free; or start -> cancel: free, done never runs. Loop thread only.
 */
#include "probe/curl_multi.h"
#include "probe/probe.h"
#include "probe/promql.h"

#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct promql_probe {
    struct ys_probe super;
    struct ys_curl_multi *multi;
    CURL *easy;
    const struct ys_promql_spec *spec;
    const struct ys_source *source;
    char *url;
    struct curl_slist *headers;
    char *body;
    size_t body_len, body_cap;
    int64_t timeout_ms; /* the check's, or the source's when shorter */
    bool too_big;
};

extern const struct ys_probe_type ys_probe_promql;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct promql_probe *p = arg;
    size_t n = size * nmemb;
    if (n > YS_PROMQL_MAX_RESPONSE - p->body_len) {
        p->too_big = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (p->body_len + n > p->body_cap) {
        size_t cap = p->body_cap ? p->body_cap : 16384;
        while (cap < p->body_len + n)
            cap *= 2;
        p->body_cap = cap;
        p->body = ys_xrealloc(p->body, cap);
    }
    memcpy(p->body + p->body_len, data, n);
    p->body_len += n;
    return n;
}

static void set_headers(struct promql_probe *p)
{
    const struct ys_source *src = p->source;
    p->headers = curl_slist_append(NULL, "Accept: application/json");
    for (size_t i = 0; p->headers && i < src->headers.n; i++) {
        char *line = ys_xasprintf("%s: %s", src->headers.keys[i], src->headers.values[i]);
        struct curl_slist *l = curl_slist_append(p->headers, line);
        free(line);
        if (!l)
            abort(); /* libcurl only fails here when out of memory */
        p->headers = l;
    }
    if (!p->headers)
        abort();
    curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
}

static void set_options(struct promql_probe *p, const struct ys_check *check)
{
    CURL *e = p->easy;
    const struct ys_source *src = p->source;
    int64_t ts = p->super.result.ts_ms;
    p->url = ys_xasprintf("%s/api/v1/query?query=%s&time=%lld.%03d", src->url,
                          p->spec->query_escaped, (long long)(ts / 1000), (int)(ts % 1000));
    int64_t timeout = check->timeout_ms;
    if (src->timeout_ms > 0 && src->timeout_ms < timeout)
        timeout = src->timeout_ms;
    p->timeout_ms = timeout;
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "yardstick/" YS_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    set_headers(p);
    if (src->bearer_token) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, src->bearer_token);
    } else if (src->username) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, src->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, src->password ? src->password : "");
    }
    if (src->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, src->ca_file);
    if (src->insecure_skip_verify) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

/* libcurl's reason without its " after N ms": the duration is in the
 * result already, and a message that changes with every probe would add a
 * row to the store's text dictionary each time. */
static void curl_reason(struct promql_probe *p, CURLcode code, char *out, size_t cap)
{
    const char *errbuf = ys_curl_multi_errbuf(p->easy);
    snprintf(out, cap, "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
    char *after = strstr(out, " after ");
    if (!after)
        return;
    char *q = after + 7;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q > after + 7 && strncmp(q, " ms", 3) == 0)
        memmove(after, q + 3, strlen(q + 3) + 1);
}

/* A transfer that did not complete: its class and libcurl's reason. */
static void transfer_failed(struct promql_probe *p, CURLcode code)
{
    char why[CURL_ERROR_SIZE];
    curl_reason(p, code, why, sizeof why);
    const char *src = p->source->name;
    struct ys_result *r = &p->super.result;
    char limit[32];
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        ys_result_fail(r, YS_EC_DNS, "source %s: %s", src, why);
        return;
    case CURLE_OPERATION_TIMEDOUT:
        ys_duration_format(p->timeout_ms, limit, sizeof limit);
        ys_result_fail(r, YS_EC_TIMEOUT, "source %s: timed out after %s", src, limit);
        return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: ys_result_fail(r, YS_EC_TLS, "source %s: %s", src, why); return;
    default: ys_result_fail(r, YS_EC_CONNECT, "source %s: %s", src, why); return;
    }
}

static void probe_free(struct promql_probe *p)
{
    ys_curl_multi_easy_put(p->multi, p->easy);
    curl_slist_free_all(p->headers);
    free(p->url);
    free(p->body);
    free(p);
}

static void on_done(CURL *easy, CURLcode code, void *arg)
{
    struct promql_probe *p = arg;
    struct ys_result *r = &p->super.result;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    r->status = (uint16_t)(status > 0 && status < 1000 ? status : 0);
    r->bytes = (int64_t)p->body_len;
    if (p->too_big) {
        r->flags |= YS_RF_TRUNCATED;
        ys_result_fail(r, YS_EC_ASSERTION, "response larger than %d MiB: narrow the query",
                       YS_PROMQL_MAX_RESPONSE / (1024 * 1024));
    } else if (code != CURLE_OK) {
        transfer_failed(p, code);
    } else {
        ys_promql_judge(p->spec, status, p->body, p->body_len, r);
    }
    ys_probe_base_finish(&p->super);
    probe_free(p);
}

static int promql_start(struct ys_probe_env *env, const struct ys_check *check,
                        ys_probe_done_cb done, void *arg, struct ys_probe **out)
{
    if (!check->source || !check->spec)
        return YS_EINVAL; /* a config built by hand without sources */
    struct promql_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_promql, check, done, arg);
    p->spec = check->spec;
    p->source = check->source;
    p->multi = env->curl;
    p->easy = ys_curl_multi_easy_get(env->curl);
    if (!p->easy) {
        free(p);
        return YS_EINTERNAL;
    }
    set_options(p, check);
    int rc = ys_curl_multi_add(env->curl, p->easy, on_done, p);
    if (rc < 0) {
        probe_free(p);
        return rc;
    }
    *out = &p->super;
    return 0;
}

static void promql_cancel(struct ys_probe *probe)
{
    struct promql_probe *p = (struct promql_probe *)probe;
    ys_curl_multi_remove(p->multi, p->easy);
    probe_free(p);
}

static int promql_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                        struct ys_diag *d)
{
    struct ys_promql_spec *s = NULL;
    int rc = ys_promql_spec_parse(check, base, &s, d);
    *spec = s;
    return rc;
}

static void promql_free_spec(void *spec)
{
    ys_promql_spec_free(spec);
}

const struct ys_probe_type ys_probe_promql = {
    .name = "promql",
    .keys = ys_promql_keys,
    .parse = promql_parse,
    .free_spec = promql_free_spec,
    .start = promql_start,
    .cancel = promql_cancel,
};
