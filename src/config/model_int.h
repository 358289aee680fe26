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

#include <stdbool.h>
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
/* Reads notifiers: (NULL or null: none) into c->notifiers, each kind's
 * keys by its parser (model_notifier.c). */
void ys_model_parse_notifiers(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d);
void ys_model_free_notifiers(struct ys_config *c);
/* The notifier named name, or NULL. Borrows. */
const struct ys_notifier *ys_model_find_notifier(const struct ys_config *c, const char *name);

/* Adds "unknown check 'x' in <where> (did you mean 'y'?)" at n. */
void ys_model_unknown_check(const struct ys_config *c, const struct ys_node *n, const char *name,
                            const char *where, struct ys_diag *d);
/* Indices of the checks whose labels hold every pair of sel, into a new
 * array (free it); returns their count. */
size_t ys_model_select(const struct ys_config *c, const struct ys_strmap *sel, size_t **out);
/* Reads `checks: [a, b]` or `selector: {k: v}` (not both) of map n into
 * names or sel and resolves them into members (indices into c->checks,
 * each once). Unknown names and a selector matching nothing are errors;
 * giving neither is one only when required. */
void ys_model_members(const struct ys_node *n, struct ys_config *c, const char *where,
                      bool required, struct ys_strlist *names, struct ys_strmap *sel,
                      size_t *n_members, size_t **members, struct ys_diag *d);
/* Reads alerts: and maintenance: (model_alert.c); notifiers must be parsed
 * first, since rules name them. tz is the default zone (borrowed). */
void ys_model_parse_alerts(const struct ys_node *root, struct ys_config *c,
                           const struct ys_tz *tz, struct ys_diag *d);
void ys_model_free_alerts(struct ys_config *c);
/* Reads sources: (NULL or null: none) into c->sources (model_source.c). */
void ys_model_parse_sources(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d);
/* Sets check->source for every check of checks (the borrowed checks:
 * node) whose kind has a `source` key, reporting unknown names. Needs the
 * checks and the sources parsed. */
void ys_model_resolve_sources(const struct ys_node *checks, struct ys_config *c,
                              struct ys_diag *d);
void ys_model_free_sources(struct ys_config *c);
/* Reads a window such as 30d, month or quarter; returns 0 or YS_ECONFIG. */
int ys_model_window(const struct ys_node *n, const char *what, struct ys_window *out,
                    struct ys_diag *d);
/* Whether s is a name of 1-128 of A-Z a-z 0-9 . _ - (checks, slos). */
bool ys_model_valid_name(const char *s);

#endif
