/*
 * k8s_probe.c - the probe every Kubernetes kind runs (k8s.h): list each of
 * the spec's paths in turn with k8s_client.c, then hand all the item
 * arrays to the kind's judge.
 *
 * Lifecycle: start -> list 1 -> ... -> list N -> judge, done, free; or
 * start -> cancel: the list in flight is cancelled, done never runs.
 * When the first list cannot even start (a token file that cannot be
 * read), the failed result is still delivered, from a zero timer: the
 * scheduler records nothing for a probe whose start fails, and a monitor
 * whose credentials broke must say so rather than go quiet.
 * Loop thread only.
 */
#include "probe/k8s.h"

#include "config/model.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdlib.h>

struct k8s_probe {
    struct ys_probe super;
    struct ys_curl_multi *multi;
    const struct ys_k8s_spec *spec;
    const struct ys_source *source;
    struct ys_k8s_list *list; /* in flight, or NULL */
    size_t next;              /* the path being listed */
    int64_t deadline_us, timeout_ms;
    json_t *lists[YS_K8S_MAX_PATHS];
    uv_timer_t defer; /* initialised only when deferred */
    bool deferred;
};

static void probe_free(struct k8s_probe *p)
{
    for (size_t i = 0; i < YS_K8S_MAX_PATHS; i++)
        json_decref(p->lists[i]);
    free(p);
}

static int list_next(struct k8s_probe *p);

static void on_closed(uv_handle_t *h)
{
    probe_free(h->data);
}

static void on_deferred(uv_timer_t *t)
{
    struct k8s_probe *p = t->data;
    ys_probe_base_finish(&p->super);
    uv_close((uv_handle_t *)&p->defer, on_closed);
}

static void on_list(json_t *items, struct ys_result *r, void *arg)
{
    struct k8s_probe *p = arg;
    p->list = NULL;
    if (items) {
        p->lists[p->next++] = json_incref(items);
        if (p->next < p->spec->n_paths) {
            if (list_next(p) == 0)
                return;
            if (r->ok)
                ys_result_fail(r, YS_EC_INTERNAL, "could not start the next list");
        } else {
            p->spec->judge(p->spec, p->lists, r->ts_ms, r);
        }
    }
    ys_probe_base_finish(&p->super);
    probe_free(p);
}

static int list_next(struct k8s_probe *p)
{
    int64_t left_ms = (p->deadline_us - ys_mono_us()) / 1000;
    const char *q = p->spec->queries[p->next] ? p->spec->queries[p->next] : p->spec->query;
    return ys_k8s_list_start(p->multi, p->source, p->spec->paths[p->next], q,
                             left_ms > 1 ? left_ms : 1, &p->super.result, on_list, p, &p->list);
}

int ys_k8s_probe_start(struct ys_probe_env *env, const struct ys_check *check,
                       ys_probe_done_cb done, void *arg, struct ys_probe **out)
{
    if (!check->source || !check->spec || check->source->kind != YS_SOURCE_KUBERNETES)
        return YS_EINVAL; /* a config built by hand without sources */
    struct k8s_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, check->type, check, done, arg);
    p->multi = env->curl;
    p->spec = check->spec;
    p->source = check->source;
    p->timeout_ms = check->timeout_ms;
    if (p->source->timeout_ms > 0 && p->source->timeout_ms < p->timeout_ms)
        p->timeout_ms = p->source->timeout_ms;
    p->deadline_us = ys_mono_us() + p->timeout_ms * 1000;
    int rc = list_next(p);
    if (rc < 0 && p->super.result.ok) {
        probe_free(p);
        return rc;
    }
    if (rc < 0) { /* the failure is in the result: deliver it */
        uv_timer_init(env->loop, &p->defer);
        p->defer.data = p;
        p->deferred = true;
        uv_timer_start(&p->defer, on_deferred, 0, 0);
    }
    *out = &p->super;
    return 0;
}

void ys_k8s_probe_cancel(struct ys_probe *probe)
{
    struct k8s_probe *p = (struct k8s_probe *)probe;
    if (p->deferred) {
        uv_timer_stop(&p->defer);
        uv_close((uv_handle_t *)&p->defer, on_closed);
        return;
    }
    if (p->list)
        ys_k8s_list_cancel(p->list);
    probe_free(p);
}
