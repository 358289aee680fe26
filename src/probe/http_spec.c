/*
 * http_spec.c - parsing an `http` check's fields into struct ys_http_spec.
 *
 * Runs once per config load (on whichever thread loads the config), never
 * per probe: everything the probe would otherwise redo on every run is
 * prepared here (header list, CONNECT_TO lines, status ranges, compiled
 * regexes, split JSON paths). Every problem is reported with its position
 * and parsing goes on, so `yardstick validate` shows them all at once; a
 * spec with any problem is freed and not returned.
 */
#include "probe/http_spec.h"

#include "config/diag.h"
#include "config/read.h"
#include "config/model.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/http_assert.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ys_http_keys[] = {
    "url",           "method",     "headers",    "body",       "follow_redirects",
    "max_redirects", "max_body",   "ip_version", "connect_to", "expect",
    "tls",           "cold_start", NULL,
};

static const char *const expect_keys[] = {
    "status", "body_contains", "body_not_contains", "body_regex",
    "json",   "headers",       "max_response_time", NULL,
};
static const char *const json_keys[] = {"path", "equals", "exists", NULL};
static const char *const header_keys[] = {"name", "exists", "equals", "regex", NULL};
static const char *const cold_keys[] = {"idle", "header", "value", NULL};

#define DEFAULT_MAX_BODY (1024 * 1024)

/* Compiles pattern (JIT where available); NULL after reporting at n. */
static pcre2_code *compile_regex(const struct ys_node *n, const char *what, const char *pattern,
                                 struct ys_diag *d)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        ys_diag_add(d, n->line, n->col, "%s: bad regex '%s': %s at offset %zu", what, pattern,
                    (const char *)msg, (size_t)off);
        return NULL;
    }
    /* JIT is an optimisation only: matching works without it. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

/* ---- request ----------------------------------------------------------- */

static int parse_headers(const struct ys_node *n, struct ys_http_spec *s, struct ys_diag *d)
{
    struct ys_strmap m = {0};
    if (!n)
        return 0;
    if (ys_cfg_strmap(n, "headers", &m, d) < 0)
        return YS_ECONFIG;
    int rc = 0;
    for (size_t i = 0; i < m.n; i++) {
        const char *v = m.values[i];
        if (!is_token(m.keys[i])) {
            ys_diag_add(d, n->pairs[i].line, n->pairs[i].col, "headers: bad header name '%s'",
                        m.keys[i]);
            rc = YS_ECONFIG;
            continue;
        }
        if (strpbrk(v, "\r\n")) {
            ys_diag_add(d, n->pairs[i].value->line, n->pairs[i].value->col,
                        "headers.%s: a header value cannot contain a line break", m.keys[i]);
            rc = YS_ECONFIG;
            continue;
        }
        /* "Name;" is libcurl's way to send a header with an empty value. */
        char *line = *v ? ys_xasprintf("%s: %s", m.keys[i], v) : ys_xasprintf("%s;", m.keys[i]);
        s->headers = curl_slist_append(s->headers, line);
        free(line);
        if (!s->headers)
            abort(); /* curl_slist_append fails only when out of memory */
    }
    ys_strmap_free(&m);
    return rc;
}

