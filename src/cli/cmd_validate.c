/*
 * cmd_validate.c - `yardstick validate -c FILE`: report every error in a
 * configuration file as FILE:LINE:COL: message (exit 2), or say it is ok.
 */
#include "cli/cli.h"

#include <getopt.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick validate -c FILE\n\n"
                 "Checks FILE and prints every error as FILE:LINE:COL: message.\n"
                 "Exit 0 when the file is valid, 2 otherwise.\n");
}

int ys_cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'h': usage(stdout); return YS_EXIT_OK;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (optind < argc && !path)
        path = argv[optind];
    struct ys_config *cfg = NULL;
    int rc = ys_cli_load_config(path, &cfg);
    if (rc != 0)
        return rc;
    printf("%s: ok (%zu check%s)\n", path, cfg->n_checks, cfg->n_checks == 1 ? "" : "s");
    ys_config_unref(cfg);
    return YS_EXIT_OK;
}
