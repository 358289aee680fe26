/*
 * target.c - typed goal targets (see target.h). Pure; any thread.
 *
 * A target is "[op] value" or a range "a..b" / "a-b", where value is a
 * number with an optional unit (%, a duration unit, a size unit), a
 * version "1.12.0", or a word (hourly...quarterly, yes/automated, no).
 * Without an op, larger-is-better kinds (percent, number, version) mean
 * ">=" and smaller-is-better kinds (durations, sizes) mean "<=". Words are
 * matched without regard to case. Freshness allowances: hourly 1h, daily
 * 1d, weekly 7d, monthly 31d, quarterly 92d (the longest month and
 * quarter, so a job that runs on the 1st is never flagged early).
 */
#include "slo/target.h"

#include "core/err.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char expected[] =
    "expected a comparison like '>= 99.5%', a duration, a size, a version, yes/no or "
    "hourly/daily/weekly/monthly/quarterly";

struct unit_def {
    const char *suffix;
    enum ys_target_unit unit;
    double scale;
};

/* Compared case-insensitively; whole suffix only. */
static const struct unit_def units[] = {
    {"%", YS_TU_PERCENT, 1},
    {"ms", YS_TU_SECONDS, 0.001},
    {"s", YS_TU_SECONDS, 1},
    {"sec", YS_TU_SECONDS, 1},
    {"m", YS_TU_SECONDS, 60},
    {"min", YS_TU_SECONDS, 60},
    {"mins", YS_TU_SECONDS, 60},
    {"minutes", YS_TU_SECONDS, 60},
    {"h", YS_TU_SECONDS, 3600},
    {"hours", YS_TU_SECONDS, 3600},
    {"d", YS_TU_SECONDS, 86400},
    {"days", YS_TU_SECONDS, 86400},
    {"w", YS_TU_SECONDS, 604800},
    {"b", YS_TU_BYTES, 1},
    {"kb", YS_TU_BYTES, 1e3},
    {"mb", YS_TU_BYTES, 1e6},
    {"gb", YS_TU_BYTES, 1e9},
    {"tb", YS_TU_BYTES, 1e12},
    {"ki", YS_TU_BYTES, 1024.0},
    {"mi", YS_TU_BYTES, 1048576.0},
    {"gi", YS_TU_BYTES, 1073741824.0},
    {"ti", YS_TU_BYTES, 1099511627776.0},
    {"kib", YS_TU_BYTES, 1024.0},
    {"mib", YS_TU_BYTES, 1048576.0},
    {"gib", YS_TU_BYTES, 1073741824.0},
};

struct word_def {
    const char *word;
    enum ys_target_unit unit;
    double value;
};

static const struct word_def words[] = {
    {"hourly", YS_TU_FRESHNESS, 3600},
    {"daily", YS_TU_FRESHNESS, 86400},
    {"weekly", YS_TU_FRESHNESS, 604800},
    {"monthly", YS_TU_FRESHNESS, 31 * 86400.0},
    {"quarterly", YS_TU_FRESHNESS, 92 * 86400.0},
    {"yes", YS_TU_BOOL, 1},
    {"true", YS_TU_BOOL, 1},
    {"automated", YS_TU_BOOL, 1},
    {"done", YS_TU_BOOL, 1},
    {"no", YS_TU_BOOL, 0},
    {"false", YS_TU_BOOL, 0},
};

struct value {
    enum ys_target_unit unit;
    bool has_unit; /* a bare number in a range takes the other end's unit */
    double v;
};

/* Reads an unsigned decimal number; returns the end or NULL. */
static const char *read_number(const char *p, double *out)
{
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (q == p)
        return NULL;
    if (*q == '.' && isdigit((unsigned char)q[1])) {
        q++;
        while (isdigit((unsigned char)*q))
            q++;
    }
    *out = strtod(p, NULL);
    return q;
}

/* "1.12.0" or "v1.12.0": exactly three numeric parts, each below 1000. */
static int read_version(const char *s, size_t len, double *out)
{
    if (len && (s[0] == 'v' || s[0] == 'V'))
        s++, len--;
    long part[3];
    size_t i = 0;
    for (int k = 0; k < 3; k++) {
        if (k > 0 && (i >= len || s[i++] != '.'))
            return -1;
        size_t start = i;
        part[k] = 0;
        while (i < len && isdigit((unsigned char)s[i]) && i - start < 4)
            part[k] = part[k] * 10 + (s[i++] - '0');
        if (i == start || part[k] > 999)
            return -1;
    }
    if (i != len)
        return -1;
    *out = part[0] * 1e6 + part[1] * 1e3 + (double)part[2];
    return 0;
}

