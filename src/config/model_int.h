/*
 * model_int.h - private to the model parser (model*.c): the sections that
 * come after the checks (slos in model_slo.c; goals, milestones and
 * actions in model_goal.c) and the helpers they share.
 *
 * Each section parser takes the borrowed node tree and the config being
 * built, whose checks are already parsed (names may be NULL where a check
 * had errors), and adds every problem to the diag list.
 */
#ifndef YS_CONFIG_MODEL_INT_H
#define YS_CONFIG_MODEL_INT_H

#include "config/diag.h"
#include "config/model.h"
#include "config/node.h"
#include "core/tz.h"

#include <stddef.h>
#include <stdint.h>

/* Reads slos: (NULL or null: none). Resolves members against c->checks. */
void ys_model_parse_slos(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d);
/* Reads goals:, milestones: and actions: from the root map; due dates are
 * the end of their day in tz (borrowed). Needs the slos parsed first. */
void ys_model_parse_goals(const struct ys_node *root, struct ys_config *c, const struct ys_tz *tz,
                          struct ys_diag *d);
void ys_model_free_slos(struct ys_config *c);
/* Reads server: (NULL: defaults) into c->server (model_server.c). */
void ys_model_parse_server(const struct ys_node *n, struct ys_config *c, struct ys_diag *d);
void ys_model_free_server(struct ys_config *c);
void ys_model_free_goals(struct ys_config *c);

/* Adds "unknown check 'x' in <where> (did you mean 'y'?)" at n. */
void ys_model_unknown_check(const struct ys_config *c, const struct ys_node *n, const char *name,
                            const char *where, struct ys_diag *d);
/* Indices of the checks whose labels hold every pair of sel, into a new
 * array (free it); returns their count. */
size_t ys_model_select(const struct ys_config *c, const struct ys_strmap *sel, size_t **out);
/* Reads a window such as 30d, month or quarter; returns 0 or YS_ECONFIG. */
int ys_model_window(const struct ys_node *n, const char *what, struct ys_window *out,
                    struct ys_diag *d);
/* Whether s is a name of 1-128 of A-Z a-z 0-9 . _ - (checks, slos). */
bool ys_model_valid_name(const char *s);

#endif
