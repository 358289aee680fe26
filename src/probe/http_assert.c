/*
 * http_assert.c - assertions on a finished HTTP response (see http_assert.h),
 * and the two small pure parsers the spec needs (status patterns, JSON
 * paths), kept here so they are tested without the config module.
 *
 * The success path formats nothing and allocates nothing except where the
 * assertion itself needs it (JSON parsing, PCRE2 match data). Messages are
 * built only when a check fails, and only the first failure is kept
 * (ys_result_fail). Any thread; no state.
 */
#include "probe/http_assert.h"

#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- parsers ----------------------------------------------------------- */

static int parse_code(const char *s, size_t len, uint16_t *out)
{
    if (len != 3)
        return YS_EINVAL;
    int v = 0;
    for (size_t i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)s[i]))
            return YS_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 100 || v > 599)
        return YS_EINVAL;
    *out = (uint16_t)v;
    return 0;
}

int ys_http_status_pattern_parse(const char *s, struct ys_http_status_range *r)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 3 && s[0] >= '1' && s[0] <= '5' && tolower((unsigned char)s[1]) == 'x' &&
        tolower((unsigned char)s[2]) == 'x') {
        r->lo = (uint16_t)((s[0] - '0') * 100);
        r->hi = (uint16_t)(r->lo + 99);
        return 0;
    }
    const char *dash = memchr(s, '-', len);
    if (!dash) {
        if (parse_code(s, len, &r->lo) < 0)
            return YS_EINVAL;
        r->hi = r->lo;
        return 0;
    }
    const char *a_end = dash, *b = dash + 1;
    while (a_end > s && isspace((unsigned char)a_end[-1]))
        a_end--;
    while (b < s + len && isspace((unsigned char)*b))
        b++;
    struct ys_http_status_range t;
    if (parse_code(s, (size_t)(a_end - s), &t.lo) < 0 ||
        parse_code(b, (size_t)(s + len - b), &t.hi) < 0 || t.lo > t.hi)
        return YS_EINVAL;
    *r = t;
    return 0;
}

void ys_http_json_path_free(struct ys_http_json_seg *segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(segs[i].key);
    free(segs);
}

static int path_index(const char *path, const char **pp, size_t *out, size_t *err_off)
{
    const char *p = *pp + 1; /* after '[' */
    size_t v = 0;
    if (!isdigit((unsigned char)*p))
        goto bad;
    while (isdigit((unsigned char)*p)) {
        if (v > (SIZE_MAX - 9) / 10)
            goto bad;
        v = v * 10 + (size_t)(*p++ - '0');
    }
    if (*p != ']')
        goto bad;
    *out = v;
    *pp = p + 1;
    return 0;
bad:
    *err_off = (size_t)(p - path);
    return YS_EINVAL;
}

int ys_http_json_path_parse(const char *path, struct ys_http_json_seg **segs, size_t *n,
                            size_t *err_off)
{
    const char *p = path;
    struct ys_http_json_seg *v = NULL;
    size_t cnt = 0, cap = 0;
    if (*p == '$') {
        p++;
        if (*p == '.')
            p++;
        else if (*p != '[' && *p != '\0')
            goto bad;
    }
    bool need_key = (p == path) || p[-1] == '.';
    while (*p || need_key) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 4;
            v = ys_xrealloc(v, cap * sizeof *v);
        }
        if (*p == '[') {
            v[cnt].key = NULL;
            if (path_index(path, &p, &v[cnt].index, err_off) < 0) {
                ys_http_json_path_free(v, cnt);
                return YS_EINVAL;
            }
            cnt++;
        } else {
            size_t len = strcspn(p, ".[");
            if (len == 0)
                goto bad;
            v[cnt].key = ys_xstrndup(p, len);
            v[cnt].index = 0;
            cnt++;
            p += len;
        }
        need_key = false;
        if (*p == '.') {
            p++;
            need_key = true;
        } else if (*p != '[' && *p != '\0') {
            goto bad;
        }
    }
    *segs = v;
    *n = cnt;
    return 0;
bad:
    *err_off = (size_t)(p - path);
    ys_http_json_path_free(v, cnt);
    return YS_EINVAL;
}

/* ---- assertions -------------------------------------------------------- */

bool ys_http_status_match(const struct ys_http_expect *e, long status)
{
    for (size_t i = 0; i < e->n_status; i++)
        if (status >= e->status[i].lo && status <= e->status[i].hi)
            return true;
    return false;
}

