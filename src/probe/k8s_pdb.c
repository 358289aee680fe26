/*
 * k8s_pdb.c - the `k8s_pdb_coverage` kind (k8s.h): the share of selected
 * workloads that a PodDisruptionBudget (policy/v1) protects.
 *
 *   - name: critical-pdbs
 *     kind: k8s_pdb_coverage
 *     cluster: prod
 *     selector: critical=true       # which workloads (labelSelector)
 *     namespace: shop               # or namespaces: [shop, db]; default: all
 *     kinds: [deployments, statefulsets]   # the default
 *     min_coverage: 100             # percent that must be covered (default 100)
 *
 * The spec lists the workloads (with the check's selector) and then every
 * PodDisruptionBudget of the same scope (without it: a PDB does not carry
 * the workloads' labels), so the last path is always the PDBs'. A workload
 * is covered when a PDB in its namespace selects its pod template's labels
 * (spec.template.metadata.labels), with the API server's selector rules
 * (ys_k8s_selector_matches). `namespaces` filters here, after listing all
 * namespaces, because the API has no list call for several namespaces.
 *
 * The value is the percent covered; the message and facts name the
 * uncovered workloads. A workload that two or more PDBs select is not
 * covered ("deployment shop/api (2 PDBs select it)"), and is also counted
 * in facts as "multiple": the eviction API refuses to evict a pod that
 * more than one PDB selects, so a node drain stalls on it, which is what
 * the PDB was meant to make safe.
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

const char *const ys_k8s_pdb_keys[] = {"cluster",        "namespace", "namespaces",   "selector",
                                       "field_selector", "kinds",     "min_coverage", NULL};

static const char *const plural[] = {"deployments", "statefulsets", NULL};
static const char *const singular[] = {"deployment", "statefulset"};

static void add_path(void *spec, size_t k, const char *ns)
{
    struct ys_k8s_pdb_spec *s = spec;
    enum ys_k8s_workload w = k == 0 ? YS_K8S_DEPLOYMENT : YS_K8S_STATEFULSET;
    for (size_t i = 0; i < s->base.n_paths; i++)
        if (s->kinds[i] == w)
            return; /* listed twice */
    s->kinds[s->base.n_paths] = w;
    s->base.paths[s->base.n_paths++] = ys_k8s_list_path("/apis/apps/v1", ns, plural[k]);
}

/* `namespaces`: a list of Kubernetes names, not together with namespace. */
static void parse_namespaces(const struct ys_node *c, struct ys_k8s_pdb_spec *s, bool has_ns,
                             struct ys_diag *d)
{
    const struct ys_node *n = ys_node_get(c, "namespaces");
    struct ys_strlist l = {0};
    if (!n)
        return;
    if (ys_cfg_strlist(n, "namespaces", &l, d) < 0) {
        ys_strlist_free(&l);
        return;
    }
    if (has_ns)
        ys_diag_add(d, n->line, n->col, "use namespace or namespaces, not both");
    else if (l.n == 0)
        ys_diag_add(d, n->line, n->col, "namespaces must name at least one namespace");
    s->namespaces = l.v;
    s->n_namespaces = l.n;
}

int ys_k8s_pdb_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_k8s_pdb_spec *s = ys_xcalloc(1, sizeof *s);
    char *ns = NULL;
    ys_k8s_spec_common(c, "k8s_pdb_coverage", &s->base, &ns, d);
    s->base.judge = ys_k8s_pdb_judge;
    ys_k8s_spec_kinds(c, plural, "deployments or statefulsets", "at least one workload kind",
                      add_path, s, ns, d);
    /* The PDBs: the same namespace, no selector. */
    s->base.queries[s->base.n_paths] = ys_xstrdup("");
    s->base.paths[s->base.n_paths++] =
        ys_k8s_list_path("/apis/policy/v1", ns, "poddisruptionbudgets");
    parse_namespaces(c, s, ys_node_get(c, "namespace") != NULL, d);
    s->min_pct = 100;
    const struct ys_node *m = ys_node_get(c, "min_coverage");
    if (m && ys_cfg_double(m, "min_coverage", &s->min_pct, d) == 0 &&
        !(s->min_pct >= 0 && s->min_pct <= 100))
        ys_diag_add(d, m->line, m->col, "min_coverage must be a percent from 0 to 100");
    free(ns);
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_k8s_pdb_free(void *spec)
{
    struct ys_k8s_pdb_spec *s = spec;
    if (!s)
        return;
    struct ys_strlist l = {.v = s->namespaces, .n = s->n_namespaces};
    ys_strlist_free(&l);
    ys_k8s_spec_free(s);
}

static bool wanted_namespace(const struct ys_k8s_pdb_spec *s, const char *ns)
{
    if (!s->namespaces)
        return true;
    for (size_t i = 0; i < s->n_namespaces; i++)
        if (ns && strcmp(s->namespaces[i], ns) == 0)
            return true;
    return false;
}

