/*
 * promql_http.h - what every reader of a Prometheus source's HTTP API
 * shares: setting up one libcurl GET with the source's credentials, TLS
 * and headers, keeping the body up to a cap, naming a failed transfer, and
 * reading the API's JSON envelope ({"status":"success","data":...} or an
 * error document).
 *
 * Two callers: the promql probe kind (promql.c, on the loop's multi
 * handle) and PromQL goal measures (query/goal_promql.c, on whichever
 * thread evaluates a goal, with a multi handle of its own). Neither the
 * easy handle nor the thread is this file's business.
 */
#ifndef YS_PROBE_PROMQL_HTTP_H
#define YS_PROBE_PROMQL_HTTP_H

#include "core/result.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_source;

/* One GET and its body. Owns url, headers and body; borrows easy. */
struct ys_promql_http {
    CURL *easy;
    char *url;
    struct curl_slist *headers;
    char *body;
    size_t body_len, body_cap, body_max;
    bool too_big;       /* the body passed body_max; the transfer stopped */
    int64_t timeout_ms; /* as set on the handle, for messages */
};

/* Sets easy up for GET <src->url><path_query> (path_query starts with
 * "/api/v1/"; borrowed): the source's bearer token or basic auth, CA file,
 * insecure_skip_verify and headers, timeout_ms for the whole transfer,
 * http(s) only, and the body into h, capped at body_max bytes. Connections
 * may be reused: a query's answer is measured here, not the network. */
void ys_promql_http_setup(struct ys_promql_http *h, CURL *easy, const struct ys_source *src,
                          const char *path_query, int64_t timeout_ms, size_t body_max);
/* Frees what h owns (not the easy handle). h may be all zeros. */
void ys_promql_http_cleanup(struct ys_promql_http *h);

/* Names a transfer that did not give a whole body (code != CURLE_OK or
 * too_big): writes "source NAME: reason" (libcurl's reason from errbuf,
 * without its changing " after N ms", or "timed out after 5s") into out
 * and returns the error class (dns, timeout, tls, connect; assertion for a
 * body over the cap). */
enum ys_errclass ys_promql_http_failure(const struct ys_promql_http *h, const char *source,
                                        CURLcode code, const char *errbuf, char *out, size_t cap);

/* Reads a response (any HTTP status) of the query API. Returns the parsed
 * document (owned: json_decref) when its status is "success"; else NULL,
 * with the class and a sentence in why: 401/403 naming the credentials,
 * Prometheus's own errorType and error, a non-API answer, malformed JSON. */
json_t *ys_promql_http_parse(long http_status, const char *body, size_t len, enum ys_errclass *ec,
                             char *why, size_t cap);

/* The number in a [ts, "value"] sample ("NaN" and "+Inf" included); false
 * if pair is not one. ts may be NULL. */
bool ys_promql_sample(const json_t *pair, double *ts, double *out);

#endif