bool ys_http_assert_status(const struct ys_http_expect *e, long status, struct ys_result *r)
{
    if (ys_http_status_match(e, status))
        return true;
    ys_result_fail(r, YS_EC_HTTP_STATUS, "status %ld, expected %s", status,
                   e->status_text ? e->status_text : "?");
    return false;
}

/* Fails r with a body-related message, saying when only a prefix was seen. */
static bool fail_body(struct ys_result *r, const struct ys_http_response *resp, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
static bool fail_body(struct ys_result *r, const struct ys_http_response *resp, const char *fmt,
                      ...)
{
    char msg[YS_RESULT_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (resp->truncated)
        ys_result_fail(r, YS_EC_ASSERTION, "%s (body truncated at %zu bytes)", msg, resp->body_len);
    else
        ys_result_fail(r, YS_EC_ASSERTION, "%s", msg);
    return false;
}

/* 1 on a match, 0 on none, a negative PCRE2 code on error. */
static int regex_match(const pcre2_code *re, const char *s, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        return PCRE2_ERROR_NOMEMORY;
    int rc = pcre2_match(re, (PCRE2_SPTR)(s ? s : ""), len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return rc < 0 ? rc : 1;
}

static bool contains(const struct ys_http_response *resp, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    return resp->body && memmem(resp->body, resp->body_len, needle, n) != NULL;
}

bool ys_http_assert_body(const struct ys_http_expect *e, const struct ys_http_response *resp,
                         struct ys_result *r)
{
    for (size_t i = 0; i < e->n_contains; i++)
        if (!contains(resp, e->contains[i]))
            return fail_body(r, resp, "body does not contain \"%s\"", e->contains[i]);
    for (size_t i = 0; i < e->n_not_contains; i++)
        if (contains(resp, e->not_contains[i]))
            return fail_body(r, resp, "body contains \"%s\"", e->not_contains[i]);
    for (size_t i = 0; i < e->n_regex; i++) {
        int m = regex_match(e->regex[i].re, resp->body, resp->body_len);
        if (m == 0)
            return fail_body(r, resp, "body does not match /%s/", e->regex[i].text);
        if (m < 0) {
            PCRE2_UCHAR buf[120];
            pcre2_get_error_message(m, buf, sizeof buf);
            return fail_body(r, resp, "body regex /%s/ failed: %s", e->regex[i].text,
                             (const char *)buf);
        }
    }
    return true;
}

static const json_t *json_walk(const json_t *root, const struct ys_http_json_assert *a)
{
    const json_t *cur = root;
    for (size_t i = 0; cur && i < a->n_segs; i++) {
        if (a->segs[i].key)
            cur = json_is_object(cur) ? json_object_get(cur, a->segs[i].key) : NULL;
        else
            cur = json_is_array(cur) ? json_array_get(cur, a->segs[i].index) : NULL;
    }
    return cur;
}

/* Parses the whole of s as a number; false if s is not one. */
static bool parse_number(const char *s, double *d, long long *ll, bool *is_int)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    *ll = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0) {
        *is_int = true;
        *d = (double)*ll;
        return true;
    }
    *is_int = false;
    *d = strtod(s, &end);
    return *end == '\0';
}

static bool json_equals(const json_t *v, const char *want)
{
    double d;
    long long ll;
    bool is_int;
    switch (json_typeof(v)) {
    case JSON_STRING: return want && strcmp(json_string_value(v), want) == 0;
    case JSON_INTEGER:
        if (!parse_number(want, &d, &ll, &is_int))
            return false;
        return is_int ? ll == json_integer_value(v) : d == (double)json_integer_value(v);
    case JSON_REAL: return parse_number(want, &d, &ll, &is_int) && d == json_real_value(v);
    case JSON_TRUE: return want && strcmp(want, "true") == 0;
    case JSON_FALSE: return want && strcmp(want, "false") == 0;
    case JSON_NULL: return !want || strcmp(want, "null") == 0;
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        bool eq = want && s && strcmp(s, want) == 0;
        free(s);
        return eq;
    }
    }
}

static bool json_fail_equals(struct ys_result *r, const struct ys_http_response *resp,
                             const struct ys_http_json_assert *a, const json_t *v)
{
    char *got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    bool quote = json_is_string(v) || a->expected_quoted;
    if (!a->expected)
        fail_body(r, resp, "json %s = %s, expected null", a->path, got ? got : "?");
    else
        fail_body(r, resp, quote ? "json %s = %s, expected \"%s\"" : "json %s = %s, expected %s",
                  a->path, got ? got : "?", a->expected);
    free(got);
    return false;
}

