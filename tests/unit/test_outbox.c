/*
 * test_outbox.c - at-least-once delivery through the outbox, end to end
 * inside one process: a real SQLite store (store_fixture.h), the real
 * outbox thread, and a real HTTP receiver (libmicrohttpd) that records
 * every request and can answer 500 or be down (its listening socket
 * closed, so connections are refused).
 *
 * Covered: every submission delivered once when the receiver is up; the
 * receiver down for a while, then up: everything arrives, in order per
 * alert; give-up after max_age, logged in the row and counted; the rate
 * limit spacing deliveries; stop while failing and a new outbox on the
 * same store delivering the pending rows; exec (stdin, timeout kill);
 * Alertmanager re-posts with one of two Alertmanagers down, and their end
 * on resolve; rows for notifiers the config lacks kept pending (counted
 * under "(removed)") until the config's largest max_age, delivered if the
 * notifier comes back, found however far back in the log; one alert whose
 * rows always fail not holding back the notifier's other alerts.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "outbox/outbox.h"
#include "outbox/pace.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store_fixture.h"

/* ---- the receiver -------------------------------------------------------- */

#define MAX_REQ 512

struct request {
    char path[64];
    char *body;
    int64_t at_ms;
    int status; /* what it was answered */
    long long delivery; /* X-Yardstick-Delivery, -1 when missing */
    int attempt;        /* X-Yardstick-Attempt, -1 when missing */
};

struct receiver {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t mu;
    int status;
    char bad_key[64]; /* requests whose event has this key are answered 400 */
    struct request req[MAX_REQ];
    size_t n;
};

static struct receiver rcv;

