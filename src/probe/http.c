/*
 * http.c - the `http` probe kind: one HTTP or HTTPS request per probe,
 * through the loop's libcurl multi handle (curl_multi.c).
 *
 * A probe is a struct http_probe (base first, as `super`) owning one easy
 * handle (from the multi's pool, reset when given back) and, only when an
 * assertion reads the body, a body buffer capped at the spec's max_body.
 * Every probe opens a fresh connection, resolves afresh and does a full TLS
 * handshake, because a monitor measures DNS, connect and TLS each time.
 * libcurl enforces check->timeout_ms through the multi's loop timer.
 *
 * Certificate facts are gathered in OpenSSL's verify callback, which runs
 * for each certificate even when verification fails, so an expired,
 * untrusted or misnamed certificate still reports its not-after and names.
 *
 * The success path formats no string and copies no body it does not need:
 * messages are built only when something fails.
 *
 * cold_start (http_spec.h): in header mode the response header sets
 * YS_RF_COLD; in idle mode every probe is cold by construction (the
 * interval is longer than the idle period), the result is the first
 * request's, and one more request right after it, on a new connection,
 * measures the warm latency into facts as {"cold":true,"warm_us":N}.
 *
 * Lifecycle: start -> (libcurl runs) -> on_done: verdict, [idle mode: the
 * warm request -> on_warm_done], done callback, cleanup; or start ->
 * cancel: cleanup, done never runs. Loop thread only.
 */
#include "probe/curl_multi.h"
#include "probe/curl_tls.h"
#include "probe/http_assert.h"
#include "probe/http_spec.h"
#include "probe/probe.h"
#include "probe/tls_facts.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_probe {
    struct ys_probe super;
    struct ys_curl_multi *multi;
    CURL *easy;
    const struct ys_http_spec *spec;
    char *body; /* only when spec->need_body */
    size_t body_len, body_cap;
    int64_t received;     /* body bytes libcurl handed us */
    int64_t tls_start_us; /* monotonic time TCP was up and TLS began; 0 if not */
    int64_t cold_end_us;  /* idle mode: monotonic time the first request ended */
    bool truncated;
};

#define BODY_INITIAL_CAP 16384

/* Defined at the end; listed in registry.c. */
extern const struct ys_probe_type ys_probe_http;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct http_probe *p = arg;
    size_t n = size * nmemb;
    size_t max = (size_t)p->spec->max_body;
    p->received += (int64_t)n;
    if (p->spec->need_body && p->body_len < max) {
        size_t take = n < max - p->body_len ? n : max - p->body_len;
        if (p->body_len + take > p->body_cap) {
            size_t cap = p->body_cap ? p->body_cap : BODY_INITIAL_CAP;
            while (cap < p->body_len + take)
                cap *= 2;
            p->body_cap = cap < max ? cap : max;
            p->body = ys_xrealloc(p->body, p->body_cap);
        }
        memcpy(p->body + p->body_len, data, take);
        p->body_len += take;
    }
    if ((uint64_t)p->received > (uint64_t)max) {
        /* Stop reading: libcurl ends the transfer with CURLE_WRITE_ERROR,
         * which on_done reads as "truncated", not as a failure. */
        p->truncated = true;
        return 0;
    }
    return n;
}

static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
    (void)easy;
    struct http_probe *p = arg;
    /* libcurl builds the context once TCP is connected: when a handshake
     * fails, libcurl reports no connect time, and this is how we still know it. */
    p->tls_start_us = ys_mono_us();
    ys_tls_facts_install(ssl_ctx);
    ys_tls_facts_bind_ctx(ssl_ctx, &p->super.result.tls);
    return CURLE_OK;
}

