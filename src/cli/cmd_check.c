/*
 * cmd_check.c - `yardstick check`: run every check once, concurrently, on
 * one loop, print the results and exit 0 (all pass), 1 (any fails) or 2
 * (configuration error). A smoke test a CI pipeline can run; nothing is
 * stored. Passive checks (heartbeat: a kind without start) cannot be run
 * from here, so they are listed as skipped and never fail the command.
 */
#include "cli/cli.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "probe/curl_multi.h"
#include "probe/probe.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct check_opts {
    const char *config;
    const char *format;
    const char **only;
    size_t n_only;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: yardstick check -c FILE [--only NAME]... [--format table|json|junit]\n\n"
            "Runs every check (or only the named ones) once, concurrently, and prints\n"
            "the results. Exit 0 if all pass, 1 if any fails, 2 on a config error.\n\n"
            "  -c, --config FILE     configuration file\n"
            "      --only NAME       run only this check (repeatable)\n"
            "  -f, --format FORMAT   table (default), json or junit\n"
            "      --log-level L     debug, info, warn (default), error\n"
            "      --log-format F    text (default) or json\n");
}

static int parse_args(int argc, char **argv, struct check_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"only", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'}, {"log-level", required_argument, NULL, 'L'},
        {"log-format", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *level = "warn", *logfmt = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'o':
            o->only = ys_xrealloc(o->only, (o->n_only + 1) * sizeof *o->only);
            o->only[o->n_only++] = optarg;
            break;
        case 'f': o->format = optarg; break;
        case 'L': level = optarg; break;
        case 'F': logfmt = optarg; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (strcmp(o->format, "table") != 0 && strcmp(o->format, "json") != 0 &&
        strcmp(o->format, "junit") != 0) {
        fprintf(stderr, "yardstick check: --format must be table, json or junit\n");
        return YS_EXIT_USAGE;
    }
    return ys_cli_set_logging(level, logfmt);
}

static bool selected(const struct check_opts *o, const char *name)
{
    if (o->n_only == 0)
        return true;
    for (size_t i = 0; i < o->n_only; i++)
        if (strcmp(o->only[i], name) == 0)
            return true;
    return false;
}

static void probe_done(struct ys_probe *probe, const struct ys_result *r, void *arg)
{
    (void)probe;
    struct ys_check_outcome *out = arg;
    out->result = *r;
    out->done = true;
}

/* Starts every outcome's probe and runs the loop until all are done. */
static void run_all(struct ys_check_outcome *v, size_t n)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_probe_env env = {.loop = &loop};
    if (ys_curl_multi_new(&loop, &env.curl) < 0) {
        fprintf(stderr, "yardstick check: cannot initialise libcurl\n");
        exit(YS_EXIT_FAIL);
    }
    for (size_t i = 0; i < n; i++) {
        struct ys_probe *p = NULL;
        if (v[i].check->type->start(&env, v[i].check, probe_done, &v[i], &p) < 0) {
            ys_result_init(&v[i].result);
            v[i].result.ts_ms = ys_wall_ms();
            ys_result_fail(&v[i].result, YS_EC_INTERNAL, "cannot start probe");
            v[i].done = true;
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_curl_multi_free(env.curl);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        ys_warn("check", "loop closed with handles still open");
}

/* Passive checks are measured by the daemon from what jobs send it; the
 * list goes to stderr for json and junit, so their documents stay valid. */
static void print_skipped(FILE *out, const struct ys_check *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "skipped %s: %s: passive, measured by `yardstick run`\n", v[i]->name,
                v[i]->type->name);
}

int ys_cmd_check(int argc, char **argv)
{
    struct check_opts o = {.format = "table"};
    int rc = parse_args(argc, argv, &o);
    struct ys_config *cfg = NULL;
    struct ys_check_outcome *v = NULL;
    const struct ys_check **passive = NULL;
    size_t n = 0, n_passive = 0;
    if (rc != 0)
        goto out;
    if ((rc = ys_cli_load_config(o.config, &cfg)) != 0)
        goto out;
    for (size_t i = 0; i < o.n_only; i++) {
        if (!ys_config_find(cfg, o.only[i])) {
            fprintf(stderr, "yardstick check: no check named '%s' in %s\n", o.only[i], o.config);
            rc = YS_EXIT_USAGE;
            goto out;
        }
    }
    v = ys_xcalloc(cfg->n_checks, sizeof *v);
    passive = ys_xcalloc(cfg->n_checks ? cfg->n_checks : 1, sizeof *passive);
    for (size_t i = 0; i < cfg->n_checks; i++) {
        if (!selected(&o, cfg->checks[i].name))
            continue;
        if (cfg->checks[i].type->start)
            v[n++].check = &cfg->checks[i];
        else
            passive[n_passive++] = &cfg->checks[i];
    }
    int64_t t0 = ys_mono_us();
    run_all(v, n);
    double total_s = (double)(ys_mono_us() - t0) / 1e6;
    if (strcmp(o.format, "json") == 0)
        ys_print_json(stdout, v, n);
    else if (strcmp(o.format, "junit") == 0)
        ys_print_junit(stdout, v, n, total_s);
    else
        ys_print_table(stdout, v, n);
    print_skipped(strcmp(o.format, "table") == 0 ? stdout : stderr, passive, n_passive);
    rc = YS_EXIT_OK;
    for (size_t i = 0; i < n; i++)
        if (!v[i].result.ok)
            rc = YS_EXIT_FAIL;
out:
    free(v);
    free(passive);
    free(o.only);
    if (cfg)
        ys_config_unref(cfg);
    return rc < 0 ? YS_EXIT_OK : rc;
}
