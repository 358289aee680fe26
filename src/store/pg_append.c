/*
 * pg_append.c - one transaction per batch: raw results into their check's
 * open chunk, texts into the dictionary, facts rows, rollups updated.
 *
 * The same design as sqlite_append.c (read its comment): per check, the
 * batch's encoded records collect in the open chunk's pending buffer; a
 * chunk closes at a UTC hour change or past PG_CHUNK_MAX_BYTES. What
 * differs is how the rows travel: every write is queued in the batch's
 * multi-row statements (pg_rows.c) and sent at the end, so a batch costs
 * a handful of round trips whatever the number of checks. A closed chunk
 * is inserted whole; the open one is inserted RETURNING its id (appended
 * to by id in later batches, data = data || new records).
 *
 * Texts: the dictionary (texts) maps a message, TLS subject or issuer to
 * an id. Two caches sit on the connection: string -> id for writes and
 * id -> string for reads (query_raw), each capped like SQLite's.
 *
 * If anything fails the transaction rolls back and every cache and queue
 * is dropped. Runs on the thread that owns the connection.
 */
#include "store/pg_int.h"

#include "core/hash.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_CACHE_MAX 16384

struct pg_check *pg_check_get(struct pg_store *s, uint32_t id)
{
    if (id >= s->ncheck) {
        size_t n = s->ncheck ? s->ncheck : 64;
        while (n <= (size_t)id)
            n *= 2;
        s->checks = ys_xrealloc(s->checks, n * sizeof *s->checks);
        memset(s->checks + s->ncheck, 0, (n - s->ncheck) * sizeof *s->checks);
        s->ncheck = n;
    }
    struct pg_check *c = s->checks[id];
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

/* ---- the two text caches (open addressing) ------------------------------ */

static size_t key_hash(const char *text, uint32_t id)
{
    return text ? (size_t)ys_hash_str(YS_HASH_INIT, text) : (size_t)id * 2654435761u;
}

/* by_text: find by string, else by id. */
static struct pg_text_entry *slot_of(struct pg_text_entry *t, size_t cap, const char *text,
                                     uint32_t id)
{
    size_t mask = cap - 1;
    for (size_t i = key_hash(text, id) & mask;; i = (i + 1) & mask)
        if (!t[i].s || (text ? strcmp(t[i].s, text) == 0 : t[i].id == id))
            return &t[i];
}

static void remember(struct pg_text_entry **t, size_t *cap, size_t *n, bool by_text,
                     const char *text, uint32_t id)
{
    if (*n >= TEXT_CACHE_MAX) {
        /* Texts that vary without end (ids, times) must not grow memory. */
        for (size_t i = 0; i < *cap; i++)
            free((*t)[i].s);
        memset(*t, 0, *cap * sizeof **t);
        *n = 0;
    }
    if ((*n + 1) * 2 > *cap) {
        struct pg_text_entry *old = *t;
        size_t old_cap = *cap;
        *cap = old_cap ? old_cap * 2 : 64;
        *t = ys_xcalloc(*cap, sizeof **t);
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].s)
                *slot_of(*t, *cap, by_text ? old[i].s : NULL, old[i].id) = old[i];
        free(old);
    }
    struct pg_text_entry *e = slot_of(*t, *cap, by_text ? text : NULL, id);
    e->s = ys_xstrdup(text);
    e->id = id;
    (*n)++;
}

static int text_id(struct pg_store *s, const char *text, uint32_t *id, struct ys_err *err)
{
    *id = 0;
    if (!text[0])
        return 0;
    if (s->text_cap) {
        struct pg_text_entry *e = slot_of(s->text, s->text_cap, text, 0);
        if (e->s) {
            *id = e->id;
            return 0;
        }
    }
    struct pg_params p = {0};
    pg_p_text(&p, text, strlen(text));
    /* Look, insert, look again (a concurrent insert won the race). */
    bool found = false;
    for (int step = 0; step < 3 && !found; step++) {
        PGresult *res =
            pg_run(s, step == 1 ? PG_TEXT_ADD : PG_TEXT_GET, &p, "text dictionary", err);
        if (!res) {
            pg_params_free(&p);
            return YS_ESTORE;
        }
        if ((found = PQntuples(res) == 1))
            *id = (uint32_t)pg_i64(res, 0, 0);
        PQclear(res);
    }
    pg_params_free(&p);
    if (!found)
        return ys_err_set(err, YS_ESTORE, "postgres %s: a text vanished", s->label);
    remember(&s->text, &s->text_cap, &s->text_n, true, text, *id);
    return 0;
}

int pg_text_lookup(struct pg_store *s, uint32_t id, char *buf, size_t size, struct ys_err *err)
{
    buf[0] = '\0';
    if (id == 0)
        return 0;
    if (s->byid_cap) {
        struct pg_text_entry *e = slot_of(s->byid, s->byid_cap, NULL, id);
        if (e->s) {
            snprintf(buf, size, "%s", e->s);
            return 0;
        }
    }
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    PGresult *res = pg_run(s, PG_TEXT_BY_ID, &p, "text lookup", err);
    if (!res)
        return YS_ESTORE;
    if (PQntuples(res) == 1) {
        pg_text(res, 0, 0, buf, size);
        remember(&s->byid, &s->byid_cap, &s->byid_n, false, PQgetvalue(res, 0, 0), id);
    }
    PQclear(res);
    return 0;
}

/* ---- chunks ------------------------------------------------------------------ */

