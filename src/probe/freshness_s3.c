/*
 * freshness_s3.c - the S3 source of the `freshness` kind: ListObjectsV2
 * over a bucket prefix, page after page, through the loop's libcurl multi
 * handle, keeping only the newest object.
 *
 * Signing is libcurl's CURLOPT_AWS_SIGV4 ("aws:amz:<region>:s3"), not ours.
 * Two things S3 wants that libcurl 7.88 leaves to the caller are added as
 * headers, which libcurl then signs with the rest: x-amz-content-sha256 (the
 * SHA-256 of the empty body of a GET; newer libcurl adds it by itself and
 * keeps ours) and x-amz-security-token for temporary credentials. libcurl
 * 7.88 signs the query as it stands in the URL, so ys_fresh_s3_list_url
 * writes it in canonical form: parameters sorted by name, values encoded
 * with curl_easy_escape (everything but A-Z a-z 0-9 - . _ ~, upper-case
 * hex), which is exactly SigV4's URI encoding.
 *
 * A listing (struct ys_fresh_s3_list) owns one easy handle for all its
 * pages, the headers list and the current page's body, capped at
 * PAGE_MAX_BYTES. At most PAGES_MAX pages (of up to 1,000 keys) are read;
 * a prefix with more fails rather than judge on part of it. The caller
 * (freshness.c) bounds the whole listing with the check's timeout.
 *
 * Lifecycle: start -> page done -> next page ... -> done callback, then
 * the listing frees itself; or cancel at any point (done never runs).
 * Loop thread only.
 */
#include "probe/curl_multi.h"
#include "probe/freshness.h"

#include "core/err.h"
#include "core/result.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MAX_BYTES (8 * 1024 * 1024)
#define PAGES_MAX 100
/* SHA-256 of zero bytes: the payload hash of every GET. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct ys_fresh_s3_list {
    struct ys_curl_multi *multi;
    const struct ys_fresh_s3 *s3;
    const pcre2_code *re;
    ys_fresh_s3_done_cb done;
    void *arg;
    CURL *easy;
    bool in_transfer;
    struct curl_slist *headers;
    char *url, *token;
    unsigned page;
    char *body;
    size_t len, cap;
    bool too_big;
    struct ys_fresh_obj newest;
};

char *ys_fresh_s3_list_url(const struct ys_fresh_s3 *s3, const char *token)
{
    char *t = token ? curl_easy_escape(NULL, token, 0) : NULL;
    char *p = s3->prefix[0] ? curl_easy_escape(NULL, s3->prefix, 0) : NULL;
    if ((token && !t) || (s3->prefix[0] && !p))
        abort(); /* curl_easy_escape fails only when out of memory */
    char *url =
        ys_xasprintf("%s?%s%s%slist-type=2%s%s", s3->base_url, t ? "continuation-token=" : "",
                     t ? t : "", t ? "&" : "", p ? "&prefix=" : "", p ? p : "");
    curl_free(t);
    curl_free(p);
    return url;
}

unsigned ys_fresh_s3_list_page(const struct ys_fresh_s3_list *l)
{
    return l->page;
}

static void list_free(struct ys_fresh_s3_list *l)
{
    ys_curl_multi_easy_put(l->multi, l->easy);
    curl_slist_free_all(l->headers);
    free(l->url);
    free(l->token);
    free(l->body);
    ys_fresh_obj_clear(&l->newest);
    free(l);
}

static void finish(struct ys_fresh_s3_list *l, int ec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Calls done once with a verdict, then frees the listing. */
static void finish(struct ys_fresh_s3_list *l, int ec, const char *fmt, ...)
{
    char msg[YS_RESULT_MSG_MAX] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    long status = 0;
    curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &status);
    l->done(ec, msg, (int)status, &l->newest, l->arg);
    list_free(l);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct ys_fresh_s3_list *l = arg;
    size_t n = size * nmemb;
    if (n > PAGE_MAX_BYTES - l->len) {
        l->too_big = true;
        return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
    }
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 64 * 1024;
        while (cap < l->len + n)
            cap *= 2;
        l->cap = cap < PAGE_MAX_BYTES ? cap : PAGE_MAX_BYTES;
        l->body = ys_xrealloc(l->body, l->cap);
    }
    memcpy(l->body + l->len, data, n);
    l->len += n;
    return n;
}

