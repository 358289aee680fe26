/*
 * oci.c - the `registry` probe kind (see oci.h): does a tag resolve, does
 * its index cover the required platforms, are a signature and an SBOM
 * attached, how many tags are there, and how old is the newest tag
 * matching a pattern.
 *
 * A probe (struct oci_probe, base first as `super`) is a chain of HTTP
 * requests through the loop's libcurl multi handle, one at a time (but
 * for the tag_pattern scan's lanes, oci_scan.c): each done callback
 * handles its response and starts the next (ys_oci_advance()). One
 * uv_timer_t bounds the whole chain by check->timeout_ms, and also defers
 * a failure found while starting a request, so done never runs before
 * start has returned.
 *
 * Authentication (oci_auth.c) is what registries do: a request answered 401 with a
 * `Bearer realm=..,service=..,scope=..` challenge sends the client to the
 * realm for a token (with basic credentials if the check has them), and
 * the request is retried with it; a Basic challenge gets the credentials
 * directly. The token is kept for the rest of the probe only (scope
 * repository:<name>:pull covers every request here).
 *
 * Signatures and SBOMs (oci_attached.c) are found through the OCI
 * referrers API, its referrers tag schema where the registry lacks the
 * API, and cosign's tags sha256-<hex>.sig, .sbom and .att.
 *
 * With tag_pattern, every tag is listed (Link pagination), and the
 * config blobs of the matching ones (up to max_tags_inspected, the highest
 * by version order) are read a few at a time (oci_scan.c) for their
 * `created`; the newest becomes the probe's tag.
 *
 * A failed condition (a missing platform, too many tags, no signature)
 * does not stop the chain, so the facts stay complete; the message names
 * the first one. Transport and HTTP errors stop it. Loop thread only.
 */
#include "probe/curl_multi.h"
#include "probe/oci.h"
#include "probe/oci_int.h"
#include "probe/probe.h"

#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define MAX_TAG_PAGES 100

static const char accept_manifests[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                       "application/vnd.docker.distribution.manifest.list.v2+json, "
                                       "application/vnd.oci.image.manifest.v1+json, "
                                       "application/vnd.docker.distribution.manifest.v2+json";

extern const struct ys_probe_type ys_probe_registry;

static void write_facts(struct oci_probe *p);

/* ---- lifecycle ------------------------------------------------------------- */

static void free_response(struct oci_probe *p)
{
    free(p->h_auth);
    free(p->h_digest);
    free(p->h_link);
    free(p->h_ctype);
    p->h_auth = p->h_digest = p->h_link = p->h_ctype = NULL;
    p->resp.len = 0;
    p->resp.too_big = false;
}

void ys_oci_buf_free(struct oci_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void maybe_free(struct oci_probe *p)
{
    if (!p->over || p->closing)
        return;
    free_response(p);
    ys_oci_buf_free(&p->resp);
    ys_oci_scan_free(p);
    free(p->url);
    free(p->token_url);
    free(p->bearer);
    free(p->tag);
    free(p->config_digest);
    free(p->best_tag);
    free(p->att_predicate);
    ys_strlist_free(&p->platforms);
    ys_strlist_free(&p->cands);
    free(p);
}

static void on_close(uv_handle_t *h)
{
    struct oci_probe *p = h->data;
    p->closing--;
    maybe_free(p);
}

static void drop_easy(struct oci_probe *p)
{
    if (p->easy) {
        ys_curl_multi_remove(p->multi, p->easy);
        ys_curl_multi_easy_put(p->multi, p->easy);
        p->easy = NULL;
    }
    curl_slist_free_all(p->hdrs);
    p->hdrs = NULL;
}

static void teardown(struct oci_probe *p)
{
    p->over = true;
    drop_easy(p);
    ys_oci_scan_stop(p);
    uv_timer_stop(&p->timer);
    p->closing++;
    uv_close((uv_handle_t *)&p->timer, on_close);
}

void ys_oci_finish(struct oci_probe *p)
{
    if (p->over)
        return;
    /* What was learned before a failure is still worth showing. */
    if (p->digest[0] || p->tags_done)
        write_facts(p);
    ys_probe_base_finish(&p->super);
    teardown(p);
}

static void on_timeout(uv_timer_t *t)
{
    struct oci_probe *p = t->data;
    char limit[32];
    ys_duration_format(p->super.check->timeout_ms, limit, sizeof limit);
    if (p->easy)
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT, "timed out after %s waiting for %s", limit,
                       ys_oci_url_path(p));
    else if (p->lanes_busy)
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT,
                       "timed out after %s reading the tags matching %s (%zu of %zu read)", limit,
                       p->spec->tag_pattern_text, p->cand_read, p->cands.n);
    else
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT, "timed out after %s", limit);
    ys_oci_finish(p);
}

