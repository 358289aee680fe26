/*
 * k8s_certs.c - the `k8s_certificates` kind (k8s.h): cert-manager
 * Certificates (cert-manager.io/v1) that are Ready and not close to expiry.
 *
 *   - name: certs
 *     kind: k8s_certificates
 *     cluster: prod
 *     namespace: ingress            # default: all namespaces
 *     min_days: 14                  # fail when one expires sooner (default 14)
 *
 * A Certificate fails when its Ready condition is not True (its message is
 * quoted) or when status.notAfter is less than min_days away (missing
 * notAfter: not issued yet, which Ready False says already). The value is
 * the days left on the soonest-expiring one, negative once expired.
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

const char *const ys_k8s_certs_keys[] = {"cluster",        "namespace", "selector",
                                         "field_selector", "min_days",  NULL};

int ys_k8s_certs_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_k8s_certs_spec *s = ys_xcalloc(1, sizeof *s);
    ys_k8s_spec_one(c, "k8s_certificates", &s->base, "/apis/cert-manager.io/v1", "certificates",
                    ys_k8s_certs_judge, d);
    s->min_days = 14;
    const struct ys_node *m = ys_node_get(c, "min_days");
    if (m && ys_cfg_double(m, "min_days", &s->min_days, d) == 0 &&
        !(s->min_days >= 0 && s->min_days <= 36500))
        ys_diag_add(d, m->line, m->col, "min_days must be from 0 to 36500");
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_k8s_certs_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r)
{
    const struct ys_k8s_certs_spec *s = spec;
    size_t i, total = json_array_size(lists[0]), failing = 0, dropped = 0;
    int64_t soonest = -1;
    const json_t *cert;
    char names[200] = "";
    json_array_foreach(lists[0], i, cert)
    {
        const char *msg;
        const char *ready = ys_k8s_condition(cert, "Ready", NULL, &msg);
        int64_t na = ys_k8s_time(
            json_string_value(json_object_get(json_object_get(cert, "status"), "notAfter")));
        ys_k8s_min_time(&soonest, na);
        char why[96] = "";
        if (!ready || strcmp(ready, "True") != 0)
            snprintf(why, sizeof why, "Ready %s%s%.48s", ready ? ready : "missing", msg ? ": " : "",
                     msg ? msg : "");
        else if (na >= 0 && (double)(na - now_ms) < s->min_days * 86400000.0)
            snprintf(why, sizeof why, "%.1f days left", (double)(na - now_ms) / 86400000.0);
        if (!why[0])
            continue;
        failing++;
        char ref[320], one[512];
        ys_k8s_ref(cert, ref, sizeof ref);
        snprintf(one, sizeof one, "%s (%s)", ref, why);
        ys_k8s_name_list(names, sizeof names, one, &dropped);
    }
    snprintf(r->facts, sizeof r->facts, "{\"certificates\":%zu,\"failing\":%zu}", total, failing);
    if (soonest >= 0)
        ys_k8s_value(r, (double)(soonest - now_ms) / 86400000.0);
    ys_k8s_verdict(r, total, "Certificates", failing > 0, names, dropped,
                   "%zu of %zu certificates failing", failing, total);
}

YS_K8S_PROBE_TYPE(ys_probe_k8s_certificates, "k8s_certificates", ys_k8s_certs_keys,
                  ys_k8s_certs_parse, ys_k8s_spec_free);
