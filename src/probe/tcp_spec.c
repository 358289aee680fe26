/*
 * tcp_spec.c - parsing of a tcp check's own fields (see tcp_spec.h).
 *
 * Parsing is kept apart from running (tcp.c): this file turns the check's
 * map node into a plain struct ys_tcp_spec and reports every problem with
 * its FILE:LINE:COL, going on after each so `validate` shows them all.
 * The common keys (name, kind, interval, timeout, labels) and unknown-key
 * suggestions are the model parser's job; it learns our keys from
 * ys_tcp_keys through the probe type.
 *
 * The spec also owns a lazily built TLS context (tls_client) which only the
 * loop thread touches; it is freed with the spec.
 *
 * Runs on whichever thread loads a config.
 */
#include "probe/tcp_spec.h"

#include "config/diag.h"
#include "config/model.h"
#include "config/read.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "probe/tls_client.h"

#include <stdlib.h>
#include <string.h>

const char *const ys_tcp_keys[] = {
    "address", "send", "expect", "max_read", "ip_version", "tls", NULL,
};

static int parse_ip_version(const struct ys_node *n, int *out, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (n->type == YS_NODE_SCALAR && !n->is_null) {
        if (strcmp(n->scalar, "4") == 0 || strcmp(n->scalar, "ipv4") == 0) {
            *out = 4;
            return 0;
        }
        if (strcmp(n->scalar, "6") == 0 || strcmp(n->scalar, "ipv6") == 0) {
            *out = 6;
            return 0;
        }
        if (strcmp(n->scalar, "any") == 0) {
            *out = 0;
            return 0;
        }
    }
    ys_diag_add(d, n->line, n->col, "ip_version must be 4, 6 or any");
    return YS_ECONFIG;
}

/* A string field that must not be empty (an empty expect matches anything,
 * an empty send writes nothing: both are surely mistakes). */
static int parse_text(const struct ys_node *n, const char *what, char **out, size_t *len,
                      struct ys_diag *d)
{
    if (!n)
        return 0;
    if (ys_cfg_string(n, what, out, d) < 0)
        return YS_ECONFIG;
    *len = strlen(*out);
    if (*len == 0) {
        ys_diag_add(d, n->line, n->col, "%s must not be empty", what);
        free(*out);
        *out = NULL;
        return YS_ECONFIG;
    }
    return 0;
}

static int parse_max_read(const struct ys_node *n, int64_t *out, struct ys_diag *d)
{
    if (!n)
        return 0;
    int64_t v = 0;
    if (ys_cfg_size(n, "max_read", &v, d) < 0)
        return YS_ECONFIG;
    if (v < 1 || v > YS_TCP_MAX_READ_LIMIT) {
        ys_diag_add(d, n->line, n->col, "max_read must be between 1 byte and 16MiB");
        return YS_ECONFIG;
    }
    *out = v;
    return 0;
}

int ys_tcp_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d)
{
    *spec = NULL;
    struct ys_tcp_spec *s = ys_xcalloc(1, sizeof *s);
    s->max_read = YS_TCP_MAX_READ_DEFAULT;
    int rc = 0;

    const struct ys_node *addr = ys_node_get(check, "address");
    if (!addr) {
        char *where =
            base && base->name ? ys_xasprintf("check '%s'", base->name) : ys_xstrdup("tcp check");
        ys_cfg_missing(check, "address", where, d);
        free(where);
        rc = YS_ECONFIG;
    } else if (ys_cfg_hostport(addr, "address", &s->host, &s->port, d) < 0) {
        rc = YS_ECONFIG;
    }
    if (parse_text(ys_node_get(check, "send"), "send", &s->send, &s->send_len, d) < 0)
        rc = YS_ECONFIG;
    if (parse_text(ys_node_get(check, "expect"), "expect", &s->expect, &s->expect_len, d) < 0)
        rc = YS_ECONFIG;
    if (parse_max_read(ys_node_get(check, "max_read"), &s->max_read, d) < 0)
        rc = YS_ECONFIG;
    if (parse_ip_version(ys_node_get(check, "ip_version"), &s->ip_version, d) < 0)
        rc = YS_ECONFIG;
    if (ys_tls_spec_parse(ys_node_get(check, "tls"), &s->tls, d) < 0)
        rc = YS_ECONFIG;

    if (rc < 0) {
        ys_tcp_spec_free(s);
        return rc;
    }
    *spec = s;
    return 0;
}

void ys_tcp_spec_free(void *spec)
{
    struct ys_tcp_spec *s = spec;
    if (!s)
        return;
    ys_tls_client_free(s->tls_client);
    ys_tls_spec_free(&s->tls);
    free(s->host);
    free(s->send);
    free(s->expect);
    free(s);
}
