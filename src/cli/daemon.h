/*
 * daemon.h - the wiring of `yardstick run`: config, store writer, loop,
 * probes, scheduler and signals, and the SIGHUP reload.
 */
#ifndef YS_CLI_DAEMON_H
#define YS_CLI_DAEMON_H

#include "config/model.h"
#include "core/err.h"
#include "store/store.h"

/* Runs the daemon with cfg (takes the reference) until SIGTERM or SIGINT.
 * Returns an exit code. */
int ys_daemon_run(struct ys_config *cfg);

/* Gives every check of cfg its store id, creating ids as needed through
 * a connection of its own (any thread). */
int ys_daemon_register_checks(struct ys_config *cfg, struct ys_err *err);

/* Store options from a config's storage section. */
void ys_daemon_store_options(const struct ys_config *cfg, struct ys_store_options *opt,
                             bool read_only);

#endif
