/*
 * k8s_cronjobs.c - the `k8s_cronjobs` kind (k8s.h): CronJobs that succeed
 * often enough (batch/v1).
 *
 *   - name: backups
 *     kind: k8s_cronjobs
 *     cluster: prod
 *     namespace: backup             # default: all namespaces
 *     max_age: 25h                  # the last success may be this old (default 25h)
 *
 * A CronJob fails when spec.suspend is true, when it has never succeeded
 * (no status.lastSuccessfulTime), or when its last success is older than
 * max_age. The schedule itself is not read: max_age says what "often
 * enough" means for the jobs the check selects, which is simpler to
 * reason about than a cron expression in the cluster's time zone. The
 * value is the seconds since the oldest last success.
 */
#include "probe/k8s.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_AGE_MS (25LL * 3600 * 1000)

const char *const ys_k8s_cronjobs_keys[] = {"cluster",        "namespace", "selector",
                                            "field_selector", "max_age",   NULL};

int ys_k8s_cronjobs_parse(const struct ys_node *c, void **spec, struct ys_diag *d)
{
    size_t before = d->n;
    struct ys_k8s_cronjobs_spec *s = ys_xcalloc(1, sizeof *s);
    ys_k8s_spec_one(c, "k8s_cronjobs", &s->base, "/apis/batch/v1", "cronjobs",
                    ys_k8s_cronjobs_judge, d);
    s->max_age_ms = DEFAULT_MAX_AGE_MS;
    const struct ys_node *m = ys_node_get(c, "max_age");
    if (m)
        ys_cfg_duration(m, "max_age", &s->max_age_ms, d);
    *spec = s;
    return d->n > before ? YS_ECONFIG : 0;
}

void ys_k8s_cronjobs_judge(const void *spec, json_t *const *lists, int64_t now_ms,
                           struct ys_result *r)
{
    const struct ys_k8s_cronjobs_spec *s = spec;
    size_t i, total = json_array_size(lists[0]), failing = 0, dropped = 0;
    int64_t oldest = -1;
    const json_t *cj;
    char names[200] = "";
    json_array_foreach(lists[0], i, cj)
    {
        const json_t *st = json_object_get(cj, "status");
        int64_t last = ys_k8s_time(json_string_value(json_object_get(st, "lastSuccessfulTime")));
        ys_k8s_min_time(&oldest, last);
        char why[64] = "", age[32];
        if (json_is_true(json_object_get(json_object_get(cj, "spec"), "suspend"))) {
            snprintf(why, sizeof why, "suspended");
        } else if (last < 0) {
            snprintf(why, sizeof why, "never succeeded");
        } else if (now_ms - last > s->max_age_ms) {
            /* Whole hours (minutes under an hour): a message that changed
             * every probe would add a row to the store's text dictionary
             * each time. */
            int64_t unit = now_ms - last >= 3600000 ? 3600000 : 60000;
            ys_duration_format((now_ms - last) / unit * unit, age, sizeof age);
            snprintf(why, sizeof why, "last success %s ago", age);
        }
        if (!why[0])
            continue;
        failing++;
        char ref[320], one[512];
        ys_k8s_ref(cj, ref, sizeof ref);
        snprintf(one, sizeof one, "%s (%s)", ref, why);
        ys_k8s_name_list(names, sizeof names, one, &dropped);
    }
    snprintf(r->facts, sizeof r->facts, "{\"cronjobs\":%zu,\"failing\":%zu}", total, failing);
    ys_k8s_age_value(r, now_ms, oldest);
    ys_k8s_verdict(r, total, "CronJobs", failing > 0, names, dropped, "%zu of %zu CronJobs failing",
                   failing, total);
}

YS_K8S_PROBE_TYPE(ys_probe_k8s_cronjobs, "k8s_cronjobs", ys_k8s_cronjobs_keys,
                  ys_k8s_cronjobs_parse, ys_k8s_spec_free);
