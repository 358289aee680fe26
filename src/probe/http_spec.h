/*
 * http_spec.h - the parsed fields of an `http` check.
 *
 *   url: https://example.org/health      (required; http or https)
 *   method: GET                          headers: { X-Token: ... }
 *   body: '...'                          follow_redirects: false
 *   max_redirects: 10                    max_body: 1MiB
 *   ip_version: any | 4 | 6              connect_to: host:port
 *   expect:
 *     status: [2xx, 301, 400-404]        (default 2xx, plus 3xx when
 *                                         redirects are not followed)
 *     body_contains: healthy             (a string or a list)
 *     body_not_contains: error           (a string or a list)
 *     body_regex: 'up( and running)?'    (a string or a list; PCRE2)
 *     json: [ { path: status.ok, equals: true }, { path: items[0], exists: true } ]
 *     headers: [ { name: Content-Type, equals: application/json },
 *                { name: X-Id, regex: '^[0-9a-f]+$' }, { name: Server, exists: false } ]
 *     max_response_time: 2s
 *   tls: { ... }                         (see tls_spec.h)
 *   cold_start: { idle: 90s }            (or { header: X-Cold-Start, value: "true" })
 *
 * Everything that can be done once is done at parse time: the request
 * headers are a ready curl_slist, status patterns are ranges, regexes are
 * compiled (and JIT-compiled where PCRE2 can), JSON paths are split into
 * segments. A spec is immutable after parsing and shared by every probe of
 * its check.
 */
#ifndef YS_PROBE_HTTP_SPEC_H
#define YS_PROBE_HTTP_SPEC_H

#include "probe/tls_spec.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

struct ys_node;
struct ys_check;
struct ys_diag;

/* An inclusive range of accepted status codes. */
struct ys_http_status_range {
    uint16_t lo, hi;
};

/* One step of a JSON path: an object key, or an array index when key is NULL. */
struct ys_http_json_seg {
    char *key;
    size_t index;
};

enum ys_http_json_op { YS_JSON_EXISTS, YS_JSON_ABSENT, YS_JSON_EQUALS };

struct ys_http_json_assert {
    char *path; /* as written, for messages */
    struct ys_http_json_seg *segs;
    size_t n_segs;
    enum ys_http_json_op op;
    char *expected;       /* YS_JSON_EQUALS: the scalar's text; NULL for a YAML null */
    bool expected_quoted; /* written in quotes: shown quoted in messages */
};

enum ys_http_header_op { YS_HDR_EXISTS, YS_HDR_ABSENT, YS_HDR_EQUALS, YS_HDR_REGEX };

struct ys_http_header_assert {
    char *name;
    enum ys_http_header_op op;
    char *value;    /* EQUALS: expected value; REGEX: the pattern text */
    pcre2_code *re; /* REGEX */
};

struct ys_http_regex {
    char *text;
    pcre2_code *re;
};

struct ys_http_expect {
    struct ys_http_status_range *status;
    size_t n_status;
    char *status_text; /* the patterns as written, joined by ", ", for messages */
    char **contains;
    size_t n_contains;
    char **not_contains;
    size_t n_not_contains;
    struct ys_http_regex *regex;
    size_t n_regex;
    struct ys_http_json_assert *json;
    size_t n_json;
    struct ys_http_header_assert *headers;
    size_t n_headers;
    int64_t max_response_time_ms; /* -1: no limit */
};

/* How a probe tells a cold response (a scale-to-zero service woken up)
 * from a warm one; see docs/configuration.md, "Cold starts". */
enum ys_http_cold_mode {
    YS_COLD_OFF = 0,
    YS_COLD_IDLE,   /* every probe follows an idle gap: cold, then one warm request */
    YS_COLD_HEADER, /* a response header says whether it was cold */
};

struct ys_http_cold {
    enum ys_http_cold_mode mode;
    int64_t idle_ms; /* YS_COLD_IDLE: how long the service idles before it scales to zero */
    char *header;    /* YS_COLD_HEADER: the header's name */
    char *value;     /* YS_COLD_HEADER: the value that marks cold (case-insensitive) */
};

struct ys_http_spec {
    char *url; /* the URL requested (host replaced by tls.server_name if set) */
    bool https;
    char *method;                  /* NULL for GET */
    bool head;                     /* method HEAD: no body is read */
    struct curl_slist *headers;    /* "Name: value" lines, NULL if none */
    struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO lines, NULL if none */
    char *body;
    size_t body_len;
    bool follow_redirects;
    long max_redirects;
    int64_t max_body; /* bytes read at most */
    long ipresolve;   /* CURL_IPRESOLVE_* */
    struct ys_tls_spec tls;
    struct ys_http_expect expect;
    bool need_body; /* some assertion reads the body: buffer it */
    struct ys_http_cold cold;
};

/* The kind's own keys, NULL-terminated (for probe.h's keys). */
extern const char *const ys_http_keys[];

/* Parses the kind's fields of the check map node into an owned spec
 * (free with ys_http_spec_free). Reports every problem to d with its
 * position and returns YS_ECONFIG if there was any; *out is then NULL. */
int ys_http_spec_parse(const struct ys_node *check, const struct ys_check *base,
                       struct ys_http_spec **out, struct ys_diag *d);
/* Frees spec and everything it owns; NULL is a no-op. */
void ys_http_spec_free(struct ys_http_spec *spec);

#endif
