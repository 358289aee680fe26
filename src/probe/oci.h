/*
 * oci.h - the `registry` probe kind: a container image in an OCI
 * distribution (Docker registry v2) repository, seen from the outside.
 *
 *   - { name: api-image, kind: registry, url: "https://ghcr.io",
 *       repository: org/api, tag: v1.2.3,      # or tag_pattern: '^v\d+\.\d+\.\d+$'
 *       platforms: [linux/amd64, linux/arm64], require: [signature, sbom],
 *       max_tags: 500, username: ${U}, password: ${P}, tls: {...} }
 *
 * A probe is a short chain of HTTP requests on the loop's libcurl multi
 * handle, one after another from the done callbacks (oci.c), under one
 * overall timer. Token authentication follows the registry's 401
 * WWW-Authenticate challenge (oci_parse.c). The spec (oci_spec.c) is
 * immutable after parsing and shared by every probe of its check.
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
    int64_t max_tags;          /* -1: not checked */
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

/* The tags of a /v2/<name>/tags/list page appended to out. */
int ys_oci_tags_parse(const char *body, size_t len, struct ys_strlist *out, struct ys_err *err);
/* The target of the rel="next" entry of a Link header
 * (`</v2/x/tags/list?n=100&last=b>; rel="next"`), owned, or NULL. */
char *ys_oci_link_next(const char *link);

#endif
