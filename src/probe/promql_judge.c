/*
 * promql_judge.c - turns one /api/v1/query response into a verdict
 * (promql.h). Pure: no I/O, so recorded responses are its unit tests.
 *
 * The response is parsed with jansson; its envelope (status, errors,
 * credentials refused) is read by promql_http.c, shared with the PromQL
 * goal measures. Only instant results make sense for a check: a vector
 * (one sample per series) or a scalar.
 *
 * The stored value is the one that decides the verdict, by the operator:
 * for mode all the series furthest on the failing side (the minimum for
 * > and >=, the maximum for < and <=, for == and != the first series that
 * fails, else the first), for mode any the best one (the maximum for > and
 * >=, the minimum for < and <=, for == and != the first that passes, else
 * the first). Without a condition: the minimum (all), the maximum (any).
 * NaN samples are skipped for the extremes (fmin and fmax ignore NaN). A
 * value that is not finite is not stored, since the store and the JSON
 * output carry finite numbers only. No series at all is its own class,
 * no_data, never 0 and never an assertion failure: a missing metric must
 * not look like a zero, nor count against an SLO (core/result.h).
 */
#include "probe/promql.h"
#include "probe/promql_http.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABELS_MAX 128 /* a failing series' labels, quoted in the message */

/* Whether v satisfies the spec's condition (always, without one). */
static bool satisfies(const struct ys_promql_spec *s, double v)
{
    switch (s->op) {
    case YS_PQ_GT: return v > s->threshold;
    case YS_PQ_GE: return v >= s->threshold;
    case YS_PQ_LT: return v < s->threshold;
    case YS_PQ_LE: return v <= s->threshold;
    case YS_PQ_EQ: return v == s->threshold;
    case YS_PQ_NE: return !isnan(v) && v != s->threshold; /* NaN satisfies nothing */
    case YS_PQ_NONE: return true;
    }
    return true;
}

/* Whether every series of res has label k equal to v: such a label (job,
 * instance, namespace of a single exporter) tells no series apart. */
static bool shared_label(const json_t *res, const char *k, const char *v)
{
    size_t i;
    const json_t *e;
    json_array_foreach(res, i, e)
    {
        const char *o = json_string_value(json_object_get(json_object_get(e, "metric"), k));
        if (!o || strcmp(o, v) != 0)
            return false;
    }
    return true;
}

/* {a="x",b="y"} of series e of res, cut to fit out: the labels that tell
 * it from the others (all when it is alone), without __name__, which the
 * query names already. */
static void format_labels(const json_t *res, const json_t *e, char *out, size_t cap)
{
    const json_t *metric = json_object_get(e, "metric");
    bool alone = json_array_size(res) < 2;
    const char *k;
    const json_t *v;
    size_t len = 1;
    snprintf(out, cap, "{");
    json_object_foreach((json_t *)metric, k, v)
    {
        const char *val = json_string_value(v) ? json_string_value(v) : "";
        if (len >= cap || strcmp(k, "__name__") == 0 || (!alone && shared_label(res, k, val)))
            continue;
        int n = snprintf(out + len, cap - len, "%s%s=\"%s\"", len > 1 ? "," : "", k, val);
        len += n > 0 ? (size_t)n : 0;
    }
    if (len < cap)
        snprintf(out + len, cap - len, "}");
    else if (cap > 4)
        memcpy(out + cap - 4, "...", 4);
}

struct tally {
    size_t series, passing;
    double decisive; /* the value that decides the verdict (see the top) */
    bool have_decisive;
    double first_bad;                  /* the first failing series' value */
    char first_bad_labels[LABELS_MAX]; /* and labels ("" for a scalar) */
};

/* Which value decides: +1 the highest, -1 the lowest, 0 the first that
 * fails (mode all) or passes (mode any), for == and != where neither
 * extreme is nearer the threshold. */
static int decisive_side(const struct ys_promql_spec *s)
{
    int side;
    switch (s->op) {
    case YS_PQ_GT:
    case YS_PQ_GE: side = -1; break;
    case YS_PQ_LT:
    case YS_PQ_LE: side = 1; break;
    case YS_PQ_NONE: side = -1; break;
    default: return 0;
    }
    return s->mode == YS_PQ_ALL ? side : -side;
}