struct upload {
    char *data;
    size_t len;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    struct receiver *r = cls;
    (void)method;
    (void)version;
    struct upload *u = *con_cls;
    if (!u) {
        *con_cls = calloc(1, sizeof *u);
        return MHD_YES;
    }
    if (*size) {
        u->data = realloc(u->data, u->len + *size + 1);
        memcpy(u->data + u->len, data, *size);
        u->len += *size;
        u->data[u->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&r->mu);
    int status = r->status;
    char bad[96];
    snprintf(bad, sizeof bad, "\"key\":\"%s\"", r->bad_key);
    if (r->bad_key[0] && u->data && strstr(u->data, bad))
        status = 400;
    if (r->n < MAX_REQ) {
        struct request *q = &r->req[r->n++];
        snprintf(q->path, sizeof q->path, "%s", url);
        q->body = u->data ? u->data : strdup("");
        u->data = NULL;
        q->at_ms = ys_wall_ms();
        q->status = status;
        const char *d = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Yardstick-Delivery");
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Yardstick-Attempt");
        q->delivery = d ? atoll(d) : -1;
        q->attempt = a ? atoi(a) : -1;
    }
    pthread_mutex_unlock(&r->mu);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct upload *u = *con_cls;
    if (u) {
        free(u->data);
        free(u);
    }
    *con_cls = NULL;
}

/* Starts listening (on a port the kernel picks the first time, then on
 * the same one). */
static void receiver_up(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(rcv.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rcv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, rcv.port, NULL, NULL, on_request,
                             &rcv, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sa,
                             MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, &rcv, MHD_OPTION_END);
    assert_non_null(rcv.d);
    rcv.port = MHD_get_daemon_info(rcv.d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void receiver_down(void)
{
    MHD_stop_daemon(rcv.d);
    rcv.d = NULL;
}

static void receiver_answer(int status)
{
    pthread_mutex_lock(&rcv.mu);
    rcv.status = status;
    pthread_mutex_unlock(&rcv.mu);
}

static size_t received(void)
{
    pthread_mutex_lock(&rcv.mu);
    size_t n = rcv.n;
    pthread_mutex_unlock(&rcv.mu);
    return n;
}

/* ---- fixture ---------------------------------------------------------- */

static struct ys_config *cfg;

static int setup(void **state)
{
    (void)state;
    fixture_setup("");
    memset(&rcv, 0, sizeof rcv);
    pthread_mutex_init(&rcv.mu, NULL);
    rcv.status = 200;
    receiver_up();
    return 0;
}

static int teardown_all(void **state)
{
    if (rcv.d)
        receiver_down();
    for (size_t i = 0; i < rcv.n; i++)
        free(rcv.req[i].body);
    pthread_mutex_destroy(&rcv.mu);
    ys_config_unref(cfg);
    cfg = NULL;
    return teardown(state);
}

/* Loads a config whose storage is the fixture's store; notifiers is the
 * YAML of the notifiers list, with %1$d standing for the receiver's port. */
static struct ys_config *load_cfg(const char *notifiers)
{
    char *ys = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&ys, &len);
    fprintf(f, "storage: { path: '%s' }\nnotifiers:\n", path);
    fprintf(f, notifiers, (int)rcv.port);
    fclose(f);
    struct ys_diag d;
    ys_diag_init(&d, "t.yaml");
    struct ys_config *c = NULL;
    if (ys_config_load_string(ys, strlen(ys), &c, &d) != 0) {
        ys_diag_print(&d, stderr);
        fail_msg("config rejected:\n%s", ys);
    }
    ys_diag_free(&d);
    free(ys);
    return c;
}

static struct ys_outbox *start(void)
{
    struct ys_store_options opt = {.path = path};
    struct ys_outbox *o = NULL;
    struct ys_err err = {{0}};
    struct ys_outbox_options oo = {.base_url = "http://127.0.0.1:8080/"};
    if (ys_outbox_start(cfg, "sqlite", &opt, &oo, &o, &err) != 0)
        fail_msg("start: %s", err.msg);
    return o;
}

/* Submits an event of alert key to the notifiers (NULL-terminated);
 * seq goes into the document so the receiver can tell events apart. */
static void submit(struct ys_outbox *o, const char *key, enum ys_alert_event_kind kind, int seq,
                   const char *const *names)
{
    char doc[256];
    snprintf(doc, sizeof doc,
             "{\"rule\":\"r\",\"labels\":{\"check\":\"%s\",\"severity\":\"page\"},"
             "\"annotations\":{\"seq\":\"%d\"}}",
             key, seq);
    struct ys_alert_record rec = {.firing = kind != YS_EVENT_RESOLVED,
                                  .firing_ms = ys_wall_ms() - 1000,
                                  .resolved_ms = kind == YS_EVENT_RESOLVED ? ys_wall_ms() : 0,
                                  .doc = doc};
    snprintf(rec.key, sizeof rec.key, "r/%s", key);
    size_t n = 0;
    while (names[n])
        n++;
    assert_int_equal(ys_outbox_submit(o, &rec, kind, names, n), 0);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct ys_outbox_stats_one stats_of(struct ys_outbox *o, const char *name)
{
    struct ys_outbox_stats st;
    ys_outbox_stats(o, &st);
    struct ys_outbox_stats_one one = {0};
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.v[i].name, name) == 0)
            one = st.v[i];
    free(st.v);
    return one;
}

/* Polls cond until it holds or ms pass; fails with what on timeout. */
#define WAIT_FOR(ms, cond, what)                                                                   \
    do {                                                                                           \
        int64_t end_ = ys_wall_ms() + (ms);                                                        \
        while (!(cond)) {                                                                          \
            if (ys_wall_ms() > end_)                                                               \
                fail_msg("timed out waiting for %s", what);                                        \
            sleep_ms(20);                                                                          \
        }                                                                                          \
    } while (0)

/* The (key, seq) of request i's webhook body. */
static bool req_event(size_t i, char *key, size_t ksize, int *seq)
{
    pthread_mutex_lock(&rcv.mu);
    json_t *doc = json_loads(rcv.req[i].body, 0, NULL);
    int status = rcv.req[i].status;
    pthread_mutex_unlock(&rcv.mu);
    const char *k = json_string_value(json_object_get(doc, "key"));
    const char *s = json_string_value(json_object_get(json_object_get(doc, "annotations"), "seq"));
    bool ok = k && s && status == 200;
    if (ok) {
        snprintf(key, ksize, "%s", k);
        *seq = atoi(s);
    }
    json_decref(doc);
    return ok;
}

/* How many accepted requests carried seq. */
static int times_received(int seq)
{
    int count = 0;
    for (size_t i = 0; i < received(); i++) {
        char k[64];
        int s;
        if (req_event(i, k, sizeof k, &s) && s == seq)
            count++;
    }
    return count;
}

/* The delivery headers of the first accepted request that carried seq
 * (after skip such requests); false when there is none. */
static bool seq_headers(int seq, int skip, long long *delivery, int *attempt)
{
    for (size_t i = 0; i < received(); i++) {
        char k[64];
        int s;
        if (!req_event(i, k, sizeof k, &s) || s != seq || skip-- > 0)
            continue;
        pthread_mutex_lock(&rcv.mu);
        *delivery = rcv.req[i].delivery;
        *attempt = rcv.req[i].attempt;
        pthread_mutex_unlock(&rcv.mu);
        return true;
    }
    return false;
}

static bool all_received(int from, int to)
{
    for (int s = from; s <= to; s++)
        if (times_received(s) == 0)
            return false;
    return true;
}

/* Asserts that, per alert key, the accepted requests came in seq order
 * (repeats of the one just before allowed: at least once). */
static void assert_order_per_key(void)
{
    for (size_t i = 0; i < received(); i++) {
        char ki[64];
        int si;
        if (!req_event(i, ki, sizeof ki, &si))
            continue;
        for (size_t j = i + 1; j < received(); j++) {
            char kj[64];
            int sj;
            if (req_event(j, kj, sizeof kj, &sj) && strcmp(ki, kj) == 0 && sj < si)
                fail_msg("%s: seq %d arrived after seq %d", ki, sj, si);
        }
    }
}

struct log_find {
    const char *key;
    struct ys_outbox_row row;
    int n;
};

static int log_cb(const struct ys_outbox_row *row, void *arg)
{
    struct log_find *f = arg;
    if (f->key && strcmp(row->alert_key, f->key) != 0)
        return 0;
    f->row = *row;
    f->row.payload = NULL;
    f->n++;
    return 0;
}

/* The oldest logged row of alert key (NULL: any), and how many there are. */
static struct log_find log_rows(const char *key)
{
    struct ys_store *s = fixture_open(true, 0);
    struct log_find f = {.key = key};
    struct ys_err err = {{0}};
    assert_int_equal(s->type->outbox_log(s, 0, 0, log_cb, &f, &err), 0);
    ys_store_close(s);
    return f;
}

/* ---- cases ----------------------------------------------------------------- */

static const char *const HOOK[] = {"hook", NULL};
static const char *const HOOK_CONFIG =
    "  - { name: hook, kind: webhook, url: 'http://127.0.0.1:%1$d/h' }\n";

static void test_delivered_once(void **state)
{
    (void)state;
    cfg = load_cfg(HOOK_CONFIG);
    struct ys_outbox *o = start();
    for (int i = 1; i <= 6; i++)
        submit(o, i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c", YS_EVENT_FIRING, i, HOOK);
    ys_outbox_flush(o);
    WAIT_FOR(10000, received() >= 6, "six deliveries");
    sleep_ms(300); /* anything extra would show now */
    assert_int_equal(received(), 6);
    for (int i = 1; i <= 6; i++)
        assert_int_equal(times_received(i), 1);
    assert_order_per_key();
    WAIT_FOR(5000, stats_of(o, "hook").pending == 0, "no pending rows");
    struct ys_outbox_stats_one st = stats_of(o, "hook");
    assert_int_equal(st.delivered, 6);
    assert_int_equal(st.attempts_failed, 0);
    assert_int_equal(st.given_up, 0);
    /* The thread added status, repeat, event_at and the link. */
    json_t *doc = json_loads(rcv.req[0].body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "firing");
    assert_true(json_is_false(json_object_get(doc, "repeat")));
    assert_non_null(json_string_value(json_object_get(doc, "event_at")));
    assert_non_null(json_string_value(json_object_get(doc, "firing_at")));
    assert_string_equal(json_string_value(json_object_get(doc, "url")), "http://127.0.0.1:8080/");
    json_decref(doc);
    ys_outbox_stop(o);
    struct log_find f = log_rows(NULL);
    assert_int_equal(f.n, 6);
    assert_int_equal(f.row.state, YS_OUTBOX_DELIVERED);
    assert_int_equal(f.row.attempts, 1);
}

static void test_down_then_up_in_order(void **state)
{
    (void)state;
    cfg = load_cfg(HOOK_CONFIG);
    receiver_down();
    struct ys_outbox *o = start();
    submit(o, "a", YS_EVENT_FIRING, 1, HOOK);
    submit(o, "b", YS_EVENT_FIRING, 2, HOOK);
    submit(o, "a", YS_EVENT_RESOLVED, 3, HOOK);
    submit(o, "a", YS_EVENT_FIRING, 4, HOOK);
    submit(o, "b", YS_EVENT_REPEAT, 5, HOOK);
    WAIT_FOR(10000, stats_of(o, "hook").attempts_failed >= 2, "failed attempts");
    sleep_ms(1500);
    submit(o, "a", YS_EVENT_RESOLVED, 6, HOOK);
    receiver_up();
    WAIT_FOR(30000, all_received(1, 6), "every notification after the receiver came back");
    assert_order_per_key();
    /* the receiver logs a request before the thread reads its answer */
    WAIT_FOR(5000, stats_of(o, "hook").delivered >= 6, "the deliveries counted");
    assert_int_equal(stats_of(o, "hook").given_up, 0);
    /* Each row names itself; the first one failed before it went. */
    long long first = 0, other = 0;
    int attempt = 0, other_attempt = 0;
    assert_true(seq_headers(1, 0, &first, &attempt));
    assert_true(first > 0);
    assert_true(attempt > 1);
    assert_true(seq_headers(2, 0, &other, &other_attempt));
    assert_true(other > 0 && other != first);
    ys_outbox_stop(o);
}

static void test_give_up_after_max_age(void **state)
{
    (void)state;
    cfg = load_cfg("  - { name: hook, kind: webhook, url: 'http://127.0.0.1:%1$d/h', "
                   "max_age: 1s }\n");
    receiver_answer(500);
    struct ys_outbox *o = start();
    submit(o, "a", YS_EVENT_FIRING, 1, HOOK);
    WAIT_FOR(10000, stats_of(o, "hook").given_up == 1, "the give-up");
    assert_true(received() >= 1); /* it was tried */
    struct ys_outbox_stats_one st = stats_of(o, "hook");
    assert_true(st.attempts_failed >= 1);
    assert_int_equal(st.delivered, 0);
    /* Given up is final: a receiver that recovers gets nothing more. */
    receiver_answer(200);
    size_t before = received();
    sleep_ms(1500);
    assert_int_equal(received(), before);
    ys_outbox_stop(o);
    struct log_find f = log_rows("r/a");
    assert_int_equal(f.row.state, YS_OUTBOX_GIVEN_UP);
    assert_non_null(strstr(f.row.last_error, "max_age 1s"));
    assert_non_null(strstr(f.row.last_error, "HTTP 500"));
    assert_true(f.row.done_ms > 0);
}

static void test_rate_limit(void **state)
{
    (void)state;
    cfg = load_cfg("  - { name: hook, kind: webhook, url: 'http://127.0.0.1:%1$d/h', "
                   "rate_limit: 2/1s }\n");
    struct ys_outbox *o = start();
    const char *keys[] = {"a", "b", "c", "d", "e", "f"};
    for (int i = 0; i < 6; i++)
        submit(o, keys[i], YS_EVENT_FIRING, i + 1, HOOK);
    WAIT_FOR(15000, received() >= 6, "six deliveries");
    /* Two go at once (a full bucket), the other four at 2 a second. */
    int64_t span = rcv.req[5].at_ms - rcv.req[0].at_ms;
    assert_true(span >= 1500);
    for (size_t i = 0; i < 6; i++) {
        size_t in_window = 0;
        for (size_t j = i; j < 6; j++)
            in_window += rcv.req[j].at_ms - rcv.req[i].at_ms < 1000;
        assert_true(in_window <= 4); /* burst of 2 + 2 refilled */
    }
    /* the receiver logs a request before the outbox thread counts it */
    WAIT_FOR(5000, stats_of(o, "hook").delivered == 6, "six deliveries counted");
    assert_true(stats_of(o, "hook").rate_limited >= 1);
    ys_outbox_stop(o);
}

static void test_restart_delivers_pending(void **state)
{
    (void)state;
    cfg = load_cfg(HOOK_CONFIG);
    receiver_answer(500);
    struct ys_outbox *o = start();
    submit(o, "a", YS_EVENT_FIRING, 1, HOOK);
    submit(o, "a", YS_EVENT_RESOLVED, 2, HOOK);
    submit(o, "b", YS_EVENT_FIRING, 3, HOOK);
    WAIT_FOR(10000, stats_of(o, "hook").attempts_failed >= 2, "failed attempts");
    ys_outbox_stop(o);
    assert_int_equal(times_received(1) + times_received(3), 0); /* none accepted */
    receiver_answer(200);
    o = start();
    WAIT_FOR(15000, all_received(1, 3), "the pending rows after the restart");
    assert_order_per_key();
    ys_outbox_stop(o);
}

static void test_exec(void **state)
{
    (void)state;
    char out[160], yaml[600];
    snprintf(out, sizeof out, "%s/stdin.json", fixture_dir);
    snprintf(yaml, sizeof yaml,
             "  - { name: run, kind: exec, command: [sh, -c, 'cat > %s'] }\n"
             "  - { name: slow, kind: exec, command: [sleep, '30'], timeout: 200ms }\n",
             out);
    cfg = load_cfg(yaml);
    struct ys_outbox *o = start();
    const char *const run[] = {"run", NULL}, *const slow[] = {"slow", NULL};
    submit(o, "a", YS_EVENT_FIRING, 7, run);
    submit(o, "b", YS_EVENT_FIRING, 8, slow);
    WAIT_FOR(10000, stats_of(o, "run").delivered == 1, "the exec delivery");
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    json_t *doc = json_loadf(f, 0, NULL);
    fclose(f);
    assert_string_equal(json_string_value(json_object_get(doc, "key")), "r/a");
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "firing");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "annotations"), "seq")), "7");
    json_decref(doc);
    /* The slow command is killed at its timeout, counted as a failure. */
    int64_t t0 = ys_wall_ms();
    WAIT_FOR(10000, stats_of(o, "slow").attempts_failed >= 1, "the exec timeout");
    assert_true(ys_wall_ms() - t0 < 5000);
    ys_outbox_stop(o);
    struct log_find lf = log_rows("r/b");
    assert_int_equal(lf.row.state, YS_OUTBOX_PENDING);
    assert_non_null(strstr(lf.row.last_error, "killed after the timeout of 200ms"));
}

