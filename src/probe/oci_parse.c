/*
 * oci_parse.c - reading what a registry answers: WWW-Authenticate
 * challenges, manifests and indexes, referrers lists, config blobs, tag
 * lists and Link headers. Pure functions, unit-tested in
 * tests/unit/test_oci.c and fuzzed by tests/fuzz/fuzz_oci.c.
 *
 * JSON goes through jansson. The challenge and Link parsers are written by
 * hand: libcurl parses WWW-Authenticate only inside its own auth code and
 * exposes no parser, and both grammars are a few lines (RFC 7235 auth-param
 * lists, RFC 8288 link-values).
 */
#include "probe/oci.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- WWW-Authenticate ----------------------------------------------------- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads a token or a quoted-string at *pp into an owned string. */
static char *read_value(const char **pp)
{
    const char *p = *pp;
    if (*p != '"') {
        size_t n = strcspn(p, ", \t");
        *pp = p + n;
        return ys_xstrndup(p, n);
    }
    p++;
    char *out = ys_xcalloc(1, strlen(p) + 1);
    size_t o = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        out[o++] = *p;
    }
    if (*p != '"') {
        free(out);
        return NULL;
    }
    *pp = p + 1;
    return out;
}

int ys_oci_challenge_parse(const char *hdr, struct ys_oci_challenge *c, struct ys_err *err)
{
    memset(c, 0, sizeof *c);
    const char *p = skip_ws(hdr ? hdr : "");
    size_t n = strcspn(p, " \t");
    if (n == 6 && strncasecmp(p, "bearer", 6) == 0)
        c->scheme = YS_OCI_AUTH_BEARER;
    else if (n == 5 && strncasecmp(p, "basic", 5) == 0)
        c->scheme = YS_OCI_AUTH_BASIC;
    else
        return ys_err_set(err, YS_EINVAL, "unsupported authentication scheme '%.*s'", (int)n, p);
    p = skip_ws(p + n);
    while (*p) {
        size_t kn = strcspn(p, "= \t,");
        const char *key = p;
        p = skip_ws(p + kn);
        if (*p != '=') {
            ys_oci_challenge_free(c);
            return ys_err_set(err, YS_EINVAL, "bad challenge parameter near '%.20s'", key);
        }
        p = skip_ws(p + 1);
        char *v = read_value(&p);
        if (!v) {
            ys_oci_challenge_free(c);
            return ys_err_set(err, YS_EINVAL, "unterminated quoted value in challenge");
        }
        char **slot = kn == 5 && strncasecmp(key, "realm", 5) == 0     ? &c->realm
                      : kn == 7 && strncasecmp(key, "service", 7) == 0 ? &c->service
                      : kn == 5 && strncasecmp(key, "scope", 5) == 0   ? &c->scope
                                                                       : NULL;
        if (slot) {
            free(*slot);
            *slot = v;
        } else {
            free(v);
        }
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    if (c->scheme == YS_OCI_AUTH_BEARER && (!c->realm || !c->realm[0])) {
        ys_oci_challenge_free(c);
        return ys_err_set(err, YS_EINVAL, "Bearer challenge without a realm");
    }
    return 0;
}

void ys_oci_challenge_free(struct ys_oci_challenge *c)
{
    free(c->realm);
    free(c->service);
    free(c->scope);
    memset(c, 0, sizeof *c);
}

/* ---- manifests ------------------------------------------------------------ */

static void strlist_push(struct ys_strlist *l, char *s)
{
    l->v = ys_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = s;
}

static bool is_index_type(const char *t)
{
    return t && (strstr(t, "application/vnd.oci.image.index.v1+json") ||
                 strstr(t, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

static char *platform_string(json_t *plat)
{
    const char *os = json_string_value(json_object_get(plat, "os"));
    const char *arch = json_string_value(json_object_get(plat, "architecture"));
    const char *variant = json_string_value(json_object_get(plat, "variant"));
    if (!os || !arch)
        return ys_xstrdup("unknown/unknown");
    return variant && variant[0] ? ys_xasprintf("%s/%s/%s", os, arch, variant)
                                 : ys_xasprintf("%s/%s", os, arch);
}

static int parse_index(json_t *list, struct ys_oci_manifest *m, struct ys_err *err)
{
    if (!json_is_array(list))
        return ys_err_set(err, YS_EINVAL, "index without a manifests array");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *dg = json_string_value(json_object_get(e, "digest"));
        if (!dg)
            return ys_err_set(err, YS_EINVAL, "index entry %zu has no digest", i);
        strlist_push(&m->children, ys_xstrdup(dg));
        strlist_push(&m->platforms, platform_string(json_object_get(e, "platform")));
    }
    return 0;
}

int ys_oci_manifest_parse(const char *body, size_t len, const char *content_type,
                          struct ys_oci_manifest *m, struct ys_err *err)
{
    memset(m, 0, sizeof *m);
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return ys_err_set(err, YS_EINVAL, "manifest is not a JSON object");
    }
    const char *mt = json_string_value(json_object_get(root, "mediaType"));
    json_t *list = json_object_get(root, "manifests");
    int rc = 0;
    m->is_index =
        is_index_type(mt) || (!mt && is_index_type(content_type)) || (!mt && !content_type && list);
    if (m->is_index) {
        rc = parse_index(list, m, err);
    } else {
        const char *cd =
            json_string_value(json_object_get(json_object_get(root, "config"), "digest"));
        if (cd)
            m->config_digest = ys_xstrdup(cd);
        else
            rc = ys_err_set(err, YS_EINVAL, "image manifest without a config digest");
    }
    json_decref(root);
    if (rc < 0)
        ys_oci_manifest_free(m);
    return rc;
}

void ys_oci_manifest_free(struct ys_oci_manifest *m)
{
    ys_strlist_free(&m->platforms);
    ys_strlist_free(&m->children);
    free(m->config_digest);
    memset(m, 0, sizeof *m);
}

/* ---- referrers ---------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? ys_xstrdup(s) : NULL;
}

int ys_oci_referrers_parse(const char *body, size_t len, struct ys_oci_referrers *out,
                           struct ys_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    json_t *list = json_object_get(root, "manifests");
    int rc = 0;
    if (!json_is_object(root) || !json_is_array(list)) {
        rc = ys_err_set(err, YS_EINVAL, "referrers answer is not an image index");
        goto out;
    }
    /* Checked whole first, so a bad answer appends nothing. */
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!json_string_value(json_object_get(e, "digest"))) {
            rc = ys_err_set(err, YS_EINVAL, "referrers entry %zu has no digest", i);
            goto out;
        }
    }
    out->v = ys_xrealloc(out->v, (out->n + json_array_size(list) + 1) * sizeof *out->v);
    json_array_foreach(list, i, e)
    {
        struct ys_oci_referrer *r = &out->v[out->n++];
        r->digest = ys_xstrdup(json_string_value(json_object_get(e, "digest")));
        r->artifact_type = dup_or_null(json_string_value(json_object_get(e, "artifactType")));
        r->predicate_type = dup_or_null(json_string_value(json_object_get(
            json_object_get(e, "annotations"), "dev.sigstore.bundle.predicateType")));
    }