/* Parses one value (no op, no range) of len bytes at s. */
static int read_value(const char *s, size_t len, struct value *out)
{
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].word) == len && strncasecmp(s, words[i].word, len) == 0) {
            *out = (struct value){words[i].unit, true, words[i].value};
            return 0;
        }
    if (read_version(s, len, &out->v) == 0) {
        out->unit = YS_TU_VERSION, out->has_unit = true;
        return 0;
    }
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    const char *p = read_number(buf, &out->v);
    if (!p)
        return -1;
    while (*p == ' ')
        p++;
    if (!*p) {
        out->unit = YS_TU_NUMBER, out->has_unit = false;
        return 0;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcasecmp(p, units[i].suffix) == 0) {
            out->unit = units[i].unit, out->has_unit = true;
            out->v *= units[i].scale;
            return 0;
        }
    return -1;
}

static const char *read_op(const char *p, enum ys_target_op *op, bool *has_op)
{
    static const struct {
        const char *text;
        enum ys_target_op op;
    } ops[] = {{">=", YS_TOP_GE}, {"<=", YS_TOP_LE}, {"==", YS_TOP_EQ}, {">", YS_TOP_GT},
               {"<", YS_TOP_LT},  {"=", YS_TOP_EQ},  {"≥", YS_TOP_GE},  {"≤", YS_TOP_LE}};
    *has_op = false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(p, ops[i].text, n) == 0) {
            *op = ops[i].op;
            *has_op = true;
            return p + n;
        }
    }
    return p;
}

/* Finds the range separator ("..", or "-" after a digit or '%'); returns its
 * offset and length, or -1. */
static long find_range(const char *s, size_t len, size_t *seplen)
{
    const char *dots = strstr(s, "..");
    if (dots && (size_t)(dots - s) < len) {
        *seplen = 2;
        return dots - s;
    }
    for (size_t i = 1; i < len; i++)
        if (s[i] == '-' &&
            (isdigit((unsigned char)s[i - 1]) || s[i - 1] == '%' || s[i - 1] == ' ')) {
            *seplen = 1;
            return (long)i;
        }
    return -1;
}

static size_t trimmed(const char *s, size_t len, const char **start)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    *start = s;
    return len;
}

static int parse_range(const char *s, size_t len, long at, size_t seplen, struct ys_target *out,
                       char *err, size_t errlen)
{
    const char *a, *b;
    size_t alen = trimmed(s, (size_t)at, &a),
           blen = trimmed(s + at + seplen, len - at - seplen, &b);
    struct value lo, hi;
    if (read_value(a, alen, &lo) < 0 || read_value(b, blen, &hi) < 0) {
        snprintf(err, errlen, "cannot read target '%s': %s", out->text, expected);
        return YS_EINVAL;
    }
    if (!lo.has_unit)
        lo.unit = hi.unit, lo.has_unit = hi.has_unit;
    if (lo.unit != hi.unit || lo.unit == YS_TU_BOOL || lo.unit == YS_TU_FRESHNESS) {
        snprintf(err, errlen,
                 "cannot read target '%s': both ends of a range need the same "
                 "unit, such as '60%%..80%%'",
                 out->text);
        return YS_EINVAL;
    }
    if (lo.v > hi.v) {
        snprintf(err, errlen,
                 "cannot read target '%s': the range's lower end is above its "
                 "upper end",
                 out->text);
        return YS_EINVAL;
    }
    out->op = YS_TOP_RANGE, out->unit = lo.unit, out->lo = lo.v, out->hi = hi.v;
    return 0;
}

