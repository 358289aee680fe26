/*
 * k8s_nodes.c - the `k8s_nodes` kind (k8s.h): the share of nodes whose
 * Ready condition is True.
 *
 *   - name: nodes
 *     kind: k8s_nodes
 *     cluster: prod                 # a kubernetes source
 *     selector: node-role.kubernetes.io/worker   # labelSelector (optional)
 *     min_ready: 100                # percent Ready needed (default 100)
 *
 * The value is the percent Ready; the message names the nodes that are
 * not (NotReady, Unknown, or without a Ready condition).
 */
#include "probe/k8s.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ys_k8s_nodes_keys[] = {"cluster", "selector", "field_selector", "min_ready",
                                         NULL};

int ys_k8s_nodes_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_k8s_nodes_spec *s = ys_xcalloc(1, sizeof *s);
    char *ns = NULL;
    ys_k8s_spec_common(c, "k8s_nodes", &s->base, &ns, d);
    free(ns); /* nodes have no namespace: k8s_nodes_keys does not list it */
    s->base.paths[s->base.n_paths++] = ys_xstrdup("/api/v1/nodes");
    s->base.judge = ys_k8s_nodes_judge;
    s->min_ready_pct = 100;
    const struct ys_node *m = ys_node_get(c, "min_ready");
    if (m && ys_cfg_double(m, "min_ready", &s->min_ready_pct, d) == 0 &&
        !(s->min_ready_pct >= 0 && s->min_ready_pct <= 100))
        ys_diag_add(d, m->line, m->col, "min_ready must be a percent from 0 to 100");
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_k8s_nodes_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r)
{
    (void)now_ms;
    const struct ys_k8s_nodes_spec *s = spec;
    size_t i, total = json_array_size(lists[0]), ready = 0, dropped = 0;
    const json_t *node;
    char names[160] = "";
    json_array_foreach(lists[0], i, node)
    {
        const char *st = ys_k8s_condition(node, "Ready", NULL, NULL);
        if (st && strcmp(st, "True") == 0) {
            ready++;
            continue;
        }
        const char *name =
            json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
        ys_k8s_name_list(names, sizeof names, name ? name : "?", &dropped);
    }
    snprintf(r->facts, sizeof r->facts, "{\"nodes\":%zu,\"ready\":%zu}", total, ready);
    double pct = total ? 100.0 * (double)ready / (double)total : 0;
    if (total > 0)
        ys_k8s_value(r, pct);
    ys_k8s_verdict(r, total, "nodes", pct < s->min_ready_pct, names, dropped,
                   "%zu of %zu nodes Ready (%.1f%%, need %g%%); not Ready", ready, total, pct,
                   s->min_ready_pct);
}

YS_K8S_PROBE_TYPE(ys_probe_k8s_nodes, "k8s_nodes", ys_k8s_nodes_keys, ys_k8s_nodes_parse,
                  ys_k8s_spec_free);
