/*
 * dns_propagation.c - the `dns_propagation` probe kind: ask every server
 * for the same record (and the zone's SOA serial), say whether they agree,
 * which lag, and how long a change took to reach all of them.
 *
 * A probe runs up to three stages, each a batch of concurrent questions
 * through the shared DNS client (dns_client.h, c-ares on the loop):
 *   1. discover_ns only: NS of the zone, asked of the first server;
 *   2. discover_ns only: A and AAAA of each NS name, asked of the first
 *      server; each address joins the servers on discover_port (53);
 *   3. the record and, with a zone, the zone's SOA, of every server.
 * The verdict (agreement, lag, propagation sample, max_lag, expect) is the
 * pure ys_dnsprop_evaluate in dns_propagation_spec.c. The facts list every
 * server asked in stage 3 (configured, then discovered): its response to
 * the record question (dns_facts.h), the zone's serial, "lags": true when
 * behind the newest state, "error" when it failed.
 *
 * ys_dnsprop_evaluate keeps its memory across probes in the check's spec:
 * safe because only the loop thread runs probes and the scheduler never
 * runs two probes of one check at once. A reload builds new specs, so
 * measuring starts afresh.
 *
 * Lifecycle: `pending` counts questions whose callback is still due. One
 * uv_timer_t bounds the probe (check timeout plus a short grace, so the
 * client's own per-question timeout reports first) and also defers a
 * verdict reached inside start. `over` turns true once (finish or cancel);
 * then every live question is cancelled and the timer closed, whose close
 * callback frees the probe. Loop thread only.
 */
#include "probe/probe.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/dns_client.h"
#include "probe/dns_facts.h"
#include "probe/dns_propagation_spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Past the check's timeout, how long the probe waits for the client to
 * report its own per-question timeouts before giving up on them. */
#define GRACE_MS 250

enum q_kind { Q_NS, Q_ADDR, Q_ANSWER, Q_SOA };

struct dp_probe;

struct dp_question {
    struct dp_probe *p;
    struct ys_dns_query *q; /* NULL once its callback ran or it was cancelled */
    enum q_kind kind;
    size_t view; /* Q_ANSWER, Q_SOA: index into views */
};

struct dp_probe {
    struct ys_probe super; /* first: the scheduler sees a struct ys_probe */
    struct ys_dnsprop_spec *spec;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool in_start, over;
    size_t pending;
    struct dp_question **qs; /* every question started, for cancel and free */
    size_t n_qs;
    char **servers; /* owned copies: configured, then discovered */
    size_t n_servers;
    struct ys_dnsprop_view *views; /* one per server in stage 3 */
    json_t **facts;                /* one per server in stage 3: the record's response or NULL */
    bool main_started;
};

extern const struct ys_probe_type ys_probe_dns_propagation;

static void on_answer(enum ys_dns_status st, const struct ys_dns_response *resp,
                      const char *message, void *arg);

/* ---- lifecycle ------------------------------------------------------------ */

static void on_close(uv_handle_t *h)
{
    struct dp_probe *p = h->data;
    for (size_t i = 0; i < p->n_qs; i++)
        free(p->qs[i]);
    free(p->qs);
    for (size_t i = 0; i < p->n_servers; i++) {
        free(p->servers[i]);
        if (p->views)
            free(p->views[i].answers);
        if (p->facts)
            json_decref(p->facts[i]);
    }
    free(p->servers);
    free(p->views);
    free(p->facts);
    free(p);
}

static void teardown(struct dp_probe *p)
{
    for (size_t i = 0; i < p->n_qs; i++) {
        if (p->qs[i]->q) {
            ys_dns_query_cancel(p->qs[i]->q);
            p->qs[i]->q = NULL;
        }
    }
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_close);
}

static void on_deferred(uv_timer_t *t);

static void finish(struct dp_probe *p)
{
    if (p->over)
        return;
    if (p->in_start) {
        uv_timer_start(&p->timer, on_deferred, 0, 0);
        return;
    }
    p->over = true;
    ys_probe_base_finish(&p->super);
    teardown(p);
}

static void on_deferred(uv_timer_t *t)
{
    finish(t->data);
}

/* Every stage-3 server's facts, after the verdict set the views' lags. */
static void put_facts(struct dp_probe *p)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < p->n_servers; i++) {
        const struct ys_dnsprop_view *v = &p->views[i];
        json_t *o = p->facts[i] ? json_incref(p->facts[i]) : json_object();
        if (!p->facts[i])
            json_object_set_new(o, "server", json_string(p->servers[i]));
        if (v->has_serial)
            json_object_set_new(o, "serial", json_integer(v->serial));
        if (v->lags)
            json_object_set_new(o, "lags", json_true());
        if (!v->ok)
            json_object_set_new(o, "error", json_string(ys_errclass_name(v->ec)));
        json_array_append_new(arr, o);
    }
    ys_dns_facts_dump(arr, p->super.result.facts, sizeof p->super.result.facts);
    json_decref(arr);
}

static void verdict(struct dp_probe *p)
{
    ys_dnsprop_evaluate(p->spec, p->views, p->n_servers, p->super.start_mono_us,
                        &p->super.result);
    put_facts(p);
    finish(p);
}

