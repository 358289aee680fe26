/*
 * k8s.h - read-only Kubernetes checks: the `kubernetes` source's
 * credentials (k8s_kubeconfig.c), a list client on the loop's libcurl multi
 * handle (k8s_client.c), one probe runner every kind shares (k8s_probe.c)
 * and the kinds themselves, each a spec parser plus a pure judge of the
 * listed items (k8s_nodes.c, k8s_workloads.c, flux.c).
 *
 *   sources:
 *     - name: prod
 *       kind: kubernetes
 *       kubeconfig: /etc/yardstick/kubeconfig   # or in_cluster: true
 *       context: prod-admin                     # default: current-context
 *   checks:
 *     - { name: nodes, kind: k8s_nodes, cluster: prod }
 *
 * A kind's spec embeds struct ys_k8s_spec first: the list paths to fetch
 * (one after the other) and the judge that turns their items into a
 * verdict. Judges are pure, so recorded API responses are their tests.
 * Kinds: k8s_nodes.c, k8s_workloads.c, flux.c, k8s_pvcs.c, k8s_certs.c,
 * k8s_condition.c, k8s_cronjobs.c, k8s_pdb.c; k8s_flux_graph.c draws the
 * Kustomizations' dependsOn graph for `yardstick graph flux`.
 */
#ifndef YS_PROBE_K8S_H
#define YS_PROBE_K8S_H

#include "core/result.h"
#include "probe/probe.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ys_node;
struct ys_check;
struct ys_diag;
struct ys_source;
struct ys_curl_multi;

/* Caps: one page's body, the items of one list across its pages. */
#define YS_K8S_MAX_PAGE (8 * 1024 * 1024)
#define YS_K8S_MAX_ITEMS 20000
#define YS_K8S_PAGE_LIMIT 500
#define YS_K8S_MAX_PATHS 3

/* Fills the kubernetes fields of s (url, bearer_token, token_file, ca_file,
 * ca_pem, cert/key file or pem, insecure_skip_verify) from the kubeconfig
 * at path, context ctx (NULL: its current-context). Returns 0, or
 * YS_ECONFIG with a sentence in err (which names the file and position). */
int ys_k8s_kubeconfig_load(const char *path, const char *ctx, struct ys_source *s, char *err,
                           size_t cap);
/* in_cluster: the pod's service account (token file, ca.crt) and
 * KUBERNETES_SERVICE_HOST/PORT. Returns 0 or YS_ECONFIG with err. */
int ys_k8s_in_cluster_load(struct ys_source *s, char *err, size_t cap);

/* ---- the list client (k8s_client.c) ---- */

struct ys_k8s_list;
/* Called once: on success items is an array of every page's items
 * (borrowed for the call) and r untouched; on failure items is NULL and r
 * was failed with a message. */
typedef void (*ys_k8s_list_cb)(json_t *items, struct ys_result *r, void *arg);

/* GETs path (e.g. /api/v1/nodes) with query (already escaped,
 * "labelSelector=..." or "" ) page by page. Every failure is written into
 * r (borrowed until cb). Returns 0 (cb runs later) or an error. */
int ys_k8s_list_start(struct ys_curl_multi *m, const struct ys_source *src, const char *path,
                      const char *query, int64_t timeout_ms, struct ys_result *r, ys_k8s_list_cb cb,
                      void *arg, struct ys_k8s_list **out);
/* Stops the list early; cb never runs. */
void ys_k8s_list_cancel(struct ys_k8s_list *l);

/* Judges one page's HTTP answer: returns the parsed body (owned) on 200
 * with an items array, else NULL with r failed (401/403 name the
 * credentials; a Status document's message is quoted). Pure. */
json_t *ys_k8s_page_parse(const char *src_name, long status, const char *body, size_t len,
                          struct ys_result *r);

/* ---- kinds ---- */

typedef void (*ys_k8s_judge_fn)(const void *spec, json_t *const *lists, int64_t now_ms,
                                struct ys_result *r);

struct ys_k8s_spec {
    char *paths[YS_K8S_MAX_PATHS];
    size_t n_paths;
    char *query; /* escaped labelSelector/fieldSelector, "" for none */
    /* A path's own query instead of query (owned), or NULL: k8s_pdb_coverage
     * selects workloads by label but must list every PodDisruptionBudget. */
    char *queries[YS_K8S_MAX_PATHS];
    ys_k8s_judge_fn judge;
};

void ys_k8s_spec_base_free(struct ys_k8s_spec *b);
/* Reads `cluster` (resolution is model_source.c's), and the optional
 * `namespace`, `selector` (labelSelector) and `field_selector` common to the
 * kinds into b; ns gets the namespace or NULL. Returns 0 or YS_ECONFIG. */
