/*
 * oci_spec.c - parsing a `registry` check's fields into struct
 * ys_oci_spec (see oci.h). Runs once per config load. Every problem is
 * reported with its position and parsing goes on, so `yardstick validate`
 * shows them all; a spec with any problem is freed, not returned.
 */
#include "probe/oci.h"

#include "config/diag.h"
#include "config/node.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *const ys_oci_keys[] = {
    "url",         "repository",         "tag",
    "tag_pattern", "platforms",          "require",
    "max_tags",    "max_tags_inspected", "artifact_types",
    "username",    "password",           "tls",
    NULL,
};

/* What counts among a subject's referrers unless artifact_types says
 * otherwise: cosign's signature artifacts, sigstore bundles (v0.3 and the
 * older `+json;version=` form) and Notary v2 signatures; SPDX and
 * CycloneDX documents and syft's own format. */
static const char *const default_sig_types[] = {
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json",
    "application/vnd.cncf.notary.signature",
    NULL,
};
static const char *const default_sbom_types[] = {
    "application/spdx+json",          "text/spdx",
    "application/vnd.cyclonedx+json", "application/vnd.cyclonedx+xml",
    "application/vnd.syft+json",      NULL,
};
static const char *const artifact_type_keys[] = {"signature", "sbom", NULL};

#define DEFAULT_MAX_TAGS_INSPECTED 100

static const char *const url_schemes[] = {"http", "https", NULL};

/* Repository names per the distribution spec: lowercase path components
 * of [a-z0-9] joined by '.', '_', '__', '-' runs, separated by '/'. A
 * looser check catches the usual mistakes (capitals, a leading '/', a tag
 * written into the name) without re-stating the spec's regex. */
static const char *repo_problem(const char *r)
{
    if (!r[0] || r[0] == '/' || r[strlen(r) - 1] == '/')
        return "must be a path such as org/api, without leading or trailing '/'";
    for (const char *p = r; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-' || c == '/'))
            return "may hold only lowercase letters, digits, '.', '_', '-' and '/' (the tag "
                   "goes in tag:)";
    }
    return NULL;
}

static int parse_target(const struct ys_node *c, struct ys_oci_spec *s, struct ys_diag *d)
{
    int rc = 0;
    const struct ys_node *n = ys_node_get(c, "url");
    if (!n) {
        ys_cfg_missing(c, "url", "a registry check", d);
        rc = YS_ECONFIG;
    } else if (ys_cfg_url(n, "url", url_schemes, d) < 0 ||
               ys_cfg_string(n, "url", &s->url, d) < 0) {
        rc = YS_ECONFIG;
    } else {
        size_t len = strlen(s->url);
        while (len > 0 && s->url[len - 1] == '/')
            s->url[--len] = '\0';
    }
    if (!(n = ys_node_get(c, "repository"))) {
        ys_cfg_missing(c, "repository", "a registry check", d);
        rc = YS_ECONFIG;
    } else if (ys_cfg_string(n, "repository", &s->repository, d) < 0) {
        rc = YS_ECONFIG;
    } else if (repo_problem(s->repository)) {
        ys_diag_add(d, n->line, n->col, "repository '%s' %s", s->repository,
                    repo_problem(s->repository));
        rc = YS_ECONFIG;
    }
    return rc;
}

static int compile_pattern(const struct ys_node *n, struct ys_oci_spec *s, struct ys_diag *d)
{
    if (ys_cfg_string(n, "tag_pattern", &s->tag_pattern_text, d) < 0)
        return YS_ECONFIG;
    int code;
    PCRE2_SIZE off;
    s->tag_pattern =
        pcre2_compile((PCRE2_SPTR)s->tag_pattern_text, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (!s->tag_pattern) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        ys_diag_add(d, n->line, n->col, "tag_pattern: bad regex '%s': %s at offset %zu",
                    s->tag_pattern_text, (const char *)msg, (size_t)off);
        return YS_ECONFIG;
    }
    return 0;
}