static void on_deferred(uv_timer_t *t)
{
    ys_oci_finish(t->data);
}

/* Ends the probe after this callback returns (never inside start). */
static void end_soon(struct oci_probe *p)
{
    uv_timer_stop(&p->timer);
    uv_timer_start(&p->timer, on_deferred, 0, 0);
}

/* ---- requests -------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct oci_buf *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > YS_OCI_MAX_BODY) {
        b->too_big = true;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 8192;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = ys_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static void set_tls(CURL *e, const struct ys_tls_spec *t)
{
    if (t->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
    if (t->cert_file)
        curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert_file);
    if (t->key_file)
        curl_easy_setopt(e, CURLOPT_SSLKEY, t->key_file);
    if (t->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static void on_response(CURL *easy, CURLcode code, void *arg);

CURL *ys_oci_easy(struct oci_probe *p, const char *url, bool head, bool token,
                  struct curl_slist **hdrs, struct oci_buf *buf)
{
    const struct ys_oci_spec *s = p->spec;
    buf->len = 0;
    buf->too_big = false;
    CURL *e = ys_curl_multi_easy_get(p->multi);
    if (!e)
        return NULL;
    *hdrs = curl_slist_append(NULL, "User-Agent: yardstick/" YS_VERSION);
    if (!token) {
        *hdrs = curl_slist_append(*hdrs, accept_manifests);
        if (p->bearer)
            *hdrs = curl_slist_append(*hdrs, p->bearer);
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* A backstop only: the probe's timer bounds the whole chain. */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->super.check->timeout_ms + 1000);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* Blobs are often redirected to object storage; libcurl does not carry
     * our Authorization header to another host. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, buf);
    if (!token && head)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (s->username && (token || p->use_basic)) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, s->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, s->password);
    }
    set_tls(e, &s->tls);
    return e;
}

/* Sends url (the main request's or the token endpoint's). A failure to
 * start ends the probe on the next loop turn. */
void ys_oci_issue(struct oci_probe *p, const char *url)
{
    free_response(p);
    CURL *e = ys_oci_easy(p, url, p->head, p->in_token, &p->hdrs, &p->resp);
    if (!e) {
        ys_result_fail(&p->super.result, YS_EC_INTERNAL, "curl: cannot allocate a handle");
        end_soon(p);
        return;
    }
    p->easy = e;
    if (ys_curl_multi_add(p->multi, e, on_response, p) < 0) {
        ys_curl_multi_easy_put(p->multi, e);
        p->easy = NULL;
        ys_result_fail(&p->super.result, YS_EC_INTERNAL, "curl: cannot start a request");
        end_soon(p);
    }
}

void ys_oci_request(struct oci_probe *p, enum step st, char *url, bool head)
{
    p->step = st;
    free(p->url);
    p->url = url;
    p->head = head;
    p->in_token = false;
    ys_oci_issue(p, url);
}

char *ys_oci_manifest_url(struct oci_probe *p, const char *ref)
{
    return ys_xasprintf("%s/v2/%s/manifests/%s", p->spec->url, p->spec->repository, ref);
}

char *ys_oci_blob_url(struct oci_probe *p, const char *digest)
{
    return ys_xasprintf("%s/v2/%s/blobs/%s", p->spec->url, p->spec->repository, digest);
}

const char *ys_oci_path_of(const char *u)
{
    const char *h = strstr(u, "://");
    const char *path = h ? strchr(h + 3, '/') : NULL;
    return path ? path : u;
}

