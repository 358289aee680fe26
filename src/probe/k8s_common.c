/*
 * k8s_common.c - what the Kubernetes kinds share (k8s.h): one page's
 * verdict, the common spec keys and list paths, timestamps, conditions
 * and the shape of a kind's verdict. Pure.
 */
#include "probe/k8s.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/civil.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *ys_k8s_page_parse(const char *src, long status, const char *body, size_t len,
                          struct ys_result *r)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, 0, &jerr);
    /* A failed call answers with a Status document: quote its message. */
    const char *msg = json_string_value(json_object_get(doc, "message"));
    if (status == 401 || status == 403) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "cluster %s: %s (%ld): the credentials %s%s%s", src,
                       status == 401 ? "unauthorized" : "forbidden", status,
                       status == 401 ? "were refused" : "lack list permission", msg ? ": " : "",
                       msg ? msg : "");
    } else if (status != 200) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "cluster %s: HTTP %ld%s%s", src, status,
                       msg ? ": " : "", msg ? msg : "");
    } else if (!doc) {
        ys_result_fail(r, YS_EC_ASSERTION, "cluster %s: the answer is not JSON: %s", src,
                       jerr.text);
    } else if (!json_is_array(json_object_get(doc, "items"))) {
        ys_result_fail(r, YS_EC_ASSERTION, "cluster %s: the answer is not a list (no items)", src);
    } else {
        return doc;
    }
    json_decref(doc);
    return NULL;
}

int64_t ys_k8s_time(const char *s)
{
    int y, mo, d, h, mi, sec;
    char z = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 ||
        z != 'Z' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    return ((ys_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL;
}

const char *ys_k8s_condition(const json_t *obj, const char *type, int64_t *ltt, const char **msg)
{
    const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
    size_t i;
    const json_t *c;
    if (ltt)
        *ltt = -1;
    if (msg)
        *msg = NULL;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (!t || strcmp(t, type) != 0)
            continue;
        if (ltt)
            *ltt = ys_k8s_time(json_string_value(json_object_get(c, "lastTransitionTime")));
        if (msg)
            *msg = json_string_value(json_object_get(c, "message"));
        return json_string_value(json_object_get(c, "status"));
    }
    return NULL;
}

void ys_k8s_name_list(char *out, size_t cap, const char *name, size_t *dropped)
{
    size_t len = strlen(out);
    size_t need = strlen(name) + (len ? 2 : 0);
    /* Keep room for ", +NNNN more" the caller may add. */
    if (len + need + 16 >= cap) {
        (*dropped)++;
        return;
    }
    snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name);
}

/* One matchExpressions entry against labels; false when malformed. */
static bool expression_matches(const json_t *e, const json_t *labels)
{
    const char *key = json_string_value(json_object_get(e, "key"));
    const char *op = json_string_value(json_object_get(e, "operator"));
    const json_t *values = json_object_get(e, "values");
    size_t n = json_array_size(values), i;
    const json_t *v;
    if (!key || !op || (values && !json_is_array(values) && !json_is_null(values)))
        return false;
    json_array_foreach(values, i, v)
    {
        if (!json_is_string(v))
            return false;
    }
    const char *have = json_string_value(json_object_get(labels, key));
    bool set = strcmp(op, "In") == 0, unset = strcmp(op, "NotIn") == 0;
    if (set || unset) {
        if (n == 0)
            return false; /* the API rejects In/NotIn without values */
        bool in = false;
        json_array_foreach(values, i, v)
        {
            if (have && strcmp(have, json_string_value(v)) == 0)
                in = true;
        }
        return set ? in : !in; /* NotIn also holds when the label is absent */
    }
    if (n > 0)
        return false; /* Exists and DoesNotExist take no values */
    if (strcmp(op, "Exists") == 0)
        return have != NULL;
    if (strcmp(op, "DoesNotExist") == 0)
        return have == NULL;
    return false;
}

bool ys_k8s_selector_matches(const json_t *selector, const json_t *labels)
{
    if (!json_is_object(selector))
        return false;
    const json_t *ml = json_object_get(selector, "matchLabels");
    const json_t *me = json_object_get(selector, "matchExpressions");
    if ((ml && !json_is_object(ml) && !json_is_null(ml)) ||
        (me && !json_is_array(me) && !json_is_null(me)))
        return false;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ml, k, v)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!json_is_string(v) || !have || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    size_t i;
    json_array_foreach(me, i, v)
    {
        if (!expression_matches(v, labels))
            return false;
    }
    return true;
}

/* "key=value" for the query string, escaped. */
static char *query_part(const char *key, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (!esc)
        abort(); /* libcurl only fails here when out of memory */
    char *p = ys_xasprintf("%s=%s", key, esc);
    curl_free(esc);
    return p;
}

/* Kubernetes names: DNS labels (RFC 1123), up to 63 characters. */
static bool valid_namespace(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return s[0] != '-' && s[n - 1] != '-';
}

