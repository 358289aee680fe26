/*
 * k8s_workloads.c - the `k8s_workloads` kind (k8s.h): Deployments,
 * StatefulSets and DaemonSets whose available replicas reach the desired
 * count.
 *
 *   - name: apps
 *     kind: k8s_workloads
 *     cluster: prod
 *     namespace: shop               # default: all namespaces
 *     selector: app.kubernetes.io/part-of=shop
 *     kinds: [deployments, statefulsets, daemonsets]   # the default
 *
 * Desired and available: a Deployment's or StatefulSet's spec.replicas
 * (1 when unset, as the API defaults it) against status.availableReplicas;
 * a DaemonSet's status.desiredNumberScheduled against numberAvailable.
 * A workload also fails while its rollout is not done: the controller has
 * not observed the latest spec (status.observedGeneration below
 * metadata.generation), fewer replicas run the current template than
 * desired (updatedReplicas; a DaemonSet's updatedNumberScheduled), a
 * Deployment's Progressing condition is False with ProgressDeadlineExceeded,
 * or a StatefulSet's currentRevision is not its updateRevision. Old pods
 * that are all available would otherwise pass a rollout that is stuck.
 *
 * spec.updateStrategy is read as `kubectl rollout status` reads it: a
 * StatefulSet or DaemonSet with type OnDelete has no rollout (its pods
 * change when someone deletes them), so only its availability counts; a
 * StatefulSet with rollingUpdate.partition P > 0 is a canary that wants
 * replicas - P pods updated, and its revisions differ by design, so they
 * are not compared. (kubectl also skips the revision compare when the
 * partition is 0; here it is kept there, where every pod is updated and a
 * revision still behind means the controller has not finished.)
 *
 * The value is the percent of desired replicas available, summed over all
 * (capacity, whatever their revision); the message names the workloads
 * short of their count or stuck, with why.
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

const char *const ys_k8s_workloads_keys[] = {"cluster",        "namespace", "selector",
                                             "field_selector", "kinds",     NULL};

static const char *const plural[] = {"deployments", "statefulsets", "daemonsets", NULL};
static const char *const singular[] = {"deployment", "statefulset", "daemonset"};

static void add_path(void *spec, size_t k, const char *ns)
{
    struct ys_k8s_workloads_spec *s = spec;
    enum ys_k8s_workload w = (enum ys_k8s_workload)k;
    for (size_t i = 0; i < s->base.n_paths; i++)
        if (s->kinds[i] == w)
            return; /* listed twice */
    s->kinds[s->base.n_paths] = w;
    s->base.paths[s->base.n_paths++] = ys_k8s_list_path("/apis/apps/v1", ns, plural[k]);
}

int ys_k8s_workloads_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_k8s_workloads_spec *s = ys_xcalloc(1, sizeof *s);
    char *ns = NULL;
    ys_k8s_spec_common(c, "k8s_workloads", &s->base, &ns, d);
    s->base.judge = ys_k8s_workloads_judge;
    ys_k8s_spec_kinds(c, plural, "deployments, statefulsets or daemonsets",
                      "at least one workload kind", add_path, s, ns, d);
    free(ns);
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

static int64_t num(const json_t *obj, const char *a, const char *b, int64_t dflt)
{
    const json_t *v = json_object_get(json_object_get(obj, a), b);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static const char *str(const json_t *obj, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(obj, a), b));
}

/* Whether a Deployment's Progressing condition says it gave up. */
static bool deadline_exceeded(const json_t *w)
{
    const json_t *conds = json_object_get(json_object_get(w, "status"), "conditions");
    size_t i;
    const json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        const char *why = json_string_value(json_object_get(c, "reason"));
        if (t && strcmp(t, "Progressing") == 0)
            return st && strcmp(st, "False") == 0 && why &&
                   strcmp(why, "ProgressDeadlineExceeded") == 0;
    }
    return false;
}

/* Why w's rollout is not where its spec wants it, in out ("" when it is).
 * The most telling reason wins: a spec the controller has not seen yet,
 * a Deployment past its progress deadline, replicas not updated to the
 * current template, a StatefulSet whose update revision is not current. */
