/*
 * http_assert.h - the checks an http probe runs on a finished response.
 *
 * Pure functions of a spec's expectations and a response: no I/O, no
 * libcurl, so they are tested with tables. Each failing check marks the
 * result with ys_result_fail, which keeps only the first failure, and
 * returns false; a passing check touches nothing and formats nothing.
 */
#ifndef YS_PROBE_HTTP_ASSERT_H
#define YS_PROBE_HTTP_ASSERT_H

#include "core/result.h"
#include "probe/http_spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns the value of the first response header named name (compared
 * case-insensitively), or NULL. The string is borrowed until the next call. */
typedef const char *(*ys_http_header_cb)(void *ctx, const char *name);

/* What the assertions look at. */
struct ys_http_response {
    long status;
    const char *body; /* the buffered body (NULL when not buffered) */
    size_t body_len;
    bool truncated;   /* the body was cut at max_body */
    int64_t total_us; /* the response time */
    ys_http_header_cb header;
    void *header_ctx;
};

/* True when status matches one of e's ranges. */
bool ys_http_status_match(const struct ys_http_expect *e, long status);

/* Each returns true when its assertions pass; otherwise fails r with a
 * message such as `status 503, expected 2xx` and returns false. */
bool ys_http_assert_status(const struct ys_http_expect *e, long status, struct ys_result *r);
bool ys_http_assert_body(const struct ys_http_expect *e, const struct ys_http_response *resp,
                         struct ys_result *r);
bool ys_http_assert_json(const struct ys_http_expect *e, const struct ys_http_response *resp,
                         struct ys_result *r);
bool ys_http_assert_headers(const struct ys_http_expect *e, const struct ys_http_response *resp,
                            struct ys_result *r);
bool ys_http_assert_time(const struct ys_http_expect *e, int64_t total_us, struct ys_result *r);
/* `certificate expires in 5 days (2026-12-04), less than 14`; min_days < 0
 * means no check. now_s is the wall clock in epoch seconds. */
bool ys_http_assert_cert(int64_t min_days, const struct ys_tls_facts *facts, int64_t now_s,
                         struct ys_result *r);

/* Runs every check on a response whose transfer succeeded, in this order:
 * status, certificate age (when facts is not NULL), body, json, headers,
 * time. Returns true when all pass. */
bool ys_http_assert_all(const struct ys_http_expect *e, const struct ys_http_response *resp,
                        int64_t min_days, const struct ys_tls_facts *facts, int64_t now_s,
                        struct ys_result *r);

/* Parses one status pattern ("200", "2xx", "200-299") into r.
 * Returns 0 or YS_EINVAL. Pure; used by the parser and the tests. */
int ys_http_status_pattern_parse(const char *s, struct ys_http_status_range *r);
/* Splits a JSON path ("a.b[0].c", optional "$." or "$" prefix) into owned
 * segments. Returns 0, or YS_EINVAL with *err_off set to the offending
 * character's offset in path. */
int ys_http_json_path_parse(const char *path, struct ys_http_json_seg **segs, size_t *n,
                            size_t *err_off);
void ys_http_json_path_free(struct ys_http_json_seg *segs, size_t n);

#endif