/* Rebuilds the open chunk's codec state after a restart by decoding it. */
static int load_chunk(struct pg_store *s, struct pg_check *c, struct ys_err *err)
{
    struct pg_chunk *ch = &c->chunk;
    int rc = pg_batch_flush(s, err);
    if (rc < 0)
        return rc;
    struct pg_params p = {0};
    pg_p_i64(&p, c->id);
    PGresult *res = pg_run(s, PG_CHUNK_LAST, &p, "loading a chunk", err);
    if (!res)
        return YS_ESTORE;
    ch->loaded = true;
    if (PQntuples(res) == 1) {
        struct ys_reader rd = {(const unsigned char *)PQgetvalue(res, 0, 4),
                               (size_t)PQgetlength(res, 0, 4), 0};
        struct ys_result r;
        struct ys_text_ids ids;
        memset(&ch->st, 0, sizeof ch->st);
        while (rd.pos < rd.len && ys_chunk_decode(&ch->st, &rd, &r, &ids) == 0)
            ;
        /* A chunk that does not decode to its end is not appended to. */
        if (rd.pos == rd.len) {
            ch->id = pg_i64(res, 0, 0);
            ch->start_ms = pg_i64(res, 0, 1);
            ch->end_ms = pg_i64(res, 0, 2);
            ch->n = (uint32_t)pg_i64(res, 0, 3);
            ch->size = rd.len;
            ch->hour_ms = pg_floor(ch->start_ms, PG_HOUR_MS);
        }
    }
    PQclear(res);
    return 0;
}

/* Queues the chunk's pending records: an append to a stored chunk, a
 * closed new chunk, or (open) a new chunk whose id comes back. */
static void queue_chunk(struct pg_store *s, struct pg_check *c, bool open)
{
    struct pg_chunk *ch = &c->chunk;
    if (ch->pending_n == 0)
        return;
    if (ch->id) {
        struct pg_rows *r = &s->batch[PG_B_CHUNK_APPEND];
        pg_rows_i64(r, ch->id);
        pg_rows_bytes(r, ch->pending.p, ch->pending.len);
        pg_rows_i64(r, ch->n);
        pg_rows_i64(r, ch->start_ms);
        pg_rows_i64(r, ch->end_ms);
    } else {
        struct pg_rows *r = &s->batch[open ? PG_B_CHUNK_OPEN : PG_B_CHUNK_NEW];
        pg_rows_i64(r, c->id);
        pg_rows_i64(r, ch->start_ms);
        pg_rows_i64(r, ch->end_ms);
        pg_rows_i64(r, ch->n);
        pg_rows_bytes(r, ch->pending.p, ch->pending.len);
    }
    ch->pending.len = 0;
    ch->pending_n = 0;
}

static int chunk_add(struct pg_store *s, struct pg_check *c, const struct ys_result *r,
                     struct ys_err *err)
{
    struct pg_chunk *ch = &c->chunk;
    int64_t hour = pg_floor(r->ts_ms, PG_HOUR_MS);
    struct ys_text_ids ids = {0, 0, 0};
    int rc;
    if (ch->hour_ms != hour || ch->size >= PG_CHUNK_MAX_BYTES) {
        queue_chunk(s, c, false);
        memset(&ch->st, 0, sizeof ch->st);
        ch->id = 0;
        ch->hour_ms = hour;
        ch->start_ms = ch->end_ms = r->ts_ms;
        ch->n = 0;
        ch->size = 0;
    }
    if ((rc = text_id(s, r->message, &ids.message, err)) < 0)
        return rc;
    if (r->flags & YS_RF_HAS_TLS) {
        if ((rc = text_id(s, r->tls.subject, &ids.subject, err)) < 0 ||
            (rc = text_id(s, r->tls.issuer, &ids.issuer, err)) < 0)
            return rc;
    }
    /* The record says whether a facts row goes with it, as in SQLite. */
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

static int add_one(struct pg_store *s, const struct ys_result *r, struct ys_err *err)
{
    int rc;
    if (r->check_id == 0 || r->check_id > PG_MAX_CHECK_ID)
        return ys_err_set(err, YS_EINVAL, "postgres: bad check id %u", r->check_id);
    struct pg_check *c = pg_check_get(s, r->check_id);
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
    if (r->facts[0]) {
        struct pg_rows *f = &s->batch[PG_B_FACTS];
        pg_rows_i64(f, r->check_id);
        pg_rows_i64(f, r->ts_ms);
        pg_rows_bytes(f, r->facts, strnlen(r->facts, sizeof r->facts));
    }
    /* Excluded results (maintenance) stay out of every rollup. */
    if (r->flags & YS_RF_EXCLUDED)
        return 0;
    return pg_rollup_add(s, c, r, err);
}

int pg_append(struct ys_store *st, const struct ys_result *results, size_t n, struct ys_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    int rc;
    if (s->read_only)
        return pg_read_only_error(s, err);
    if (n == 0)
        return 0;
    if ((rc = pg_begin(s, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = add_one(s, &results[i], err)) < 0)
            goto fail;
    for (size_t i = 0; i < s->ndirty; i++) {
        struct pg_check *c = s->checks[s->dirty[i]];
        queue_chunk(s, c, true);
        if ((rc = pg_rollup_write(s, c, err)) < 0)
            goto fail;
    }
    if ((rc = pg_batch_flush(s, err)) < 0 || (rc = pg_commit(s, err)) < 0)
        goto fail;
    for (size_t i = 0; i < s->ndirty; i++)
        s->checks[s->dirty[i]]->dirty = false;
    s->ndirty = 0;
    return 0;
fail:
    pg_rollback(s);
    pg_forget_caches(s);
    return rc;
}
