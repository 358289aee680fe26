/*
 * flux.c - the `flux` kind (k8s.h): Flux Kustomizations and HelmReleases
 * that are reconciled.
 *
 *   - name: gitops
 *     kind: flux
 *     cluster: prod
 *     namespace: flux-system        # default: all namespaces
 *     selector: team=platform       # labelSelector (optional)
 *     kinds: [kustomizations, helmreleases]   # the default
 *
 * An object fails when it is suspended (spec.suspend), when its Ready
 * condition is not True (the condition's message is quoted), or when the
 * revision it last attempted is not the one it last applied: for a
 * Kustomization status.lastAttemptedRevision against lastAppliedRevision,
 * for a HelmRelease (v2, which dropped lastAppliedRevision) against the
 * chartVersion of status.history[0], or lastAppliedRevision where an older
 * controller still writes it.
 *
 * The value is how long reconciliation has been failing: the seconds since
 * the Ready condition's lastTransitionTime of the object that has been not
 * Ready the longest, and 0 when every object is Ready. It used to be the
 * age of the oldest Ready condition, which grows forever on a healthy
 * quiet cluster. Flux reports no time of a reconcile that changed nothing:
 * a condition's lastTransitionTime moves only when its status, reason or
 * message changes, and status.lastHandledReconcileAt only records a
 * `flux reconcile` request (the annotation's value), so "the time since the
 * last reconcile" cannot be read from the API without the same growth.
 * Suspended objects and revision mismatches fail the check but have no
 * Flux time of their own, so they add nothing to the value. The message
 * names the failing objects.
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

const char *const ys_flux_keys[] = {"cluster",        "namespace", "selector",
                                    "field_selector", "kinds",     NULL};

static const char *const kind_names[] = {"kustomizations", "helmreleases", NULL};

static void add_path(void *spec, size_t k, const char *ns)
{
    struct ys_flux_spec *s = spec;
    bool helm = k == 1;
    for (size_t i = 0; i < s->base.n_paths; i++)
        if (s->helm[i] == helm)
            return; /* listed twice */
    const char *group =
        helm ? "/apis/helm.toolkit.fluxcd.io/v2" : "/apis/kustomize.toolkit.fluxcd.io/v1";
    const char *res = helm ? "helmreleases" : "kustomizations";
    s->helm[s->base.n_paths] = helm;
    s->base.paths[s->base.n_paths++] = ys_k8s_list_path(group, ns, res);
}

int ys_flux_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_flux_spec *s = ys_xcalloc(1, sizeof *s);
    char *ns = NULL;
    ys_k8s_spec_common(c, "flux", &s->base, &ns, d);
    s->base.judge = ys_flux_judge;
    ys_k8s_spec_kinds(c, kind_names, "kustomizations or helmreleases",
                      "kustomizations, helmreleases or both", add_path, s, ns, d);
    free(ns);
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

static const char *str(const json_t *obj, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(obj, a), b));
}

/* Why obj is not reconciled, in out; "" when it is. */
static void judge_one(const json_t *obj, bool helm, char *out, size_t cap)
{
    out[0] = '\0';
    const char *msg;
    const char *ready = ys_k8s_condition(obj, "Ready", NULL, &msg);
    const char *attempted = str(obj, "status", "lastAttemptedRevision");
    const char *applied = str(obj, "status", "lastAppliedRevision");
    if (helm && !applied) {
        const json_t *h0 =
            json_array_get(json_object_get(json_object_get(obj, "status"), "history"), 0);
        applied = json_string_value(json_object_get(h0, "chartVersion"));
    }
    if (json_is_true(json_object_get(json_object_get(obj, "spec"), "suspend")))
        snprintf(out, cap, "suspended");
    else if (!ready || strcmp(ready, "True") != 0)
        snprintf(out, cap, "Ready %s%s%.60s", ready ? ready : "missing", msg ? ": " : "",
                 msg ? msg : "");
    else if (attempted && (!applied || strcmp(attempted, applied) != 0))
        snprintf(out, cap, "attempted %.40s, applied %.40s", attempted, applied ? applied : "none");
}

void ys_flux_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r)
{
    const struct ys_flux_spec *s = spec;
    size_t total = 0, failing = 0, dropped = 0;
    int64_t oldest = -1; /* the earliest Ready transition of a not-Ready object */
    char names[216] = "";
    for (size_t p = 0; p < s->base.n_paths; p++) {
        size_t i;
        const json_t *obj;
        json_array_foreach(lists[p], i, obj)
        {
            total++;
            char why[160], ref[320], one[512];
            judge_one(obj, s->helm[p], why, sizeof why);
            if (!why[0])
                continue;
            int64_t ltt;
            const char *ready = ys_k8s_condition(obj, "Ready", &ltt, NULL);
            if (!ready || strcmp(ready, "True") != 0)
                ys_k8s_min_time(&oldest, ltt);
            failing++;
            ys_k8s_ref(obj, ref, sizeof ref);
            snprintf(one, sizeof one, "%s %s (%s)", s->helm[p] ? "HelmRelease" : "Kustomization",
                     ref, why);
            ys_k8s_name_list(names, sizeof names, one, &dropped);
        }
    }
    snprintf(r->facts, sizeof r->facts, "{\"objects\":%zu,\"failing\":%zu}", total, failing);
    if (total > 0)
        ys_k8s_value(r, 0);
    ys_k8s_age_value(r, now_ms, oldest);
    ys_k8s_verdict(r, total, "Kustomizations or HelmReleases", failing > 0, names, dropped,
                   "%zu of %zu not reconciled", failing, total);
}

YS_K8S_PROBE_TYPE(ys_probe_flux, "flux", ys_flux_keys, ys_flux_parse, ys_k8s_spec_free);