/* Requests to /api/v2/alerts whose alert has check=key and an endsAt
 * after (future) or not after (past) the request's time. */
static size_t am_posts(const char *key, bool future)
{
    size_t n = 0;
    pthread_mutex_lock(&rcv.mu);
    for (size_t i = 0; i < rcv.n; i++) {
        if (strcmp(rcv.req[i].path, "/api/v2/alerts") != 0)
            continue;
        json_t *list = json_loads(rcv.req[i].body, 0, NULL);
        for (size_t j = 0; j < json_array_size(list); j++) {
            json_t *a = json_array_get(list, j);
            const char *chk =
                json_string_value(json_object_get(json_object_get(a, "labels"), "check"));
            const char *ends = json_string_value(json_object_get(a, "endsAt"));
            if (!chk || !ends || strcmp(chk, key) != 0)
                continue;
            char at[40];
            ys_format_time(rcv.req[i].at_ms, at, sizeof at);
            if ((strcmp(ends, at) > 0) == future) /* RFC 3339 UTC strings sort as times */
                n++;
        }
        json_decref(list);
    }
    pthread_mutex_unlock(&rcv.mu);
    return n;
}

static void test_alertmanager_reposts(void **state)
{
    (void)state;
    /* The second Alertmanager is down (port 1): one of two accepting is
     * a delivery. */
    cfg = load_cfg("  - { name: am, kind: alertmanager, resend_interval: 1s,\n"
                   "      urls: ['http://127.0.0.1:%1$d', 'http://127.0.0.1:1'] }\n");
    struct ys_outbox *o = start();
    const char *const am[] = {"am", NULL};
    submit(o, "k", YS_EVENT_FIRING, 1, am);
    WAIT_FOR(10000, stats_of(o, "am").delivered == 1, "the firing alert");
    WAIT_FOR(10000, am_posts("k", true) >= 3, "re-posts every resend_interval");
    submit(o, "k", YS_EVENT_RESOLVED, 2, am);
    WAIT_FOR(10000, am_posts("k", false) == 1, "the resolved alert");
    size_t firing_posts = am_posts("k", true);
    sleep_ms(2500);                                      /* more than two resend_intervals */
    assert_int_equal(am_posts("k", true), firing_posts); /* no re-post after the resolve */
    WAIT_FOR(5000, stats_of(o, "am").delivered == 2, "two deliveries counted");
    assert_int_equal(stats_of(o, "am").given_up, 0);
    ys_outbox_stop(o);
}

