/*
 * assets.h - the dashboard's files (web/), embedded in the binary at build
 * time. The HTTP server (server.c) calls this for every GET that is not an
 * API route; src/web/assets.c (the dashboard's owner) implements it.
 */
#ifndef YS_WEB_ASSETS_H
#define YS_WEB_ASSETS_H

#include <stddef.h>

/* Looks up the embedded file for URL path (already stripped of its query
 * string; "/" means the dashboard's index page). On success returns 0 and
 * points *data (static, never freed), *len and *content_type (a full
 * Content-Type value, e.g. "text/html; charset=utf-8") at it; otherwise
 * returns YS_ENOTFOUND and leaves them untouched. Thread-safe: the table
 * is immutable. */
int ys_web_assets_find(const char *path, const unsigned char **data, size_t *len,
                       const char **content_type);

#endif
