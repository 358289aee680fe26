/*
 * cmd_dns.c - `yardstick dns wait NAME TYPE VALUE --servers S1,S2,...`: a
 * step for deploy pipelines that blocks until every server returns VALUE
 * among its answers to NAME TYPE, then prints how long that took.
 *
 * One libuv loop runs rounds: each round asks every server at once through
 * the shared DNS client (probe/dns_client.h); when all have answered, either
 * every server returns VALUE (exit 0), the deadline has passed (exit 1,
 * naming the servers that still differ), or a timer starts the next round
 * one interval after this one began. Each question's own timeout is capped
 * by the time left, so a round never outlives the deadline by much.
 * Values compare as the dns_propagation kind does (case-insensitive, a
 * trailing dot ignored). Main thread only; nothing is stored.
 */
#include "cli/cli.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/xalloc.h"
#include "probe/dns_client.h"
#include "probe/dns_propagation_spec.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* How long one question may take at most, whatever the interval. */
#define QUESTION_MAX_MS 5000

struct server_state {
    struct wait_run *w;
    char addr[YS_DNSPROP_SERVER_MAX];
    struct ys_dns_query *q; /* in flight, or NULL */
    bool has;               /* the last answer holds the value */
    char last[200];         /* the last answer set or error, for the timeout report */
};

struct wait_run {
    uv_loop_t loop;
    uv_timer_t timer;
    const char *name, *value;
    int type;
    struct server_state *s;
    size_t n, pending;
    int64_t t0_us, round_us, timeout_ms, interval_ms;
    int rc; /* -1 while waiting */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: yardstick dns wait NAME TYPE VALUE --servers S1,S2,... [--timeout 5m]\n"
            "                          [--interval 1s]\n\n"
            "Asks every server for NAME TYPE each interval until all of them return VALUE\n"
            "among their answers, then prints how long it took. Exit 0 once they do, 1 on\n"
            "timeout (naming the servers that still differ), 2 on a usage error.\n\n"
            "      --servers LIST    IP addresses with optional ports: 192.0.2.1:53,[::1]:5300\n"
            "      --timeout D       give up after D (default 5m)\n"
            "      --interval D      time between rounds (default 1s)\n");
}

static void start_round(struct wait_run *w);

static void on_tick(uv_timer_t *t)
{
    start_round(t->data);
}

static void report_timeout(struct wait_run *w)
{
    char dur[32];
    ys_duration_format(w->timeout_ms, dur, sizeof dur);
    size_t missing = 0;
    for (size_t i = 0; i < w->n; i++)
        missing += !w->s[i].has;
    printf("timed out after %s: %zu/%zu servers do not return %s", dur, missing, w->n, w->value);
    for (size_t i = 0; i < w->n; i++)
        if (!w->s[i].has)
            printf("; %s: %s", w->s[i].addr, w->s[i].last);
    printf("\n");
}

static void round_done(struct wait_run *w)
{
    int64_t now = ys_mono_us();
    size_t have = 0;
    for (size_t i = 0; i < w->n; i++)
        have += w->s[i].has;
    if (have == w->n) {
        printf("all %zu server%s return %s after %.1fs\n", w->n, w->n == 1 ? "" : "s", w->value,
               (double)(now - w->t0_us) / 1e6);
        w->rc = YS_EXIT_OK;
    } else if ((now - w->t0_us) / 1000 >= w->timeout_ms) {
        report_timeout(w);
        w->rc = YS_EXIT_FAIL;
    } else {
        int64_t wait_ms = w->interval_ms - (now - w->round_us) / 1000;
        int64_t left_ms = w->timeout_ms - (now - w->t0_us) / 1000;
        if (wait_ms > left_ms)
            wait_ms = left_ms;
        uv_timer_start(&w->timer, on_tick, (uint64_t)(wait_ms > 0 ? wait_ms : 0), 0);
        return;
    }
    uv_close((uv_handle_t *)&w->timer, NULL);
}

static void on_answer(enum ys_dns_status st, const struct ys_dns_response *resp,
                      const char *message, void *arg)
{
    struct server_state *s = arg;
    struct wait_run *w = s->w;
    s->q = NULL;
    s->has = false;
    if (st == YS_DNS_OK && (resp->rcode == 0 || resp->rcode == 3)) {
        char *answers = ys_dnsprop_answers_join(resp);
        s->has = ys_dnsprop_answers_have(answers, w->value);
        snprintf(s->last, sizeof s->last, "[%s]", answers);
        free(answers);
    } else if (st == YS_DNS_OK) {
        snprintf(s->last, sizeof s->last, "rcode %d", resp->rcode);
    } else {
        snprintf(s->last, sizeof s->last, "%s",
                 st == YS_DNS_TIMEOUT ? "no answer" : message ? message : "query failed");
    }
    if (--w->pending == 0)
        round_done(w);
}

