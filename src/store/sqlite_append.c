/*
 * sqlite_append.c - one transaction per batch: raw results into their
 * check's open chunk, texts into the dictionary, rollups updated.
 *
 * Per check, the batch's encoded records collect in the open chunk's
 * pending buffer and are written once at the end (UPDATE ... data = data
 * || ?), so a batch costs one row write per touched check, not one per
 * result. A chunk closes when the next result falls in another UTC hour
 * or the chunk passed SQ_CHUNK_MAX_BYTES; the next one starts from a
 * zeroed codec state, so every chunk decodes on its own.
 *
 * A result with facts also gets a row in `facts` (check_id, ts_ms, json),
 * and its chunk record carries YS_RF_FACTS_ROW (through the codec's extra
 * flags, one or two bytes), so a read looks the table up only for hours
 * that have such records and pairs rows with exactly those results.
 *
 * If anything fails the transaction rolls back and every in-memory cache
 * is dropped (it may hold state the database no longer has).
 *
 * Runs on the thread that owns the connection (the store writer).
 */
#include "store/sqlite_int.h"

#include "core/hash.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_CACHE_MAX 16384

struct sq_check *sq_check_get(struct sq_store *s, uint32_t id)
{
    if (id >= s->ncheck) {
        /* Sized in size_t: ids come from the file, and doubling a uint32_t
         * past 2^31 would wrap to 0 and never end. */
        size_t n = s->ncheck ? s->ncheck : 64;
        while (n <= (size_t)id)
            n *= 2;
        s->checks = ys_xrealloc(s->checks, n * sizeof *s->checks);
        memset(s->checks + s->ncheck, 0, (n - s->ncheck) * sizeof *s->checks);
        s->ncheck = n;
    }
    struct sq_check *c = s->checks[id];
    if (!c) {
        c = ys_xcalloc(1, sizeof *c);
        c->id = id;
        c->chunk.hour_ms = -1;
        c->hour.bucket_ms = c->day.bucket_ms = -1;
        c->min.hour_ms = c->min.cur.bucket_ms = -1;
        s->checks[id] = c;
    }
    return c;
}

static struct sq_text_entry *text_slot(struct sq_store *s, const char *text)
{
    size_t mask = s->text_cap - 1;
    for (size_t i = ys_hash_str(YS_HASH_INIT, text) & mask;; i = (i + 1) & mask)
        if (!s->text[i].s || strcmp(s->text[i].s, text) == 0)
            return &s->text[i];
}

static void text_remember(struct sq_store *s, const char *text, uint32_t id)
{
    if (s->text_n >= TEXT_CACHE_MAX) {
        /* Texts that vary without end (ids, times) must not grow memory. */
        for (size_t i = 0; i < s->text_cap; i++)
            free(s->text[i].s);
        memset(s->text, 0, s->text_cap * sizeof *s->text);
        s->text_n = 0;
    }
    if ((s->text_n + 1) * 2 > s->text_cap) {
        struct sq_text_entry *old = s->text;
        size_t old_cap = s->text_cap;
        s->text_cap = old_cap ? old_cap * 2 : 64;
        s->text = ys_xcalloc(s->text_cap, sizeof *s->text);
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].s)
                *text_slot(s, old[i].s) = old[i];
        free(old);
    }
    struct sq_text_entry *e = text_slot(s, text);
    e->s = ys_xstrdup(text);
    e->id = id;
    s->text_n++;
}