static const char *header_value(void *ctx, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(ctx, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
        return NULL;
    return h->value;
}

/* True when the URL's host is an IP address (nothing to resolve). */
static bool url_host_is_ip(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return false;
    h += 3;
    size_t len = strcspn(h, "/?#");
    const char *at = memchr(h, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    if (len && h[0] == '[')
        return true; /* only an IPv6 address is written in brackets */
    len = strcspn(h, ":/?#");
    char host[INET_ADDRSTRLEN];
    struct in_addr a;
    if (len == 0 || len >= sizeof host)
        return false;
    memcpy(host, h, len);
    host[len] = '\0';
    return inet_pton(AF_INET, host, &a) == 1;
}

/* The User-Agent as a ready header list for checks without headers of
 * their own: libcurl formats CURLOPT_USERAGENT into a header anew for every
 * request (callgrind: about 8,000 instructions a probe, this costs 5,000).
 * libcurl only reads the list. */
static char ua_line[] = "User-Agent: yardstick/" YS_VERSION;
static struct curl_slist ua_only = {ua_line, NULL};

static void set_options(CURL *e, struct http_probe *p, const struct ys_check *check)
{
    const struct ys_http_spec *s = p->spec;
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    /* Every probe resolves afresh. An IP address is not resolved: libcurl
     * caches its parsed form, and dropping that each time costs 3,000
     * instructions for nothing. Redirects and connect_to may lead to names. */
    if (s->follow_redirects || s->connect_to || !url_host_is_ip(s->url))
        curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)check->timeout_ms);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(e, CURLOPT_IPRESOLVE, s->ipresolve);
    if (s->headers) {
        /* libcurl leaves its User-Agent out when the list has one. */
        curl_easy_setopt(e, CURLOPT_USERAGENT, "yardstick/" YS_VERSION);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, &ua_only);
    }
    if (s->connect_to)
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, s->connect_to);
    if (s->follow_redirects) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, s->max_redirects);
    }
    if (s->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body_len);
    }
    if (s->head)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (s->method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s->method);
    if (s->https || s->follow_redirects)
        ys_curl_tls_options(e, &s->tls, on_ssl_ctx, p);
}