static void start_round(struct wait_run *w)
{
    w->round_us = ys_mono_us();
    int64_t left = w->timeout_ms - (w->round_us - w->t0_us) / 1000;
    int64_t qt = w->interval_ms > 1000 ? w->interval_ms : 1000;
    qt = qt > QUESTION_MAX_MS ? QUESTION_MAX_MS : qt;
    qt = qt > left ? left : qt;
    qt = qt < 100 ? 100 : qt;
    for (size_t i = 0; i < w->n; i++) {
        struct ys_dns_question q = {
            .server = w->s[i].addr, .name = w->name, .type = w->type, .timeout_ms = qt};
        if (ys_dns_query_start(&w->loop, &q, on_answer, &w->s[i], &w->s[i].q) < 0) {
            w->s[i].q = NULL;
            w->s[i].has = false;
            snprintf(w->s[i].last, sizeof w->s[i].last, "cannot ask");
            continue;
        }
        w->pending++;
    }
    if (w->pending == 0)
        round_done(w);
}

static int parse_servers(const char *list, struct wait_run *w)
{
    char *copy = ys_xstrdup(list);
    int rc = 0;
    for (char *at = copy; at && rc == 0;) {
        char *close = *at == '[' ? strchr(at, ']') : NULL;
        char *comma = strchr(close ? close : at, ',');
        if (comma)
            *comma = '\0';
        w->s = ys_xrealloc(w->s, (w->n + 1) * sizeof *w->s);
        struct server_state *s = &w->s[w->n++];
        memset(s, 0, sizeof *s);
        s->w = w;
        if (ys_dns_server_parse(at, s->addr, sizeof s->addr) < 0) {
            fprintf(stderr, "yardstick dns wait: '%s' is not an IP address with an optional port\n",
                    at);
            rc = YS_EXIT_USAGE;
        }
        at = comma ? comma + 1 : NULL;
    }
    free(copy);
    return rc;
}

/* Fills w from the command line; 0, -1 after --help, or YS_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct wait_run *w)
{
    static const struct option opts[] = {
        {"servers", required_argument, NULL, 's'}, {"timeout", required_argument, NULL, 't'},
        {"interval", required_argument, NULL, 'i'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *servers = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:t:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': servers = optarg; break;
        case 't':
        case 'i':
            if (ys_duration_parse(optarg, c == 't' ? &w->timeout_ms : &w->interval_ms) < 0 ||
                (c == 't' ? w->timeout_ms : w->interval_ms) <= 0) {
                fprintf(stderr, "yardstick dns wait: --%s must be a duration such as 30s\n",
                        c == 't' ? "timeout" : "interval");
                return YS_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (argc - optind != 3 || !servers) {
        fprintf(stderr, "yardstick dns wait: %s\n",
                !servers ? "--servers is required" : "expected NAME TYPE VALUE");
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    w->name = argv[optind];
    w->value = argv[optind + 2];
    if (ys_dns_type_parse(argv[optind + 1], &w->type) < 0) {
        fprintf(stderr, "yardstick dns wait: unknown record type '%s'\n", argv[optind + 1]);
        return YS_EXIT_USAGE;
    }
    return parse_servers(servers, w);
}

static int cmd_wait(int argc, char **argv)
{
    struct wait_run w = {.timeout_ms = 5 * 60 * 1000, .interval_ms = 1000, .rc = -1};
    int rc = parse_args(argc, argv, &w);
    if (rc != 0) {
        free(w.s);
        return rc < 0 ? YS_EXIT_OK : rc;
    }
    uv_loop_init(&w.loop);
    uv_timer_init(&w.loop, &w.timer);
    w.timer.data = &w;
    w.t0_us = ys_mono_us();
    start_round(&w);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    uv_loop_close(&w.loop);
    free(w.s);
    return w.rc < 0 ? YS_EXIT_FAIL : w.rc;
}

int ys_cmd_dns(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "wait") == 0)
        return cmd_wait(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return YS_EXIT_OK;
    }
    fprintf(stderr, "yardstick dns: expected a subcommand: wait\n");
    usage(stderr);
    return YS_EXIT_USAGE;
}
