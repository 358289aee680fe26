/*
 * utf8.h - makes text from outside (probe messages built from what a
 * server said, certificate names, run ids from a URL) valid UTF-8 before
 * it is stored: PostgreSQL refuses a whole batch over one invalid byte,
 * and JSON (the API, notifications) cannot carry it either.
 */
#ifndef YS_CORE_UTF8_H
#define YS_CORE_UTF8_H

#include <stddef.h>

/* Replaces, in place, every byte that is not part of a well-formed UTF-8
 * sequence (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF) with '?', so the text keeps its length. s is NUL-terminated
 * within size bytes (size includes the terminator; a string that is not
 * terminated within size is cut at size - 1). Returns how many bytes were
 * replaced. */
size_t ys_utf8_scrub(char *s, size_t size);

#endif
