/*
 * tz.c - a TZif reader and local/UTC conversion without glibc's TZ state.
 *
 * A zone is loaded once into struct ys_tz: ascending transition instants
 * (UTC seconds) with the offset in force from each, the offset before the
 * first, and the POSIX TZ rule from the file's footer for instants past the
 * last transition. For v2+ files only the 64-bit section is read; v1 files
 * use their 32-bit one. Leap-second records ("right/" zones) are ignored:
 * timestamps in yardstick are POSIX seconds.
 *
 * Civil dates are converted by hand (days_from_civil / civil_from_days,
 * after H. Hinnant), so nothing here depends on the process's TZ.
 * Loading reads a file (capped at YS_TZ_MAX_FILE bytes); everything else is
 * pure and safe on any thread once the zone is loaded.
 */
#include "core/tz.h"

#include "core/civil.h"

#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YS_TZ_MAX_FILE (256 * 1024)
#define YS_TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* ---- civil calendar ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Day of month of "weekday wday of week w (5 = last) of month m" in year y. */
static int rule_mday(int64_t y, int m, int w, int wday)
{
    int64_t first = ys_days_from_civil(y, m, 1);
    int first_wday = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int day = 1 + (wday - first_wday + 7) % 7 + (w - 1) * 7;
    while (day > ys_days_in_month(y, m))
        day -= 7;
    return day;
}

/* ---- the footer's POSIX TZ rule ---- */

static const char *parse_abbr(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return (q && q - p >= 2) ? q + 1 : NULL;
    }
    const char *q = p;
    while (isalpha((unsigned char)*q))
        q++;
    return q - p >= 3 ? q : NULL;
}

/* [+-]h[h[h]][:mm[:ss]] into seconds (sign applied); hours up to 167 (RFC 8536). */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1, part[3] = {0, 0, 0};
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    for (int i = 0; i < 3; i++) {
        if (i > 0 && *p != ':')
            break;
        if (i > 0)
            p++;
        int digits = 0;
        while (isdigit((unsigned char)*p) && digits < 3) {
            part[i] = part[i] * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || (i > 0 && part[i] > 59))
            return NULL;
    }
    if (part[0] > 167)
        return NULL;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

static const char *parse_date(const char *p, int *m, int *w, int *d, int *time_s,
                              struct ys_err *err)
{
    if (*p != 'M') {
        ys_err_set(err, YS_EINVAL, "Julian-day rules (Jn, n) are not supported, only Mm.w.d");
        return NULL;
    }
    char *end;
    long v[3];
    p++;
    for (int i = 0; i < 3; i++) {
        if (i > 0 && *p++ != '.')
            return NULL;
        if (!isdigit((unsigned char)*p))
            return NULL;
        v[i] = strtol(p, &end, 10);
        p = end;
    }
    if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] < 0 || v[2] > 6)
        return NULL;
    *m = (int)v[0], *w = (int)v[1], *d = (int)v[2];
    int32_t t = 7200; /* 02:00 by default */
    if (*p == '/' && !(p = parse_hms(p + 1, &t)))
        return NULL;
    *time_s = t;
    return p;
}

/* Parses a footer such as "CET-1CEST,M3.5.0,M10.5.0/3" or "<+01>-1". */
int ys_tz_rule_parse(const char *s, struct ys_tz_rule *r, struct ys_err *err)
{
    struct ys_err why = {{0}};
    memset(r, 0, sizeof *r);
    int32_t off;
    const char *p = parse_abbr(s);
    if (!p || !(p = parse_hms(p, &off)))
        goto bad;
    r->std_offset_s = -off; /* POSIX counts west of Greenwich as positive */
    if (!*p)
        return 0;
    if (!(p = parse_abbr(p)))
        goto bad;
    r->has_dst = 1;
    r->dst_offset_s = r->std_offset_s + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, &off)))
            goto bad;
        r->dst_offset_s = -off;
    }
    if (*p++ != ',')
        return ys_err_set(err, YS_EINVAL, "TZ rule '%s' names DST but gives no dates", s);
    if (!(p = parse_date(p, &r->start_month, &r->start_week, &r->start_wday, &r->start_time_s,
                         &why)) ||
        *p++ != ',' ||
        !(p = parse_date(p, &r->end_month, &r->end_week, &r->end_wday, &r->end_time_s, &why)) || *p)
        goto bad;
    return 0;