out:
    json_decref(root);
    return rc;
}

void ys_oci_referrers_free(struct ys_oci_referrers *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].digest);
        free(r->v[i].artifact_type);
        free(r->v[i].predicate_type);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

/* "application/spdx+json; charset=x" and "Application/SPDX+JSON" are the
 * same type: compared up to the parameters, without case. */
static bool same_media_type(const char *a, const char *b)
{
    size_t na = strcspn(a, "; \t"), nb = strcspn(b, "; \t");
    return na == nb && strncasecmp(a, b, na) == 0;
}

static bool type_listed(const struct ys_strlist *l, const char *t)
{
    for (size_t i = 0; t && i < l->n; i++)
        if (same_media_type(l->v[i], t))
            return true;
    return false;
}

bool ys_oci_sbom_predicate(const char *p)
{
    return p && (strncmp(p, "https://spdx.dev/Document", 25) == 0 ||
                 strncmp(p, "https://cyclonedx.org/bom", 25) == 0);
}

int ys_oci_att_parse(const char *body, size_t len, struct ys_strlist *out, struct ys_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    json_t *layers = json_object_get(root, "layers");
    if (!json_is_object(root) || !json_is_array(layers)) {
        json_decref(root);
        return ys_err_set(err, YS_EINVAL, "attestation manifest has no layers");
    }
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        json_t *ann = json_object_get(l, "annotations");
        /* cosign attest writes "predicateType"; BuildKit and others the
         * in-toto key. */
        const char *t = json_string_value(json_object_get(ann, "predicateType"));
        if (!t)
            t = json_string_value(json_object_get(ann, "in-toto.io/predicate-type"));
        strlist_push(out, ys_xstrdup(t ? t : ""));
    }
    json_decref(root);
    return 0;
}

