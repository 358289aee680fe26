/*
 * dns_propagation_spec.c - parsing of a dns_propagation check, and the
 * verdict over one probe's answers (see dns_propagation_spec.h).
 *
 * A server's state in a probe is its canonical answer set plus, when a zone
 * is given, the zone's SOA serial; its fingerprint is a hash of both. The
 * "newest" state among the servers is the one holding the expected value
 * (when expect is set), else the one with the higher serial (RFC 1982
 * arithmetic), else the one first seen most recently. Servers on another
 * state lag.
 *
 * Propagation: the track remembers when each state was first returned by
 * any server (the start of that probe). When a probe finds every server on
 * a state other than the one they last agreed on, the time since that first
 * sighting is a propagation sample. Both ends are probe starts, so a sample
 * is exact to within one interval either way. The state everyone agrees on
 * at the first probe is the baseline and yields no sample, nor does a
 * disagreement already under way when the check started.
 *
 * Parsing runs on whichever thread loads a config; ys_dnsprop_evaluate on
 * the loop thread only, since it mutates the spec's track.
 */
#include "probe/dns_propagation_spec.h"

#include "config/diag.h"
#include "config/model.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/xalloc.h"
#include "probe/dns_client.h"
#include "probe/dns_spec.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ys_dnsprop_keys[] = {
    "query",  "type",    "servers",   "zone", "discover_ns", "discover_port",
    "expect", "max_lag", "recursion", NULL,
};

/* ---- servers and values ------------------------------------------------ */

