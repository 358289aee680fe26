/*
 * k8s_flux_graph.c - the spec.dependsOn graph of Flux Kustomizations as
 * Graphviz dot or Mermaid text (k8s.h), for `yardstick graph flux`
 * (src/cli/cmd_graph.c), which lists them with k8s_client.c.
 *
 * A node is a Kustomization, "namespace/name", in one state: Ready, Ready
 * False, Ready Unknown (or no Ready condition yet), suspended, or "not
 * listed" for a dependsOn target that is not among the items (missing, or
 * outside the namespace or selector listed). An entry of spec.dependsOn
 * without a namespace names one in the dependent's namespace, as Flux reads
 * it. Edges run from a dependency to its dependent, the order in which Flux
 * applies them, so `graph TD` reads top-down from the first to be applied.
 *
 * Data: the nodes in a JSON object (id -> state) and the edges in an array
 * of pairs, both sorted before printing so the same list gives the same
 * text. Pure: nothing but out is written.
 */
#include "probe/k8s.h"

#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

enum state { ST_READY, ST_FAILED, ST_UNKNOWN, ST_SUSPENDED, ST_MISSING };

/* What a node says under its name, and how it is drawn. */
static const struct {
    const char *label, *cls, *stroke, *fill, *dot_style, *dash;
} styles[] = {
    [ST_READY] = {"Ready", "ready", "#2e7d32", "#e8f5e9", "rounded,filled", ""},
    [ST_FAILED] = {"Ready False", "failed", "#c62828", "#ffebee", "rounded,filled", ""},
    [ST_UNKNOWN] = {"Ready Unknown", "unknown", "#ef6c00", "#fff3e0", "rounded,filled", ""},
    [ST_SUSPENDED] = {"suspended", "suspended", "#616161", "#eeeeee", "rounded,filled,dashed",
                      ",stroke-dasharray:5 3"},
    [ST_MISSING] = {"not listed", "missing", "#9e9e9e", "#ffffff", "rounded,dotted",
                    ",stroke-dasharray:2 2"},
};

struct edge {
    char *from, *to;
};

static enum state state_of(const json_t *k)
{
    if (json_is_true(json_object_get(json_object_get(k, "spec"), "suspend")))
        return ST_SUSPENDED;
    const char *ready = ys_k8s_condition(k, "Ready", NULL, NULL);
    if (ready && strcmp(ready, "True") == 0)
        return ST_READY;
    if (ready && strcmp(ready, "False") == 0)
        return ST_FAILED;
    return ST_UNKNOWN;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    int c = strcmp(x->from, y->from);
    return c ? c : strcmp(x->to, y->to);
}

/* The nodes (id -> state) and edges of items; edges sorted, unique. */
static json_t *collect(const json_t *items, struct edge **edges, size_t *n_edges)
{
    json_t *nodes = json_object();
    size_t i, j, n = 0, cap = 0;
    const json_t *k, *dep;
    struct edge *e = NULL;
    json_array_foreach(items, i, k)
    {
        const json_t *md = json_object_get(k, "metadata");
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *name = json_string_value(json_object_get(md, "name"));
        if (!ns || !name)
            continue;
        char *id = ys_xasprintf("%s/%s", ns, name);
        json_object_set_new(nodes, id, json_integer(state_of(k)));
        json_array_foreach(json_object_get(json_object_get(k, "spec"), "dependsOn"), j, dep)
        {
            const char *dname = json_string_value(json_object_get(dep, "name"));
            const char *dns = json_string_value(json_object_get(dep, "namespace"));
            if (!dname)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                e = ys_xrealloc(e, cap * sizeof *e);
            }
            e[n].from = ys_xasprintf("%s/%s", dns && dns[0] ? dns : ns, dname);
            e[n++].to = ys_xstrdup(id);
        }
        free(id);
    }
    for (i = 0; i < n; i++)
        if (!json_object_get(nodes, e[i].from))
            json_object_set_new(nodes, e[i].from, json_integer(ST_MISSING));
    if (n)
        qsort(e, n, sizeof *e, cmp_edge);
    size_t u = 0;
    for (i = 0; i < n; i++) {
        if (u > 0 && cmp_edge(&e[u - 1], &e[i]) == 0) {
            free(e[i].from);
            free(e[i].to);
            continue;
        }
        e[u++] = e[i];
    }
    *edges = e;
    *n_edges = u;
    return nodes;
}

