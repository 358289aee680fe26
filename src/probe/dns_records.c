/*
 * dns_records.c - the `dns_records` probe kind: a list of records that
 * must exist ("every public host CNAMEs to the tunnel"), checked on every
 * listed server; the value is the percentage present and correct.
 *
 * Parsing groups the records by (name, type), so five A values of one name
 * cost one question per server. A probe asks question x server pairs with
 * at most MAX_INFLIGHT queries at once, and judges every record that
 * depends on a response as it arrives: a record is correct when each
 * server answers NOERROR with its value among the answers of its type.
 * Each record keeps only its first failure (class and reason).
 *
 * The result: value = 100 * correct / records; the check fails below
 * min_percent (default 100) with the class of the first wrong record
 * (assertion for missing or different values, timeout, connect, dns); the
 * message names the wrong records, the first few, then "and N more" (also
 * on a passing probe under 100%, so the gap is visible). The facts list
 * the wrong records, {"name","type","value","why"} each, as many as fit
 * (then {"more": true}); none when every record is right.
 *
 * Loop thread only (parsing: whichever thread loads the config).
 */
#include "probe/probe.h"

#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/dns_client.h"
#include "probe/dns_facts.h"
#include "probe/dns_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INFLIGHT 32

const char *const ys_dns_records_keys[] = {"servers", "recursion", "min_percent", "records", NULL};
static const char *const record_keys[] = {"name", "type", "value", NULL};

/* ---- parsing ------------------------------------------------------------ */

static size_t question_of(struct ys_dns_records_spec *s, const char *name, int type)
{
    for (size_t i = 0; i < s->nq; i++)
        if (s->questions[i].type == type && strcasecmp(s->questions[i].name, name) == 0)
            return i;
    s->questions[s->nq] = (struct ys_dns_rq){name, type};
    return s->nq++;
}

static int parse_record(const struct ys_node *n, size_t i, struct ys_dns_record *r,
                        struct ys_diag *d)
{
    char where[48];
    snprintf(where, sizeof where, "records[%zu]", i);
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "%s must be a mapping {name, type, value}", where);
        return YS_ECONFIG;
    }
    int rc = ys_cfg_check_keys(n, record_keys, where, d) > 0 ? YS_ECONFIG : 0;
    const struct ys_node *name = ys_node_get(n, "name"), *type = ys_node_get(n, "type"),
                         *value = ys_node_get(n, "value");
    const char *missing[] = {!name ? "name" : NULL, !type ? "type" : NULL,
                             !value ? "value" : NULL};
    for (int k = 0; k < 3; k++) {
        if (missing[k]) {
            ys_cfg_missing(n, missing[k], where, d);
            rc = YS_ECONFIG;
        }
    }
    if (ys_cfg_string(name, "name", &r->name, d) < 0 || ys_dns_parse_type(type, &r->type, d) < 0)
        return YS_ECONFIG;
    char *raw = NULL;
    if (ys_cfg_string(value, "value", &raw, d) < 0)
        return YS_ECONFIG;
    if (raw) {
        char norm[512];
        if (r->type && ys_dns_value_normalize(r->type, raw, norm, sizeof norm) == 0) {
            r->value = ys_xstrdup(norm);
        } else if (r->type) {
            ys_diag_add(d, value->line, value->col, "'%s' is not a valid %s value", raw,
                        ys_dns_type_name(r->type));
            rc = YS_ECONFIG;
        }
        free(raw);
    }
    return rc;
}

int ys_dns_records_spec_parse(const struct ys_node *check, const struct ys_check *base,
                              void **spec, struct ys_diag *d)
{
    *spec = NULL;
    struct ys_dns_records_spec *s = ys_xcalloc(1, sizeof *s);
    s->recursion = true;
    s->min_percent = 100;
    char *where = base && base->name ? ys_xasprintf("check '%s'", base->name)
                                     : ys_xstrdup("dns_records check");
    int rc = 0;
    if (ys_dns_parse_servers(check, where, &s->servers, d) < 0)
        rc = YS_ECONFIG;
    if (ys_cfg_bool(ys_node_get(check, "recursion"), "recursion", &s->recursion, d) < 0)
        rc = YS_ECONFIG;
    const struct ys_node *mp = ys_node_get(check, "min_percent");
    if (ys_cfg_double(mp, "min_percent", &s->min_percent, d) < 0) {
        rc = YS_ECONFIG;
    } else if (mp && (s->min_percent < 0 || s->min_percent > 100)) {
        ys_diag_add(d, mp->line, mp->col, "min_percent must be between 0 and 100");
        rc = YS_ECONFIG;
    }
    const struct ys_node *recs = ys_node_get(check, "records");
    if (!recs) {
        ys_cfg_missing(check, "records", where, d);
        rc = YS_ECONFIG;
    } else if (recs->type != YS_NODE_SEQ || recs->n == 0) {
        ys_diag_add(d, recs->line, recs->col, "records must be a non-empty list of records");
        rc = YS_ECONFIG;
    } else {
        s->n = recs->n;
        s->v = ys_xcalloc(s->n, sizeof *s->v);
        s->questions = ys_xcalloc(s->n, sizeof *s->questions);
        for (size_t i = 0; i < s->n; i++) {
            if (parse_record(recs->items[i], i, &s->v[i], d) < 0)
                rc = YS_ECONFIG;
            else
                s->v[i].question = question_of(s, s->v[i].name, s->v[i].type);
        }
    }
    free(where);
    if (rc < 0) {
        ys_dns_records_spec_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

void ys_dns_records_spec_free(void *spec)
{
    struct ys_dns_records_spec *s = spec;
    if (!s)
        return;
    ys_strlist_free(&s->servers);
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].value);
    }
    free(s->v);
    free(s->questions);
    free(s);
}

