/*
 * pg_prune.c - retention in PostgreSQL: deletes expired chunks, rollups,
 * facts, pings, finished notifications and resolved alerts in small steps,
 * exactly as sqlite_prune.c does (its comment follows), with the same
 * statements through the same indexes.
 *
 * One call is one short transaction that deletes at most `budget` rows.
 * It walks the checks from a cursor kept on the connection (so successive
 * calls cover every check) and, for each, deletes through the primary key
 * or the (check_id, start_ms) index: no full-table scan, no extra index.
 * A raw chunk expires when its last result is older than retention.raw_ms;
 * a rollup when its whole bucket is older than its resolution's retention
 * (a packed hour of minute rollups, when the hour's end is). Retention 0
 * keeps a resolution forever. A check's results' facts and its pings
 * expire with raw retention too (by ts_ms, through facts_check and
 * ping_check). A facts row can go an hour before its result's chunk (that
 * waits for its last result); the result then reads back without facts.
 *
 * After the walk over checks, what budget is left goes to the tables that
 * belong to no check, all on raw retention: outbox rows delivered or given
 * up with done_ms older than it, and resolved alerts with resolved_ms
 * older than it. Pending rows and firing alerts are never deleted: the
 * first are still owed to someone, the second are the current state.
 *
 * A check whose chunks or rollups were deleted loses its write cache, so
 * the next batch reloads what is left rather than resurrect a deleted
 * bucket (pings have no cache).
 * Runs on the writer thread, between batches.
 */
#include "store/pg_int.h"

#include <stdlib.h>

static int run_delete(struct pg_store *s, enum pg_stmt which, uint32_t check_id, int res,
                      int64_t cutoff, int limit, int *deleted, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_i64(&p, check_id);
    if (which == PG_PRUNE_ROLLUP)
        pg_p_i64(&p, res);
    pg_p_i64(&p, cutoff);
    pg_p_i64(&p, limit);
    PGresult *q = pg_run(s, which, &p, "pruning", err);
    if (!q)
        return YS_ESTORE;
    *deleted = pg_changes(q);
    PQclear(q);
    return 0;
}

/* Prunes one check, at most *left rows; decrements *left. */
static int prune_check(struct pg_store *s, uint32_t id, int64_t now, int *left, struct ys_err *err)
{
    const struct ys_retention *rt = &s->retention;
    const struct {
        enum pg_stmt stmt;
        int res;
        int64_t keep, len;
        bool cached; /* the writer caches these rows */
    } plan[] = {
        {PG_PRUNE_CHUNK, YS_RES_RAW, rt->raw_ms, 1, true},
        {PG_PRUNE_FACTS, YS_RES_RAW, rt->raw_ms, 1, false},
        {PG_PRUNE_MINUTE, YS_RES_MINUTE, rt->minute_ms, PG_HOUR_MS, true},
        {PG_PRUNE_ROLLUP, YS_RES_HOUR, rt->hour_ms, PG_HOUR_MS, true},
        {PG_PRUNE_ROLLUP, YS_RES_DAY, rt->day_ms, 24 * PG_HOUR_MS, true},
        {PG_PRUNE_PING, YS_RES_RAW, rt->raw_ms, 1, false},
    };
    int total = 0, n = 0, rc;
    for (size_t i = 0; i < sizeof plan / sizeof plan[0] && *left > 0; i++) {
        if (plan[i].keep <= 0)
            continue;
        /* Rows whose bucket (or last result) ends at or before the cutoff. */
        int64_t cutoff = now - plan[i].keep - plan[i].len + 1;
        if ((rc = run_delete(s, plan[i].stmt, id, plan[i].res, cutoff, *left, &n, err)) < 0)
            return rc;
        *left -= n;
        if (plan[i].cached)
            total += n;
    }
    if (total > 0 && id < s->ncheck && s->checks[id]) {
        pg_check_free(s->checks[id]);
        s->checks[id] = NULL;
    }
    return 0;
}

/* Deletes the finished outbox rows and resolved alerts that expired, at
 * most *left rows; decrements *left. */
static int prune_unowned(struct pg_store *s, int64_t now, int *left, struct ys_err *err)
{
    static const enum pg_stmt stmts[] = {PG_PRUNE_OUTBOX, PG_PRUNE_ALERT};
    if (s->retention.raw_ms <= 0)
        return 0;
    int64_t cutoff = now - s->retention.raw_ms;
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0] && *left > 0; i++) {
        struct pg_params p = {0};
        pg_p_i64(&p, cutoff);
        pg_p_i64(&p, *left);
        PGresult *q = pg_run(s, stmts[i], &p, "pruning", err);
        if (!q)
            return YS_ESTORE;
        *left -= pg_changes(q);
        PQclear(q);
    }
    return 0;
}

static int next_check(struct pg_store *s, uint32_t from, uint32_t *id, struct ys_err *err)
{
    struct pg_params p = {0};
    pg_p_i64(&p, from);
    PGresult *q = pg_run(s, PG_CHECK_NEXT, &p, "listing checks", err);
    if (!q)
        return YS_ESTORE;
    int found = PQntuples(q) == 1;
    if (found)
        *id = (uint32_t)pg_i64(q, 0, 0);
    PQclear(q);
    return found;
}

int pg_prune(struct ys_store *st, int64_t now_ms, int budget, int *deleted, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    int rc, left = budget;
    bool wrapped = false;
    uint32_t start = s->prune_cursor, id = 0;
    *deleted = 0;
    if (s->read_only)
        return pg_read_only_error(s, err);
    if (budget <= 0)
        return 0;
    if ((rc = pg_begin(s, err)) < 0)
        return rc;
    while (left > 0) {
        if ((rc = next_check(s, s->prune_cursor, &id, err)) < 0)
            goto fail;
        if (rc == 0 || (wrapped && id >= start)) {
            if (wrapped || start == 0) {
                s->prune_cursor = 0;
                break;
            }
            wrapped = true;
            s->prune_cursor = 0;
            continue;
        }
        if ((rc = prune_check(s, id, now_ms, &left, err)) < 0)
            goto fail;
        /* A check that filled the budget may have more: start there next. */
        s->prune_cursor = left > 0 ? id + 1 : id;
    }
    if (left > 0 && (rc = prune_unowned(s, now_ms, &left, err)) < 0)
        goto fail;
    if ((rc = pg_commit(s, err)) < 0)
        goto fail;
    *deleted = budget - left;
    return 0;
fail:
    pg_rollback(s);
    pg_forget_caches(s);
    return rc;
}
