/*
 * dns_spec.c - parsing of dns and dns_records checks (see dns_spec.h), and
 * the assertions a dns check makes on one server's response.
 *
 * Parsing is kept apart from running (dns.c, dns_records.c). Each problem
 * is reported at its own FILE:LINE:COL (a bad server at its list item) and
 * parsing goes on, so `validate` shows them all. Expected values are stored
 * normalised (ys_dns_value_normalize), in the form the parser in
 * dns_parse.c writes answers, so comparing is a string comparison.
 *
 * ys_dns_expect_eval is a pure function of the expectation and a parsed
 * response; error classes: an rcode other than NOERROR where NOERROR was
 * expected, or NOERROR without any record of the asked type, is `dns` (the
 * name did not resolve); every other mismatch is `assertion`.
 *
 * Runs on whichever thread loads a config (parse) or on the loop (eval).
 */
#include "probe/dns_spec.h"

#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "core/xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ys_dns_keys[] = {"query", "type", "servers", "recursion", "expect", NULL};

static const char *const expect_keys[] = {
    "rcode", "answers", "contains", "min_ttl", "max_ttl", "soa_serial_min", "max_response_time",
    NULL,
};

static const char *const rcode_names[] = {"NOERROR", "FORMERR", "SERVFAIL",
                                          "NXDOMAIN", "NOTIMP", "REFUSED"};

int ys_dns_rcode_parse(const char *s, int *rcode)
{
    for (int i = 0; i < (int)(sizeof rcode_names / sizeof rcode_names[0]); i++) {
        if (strcasecmp(s, rcode_names[i]) == 0) {
            *rcode = i;
            return 0;
        }
    }
    return YS_EINVAL;
}

const char *ys_dns_rcode_name(int rcode, char *buf, size_t size)
{
    if (rcode >= 0 && rcode < (int)(sizeof rcode_names / sizeof rcode_names[0]))
        snprintf(buf, size, "%s", rcode_names[rcode]);
    else
        snprintf(buf, size, "RCODE%d", rcode);
    return buf;
}

/* ---- values ------------------------------------------------------------ */

static int normalize_addr(int af, const char *in, char *out, size_t size)
{
    unsigned char a[16];
    if (inet_pton(af, in, a) != 1 || size < INET6_ADDRSTRLEN)
        return YS_EINVAL;
    inet_ntop(af, a, out, (socklen_t)size);
    return 0;
}

int ys_dns_value_normalize(int type, const char *in, char *out, size_t size)
{
    size_t len = strlen(in);
    if (len == 0)
        return YS_EINVAL;
    switch (type) {
    case YS_DNS_A: return normalize_addr(AF_INET, in, out, size);
    case YS_DNS_AAAA: return normalize_addr(AF_INET6, in, out, size);
    case YS_DNS_TXT: {
        if (in[0] == '"') {
            int n = snprintf(out, size, "%s", in);
            return n < 0 || (size_t)n >= size ? YS_EINVAL : 0;
        }
        /* Unquoted text is one string: quote it as the parser would. */
        size_t o = 0;
        out[o++] = '"';
        for (size_t i = 0; i < len; i++) {
            if (o + 4 >= size)
                return YS_EINVAL;
            if (in[i] == '"' || in[i] == '\\')
                out[o++] = '\\';
            out[o++] = in[i];
        }
        out[o++] = '"';
        out[o] = '\0';
        return 0;
    }
    case YS_DNS_CNAME:
    case YS_DNS_NS:
    case YS_DNS_MX:
    case YS_DNS_SRV: {
        /* The last field is a name: make it fully qualified. */
        int n = snprintf(out, size, "%s%s", in, in[len - 1] == '.' ? "" : ".");
        return n < 0 || (size_t)n >= size ? YS_EINVAL : 0;
    }
    default: {
        int n = snprintf(out, size, "%s", in);
        return n < 0 || (size_t)n >= size ? YS_EINVAL : 0;
    }
    }
}

bool ys_dns_value_equal(int type, const char *a, const char *b)
{
    if (type == YS_DNS_TXT || type == YS_DNS_CAA)
        return strcmp(a, b) == 0;
    return strcasecmp(a, b) == 0;
}

