/*
 * main.c - command dispatch: `yardstick <command> [options]`.
 *
 * Each command lives in src/cli/cmd_<name>.c and takes argc/argv from its
 * own name on. Global flags (--log-level, --log-format) are accepted by
 * every command through cli/common.c.
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", ys_cmd_run, "run the daemon: probe every check on its schedule and store results"},
    {"check", ys_cmd_check, "run every check once and print the results (a smoke test for CI)"},
    {"validate", ys_cmd_validate, "check a configuration file and print every error"},
    {"history", ys_cmd_history, "print a check's stored results or rollups"},
    {"report", ys_cmd_report, "measure every goal and SLO and print a report"},
    {"goal", ys_cmd_goal, "record a goal's value by hand (goal record), or list goals"},
    {"import", ys_cmd_import, "import a Markdown goals document as a goals file"},
    {"dns", ys_cmd_dns, "dns wait: block until every DNS server returns a value"},
    {"exec", ys_cmd_exec, "run a job and report its start, exit code and output to a heartbeat"},
    {"notify", ys_cmd_notify, "notify send: try a notifier with a test alert, or drain the outbox"},
    {"rules", ys_cmd_rules, "print the SLOs as Prometheus recording and burn-rate alert rules"},
    {"graph", ys_cmd_graph, "graph flux: print the Flux Kustomizations' dependsOn graph"},
    {"migrate", ys_cmd_migrate, "copy a SQLite store into PostgreSQL (resumable)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`yardstick <command> --help` describes a command's options.\n"
                 "`yardstick --version` prints the version.\n");
}

int main(int argc, char **argv)
{
    /* A peer that closes mid-write must be an error return, not a signal
     * that kills the process (OpenSSL writes with write(2)). */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("yardstick %s\n", YS_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "yardstick: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
