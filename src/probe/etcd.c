/*
 * etcd.c - the `etcd` probe kind: per endpoint, GET /health, GET /readyz
 * (a 404 means an etcd older than 3.5 without it), GET /version and a
 * linearizable read, POST /v3/kv/range, through the loop's libcurl multi
 * handle (curl_multi.c).
 *
 * A probe is a struct etcd_probe (base first, as `super`) with one struct
 * endpoint_run per endpoint. Endpoints run side by side; the four steps of
 * one endpoint run one after the other on one easy handle, so they share
 * one connection and one TLS handshake: the first step forces a fresh
 * connection, the last one forbids keeping it. The read's latency is
 * measured from the request being sent (libcurl's pre-transfer time) to
 * the end of the answer, so it is etcd's time to serve a quorum read, not
 * the connection set-up. check->timeout_ms bounds all steps together.
 *
 * An endpoint that fails its health or readiness still gets its version
 * asked (for the message and facts) but no read: without a leader a
 * linearizable read would only wait out the timeout. The probe ends when
 * every endpoint has ended; the check passes when at least min_healthy of
 * them passed everything. value is the slowest read in milliseconds.
 *
 * Lifecycle: start -> (steps) -> last endpoint ends: verdict, done
 * callback, cleanup; or start -> cancel: cleanup, done never runs.
 * Loop thread only.
 */
#include "probe/curl_multi.h"
#include "probe/curl_tls.h"
#include "probe/etcd_spec.h"
#include "probe/probe.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <math.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum step { STEP_HEALTH, STEP_READYZ, STEP_VERSION, STEP_READ, STEP_END };

static const char *const step_name[] = {"health", "readyz", "version", "read"};
static const char *const step_path[] = {"/health", "/readyz", "/version", "/v3/kv/range"};

/* {"key": base64("yardstick-probe")}; serializable defaults to false, so
 * the read is linearizable: the member confirms with the leader first. */
static const char range_body[] = "{\"key\":\"eWFyZHN0aWNrLXByb2Jl\"}";

/* etcd's answers here are a few hundred bytes; anything bigger is cut. */
#define BODY_MAX 16384

struct endpoint_run {
    struct etcd_probe *probe;
    const struct ys_etcd_endpoint *ep;
    CURL *easy; /* NULL once the endpoint has ended */
    enum step step;
    char body[BODY_MAX];
    size_t body_len;
    bool failed;
    uint8_t errclass;
    char msg[YS_RESULT_MSG_MAX];
    char version[YS_ETCD_TEXT_MAX]; /* "" until /version answered */
    bool healthy;
    bool cert_requested; /* the server asked for a client certificate */
    double read_ms;      /* < 0 until the read succeeded */
};

struct etcd_probe {
    struct ys_probe super;
    struct ys_curl_multi *multi;
    const struct ys_etcd_spec *spec;
    int64_t deadline_us; /* monotonic */
    size_t running;
    struct endpoint_run *runs;
};

/* Defined at the end; listed in registry.c. */
extern const struct ys_probe_type ys_probe_etcd;

static void step_start(struct endpoint_run *r);

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct endpoint_run *r = arg;
    size_t n = size * nmemb;
    size_t room = sizeof r->body - 1 - r->body_len;
    size_t take = n < room ? n : room;
    memcpy(r->body + r->body_len, data, take);
    r->body_len += take;
    return n; /* a longer answer is cut, and then fails to parse */
}

