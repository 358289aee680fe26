/*
 * oci_scan.c - finding the newest tag that matches tag_pattern: the
 * `created` time in each matching tag's image config. A tag's name says
 * nothing reliable about its age (date stamps, build numbers, a patch
 * release made after a minor one), so every matching tag is read, up to
 * max_tags_inspected; past the cap the highest by version order are read
 * and the result says the scan was cut.
 *
 * Each candidate is a chain of two or three GETs: its manifest, the
 * linux/amd64 (else the first) image of an index, the config blob. Up to
 * YS_OCI_LANES candidates are read at once on the loop's libcurl multi
 * handle, each lane with its own easy handle and body buffer; when a lane
 * finishes a candidate it takes the next. The token (or basic
 * credentials) was learned on the tag list, so the lanes do not follow
 * challenges: a 401 here is an error, as is any status but 200, except a
 * 404 for a tag's manifest (deleted since the listing: it is skipped).
 * When the last lane is idle the chain goes on (ys_oci_advance).
 *
 * Equal `created` times are broken by version order, so the answer does not
 * depend on which lane finished first. Loop thread only.
 */
/* strverscmp is GNU: the build defines _GNU_SOURCE. */
#include "probe/oci_int.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int version_cmp(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

void ys_oci_scan_trim(struct oci_probe *p)
{
    struct ys_strlist *c = &p->cands;
    size_t cap = (size_t)p->spec->max_tags_inspected;
    p->n_matching = c->n;
    if (c->n < 2)
        return;
    qsort(c->v, c->n, sizeof *c->v, version_cmp);
    size_t drop = c->n > cap ? c->n - cap : 0;
    for (size_t i = 0; i < drop; i++)
        free(c->v[i]);
    memmove(c->v, c->v + drop, (c->n - drop) * sizeof *c->v);
    c->n -= drop;
}

static void on_lane_response(CURL *easy, CURLcode code, void *arg);

static void lane_request(struct oci_lane *l, enum step st, char *url)
{
    struct oci_probe *p = l->p;
    free(l->url);
    l->url = url;
    l->step = st;
    CURL *e = ys_oci_easy(p, url, false, false, &l->hdrs, &l->resp);
    if (e && ys_curl_multi_add(p->multi, e, on_lane_response, l) == 0) {
        l->easy = e;
        return;
    }
    if (e)
        ys_curl_multi_easy_put(p->multi, e);
    curl_slist_free_all(l->hdrs);
    l->hdrs = NULL;
    p->lanes_busy--;
    ys_result_fail(&p->super.result, YS_EC_INTERNAL, "curl: cannot start a request");
    /* Never inside start: the scan begins from a done callback. */
    ys_oci_finish(p);
}

/* Starts the next candidate on l, or leaves it idle; the last lane to go
 * idle moves the chain on. */
static void lane_next(struct oci_lane *l)
{
    struct oci_probe *p = l->p;
    if (p->cand_next < p->cands.n) {
        l->cand = p->cand_next++;
        lane_request(l, ST_CAND_MANIFEST, ys_oci_manifest_url(p, p->cands.v[l->cand]));
        return;
    }
    p->lanes_busy--;
    if (p->lanes_busy == 0) {
        p->scan_done = true;
        ys_oci_advance(p);
    }
}

/* Keeps the newest; ties go to the higher version. */
static void consider(struct oci_probe *p, const char *tag, int64_t created)
{
    if (created < 0)
        return;
    if (p->best_tag && (created < p->best_created_ms ||
                        (created == p->best_created_ms && strverscmp(tag, p->best_tag) < 0)))
        return;
    free(p->best_tag);
    p->best_tag = ys_xstrdup(tag);
    p->best_created_ms = created;
}

