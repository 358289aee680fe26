/*
 * params.c - the query parameters of the API: times (from, to) and the
 * resolution of a range, with the caps that keep one request small.
 *
 * A range is at most YS_WEB_MAX_SPAN_MS long and a response at most
 * YS_WEB_MAX_ROWS rows: a request for more raw rows than that gets a
 * coarser resolution and a note saying so, rather than an error, so a
 * chart asking for "raw" over a week still draws. Pure; any thread.
 */
#include "web/web_int.h"

#include "core/duration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reads exactly n digits at *p into *out, advancing *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int parse_rfc3339(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return YS_EINVAL;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return YS_EINVAL;
    int64_t ms = 0;
    if (*p == '.') {
        int scale = 100, n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
        if (n == 0)
            return YS_EINVAL;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '+' ? 1 : -1;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return YS_EINVAL;
    } else {
        return YS_EINVAL;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return YS_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *out = (int64_t)t * 1000 + ms - (int64_t)sign * (oh * 3600 + om * 60) * 1000;
    return 0;
}

int ys_web_parse_time(const char *s, int64_t now_ms, int64_t *out)
{
    if (!s || !*s)
        return YS_EINVAL;
    if (strcmp(s, "now") == 0) {
        *out = now_ms;
        return 0;
    }
    if (s[0] == '-') {
        int64_t ago;
        if (ys_duration_parse(s + 1, &ago) < 0)
            return YS_EINVAL;
        *out = now_ms - ago;
        return 0;
    }
    if (strchr(s, '-'))
        return parse_rfc3339(s, out);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 0)
        return YS_EINVAL;
    *out = v;
    return 0;
}

/* 9999-12-31T23:59:59.999Z in epoch milliseconds. */
#define YS_WEB_MAX_TIME_MS 253402300799999LL

int ys_web_parse_range(const char *from, const char *to, int64_t now_ms, int64_t default_span_ms,
                       int64_t *from_ms, int64_t *to_ms, char *why, size_t whylen)
{
    static const char forms[] = "use RFC 3339 (2026-01-02T03:04:05Z), epoch milliseconds, "
                                "now, or -<duration> such as -7d";
    int64_t t = now_ms, f;
    if (to && ys_web_parse_time(to, now_ms, &t) < 0) {
        snprintf(why, whylen, "bad 'to' value '%.64s': %s", to, forms);
        return YS_EINVAL;
    }
    f = t - default_span_ms;
    if (from && ys_web_parse_time(from, now_ms, &f) < 0) {
        snprintf(why, whylen, "bad 'from' value '%.64s': %s", from, forms);
        return YS_EINVAL;
    }
    /* Times outside years 1970..9999 are refused before any subtraction,
     * so a hostile 'to' cannot overflow the span arithmetic below. */
    if (t < 0 || t > YS_WEB_MAX_TIME_MS || f < 0 || f > YS_WEB_MAX_TIME_MS) {
        snprintf(why, whylen, "'from' and 'to' must lie between 1970 and 9999");
        return YS_EINVAL;
    }
    if (f >= t) {
        snprintf(why, whylen, "'from' must be before 'to'");
        return YS_EINVAL;
    }
    if (t - f > YS_WEB_MAX_SPAN_MS) {
        snprintf(why, whylen, "the range from 'from' to 'to' is longer than the limit of %lld days",
                 (long long)(YS_WEB_MAX_SPAN_MS / 86400000));
        return YS_EINVAL;
    }
    *from_ms = f;
    *to_ms = t;
    return 0;
}

static int64_t retention_of(const struct ys_retention *r, enum ys_resolution res)
{
    switch (res) {
    case YS_RES_RAW: return r->raw_ms;
    case YS_RES_MINUTE: return r->minute_ms;
    case YS_RES_HOUR: return r->hour_ms;
    default: return r->day_ms;
    }
}

static int64_t rows_at(enum ys_resolution res, int64_t span_ms, int64_t interval_ms)
{
    int64_t step =
        res == YS_RES_RAW ? (interval_ms > 0 ? interval_ms : 1000) : ys_resolution_ms(res);
    return span_ms / step + 1;
}

int ys_web_pick_resolution(const char *res, int64_t from_ms, int64_t to_ms, int64_t now_ms,
                           int64_t interval_ms, const struct ys_retention *ret,
                           enum ys_resolution *out, char *note, size_t notelen, char *why,
                           size_t whylen)
{
    note[0] = '\0';
    bool automatic = !res || strcmp(res, "auto") == 0;
    enum ys_resolution want = YS_RES_RAW;
    if (!automatic && ys_resolution_parse(res, &want) < 0) {
        snprintf(why, whylen, "bad 'resolution' value '%.32s': use raw, minute, hour, day or auto",
                 res);
        return YS_EINVAL;
    }
    enum ys_resolution r = want;
    for (; r < YS_RES_DAY; r++) {
        int64_t keep = retention_of(ret, r);
        bool covered = keep == 0 || from_ms >= now_ms - keep;
        bool small = rows_at(r, to_ms - from_ms, interval_ms) <= YS_WEB_MAX_ROWS;
        if (small && (covered || !automatic))
            break;
    }
    if (!automatic && r != want)
        snprintf(note, notelen, "%s would return about %lld rows (limit %d); served at %s",
                 ys_resolution_name(want), (long long)rows_at(want, to_ms - from_ms, interval_ms),
                 YS_WEB_MAX_ROWS, ys_resolution_name(r));
    *out = r;
    return 0;
}
