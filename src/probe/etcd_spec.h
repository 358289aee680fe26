/*
 * etcd_spec.h - the parsed fields of an `etcd` check, and the parsers of
 * the answers etcd gives on its HTTP port.
 *
 *   endpoints: ["https://10.0.0.5:2379", "https://10.0.0.6:2379"]  (required)
 *   min_healthy: 2                      (default: every endpoint)
 *   tls: { ca_file: ..., cert_file: ..., key_file: ..., insecure: false }
 *
 * Each endpoint is probed with GET /health, GET /readyz (absent before
 * etcd 3.5: a 404 counts as "not present"), GET /version and a
 * linearizable read, POST /v3/kv/range, through the v3 JSON gateway. The
 * check passes when at least min_healthy endpoints pass all four. A spec is
 * immutable after parsing and shared by every probe of its check.
 */
#ifndef YS_PROBE_ETCD_SPEC_H
#define YS_PROBE_ETCD_SPEC_H

#include "probe/tls_spec.h"

#include <stdbool.h>
#include <stddef.h>

struct ys_node;
struct ys_check;
struct ys_diag;

/* At most this many endpoints per check: an etcd cluster has 3, 5 or 7
 * members, and each endpoint's facts must find room in the result. */
#define YS_ETCD_MAX_ENDPOINTS 16

struct ys_etcd_endpoint {
    char *url;  /* scheme://host:port without a trailing slash */
    char *name; /* host:port (IPv6 in brackets), for messages and facts */
    bool https;
};

struct ys_etcd_spec {
    struct ys_etcd_endpoint *ep;
    size_t n;
    size_t min_healthy; /* 1..n */
    struct ys_tls_spec tls;
};

/* The kind's own keys, NULL-terminated (for probe.h's keys). */
extern const char *const ys_etcd_keys[];

/* Parses the kind's fields of the check map node into an owned spec (free
 * with ys_etcd_spec_free). Reports every problem to d with its position
 * and returns YS_ECONFIG if there was any; *out is then NULL. */
int ys_etcd_spec_parse(const struct ys_node *check, const struct ys_check *base,
                       struct ys_etcd_spec **out, struct ys_diag *d);
/* Frees spec and everything it owns; NULL is a no-op. */
void ys_etcd_spec_free(struct ys_etcd_spec *spec);

/* ---- answers (pure functions, any thread) ------------------------------ */

/* Bytes of a reason or version kept from an answer, terminator included. */
#define YS_ETCD_TEXT_MAX 64

/* GET /health: {"health":"true","reason":""} (reason from 3.5 on; the
 * value is a string in every release, a JSON boolean is accepted too).
 * Sets *healthy and reason ("" when none). Returns 0, or YS_EINVAL with
 * why (a sentence fragment) when the body is not such an object. */
int ys_etcd_parse_health(const char *body, size_t len, bool *healthy, char *reason,
                         size_t reason_size, const char **why);

/* GET /version: {"etcdserver":"3.4.23","etcdcluster":"3.4.0"}. Both are
 * required strings. Returns 0, or YS_EINVAL with why. */
int ys_etcd_parse_version(const char *body, size_t len, char *server, size_t server_size,
                          char *cluster, size_t cluster_size, const char **why);

/* POST /v3/kv/range: a success carries a "header" object; a failure is the
 * gateway's {"error":...,"code":N,"message":...}. Returns 0 on success;
 * YS_EINVAL with message set to etcd's own words for an error answer, or
 * to a description of what is wrong for anything else. */
int ys_etcd_parse_range(const char *body, size_t len, char *message, size_t message_size);

#endif
