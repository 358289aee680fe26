/*
 * k8s_pvcs.c - the `k8s_pvcs` kind (k8s.h): PersistentVolumeClaims that
 * are Bound.
 *
 *   - { name: volumes, kind: k8s_pvcs, cluster: prod, namespace: db }
 *
 * A claim whose status.phase is not Bound (Pending, Lost) fails the check
 * and is named with its phase. The value is the percent Bound.
 */
#include "probe/k8s.h"

#include "config/diag.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ys_k8s_pvcs_keys[] = {"cluster", "namespace", "selector", "field_selector", NULL};

int ys_k8s_pvcs_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_k8s_pvcs_spec *s = ys_xcalloc(1, sizeof *s);
    char *ns = NULL;
    ys_k8s_spec_common(c, "k8s_pvcs", &s->base, &ns, d);
    s->base.paths[s->base.n_paths++] =
        ns ? ys_xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims", ns)
           : ys_xstrdup("/api/v1/persistentvolumeclaims");
    s->base.judge = ys_k8s_pvcs_judge;
    free(ns);
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_k8s_pvcs_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r)
{
    (void)spec;
    (void)now_ms;
    size_t i, total = json_array_size(lists[0]), bound = 0, dropped = 0;
    const json_t *pvc;
    char names[200] = "";
    json_array_foreach(lists[0], i, pvc)
    {
        const char *phase =
            json_string_value(json_object_get(json_object_get(pvc, "status"), "phase"));
        if (phase && strcmp(phase, "Bound") == 0) {
            bound++;
            continue;
        }
        const json_t *md = json_object_get(pvc, "metadata");
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *name = json_string_value(json_object_get(md, "name"));
        char one[192];
        snprintf(one, sizeof one, "%s/%s %s", ns ? ns : "?", name ? name : "?",
                 phase ? phase : "(no phase)");
        ys_k8s_name_list(names, sizeof names, one, &dropped);
    }
    snprintf(r->facts, sizeof r->facts, "{\"pvcs\":%zu,\"bound\":%zu}", total, bound);
    if (total == 0) {
        ys_result_fail(r, YS_EC_ASSERTION, "no PersistentVolumeClaims matched");
        return;
    }
    r->value = 100.0 * (double)bound / (double)total;
    r->flags |= YS_RF_HAS_VALUE;
    if (bound == total)
        return;
    char more[32] = "";
    if (dropped)
        snprintf(more, sizeof more, ", +%zu more", dropped);
    ys_result_fail(r, YS_EC_ASSERTION, "%zu of %zu claims not Bound: %s%s", total - bound, total,
                   names, more);
}

static int pvcs_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d)
{
    (void)base;
    return ys_k8s_pvcs_parse(check, spec, d);
}

const struct ys_probe_type ys_probe_k8s_pvcs = {
    .name = "k8s_pvcs",
    .keys = ys_k8s_pvcs_keys,
    .parse = pvcs_parse,
    .free_spec = ys_k8s_spec_free,
    .start = ys_k8s_probe_start,
    .cancel = ys_k8s_probe_cancel,
};
