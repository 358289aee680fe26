/*
 * cmd_history.c - `yardstick history NAME`: a check's stored results (raw)
 * or rollups (minute, hour, day) over a recent window, as a table or JSON.
 * Reads through a read-only store connection, so it runs beside a daemon.
 */
#include "cli/cli.h"
#include "cli/daemon.h"

#include "core/clock.h"
#include "core/duration.h"
#include "slo/sketch.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

struct history_opts {
    const char *config, *name, *format, *since, *resolution;
};

struct printer {
    FILE *out;
    bool json;
    json_t *arr;
    size_t rows;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick history NAME -c FILE [--since 24h]\n"
                 "                         [--resolution raw|minute|hour|day] [--format table|json]\n\n"
                 "Prints what the store holds for check NAME over the last --since.\n"
                 "Without --resolution, the range picks one: raw up to 6h, minute up to 7d,\n"
                 "hour up to 90d, day beyond.\n");
}

static enum ys_resolution auto_resolution(int64_t since_ms)
{
    if (since_ms <= 6 * 3600000LL)
        return YS_RES_RAW;
    if (since_ms <= 7 * 86400000LL)
        return YS_RES_MINUTE;
    if (since_ms <= 90 * 86400000LL)
        return YS_RES_HOUR;
    return YS_RES_DAY;
}

static int print_raw(const struct ys_result *r, void *arg)
{
    struct printer *p = arg;
    p->rows++;
    if (p->json) {
        json_array_append_new(p->arr, ys_result_to_json(NULL, NULL, r));
        return 0;
    }
    char ts[40];
    fprintf(p->out, "%s  %-4s  %8.1fms  %3u  %s%s%s\n", ys_format_time(r->ts_ms, ts, sizeof ts),
            r->ok ? "ok" : "FAIL", (double)r->duration_us / 1000.0, r->status,
            ys_errclass_name(r->errclass), r->ok ? "" : ": ", r->message);
    return 0;
}

static json_t *number_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static int print_rollup(const struct ys_rollup *r, void *arg)
{
    struct printer *p = arg;
    double avail = r->total ? (double)r->ok / (double)r->total : NAN;
    double mean = r->ok ? (double)r->sum_duration_us / (double)r->ok / 1000.0 : NAN;
    double p50 = ys_sketch_quantile(r->latency, 0.50) / 1000.0;
    double p95 = ys_sketch_quantile(r->latency, 0.95) / 1000.0;
    double p99 = ys_sketch_quantile(r->latency, 0.99) / 1000.0;
    char ts[40];
    ys_format_time(r->bucket_ms, ts, sizeof ts);
    p->rows++;
    if (p->json) {
        json_t *o = json_object();
        json_object_set_new(o, "bucket", json_string(ts));
        json_object_set_new(o, "bucket_ms", json_integer(r->bucket_ms));
        json_object_set_new(o, "total", json_integer((json_int_t)r->total));
        json_object_set_new(o, "ok", json_integer((json_int_t)r->ok));
        json_object_set_new(o, "availability", number_or_null(avail));
        json_object_set_new(o, "mean_ms", number_or_null(mean));
        json_object_set_new(o, "p50_ms", number_or_null(p50));
        json_object_set_new(o, "p95_ms", number_or_null(p95));
        json_object_set_new(o, "p99_ms", number_or_null(p99));
        json_array_append_new(p->arr, o);
        return 0;
    }
    fprintf(p->out, "%s  %6llu  %6llu  %8.3f%%  %8.1f  %8.1f  %8.1f  %8.1f\n", ts,
            (unsigned long long)r->total, (unsigned long long)r->ok, avail * 100.0, mean, p50, p95,
            p99);
    return 0;
}

static int parse_args(int argc, char **argv, struct history_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"since", required_argument, NULL, 's'},
        {"resolution", required_argument, NULL, 'r'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:s:r:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 's': o->since = optarg; break;
        case 'r': o->resolution = optarg; break;
        case 'f': o->format = optarg; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    o->name = argv[optind];
    if (strcmp(o->format, "table") != 0 && strcmp(o->format, "json") != 0) {
        fprintf(stderr, "yardstick history: --format must be table or json\n");
        return YS_EXIT_USAGE;
    }
    return 0;
}

static int query(struct ys_store *store, const struct history_opts *o, enum ys_resolution res,
                 int64_t since_ms)
{
    struct ys_err err = {{0}};
    uint32_t id;
    int rc = store->type->check_id(store, o->name, &id, &err);
    if (rc == YS_ENOTFOUND) {
        fprintf(stderr, "yardstick history: no results stored for check '%s'\n", o->name);
        return YS_EXIT_FAIL;
    }
    struct printer p = {.out = stdout, .json = strcmp(o->format, "json") == 0};
    p.arr = p.json ? json_array() : NULL;
    int64_t now = ys_wall_ms();
    if (!p.json && res == YS_RES_RAW)
        printf("%-24s  %-4s  %10s  %3s  %s\n", "TIME", "OK", "DURATION", "ST", "ERROR");
    else if (!p.json)
        printf("%-24s  %6s  %6s  %9s  %8s  %8s  %8s  %8s\n", "BUCKET", "TOTAL", "OK", "AVAIL",
               "MEAN_MS", "P50_MS", "P95_MS", "P99_MS");
    if (rc == 0 && res == YS_RES_RAW)
        rc = store->type->query_raw(store, id, now - since_ms, now + 1, print_raw, &p, &err);
    else if (rc == 0)
        rc = store->type->query_rollups(store, id, res, now - since_ms - ys_resolution_ms(res),
                                        now + 1, print_rollup, &p, &err);
    if (p.json) {
        json_dumpf(p.arr, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(p.arr);
    }
    if (rc < 0) {
        fprintf(stderr, "yardstick history: %s\n", err.msg);
        return YS_EXIT_FAIL;
    }
    return YS_EXIT_OK;
}

int ys_cmd_history(int argc, char **argv)
{
    struct history_opts o = {.format = "table", .since = "24h"};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? YS_EXIT_OK : rc;
    int64_t since_ms;
    if (ys_duration_parse(o.since, &since_ms) < 0) {
        fprintf(stderr, "yardstick history: bad --since '%s' (use 30m, 24h, 7d)\n", o.since);
        return YS_EXIT_USAGE;
    }
    enum ys_resolution res = auto_resolution(since_ms);
    if (o.resolution && ys_resolution_parse(o.resolution, &res) < 0) {
        fprintf(stderr, "yardstick history: --resolution must be raw, minute, hour or day\n");
        return YS_EXIT_USAGE;
    }
    struct ys_config *cfg = NULL;
    if ((rc = ys_cli_load_config(o.config, &cfg)) != 0)
        return rc;
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    struct ys_err err = {{0}};
    ys_daemon_store_options(cfg, &opt, true);
    if (ys_store_open(cfg->storage.kind, &opt, &store, &err) < 0) {
        char where[300];
        fprintf(stderr, "yardstick history: %s: %s\n", ys_cli_store_name(cfg, where, sizeof where),
                err.msg);
        ys_config_unref(cfg);
        return YS_EXIT_FAIL;
    }
    rc = query(store, &o, res, since_ms);
    ys_store_close(store);
    ys_config_unref(cfg);
    return rc;
}
