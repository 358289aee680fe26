/*
 * test_oci.c - the registry kind's pure parts: its config fields with every
 * error's line and column, WWW-Authenticate challenges (quoted commas and
 * escapes included), manifests and indexes, referrers lists and what each
 * referrer counts as, config blobs and their times, tag lists and Link
 * pagination.
 *
 * The requests themselves run against a real docker-registry in
 * tests/integration/test_registry.sh.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "probe/oci.h"
#include "probe/probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

/* ---- spec --------------------------------------------------------------------- */

static const struct ys_oci_spec *only_spec(const struct loaded *l)
{
    if (l->rc != 0)
        dump(l);
    assert_int_equal(l->rc, 0);
    assert_int_equal(l->cfg->n_checks, 1);
    assert_string_equal(l->cfg->checks[0].type->name, "registry");
    return l->cfg->checks[0].spec;
}

static void test_spec_full(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: api-image\n"
             "    kind: registry\n"
             "    url: \"https://ghcr.io/\"\n"
             "    repository: org/api\n"
             "    tag: v1.2.3\n"
             "    platforms: [linux/amd64, linux/arm64/v8]\n"
             "    require: [signature, sbom]\n"
             "    max_tags: 500\n"
             "    username: u\n"
             "    password: p\n"
             "    tls: { insecure: true }\n");
    const struct ys_oci_spec *s = only_spec(&l);
    assert_string_equal(s->url, "https://ghcr.io");
    assert_string_equal(s->repository, "org/api");
    assert_string_equal(s->tag, "v1.2.3");
    assert_null(s->tag_pattern);
    assert_int_equal(s->platforms.n, 2);
    assert_string_equal(s->platforms.v[1], "linux/arm64/v8");
    assert_true(s->require_signature);
    assert_true(s->require_sbom);
    assert_int_equal(s->max_tags, 500);
    assert_string_equal(s->username, "u");
    assert_true(s->tls.insecure);
    unload(&l);
}

static void test_spec_pattern_defaults(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - { name: r, kind: registry, url: \"http://127.0.0.1:5000\", repository: api,\n"
             "      tag_pattern: '^v\\d+\\.\\d+\\.\\d+$' }\n");
    const struct ys_oci_spec *s = only_spec(&l);
    assert_null(s->tag);
    assert_non_null(s->tag_pattern);
    assert_int_equal(s->max_tags, -1);
    assert_false(s->require_signature);
    assert_null(s->username);
    unload(&l);
}

static void test_spec_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: r\n"
             "    kind: registry\n"
             "    url: ftp://x\n"
             "    repository: Org/API:v1\n"
             "    tag: v1\n"
             "    tag_pattern: '(unclosed'\n"
             "    platforms: [linux, linux/amd64]\n"
             "    require: [signature, provenance]\n"
             "    max_tags: -3\n"
             "    username: u\n"
             "    tagg: x\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 4, 10, "bad URL 'ftp://x': scheme must be http or https");
    assert_diag(&l, 5, 17, "repository 'Org/API:v1' may hold only lowercase");
    assert_diag(&l, 7, 5, "either tag or tag_pattern, not both");
    assert_diag(&l, 8, 17, "platforms: 'linux' is not os/arch");
    assert_diag(&l, 9, 26, "require: unknown 'provenance'");
    assert_diag(&l, 10, 15, "max_tags");
    assert_diag(&l, 11, 5, "username without password");
    assert_diag(&l, 12, 5, "tagg");
    unload(&l);
}