int ys_k8s_spec_common(const struct ys_node *c, const char *kind, struct ys_k8s_spec *b, char **ns,
                       struct ys_diag *d);
/* Parses an RFC 3339 timestamp as the API writes it (2024-05-01T10:00:00Z).
 * Returns epoch ms or -1. */
int64_t ys_k8s_time(const char *s);
/* The status of condition type in obj's status.conditions, or NULL; *ltt
 * gets its lastTransitionTime (epoch ms) or -1; *msg its message. */
const char *ys_k8s_condition(const json_t *obj, const char *type, int64_t *ltt, const char **msg);
/* Whether a LabelSelector (matchLabels, matchExpressions with In, NotIn,
 * Exists, DoesNotExist) selects an object with labels (an object, or NULL
 * for none), as the API server decides it for policy/v1: a NULL (absent or
 * JSON null) selector selects nothing, an empty one ({}) everything; a
 * malformed selector (an unknown operator, In without values, Exists with
 * values, a value that is not a string) selects nothing. Pure. */
bool ys_k8s_selector_matches(const json_t *selector, const json_t *labels);
/* Appends "name" to a list in out (", "-separated) while it fits; counts
 * the rest for a "+N more" the caller adds. */
void ys_k8s_name_list(char *out, size_t cap, const char *name, size_t *dropped);

/* "/api/v1/pvcs" style list path: prefix/resource, or
 * prefix/namespaces/ns/resource when ns is not NULL. Owned. */
char *ys_k8s_list_path(const char *prefix, const char *ns, const char *resource);
/* The parse start of a kind with one list: the common keys into b, its
 * path (ys_k8s_list_path) and judge. Errors go to d. */
void ys_k8s_spec_one(const struct ys_node *c, const char *kind, struct ys_k8s_spec *b,
                     const char *prefix, const char *resource, ys_k8s_judge_fn judge,
                     struct ys_diag *d);
/* Adds the list of kind k (an index into the names given to
 * ys_k8s_spec_kinds) to spec, once. */
typedef void (*ys_k8s_add_fn)(void *spec, size_t k, const char *ns);
/* Reads c's optional `kinds`: each entry one of names (NULL-ended), added
 * with add(spec, its index, ns); without the key, every one in order.
 * Diagnostics: "kinds: 'X' is not <choices>", "kinds must name <empty>". */
void ys_k8s_spec_kinds(const struct ys_node *c, const char *const *names, const char *choices,
                       const char *empty, ys_k8s_add_fn add, void *spec, const char *ns,
                       struct ys_diag *d);
/* The value of r: v, and that r has one. */
void ys_k8s_value(struct ys_result *r, double v);
/* "namespace/name" of obj's metadata in out, "?" for either when missing.
 * 320 bytes hold any (63 + 1 + 253); a line built from it longer than the
 * judge's names buffer is dropped by ys_k8s_name_list whole, so its own
 * size does not change the message. */
void ys_k8s_ref(const json_t *obj, char *out, size_t cap);
/* Lowers *min to t (epoch ms) when t is set (>= 0) and earlier. */
void ys_k8s_min_time(int64_t *min, int64_t t);
/* The value "seconds since oldest" (0 when in the future), if oldest >= 0. */
void ys_k8s_age_value(struct ys_result *r, int64_t now_ms, int64_t oldest);
/* Every kind's verdict: fails r with "no <plural> matched" when total is
 * 0; else, when failed, with fmt's head followed by ": names" and
 * ", +N more" for the dropped names. The caller writes facts and value. */
void ys_k8s_verdict(struct ys_result *r, size_t total, const char *plural, bool failed,
                    const char *names, size_t dropped, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* The struct ys_probe_type of a kind: its parse behind the registry's
 * signature, the shared runner. */
#define YS_K8S_PROBE_TYPE(var, kind, keys_, parse_fn, free_fn)                                     \
    static int var##_parse(const struct ys_node *check, const struct ys_check *base, void **spec,  \
                           struct ys_diag *d)                                                      \
    {                                                                                              \
        (void)base;                                                                                \
        return parse_fn(check, spec, d);                                                           \
    }                                                                                              \
    const struct ys_probe_type var = {                                                             \
        .name = kind,                                                                              \
        .keys = keys_,                                                                             \
        .parse = var##_parse,                                                                      \
        .free_spec = free_fn,                                                                      \
        .start = ys_k8s_probe_start,                                                               \
        .cancel = ys_k8s_probe_cancel,                                                             \
    }