static int32_t clamp_us(curl_off_t v)
{
    return v < 0 ? 0 : v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

static void read_timings(struct http_probe *p, curl_off_t *total)
{
    curl_off_t nl = 0, conn = 0, app = 0, st = 0;
    curl_easy_getinfo(p->easy, CURLINFO_NAMELOOKUP_TIME_T, &nl);
    curl_easy_getinfo(p->easy, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(p->easy, CURLINFO_APPCONNECT_TIME_T, &app);
    curl_easy_getinfo(p->easy, CURLINFO_STARTTRANSFER_TIME_T, &st);
    curl_easy_getinfo(p->easy, CURLINFO_TOTAL_TIME_T, total);
    int32_t *ph = p->super.result.phase_us;
    if (nl > 0 || conn > 0)
        ph[YS_PHASE_DNS] = clamp_us(nl);
    if (conn > 0)
        ph[YS_PHASE_CONNECT] = clamp_us(conn - nl);
    else if (p->tls_start_us)
        ph[YS_PHASE_CONNECT] = clamp_us(p->tls_start_us - p->super.start_mono_us - nl);
    if (app > 0)
        ph[YS_PHASE_TLS] = clamp_us(app - conn);
    if (st > 0)
        ph[YS_PHASE_TTFB] = clamp_us(st - (app > conn ? app : conn));
}

/* libcurl's message without the prefixes that would repeat our own. */
static const char *curl_reason(struct http_probe *p, CURLcode code)
{
    static const char *const prefixes[] = {"SSL certificate problem: ", "SSL: ", NULL};
    const char *errbuf = ys_curl_multi_errbuf(p->easy);
    const char *m = errbuf[0] ? errbuf : curl_easy_strerror(code);
    for (size_t i = 0; prefixes[i]; i++)
        if (strncmp(m, prefixes[i], strlen(prefixes[i])) == 0)
            return m + strlen(prefixes[i]);
    return m;
}

/* "Failed to connect to host port 80: Connection refused": curl's sentence
 * with its generic ending replaced by the system's reason and its " after
 * N ms" dropped. The duration is in the result already, and a message that
 * changes with every probe would add a row to the store's text dictionary
 * each time. */
static void connect_failed(struct http_probe *p, CURLcode code)
{
    long os_errno = 0;
    curl_easy_getinfo(p->easy, CURLINFO_OS_ERRNO, &os_errno);
    const char *m = curl_reason(p, code);
    const char *why = os_errno ? strerrordesc_np((int)os_errno) : NULL;
    const char *cut = strstr(m, ": ");
    int head = cut && why ? (int)(cut - m) : (int)strlen(m);
    const char *after = strstr(m, " after ");
    const char *tail = "";
    if (after && after - m < head) {
        const char *q = after + 7;
        while (*q >= '0' && *q <= '9')
            q++;
        if (strncmp(q, " ms", 3) == 0) {
            tail = cut && why ? "" : q + 3;
            head = (int)(after - m);
        }
    }
    if (why && cut)
        ys_result_fail(&p->super.result, YS_EC_CONNECT, "%.*s: %s", head, m, why);
    else
        ys_result_fail(&p->super.result, YS_EC_CONNECT, "%.*s%s", head, m, tail);
}

/* Where a timed-out probe was, from the phases it completed. */
static const char *timeout_phase(const struct ys_result *r, bool https)
{
    if (r->phase_us[YS_PHASE_CONNECT] < 0)
        return r->phase_us[YS_PHASE_DNS] < 0 ? "resolving" : "connecting";
    if (https && r->phase_us[YS_PHASE_TLS] < 0)
        return "in the TLS handshake";
    if (r->phase_us[YS_PHASE_TTFB] < 0)
        return "waiting for the response";
    return "reading the body";
}

static void classify(struct http_probe *p, CURLcode code)
{
    struct ys_result *r = &p->super.result;
    char limit[32];
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        ys_result_fail(r, YS_EC_DNS, "DNS: %s", curl_reason(p, code));
        return;
    case CURLE_COULDNT_CONNECT: connect_failed(p, code); return;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: ys_result_fail(r, YS_EC_CONNECT, "%s", curl_reason(p, code)); return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        ys_result_fail(r, YS_EC_TLS, "%s", curl_reason(p, code));
        return;
    case CURLE_OPERATION_TIMEDOUT:
        ys_duration_format(p->super.check->timeout_ms, limit, sizeof limit);
        ys_result_fail(r, YS_EC_TIMEOUT, "timed out after %s %s", limit,
                       timeout_phase(r, p->spec->https));
        return;
    case CURLE_TOO_MANY_REDIRECTS:
        ys_result_fail(r, YS_EC_HTTP_STATUS, "more than %ld redirects", p->spec->max_redirects);
        return;
    default: ys_result_fail(r, YS_EC_INTERNAL, "curl: %s", curl_reason(p, code)); return;
    }
}

static void verdict(struct http_probe *p, CURLcode code)
{
    struct ys_result *r = &p->super.result;
    curl_off_t total = 0;
    long status = 0;
    read_timings(p, &total);
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
    r->status = (uint16_t)(status > 0 && status < 1000 ? status : 0);
    /* A truncated body counts what was kept, not the last chunk libcurl
     * happened to hand over past the cap. */
    r->bytes = p->truncated ? p->spec->max_body : p->received;
    int64_t now_s = r->ts_ms / 1000;
    if (r->tls.leaf_not_after) {
        r->flags |= YS_RF_HAS_TLS | YS_RF_HAS_VALUE;
        r->value = (double)ys_tls_days_left(&r->tls, now_s);
    }
    if (p->truncated) {
        r->flags |= YS_RF_TRUNCATED;
        if (code == CURLE_WRITE_ERROR)
            code = CURLE_OK;
    }
    if (code != CURLE_OK) {
        classify(p, code);
        return;
    }
    struct ys_http_response resp = {
        .status = status,
        .body = p->body,
        .body_len = p->body_len,
        .truncated = p->truncated,
        .total_us = (int64_t)total,
        .header = header_value,
        .header_ctx = p->easy,
    };
    ys_http_assert_all(&p->spec->expect, &resp, p->spec->tls.min_days_left,
                       (r->flags & YS_RF_HAS_TLS) ? &r->tls : NULL, now_s, r);
}

/* Header mode: the response says whether it was cold; facts say which. */
static void mark_cold_header(struct http_probe *p)
{
    const struct ys_http_cold *c = &p->spec->cold;
    const char *v = header_value(p->easy, c->header);
    bool cold = v && strcasecmp(v, c->value) == 0;
    if (cold)
        p->super.result.flags |= YS_RF_COLD;
    snprintf(p->super.result.facts, sizeof p->super.result.facts, "{\"cold\":%s}",
             cold ? "true" : "false");
}

static void probe_free(struct http_probe *p)
{
    ys_curl_multi_easy_put(p->multi, p->easy);
    free(p->body);
    free(p);
}

/* The result's duration is the cold request's: the warm one after it is
 * reported in facts only, so moving the start forward by the warm
 * request's time makes ys_probe_base_finish measure the cold one. */
static void finish(struct http_probe *p)
{
    if (p->cold_end_us)
        p->super.start_mono_us += ys_mono_us() - p->cold_end_us;
    ys_probe_base_finish(&p->super);
    probe_free(p);
}

static void on_warm_done(CURL *easy, CURLcode code, void *arg)
{
    struct http_probe *p = arg;
    curl_off_t total = 0;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    char *f = p->super.result.facts;
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && p->truncated))
        snprintf(f, YS_RESULT_FACTS_MAX, "{\"cold\":true,\"warm_us\":%lld,\"warm_status\":%ld}",
                 (long long)total, status);
    else
        snprintf(f, YS_RESULT_FACTS_MAX, "{\"cold\":true,\"warm_error\":\"%s\"}",
                 curl_easy_strerror(code));
    finish(p);
}