static void run_fail(struct endpoint_run *r, enum ys_errclass ec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the endpoint's first failure; verdict prefixes its name. */
static void run_fail(struct endpoint_run *r, enum ys_errclass ec, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    r->errclass = (uint8_t)ec;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

static enum ys_errclass curl_class(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST: return YS_EC_DNS;
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY: return YS_EC_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_SSL_ISSUER_ERROR: return YS_EC_TLS;
    case CURLE_OPERATION_TIMEDOUT: return YS_EC_TIMEOUT;
    default: return YS_EC_INTERNAL;
    }
}

/* A server that requires a client certificate and gets none ends the
 * connection after a TLS 1.3 handshake that the client saw succeed, so
 * libcurl reports a send or receive error. The certificate request tells
 * the two apart from a plain broken connection. */
static bool refused_without_cert(const struct endpoint_run *r, CURLcode code)
{
    return r->cert_requested && !r->probe->spec->tls.cert_file &&
           (code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING);
}

static void transport_failed(struct endpoint_run *r, CURLcode code)
{
    enum ys_errclass ec = curl_class(code);
    if (refused_without_cert(r, code)) {
        run_fail(r, YS_EC_TLS,
                 "%s: the server requires a client certificate and none is configured "
                 "(tls.cert_file)",
                 step_name[r->step]);
        return;
    }
    if (ec == YS_EC_TIMEOUT) {
        char limit[32];
        ys_duration_format(r->probe->super.check->timeout_ms, limit, sizeof limit);
        run_fail(r, ec, "%s: timed out after %s", step_name[r->step], limit);
        return;
    }
    long os_errno = 0;
    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno);
    if (code == CURLE_COULDNT_CONNECT && os_errno) {
        /* The system's reason, without curl's " after N ms": a message that
         * changed with every probe would add a row to the store's text
         * dictionary each time. */
        run_fail(r, ec, "%s: cannot connect: %s", step_name[r->step],
                 strerrordesc_np((int)os_errno));
        return;
    }
    const char *eb = ys_curl_multi_errbuf(r->easy);
    run_fail(r, ec, "%s: %s", step_name[r->step], eb[0] ? eb : curl_easy_strerror(code));
}

static void judge_health(struct endpoint_run *r, long status)
{
    char reason[YS_ETCD_TEXT_MAX];
    const char *why = NULL;
    /* etcd answers an unhealthy /health with 503 and the same JSON. */
    if (ys_etcd_parse_health(r->body, r->body_len, &r->healthy, reason, sizeof reason, &why) < 0) {
        if (status != 200)
            run_fail(r, YS_EC_HTTP_STATUS, "health: HTTP %ld", status);
        else
            run_fail(r, YS_EC_ASSERTION, "health: malformed answer (%s)", why);
    } else if (!r->healthy) {
        run_fail(r, YS_EC_ASSERTION, "health false%s%s", reason[0] ? ": " : "", reason);
    }
}

static void judge(struct endpoint_run *r, long status)
{
    char cluster[YS_ETCD_TEXT_MAX], msg[160];
    const char *why = NULL;
    r->body[r->body_len] = '\0';
    switch (r->step) {
    case STEP_HEALTH: judge_health(r, status); break;
    case STEP_READYZ:
        if (status != 200 && status != 404)
            run_fail(r, YS_EC_HTTP_STATUS, "not ready (readyz: HTTP %ld)", status);
        break;
    case STEP_VERSION:
        if (ys_etcd_parse_version(r->body, r->body_len, r->version, sizeof r->version, cluster,
                                  sizeof cluster, &why) < 0)
            run_fail(r, YS_EC_ASSERTION, "version: malformed answer (%s)", why);
        break;
    case STEP_READ:
        if (ys_etcd_parse_range(r->body, r->body_len, msg, sizeof msg) < 0) {
            run_fail(r, status == 200 ? YS_EC_ASSERTION : YS_EC_HTTP_STATUS, "read: %s", msg);
        } else {
            curl_off_t total = 0, pre = 0;
            curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total);
            curl_easy_getinfo(r->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
            r->read_ms = (double)(total - pre) / 1000.0;
        }
        break;
    case STEP_END: break;
    }
}

static void probe_finish(struct etcd_probe *p);

static void run_end(struct endpoint_run *r)
{
    ys_curl_multi_easy_put(r->probe->multi, r->easy);
    r->easy = NULL;
    if (--r->probe->running == 0)
        probe_finish(r->probe);
}