/* ---- questions ---------------------------------------------------------- */

static int64_t remaining_ms(const struct dp_probe *p)
{
    int64_t left = p->super.check->timeout_ms - (ys_mono_us() - p->super.start_mono_us) / 1000;
    return left < 1 ? 1 : left;
}

/* Asks one question; 0, or a negative code when the client refused it (its
 * callback will then never run). */
static int ask(struct dp_probe *p, const char *server, const char *name, int type,
               enum q_kind kind, size_t view)
{
    struct dp_question *dq = ys_xcalloc(1, sizeof *dq);
    dq->p = p;
    dq->kind = kind;
    dq->view = view;
    p->qs = ys_xrealloc(p->qs, (p->n_qs + 1) * sizeof *p->qs);
    p->qs[p->n_qs++] = dq;
    struct ys_dns_question q = {
        .server = server,
        .name = name,
        .type = type,
        .recursion = p->spec->recursion,
        .timeout_ms = remaining_ms(p),
    };
    int rc = ys_dns_query_start(p->loop, &q, on_answer, dq, &dq->q);
    if (rc < 0) {
        dq->q = NULL;
        return rc;
    }
    p->pending++;
    return 0;
}

static void view_fail(struct ys_dnsprop_view *v, enum ys_errclass ec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void view_fail(struct ys_dnsprop_view *v, enum ys_errclass ec, const char *fmt, ...)
{
    if (!v->ok && v->error[0])
        return; /* the first reason stays */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->error, sizeof v->error, fmt, ap);
    va_end(ap);
    v->ok = false;
    v->ec = ec;
}

static void start_main(struct dp_probe *p)
{
    p->main_started = true;
    p->views = ys_xcalloc(p->n_servers, sizeof *p->views);
    p->facts = ys_xcalloc(p->n_servers, sizeof *p->facts);
    for (size_t i = 0; i < p->n_servers; i++) {
        struct ys_dnsprop_view *v = &p->views[i];
        v->server = p->servers[i];
        v->ok = true;
        if (ask(p, p->servers[i], p->spec->query, p->spec->type, Q_ANSWER, i) < 0)
            view_fail(v, YS_EC_INTERNAL, "cannot start the question");
        if (p->spec->zone && ask(p, p->servers[i], p->spec->zone, YS_DNS_SOA, Q_SOA, i) < 0)
            view_fail(v, YS_EC_INTERNAL, "cannot start the question");
    }
    if (p->pending == 0)
        verdict(p);
}

static void add_server(struct dp_probe *p, const char *ip)
{
    char with_port[YS_DNSPROP_SERVER_MAX], norm[YS_DNSPROP_SERVER_MAX];
    snprintf(with_port, sizeof with_port, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip,
             p->spec->discover_port);
    if (ys_dns_server_parse(with_port, norm, sizeof norm) < 0)
        return;
    for (size_t i = 0; i < p->n_servers; i++)
        if (strcmp(p->servers[i], norm) == 0)
            return;
    p->servers = ys_xrealloc(p->servers, (p->n_servers + 1) * sizeof *p->servers);
    p->servers[p->n_servers++] = ys_xstrdup(norm);
}

/* ---- answers ------------------------------------------------------------ */

static const char *rcode_name(int rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED"};
    return rcode >= 0 && rcode < 6 ? names[rcode] : "an unknown rcode";
}

static void status_fail(struct ys_dnsprop_view *v, enum ys_dns_status st, const char *message,
                        int64_t timeout_ms)
{
    char dur[32];
    switch (st) {
    case YS_DNS_TIMEOUT:
        ys_duration_format(timeout_ms, dur, sizeof dur);
        view_fail(v, YS_EC_TIMEOUT, "no answer within %s", dur);
        break;
    case YS_DNS_REFUSED:
        view_fail(v, YS_EC_CONNECT, "unreachable: %s", message ? message : "refused");
        break;
    case YS_DNS_BADRESP:
        view_fail(v, YS_EC_DNS, "malformed response");
        break;
    default: view_fail(v, YS_EC_DNS, "%s", message ? message : "query failed"); break;
    }
}

static void got_view_answer(struct dp_probe *p, const struct dp_question *dq,
                            enum ys_dns_status st, const struct ys_dns_response *resp,
                            const char *message)
{
    struct ys_dnsprop_view *v = &p->views[dq->view];
    if (st != YS_DNS_OK) {
        status_fail(v, st, message, p->super.check->timeout_ms);
        return;
    }
    if (dq->kind == Q_ANSWER) { /* whatever its rcode: the facts show it */
        json_decref(p->facts[dq->view]);
        p->facts[dq->view] = ys_dns_facts_response(p->servers[dq->view], resp, false);
    }
    if (resp->rcode != 0 && !(dq->kind == Q_ANSWER && resp->rcode == 3)) {
        view_fail(v, YS_EC_DNS, "%s for %s %s", rcode_name(resp->rcode),
                  dq->kind == Q_SOA ? p->spec->zone : p->spec->query,
                  dq->kind == Q_SOA ? "SOA" : ys_dns_type_name(p->spec->type));
        return;
    }
    if (dq->kind == Q_SOA) {
        if (!resp->has_soa) {
            view_fail(v, YS_EC_DNS, "no SOA for %s", p->spec->zone);
            return;
        }
        v->has_serial = true;
        v->serial = resp->soa_serial;
        return;
    }
    free(v->answers);
    v->answers = ys_dnsprop_answers_join(resp);
}