static void rollout_state(const json_t *w, enum ys_k8s_workload k, int64_t want, char *out,
                          size_t cap)
{
    const json_t *strat = json_object_get(json_object_get(w, "spec"), "updateStrategy");
    const char *type = json_string_value(json_object_get(strat, "type"));
    /* Unset is RollingUpdate, as the API defaults it. */
    out[0] = '\0';
    if (k != YS_K8S_DEPLOYMENT && type && strcmp(type, "RollingUpdate") != 0)
        return; /* OnDelete: no rollout to wait for */
    int64_t partition = k == YS_K8S_STATEFULSET ? num(strat, "rollingUpdate", "partition", 0) : 0;
    int64_t gen = num(w, "metadata", "generation", 0);
    int64_t seen = num(w, "status", "observedGeneration", 0);
    int64_t updated = k == YS_K8S_DAEMONSET ? num(w, "status", "updatedNumberScheduled", 0)
                                            : num(w, "status", "updatedReplicas", 0);
    const char *cur = str(w, "status", "currentRevision");
    const char *upd = str(w, "status", "updateRevision");
    if (seen < gen)
        snprintf(out, cap, "generation %lld not observed, at %lld", (long long)gen,
                 (long long)seen);
    else if (k == YS_K8S_DEPLOYMENT && deadline_exceeded(w))
        snprintf(out, cap, "progress deadline exceeded, %lld/%lld updated", (long long)updated,
                 (long long)want);
    else if (partition > 0) {
        int64_t canary = want > partition ? want - partition : 0;
        if (updated < canary)
            snprintf(out, cap, "%lld/%lld updated, partition %lld", (long long)updated,
                     (long long)canary, (long long)partition);
    } else if (updated < want)
        snprintf(out, cap, "%lld/%lld updated", (long long)updated, (long long)want);
    else if (k == YS_K8S_STATEFULSET && cur && upd && strcmp(cur, upd) != 0)
        snprintf(out, cap, "revision %.60s not current, at %.60s", upd, cur);
}

void ys_k8s_workloads_judge(const void *spec, json_t *const *lists, int64_t now_ms,
                            struct ys_result *r)
{
    (void)now_ms;
    const struct ys_k8s_workloads_spec *s = spec;
    size_t total = 0, shortn = 0, stuck = 0, failing = 0, dropped = 0;
    int64_t want_sum = 0, have_sum = 0;
    char names[200] = "";
    for (size_t p = 0; p < s->base.n_paths; p++) {
        size_t i;
        const json_t *w;
        json_array_foreach(lists[p], i, w)
        {
            int64_t want, have;
            if (s->kinds[p] == YS_K8S_DAEMONSET) {
                want = num(w, "status", "desiredNumberScheduled", 0);
                have = num(w, "status", "numberAvailable", 0);
            } else {
                want = num(w, "spec", "replicas", 1);
                have = num(w, "status", "availableReplicas", 0);
            }
            total++;
            want_sum += want;
            have_sum += have < want ? have : want;
            char why[160];
            rollout_state(w, s->kinds[p], want, why, sizeof why);
            shortn += have < want;
            stuck += why[0] != '\0';
            if (have >= want && !why[0])
                continue;
            failing++;
            char ref[320], one[512];
            ys_k8s_ref(w, ref, sizeof ref);
            snprintf(one, sizeof one, "%s %s %lld/%lld%s%s%s", singular[s->kinds[p]], ref,
                     (long long)have, (long long)want, why[0] ? " (" : "", why, why[0] ? ")" : "");
            ys_k8s_name_list(names, sizeof names, one, &dropped);
        }
    }
    snprintf(r->facts, sizeof r->facts, "{\"workloads\":%zu,\"short\":%zu,\"stuck\":%zu}", total,
             shortn, stuck);
    if (total > 0)
        ys_k8s_value(r, want_sum > 0 ? 100.0 * (double)have_sum / (double)want_sum : 100.0);
    ys_k8s_verdict(r, total, "workloads", failing > 0, names, dropped,
                   "%zu of %zu workloads not as desired", failing, total);
}

YS_K8S_PROBE_TYPE(ys_probe_k8s_workloads, "k8s_workloads", ys_k8s_workloads_keys,
                  ys_k8s_workloads_parse, ys_k8s_spec_free);
