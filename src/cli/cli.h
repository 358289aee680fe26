/*
 * cli.h - the commands of the yardstick binary and what they share.
 *
 * Exit codes: 0 success, 1 a check failed (check) or a runtime failure,
 * 2 usage or configuration error.
 */
#ifndef YS_CLI_CLI_H
#define YS_CLI_CLI_H

#include "config/model.h"
#include "core/result.h"
#include "core/result_json.h"

#include <jansson.h>
#include <stdio.h>

enum { YS_EXIT_OK = 0, YS_EXIT_FAIL = 1, YS_EXIT_USAGE = 2 };

int ys_cmd_run(int argc, char **argv);
int ys_cmd_check(int argc, char **argv);
int ys_cmd_validate(int argc, char **argv);
int ys_cmd_history(int argc, char **argv);
int ys_cmd_report(int argc, char **argv);
int ys_cmd_goal(int argc, char **argv);
int ys_cmd_import(int argc, char **argv);
/* `yardstick dns wait`: block until every server returns a value. */
int ys_cmd_dns(int argc, char **argv);
/* `yardstick exec --check NAME -- COMMAND...`: run a job, report it to a
 * heartbeat check (start ping, exit code, output tail), exit with its code. */
int ys_cmd_exec(int argc, char **argv);
/* `yardstick notify send`: try a notifier with a test alert (cmd_notify.c). */
int ys_cmd_notify(int argc, char **argv);
/* `yardstick rules`: the SLOs as Prometheus rules or a Sloth spec (cmd_rules.c). */
int ys_cmd_rules(int argc, char **argv);
/* `yardstick graph flux`: the Kustomizations' dependsOn graph as dot or
 * Mermaid (cmd_graph.c). */
int ys_cmd_graph(int argc, char **argv);
/* `yardstick migrate`: copy a SQLite store into PostgreSQL (cmd_migrate.c). */
int ys_cmd_migrate(int argc, char **argv);

/* The config's store named for messages (the SQLite file, or the
 * PostgreSQL server without its password), in buf. Returns buf. */
const char *ys_cli_store_name(const struct ys_config *cfg, char *buf, size_t size);

/* Applies the --log-level and --log-format values every command accepts
 * (NULL: keep the default). Returns 0 or YS_EXIT_USAGE after printing why. */
int ys_cli_set_logging(const char *level, const char *format);

/* Loads path, printing every diagnostic as FILE:LINE:COL: message on
 * stderr. Returns 0 and an owned config, or YS_EXIT_USAGE. */
int ys_cli_load_config(const char *path, struct ys_config **out);

/* One finished check for the printers below. */
struct ys_check_outcome {
    const struct ys_check *check;
    struct ys_result result;
    bool done;
};
/* Print outcomes as an aligned table, a JSON array, or JUnit XML. */
void ys_print_table(FILE *out, const struct ys_check_outcome *v, size_t n);
void ys_print_json(FILE *out, const struct ys_check_outcome *v, size_t n);
void ys_print_junit(FILE *out, const struct ys_check_outcome *v, size_t n, double total_s);

#endif
