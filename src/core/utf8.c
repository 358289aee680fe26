/*
 * utf8.c - in-place UTF-8 repair (see utf8.h). Written by hand: the
 * libraries at hand either validate without repairing (PCRE2, jansson)
 * or convert between encodings (iconv), and the rule is twenty lines.
 * Pure: any thread.
 */
#include "core/utf8.h"

#include <stdint.h>
#include <string.h>

/* The length of the well-formed sequence at p (n bytes available), or 0. */
static size_t sequence_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* the second byte's range rules out overlongs, surrogates and > U+10FFFF */
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

size_t ys_utf8_scrub(char *s, size_t size)
{
    if (!s || size == 0)
        return 0;
    size_t n = strnlen(s, size - 1);
    s[n] = '\0';
    unsigned char *p = (unsigned char *)s;
    size_t replaced = 0;
    for (size_t i = 0; i < n;) {
        size_t len = sequence_len(p + i, n - i);
        if (len == 0) {
            p[i++] = '?';
            replaced++;
        } else {
            i += len;
        }
    }
    return replaced;
}
