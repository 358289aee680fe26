/*
 * oci_int.h - private to the registry probe (oci.c, oci_auth.c): the
 * probe in flight and the functions the authentication steps share with
 * the request chain.
 */
#ifndef YS_PROBE_OCI_INT_H
#define YS_PROBE_OCI_INT_H

#include "probe/curl_multi.h"
#include "probe/oci.h"
#include "probe/probe.h"

#include <stdbool.h>
#include <stdint.h>

enum step {
    ST_TOKEN,
    ST_TAGS,          /* a page of tags/list */
    ST_CAND_MANIFEST, /* tag_pattern: a candidate's manifest */
    ST_CAND_CHILD,    /* its image manifest, when it is an index */
    ST_CAND_CONFIG,   /* its config blob, for `created` */
    ST_MANIFEST,      /* the tag's manifest */
    ST_CONFIG,        /* a single image's config, for its platform */
    ST_SIG,
    ST_SBOM,
    ST_ATT,
};

struct oci_probe {
    struct ys_probe super;
    const struct ys_oci_spec *spec;
    struct ys_curl_multi *multi;
    CURL *easy; /* the request in flight, NULL between requests */
    struct curl_slist *hdrs;
    uv_timer_t timer;
    bool over;
    int closing;
    /* the current request */
    enum step step; /* what the main request is for */
    char *url;      /* its URL, kept to retry after authentication */
    bool head;
    bool in_token; /* the request in flight is the token request */
    char *token_url;
    char *bearer;   /* "Authorization: Bearer ..." once we have a token */
    bool use_basic; /* send the credentials on every request */
    bool auth_tried;
    /* the response */
    long status;
    char *body;
    size_t body_len, body_cap;
    bool too_big;
    char *h_auth, *h_digest, *h_link, *h_ctype;
    /* what was learned */
    char *tag; /* the tag judged: spec->tag or the newest candidate */
    char digest[80];
    struct ys_strlist platforms;
    bool manifest_done, config_done, tags_done, sig_done, sbom_done;
    bool need_config;
    char *config_digest;
    int64_t n_tags;
    unsigned pages;
    bool signature, sbom;
    struct ys_strlist cands;
    size_t cand_i;
    int64_t best_created_ms;
    char *best_tag;
};

/* Starts a request for url (the main one, or the token request while
 * p->in_token), with the headers and credentials the probe has. */
void ys_oci_issue(struct oci_probe *p, const char *url);
/* Ends the chain: the result as it stands goes to done. */
void ys_oci_finish(struct oci_probe *p);
/* The path (and query) of the request in flight, for messages. */
const char *ys_oci_url_path(const struct oci_probe *p);
/* A 401 on the main request: follows the challenge once (oci_auth.c). */
void ys_oci_challenged(struct oci_probe *p);
/* The token request answered: retries the main request with it. */
void ys_oci_got_token(struct oci_probe *p);

#endif
