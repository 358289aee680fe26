/*
 * model_remote_write.c - the remote_write: section of the configuration
 * (model.h): Prometheus remote-write receivers the daemon sends every
 * result to (src/remote/ does the sending).
 *
 *   remote_write:
 *     - name: central               # 1-128 of A-Z a-z 0-9 . _ -, unique, not
 *                                   # starting with '.' (it names a folder)
 *       url: https://prom.example/api/v1/write
 *       headers: { X-Scope-OrgID: team-a }
 *       bearer_token: ${TOKEN}      # or basic_auth: { username, password }
 *       tls: { ca_file: ca.pem, cert_file: c.pem, key_file: k.pem,
 *              insecure_skip_verify: false }
 *       batch_size: 500             # samples per request
 *       flush_interval: 5s          # a partial batch waits at most this
 *       queue_max: 64MiB            # the on-disk queue's cap; oldest dropped
 *       timeout: 30s                # one request
 *       queue_dir: /var/lib/ys/rw   # the on-disk queue; default: next to the
 *                                   # SQLite file, var/remote_write/<name> with
 *                                   # PostgreSQL (see ys_remote_default_dir)
 *
 * headers: may not set what the protocol or the transport owns (the
 * reserved list below, any case): the spec says a sender MUST NOT let them
 * be overridden.
 *
 * The shape follows sources: (model_source.c); every problem is reported
 * at its FILE:LINE:COL and parsing goes on. Runs on the thread that loads
 * the config.
 */
#include "config/model_int.h"

#include "config/read.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RW_MIN_TIMEOUT_MS 10
#define RW_MIN_FLUSH_MS 10
#define RW_MAX_BATCH 100000
#define RW_MIN_QUEUE (64 * 1024)

static const char *const rw_keys[] = {
    "name",           "url",       "headers", "bearer_token", "basic_auth", "tls", "batch_size",
    "flush_interval", "queue_max", "timeout", "queue_dir",    NULL,
};
/* Headers yardstick sets itself; Authorization is reserved always, since
 * bearer_token and basic_auth are the way to send credentials. */
static const char *const reserved_headers[] = {
    "Content-Encoding",
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Prometheus-Remote-Write-Version",
    "Authorization",
    "Host",
    "Connection",
    "Transfer-Encoding",
    NULL,
};
static const char *const basic_keys[] = {"username", "password", NULL};
static const char *const tls_keys[] = {"ca_file", "cert_file", "key_file", "insecure_skip_verify",
                                       NULL};
static const char *const url_schemes[] = {"http", "https", NULL};

static void parse_name(const struct ys_node *n, const char *path, struct ys_remote_write *rw,
                       struct ys_diag *d)
{
    const struct ys_node *name = ys_node_get(n, "name");
    if (!name) {
        ys_cfg_missing(n, "name", path, d);
        return;
    }
    if (ys_cfg_string(name, "name", &rw->name, d) < 0)
        return;
    if (!ys_model_valid_name(rw->name) || rw->name[0] == '.') {
        ys_diag_add(d, name->line, name->col,
                    "bad remote_write name '%s' (use 1-128 of A-Z a-z 0-9 . _ -, not starting "
                    "with '.')",
                    rw->name);
        free(rw->name);
        rw->name = NULL;
    }
}

static void parse_auth(const struct ys_node *n, const char *path, struct ys_remote_write *rw,
                       struct ys_diag *d)
{
    char what[96];
    const struct ys_node *tok = ys_node_get(n, "bearer_token");
    const struct ys_node *basic = ys_node_get(n, "basic_auth");
    snprintf(what, sizeof what, "%s.bearer_token", path);
    if (tok)
        ys_cfg_string(tok, what, &rw->bearer_token, d);
    if (!basic)
        return;
    snprintf(what, sizeof what, "%s.basic_auth", path);
    if (tok) {
        ys_diag_add(d, basic->line, basic->col, "%s: use bearer_token or basic_auth, not both",
                    path);
        return;
    }
    if (basic->type != YS_NODE_MAP) {
        ys_diag_add(d, basic->line, basic->col,
                    "%s must be a mapping { username, password }, not %s", what,
                    ys_node_type_name(basic));
        return;
    }
    ys_cfg_check_keys(basic, basic_keys, what, d);
    const struct ys_node *u = ys_node_get(basic, "username");
    const struct ys_node *p = ys_node_get(basic, "password");
    if (!u)
        ys_cfg_missing(basic, "username", what, d);
    if (!p)
        ys_cfg_missing(basic, "password", what, d);
    ys_cfg_string(u, "basic_auth.username", &rw->username, d);
    ys_cfg_string(p, "basic_auth.password", &rw->password, d);
}

