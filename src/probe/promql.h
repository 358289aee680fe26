/*
 * promql.h - the `promql` probe kind: an instant PromQL query against a
 * named Prometheus source, with a condition on the values it returns.
 *
 *   - name: nodes-ready
 *     kind: promql
 *     source: cluster-a            # a name under sources: (model_source.c)
 *     query: 'avg(kube_node_status_condition{condition="Ready",status="true"})'
 *     expect: "> 0.99"             # OP NUMBER, OP one of > >= < <= == != (optional)
 *     mode: all                    # all: every series must satisfy; any: one is enough
 *
 * Parsing (promql_spec.c), judging a response (promql_judge.c, pure, so
 * recorded responses can be tested without a server) and running the
 * request on the loop (promql.c) are kept apart.
 */
#ifndef YS_PROBE_PROMQL_H
#define YS_PROBE_PROMQL_H

#include "core/result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_node;
struct ys_check;
struct ys_diag;

/* The most response body a probe keeps; past it the probe fails. */
#define YS_PROMQL_MAX_RESPONSE (4 * 1024 * 1024)

enum ys_promql_op { YS_PQ_NONE = 0, YS_PQ_GT, YS_PQ_GE, YS_PQ_LT, YS_PQ_LE, YS_PQ_EQ, YS_PQ_NE };
enum ys_promql_mode { YS_PQ_ALL = 0, YS_PQ_ANY };

struct ys_promql_spec {
    char *query;          /* as written */
    char *query_escaped;  /* URL-encoded, for the query string */
    enum ys_promql_op op; /* YS_PQ_NONE: any value passes */
    double threshold;
    char *expect; /* as written, trimmed, for messages; NULL without one */
    enum ys_promql_mode mode;
};

/* The kind's keys besides the common ones (NULL-terminated). */
extern const char *const ys_promql_keys[];

/* Reads the check's fields into an owned spec (free with
 * ys_promql_spec_free). Returns 0 or YS_ECONFIG with every problem in d. */
int ys_promql_spec_parse(const struct ys_node *check, const struct ys_check *base,
                         struct ys_promql_spec **out, struct ys_diag *d);
void ys_promql_spec_free(struct ys_promql_spec *s);

/* Parses "OP NUMBER" (spaces allowed around both). Returns 0, or YS_EINVAL
 * when text is not a comparison with a finite number. */
int ys_promql_expect_parse(const char *text, enum ys_promql_op *op, double *threshold);

/* Judges one response of /api/v1/query (body borrowed, len bytes, any
 * HTTP status) into r, which holds the probe's result so far:
 *  - 401/403: failed, naming the credentials;
 *  - a Prometheus error document: failed, "Prometheus error <type>: <msg>";
 *  - a vector or scalar: the value is the one series' value, or for
 *    several the one that decides the verdict by the operator (mode all:
 *    the furthest on the failing side, min for > >=, max for < <=, the
 *    first failing for == !=; mode any: the best one); stored when finite;
 *  - no series: failed with class no_data, "no data: ...", and no value
 *    (never 0), which SLOs do not count;
 *  - matrix, string, or anything malformed: failed.
 * facts becomes {"series":N,"passing":K}. */
void ys_promql_judge(const struct ys_promql_spec *s, long http_status, const char *body, size_t len,
                     struct ys_result *r);

#endif