static int parse_method(const struct ys_node *n, struct ys_http_spec *s, struct ys_diag *d)
{
    char *m = NULL;
    if (!n)
        return 0;
    if (ys_cfg_string(n, "method", &m, d) < 0)
        return YS_ECONFIG;
    for (char *p = m; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (!is_token(m)) {
        ys_diag_add(d, n->line, n->col, "method: bad HTTP method '%s'", n->scalar);
        free(m);
        return YS_ECONFIG;
    }
    if (strcmp(m, "GET") == 0) {
        free(m);
        return 0;
    }
    s->head = strcmp(m, "HEAD") == 0;
    s->method = m;
    return 0;
}

static int parse_ip_version(const struct ys_node *n, struct ys_http_spec *s, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (n->type == YS_NODE_SCALAR && !n->is_null) {
        if (strcmp(n->scalar, "4") == 0)
            s->ipresolve = CURL_IPRESOLVE_V4;
        else if (strcmp(n->scalar, "6") == 0)
            s->ipresolve = CURL_IPRESOLVE_V6;
        else if (strcasecmp(n->scalar, "any") == 0)
            s->ipresolve = CURL_IPRESOLVE_WHATEVER;
        else
            goto bad;
        return 0;
    }
bad:
    ys_diag_add(d, n->line, n->col, "ip_version must be 4, 6 or any");
    return YS_ECONFIG;
}

static char *bracket_v6(const char *host)
{
    return strchr(host, ':') && host[0] != '[' ? ys_xasprintf("[%s]", host) : ys_xstrdup(host);
}

/* Builds the URL actually requested and the CONNECT_TO line from the URL,
 * tls.server_name and connect_to. server_name replaces the URL's host (so
 * SNI, certificate name and Host header all use it) while the connection
 * still goes to the URL's host, or to connect_to when given. */
static int plan_target(const struct ys_node *urln, const struct ys_node *ctn,
                       struct ys_http_spec *s, struct ys_diag *d)
{
    char *ct_host = NULL, *url_host = NULL, *url_port = NULL;
    int ct_port = 0, rc = 0;
    if (ctn && ys_cfg_hostport(ctn, "connect_to", &ct_host, &ct_port, d) < 0)
        return YS_ECONFIG;
    if (!s->tls.server_name && !ct_host)
        return 0;
    CURLU *u = curl_url();
    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, s->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &url_host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &url_port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        ys_diag_add(d, urln->line, urln->col, "url: cannot be split into host and port");
        rc = YS_ECONFIG;
        goto out;
    }
    char *to = ct_host ? bracket_v6(ct_host) : ys_xstrdup(url_host);
    char *to_port = ct_host ? ys_xasprintf("%d", ct_port) : ys_xstrdup(url_port);
    char *from = s->tls.server_name ? bracket_v6(s->tls.server_name) : ys_xstrdup(url_host);
    char *line = ys_xasprintf("%s:%s:%s:%s", from, url_port, to, to_port);
    s->connect_to = curl_slist_append(NULL, line);
    if (s->tls.server_name && curl_url_set(u, CURLUPART_HOST, from, 0) == CURLUE_OK) {
        char *nu = NULL;
        if (curl_url_get(u, CURLUPART_URL, &nu, 0) == CURLUE_OK) {
            free(s->url);
            s->url = ys_xstrdup(nu);
        }
        curl_free(nu);
    }
    free(line);
    free(from);
    free(to_port);
    free(to);
out:
    curl_free(url_host);
    curl_free(url_port);
    curl_url_cleanup(u);
    free(ct_host);
    return rc;
}

static int parse_request(const struct ys_node *c, struct ys_http_spec *s, struct ys_diag *d)
{
    static const char *const schemes[] = {"http", "https", NULL};
    int rc = 0;
    const struct ys_node *urln = ys_node_get(c, "url");
    if (!urln) {
        ys_cfg_missing(c, "url", "an http check", d);
        rc = YS_ECONFIG;
    } else if (ys_cfg_url(urln, "url", schemes, d) < 0 ||
               ys_cfg_string(urln, "url", &s->url, d) < 0) {
        rc = YS_ECONFIG;
    } else {
        s->https = strncasecmp(s->url, "https:", 6) == 0;
    }
    if (parse_method(ys_node_get(c, "method"), s, d) < 0)
        rc = YS_ECONFIG;
    if (parse_headers(ys_node_get(c, "headers"), s, d) < 0)
        rc = YS_ECONFIG;
    const struct ys_node *n;
    if ((n = ys_node_get(c, "body"))) {
        if (ys_cfg_string(n, "body", &s->body, d) < 0)
            rc = YS_ECONFIG;
        else
            s->body_len = strlen(s->body);
    }
    if (ys_cfg_bool(ys_node_get(c, "follow_redirects"), "follow_redirects", &s->follow_redirects,
                    d) < 0)
        rc = YS_ECONFIG;
    int64_t v = s->max_redirects;
    if (ys_cfg_int(ys_node_get(c, "max_redirects"), "max_redirects", 0, 100, &v, d) < 0)
        rc = YS_ECONFIG;
    s->max_redirects = (long)v;
    if ((n = ys_node_get(c, "max_body")) && ys_cfg_size(n, "max_body", &s->max_body, d) < 0)
        rc = YS_ECONFIG;
    if (parse_ip_version(ys_node_get(c, "ip_version"), s, d) < 0)
        rc = YS_ECONFIG;
    if (ys_tls_spec_parse(ys_node_get(c, "tls"), &s->tls, d) < 0)
        rc = YS_ECONFIG;
    if (s->url && plan_target(urln, ys_node_get(c, "connect_to"), s, d) < 0)
        rc = YS_ECONFIG;
    return rc;
}

