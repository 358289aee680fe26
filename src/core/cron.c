/*
 * cron.c - five-field cron schedules: parsing into bit sets, and the next
 * or previous fire time in a time zone.
 *
 * A schedule is five bit sets (struct ys_cron). Searching walks the local
 * calendar field by field, coarse to fine: a month not in the set skips to
 * the next month that is, a day that does not match skips the day, an hour
 * the hour, so a search over five years costs at most a few thousand steps
 * (one per day in the worst case), never one per minute.
 *
 * Local to UTC: every matching local minute L fires at
 * ys_tz_local_to_utc(L), which picks the earlier instant of a repeated
 * local time and the end of a DST gap for a skipped one. That map never
 * decreases as L grows, which is what makes the searches below correct:
 *  - next(after): start at the local minute of `after` and take matching
 *    minutes in order until one maps past `after` (in the repeated hour of
 *    a fall-back, a few may map before it);
 *  - prev(at): take the last matching minute at or before the local minute
 *    of `at`, then move forward with next() while a later fire time is
 *    still at or before `at` (after a fall-back the wall clock has gone
 *    back, so the latest fire time may belong to a later local minute).
 * Several local times in one gap map to the same instant; they fire once
 * because every search asks for strictly later (or earlier) instants.
 * Pure: no I/O, no global state.
 */
#include "core/cron.h"

#include "core/civil.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How far a search looks before giving up, in local days (five years). */
#define CRON_HORIZON_DAYS (5 * 366)

/* ---- parsing ---- */

struct field_desc {
    const char *name;
    int lo, hi;               /* accepted values (day-of-week: 0-7) */
    const char *const *names; /* three-letter names for lo.., or NULL */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
                                          "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const wday_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const struct field_desc fields[5] = {
    {"minute", 0, 59, NULL},           {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},     {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, wday_names},
};

static const struct {
    const char *name, *expr;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* Reads one value (a number or, where the field has them, a name) at *p.
 * Returns 0 and advances *p, or fills err naming the field and token. */
static int parse_value(const struct field_desc *f, const char **p, const char *tok, int *out,
                       struct ys_err *err)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        while (isdigit((unsigned char)*s) && v <= 1000)
            v = v * 10 + (*s++ - '0');
        if (isdigit((unsigned char)*s) || v < f->lo || v > f->hi)
            return ys_err_set(err, YS_EINVAL, "%s: %.*s is out of range %d-%d", f->name,
                              (int)strspn(*p, "0123456789"), *p, f->lo, f->hi);
        *out = (int)v;
        *p = s;
        return 0;
    }
    for (int i = 0; f->names && f->names[i]; i++) {
        if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
            *out = f->lo + i;
            *p = s + 3;
            return 0;
        }
    }
    return ys_err_set(err, YS_EINVAL, "%s: '%s' is not a %s", f->name, tok,
                      f->names ? "number or name" : "number");
}

/* Sets the bits of one list element: `*`, `v`, `a-b`, each with `/step`. */
static int parse_element(const struct field_desc *f, const char *tok, uint64_t *bits,
                         struct ys_err *err)
{
    const char *p = tok;
    int a = f->lo, b = f->hi, step = 1, rc;
    if (*p == '*') {
        p++;
    } else {
        if ((rc = parse_value(f, &p, tok, &a, err)) < 0)
            return rc;
        b = a;
        if (*p == '-') {
            p++;
            if ((rc = parse_value(f, &p, tok, &b, err)) < 0)
                return rc;
            if (b < a)
                return ys_err_set(err, YS_EINVAL, "%s: range %s runs backwards", f->name, tok);
        } else if (*p == '/') {
            b = f->hi; /* "5/15" is "5-59/15", as in most crons that accept it */
        }
    }
    if (*p == '/') {
        p++;
        char *end;
        long s = isdigit((unsigned char)*p) ? strtol(p, &end, 10) : 0;
        if (s < 1 || s > f->hi)
            return ys_err_set(err, YS_EINVAL, "%s: step in '%s' must be 1-%d", f->name, tok, f->hi);
        step = (int)s;
        p = end;
    }
    if (*p != '\0')
        return ys_err_set(err, YS_EINVAL, "%s: cannot read '%s'", f->name, tok);
    for (int v = a; v <= b; v += step)
        *bits |= UINT64_C(1) << v;
    return 0;
}