static bool has_stats(struct ys_outbox *o, const char *name)
{
    return stats_of(o, name).name[0] != '\0';
}

/* Swaps in a config with notifiers (as load_cfg) and waits until the
 * thread has taken it (its first notifier appears in the stats). */
static void reload(struct ys_outbox *o, const char *notifiers, const char *first)
{
    struct ys_config *next = load_cfg(notifiers);
    ys_outbox_apply(o, next);
    ys_config_unref(next);
    WAIT_FOR(10000, has_stats(o, first), "the reload");
}

/* Rows of a notifier that leaves the config stay pending, counted under
 * "(removed)"; the notifier back under the same name delivers them. */
static void test_removed_notifier_kept_until_back(void **state)
{
    (void)state;
    cfg = load_cfg(HOOK_CONFIG);
    receiver_answer(500);
    struct ys_outbox *o = start();
    submit(o, "h", YS_EVENT_FIRING, 2, HOOK);
    WAIT_FOR(10000, stats_of(o, "hook").attempts_failed >= 1, "a failed attempt");
    reload(o, "  - { name: other, kind: exec, command: [true] }\n", "other");
    WAIT_FOR(10000, stats_of(o, "(removed)").pending == 1, "the row counted under (removed)");
    assert_false(has_stats(o, "hook"));
    sleep_ms(500); /* a give-up would show now */
    assert_int_equal(log_rows("r/h").row.state, YS_OUTBOX_PENDING);
    assert_int_equal(stats_of(o, "(removed)").given_up, 0);
    /* Renamed back: the row goes out. */
    receiver_answer(200);
    size_t before = received();
    reload(o, HOOK_CONFIG, "hook");
    WAIT_FOR(15000, times_received(2) == 1, "the row after the notifier came back");
    assert_true(received() > before);
    WAIT_FOR(5000, stats_of(o, "(removed)").pending == 0, "(removed) pending back to 0");
    WAIT_FOR(5000, stats_of(o, "hook").delivered == 1, "the delivery counted");
    ys_outbox_stop(o);
    struct log_find h = log_rows("r/h");
    assert_int_equal(h.row.state, YS_OUTBOX_DELIVERED);
}