/* The request's path, for messages: "/v2/org/api/manifests/v1". */
const char *ys_oci_url_path(const struct oci_probe *p)
{
    return ys_oci_path_of(p->in_token ? p->token_url : p->url);
}

static char *copy_header(CURL *e, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
        return NULL;
    return ys_xstrdup(h->value);
}

static void transport_failed(struct oci_probe *p, CURL *e, CURLcode code)
{
    const char *eb = ys_curl_multi_errbuf(e);
    const char *why = eb[0] ? eb : curl_easy_strerror(code);
    enum ys_errclass ec = YS_EC_CONNECT;
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST: ec = YS_EC_DNS; break;
    case CURLE_OPERATION_TIMEDOUT: ec = YS_EC_TIMEOUT; break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE: ec = YS_EC_TLS; break;
    default: break;
    }
    ys_result_fail(&p->super.result, ec, "%s %s: %s", p->in_token ? "token" : "GET",
                   ys_oci_url_path(p), why);
}

/* ---- conditions ---------------------------------------------------------------- */

/* "linux/arm64" is covered by linux/arm64 and linux/arm64/v8; a variant
 * asked for must match. */
static bool platform_covers(const char *have, const char *want)
{
    size_t n = strlen(want);
    bool want_variant = strchr(strchr(want, '/') + 1, '/') != NULL;
    if (strncmp(have, want, n) != 0)
        return false;
    return have[n] == '\0' || (have[n] == '/' && !want_variant);
}

static void check_platforms(struct oci_probe *p)
{
    for (size_t i = 0; i < p->spec->platforms.n; i++) {
        const char *want = p->spec->platforms.v[i];
        bool found = false;
        for (size_t j = 0; j < p->platforms.n && !found; j++)
            found = platform_covers(p->platforms.v[j], want);
        if (!found) {
            ys_result_fail(&p->super.result, YS_EC_ASSERTION, "%s:%s lacks platform %s",
                           p->spec->repository, p->tag, want);
            return;
        }
    }
}

void ys_oci_strlist_push(struct ys_strlist *l, char *s)
{
    l->v = ys_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = s;
}

/* The sha256 of the body, when a registry sends no Docker-Content-Digest. */
static void body_digest(struct oci_probe *p)
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(p->resp.data ? p->resp.data : "", p->resp.len, md, &n, EVP_sha256(), NULL);
    int o = snprintf(p->digest, sizeof p->digest, "sha256:");
    for (unsigned i = 0; i < n && i < 32; i++)
        o += snprintf(p->digest + o, sizeof p->digest - (size_t)o, "%02x", md[i]);
}

/* ---- step handlers ------------------------------------------------------------- */

bool ys_oci_expect_ok(struct oci_probe *p, const char *what)
{
    if (p->status == 200)
        return true;
    ys_result_fail(&p->super.result, YS_EC_HTTP_STATUS, "%s: HTTP %ld from %s", what, p->status,
                   ys_oci_url_path(p));
    ys_oci_finish(p);
    return false;
}

/* Moves the tags of page that tag_pattern matches to the candidates. */
static void keep_matching(struct oci_probe *p, struct ys_strlist *page)
{
    const pcre2_code *re = p->spec->tag_pattern;
    if (!re)
        return;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    for (size_t i = 0; i < page->n; i++) {
        const char *t = page->v[i];
        if (pcre2_match(re, (PCRE2_SPTR)t, strlen(t), 0, 0, md, NULL) >= 0) {
            ys_oci_strlist_push(&p->cands, page->v[i]);
            page->v[i] = NULL;
        }
    }
    pcre2_match_data_free(md);
}

/* The URL of the next page from the Link header (usually a path, resolved
 * against this page's URL), owned, or NULL on the last page. */
char *ys_oci_next_page_url(struct oci_probe *p)
{
    char *next = p->h_link ? ys_oci_link_next(p->h_link) : NULL;
    if (!next)
        return NULL;
    CURLU *u = curl_url();
    char *abs = NULL, *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, p->url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, next, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &abs, 0) == CURLUE_OK)
        out = ys_xstrdup(abs);
    curl_free(abs);
    curl_url_cleanup(u);
    free(next);
    return out;
}

