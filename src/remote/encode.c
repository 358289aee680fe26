/*
 * encode.c - results as Prometheus samples, and samples as a remote-write
 * 1.0 request body: a prometheus.WriteRequest (protobuf, through the
 * protobuf-c code generated from remote.proto) compressed with snappy's
 * block format (snappy-c.h).
 *
 * A sample's series is its whole label set, __name__ included, sorted by
 * name (the protocol requires sorted labels) and kept as one byte string
 * of "name\0value\0" pairs, so grouping samples into series is a sort and
 * a memcmp. Metric names are those of /metrics (src/web/metrics.c), so a
 * dashboard works on either. Pure functions; any thread.
 */
#include "remote/remote_int.h"

#include "core/xalloc.h"
#include "probe/probe.h"
#include "remote/remote.pb-c.h"
#include "slo/heartbeat.h"

#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 160

static void blob_add(char **p, size_t *len, size_t *cap, const char *s)
{
    size_t k = strlen(s) + 1;
    if (*len + k > *cap) {
        *cap = (*len + k) * 2;
        *p = ys_xrealloc(*p, *cap);
    }
    memcpy(*p + *len, s, k);
    *len += k;
}

/* A label name from a check label key, as /metrics makes it; false when it
 * is to be left out. */
static bool label_name(const char *key, char *buf, size_t size)
{
    static const char *const ours[] = {"check", "kind", "phase", "state", NULL};
    size_t n = 0;
    for (; *key && n + 1 < size; key++, n++) {
        char c = *key;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (n > 0 && c >= '0' && c <= '9');
        buf[n] = ok ? c : '_';
    }
    buf[n] = '\0';
    if (n == 0 || strncmp(buf, "__", 2) == 0)
        return false;
    for (size_t i = 0; ours[i]; i++)
        if (strcmp(buf, ours[i]) == 0)
            return false;
    return true;
}

char *ys_rw_base_labels(const struct ys_check *check, size_t *len)
{
    size_t n = 0, cap = 128;
    char *p = ys_xmalloc(cap), ln[LABEL_MAX], other[LABEL_MAX];
    blob_add(&p, &n, &cap, "check");
    blob_add(&p, &n, &cap, check->name ? check->name : "");
    blob_add(&p, &n, &cap, "kind");
    blob_add(&p, &n, &cap, check->type ? check->type->name : "");
    for (size_t k = 0; k < check->labels.n; k++) {
        bool dup = false;
        if (!label_name(check->labels.keys[k], ln, sizeof ln))
            continue;
        for (size_t j = 0; j < k && !dup; j++)
            dup = label_name(check->labels.keys[j], other, sizeof other) && !strcmp(ln, other);
        if (dup)
            continue;
        blob_add(&p, &n, &cap, ln);
        blob_add(&p, &n, &cap, check->labels.values[k]);
    }
    *len = n;
    return p;
}

struct pair {
    const char *name, *value;
};

static int pair_cmp(const void *a, const void *b)
{
    return strcmp(((const struct pair *)a)->name, ((const struct pair *)b)->name);
}

void ys_rw_samples_add(struct ys_rw_samples *s, const char *name, const char *base, size_t base_len,
                       const char *extra_name, const char *extra_value, int64_t ts_ms, double value)
{
    size_t np = 0;
    for (size_t i = 0; i < base_len; i++)
        np += base[i] == '\0';
    struct pair *pv = ys_xcalloc(np / 2 + 2, sizeof *pv);
    size_t n = 0;
    pv[n++] = (struct pair){"__name__", name};
    /* The protocol says a label with an empty value MUST NOT be sent (it
     * is the same as no label to a receiver): such pairs are left out. */
    for (const char *p = base; p < base + base_len;) {
        pv[n].name = p;
        p += strlen(p) + 1;
        pv[n].value = p;
        p += strlen(p) + 1;
        n += pv[n].value[0] != '\0';
    }
    if (extra_name && extra_value[0])
        pv[n++] = (struct pair){extra_name, extra_value};
    qsort(pv, n, sizeof *pv, pair_cmp);
    size_t len = 0, cap = base_len + 64;
    char *blob = ys_xmalloc(cap);
    for (size_t i = 0; i < n; i++) {
        blob_add(&blob, &len, &cap, pv[i].name);
        blob_add(&blob, &len, &cap, pv[i].value);
    }
    free(pv);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = ys_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (struct ys_rw_sample){blob, len, ts_ms, value, 0};
}

size_t ys_rw_result_count(const struct ys_result *r)
{
    size_t n = 2;
    for (int p = 0; p < YS_PHASE_COUNT; p++)
        n += r->phase_us[p] >= 0;
    n += (r->flags & YS_RF_HAS_TLS) && r->tls.leaf_not_after > 0;
    n += (r->flags & YS_RF_HAS_VALUE) && isfinite(r->value);
    return n;
}

