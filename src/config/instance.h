/*
 * instance.h - the instance: section (model_instance.c) and the shard rule
 * every part of the daemon agrees on.
 *
 * A check belongs to shard i of n when FNV-1a 64 of its name's bytes
 * (offset basis 0xcbf29ce484222325, prime 0x100000001b3, no terminator)
 * modulo n equals i - 1. Users can compute it themselves (docs/ha.md has
 * a one-line Python version), and it never changes between releases:
 * changing it would move every check to another daemon.
 */
#ifndef YS_CONFIG_INSTANCE_H
#define YS_CONFIG_INSTANCE_H

#include "config/diag.h"
#include "config/model.h"
#include "config/node.h"

#include <stdbool.h>
#include <stdint.h>

/* Reads the instance: section n (NULL: absent) into c->instance, filling
 * the defaults model.h names. Errors go to d with their position. */
void ys_model_parse_instance(const struct ys_node *n, struct ys_config *c, struct ys_diag *d);
void ys_model_free_instance(struct ys_config *c);

/* FNV-1a 64 of name's bytes (see above). */
uint64_t ys_shard_hash(const char *name);
/* The shard (1..n) of a check named name among n shards. */
int ys_shard_of(const char *name, int n);
/* Whether this instance probes the check named name: always without a
 * shard (count 0), else when its shard is shard_index. Heartbeat checks
 * are pushed, not probed: callers skip them before asking. */
bool ys_instance_probes(const struct ys_instance_config *ic, const char *name);
/* Whether ck is probed from this instance's location: a check without
 * locations from every one, else from those it lists. */
bool ys_instance_at(const struct ys_instance_config *ic, const struct ys_check *ck);
/* Both rules: this instance probes ck (its location, then its shard). */
bool ys_instance_probes_check(const struct ys_instance_config *ic, const struct ys_check *ck);

#endif