static void on_tags(struct oci_probe *p)
{
    struct ys_err err = {{0}};
    struct ys_result *r = &p->super.result;
    if (p->status == 404) {
        ys_result_fail(r, YS_EC_ASSERTION, "repository %s not found", p->spec->repository);
        ys_oci_finish(p);
        return;
    }
    if (!ys_oci_expect_ok(p, "tag list"))
        return;
    struct ys_strlist page = {0};
    if (ys_oci_tags_parse(p->resp.data ? p->resp.data : "", p->resp.len, &page, &err) < 0) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "%s: %s", ys_oci_url_path(p), err.msg);
        ys_oci_finish(p);
        return;
    }
    p->n_tags += (int64_t)page.n;
    keep_matching(p, &page);
    ys_strlist_free(&page);
    char *next = ys_oci_next_page_url(p);
    if (next && ++p->pages < MAX_TAG_PAGES) {
        ys_oci_request(p, ST_TAGS, next, false);
        return;
    }
    if (next)
        ys_result_fail(r, YS_EC_ASSERTION, "%s has more than %d pages of tags (counted %lld)",
                       p->spec->repository, MAX_TAG_PAGES, (long long)p->n_tags);
    free(next);
    p->tags_done = true;
    ys_oci_scan_trim(p);
    if (p->spec->max_tags >= 0 && p->n_tags > p->spec->max_tags)
        ys_result_fail(r, YS_EC_ASSERTION, "%s has %lld tags, more than max_tags %lld",
                       p->spec->repository, (long long)p->n_tags, (long long)p->spec->max_tags);
    ys_oci_advance(p);
}

static void on_manifest(struct oci_probe *p)
{
    struct ys_err err = {{0}};
    if (p->status == 404) {
        ys_result_fail(&p->super.result, YS_EC_ASSERTION, "tag not found: %s:%s",
                       p->spec->repository, p->tag);
        ys_oci_finish(p);
        return;
    }
    if (!ys_oci_expect_ok(p, p->tag))
        return;
    if (p->h_digest && strlen(p->h_digest) < sizeof p->digest)
        snprintf(p->digest, sizeof p->digest, "%s", p->h_digest);
    else
        body_digest(p);
    struct ys_oci_manifest m;
    const char *body = p->resp.data ? p->resp.data : "";
    if (ys_oci_manifest_parse(body, p->resp.len, p->h_ctype, &m, &err) < 0) {
        ys_result_fail(&p->super.result, YS_EC_HTTP_STATUS, "%s: %s", ys_oci_url_path(p), err.msg);
        ys_oci_finish(p);
        return;
    }
    p->manifest_done = true;
    if (m.is_index) {
        p->platforms = m.platforms;
        m.platforms = (struct ys_strlist){0};
        check_platforms(p);
    } else {
        /* A single image: its platform is in its config blob. */
        p->config_digest = m.config_digest;
        m.config_digest = NULL;
        p->need_config = true;
    }
    ys_oci_manifest_free(&m);
    ys_oci_advance(p);
}

static void on_config(struct oci_probe *p)
{
    struct ys_err err = {{0}};
    if (!ys_oci_expect_ok(p, "config blob"))
        return;
    char plat[64];
    int64_t created;
    if (ys_oci_config_parse(p->resp.data ? p->resp.data : "", p->resp.len, plat, sizeof plat,
                            &created, &err) < 0) {
        ys_result_fail(&p->super.result, YS_EC_HTTP_STATUS, "%s: %s", ys_oci_url_path(p), err.msg);
        ys_oci_finish(p);
        return;
    }
    if (plat[0])
        ys_oci_strlist_push(&p->platforms, ys_xstrdup(plat));
    p->config_done = true;
    check_platforms(p);
    ys_oci_advance(p);
}

/* Whether this response's status is the result's: the tag manifest's, or
 * one that ends the probe. A 404 for an absent .sig, or from a registry
 * without the referrers API, is neither. */
static bool status_counts(const struct oci_probe *p)
{
    if (p->in_token)
        return p->status != 200;
    if (p->step == ST_REFERRERS || p->step == ST_REFERRERS_TAG || p->step == ST_SIG ||
        p->step == ST_SBOM || p->step == ST_ATT)
        return p->status != 200 && p->status != 404;
    return p->step == ST_MANIFEST || p->status != 200;
}

