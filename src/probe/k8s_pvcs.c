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
    ys_k8s_spec_one(c, "k8s_pvcs", &s->base, "/api/v1", "persistentvolumeclaims", ys_k8s_pvcs_judge,
                    d);
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
        char ref[320], one[512];
        ys_k8s_ref(pvc, ref, sizeof ref);
        snprintf(one, sizeof one, "%s %s", ref, phase ? phase : "(no phase)");
        ys_k8s_name_list(names, sizeof names, one, &dropped);
    }
    snprintf(r->facts, sizeof r->facts, "{\"pvcs\":%zu,\"bound\":%zu}", total, bound);
    if (total > 0)
        ys_k8s_value(r, 100.0 * (double)bound / (double)total);
    ys_k8s_verdict(r, total, "PersistentVolumeClaims", bound != total, names, dropped,
                   "%zu of %zu claims not Bound", total - bound, total);
}

YS_K8S_PROBE_TYPE(ys_probe_k8s_pvcs, "k8s_pvcs", ys_k8s_pvcs_keys, ys_k8s_pvcs_parse,
                  ys_k8s_spec_free);
