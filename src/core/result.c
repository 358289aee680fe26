/*
 * result.c - helpers for struct ys_result (see result.h).
 */
#include "core/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const errclass_names[YS_EC_COUNT] = {
    "", "dns", "connect", "tls", "timeout", "http_status", "assertion", "internal", "no_data",
};

void ys_result_init(struct ys_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    for (int i = 0; i < YS_PHASE_COUNT; i++)
        r->phase_us[i] = -1;
}

void ys_result_fail(struct ys_result *r, enum ys_errclass ec, const char *fmt, ...)
{
    if (!r->ok)
        return;
    r->ok = false;
    r->errclass = (uint8_t)ec;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

const char *ys_errclass_name(unsigned ec)
{
    return ec < YS_EC_COUNT ? errclass_names[ec] : "unknown";
}

int64_t ys_tls_days_left(const struct ys_tls_facts *t, int64_t now_s)
{
    int64_t secs = t->leaf_not_after - now_s;
    /* Floor division, so a certificate that expired an hour ago has -1 days. */
    return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}
