/*
 * log.c - leveled stderr logging (see log.h).
 *
 * The level and format are set once at start-up before threads exist and
 * only read afterwards, so they need no lock.
 */
#include "core/log.h"

#include "core/clock.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum ys_log_level g_level = YS_LOG_INFO;
static enum ys_log_format g_format = YS_LOG_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void ys_log_setup(enum ys_log_level level, enum ys_log_format format)
{
    g_level = level;
    g_format = format;
}

int ys_log_parse_level(const char *s, enum ys_log_level *out)
{
    for (int i = 0; i <= YS_LOG_OFF; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum ys_log_level)i;
            return 0;
        }
    }
    return YS_EINVAL;
}

int ys_log_parse_format(const char *s, enum ys_log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = YS_LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = YS_LOG_JSON;
    else
        return YS_EINVAL;
    return 0;
}

int ys_log_enabled(enum ys_log_level level)
{
    return level >= g_level && level < YS_LOG_OFF;
}

/* Appends s to buf as the inside of a JSON string. */
static size_t json_escape(char *buf, size_t pos, size_t cap, const char *s)
{
    for (; *s && pos + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[pos++] = '\\';
            buf[pos++] = (char)c;
        } else if (c < 0x20) {
            pos += (size_t)snprintf(buf + pos, cap - pos, "\\u%04x", c);
        } else {
            buf[pos++] = (char)c;
        }
    }
    return pos;
}

void ys_log(enum ys_log_level level, const char *component, const char *fmt, ...)
{
    if (!ys_log_enabled(level))
        return;
    char msg[2048], line[4608], ts[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ys_format_time(ys_wall_ms(), ts, sizeof ts);
    size_t n;
    if (g_format == YS_LOG_JSON) {
        n = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"",
                             ts, level_names[level]);
        n = json_escape(line, n, sizeof line - 32, component);
        n += (size_t)snprintf(line + n, sizeof line - n, "\",\"msg\":\"");
        n = json_escape(line, n, sizeof line - 8, msg);
        n += (size_t)snprintf(line + n, sizeof line - n, "\"}\n");
    } else {
        n = (size_t)snprintf(line, sizeof line, "%s %-5s %s: %s\n", ts, level_names[level],
                             component, msg);
    }
    if (n >= sizeof line)
        n = sizeof line - 1;
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
