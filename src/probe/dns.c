/*
 * dns.c - the `dns` probe kind: one question asked of every listed server
 * at once, each response checked against the check's expectations.
 *
 * A probe starts one ys_dns_query per server (dns_client.c) and keeps a
 * slot per server: its verdict (error class and message) and response
 * time. When the last query calls back, the check passes only if every
 * server passed; the message names the first failing server in the order
 * of the config ("1.2.3.4:53: rcode NXDOMAIN, expected NOERROR"). The value
 * is the slowest answering server's response time in milliseconds. The
 * facts hold what each server said (dns_facts.h), built as its answer
 * arrives (the response is only borrowed for the callback) and dumped in
 * config order at the end.
 *
 * Lifecycle: done runs once, from a query callback, or from the timer when
 * no query could start (so never inside start). The probe frees itself
 * when over and its timer has closed; queries are cancelled on cancel.
 * Loop thread only.
 */
#include "probe/probe.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "probe/dns_client.h"
#include "probe/dns_facts.h"
#include "probe/dns_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_slot {
    struct dns_probe *p;
    struct ys_dns_query *q; /* NULL once answered or when it did not start */
    int ec;                 /* enum ys_errclass; YS_EC_NONE when it passed */
    char msg[YS_RESULT_MSG_MAX];
    int64_t rtt_us; /* -1 without a response */
    json_t *facts;  /* the response's facts; NULL without one (owned) */
};

struct dns_probe {
    struct ys_probe super; /* first */
    const struct ys_dns_spec *spec;
    uv_timer_t timer;
    size_t n, pending;
    bool over;
    struct dns_slot *slots;
};

extern const struct ys_probe_type ys_probe_dns;

static void on_close(uv_handle_t *h)
{
    struct dns_probe *p = h->data;
    for (size_t i = 0; i < p->n; i++)
        json_decref(p->slots[i].facts);
    free(p->slots);
    free(p);
}

static void teardown(struct dns_probe *p)
{
    p->over = true;
    for (size_t i = 0; i < p->n; i++) {
        ys_dns_query_cancel(p->slots[i].q);
        p->slots[i].q = NULL;
    }
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_close);
}

/* Every server's facts in config order into r->facts. */
static void put_facts(struct dns_probe *p, struct ys_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const struct dns_slot *s = &p->slots[i];
        if (s->facts)
            json_array_append(arr, s->facts);
        else
            json_array_append_new(
                arr, ys_dns_facts_error(p->spec->servers.v[i], ys_errclass_name((unsigned)s->ec)));
    }
    ys_dns_facts_dump(arr, r->facts, sizeof r->facts);
    json_decref(arr);
}

static void finish(struct dns_probe *p)
{
    struct ys_result *r = &p->super.result;
    put_facts(p, r);
    int64_t slowest = -1;
    for (size_t i = 0; i < p->n; i++) {
        const struct dns_slot *s = &p->slots[i];
        if (s->rtt_us > slowest)
            slowest = s->rtt_us;
        if (s->ec != YS_EC_NONE)
            ys_result_fail(r, s->ec, "%s: %s", p->spec->servers.v[i], s->msg);
    }
    if (slowest >= 0) {
        r->flags |= YS_RF_HAS_VALUE;
        r->value = (double)slowest / 1000.0;
        r->phase_us[YS_PHASE_TTFB] = (int32_t)(slowest > INT32_MAX ? INT32_MAX : slowest);
    }
    p->over = true;
    ys_probe_base_finish(&p->super);
    teardown(p);
}

static void on_answer(enum ys_dns_status st, const struct ys_dns_response *resp,
                      const char *message, void *arg)
{
    struct dns_slot *s = arg;
    struct dns_probe *p = s->p;
    s->q = NULL;
    switch (st) {
    case YS_DNS_OK:
        s->rtt_us = resp->rtt_us;
        ys_debug("dns", "check '%s': %s answered %s %s: rcode %d, %zu answers in %lldus%s",
                 p->super.check->name, p->spec->servers.v[s - p->slots], p->spec->query,
                 ys_dns_type_name(p->spec->type), resp->rcode, resp->n, (long long)resp->rtt_us,
                 resp->used_tcp ? " over TCP (UDP answer truncated)" : "");
        s->ec = ys_dns_expect_eval(&p->spec->expect, p->spec->type, resp, s->msg, sizeof s->msg);
        s->facts = ys_dns_facts_response(p->spec->servers.v[s - p->slots], resp,
                                         p->spec->type == YS_DNS_SOA ||
                                             p->spec->expect.has_soa_serial_min);
        break;
    case YS_DNS_TIMEOUT: s->ec = YS_EC_TIMEOUT; break;
    case YS_DNS_REFUSED: s->ec = YS_EC_CONNECT; break;
    case YS_DNS_BADRESP: s->ec = YS_EC_DNS; break;
    case YS_DNS_ERROR: s->ec = YS_EC_DNS; break;
    }
    if (st != YS_DNS_OK)
        snprintf(s->msg, sizeof s->msg, "%s", message);
    if (--p->pending == 0)
        finish(p);
}

static void on_nothing_started(uv_timer_t *t)
{
    finish(t->data);
}

static int dns_start(struct ys_probe_env *env, const struct ys_check *check, ys_probe_done_cb done,
                     void *arg, struct ys_probe **out)
{
    struct dns_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_dns, check, done, arg);
    p->spec = check->spec;
    p->n = p->spec->servers.n;
    p->slots = ys_xcalloc(p->n, sizeof *p->slots);
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    for (size_t i = 0; i < p->n; i++) {
        struct dns_slot *s = &p->slots[i];
        s->p = p;
        s->rtt_us = -1;
        struct ys_dns_question q = {
            .server = p->spec->servers.v[i],
            .name = p->spec->query,
            .type = p->spec->type,
            .recursion = p->spec->recursion,
            .timeout_ms = check->timeout_ms,
        };
        int rc = ys_dns_query_start(env->loop, &q, on_answer, s, &s->q);
        if (rc < 0) {
            s->ec = YS_EC_INTERNAL;
            snprintf(s->msg, sizeof s->msg, "cannot start the query: %s", ys_strerror(rc));
            continue;
        }
        p->pending++;
    }
    if (p->pending == 0)
        uv_timer_start(&p->timer, on_nothing_started, 0, 0);
    *out = &p->super;
    return 0;
}

static void dns_cancel(struct ys_probe *probe)
{
    struct dns_probe *p = (struct dns_probe *)probe;
    if (p->over)
        return;
    p->super.done = NULL;
    teardown(p);
}

const struct ys_probe_type ys_probe_dns = {
    .name = "dns",
    .keys = ys_dns_keys,
    .parse = ys_dns_spec_parse,
    .free_spec = ys_dns_spec_free,
    .start = dns_start,
    .cancel = dns_cancel,
};