static void got_discovery(struct dp_probe *p, const struct dp_question *dq,
                          enum ys_dns_status st, const struct ys_dns_response *resp,
                          const char *message)
{
    if (dq->kind == Q_NS && (st != YS_DNS_OK || resp->rcode != 0 || resp->n == 0)) {
        ys_result_fail(&p->super.result, YS_EC_DNS, "cannot discover the NS of %s at %s: %s",
                       p->spec->zone, p->servers[0],
                       st != YS_DNS_OK ? (message ? message : "no answer")
                       : resp->rcode != 0 ? rcode_name(resp->rcode)
                                          : "no NS records");
        return;
    }
    if (st != YS_DNS_OK || resp->rcode != 0)
        return; /* an NS name without an address is left out */
    for (size_t i = 0; i < resp->n; i++) {
        const struct ys_dns_answer *a = &resp->v[i];
        if (dq->kind == Q_NS && a->type == YS_DNS_NS) {
            ask(p, p->servers[0], a->value, YS_DNS_A, Q_ADDR, 0);
            ask(p, p->servers[0], a->value, YS_DNS_AAAA, Q_ADDR, 0);
        } else if (dq->kind == Q_ADDR && (a->type == YS_DNS_A || a->type == YS_DNS_AAAA)) {
            add_server(p, a->value);
        }
    }
}

static void on_answer(enum ys_dns_status st, const struct ys_dns_response *resp,
                      const char *message, void *arg)
{
    struct dp_question *dq = arg;
    struct dp_probe *p = dq->p;
    dq->q = NULL;
    p->pending--;
    if (p->over)
        return;
    if (dq->kind == Q_ANSWER || dq->kind == Q_SOA)
        got_view_answer(p, dq, st, resp, message);
    else
        got_discovery(p, dq, st, resp, message);
    if (p->pending > 0)
        return;
    if (!p->super.result.ok)
        finish(p);
    else if (!p->main_started)
        start_main(p);
    else
        verdict(p);
}

static void on_timeout(uv_timer_t *t)
{
    struct dp_probe *p = t->data;
    char dur[32];
    ys_duration_format(p->super.check->timeout_ms, dur, sizeof dur);
    for (size_t i = 0; i < p->n_qs; i++) {
        struct dp_question *dq = p->qs[i];
        if (!dq->q)
            continue;
        ys_dns_query_cancel(dq->q);
        dq->q = NULL;
        p->pending--;
        if (p->main_started)
            view_fail(&p->views[dq->view], YS_EC_TIMEOUT, "no answer within %s", dur);
    }
    if (p->main_started) {
        ys_dnsprop_evaluate(p->spec, p->views, p->n_servers, p->super.start_mono_us,
                            &p->super.result);
        put_facts(p);
    } else
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT,
                       "timed out after %s discovering the NS of %s", dur, p->spec->zone);
    finish(p);
}

/* ---- the type ------------------------------------------------------------ */

static int dp_start(struct ys_probe_env *env, const struct ys_check *check, ys_probe_done_cb done,
                    void *arg, struct ys_probe **out)
{
    struct dp_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_dns_propagation, check, done, arg);
    p->spec = check->spec;
    p->loop = env->loop;
    p->in_start = true;
    uv_timer_init(p->loop, &p->timer);
    p->timer.data = p;
    uv_update_time(p->loop);
    uv_timer_start(&p->timer, on_timeout, (uint64_t)(check->timeout_ms + GRACE_MS), 0);
    p->n_servers = p->spec->servers.n;
    p->servers = ys_xcalloc(p->n_servers, sizeof *p->servers);
    for (size_t i = 0; i < p->n_servers; i++)
        p->servers[i] = ys_xstrdup(p->spec->servers.v[i]);
    if (p->spec->discover_ns) {
        if (ask(p, p->servers[0], p->spec->zone, YS_DNS_NS, Q_NS, 0) < 0) {
            ys_result_fail(&p->super.result, YS_EC_INTERNAL, "cannot start the NS question");
            finish(p);
        }
    } else {
        start_main(p);
    }
    p->in_start = false;
    *out = &p->super;
    return 0;
}

static void dp_cancel(struct ys_probe *probe)
{
    struct dp_probe *p = (struct dp_probe *)probe;
    if (p->over)
        return;
    p->over = true;
    p->super.done = NULL;
    teardown(p);
}

const struct ys_probe_type ys_probe_dns_propagation = {
    .name = "dns_propagation",
    .keys = ys_dnsprop_keys,
    .parse = ys_dnsprop_spec_parse,
    .free_spec = ys_dnsprop_spec_free,
    .start = dp_start,
    .cancel = dp_cancel,
};
