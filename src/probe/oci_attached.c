/*
 * oci_attached.c - is a signature, is an SBOM attached to the image the
 * registry probe resolved? Three places are looked at, in the order the
 * OCI distribution spec 1.1 and cosign put things there:
 *
 *   1. the referrers API, GET /v2/<name>/referrers/<digest>: an image
 *      index whose descriptors carry each referrer's artifactType, paged
 *      with Link rel="next" like tags/list;
 *   2. where that answers 404 (a registry without the API, such as
 *      docker-registry 2.8), 400, 405 or 501, or 200 with something other
 *      than an OCI index (a web front end answering every path, as oras-go
 *      also allows for), the spec's fallback, the referrers tag schema: an
 *      index of the same shape tagged sha256-<hex>. oras-go takes only 404
 *      as "no API"; registries and proxies without it answer 400
 *      (UNSUPPORTED, or a digest read as a bad tag), 405 or 501 in the
 *      wild, and none of those says anything about the image, so they fall
 *      back too. Any other status (a 5xx) fails the check;
 *   3. for whatever is still missing, cosign's own tags sha256-<hex>.sig
 *      (a signature), .sbom, else .att, whose manifest is read: it counts
 *      as an SBOM only when a layer's predicateType is SPDX or CycloneDX
 *      (cosign also attests SLSA provenance there, which is no SBOM; that
 *      is kept as the fact "attestation"). cosign writes these tags by
 *      default even to registries with the API. An empty artifact_types
 *      list (signature: [] or sbom: []) skips its cosign tags too.
 *
 * Nothing of this is looked at when require names neither a signature
 * nor an SBOM: a probe that only resolves a tag costs no extra requests,
 * and its facts have no signature, sbom or referrers_api (not checked).
 *
 * The spec's artifact_types say which artifactType counts as which
 * (ys_oci_classify). The request asks the registry to filter
 * (?artifactType=) only when one type is all that counts: the spec takes one
 * type per request, and the answer is classified here either way, since a
 * registry may ignore the filter. Paging stops once both are found.
 *
 * What was found, and how (facts "signature_via"/"sbom_via": "referrers",
 * "referrers-tag", "cosign-tag"), is in struct oci_probe. Loop thread only.
 */
#include "probe/oci_int.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Referrers pages read at most: a digest with more than this many pages of
 * referrers is unusual, and paging stops early once both are found. */
#define MAX_REF_PAGES 20

const char *ys_oci_via_name(enum oci_via v)
{
    switch (v) {
    case VIA_REFERRERS: return "referrers";
    case VIA_REFERRERS_TAG: return "referrers-tag";
    case VIA_COSIGN_TAG: return "cosign-tag";
    case VIA_NONE: break;
    }
    return NULL;
}

/* "sha256:ab.." -> "sha256-ab..", then suffix (".sig") if any: the tag
 * under which the referrers tag schema and cosign store things. */
static char *digest_tag_url(struct oci_probe *p, const char *suffix)
{
    char ref[112];
    snprintf(ref, sizeof ref, "%s%s", p->digest, suffix);
    char *colon = strchr(ref, ':');
    if (colon)
        *colon = '-';
    return ys_oci_manifest_url(p, ref);
}

/* Whether the cosign tag fallback has anything to find: an empty
 * artifact_types list means nothing counts as that kind. */
static bool want_sig_tag(const struct ys_oci_spec *s)
{
    return s->sig_types.n > 0;
}

static bool want_sbom_tag(const struct ys_oci_spec *s)
{
    return s->sbom_types.n > 0;
}

/* The one artifact type that counts, when there is exactly one. */
static const char *single_type(const struct ys_oci_spec *s)
{
    if (s->sig_types.n + s->sbom_types.n == 1)
        return s->sig_types.n ? s->sig_types.v[0] : s->sbom_types.v[0];
    return NULL;
}