bool ys_dnsprop_value_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 1 && a[la - 1] == '.')
        la--;
    if (lb > 1 && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *ys_dnsprop_answers_join(const struct ys_dns_response *r)
{
    if (r->rcode == 3)
        return ys_xstrdup("NXDOMAIN");
    if (r->n == 0)
        return ys_xstrdup("");
    const char **v = ys_xcalloc(r->n, sizeof *v);
    size_t len = 1;
    for (size_t i = 0; i < r->n; i++) {
        v[i] = r->v[i].value;
        len += strlen(v[i]) + 2;
    }
    qsort(v, r->n, sizeof *v, cmp_str);
    char *out = ys_xmalloc(len), *o = out;
    for (size_t i = 0; i < r->n; i++)
        o += snprintf(o, len - (size_t)(o - out), "%s%s", i ? ", " : "", v[i]);
    free(v);
    return out;
}

bool ys_dnsprop_answers_have(const char *answers, const char *value)
{
    if (strcmp(answers, "NXDOMAIN") == 0 || !*answers)
        return false;
    /* Split on the ", " the join put between values; a value holding ", "
     * itself (a TXT string) matches only as a whole set. */
    char *copy = ys_xstrdup(answers);
    bool found = ys_dnsprop_value_eq(copy, value);
    for (char *at = copy; !found && at;) {
        char *sep = strstr(at, ", ");
        if (sep)
            *sep = '\0';
        found = ys_dnsprop_value_eq(at, value);
        at = sep ? sep + 2 : NULL;
    }
    free(copy);
    return found;
}

/* ---- parsing ------------------------------------------------------------ */

/* Fields past the required ones; each reports its own problem. */
static int parse_optional(const struct ys_node *check, struct ys_dnsprop_spec *s,
                          struct ys_diag *d)
{
    int rc = 0;
    if (ys_dns_parse_type(ys_node_get(check, "type"), &s->type, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_string(ys_node_get(check, "zone"), "zone", &s->zone, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_string(ys_node_get(check, "expect"), "expect", &s->expect, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_bool(ys_node_get(check, "discover_ns"), "discover_ns", &s->discover_ns, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_bool(ys_node_get(check, "recursion"), "recursion", &s->recursion, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_duration(ys_node_get(check, "max_lag"), "max_lag", &s->max_lag_ms, d) < 0)
        rc = YS_ECONFIG;
    const struct ys_node *dn = ys_node_get(check, "discover_ns");
    if (s->discover_ns && !s->zone) {
        ys_diag_add(d, dn->line, dn->col, "discover_ns needs a zone to ask NS for");
        rc = YS_ECONFIG;
    }
    /* Authoritative servers answer on 53; another port is for tests and
     * for private setups where every server of the zone listens on it. */
    const struct ys_node *dp = ys_node_get(check, "discover_port");
    int64_t port = 53;
    if (ys_cfg_int(dp, "discover_port", 1, 65535, &port, d) < 0)
        rc = YS_ECONFIG;
    s->discover_port = (int)port;
    if (dp && !s->discover_ns) {
        ys_diag_add(d, dp->line, dp->col, "discover_port needs discover_ns: true");
        rc = YS_ECONFIG;
    }
    return rc;
}

int ys_dnsprop_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                          struct ys_diag *d)
{
    *spec = NULL;
    struct ys_dnsprop_spec *s = ys_xcalloc(1, sizeof *s);
    s->type = YS_DNS_A;
    int rc = 0;
    char *where = base && base->name ? ys_xasprintf("check '%s'", base->name)
                                     : ys_xstrdup("dns_propagation check");
    const struct ys_node *q = ys_node_get(check, "query");
    if (!q) {
        ys_cfg_missing(check, "query", where, d);
        rc = YS_ECONFIG;
    } else if (ys_cfg_string(q, "query", &s->query, d) < 0) {
        rc = YS_ECONFIG;
    }
    if (ys_dns_parse_servers(check, where, &s->servers, d) < 0)
        rc = YS_ECONFIG;
    if (parse_optional(check, s, d) < 0)
        rc = YS_ECONFIG;
    free(where);
    if (rc < 0) {
        ys_dnsprop_spec_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

void ys_dnsprop_spec_free(void *spec)
{
    struct ys_dnsprop_spec *s = spec;
    if (!s)
        return;
    free(s->query);
    ys_strlist_free(&s->servers);
    free(s->zone);
    free(s->expect);
    free(s);
}

/* ---- the verdict -------------------------------------------------------- */

static uint64_t view_fp(const struct ys_dnsprop_view *v)
{
    uint64_t h = ys_hash_str(YS_HASH_INIT, v->answers);
    unsigned char tag = v->has_serial;
    h = ys_hash_bytes(h, &tag, 1);
    return v->has_serial ? ys_hash_bytes(h, &v->serial, sizeof v->serial) : h;
}

static int64_t *seen_slot(struct ys_dnsprop_track *t, uint64_t fp)
{
    for (size_t i = 0; i < t->n_seen; i++)
        if (t->seen[i].fp == fp)
            return &t->seen[i].first_us;
    return NULL;
}

/* Remembers fp as first seen at now_us, forgetting the oldest state when
 * the table is full (never the one everyone last agreed on). */
static void seen_add(struct ys_dnsprop_track *t, uint64_t fp, int64_t now_us)
{
    if (seen_slot(t, fp))
        return;
    size_t at = t->n_seen;
    if (at == YS_DNSPROP_SEEN_MAX) {
        at = SIZE_MAX;
        for (size_t i = 0; i < t->n_seen; i++) {
            if (t->has_converged && t->seen[i].fp == t->converged_fp)
                continue;
            if (at == SIZE_MAX || t->seen[i].first_us < t->seen[at].first_us)
                at = i;
        }
    } else {
        t->n_seen++;
    }
    t->seen[at].fp = fp;
    t->seen[at].first_us = now_us;
}

/* Whether a is a newer state than b (see the file comment). */
static bool newer(const struct ys_dnsprop_spec *s, const struct ys_dnsprop_view *a,
                  const struct ys_dnsprop_view *b)
{
    if (s->expect) {
        bool ea = ys_dnsprop_answers_have(a->answers, s->expect);
        bool eb = ys_dnsprop_answers_have(b->answers, s->expect);
        if (ea != eb)
            return ea;
    }
    if (a->has_serial && b->has_serial && a->serial != b->serial)
        return (int32_t)(a->serial - b->serial) > 0;
    int64_t *fa = seen_slot((struct ys_dnsprop_track *)&s->track, view_fp(a));
    int64_t *fb = seen_slot((struct ys_dnsprop_track *)&s->track, view_fp(b));
    return fa && fb && *fa > *fb;
}

/* Appends a printf-formatted piece to buf (capped; a cut is fine). */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len >= size - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n >= size ? size - 1 : *len + (size_t)n;
}

static void describe_state(char *buf, size_t size, size_t *len, const struct ys_dnsprop_view *v)
{
    if (v->has_serial)
        put(buf, size, len, "serial %u, ", v->serial);
    put(buf, size, len, "answers [%s]", v->answers);
}

static void lag_message(const struct ys_dnsprop_view *v, size_t n, const struct ys_dnsprop_view *nw,
                        size_t n_agree, char *buf, size_t size)
{
    size_t len = 0;
    uint64_t fp = view_fp(nw);
    put(buf, size, &len, "%zu/%zu servers agree", n_agree, n);
    for (size_t i = 0; i < n; i++) {
        if (view_fp(&v[i]) == fp)
            continue;
        put(buf, size, &len, "; %s lags: ", v[i].server);
        /* With expect deciding, the lagging server may hold the higher serial. */
        if (v[i].has_serial && nw->has_serial && (int32_t)(v[i].serial - nw->serial) < 0)
            put(buf, size, &len, "serial %u < %u, ", v[i].serial, nw->serial);
        else if (v[i].has_serial && nw->has_serial && v[i].serial != nw->serial)
            put(buf, size, &len, "serial %u, ", v[i].serial);
        put(buf, size, &len, "answers [%s]", v[i].answers);
    }
    put(buf, size, &len, "; newest: ");
    describe_state(buf, size, &len, nw);
}

static void on_agree(struct ys_dnsprop_spec *s, const struct ys_dnsprop_view *nw, size_t n,
                     int64_t now_us, struct ys_result *r)
{
    struct ys_dnsprop_track *t = &s->track;
    uint64_t fp = view_fp(nw);
    char state[200];
    size_t len = 0;
    describe_state(state, sizeof state, &len, nw);
    int64_t *first = seen_slot(t, fp);
    if (t->has_converged && t->converged_fp != fp && first) {
        r->flags |= YS_RF_HAS_VALUE;
        r->value = (double)(now_us - *first) / 1e6;
    }
    t->has_converged = true;
    t->converged_fp = fp;
    t->disagree_since_us = 0;
    if (s->expect && !ys_dnsprop_answers_have(nw->answers, s->expect)) {
        ys_result_fail(r, YS_EC_ASSERTION, "all %zu servers agree on %s, without the expected %s",
                       n, state, s->expect);
        return;
    }
    size_t mlen = 0;
    put(r->message, sizeof r->message, &mlen, "all %zu servers agree: %s", n, state);
    if (r->flags & YS_RF_HAS_VALUE)
        put(r->message, sizeof r->message, &mlen, "; propagated in %.1fs", r->value);
}

void ys_dnsprop_evaluate(struct ys_dnsprop_spec *s, struct ys_dnsprop_view *v, size_t n,
                         int64_t now_us, struct ys_result *r)
{
    struct ys_dnsprop_track *t = &s->track;
    const struct ys_dnsprop_view *nw = NULL, *failed = NULL;
    size_t n_ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].ok) {
            failed = failed ? failed : &v[i];
            continue;
        }
        n_ok++;
        seen_add(t, view_fp(&v[i]), now_us);
    }
    if (failed) {
        ys_result_fail(r, failed->ec, "%s: %s (%zu/%zu servers answered)", failed->server,
                       failed->error, n_ok, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!nw || newer(s, &v[i], nw))
            nw = &v[i];
    if (!nw) {
        ys_result_fail(r, YS_EC_INTERNAL, "no servers to ask");
        return;
    }
    size_t n_agree = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].lags = view_fp(&v[i]) != view_fp(nw);
        n_agree += !v[i].lags;
    }
    if (n_agree == n) {
        on_agree(s, nw, n, now_us, r);
        return;
    }
    if (!t->disagree_since_us)
        t->disagree_since_us = now_us;
    char msg[YS_RESULT_MSG_MAX];
    lag_message(v, n, nw, n_agree, msg, sizeof msg);
    int64_t lag_ms = (now_us - t->disagree_since_us) / 1000;
    if (s->max_lag_ms > 0 && lag_ms > s->max_lag_ms) {
        char a[32], b[32];
        ys_duration_format(lag_ms, a, sizeof a);
        ys_duration_format(s->max_lag_ms, b, sizeof b);
        ys_result_fail(r, YS_EC_ASSERTION, "servers disagree for %s (max_lag %s): %s", a, b, msg);
        return;
    }
    memcpy(r->message, msg, sizeof r->message);
}
