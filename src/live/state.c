/*
 * state.c - the live state table and its copy-on-publish snapshots
 * (state.h).
 *
 * Data: a private array of struct ys_live_check, one per check of the
 * current config (same order), written only by the loop thread; the
 * current published snapshot; and a list of dead snapshots (reference count
 * zero) waiting for the loop to free them, since freeing one drops a config
 * reference and config references are counted on the loop only.
 *
 * Invariants: `current` changes only under `mu`, and a reader's acquire
 * copies it and bumps its count under the same lock, so a snapshot is never
 * freed while a reader can still reach it. Snapshots are never modified
 * after publish. The lock is held for pointer swaps and list pushes only.
 *
 * Threads: everything but acquire/ref/release runs on the loop thread.
 */
#include "live/state.h"

#include "core/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ys_live_state {
    pthread_mutex_t mu;
    struct ys_live_snapshot *current; /* guarded by mu */
    struct ys_live_snapshot *dead;    /* guarded by mu */
    struct ys_config *cfg;            /* loop: the config the table follows */
    struct ys_live_check *checks;     /* loop: cfg->n_checks entries */
    uint64_t *fast;                   /* loop: see ys_live_check.fast_at */
    uint64_t *slot_total;             /* loop: probes per fast slot */
    int64_t *fast_le_ms;
    size_t n_fast;
    int64_t started_ms;
    uint64_t last_failed;
    int64_t failed_at_ms;
};

struct ys_live_state *ys_live_state_new(int64_t now_ms)
{
    struct ys_live_state *st = ys_xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->mu, NULL);
    st->started_ms = now_ms;
    return st;
}

static void snapshot_free(struct ys_live_snapshot *s)
{
    if (s->cfg)
        ys_config_unref(s->cfg);
    free(s->checks);
    free(s->fast);
    free(s->slot_total);
    free(s->fast_le_ms);
    free(s);
}

/* Loop thread: frees the snapshots parked by other threads. */
static void sweep(struct ys_live_state *st)
{
    pthread_mutex_lock(&st->mu);
    struct ys_live_snapshot *dead = st->dead;
    st->dead = NULL;
    pthread_mutex_unlock(&st->mu);
    while (dead) {
        struct ys_live_snapshot *next = dead->next_dead;
        snapshot_free(dead);
        dead = next;
    }
}

