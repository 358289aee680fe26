/*
 * test_k8s.c - the Kubernetes kinds without a cluster: the kubeconfig
 * reader (contexts, token, base64 *-data fields, relative paths, refused
 * exec plugins, missing pieces), the kubernetes source and `cluster:`
 * resolution through ys_config_load_string, one page's verdict (401, 403,
 * Status documents, not a list), and the judges of k8s_nodes,
 * k8s_workloads, flux, k8s_pvcs, k8s_certificates, k8s_condition and
 * k8s_cronjobs on the recorded API
 * lists in tests/data/k8s/.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "probe/k8s.h"
#include "probe/probe.h"

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

static char tmpdir[] = "/tmp/ys-test-k8s-XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" */
#define PEM_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
#define PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

#define KUBECONFIG                                                                                 \
    "apiVersion: v1\n"                                                                             \
    "kind: Config\n"                                                                               \
    "current-context: admin\n"                                                                     \
    "clusters:\n"                                                                                  \
    "  - name: prod\n"                                                                             \
    "    cluster:\n"                                                                               \
    "      server: https://10.0.0.1:6443/\n"                                                       \
    "      certificate-authority-data: " PEM_B64 "\n"                                              \
    "  - name: lab\n"                                                                              \
    "    cluster: { server: https://lab:6443, certificate-authority: pki/ca.crt }\n"               \
    "users:\n"                                                                                     \
    "  - name: admin\n"                                                                            \
    "    user: { token: abc.def }\n"                                                               \
    "  - name: certs\n"                                                                            \
    "    user:\n"                                                                                  \
    "      client-certificate-data: " PEM_B64 "\n"                                                 \
    "      client-key: /etc/k/key.pem\n"                                                           \
    "      client-certificate: ignored-when-data-is-given\n"                                       \
    "  - name: plugin\n"                                                                           \
    "    user: { exec: { command: aws, args: [eks, get-token] } }\n"                               \
    "  - name: halfcert\n"                                                                         \
    "    user: { client-certificate: c.pem }\n"                                                    \
    "contexts:\n"                                                                                  \
    "  - { name: admin, context: { cluster: prod, user: admin } }\n"                               \
    "  - { name: lab, context: { cluster: lab, user: certs } }\n"                                  \
    "  - { name: plugin, context: { cluster: prod, user: plugin } }\n"                             \
    "  - { name: half, context: { cluster: prod, user: halfcert } }\n"                             \
    "  - { name: lost, context: { cluster: nowhere, user: admin } }\n"

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    write_file("kubeconfig", KUBECONFIG);
    write_file("broken", "clusters: [\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/kubeconfig", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/broken", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return 0;
}

static void free_source(struct ys_source *s)
{
    free(s->url);
    free(s->bearer_token);
    free(s->ca_file);
    free(s->token_file);
    free(s->ca_pem);
    free(s->cert_file);
    free(s->key_file);
    free(s->cert_pem);
    free(s->key_pem);
    memset(s, 0, sizeof *s);
}

static int kc(const char *ctx, struct ys_source *s, char *err, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, "%s/kubeconfig", tmpdir);
    memset(s, 0, sizeof *s);
    err[0] = '\0';
    return ys_k8s_kubeconfig_load(path, ctx, s, err, cap);
}

static void test_kubeconfig_current_context(void **state)
{
    (void)state;
    struct ys_source s;
    char err[512];
    assert_int_equal(kc(NULL, &s, err, sizeof err), 0);
    assert_string_equal(s.url, "https://10.0.0.1:6443");
    assert_string_equal(s.bearer_token, "abc.def");
    assert_string_equal(s.ca_pem, PEM);
    assert_null(s.ca_file);
    assert_null(s.cert_file);
    free_source(&s);
}

static void test_kubeconfig_named_context_paths(void **state)
{
    (void)state;
    struct ys_source s;
    char err[512], want[300];
    assert_int_equal(kc("lab", &s, err, sizeof err), 0);
    assert_string_equal(s.url, "https://lab:6443");
    snprintf(want, sizeof want, "%s/pki/ca.crt", tmpdir); /* relative to the kubeconfig */
    assert_string_equal(s.ca_file, want);
    assert_string_equal(s.cert_pem, PEM); /* -data wins over the path */
    assert_null(s.cert_file);
    assert_string_equal(s.key_file, "/etc/k/key.pem");
    assert_null(s.bearer_token);
    free_source(&s);
}

