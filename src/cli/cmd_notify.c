/*
 * cmd_notify.c - `yardstick notify send`: try a notifier's configuration
 * with a test alert, through the real outbox (the config's store, the
 * delivery thread, its retries), and wait until it is delivered.
 *
 *   yardstick notify send -c FILE --notifier NAME [--resolve] [--key K]
 *                         [--summary TEXT] [--wait 30s]
 *   yardstick notify send -c FILE --flush-only [--notifier NAME] [--wait 30s]
 *
 * The test alert: rule "yardstick-test", key "yardstick-test/K" (K is
 * "cli" unless given), labels {alertname: yardstick-test, severity: info,
 * subject: K}. --resolve sends its resolution instead (firing_at taken
 * from the stored alert when there is one). --flush-only adds nothing and
 * drains what is pending in the outbox (after a daemon or an earlier run
 * died, say).
 *
 * The command may run beside a daemon on the same store, so its outbox
 * delivers the test alert's rows only: the daemon's other rows would go
 * out twice and out of order per alert if two threads sent them. It also
 * leaves the rows of notifiers its config lacks alone (the daemon's
 * config may have them) and posts no Alertmanager re-posts. --flush-only
 * delivers every pending row of the config's notifiers, so it is meant for
 * when no daemon runs; it too leaves the other notifiers' rows alone.
 *
 * Exit 0 when delivered (or, with --flush-only, when nothing the command
 * found pending is left and none was given up); 1 when the wait expires
 * or the notification is given up, with the last error; 2 for usage and
 * configuration errors. A notification not delivered in time stays in
 * the outbox: the daemon or the next run delivers it.
 */
#include "cli/cli.h"
#include "cli/daemon.h"

#include "config/read.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/xalloc.h"
#include "outbox/outbox.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 100
#define LOG_MAX 10000

struct notify_opts {
    const char *path, *notifier, *key, *summary, *level, *logfmt;
    int64_t wait_ms;
    bool resolve, flush_only;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: yardstick notify send -c FILE --notifier NAME [--resolve] [--key K]\n"
            "                             [--summary TEXT] [--wait 30s]\n"
            "       yardstick notify send -c FILE --flush-only [--notifier NAME] [--wait 30s]\n\n"
            "Sends a test alert through the outbox and waits until it is delivered. Beside a\n"
            "running daemon it sends the test alert only; the daemon delivers the rest.\n\n"
            "  -c, --config FILE     configuration file (its notifiers and store)\n"
            "  -n, --notifier NAME   the notifier to try\n"
            "      --resolve         send the test alert's resolution\n"
            "      --key K           the test alert's subject (default cli)\n"
            "      --summary TEXT    its summary annotation\n"
            "      --wait D          how long to keep retrying (default 30s)\n"
            "      --flush-only      send nothing new: deliver what is pending (of every\n"
            "                        notifier in the config, or of --notifier); for when\n"
            "                        no daemon runs on this store (it would send them too)\n"
            "      --log-level L     debug, info, warn (default), error\n");
}