int sq_text_id(struct sq_store *s, const char *text, uint32_t *id, struct ys_err *err)
{
    *id = 0;
    if (!text[0])
        return 0;
    if (s->text_cap) {
        struct sq_text_entry *e = text_slot(s, text);
        if (e->s) {
            *id = e->id;
            return 0;
        }
    }
    sqlite3_stmt *q = sq_stmt(s, SQ_TEXT_GET, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        *id = (uint32_t)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (step == SQLITE_DONE) {
        if (!(q = sq_stmt(s, SQ_TEXT_ADD, err)))
            return YS_ESTORE;
        sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
        step = sqlite3_step(q);
        sqlite3_reset(q);
        *id = (uint32_t)sqlite3_last_insert_rowid(s->db);
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return sq_fail(s, err, "text dictionary");
    text_remember(s, text, *id);
    return 0;
}

int sq_text_lookup(struct sq_store *s, uint32_t id, char *buf, size_t size, struct ys_err *err)
{
    buf[0] = '\0';
    if (id == 0)
        return 0;
    sqlite3_stmt *q = sq_stmt(s, SQ_TEXT_BY_ID, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, id);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_reset(q);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : sq_fail(s, err, "text lookup");
}

/* Rebuilds the open chunk's codec state after a restart by decoding it. */
static int load_chunk(struct sq_store *s, struct sq_check *c, struct ys_err *err)
{
    struct sq_chunk *ch = &c->chunk;
    sqlite3_stmt *q = sq_stmt(s, SQ_CHUNK_LAST, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, c->id);
    int step = sqlite3_step(q);
    ch->loaded = true;
    if (step == SQLITE_ROW) {
        struct ys_reader rd = {sqlite3_column_blob(q, 4), (size_t)sqlite3_column_bytes(q, 4), 0};
        struct ys_result r;
        struct ys_text_ids ids;
        memset(&ch->st, 0, sizeof ch->st);
        while (rd.pos < rd.len && ys_chunk_decode(&ch->st, &rd, &r, &ids) == 0)
            ;
        /* A chunk that does not decode to its end is not appended to. */
        if (rd.pos == rd.len) {
            ch->id = sqlite3_column_int64(q, 0);
            ch->start_ms = sqlite3_column_int64(q, 1);
            ch->end_ms = sqlite3_column_int64(q, 2);
            ch->n = (uint32_t)sqlite3_column_int64(q, 3);
            ch->size = rd.len;
            ch->hour_ms = sq_floor(ch->start_ms, SQ_HOUR_MS);
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : sq_fail(s, err, "loading a chunk");
}

static int flush_chunk(struct sq_store *s, struct sq_check *c, struct ys_err *err)
{
    struct sq_chunk *ch = &c->chunk;
    if (ch->pending_n == 0)
        return 0;
    sqlite3_stmt *q = sq_stmt(s, ch->id ? SQ_CHUNK_APPEND : SQ_CHUNK_ADD, err);
    if (!q)
        return YS_ESTORE;
    if (ch->id) {
        sqlite3_bind_blob(q, 1, ch->pending.p, (int)ch->pending.len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, ch->n);
        sqlite3_bind_int64(q, 3, ch->start_ms);
        sqlite3_bind_int64(q, 4, ch->end_ms);
        sqlite3_bind_int64(q, 5, ch->id);
    } else {
        sqlite3_bind_int64(q, 1, c->id);
        sqlite3_bind_int64(q, 2, ch->start_ms);
        sqlite3_bind_int64(q, 3, ch->end_ms);
        sqlite3_bind_int64(q, 4, ch->n);
        sqlite3_bind_blob(q, 5, ch->pending.p, (int)ch->pending.len, SQLITE_STATIC);
    }
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    if (step != SQLITE_DONE)
        return sq_fail(s, err, "writing a chunk");
    if (ch->id && sqlite3_changes(s->db) != 1)
        return ys_err_set(err, YS_ESTORE, "sqlite: chunk %lld vanished", (long long)ch->id);
    if (!ch->id)
        ch->id = sqlite3_last_insert_rowid(s->db);
    ch->pending.len = 0;
    ch->pending_n = 0;
    return 0;
}

static int chunk_add(struct sq_store *s, struct sq_check *c, const struct ys_result *r,
                     struct ys_err *err)
{
    struct sq_chunk *ch = &c->chunk;
    int64_t hour = sq_floor(r->ts_ms, SQ_HOUR_MS);
    struct ys_text_ids ids = {0, 0, 0};
    int rc;
    if (ch->hour_ms != hour || ch->size >= SQ_CHUNK_MAX_BYTES) {
        if ((rc = flush_chunk(s, c, err)) < 0)
            return rc;
        memset(&ch->st, 0, sizeof ch->st);
        ch->id = 0;
        ch->hour_ms = hour;
        ch->start_ms = ch->end_ms = r->ts_ms;
        ch->n = 0;
        ch->size = 0;
    }
    if ((rc = sq_text_id(s, r->message, &ids.message, err)) < 0)
        return rc;
    if (r->flags & YS_RF_HAS_TLS) {
        if ((rc = sq_text_id(s, r->tls.subject, &ids.subject, err)) < 0 ||
            (rc = sq_text_id(s, r->tls.issuer, &ids.issuer, err)) < 0)
            return rc;
    }
    /* The record says whether a facts row goes with it (see the file
     * comment); whatever the flag said on the way in. */
    struct ys_result flagged;
    bool has_facts = r->facts[0] != '\0';
    if (has_facts != ((r->flags & YS_RF_FACTS_ROW) != 0)) {
        flagged = *r;
        flagged.flags =
            (uint8_t)(has_facts ? r->flags | YS_RF_FACTS_ROW : r->flags & ~YS_RF_FACTS_ROW);
        r = &flagged;
    }
    size_t before = ch->pending.len;
    ys_chunk_encode(&ch->st, r, &ids, &ch->pending);
    ch->size += ch->pending.len - before;
    ch->n++;
    ch->pending_n++;
    if (r->ts_ms < ch->start_ms)
        ch->start_ms = r->ts_ms;
    if (r->ts_ms > ch->end_ms)
        ch->end_ms = r->ts_ms;
    return 0;
}

static int add_facts(struct sq_store *s, const struct ys_result *r, struct ys_err *err)
{
    sqlite3_stmt *q = sq_stmt(s, SQ_FACTS_ADD, err);
    if (!q)
        return YS_ESTORE;
    sqlite3_bind_int64(q, 1, r->check_id);
    sqlite3_bind_int64(q, 2, r->ts_ms);
    sqlite3_bind_text(q, 3, r->facts, (int)strnlen(r->facts, sizeof r->facts), SQLITE_STATIC);
    int step = sqlite3_step(q);
    sqlite3_reset(q);
    return step == SQLITE_DONE ? 0 : sq_fail(s, err, "writing facts");
}

static int add_one(struct sq_store *s, const struct ys_result *r, struct ys_err *err)
{
    int rc;
    if (r->check_id == 0 || r->check_id > SQ_MAX_CHECK_ID)
        return ys_err_set(err, YS_EINVAL, "sqlite: bad check id %u", r->check_id);
    struct sq_check *c = sq_check_get(s, r->check_id);
    if (!c->chunk.loaded && (rc = load_chunk(s, c, err)) < 0)
        return rc;
    if (!c->dirty) {
        if (s->ndirty == s->dirty_cap) {
            s->dirty_cap = s->dirty_cap ? s->dirty_cap * 2 : 64;
            s->dirty = ys_xrealloc(s->dirty, s->dirty_cap * sizeof *s->dirty);
        }
        s->dirty[s->ndirty++] = c->id;
        c->dirty = true;
    }
    if ((rc = chunk_add(s, c, r, err)) < 0)
        return rc;
    if (r->facts[0] && (rc = add_facts(s, r, err)) < 0)
        return rc;
    /* Rollups feed SLOs and goals; a maintenance window excluded from them
     * and a "no data" result keep their raw results (history shows them)
     * out of every count (ys_result_counts, core/result.h). */
    if (!ys_result_counts(r))
        return 0;
    return sq_rollup_add(s, c, r, err);
}

int sq_append(struct ys_store *st, const struct ys_result *results, size_t n, struct ys_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    int rc;
    if (s->read_only)
        return ys_err_set(err, YS_EINVAL, "sqlite: the store is open read-only");
    if (n == 0)
        return 0;
    if ((rc = sq_exec(s, SQ_BEGIN, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = add_one(s, &results[i], err)) < 0)
            goto fail;
    for (size_t i = 0; i < s->ndirty; i++) {
        struct sq_check *c = s->checks[s->dirty[i]];
        if ((rc = flush_chunk(s, c, err)) < 0 || (rc = sq_rollup_write(s, c, err)) < 0)
            goto fail;
    }
    if ((rc = sq_exec(s, SQ_COMMIT, err)) < 0)
        goto fail;
    for (size_t i = 0; i < s->ndirty; i++)
        s->checks[s->dirty[i]]->dirty = false;
    s->ndirty = 0;
    return 0;
fail:
    if (!sqlite3_get_autocommit(s->db))
        sq_exec(s, SQ_ROLLBACK, NULL);
    sq_forget_caches(s);
    return rc;
}
