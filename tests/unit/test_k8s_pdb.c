/*
 * test_k8s_pdb.c - the k8s_pdb_coverage kind and the Flux dependsOn graph
 * without a cluster: LabelSelector matching as the API server does it
 * (table-driven), the kind's config (paths, the PDB list without the
 * workloads' selector, errors), its judge on the recorded lists in
 * tests/data/k8s/ (deployments, statefulsets, two pages of pdbs), and
 * ys_flux_graph_write on the recorded Kustomizations, as dot and Mermaid.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "probe/k8s.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_fixture.h"

static json_t *items_of(const char *file)
{
    const char *unit = strstr(__FILE__, "unit/test_k8s_pdb.c");
    char path[4096];
    snprintf(path, sizeof path, "%.*sdata/k8s/%s", unit ? (int)(unit - __FILE__) : 0, __FILE__,
             file);
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    if (!doc)
        fail_msg("cannot load %s: %s", path, e.text);
    json_t *items = json_incref(json_object_get(doc, "items"));
    json_decref(doc);
    return items;
}

static void test_selector_matches(void **state)
{
    (void)state;
    static const struct {
        const char *selector, *labels;
        bool want;
    } cases[] = {
        /* policy/v1: null selects nothing, {} everything. */
        {"null", "{\"app\":\"web\"}", false},
        {"{}", "{\"app\":\"web\"}", true},
        {"{}", "null", true},
        {"{\"matchLabels\":{}}", "{}", true},
        {"{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\",\"tier\":\"fe\"}", true},
        {"{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"api\"}", false},
        {"{\"matchLabels\":{\"app\":\"web\"}}", "null", false},
        {"{\"matchLabels\":{\"app\":\"web\",\"tier\":\"fe\"}}", "{\"app\":\"web\"}", false},
        {"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]}",
         "{\"tier\":\"b\"}", true},
        {"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]}",
         "{\"tier\":\"c\"}", false},
        {"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\"]}]}", "{}",
         false},
        /* NotIn holds when the label is absent. */
        {"{\"matchExpressions\":[{\"key\":\"role\",\"operator\":\"NotIn\",\"values\":[\"p\"]}]}",
         "{}", true},
        {"{\"matchExpressions\":[{\"key\":\"role\",\"operator\":\"NotIn\",\"values\":[\"p\"]}]}",
         "{\"role\":\"p\"}", false},
        {"{\"matchExpressions\":[{\"key\":\"role\",\"operator\":\"NotIn\",\"values\":[\"p\"]}]}",
         "{\"role\":\"r\"}", true},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"Exists\"}]}", "{\"x\":\"\"}", true},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"Exists\"}]}", "{\"y\":\"1\"}",
         false},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"DoesNotExist\"}]}", "{\"y\":\"1\"}",
         true},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"DoesNotExist\"}]}", "{\"x\":\"1\"}",
         false},
        /* Both parts must hold (AND). */
        {"{\"matchLabels\":{\"app\":\"db\"},\"matchExpressions\":[{\"key\":\"role\",\"operator\":"
         "\"NotIn\",\"values\":[\"primary\"]}]}",
         "{\"app\":\"db\",\"role\":\"primary\"}", false},
        {"{\"matchLabels\":{\"app\":\"db\"},\"matchExpressions\":[{\"key\":\"role\",\"operator\":"
         "\"NotIn\",\"values\":[\"primary\"]}]}",
         "{\"app\":\"db\",\"role\":\"replica\"}", true},
        /* Malformed selectors select nothing. */
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"In\",\"values\":[]}]}",
         "{\"x\":\"1\"}", false},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"NotIn\"}]}", "{}", false},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"Exists\",\"values\":[\"1\"]}]}",
         "{\"x\":\"1\"}", false},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}",
         "{\"x\":\"2\"}", false},
        {"{\"matchExpressions\":[{\"operator\":\"Exists\"}]}", "{\"x\":\"1\"}", false},
        {"{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"In\",\"values\":[1]}]}",
         "{\"x\":\"1\"}", false},
        {"{\"matchLabels\":{\"x\":1}}", "{\"x\":\"1\"}", false},
        {"{\"matchLabels\":[\"x\"]}", "{\"x\":\"1\"}", false},
        {"\"app=web\"", "{\"app\":\"web\"}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *sel = json_loads(cases[i].selector, JSON_DECODE_ANY, NULL);
        json_t *labels = json_loads(cases[i].labels, JSON_DECODE_ANY, NULL);
        assert_non_null(sel);
        assert_non_null(labels);
        if (ys_k8s_selector_matches(json_is_null(sel) ? NULL : sel, labels) != cases[i].want)
            fail_msg("case %zu: %s against %s: want %d", i, cases[i].selector, cases[i].labels,
                     cases[i].want);
        json_decref(sel);
        json_decref(labels);
    }
}