bad:
    if (why.msg[0])
        return ys_err_set(err, YS_EINVAL, "TZ rule '%s': %s", s, why.msg);
    return ys_err_set(err, YS_EINVAL, "cannot read TZ rule '%s'", s);
}

static int32_t rule_offset_at(const struct ys_tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_offset_s;
    int64_t y;
    int m, d;
    ys_civil_from_days(floor_div(t + r->std_offset_s, 86400), &y, &m, &d);
    int64_t start = (ys_days_from_civil(y, r->start_month,
                                     rule_mday(y, r->start_month, r->start_week, r->start_wday)) *
                     86400) +
                    r->start_time_s - r->std_offset_s;
    int64_t end =
        (ys_days_from_civil(y, r->end_month, rule_mday(y, r->end_month, r->end_week, r->end_wday)) *
         86400) +
        r->end_time_s - r->dst_offset_s;
    int dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_offset_s : r->std_offset_s;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_hdr(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return YS_EINVAL;
    h->isutcnt = be32(p + 20), h->isstdcnt = be32(p + 24), h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32), h->typecnt = be32(p + 36), h->charcnt = be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > 100000 || h->leapcnt > 10000 ||
        h->charcnt > 10000 || h->isutcnt > 256 || h->isstdcnt > 256)
        return YS_EINVAL;
    return 0;
}

static size_t block_len(const struct tzif_hdr *h, size_t tsize)
{
    return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Fills tz's transitions from the data block at p (times of tsize bytes). */
static int read_block(const unsigned char *p, const struct tzif_hdr *h, size_t tsize,
                      struct ys_tz *tz)
{
    const unsigned char *idx = p + h->timecnt * tsize;
    const unsigned char *types = idx + h->timecnt;
    int32_t utoff[256];
    for (uint32_t i = 0; i < h->typecnt; i++) {
        utoff[i] = (int32_t)be32(types + 6 * i);
        if (utoff[i] < -25 * 3600 || utoff[i] > 26 * 3600)
            return YS_EINVAL;
    }
    tz->n = h->timecnt;
    tz->at = ys_xcalloc(tz->n ? tz->n : 1, sizeof *tz->at);
    tz->offset = ys_xcalloc(tz->n ? tz->n : 1, sizeof *tz->offset);
    tz->first_offset = utoff[0];
    for (size_t i = 0; i < tz->n; i++) {
        tz->at[i] = tsize == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
        if (idx[i] >= h->typecnt || (i > 0 && tz->at[i] <= tz->at[i - 1]))
            return YS_EINVAL;
        tz->offset[i] = utoff[idx[i]];
    }
    return 0;
}

/* Parses a whole TZif image into tz (name already set). */
static int parse_tzif(const unsigned char *buf, size_t len, struct ys_tz *tz, struct ys_err *err)
{
    struct tzif_hdr h;
    if (read_hdr(buf, len, &h) < 0)
        return ys_err_set(err, YS_EINVAL, "zone '%s': not a TZif file", tz->name);
    size_t off = 44, tsize = 4;
    if (buf[4] >= '2') {
        off += block_len(&h, 4);
        if (off > len || read_hdr(buf + off, len - off, &h) < 0)
            return ys_err_set(err, YS_EINVAL, "zone '%s': truncated TZif file", tz->name);
        off += 44, tsize = 8;
    }
    if (block_len(&h, tsize) > len - off)
        return ys_err_set(err, YS_EINVAL, "zone '%s': truncated TZif file", tz->name);
    if (read_block(buf + off, &h, tsize, tz) < 0)
        return ys_err_set(err, YS_EINVAL, "zone '%s': malformed TZif data", tz->name);
    off += block_len(&h, tsize);
    if (tsize == 4 || off >= len || buf[off] != '\n')
        return 0; /* v1: no footer */
    const unsigned char *nl = memchr(buf + off + 1, '\n', len - off - 1);
    if (!nl)
        return ys_err_set(err, YS_EINVAL, "zone '%s': unterminated TZ footer", tz->name);
    size_t flen = (size_t)(nl - (buf + off + 1));
    if (flen == 0)
        return 0;
    char footer[128];
    if (flen >= sizeof footer)
        return ys_err_set(err, YS_EINVAL, "zone '%s': TZ footer too long", tz->name);
    memcpy(footer, buf + off + 1, flen);
    footer[flen] = '\0';
    if (ys_tz_rule_parse(footer, &tz->rule, err) < 0)
        return YS_EINVAL;
    tz->has_rule = 1;
    return 0;
}

static int valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof((struct ys_tz *)0)->name || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-.", *p))
            return 0;
    return 1;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? YS_ENOTFOUND : YS_EIO;
    unsigned char *buf = ys_xmalloc(YS_TZ_MAX_FILE + 1);
    size_t n = fread(buf, 1, YS_TZ_MAX_FILE + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || n > YS_TZ_MAX_FILE) {
        free(buf);
        return failed ? YS_EIO : YS_ETOOBIG;
    }
    *out = buf;
    *len = n;
    return 0;
}