/* Parses one comma-separated field into bits. */
static int parse_field(const struct field_desc *f, const char *text, uint64_t *bits,
                       struct ys_err *err)
{
    char tok[64];
    *bits = 0;
    for (const char *p = text;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof tok)
            return ys_err_set(err, YS_EINVAL, "%s: %s in '%s'", f->name,
                              n ? "element too long" : "empty element", text);
        memcpy(tok, p, n);
        tok[n] = '\0';
        int rc = parse_element(f, tok, bits, err);
        if (rc < 0)
            return rc;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

int ys_cron_parse(const char *expr, struct ys_cron *out, struct ys_err *err)
{
    memset(out, 0, sizeof *out);
    while (isspace((unsigned char)*expr))
        expr++;
    if (*expr == '@') {
        size_t n = strcspn(expr, " \t\r\n");
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if (strlen(macros[i].name) == n && strncasecmp(expr, macros[i].name, n) == 0 &&
                expr[n + strspn(expr + n, " \t\r\n")] == '\0')
                return ys_cron_parse(macros[i].expr, out, err);
        return ys_err_set(err, YS_EINVAL,
                          "unknown schedule '%s' (macros: @hourly @daily "
                          "@midnight @weekly @monthly @yearly @annually)",
                          expr);
    }
    char text[5][128];
    int n = 0;
    for (const char *p = expr; *p;) {
        size_t len = strcspn(p, " \t\r\n");
        if (n == 5)
            return ys_err_set(err, YS_EINVAL,
                              "expected 5 fields (minute hour day-of-month "
                              "month day-of-week), got more in '%s'",
                              expr);
        if (len >= sizeof text[0])
            return ys_err_set(err, YS_EINVAL, "%s: field too long", fields[n].name);
        memcpy(text[n], p, len);
        text[n++][len] = '\0';
        p += len;
        p += strspn(p, " \t\r\n");
    }
    if (n != 5)
        return ys_err_set(err, YS_EINVAL,
                          "expected 5 fields (minute hour day-of-month month "
                          "day-of-week), got %d in '%s'",
                          n, expr);
    uint64_t bits[5];
    for (int i = 0; i < 5; i++) {
        int rc = parse_field(&fields[i], text[i], &bits[i], err);
        if (rc < 0)
            return rc;
    }
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->mdays = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->wdays = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f); /* 7 is Sunday */
    out->mday_star = text[2][0] == '*';
    out->wday_star = text[4][0] == '*';
    return 0;
}

/* ---- searching the local calendar ---- */

/* A local wall-clock minute. */
struct lt {
    int y, m, d, h, mi;
};

static bool has(uint64_t bits, int v)
{
    return (bits >> v) & 1;
}

/* The lowest set bit >= from (up to hi), or -1. */
static int next_bit(uint64_t bits, int from, int hi)
{
    for (int v = from; v <= hi; v++)
        if (has(bits, v))
            return v;
    return -1;
}

/* The highest set bit <= from (down to lo), or -1. */
static int prev_bit(uint64_t bits, int from, int lo)
{
    for (int v = from; v >= lo; v--)
        if (has(bits, v))
            return v;
    return -1;
}

/* Whether day y-m-d matches, with Vixie cron's rule: when both day fields
 * are restricted, either may match; otherwise both must (a `*` matches all). */
static bool day_matches(const struct ys_cron *c, int y, int m, int d)
{
    int64_t days = ys_days_from_civil(y, m, d);
    int wday = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    bool md = has(c->mdays, d), wd = has(c->wdays, wday);
    if (c->mday_star || c->wday_star)
        return md && wd;
    return md || wd;
}

/* The first matching local minute at or after *t, within the horizon from
 * day `limit`; returns false when there is none. */
static bool match_forward(const struct ys_cron *c, struct lt *t, int64_t limit)
{
    for (;;) {
        if (ys_days_from_civil(t->y, t->m, 1) > limit)
            return false;
        int m = next_bit(c->months, t->m, 12);
        if (m != t->m) { /* skip to the next month in the set */
            if (m < 0)
                *t = (struct lt){t->y + 1, next_bit(c->months, 1, 12), 1, 0, 0};
            else
                *t = (struct lt){t->y, m, 1, 0, 0};
            continue;
        }
        if (t->d > ys_days_in_month(t->y, t->m)) {
            *t = (struct lt){t->m == 12 ? t->y + 1 : t->y, t->m % 12 + 1, 1, 0, 0};
            continue;
        }
        if (!day_matches(c, t->y, t->m, t->d)) {
            *t = (struct lt){t->y, t->m, t->d + 1, 0, 0};
            continue;
        }
        int h = next_bit(c->hours, t->h, 23);
        if (h < 0) {
            *t = (struct lt){t->y, t->m, t->d + 1, 0, 0};
            continue;
        }
        if (h != t->h)
            *t = (struct lt){t->y, t->m, t->d, h, 0};
        int mi = next_bit(c->minutes, t->mi, 59);
        if (mi < 0) {
            *t = (struct lt){t->y, t->m, t->d, t->h + 1, 0}; /* hour 24 -> day+1 above */
            if (t->h == 24)
                *t = (struct lt){t->y, t->m, t->d + 1, 0, 0};
            continue;
        }
        t->mi = mi;
        return true;
    }
}