static void on_step_done(CURL *easy, CURLcode code, void *arg)
{
    struct endpoint_run *r = arg;
    long status = 0;
    if (code != CURLE_OK) {
        transport_failed(r, code);
        run_end(r);
        return;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    judge(r, status);
    /* After a failed health or readiness only the version is still asked. */
    r->step = !r->failed ? r->step + 1 : r->step < STEP_VERSION ? STEP_VERSION : STEP_END;
    if (r->step == STEP_END) {
        run_end(r);
        return;
    }
    step_start(r);
}

static int ctx_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_index(void)
{
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL calls this when the server asks for a client certificate and
 * none is set; returning 0 sends none, as without the callback. */
static int on_cert_request(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct endpoint_run *r = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
    if (r)
        r->cert_requested = true;
    return 0;
}

/* libcurl makes an SSL_CTX per connection and hands it here first. */
static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
    (void)easy;
    pthread_once(&index_once, make_index);
    SSL_CTX_set_ex_data(ssl_ctx, ctx_index, arg);
    SSL_CTX_set_client_cert_cb(ssl_ctx, on_cert_request);
    return CURLE_OK;
}

/* Options set once per endpoint; each step changes only URL and method. */
static void set_common(struct endpoint_run *r)
{
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "yardstick/" YS_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    if (r->ep->https)
        ys_curl_tls_options(e, &r->probe->spec->tls, on_ssl_ctx, r);
}

static void step_start(struct endpoint_run *r)
{
    char url[512];
    CURL *e = r->easy;
    int64_t left_ms = (r->probe->deadline_us - ys_mono_us()) / 1000;
    if (left_ms <= 0) {
        transport_failed(r, CURLE_OPERATION_TIMEDOUT);
        run_end(r);
        return;
    }
    r->body_len = 0;
    snprintf(url, sizeof url, "%s%s", r->ep->url, step_path[r->step]);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left_ms);
    if (r->step != STEP_HEALTH)
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 0L);
    bool last = r->step == STEP_READ || (r->failed && r->step == STEP_VERSION);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, last ? 1L : 0L);
    if (r->step == STEP_READ) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, range_body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(sizeof range_body - 1));
    }
    if (ys_curl_multi_add(r->probe->multi, e, on_step_done, r) < 0) {
        run_fail(r, YS_EC_INTERNAL, "%s: cannot start the request", step_name[r->step]);
        run_end(r);
    }
}

/* ---- verdict ------------------------------------------------------------ */

static json_t *endpoint_facts(const struct endpoint_run *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "endpoint", json_string(r->ep->name));
    json_object_set_new(o, "healthy", json_boolean(!r->failed));
    if (r->version[0]) {
        json_t *v = json_string(r->version);
        if (v) /* NULL only for text that is not UTF-8: left out */
            json_object_set_new(o, "version", v);
    }
    if (r->read_ms >= 0)
        json_object_set_new(o, "read_ms", json_real(round(r->read_ms * 1000.0) / 1000.0));
    if (r->failed)
        json_object_set_new(o, "error", json_string(ys_errclass_name(r->errclass)));
    return o;
}

/* Writes the per-endpoint facts into out; when they do not fit, whole
 * endpoints go from the end and a final {"more":true} says so. */
static void write_facts(const struct etcd_probe *p, char *out, size_t size)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < p->spec->n; i++)
        json_array_append_new(arr, endpoint_facts(&p->runs[i]));
    bool cut = false;
    out[0] = '\0';
    for (;;) {
        if (cut)
            json_array_append_new(arr, json_pack("{s:b}", "more", 1));
        size_t need = json_dumpb(arr, out, size - 1, JSON_COMPACT | JSON_REAL_PRECISION(10));
        if (need > 0 && need < size) {
            out[need] = '\0';
            break;
        }
        size_t k = json_array_size(arr);
        if (cut)
            json_array_remove(arr, --k); /* the marker */
        if (k == 0) {
            out[0] = '\0';
            break;
        }
        json_array_remove(arr, k - 1);
        cut = true;
    }
    json_decref(arr);
}

