/*
 * model_source.c - the sources: section of the configuration (model.h):
 * named endpoints that probe kinds read from, so that many checks share
 * one URL, one set of credentials and one TLS setup.
 *
 *   sources:
 *     - name: cluster-a            # 1-128 of A-Z a-z 0-9 . _ -, unique
 *       kind: prometheus           # the only kind so far
 *       url: https://prom.example:9090
 *       bearer_token: ${TOKEN}     # or basic_auth: { username, password }
 *       tls: { ca_file: ca.pem, insecure_skip_verify: false }
 *       headers: { X-Scope-OrgID: team-a }
 *       timeout: 10s               # per request, capped by the check's timeout
 *
 *     - name: prod
 *       kind: kubernetes           # credentials: probe/k8s_kubeconfig.c
 *       kubeconfig: /etc/yardstick/kubeconfig   # or in_cluster: true
 *       context: prod-admin        # default: the kubeconfig's current-context
 *       timeout: 10s
 *
 * A check names its source with `source: cluster-a` (prometheus) or
 * `cluster: prod` (kubernetes); the kinds that take one list "source" or
 * "cluster" among their keys. After the checks and the sources are
 * read, ys_model_resolve_sources points each such check at its source and
 * folds the source's hash into the check's fingerprint, so a reload that
 * changes only the source restarts the checks that use it. Every problem
 * is reported at its position and parsing goes on.
 *
 * Runs on the thread that loads the config.
 */
#include "config/model_int.h"

#include "config/read.h"
#include "core/hash.h"
#include "core/xalloc.h"
#include "probe/k8s.h"
#include "probe/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE_MIN_TIMEOUT_MS 10

static const char *const source_keys[] = {
    "name", "kind", "url", "bearer_token", "basic_auth", "tls", "headers", "timeout", NULL,
};
static const char *const k8s_source_keys[] = {
    "name", "kind", "kubeconfig", "context", "in_cluster", "timeout", NULL,
};
static const char *const source_kinds[] = {"prometheus", "kubernetes", NULL};
static const char *const basic_keys[] = {"username", "password", NULL};
static const char *const tls_keys[] = {"ca_file", "insecure_skip_verify", NULL};
static const char *const url_schemes[] = {"http", "https", NULL};

static void parse_name_kind(const struct ys_node *n, const char *path, struct ys_source *s,
                            struct ys_diag *d)
{
    const struct ys_node *name = ys_node_get(n, "name");
    if (!name) {
        ys_cfg_missing(n, "name", path, d);
    } else if (ys_cfg_string(name, "name", &s->name, d) == 0 && !ys_model_valid_name(s->name)) {
        ys_diag_add(d, name->line, name->col,
                    "bad source name '%s' (use 1-128 of A-Z a-z 0-9 . _ -)", s->name);
        free(s->name);
        s->name = NULL;
    }
    const struct ys_node *kind = ys_node_get(n, "kind");
    char *k = NULL;
    if (!kind) {
        ys_cfg_missing(n, "kind", path, d);
    } else if (ys_cfg_string(kind, "kind", &k, d) == 0 && strcmp(k, "kubernetes") == 0) {
        s->kind = YS_SOURCE_KUBERNETES;
        free(k);
        return;
    } else if (k && strcmp(k, "prometheus") != 0) {
        const char *near = ys_cfg_nearest(k, source_kinds);
        if (near)
            ys_diag_add(d, kind->line, kind->col,
                        "unknown source kind '%s' in %s (did you mean "
                        "'%s'?)",
                        k, path, near);
        else
            ys_diag_add(d, kind->line, kind->col,
                        "unknown source kind '%s' in %s (use prometheus or kubernetes)", k, path);
    }
    s->kind = YS_SOURCE_PROMETHEUS;
    free(k);
}

/* url: a base URL; a trailing slash is dropped so paths join cleanly. */
static void parse_url(const struct ys_node *n, const char *path, struct ys_source *s,
                      struct ys_diag *d)
{
    char what[96];
    snprintf(what, sizeof what, "%s.url", path);
    if (ys_cfg_url(n, what, url_schemes, d) < 0 || ys_cfg_string(n, what, &s->url, d) < 0)
        return;
    size_t len = strlen(s->url);
    while (len > 0 && s->url[len - 1] == '/')
        s->url[--len] = '\0';
}

static void parse_auth(const struct ys_node *n, const char *path, struct ys_source *s,
                       struct ys_diag *d)
{
    char what[96];
    const struct ys_node *tok = ys_node_get(n, "bearer_token");
    const struct ys_node *basic = ys_node_get(n, "basic_auth");
    snprintf(what, sizeof what, "%s.bearer_token", path);
    if (tok)
        ys_cfg_string(tok, what, &s->bearer_token, d);
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
    if (u)
        ys_cfg_string(u, "basic_auth.username", &s->username, d);
    if (p)
        ys_cfg_string(p, "basic_auth.password", &s->password, d);
}

