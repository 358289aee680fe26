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
 * The value is the seconds since the Ready condition's lastTransitionTime
 * of the oldest Ready object: how long the longest-standing success has
 * stood. The message names the failing objects.
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

static void add_path(struct ys_flux_spec *s, bool helm, const char *ns)
{
    for (size_t i = 0; i < s->base.n_paths; i++)
        if (s->helm[i] == helm)
            return; /* listed twice */
    const char *group = helm ? "helm.toolkit.fluxcd.io/v2" : "kustomize.toolkit.fluxcd.io/v1";
    const char *res = helm ? "helmreleases" : "kustomizations";
    s->helm[s->base.n_paths] = helm;
    s->base.paths[s->base.n_paths++] =
        ns ? ys_xasprintf("/apis/%s/namespaces/%s/%s", group, ns, res)
           : ys_xasprintf("/apis/%s/%s", group, res);
}

int ys_flux_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_flux_spec *s = ys_xcalloc(1, sizeof *s);
    char *ns = NULL;
    ys_k8s_spec_common(c, "flux", &s->base, &ns, d);
    s->base.judge = ys_flux_judge;
    const struct ys_node *kn = ys_node_get(c, "kinds");
    struct ys_strlist kinds = {0};
    if (kn && ys_cfg_strlist(kn, "kinds", &kinds, d) == 0) {
        for (size_t i = 0; i < kinds.n; i++) {
            if (strcmp(kinds.v[i], "kustomizations") == 0 ||
                strcmp(kinds.v[i], "helmreleases") == 0)
                add_path(s, kinds.v[i][0] == 'h', ns);
            else
                ys_diag_add(d, kn->line, kn->col,
                            "kinds: '%s' is not kustomizations or helmreleases", kinds.v[i]);
        }
        if (kinds.n == 0)
            ys_diag_add(d, kn->line, kn->col,
                        "kinds must name kustomizations, helmreleases or both");
    } else if (!kn) {
        add_path(s, false, ns);
        add_path(s, true, ns);
    }
    ys_strlist_free(&kinds);
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
    int64_t oldest = -1;
    char names[216] = "";
    for (size_t p = 0; p < s->base.n_paths; p++) {
        size_t i;
        const json_t *obj;
        json_array_foreach(lists[p], i, obj)
        {
            total++;
            char why[160], one[240];
            judge_one(obj, s->helm[p], why, sizeof why);
            if (!why[0]) {
                int64_t ltt;
                ys_k8s_condition(obj, "Ready", &ltt, NULL);
                if (ltt >= 0 && (oldest < 0 || ltt < oldest))
                    oldest = ltt;
                continue;
            }
            failing++;
            const char *ns = str(obj, "metadata", "namespace"),
                       *name = str(obj, "metadata", "name");
            snprintf(one, sizeof one, "%s %s/%s (%s)", s->helm[p] ? "HelmRelease" : "Kustomization",
                     ns ? ns : "?", name ? name : "?", why);
            ys_k8s_name_list(names, sizeof names, one, &dropped);
        }
    }
    snprintf(r->facts, sizeof r->facts, "{\"objects\":%zu,\"failing\":%zu}", total, failing);
    if (oldest >= 0) {
        r->value = now_ms > oldest ? (double)(now_ms - oldest) / 1000.0 : 0;
        r->flags |= YS_RF_HAS_VALUE;
    }
    if (total == 0) {
        ys_result_fail(r, YS_EC_ASSERTION, "no Kustomizations or HelmReleases matched");
        return;
    }
    if (failing == 0)
        return;
    char more[32] = "";
    if (dropped)
        snprintf(more, sizeof more, ", +%zu more", dropped);
    ys_result_fail(r, YS_EC_ASSERTION, "%zu of %zu not reconciled: %s%s", failing, total, names,
                   more);
}

static int flux_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d)
{
    (void)base;
    return ys_flux_parse(check, spec, d);
}

const struct ys_probe_type ys_probe_flux = {
    .name = "flux",
    .keys = ys_flux_keys,
    .parse = flux_parse,
    .free_spec = ys_k8s_spec_free,
    .start = ys_k8s_probe_start,
    .cancel = ys_k8s_probe_cancel,
};
