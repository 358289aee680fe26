/*
 * read.c - typed reads from a config tree (see read.h).
 *
 * Every reader accepts a NULL node (the key is absent) and returns 0
 * without touching *out, so callers set defaults first and read over them.
 * On a wrong type or format a reader adds one diagnostic at the value's
 * position and returns YS_ECONFIG, again leaving *out as it was, so one
 * bad field never hides the next. Messages name the field as the caller
 * describes it ("checks[2].interval", "tls.min_days_left").
 *
 * Stateless; runs on whichever thread loads a config.
 */
#include "config/read.h"

#include "config/diag.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ys_strmap_free(struct ys_strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->n = 0;
}

const char *ys_strmap_get(const struct ys_strmap *m, const char *key)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return m->values[i];
    return NULL;
}

void ys_strlist_free(struct ys_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Levenshtein distance with two rows; names are short, but the input is
 * the user's, so lengths are capped to keep the cost bounded. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, 64), lb = strnlen(b, 64);
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *ys_cfg_nearest(const char *s, const char *const *list)
{
    size_t len = strlen(s);
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; list && list[i]; i++) {
        size_t dist = edit_distance(s, list[i]);
        if (dist < best_d) {
            best_d = dist;
            best = list[i];
        }
    }
    return best;
}

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

int ys_cfg_check_keys(const struct ys_node *map, const char *const *allowed, const char *where,
                      struct ys_diag *d)
{
    if (!map || map->type != YS_NODE_MAP)
        return 0;
    int unknown = 0;
    for (size_t i = 0; i < map->n; i++) {
        const struct ys_node_pair *p = &map->pairs[i];
        if (in_list(p->key, allowed))
            continue;
        const char *near = ys_cfg_nearest(p->key, allowed);
        ys_diag_add(d, p->line, p->col, "unknown key '%s'%s%s%s%s%s", p->key, where ? " in " : "",
                    where ? where : "", near ? " (did you mean '" : "", near ? near : "",
                    near ? "'?)" : "");
        unknown++;
    }
    return unknown;
}

void ys_cfg_missing(const struct ys_node *map, const char *key, const char *where,
                    struct ys_diag *d)
{
    int line = map ? map->line : 1, col = map ? map->col : 1;
    ys_diag_add(d, line, col, "missing required field '%s'%s%s", key, where ? " in " : "",
                where ? where : "");
}

/* Reports "<what> must be <expected>, not <type>" unless n is a non-null
 * scalar; returns whether it is one. */
static bool want_scalar(const struct ys_node *n, const char *what, const char *expected,
                        struct ys_diag *d)
{
    if (n->type == YS_NODE_SCALAR && n->unresolved)
        return false;
    if (n->type == YS_NODE_SCALAR && !n->is_null)
        return true;
    ys_diag_add(d, n->line, n->col, "%s must be %s, not %s", what, expected, ys_node_type_name(n));
    return false;
}

int ys_cfg_string(const struct ys_node *n, const char *what, char **out, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (!want_scalar(n, what, "a string", d))
        return YS_ECONFIG;
    *out = ys_xstrdup(n->scalar);
    return 0;
}