static void parse_tls(const struct ys_node *n, const char *path, struct ys_source *s,
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
    ys_cfg_string(ys_node_get(n, "ca_file"), "tls.ca_file", &s->ca_file, d);
    ys_cfg_bool(ys_node_get(n, "insecure_skip_verify"), "tls.insecure_skip_verify",
                &s->insecure_skip_verify, d);
}

/* A kubernetes source: its credentials come from a kubeconfig or the pod,
 * read now so that a broken one is a config error, not a failing probe. */
static void parse_kubernetes(const struct ys_node *n, const char *path, struct ys_source *s,
                             struct ys_diag *d)
{
    char what[96], err[512];
    ys_cfg_check_keys(n, k8s_source_keys, path, d);
    const struct ys_node *kc = ys_node_get(n, "kubeconfig"), *ic = ys_node_get(n, "in_cluster");
    char *kubeconfig = NULL, *context = NULL;
    bool in_cluster = false;
    /* Whether in_cluster itself was bad: counted here, since d holds the
     * errors of the whole file, not only this source's. */
    size_t before = d->n;
    if (ic)
        ys_cfg_bool(ic, "in_cluster", &in_cluster, d);
    bool ic_bad = d->n > before;
    ys_cfg_string(ys_node_get(n, "context"), "context", &context, d);
    if (kc)
        ys_cfg_string(kc, "kubeconfig", &kubeconfig, d);
    if (kubeconfig && in_cluster) {
        ys_diag_add(d, kc->line, kc->col, "%s: use kubeconfig or in_cluster, not both", path);
    } else if (kubeconfig) {
        if (ys_k8s_kubeconfig_load(kubeconfig, context, s, err, sizeof err) < 0)
            ys_diag_add(d, kc->line, kc->col, "%s: %s", path, err);
    } else if (in_cluster) {
        if (ys_k8s_in_cluster_load(s, err, sizeof err) < 0)
            ys_diag_add(d, ic->line, ic->col, "%s: %s", path, err);
    } else if (!ic_bad) { /* absent or false; a bad value was reported already */
        ys_diag_add(d, n->line, n->col,
                    "%s: a kubernetes source needs kubeconfig: PATH or "
                    "in_cluster: true",
                    path);
    }
    free(kubeconfig);
    free(context);
    /* The kubeconfig's contents are not in the source's subtree: fold what
     * was read from it in, so a reload after it changed restarts the
     * checks that use it. */
    const char *const read[] = {s->url,       s->bearer_token, s->token_file, s->ca_file, s->ca_pem,
                                s->cert_file, s->key_file,     s->cert_pem,   s->key_pem};
    for (size_t i = 0; i < sizeof read / sizeof read[0]; i++)
        s->fingerprint = ys_hash_str(s->fingerprint, read[i] ? read[i] : "");
    s->fingerprint =
        ys_hash_bytes(s->fingerprint, &s->insecure_skip_verify, sizeof s->insecure_skip_verify);
    const struct ys_node *t = ys_node_get(n, "timeout");
    snprintf(what, sizeof what, "%s.timeout", path);
    int64_t ms = 0;
    if (t && ys_cfg_duration(t, what, &ms, d) == 0) {
        if (ms < SOURCE_MIN_TIMEOUT_MS)
            ys_diag_add(d, t->line, t->col, "%s must be at least %dms", what,
                        SOURCE_MIN_TIMEOUT_MS);
        else
            s->timeout_ms = ms;
    }
}

static void parse_source(const struct ys_node *n, size_t i, struct ys_source *s, struct ys_diag *d)
{
    char path[48], what[96];
    snprintf(path, sizeof path, "sources[%zu]", i);
    s->line = n->line;
    s->col = n->col;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "%s must be a mapping, not %s", path, ys_node_type_name(n));
        return;
    }
    s->fingerprint = ys_node_hash(n);
    parse_name_kind(n, path, s, d);
    if (s->kind == YS_SOURCE_KUBERNETES) {
        parse_kubernetes(n, path, s, d);
        return;
    }
    ys_cfg_check_keys(n, source_keys, path, d);
    const struct ys_node *url = ys_node_get(n, "url");
    if (!url)
        ys_cfg_missing(n, "url", path, d);
    else
        parse_url(url, path, s, d);
    parse_auth(n, path, s, d);
    parse_tls(ys_node_get(n, "tls"), path, s, d);
    snprintf(what, sizeof what, "%s.headers", path);
    const struct ys_node *h = ys_node_get(n, "headers");
    if (h && ys_cfg_strmap(h, what, &s->headers, d) == 0) {
        for (size_t j = 0; j < s->headers.n; j++)
            if (strpbrk(s->headers.values[j], "\r\n") || !s->headers.keys[j][0] ||
                strpbrk(s->headers.keys[j], ": \t\r\n"))
                ys_diag_add(d, h->pairs[j].line, h->pairs[j].col,
                            "%s.%s: bad header (a name without ':' or spaces, a value on one "
                            "line)",
                            what, s->headers.keys[j]);
    }
    const struct ys_node *t = ys_node_get(n, "timeout");
    snprintf(what, sizeof what, "%s.timeout", path);
    int64_t ms = 0;
    if (t && ys_cfg_duration(t, what, &ms, d) == 0) {
        if (ms < SOURCE_MIN_TIMEOUT_MS)
            ys_diag_add(d, t->line, t->col, "%s must be at least %dms", what,
                        SOURCE_MIN_TIMEOUT_MS);
        else
            s->timeout_ms = ms;
    }
}