/* Rows for a name the config lacks wait for the largest max_age of the
 * config's notifiers, then are given up, logged in the row and counted. */
static void test_orphan_given_up_at_max_age(void **state)
{
    (void)state;
    cfg = load_cfg("  - { name: hook, kind: webhook, url: 'http://127.0.0.1:%1$d/h', "
                   "max_age: 1s }\n"
                   "  - { name: other, kind: exec, command: [true], max_age: 3s }\n");
    struct ys_outbox *o = start();
    const char *const ghost[] = {"ghost", NULL};
    submit(o, "g", YS_EVENT_FIRING, 1, ghost);
    ys_outbox_flush(o);
    int64_t t0 = ys_wall_ms();
    struct log_find g = log_rows("r/g");
    assert_int_equal(g.n, 1);
    if (ys_wall_ms() - t0 < 2000) /* well within the 3 s */
        assert_int_equal(g.row.state, YS_OUTBOX_PENDING);
    WAIT_FOR(15000, stats_of(o, "(removed)").given_up == 1, "the give-up, counted");
    /* the gauge is set after the counter, on the same pass */
    WAIT_FOR(5000, stats_of(o, "(removed)").pending == 0, "nothing pending");
    ys_outbox_stop(o);
    g = log_rows("r/g");
    assert_int_equal(g.row.state, YS_OUTBOX_GIVEN_UP);
    assert_non_null(strstr(g.row.last_error, "'ghost' is not in the config"));
    assert_true(g.row.done_ms - g.row.created_ms >= 3000);
}

