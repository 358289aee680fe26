/*
 * registry.c - the static table of probe kinds.
 *
 * Adding a kind is one file, one line here, one unit test, one integration
 * case and one docs entry (docs/configuration.md).
 */
#include "probe/probe.h"

#include <string.h>

extern const struct ys_probe_type ys_probe_http;
extern const struct ys_probe_type ys_probe_tcp;
extern const struct ys_probe_type ys_probe_dns;
extern const struct ys_probe_type ys_probe_dns_records;
extern const struct ys_probe_type ys_probe_dns_propagation;
extern const struct ys_probe_type ys_probe_freshness;
extern const struct ys_probe_type ys_probe_heartbeat;
extern const struct ys_probe_type ys_probe_registry;
extern const struct ys_probe_type ys_probe_etcd;
extern const struct ys_probe_type ys_probe_promql;
extern const struct ys_probe_type ys_probe_k8s_nodes;
extern const struct ys_probe_type ys_probe_k8s_workloads;
extern const struct ys_probe_type ys_probe_flux;
extern const struct ys_probe_type ys_probe_k8s_pvcs;
extern const struct ys_probe_type ys_probe_k8s_certificates;
extern const struct ys_probe_type ys_probe_k8s_condition;
extern const struct ys_probe_type ys_probe_k8s_cronjobs;
extern const struct ys_probe_type ys_probe_k8s_pdb_coverage;

static const struct ys_probe_type *const kinds[] = {
    &ys_probe_http,
    &ys_probe_tcp,
    &ys_probe_dns,
    &ys_probe_dns_records,
    &ys_probe_dns_propagation,
    &ys_probe_freshness,
    &ys_probe_etcd,
    &ys_probe_heartbeat, /* passive: start is NULL, fed by pings */
    &ys_probe_registry,
    &ys_probe_promql,
    &ys_probe_k8s_nodes,
    &ys_probe_k8s_workloads,
    &ys_probe_flux,
    &ys_probe_k8s_pvcs,
    &ys_probe_k8s_certificates,
    &ys_probe_k8s_condition,
    &ys_probe_k8s_cronjobs,
    &ys_probe_k8s_pdb_coverage,
};

#define N_KINDS (sizeof kinds / sizeof kinds[0])

const struct ys_probe_type *ys_probe_type_find(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

const char *const *ys_probe_type_names(void)
{
    static const char *names[N_KINDS + 1];
    for (size_t i = 0; i < N_KINDS; i++)
        names[i] = kinds[i]->name;
    names[N_KINDS] = NULL;
    return names;
}
