/*
 * err.h - the one error convention of yardstick.
 *
 * Functions that can fail return int: 0 on success or a negative YS_E* code.
 * Where a person must read why (a probe's failure, a store error, a command
 * line mistake), the function also fills a struct ys_err with a sentence.
 * Configuration errors carry positions and live in config/diag.h instead.
 */
#ifndef YS_CORE_ERR_H
#define YS_CORE_ERR_H

#include <stddef.h>

enum {
    YS_OK = 0,
    YS_ENOMEM = -1,    /* allocation failed (normally aborts instead) */
    YS_EINVAL = -2,    /* bad argument or malformed input */
    YS_EIO = -3,       /* operating system or file error */
    YS_ENOTFOUND = -4, /* no such thing (check, file, row) */
    YS_EBUSY = -5,     /* already running, queue full, locked */
    YS_ETIMEDOUT = -6, /* a deadline passed */
    YS_ETOOBIG = -7,   /* a capped buffer would overflow */
    YS_ECONFIG = -8,   /* configuration rejected; diagnostics say why */
    YS_ESTORE = -9,    /* the store refused or failed */
    YS_EINTERNAL = -10 /* a library failed in a way we did not expect */
};

/* A readable reason for a failure. Fixed size: it is filled on error paths
 * where allocating would be one more thing to fail. */
struct ys_err {
    char msg[256];
};

/* Returns a static string naming a YS_E* code. */
const char *ys_strerror(int rc);

/* Fills err (if not NULL) with a printf-style message and returns rc, so a
 * failing path can be one line: return ys_err_set(err, YS_EIO, "...", ...). */
int ys_err_set(struct ys_err *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