static void verdict(struct etcd_probe *p)
{
    struct ys_result *r = &p->super.result;
    size_t healthy = 0;
    double slowest = -1;
    const struct endpoint_run *first_bad = NULL;
    for (size_t i = 0; i < p->spec->n; i++) {
        const struct endpoint_run *e = &p->runs[i];
        if (!e->failed)
            healthy++;
        else if (!first_bad)
            first_bad = e;
        if (e->read_ms > slowest)
            slowest = e->read_ms;
    }
    if (slowest >= 0) {
        r->flags |= YS_RF_HAS_VALUE;
        r->value = slowest;
    }
    write_facts(p, r->facts, sizeof r->facts);
    if (healthy >= p->spec->min_healthy)
        return;
    /* "10.0.0.5:2379 (etcd 3.4.23): health false": the version, when known,
     * only on failure, where it may explain the difference. */
    char vn[YS_ETCD_TEXT_MAX + 16] = "";
    if (first_bad->version[0])
        snprintf(vn, sizeof vn, " (etcd %s)", first_bad->version);
    /* The count matters once one endpoint does not tell the whole story. */
    if (healthy + 1 < p->spec->n || p->spec->min_healthy < p->spec->n)
        ys_result_fail(r, first_bad->errclass,
                       "%s%s: %s (%zu of %zu endpoints healthy, %zu needed)", first_bad->ep->name,
                       vn, first_bad->msg, healthy, p->spec->n, p->spec->min_healthy);
    else
        ys_result_fail(r, first_bad->errclass, "%s%s: %s", first_bad->ep->name, vn, first_bad->msg);
}

static void probe_free(struct etcd_probe *p)
{
    for (size_t i = 0; i < p->spec->n; i++)
        if (p->runs[i].easy)
            ys_curl_multi_easy_put(p->multi, p->runs[i].easy);
    free(p->runs);
    free(p);
}

static void probe_finish(struct etcd_probe *p)
{
    verdict(p);
    ys_probe_base_finish(&p->super);
    probe_free(p);
}

/* ---- the kind ----------------------------------------------------------- */

static int etcd_start(struct ys_probe_env *env, const struct ys_check *check, ys_probe_done_cb done,
                      void *arg, struct ys_probe **out)
{
    struct etcd_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_etcd, check, done, arg);
    p->spec = check->spec;
    p->multi = env->curl;
    p->deadline_us = p->super.start_mono_us + check->timeout_ms * 1000;
    p->runs = ys_xcalloc(p->spec->n, sizeof *p->runs);
    for (size_t i = 0; i < p->spec->n; i++) {
        struct endpoint_run *r = &p->runs[i];
        r->probe = p;
        r->ep = &p->spec->ep[i];
        r->read_ms = -1;
        r->easy = ys_curl_multi_easy_get(env->curl);
        if (!r->easy)
            goto fail;
        set_common(r);
    }
    /* running counts one more than the endpoints while they start, so an
     * endpoint whose first request cannot be added ends without finishing
     * the probe inside start (done must run later, never from start). */
    p->running = p->spec->n + 1;
    for (size_t i = 0; i < p->spec->n; i++)
        step_start(&p->runs[i]);
    if (--p->running == 0)
        goto fail; /* not one request could start */
    *out = &p->super;
    return 0;
fail:
    probe_free(p);
    return YS_EINTERNAL;
}

static void etcd_cancel(struct ys_probe *probe)
{
    struct etcd_probe *p = (struct etcd_probe *)probe;
    for (size_t i = 0; i < p->spec->n; i++)
        if (p->runs[i].easy)
            ys_curl_multi_remove(p->multi, p->runs[i].easy);
    probe_free(p);
}

static int etcd_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d)
{
    struct ys_etcd_spec *s = NULL;
    int rc = ys_etcd_spec_parse(check, base, &s, d);
    *spec = s;
    return rc;
}

static void etcd_free_spec(void *spec)
{
    ys_etcd_spec_free(spec);
}

const struct ys_probe_type ys_probe_etcd = {
    .name = "etcd",
    .keys = ys_etcd_keys,
    .parse = etcd_parse,
    .free_spec = etcd_free_spec,
    .start = etcd_start,
    .cancel = etcd_cancel,
};