/* ---- parsing the dns kind ------------------------------------------------ */

/* A list of values of type, normalised, each reported at its own item. */
static int parse_values(const struct ys_node *n, const char *what, int type,
                        struct ys_strlist *out, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (ys_cfg_strlist(n, what, out, d) < 0)
        return YS_ECONFIG;
    int rc = 0;
    for (size_t i = 0; i < out->n; i++) {
        char norm[512];
        const struct ys_node *at = n->type == YS_NODE_SEQ ? n->items[i] : n;
        if (ys_dns_value_normalize(type, out->v[i], norm, sizeof norm) < 0) {
            ys_diag_add(d, at->line, at->col, "%s: '%s' is not a valid %s value", what,
                        out->v[i], ys_dns_type_name(type));
            rc = YS_ECONFIG;
            continue;
        }
        free(out->v[i]);
        out->v[i] = ys_xstrdup(norm);
    }
    return rc;
}

int ys_dns_parse_servers(const struct ys_node *check, const char *where, struct ys_strlist *out,
                         struct ys_diag *d)
{
    const struct ys_node *n = ys_node_get(check, "servers");
    if (!n) {
        ys_cfg_missing(check, "servers", where, d);
        return YS_ECONFIG;
    }
    if (ys_cfg_strlist(n, "servers", out, d) < 0)
        return YS_ECONFIG;
    if (out->n == 0) {
        ys_diag_add(d, n->line, n->col, "servers must name at least one server");
        return YS_ECONFIG;
    }
    int rc = 0;
    for (size_t i = 0; i < out->n; i++) {
        char canon[64];
        const struct ys_node *at = n->type == YS_NODE_SEQ ? n->items[i] : n;
        if (ys_dns_server_parse(out->v[i], canon, sizeof canon) < 0) {
            ys_diag_add(d, at->line, at->col,
                        "server '%s' must be an IP address with an optional port "
                        "(1.2.3.4, 1.2.3.4:53 or [2001:db8::1]:53)",
                        out->v[i]);
            rc = YS_ECONFIG;
            continue;
        }
        free(out->v[i]);
        out->v[i] = ys_xstrdup(canon);
    }
    return rc;
}

int ys_dns_parse_type(const struct ys_node *n, int *type, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (n->type != YS_NODE_SCALAR || n->is_null || ys_dns_type_parse(n->scalar, type) < 0) {
        ys_diag_add(d, n->line, n->col,
                    "type must be one of A, AAAA, CNAME, TXT, MX, NS, SOA, CAA, SRV");
        return YS_ECONFIG;
    }
    return 0;
}

static int parse_rcode(const struct ys_node *n, int *rcode, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (n->type != YS_NODE_SCALAR || n->is_null || ys_dns_rcode_parse(n->scalar, rcode) < 0) {
        ys_diag_add(d, n->line, n->col, "rcode must be NOERROR, NXDOMAIN, SERVFAIL or REFUSED");
        return YS_ECONFIG;
    }
    return 0;
}