/* An orphan older than the newest 10,000 rows of the log is still found. */
static void test_old_orphan_found(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    enum { N = 10050 };
    struct ys_outbox_row *rows = calloc(N, sizeof *rows);
    int64_t now = ys_wall_ms();
    for (size_t i = 0; i < N; i++) {
        struct ys_outbox_row *r = &rows[i];
        bool orphan = i == 0;
        snprintf(r->notifier, sizeof r->notifier, "%s", orphan ? "gone" : "hook");
        snprintf(r->alert_key, sizeof r->alert_key, "r/%s", orphan ? "old" : "done");
        r->created_ms = now - (orphan ? 60000 : 30000);
        r->next_attempt_ms = r->created_ms;
        r->state = orphan ? YS_OUTBOX_PENDING : YS_OUTBOX_DELIVERED;
        r->done_ms = orphan ? 0 : r->created_ms;
        r->payload = "{}";
    }
    struct ys_err err = {{0}};
    assert_int_equal(s->type->notify_commit(s, NULL, 0, rows, N, &err), 0);
    free(rows);
    ys_store_close(s);
    cfg = load_cfg("  - { name: hook, kind: webhook, url: 'http://127.0.0.1:%1$d/h', "
                   "max_age: 10s }\n");
    struct ys_outbox *o = start();
    WAIT_FOR(15000, stats_of(o, "(removed)").given_up == 1, "the old orphan given up");
    ys_outbox_stop(o);
    struct log_find f = log_rows("r/old");
    assert_int_equal(f.row.state, YS_OUTBOX_GIVEN_UP);
    assert_non_null(strstr(f.row.last_error, "'gone' is not in the config"));
}