/* ---- expect ------------------------------------------------------------ */

static void add_status(struct ys_http_expect *e, struct ys_http_status_range r, const char *text)
{
    e->status = ys_xrealloc(e->status, (e->n_status + 1) * sizeof *e->status);
    e->status[e->n_status++] = r;
    char *t = e->status_text ? ys_xasprintf("%s, %s", e->status_text, text) : ys_xstrdup(text);
    free(e->status_text);
    e->status_text = t;
}

static int parse_status(const struct ys_node *n, struct ys_http_expect *e, struct ys_diag *d)
{
    size_t cnt = n->type == YS_NODE_SEQ ? n->n : 1;
    int rc = 0;
    if (n->type == YS_NODE_MAP || cnt == 0) {
        ys_diag_add(d, n->line, n->col,
                    "expect.status must be a status pattern or a list of them (200, 2xx, "
                    "200-299)");
        return YS_ECONFIG;
    }
    for (size_t i = 0; i < cnt; i++) {
        const struct ys_node *it = n->type == YS_NODE_SEQ ? n->items[i] : n;
        struct ys_http_status_range r;
        if (it->type != YS_NODE_SCALAR || it->is_null ||
            ys_http_status_pattern_parse(it->scalar, &r) < 0) {
            ys_diag_add(d, it->line, it->col,
                        "expect.status: bad status pattern '%s' (use 200, 2xx or 200-299)",
                        it->type == YS_NODE_SCALAR && it->scalar ? it->scalar : "");
            rc = YS_ECONFIG;
            continue;
        }
        add_status(e, r, it->scalar);
    }
    return rc;
}

static int parse_regexes(const struct ys_node *n, struct ys_http_expect *e, struct ys_diag *d)
{
    struct ys_strlist l = {0};
    if (ys_cfg_strlist(n, "expect.body_regex", &l, d) < 0)
        return YS_ECONFIG;
    int rc = 0;
    e->regex = ys_xcalloc(l.n ? l.n : 1, sizeof *e->regex);
    for (size_t i = 0; i < l.n; i++) {
        const struct ys_node *it = n->type == YS_NODE_SEQ ? n->items[i] : n;
        pcre2_code *re = compile_regex(it, "expect.body_regex", l.v[i], d);
        if (!re) {
            rc = YS_ECONFIG;
            continue;
        }
        e->regex[e->n_regex].text = ys_xstrdup(l.v[i]);
        e->regex[e->n_regex++].re = re;
    }
    ys_strlist_free(&l);
    return rc;
}

static void take_strlist(struct ys_strlist *l, char ***v, size_t *n)
{
    *v = l->v;
    *n = l->n;
    l->v = NULL;
    l->n = 0;
}

/* Returns the items of a list node (a single map counts as a list of one). */
static const struct ys_node *const *list_items(const struct ys_node *n, size_t *cnt)
{
    if (n->type == YS_NODE_SEQ) {
        *cnt = n->n;
        return (const struct ys_node *const *)n->items;
    }
    *cnt = 1;
    return NULL;
}