static void test_kubeconfig_errors(void **state)
{
    (void)state;
    struct ys_source s;
    char err[512];
    assert_int_equal(kc("plugin", &s, err, sizeof err), YS_ECONFIG);
    assert_non_null(strstr(err, "user 'plugin' uses an exec or auth-provider plugin"));
    free_source(&s);
    assert_int_equal(kc("half", &s, err, sizeof err), YS_ECONFIG);
    assert_non_null(strstr(err, "client certificate without its key"));
    free_source(&s);
    assert_int_equal(kc("lost", &s, err, sizeof err), YS_ECONFIG);
    assert_non_null(strstr(err, "context 'lost' names no known cluster"));
    free_source(&s);
    assert_int_equal(kc("nope", &s, err, sizeof err), YS_ECONFIG);
    assert_non_null(strstr(err, "has no context 'nope'"));
    free_source(&s);

    char path[256];
    snprintf(path, sizeof path, "%s/broken", tmpdir);
    memset(&s, 0, sizeof s);
    assert_int_equal(ys_k8s_kubeconfig_load(path, NULL, &s, err, sizeof err), YS_ECONFIG);
    assert_non_null(strstr(err, "kubeconfig "));
    assert_non_null(strstr(err, "broken:"));
    free_source(&s);
}

static void test_in_cluster(void **state)
{
    (void)state;
    struct ys_source s = {0};
    char err[256];
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(ys_k8s_in_cluster_load(&s, err, sizeof err), YS_ECONFIG);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(ys_k8s_in_cluster_load(&s, err, sizeof err), 0);
    assert_string_equal(s.url, "https://[fd00::1]:443");
    assert_string_equal(s.token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
    assert_string_equal(s.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    free_source(&s);
}

static void test_config_cluster(void **state)
{
    (void)state;
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "sources:\n"
             "  - { name: prod, kind: kubernetes, kubeconfig: %s/kubeconfig, timeout: 3s }\n"
             "  - { name: prom, kind: prometheus, url: 'http://p:9090' }\n"
             "checks:\n"
             "  - { name: n, kind: k8s_nodes, cluster: prod, selector: 'role in (a,b)' }\n"
             "  - { name: w, kind: k8s_workloads, cluster: prod, namespace: shop,\n"
             "      kinds: [daemonsets, deployments] }\n"
             "  - { name: f, kind: flux, cluster: prod, kinds: [helmreleases] }\n",
             tmpdir);
    struct loaded l;
    load(&l, yaml);
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    const struct ys_check *n = &l.cfg->checks[0], *w = &l.cfg->checks[1], *f = &l.cfg->checks[2];
    assert_ptr_equal(n->source, &l.cfg->sources[0]);
    assert_int_equal(n->source->kind, YS_SOURCE_KUBERNETES);
    assert_int_equal(n->source->timeout_ms, 3000);
    const struct ys_k8s_spec *ns = n->spec, *ws = w->spec, *fs = f->spec;
    assert_string_equal(ns->paths[0], "/api/v1/nodes");
    assert_string_equal(ns->query, "labelSelector=role%20in%20%28a%2Cb%29");
    assert_int_equal(ws->n_paths, 2);
    assert_string_equal(ws->paths[0], "/apis/apps/v1/namespaces/shop/daemonsets");
    assert_string_equal(ws->paths[1], "/apis/apps/v1/namespaces/shop/deployments");
    assert_int_equal(fs->n_paths, 1);
    assert_string_equal(fs->paths[0], "/apis/helm.toolkit.fluxcd.io/v2/helmreleases");
    unload(&l);
}

/* The source's fingerprint follows the kubeconfig's contents, which are not
 * in the config's own text, so a reload restarts the checks after a
 * credential rotation. */
static void test_fingerprint_follows_kubeconfig(void **state)
{
    (void)state;
    char yaml[512], path[300];
    snprintf(yaml, sizeof yaml, "sources:\n  - { name: p, kind: kubernetes, kubeconfig: %s/kc2 }\n",
             tmpdir);
    snprintf(path, sizeof path, "%s/kc2", tmpdir);
    const char *kc1 = "current-context: c\n"
                      "clusters: [{ name: k, cluster: { server: 'https://a:6443' } }]\n"
                      "users: [{ name: u, user: { token: one } }]\n"
                      "contexts: [{ name: c, context: { cluster: k, user: u } }]\n";
    write_file("kc2", kc1);
    struct loaded l;
    load(&l, yaml);
    assert_int_equal(l.rc, 0);
    uint64_t fp1 = l.cfg->sources[0].fingerprint;
    unload(&l);
    load(&l, yaml);
    assert_true(l.cfg->sources[0].fingerprint == fp1); /* same file, same hash */
    unload(&l);
    char kc2[512];
    snprintf(kc2, sizeof kc2, "%s", kc1);
    memcpy(strstr(kc2, "token: one"), "token: two", 10);
    write_file("kc2", kc2);
    load(&l, yaml);
    assert_int_equal(l.rc, 0);
    assert_string_equal(l.cfg->sources[0].bearer_token, "two");
    assert_true(l.cfg->sources[0].fingerprint != fp1);
    unload(&l);
    unlink(path);
}

static void test_config_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "sources:\n"
             "  - { name: prom, kind: prometheus, url: 'http://p:9090' }\n"
             "  - { name: k, kind: kubernetes }\n"
             "  - { name: k2, kind: kubernetes, kubeconfig: /nonexistent/kc, in_cluster: true }\n"
             "checks:\n"
             "  - { name: a, kind: k8s_nodes, cluster: prom }\n"
             "  - { name: b, kind: k8s_workloads, cluster: k, namespace: Bad_NS, kinds: [pods] }\n"
             "  - { name: c, kind: flux }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 3, 5, "a kubernetes source needs kubeconfig: PATH or in_cluster: true");
    assert_diag(&l, 4, 47, "use kubeconfig or in_cluster, not both");
    assert_diag(&l, 6, 42, "cluster 'prom' of check 'a' is not a kubernetes source");
    assert_diag(&l, 7, 60, "namespace 'Bad_NS' is not a Kubernetes name");
    assert_diag(&l, 7, 75, "kinds: 'pods' is not deployments, statefulsets or daemonsets");
    assert_diag(&l, 8, 5, "missing required field 'cluster'");
    unload(&l);

    /* in_cluster: false still asks for credentials after another source's
     * error; a mistyped in_cluster says only that. */
    load(&l, "sources:\n"
             "  - { name: prom, kind: prometheus }\n"
             "  - { name: k, kind: kubernetes, in_cluster: false }\n"
             "  - { name: k2, kind: kubernetes, in_cluster: perhaps }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 5, "missing required field 'url'");
    assert_diag(&l, 3, 5, "a kubernetes source needs kubeconfig: PATH or in_cluster: true");
    for (size_t i = 0; i < l.diag.n; i++)
        if (l.diag.v[i].line == 4)
            assert_null(strstr(l.diag.v[i].msg, "needs kubeconfig"));
    unload(&l);
}

static void test_page_parse(void **state)
{
    (void)state;
    struct ys_result r;
    const char *st =
        "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"nodes is forbidden: "
        "User \\\"x\\\" cannot list\",\"code\":403}";
    ys_result_init(&r);
    assert_null(ys_k8s_page_parse("prod", 403, st, strlen(st), &r));
    assert_false(r.ok);
    assert_int_equal(r.errclass, YS_EC_HTTP_STATUS);
    assert_string_equal(r.message, "cluster prod: forbidden (403): the credentials lack list "
                                   "permission: nodes is forbidden: User \"x\" cannot list");
    ys_result_init(&r);
    assert_null(ys_k8s_page_parse("prod", 401, "", 0, &r));
    assert_string_equal(r.message,
                        "cluster prod: unauthorized (401): the credentials were refused");
    ys_result_init(&r);
    assert_null(ys_k8s_page_parse("prod", 200, "{\"kind\":\"Node\"}", 15, &r));
    assert_string_equal(r.message, "cluster prod: the answer is not a list (no items)");
    ys_result_init(&r);
    assert_null(ys_k8s_page_parse("prod", 200, "<html>", 6, &r));
    assert_int_equal(r.errclass, YS_EC_ASSERTION);
    ys_result_init(&r);
    json_t *doc = ys_k8s_page_parse("prod", 200, "{\"items\":[]}", 12, &r);
    assert_non_null(doc);
    assert_true(r.ok);
    json_decref(doc);
}

static void test_time(void **state)
{
    (void)state;
    assert_int_equal(ys_k8s_time("1970-01-02T00:00:01Z"), 86401000);
    assert_int_equal(ys_k8s_time("2026-11-28T12:00:00Z"), 1795867200000LL);
    assert_int_equal(ys_k8s_time("2026-11-28 12:00:00"), -1);
    assert_int_equal(ys_k8s_time(NULL), -1);
}

/* A recorded list's items (owned). */
static json_t *items_of(const char *file)
{
    const char *unit = strstr(__FILE__, "unit/test_k8s.c");
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

static void test_nodes_judge(void **state)
{
    (void)state;
    json_t *all = items_of("nodes-page1.json"), *p2 = items_of("nodes-page2.json");
    json_array_extend(all, p2);
    json_decref(p2);
    struct ys_k8s_nodes_spec s = {.base = {.n_paths = 1}, .min_ready_pct = 100};
    struct ys_result r;
    ys_result_init(&r);
    ys_k8s_nodes_judge(&s, &all, 0, &r);
    assert_false(r.ok);
    assert_true(r.flags & YS_RF_HAS_VALUE);
    assert_float_equal(r.value, 200.0 / 3, 1e-9);
    assert_string_equal(r.message, "2 of 3 nodes Ready (66.7%, need 100%); not Ready: n3");
    assert_string_equal(r.facts, "{\"nodes\":3,\"ready\":2}");
    s.min_ready_pct = 66;
    ys_result_init(&r);
    ys_k8s_nodes_judge(&s, &all, 0, &r);
    assert_true(r.ok);
    json_array_clear(all);
    ys_result_init(&r);
    ys_k8s_nodes_judge(&s, &all, 0, &r);
    assert_false(r.ok);
    assert_string_equal(r.message, "no nodes matched");
    assert_false(r.flags & YS_RF_HAS_VALUE);
    json_decref(all);
}

/* The items of file in namespace ns, or named name there when not NULL. */
static json_t *items_in(const char *file, const char *ns, const char *name)
{
    json_t *all = items_of(file), *out = json_array(), *it;
    size_t i;
    json_array_foreach(all, i, it)
    {
        const json_t *md = json_object_get(it, "metadata");
        if (strcmp(json_string_value(json_object_get(md, "namespace")), ns) == 0 &&
            (!name || strcmp(json_string_value(json_object_get(md, "name")), name) == 0))
            json_array_append(out, it);
    }
    json_decref(all);
    return out;
}

static void test_workloads_judge(void **state)
{
    (void)state;
    json_t *lists[2] = {items_in("deployments.json", "shop", NULL), json_array()};
    json_t *ks = items_in("deployments.json", "kube-system", NULL);
    json_array_extend(lists[0], ks);
    json_decref(ks);
    /* A DaemonSet short by one of four, its rollout done. */
    json_array_append_new(lists[1], json_pack("{s:{s:s,s:s},s:{s:i,s:i,s:i}}", "metadata", "name",
                                              "node-exporter", "namespace", "mon", "status",
                                              "desiredNumberScheduled", 4, "numberAvailable", 3,
                                              "updatedNumberScheduled", 4));
    struct ys_k8s_workloads_spec s = {.base = {.n_paths = 2},
                                      .kinds = {YS_K8S_DEPLOYMENT, YS_K8S_DAEMONSET}};
    struct ys_result r;
    ys_result_init(&r);
    ys_k8s_workloads_judge(&s, lists, 0, &r);
    assert_false(r.ok);
    assert_string_equal(r.message, "2 of 4 workloads not as desired: deployment shop/api 1/2, "
                                   "daemonset mon/node-exporter 3/4");
    assert_float_equal(r.value, 100.0 * 9 / 11, 1e-9);
    assert_string_equal(r.facts, "{\"workloads\":4,\"short\":2,\"stuck\":0}");
    json_decref(lists[0]);
    json_decref(lists[1]);
}

/* Rollouts that are stuck with every old replica available: each recorded
 * workload of namespace rollout alone, with what the judge says of it. */
static void test_workloads_rollouts(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        enum ys_k8s_workload kind;
        const char *ns, *name, *why; /* why: NULL when it passes */
    } cases[] = {
        {"deployments.json", YS_K8S_DEPLOYMENT, "rollout", "checkout",
         "deployment rollout/checkout 2/2 (generation 7 not observed, at 6)"},
        {"deployments.json", YS_K8S_DEPLOYMENT, "rollout", "search",
         "deployment rollout/search 3/3 (progress deadline exceeded, 1/3 updated)"},
        {"deployments.json", YS_K8S_DEPLOYMENT, "rollout", "cart",
         "deployment rollout/cart 2/2 (1/2 updated)"},
        {"deployments.json", YS_K8S_DEPLOYMENT, "rollout", "ledger", NULL},
        {"deployments.json", YS_K8S_DEPLOYMENT, "shop", "web", NULL},
        {"statefulsets.json", YS_K8S_STATEFULSET, "db", "postgres", NULL},
        {"statefulsets.json", YS_K8S_STATEFULSET, "rollout", "kafka",
         "statefulset rollout/kafka 3/3 (1/3 updated)"},
        {"statefulsets.json", YS_K8S_STATEFULSET, "rollout", "zookeeper",
         "statefulset rollout/zookeeper 3/3 (revision zookeeper-9f8e7d6c5 not current, at "
         "zookeeper-4a3b2c1d0)"},
        /* updateStrategy: a canary (partition 3 of 5) whose 2 are updated
         * is done though its revisions differ; one (partition 2 of 5)
         * wanting 3 with 1 updated is not; OnDelete is no rollout. */
        {"statefulsets.json", YS_K8S_STATEFULSET, "strategy", "etcd-canary", NULL},
        {"statefulsets.json", YS_K8S_STATEFULSET, "strategy", "redis-canary",
         "statefulset strategy/redis-canary 5/5 (1/3 updated, partition 2)"},
        {"statefulsets.json", YS_K8S_STATEFULSET, "strategy", "legacy-db", NULL},
        {"daemonsets.json", YS_K8S_DAEMONSET, "strategy", "gpu-driver", NULL},
        {"daemonsets.json", YS_K8S_DAEMONSET, "monitoring", "node-exporter", NULL},
        {"daemonsets.json", YS_K8S_DAEMONSET, "rollout", "fluent-bit",
         "daemonset rollout/fluent-bit 3/3 (1/3 updated)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *l = items_in(cases[i].file, cases[i].ns, cases[i].name);
        assert_int_equal(json_array_size(l), 1);
        struct ys_k8s_workloads_spec s = {.base = {.n_paths = 1}, .kinds = {cases[i].kind}};
        struct ys_result r;
        ys_result_init(&r);
        ys_k8s_workloads_judge(&s, &l, 0, &r);
        char want[300];
        snprintf(want, sizeof want, "1 of 1 workloads not as desired: %s",
                 cases[i].why ? cases[i].why : "");
        if (cases[i].why)
            assert_string_equal(r.message, want);
        else
            assert_true(r.ok);
        assert_float_equal(r.value, 100, 1e-9); /* all available, stuck or not */
        snprintf(want, sizeof want, "{\"workloads\":1,\"short\":0,\"stuck\":%d}",
                 cases[i].why != NULL);
        assert_string_equal(r.facts, want);
        json_decref(l);
    }
}

static void test_flux_judge(void **state)
{
    (void)state;
    json_t *lists[2] = {items_of("kustomizations.json"), items_of("helmreleases.json")};
    struct ys_flux_spec s = {.base = {.n_paths = 2}, .helm = {false, true}};
    struct ys_result r;
    ys_result_init(&r);
    int64_t now = ys_k8s_time("2026-11-30T00:00:00Z");
    ys_flux_judge(&s, lists, now, &r);
    assert_false(r.ok);
    assert_string_equal(r.message,
                        "4 of 7 not reconciled: Kustomization flux-system/apps (Ready False: "
                        "kustomize build failed: accumulating resources, last success 4h5m "
                        "ago), Kustomization infra/infra (suspended), +2 more");
    /* Failing longest: apps, not Ready since 2026-11-29T20:00:00Z (tenants
     * since 20:05; infra and redis are Ready, so add no time). */
    assert_float_equal(r.value, 4 * 3600, 1e-9);
    /* status.history: apps last succeeded at 19:55 (its newer entry is a
     * failure), flux-system at 23:58, monitoring at 23:45; tenants has
     * only a failure, infra and the HelmReleases no Kustomization history. */
    assert_string_equal(r.facts, "{\"objects\":7,\"failing\":4,\"last_success_s\":14700,"
                                 "\"last_success_of\":\"flux-system/apps\"}");
    /* tenants alone: a history without a success says so. */
    json_t *tenants = json_array();
    json_array_append(tenants, json_array_get(lists[0], 4));
    struct ys_flux_spec ks = {.base = {.n_paths = 1}, .helm = {false}};
    ys_result_init(&r);
    ys_flux_judge(&ks, &tenants, now, &r);
    assert_string_equal(r.message, "1 of 1 not reconciled: Kustomization flux-system/tenants "
                                   "(Ready False: dependency 'flux-system/apps' is not ready, no "
                                   "success in history)");
    assert_string_equal(r.facts, "{\"objects\":1,\"failing\":1}");
    json_decref(tenants);

    /* HelmReleases alone: redis attempted what it has not applied. */
    struct ys_flux_spec hs = {.base = {.n_paths = 1}, .helm = {true}};
    ys_result_init(&r);
    ys_flux_judge(&hs, &lists[1], now, &r);
    assert_string_equal(r.message, "1 of 2 not reconciled: HelmRelease cache/redis (attempted "
                                   "19.6.1, applied 19.6.0)");
    /* podinfo is fine once redis applied what it tried;
     * all Ready is 0, however long ago they became Ready. */
    json_t *redis = json_array_get(lists[1], 1);
    json_t *h0 = json_array_get(json_object_get(json_object_get(redis, "status"), "history"), 0);
    json_object_set_new(h0, "chartVersion", json_string("19.6.1"));
    ys_result_init(&r);
    ys_flux_judge(&hs, &lists[1], now, &r);
    assert_true(r.ok);
    assert_true(r.flags & YS_RF_HAS_VALUE);
    assert_float_equal(r.value, 0, 1e-9);

    /* A healthy cluster stays at 0 a month later: the value must not grow
     * while nothing fails (it was the age of the oldest Ready). */
    json_t *k;
    size_t i;
    json_array_foreach(lists[0], i, k)
    {
        json_object_del(json_object_get(k, "spec"), "suspend");
        json_t *c0 = json_array_get(json_object_get(json_object_get(k, "status"), "conditions"), 0);
        json_object_set_new(c0, "status", json_string("True"));
        json_t *st = json_object_get(k, "status");
        json_object_set(st, "lastAppliedRevision", json_object_get(st, "lastAttemptedRevision"));
    }
    for (int64_t later = 0; later <= 30; later += 30) {
        ys_result_init(&r);
        ys_flux_judge(&s, lists, now + later * 86400000LL, &r);
        assert_true(r.ok);
        assert_float_equal(r.value, 0, 1e-9);
    }
    /* ... while the time since the last success is a fact, and the ok
     * message names the stalest. */
    assert_string_equal(r.message, "all reconciled; the stalest last successful reconcile was "
                                   "30d4h5m ago (flux-system/apps)");
    json_t *f = json_loads(r.facts, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(f, "last_success_s")), 30 * 86400 + 14700);
    json_decref(f);
    /* One breaks: the value is its time not Ready, and grows with it. */
    json_t *c0 = json_array_get(
        json_object_get(json_object_get(json_array_get(lists[0], 2), "status"), "conditions"), 0);
    json_object_set_new(c0, "status", json_string("Unknown"));
    json_object_set_new(c0, "lastTransitionTime", json_string("2026-11-29T23:00:00Z"));
    ys_result_init(&r);
    ys_flux_judge(&s, lists, now, &r);
    assert_false(r.ok);
    assert_float_equal(r.value, 3600, 1e-9);
    json_decref(lists[0]);
    json_decref(lists[1]);
}

static void test_pvcs_judge(void **state)
{
    (void)state;
    json_t *l = items_of("pvcs.json");
    struct ys_k8s_pvcs_spec s = {.base = {.n_paths = 1}};
    struct ys_result r;
    ys_result_init(&r);
    ys_k8s_pvcs_judge(&s, &l, 0, &r);
    assert_false(r.ok);
    assert_string_equal(r.message, "1 of 3 claims not Bound: db/data-postgres-1 Pending");
    assert_float_equal(r.value, 200.0 / 3, 1e-9);
    assert_string_equal(r.facts, "{\"pvcs\":3,\"bound\":2}");
    json_array_remove(l, 1);
    ys_result_init(&r);
    ys_k8s_pvcs_judge(&s, &l, 0, &r);
    assert_true(r.ok);
    assert_float_equal(r.value, 100, 1e-9);
    json_decref(l);
}

static void test_certs_judge(void **state)
{
    (void)state;
    json_t *l = items_of("certificates.json");
    int64_t now = ys_k8s_time("2035-12-22T00:00:00Z"); /* shop-tls: 10 days left */
    struct ys_k8s_certs_spec s = {.base = {.n_paths = 1}, .min_days = 14};
    struct ys_result r;
    ys_result_init(&r);
    ys_k8s_certs_judge(&s, &l, now, &r);
    assert_false(r.ok);
    assert_string_equal(r.message, "2 of 3 certificates failing: shop/shop-tls (10.0 days left), "
                                   "ops/admin-tls (Ready False: Issuing certificate as Secret "
                                   "does not exist)");
    assert_float_equal(r.value, 10, 1e-9);
    assert_string_equal(r.facts, "{\"certificates\":3,\"failing\":2}");
    /* Ten days is enough at min_days 7; admin-tls still fails. */
    s.min_days = 7;
    ys_result_init(&r);
    ys_k8s_certs_judge(&s, &l, now, &r);
    assert_string_equal(r.message, "1 of 3 certificates failing: ops/admin-tls (Ready False: "
                                   "Issuing certificate as Secret does not exist)");
    /* Expired: a negative value. */
    ys_result_init(&r);
    ys_k8s_certs_judge(&s, &l, ys_k8s_time("2036-01-03T00:00:00Z"), &r);
    assert_float_equal(r.value, -2, 1e-9);
    json_decref(l);
}

static void test_condition_config(void **state)
{
    (void)state;
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "sources:\n"
             "  - { name: prod, kind: kubernetes, kubeconfig: %s/kubeconfig }\n"
             "checks:\n"
             "  - { name: a, kind: k8s_condition, cluster: prod, path: /apis/x.io/v1/things,\n"
             "      condition: Synced }\n"
             "  - { name: b, kind: k8s_condition, cluster: prod, path: /api/v1/pods,\n"
             "      field: status.phase, equals: True }\n"
             "  - { name: c, kind: k8s_condition, cluster: prod, path: '/api/v1/pods?x=1',\n"
             "      field: status.phase }\n"
             "  - { name: d, kind: k8s_condition, cluster: prod, path: /api/v1/pods }\n"
             "  - { name: e, kind: k8s_condition, cluster: prod, path: /api/v1/secrets,\n"
             "      field: data.password, equals: x }\n",
             tmpdir);
    struct loaded l;
    load(&l, yaml);
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 8, 58, "path must be an API list path");
    assert_diag(&l, 11, 58, "Secrets are not read");
    assert_diag(&l, 8, 5, "missing required field 'equals'");
    assert_diag(&l, 10, 5, "needs condition: TYPE or field: PATH");
    unload(&l);
    /* The two good ones alone load, equals defaulting to True. */
    char *cut = strstr(yaml, "  - { name: c");
    *cut = '\0';
    load(&l, yaml);
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    const struct ys_k8s_cond_spec *a = l.cfg->checks[0].spec, *b = l.cfg->checks[1].spec;
    assert_string_equal(a->base.paths[0], "/apis/x.io/v1/things");
    assert_string_equal(a->condition, "Synced");
    assert_string_equal(a->equals, "True");
    assert_string_equal(b->field, "status.phase");
    assert_string_equal(b->equals, "True");
    unload(&l);
}