unsigned ys_oci_classify(const struct ys_oci_spec *s, const struct ys_oci_referrer *r)
{
    unsigned bits = 0;
    bool sig_type = type_listed(&s->sig_types, r->artifact_type);
    if (sig_type && !r->predicate_type)
        bits |= YS_OCI_IS_SIGNATURE;
    if (type_listed(&s->sbom_types, r->artifact_type) ||
        (sig_type && ys_oci_sbom_predicate(r->predicate_type)))
        bits |= YS_OCI_IS_SBOM;
    return bits;
}

/* ---- config blobs and times ------------------------------------------------ */

int ys_oci_parse_time(const char *s, int64_t *out_ms)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return YS_EINVAL;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        if (digits == 0)
            return YS_EINVAL;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
               isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
               isdigit((unsigned char)p[5])) {
        off_s = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        if (*p == '+')
            off_s = -off_s;
        p += 6;
    } else {
        return YS_EINVAL;
    }
    if (*p)
        return YS_EINVAL;
    *out_ms = ((int64_t)timegm(&tm) + off_s) * 1000 + ms;
    return 0;
}

int ys_oci_config_parse(const char *body, size_t len, char *platform, size_t platform_size,
                        int64_t *created_ms, struct ys_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return ys_err_set(err, YS_EINVAL, "config blob is not a JSON object");
    }
    platform[0] = '\0';
    if (json_string_value(json_object_get(root, "os"))) {
        char *ps = platform_string(root);
        snprintf(platform, platform_size, "%s", ps);
        free(ps);
    }
    *created_ms = -1;
    const char *cr = json_string_value(json_object_get(root, "created"));
    int rc = 0;
    if (cr && ys_oci_parse_time(cr, created_ms) < 0)
        rc = ys_err_set(err, YS_EINVAL, "bad created time '%.40s' in config blob", cr);
    json_decref(root);
    return rc;
}

/* ---- tags and pagination ------------------------------------------------------ */

int ys_oci_tags_parse(const char *body, size_t len, struct ys_strlist *out, struct ys_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    json_t *tags = json_object_get(root, "tags");
    if (!json_is_object(root) || (!json_is_array(tags) && !json_is_null(tags) && tags)) {
        json_decref(root);
        return ys_err_set(err, YS_EINVAL, "tag list is not {\"tags\": [...]}");
    }
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        if (json_is_string(t))
            strlist_push(out, ys_xstrdup(json_string_value(t)));
    }
    json_decref(root);
    return 0;
}

char *ys_oci_link_next(const char *link)
{
    const char *p = link;
    while (p && *p) {
        p = skip_ws(p);
        if (*p != '<')
            return NULL;
        const char *end = strchr(p, '>');
        if (!end)
            return NULL;
        const char *target = p + 1;
        size_t tlen = (size_t)(end - target);
        /* The link-value's parameters run to the next ',' outside quotes. */
        bool next = false, quoted = false;
        for (p = end + 1; *p && (quoted || *p != ','); p++) {
            if (*p == '"')
                quoted = !quoted;
            else if (!quoted && strncasecmp(p, "rel=", 4) == 0) {
                const char *v = p + 4;
                if (*v == '"')
                    v++;
                next = strncasecmp(v, "next", 4) == 0 &&
                       (v[4] == '"' || v[4] == ';' || v[4] == ',' || v[4] == ' ' || !v[4]);
            }
        }
        if (next)
            return ys_xstrndup(target, tlen);
        if (*p == ',')
            p++;
    }
    return NULL;
}
