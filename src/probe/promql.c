/*
 * promql.c - running a promql check (promql.h): one GET of
 * <source>/api/v1/query?query=...&time=<probe start> through the loop's
 * libcurl multi handle (curl_multi.c), judged by promql_judge.c.
 *
 * A probe is a struct promql_probe (base first, as `super`) owning one easy
 * handle from the multi's pool and the request around it (promql_http.c,
 * shared with the PromQL goal measures): URL, headers, and a body buffer
 * capped at YS_PROMQL_MAX_RESPONSE, so a query that selects too much fails
 * instead of growing memory. Unlike the http kind, connections may be
 * reused: this kind measures a query's answer, not the network, and a
 * fresh TLS handshake to the same Prometheus every interval is waste.
 *
 * The request's timeout is the check's, or the source's when that is
 * shorter. Authentication (bearer token or basic auth), the CA file and
 * extra headers come from the check's source (model_source.c).
 *
 * Lifecycle: start -> (libcurl runs) -> on_done: verdict, done callback,
 * free; or start -> cancel: free, done never runs. Loop thread only.
 */
#include "probe/curl_multi.h"
#include "probe/probe.h"
#include "probe/promql.h"
#include "probe/promql_http.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct promql_probe {
    struct ys_probe super;
    struct ys_curl_multi *multi;
    const struct ys_promql_spec *spec;
    const struct ys_source *source;
    struct ys_promql_http http; /* the request, its easy handle and body */
};

extern const struct ys_probe_type ys_probe_promql;

static void set_options(struct promql_probe *p, const struct ys_check *check)
{
    const struct ys_source *src = p->source;
    int64_t ts = p->super.result.ts_ms;
    char *path = ys_xasprintf("/api/v1/query?query=%s&time=%lld.%03d", p->spec->query_escaped,
                              (long long)(ts / 1000), (int)(ts % 1000));
    int64_t timeout = check->timeout_ms;
    if (src->timeout_ms > 0 && src->timeout_ms < timeout)
        timeout = src->timeout_ms;
    ys_promql_http_setup(&p->http, p->http.easy, src, path, timeout, YS_PROMQL_MAX_RESPONSE);
    free(path);
}

static void probe_free(struct promql_probe *p)
{
    ys_curl_multi_easy_put(p->multi, p->http.easy);
    ys_promql_http_cleanup(&p->http);
    free(p);
}

static void on_done(CURL *easy, CURLcode code, void *arg)
{
    struct promql_probe *p = arg;
    struct ys_result *r = &p->super.result;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    r->status = (uint16_t)(status > 0 && status < 1000 ? status : 0);
    r->bytes = (int64_t)p->http.body_len;
    if (p->http.too_big || code != CURLE_OK) {
        char why[YS_RESULT_MSG_MAX];
        enum ys_errclass ec = ys_promql_http_failure(&p->http, p->source->name, code,
                                                     ys_curl_multi_errbuf(easy), why, sizeof why);
        if (p->http.too_big)
            r->flags |= YS_RF_TRUNCATED;
        ys_result_fail(r, ec, "%s", why);
    } else {
        ys_promql_judge(p->spec, status, p->http.body, p->http.body_len, r);
    }
    ys_probe_base_finish(&p->super);
    probe_free(p);
}

static int promql_start(struct ys_probe_env *env, const struct ys_check *check,
                        ys_probe_done_cb done, void *arg, struct ys_probe **out)
{
    if (!check->source || !check->spec)
        return YS_EINVAL; /* a config built by hand without sources */
    struct promql_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_promql, check, done, arg);
    p->spec = check->spec;
    p->source = check->source;
    p->multi = env->curl;
    p->http.easy = ys_curl_multi_easy_get(env->curl);
    if (!p->http.easy) {
        free(p);
        return YS_EINTERNAL;
    }
    set_options(p, check);
    int rc = ys_curl_multi_add(env->curl, p->http.easy, on_done, p);
    if (rc < 0) {
        probe_free(p);
        return rc;
    }
    *out = &p->super;
    return 0;
}

static void promql_cancel(struct ys_probe *probe)
{
    struct promql_probe *p = (struct promql_probe *)probe;
    ys_curl_multi_remove(p->multi, p->http.easy);
    probe_free(p);
}

static int promql_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                        struct ys_diag *d)
{
    struct ys_promql_spec *s = NULL;
    int rc = ys_promql_spec_parse(check, base, &s, d);
    *spec = s;
    return rc;
}

static void promql_free_spec(void *spec)
{
    ys_promql_spec_free(spec);
}

const struct ys_probe_type ys_probe_promql = {
    .name = "promql",
    .keys = ys_promql_keys,
    .parse = promql_parse,
    .free_spec = promql_free_spec,
    .start = promql_start,
    .cancel = promql_cancel,
};