void ys_live_state_free(struct ys_live_state *st)
{
    if (!st)
        return;
    ys_live_snapshot_release(st->current);
    st->current = NULL;
    sweep(st);
    if (st->cfg)
        ys_config_unref(st->cfg);
    free(st->checks);
    free(st->fast);
    free(st->slot_total);
    free(st->fast_le_ms);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* Lays out the fast counters of cfg: each check gets a slot for each
 * distinct latency threshold of the SLOs covering it, in SLO order. A
 * check's slots are sized for every latency SLO it is in, so duplicates
 * leave unused slots behind (never read). */
static void fast_layout(const struct ys_config *cfg, struct ys_live_check *next, int64_t **le_out,
                        size_t *n_out)
{
    size_t n = 0;
    for (size_t s = 0; s < cfg->n_slos; s++)
        for (size_t j = 0; cfg->slos[s].indicator == YS_SLI_LATENCY && j < cfg->slos[s].n_members;
             j++)
            next[cfg->slos[s].members[j]].fast_at++; /* a count for now */
    for (size_t i = 0; i < cfg->n_checks; i++) {
        size_t k = next[i].fast_at;
        next[i].fast_at = (uint32_t)n;
        next[i].fast_n = 0;
        n += k;
    }
    int64_t *le = ys_xcalloc(n ? n : 1, sizeof *le);
    for (size_t s = 0; s < cfg->n_slos; s++) {
        const struct ys_slo *slo = &cfg->slos[s];
        for (size_t j = 0; slo->indicator == YS_SLI_LATENCY && j < slo->n_members; j++) {
            struct ys_live_check *lc = &next[slo->members[j]];
            uint32_t k = 0;
            while (k < lc->fast_n && le[lc->fast_at + k] != slo->latency_threshold_ms)
                k++;
            if (k == lc->fast_n)
                le[lc->fast_at + lc->fast_n++] = slo->latency_threshold_ms;
        }
    }
    *le_out = le;
    *n_out = n;
}

/* Carries a check's fast counts and slot totals over a reload, threshold
 * by threshold. A threshold new to the check starts both at 0, so the two
 * always count the same probes: the slot total, not the check's total
 * (which the reload keeps), is what the fast count is a share of. */
static void fast_carry(const struct ys_live_state *st, const struct ys_live_check *old,
                       const struct ys_live_check *lc, const int64_t *le, uint64_t *fast,
                       uint64_t *slot_total)
{
    for (uint32_t k = 0; k < lc->fast_n; k++)
        for (uint32_t o = 0; o < old->fast_n; o++)
            if (st->fast_le_ms[old->fast_at + o] == le[lc->fast_at + k]) {
                fast[lc->fast_at + k] = st->fast[old->fast_at + o];
                slot_total[lc->fast_at + k] = st->slot_total[old->fast_at + o];
            }
}

void ys_live_state_apply(struct ys_live_state *st, struct ys_config *cfg)
{
    struct ys_live_check *next = ys_xcalloc(cfg->n_checks ? cfg->n_checks : 1, sizeof *next);
    int64_t *le;
    size_t n_fast;
    fast_layout(cfg, next, &le, &n_fast);
    uint64_t *fast = ys_xcalloc(n_fast ? n_fast : 1, sizeof *fast);
    uint64_t *slot_total = ys_xcalloc(n_fast ? n_fast : 1, sizeof *slot_total);
    for (size_t i = 0; st->cfg && i < cfg->n_checks; i++) {
        struct ys_check *old = ys_config_find(st->cfg, cfg->checks[i].name);
        if (old) {
            const struct ys_live_check *prev = &st->checks[old - st->cfg->checks];
            uint32_t at = next[i].fast_at, n = next[i].fast_n;
            next[i] = *prev;
            next[i].fast_at = at;
            next[i].fast_n = n;
            fast_carry(st, prev, &next[i], le, fast, slot_total);
        }
        /* Filled again by live/heartbeats.c before the next publish, and
         * only if the check still is a heartbeat. */
        memset(&next[i].hb, 0, sizeof next[i].hb);
    }
    ys_config_ref(cfg);
    if (st->cfg)
        ys_config_unref(st->cfg);
    free(st->checks);
    free(st->fast);
    free(st->slot_total);
    free(st->fast_le_ms);
    st->cfg = cfg;
    st->checks = next;
    st->fast = fast;
    st->slot_total = slot_total;
    st->fast_le_ms = le;
    st->n_fast = n_fast;
}

void ys_live_state_feed(struct ys_live_state *st, const struct ys_check *check,
                        const struct ys_result *r, bool incident_open)
{
    struct ys_check *ck = st->cfg ? ys_config_find(st->cfg, check->name) : NULL;
    if (!ck)
        return;
    struct ys_live_check *lc = &st->checks[ck - st->cfg->checks];
    lc->has_last = true;
    lc->last = *r;
    if (r->flags & YS_RF_HAS_TLS) {
        lc->has_tls = true;
        lc->tls = r->tls;
    }
    lc->total++;
    for (uint32_t k = 0; k < lc->fast_n; k++) {
        st->slot_total[lc->fast_at + k]++;
        if (r->ok && r->duration_us <= st->fast_le_ms[lc->fast_at + k] * 1000)
            st->fast[lc->fast_at + k]++;
    }
    if (r->ok)
        lc->ok++;
    else if (r->errclass < YS_EC_COUNT)
        lc->failures[r->errclass]++;
    lc->incident_open = incident_open;
}

void ys_live_state_set_heartbeat(struct ys_live_state *st, const char *name,
                                 const struct ys_live_heartbeat *hb)
{
    struct ys_check *ck = st->cfg ? ys_config_find(st->cfg, name) : NULL;
    if (ck)
        st->checks[ck - st->cfg->checks].hb = *hb;
}

void ys_live_state_publish(struct ys_live_state *st, const struct ys_sched_stats *sched,
                           const struct ys_writer_stats *writer, int64_t now_ms)
{
    sweep(st);
    if (!st->cfg)
        return;
    struct ys_live_snapshot *s = ys_xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    s->owner = st;
    s->cfg = st->cfg;
    ys_config_ref(s->cfg);
    size_t n = st->cfg->n_checks;
    s->checks = ys_xmalloc((n ? n : 1) * sizeof *s->checks);
    if (n)
        memcpy(s->checks, st->checks, n * sizeof *s->checks);
    s->n_fast = st->n_fast;
    s->fast = ys_xmalloc((st->n_fast ? st->n_fast : 1) * sizeof *s->fast);
    s->slot_total = ys_xmalloc((st->n_fast ? st->n_fast : 1) * sizeof *s->slot_total);
    s->fast_le_ms = ys_xmalloc((st->n_fast ? st->n_fast : 1) * sizeof *s->fast_le_ms);
    if (st->n_fast) {
        memcpy(s->fast, st->fast, st->n_fast * sizeof *s->fast);
        memcpy(s->slot_total, st->slot_total, st->n_fast * sizeof *s->slot_total);
        memcpy(s->fast_le_ms, st->fast_le_ms, st->n_fast * sizeof *s->fast_le_ms);
    }
    s->published_ms = now_ms;
    s->started_ms = st->started_ms;
    if (sched)
        s->sched = *sched;
    if (writer) {
        s->writer = *writer;
        if (writer->failed > st->last_failed) {
            st->last_failed = writer->failed;
            st->failed_at_ms = now_ms;
        }
    }
    s->writer_failed_at_ms = st->failed_at_ms;
    pthread_mutex_lock(&st->mu);
    struct ys_live_snapshot *old = st->current;
    st->current = s;
    pthread_mutex_unlock(&st->mu);
    ys_live_snapshot_release(old);
}

struct ys_live_snapshot *ys_live_state_acquire(struct ys_live_state *st)
{
    pthread_mutex_lock(&st->mu);
    struct ys_live_snapshot *s = st->current;
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&st->mu);
    return s;
}

void ys_live_snapshot_ref(struct ys_live_snapshot *snap)
{
    atomic_fetch_add(&snap->refs, 1);
}

void ys_live_snapshot_release(struct ys_live_snapshot *snap)
{
    if (!snap || atomic_fetch_sub(&snap->refs, 1) != 1)
        return;
    struct ys_live_state *st = snap->owner;
    pthread_mutex_lock(&st->mu);
    snap->next_dead = st->dead;
    st->dead = snap;
    pthread_mutex_unlock(&st->mu);
}

long ys_live_snapshot_find(const struct ys_live_snapshot *snap, const char *name)
{
    struct ys_check *ck = ys_config_find(snap->cfg, name);
    return ck ? (long)(ck - snap->cfg->checks) : -1;
}
