/*
 * model_instance.c - the instance: section of the configuration (model.h)
 * and the shard rule (instance.h).
 *
 *   instance:
 *     id: yardstick-a        # unique per daemon; default "<hostname>/<pid>"
 *     location: eu-west      # where it probes from; default "default"
 *     shard: "2/3"           # probe the checks of shard 2 of 3; default: all
 *     lease_ttl: 15s         # the notifier's lease (src/ha/lease.c)
 *
 * Invariants of a parsed section: id non-empty (at most 128 bytes, no
 * control characters), location a name (A-Z a-z 0-9 . _ -), shard either
 * 0/0 (absent) or 1 <= i <= n <= 100000, lease_ttl in [3s, 1h] (at least
 * 3 s so renewing every ttl/3 keeps a second between tries).
 *
 * Runs on the thread that loads the config.
 */
#include "config/instance.h"

#include "config/model_int.h"
#include "config/read.h"
#include "core/hash.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_MAX 128
#define SHARDS_MAX 100000
#define TTL_MIN_MS 3000
#define TTL_MAX_MS INT64_C(3600000)

static const char *const instance_keys[] = {"id", "location", "shard", "lease_ttl", NULL};

uint64_t ys_shard_hash(const char *name)
{
    return ys_hash_bytes(YS_HASH_INIT, name, strlen(name));
}

int ys_shard_of(const char *name, int n)
{
    return n > 0 ? (int)(ys_shard_hash(name) % (uint64_t)n) + 1 : 1;
}

bool ys_instance_probes(const struct ys_instance_config *ic, const char *name)
{
    if (!ic || ic->shard_count <= 0)
        return true;
    return ys_shard_of(name, ic->shard_count) == ic->shard_index;
}

bool ys_instance_at(const struct ys_instance_config *ic, const struct ys_check *ck)
{
    if (ck->locations.n == 0)
        return true;
    const char *me = ic && ic->location && *ic->location ? ic->location : "default";
    for (size_t i = 0; i < ck->locations.n; i++)
        if (strcmp(ck->locations.v[i], me) == 0)
            return true;
    return false;
}

bool ys_instance_probes_check(const struct ys_instance_config *ic, const struct ys_check *ck)
{
    return ys_instance_at(ic, ck) && ys_instance_probes(ic, ck->name);
}

static char *default_id(void)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    return ys_xasprintf("%s/%ld", host, (long)getpid());
}

/* "i/n" with 1 <= i <= n <= SHARDS_MAX; returns whether it was. */
static bool parse_shard(const char *s, int *index, int *count)
{
    char *end;
    errno = 0;
    long i = strtol(s, &end, 10);
    if (end == s || *end != '/' || errno)
        return false;
    const char *rest = end + 1;
    long n = strtol(rest, &end, 10);
    if (end == rest || *end || errno || n < 1 || n > SHARDS_MAX || i < 1 || i > n)
        return false;
    *index = (int)i;
    *count = (int)n;
    return true;
}

static void parse_id(const struct ys_node *n, struct ys_instance_config *ic, struct ys_diag *d)
{
    char *id = NULL;
    if (ys_cfg_string(n, "instance.id", &id, d) < 0)
        return;
    bool ok = id && *id && strlen(id) <= ID_MAX;
    for (const char *p = id; ok && *p; p++)
        ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (!ok) {
        ys_diag_add(d, n->line, n->col,
                    "instance.id must be 1-%d characters without control characters", ID_MAX);
        free(id);
        return;
    }
    free(ic->id);
    ic->id = id;
}

static void parse_location(const struct ys_node *n, struct ys_instance_config *ic,
                           struct ys_diag *d)
{
    char *loc = NULL;
    if (ys_cfg_string(n, "instance.location", &loc, d) < 0)
        return;
    if (!loc || !ys_model_valid_name(loc)) {
        ys_diag_add(d, n->line, n->col, "bad instance.location '%s' (use A-Z a-z 0-9 . _ -)",
                    loc ? loc : "");
        free(loc);
        return;
    }
    free(ic->location);
    ic->location = loc;
}

static void parse_fields(const struct ys_node *n, struct ys_instance_config *ic, struct ys_diag *d)
{
    ys_cfg_check_keys(n, instance_keys, "instance", d);
    const struct ys_node *v;
    if ((v = ys_node_get(n, "id")))
        parse_id(v, ic, d);
    if ((v = ys_node_get(n, "location")))
        parse_location(v, ic, d);
    if ((v = ys_node_get(n, "shard"))) {
        char *s = NULL;
        if (ys_cfg_string(v, "instance.shard", &s, d) == 0 &&
            !parse_shard(s ? s : "", &ic->shard_index, &ic->shard_count))
            ys_diag_add(d, v->line, v->col,
                        "instance.shard must be \"i/n\" with 1 <= i <= n <= %d, not '%s'",
                        SHARDS_MAX, s ? s : "");
        free(s);
    }
    if ((v = ys_node_get(n, "lease_ttl"))) {
        int64_t ms = 0;
        if (ys_cfg_duration(v, "instance.lease_ttl", &ms, d) == 0) {
            if (ms < TTL_MIN_MS || ms > TTL_MAX_MS)
                ys_diag_add(d, v->line, v->col, "instance.lease_ttl must be between 3s and 1h");
            else
                ic->lease_ttl_ms = ms;
        }
    }
}

void ys_model_parse_instance(const struct ys_node *n, struct ys_config *c, struct ys_diag *d)
{
    struct ys_instance_config *ic = &c->instance;
    ic->shard_index = ic->shard_count = 0;
    ic->lease_ttl_ms = 15000;
    if (n && !(n->type == YS_NODE_SCALAR && n->is_null)) {
        if (n->type == YS_NODE_MAP)
            parse_fields(n, ic, d);
        else
            ys_diag_add(d, n->line, n->col, "instance must be a mapping, not %s",
                        ys_node_type_name(n));
    }
    if (!ic->id)
        ic->id = default_id();
    if (!ic->location)
        ic->location = ys_xstrdup("default");
}

void ys_model_free_instance(struct ys_config *c)
{
    free(c->instance.id);
    free(c->instance.location);
    c->instance.id = c->instance.location = NULL;
}