static int parse_json_one(const struct ys_node *it, struct ys_http_json_assert *a,
                          struct ys_diag *d)
{
    const char *where = "expect.json";
    int rc = ys_cfg_check_keys(it, json_keys, where, d) > 0 ? YS_ECONFIG : 0;
    const struct ys_node *p = ys_node_get(it, "path");
    const struct ys_node *eq = ys_node_get(it, "equals");
    const struct ys_node *ex = ys_node_get(it, "exists");
    if (!p) {
        ys_cfg_missing(it, "path", where, d);
        return YS_ECONFIG;
    }
    if (ys_cfg_string(p, "expect.json.path", &a->path, d) < 0)
        return YS_ECONFIG;
    size_t off = 0;
    if (ys_http_json_path_parse(a->path, &a->segs, &a->n_segs, &off) < 0) {
        ys_diag_add(d, p->line, p->col,
                    "expect.json.path: bad path '%s' at character %zu (use a.b[0].c)", a->path,
                    off + 1);
        rc = YS_ECONFIG;
    }
    if (eq && ex) {
        ys_diag_add(d, ex->line, ex->col, "expect.json: use either equals or exists, not both");
        return YS_ECONFIG;
    }
    a->op = YS_JSON_EXISTS;
    if (eq) {
        if (eq->type != YS_NODE_SCALAR) {
            ys_diag_add(d, eq->line, eq->col, "expect.json.equals must be a scalar, not %s",
                        ys_node_type_name(eq));
            return YS_ECONFIG;
        }
        a->op = YS_JSON_EQUALS;
        a->expected = eq->is_null ? NULL : ys_xstrdup(eq->scalar);
        a->expected_quoted = eq->quoted;
    } else if (ex) {
        bool want = true;
        if (ys_cfg_bool(ex, "expect.json.exists", &want, d) < 0)
            return YS_ECONFIG;
        a->op = want ? YS_JSON_EXISTS : YS_JSON_ABSENT;
    }
    return rc;
}

static int parse_header_one(const struct ys_node *it, struct ys_http_header_assert *h,
                            struct ys_diag *d)
{
    const char *where = "expect.headers";
    int rc = ys_cfg_check_keys(it, header_keys, where, d) > 0 ? YS_ECONFIG : 0;
    const struct ys_node *nm = ys_node_get(it, "name");
    const struct ys_node *ex = ys_node_get(it, "exists");
    const struct ys_node *eq = ys_node_get(it, "equals");
    const struct ys_node *re = ys_node_get(it, "regex");
    if (!nm) {
        ys_cfg_missing(it, "name", where, d);
        return YS_ECONFIG;
    }
    if (ys_cfg_string(nm, "expect.headers.name", &h->name, d) < 0)
        return YS_ECONFIG;
    if ((ex != NULL) + (eq != NULL) + (re != NULL) > 1) {
        ys_diag_add(d, it->line, it->col, "expect.headers: use one of exists, equals or regex");
        return YS_ECONFIG;
    }
    h->op = YS_HDR_EXISTS;
    if (ex) {
        bool want = true;
        if (ys_cfg_bool(ex, "expect.headers.exists", &want, d) < 0)
            return YS_ECONFIG;
        h->op = want ? YS_HDR_EXISTS : YS_HDR_ABSENT;
    } else if (eq) {
        h->op = YS_HDR_EQUALS;
        if (ys_cfg_string(eq, "expect.headers.equals", &h->value, d) < 0)
            return YS_ECONFIG;
    } else if (re) {
        h->op = YS_HDR_REGEX;
        if (ys_cfg_string(re, "expect.headers.regex", &h->value, d) < 0)
            return YS_ECONFIG;
        if (!(h->re = compile_regex(re, "expect.headers.regex", h->value, d)))
            return YS_ECONFIG;
    }
    return rc;
}

/* Parses a list of maps with one(); *v grows by one entry per item. */
static int parse_list(const struct ys_node *n, const char *what, size_t elem, void **v, size_t *cnt,
                      int (*one)(const struct ys_node *, void *, struct ys_diag *),
                      struct ys_diag *d)
{
    size_t k;
    const struct ys_node *const *items = list_items(n, &k);
    int rc = 0;
    *v = ys_xcalloc(k ? k : 1, elem);
    for (size_t i = 0; i < k; i++) {
        const struct ys_node *it = items ? items[i] : n;
        if (it->type != YS_NODE_MAP) {
            ys_diag_add(d, it->line, it->col, "%s[%zu] must be a mapping, not %s", what, i,
                        ys_node_type_name(it));
            rc = YS_ECONFIG;
            continue;
        }
        /* Counted even on error so free sees whatever was allocated. */
        if (one(it, (char *)*v + (*cnt)++ * elem, d) < 0)
            rc = YS_ECONFIG;
    }
    return rc;
}