/* The last day of the month before t's, at 23:59. */
static struct lt end_of_prev_month(int y, int m)
{
    if (--m == 0) {
        m = 12;
        y--;
    }
    return (struct lt){y, m, ys_days_in_month(y, m), 23, 59};
}

/* The last matching local minute at or before *t, not before day `limit`. */
static bool match_backward(const struct ys_cron *c, struct lt *t, int64_t limit)
{
    for (;;) {
        if (ys_days_from_civil(t->y, t->m, ys_days_in_month(t->y, t->m)) < limit)
            return false;
        int m = prev_bit(c->months, t->m, 1);
        if (m != t->m) { /* back to the end of the previous month in the set */
            *t = m < 0 ? end_of_prev_month(t->y, 1) : end_of_prev_month(t->y, m + 1);
            continue;
        }
        if (t->d < 1) {
            *t = end_of_prev_month(t->y, t->m);
            continue;
        }
        if (!day_matches(c, t->y, t->m, t->d)) {
            *t = (struct lt){t->y, t->m, t->d - 1, 23, 59};
            continue;
        }
        int h = prev_bit(c->hours, t->h, 0);
        if (h < 0) {
            *t = (struct lt){t->y, t->m, t->d - 1, 23, 59};
            continue;
        }
        if (h != t->h)
            *t = (struct lt){t->y, t->m, t->d, h, 59};
        int mi = prev_bit(c->minutes, t->mi, 0);
        if (mi < 0) {
            *t = t->h == 0 ? (struct lt){t->y, t->m, t->d - 1, 23, 59}
                           : (struct lt){t->y, t->m, t->d, t->h - 1, 59};
            continue;
        }
        t->mi = mi;
        return true;
    }
}

static int64_t to_utc_s(const struct ys_tz *tz, const struct lt *t)
{
    return ys_tz_local_to_utc(tz, t->y, t->m, t->d, t->h, t->mi, 0);
}

/* The local minute containing UTC second s, and its day number. */
static struct lt local_minute(const struct ys_tz *tz, int64_t s, int64_t *day)
{
    struct lt t;
    int ss;
    ys_tz_utc_to_local(tz, s, &t.y, &t.m, &t.d, &t.h, &t.mi, &ss);
    *day = ys_days_from_civil(t.y, t.m, t.d);
    return t;
}

static int64_t floor_s(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

int64_t ys_cron_next(const struct ys_cron *c, const struct ys_tz *tz, int64_t after_ms)
{
    if (!c->minutes || !c->hours || !c->months || !(c->mdays || c->wdays))
        return -1;
    int64_t after_s = floor_s(after_ms), day;
    struct lt t = local_minute(tz, after_s, &day);
    int64_t limit = day + CRON_HORIZON_DAYS;
    while (match_forward(c, &t, limit)) {
        int64_t u = to_utc_s(tz, &t);
        if (u * 1000 > after_ms)
            return u * 1000;
        t.mi++; /* minute 60 makes next_bit fail, which moves to the next hour */
    }
    return -1;
}

int64_t ys_cron_prev(const struct ys_cron *c, const struct ys_tz *tz, int64_t at_ms)
{
    if (!c->minutes || !c->hours || !c->months || !(c->mdays || c->wdays))
        return -1;
    int64_t at_s = floor_s(at_ms), day;
    struct lt t = local_minute(tz, at_s, &day);
    if (!match_backward(c, &t, day - CRON_HORIZON_DAYS))
        return -1;
    /* Monotonicity puts this one at or before at; a later local minute may
     * still fire before `at` when the clock went back (see the top). */
    int64_t best = to_utc_s(tz, &t) * 1000;
    for (;;) {
        int64_t n = ys_cron_next(c, tz, best);
        if (n < 0 || n > at_ms)
            return best;
        best = n;
    }
}