static char tmpdir[] = "/tmp/ys-test-k8s-pdb-XXXXXX";
static char kcpath[300];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(kcpath, sizeof kcpath, "%s/kubeconfig", tmpdir);
    FILE *f = fopen(kcpath, "w");
    if (!f)
        return -1;
    fputs("current-context: c\n"
          "clusters: [{ name: k, cluster: { server: 'https://127.0.0.1:6443' } }]\n"
          "users: [{ name: u, user: { token: t } }]\n"
          "contexts: [{ name: c, context: { cluster: k, user: u } }]\n",
          f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(kcpath);
    rmdir(tmpdir);
    return 0;
}

static void test_pdb_config(void **state)
{
    (void)state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "sources: [{ name: prod, kind: kubernetes, kubeconfig: %s }]\n"
             "checks:\n"
             "  - { name: p, kind: k8s_pdb_coverage, cluster: prod, selector: critical=true }\n"
             "  - { name: q, kind: k8s_pdb_coverage, cluster: prod, namespace: shop,\n"
             "      kinds: [statefulsets], min_coverage: 50 }\n"
             "  - { name: r, kind: k8s_pdb_coverage, cluster: prod, namespaces: [a, b] }\n",
             kcpath);
    struct loaded l;
    load(&l, yaml);
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    const struct ys_k8s_pdb_spec *p = l.cfg->checks[0].spec, *q = l.cfg->checks[1].spec,
                                 *r = l.cfg->checks[2].spec;
    assert_ptr_equal(l.cfg->checks[0].source, &l.cfg->sources[0]);
    assert_int_equal(p->base.n_paths, 3);
    assert_string_equal(p->base.paths[0], "/apis/apps/v1/deployments");
    assert_string_equal(p->base.paths[1], "/apis/apps/v1/statefulsets");
    assert_string_equal(p->base.paths[2], "/apis/policy/v1/poddisruptionbudgets");
    /* The selector picks workloads; the PDBs are listed without it. */
    assert_string_equal(p->base.query, "labelSelector=critical%3Dtrue");
    assert_null(p->base.queries[0]);
    assert_string_equal(p->base.queries[2], "");
    assert_float_equal(p->min_pct, 100, 1e-9);
    assert_int_equal(q->base.n_paths, 2);
    assert_int_equal(q->kinds[0], YS_K8S_STATEFULSET);
    assert_string_equal(q->base.paths[0], "/apis/apps/v1/namespaces/shop/statefulsets");
    assert_string_equal(q->base.paths[1], "/apis/policy/v1/namespaces/shop/poddisruptionbudgets");
    assert_float_equal(q->min_pct, 50, 1e-9);
    assert_int_equal(r->n_namespaces, 2);
    assert_string_equal(r->namespaces[1], "b");
    unload(&l);

    snprintf(yaml, sizeof yaml,
             "sources: [{ name: prod, kind: kubernetes, kubeconfig: %s }]\n"
             "checks:\n"
             "  - { name: a, kind: k8s_pdb_coverage, cluster: prod, kinds: [daemonsets] }\n"
             "  - { name: b, kind: k8s_pdb_coverage, cluster: prod, min_coverage: 101 }\n"
             "  - { name: c, kind: k8s_pdb_coverage, cluster: prod, namespace: x, namespaces: [y] "
             "}\n"
             "  - { name: d, kind: k8s_pdb_coverage, cluster: prod, namespaces: [] }\n",
             kcpath);
    load(&l, yaml);
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 3, 62, "kinds: 'daemonsets' is not deployments or statefulsets");
    assert_diag(&l, 4, 69, "min_coverage must be a percent from 0 to 100");
    assert_diag(&l, 5, 81, "use namespace or namespaces, not both");
    assert_diag(&l, 6, 67, "namespaces must name at least one namespace");
    unload(&l);
}