static int parse_expect_map(const struct ys_node *n, int type, struct ys_dns_expect *e,
                            struct ys_diag *d)
{
    int rc = 0;
    if (ys_cfg_check_keys(n, expect_keys, "expect", d) > 0)
        rc = YS_ECONFIG;
    if (parse_rcode(ys_node_get(n, "rcode"), &e->rcode, d) < 0)
        rc = YS_ECONFIG;
    const struct ys_node *ans = ys_node_get(n, "answers");
    if (ans) {
        e->has_answers = true;
        if (parse_values(ans, "answers", type, &e->answers, d) < 0)
            rc = YS_ECONFIG;
    }
    if (parse_values(ys_node_get(n, "contains"), "contains", type, &e->contains, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_int(ys_node_get(n, "min_ttl"), "min_ttl", 0, INT32_MAX, &e->min_ttl, d) < 0 ||
        ys_cfg_int(ys_node_get(n, "max_ttl"), "max_ttl", 0, INT32_MAX, &e->max_ttl, d) < 0)
        rc = YS_ECONFIG;
    int64_t serial = -1;
    if (ys_cfg_int(ys_node_get(n, "soa_serial_min"), "soa_serial_min", 0, UINT32_MAX, &serial,
                   d) < 0)
        rc = YS_ECONFIG;
    if (serial >= 0) {
        e->has_soa_serial_min = true;
        e->soa_serial_min = (uint32_t)serial;
    }
    if (ys_cfg_duration(ys_node_get(n, "max_response_time"), "max_response_time",
                        &e->max_response_ms, d) < 0)
        rc = YS_ECONFIG;
    if (e->min_ttl >= 0 && e->max_ttl >= 0 && e->min_ttl > e->max_ttl) {
        const struct ys_node_pair *p = ys_node_pair(n, "max_ttl");
        ys_diag_add(d, p->line, p->col, "max_ttl must not be below min_ttl");
        rc = YS_ECONFIG;
    }
    return rc;
}

static int parse_expect(const struct ys_node *n, int type, struct ys_dns_expect *e,
                        struct ys_diag *d)
{
    if (!n)
        return 0;
    if (n->type == YS_NODE_MAP)
        return parse_expect_map(n, type, e, d);
    e->has_answers = true;
    return parse_values(n, "expect", type, &e->answers, d);
}

static char *where_of(const struct ys_check *base, const char *kind)
{
    return base && base->name ? ys_xasprintf("check '%s'", base->name)
                              : ys_xasprintf("%s check", kind);
}

int ys_dns_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d)
{
    *spec = NULL;
    struct ys_dns_spec *s = ys_xcalloc(1, sizeof *s);
    s->type = YS_DNS_A;
    s->recursion = true;
    s->expect.min_ttl = s->expect.max_ttl = s->expect.max_response_ms = -1;
    char *where = where_of(base, "dns");
    int rc = 0;

    const struct ys_node *q = ys_node_get(check, "query");
    if (!q) {
        ys_cfg_missing(check, "query", where, d);
        rc = YS_ECONFIG;
    } else if (ys_cfg_string(q, "query", &s->query, d) < 0) {
        rc = YS_ECONFIG;
    } else if (!*s->query || strlen(s->query) > 253) {
        ys_diag_add(d, q->line, q->col, "query must be a domain name of 1 to 253 characters");
        rc = YS_ECONFIG;
    }
    if (ys_dns_parse_type(ys_node_get(check, "type"), &s->type, d) < 0)
        rc = YS_ECONFIG;
    if (ys_dns_parse_servers(check, where, &s->servers, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_bool(ys_node_get(check, "recursion"), "recursion", &s->recursion, d) < 0)
        rc = YS_ECONFIG;
    if (parse_expect(ys_node_get(check, "expect"), s->type, &s->expect, d) < 0)
        rc = YS_ECONFIG;
    free(where);
    if (rc < 0) {
        ys_dns_spec_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

void ys_dns_spec_free(void *spec)
{
    struct ys_dns_spec *s = spec;
    if (!s)
        return;
    free(s->query);
    ys_strlist_free(&s->servers);
    ys_strlist_free(&s->expect.answers);
    ys_strlist_free(&s->expect.contains);
    free(s);
}

/* ---- assertions ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes "[a, b, c]" (sorted, cut with "..." when long) into out. */
static void join(const char **v, size_t n, char *out, size_t size)
{
    qsort(v, n, sizeof *v, cmp_str);
    size_t o = (size_t)snprintf(out, size, "[");
    for (size_t i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? ", " : "", v[i]);
    if (o + 2 >= size && size > 5)
        memcpy(out + size - 5, "...]", 5);
    else
        snprintf(out + o, size - o, "]");
}

static bool in_list(int type, const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ys_dns_value_equal(type, v, list[i]))
            return true;
    return false;
}

/* The answers of qtype only (a CNAME chain leading to them is left out). */
static size_t typed_values(const struct ys_dns_response *r, int qtype, const char **v)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].type == qtype)
            v[n++] = r->v[i].value;
    return n;
}

