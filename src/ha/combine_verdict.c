/*
 * combine_verdict.c - the k-of-n verdict of one interval slot (pure).
 *
 * Input: the result each location reported in the slot (or none). Output:
 * one struct ys_result for the check's own series. The rule: the check is
 * down when at least k locations failed; k = 0 ("all") means every
 * location that reported. A location with no result (its daemon down or
 * starting, its writer behind) is unknown rather than failed: counting it
 * failed would turn one dead or late prober into an outage of every check
 * it probes, which is the false alarm locations exist to remove. So n is
 * the number that reported, and with fewer than k of them the check
 * cannot be down in that slot (docs/ha.md says to keep k below the number
 * of locations expected up). A "no data" result is a location with
 * nothing to judge, so it counts as missing too.
 *
 * No I/O, no allocation that outlives a call (jansson builds the facts);
 * any thread. Tested by tests/unit/test_combine.c.
 */
#include "ha/combine.h"

#include "core/xalloc.h"
#include "sched/scheduler.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a UTF-8 string may be cut at most at max bytes without splitting
 * a character. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n values (sorted in place); the mean of the middle two
 * when n is even. */
static int64_t median(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
    return n % 2 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

static bool reported(const struct ys_result *r)
{
    return r && !(!r->ok && r->errclass == YS_EC_NO_DATA);
}

/* What one location says, for the facts: "ok", "connect: refused", or
 * "no result"; the failure text cut to max bytes. */
static void location_text(const struct ys_result *r, size_t max, char *buf, size_t cap)
{
    if (!r)
        snprintf(buf, cap, "no result");
    else if (!reported(r))
        snprintf(buf, cap, "no data");
    else if (r->ok)
        snprintf(buf, cap, "ok");
    else if (max == 0 || !r->message[0])
        snprintf(buf, cap, "%s", ys_errclass_name(r->errclass));
    else
        snprintf(buf, cap, "%s: %.*s", ys_errclass_name(r->errclass),
                 (int)utf8_cut(r->message, max), r->message);
}

/* {"locations":{...}} into out->facts, cutting failure texts shorter
 * until it fits (the facts field has a hard cap); "" when even the bare
 * classes do not fit. */
static void fill_facts(const char *const *locations, const struct ys_result *const *results,
                       size_t n, struct ys_result *out)
{
    static const size_t cuts[] = {YS_RESULT_MSG_MAX, 60, 24, 0};
    out->facts[0] = '\0';
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        json_t *locs = json_object();
        char text[YS_RESULT_MSG_MAX + 32];
        for (size_t i = 0; i < n; i++) {
            location_text(results[i], cuts[c], text, sizeof text);
            json_object_set_new(locs, locations[i], json_string(text));
        }
        json_t *doc = json_pack("{s:o}", "locations", locs);
        char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(doc);
        bool fits = s && strlen(s) < sizeof out->facts;
        if (fits)
            memcpy(out->facts, s, strlen(s) + 1);
        free(s);
        if (fits)
            return;
    }
}

/* Appends "name (class: message)" items of the failing locations. */
static void failing_list(const char *const *locations, const struct ys_result *const *results,
                         size_t n, char *buf, size_t cap)
{
    size_t len = strlen(buf);
    const char *sep = "";
    for (size_t i = 0; i < n && len < cap; i++) {
        const struct ys_result *r = results[i];
        if (!reported(r) || r->ok)
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s (%s: %s)", sep, locations[i],
                         ys_errclass_name(r->errclass), r->message);
        len = w < 0 ? len : len + (size_t)w;
        sep = ", ";
    }
}

/* Appends "; no result from a, b" when some location did not report. */
static void missing_list(const char *const *locations, const struct ys_result *const *results,
                         size_t n, char *buf, size_t cap)
{
    size_t len = strlen(buf);
    const char *sep = buf[0] ? "; no result from " : "no result from ";
    for (size_t i = 0; i < n && len < cap; i++) {
        if (reported(results[i]))
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", sep, locations[i]);
        len = w < 0 ? len : len + (size_t)w;
        sep = ", ";
    }
}