/* The recorded lists as the probe hands them over: deployments,
 * statefulsets, then both pages of PDBs in one array. */
static void recorded(json_t **lists)
{
    lists[0] = items_of("deployments.json");
    lists[1] = items_of("statefulsets.json");
    lists[2] = items_of("pdbs-page1.json");
    json_t *p2 = items_of("pdbs-page2.json");
    json_array_extend(lists[2], p2);
    json_decref(p2);
}

/* Keeps the items of l with label critical=true, as the labelSelector
 * would have on the server. */
static void keep_critical(json_t *l)
{
    for (size_t i = json_array_size(l); i-- > 0;) {
        const json_t *md = json_object_get(json_array_get(l, i), "metadata");
        const char *c =
            json_string_value(json_object_get(json_object_get(md, "labels"), "critical"));
        if (!c || strcmp(c, "true") != 0)
            json_array_remove(l, i);
    }
}

static void test_pdb_judge(void **state)
{
    (void)state;
    json_t *lists[3];
    recorded(lists);
    keep_critical(lists[0]);
    keep_critical(lists[1]);
    struct ys_k8s_pdb_spec s = {
        .base = {.n_paths = 3}, .kinds = {YS_K8S_DEPLOYMENT, YS_K8S_STATEFULSET}, .min_pct = 100};
    struct ys_result r;
    ys_result_init(&r);
    ys_k8s_pdb_judge(&s, lists, 0, &r);
    /* web: matchLabels; api: In + DoesNotExist; checkout: its own and the
     * namespace-wide {} (multiple); search: {} only; kafka: {} and Exists
     * (multiple); postgres: a NotIn that excludes it, a null selector and a
     * PDB in another namespace, so uncovered. Two PDBs are not coverage:
     * the eviction API refuses such pods, so a drain stalls on them. */
    assert_false(r.ok);
    assert_string_equal(r.message,
                        "3 of 6 workloads without a PodDisruptionBudget (50.0% covered, need "
                        "100%): deployment rollout/checkout (2 PDBs select it), statefulset "
                        "db/postgres, statefulset rollout/kafka (2 PDBs select it)");
    assert_float_equal(r.value, 50, 1e-9);
    assert_string_equal(r.facts, "{\"workloads\":6,\"covered\":3,\"multiple\":2,"
                                 "\"uncovered\":[\"deployment rollout/checkout (2 PDBs select "
                                 "it)\",\"statefulset db/postgres\",\"statefulset "
                                 "rollout/kafka (2 PDBs select it)\"]}");
    s.min_pct = 50;
    ys_result_init(&r);
    ys_k8s_pdb_judge(&s, lists, 0, &r);
    assert_true(r.ok);
    /* namespaces: shop and rollout only, so postgres is not counted; checkout
     * and kafka, with two PDBs each, still are not covered. */
    char *ns[] = {"shop", "rollout"};
    s.namespaces = ns;
    s.n_namespaces = 2;
    s.min_pct = 100;
    ys_result_init(&r);
    ys_k8s_pdb_judge(&s, lists, 0, &r);
    assert_false(r.ok);
    assert_float_equal(r.value, 60, 1e-9);
    assert_string_equal(r.facts, "{\"workloads\":5,\"covered\":3,\"multiple\":2,"
                                 "\"uncovered\":[\"deployment rollout/checkout (2 PDBs select "
                                 "it)\",\"statefulset rollout/kafka (2 PDBs select it)\"]}");
    for (int i = 0; i < 3; i++)
        json_decref(lists[i]);
}

