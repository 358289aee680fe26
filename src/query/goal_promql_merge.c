/*
 * goal_promql_merge.c - the arithmetic of PromQL goal measures
 * (goal_promql.h): merging the sources' values, the goal's window as a
 * PromQL duration, and $window substitution. Pure; any thread.
 *
 * A source's value is the mean of its series; sources without a series
 * are not in the merge at all (a cluster whose Prometheus lost the metric
 * must not pull a minimum to 0). "weighted" is the mean over every series
 * of every source, so a cluster of 40 nodes counts 40 times one of 1.
 */
#include "query/goal_promql.h"

#include "core/xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

bool ys_pq_merge(enum ys_measure_merge m, const struct ys_pq_value *v, size_t n, double *out)
{
    double acc = 0, sum = 0;
    size_t k = 0, series = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].n == 0)
            continue;
        double mean = v[i].sum / (double)v[i].n;
        if (m == YS_MERGE_MIN)
            acc = k ? fmin(acc, mean) : mean;
        else if (m == YS_MERGE_MAX)
            acc = k ? fmax(acc, mean) : mean;
        else
            acc += mean;
        sum += v[i].sum;
        series += v[i].n;
        k++;
    }
    if (k == 0)
        return false;
    if (m == YS_MERGE_AVG)
        acc /= (double)k;
    else if (m == YS_MERGE_WEIGHTED)
        acc = sum / (double)series;
    *out = acc;
    return true;
}

void ys_pq_duration(int64_t ms, char *out, size_t cap)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    if (ms < 1)
        ms = 1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms % units[i].ms == 0) {
            snprintf(out, cap, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(out, cap, "%lldms", (long long)ms);
}

char *ys_pq_expand(const char *query, const char *window)
{
    static const char key[] = "$window";
    size_t klen = sizeof key - 1, wlen = strlen(window), n = 0;
    for (const char *p = strstr(query, key); p; p = strstr(p + klen, key))
        n++;
    char *out = ys_xmalloc(strlen(query) + n * wlen + 1), *o = out;
    const char *p = query;
    for (const char *hit = strstr(p, key); hit; hit = strstr(p, key)) {
        char next = hit[klen];
        bool word = isalnum((unsigned char)next) || next == '_';
        size_t upto = (size_t)(hit - p) + (word ? klen : 0);
        memcpy(o, p, upto);
        o += upto;
        if (!word) {
            memcpy(o, window, wlen);
            o += wlen;
        }
        p = hit + klen;
    }
    memcpy(o, p, strlen(p) + 1);
    return out;
}
