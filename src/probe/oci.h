/*
 * oci.h - the `registry` probe kind: a container image in an OCI
 * distribution (Docker registry v2) repository, seen from the outside.
 *
 *   - { name: api-image, kind: registry, url: "https://ghcr.io",
 *       repository: org/api, tag: v1.2.3,      # or tag_pattern: '^v\d+\.\d+\.\d+$'
 *       platforms: [linux/amd64, linux/arm64], require: [signature, sbom],
 *       max_tags: 500, max_tags_inspected: 100,
 *       artifact_types: { signature: [...], sbom: [...] },
 *       username: ${U}, password: ${P}, tls: {...} }
 *
 * A probe is a short chain of HTTP requests on the loop's libcurl multi
 * handle, one after another from the done callbacks (oci.c), under one
 * overall timer; only the reading of the candidates of tag_pattern runs a
 * few requests at once (oci_scan.c). Token authentication follows the
 * registry's 401 WWW-Authenticate challenge (oci_auth.c). Signatures and
 * SBOMs are found through the referrers API or its fallbacks
 * (oci_attached.c). The spec (oci_spec.c) is immutable after parsing and
 * shared by every probe of its check.
 */
#ifndef YS_PROBE_OCI_H
#define YS_PROBE_OCI_H

#include "config/read.h"
#include "probe/tls_spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

struct ys_node;
struct ys_check;
struct ys_diag;
struct ys_err;

/* ---- spec (oci_spec.c) ------------------------------------------------- */

struct ys_oci_spec {
    char *url;        /* the registry's base URL, without a trailing '/' */
    char *repository; /* org/api */
    char *tag;        /* NULL when tag_pattern is used */
    char *tag_pattern_text;
    pcre2_code *tag_pattern;     /* exactly one of tag and tag_pattern */
    struct ys_strlist platforms; /* "os/arch[/variant]" each */
    bool require_signature, require_sbom;
    int64_t max_tags;           /* -1: not checked */
    int64_t max_tags_inspected; /* tag_pattern: config blobs read at most */
    /* artifactType values that count as a signature / an SBOM among a
     * subject's referrers (defaults in oci_spec.c; either may be empty). */
    struct ys_strlist sig_types, sbom_types;
    char *username, *password; /* both or neither */
    struct ys_tls_spec tls;
};

extern const char *const ys_oci_keys[];

/* ys_probe_type.parse for registry: an owned struct ys_oci_spec in *spec.
 * Reports every problem with its position; returns 0 or YS_ECONFIG. */
int ys_oci_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                      struct ys_diag *d);
void ys_oci_spec_free(void *spec);

/* ---- response parsing (oci_parse.c), pure, any thread ------------------ */

enum ys_oci_scheme { YS_OCI_AUTH_NONE = 0, YS_OCI_AUTH_BEARER, YS_OCI_AUTH_BASIC };

/* One WWW-Authenticate challenge (RFC 7235): the scheme and, for Bearer,
 * its realm, service and scope parameters (owned; NULL when absent). */
struct ys_oci_challenge {
    enum ys_oci_scheme scheme;
    char *realm, *service, *scope;
};
/* Parses a header value such as `Bearer realm="https://a/token",
 * service="reg",scope="repository:x:pull,push"`. Quoted values may hold
 * commas and backslash escapes. Returns 0, or YS_EINVAL with err saying
 * why (an unknown scheme, Bearer without a realm, bad quoting). */
int ys_oci_challenge_parse(const char *hdr, struct ys_oci_challenge *c, struct ys_err *err);
void ys_oci_challenge_free(struct ys_oci_challenge *c);

/* What a manifest says. An index (OCI image index or Docker manifest
 * list) lists platforms and child digests; an image manifest names its
 * config blob. */
struct ys_oci_manifest {
    bool is_index;
    struct ys_strlist platforms; /* index: "os/arch[/variant]" per child */
    struct ys_strlist children;  /* index: child manifest digests, same order */
    char *config_digest;         /* image manifest: the config blob, owned */
};
/* content_type (may be NULL) is the response's; the body's mediaType
 * wins when present. Returns 0 or YS_EINVAL with err saying why. */
int ys_oci_manifest_parse(const char *body, size_t len, const char *content_type,
                          struct ys_oci_manifest *m, struct ys_err *err);
void ys_oci_manifest_free(struct ys_oci_manifest *m);

/* An image config blob: its platform ("os/arch[/variant]", "" when the
 * blob has no os) and its `created` time in epoch ms (-1 when absent). */
int ys_oci_config_parse(const char *body, size_t len, char *platform, size_t platform_size,
                        int64_t *created_ms, struct ys_err *err);
/* An RFC 3339 time ("2026-11-29T20:17:25.123456789Z", "...+02:00") in
 * epoch ms. Returns 0 or YS_EINVAL. */
int ys_oci_parse_time(const char *s, int64_t *out_ms);

/* One descriptor of a referrers list: the referring manifest's digest,
 * its artifactType and, for a sigstore bundle holding an attestation, the
 * `dev.sigstore.bundle.predicateType` annotation (owned; NULL if absent). */
struct ys_oci_referrer {
    char *digest, *artifact_type, *predicate_type;
};
struct ys_oci_referrers {
    size_t n;
    struct ys_oci_referrer *v;
};
/* Appends the descriptors of an image index, as the referrers API answers
 * (GET /v2/<name>/referrers/<digest>) and as the referrers tag schema
 * stores (tag sha256-<hex>), to out. Returns 0, or YS_EINVAL with err
 * saying why (not an object, no manifests array, a descriptor without a
 * digest); out keeps what it had then. */
int ys_oci_referrers_parse(const char *body, size_t len, struct ys_oci_referrers *out,
                           struct ys_err *err);
void ys_oci_referrers_free(struct ys_oci_referrers *r);

/* Whether an in-toto predicateType names an SBOM: SPDX
 * (https://spdx.dev/Document...) or CycloneDX (https://cyclonedx.org/bom...),
 * not SLSA provenance or a vulnerability scan. NULL is not one. */
bool ys_oci_sbom_predicate(const char *p);
/* The predicate types of a cosign attestation manifest (tag
 * sha256-<hex>.att): one per layer, in order, from the layer annotation
 * "predicateType" that cosign attest writes (else "in-toto.io/predicate-type"),
 * "" for a layer with neither; appended to out. Returns 0, or YS_EINVAL
 * with err saying why (not a manifest with layers). */
int ys_oci_att_parse(const char *body, size_t len, struct ys_strlist *out, struct ys_err *err);

enum { YS_OCI_IS_SIGNATURE = 1, YS_OCI_IS_SBOM = 2 };
/* What a referrer counts as under the spec's artifact types: a bit set of
 * YS_OCI_IS_*. Media types compare without parameters and case. A sigstore
 * bundle with a predicateType holds an attestation, not a signature: it
 * counts as an SBOM when the predicate is SPDX or CycloneDX. */
unsigned ys_oci_classify(const struct ys_oci_spec *s, const struct ys_oci_referrer *r);

/* The tags of a /v2/<name>/tags/list page appended to out. */
int ys_oci_tags_parse(const char *body, size_t len, struct ys_strlist *out, struct ys_err *err);
/* The target of the rel="next" entry of a Link header
 * (`</v2/x/tags/list?n=100&last=b>; rel="next"`), owned, or NULL. */
char *ys_oci_link_next(const char *link);

#endif