static char *referrers_url(struct oci_probe *p)
{
    const struct ys_oci_spec *s = p->spec;
    const char *only = single_type(s);
    if (!only)
        return ys_xasprintf("%s/v2/%s/referrers/%s", s->url, s->repository, p->digest);
    char *q = curl_easy_escape(NULL, only, 0);
    char *url = ys_xasprintf("%s/v2/%s/referrers/%s?artifactType=%s", s->url, s->repository,
                             p->digest, q ? q : "");
    curl_free(q);
    return url;
}

bool ys_oci_attached_next(struct oci_probe *p)
{
    const struct ys_oci_spec *s = p->spec;
    if (!s->require_signature && !s->require_sbom)
        return false; /* not checked: nothing asks for it */
    if (!p->refs_done) {
        ys_oci_request(p, ST_REFERRERS, referrers_url(p), false);
        return true;
    }
    if (!p->sig_done && !p->signature && want_sig_tag(s)) {
        ys_oci_request(p, ST_SIG, digest_tag_url(p, ".sig"), true);
        return true;
    }
    p->sig_done = true;
    if (!p->sbom_done && !p->sbom && want_sbom_tag(s)) {
        ys_oci_request(p, ST_SBOM, digest_tag_url(p, ".sbom"), true);
        return true;
    }
    p->sbom_done = true;
    return false;
}

/* Counts the referrers in the response, found by way via. */
static int take_referrers(struct oci_probe *p, enum oci_via via)
{
    struct ys_oci_referrers refs = {0};
    struct ys_err err = {{0}};
    if (ys_oci_referrers_parse(p->resp.data ? p->resp.data : "", p->resp.len, &refs, &err) < 0) {
        ys_result_fail(&p->super.result, YS_EC_HTTP_STATUS, "%s: %s", ys_oci_url_path(p), err.msg);
        ys_oci_finish(p);
        return YS_EINVAL;
    }
    for (size_t i = 0; i < refs.n; i++) {
        unsigned bits = ys_oci_classify(p->spec, &refs.v[i]);
        if ((bits & YS_OCI_IS_SIGNATURE) && !p->signature) {
            p->signature = true;
            p->sig_via = via;
        }
        if ((bits & YS_OCI_IS_SBOM) && !p->sbom) {
            p->sbom = true;
            p->sbom_via = via;
        }
    }
    ys_oci_referrers_free(&refs);
    return 0;
}

/* Whether the response says it is an OCI image index (parameters aside). */
static bool is_oci_index(const char *ctype)
{
    static const char t[] = "application/vnd.oci.image.index.v1+json";
    return ctype && strncasecmp(ctype, t, sizeof t - 1) == 0 &&
           (ctype[sizeof t - 1] == '\0' || ctype[sizeof t - 1] == ';' ||
            ctype[sizeof t - 1] == ' ');
}

/* Whether the first answer of the referrers API says the registry has
 * none (see the top of the file for why more than 404). */
static bool no_referrers_api(const struct oci_probe *p)
{
    if (p->ref_pages > 0)
        return false; /* it answered page 1: a later error is an error */
    switch (p->status) {
    case 400:
    case 404:
    case 405:
    case 501: return true;
    case 200: return !is_oci_index(p->h_ctype);
    default: return false;
    }
}

/* A page of the referrers API, or its "no such API" that sends us to the
 * tag schema. */
static void on_referrers(struct oci_probe *p)
{
    if (no_referrers_api(p)) {
        p->refs_api = false;
        ys_oci_request(p, ST_REFERRERS_TAG, digest_tag_url(p, ""), false);
        return;
    }
    if (!ys_oci_expect_ok(p, "referrers"))
        return;
    p->refs_api = true;
    if (take_referrers(p, VIA_REFERRERS) < 0)
        return;
    char *next = (p->signature && p->sbom) ? NULL : ys_oci_next_page_url(p);
    if (next && ++p->ref_pages < MAX_REF_PAGES) {
        ys_oci_request(p, ST_REFERRERS, next, false);
        return;
    }
    free(next);
    p->refs_done = true;
    ys_oci_advance(p);
}