/* Exactly one of tag and tag_pattern. */
static int parse_tag(const struct ys_node *c, struct ys_oci_spec *s, struct ys_diag *d)
{
    const struct ys_node *t = ys_node_get(c, "tag");
    const struct ys_node *p = ys_node_get(c, "tag_pattern");
    if (t && p) {
        const struct ys_node_pair *pr = ys_node_pair(c, "tag_pattern");
        ys_diag_add(d, pr->line, pr->col,
                    "a registry check has either tag or tag_pattern, not both");
        return YS_ECONFIG;
    }
    if (!t && !p) {
        ys_diag_add(d, c->line, c->col,
                    "a registry check needs tag (one tag) or tag_pattern (a regex over the tags)");
        return YS_ECONFIG;
    }
    if (p)
        return compile_pattern(p, s, d);
    if (ys_cfg_string(t, "tag", &s->tag, d) < 0)
        return YS_ECONFIG;
    if (!s->tag[0] || strpbrk(s->tag, "/:@ ")) {
        ys_diag_add(d, t->line, t->col, "tag '%s' is not a tag (no '/', ':', '@' or spaces)",
                    s->tag);
        return YS_ECONFIG;
    }
    return 0;
}

static int parse_platforms(const struct ys_node *n, struct ys_oci_spec *s, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (ys_cfg_strlist(n, "platforms", &s->platforms, d) < 0)
        return YS_ECONFIG;
    int rc = 0;
    for (size_t i = 0; i < s->platforms.n; i++) {
        const char *v = s->platforms.v[i];
        const char *slash = strchr(v, '/');
        if (!slash || slash == v || !slash[1] || slash[1] == '/') {
            const struct ys_node *it = n->type == YS_NODE_SEQ ? n->items[i] : n;
            ys_diag_add(d, it->line, it->col,
                        "platforms: '%s' is not os/arch[/variant] (like linux/arm64)", v);
            rc = YS_ECONFIG;
        }
    }
    return rc;
}

static int parse_require(const struct ys_node *n, struct ys_oci_spec *s, struct ys_diag *d)
{
    if (!n)
        return 0;
    struct ys_strlist l = {0};
    if (ys_cfg_strlist(n, "require", &l, d) < 0)
        return YS_ECONFIG;
    int rc = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.v[i], "signature") == 0) {
            s->require_signature = true;
        } else if (strcmp(l.v[i], "sbom") == 0) {
            s->require_sbom = true;
        } else {
            const struct ys_node *it = n->type == YS_NODE_SEQ ? n->items[i] : n;
            ys_diag_add(d, it->line, it->col, "require: unknown '%s' (signature or sbom)", l.v[i]);
            rc = YS_ECONFIG;
        }
    }
    ys_strlist_free(&l);
    return rc;
}

static void set_defaults(struct ys_strlist *l, const char *const *types)
{
    for (size_t i = 0; types[i]; i++) {
        l->v = ys_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = ys_xstrdup(types[i]);
    }
}

/* One class's list: media types ("type/subtype"), possibly empty. */
static int parse_type_list(const struct ys_node *n, const char *what, struct ys_strlist *out,
                           struct ys_diag *d)
{
    if (n->type == YS_NODE_SEQ && n->n == 0) {
        ys_strlist_free(out);
        return 0;
    }
    if (ys_cfg_strlist(n, what, out, d) < 0)
        return YS_ECONFIG;
    int rc = 0;
    for (size_t i = 0; i < out->n; i++) {
        const char *slash = strchr(out->v[i], '/');
        if (!slash || slash == out->v[i] || !slash[1] || strchr(out->v[i], ' ')) {
            const struct ys_node *it = n->type == YS_NODE_SEQ ? n->items[i] : n;
            ys_diag_add(d, it->line, it->col, "%s: '%s' is not a media type (like %s)", what,
                        out->v[i], "application/spdx+json");
            rc = YS_ECONFIG;
        }
    }
    return rc;
}

/* artifact_types: { signature: [...], sbom: [...] }, each replacing its
 * default list; [] means no referrer counts for that class. */
