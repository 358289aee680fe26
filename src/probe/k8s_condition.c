/*
 * k8s_condition.c - the `k8s_condition` kind (k8s.h): every object of any
 * list path has a condition with a status, or a field equal to a value.
 *
 *   - name: ingresses
 *     kind: k8s_condition
 *     cluster: prod
 *     path: /apis/networking.k8s.io/v1/namespaces/web/ingresses
 *     condition: Ready              # status.conditions[type=Ready].status
 *     equals: "True"                # the default for condition
 *   - name: pods-running
 *     kind: k8s_condition
 *     cluster: prod
 *     path: /api/v1/namespaces/batch/pods
 *     selector: app=worker
 *     field: status.phase           # a dotted path; a number indexes a list
 *     equals: Running
 *
 * A field's number or boolean is compared as its JSON text (3, true). The
 * value is the percent of objects that match; the message names those that
 * do not, with what they have instead.
 */
#include "probe/k8s.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512

const char *const ys_k8s_cond_keys[] = {"cluster",   "path",  "selector", "field_selector",
                                        "condition", "field", "equals",   NULL};

/* A list path: /api/... or /apis/..., URL-safe characters only, no query. */
static bool valid_path(const char *p)
{
    if (strncmp(p, "/api/", 5) != 0 && strncmp(p, "/apis/", 6) != 0)
        return false;
    if (strlen(p) > PATH_MAX_LEN)
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("/.-_", *p)))
            return false;
    return true;
}

int ys_k8s_cond_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_k8s_cond_spec *s = ys_xcalloc(1, sizeof *s);
    char *ns = NULL, *path = NULL;
    ys_k8s_spec_common(c, "k8s_condition", &s->base, &ns, d);
    free(ns); /* not among the keys: the path names the namespace */
    s->base.judge = ys_k8s_cond_judge;
    const struct ys_node *p = ys_node_get(c, "path");
    if (!p)
        ys_cfg_missing(c, "path", "k8s_condition check", d);
    else if (ys_cfg_string(p, "path", &path, d) == 0 && !valid_path(path))
        ys_diag_add(d, p->line, p->col,
                    "path must be an API list path such as /api/v1/namespaces/NS/pods or "
                    "/apis/GROUP/VERSION/RESOURCE (no query), not '%s'",
                    path);
    else if (path && (strstr(path, "/secrets") != NULL))
        /* a field's value is quoted in messages, which are stored and sent */
        ys_diag_add(d, p->line, p->col,
                    "path: Secrets are not read (their values would end up in messages), "
                    "not '%s'", path);
    else if (path)
        s->base.paths[s->base.n_paths++] = ys_xstrdup(path);
    free(path);
    const struct ys_node *cn = ys_node_get(c, "condition"), *fn = ys_node_get(c, "field");
    const struct ys_node *en = ys_node_get(c, "equals");
    if (cn)
        ys_cfg_string(cn, "condition", &s->condition, d);
    if (fn)
        ys_cfg_string(fn, "field", &s->field, d);
    if (en)
        ys_cfg_string(en, "equals", &s->equals, d);
    if (cn && fn)
        ys_diag_add(d, fn->line, fn->col, "use condition or field, not both");
    else if (!cn && !fn)
        ys_diag_add(d, c->line, c->col,
                    "a k8s_condition check needs condition: TYPE or field: PATH");
    else if (fn && !en)
        ys_cfg_missing(c, "equals", "k8s_condition check with field", d);
    if (cn && !s->equals)
        s->equals = ys_xstrdup("True");
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_k8s_cond_free(void *spec)
{
    struct ys_k8s_cond_spec *s = spec;
    if (!s)
        return;
    free(s->condition);
    free(s->field);
    free(s->equals);
    ys_k8s_spec_free(s);
}

/* The value at a dotted path of obj as text in out ("" when missing). */
static void field_text(const json_t *obj, const char *path, char *out, size_t cap)
{
    const json_t *v = obj;
    char seg[128];
    out[0] = '\0';
    while (v && *path) {
        size_t n = strcspn(path, ".");
        snprintf(seg, sizeof seg, "%.*s", (int)(n < sizeof seg ? n : sizeof seg - 1), path);
        path += n + (path[n] == '.');
        char *end;
        long idx = strtol(seg, &end, 10);
        v = json_is_array(v) && *end == '\0' && seg[0] ? json_array_get(v, (size_t)idx)
                                                       : json_object_get(v, seg);
    }
    if (json_is_string(v)) {
        snprintf(out, cap, "%s", json_string_value(v));
    } else if (v && !json_is_object(v) && !json_is_array(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY);
        snprintf(out, cap, "%s", t ? t : "");
        free(t);
    }
}

void ys_k8s_cond_judge(const void *spec, json_t *const *lists, int64_t now_ms, struct ys_result *r)
{
    (void)now_ms;
    const struct ys_k8s_cond_spec *s = spec;
    size_t i, total = json_array_size(lists[0]), passing = 0, dropped = 0;
    const json_t *obj;
    char names[144] = "";
    json_array_foreach(lists[0], i, obj)
    {
        char got[64];
        if (s->condition) {
            const char *st = ys_k8s_condition(obj, s->condition, NULL, NULL);
            snprintf(got, sizeof got, "%s", st ? st : "missing");
        } else {
            field_text(obj, s->field, got, sizeof got);
            if (!got[0])
                snprintf(got, sizeof got, "missing");
        }
        if (strcmp(got, s->equals) == 0) {
            passing++;
            continue;
        }
        const json_t *md = json_object_get(obj, "metadata");
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *name = json_string_value(json_object_get(md, "name"));
        char one[200];
        snprintf(one, sizeof one, "%s%s%s (%s)", ns ? ns : "", ns ? "/" : "", name ? name : "?",
                 got);
        ys_k8s_name_list(names, sizeof names, one, &dropped);
    }
    snprintf(r->facts, sizeof r->facts, "{\"objects\":%zu,\"passing\":%zu}", total, passing);
    if (total > 0)
        ys_k8s_value(r, 100.0 * (double)passing / (double)total);
    ys_k8s_verdict(r, total, "objects", passing != total, names, dropped,
                   "%zu of %zu not %.40s=%.32s", total - passing, total,
                   s->condition ? s->condition : s->field, s->equals);
}

YS_K8S_PROBE_TYPE(ys_probe_k8s_condition, "k8s_condition", ys_k8s_cond_keys, ys_k8s_cond_parse,
                  ys_k8s_cond_free);
