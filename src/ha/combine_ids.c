/*
 * combine_ids.c - the per-location series of multi-location checks.
 *
 * Each location's results of check "api" go to the store series
 * "api@home", "api@eu-west", ... . Registration (the store's check_id)
 * may block, so it runs where the daemon registers its checks (at start,
 * and on the threadpool at SIGHUP); the loop then needs this daemon's
 * own series id for every result without I/O. The ids are kept in one
 * process-wide table under a mutex: the store's name -> id mapping never
 * changes for a name, so a cache of it is right for every config the
 * process ever loads, and the daemon needs no new field to carry it.
 *
 * The table is open addressing over owned names, grown at half full; the
 * lock is held only for a lookup or an insert.
 */
#include "ha/combine.h"

#include "config/instance.h"

#include "core/hash.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char *name; /* NULL: empty */
    uint32_t id;
};

static pthread_mutex_t ids_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *ids;
static size_t ids_cap, ids_n;

/* Lock held. */
static struct slot *find_slot(struct slot *v, size_t cap, const char *name)
{
    size_t mask = cap - 1;
    for (size_t h = (size_t)ys_hash_str(YS_HASH_INIT, name) & mask;; h = (h + 1) & mask)
        if (!v[h].name || strcmp(v[h].name, name) == 0)
            return &v[h];
}

/* Lock held. */
static void grow(void)
{
    size_t cap = ids_cap ? ids_cap * 2 : 64;
    struct slot *v = ys_xcalloc(cap, sizeof *v);
    for (size_t i = 0; i < ids_cap; i++)
        if (ids[i].name)
            *find_slot(v, cap, ids[i].name) = ids[i];
    free(ids);
    ids = v;
    ids_cap = cap;
}

static void put(const char *name, uint32_t id)
{
    pthread_mutex_lock(&ids_lock);
    if (2 * (ids_n + 1) > ids_cap)
        grow();
    struct slot *s = find_slot(ids, ids_cap, name);
    if (!s->name) {
        s->name = ys_xstrdup(name);
        ids_n++;
    }
    s->id = id;
    pthread_mutex_unlock(&ids_lock);
}

static uint32_t get(const char *name)
{
    uint32_t id = 0;
    pthread_mutex_lock(&ids_lock);
    if (ids_cap) {
        const struct slot *s = find_slot(ids, ids_cap, name);
        id = s->name ? s->id : 0;
    }
    pthread_mutex_unlock(&ids_lock);
    return id;
}

void ys_combine_ids_clear(void)
{
    pthread_mutex_lock(&ids_lock);
    for (size_t i = 0; i < ids_cap; i++)
        free(ids[i].name);
    free(ids);
    ids = NULL;
    ids_cap = ids_n = 0;
    pthread_mutex_unlock(&ids_lock);
}

const char *ys_combine_my_location(const struct ys_config *cfg)
{
    const char *l = cfg ? cfg->instance.location : NULL;
    return l && *l ? l : "default";
}

bool ys_combine_probes_here(const struct ys_config *cfg, const struct ys_check *ck)
{
    return ys_instance_at(cfg ? &cfg->instance : NULL, ck);
}

int ys_combine_register(struct ys_store *store, const struct ys_config *cfg, struct ys_err *err)
{
    char name[YS_LOC_NAME_MAX];
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const struct ys_check *ck = &cfg->checks[i];
        for (size_t j = 0; j < ck->locations.n; j++) {
            /* Check and location names are at most 128 bytes each. */
            snprintf(name, sizeof name, "%s@%s", ck->name, ck->locations.v[j]);
            uint32_t id = 0;
            int rc = store->type->check_id(store, name, &id, err);
            if (rc < 0)
                return rc;
            put(name, id);
        }
    }
    return 0;
}

uint32_t ys_combine_series_id(const char *check, const char *location)
{
    char name[YS_LOC_NAME_MAX];
    snprintf(name, sizeof name, "%s@%s", check, location);
    return get(name);
}

uint32_t ys_combine_own_id(const struct ys_config *cfg, const struct ys_check *ck)
{
    if (ck->locations.n == 0)
        return 0;
    return ys_combine_series_id(ck->name, ys_combine_my_location(cfg));
}