/* Fills o from the command line; 0, -1 after --help, or YS_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct notify_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"notifier", required_argument, NULL, 'n'},
        {"resolve", no_argument, NULL, 'r'},
        {"key", required_argument, NULL, 'k'},
        {"summary", required_argument, NULL, 's'},
        {"wait", required_argument, NULL, 'w'},
        {"flush-only", no_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, 'L'},
        {"log-format", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct notify_opts){.key = "cli", .wait_ms = 30000, .level = "warn"};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->path = optarg; break;
        case 'n': o->notifier = optarg; break;
        case 'r': o->resolve = true; break;
        case 'k': o->key = optarg; break;
        case 's': o->summary = optarg; break;
        case 'f': o->flush_only = true; break;
        case 'L': o->level = optarg; break;
        case 'F': o->logfmt = optarg; break;
        case 'w':
            if (ys_duration_parse(optarg, &o->wait_ms) < 0 || o->wait_ms <= 0) {
                fprintf(stderr, "yardstick notify: --wait: bad duration '%s'\n", optarg);
                return YS_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (optind >= argc || strcmp(argv[optind], "send") != 0 || optind + 1 != argc) {
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    if (!o->flush_only && !o->notifier) {
        fprintf(stderr, "yardstick notify: --notifier NAME is required (or --flush-only)\n");
        return YS_EXIT_USAGE;
    }
    if (strlen(o->key) + strlen("yardstick-test/") >= YS_ALERT_KEY_MAX) {
        fprintf(stderr, "yardstick notify: --key is too long\n");
        return YS_EXIT_USAGE;
    }
    return 0;
}

static int check_notifier(const struct ys_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_notifiers; i++)
        if (strcmp(cfg->notifiers[i].name, name) == 0)
            return 0;
    const char **names = ys_xcalloc(cfg->n_notifiers + 1, sizeof *names);
    for (size_t i = 0; i < cfg->n_notifiers; i++)
        names[i] = cfg->notifiers[i].name;
    const char *near = ys_cfg_nearest(name, names);
    fprintf(stderr, "yardstick notify: no notifier '%s' in %s%s%s%s\n", name, cfg->path,
            near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    free(names);
    return YS_EXIT_USAGE;
}

/* The dashboard's address, for the alert's link; NULL without a server. */
static char *base_url(const struct ys_config *cfg)
{
    if (!cfg->server.enabled || !cfg->server.host)
        return NULL;
    bool v6 = strchr(cfg->server.host, ':') != NULL;
    return ys_xasprintf("http://%s%s%s:%d/", v6 ? "[" : "", cfg->server.host, v6 ? "]" : "",
                        cfg->server.port);
}

struct found_alert {
    const char *key;
    int64_t firing_ms;
};

static int find_alert(const struct ys_alert_record *rec, void *arg)
{
    struct found_alert *f = arg;
    if (strcmp(rec->key, f->key) != 0)
        return 0;
    f->firing_ms = rec->firing_ms;
    return 1;
}

/* Queues the test alert for notifier. */
static int submit_test(struct ys_outbox *ob, struct ys_store *rd, const struct notify_opts *o)
{
    char key[YS_ALERT_KEY_MAX];
    snprintf(key, sizeof key, "yardstick-test/%s", o->key);
    int64_t now = ys_wall_ms();
    struct found_alert prev = {.key = key, .firing_ms = now};
    struct ys_err err = {{0}};
    if (o->resolve)
        rd->type->query_alerts(rd, 0, find_alert, &prev, &err);
    char *summary =
        o->summary ? ys_xstrdup(o->summary)
                   : ys_xasprintf("Test notification from yardstick (notifier %s)", o->notifier);
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}}", "rule", "yardstick-test",
                            "labels", "alertname", "yardstick-test", "severity", "info", "subject",
                            o->key, "annotations", "summary", summary, "description",
                            "Sent by `yardstick notify send` to try a notifier.");
    free(summary);
    if (!doc) {
        fprintf(stderr, "yardstick notify: --key and --summary must be UTF-8 text\n");
        return YS_EXIT_USAGE;
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    struct ys_alert_record rec = {
        .firing = !o->resolve,
        .firing_ms = o->resolve ? prev.firing_ms : now,
        .resolved_ms = o->resolve ? now : 0,
        .last_notified_ms = now,
        .doc = text,
    };
    snprintf(rec.key, sizeof rec.key, "%s", key);
    const char *names[1] = {o->notifier};
    int rc = ys_outbox_submit(ob, &rec, o->resolve ? YS_EVENT_RESOLVED : YS_EVENT_FIRING, names, 1);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "yardstick notify: the outbox refused the alert: %s\n", ys_strerror(rc));
        return YS_EXIT_FAIL;
    }
    ys_outbox_flush(ob);
    return 0;
}

/* The newest row of (notifier, key) created since since_ms. */
struct find_row {
    const char *notifier, *key;
    bool found;
    struct ys_outbox_row row;
};

