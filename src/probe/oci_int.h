/*
 * oci_int.h - private to the registry probe (oci.c, oci_auth.c,
 * oci_attached.c, oci_scan.c): the probe in flight and the functions the
 * steps share with the request chain.
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
    ST_CAND_MANIFEST, /* tag_pattern: a candidate's manifest (a scan lane) */
    ST_CAND_CHILD,    /* its image manifest, when it is an index */
    ST_CAND_CONFIG,   /* its config blob, for `created` */
    ST_MANIFEST,      /* the tag's manifest */
    ST_CONFIG,        /* a single image's config, for its platform */
    ST_REFERRERS,     /* a page of GET /v2/<name>/referrers/<digest> */
    ST_REFERRERS_TAG, /* the referrers tag schema's index, tag sha256-<hex> */
    ST_SIG,           /* HEAD of cosign's sha256-<hex>.sig */
    ST_SBOM,          /* .sbom */
    ST_ATT,           /* GET of .att, read for its predicateType */
};

/* How an attached artifact was found (facts: "signature_via", "sbom_via"). */
enum oci_via { VIA_NONE = 0, VIA_REFERRERS, VIA_REFERRERS_TAG, VIA_COSIGN_TAG };

/* A response body, capped at YS_OCI_MAX_BODY. */
struct oci_buf {
    char *data;
    size_t len, cap;
    bool too_big;
};
#define YS_OCI_MAX_BODY (4 * 1024 * 1024)

/* The scan of tag_pattern's candidates runs this many requests at once. */
#define YS_OCI_LANES 4

struct oci_probe;

/* One candidate being read: manifest, child manifest, config blob. */
struct oci_lane {
    struct oci_probe *p;
    CURL *easy; /* NULL when idle */
    struct curl_slist *hdrs;
    struct oci_buf resp;
    char *url;
    enum step step;
    size_t cand; /* index in p->cands */
};

struct oci_probe {
    struct ys_probe super;
    const struct ys_oci_spec *spec;
    struct ys_curl_multi *multi;
    CURL *easy; /* the main request in flight, NULL between requests */
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
    struct oci_buf resp;
    char *h_auth, *h_digest, *h_link, *h_ctype;
    /* what was learned */
    char *tag; /* the tag judged: spec->tag or the newest candidate */
    char digest[80];
    struct ys_strlist platforms;
    bool manifest_done, config_done, tags_done;
    bool need_config;
    char *config_digest;
    int64_t n_tags;
    unsigned pages;
    /* signature and SBOM (oci_attached.c) */
    bool refs_done; /* the referrers API or its tag schema was read */
    bool refs_api;  /* the registry answered the referrers API */
    unsigned ref_pages;
    bool sig_done, sbom_done; /* the cosign tags were looked at, or need not be */
    bool signature, sbom;
    enum oci_via sig_via, sbom_via;
    char *att_predicate; /* a cosign .att that is no SBOM: its predicateType */
    /* tag_pattern's scan (oci_scan.c) */
    struct ys_strlist cands; /* the matching tags to read, version order */
    size_t n_matching;       /* matching tags before the cap */
    size_t cand_next;        /* the next candidate to start */
    size_t cand_read;        /* candidates finished */
    size_t lanes_busy;
    bool scan_done;
    struct oci_lane lanes[YS_OCI_LANES];
    int64_t best_created_ms;
    char *best_tag;
};

/* An easy handle for url with the probe's headers (into *hdrs, owned by
 * the caller), credentials and TLS options, its body going to buf (reset
 * here); token: the request goes to the token endpoint. NULL when libcurl
 * cannot make one. */
CURL *ys_oci_easy(struct oci_probe *p, const char *url, bool head, bool token,
                  struct curl_slist **hdrs, struct oci_buf *buf);
void ys_oci_buf_free(struct oci_buf *b);
/* Starts a request for url (the main one, or the token request while
 * p->in_token), with the headers and credentials the probe has. */
void ys_oci_issue(struct oci_probe *p, const char *url);
/* Starts the main request of step st on url (taken). */
void ys_oci_request(struct oci_probe *p, enum step st, char *url, bool head);
/* Starts the next request the spec still needs, or ends with a verdict. */
void ys_oci_advance(struct oci_probe *p);
/* Ends the chain: the result as it stands goes to done. */
void ys_oci_finish(struct oci_probe *p);
/* The path (and query) of the request in flight, for messages. */
const char *ys_oci_url_path(const struct oci_probe *p);
/* The path of url, for messages. */
const char *ys_oci_path_of(const char *url);
/* Owned URLs of /v2/<name>/manifests/<ref> and /v2/<name>/blobs/<digest>. */
char *ys_oci_manifest_url(struct oci_probe *p, const char *ref);
char *ys_oci_blob_url(struct oci_probe *p, const char *digest);
/* The next page from the Link header of the main response, owned, or NULL. */
char *ys_oci_next_page_url(struct oci_probe *p);
/* Fails the probe unless the main response is 200; what names it. */
bool ys_oci_expect_ok(struct oci_probe *p, const char *what);
void ys_oci_strlist_push(struct ys_strlist *l, char *s);

/* A 401 on the main request: follows the challenge once (oci_auth.c). */
void ys_oci_challenged(struct oci_probe *p);
/* The token request answered: retries the main request with it. */
void ys_oci_got_token(struct oci_probe *p);

/* oci_attached.c: starts the next request for the signature and SBOM and
 * returns true, or returns false when everything is known. */
bool ys_oci_attached_next(struct oci_probe *p);
/* A response to ST_REFERRERS, ST_REFERRERS_TAG, ST_SIG, ST_SBOM, ST_ATT. */
void ys_oci_on_attached(struct oci_probe *p);
/* The verdict on require: signature / sbom, naming where it looked. */
void ys_oci_attached_verdict(struct oci_probe *p);
/* "referrers", "referrers-tag", "cosign-tag", or NULL. */
const char *ys_oci_via_name(enum oci_via v);

/* oci_scan.c: keeps the max_tags_inspected highest candidates. */
void ys_oci_scan_trim(struct oci_probe *p);
/* Starts reading the candidates, YS_OCI_LANES at a time; advance runs
 * again when all are read (p->scan_done). */
void ys_oci_scan_start(struct oci_probe *p);
/* Stops the lanes' transfers (teardown) and frees their memory. */
void ys_oci_scan_stop(struct oci_probe *p);
void ys_oci_scan_free(struct oci_probe *p);

#endif