/* One alert whose rows always fail (400) with more rows than one scan
 * reads does not hold back the other alerts of the notifier. */
static void test_failing_alert_does_not_block_others(void **state)
{
    (void)state;
    cfg = load_cfg(HOOK_CONFIG);
    snprintf(rcv.bad_key, sizeof rcv.bad_key, "r/bad");
    struct ys_outbox *o = start();
    /* More rows than one scan used to read, and than a lookup of far's
     * next row looks at (YS_OUTBOX_NEXT_WINDOW): far's second row is
     * found by reading the heads again. */
    enum { BAD = 1100 };
    submit(o, "far", YS_EVENT_FIRING, 4, HOOK);
    for (int i = 0; i < BAD; i++)
        submit(o, "bad", YS_EVENT_REPEAT, 1000 + i, HOOK);
    submit(o, "good", YS_EVENT_FIRING, 1, HOOK);
    submit(o, "fine", YS_EVENT_FIRING, 2, HOOK);
    submit(o, "good", YS_EVENT_RESOLVED, 3, HOOK);
    submit(o, "far", YS_EVENT_RESOLVED, 5, HOOK);
    ys_outbox_flush(o);
    WAIT_FOR(15000, all_received(1, 5), "the other alerts' rows");
    assert_order_per_key();
    WAIT_FOR(5000, stats_of(o, "hook").delivered == 5, "five deliveries counted");
    /* Every pending row is counted, not just those one scan reads. */
    WAIT_FOR(5000, stats_of(o, "hook").pending == BAD, "the pending gauge");
    /* The failing alert's rows stay in order: only its first was tried. */
    pthread_mutex_lock(&rcv.mu);
    size_t n_bad = 0;
    for (size_t i = 0; i < rcv.n; i++) {
        if (rcv.req[i].status != 400)
            continue;
        n_bad++;
        if (!strstr(rcv.req[i].body, "\"seq\":\"1000\""))
            fail_msg("a later row of the failing alert went first: %s", rcv.req[i].body);
    }
    pthread_mutex_unlock(&rcv.mu);
    assert_true(n_bad >= 1);
    ys_outbox_stop(o);
}