int ys_cfg_bool(const struct ys_node *n, const char *what, bool *out, struct ys_diag *d)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    if (!n)
        return 0;
    if (!want_scalar(n, what, "true or false", d))
        return YS_ECONFIG;
    for (size_t i = 0; !n->quoted && yes[i]; i++) {
        if (strcasecmp(n->scalar, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(n->scalar, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    ys_diag_add(d, n->line, n->col, "%s must be true or false, not %s'%s'", what,
                n->quoted ? "the quoted string " : "", n->scalar);
    return YS_ECONFIG;
}

int ys_cfg_int(const struct ys_node *n, const char *what, int64_t min, int64_t max, int64_t *out,
               struct ys_diag *d)
{
    if (!n)
        return 0;
    if (!want_scalar(n, what, "an integer", d))
        return YS_ECONFIG;
    char *end;
    errno = 0;
    long long v = strtoll(n->scalar, &end, 10);
    if (end == n->scalar || *end || errno == ERANGE || isspace((unsigned char)n->scalar[0])) {
        ys_diag_add(d, n->line, n->col, "%s must be an integer, not '%s'", what, n->scalar);
        return YS_ECONFIG;
    }
    if (v < min || v > max) {
        ys_diag_add(d, n->line, n->col, "%s must be between %lld and %lld, not %lld", what,
                    (long long)min, (long long)max, v);
        return YS_ECONFIG;
    }
    *out = v;
    return 0;
}

int ys_cfg_double(const struct ys_node *n, const char *what, double *out, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (!want_scalar(n, what, "a number", d))
        return YS_ECONFIG;
    char *end;
    errno = 0;
    double v = strtod(n->scalar, &end);
    if (end == n->scalar || *end || errno == ERANGE || !isfinite(v) ||
        isspace((unsigned char)n->scalar[0])) {
        ys_diag_add(d, n->line, n->col, "%s must be a number, not '%s'", what, n->scalar);
        return YS_ECONFIG;
    }
    *out = v;
    return 0;
}

int ys_cfg_duration(const struct ys_node *n, const char *what, int64_t *out_ms, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (!want_scalar(n, what, "a duration", d))
        return YS_ECONFIG;
    int64_t ms;
    if (ys_duration_parse(n->scalar, &ms) < 0) {
        ys_diag_add(d, n->line, n->col, "%s: bad duration '%s' (use 250ms, 30s, 5m, 1h, 7d)", what,
                    n->scalar);
        return YS_ECONFIG;
    }
    if (ms <= 0) {
        ys_diag_add(d, n->line, n->col, "%s must be greater than zero", what);
        return YS_ECONFIG;
    }
    *out_ms = ms;
    return 0;
}

struct size_unit {
    const char *name;
    int64_t mult;
};

/* Decimal units are powers of 1000 and binary ones of 1024, as written on
 * the tin; units are matched without regard to case. */
static const struct size_unit size_units[] = {
    {"", 1},
    {"b", 1},
    {"kb", 1000},
    {"mb", 1000 * 1000},
    {"gb", 1000 * 1000 * 1000},
    {"tb", INT64_C(1000) * 1000 * 1000 * 1000},
    {"kib", 1024},
    {"mib", 1024 * 1024},
    {"gib", 1024 * 1024 * 1024},
    {"tib", INT64_C(1024) * 1024 * 1024 * 1024},
};

static int parse_size(const char *s, int64_t *out)
{
    if (!isdigit((unsigned char)s[0]))
        return YS_EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE)
        return YS_EINVAL;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
        if (strcasecmp(end, size_units[i].name) != 0)
            continue;
        if (v > INT64_MAX / size_units[i].mult)
            return YS_EINVAL;
        *out = v * size_units[i].mult;
        return 0;
    }
    return YS_EINVAL;
}

int ys_cfg_size(const struct ys_node *n, const char *what, int64_t *out, struct ys_diag *d)
{
    if (!n)
        return 0;
    if (!want_scalar(n, what, "a size", d))
        return YS_ECONFIG;
    if (parse_size(n->scalar, out) < 0) {
        ys_diag_add(d, n->line, n->col,
                    "%s: bad size '%s' (use 512KiB, 1MiB, 10MB, 1GiB or a number of bytes)", what,
                    n->scalar);
        return YS_ECONFIG;
    }
    return 0;
}

int ys_cfg_strmap(const struct ys_node *n, const char *what, struct ys_strmap *out,
                  struct ys_diag *d)
{
    if (!n)
        return 0;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "%s must be a mapping of names to strings, not %s", what,
                    ys_node_type_name(n));
        return YS_ECONFIG;
    }
    int rc = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct ys_node *v = n->pairs[i].value;
        if (v->type != YS_NODE_SCALAR) {
            ys_diag_add(d, v->line, v->col, "%s.%s must be a string, not %s", what, n->pairs[i].key,
                        ys_node_type_name(v));
            rc = YS_ECONFIG;
        }
    }
    if (rc < 0)
        return rc;
    ys_strmap_free(out);
    out->n = n->n;
    out->keys = ys_xcalloc(n->n ? n->n : 1, sizeof *out->keys);
    out->values = ys_xcalloc(n->n ? n->n : 1, sizeof *out->values);
    for (size_t i = 0; i < n->n; i++) {
        out->keys[i] = ys_xstrdup(n->pairs[i].key);
        out->values[i] = ys_xstrdup(n->pairs[i].value->scalar);
    }
    return 0;
}

int ys_cfg_strlist(const struct ys_node *n, const char *what, struct ys_strlist *out,
                   struct ys_diag *d)
{
    if (!n)
        return 0;
    if (n->type == YS_NODE_MAP || (n->type == YS_NODE_SCALAR && n->is_null)) {
        ys_diag_add(d, n->line, n->col, "%s must be a string or a list of strings, not %s", what,
                    ys_node_type_name(n));
        return YS_ECONFIG;
    }
    if (n->type == YS_NODE_SCALAR) {
        ys_strlist_free(out);
        out->n = 1;
        out->v = ys_xmalloc(sizeof *out->v);
        out->v[0] = ys_xstrdup(n->scalar);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct ys_node *it = n->items[i];
        if (it->type != YS_NODE_SCALAR || it->is_null) {
            ys_diag_add(d, it->line, it->col, "%s[%zu] must be a string, not %s", what, i,
                        ys_node_type_name(it));
            rc = YS_ECONFIG;
        }
    }
    if (rc < 0)
        return rc;
    ys_strlist_free(out);
    out->n = n->n;
    out->v = ys_xcalloc(n->n ? n->n : 1, sizeof *out->v);
    for (size_t i = 0; i < n->n; i++)
        out->v[i] = ys_xstrdup(n->items[i]->scalar);
    return 0;
}

