/*
 * cmd_run.c - `yardstick run -c FILE`: parse options, load the config and
 * hand over to the daemon (daemon.c).
 */
#include "cli/cli.h"
#include "cli/daemon.h"

#include <getopt.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick run -c FILE [--log-level L] [--log-format text|json]\n\n"
                 "Runs the daemon: probes every check on its schedule and stores the results.\n"
                 "SIGTERM/SIGINT flush pending results and exit 0; SIGHUP reloads FILE.\n\n"
                 "  -c, --config FILE     configuration file\n"
                 "      --log-level L     debug, info (default), warn, error\n"
                 "      --log-format F    text (default) or json\n");
}

int ys_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"log-level", required_argument, NULL, 'L'},
        {"log-format", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *level = NULL, *logfmt = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'L': level = optarg; break;
        case 'F': logfmt = optarg; break;
        case 'h': usage(stdout); return YS_EXIT_OK;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    int rc = ys_cli_set_logging(level, logfmt);
    if (rc != 0)
        return rc;
    struct ys_config *cfg = NULL;
    if ((rc = ys_cli_load_config(path, &cfg)) != 0)
        return rc;
    return ys_daemon_run(cfg);
}