static void on_response(CURL *easy, CURLcode code, void *arg)
{
    struct oci_probe *p = arg;
    p->status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &p->status);
    p->h_auth = copy_header(easy, "WWW-Authenticate");
    p->h_digest = copy_header(easy, "Docker-Content-Digest");
    p->h_link = copy_header(easy, "Link");
    p->h_ctype = copy_header(easy, "Content-Type");
    if (code != CURLE_OK && !p->resp.too_big)
        transport_failed(p, easy, code);
    ys_curl_multi_easy_put(p->multi, easy);
    p->easy = NULL;
    curl_slist_free_all(p->hdrs);
    p->hdrs = NULL;
    struct ys_result *r = &p->super.result;
    if (status_counts(p))
        r->status = (uint16_t)(p->status > 0 && p->status < 1000 ? p->status : 0);
    r->bytes += (int64_t)p->resp.len;
    if (p->resp.too_big)
        ys_result_fail(r, YS_EC_HTTP_STATUS, "%s: response larger than 4 MiB", ys_oci_url_path(p));
    if (code != CURLE_OK || p->resp.too_big) {
        ys_oci_finish(p);
        return;
    }
    if (p->in_token) {
        ys_oci_got_token(p);
        return;
    }
    if (p->status == 401) {
        ys_oci_challenged(p);
        return;
    }
    switch (p->step) {
    case ST_TAGS: on_tags(p); break;
    case ST_MANIFEST: on_manifest(p); break;
    case ST_CONFIG: on_config(p); break;
    case ST_REFERRERS:
    case ST_REFERRERS_TAG:
    case ST_SIG:
    case ST_SBOM:
    case ST_ATT: ys_oci_on_attached(p); break;
    case ST_CAND_MANIFEST: /* the scan's lanes have their own callback */
    case ST_CAND_CHILD:
    case ST_CAND_CONFIG:
    case ST_TOKEN: break;
    }
}

/* ---- the chain ------------------------------------------------------------------ */

static char *facts_text(struct oci_probe *p, int detail)
{
    json_t *o = json_object();
    if (p->spec->tag_pattern && p->tag)
        json_object_set_new(o, "tag", json_string(p->tag));
    if (p->digest[0])
        json_object_set_new(o, "digest", json_string(p->digest));
    if (detail >= 2) {
        json_t *pl = json_array();
        for (size_t i = 0; i < p->platforms.n; i++)
            json_array_append_new(pl, json_string(p->platforms.v[i]));
        json_object_set_new(o, "platforms", pl);
    } else {
        json_object_set_new(o, "platforms", json_integer((json_int_t)p->platforms.n));
        json_object_set_new(o, "more", json_true());
    }
    if (p->tags_done)
        json_object_set_new(o, "tags", json_integer(p->n_tags));
    if (p->tags_done && p->spec->tag_pattern && detail >= 1) {
        json_object_set_new(o, "matching", json_integer((json_int_t)p->n_matching));
        json_object_set_new(o, "inspected", json_integer((json_int_t)p->cand_read));
    }
    if (p->sig_done)
        json_object_set_new(o, "signature", json_boolean(p->signature));
    if (p->sig_via && detail >= 1)
        json_object_set_new(o, "signature_via", json_string(ys_oci_via_name(p->sig_via)));
    if (p->sbom_done)
        json_object_set_new(o, "sbom", json_boolean(p->sbom));
    if (p->sbom_via && detail >= 1)
        json_object_set_new(o, "sbom_via", json_string(ys_oci_via_name(p->sbom_via)));
    if (p->att_predicate && detail >= 1)
        json_object_set_new(o, "attestation", json_string(p->att_predicate));
    if (p->refs_done && detail >= 1)
        json_object_set_new(o, "referrers_api", json_boolean(p->refs_api));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

/* {"tag","digest","platforms":[...],"tags":N,"matching":N,"inspected":N,
 * "signature":b,"signature_via":..,"sbom":b,"sbom_via":..,"attestation":..,
 * "referrers_api":b} (no signature, sbom nor referrers_api when neither is
 * required: not looked at);
 * when the whole does not fit, the platform list gives way to its length,
 * then the details (matching, inspected, *_via, referrers_api) go. */
static void write_facts(struct oci_probe *p)
{
    for (int detail = 2; detail >= 0; detail--) {
        char *text = facts_text(p, detail);
        bool fits = text && strlen(text) < sizeof p->super.result.facts;
        if (fits)
            memcpy(p->super.result.facts, text, strlen(text) + 1);
        free(text);
        if (fits)
            return;
    }
}

static void verdict(struct oci_probe *p)
{
    struct ys_result *r = &p->super.result;
    ys_oci_attached_verdict(p);
    if (p->spec->tag_pattern) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        int64_t now_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
        r->value = (double)(now_ms - p->best_created_ms) / 1000.0;
        r->flags |= YS_RF_HAS_VALUE;
        /* A scan the cap cut may have missed a newer tag: say so. */
        if (r->ok && p->n_matching > p->cands.n)
            snprintf(r->message, sizeof r->message,
                     "newest of the %zu highest-version tags matching %s; %zu more were not read "
                     "(max_tags_inspected %lld)",
                     p->cands.n, p->spec->tag_pattern_text, p->n_matching - p->cands.n,
                     (long long)p->spec->max_tags_inspected);
    } else if (p->tags_done) {
        r->value = (double)p->n_tags;
        r->flags |= YS_RF_HAS_VALUE;
    }
    ys_oci_finish(p);
}

