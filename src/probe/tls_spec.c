/*
 * tls_spec.c - parsing of the shared `tls:` section (see tls_spec.h).
 */
#include "probe/tls_spec.h"

#include "config/diag.h"
#include "config/read.h"
#include "core/err.h"

#include <stdlib.h>
#include <unistd.h>

static const char *const tls_keys[] = {
    "enabled", "ca_file", "cert_file", "key_file", "server_name", "insecure", "min_days_left", NULL,
};

static int read_file_path(const struct ys_node *n, const char *what, char **out,
                          struct ys_diag *d)
{
    if (!n)
        return 0;
    if (ys_cfg_string(n, what, out, d) < 0)
        return YS_ECONFIG;
    if (access(*out, R_OK) != 0) {
        ys_diag_add(d, n->line, n->col, "%s '%s' cannot be read", what, *out);
        return YS_ECONFIG;
    }
    return 0;
}

int ys_tls_spec_parse(const struct ys_node *node, struct ys_tls_spec *spec, struct ys_diag *d)
{
    spec->min_days_left = -1;
    spec->enabled = true;
    if (!node)
        return 0;
    spec->present = true;
    if (node->type == YS_NODE_SCALAR) {
        /* `tls: true` is a short way to turn TLS on with defaults. */
        return ys_cfg_bool(node, "tls", &spec->enabled, d);
    }
    if (node->type != YS_NODE_MAP) {
        ys_diag_add(d, node->line, node->col, "tls must be a mapping");
        return YS_ECONFIG;
    }
    int rc = 0;
    if (ys_cfg_check_keys(node, tls_keys, "tls", d) > 0)
        rc = YS_ECONFIG;
    const struct ys_node *v;
    if ((v = ys_node_get(node, "enabled")) && ys_cfg_bool(v, "tls.enabled", &spec->enabled, d) < 0)
        rc = YS_ECONFIG;
    if (read_file_path(ys_node_get(node, "ca_file"), "tls.ca_file", &spec->ca_file, d) < 0)
        rc = YS_ECONFIG;
    if (read_file_path(ys_node_get(node, "cert_file"), "tls.cert_file", &spec->cert_file, d) < 0)
        rc = YS_ECONFIG;
    if (read_file_path(ys_node_get(node, "key_file"), "tls.key_file", &spec->key_file, d) < 0)
        rc = YS_ECONFIG;
    if ((v = ys_node_get(node, "server_name")) &&
        ys_cfg_string(v, "tls.server_name", &spec->server_name, d) < 0)
        rc = YS_ECONFIG;
    if ((v = ys_node_get(node, "insecure")) && ys_cfg_bool(v, "tls.insecure", &spec->insecure, d) < 0)
        rc = YS_ECONFIG;
    if ((v = ys_node_get(node, "min_days_left")) &&
        ys_cfg_int(v, "tls.min_days_left", 0, 3650, &spec->min_days_left, d) < 0)
        rc = YS_ECONFIG;
    if (spec->cert_file && !spec->key_file) {
        ys_diag_add(d, node->line, node->col, "tls.cert_file needs tls.key_file");
        rc = YS_ECONFIG;
    }
    return rc;
}

void ys_tls_spec_free(struct ys_tls_spec *spec)
{
    free(spec->ca_file);
    free(spec->cert_file);
    free(spec->key_file);
    free(spec->server_name);
}
