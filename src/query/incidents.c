/*
 * incidents.c - incident statistics over a window, from the incidents the
 * live tracker stored: read them (open ones included) and hand them to the
 * pure ys_incident_stats.
 *
 * Any thread, with its own store connection.
 */
#include "query/query_int.h"

#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct inc_vec {
    struct ys_incident *v;
    size_t n, cap;
};

static int collect(const struct ys_incident *inc, void *arg)
{
    struct inc_vec *iv = arg;
    if (iv->n == iv->cap) {
        iv->cap = iv->cap ? iv->cap * 2 : 16;
        iv->v = ys_xrealloc(iv->v, iv->cap * sizeof *iv->v);
    }
    iv->v[iv->n++] = *inc;
    return 0;
}

int ys_query_incident_stats_ids(struct ys_store *s, const uint32_t *ids, size_t n, int64_t from_ms,
                                int64_t to_ms, int64_t now_ms, struct ys_incident_stats *out,
                                struct ys_err *err)
{
    struct inc_vec iv = {0};
    int rc = 0;
    for (size_t i = 0; s && i < n && rc == 0; i++)
        rc = s->type->query_incidents(s, ids[i], from_ms, to_ms, collect, &iv, err);
    if (rc == 0)
        ys_incident_stats(iv.v, iv.n, from_ms, to_ms, now_ms, out);
    free(iv.v);
    return rc;
}

int ys_query_incident_stats(struct ys_store *s, uint32_t check_id, int64_t from_ms, int64_t to_ms,
                            int64_t now_ms, struct ys_incident_stats *out, struct ys_err *err)
{
    return ys_query_incident_stats_ids(s, &check_id, 1, from_ms, to_ms, now_ms, out, err);
}