/* The error class of a transfer that did not complete. */
static int transport_class(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST: return YS_EC_DNS;
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return YS_EC_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED: return YS_EC_TLS;
    case CURLE_OPERATION_TIMEDOUT: return YS_EC_TIMEOUT;
    default: return YS_EC_INTERNAL;
    }
}

static void on_page(CURL *easy, CURLcode code, void *arg);

static int next_page(struct ys_fresh_s3_list *l)
{
    free(l->url);
    l->url = ys_fresh_s3_list_url(l->s3, l->token);
    l->len = 0;
    l->too_big = false;
    l->page++;
    curl_easy_setopt(l->easy, CURLOPT_URL, l->url);
    int rc = ys_curl_multi_add(l->multi, l->easy, on_page, l);
    l->in_transfer = rc == 0;
    return rc;
}

/* An answer other than 200, or a 200 that is an Error document. */
static void s3_error(struct ys_fresh_s3_list *l, long status, const struct ys_s3_page *pg,
                     int parse_rc)
{
    if (parse_rc == 0 && pg->error_code)
        finish(l, YS_EC_HTTP_STATUS, "%s: HTTP %ld %s%s%.120s", l->s3->where, status,
               pg->error_code, pg->error_message ? ": " : "",
               pg->error_message ? pg->error_message : "");
    else
        finish(l, YS_EC_HTTP_STATUS, "%s: HTTP %ld without an S3 error document", l->s3->where,
               status);
}

/* libcurl's reason without its " after N ms": the duration is in the
 * result already, and a sentence that changes with every probe would add a
 * row to the store's text dictionary each time. */
static void transport_reason(CURL *easy, CURLcode code, char *buf, size_t size)
{
    const char *m = ys_curl_multi_errbuf(easy);
    snprintf(buf, size, "%s", m[0] ? m : curl_easy_strerror(code));
    char *after = strstr(buf, " after ");
    if (!after)
        return;
    char *q = after + 7;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q > after + 7 && strncmp(q, " ms", 3) == 0)
        memmove(after, q + 3, strlen(q + 3) + 1);
}