static void parse_tls(const struct ys_node *n, const char *path, struct ys_remote_write *rw,
                      struct ys_diag *d)
{
    char what[96];
    snprintf(what, sizeof what, "%s.tls", path);
    if (!n)
        return;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "%s must be a mapping, not %s", what, ys_node_type_name(n));
        return;
    }
    ys_cfg_check_keys(n, tls_keys, what, d);
    ys_cfg_string(ys_node_get(n, "ca_file"), "tls.ca_file", &rw->ca_file, d);
    ys_cfg_string(ys_node_get(n, "cert_file"), "tls.cert_file", &rw->cert_file, d);
    ys_cfg_string(ys_node_get(n, "key_file"), "tls.key_file", &rw->key_file, d);
    ys_cfg_bool(ys_node_get(n, "insecure_skip_verify"), "tls.insecure_skip_verify",
                &rw->insecure_skip_verify, d);
    const struct ys_node *cert = ys_node_get(n, "cert_file"), *key = ys_node_get(n, "key_file");
    if ((cert == NULL) != (key == NULL)) {
        const struct ys_node *at = cert ? cert : key;
        ys_diag_add(d, at->line, at->col, "%s: give cert_file and key_file together", what);
    }
}

static void parse_headers(const struct ys_node *h, const char *path, struct ys_remote_write *rw,
                          struct ys_diag *d)
{
    char what[96];
    snprintf(what, sizeof what, "%s.headers", path);
    if (!h || ys_cfg_strmap(h, what, &rw->headers, d) < 0)
        return;
    for (size_t j = 0; j < rw->headers.n; j++) {
        const char *k = rw->headers.keys[j];
        if (strpbrk(rw->headers.values[j], "\r\n") || !k[0] || strpbrk(k, ": \t\r\n")) {
            ys_diag_add(d, h->pairs[j].line, h->pairs[j].col,
                        "%s.%s: bad header (a name without ':' or spaces, a value on one line)",
                        what, k);
            continue;
        }
        for (size_t r = 0; reserved_headers[r]; r++)
            if (strcasecmp(k, reserved_headers[r]) == 0)
                ys_diag_add(
                    d, h->pairs[j].line, h->pairs[j].col,
                    "%s.%s: yardstick sets this header itself and it cannot be "
                    "overridden%s",
                    what, k,
                    strcasecmp(k, "Authorization") == 0 ? " (use bearer_token or basic_auth)" : "");
    }
}

/* A duration key with a floor; *out keeps its default when absent. */
static void parse_ms(const struct ys_node *n, const char *path, const char *key, int64_t min,
                     int64_t *out, struct ys_diag *d)
{
    char what[96];
    const struct ys_node *v = ys_node_get(n, key);
    int64_t ms = 0;
    snprintf(what, sizeof what, "%s.%s", path, key);
    if (!v || ys_cfg_duration(v, what, &ms, d) < 0)
        return;
    if (ms < min)
        ys_diag_add(d, v->line, v->col, "%s must be at least %lldms", what, (long long)min);
    else
        *out = ms;
}