void ys_model_parse_sources(const struct ys_node *seq, struct ys_config *c, struct ys_diag *d)
{
    if (!seq || (seq->type == YS_NODE_SCALAR && seq->is_null))
        return;
    if (seq->type != YS_NODE_SEQ) {
        ys_diag_add(d, seq->line, seq->col, "sources must be a list of sources, not %s",
                    ys_node_type_name(seq));
        return;
    }
    c->sources = ys_xcalloc(seq->n ? seq->n : 1, sizeof *c->sources);
    c->n_sources = seq->n;
    for (size_t i = 0; i < seq->n; i++) {
        struct ys_source *s = &c->sources[i];
        parse_source(seq->items[i], i, s, d);
        for (size_t j = 0; s->name && j < i; j++) {
            if (!c->sources[j].name || strcmp(c->sources[j].name, s->name) != 0)
                continue;
            const struct ys_node *at = ys_node_get(seq->items[i], "name");
            const struct ys_node *first = ys_node_get(seq->items[j], "name");
            ys_diag_add(d, at->line, at->col, "duplicate source name '%s' (first defined at %d:%d)",
                        s->name, first->line, first->col);
            break;
        }
    }
}

/* The key the kind names its source with: "source" (a prometheus source),
 * "cluster" (a kubernetes one), or NULL when it takes none. */
static const char *kind_source_key(const struct ys_probe_type *t)
{
    for (size_t i = 0; t && t->keys && t->keys[i]; i++)
        if (strcmp(t->keys[i], "source") == 0 || strcmp(t->keys[i], "cluster") == 0)
            return t->keys[i];
    return NULL;
}

static void resolve_one(const struct ys_node *n, const char *key, struct ys_check *ck,
                        struct ys_config *c, const char **names, struct ys_diag *d)
{
    const struct ys_node *v = ys_node_get(n, key);
    if (!v || v->type != YS_NODE_SCALAR || v->is_null)
        return; /* missing or mistyped: the kind's parser reports it */
    enum ys_source_kind want =
        strcmp(key, "cluster") == 0 ? YS_SOURCE_KUBERNETES : YS_SOURCE_PROMETHEUS;
    for (size_t j = 0; j < c->n_sources; j++) {
        if (c->sources[j].name && strcmp(c->sources[j].name, v->scalar) == 0) {
            if (c->sources[j].kind != want) {
                ys_diag_add(d, v->line, v->col, "%s '%s' of check '%s' is not a %s source", key,
                            v->scalar, ck->name ? ck->name : "?",
                            want == YS_SOURCE_KUBERNETES ? "kubernetes" : "prometheus");
                return;
            }
            ck->source = &c->sources[j];
            ck->fingerprint = ys_hash_bytes(ck->fingerprint, &c->sources[j].fingerprint,
                                            sizeof c->sources[j].fingerprint);
            return;
        }
    }
    const char *near = ys_cfg_nearest(v->scalar, names);
    if (near)
        ys_diag_add(d, v->line, v->col, "unknown source '%s' in check '%s' (did you mean '%s'?)",
                    v->scalar, ck->name ? ck->name : "?", near);
    else
        ys_diag_add(d, v->line, v->col,
                    "unknown source '%s' in check '%s' (define it under sources:)", v->scalar,
                    ck->name ? ck->name : "?");
}

void ys_model_resolve_sources(const struct ys_node *checks, struct ys_config *c, struct ys_diag *d)
{
    if (!checks || checks->type != YS_NODE_SEQ || checks->n != c->n_checks)
        return;
    const char **names = ys_xcalloc(c->n_sources + 1, sizeof *names);
    for (size_t j = 0; j < c->n_sources; j++)
        names[j] = c->sources[j].name ? c->sources[j].name : "";
    for (size_t i = 0; i < c->n_checks; i++) {
        const struct ys_node *n = checks->items[i];
        const char *key = kind_source_key(c->checks[i].type);
        if (n->type == YS_NODE_MAP && key)
            resolve_one(n, key, &c->checks[i], c, names, d);
    }
    free(names);
}

void ys_model_free_sources(struct ys_config *c)
{
    for (size_t i = 0; i < c->n_sources; i++) {
        struct ys_source *s = &c->sources[i];
        free(s->name);
        free(s->url);
        free(s->bearer_token);
        free(s->username);
        free(s->password);
        free(s->ca_file);
        free(s->token_file);
        free(s->ca_pem);
        free(s->cert_file);
        free(s->key_file);
        free(s->cert_pem);
        free(s->key_pem);
        ys_strmap_free(&s->headers);
    }
    free(c->sources);
    c->sources = NULL;
    c->n_sources = 0;
}