static int json_one(const struct ys_node *it, void *a, struct ys_diag *d)
{
    return parse_json_one(it, a, d);
}

static int header_one(const struct ys_node *it, void *h, struct ys_diag *d)
{
    return parse_header_one(it, h, d);
}

static int parse_expect(const struct ys_node *n, struct ys_http_spec *s, struct ys_diag *d)
{
    struct ys_http_expect *e = &s->expect;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "expect must be a mapping, not %s", ys_node_type_name(n));
        return YS_ECONFIG;
    }
    int rc = ys_cfg_check_keys(n, expect_keys, "expect", d) > 0 ? YS_ECONFIG : 0;
    const struct ys_node *v;
    struct ys_strlist l = {0};
    if ((v = ys_node_get(n, "status")) && parse_status(v, e, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_strlist(ys_node_get(n, "body_contains"), "expect.body_contains", &l, d) < 0)
        rc = YS_ECONFIG;
    take_strlist(&l, &e->contains, &e->n_contains);
    if (ys_cfg_strlist(ys_node_get(n, "body_not_contains"), "expect.body_not_contains", &l, d) < 0)
        rc = YS_ECONFIG;
    take_strlist(&l, &e->not_contains, &e->n_not_contains);
    if ((v = ys_node_get(n, "body_regex")) && parse_regexes(v, e, d) < 0)
        rc = YS_ECONFIG;
    if ((v = ys_node_get(n, "json")) && parse_list(v, "expect.json", sizeof *e->json,
                                                   (void **)&e->json, &e->n_json, json_one, d) < 0)
        rc = YS_ECONFIG;
    if ((v = ys_node_get(n, "headers")) &&
        parse_list(v, "expect.headers", sizeof *e->headers, (void **)&e->headers, &e->n_headers,
                   header_one, d) < 0)
        rc = YS_ECONFIG;
    if ((v = ys_node_get(n, "max_response_time")) &&
        ys_cfg_duration(v, "expect.max_response_time", &e->max_response_time_ms, d) < 0)
        rc = YS_ECONFIG;
    return rc;
}

/* ---- cold_start -------------------------------------------------------- */

/* In idle mode each probe must find the service scaled to zero, so the
 * gap between probes has to be at least idle. A probe makes two requests,
 * each up to the timeout, so the gap is at least interval - 2 x timeout. */
static int check_idle_interval(const struct ys_node *check, const struct ys_node *idle,
                               const struct ys_check *base, int64_t idle_ms, struct ys_diag *d)
{
    if (!base || base->interval_ms >= idle_ms + 2 * base->timeout_ms)
        return 0;
    const struct ys_node *at = ys_node_get(check, "interval");
    char want[32], iv[32];
    ys_duration_format(idle_ms + 2 * base->timeout_ms, want, sizeof want);
    ys_duration_format(base->interval_ms, iv, sizeof iv);
    if (!at)
        at = idle;
    ys_diag_add(d, at->line, at->col,
                "interval %s is too short for cold_start.idle: probes must be at least idle "
                "plus twice the timeout apart (%s)",
                iv, want);
    return YS_ECONFIG;
}

