/*
 * tcp_spec.h - the parsed fields of a `kind: tcp` check.
 *
 *   - name: etcd-tls
 *     kind: tcp
 *     address: 10.0.0.5:2379        # host:port or [v6]:port (required)
 *     send: "PING\r\n"              # written once connected (optional)
 *     expect: "+PONG"               # substring of the bytes received (optional)
 *     max_read: 64KiB               # cap on the bytes read while looking for expect
 *     ip_version: any               # 4, 6 or any
 *     tls: { min_days_left: 30 }    # its presence turns TLS on
 */
#ifndef YS_PROBE_TCP_SPEC_H
#define YS_PROBE_TCP_SPEC_H

#include "probe/tls_spec.h"

#include <stddef.h>
#include <stdint.h>

struct ys_node;
struct ys_diag;
struct ys_check;
struct ys_tls_client;

#define YS_TCP_MAX_READ_DEFAULT (64 * 1024)
#define YS_TCP_MAX_READ_LIMIT (16 * 1024 * 1024)

struct ys_tcp_spec {
    char *host; /* as written, without brackets */
    int port;   /* 1..65535 */
    char *send; /* NULL: nothing is sent */
    size_t send_len;
    char *expect; /* NULL: no read assertion */
    size_t expect_len;
    int64_t max_read; /* bytes, >= 1 */
    int ip_version;   /* 0 (any), 4 or 6 */
    struct ys_tls_spec tls;
    /* The verifying TLS context, built lazily on the loop thread by the
     * first probe that needs it and kept for the life of the spec, so the
     * CA store is read once per check, not once per probe. */
    struct ys_tls_client *tls_client;
};

/* The keys of a tcp check besides the common ones, NULL-terminated. */
extern const char *const ys_tcp_keys[];

/* ys_probe_type.parse for tcp: reads check's fields into an owned
 * struct ys_tcp_spec (*spec; free with ys_tcp_spec_free). Reports every
 * problem with its position; returns 0 or YS_ECONFIG (and *spec NULL). */
int ys_tcp_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d);
/* Frees a spec from ys_tcp_spec_parse, its TLS context included. NULL is a
 * no-op. Loop thread (or any thread once no probe uses it). */
void ys_tcp_spec_free(void *spec);
/* True when probes of this spec speak TLS. */
static inline int ys_tcp_spec_tls_on(const struct ys_tcp_spec *s)
{
    return s->tls.present && s->tls.enabled;
}

#endif