/* More alerts pending than a notifier lists at once: every one goes, once. */
static void test_many_alerts(void **state)
{
    (void)state;
    cfg = load_cfg(HOOK_CONFIG);
    receiver_down();
    struct ys_outbox *o = start();
    enum { N = 300 };
    for (int i = 1; i <= N; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        submit(o, key, YS_EVENT_FIRING, i, HOOK);
    }
    submit(o, "k1", YS_EVENT_RESOLVED, N + 1, HOOK);
    ys_outbox_flush(o);
    WAIT_FOR(10000, stats_of(o, "hook").pending == N + 1, "every row counted pending");
    WAIT_FOR(10000, stats_of(o, "hook").attempts_failed >= 3, "failed attempts");
    receiver_up();
    /* A bound on liveness, not a speed: under valgrind against PostgreSQL
     * the 301 deliveries (each an HTTP post, an update and a lookup, after
     * their backoff) took close to a minute on a loaded 2-core machine. */
    WAIT_FOR(240000, all_received(1, N + 1), "every alert's rows");
    assert_order_per_key();
    sleep_ms(300);
    /* Once each, or again only as a later attempt of the same delivery: a
     * copy caused by a failed attempt (a timeout on a loaded machine after
     * the receiver had it) is at-least-once; the same attempt twice would
     * be the outbox starting a row it had already sent. */
    for (int i = 1; i <= N + 1; i++) {
        long long d0 = 0, d = 0;
        int a0 = 0, a = 0;
        assert_true(seq_headers(i, 0, &d0, &a0));
        for (int k = 1; seq_headers(i, k, &d, &a); k++)
            if (d != d0 || a <= a0)
                fail_msg("seq %d received again as delivery %lld attempt %d after %lld/%d", i,
                         d, a, d0, a0);
    }
    WAIT_FOR(5000, stats_of(o, "hook").pending == 0, "nothing pending");
    ys_outbox_stop(o);
}

/* ---- pace.h: pure functions ------------------------------------------------ */

static void test_backoff_table(void **state)
{
    (void)state;
    static const struct {
        int attempts;
        double u;
        int64_t want;
    } rows[] = {
        {1, 0.5, 1000},    {1, 0.0, 800},          {1, 0.999999, 1200}, {2, 0.5, 2000},
        {3, 0.5, 4000},    {4, 0.0, 6400},         {9, 0.5, 256000},    {10, 0.5, 300000},
        {10, 0.0, 240000}, {10, 0.999999, 360000}, {50, 0.5, 300000},   {2000000, 0.5, 300000},
        {0, 0.5, 1000},    {-3, 0.5, 1000},        {1, -1.0, 1000},     {1, 1.0, 1000},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t got = ys_backoff_ms(rows[i].attempts, rows[i].u);
        if (got != rows[i].want)
            fail_msg("backoff(%d, %g) = %lld, want %lld", rows[i].attempts, rows[i].u,
                     (long long)got, (long long)rows[i].want);
    }
}

static void test_bucket(void **state)
{
    (void)state;
    struct ys_bucket b;
    ys_bucket_init(&b, 2, 1000, 0); /* 2 a second */
    assert_int_equal(ys_bucket_take(&b, 0), 0);
    assert_int_equal(ys_bucket_take(&b, 0), 0);
    assert_int_equal(ys_bucket_take(&b, 0), 500); /* empty: one token in 500 ms */
    assert_int_equal(ys_bucket_take(&b, 200), 300);
    assert_int_equal(ys_bucket_take(&b, 500), 0);
    assert_int_equal(ys_bucket_take(&b, 500), 500);
    assert_int_equal(ys_bucket_take(&b, 10000), 0); /* refilled, capped at 2 */
    assert_int_equal(ys_bucket_take(&b, 10000), 0);
    assert_true(ys_bucket_take(&b, 10000) > 0);
    ys_bucket_init(&b, 20, 60000, 0); /* 20 a minute: one per 3 s once empty */
    for (int i = 0; i < 20; i++)
        assert_int_equal(ys_bucket_take(&b, 0), 0);
    assert_int_equal(ys_bucket_take(&b, 0), 3000);
    ys_bucket_init(&b, 0, 0, 0); /* no limit */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ys_bucket_take(&b, 0), 0);
}

int main(void)
{
    ys_log_setup(YS_LOG_ERROR, YS_LOG_TEXT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_table),
        cmocka_unit_test(test_bucket),
        cmocka_unit_test_setup_teardown(test_delivered_once, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_down_then_up_in_order, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_give_up_after_max_age, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_restart_delivers_pending, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_alertmanager_reposts, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_removed_notifier_kept_until_back, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_orphan_given_up_at_max_age, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_old_orphan_found, setup, teardown_all),
        cmocka_unit_test_setup_teardown(test_failing_alert_does_not_block_others, setup,
                                        teardown_all),
        cmocka_unit_test_setup_teardown(test_many_alerts, setup, teardown_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
