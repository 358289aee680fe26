/*
 * duration.c - duration parsing and formatting (see duration.h).
 */
#include "core/duration.h"

#include "core/err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct unit {
    const char *suffix;
    int64_t ms;
};

/* Longest suffixes first so "ms" is not read as "m" followed by "s". */
static const struct unit units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
};

int ys_duration_parse(const char *s, int64_t *out_ms)
{
    if (!s || !*s)
        return YS_EINVAL;
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return YS_EINVAL;
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n > INT64_MAX / 10 - 10)
                return YS_EINVAL;
            n = n * 10 + (*p++ - '0');
        }
        const struct unit *u = NULL;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t len = strlen(units[i].suffix);
            if (strncmp(p, units[i].suffix, len) == 0 && !isalpha((unsigned char)p[len])) {
                u = &units[i];
                break;
            }
        }
        if (!u)
            return YS_EINVAL;
        p += strlen(u->suffix);
        if (n > (INT64_MAX - total) / u->ms)
            return YS_EINVAL;
        total += n * u->ms;
    }
    *out_ms = total;
    return 0;
}

char *ys_duration_format(int64_t ms, char *buf, unsigned size)
{
    static const struct unit desc[] = {
        {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
    };
    size_t pos = 0;
    buf[0] = '\0';
    if (ms <= 0) {
        snprintf(buf, size, "0s");
        return buf;
    }
    for (size_t i = 0; i < sizeof desc / sizeof desc[0] && pos < size; i++) {
        if (ms >= desc[i].ms) {
            pos += (size_t)snprintf(buf + pos, size - pos, "%lld%s",
                                    (long long)(ms / desc[i].ms), desc[i].suffix);
            ms %= desc[i].ms;
        }
    }
    return buf;
}
