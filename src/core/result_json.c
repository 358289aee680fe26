/*
 * result_json.c - one result as a JSON object (jansson), the shape that
 * `check --format json` prints and the web API serves: name, kind, ok,
 * duration_ms, error, message, status, bytes, truncated, phases, tls
 * when known, and the kind's facts (parsed) when it has some. Moved here
 * from src/cli so the web server can use it without the CLI.
 * Any thread (pure apart from reading the clock for days_left).
 */
#include "core/result_json.h"

#include "core/clock.h"

#include <string.h>
#include <time.h>

static json_t *ms_or_null(int32_t us)
{
    return us < 0 ? json_null() : json_real((double)us / 1000.0);
}

static json_t *tls_to_json(const struct ys_tls_facts *t)
{
    char buf[40];
    int64_t now_s = (int64_t)time(NULL);
    json_t *o = json_object();
    json_object_set_new(o, "days_left", json_integer(ys_tls_days_left(t, now_s)));
    json_object_set_new(o, "not_after",
                        json_string(ys_format_time(t->leaf_not_after * 1000, buf, sizeof buf)));
    json_object_set_new(o, "earliest_not_after",
                        json_string(ys_format_time(t->earliest_not_after * 1000, buf, sizeof buf)));
    json_object_set_new(o, "subject", json_string(t->subject));
    json_object_set_new(o, "issuer", json_string(t->issuer));
    return o;
}

json_t *ys_result_to_json(const char *name, const char *kind, const struct ys_result *r)
{
    char ts[40];
    json_t *o = json_object();
    if (name)
        json_object_set_new(o, "name", json_string(name));
    if (kind)
        json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "ts", json_string(ys_format_time(r->ts_ms, ts, sizeof ts)));
    json_object_set_new(o, "ts_ms", json_integer(r->ts_ms));
    json_object_set_new(o, "ok", json_boolean(r->ok));
    json_object_set_new(o, "duration_ms", json_real((double)r->duration_us / 1000.0));
    json_object_set_new(o, "error",
                        r->ok ? json_null() : json_string(ys_errclass_name(r->errclass)));
    json_object_set_new(o, "message", json_string(r->message));
    json_object_set_new(o, "status", json_integer(r->status));
    json_object_set_new(o, "bytes", json_integer(r->bytes));
    json_object_set_new(o, "truncated", json_boolean(r->flags & YS_RF_TRUNCATED));
    json_object_set_new(o, "value",
                        (r->flags & YS_RF_HAS_VALUE) ? json_real(r->value) : json_null());
    json_t *ph = json_object();
    json_object_set_new(ph, "dns_ms", ms_or_null(r->phase_us[YS_PHASE_DNS]));
    json_object_set_new(ph, "connect_ms", ms_or_null(r->phase_us[YS_PHASE_CONNECT]));
    json_object_set_new(ph, "tls_ms", ms_or_null(r->phase_us[YS_PHASE_TLS]));
    json_object_set_new(ph, "ttfb_ms", ms_or_null(r->phase_us[YS_PHASE_TTFB]));
    json_object_set_new(o, "phases", ph);
    if (r->flags & YS_RF_HAS_TLS)
        json_object_set_new(o, "tls", tls_to_json(&r->tls));
    if (r->facts[0]) {
        /* Facts are JSON text already; they are embedded as a value, so a
         * reader gets "facts": [...] rather than a string to parse again.
         * Text that does not parse (never written by a kind) is left out. */
        json_t *facts = json_loadb(r->facts, strnlen(r->facts, sizeof r->facts), 0, NULL);
        if (facts)
            json_object_set_new(o, "facts", facts);
    }
    return o;
}
