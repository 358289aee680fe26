/*
 * assets.c - looks up the dashboard's embedded files (web/, turned into a
 * sorted table at build time by tools/embed_assets.c) by URL path.
 *
 * The table is immutable static data, so lookups are safe from any thread
 * (the HTTP server's worker threads call this). "/" serves index.html; a
 * query string or fragment is the caller's to strip. Paths are matched
 * exactly, so "..", "//" or percent-escapes never reach outside the
 * table: anything not in it is YS_ENOTFOUND.
 */
#include "web/assets.h"

#include "core/err.h"
#include "web/assets_data.h"

#include <string.h>

static const struct ys_web_asset *find(const char *path)
{
    size_t lo = 0, hi = ys_web_assets_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, ys_web_assets_table[mid].path);
        if (c == 0)
            return &ys_web_assets_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int ys_web_assets_find(const char *path, const unsigned char **data, size_t *len,
                       const char **content_type)
{
    if (!path || path[0] != '/')
        return YS_ENOTFOUND;
    const struct ys_web_asset *a = find(strcmp(path, "/") == 0 ? "/index.html" : path);
    if (!a)
        return YS_ENOTFOUND;
    *data = a->data;
    *len = a->len;
    *content_type = a->content_type;
    return 0;
}
