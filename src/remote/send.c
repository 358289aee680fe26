/*
 * send.c - one remote-write request: POST an encoded batch to an endpoint
 * with libcurl's easy interface and sort the answer into sent, retry or
 * drop, as the remote-write spec says: 2xx is accepted; 5xx, 429 and
 * failures to connect or to get an answer are retried; any other 4xx
 * means the receiver will never take this batch, so it is dropped.
 *
 * Runs on the endpoint's own sender thread (remote.c), where blocking for
 * up to the endpoint's timeout is fine: nothing else waits for it. A stop
 * lets the request finish rather than abort it, because a batch the
 * receiver took but yardstick did not record would be sent again after
 * the restart, and Prometheus refuses that (out of order) as a 400.
 */
#include "remote/remote_send.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_BODY_MAX 200

struct reply {
    char body[ERR_BODY_MAX + 1];
    size_t n;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct reply *r = arg;
    size_t k = size * nmemb, room = ERR_BODY_MAX - r->n;
    size_t take = k < room ? k : room;
    memcpy(r->body + r->n, p, take);
    r->n += take;
    r->body[r->n] = '\0';
    return k; /* the rest is read and discarded */
}

int ys_rw_sender_init(struct ys_rw_sender *s, const struct ys_remote_write *conf)
{
    memset(s, 0, sizeof *s);
    s->conf = conf;
    s->curl = curl_easy_init();
    if (!s->curl)
        return YS_EINTERNAL;
    s->headers = curl_slist_append(NULL, "Content-Encoding: snappy");
    s->headers = curl_slist_append(s->headers, "Content-Type: application/x-protobuf");
    s->headers = curl_slist_append(s->headers, "X-Prometheus-Remote-Write-Version: 0.1.0");
    s->headers = curl_slist_append(s->headers, "User-Agent: yardstick/" YS_VERSION);
    if (conf->bearer_token) {
        char *h = ys_xasprintf("Authorization: Bearer %s", conf->bearer_token);
        s->headers = curl_slist_append(s->headers, h);
        free(h);
    }
    for (size_t i = 0; i < conf->headers.n; i++) {
        char *h = ys_xasprintf("%s: %s", conf->headers.keys[i], conf->headers.values[i]);
        s->headers = curl_slist_append(s->headers, h);
        free(h);
    }
    CURL *c = s->curl;
    curl_easy_setopt(c, CURLOPT_URL, conf->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)conf->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)conf->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (conf->username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, conf->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, conf->password ? conf->password : "");
    }
    if (conf->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, conf->ca_file);
    if (conf->cert_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, conf->cert_file);
    if (conf->key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, conf->key_file);
    if (conf->insecure_skip_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return 0;
}

void ys_rw_sender_free(struct ys_rw_sender *s)
{
    if (s->curl)
        curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->headers);
    memset(s, 0, sizeof *s);
}

enum ys_rw_outcome ys_rw_send(struct ys_rw_sender *s, const char *body, size_t len, char *why,
                              size_t why_size, int64_t *retry_after_ms)
{
    *retry_after_ms = 0;
    struct reply r = {.n = 0};
    r.body[0] = '\0';
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &r);
    CURLcode cc = curl_easy_perform(s->curl);
    if (cc != CURLE_OK) {
        snprintf(why, why_size, "%s", curl_easy_strerror(cc));
        return YS_RW_RETRY;
    }
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    for (size_t i = 0; i < r.n; i++)
        if (r.body[i] == '\n' || r.body[i] == '\r')
            r.body[i] = ' ';
    snprintf(why, why_size, "HTTP %ld %s", code, r.body);
    if (code >= 200 && code < 300)
        return YS_RW_SENT;
    if (code == 429 || code == 503) {
        /* libcurl parses both forms of Retry-After (seconds or an HTTP
         * date) into seconds from now; 0 when absent. */
        curl_off_t ra = 0;
        if (curl_easy_getinfo(s->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            *retry_after_ms = ra > INT64_MAX / 1000 ? INT64_MAX : (int64_t)ra * 1000;
    }
    if (code == 429 || code >= 500 || code < 200)
        return YS_RW_RETRY;
    return YS_RW_DROP;
}