static void on_referrers_tag(struct oci_probe *p)
{
    if (p->status != 404) {
        if (!ys_oci_expect_ok(p, "referrers tag"))
            return;
        if (take_referrers(p, VIA_REFERRERS_TAG) < 0)
            return;
    }
    p->refs_done = true;
    ys_oci_advance(p);
}

/* The .att manifest: an SBOM when one of its attestations is SPDX or
 * CycloneDX; else the first predicate type is kept as a fact. */
static int take_att(struct oci_probe *p)
{
    struct ys_strlist preds = {0};
    struct ys_err err = {{0}};
    if (ys_oci_att_parse(p->resp.data ? p->resp.data : "", p->resp.len, &preds, &err) < 0) {
        ys_result_fail(&p->super.result, YS_EC_HTTP_STATUS, "%s: %s", ys_oci_url_path(p), err.msg);
        ys_strlist_free(&preds);
        return YS_EINVAL;
    }
    for (size_t i = 0; i < preds.n && !p->sbom; i++)
        if (ys_oci_sbom_predicate(preds.v[i])) {
            p->sbom = true;
            p->sbom_via = VIA_COSIGN_TAG;
        }
    if (!p->sbom)
        p->att_predicate = ys_xstrdup(preds.n && preds.v[0][0] ? preds.v[0] : "unknown");
    ys_strlist_free(&preds);
    return 0;
}

/* HEAD of .sig and .sbom, GET of .att: 200 present, 404 absent, anything
 * else an error. */
static void on_cosign_tag(struct oci_probe *p)
{
    if (p->status != 200 && p->status != 404) {
        ys_result_fail(&p->super.result, YS_EC_HTTP_STATUS, "HTTP %ld from %s %s", p->status,
                       p->head ? "HEAD" : "GET", ys_oci_url_path(p));
        ys_oci_finish(p);
        return;
    }
    bool found = p->status == 200;
    if (p->step == ST_SIG) {
        p->signature = found;
        p->sig_via = found ? VIA_COSIGN_TAG : VIA_NONE;
        p->sig_done = true;
    } else if (p->step == ST_SBOM && found) {
        p->sbom = true;
        p->sbom_via = VIA_COSIGN_TAG;
        p->sbom_done = true;
    } else if (p->step == ST_SBOM) {
        /* No .sbom: cosign attest's .att may hold one. */
        ys_oci_request(p, ST_ATT, digest_tag_url(p, ".att"), false);
        return;
    } else {
        if (found && take_att(p) < 0) {
            ys_oci_finish(p);
            return;
        }
        p->sbom_done = true;
    }
    ys_oci_advance(p);
}

void ys_oci_on_attached(struct oci_probe *p)
{
    switch (p->step) {
    case ST_REFERRERS: on_referrers(p); break;
    case ST_REFERRERS_TAG: on_referrers_tag(p); break;
    default: on_cosign_tag(p); break;
    }
}

void ys_oci_attached_verdict(struct oci_probe *p)
{
    const struct ys_oci_spec *s = p->spec;
    struct ys_result *r = &p->super.result;
    /* Where we looked, so a person knows what to push where. */
    const char *refs = p->refs_api ? "referrers API" : "referrers tag sha256-<digest>";
    if (s->require_signature && !p->signature)
        ys_result_fail(r, YS_EC_ASSERTION, "%s:%s has no signature (%s, %s.sig)", s->repository,
                       p->tag, refs, "sha256-<digest>");
    /* An .att that holds something else (SLSA provenance) is named, so
     * nobody takes it for the SBOM. */
    if (s->require_sbom && !p->sbom)
        ys_result_fail(r, YS_EC_ASSERTION, "%s:%s has no SBOM (%s, %s.sbom or .att)%s%.80s",
                       s->repository, p->tag, refs, "sha256-<digest>",
                       p->att_predicate ? "; its .att attests " : "",
                       p->att_predicate ? p->att_predicate : "");
}
