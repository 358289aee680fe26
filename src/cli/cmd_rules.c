/*
 * cmd_rules.c - `yardstick rules -c FILE [--format prometheus|sloth]
 * [--slo NAME] [--matchers M] [--min-events N] [--burn-factors window|fixed]
 * [--service NAME]`: prints
 * the SLOs of FILE as Prometheus recording and alerting rules over
 * yardstick's /metrics, or as a Sloth spec (query/rules_gen.c,
 * docs/rules.md). Reads the config only: no store, no network.
 */
#include "cli/cli.h"

#include "query/query.h"
#include "query/rules_gen.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: yardstick rules -c FILE [--format prometheus|sloth] [--slo NAME]\n"
            "                       [--matchers 'job=\"yardstick\"'] [--min-events N]\n"
            "                       [--burn-factors window|fixed] [--service NAME]\n\n"
            "Prints, for each SLO of FILE, Prometheus recording rules and the multiwindow\n"
            "burn-rate alerts (for a 30-day SLO, page: 14.4x over 1h and 5m, 6x over 6h and\n"
            "30m; ticket: 3x over 1d and 2h, 1x over 3d and 6h) over the metrics yardstick\n"
            "exports, or with --format sloth a Sloth prometheus/v1 spec.\n"
            "  --matchers      label matchers added to every selector (e.g. job=\"yardstick\")\n"
            "  --min-events    a window with fewer probes has no ratio (default %d, as\n"
            "                  yardstick's own alerts; 0 turns the clause off; prometheus only)\n"
            "  --burn-factors  window (default): scale the factors to the SLO's period, so\n"
            "                  each alert spends the workbook's 2%%/5%%/10%%/10%% of the budget\n"
            "                  (as Sloth does); fixed: 14.4/6/3/1 whatever the period, as\n"
            "                  yardstick's own slo_burn alerts\n"
            "  --service       sloth: the spec's service (default yardstick)\n",
            YS_QUERY_MIN_EVENTS);
}

struct rules_args {
    const char *config;
    struct ys_rules_options o;
};

static int parse_format(const char *s, enum ys_rules_format *out)
{
    if (strcmp(s, "prometheus") == 0)
        *out = YS_RULES_PROMETHEUS;
    else if (strcmp(s, "sloth") == 0)
        *out = YS_RULES_SLOTH;
    else
        return -1;
    return 0;
}

static int parse_factors(const char *s, enum ys_rules_factors *out)
{
    if (strcmp(s, "window") == 0)
        *out = YS_RULES_FACTORS_WINDOW;
    else if (strcmp(s, "fixed") == 0)
        *out = YS_RULES_FACTORS_FIXED;
    else
        return -1;
    return 0;
}

static int parse_min_events(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

/* Returns 0, -1 after --help, or YS_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct rules_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"slo", required_argument, NULL, 's'},
        {"matchers", required_argument, NULL, 'm'},
        {"min-events", required_argument, NULL, 'e'},
        {"service", required_argument, NULL, 'S'},
        {"burn-factors", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:s:m:e:S:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'f':
            if (parse_format(optarg, &a->o.format) < 0) {
                fprintf(stderr, "yardstick rules: --format must be prometheus or sloth\n");
                return YS_EXIT_USAGE;
            }
            break;
        case 's': a->o.slo = optarg; break;
        case 'm': a->o.matchers = optarg; break;
        case 'e':
            if (parse_min_events(optarg, &a->o.min_events) < 0) {
                fprintf(stderr, "yardstick rules: --min-events must be a count from 0\n");
                return YS_EXIT_USAGE;
            }
            break;
        case 'S': a->o.service = optarg; break;
        case 'b':
            if (parse_factors(optarg, &a->o.factors) < 0) {
                fprintf(stderr, "yardstick rules: --burn-factors must be window or fixed\n");
                return YS_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (optind < argc && !a->config)
        a->config = argv[optind++];
    if (optind != argc) {
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    if (a->o.matchers && strpbrk(a->o.matchers, "{}")) {
        fprintf(stderr, "yardstick rules: --matchers takes matchers without braces, "
                        "e.g. job=\"yardstick\"\n");
        return YS_EXIT_USAGE;
    }
    return 0;
}

int ys_cmd_rules(int argc, char **argv)
{
    struct rules_args a = {.o = {.min_events = YS_QUERY_MIN_EVENTS}};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? YS_EXIT_OK : rc;
    struct ys_config *cfg = NULL;
    if ((rc = ys_cli_load_config(a.config, &cfg)) != 0)
        return rc;
    char *text = NULL;
    size_t len = 0;
    struct ys_err err = {{0}};
    if ((rc = ys_rules_render(cfg, &a.o, &text, &len, &err)) < 0) {
        fprintf(stderr, "yardstick rules: %s\n", err.msg);
        rc = rc == YS_EINTERNAL ? YS_EXIT_FAIL : YS_EXIT_USAGE;
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        rc = YS_EXIT_FAIL;
    }
    free(text);
    ys_config_unref(cfg);
    return rc;
}