/* A 200 answer for l's candidate: the next request of its chain, or done. */
static void lane_step(struct oci_lane *l, const char *ctype)
{
    struct oci_probe *p = l->p;
    struct ys_err err = {{0}};
    const char *tag = p->cands.v[l->cand];
    const char *body = l->resp.data ? l->resp.data : "";
    if (l->step == ST_CAND_CONFIG) {
        char plat[64];
        int64_t created = -1;
        if (ys_oci_config_parse(body, l->resp.len, plat, sizeof plat, &created, &err) == 0)
            consider(p, tag, created);
        p->cand_read++;
        lane_next(l);
        return;
    }
    struct ys_oci_manifest m;
    if (ys_oci_manifest_parse(body, l->resp.len, ctype, &m, &err) < 0) {
        ys_result_fail(&p->super.result, YS_EC_HTTP_STATUS, "%s: %s", ys_oci_path_of(l->url),
                       err.msg);
        ys_oci_finish(p);
        return;
    }
    char *url = NULL;
    if (m.is_index && m.children.n > 0 && l->step == ST_CAND_MANIFEST) {
        size_t pick = 0;
        for (size_t i = 0; i < m.platforms.n; i++)
            if (strcmp(m.platforms.v[i], "linux/amd64") == 0)
                pick = i;
        url = ys_oci_manifest_url(p, m.children.v[pick]);
        ys_oci_manifest_free(&m);
        lane_request(l, ST_CAND_CHILD, url);
        return;
    }
    if (!m.is_index && m.config_digest)
        url = ys_oci_blob_url(p, m.config_digest);
    ys_oci_manifest_free(&m);
    if (url) {
        lane_request(l, ST_CAND_CONFIG, url);
        return;
    }
    /* An empty index, or an index of indexes: no config to read. */
    p->cand_read++;
    lane_next(l);
}

static void on_lane_response(CURL *easy, CURLcode code, void *arg)
{
    struct oci_lane *l = arg;
    struct oci_probe *p = l->p;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    struct curl_header *h = NULL;
    char *ctype = NULL;
    if (curl_easy_header(easy, "Content-Type", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h)
        ctype = ys_xstrdup(h->value);
    struct ys_result *r = &p->super.result;
    if (code != CURLE_OK && !l->resp.too_big) {
        const char *eb = ys_curl_multi_errbuf(easy);
        ys_result_fail(r, code == CURLE_OPERATION_TIMEDOUT ? YS_EC_TIMEOUT : YS_EC_CONNECT,
                       "GET %s: %s", ys_oci_path_of(l->url), eb[0] ? eb : curl_easy_strerror(code));
    }
    ys_curl_multi_easy_put(p->multi, easy);
    l->easy = NULL;
    curl_slist_free_all(l->hdrs);
    l->hdrs = NULL;
    r->bytes += (int64_t)l->resp.len;
    if (code == CURLE_OK && status == 404 && l->step == ST_CAND_MANIFEST) {
        free(ctype);
        p->cand_read++;
        lane_next(l);
        return;
    }
    if (l->resp.too_big)
        ys_result_fail(r, YS_EC_HTTP_STATUS, "%s: response larger than 4 MiB",
                       ys_oci_path_of(l->url));
    else if (code == CURLE_OK && status != 200)
        ys_result_fail(r, YS_EC_HTTP_STATUS, "%s: HTTP %ld from %s", p->cands.v[l->cand], status,
                       ys_oci_path_of(l->url));
    if (code != CURLE_OK || l->resp.too_big || status != 200) {
        if (status > 0 && status < 1000)
            r->status = (uint16_t)status;
        free(ctype);
        ys_oci_finish(p);
        return;
    }
    lane_step(l, ctype);
    free(ctype);
}

void ys_oci_scan_start(struct oci_probe *p)
{
    if (p->cands.n == 0) {
        p->scan_done = true;
        ys_oci_advance(p);
        return;
    }
    size_t n = p->cands.n < YS_OCI_LANES ? p->cands.n : YS_OCI_LANES;
    for (size_t i = 0; i < n; i++)
        p->lanes[i].p = p;
    p->lanes_busy = n;
    /* lane_next may end the probe (a request that cannot start). */
    for (size_t i = 0; i < n && !p->over; i++)
        lane_next(&p->lanes[i]);
}

void ys_oci_scan_stop(struct oci_probe *p)
{
    for (size_t i = 0; i < YS_OCI_LANES; i++) {
        struct oci_lane *l = &p->lanes[i];
        if (l->easy) {
            ys_curl_multi_remove(p->multi, l->easy);
            ys_curl_multi_easy_put(p->multi, l->easy);
            l->easy = NULL;
        }
        curl_slist_free_all(l->hdrs);
        l->hdrs = NULL;
    }
    p->lanes_busy = 0;
}

void ys_oci_scan_free(struct oci_probe *p)
{
    for (size_t i = 0; i < YS_OCI_LANES; i++) {
        ys_oci_buf_free(&p->lanes[i].resp);
        free(p->lanes[i].url);
        p->lanes[i].url = NULL;
    }
}