/* The PDBs' selectors by namespace (an object of arrays; a missing
 * selector is JSON null), so each workload is held against its own
 * namespace's only: thousands of workloads times thousands of PDBs across
 * a cluster would hold the loop for seconds. Owned. */
static json_t *selectors_by_namespace(const json_t *pdbs)
{
    json_t *by = json_object();
    size_t i;
    const json_t *pdb;
    json_array_foreach(pdbs, i, pdb)
    {
        const char *ns =
            json_string_value(json_object_get(json_object_get(pdb, "metadata"), "namespace"));
        if (!ns)
            continue;
        json_t *sels = json_object_get(by, ns);
        if (!sels) {
            sels = json_array();
            json_object_set_new(by, ns, sels);
        }
        json_t *sel = json_object_get(json_object_get(pdb, "spec"), "selector");
        json_array_append_new(sels, sel ? json_incref(sel) : json_null());
    }
    return by;
}

/* How many PDBs in w's namespace select its pod template. */
static size_t pdbs_selecting(const json_t *w, const json_t *by_ns)
{
    const char *ns =
        json_string_value(json_object_get(json_object_get(w, "metadata"), "namespace"));
    const json_t *labels = json_object_get(
        json_object_get(json_object_get(json_object_get(w, "spec"), "template"), "metadata"),
        "labels");
    size_t i, n = 0;
    const json_t *sel;
    json_array_foreach(ns ? json_object_get(by_ns, ns) : NULL, i, sel)
    {
        if (ys_k8s_selector_matches(json_is_null(sel) ? NULL : sel, labels))
            n++;
    }
    return n;
}

/* Names kept for the facts: more never fit in YS_RESULT_FACTS_MAX. */
#define FACT_NAMES_MAX 32

/* {"workloads":N,"covered":K,"multiple":M,"uncovered":[...]} within the
 * result's facts, dropping names from the end (then "more":true). */
static void write_facts(struct ys_result *r, size_t total, size_t covered, size_t multiple,
                        json_t *uncovered)
{
    json_t *f = json_pack("{s:I,s:I,s:I}", "workloads", (json_int_t)total, "covered",
                          (json_int_t)covered, "multiple", (json_int_t)multiple);
    json_t *names = json_array();
    json_object_set_new(f, "uncovered", names);
    size_t i, len = 0;
    json_t *v;
    bool more = json_array_size(uncovered) < total - covered;
    json_array_foreach(uncovered, i, v)
    {
        json_array_append(names, v);
        len = json_dumpb(f, NULL, 0, JSON_COMPACT);
        if (len + sizeof ",\"more\":true" >= sizeof r->facts) {
            json_array_remove(names, json_array_size(names) - 1);
            more = true;
            break;
        }
    }
    if (more)
        json_object_set_new(f, "more", json_true());
    len = json_dumpb(f, r->facts, sizeof r->facts - 1, JSON_COMPACT);
    r->facts[len < sizeof r->facts ? len : 0] = '\0';
    json_decref(f);
}

void ys_k8s_pdb_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r)
{
    (void)now_ms;
    const struct ys_k8s_pdb_spec *s = spec;
    json_t *by_ns = selectors_by_namespace(lists[s->base.n_paths - 1]);
    size_t total = 0, covered = 0, multiple = 0, dropped = 0;
    json_t *uncovered = json_array();
    /* The head takes up to ~85 characters of the message's 240. */
    char names[150] = "";
    for (size_t k = 0; k + 1 < s->base.n_paths; k++) {
        size_t i;
        const json_t *w;
        json_array_foreach(lists[k], i, w)
        {
            const char *ns =
                json_string_value(json_object_get(json_object_get(w, "metadata"), "namespace"));
            if (!wanted_namespace(s, ns))
                continue;
            total++;
            size_t n = pdbs_selecting(w, by_ns);
            covered += n == 1;
            multiple += n > 1;
            if (n == 1)
                continue;
            char ref[320], one[400], why[40] = "";
            ys_k8s_ref(w, ref, sizeof ref);
            if (n > 1)
                snprintf(why, sizeof why, " (%zu PDBs select it)", n);
            snprintf(one, sizeof one, "%s %s%s", singular[s->kinds[k]], ref, why);
            ys_k8s_name_list(names, sizeof names, one, &dropped);
            if (json_array_size(uncovered) < FACT_NAMES_MAX)
                json_array_append_new(uncovered, json_string(one));
        }
    }
    write_facts(r, total, covered, multiple, uncovered);
    json_decref(uncovered);
    json_decref(by_ns);
    double pct = total ? 100.0 * (double)covered / (double)total : 0;
    if (total > 0)
        ys_k8s_value(r, pct);
    ys_k8s_verdict(r, total, "workloads", pct < s->min_pct, names, dropped,
                   "%zu of %zu workloads without a PodDisruptionBudget (%.1f%% covered, need %g%%)",
                   total - covered, total, pct, s->min_pct);
}

YS_K8S_PROBE_TYPE(ys_probe_k8s_pdb_coverage, "k8s_pdb_coverage", ys_k8s_pdb_keys, ys_k8s_pdb_parse,
                  ys_k8s_pdb_free);
