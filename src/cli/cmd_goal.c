/*
 * cmd_goal.c - `yardstick goal record ID VALUE [--note TEXT] -c FILE` keeps
 * a hand-measured value of a goal (measure: manual) with its history;
 * `yardstick goal list -c FILE` lists the goals and how each is measured.
 *
 * VALUE is read in the goal's target unit with the target parser, so
 * "97.5%", "2s", "5m", "64Mi", "yes", "1.13.0" mean what they mean in a
 * target; a plain number is taken as already in the target's unit. A value
 * of another unit than the target's is a usage error, not a silent mix.
 */
#include "cli/cli.h"
#include "cli/daemon.h"

#include "config/read.h"
#include "core/clock.h"
#include "core/xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick goal record ID VALUE [--note TEXT] -c FILE\n"
                 "       yardstick goal list -c FILE\n\n"
                 "record keeps a measured VALUE for goal ID (in its target's unit: 97.5%%,\n"
                 "2s, 64Mi, yes, 1.13.0 or a plain number); list shows every goal.\n");
}

static const char *measure_name(const struct ys_measure *m)
{
    switch (m->kind) {
    case YS_MEASURE_SLO: return "slo";
    case YS_MEASURE_CHECK: return "check";
    case YS_MEASURE_SELECTOR: return "selector";
    case YS_MEASURE_PROMQL: return "promql";
    default: return "manual";
    }
}

static int list_goals(const struct ys_config *cfg)
{
    printf("%-28s  %-4s  %-14s  %-10s  %-9s  %s\n", "ID", "PRIO", "TARGET", "DUE", "MEASURE",
           "AREA");
    for (size_t i = 0; i < cfg->n_goals; i++) {
        const struct ys_goal *g = &cfg->goals[i];
        char prio[16] = "-";
        if (g->priority >= 0)
            snprintf(prio, sizeof prio, "P%d", g->priority);
        printf("%-28s  %-4s  %-14s  %-10s  %-9s  %s\n", g->id, prio, g->target.text,
               g->due_text ? g->due_text : "-", measure_name(&g->measure), g->area ? g->area : "");
    }
    return YS_EXIT_OK;
}

/* Parses VALUE in the unit of target t. Returns 0 or YS_EINVAL with why. */
static int parse_value(const struct ys_target *t, const char *s, double *out, char *why,
                       size_t whylen)
{
    struct ys_target v;
    if (ys_target_parse(s, &v, why, whylen) < 0)
        return YS_EINVAL;
    if (v.op == YS_TOP_RANGE || v.unit == YS_TU_FRESHNESS) {
        snprintf(why, whylen, "a value is one measurement, not a range or a schedule");
        return YS_EINVAL;
    }
    bool same = v.unit == t->unit || v.unit == YS_TU_NUMBER ||
                (t->unit == YS_TU_FRESHNESS && v.unit == YS_TU_SECONDS);
    if (!same) {
        snprintf(why, whylen, "'%s' is not in the unit of the target '%s'", s, t->text);
        return YS_EINVAL;
    }
    *out = v.lo;
    return 0;
}

/* The goal id nearest to id, for "did you mean". */
static const char *nearest_goal(const struct ys_config *cfg, const char *id)
{
    const char **ids = ys_xcalloc(cfg->n_goals + 1, sizeof *ids);
    for (size_t i = 0; i < cfg->n_goals; i++)
        ids[i] = cfg->goals[i].id;
    const char *best = ys_cfg_nearest(id, ids);
    free(ids);
    return best;
}

static int record(struct ys_config *cfg, const char *id, const char *value, const char *note)
{
    const struct ys_goal *g = ys_config_find_goal(cfg, id);
    if (!g) {
        const char *near = nearest_goal(cfg, id);
        fprintf(stderr, "yardstick goal: no goal '%s' in %s", id, cfg->path);
        if (near)
            fprintf(stderr, " (did you mean '%s'?)", near);
        fputc('\n', stderr);
        return YS_EXIT_USAGE;
    }
    struct ys_goal_record rec = {.ts_ms = ys_wall_ms()};
    char why[160] = "";
    if (parse_value(&g->target, value, &rec.value, why, sizeof why) < 0) {
        fprintf(stderr, "yardstick goal: bad value '%s' for %s: %s\n", value, id, why);
        return YS_EXIT_USAGE;
    }
    snprintf(rec.note, sizeof rec.note, "%s", note ? note : "");
    if (g->measure.kind != YS_MEASURE_MANUAL)
        fprintf(stderr,
                "yardstick goal: note: %s is measured from data, not by hand; the "
                "record is kept but the report does not use it\n",
                id);
    struct ys_store_options opt;
    struct ys_store *store = NULL;
    struct ys_err err = {{0}};
    ys_daemon_store_options(cfg, &opt, false);
    int rc = ys_store_open(cfg->storage.kind, &opt, &store, &err);
    if (rc == 0)
        rc = store->type->put_goal_record(store, id, &rec, &err);
    if (store)
        ys_store_close(store);
    if (rc < 0) {
        char where[300];
        fprintf(stderr, "yardstick goal: %s: %s\n", ys_cli_store_name(cfg, where, sizeof where),
                err.msg);
        return YS_EXIT_FAIL;
    }
    char shown[64];
    ys_target_format_value(&g->target, rec.value, shown, sizeof shown);
    printf("recorded %s = %s (%s)\n", id, shown,
           ys_target_met(&g->target, rec.value) ? "meets the target" : "below the target");
    return YS_EXIT_OK;
}

int ys_cmd_goal(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"note", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *note = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'n': note = optarg; break;
        case 'h': usage(stdout); return YS_EXIT_OK;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : "";
    bool is_record = strcmp(sub, "record") == 0 && nargs == 3;
    bool is_list = strcmp(sub, "list") == 0 && nargs == 1;
    if (!is_record && !is_list) {
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    struct ys_config *cfg = NULL;
    int rc = ys_cli_load_config(config, &cfg);
    if (rc != 0)
        return rc;
    rc = is_list ? list_goals(cfg) : record(cfg, argv[optind + 1], argv[optind + 2], note);
    ys_config_unref(cfg);
    return rc;
}