int ys_k8s_spec_common(const struct ys_node *c, const char *kind, struct ys_k8s_spec *b, char **ns,
                       struct ys_diag *d)
{
    size_t before = d->n;
    char where[64], *name = NULL, *sel = NULL, *fsel = NULL;
    snprintf(where, sizeof where, "%s check", kind);
    const struct ys_node *cl = ys_node_get(c, "cluster");
    if (!cl)
        ys_cfg_missing(c, "cluster", where, d);
    else
        ys_cfg_string(cl, "cluster", &name, d);
    free(name); /* model_source.c resolves it to check->source */
    *ns = NULL;
    const struct ys_node *n = ys_node_get(c, "namespace");
    if (n && ys_cfg_string(n, "namespace", ns, d) == 0 && !valid_namespace(*ns)) {
        ys_diag_add(d, n->line, n->col, "namespace '%s' is not a Kubernetes name", *ns);
        free(*ns);
        *ns = NULL;
    }
    ys_cfg_string(ys_node_get(c, "selector"), "selector", &sel, d);
    ys_cfg_string(ys_node_get(c, "field_selector"), "field_selector", &fsel, d);
    char *ls = sel ? query_part("labelSelector", sel) : NULL;
    char *fs = fsel ? query_part("fieldSelector", fsel) : NULL;
    b->query = ys_xasprintf("%s%s%s", ls ? ls : "", ls && fs ? "&" : "", fs ? fs : "");
    free(ls);
    free(fs);
    free(sel);
    free(fsel);
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_k8s_spec_base_free(struct ys_k8s_spec *b)
{
    for (size_t i = 0; i < b->n_paths; i++) {
        free(b->paths[i]);
        free(b->queries[i]);
    }
    free(b->query);
}

void ys_k8s_spec_free(void *spec)
{
    if (!spec)
        return;
    ys_k8s_spec_base_free(spec);
    free(spec);
}

char *ys_k8s_list_path(const char *prefix, const char *ns, const char *resource)
{
    return ns ? ys_xasprintf("%s/namespaces/%s/%s", prefix, ns, resource)
              : ys_xasprintf("%s/%s", prefix, resource);
}

void ys_k8s_spec_one(const struct ys_node *c, const char *kind, struct ys_k8s_spec *b,
                     const char *prefix, const char *resource, ys_k8s_judge_fn judge,
                     struct ys_diag *d)
{
    char *ns = NULL;
    ys_k8s_spec_common(c, kind, b, &ns, d);
    b->paths[b->n_paths++] = ys_k8s_list_path(prefix, ns, resource);
    b->judge = judge;
    free(ns);
}

void ys_k8s_spec_kinds(const struct ys_node *c, const char *const *names, const char *choices,
                       const char *empty, ys_k8s_add_fn add, void *spec, const char *ns,
                       struct ys_diag *d)
{
    const struct ys_node *kn = ys_node_get(c, "kinds");
    struct ys_strlist kinds = {0};
    if (kn && ys_cfg_strlist(kn, "kinds", &kinds, d) == 0) {
        for (size_t i = 0; i < kinds.n; i++) {
            size_t k = 0;
            while (names[k] && strcmp(names[k], kinds.v[i]) != 0)
                k++;
            if (names[k])
                add(spec, k, ns);
            else
                ys_diag_add(d, kn->line, kn->col, "kinds: '%s' is not %s", kinds.v[i], choices);
        }
        if (kinds.n == 0)
            ys_diag_add(d, kn->line, kn->col, "kinds must name %s", empty);
    } else if (!kn) {
        for (size_t k = 0; names[k]; k++)
            add(spec, k, ns);
    }
    ys_strlist_free(&kinds);
}

void ys_k8s_value(struct ys_result *r, double v)
{
    r->value = v;
    r->flags |= YS_RF_HAS_VALUE;
}

void ys_k8s_ref(const json_t *obj, char *out, size_t cap)
{
    const json_t *md = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    snprintf(out, cap, "%s/%s", ns ? ns : "?", name ? name : "?");
}

void ys_k8s_min_time(int64_t *min, int64_t t)
{
    if (t >= 0 && (*min < 0 || t < *min))
        *min = t;
}

void ys_k8s_age_value(struct ys_result *r, int64_t now_ms, int64_t oldest)
{
    if (oldest >= 0)
        ys_k8s_value(r, now_ms > oldest ? (double)(now_ms - oldest) / 1000.0 : 0);
}

void ys_k8s_verdict(struct ys_result *r, size_t total, const char *plural, bool failed,
                    const char *names, size_t dropped, const char *fmt, ...)
{
    if (total == 0) {
        ys_result_fail(r, YS_EC_ASSERTION, "no %s matched", plural);
        return;
    }
    if (!failed)
        return;
    /* head is cut where the message would be, so the result reads the same
     * as one snprintf of the whole. */
    char head[YS_RESULT_MSG_MAX], more[32] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (dropped)
        snprintf(more, sizeof more, ", +%zu more", dropped);
    ys_result_fail(r, YS_EC_ASSERTION, "%s: %s%s", head, names, more);
}