void ys_tz_utc(struct ys_tz *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "UTC");
}

int ys_tz_load(const char *name, const char *dir, struct ys_tz *out, struct ys_err *err)
{
    memset(out, 0, sizeof *out);
    if (!name || !valid_name(name))
        return ys_err_set(err, YS_EINVAL,
                          "time zone '%s': expected a name such as "
                          "'Europe/Berlin' (no '..', no leading '/')",
                          name ? name : "");
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        ys_tz_utc(out);
        snprintf(out->name, sizeof out->name, "%s", name);
        return 0;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : YS_TZ_DEFAULT_DIR, name);
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len);
    if (rc == YS_ENOTFOUND)
        return ys_err_set(err, rc, "unknown time zone '%s' (no %s)", name, path);
    if (rc < 0)
        return ys_err_set(err, YS_EINVAL, "time zone '%s': cannot read %s (%s)", name, path,
                          rc == YS_ETOOBIG ? "larger than 256 KiB" : "read error");
    snprintf(out->name, sizeof out->name, "%s", name);
    rc = parse_tzif(buf, len, out, err);
    free(buf);
    if (rc < 0)
        ys_tz_free(out);
    return rc;
}

void ys_tz_free(struct ys_tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz->offset);
    tz->at = NULL;
    tz->offset = NULL;
    tz->n = 0;
}

int32_t ys_tz_offset_at(const struct ys_tz *tz, int64_t t_s)
{
    if (tz->n == 0)
        return tz->has_rule ? rule_offset_at(&tz->rule, t_s) : tz->first_offset;
    if (t_s < tz->at[0])
        return tz->first_offset;
    if (t_s > tz->at[tz->n - 1] && tz->has_rule)
        return rule_offset_at(&tz->rule, t_s);
    size_t lo = 0, hi = tz->n; /* invariant: at[lo] <= t_s < at[hi] (hi = n: +inf) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t_s)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offset[lo];
}

int64_t ys_tz_local_to_utc(const struct ys_tz *tz, int y, int m, int d, int hh, int mm, int ss)
{
    /* Normalising through days_from_civil lets callers pass day 32 or hour 24. */
    int64_t local = ys_days_from_civil(y, m, 1) * 86400 + (int64_t)(d - 1) * 86400 +
                    (int64_t)hh * 3600 + mm * 60 + ss;
    int32_t a = ys_tz_offset_at(tz, local - 86400 - 26 * 3600);
    int32_t b = ys_tz_offset_at(tz, local + 86400 + 26 * 3600);
    int64_t ta = local - a, tb = local - b;
    int va = ys_tz_offset_at(tz, ta) == a, vb = ys_tz_offset_at(tz, tb) == b;
    if (va && vb)
        return ta < tb ? ta : tb; /* an overlap: the earlier instant */
    if (va || vb)
        return va ? ta : tb;
    /* A gap: the transition lies in (min, max]; find its instant. */
    int64_t lo = ta < tb ? ta : tb, hi = ta < tb ? tb : ta;
    int32_t off_lo = ys_tz_offset_at(tz, lo);
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ys_tz_offset_at(tz, mid) == off_lo)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

void ys_tz_utc_to_local(const struct ys_tz *tz, int64_t t_s, int *y, int *m, int *d, int *hh,
                        int *mm, int *ss)
{
    int64_t local = t_s + ys_tz_offset_at(tz, t_s);
    int64_t days = floor_div(local, 86400), secs = local - days * 86400, yy;
    ys_civil_from_days(days, &yy, m, d);
    *y = (int)yy;
    *hh = (int)(secs / 3600);
    *mm = (int)(secs / 60 % 60);
    *ss = (int)(secs % 60);
}