int ys_target_parse(const char *s, struct ys_target *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!s)
        s = "";
    const char *p;
    size_t len = trimmed(s, strlen(s), &p);
    if (len == 0) {
        snprintf(err, errlen, "empty target: %s", expected);
        return YS_EINVAL;
    }
    if (len >= sizeof out->text) {
        snprintf(err, errlen, "target '%.40s...' is longer than %zu characters", p,
                 sizeof out->text - 1);
        return YS_EINVAL;
    }
    memcpy(out->text, p, len);
    bool has_op;
    const char *v = read_op(p, &out->op, &has_op);
    const char *vs;
    size_t vlen = trimmed(v, len - (size_t)(v - p), &vs);
    size_t seplen;
    long at = find_range(vs, vlen, &seplen);
    if (!has_op && at > 0)
        return parse_range(vs, vlen, at, seplen, out, err, errlen);
    struct value val;
    if (read_value(vs, vlen, &val) < 0) {
        snprintf(err, errlen, "cannot read target '%s': %s", out->text, expected);
        return YS_EINVAL;
    }
    if (has_op &&
        (val.unit == YS_TU_FRESHNESS || (val.unit == YS_TU_BOOL && out->op != YS_TOP_EQ))) {
        snprintf(err, errlen,
                 "cannot read target '%s': a comparison needs a number, a "
                 "percentage, a duration, a size or a version",
                 out->text);
        return YS_EINVAL;
    }
    out->unit = val.unit;
    out->lo = val.v;
    if (!has_op) {
        bool smaller_better =
            val.unit == YS_TU_SECONDS || val.unit == YS_TU_BYTES || val.unit == YS_TU_FRESHNESS;
        out->op = val.unit == YS_TU_BOOL ? YS_TOP_EQ : smaller_better ? YS_TOP_LE : YS_TOP_GE;
    }
    return 0;
}

bool ys_target_met(const struct ys_target *t, double value)
{
    if (isnan(value))
        return false;
    switch (t->op) {
    case YS_TOP_GE: return value >= t->lo;
    case YS_TOP_GT: return value > t->lo;
    case YS_TOP_LE: return value <= t->lo;
    case YS_TOP_LT: return value < t->lo;
    case YS_TOP_EQ: return fabs(value - t->lo) < 1e-9;
    case YS_TOP_RANGE: return value >= t->lo && value <= t->hi;
    }
    return false;
}

int ys_target_direction(const struct ys_target *t)
{
    if (t->unit == YS_TU_BOOL)
        return 0;
    switch (t->op) {
    case YS_TOP_GE:
    case YS_TOP_GT: return 1;
    case YS_TOP_LE:
    case YS_TOP_LT: return -1;
    default: return 0;
    }
}

/* "%.*f" with trailing zeros (and a trailing point) removed. */
static void fmt_trim(char *buf, size_t size, double v, int decimals, const char *suffix)
{
    char num[64];
    snprintf(num, sizeof num, "%.*f", decimals, v);
    if (strchr(num, '.')) {
        size_t n = strlen(num);
        while (num[n - 1] == '0')
            num[--n] = '\0';
        if (num[n - 1] == '.')
            num[n - 1] = '\0';
    }
    snprintf(buf, size, "%s%s", num, suffix);
}

static void fmt_seconds(char *buf, size_t size, double v)
{
    double a = fabs(v);
    if (a > 0 && a < 1)
        fmt_trim(buf, size, v * 1000, 0, "ms");
    else if (a < 60)
        fmt_trim(buf, size, v, 2, "s");
    else if (a < 3600)
        fmt_trim(buf, size, v / 60, 1, "m");
    else if (a < 86400)
        fmt_trim(buf, size, v / 3600, 1, "h");
    else
        fmt_trim(buf, size, v / 86400, 1, "d");
}

static void fmt_bytes(char *buf, size_t size, double v)
{
    static const char *const suffix[] = {"B", "Ki", "Mi", "Gi", "Ti"};
    int i = 0;
    while (i < 4 && fabs(v) >= 1024) {
        v /= 1024;
        i++;
    }
    fmt_trim(buf, size, v, 2, suffix[i]);
}

void ys_target_format_value(const struct ys_target *t, double value, char *buf, size_t size)
{
    if (isnan(value)) {
        snprintf(buf, size, "no data");
        return;
    }
    switch (t->unit) {
    case YS_TU_PERCENT: fmt_trim(buf, size, value, 2, "%"); break;
    case YS_TU_SECONDS:
    case YS_TU_FRESHNESS: fmt_seconds(buf, size, value); break;
    case YS_TU_BYTES: fmt_bytes(buf, size, value); break;
    case YS_TU_BOOL: snprintf(buf, size, "%s", value >= 0.5 ? "yes" : "no"); break;
    case YS_TU_VERSION: {
        double v = floor(value + 0.5);
        snprintf(buf, size, "%.0f.%.0f.%.0f", floor(v / 1e6), floor(fmod(v, 1e6) / 1e3),
                 fmod(v, 1e3));
        break;
    }
    case YS_TU_NUMBER:
    default: fmt_trim(buf, size, value, 3, ""); break;
    }
}