/* ---- running ------------------------------------------------------------- */

struct rec_state {
    int ec; /* YS_EC_NONE while correct everywhere so far */
    char why[96];
};

struct task {
    struct records_probe *p;
    size_t question, server;
    struct ys_dns_query *q;
};

struct records_probe {
    struct ys_probe super; /* first */
    const struct ys_dns_records_spec *spec;
    uv_loop_t *loop;
    uv_timer_t timer;
    int64_t timeout_ms;
    size_t ntasks, next, inflight;
    struct task *tasks;
    struct rec_state *recs;
    bool over;
};

extern const struct ys_probe_type ys_probe_dns_records;

static void rec_fail(struct rec_state *r, int ec, const char *fmt, const char *a, const char *b)
{
    if (r->ec != YS_EC_NONE)
        return;
    r->ec = ec;
    /* A long record value is cut to fit the message; that is fine. */
    if (snprintf(r->why, sizeof r->why, fmt, a, b) >= (int)sizeof r->why)
        r->why[sizeof r->why - 2] = '~';
}

/* Judges every record asked by t's question against the response. */
static void judge(struct records_probe *p, const struct task *t, enum ys_dns_status st,
                  const struct ys_dns_response *resp, const char *message)
{
    const struct ys_dns_records_spec *s = p->spec;
    const char *server = s->servers.v[t->server];
    static const int st_ec[] = {[YS_DNS_TIMEOUT] = YS_EC_TIMEOUT,
                                [YS_DNS_REFUSED] = YS_EC_CONNECT,
                                [YS_DNS_BADRESP] = YS_EC_DNS,
                                [YS_DNS_ERROR] = YS_EC_DNS};
    for (size_t i = 0; i < s->n; i++) {
        const struct ys_dns_record *r = &s->v[i];
        if (r->question != t->question)
            continue;
        if (st != YS_DNS_OK) {
            rec_fail(&p->recs[i], st_ec[st], "%s on %s", message, server);
            continue;
        }
        if (resp->rcode != 0) {
            char rc[16];
            rec_fail(&p->recs[i], YS_EC_ASSERTION, "%s on %s",
                     ys_dns_rcode_name(resp->rcode, rc, sizeof rc), server);
            continue;
        }
        bool found = false;
        const char *other = NULL;
        for (size_t k = 0; k < resp->n && !found; k++) {
            if (resp->v[k].type != r->type)
                continue;
            found = ys_dns_value_equal(r->type, resp->v[k].value, r->value);
            other = resp->v[k].value;
        }
        if (!found && other)
            rec_fail(&p->recs[i], YS_EC_ASSERTION, "%s instead on %s", other, server);
        else if (!found)
            rec_fail(&p->recs[i], YS_EC_ASSERTION, "missing on %s%s", server, "");
    }
}

static void on_close(uv_handle_t *h)
{
    struct records_probe *p = h->data;
    free(p->tasks);
    free(p->recs);
    free(p);
}

static void teardown(struct records_probe *p)
{
    p->over = true;
    for (size_t i = 0; i < p->ntasks; i++) {
        ys_dns_query_cancel(p->tasks[i].q);
        p->tasks[i].q = NULL;
    }
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_close);
}

/* The wrong records into r->facts, in the order of the config. */
static void put_facts(const struct records_probe *p, struct ys_result *r)
{
    const struct ys_dns_records_spec *s = p->spec;
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++) {
        if (p->recs[i].ec == YS_EC_NONE)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(s->v[i].name));
        json_object_set_new(o, "type", json_string(ys_dns_type_name(s->v[i].type)));
        json_object_set_new(o, "value", json_string(s->v[i].value));
        json_object_set_new(o, "why", json_string(p->recs[i].why));
        json_array_append_new(arr, o);
    }
    if (json_array_size(arr) > 0)
        ys_dns_facts_dump(arr, r->facts, sizeof r->facts);
    json_decref(arr);
}