static void pick_decisive(const struct ys_promql_spec *s, double v, bool ok, struct tally *t)
{
    int side = decisive_side(s);
    if (side == 0) {
        /* The first series, replaced once by the first that fails (all) or
         * passes (any), which then stays. */
        bool wanted = s->mode == YS_PQ_ALL ? !ok : ok;
        bool have_wanted = s->mode == YS_PQ_ALL ? t->passing < t->series : t->passing > 0;
        if (t->series == 0 || (wanted && !have_wanted)) {
            t->decisive = v;
            t->have_decisive = true;
        }
        return;
    }
    if (isnan(v))
        return;
    if (!t->have_decisive)
        t->decisive = v;
    else
        t->decisive = side < 0 ? fmin(t->decisive, v) : fmax(t->decisive, v);
    t->have_decisive = true;
}

/* Counts one sample; e is its series in res (NULL for a scalar). */
static void count(const struct ys_promql_spec *s, double v, const json_t *res, const json_t *e,
                  struct tally *t)
{
    bool ok = satisfies(s, v);
    if (!ok && t->series == t->passing) {
        t->first_bad = v;
        if (e)
            format_labels(res, e, t->first_bad_labels, sizeof t->first_bad_labels);
    }
    pick_decisive(s, v, ok, t);
    t->series++;
    t->passing += ok;
}

/* Reads data.result into t; returns NULL or what is wrong with it. */
static const char *read_result(const struct ys_promql_spec *s, const json_t *data, struct tally *t)
{
    const char *type = json_string_value(json_object_get(data, "resultType"));
    const json_t *res = json_object_get(data, "result");
    double v;
    if (!type || !res)
        return "malformed response: no data.resultType or data.result";
    if (strcmp(type, "scalar") == 0) {
        if (!ys_promql_sample(res, NULL, &v))
            return "malformed response: a scalar that is not [time, \"value\"]";
        count(s, v, NULL, NULL, t);
        return NULL;
    }
    if (strcmp(type, "vector") != 0)
        return strcmp(type, "matrix") == 0
                   ? "the query returned a range vector (matrix); write an instant query"
                   : "the query returned a string or an unknown type, not a vector or scalar";
    if (!json_is_array(res))
        return "malformed response: data.result is not a list";
    size_t i;
    const json_t *e;
    json_array_foreach(res, i, e)
    {
        if (!ys_promql_sample(json_object_get(e, "value"), NULL, &v))
            return "malformed response: a series without a [time, \"value\"] sample";
        count(s, v, res, e, t);
    }
    return NULL;
}

static void verdict(const struct ys_promql_spec *s, const struct tally *t, struct ys_result *r)
{
    snprintf(r->facts, sizeof r->facts, "{\"series\":%zu,\"passing\":%zu}", t->series, t->passing);
    if (t->series == 0) {
        ys_result_fail(r, YS_EC_NO_DATA, "no data: the query returned no series");
        return;
    }
    if (t->have_decisive && isfinite(t->decisive)) {
        r->value = t->decisive;
        r->flags |= YS_RF_HAS_VALUE;
    }
    bool ok = s->mode == YS_PQ_ALL ? t->passing == t->series : t->passing > 0;
    if (ok)
        return;
    if (t->series == 1)
        ys_result_fail(r, YS_EC_ASSERTION, "value %g does not satisfy %s", t->first_bad, s->expect);
    else if (s->mode == YS_PQ_ALL)
        ys_result_fail(r, YS_EC_ASSERTION, "%zu of %zu series do not satisfy %s (%s = %g)",
                       t->series - t->passing, t->series, s->expect, t->first_bad_labels,
                       t->first_bad);
    else
        ys_result_fail(r, YS_EC_ASSERTION, "none of %zu series satisfies %s (%s %g)", t->series,
                       s->expect,
                       decisive_side(s) > 0   ? "max"
                       : decisive_side(s) < 0 ? "min"
                                              : "first",
                       t->decisive);
}

void ys_promql_judge(const struct ys_promql_spec *s, long http_status, const char *body, size_t len,
                     struct ys_result *r)
{
    enum ys_errclass ec;
    char why[YS_RESULT_MSG_MAX];
    json_t *doc = ys_promql_http_parse(http_status, body, len, &ec, why, sizeof why);
    if (!doc) {
        ys_result_fail(r, ec, "%s", why);
        return;
    }
    struct tally t = {0};
    const char *bad = read_result(s, json_object_get(doc, "data"), &t);
    if (bad)
        ys_result_fail(r, YS_EC_ASSERTION, "%s", bad);
    else
        verdict(s, &t, r);
    json_decref(doc);
}
