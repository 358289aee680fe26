/*
 * md_text.c - the importer's small text helpers: UTF-8 repair, slugs,
 * quarters and dates as people write them in plans ("Jan 31, 2025",
 * "Q3 2025", "2025-09-30").
 *
 * Invariant: every function here accepts any NUL-terminated bytes (or any
 * byte range for the UTF-8 repair) and never reads past them. Pure, any
 * thread.
 */
#include "import/goal_table.h"

#include "core/civil.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp, min;
    if (c < 0x80)
        return c ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

char *ys_md_utf8_repair(const char *s, size_t len)
{
    /* Each bad byte grows to at most three. */
    char *out = ys_xmalloc(3 * len + 1);
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(u + i, len - i);
        if (k) {
            memcpy(out + o, u + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, repl, 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

char *ys_md_slug(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out = ys_xmalloc(n + 5);
    for (size_t i = 0; i < n && o < 60; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[o++] = c;
        else if (o > 0 && out[o - 1] != '-')
            out[o++] = '-';
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    if (o == 0) {
        memcpy(out, "goal", 4);
        o = 4;
    }
    out[o] = '\0';
    return out;
}

void ys_md_quarter_end(int year, int q, char out[11])
{
    static const char *const ends[] = {"03-31", "06-30", "09-30", "12-31"};
    if (q < 1 || q > 4)
        q = 4;
    snprintf(out, 11, "%04d-%s", year, ends[q - 1]);
}

/* The next alphanumeric word of s from *pos into w (lower-cased, capped);
 * returns its length, 0 at the end. */
static size_t next_word(const char *s, size_t *pos, char *w, size_t cap)
{
    size_t i = *pos, n = 0;
    while (s[i] && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
                     (s[i] >= 'A' && s[i] <= 'Z')))
        i++;
    while ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
           (s[i] >= 'A' && s[i] <= 'Z')) {
        if (n + 1 < cap)
            w[n++] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
        i++;
    }
    w[n] = '\0';
    *pos = i;
    return n;
}

/* A number made of digits only, at most 4 of them; -1 otherwise. */
static int word_number(const char *w)
{
    size_t n = strlen(w);
    if (n == 0 || n > 4 || strspn(w, "0123456789") != n)
        return -1;
    return (int)strtol(w, NULL, 10);
}

static int word_month(const char *w)
{
    static const char *const names[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};
    size_t n = strlen(w);
    if (n < 3)
        return 0;
    for (int m = 0; m < 12; m++)
        if (strncmp(names[m], w, n) == 0 || (m == 8 && strcmp(w, "sept") == 0))
            return m + 1;
    return 0;
}

int ys_md_find_quarter(const char *s, int *year)
{
    char w[32];
    size_t pos = 0;
    int q = 0, y = 0;
    while (next_word(s, &pos, w, sizeof w)) {
        if (w[0] == 'q' && w[1] >= '1' && w[1] <= '4' && w[2] == '\0')
            q = w[1] - '0';
        else if (w[0] == 'q' && w[1] >= '1' && w[1] <= '4' && word_number(w + 2) >= 1900)
            q = w[1] - '0', y = word_number(w + 2); /* "Q32025" */
        else if (word_number(w) >= 1900)
            y = word_number(w);
    }
    if (y < YS_MD_MIN_YEAR || y > YS_MD_MAX_YEAR)
        y = 0;
    if (q && y && year)
        *year = y;
    return q;
}

static int iso_date(const char *s, int *y, int *m, int *d)
{
    int n = 0;
    *d = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", y, m, d, &n) == 3 && s[n] == '\0')
        return 0;
    n = 0;
    if (sscanf(s, "%4d-%2d%n", y, m, &n) == 2 && s[n] == '\0') {
        *d = 0;
        return 0;
    }
    return -1;
}

int ys_md_parse_date(const char *s, int default_year, char out[11])
{
    int y = -1, m = 0, d = 0, q = 0;
    if (iso_date(s, &y, &m, &d) != 0) {
        char w[32];
        size_t pos = 0;
        y = -1;
        while (next_word(s, &pos, w, sizeof w)) {
            int num = word_number(w), mon = word_month(w);
            if (num >= 1900)
                y = num;
            else if (num >= 1 && num <= 31 && !d)
                d = num;
            else if (mon && !m)
                m = mon;
            else if (w[0] == 'q' && w[1] >= '1' && w[1] <= '4' && w[2] == '\0')
                q = w[1] - '0';
            else if (w[0] == 'h' && (w[1] == '1' || w[1] == '2') && w[2] == '\0')
                q = (w[1] - '0') * 2;
            else if (num >= 0)
                return YS_EINVAL; /* a number that is neither day nor year */
        }
        if (y < 0)
            y = default_year;
        if (q && !m) {
            ys_md_quarter_end(y, q, out);
            return 0;
        }
    }
    if (y < YS_MD_MIN_YEAR || y > YS_MD_MAX_YEAR || m < 1 || m > 12 || d < 0 || d > ys_days_in_month(y, m))
        return YS_EINVAL;
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d ? d : ys_days_in_month(y, m));
    return 0;
}