static void test_pdb_judge_edges(void **state)
{
    (void)state;
    json_t *lists[3];
    recorded(lists);
    struct ys_k8s_pdb_spec s = {
        .base = {.n_paths = 3}, .kinds = {YS_K8S_DEPLOYMENT, YS_K8S_STATEFULSET}, .min_pct = 100};
    struct ys_result r;
    /* No PDBs at all: every workload is named, as many as fit, in the
     * message and in facts, which stay valid JSON within their cap. */
    json_array_clear(lists[2]);
    for (int i = 0; i < 40; i++)
        json_array_append_new(lists[0], json_pack("{s:{s:s,s:s}}", "metadata", "name",
                                                  "a-rather-long-deployment-name-to-fill-the-facts",
                                                  "namespace", "padding-namespace"));
    ys_result_init(&r);
    ys_k8s_pdb_judge(&s, lists, 0, &r);
    assert_false(r.ok);
    assert_float_equal(r.value, 0, 1e-9);
    assert_non_null(strstr(r.message, "53 of 53 workloads without a PodDisruptionBudget"));
    /* The names are cut whole and the count of the rest ends the message. */
    size_t ml = strlen(r.message);
    assert_true(ml < sizeof r.message - 1);
    assert_string_equal(r.message + ml - 5, " more");
    json_t *f = json_loads(r.facts, 0, NULL);
    assert_non_null(f);
    assert_true(json_is_true(json_object_get(f, "more")));
    assert_int_equal(json_integer_value(json_object_get(f, "workloads")), 53);
    assert_true(json_array_size(json_object_get(f, "uncovered")) > 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "uncovered"), 0)),
                        "deployment shop/web");
    json_decref(f);
    /* Nothing selected: its own failure, no value. */
    json_array_clear(lists[0]);
    json_array_clear(lists[1]);
    ys_result_init(&r);
    ys_k8s_pdb_judge(&s, lists, 0, &r);
    assert_false(r.ok);
    assert_string_equal(r.message, "no workloads matched");
    assert_false(r.flags & YS_RF_HAS_VALUE);
    for (int i = 0; i < 3; i++)
        json_decref(lists[i]);
}

/* The graph of the recorded Kustomizations, written to a string. */
static char *graph(const json_t *items, bool mermaid, size_t *edges)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *edges = ys_flux_graph_write(f, items, mermaid);
    fclose(f);
    return buf;
}