static void test_condition_judge(void **state)
{
    (void)state;
    json_t *l = items_of("deployments.json");
    while (json_array_size(l) > 3) /* shop's two and coredns; not the rollout cases */
        json_array_remove(l, 3);
    struct ys_k8s_cond_spec s = {
        .base = {.n_paths = 1}, .condition = "Available", .equals = "True"};
    struct ys_result r;
    ys_result_init(&r);
    ys_k8s_cond_judge(&s, &l, 0, &r);
    assert_false(r.ok);
    /* coredns has no conditions at all in the recording. */
    assert_string_equal(r.message, "2 of 3 not Available=True: shop/api (False), "
                                   "kube-system/coredns (missing)");
    assert_float_equal(r.value, 100.0 / 3, 1e-9);
    struct ys_k8s_cond_spec f = {.base = {.n_paths = 1}, .field = "spec.replicas", .equals = "2"};
    ys_result_init(&r);
    ys_k8s_cond_judge(&f, &l, 0, &r);
    assert_string_equal(r.message, "1 of 3 not spec.replicas=2: shop/web (3)");
    struct ys_k8s_cond_spec g = {.base = {.n_paths = 1},
                                 .field = "status.conditions.0.reason",
                                 .equals = "MinimumReplicasAvailable"};
    ys_result_init(&r);
    ys_k8s_cond_judge(&g, &l, 0, &r);
    assert_string_equal(r.facts, "{\"objects\":3,\"passing\":1}");
    json_decref(l);
}