/* "http or https", "a, b or c": the allowed schemes for a message. */
static char *scheme_list(const char *const *schemes)
{
    char *s = ys_xstrdup("");
    size_t count = 0;
    while (schemes[count])
        count++;
    for (size_t i = 0; i < count; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == count ? " or " : ", ");
        char *next = ys_xasprintf("%s%s%s", s, sep, schemes[i]);
        free(s);
        s = next;
    }
    return s;
}

/* Checks the scheme and host of a URL libcurl has parsed; returns a
 * problem description or NULL. */
static char *url_problem(CURLU *u, const char *const *schemes)
{
    char *scheme = NULL, *host = NULL, *problem = NULL;
    bool scheme_ok = false;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && scheme) {
        for (size_t i = 0; schemes[i]; i++)
            scheme_ok = scheme_ok || strcasecmp(scheme, schemes[i]) == 0;
    }
    if (!scheme_ok) {
        char *list = scheme_list(schemes);
        problem = ys_xasprintf("scheme must be %s", list);
        free(list);
    } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        problem = ys_xstrdup("no host");
    }
    curl_free(scheme);
    curl_free(host);
    return problem;
}

int ys_cfg_url(const struct ys_node *n, const char *what, const char *const *schemes,
               struct ys_diag *d)
{
    if (!n)
        return 0;
    if (!want_scalar(n, what, "a URL", d))
        return YS_ECONFIG;
    char *problem = NULL;
    if (!strstr(n->scalar, "://")) {
        char *list = scheme_list(schemes);
        problem = ys_xasprintf("it needs a scheme (%s://...)", list);
        free(list);
    } else {
        CURLU *u = curl_url();
        if (!u)
            abort(); /* only fails when out of memory */
        CURLUcode uc = curl_url_set(u, CURLUPART_URL, n->scalar, CURLU_NON_SUPPORT_SCHEME);
        if (uc == CURLUE_NO_HOST)
            problem = ys_xstrdup("no host");
        else if (uc != CURLUE_OK)
            problem = ys_xstrdup(curl_url_strerror(uc));
        else
            problem = url_problem(u, schemes);
        curl_url_cleanup(u);
    }
    if (!problem)
        return 0;
    ys_diag_add(d, n->line, n->col, "bad URL '%s': %s", n->scalar, problem);
    free(problem);
    return YS_ECONFIG;
}

/* Splits "host:port" or "[v6]:port"; returns the host span and port text,
 * or a problem description. */
static const char *split_hostport(const char *s, const char **host, size_t *hlen, const char **port)
{
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return "missing ']'";
        if (close[1] != ':')
            return "missing :port";
        *host = s + 1;
        *hlen = (size_t)(close - s - 1);
        *port = close + 2;
        return NULL;
    }
    const char *colon = strrchr(s, ':');
    if (!colon)
        return "missing :port";
    if (memchr(s, ':', (size_t)(colon - s)))
        return "IPv6 addresses need brackets, as in [::1]:443";
    *host = s;
    *hlen = (size_t)(colon - s);
    *port = colon + 1;
    return NULL;
}

int ys_cfg_hostport(const struct ys_node *n, const char *what, char **host, int *port,
                    struct ys_diag *d)
{
    if (!n)
        return 0;
    if (!want_scalar(n, what, "host:port", d))
        return YS_ECONFIG;
    const char *h = NULL, *p = NULL;
    size_t hlen = 0;
    const char *problem = split_hostport(n->scalar, &h, &hlen, &p);
    long v = 0;
    if (!problem && hlen == 0)
        problem = "empty host";
    if (!problem) {
        char *end = (char *)p;
        errno = 0;
        v = isdigit((unsigned char)p[0]) ? strtol(p, &end, 10) : -1;
        if (v < 1 || v > 65535 || *end || errno)
            problem = "port must be 1-65535";
    }
    if (problem) {
        ys_diag_add(d, n->line, n->col, "%s: bad address '%s': %s (use host:port or [v6]:port)",
                    what, n->scalar, problem);
        return YS_ECONFIG;
    }
    *host = ys_xstrndup(h, hlen);
    *port = (int)v;
    return 0;
}