static void test_flux_graph_dot(void **state)
{
    (void)state;
    json_t *items = items_of("kustomizations.json");
    size_t edges;
    char *dot = graph(items, false, &edges);
    assert_int_equal(edges, 7);
    static const char *const want[] = {
        "digraph flux {\n",
        /* sorted nodes, each with its state */
        "  \"flux-system/apps\" [label=\"flux-system/apps\\nReady False\", "
        "style=\"rounded,filled\", color=\"#c62828\", fillcolor=\"#ffebee\"];\n"
        "  \"flux-system/flux-system\" [label=\"flux-system/flux-system\\nReady\", "
        "style=\"rounded,filled\", color=\"#2e7d32\", fillcolor=\"#e8f5e9\"];\n"
        "  \"flux-system/tenants\" [label=\"flux-system/tenants\\nReady False\", ",
        "  \"infra/infra\" [label=\"infra/infra\\nsuspended\", style=\"rounded,filled,dashed\"",
        /* a dependsOn without namespace is the dependent's: monitoring's */
        "  \"monitoring/cert-manager\" [label=\"monitoring/cert-manager\\nnot listed\", "
        "style=\"rounded,dotted\"",
        "  \"monitoring/monitoring\" [label=\"monitoring/monitoring\\nReady\", ",
        /* sorted edges, dependency -> dependent */
        "  \"flux-system/apps\" -> \"flux-system/tenants\";\n"
        "  \"flux-system/flux-system\" -> \"flux-system/apps\";\n"
        "  \"flux-system/flux-system\" -> \"infra/infra\";\n"
        "  \"infra/infra\" -> \"flux-system/apps\";\n"
        "  \"infra/infra\" -> \"monitoring/monitoring\";\n"
        "  \"monitoring/cert-manager\" -> \"monitoring/monitoring\";\n"
        "  \"monitoring/monitoring\" -> \"flux-system/tenants\";\n"
        "}\n",
    };
    const char *at = dot;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("missing (in order) %s\nin:\n%s", want[i], dot);
        at = hit + strlen(want[i]);
    }
    assert_int_equal(*at, '\0');
    /* The same list in another order gives the same text. */
    json_t *rev = json_array();
    for (size_t i = json_array_size(items); i-- > 0;)
        json_array_append(rev, json_array_get(items, i));
    size_t edges2;
    char *dot2 = graph(rev, false, &edges2);
    assert_string_equal(dot2, dot);
    free(dot2);
    free(dot);
    json_decref(rev);
    json_decref(items);
}

static void test_flux_graph_mermaid(void **state)
{
    (void)state;
    json_t *items = items_of("kustomizations.json");
    /* A duplicate dependsOn entry draws one edge; an entry without a name
     * none; a quote in a name is escaped. */
    json_t *deps = json_object_get(json_object_get(json_array_get(items, 1), "spec"), "dependsOn");
    json_array_append_new(deps, json_pack("{s:s}", "name", "flux-system"));
    json_array_append_new(deps, json_pack("{s:s}", "namespace", "x"));
    json_t *odd = json_pack("{s:{s:s,s:s}}", "metadata", "name", "we\"ird", "namespace", "q");
    json_array_append_new(items, odd);
    size_t edges;
    char *m = graph(items, true, &edges);
    assert_int_equal(edges, 7);
    static const char *const want[] = {
        "graph TD\n",
        "  n0[\"flux-system/apps<br/>Ready False\"]:::failed\n"
        "  n1[\"flux-system/flux-system<br/>Ready\"]:::ready\n"
        "  n2[\"flux-system/tenants<br/>Ready False\"]:::failed\n"
        "  n3[\"infra/infra<br/>suspended\"]:::suspended\n"
        "  n4[\"monitoring/cert-manager<br/>not listed\"]:::missing\n"
        "  n5[\"monitoring/monitoring<br/>Ready\"]:::ready\n"
        "  n6[\"q/we#quot;ird<br/>Ready Unknown\"]:::unknown\n"
        "  n0 --> n2\n"
        "  n1 --> n0\n"
        "  n1 --> n3\n"
        "  n3 --> n0\n"
        "  n3 --> n5\n"
        "  n4 --> n5\n"
        "  n5 --> n2\n"
        "  classDef ready fill:#e8f5e9,stroke:#2e7d32\n",
        "  classDef missing fill:#ffffff,stroke:#9e9e9e,stroke-dasharray:2 2\n",
    };
    const char *at = m;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("missing (in order) %s\nin:\n%s", want[i], m);
        at = hit + strlen(want[i]);
    }
    free(m);
    /* No items: an empty graph, still valid. */
    json_array_clear(items);
    m = graph(items, false, &edges);
    assert_int_equal(edges, 0);
    assert_non_null(strstr(m, "digraph flux {\n"));
    free(m);
    json_decref(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_matches), cmocka_unit_test(test_pdb_config),
        cmocka_unit_test(test_pdb_judge),        cmocka_unit_test(test_pdb_judge_edges),
        cmocka_unit_test(test_flux_graph_dot),   cmocka_unit_test(test_flux_graph_mermaid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