void ys_oci_advance(struct oci_probe *p)
{
    const struct ys_oci_spec *s = p->spec;
    if ((s->tag_pattern || s->max_tags >= 0) && !p->tags_done &&
        (s->tag_pattern || p->manifest_done)) {
        ys_oci_request(p, ST_TAGS, ys_xasprintf("%s/v2/%s/tags/list?n=1000", s->url, s->repository),
                       false);
        return;
    }
    if (s->tag_pattern && !p->tag) {
        if (!p->scan_done) {
            ys_oci_scan_start(p);
            return;
        }
        if (!p->best_tag) {
            if (p->cands.n)
                ys_result_fail(&p->super.result, YS_EC_ASSERTION,
                               "%zu tags of %s match %s, but none has a created time in its "
                               "image config",
                               p->n_matching, s->repository, s->tag_pattern_text);
            else
                ys_result_fail(&p->super.result, YS_EC_ASSERTION, "no tag of %s matches %s",
                               s->repository, s->tag_pattern_text);
            ys_oci_finish(p);
            return;
        }
        p->tag = ys_xstrdup(p->best_tag);
    }
    if (!p->manifest_done) {
        ys_oci_request(p, ST_MANIFEST, ys_oci_manifest_url(p, p->tag), false);
        return;
    }
    if (p->need_config && !p->config_done && s->platforms.n) {
        ys_oci_request(p, ST_CONFIG, ys_oci_blob_url(p, p->config_digest), false);
        return;
    }
    if (ys_oci_attached_next(p))
        return;
    verdict(p);
}

/* ---- the type ------------------------------------------------------------------- */

static int oci_start(struct ys_probe_env *env, const struct ys_check *check, ys_probe_done_cb done,
                     void *arg, struct ys_probe **out)
{
    struct oci_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_registry, check, done, arg);
    p->spec = check->spec;
    p->multi = env->curl;
    p->best_created_ms = -1;
    if (p->spec->tag)
        p->tag = ys_xstrdup(p->spec->tag);
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    /* As in freshness.c: the loop's clock may be stale by a millisecond. */
    uv_update_time(env->loop);
    uv_timer_start(&p->timer, on_timeout, (uint64_t)check->timeout_ms + 1, 0);
    ys_oci_advance(p);
    *out = &p->super;
    return 0;
}

static void oci_cancel(struct ys_probe *probe)
{
    struct oci_probe *p = (struct oci_probe *)probe;
    if (p->over)
        return;
    p->super.done = NULL;
    teardown(p);
}

const struct ys_probe_type ys_probe_registry = {
    .name = "registry",
    .keys = ys_oci_keys,
    .parse = ys_oci_spec_parse,
    .free_spec = ys_oci_spec_free,
    .start = oci_start,
    .cancel = oci_cancel,
};