/* The failing locations' most frequent error class (the first on ties). */
static uint8_t common_class(const struct ys_result *const *results, size_t n)
{
    unsigned count[YS_EC_COUNT] = {0};
    uint8_t best = YS_EC_INTERNAL;
    unsigned best_n = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ys_result *r = results[i];
        if (!reported(r) || r->ok || r->errclass >= YS_EC_COUNT)
            continue;
        if (++count[r->errclass] > best_n) {
            best_n = count[r->errclass];
            best = r->errclass;
        }
    }
    return best;
}

/* Durations, values and TLS facts: medians of what the locations saw. */
static void fill_measures(const struct ys_result *const *results, size_t n, struct ys_result *out)
{
    int64_t *dur = ys_xcalloc(n ? n : 1, sizeof *dur);
    double *vals = ys_xcalloc(n ? n : 1, sizeof *vals);
    size_t nd = 0, nv = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ys_result *r = results[i];
        if (!reported(r))
            continue;
        dur[nd++] = r->duration_us;
        if (r->flags & YS_RF_HAS_VALUE)
            vals[nv++] = r->value;
        if ((r->flags & YS_RF_HAS_TLS) && !(out->flags & YS_RF_HAS_TLS)) {
            out->tls = r->tls;
            out->flags |= YS_RF_HAS_TLS;
        }
        if (!out->status)
            out->status = r->status;
    }
    if (nd)
        out->duration_us = median(dur, nd);
    if (nv) {
        qsort(vals, nv, sizeof *vals, cmp_double);
        out->value = nv % 2 ? vals[nv / 2] : (vals[nv / 2 - 1] + vals[nv / 2]) / 2;
        out->flags |= YS_RF_HAS_VALUE;
    }
    free(dur);
    free(vals);
}

size_t ys_combine_verdict(const char *const *locations, const struct ys_result *const *results,
                          size_t n, int k, struct ys_result *out)
{
    ys_result_init(out);
    size_t n_rep = 0, n_fail = 0;
    for (size_t i = 0; i < n; i++) {
        if (!reported(results[i]))
            continue;
        n_rep++;
        n_fail += !results[i]->ok;
    }
    fill_facts(locations, results, n, out);
    if (n_rep == 0) {
        out->ok = false;
        out->errclass = YS_EC_NO_DATA;
        snprintf(out->message, sizeof out->message, "no location reported a result");
        return 0;
    }
    size_t need = k <= 0 ? n_rep : (size_t)k;
    fill_measures(results, n, out);
    char msg[4 * YS_RESULT_MSG_MAX] = "";
    if (n_fail >= need) {
        out->ok = false;
        out->errclass = common_class(results, n);
        snprintf(msg, sizeof msg, "down in %zu of %zu locations: ", n_fail, n_rep);
    } else {
        out->ok = true;
        if (n_fail)
            snprintf(msg, sizeof msg, "failing in %zu of %zu locations (down at %zu): ", n_fail,
                     n_rep, need);
    }
    failing_list(locations, results, n, msg, sizeof msg);
    if (n_rep < n)
        missing_list(locations, results, n, msg, sizeof msg);
    snprintf(out->message, sizeof out->message, "%.*s", (int)utf8_cut(msg, sizeof out->message - 1),
             msg);
    return n_rep;
}

int64_t ys_combine_slot_start(const char *name, int64_t interval_ms, int64_t t_ms)
{
    /* The probe instants are phase + j * interval (ys_sched_next_slot);
     * t's slot is that of the last instant at or before t + half, and
     * starts half an interval before it. */
    int64_t half = interval_ms / 2;
    int64_t probe = ys_sched_next_slot(name, interval_ms, t_ms + half - interval_ms);
    return probe - half;
}
