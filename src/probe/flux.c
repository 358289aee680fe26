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
 *
 * Recent kustomize-controllers (v1.5 on) do record reconciles in
 * status.history: snapshots keyed by the applied set's digest and the
 * outcome, most recent first, each with lastReconciled (moved on every
 * reconcile, changed or not), lastReconciledStatus
 * ("ReconciliationSucceeded" or the failure's reason) and
 * totalReconciliations. Where a Kustomization has it, the time since its
 * newest successful entry is reported: the fact "last_success_s" is the
 * largest such time (the stalest object, "last_success_of"), a failing
 * Kustomization's reason says ", last success 4h5m ago" (or ", no success
 * in history"), and an ok result's message gives the stalest. The value
 * stays as above, so goals written against it keep their meaning.
 */
#include "probe/k8s.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/duration.h"
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

/* The newest lastReconciled of a successful entry of a Kustomization's
 * status.history, epoch ms; -1 with no such entry, and *has_history says
 * whether there was a history at all (older controllers write none). */
static int64_t last_success(const json_t *obj, bool *has_history)
{
    const json_t *hist = json_object_get(json_object_get(obj, "status"), "history");
    int64_t best = -1;
    size_t i;
    const json_t *h;
    *has_history = json_array_size(hist) > 0;
    json_array_foreach(hist, i, h)
    {
        const char *st = json_string_value(json_object_get(h, "lastReconciledStatus"));
        if (!st || strcmp(st, "ReconciliationSucceeded") != 0)
            continue;
        int64_t t = ys_k8s_time(json_string_value(json_object_get(h, "lastReconciled")));
        if (t > best)
            best = t;
    }
    return best;
}

/* ", last success 4h5m ago" for a Kustomization with a history, in out. */
static void success_note(const json_t *obj, int64_t now_ms, char *out, size_t cap)
{
    bool has;
    int64_t t = last_success(obj, &has);
    char d[48];
    out[0] = '\0';
    if (t >= 0)
        snprintf(out, cap, ", last success %s ago",
                 ys_duration_format(now_ms > t ? (now_ms - t) / 1000 * 1000 : 0, d, sizeof d));
    else if (has)
        snprintf(out, cap, ", no success in history");
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
    int64_t oldest = -1;  /* the earliest Ready transition of a not-Ready object */
    int64_t stalest = -1; /* the oldest last success among Kustomizations */
    char stalest_ref[320] = "";
    char names[216] = "";
    for (size_t p = 0; p < s->base.n_paths; p++) {
        size_t i;
        const json_t *obj;
        json_array_foreach(lists[p], i, obj)
        {
            total++;
            char why[200], ref[320], one[560];
            judge_one(obj, s->helm[p], why, sizeof why);
            bool has_history = false;
            int64_t ok_at = s->helm[p] ? -1 : last_success(obj, &has_history);
            if (ok_at >= 0 && (stalest < 0 || ok_at < stalest)) {
                stalest = ok_at;
                ys_k8s_ref(obj, stalest_ref, sizeof stalest_ref);
            }
            if (!why[0])
                continue;
            if (!s->helm[p]) {
                size_t n = strlen(why);
                success_note(obj, now_ms, why + n, sizeof why - n);
            }
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
    int64_t since = stalest >= 0 && now_ms > stalest ? (now_ms - stalest) / 1000 : 0;
    if (stalest >= 0)
        snprintf(r->facts, sizeof r->facts,
                 "{\"objects\":%zu,\"failing\":%zu,\"last_success_s\":%lld,"
                 "\"last_success_of\":\"%.200s\"}",
                 total, failing, (long long)since, stalest_ref);
    else
        snprintf(r->facts, sizeof r->facts, "{\"objects\":%zu,\"failing\":%zu}", total, failing);
    if (total > 0)
        ys_k8s_value(r, 0);
    ys_k8s_age_value(r, now_ms, oldest);
    ys_k8s_verdict(r, total, "Kustomizations or HelmReleases", failing > 0, names, dropped,
                   "%zu of %zu not reconciled", failing, total);
    if (r->ok && stalest >= 0) {
        char d[48];
        snprintf(r->message, sizeof r->message,
                 "all reconciled; the stalest last successful reconcile was %s ago (%.120s)",
                 ys_duration_format(since * 1000, d, sizeof d), stalest_ref);
    }
}

YS_K8S_PROBE_TYPE(ys_probe_flux, "flux", ys_flux_keys, ys_flux_parse, ys_k8s_spec_free);