static void test_spec_missing(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: r\n"
             "    kind: registry\n"
             "    tag_pattern: '(x'\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 5, "missing required field 'url'");
    assert_diag(&l, 2, 5, "missing required field 'repository'");
    assert_diag(&l, 4, 18, "tag_pattern: bad regex '(x'");
    unload(&l);
    load(&l, "checks:\n"
             "  - { name: r, kind: registry, url: \"http://h\", repository: a/b, tag: x,\n"
             "      tls: { min_days_left: 3 } }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 3, 12, "tls: a registry check takes ca_file, cert_file, key_file and insecure");
    unload(&l);
    load(&l, "checks:\n"
             "  - { name: r, kind: registry, url: \"http://h\", repository: a/b }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 2, 5, "needs tag (one tag) or tag_pattern");
    unload(&l);
}

static void test_spec_referrers_and_scan(void **state)
{
    (void)state;
    struct loaded l;
    load(&l,
         "checks:\n"
         "  - { name: r, kind: registry, url: \"http://h\", repository: a/b, tag_pattern: '^v',\n"
         "      max_tags_inspected: 7,\n"
         "      artifact_types: { signature: application/x-sig, sbom: [] } }\n");
    const struct ys_oci_spec *s = only_spec(&l);
    assert_int_equal(s->max_tags_inspected, 7);
    assert_int_equal(s->sig_types.n, 1);
    assert_string_equal(s->sig_types.v[0], "application/x-sig");
    assert_int_equal(s->sbom_types.n, 0);
    unload(&l);
    /* Defaults: 100 tags, cosign/sigstore/notary signatures, SPDX and
     * CycloneDX SBOMs. */
    load(&l, "checks:\n"
             "  - { name: r, kind: registry, url: \"http://h\", repository: a/b, tag: v1 }\n");
    s = only_spec(&l);
    assert_int_equal(s->max_tags_inspected, 100);
    assert_string_equal(s->sig_types.v[0], "application/vnd.dev.cosign.artifact.sig.v1+json");
    assert_string_equal(s->sbom_types.v[0], "application/spdx+json");
    unload(&l);
    load(&l, "checks:\n"
             "  - name: r\n"
             "    kind: registry\n"
             "    url: \"http://h\"\n"
             "    repository: a/b\n"
             "    tag: v1\n"
             "    max_tags_inspected: 0\n"
             "    artifact_types: { signature: [spdx], sboms: [] }\n"
             "  - { name: s, kind: registry, url: \"http://h\", repository: a/b, tag: v1,\n"
             "      max_tags_inspected: 5, artifact_types: [application/spdx+json] }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 7, 25, "max_tags_inspected");
    assert_diag(&l, 8, 35, "artifact_types.signature: 'spdx' is not a media type");
    assert_diag(&l, 8, 42, "sboms");
    assert_diag(&l, 10, 27, "max_tags_inspected goes with tag_pattern");
    assert_diag(&l, 10, 46, "artifact_types must be a mapping");
    unload(&l);
}

/* ---- WWW-Authenticate ------------------------------------------------------ */

static void test_challenge_bearer(void **state)
{
    (void)state;
    struct ys_oci_challenge c;
    struct ys_err err = {{0}};
    assert_int_equal(ys_oci_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
                                            "service=\"registry.docker.io\","
                                            "scope=\"repository:org/api:pull,push\"",
                                            &c, &err),
                     0);
    assert_int_equal(c.scheme, YS_OCI_AUTH_BEARER);
    assert_string_equal(c.realm, "https://auth.docker.io/token");
    assert_string_equal(c.service, "registry.docker.io");
    assert_string_equal(c.scope, "repository:org/api:pull,push");
    ys_oci_challenge_free(&c);

    /* Spaces around separators, a token value, an escape, unknown params. */
    assert_int_equal(
        ys_oci_challenge_parse("bearer  realm = \"https://a/t\" , error=\"insufficient_scope\","
                               " service=reg, scope=\"a\\\"b,c\"",
                               &c, &err),
        0);
    assert_string_equal(c.realm, "https://a/t");
    assert_string_equal(c.service, "reg");
    assert_string_equal(c.scope, "a\"b,c");
    ys_oci_challenge_free(&c);
}

static void test_challenge_basic_and_errors(void **state)
{
    (void)state;
    struct ys_oci_challenge c;
    struct ys_err err = {{0}};
    assert_int_equal(ys_oci_challenge_parse("Basic realm=\"Registry Realm\"", &c, &err), 0);
    assert_int_equal(c.scheme, YS_OCI_AUTH_BASIC);
    assert_string_equal(c.realm, "Registry Realm");
    ys_oci_challenge_free(&c);

    assert_int_equal(ys_oci_challenge_parse("Negotiate abc", &c, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "unsupported authentication scheme 'Negotiate'"));
    assert_int_equal(ys_oci_challenge_parse("Bearer service=\"x\"", &c, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "without a realm"));
    assert_int_equal(ys_oci_challenge_parse("Bearer realm=\"https://a", &c, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "unterminated"));
    assert_int_equal(ys_oci_challenge_parse(NULL, &c, &err), YS_EINVAL);
}

/* ---- manifests --------------------------------------------------------------- */

static void test_manifest_index(void **state)
{
    (void)state;
    static const char body[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[{\"digest\":\"sha256:aa\",\"platform\":{\"architecture\":\"amd64\","
        "\"os\":\"linux\"}},{\"digest\":\"sha256:bb\",\"platform\":{\"architecture\":\"arm64\","
        "\"os\":\"linux\",\"variant\":\"v8\"}},{\"digest\":\"sha256:cc\"}]}";
    struct ys_oci_manifest m;
    struct ys_err err = {{0}};
    assert_int_equal(ys_oci_manifest_parse(body, strlen(body), NULL, &m, &err), 0);
    assert_true(m.is_index);
    assert_int_equal(m.platforms.n, 3);
    assert_string_equal(m.platforms.v[0], "linux/amd64");
    assert_string_equal(m.platforms.v[1], "linux/arm64/v8");
    assert_string_equal(m.platforms.v[2], "unknown/unknown");
    assert_string_equal(m.children.v[1], "sha256:bb");
    assert_null(m.config_digest);
    ys_oci_manifest_free(&m);

    /* A Docker manifest list without mediaType in the body: the header says. */
    static const char list[] = "{\"schemaVersion\":2,\"manifests\":[]}";
    assert_int_equal(ys_oci_manifest_parse(
                         list, strlen(list),
                         "application/vnd.docker.distribution.manifest.list.v2+json", &m, &err),
                     0);
    assert_true(m.is_index);
    assert_int_equal(m.platforms.n, 0);
    ys_oci_manifest_free(&m);
}

static void test_manifest_image_and_errors(void **state)
{
    (void)state;
    static const char body[] = "{\"schemaVersion\":2,\"mediaType\":\"application/"
                               "vnd.docker.distribution.manifest.v2+json\","
                               "\"config\":{\"digest\":\"sha256:cfg\"},\"layers\":[]}";
    struct ys_oci_manifest m;
    struct ys_err err = {{0}};
    assert_int_equal(ys_oci_manifest_parse(body, strlen(body), NULL, &m, &err), 0);
    assert_false(m.is_index);
    assert_string_equal(m.config_digest, "sha256:cfg");
    ys_oci_manifest_free(&m);

    assert_int_equal(ys_oci_manifest_parse("[1]", 3, NULL, &m, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "not a JSON object"));
    static const char nocfg[] = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}";
    assert_int_equal(ys_oci_manifest_parse(nocfg, strlen(nocfg), NULL, &m, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "without a config digest"));
    static const char baddg[] =
        "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{}]}";
    assert_int_equal(ys_oci_manifest_parse(baddg, strlen(baddg), NULL, &m, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "entry 0 has no digest"));
}

static void test_config_and_time(void **state)
{
    (void)state;
    static const char body[] = "{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
                               "\"created\":\"2026-11-29T20:17:25.123456789Z\"}";
    char plat[64];
    int64_t ms = 0;
    struct ys_err err = {{0}};
    assert_int_equal(ys_oci_config_parse(body, strlen(body), plat, sizeof plat, &ms, &err), 0);
    assert_string_equal(plat, "linux/arm/v7");
    assert_int_equal(ms, 1795983445123LL);

    assert_int_equal(ys_oci_parse_time("2026-11-29T22:17:25+02:00", &ms), 0);
    assert_int_equal(ms, 1795983445000LL);
    assert_int_equal(ys_oci_parse_time("2026-11-29T20:17:25.5Z", &ms), 0);
    assert_int_equal(ms, 1795983445500LL);
    assert_int_equal(ys_oci_parse_time("2026-11-29 20:17:25", &ms), YS_EINVAL);
    assert_int_equal(ys_oci_parse_time("2026-11-29T20:17:25Zjunk", &ms), YS_EINVAL);

    static const char nocreated[] = "{\"os\":\"linux\",\"architecture\":\"amd64\"}";
    assert_int_equal(
        ys_oci_config_parse(nocreated, strlen(nocreated), plat, sizeof plat, &ms, &err), 0);
    assert_int_equal(ms, -1);
    static const char bad[] = "{\"created\":\"yesterday\"}";
    assert_int_equal(ys_oci_config_parse(bad, strlen(bad), plat, sizeof plat, &ms, &err),
                     YS_EINVAL);
    assert_string_equal(plat, "");
    assert_non_null(strstr(err.msg, "bad created time 'yesterday'"));
}

/* ---- referrers ------------------------------------------------------------------ */

/* A referrers answer of the API's shape (distribution-spec 1.1): a cosign
 * signature, a sigstore bundle signature, attestations with SPDX and SLSA
 * predicates, a CycloneDX SBOM with a parameter, and an unknown type. */
static const char referrers_page[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
    "\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:01\","
    "\"size\":1,\"artifactType\":\"application/vnd.dev.cosign.artifact.sig.v1+json\"},"
    "{\"digest\":\"sha256:02\",\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
    "\"annotations\":{\"dev.sigstore.bundle.content\":\"message-signature\"}},"
    "{\"digest\":\"sha256:03\",\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
    "\"annotations\":{\"dev.sigstore.bundle.predicateType\":\"https://spdx.dev/Document/v2.3\"}},"
    "{\"digest\":\"sha256:04\",\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
    "\"annotations\":{\"dev.sigstore.bundle.predicateType\":\"https://slsa.dev/provenance/v1\"}},"
    "{\"digest\":\"sha256:05\",\"artifactType\":\"Application/VND.CycloneDX+JSON; version=1.5\"},"
    "{\"digest\":\"sha256:06\",\"artifactType\":\"application/vnd.acme.notes\"},"
    "{\"digest\":\"sha256:07\"}]}";

static void test_referrers_parse(void **state)
{
    (void)state;
    struct ys_oci_referrers r = {0};
    struct ys_err err = {{0}};
    assert_int_equal(ys_oci_referrers_parse(referrers_page, strlen(referrers_page), &r, &err), 0);
    assert_int_equal(r.n, 7);
    assert_string_equal(r.v[0].digest, "sha256:01");
    assert_null(r.v[0].predicate_type);
    assert_string_equal(r.v[2].predicate_type, "https://spdx.dev/Document/v2.3");
    assert_null(r.v[6].artifact_type);
    /* A second page appends; an empty index adds nothing. */
    static const char empty[] = "{\"schemaVersion\":2,\"manifests\":[]}";
    assert_int_equal(ys_oci_referrers_parse(empty, strlen(empty), &r, &err), 0);
    assert_int_equal(r.n, 7);
    /* Refusals leave what was there. */
    static const char nolist[] = "{\"schemaVersion\":2}";
    assert_int_equal(ys_oci_referrers_parse(nolist, strlen(nolist), &r, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "not an image index"));
    static const char nodg[] = "{\"manifests\":[{\"digest\":\"sha256:1\"},{\"size\":3}]}";
    assert_int_equal(ys_oci_referrers_parse(nodg, strlen(nodg), &r, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "entry 1 has no digest"));
    assert_int_equal(ys_oci_referrers_parse("[]", 2, &r, &err), YS_EINVAL);
    assert_int_equal(r.n, 7);
    ys_oci_referrers_free(&r);
    assert_int_equal(r.n, 0);
}

static void test_referrers_classify(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - { name: r, kind: registry, url: \"http://h\", repository: a/b, tag: v1 }\n");
    const struct ys_oci_spec *s = only_spec(&l);
    struct ys_oci_referrers r = {0};
    struct ys_err err = {{0}};
    assert_int_equal(ys_oci_referrers_parse(referrers_page, strlen(referrers_page), &r, &err), 0);
    static const unsigned want[] = {
        YS_OCI_IS_SIGNATURE, /* cosign */
        YS_OCI_IS_SIGNATURE, /* a bundle holding a message signature */
        YS_OCI_IS_SBOM,      /* a bundle holding an SPDX attestation */
        0,                   /* SLSA provenance: neither */
        YS_OCI_IS_SBOM,      /* CycloneDX, case and parameter aside */
        0,
        0,
    };
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(ys_oci_classify(s, &r.v[i]), want[i]);
    unload(&l);
    /* Configured: only cosign signatures count, and no SBOM. */
    load(&l, "checks:\n"
             "  - { name: r, kind: registry, url: \"http://h\", repository: a/b, tag: v1,\n"
             "      artifact_types: { signature: [application/vnd.dev.cosign.artifact.sig.v1+json],"
             " sbom: [] } }\n");
    s = only_spec(&l);
    static const unsigned want2[] = {YS_OCI_IS_SIGNATURE, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(ys_oci_classify(s, &r.v[i]), want2[i]);
    unload(&l);
    ys_oci_referrers_free(&r);
}

/* ---- cosign attestations (.att) --------------------------------------------- */

static char *data_file(const char *name, size_t *len)
{
    const char *unit = strstr(__FILE__, "unit/test_oci.c");
    char path[4096];
    snprintf(path, sizeof path, "%.*sdata/oci/%s", unit ? (int)(unit - __FILE__) : 0, __FILE__,
             name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* The recorded .att manifests, as cosign attest writes them: one DSSE
 * layer per attestation with its predicateType in the layer annotations.
 * SLSA provenance is not an SBOM; a CycloneDX layer next to it is. */
static void test_att_parse(void **state)
{
    (void)state;
    struct ys_strlist l = {0};
    struct ys_err err = {{0}};
    size_t len;
    const char *b = data_file("cosign-att-slsa.json", &len);
    assert_int_equal(ys_oci_att_parse(b, len, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0], "https://slsa.dev/provenance/v0.2");
    assert_false(ys_oci_sbom_predicate(l.v[0]));
    ys_strlist_free(&l);
    b = data_file("cosign-att-sbom.json", &len);
    assert_int_equal(ys_oci_att_parse(b, len, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_false(ys_oci_sbom_predicate(l.v[0]));
    assert_true(ys_oci_sbom_predicate(l.v[1]));
    ys_strlist_free(&l);
    /* The in-toto key (BuildKit), a layer without either, and errors. */
    static const char intoto[] =
        "{\"layers\":[{\"annotations\":{\"in-toto.io/predicate-type\":"
        "\"https://spdx.dev/Document/v2.3\"}},{\"digest\":\"sha256:00\"}]}";
    assert_int_equal(ys_oci_att_parse(intoto, strlen(intoto), &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_true(ys_oci_sbom_predicate(l.v[0]));
    assert_string_equal(l.v[1], "");
    assert_false(ys_oci_sbom_predicate(l.v[1]));
    assert_false(ys_oci_sbom_predicate(NULL));
    assert_int_equal(ys_oci_att_parse("{}", 2, &l, &err), YS_EINVAL);
    assert_int_equal(ys_oci_att_parse("nope", 4, &l, &err), YS_EINVAL);
    assert_int_equal(l.n, 2);
    ys_strlist_free(&l);
}

/* ---- tags and Link ------------------------------------------------------------ */

static void test_tags(void **state)
{
    (void)state;
    struct ys_strlist l = {0};
    struct ys_err err = {{0}};
    static const char p1[] = "{\"name\":\"a/b\",\"tags\":[\"v1\",\"v2\"]}";
    static const char p2[] = "{\"name\":\"a/b\",\"tags\":[\"latest\"]}";
    static const char none[] = "{\"name\":\"a/b\",\"tags\":null}";
    assert_int_equal(ys_oci_tags_parse(p1, strlen(p1), &l, &err), 0);
    assert_int_equal(ys_oci_tags_parse(p2, strlen(p2), &l, &err), 0);
    assert_int_equal(ys_oci_tags_parse(none, strlen(none), &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[2], "latest");
    assert_int_equal(ys_oci_tags_parse("{\"tags\":3}", 10, &l, &err), YS_EINVAL);
    assert_int_equal(ys_oci_tags_parse("nope", 4, &l, &err), YS_EINVAL);
    ys_strlist_free(&l);
}

static void test_link_next(void **state)
{
    (void)state;
    char *n = ys_oci_link_next("</v2/a/b/tags/list?n=100&last=v2>; rel=\"next\"");
    assert_string_equal(n, "/v2/a/b/tags/list?n=100&last=v2");
    free(n);
    /* Several link-values; a quoted comma inside a parameter. */
    n = ys_oci_link_next("<https://x/prev>; rel=\"prev\"; title=\"a, b\", "
                         "<https://x/v2/t?last=z>; rel=next");
    assert_string_equal(n, "https://x/v2/t?last=z");
    free(n);
    n = ys_oci_link_next("<https://x/a>; rel=\"nextpage\"");
    assert_null(n);
    assert_null(ys_oci_link_next("</v2/a>; rel=\"prev\""));
    assert_null(ys_oci_link_next("garbage"));
    assert_null(ys_oci_link_next(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_full),        cmocka_unit_test(test_spec_pattern_defaults),
        cmocka_unit_test(test_spec_errors),      cmocka_unit_test(test_spec_missing),
        cmocka_unit_test(test_challenge_bearer), cmocka_unit_test(test_challenge_basic_and_errors),
        cmocka_unit_test(test_manifest_index),   cmocka_unit_test(test_manifest_image_and_errors),
        cmocka_unit_test(test_config_and_time),  cmocka_unit_test(test_tags),
        cmocka_unit_test(test_link_next),        cmocka_unit_test(test_spec_referrers_and_scan),
        cmocka_unit_test(test_referrers_parse),  cmocka_unit_test(test_referrers_classify),
        cmocka_unit_test(test_att_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
