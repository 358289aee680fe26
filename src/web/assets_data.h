/*
 * assets_data.h - the table of dashboard files that tools/embed_assets.c
 * generates from web/ into the build directory (src/web/assets_data.c).
 * Only src/web/assets.c and the generated file include this.
 */
#ifndef YS_WEB_ASSETS_DATA_H
#define YS_WEB_ASSETS_DATA_H

#include <stddef.h>

/* One embedded file. path is the URL path ("/app.js"); data is static. */
struct ys_web_asset {
    const char *path;
    const char *content_type;
    const unsigned char *data;
    size_t len;
};

/* The files, sorted by path in strcmp order (the generator sorts them).
 * When web/ is empty the table holds one placeholder and count is 0. */
extern const struct ys_web_asset ys_web_assets_table[];
/* How many entries of ys_web_assets_table are real files. */
extern const size_t ys_web_assets_count;

#endif
