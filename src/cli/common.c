/*
 * common.c - what every command shares: logging flags and config loading
 * with diagnostics printed as FILE:LINE:COL: message.
 */
#include "cli/cli.h"

#include "config/diag.h"
#include "core/log.h"
#include "store/store.h"

const char *ys_cli_store_name(const struct ys_config *cfg, char *buf, size_t size)
{
    ys_store_describe(cfg->storage.kind, cfg->storage.path, buf, size);
    return buf;
}

int ys_cli_set_logging(const char *level, const char *format)
{
    enum ys_log_level lv = YS_LOG_INFO;
    enum ys_log_format fm = YS_LOG_TEXT;
    if (level && ys_log_parse_level(level, &lv) < 0) {
        fprintf(stderr, "yardstick: --log-level must be debug, info, warn, error or off\n");
        return YS_EXIT_USAGE;
    }
    if (format && ys_log_parse_format(format, &fm) < 0) {
        fprintf(stderr, "yardstick: --log-format must be text or json\n");
        return YS_EXIT_USAGE;
    }
    ys_log_setup(lv, fm);
    return 0;
}

int ys_cli_load_config(const char *path, struct ys_config **out)
{
    if (!path) {
        fprintf(stderr, "yardstick: no configuration file given (-c FILE)\n");
        return YS_EXIT_USAGE;
    }
    struct ys_diag diag;
    ys_diag_init(&diag, path);
    int rc = ys_config_load(path, out, &diag);
    if (rc < 0 || diag.n > 0) {
        ys_diag_print(&diag, stderr);
        fprintf(stderr, "%s: %zu error%s\n", path, diag.n, diag.n == 1 ? "" : "s");
        ys_diag_free(&diag);
        if (rc == 0 && *out) {
            ys_config_unref(*out);
            *out = NULL;
        }
        return YS_EXIT_USAGE;
    }
    ys_diag_free(&diag);
    return 0;
}
