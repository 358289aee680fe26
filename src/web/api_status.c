/*
 * api_status.c - GET /api/v1/status: which daemon answered, among several
 * sharing one store (docs/ha.md): its instance id, location and shard,
 * how many checks it probes of how many, and whether it holds the
 * notifier lease, and whether it probes its partition or stands by (only
 * the holder of the partition lease probes). Shapes: docs/api.md.
 *
 * Threads: the server's pool threads (the lease state comes through
 * ys_web_set_leader's atomics, the rest from the live snapshot's config).
 */
#include "web/web_int.h"

#include "config/instance.h"
#include "ha/lease.h"

#include <microhttpd.h>

#include <stdatomic.h>
#include <stdio.h>

/* ys_web_set_probing's: the daemon's, one per process (kept here rather
 * than in struct ys_web so the scheduler's state needs no server). */
static _Atomic bool probing = true;

void ys_web_set_probing(bool p)
{
    atomic_store(&probing, p);
}

void ys_web_api_status(struct ys_web_req *req, struct ys_web_reply *rep)
{
    const struct ys_config *cfg = req->snap->cfg;
    const struct ys_instance_config *ic = &cfg->instance;
    size_t probed = 0;
    for (size_t i = 0; i < cfg->n_checks; i++) /* as api_checks.c's probed_here */
        probed += !cfg->checks[i].type->start || ys_instance_probes_check(ic, &cfg->checks[i]);
    char shard[32];
    snprintf(shard, sizeof shard, "%d/%d", ic->shard_index, ic->shard_count);
    char partition[300];
    ys_lease_partition_name(cfg, partition, sizeof partition);
    bool on = atomic_load(&probing);
    json_t *inst = json_pack("{s:s?,s:s?,s:o,s:I,s:s,s:b}", "id", ic->id, "location", ic->location,
                             "shard", ic->shard_count ? json_string(shard) : json_null(),
                             "lease_ttl_ms", (json_int_t)ic->lease_ttl_ms, "partition", partition,
                             "probing", on);
    ys_web_reply_json(rep, MHD_HTTP_OK,
                      json_pack("{s:s,s:o,s:b,s:I,s:I,s:I,s:s?}", "version", YS_VERSION, "instance",
                                inst, "leader", atomic_load(&req->web->leader), "lease_changes",
                                (json_int_t)atomic_load(&req->web->lease_changes), "checks",
                                (json_int_t)cfg->n_checks, "checks_probed_here", (json_int_t)probed,
                                "storage", cfg->storage.kind));
}