static const char *const phases[YS_PHASE_COUNT] = {"dns", "connect", "tls", "ttfb"};

uint32_t ys_rw_result_series(const struct ys_result *r)
{
    uint32_t m = YS_RW_S_UP | YS_RW_S_DURATION;
    for (int p = 0; p < YS_PHASE_COUNT; p++)
        if (r->phase_us[p] >= 0)
            m |= YS_RW_S_PHASE0 << p;
    if ((r->flags & YS_RF_HAS_TLS) && r->tls.leaf_not_after > 0)
        m |= YS_RW_S_TLS;
    if ((r->flags & YS_RF_HAS_VALUE) && isfinite(r->value))
        m |= YS_RW_S_VALUE;
    return m;
}

size_t ys_rw_stale_samples(struct ys_rw_samples *s, const char *base, size_t base_len,
                           uint32_t mask, int64_t ts_ms)
{
    uint64_t bits = YS_RW_STALE_NAN;
    double nan;
    memcpy(&nan, &bits, sizeof nan); /* this exact NaN, not any NaN, marks staleness */
    size_t before = s->n;
    if (mask & YS_RW_S_UP)
        ys_rw_samples_add(s, "yardstick_check_up", base, base_len, NULL, NULL, ts_ms, nan);
    if (mask & YS_RW_S_DURATION)
        ys_rw_samples_add(s, "yardstick_check_duration_seconds", base, base_len, NULL, NULL, ts_ms,
                          nan);
    for (int p = 0; p < YS_PHASE_COUNT; p++)
        if (mask & (YS_RW_S_PHASE0 << p))
            ys_rw_samples_add(s, "yardstick_check_phase_seconds", base, base_len, "phase",
                              phases[p], ts_ms, nan);
    if (mask & YS_RW_S_TLS)
        ys_rw_samples_add(s, "yardstick_tls_cert_not_after_timestamp_seconds", base, base_len, NULL,
                          NULL, ts_ms, nan);
    if (mask & YS_RW_S_VALUE)
        ys_rw_samples_add(s, "yardstick_check_value", base, base_len, NULL, NULL, ts_ms, nan);
    if (mask & YS_RW_S_HEARTBEAT)
        for (int st = YS_HB_NEW; st <= YS_HB_FAILED; st++)
            ys_rw_samples_add(s, "yardstick_heartbeat_state", base, base_len, "state",
                              ys_hb_state_name((enum ys_hb_state)st), ts_ms, nan);
    return s->n - before;
}

size_t ys_rw_result_samples(struct ys_rw_samples *s, const char *base, size_t base_len,
                            const struct ys_result *r)
{
    size_t before = s->n;
    int64_t ts = r->ts_ms;
    ys_rw_samples_add(s, "yardstick_check_up", base, base_len, NULL, NULL, ts, r->ok ? 1 : 0);
    ys_rw_samples_add(s, "yardstick_check_duration_seconds", base, base_len, NULL, NULL, ts,
                      (double)r->duration_us / 1e6);
    for (int p = 0; p < YS_PHASE_COUNT; p++)
        if (r->phase_us[p] >= 0)
            ys_rw_samples_add(s, "yardstick_check_phase_seconds", base, base_len, "phase",
                              phases[p], ts, (double)r->phase_us[p] / 1e6);
    if ((r->flags & YS_RF_HAS_TLS) && r->tls.leaf_not_after > 0)
        ys_rw_samples_add(s, "yardstick_tls_cert_not_after_timestamp_seconds", base, base_len, NULL,
                          NULL, ts, (double)r->tls.leaf_not_after);
    if ((r->flags & YS_RF_HAS_VALUE) && isfinite(r->value))
        ys_rw_samples_add(s, "yardstick_check_value", base, base_len, NULL, NULL, ts, r->value);
    return s->n - before;
}

size_t ys_rw_heartbeat_count(void)
{
    return (size_t)(YS_HB_FAILED - YS_HB_NEW + 1);
}

size_t ys_rw_heartbeat_samples(struct ys_rw_samples *s, const char *base, size_t base_len,
                               int state, int64_t ts_ms)
{
    size_t before = s->n;
    for (int st = YS_HB_NEW; st <= YS_HB_FAILED; st++)
        ys_rw_samples_add(s, "yardstick_heartbeat_state", base, base_len, "state",
                          ys_hb_state_name((enum ys_hb_state)st), ts_ms, st == state ? 1 : 0);
    return s->n - before;
}

void ys_rw_samples_move(struct ys_rw_samples *to, struct ys_rw_samples *from, size_t n)
{
    if (n > from->n)
        n = from->n;
    if (to->n + n > to->cap) {
        to->cap = to->n + n + 64;
        to->v = ys_xrealloc(to->v, to->cap * sizeof *to->v);
    }
    memcpy(to->v + to->n, from->v, n * sizeof *from->v);
    to->n += n;
    memmove(from->v, from->v + n, (from->n - n) * sizeof *from->v);
    from->n -= n;
}

