/*
 * err.c - names for YS_E* codes and the helper that fills struct ys_err.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *ys_strerror(int rc)
{
    switch (rc) {
    case YS_OK: return "ok";
    case YS_ENOMEM: return "out of memory";
    case YS_EINVAL: return "invalid input";
    case YS_EIO: return "I/O error";
    case YS_ENOTFOUND: return "not found";
    case YS_EBUSY: return "busy";
    case YS_ETIMEDOUT: return "timed out";
    case YS_ETOOBIG: return "too big";
    case YS_ECONFIG: return "configuration error";
    case YS_ESTORE: return "store error";
    case YS_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

int ys_err_set(struct ys_err *err, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}