static void test_cronjobs_judge(void **state)
{
    (void)state;
    json_t *l = items_of("cronjobs.json");
    int64_t now = ys_k8s_time("2026-11-30T00:00:00Z");
    struct ys_k8s_cronjobs_spec s = {.base = {.n_paths = 1}, .max_age_ms = 25LL * 3600 * 1000};
    struct ys_result r;
    ys_result_init(&r);
    ys_k8s_cronjobs_judge(&s, &l, now, &r);
    assert_false(r.ok);
    assert_string_equal(r.message, "3 of 4 CronJobs failing: backup/files-backup (last success "
                                   "9d21h ago), shop/report (suspended), shop/cleanup (never "
                                   "succeeded)");
    /* The oldest last success, files-backup's: 9d 21h 18m 50s before now. */
    assert_float_equal(r.value, 9 * 86400 + 21 * 3600 + 18 * 60 + 50, 1e-9);
    assert_string_equal(r.facts, "{\"cronjobs\":4,\"failing\":3}");
    s.max_age_ms = 10LL * 86400 * 1000; /* files-backup is young enough now */
    ys_result_init(&r);
    ys_k8s_cronjobs_judge(&s, &l, now, &r);
    assert_string_equal(r.message, "2 of 4 CronJobs failing: shop/report (suspended), "
                                   "shop/cleanup (never succeeded)");
    json_decref(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubeconfig_current_context),
        cmocka_unit_test(test_kubeconfig_named_context_paths),
        cmocka_unit_test(test_kubeconfig_errors),
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_config_cluster),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_fingerprint_follows_kubeconfig),
        cmocka_unit_test(test_page_parse),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_nodes_judge),
        cmocka_unit_test(test_workloads_judge),
        cmocka_unit_test(test_workloads_rollouts),
        cmocka_unit_test(test_flux_judge),
        cmocka_unit_test(test_pvcs_judge),
        cmocka_unit_test(test_certs_judge),
        cmocka_unit_test(test_condition_config),
        cmocka_unit_test(test_condition_judge),
        cmocka_unit_test(test_cronjobs_judge),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
