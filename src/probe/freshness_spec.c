/*
 * freshness_spec.c - parsing a `freshness` check's fields into struct
 * ys_fresh_spec (see freshness.h), and building an S3 bucket's URL.
 *
 * Runs once per config load, on whichever thread loads it. Everything a
 * probe would otherwise redo is prepared here: the regex is compiled, the
 * bucket's URL and the SigV4 provider string are built. Every problem is
 * reported with its position and parsing goes on, so `yardstick validate`
 * shows them all; a spec with any problem is freed, not returned.
 *
 * Credentials written in the file (usually as ${VAR}) are substituted at
 * each load; without them a probe reads AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when it starts (freshness.c).
 */
#include "probe/freshness.h"

#include "config/diag.h"
#include "config/read.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ys_fresh_keys[] = {"path", "s3", "max_age", "min_size", "match", NULL};

static const char *const s3_keys[] = {
    "bucket",     "prefix",     "endpoint",      "region", "path_style",
    "access_key", "secret_key", "session_token", NULL,
};

#define DEFAULT_REGION "us-east-1"

/* ---- bucket URL -------------------------------------------------------- */

/* S3's bucket naming rules, loosened for path style: older buckets (and
 * other servers) allow capitals and underscores, which only the path can
 * hold. A name in a host must be DNS labels: lowercase, digits, '-', '.'. */
static const char *bucket_problem(const char *b, bool in_host)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return "a bucket name has 3 to 63 characters";
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return "a bucket name starts and ends with a letter or digit";
    for (const char *p = b; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool host_ok = islower(c) || isdigit(c) || c == '-' || c == '.';
        if (in_host && !host_ok)
            return "virtual-host style needs a bucket name of lowercase letters, digits, '-' "
                   "and '.' (set path_style: true for this one)";
        if (!host_ok && !isupper(c) && c != '_')
            return "a bucket name has only letters, digits, '-', '_' and '.'";
    }
    if (in_host && strstr(b, ".."))
        return "a bucket name in a host name cannot contain '..'";
    return NULL;
}

static bool host_is_ip(const char *h)
{
    if (h[0] == '[')
        return true;
    for (; *h; h++)
        if (!isdigit((unsigned char)*h) && *h != '.')
            return false;
    return true;
}

/* Sets u's path to base (the endpoint's, without a trailing '/') + tail. */
static int set_path(CURLU *u, const char *base, const char *tail)
{
    size_t n = base ? strlen(base) : 0;
    while (n > 0 && base[n - 1] == '/')
        n--;
    char *path = ys_xasprintf("%.*s%s", (int)n, base ? base : "", tail);
    CURLUcode uc = curl_url_set(u, CURLUPART_PATH, path, 0);
    free(path);
    return uc == CURLUE_OK ? 0 : YS_EINVAL;
}

/* Fills u from endpoint (or AWS's for region) and checks its shape. */
static int load_endpoint(CURLU *u, const char *endpoint, const char *region, struct ys_err *err)
{
    char *aws = endpoint ? NULL : ys_xasprintf("https://s3.%s.amazonaws.com", region);
    const char *url = endpoint ? endpoint : aws;
    char *scheme = NULL, *query = NULL, *user = NULL;
    int rc = 0;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = ys_err_set(err, YS_EINVAL, "bad endpoint '%s': %s", url, curl_url_strerror(uc));
        goto out;
    }
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (!scheme || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
        rc = ys_err_set(err, YS_EINVAL, "bad endpoint '%s': scheme must be http or https", url);
    else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query)
        rc = ys_err_set(err, YS_EINVAL, "bad endpoint '%s': it cannot have a query", url);
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user)
        rc = ys_err_set(err, YS_EINVAL,
                        "bad endpoint '%s': credentials go in access_key and secret_key", url);
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
out:
    curl_free(scheme);
    curl_free(query);
    curl_free(user);
    free(aws);
    return rc;
}

