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
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/http_assert.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ys_http_keys[] = {
    "url",         "method",     "headers", "body", "follow_redirects", "max_redirects",
    "max_body",    "ip_version", "connect_to", "expect", "tls", NULL,
};

static const char *const expect_keys[] = {
    "status",  "body_contains", "body_not_contains", "body_regex", "json",
    "headers", "max_response_time", NULL,
};
static const char *const json_keys[] = {"path", "equals", "exists", NULL};
static const char *const header_keys[] = {"name", "exists", "equals", "regex", NULL};

#define DEFAULT_MAX_BODY (1024 * 1024)

/* Compiles pattern (JIT where available); NULL after reporting at n. */
static pcre2_code *compile_regex(const struct ys_node *n, const char *what, const char *pattern,
                                 struct ys_diag *d)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off,
                                   NULL);
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
    } else if (ys_cfg_url(urln, "url", schemes, d) < 0 || ys_cfg_string(urln, "url", &s->url, d) < 0) {
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
