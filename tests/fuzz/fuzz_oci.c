/*
 * fuzz_oci.c - libFuzzer target for what the registry kind reads from a
 * registry (src/probe/oci_parse.c): manifests and indexes (with and
 * without a Content-Type), referrers lists and what each referrer counts
 * as, tag lists, config blobs and their times, and, over the same bytes as
 * a header value, Link and WWW-Authenticate. Every parser sees every
 * input: a refusal must say why, a success must hold terminated strings
 * no longer than the input and no more entries than the input has bytes.
 * Corpus: tests/fuzz/corpus/oci/ (an index, an image manifest, a Docker
 * manifest list, referrers pages, a tag list, a config blob, Link and
 * challenge headers, and cut-off and mistyped documents).
 */
#include "core/err.h"
#include "probe/oci.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t size)
{
    if (s && strlen(s) > size)
        abort();
}

static void check_err(int rc, const struct ys_err *err)
{
    if (rc < 0 && err->msg[0] == '\0')
        abort(); /* a refusal must say why */
}

static void manifests(const char *b, size_t size)
{
    static const char *const ctypes[] = {
        NULL,
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    };
    for (size_t i = 0; i < sizeof ctypes / sizeof *ctypes; i++) {
        struct ys_oci_manifest m;
        struct ys_err err = {{0}};
        int rc = ys_oci_manifest_parse(b, size, ctypes[i], &m, &err);
        check_err(rc, &err);
        if (rc == 0) {
            if (m.platforms.n != m.children.n || m.children.n > size)
                abort();
            for (size_t j = 0; j < m.children.n; j++)
                check_str(m.children.v[j], size);
            check_str(m.config_digest, size);
            if (!m.is_index && !m.config_digest)
                abort();
        }
        ys_oci_manifest_free(&m);
    }
}

static void referrers(const char *b, size_t size)
{
    static char *sig[] = {"application/vnd.dev.cosign.artifact.sig.v1+json",
                          "application/vnd.dev.sigstore.bundle.v0.3+json"};
    static char *sbom[] = {"application/spdx+json", "application/vnd.cyclonedx+json"};
    struct ys_oci_spec spec = {.sig_types = {2, sig}, .sbom_types = {2, sbom}};
    struct ys_oci_referrers r = {0};
    struct ys_err err = {{0}};
    int rc = ys_oci_referrers_parse(b, size, &r, &err);
    check_err(rc, &err);
    if (rc < 0 && r.n != 0)
        abort(); /* a refused answer appends nothing */
    if (r.n > size)
        abort();
    for (size_t i = 0; i < r.n; i++) {
        if (!r.v[i].digest)
            abort();
        check_str(r.v[i].digest, size);
        check_str(r.v[i].artifact_type, size);
        check_str(r.v[i].predicate_type, size);
        if (ys_oci_classify(&spec, &r.v[i]) > (YS_OCI_IS_SIGNATURE | YS_OCI_IS_SBOM))
            abort();
    }
    ys_oci_referrers_free(&r);
}

static void tags_and_config(const char *b, size_t size)
{
    struct ys_strlist tags = {0};
    struct ys_err err = {{0}};
    int rc = ys_oci_tags_parse(b, size, &tags, &err);
    check_err(rc, &err);
    if (tags.n > size)
        abort();
    for (size_t i = 0; i < tags.n; i++)
        check_str(tags.v[i], size);
    ys_strlist_free(&tags);

    char plat[64];
    int64_t created;
    struct ys_err err2 = {{0}};
    rc = ys_oci_config_parse(b, size, plat, sizeof plat, &created, &err2);
    check_err(rc, &err2);
    if (rc == 0 && strlen(plat) >= sizeof plat)
        abort();
}

/* The bytes as a header value or a time: a terminated copy. */
static void headers(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    char *next = ys_oci_link_next(s);
    check_str(next, size);
    free(next);
    struct ys_oci_challenge c;
    struct ys_err err = {{0}};
    int rc = ys_oci_challenge_parse(s, &c, &err);
    check_err(rc, &err);
    if (rc == 0) {
        check_str(c.realm, size);
        check_str(c.service, size);
        check_str(c.scope, size);
        if (c.scheme == YS_OCI_AUTH_BEARER && !c.realm)
            abort();
        ys_oci_challenge_free(&c);
    }
    int64_t ms;
    (void)ys_oci_parse_time(s, &ms);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = size ? (const char *)data : "";
    manifests(b, size);
    referrers(b, size);
    tags_and_config(b, size);
    headers(data, size);
    return 0;
}