static void parse_limits(const struct ys_node *n, const char *path, struct ys_remote_write *rw,
                         struct ys_diag *d)
{
    char what[96];
    snprintf(what, sizeof what, "%s.batch_size", path);
    ys_cfg_int(ys_node_get(n, "batch_size"), what, 1, RW_MAX_BATCH, &rw->batch_size, d);
    const struct ys_node *q = ys_node_get(n, "queue_max");
    snprintf(what, sizeof what, "%s.queue_max", path);
    int64_t bytes = 0;
    if (q && ys_cfg_size(q, what, &bytes, d) == 0) {
        if (bytes < RW_MIN_QUEUE)
            ys_diag_add(d, q->line, q->col, "%s must be at least 64KiB", what);
        else
            rw->queue_max = bytes;
    }
    parse_ms(n, path, "flush_interval", RW_MIN_FLUSH_MS, &rw->flush_interval_ms, d);
    parse_ms(n, path, "timeout", RW_MIN_TIMEOUT_MS, &rw->timeout_ms, d);
}

static void parse_one(const struct ys_node *n, size_t i, struct ys_remote_write *rw,
                      struct ys_diag *d)
{
    char path[48], what[96];
    snprintf(path, sizeof path, "remote_write[%zu]", i);
    rw->line = n->line;
    rw->col = n->col;
    rw->batch_size = 500;
    rw->flush_interval_ms = 5000;
    rw->queue_max = INT64_C(64) * 1024 * 1024;
    rw->timeout_ms = 30000;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "%s must be a mapping, not %s", path, ys_node_type_name(n));
        return;
    }
    ys_cfg_check_keys(n, rw_keys, path, d);
    parse_name(n, path, rw, d);
    const struct ys_node *url = ys_node_get(n, "url");
    snprintf(what, sizeof what, "%s.url", path);
    if (!url)
        ys_cfg_missing(n, "url", path, d);
    else if (ys_cfg_url(url, what, url_schemes, d) == 0)
        ys_cfg_string(url, what, &rw->url, d);
    parse_auth(n, path, rw, d);
    parse_tls(ys_node_get(n, "tls"), path, rw, d);
    parse_headers(ys_node_get(n, "headers"), path, rw, d);
    parse_limits(n, path, rw, d);
    const struct ys_node *qd = ys_node_get(n, "queue_dir");
    snprintf(what, sizeof what, "%s.queue_dir", path);
    if (qd && ys_cfg_string(qd, what, &rw->queue_dir, d) == 0 && !rw->queue_dir[0]) {
        ys_diag_add(d, qd->line, qd->col, "%s must not be empty", what);
        free(rw->queue_dir);
        rw->queue_dir = NULL;
    }
}

void ys_model_parse_remote_write(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d)
{
    if (!seq || (seq->type == YS_NODE_SCALAR && seq->is_null))
        return;
    if (seq->type != YS_NODE_SEQ) {
        ys_diag_add(d, seq->line, seq->col, "remote_write must be a list of endpoints, not %s",
                    ys_node_type_name(seq));
        return;
    }
    c->remote_writes = ys_xcalloc(seq->n ? seq->n : 1, sizeof *c->remote_writes);
    c->n_remote_writes = seq->n;
    for (size_t i = 0; i < seq->n; i++) {
        struct ys_remote_write *rw = &c->remote_writes[i];
        parse_one(seq->items[i], i, rw, d);
        for (size_t j = 0; rw->name && j < i; j++) {
            if (!c->remote_writes[j].name || strcmp(c->remote_writes[j].name, rw->name) != 0)
                continue;
            const struct ys_node *at = ys_node_get(seq->items[i], "name");
            const struct ys_node *first = ys_node_get(seq->items[j], "name");
            ys_diag_add(d, at->line, at->col,
                        "duplicate remote_write name '%s' (first defined at %d:%d)", rw->name,
                        first->line, first->col);
            break;
        }
    }
}

void ys_model_free_remote_write(struct ys_config *c)
{
    for (size_t i = 0; i < c->n_remote_writes; i++) {
        struct ys_remote_write *rw = &c->remote_writes[i];
        free(rw->name);
        free(rw->url);
        ys_strmap_free(&rw->headers);
        free(rw->bearer_token);
        free(rw->username);
        free(rw->password);
        free(rw->ca_file);
        free(rw->cert_file);
        free(rw->key_file);
        free(rw->queue_dir);
    }
    free(c->remote_writes);
    c->remote_writes = NULL;
    c->n_remote_writes = 0;
}