static void on_page(CURL *easy, CURLcode code, void *arg)
{
    struct ys_fresh_s3_list *l = arg;
    l->in_transfer = false;
    if (l->too_big) {
        finish(l, YS_EC_HTTP_STATUS, "%s: page %u of the listing is larger than %d MiB",
               l->s3->where, l->page, PAGE_MAX_BYTES / (1024 * 1024));
        return;
    }
    if (code != CURLE_OK) {
        char why[CURL_ERROR_SIZE];
        transport_reason(easy, code, why, sizeof why);
        finish(l, transport_class(code), "%s: %s", l->s3->where, why);
        return;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    struct ys_s3_page pg;
    struct ys_err err = {{0}};
    int rc = ys_s3_list_parse(l->body, l->len, l->re, &l->newest, &pg, &err);
    if (status != 200 || (rc == 0 && pg.error_code))
        s3_error(l, status, &pg, rc);
    else if (rc < 0)
        finish(l, YS_EC_HTTP_STATUS, "%s: a bad listing on page %u: %s", l->s3->where, l->page,
               err.msg);
    else if (!pg.truncated)
        finish(l, YS_EC_NONE, NULL);
    else if (l->page >= PAGES_MAX)
        finish(l, YS_EC_ASSERTION, "%s holds more than %d pages of objects: narrow the prefix",
               l->s3->where, PAGES_MAX);
    else {
        free(l->token);
        l->token = pg.next_token;
        pg.next_token = NULL;
        if (next_page(l) < 0)
            finish(l, YS_EC_INTERNAL, "%s: cannot start page %u", l->s3->where, l->page);
    }
    ys_s3_page_free(&pg);
}

/* A header line for a value from the environment or the file: a line
 * break in it would end the header early and start another. */
static int add_header(struct curl_slist **h, const char *name, const char *value,
                      struct ys_err *err)
{
    if (strpbrk(value, "\r\n"))
        return ys_err_set(err, YS_EINVAL, "%s contains a line break", name);
    char *line = ys_xasprintf("%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(*h, line);
    free(line);
    if (!n)
        abort(); /* curl_slist_append fails only when out of memory */
    *h = n;
    return 0;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Sets the credentials (explicit ones, else the environment's) and the
 * headers SigV4 for S3 needs; none at all means an anonymous request, as
 * a public bucket takes. */
static int set_auth(struct ys_fresh_s3_list *l, struct ys_err *err)
{
    const struct ys_fresh_s3 *s3 = l->s3;
    bool mine = s3->access_key != NULL;
    const char *ak = mine ? s3->access_key : env("AWS_ACCESS_KEY_ID");
    const char *sk = mine ? s3->secret_key : env("AWS_SECRET_ACCESS_KEY");
    const char *tok = mine ? s3->session_token : env("AWS_SESSION_TOKEN");
    int rc = 0;
    if (!ak && !sk)
        return 0;
    if (!ak || !sk)
        return ys_err_set(err, YS_EINVAL, "%s is set but %s is not",
                          ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                          ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    curl_easy_setopt(l->easy, CURLOPT_AWS_SIGV4, s3->sigv4);
    curl_easy_setopt(l->easy, CURLOPT_USERNAME, ak);
    curl_easy_setopt(l->easy, CURLOPT_PASSWORD, sk);
    rc = add_header(&l->headers, "x-amz-content-sha256", EMPTY_SHA256, err);
    if (rc == 0 && tok)
        rc = add_header(&l->headers, "x-amz-security-token", tok, err);
    return rc;
}

static void set_options(struct ys_fresh_s3_list *l, int64_t timeout_ms)
{
    CURL *e = l->easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* A monitor measures: a fresh connection for every page. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    /* Only a backstop, a second later than the caller's timer, which bounds
     * the whole listing and says which page it stopped on: were both due at
     * once, which fired first would decide the message. */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms + 1000);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "yardstick/" YS_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, l);
    /* CAPATH NULL lets libcurl's CA cache keep the parsed store. */
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, l->headers);
}

int ys_fresh_s3_list_start(struct ys_curl_multi *m, const struct ys_fresh_s3 *s3,
                           const pcre2_code *re, int64_t timeout_ms, ys_fresh_s3_done_cb done,
                           void *arg, struct ys_fresh_s3_list **out, struct ys_err *err)
{
    struct ys_fresh_s3_list *l = ys_xcalloc(1, sizeof *l);
    l->multi = m;
    l->s3 = s3;
    l->re = re;
    l->done = done;
    l->arg = arg;
    l->easy = ys_curl_multi_easy_get(m);
    if (!l->easy) {
        list_free(l);
        return ys_err_set(err, YS_EINTERNAL, "libcurl cannot make a handle");
    }
    int rc = set_auth(l, err);
    if (rc == 0) {
        set_options(l, timeout_ms);
        if ((rc = next_page(l)) < 0)
            ys_err_set(err, rc, "cannot start the request");
    }
    if (rc < 0) {
        list_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ys_fresh_s3_list_cancel(struct ys_fresh_s3_list *l)
{
    if (!l)
        return;
    if (l->in_transfer)
        ys_curl_multi_remove(l->multi, l->easy);
    list_free(l);
}