/* s as a dot string: '"' and '\' escaped (Kubernetes names have neither,
 * but the list came from the network), a newline as dot's "\n" break. */
static void dot_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '\n') {
            fputs("\\n", out);
            continue;
        }
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* s for a Mermaid quoted label: '"' and the HTML specials as entities. */
static void mermaid_str(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '"': fputs("#quot;", out); break;
        case '<': fputs("#lt;", out); break;
        case '>': fputs("#gt;", out); break;
        default: fputc(*s, out);
        }
    }
}

static size_t index_of(const char *const *ids, size_t n, const char *id)
{
    const char *const *at = bsearch(&id, ids, n, sizeof *ids, cmp_str);
    return at ? (size_t)(at - ids) : 0;
}

static void write_dot(FILE *out, const json_t *nodes, const char *const *ids, size_t n,
                      const struct edge *e, size_t n_edges)
{
    fputs("digraph flux {\n"
          "  // Flux Kustomizations: an edge runs from a dependency to its dependent\n"
          "  node [shape=box, fontname=\"Helvetica\"];\n",
          out);
    for (size_t i = 0; i < n; i++) {
        int st = (int)json_integer_value(json_object_get(nodes, ids[i]));
        fputs("  ", out);
        dot_str(out, ids[i]);
        fputs(" [label=", out);
        char *label = ys_xasprintf("%s\n%s", ids[i], styles[st].label);
        dot_str(out, label);
        free(label);
        fprintf(out, ", style=\"%s\", color=\"%s\", fillcolor=\"%s\"];\n", styles[st].dot_style,
                styles[st].stroke, styles[st].fill);
    }
    for (size_t i = 0; i < n_edges; i++) {
        fputs("  ", out);
        dot_str(out, e[i].from);
        fputs(" -> ", out);
        dot_str(out, e[i].to);
        fputs(";\n", out);
    }
    fputs("}\n", out);
}

static void write_mermaid(FILE *out, const json_t *nodes, const char *const *ids, size_t n,
                          const struct edge *e, size_t n_edges)
{
    fputs("graph TD\n"
          "  %% Flux Kustomizations: an edge runs from a dependency to its dependent\n",
          out);
    for (size_t i = 0; i < n; i++) {
        int st = (int)json_integer_value(json_object_get(nodes, ids[i]));
        fprintf(out, "  n%zu[\"", i);
        mermaid_str(out, ids[i]);
        fprintf(out, "<br/>%s\"]:::%s\n", styles[st].label, styles[st].cls);
    }
    for (size_t i = 0; i < n_edges; i++)
        fprintf(out, "  n%zu --> n%zu\n", index_of(ids, n, e[i].from), index_of(ids, n, e[i].to));
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++)
        fprintf(out, "  classDef %s fill:%s,stroke:%s%s\n", styles[i].cls, styles[i].fill,
                styles[i].stroke, styles[i].dash);
}

size_t ys_flux_graph_write(FILE *out, const json_t *items, bool mermaid)
{
    struct edge *e = NULL;
    size_t n_edges = 0, n = 0;
    json_t *nodes = collect(items, &e, &n_edges);
    const char **ids = ys_xcalloc(json_object_size(nodes) + 1, sizeof *ids);
    const char *key;
    json_t *v;
    json_object_foreach(nodes, key, v)
    {
        ids[n++] = key;
    }
    qsort(ids, n, sizeof *ids, cmp_str);
    if (mermaid)
        write_mermaid(out, nodes, ids, n, e, n_edges);
    else
        write_dot(out, nodes, ids, n, e, n_edges);
    for (size_t i = 0; i < n_edges; i++) {
        free(e[i].from);
        free(e[i].to);
    }
    free(e);
    free(ids);
    json_decref(nodes);
    return n_edges;
}