/* Idle mode: the same request again on a fresh connection (the easy
 * handle keeps its options), now that the service is awake. */
static bool start_warm(struct http_probe *p)
{
    p->cold_end_us = ys_mono_us();
    p->body_len = 0;
    p->received = 0;
    p->truncated = false;
    snprintf(p->super.result.facts, sizeof p->super.result.facts, "{\"cold\":true}");
    return ys_curl_multi_add(p->multi, p->easy, on_warm_done, p) == 0;
}

static void on_done(CURL *easy, CURLcode code, void *arg)
{
    (void)easy;
    struct http_probe *p = arg;
    verdict(p, code);
    enum ys_http_cold_mode mode = p->spec->cold.mode;
    if (mode == YS_COLD_HEADER && p->super.result.status != 0) {
        mark_cold_header(p);
    } else if (mode == YS_COLD_IDLE) {
        p->super.result.flags |= YS_RF_COLD;
        /* A service that did not answer cold has no warm figure to give. */
        if (p->super.result.status != 0 && start_warm(p))
            return;
    }
    finish(p);
}

static int http_start(struct ys_probe_env *env, const struct ys_check *check, ys_probe_done_cb done,
                      void *arg, struct ys_probe **out)
{
    struct http_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_http, check, done, arg);
    p->spec = check->spec;
    p->multi = env->curl;
    p->easy = ys_curl_multi_easy_get(env->curl);
    if (!p->easy) {
        free(p);
        return YS_EINTERNAL;
    }
    set_options(p->easy, p, check);
    int rc = ys_curl_multi_add(env->curl, p->easy, on_done, p);
    if (rc < 0) {
        probe_free(p);
        return rc;
    }
    *out = &p->super;
    return 0;
}

static void http_cancel(struct ys_probe *probe)
{
    struct http_probe *p = (struct http_probe *)probe;
    ys_curl_multi_remove(p->multi, p->easy);
    probe_free(p);
}

static int http_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d)
{
    struct ys_http_spec *s = NULL;
    int rc = ys_http_spec_parse(check, base, &s, d);
    *spec = s;
    return rc;
}

static void http_free_spec(void *spec)
{
    ys_http_spec_free(spec);
}

const struct ys_probe_type ys_probe_http = {
    .name = "http",
    .keys = ys_http_keys,
    .parse = http_parse,
    .free_spec = http_free_spec,
    .start = http_start,
    .cancel = http_cancel,
};