static int parse_artifact_types(const struct ys_node *n, struct ys_oci_spec *s, struct ys_diag *d)
{
    set_defaults(&s->sig_types, default_sig_types);
    set_defaults(&s->sbom_types, default_sbom_types);
    if (!n)
        return 0;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col,
                    "artifact_types must be a mapping like { signature: [...], sbom: [...] }");
        return YS_ECONFIG;
    }
    int rc = ys_cfg_check_keys(n, artifact_type_keys, "artifact_types", d) > 0 ? YS_ECONFIG : 0;
    const struct ys_node *v;
    if ((v = ys_node_get(n, "signature")) &&
        parse_type_list(v, "artifact_types.signature", &s->sig_types, d) < 0)
        rc = YS_ECONFIG;
    if ((v = ys_node_get(n, "sbom")) &&
        parse_type_list(v, "artifact_types.sbom", &s->sbom_types, d) < 0)
        rc = YS_ECONFIG;
    return rc;
}

static int parse_credentials(const struct ys_node *c, struct ys_oci_spec *s, struct ys_diag *d)
{
    const struct ys_node *u = ys_node_get(c, "username");
    const struct ys_node *p = ys_node_get(c, "password");
    if ((u && ys_cfg_string(u, "username", &s->username, d) < 0) ||
        (p && ys_cfg_string(p, "password", &s->password, d) < 0))
        return YS_ECONFIG;
    if (!u != !p) {
        const struct ys_node_pair *pr = ys_node_pair(c, u ? "username" : "password");
        ys_diag_add(d, pr->line, pr->col,
                    "%s without %s: give both, or neither for anonymous access",
                    u ? "username" : "password", u ? "password" : "username");
        return YS_ECONFIG;
    }
    return 0;
}

int ys_oci_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d)
{
    (void)base;
    struct ys_oci_spec *s = ys_xcalloc(1, sizeof *s);
    s->max_tags = -1;
    s->max_tags_inspected = DEFAULT_MAX_TAGS_INSPECTED;
    int rc = parse_target(check, s, d);
    if (parse_tag(check, s, d) < 0)
        rc = YS_ECONFIG;
    if (parse_platforms(ys_node_get(check, "platforms"), s, d) < 0)
        rc = YS_ECONFIG;
    if (parse_require(ys_node_get(check, "require"), s, d) < 0)
        rc = YS_ECONFIG;
    const struct ys_node *n = ys_node_get(check, "max_tags");
    if (n && ys_cfg_int(n, "max_tags", 0, 100000000, &s->max_tags, d) < 0)
        rc = YS_ECONFIG;
    if ((n = ys_node_get(check, "max_tags_inspected"))) {
        if (ys_cfg_int(n, "max_tags_inspected", 1, 10000, &s->max_tags_inspected, d) < 0) {
            rc = YS_ECONFIG;
        } else if (ys_node_get(check, "tag")) {
            ys_diag_add(d, n->line, n->col,
                        "max_tags_inspected goes with tag_pattern (it bounds the tags read to "
                        "find the newest)");
            rc = YS_ECONFIG;
        }
    }
    if (parse_artifact_types(ys_node_get(check, "artifact_types"), s, d) < 0)
        rc = YS_ECONFIG;
    if (parse_credentials(check, s, d) < 0)
        rc = YS_ECONFIG;
    if (ys_tls_spec_parse(ys_node_get(check, "tls"), &s->tls, d) < 0)
        rc = YS_ECONFIG;
    /* The probe does not gather certificate facts or override the name. */
    if ((n = ys_node_get(check, "tls")) && (s->tls.server_name || s->tls.min_days_left >= 0)) {
        ys_diag_add(d, n->line, n->col,
                    "tls: a registry check takes ca_file, cert_file, key_file and insecure only "
                    "(watch the certificate with an http check)");
        rc = YS_ECONFIG;
    }
    if (rc < 0) {
        ys_oci_spec_free(s);
        *spec = NULL;
        return YS_ECONFIG;
    }
    *spec = s;
    return 0;
}

void ys_oci_spec_free(void *spec)
{
    struct ys_oci_spec *s = spec;
    if (!s)
        return;
    free(s->url);
    free(s->repository);
    free(s->tag);
    free(s->tag_pattern_text);
    pcre2_code_free(s->tag_pattern);
    ys_strlist_free(&s->platforms);
    ys_strlist_free(&s->sig_types);
    ys_strlist_free(&s->sbom_types);
    free(s->username);
    free(s->password);
    ys_tls_spec_free(&s->tls);
    free(s);
}