static int eval_sets(const struct ys_dns_expect *e, int qtype, const char **got, size_t ngot,
                     const struct ys_dns_response *r, char *msg, size_t size)
{
    char a[120], b[100];
    if (e->has_answers) {
        bool same = true;
        for (size_t i = 0; i < ngot && same; i++)
            same = in_list(qtype, got[i], (const char *const *)e->answers.v, e->answers.n);
        for (size_t i = 0; i < e->answers.n && same; i++)
            same = in_list(qtype, e->answers.v[i], got, ngot);
        if (!same) {
            const char **want = ys_xcalloc(e->answers.n + 1, sizeof *want);
            memcpy(want, e->answers.v, e->answers.n * sizeof *want);
            join(got, ngot, a, sizeof a);
            join(want, e->answers.n, b, sizeof b);
            free(want);
            snprintf(msg, size, "answers %s differ from expected %s", a, b);
            return YS_EC_ASSERTION;
        }
    }
    for (size_t i = 0; i < e->contains.n; i++) {
        bool found = false;
        for (size_t j = 0; j < r->n && !found; j++)
            found = ys_dns_value_equal(r->v[j].type, r->v[j].value, e->contains.v[i]);
        if (!found) {
            join(got, ngot, a, sizeof a);
            snprintf(msg, size, "answers %s lack %s", a, e->contains.v[i]);
            return YS_EC_ASSERTION;
        }
    }
    return YS_EC_NONE;
}

static int eval_numbers(const struct ys_dns_expect *e, int qtype,
                        const struct ys_dns_response *r, char *msg, size_t size)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct ys_dns_answer *x = &r->v[i];
        if (x->type != qtype)
            continue;
        if (e->min_ttl >= 0 && x->ttl < e->min_ttl) {
            snprintf(msg, size, "TTL %u of %s is below min_ttl %lld", x->ttl, x->value,
                     (long long)e->min_ttl);
            return YS_EC_ASSERTION;
        }
        if (e->max_ttl >= 0 && x->ttl > e->max_ttl) {
            snprintf(msg, size, "TTL %u of %s is above max_ttl %lld", x->ttl, x->value,
                     (long long)e->max_ttl);
            return YS_EC_ASSERTION;
        }
    }
    if (e->has_soa_serial_min && !r->has_soa) {
        snprintf(msg, size, "no SOA in the response, expected serial >= %u", e->soa_serial_min);
        return YS_EC_ASSERTION;
    }
    if (e->has_soa_serial_min && r->soa_serial < e->soa_serial_min) {
        snprintf(msg, size, "SOA serial %u is below %u", r->soa_serial, e->soa_serial_min);
        return YS_EC_ASSERTION;
    }
    int64_t ms = r->rtt_us / 1000;
    if (e->max_response_ms >= 0 && ms > e->max_response_ms) {
        snprintf(msg, size, "response time %lldms exceeds max_response_time %lldms",
                 (long long)ms, (long long)e->max_response_ms);
        return YS_EC_ASSERTION;
    }
    return YS_EC_NONE;
}

int ys_dns_expect_eval(const struct ys_dns_expect *e, int qtype,
                       const struct ys_dns_response *r, char *msg, size_t size)
{
    msg[0] = '\0';
    if (r->rcode != e->rcode) {
        char got[16], want[16];
        snprintf(msg, size, "rcode %s, expected %s", ys_dns_rcode_name(r->rcode, got, sizeof got),
                 ys_dns_rcode_name(e->rcode, want, sizeof want));
        return e->rcode == 0 ? YS_EC_DNS : YS_EC_ASSERTION;
    }
    const char **got = ys_xcalloc(r->n + 1, sizeof *got);
    size_t ngot = typed_values(r, qtype, got);
    int ec = YS_EC_NONE;
    if (r->rcode == 0 && ngot == 0 && !e->has_answers && e->contains.n == 0) {
        snprintf(msg, size, "no %s records (NOERROR with an empty answer)",
                 ys_dns_type_name(qtype));
        ec = YS_EC_DNS;
    }
    if (ec == YS_EC_NONE)
        ec = eval_sets(e, qtype, got, ngot, r, msg, size);
    if (ec == YS_EC_NONE)
        ec = eval_numbers(e, qtype, r, msg, size);
    free(got);
    return ec;
}
