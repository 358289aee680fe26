/*
 * k8s_kubeconfig.c - credentials of a `kubernetes` source (k8s.h), read
 * once at config load: a kubeconfig file through the project's YAML node
 * tree (config/node.h), or the pod's service account for in_cluster.
 *
 * Only what a read-only client needs is taken from the kubeconfig: the
 * context's cluster (server, certificate-authority or -data,
 * insecure-skip-tls-verify) and user (token, tokenFile,
 * client-certificate(-data), client-key(-data)). exec and auth-provider
 * plugins are refused with a sentence: running a program from a config
 * file at every probe is not something a monitor should do silently.
 *
 * The *-data fields are base64 PEM, decoded here with OpenSSL's
 * EVP_DecodeBlock (already linked for TLS) and handed to libcurl as blobs.
 * Paths in a kubeconfig are relative to the kubeconfig's directory, as
 * kubectl reads them.
 */
#include "probe/k8s.h"

#include "config/diag.h"
#include "config/model.h"
#include "config/node.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static const char *scalar(const struct ys_node *map, const char *key)
{
    const struct ys_node *v = map ? ys_node_get(map, key) : NULL;
    return v && v->type == YS_NODE_SCALAR && !v->is_null ? v->scalar : NULL;
}

/* The entry of list (clusters/users/contexts) called name: its inner map
 * under field (cluster/user/context). */
static const struct ys_node *named(const struct ys_node *root, const char *list, const char *field,
                                   const char *name)
{
    const struct ys_node *seq = ys_node_get(root, list);
    for (size_t i = 0; seq && seq->type == YS_NODE_SEQ && i < seq->n; i++) {
        const struct ys_node *e = seq->items[i];
        const char *n = e->type == YS_NODE_MAP ? scalar(e, "name") : NULL;
        const struct ys_node *inner = n && strcmp(n, name) == 0 ? ys_node_get(e, field) : NULL;
        if (inner && inner->type == YS_NODE_MAP)
            return inner;
    }
    return NULL;
}

/* Decoded base64 PEM, NUL-terminated, or NULL when it is not base64. */
static char *decode_b64(const char *in)
{
    size_t len = strlen(in);
    char *clean = ys_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (in[i] != '\n' && in[i] != '\r' && in[i] != ' ')
            clean[n++] = in[i];
    char *out = ys_xmalloc(n / 4 * 3 + 4);
    int got = n % 4 == 0 && n > 0
                  ? EVP_DecodeBlock((unsigned char *)out, (unsigned char *)clean, (int)n)
                  : -1;
    /* EVP_DecodeBlock counts the bytes the '=' padding stands for: drop them. */
    for (size_t i = n; got > 0 && i > 0 && clean[i - 1] == '='; i--)
        got--;
    free(clean);
    if (got < 0) {
        free(out);
        return NULL;
    }
    out[got] = '\0';
    return out;
}

/* dir/rel unless rel is absolute. */
static char *rel_path(const char *dir, const char *rel)
{
    return rel[0] == '/' ? ys_xstrdup(rel) : ys_xasprintf("%s/%s", dir, rel);
}

/* One file-or-data pair (client-certificate / client-certificate-data). */
static int file_or_data(const struct ys_node *m, const char *key, const char *dir, char **file,
                        char **pem, const char *where, char *err, size_t cap)
{
    char data_key[64];
    snprintf(data_key, sizeof data_key, "%s-data", key);
    const char *data = scalar(m, data_key), *path = scalar(m, key);
    if (data) {
        *pem = decode_b64(data);
        if (!*pem) {
            snprintf(err, cap, "%s: %s is not base64", where, data_key);
            return YS_ECONFIG;
        }
    } else if (path) {
        *file = rel_path(dir, path);
    }
    return 0;
}