bool ys_http_assert_json(const struct ys_http_expect *e, const struct ys_http_response *resp,
                         struct ys_result *r)
{
    if (e->n_json == 0)
        return true;
    json_error_t err;
    json_t *root = json_loadb(resp->body ? resp->body : "", resp->body_len, JSON_DECODE_ANY, &err);
    if (!root)
        return fail_body(r, resp, "body is not JSON: %s (line %d, column %d)", err.text, err.line,
                         err.column);
    bool ok = true;
    for (size_t i = 0; ok && i < e->n_json; i++) {
        const struct ys_http_json_assert *a = &e->json[i];
        const json_t *v = json_walk(root, a);
        if (a->op == YS_JSON_ABSENT) {
            if (v)
                ok = fail_body(r, resp, "json %s exists, expected absent", a->path);
        } else if (!v) {
            ok = fail_body(r, resp, "json %s not found", a->path);
        } else if (a->op == YS_JSON_EQUALS && !json_equals(v, a->expected)) {
            ok = json_fail_equals(r, resp, a, v);
        }
    }
    json_decref(root);
    return ok;
}

bool ys_http_assert_headers(const struct ys_http_expect *e, const struct ys_http_response *resp,
                            struct ys_result *r)
{
    for (size_t i = 0; i < e->n_headers; i++) {
        const struct ys_http_header_assert *h = &e->headers[i];
        const char *v = resp->header ? resp->header(resp->header_ctx, h->name) : NULL;
        if (h->op == YS_HDR_ABSENT) {
            if (v) {
                ys_result_fail(r, YS_EC_ASSERTION, "header %s is \"%s\", expected absent", h->name,
                               v);
                return false;
            }
            continue;
        }
        if (!v) {
            ys_result_fail(r, YS_EC_ASSERTION, "header %s is missing", h->name);
            return false;
        }
        if (h->op == YS_HDR_EQUALS && strcmp(v, h->value) != 0) {
            ys_result_fail(r, YS_EC_ASSERTION, "header %s is \"%s\", expected \"%s\"", h->name, v,
                           h->value);
            return false;
        }
        if (h->op == YS_HDR_REGEX && regex_match(h->re, v, strlen(v)) <= 0) {
            ys_result_fail(r, YS_EC_ASSERTION, "header %s is \"%s\", does not match /%s/", h->name,
                           v, h->value);
            return false;
        }
    }
    return true;
}

bool ys_http_assert_time(const struct ys_http_expect *e, int64_t total_us, struct ys_result *r)
{
    if (e->max_response_time_ms < 0 || total_us <= e->max_response_time_ms * 1000)
        return true;
    char limit[32];
    ys_duration_format(e->max_response_time_ms, limit, sizeof limit);
    if (total_us >= 1000000)
        ys_result_fail(r, YS_EC_ASSERTION, "response took %.2fs, more than %s",
                       (double)total_us / 1e6, limit);
    else
        ys_result_fail(r, YS_EC_ASSERTION, "response took %lldms, more than %s",
                       (long long)(total_us / 1000), limit);
    return false;
}

bool ys_http_assert_cert(int64_t min_days, const struct ys_tls_facts *facts, int64_t now_s,
                         struct ys_result *r)
{
    if (min_days < 0 || !facts || facts->leaf_not_after == 0)
        return true;
    int64_t days = ys_tls_days_left(facts, now_s);
    if (days >= min_days)
        return true;
    char date[32];
    struct tm tm;
    time_t t = (time_t)facts->leaf_not_after;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    if (days < 0)
        ys_result_fail(r, YS_EC_ASSERTION, "certificate expired %lld days ago (%s)",
                       (long long)((now_s - facts->leaf_not_after) / 86400), date);
    else
        ys_result_fail(r, YS_EC_ASSERTION, "certificate expires in %lld %s (%s), less than %lld",
                       (long long)days, days == 1 ? "day" : "days", date, (long long)min_days);
    return false;
}

bool ys_http_assert_all(const struct ys_http_expect *e, const struct ys_http_response *resp,
                        int64_t min_days, const struct ys_tls_facts *facts, int64_t now_s,
                        struct ys_result *r)
{
    return ys_http_assert_status(e, resp->status, r) &&
           ys_http_assert_cert(min_days, facts, now_s, r) && ys_http_assert_body(e, resp, r) &&
           ys_http_assert_json(e, resp, r) && ys_http_assert_headers(e, resp, r) &&
           ys_http_assert_time(e, resp->total_us, r);
}