static void finish(struct records_probe *p)
{
    const struct ys_dns_records_spec *s = p->spec;
    struct ys_result *r = &p->super.result;
    size_t good = 0, bad = 0, shown = 0, o = 0;
    int first_ec = YS_EC_NONE;
    char msg[YS_RESULT_MSG_MAX];
    for (size_t i = 0; i < s->n; i++)
        good += p->recs[i].ec == YS_EC_NONE;
    double pct = 100.0 * (double)good / (double)s->n;
    o = (size_t)snprintf(msg, sizeof msg, "%zu of %zu records wrong (%.4g%% correct)",
                         s->n - good, s->n, pct);
    for (size_t i = 0; i < s->n; i++) {
        const struct rec_state *st = &p->recs[i];
        if (st->ec == YS_EC_NONE)
            continue;
        if (first_ec == YS_EC_NONE)
            first_ec = st->ec;
        bad++;
        char one[200];
        int n = snprintf(one, sizeof one, "%s %s %s %s: %s", shown ? ";" : ":", s->v[i].name,
                         ys_dns_type_name(s->v[i].type), s->v[i].value, st->why);
        if (n > 0 && o + (size_t)n + 16 < sizeof msg) {
            o += (size_t)snprintf(msg + o, sizeof msg - o, "%s", one);
            shown++;
        }
    }
    if (bad > shown)
        snprintf(msg + o, sizeof msg - o, "%s and %zu more", shown ? ";" : ":", bad - shown);
    r->flags |= YS_RF_HAS_VALUE;
    r->value = pct;
    if (pct < s->min_percent)
        ys_result_fail(r, first_ec, "%s", msg);
    else if (bad > 0)
        snprintf(r->message, sizeof r->message, "%s", msg);
    put_facts(p, r);
    p->over = true;
    ys_probe_base_finish(&p->super);
    teardown(p);
}

static void on_answer(enum ys_dns_status st, const struct ys_dns_response *resp,
                      const char *message, void *arg);

/* Starts queries until MAX_INFLIGHT run or none are left; a question that
 * cannot start is judged at once. */
static void pump(struct records_probe *p)
{
    while (p->inflight < MAX_INFLIGHT && p->next < p->ntasks) {
        struct task *t = &p->tasks[p->next++];
        const struct ys_dns_rq *rq = &p->spec->questions[t->question];
        struct ys_dns_question q = {
            .server = p->spec->servers.v[t->server],
            .name = rq->name,
            .type = rq->type,
            .recursion = p->spec->recursion,
            .timeout_ms = p->timeout_ms,
        };
        if (ys_dns_query_start(p->loop, &q, on_answer, t, &t->q) < 0)
            judge(p, t, YS_DNS_ERROR, NULL, "cannot start the query");
        else
            p->inflight++;
    }
}

static void on_answer(enum ys_dns_status st, const struct ys_dns_response *resp,
                      const char *message, void *arg)
{
    struct task *t = arg;
    struct records_probe *p = t->p;
    t->q = NULL;
    p->inflight--;
    judge(p, t, st, resp, message);
    pump(p);
    if (p->inflight == 0 && p->next == p->ntasks)
        finish(p);
}

static void on_nothing_started(uv_timer_t *t)
{
    finish(t->data);
}

static int records_start(struct ys_probe_env *env, const struct ys_check *check,
                         ys_probe_done_cb done, void *arg, struct ys_probe **out)
{
    struct records_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_dns_records, check, done, arg);
    p->spec = check->spec;
    p->loop = env->loop;
    p->timeout_ms = check->timeout_ms;
    p->ntasks = p->spec->nq * p->spec->servers.n;
    p->tasks = ys_xcalloc(p->ntasks, sizeof *p->tasks);
    p->recs = ys_xcalloc(p->spec->n, sizeof *p->recs);
    for (size_t i = 0; i < p->ntasks; i++)
        p->tasks[i] = (struct task){p, i / p->spec->servers.n, i % p->spec->servers.n, NULL};
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    pump(p);
    if (p->inflight == 0) /* nothing could start: done must still run later */
        uv_timer_start(&p->timer, on_nothing_started, 0, 0);
    *out = &p->super;
    return 0;
}

static void records_cancel(struct ys_probe *probe)
{
    struct records_probe *p = (struct records_probe *)probe;
    if (p->over)
        return;
    p->super.done = NULL;
    teardown(p);
}

const struct ys_probe_type ys_probe_dns_records = {
    .name = "dns_records",
    .keys = ys_dns_records_keys,
    .parse = ys_dns_records_spec_parse,
    .free_spec = ys_dns_records_spec_free,
    .start = records_start,
    .cancel = records_cancel,
};
