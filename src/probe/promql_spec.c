/*
 * promql_spec.c - parsing of a promql check's own fields (promql.h).
 *
 * The common keys and `source` resolution are the model's job (model.c,
 * model_source.c): this file only checks that `source` is a string, so a
 * missing one is reported here and an unknown name there. The query is
 * URL-encoded once here with libcurl, not on every probe.
 *
 * Runs on whichever thread loads a config.
 */
#include "probe/promql.h"

#include "config/diag.h"
#include "config/model.h"
#include "config/read.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const ys_promql_keys[] = {"source", "query", "expect", "mode", NULL};

#define QUERY_MAX 16384 /* Prometheus answers GET; keep the URL sane */

int ys_promql_expect_parse(const char *text, enum ys_promql_op *op, double *threshold)
{
    static const struct {
        const char *s;
        enum ys_promql_op op;
    } ops[] = {{">=", YS_PQ_GE}, {"<=", YS_PQ_LE}, {"==", YS_PQ_EQ},
               {"!=", YS_PQ_NE}, {">", YS_PQ_GT},  {"<", YS_PQ_LT}};
    while (isspace((unsigned char)*text))
        text++;
    size_t i = 0;
    while (i < sizeof ops / sizeof ops[0] && strncmp(text, ops[i].s, strlen(ops[i].s)) != 0)
        i++;
    if (i == sizeof ops / sizeof ops[0])
        return YS_EINVAL;
    const char *num = text + strlen(ops[i].s);
    while (isspace((unsigned char)*num))
        num++;
    if (!*num)
        return YS_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(num, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (end == num || *end || errno || !isfinite(v))
        return YS_EINVAL;
    *op = ops[i].op;
    *threshold = v;
    return 0;
}

static void parse_query(const struct ys_node *c, struct ys_promql_spec *s, struct ys_diag *d)
{
    const struct ys_node *q = ys_node_get(c, "query");
    if (!q) {
        ys_cfg_missing(c, "query", "promql check", d);
        return;
    }
    if (ys_cfg_string(q, "query", &s->query, d) < 0)
        return;
    size_t len = strlen(s->query);
    if (len == 0 || len > QUERY_MAX) {
        ys_diag_add(d, q->line, q->col, "query must be 1-%d characters of PromQL", QUERY_MAX);
        return;
    }
    char *esc = curl_easy_escape(NULL, s->query, (int)len);
    if (!esc)
        abort(); /* libcurl only fails here when out of memory */
    s->query_escaped = ys_xstrdup(esc);
    curl_free(esc);
}

static void parse_expect(const struct ys_node *c, struct ys_promql_spec *s, struct ys_diag *d)
{
    const struct ys_node *e = ys_node_get(c, "expect");
    char *text = NULL;
    if (!e || ys_cfg_string(e, "expect", &text, d) < 0)
        return;
    if (ys_promql_expect_parse(text, &s->op, &s->threshold) < 0) {
        ys_diag_add(d, e->line, e->col,
                    "expect must be a comparison such as \"> 0.99\" or \"== 1\" (one of > >= < "
                    "<= == != and a number), not '%s'",
                    text);
        free(text);
        return;
    }
    char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    s->expect = ys_xstrndup(p, len);
    free(text);
}

int ys_promql_spec_parse(const struct ys_node *c, const struct ys_check *base,
                         struct ys_promql_spec **out, struct ys_diag *d)
{
    (void)base;
    size_t before = d->n;
    struct ys_promql_spec *s = ys_xcalloc(1, sizeof *s);
    const struct ys_node *src = ys_node_get(c, "source");
    char *name = NULL;
    if (!src)
        ys_cfg_missing(c, "source", "promql check", d);
    else
        ys_cfg_string(src, "source", &name, d);
    free(name); /* model_source.c resolves it to check->source */
    parse_query(c, s, d);
    parse_expect(c, s, d);
    const struct ys_node *m = ys_node_get(c, "mode");
    char *mode = NULL;
    if (m && ys_cfg_string(m, "mode", &mode, d) == 0) {
        if (strcmp(mode, "any") == 0)
            s->mode = YS_PQ_ANY;
        else if (strcmp(mode, "all") != 0)
            ys_diag_add(d, m->line, m->col, "mode must be all or any, not '%s'", mode);
        free(mode);
    }
    *out = s;
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_promql_spec_free(struct ys_promql_spec *s)
{
    if (!s)
        return;
    free(s->query);
    free(s->query_escaped);
    free(s->expect);
    free(s);
}