static int read_user(const struct ys_node *user, const char *uname, const char *dir,
                     struct ys_source *s, const char *path, char *err, size_t cap)
{
    char where[160];
    snprintf(where, sizeof where, "%s: user '%s'", path, uname);
    if (ys_node_get(user, "exec") || ys_node_get(user, "auth-provider")) {
        snprintf(err, cap,
                 "%s uses an exec or auth-provider plugin; give it a token or a client "
                 "certificate instead",
                 where);
        return YS_ECONFIG;
    }
    const char *tok = scalar(user, "token"), *tf = scalar(user, "tokenFile");
    if (tok)
        s->bearer_token = ys_xstrdup(tok);
    else if (tf)
        s->token_file = rel_path(dir, tf);
    if (file_or_data(user, "client-certificate", dir, &s->cert_file, &s->cert_pem, where, err,
                     cap) < 0 ||
        file_or_data(user, "client-key", dir, &s->key_file, &s->key_pem, where, err, cap) < 0)
        return YS_ECONFIG;
    bool cert = s->cert_file || s->cert_pem, key = s->key_file || s->key_pem;
    if (cert != key) {
        snprintf(err, cap, "%s has a client certificate without its key (or the reverse)", where);
        return YS_ECONFIG;
    }
    if (!cert && !s->bearer_token && !s->token_file) {
        snprintf(err, cap, "%s has no token, tokenFile or client certificate", where);
        return YS_ECONFIG;
    }
    return 0;
}

static int read_cluster(const struct ys_node *cl, const char *cname, const char *dir,
                        struct ys_source *s, const char *path, char *err, size_t cap)
{
    char where[160];
    snprintf(where, sizeof where, "%s: cluster '%s'", path, cname);
    const char *server = scalar(cl, "server");
    if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)) {
        snprintf(err, cap, "%s needs a server: https://HOST:PORT", where);
        return YS_ECONFIG;
    }
    s->url = ys_xstrdup(server);
    size_t len = strlen(s->url);
    while (len > 0 && s->url[len - 1] == '/')
        s->url[--len] = '\0';
    const char *skip = scalar(cl, "insecure-skip-tls-verify");
    s->insecure_skip_verify = skip && strcmp(skip, "true") == 0;
    return file_or_data(cl, "certificate-authority", dir, &s->ca_file, &s->ca_pem, where, err, cap);
}

int ys_k8s_kubeconfig_load(const char *path, const char *ctx, struct ys_source *s, char *err,
                           size_t cap)
{
    struct ys_diag d;
    ys_diag_init(&d, path);
    struct ys_node *root = ys_node_load_file(path, &d);
    if (!root || root->type != YS_NODE_MAP || d.n > 0) {
        if (d.n > 0)
            snprintf(err, cap, "kubeconfig %s:%d:%d: %s", path, d.v[0].line, d.v[0].col,
                     d.v[0].msg);
        else
            snprintf(err, cap, "kubeconfig %s is not a mapping", path);
        ys_node_free(root);
        ys_diag_free(&d);
        return YS_ECONFIG;
    }
    ys_diag_free(&d);
    int rc = YS_ECONFIG;
    const char *cname = ctx ? ctx : scalar(root, "current-context");
    const struct ys_node *context = cname ? named(root, "contexts", "context", cname) : NULL;
    const char *cluster = scalar(context, "cluster"), *user = scalar(context, "user");
    const struct ys_node *cl = cluster ? named(root, "clusters", "cluster", cluster) : NULL;
    const struct ys_node *us = user ? named(root, "users", "user", user) : NULL;
    char *slash = strrchr(path, '/');
    char *dir = slash ? ys_xstrndup(path, (size_t)(slash - path)) : ys_xstrdup(".");
    if (!cname)
        snprintf(err, cap, "kubeconfig %s has no current-context: set context:", path);
    else if (!context)
        snprintf(err, cap, "kubeconfig %s has no context '%s'", path, cname);
    else if (!cl)
        snprintf(err, cap, "kubeconfig %s: context '%s' names no known cluster", path, cname);
    else if (!us)
        snprintf(err, cap, "kubeconfig %s: context '%s' names no known user", path, cname);
    else if (read_cluster(cl, cluster, dir, s, path, err, cap) == 0 &&
             read_user(us, user, dir, s, path, err, cap) == 0)
        rc = 0;
    free(dir);
    ys_node_free(root);
    return rc;
}

int ys_k8s_in_cluster_load(struct ys_source *s, char *err, size_t cap)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host || !port || !*port) {
        snprintf(err, cap, "in_cluster: KUBERNETES_SERVICE_HOST/PORT are not set (not in a pod?)");
        return YS_ECONFIG;
    }
    /* An IPv6 service address needs brackets in a URL. */
    s->url = strchr(host, ':') ? ys_xasprintf("https://[%s]:%s", host, port)
                               : ys_xasprintf("https://%s:%s", host, port);
    s->token_file = ys_xstrdup(SA_DIR "/token");
    s->ca_file = ys_xstrdup(SA_DIR "/ca.crt");
    return 0;
}