/* The probe runner the kinds share (k8s_probe.c): start and cancel of
 * every kind's struct ys_probe_type. */
int ys_k8s_probe_start(struct ys_probe_env *env, const struct ys_check *check,
                       ys_probe_done_cb done, void *arg, struct ys_probe **out);
void ys_k8s_probe_cancel(struct ys_probe *probe);

struct ys_k8s_nodes_spec {
    struct ys_k8s_spec base;
    double min_ready_pct; /* default 100 */
};
enum ys_k8s_workload { YS_K8S_DEPLOYMENT = 0, YS_K8S_STATEFULSET, YS_K8S_DAEMONSET };
struct ys_k8s_workloads_spec {
    struct ys_k8s_spec base;
    enum ys_k8s_workload kinds[YS_K8S_MAX_PATHS]; /* of paths[i] */
};
struct ys_flux_spec {
    struct ys_k8s_spec base;
    bool helm[YS_K8S_MAX_PATHS]; /* paths[i] lists HelmReleases */
};

struct ys_k8s_pvcs_spec {
    struct ys_k8s_spec base;
};
struct ys_k8s_certs_spec {
    struct ys_k8s_spec base;
    double min_days; /* fail when a certificate expires sooner; default 14 */
};

struct ys_k8s_pdb_spec {
    struct ys_k8s_spec base;
    /* paths[0 .. n_paths-2] list workloads of kinds[i] (deployments or
     * statefulsets); the last path lists the PodDisruptionBudgets. */
    enum ys_k8s_workload kinds[YS_K8S_MAX_PATHS];
    char **namespaces; /* `namespaces`: only workloads in these; NULL: all */
    size_t n_namespaces;
    double min_pct; /* `min_coverage`: fail below this percent; default 100 */
};
extern const char *const ys_k8s_pdb_keys[];
int ys_k8s_pdb_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
void ys_k8s_pdb_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r);
void ys_k8s_pdb_free(void *spec);

/* `yardstick graph flux` (k8s_flux_graph.c): writes the spec.dependsOn
 * graph of Kustomizations (items of a kustomize.toolkit.fluxcd.io/v1 list)
 * to out as Graphviz dot or, when mermaid, a Mermaid `graph TD`. Nodes are
 * namespace/name, styled by their Ready condition (or suspended); a
 * dependsOn without a namespace means the dependent's; one that names an
 * object not in items is drawn as "not listed". Edges run from a
 * dependency to its dependent, the order Flux applies them. Output is
 * sorted, so equal lists give equal text. Returns the number of edges. */
size_t ys_flux_graph_write(FILE *out, const json_t *items, bool mermaid);

struct ys_k8s_cond_spec {
    struct ys_k8s_spec base;
    char *condition; /* a condition type, or NULL */
    char *field;     /* a dotted field path (status.phase), or NULL */
    char *equals;    /* the wanted condition status (default True) or field value */
};
extern const char *const ys_k8s_cond_keys[];
int ys_k8s_cond_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
void ys_k8s_cond_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r);
void ys_k8s_cond_free(void *spec);
struct ys_k8s_cronjobs_spec {
    struct ys_k8s_spec base;
    int64_t max_age_ms; /* fail when the last success is older; default 25h */
};
extern const char *const ys_k8s_cronjobs_keys[];
int ys_k8s_cronjobs_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
void ys_k8s_cronjobs_judge(const void *spec, json_t *const *lists, int64_t now_ms,
                           struct ys_result *r);
extern const char *const ys_k8s_pvcs_keys[];
extern const char *const ys_k8s_certs_keys[];
int ys_k8s_pvcs_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
int ys_k8s_certs_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
void ys_k8s_pvcs_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r);
void ys_k8s_certs_judge(const void *spec, json_t *const *lists, int64_t now_ms,
                        struct ys_result *r);
extern const char *const ys_k8s_nodes_keys[];
extern const char *const ys_k8s_workloads_keys[];
extern const char *const ys_flux_keys[];
int ys_k8s_nodes_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
int ys_k8s_workloads_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
int ys_flux_parse(const struct ys_node *c, void **spec, struct ys_diag *d);
void ys_k8s_nodes_judge(const void *spec, json_t *const *lists, int64_t now_ms,
                        struct ys_result *r);
void ys_k8s_workloads_judge(const void *spec, json_t *const *lists, int64_t now_ms,
                            struct ys_result *r);
void ys_flux_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r);
/* Frees any kind's spec that embeds ys_k8s_spec first and owns nothing
 * else (all but k8s_condition's). */
void ys_k8s_spec_free(void *spec);

#endif
