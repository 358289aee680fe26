/*
 * xalloc.h - allocation wrappers that abort on exhaustion.
 *
 * Out of memory is not a condition yardstick can recover from in a useful
 * way, so callers of these never check for NULL. Input never reaches an
 * abort: only the allocator failing does.
 */
#ifndef YS_CORE_XALLOC_H
#define YS_CORE_XALLOC_H

#include <stddef.h>

void *ys_xmalloc(size_t n);
void *ys_xcalloc(size_t count, size_t size);
void *ys_xrealloc(void *p, size_t n);
/* Returns an owned copy of s (free with free()); NULL stays NULL. */
char *ys_xstrdup(const char *s);
/* Returns an owned copy of the first n bytes of s, NUL-terminated. */
char *ys_xstrndup(const char *s, size_t n);
/* Returns an owned printf-formatted string (free with free()). */
char *ys_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