static int match_row(const struct ys_outbox_row *row, void *arg)
{
    struct find_row *f = arg;
    if (strcmp(row->notifier, f->notifier) != 0 || strcmp(row->alert_key, f->key) != 0)
        return 0;
    f->row = *row;
    f->row.payload = NULL;
    f->found = true;
    return 1;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits for the test alert's row. */
static int wait_sent(struct ys_store *rd, const struct notify_opts *o, int64_t since_ms)
{
    char key[YS_ALERT_KEY_MAX];
    snprintf(key, sizeof key, "yardstick-test/%s", o->key);
    int64_t deadline = ys_wall_ms() + o->wait_ms;
    struct find_row f = {.notifier = o->notifier, .key = key};
    for (;;) {
        struct ys_err err = {{0}};
        f.found = false;
        if (rd->type->outbox_log(rd, since_ms, LOG_MAX, match_row, &f, &err) < 0) {
            fprintf(stderr, "yardstick notify: cannot read the outbox: %s\n", err.msg);
            return YS_EXIT_FAIL;
        }
        if (f.found && f.row.state == YS_OUTBOX_DELIVERED) {
            printf("delivered %s notification of %s to %s (attempt %d)\n",
                   o->resolve ? "a resolved" : "a firing", key, o->notifier, f.row.attempts);
            return YS_EXIT_OK;
        }
        if (f.found && f.row.state == YS_OUTBOX_GIVEN_UP) {
            fprintf(stderr, "yardstick notify: %s gave up: %s\n", o->notifier, f.row.last_error);
            return YS_EXIT_FAIL;
        }
        if (ys_wall_ms() >= deadline)
            break;
        sleep_ms(POLL_MS);
    }
    char w[32];
    ys_duration_format(o->wait_ms, w, sizeof w);
    fprintf(stderr,
            "yardstick notify: not delivered to %s within %s (%d attempt%s; last error: %s); it "
            "stays in the outbox\n",
            o->notifier, w, f.row.attempts, f.row.attempts == 1 ? "" : "s",
            f.row.last_error[0] ? f.row.last_error : "none yet");
    return YS_EXIT_FAIL;
}

/* Rows of the notifiers in question: ids pending at the start (read per
 * notifier from the store, however far back), and how they stand now. */
struct drain {
    const struct ys_config *cfg;
    const char *notifier; /* NULL: every configured one */
    int64_t *ids;         /* ascending once collected */
    size_t n_ids, cap;
    int64_t since_ms; /* the oldest collected row's creation */
    size_t pending, given_up;
    struct ys_outbox_row last; /* a row still pending or given up, for its error */
};

static int collect_id(const struct ys_outbox_row *row, void *arg)
{
    struct drain *d = arg;
    if (d->n_ids == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->ids = ys_xrealloc(d->ids, d->cap * sizeof *d->ids);
    }
    d->ids[d->n_ids++] = row->id;
    if (row->created_ms < d->since_ms)
        d->since_ms = row->created_ms;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Notes the pending rows of the notifiers in question. */
static int collect_pending(struct ys_store *rd, struct drain *d, struct ys_err *err)
{
    d->since_ms = INT64_MAX;
    for (size_t i = 0; i < d->cfg->n_notifiers; i++) {
        const char *name = d->cfg->notifiers[i].name;
        if (d->notifier && strcmp(d->notifier, name) != 0)
            continue;
        int rc = rd->type->outbox_pending(rd, name, 0, collect_id, d, err);
        if (rc < 0)
            return rc;
    }
    if (d->n_ids)
        qsort(d->ids, d->n_ids, sizeof *d->ids, cmp_id);
    return 0;
}

static int drain_row(const struct ys_outbox_row *row, void *arg)
{
    struct drain *d = arg;
    bool ours = d->n_ids && bsearch(&row->id, d->ids, d->n_ids, sizeof *d->ids, cmp_id);
    if (!ours || row->state == YS_OUTBOX_DELIVERED)
        return 0;
    if (row->state == YS_OUTBOX_PENDING)
        d->pending++;
    else
        d->given_up++;
    d->last = *row;
    d->last.payload = NULL;
    return 0;
}

/* Pending rows of the notifiers in question, ours or not: a count in the
 * store's index, cheap enough to poll. */
static int count_left(struct ys_store *rd, const struct drain *d, uint64_t *left,
                      struct ys_err *err)
{
    *left = 0;
    for (size_t i = 0; i < d->cfg->n_notifiers; i++) {
        const char *name = d->cfg->notifiers[i].name;
        uint64_t n = 0;
        if (d->notifier && strcmp(d->notifier, name) != 0)
            continue;
        int rc = rd->type->outbox_count_pending(rd, name, &n, err);
        if (rc < 0)
            return rc;
        *left += n;
    }
    return 0;
}

/* Waits until every row d collected is delivered or given up. The count
 * says when nothing is pending; the log, which tells our rows' states,
 * is read then, at the deadline, and every second in case rows of a
 * daemon keep the count up. */
static int wait_drained(struct ys_store *rd, struct drain *d, const struct notify_opts *o)
{
    struct ys_err err = {{0}};
    int rc = 0;
    int64_t deadline = ys_wall_ms() + o->wait_ms;
    for (unsigned polls = 1; d->n_ids > 0; polls++) {
        uint64_t left = 0;
        if ((rc = count_left(rd, d, &left, &err)) < 0)
            break;
        bool last = left == 0 || ys_wall_ms() >= deadline;
        if (last || polls % (1000 / POLL_MS) == 0) {
            d->pending = d->given_up = 0;
            rc = rd->type->outbox_log(rd, d->since_ms, 0, drain_row, d, &err);
            if (rc < 0 || d->pending == 0 || last)
                break;
        }
        sleep_ms(POLL_MS);
    }
    if (rc < 0) {
        fprintf(stderr, "yardstick notify: cannot read the outbox: %s\n", err.msg);
        return YS_EXIT_FAIL;
    }
    if (d->pending == 0 && d->given_up == 0) {
        printf("delivered %zu pending notification%s\n", d->n_ids, d->n_ids == 1 ? "" : "s");
        return YS_EXIT_OK;
    }
    fprintf(stderr,
            "yardstick notify: %zu of %zu pending notification%s not delivered (%zu still "
            "pending, %zu given up); last error: %s\n",
            d->pending + d->given_up, d->n_ids, d->n_ids == 1 ? "" : "s", d->pending, d->given_up,
            d->last.last_error[0] ? d->last.last_error : "none");
    return YS_EXIT_FAIL;
}

static int run(struct ys_config *cfg, const struct notify_opts *o)
{
    struct ys_store_options opt;
    ys_daemon_store_options(cfg, &opt, false);
    struct ys_err err = {{0}};
    struct ys_outbox *ob = NULL;
    struct ys_store *rd = NULL;
    struct drain d = {.cfg = cfg, .notifier = o->notifier};
    int64_t t0 = ys_wall_ms();
    char key[YS_ALERT_KEY_MAX];
    snprintf(key, sizeof key, "yardstick-test/%s", o->key);
    /* The reading connection opens first (read-write, so a store that
     * does not exist yet is created), and --flush-only notes what is
     * pending before the outbox thread can deliver any of it. */
    int rc = ys_store_open(cfg->storage.kind, &opt, &rd, &err);
    if (rc == 0 && o->flush_only)
        rc = collect_pending(rd, &d, &err);
    char *url = base_url(cfg);
    /* Beside a daemon: the test alert's rows only, and nothing of the
     * daemon's business (see the top of the file). */
    struct ys_outbox_options oo = {.base_url = url,
                                   .only_key = o->flush_only ? NULL : key,
                                   .no_orphans = true,
                                   .no_reposts = true};
    if (rc == 0)
        rc = ys_outbox_start(cfg, cfg->storage.kind, &opt, &oo, &ob, &err);
    free(url);
    if (rc < 0) {
        char where[300];
        fprintf(stderr, "yardstick notify: %s: %s\n", ys_cli_store_name(cfg, where, sizeof where),
                err.msg);
        ys_store_close(rd);
        free(d.ids);
        return YS_EXIT_FAIL;
    }
    if (o->flush_only) {
        rc = wait_drained(rd, &d, o);
    } else {
        rc = submit_test(ob, rd, o);
        if (rc == 0)
            rc = wait_sent(rd, o, t0);
    }
    free(d.ids);
    ys_outbox_stop(ob);
    ys_store_close(rd);
    return rc;
}

int ys_cmd_notify(int argc, char **argv)
{
    struct notify_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? YS_EXIT_OK : rc;
    if ((rc = ys_cli_set_logging(o.level, o.logfmt)) != 0)
        return rc;
    struct ys_config *cfg = NULL;
    if ((rc = ys_cli_load_config(o.path, &cfg)) != 0)
        return rc;
    if (o.notifier)
        rc = check_notifier(cfg, o.notifier);
    if (rc == 0)
        rc = run(cfg, &o);
    ys_config_unref(cfg);
    return rc;
}
