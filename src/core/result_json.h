/*
 * result_json.h - one result as a JSON object (jansson): the shape that
 * `check --format json` prints and the web API serves.
 */
#ifndef YS_CORE_RESULT_JSON_H
#define YS_CORE_RESULT_JSON_H

#include "core/result.h"

#include <jansson.h>

/* The JSON form of r: name and kind when not NULL, ts, ts_ms, ok,
 * duration_ms, error, message, status, bytes, truncated, value, phases,
 * tls when known, and facts (the kind's JSON, parsed) when not empty. Returns a new reference. Any thread. */
json_t *ys_result_to_json(const char *name, const char *kind, const struct ys_result *r);

#endif
