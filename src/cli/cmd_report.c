/*
 * cmd_report.c - `yardstick report -c FILE [--format table|markdown|json]
 * [--at DATE|TIME]`: every goal measured (by area), milestones, SLOs with
 * budgets and burn state, incidents and actions, as of now or --at.
 *
 * Opens the store read-only, so it runs beside a daemon; with no store yet
 * every figure is "no data". Check ids are resolved by name here (a check
 * the store has never seen has no data). Colours only when stdout is a
 * terminal and NO_COLOR is unset or empty.
 */
#include "cli/cli.h"
#include "cli/daemon.h"

#include "core/clock.h"
#include "core/tz.h"
#include "report/report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct report_opts {
    const char *config, *format, *at;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick report -c FILE [--format table|markdown|json] [--at WHEN]\n\n"
                 "Measures every goal and SLO of FILE from the store and prints a report.\n"
                 "--at evaluates as of a past instant: YYYY-MM-DD (the end of that day in\n"
                 "defaults.timezone) or RFC 3339 (2025-06-30T12:00:00Z).\n");
}

static int parse_args(int argc, char **argv, struct report_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"at", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'f': o->format = optarg; break;
        case 'a': o->at = optarg; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    if (strcmp(o->format, "table") != 0 && strcmp(o->format, "markdown") != 0 &&
        strcmp(o->format, "json") != 0) {
        fprintf(stderr, "yardstick report: --format must be table, markdown or json\n");
        return YS_EXIT_USAGE;
    }
    return 0;
}

static int load_tz(const struct ys_config *cfg, struct ys_tz *tz)
{
    const char *name = cfg->defaults.timezone;
    struct ys_err err = {{0}};
    if (!name || strcmp(name, "UTC") == 0) {
        ys_tz_utc(tz);
        return 0;
    }
    if (ys_tz_load(name, NULL, tz, &err) < 0) {
        fprintf(stderr, "yardstick report: time zone %s: %s\n", name, err.msg);
        return YS_EXIT_USAGE;
    }
    return 0;
}

/* Opens the store read-only and resolves every check's id; *store stays
 * NULL when no store exists yet. */
static int open_store(struct ys_config *cfg, struct ys_store **store)
{
    struct ys_store_options opt;
    struct ys_err err = {{0}};
    ys_daemon_store_options(cfg, &opt, true);
    int rc = ys_store_open(cfg->storage.kind, &opt, store, &err);
    if (rc == YS_ENOTFOUND) {
        *store = NULL;
        return 0;
    }
    if (rc < 0) {
        char where[300];
        fprintf(stderr, "yardstick report: %s: %s\n", ys_cli_store_name(cfg, where, sizeof where),
                err.msg);
        return YS_EXIT_FAIL;
    }
    for (size_t i = 0; i < cfg->n_checks; i++) {
        rc = (*store)->type->check_id(*store, cfg->checks[i].name, &cfg->checks[i].store_id, &err);
        if (rc == YS_ENOTFOUND)
            cfg->checks[i].store_id = 0;
        else if (rc < 0) {
            fprintf(stderr, "yardstick report: %s\n", err.msg);
            return YS_EXIT_FAIL;
        }
    }
    return 0;
}

static bool want_color(void)
{
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(stdout)) && !(nc && *nc);
}

static int render(struct ys_config *cfg, struct ys_store *store, const struct ys_tz *tz, int64_t at,
                  const char *format)
{
    struct ys_report *r = NULL;
    struct ys_err err = {{0}};
    if (ys_report_build(store, cfg, tz, at, &r, &err) < 0) {
        fprintf(stderr, "yardstick report: %s\n", err.msg);
        return YS_EXIT_FAIL;
    }
    if (strcmp(format, "json") == 0)
        ys_report_write_json(stdout, r);
    else if (strcmp(format, "markdown") == 0)
        ys_report_write_markdown(stdout, r);
    else
        ys_report_write_table(stdout, r, want_color());
    ys_report_free(r);
    return fflush(stdout) == 0 ? YS_EXIT_OK : YS_EXIT_FAIL;
}

int ys_cmd_report(int argc, char **argv)
{
    struct report_opts o = {.format = "table"};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? YS_EXIT_OK : rc;
    struct ys_config *cfg = NULL;
    if ((rc = ys_cli_load_config(o.config, &cfg)) != 0)
        return rc;
    struct ys_tz tz;
    struct ys_store *store = NULL;
    int64_t at = ys_wall_ms();
    if ((rc = load_tz(cfg, &tz)) != 0) {
        ys_config_unref(cfg);
        return rc;
    }
    if (o.at && ys_report_parse_at(o.at, &tz, &at) < 0) {
        fprintf(stderr, "yardstick report: bad --at '%s' (use YYYY-MM-DD or RFC 3339)\n", o.at);
        rc = YS_EXIT_USAGE;
    }
    if (rc == 0)
        rc = open_store(cfg, &store);
    if (rc == 0)
        rc = render(cfg, store, &tz, at, o.format);
    if (store)
        ys_store_close(store);
    ys_tz_free(&tz);
    ys_config_unref(cfg);
    return rc;
}