void ys_rw_samples_free(struct ys_rw_samples *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].series);
    free(s->v);
    *s = (struct ys_rw_samples){0};
}

static int series_cmp(const struct ys_rw_sample *a, const struct ys_rw_sample *b)
{
    size_t m = a->series_len < b->series_len ? a->series_len : b->series_len;
    int c = memcmp(a->series, b->series, m);
    if (c != 0)
        return c;
    return a->series_len < b->series_len ? -1 : a->series_len > b->series_len;
}

static int sample_cmp(const void *pa, const void *pb)
{
    const struct ys_rw_sample *a = pa, *b = pb;
    int c = series_cmp(a, b);
    if (c != 0)
        return c;
    if (a->ts_ms != b->ts_ms)
        return a->ts_ms < b->ts_ms ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Sorts v and keeps the last of each run of one series and timestamp;
 * returns the new count (the rest freed). */
static size_t sort_dedup(struct ys_rw_sample *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i].order = i;
    qsort(v, n, sizeof *v, sample_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && v[k - 1].ts_ms == v[i].ts_ms && series_cmp(&v[k - 1], &v[i]) == 0) {
            free(v[k - 1].series);
            v[k - 1] = v[i];
        } else {
            v[k++] = v[i];
        }
    }
    return k;
}

/* The labels of a series blob, pointing into it. */
static void fill_labels(const struct ys_rw_sample *s, Prometheus__TimeSeries *ts,
                        Prometheus__Label *lv, Prometheus__Label **lp)
{
    size_t n = 0;
    for (const char *p = s->series; p < s->series + s->series_len; n++) {
        prometheus__label__init(&lv[n]);
        lv[n].name = (char *)p;
        p += strlen(p) + 1;
        lv[n].value = (char *)p;
        p += strlen(p) + 1;
        lp[n] = &lv[n];
    }
    ts->n_labels = n;
    ts->labels = lp;
}

static size_t count_labels(const struct ys_rw_sample *s)
{
    size_t z = 0;
    for (size_t i = 0; i < s->series_len; i++)
        z += s->series[i] == '\0';
    return z / 2;
}

/* Every message points into arrays sized up front, so the request is
 * freed with a handful of free() calls and nothing is copied. */
int ys_rw_encode(struct ys_rw_sample *v, size_t *np, char **body, size_t *len, struct ys_err *err)
{
    size_t n = *np = sort_dedup(v, *np);
    size_t n_series = 0, n_labels = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || series_cmp(&v[i - 1], &v[i]) != 0) {
            n_series++;
            n_labels += count_labels(&v[i]);
        }
    Prometheus__TimeSeries *tsv = ys_xcalloc(n_series + 1, sizeof *tsv);
    Prometheus__TimeSeries **tsp = ys_xcalloc(n_series + 1, sizeof *tsp);
    Prometheus__Label *lv = ys_xcalloc(n_labels + 1, sizeof *lv);
    Prometheus__Label **lp = ys_xcalloc(n_labels + 1, sizeof *lp);
    Prometheus__Sample *sv = ys_xcalloc(n + 1, sizeof *sv);
    Prometheus__Sample **sp = ys_xcalloc(n + 1, sizeof *sp);
    size_t si = (size_t)-1, li = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || series_cmp(&v[i - 1], &v[i]) != 0) {
            si++;
            prometheus__time_series__init(&tsv[si]);
            fill_labels(&v[i], &tsv[si], lv + li, lp + li);
            li += tsv[si].n_labels;
            tsv[si].samples = sp + i;
            tsp[si] = &tsv[si];
        }
        prometheus__sample__init(&sv[i]);
        sv[i].value = v[i].value;
        sv[i].timestamp = v[i].ts_ms;
        sp[i] = &sv[i];
        tsv[si].n_samples++;
    }
    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    req.n_timeseries = n_series;
    req.timeseries = tsp;
    size_t raw_len = prometheus__write_request__get_packed_size(&req);
    uint8_t *raw = ys_xmalloc(raw_len + 1);
    prometheus__write_request__pack(&req, raw);
    size_t out_len = snappy_max_compressed_length(raw_len);
    char *out = ys_xmalloc(out_len + 1);
    snappy_status st = snappy_compress((const char *)raw, raw_len, out, &out_len);
    free(raw);
    free(tsv);
    free(tsp);
    free(lv);
    free(lp);
    free(sv);
    free(sp);
    if (st != SNAPPY_OK) {
        free(out);
        return ys_err_set(err, YS_EINTERNAL, "snappy_compress failed (%d)", (int)st);
    }
    *body = out;
    *len = out_len;
    return 0;
}