int ys_fresh_s3_base_url(const char *endpoint, const char *region, const char *bucket,
                         bool path_style, char **out, struct ys_err *err)
{
    const char *why = bucket_problem(bucket, !path_style);
    if (why)
        return ys_err_set(err, YS_EINVAL, "bucket '%s': %s", bucket, why);
    CURLU *u = curl_url();
    if (!u)
        abort(); /* only fails when out of memory */
    char *host = NULL, *path = NULL, *url = NULL;
    int rc = load_endpoint(u, endpoint, region, err);
    if (rc < 0)
        goto out;
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    if (path_style) {
        char *tail = ys_xasprintf("/%s", bucket);
        rc = set_path(u, path, tail);
        free(tail);
    } else if (host_is_ip(host)) {
        rc = ys_err_set(err, YS_EINVAL,
                        "virtual-host style needs a host name, not the address '%s' (set "
                        "path_style: true)",
                        host);
        goto out;
    } else {
        char *vhost = ys_xasprintf("%s.%s", bucket, host);
        rc = curl_url_set(u, CURLUPART_HOST, vhost, 0) == CURLUE_OK ? set_path(u, path, "/")
                                                                    : YS_EINVAL;
        free(vhost);
    }
    if (rc == 0 && curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK)
        *out = ys_xstrdup(url);
    else
        rc = ys_err_set(err, YS_EINVAL, "cannot build the URL of bucket '%s'", bucket);
out:
    curl_free(url);
    curl_free(host);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* ---- fields ------------------------------------------------------------ */

static int compile_match(const struct ys_node *n, struct ys_fresh_spec *s, struct ys_diag *d)
{
    if (ys_cfg_string(n, "match", &s->match_text, d) < 0)
        return YS_ECONFIG;
    int code;
    PCRE2_SIZE off;
    s->match =
        pcre2_compile((PCRE2_SPTR)s->match_text, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (!s->match) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        ys_diag_add(d, n->line, n->col, "match: bad regex '%s': %s at offset %zu", s->match_text,
                    (const char *)msg, (size_t)off);
        return YS_ECONFIG;
    }
    /* JIT is an optimisation only: matching works without it. */
    (void)pcre2_jit_compile(s->match, PCRE2_JIT_COMPLETE);
    return 0;
}

static int parse_path(const struct ys_node *n, struct ys_fresh_spec *s, struct ys_diag *d)
{
    if (ys_cfg_string(n, "path", &s->path, d) < 0)
        return YS_ECONFIG;
    /* The daemon's working directory is not the config file's: a relative
     * pattern would silently look somewhere else. */
    if (s->path[0] != '/') {
        ys_diag_add(d, n->line, n->col, "path must be absolute (start with '/'), not '%s'",
                    s->path);
        return YS_ECONFIG;
    }
    return 0;
}

static int opt_string(const struct ys_node *map, const char *key, char **out, struct ys_diag *d)
{
    const struct ys_node *n = ys_node_get(map, key);
    char what[32];
    snprintf(what, sizeof what, "s3.%s", key);
    if (n && ys_cfg_string(n, what, out, d) < 0)
        return YS_ECONFIG;
    if (n && !**out) {
        ys_diag_add(d, n->line, n->col, "%s must not be empty", what);
        return YS_ECONFIG;
    }
    return 0;
}

static int parse_credentials(const struct ys_node *m, struct ys_fresh_s3 *s3, struct ys_diag *d)
{
    int rc = 0;
    if (opt_string(m, "access_key", &s3->access_key, d) < 0 ||
        opt_string(m, "secret_key", &s3->secret_key, d) < 0 ||
        opt_string(m, "session_token", &s3->session_token, d) < 0)
        return YS_ECONFIG;
    if (!s3->access_key != !s3->secret_key) {
        const char *have = s3->access_key ? "access_key" : "secret_key";
        const struct ys_node_pair *pr = ys_node_pair(m, have);
        ys_diag_add(d, pr->line, pr->col,
                    "s3.%s without s3.%s: give both, or neither to use AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY",
                    have, s3->access_key ? "secret_key" : "access_key");
        rc = YS_ECONFIG;
    }
    if (s3->session_token && !s3->access_key) {
        const struct ys_node_pair *pr = ys_node_pair(m, "session_token");
        ys_diag_add(d, pr->line, pr->col,
                    "s3.session_token needs s3.access_key and s3.secret_key (without them "
                    "AWS_SESSION_TOKEN is read from the environment)");
        rc = YS_ECONFIG;
    }
    return rc;
}

static int parse_region(const struct ys_node *n, struct ys_fresh_s3 *s3, struct ys_diag *d)
{
    if (!n) {
        s3->region = ys_xstrdup(DEFAULT_REGION);
        return 0;
    }
    if (ys_cfg_string(n, "s3.region", &s3->region, d) < 0)
        return YS_ECONFIG;
    bool ok = s3->region[0] != '\0';
    for (const char *p = s3->region; *p; p++)
        ok = ok && (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-');
    if (!ok) {
        ys_diag_add(d, n->line, n->col, "s3.region: bad region '%s' (like us-east-1)", n->scalar);
        return YS_ECONFIG;
    }
    return 0;
}

/* Builds base_url, sigv4 and where once the fields are read. */
static int plan_s3(const struct ys_node *m, struct ys_fresh_s3 *s3, struct ys_diag *d)
{
    struct ys_err err = {{0}};
    if (ys_fresh_s3_base_url(s3->endpoint, s3->region, s3->bucket, s3->path_style, &s3->base_url,
                             &err) < 0) {
        /* A bucket problem is reported at the bucket, anything else at the
         * endpoint (or the s3 map when AWS's own endpoint was built). */
        const struct ys_node *at = ys_node_get(m, "endpoint");
        if (strncmp(err.msg, "bucket ", 7) == 0 || !at)
            at = ys_node_get(m, "bucket");
        ys_diag_add(d, at->line, at->col, "s3: %s", err.msg);
        return YS_ECONFIG;
    }
    s3->sigv4 = ys_xasprintf("aws:amz:%s:s3", s3->region);
    s3->where = ys_xasprintf("s3://%s/%s", s3->bucket, s3->prefix);
    return 0;
}

static int parse_s3(const struct ys_node *m, struct ys_fresh_s3 *s3, struct ys_diag *d)
{
    if (m->type != YS_NODE_MAP) {
        ys_diag_add(d, m->line, m->col,
                    "s3 must be a mapping (bucket, prefix, endpoint, ...), "
                    "not %s",
                    ys_node_type_name(m));
        return YS_ECONFIG;
    }
    int rc = ys_cfg_check_keys(m, s3_keys, "s3", d) > 0 ? YS_ECONFIG : 0;
    const struct ys_node *n = ys_node_get(m, "bucket");
    if (!n) {
        ys_cfg_missing(m, "bucket", "s3", d);
        rc = YS_ECONFIG;
    } else if (ys_cfg_string(n, "s3.bucket", &s3->bucket, d) < 0) {
        rc = YS_ECONFIG;
    }
    if ((n = ys_node_get(m, "prefix")) && ys_cfg_string(n, "s3.prefix", &s3->prefix, d) < 0)
        rc = YS_ECONFIG;
    if (!s3->prefix)
        s3->prefix = ys_xstrdup("");
    static const char *const schemes[] = {"http", "https", NULL};
    if ((n = ys_node_get(m, "endpoint")) && (ys_cfg_url(n, "s3.endpoint", schemes, d) < 0 ||
                                             ys_cfg_string(n, "s3.endpoint", &s3->endpoint, d) < 0))
        rc = YS_ECONFIG;
    if (parse_region(ys_node_get(m, "region"), s3, d) < 0)
        rc = YS_ECONFIG;
    /* Self-hosted servers (MinIO, Ceph, ...) answer path style on their
     * plain endpoint; virtual hosts need wildcard DNS, which AWS has. */
    s3->path_style = ys_node_get(m, "endpoint") != NULL;
    if (ys_cfg_bool(ys_node_get(m, "path_style"), "s3.path_style", &s3->path_style, d) < 0)
        rc = YS_ECONFIG;
    if (parse_credentials(m, s3, d) < 0)
        rc = YS_ECONFIG;
    if (rc == 0)
        rc = plan_s3(m, s3, d);
    return rc;
}

/* Exactly one of path and s3. */
static int parse_source(const struct ys_node *c, struct ys_fresh_spec *s, struct ys_diag *d)
{
    const struct ys_node *p = ys_node_get(c, "path");
    const struct ys_node *m = ys_node_get(c, "s3");
    if (p && m) {
        const struct ys_node_pair *pr = ys_node_pair(c, "s3");
        ys_diag_add(d, pr->line, pr->col, "a freshness check has either path or s3, not both");
        return YS_ECONFIG;
    }
    if (!p && !m) {
        ys_diag_add(d, c->line, c->col,
                    "a freshness check needs path (a glob of files) or s3 (a bucket prefix)");
        return YS_ECONFIG;
    }
    s->is_s3 = m != NULL;
    return p ? parse_path(p, s, d) : parse_s3(m, &s->s3, d);
}

/* ---- entry points ------------------------------------------------------ */

int ys_fresh_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                        struct ys_diag *d)
{
    (void)base;
    struct ys_fresh_spec *s = ys_xcalloc(1, sizeof *s);
    int rc = parse_source(check, s, d);
    const struct ys_node *n = ys_node_get(check, "max_age");
    if (!n) {
        ys_cfg_missing(check, "max_age", "a freshness check", d);
        rc = YS_ECONFIG;
    } else if (ys_cfg_duration(n, "max_age", &s->max_age_ms, d) < 0) {
        rc = YS_ECONFIG;
    }
    if ((n = ys_node_get(check, "min_size"))) {
        if (ys_cfg_size(n, "min_size", &s->min_size, d) < 0)
            rc = YS_ECONFIG;
    }
    if ((n = ys_node_get(check, "match")) && compile_match(n, s, d) < 0)
        rc = YS_ECONFIG;
    if (rc < 0) {
        ys_fresh_spec_free(s);
        *spec = NULL;
        return YS_ECONFIG;
    }
    *spec = s;
    return 0;
}

void ys_fresh_spec_free(void *spec)
{
    struct ys_fresh_spec *s = spec;
    if (!s)
        return;
    free(s->path);
    struct ys_fresh_s3 *s3 = &s->s3;
    free(s3->bucket);
    free(s3->prefix);
    free(s3->endpoint);
    free(s3->region);
    free(s3->access_key);
    free(s3->secret_key);
    free(s3->session_token);
    free(s3->base_url);
    free(s3->sigv4);
    free(s3->where);
    free(s->match_text);
    pcre2_code_free(s->match);
    free(s);
}
