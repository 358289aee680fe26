/*
 * sqlite_prune.c - retention: deletes expired chunks, rollups, pings,
 * finished notifications and resolved alerts in small steps.
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
#include "store/sqlite_int.h"

#include <stdlib.h>

static int run_delete(struct sq_store *s, enum sq_stmt which, uint32_t check_id, int res,
                      int64_t cutoff, int limit, int *deleted, struct ys_err *err)
{
    sqlite3_stmt *q = sq_stmt(s, which, err);
    if (!q)
        return YS_ESTORE;
    int i = 1;
    sqlite3_bind_int64(q, i++, check_id);
    if (which == SQ_PRUNE_ROLLUP)
        sqlite3_bind_int(q, i++, res);
    sqlite3_bind_int64(q, i++, cutoff);
    sqlite3_bind_int(q, i, limit);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    if (step != SQLITE_DONE)
        return sq_fail(s, err, "pruning");
    *deleted = sqlite3_changes(s->db);
    return 0;
}

/* Prunes one check, at most *left rows; decrements *left. */
static int prune_check(struct sq_store *s, uint32_t id, int64_t now, int *left,
                       struct ys_err *err)
{
    const struct ys_retention *rt = &s->retention;
    const struct {
        enum sq_stmt stmt;
        int res;
        int64_t keep, len;
        bool cached; /* the writer caches these rows */
    } plan[] = {
        {SQ_PRUNE_CHUNK, YS_RES_RAW, rt->raw_ms, 1, true},
        {SQ_PRUNE_FACTS, YS_RES_RAW, rt->raw_ms, 1, false},
        {SQ_PRUNE_MINUTE, YS_RES_MINUTE, rt->minute_ms, SQ_HOUR_MS, true},
        {SQ_PRUNE_ROLLUP, YS_RES_HOUR, rt->hour_ms, SQ_HOUR_MS, true},
        {SQ_PRUNE_ROLLUP, YS_RES_DAY, rt->day_ms, 24 * SQ_HOUR_MS, true},
        {SQ_PRUNE_PING, YS_RES_RAW, rt->raw_ms, 1, false},
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
        struct sq_check *c = s->checks[id];
        s->checks[id] = NULL;
        ys_buf_free(&c->chunk.pending);
        sq_slot_free(&c->hour);
        sq_slot_free(&c->day);
        sq_slot_free(&c->min.cur);
        ys_buf_free(&c->min.done);
        free(c);
    }
    return 0;
}

/* Deletes the finished outbox rows and resolved alerts that expired, at
 * most *left rows; decrements *left. */
static int prune_unowned(struct sq_store *s, int64_t now, int *left, struct ys_err *err)
{
    static const enum sq_stmt stmts[] = {SQ_PRUNE_OUTBOX, SQ_PRUNE_ALERT};
    if (s->retention.raw_ms <= 0)
        return 0;
    int64_t cutoff = now - s->retention.raw_ms;
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0] && *left > 0; i++) {
        sqlite3_stmt *q = sq_stmt(s, stmts[i], err);
        if (!q)
            return YS_ESTORE;
        sqlite3_bind_int64(q, 1, cutoff);
        sqlite3_bind_int(q, 2, *left);
        int step = sqlite3_step(q);
        sqlite3_reset(q);
        if (step != SQLITE_DONE)
            return sq_fail(s, err, "pruning");
        *left -= sqlite3_changes(s->db);
    }
    return 0;
}

static int next_check(struct sq_store *s, uint32_t from, uint32_t *id, struct ys_err *err)
{
    sqlite3_stmt *q = sq_stmt(s, SQ_CHECK_NEXT, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, from);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        *id = (uint32_t)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (step == SQLITE_ROW)
        return 1;
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "listing checks");
}

int sq_prune(struct ys_store *st, int64_t now_ms, int budget, int *deleted, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    int rc, left = budget;
    bool wrapped = false;
    uint32_t start = s->prune_cursor, id = 0;
    *deleted = 0;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    if (budget <= 0)
        return 0;
    if ((rc = sq_exec(s, SQ_BEGIN, err)) < 0)
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
    if ((rc = sq_exec(s, SQ_COMMIT, err)) < 0)
        goto fail;
    *deleted = budget - left;
    return 0;
fail:
    if (!sqlite3_get_autocommit(s->db))
        sq_exec(s, SQ_ROLLBACK, NULL);
    sq_forget_caches(s);
    return rc;
}