static int parse_cold(const struct ys_node *check, const struct ys_node *n,
                      const struct ys_check *base, struct ys_http_cold *c, struct ys_diag *d)
{
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "cold_start must be a mapping, not %s",
                    ys_node_type_name(n));
        return YS_ECONFIG;
    }
    int rc = ys_cfg_check_keys(n, cold_keys, "cold_start", d) > 0 ? YS_ECONFIG : 0;
    const struct ys_node *idle = ys_node_get(n, "idle");
    const struct ys_node *hdr = ys_node_get(n, "header");
    const struct ys_node *val = ys_node_get(n, "value");
    if ((idle != NULL) == (hdr != NULL)) {
        ys_diag_add(d, n->line, n->col, "cold_start needs one of idle or header, not %s",
                    idle ? "both" : "neither");
        return YS_ECONFIG;
    }
    if (idle) {
        c->mode = YS_COLD_IDLE;
        if (val) {
            ys_diag_add(d, val->line, val->col, "cold_start.value goes with header, not idle");
            rc = YS_ECONFIG;
        }
        if (ys_cfg_duration(idle, "cold_start.idle", &c->idle_ms, d) < 0)
            return YS_ECONFIG;
        if (check_idle_interval(check, idle, base, c->idle_ms, d) < 0)
            rc = YS_ECONFIG;
        return rc;
    }
    c->mode = YS_COLD_HEADER;
    if (ys_cfg_string(hdr, "cold_start.header", &c->header, d) < 0)
        return YS_ECONFIG;
    if (!is_token(c->header)) {
        ys_diag_add(d, hdr->line, hdr->col, "cold_start.header: bad header name '%s'", c->header);
        rc = YS_ECONFIG;
    }
    if (val && ys_cfg_string(val, "cold_start.value", &c->value, d) < 0)
        rc = YS_ECONFIG;
    if (!c->value)
        c->value = ys_xstrdup("true");
    return rc;
}

/* ---- entry points ------------------------------------------------------ */

int ys_http_spec_parse(const struct ys_node *check, const struct ys_check *base,
                       struct ys_http_spec **out, struct ys_diag *d)
{
    struct ys_http_spec *s = ys_xcalloc(1, sizeof *s);
    s->max_redirects = 10;
    s->max_body = DEFAULT_MAX_BODY;
    s->ipresolve = CURL_IPRESOLVE_WHATEVER;
    s->expect.max_response_time_ms = -1;
    int rc = parse_request(check, s, d);
    const struct ys_node *e = ys_node_get(check, "expect");
    if (e && parse_expect(e, s, d) < 0)
        rc = YS_ECONFIG;
    const struct ys_node *cold = ys_node_get(check, "cold_start");
    if (cold && parse_cold(check, cold, base, &s->cold, d) < 0)
        rc = YS_ECONFIG;
    if (s->expect.n_status == 0) {
        add_status(&s->expect, (struct ys_http_status_range){200, 299}, "2xx");
        if (!s->follow_redirects)
            add_status(&s->expect, (struct ys_http_status_range){300, 399}, "3xx");
    }
    const struct ys_http_expect *x = &s->expect;
    s->need_body = !s->head && (x->n_contains || x->n_not_contains || x->n_regex || x->n_json);
    if (rc < 0) {
        ys_http_spec_free(s);
        *out = NULL;
        return YS_ECONFIG;
    }
    *out = s;
    return 0;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_expect(struct ys_http_expect *e)
{
    free(e->status);
    free(e->status_text);
    free_strv(e->contains, e->n_contains);
    free_strv(e->not_contains, e->n_not_contains);
    for (size_t i = 0; i < e->n_regex; i++) {
        free(e->regex[i].text);
        pcre2_code_free(e->regex[i].re);
    }
    free(e->regex);
    for (size_t i = 0; i < e->n_json; i++) {
        free(e->json[i].path);
        ys_http_json_path_free(e->json[i].segs, e->json[i].n_segs);
        free(e->json[i].expected);
    }
    free(e->json);
    for (size_t i = 0; i < e->n_headers; i++) {
        free(e->headers[i].name);
        free(e->headers[i].value);
        pcre2_code_free(e->headers[i].re);
    }
    free(e->headers);
}

void ys_http_spec_free(struct ys_http_spec *s)
{
    if (!s)
        return;
    free(s->url);
    free(s->method);
    curl_slist_free_all(s->headers);
    curl_slist_free_all(s->connect_to);
    free(s->body);
    ys_tls_spec_free(&s->tls);
    free_expect(&s->expect);
    free(s->cold.header);
    free(s->cold.value);
    free(s);
}
