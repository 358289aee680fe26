/*
 * api_slos.c - GET /api/v1/slos and /api/v1/slos/<name>: each SLO's SLI,
 * error budget, burn rates and alert state, from the cached evaluation
 * (eval.c, at most YS_WEB_EVAL_TTL_MS old). Figures without enough events
 * are null, never NaN (JSON has none). Shapes: docs/api.md.
 *
 * Threads: the server's pool threads.
 */
#include "web/web_int.h"

#include <microhttpd.h>

#include <math.h>
#include <string.h>

static const char *indicator_name(enum ys_indicator i)
{
    return i == YS_SLI_LATENCY ? "latency" : "availability";
}

static json_t *window_json(const struct ys_window *w)
{
    char buf[32];
    if (w->kind == YS_WINDOW_MONTH)
        return json_string("month");
    if (w->kind == YS_WINDOW_QUARTER)
        return json_string("quarter");
    if (w->length_ms % 86400000 == 0)
        snprintf(buf, sizeof buf, "%lldd", (long long)(w->length_ms / 86400000));
    else
        snprintf(buf, sizeof buf, "%llds", (long long)(w->length_ms / 1000));
    return json_string(buf);
}

static json_t *slo_json(const struct ys_config *cfg, size_t i, const struct ys_web_eval *e)
{
    const struct ys_slo *slo = &cfg->slos[i];
    const struct ys_slo_status *st = &e->slos[i];
    bool ok = e->slo_rc[i] == 0;
    json_t *checks = json_array();
    for (size_t k = 0; k < slo->n_members; k++)
        json_array_append_new(checks, json_string(cfg->checks[slo->members[k]].name));
    bool nodata = !ok || st->budget.no_data;
    json_t *budget = json_object();
    json_object_set_new(budget, "remaining",
                        nodata ? json_null() : ys_web_num(st->budget.remaining));
    json_object_set_new(budget, "allowed_bad",
                        ok ? ys_web_num(st->budget.allowed_bad) : json_null());
    json_object_set_new(budget, "consumed_bad",
                        ok ? ys_web_num(st->budget.consumed_bad) : json_null());
    json_object_set_new(budget, "exhausted_at_ms",
                        ok && st->budget.exhausted_at_ms ? json_integer(st->budget.exhausted_at_ms)
                                                         : json_null());
    json_t *burn = json_object();
    for (int w = 0; w < YS_BURN_COUNT; w++)
        json_object_set_new(burn, ys_burn_window_name[w],
                            ok ? ys_web_num(st->burn[w]) : json_null());
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(slo->name));
    json_object_set_new(o, "objective", json_real(slo->objective));
    json_object_set_new(o, "window", window_json(&slo->window));
    json_object_set_new(o, "indicator", json_string(indicator_name(slo->indicator)));
    json_object_set_new(o, "latency_threshold_ms",
                        slo->indicator == YS_SLI_LATENCY ? json_integer(slo->latency_threshold_ms)
                                                         : json_null());
    json_object_set_new(o, "checks", checks);
    json_object_set_new(o, "sli", nodata ? json_null() : ys_web_num(st->budget.sli));
    json_object_set_new(o, "window_start_ms", ok ? json_integer(st->window_start_ms) : json_null());
    json_object_set_new(o, "window_end_ms", ok ? json_integer(st->window_end_ms) : json_null());
    json_object_set_new(o, "total", json_integer(ok ? (json_int_t)st->counts.total : 0));
    json_object_set_new(o, "good", json_integer(ok ? (json_int_t)st->counts.good : 0));
    json_object_set_new(o, "budget", budget);
    json_object_set_new(o, "burn", burn);
    json_object_set_new(o, "alert",
                        json_string(ys_alert_state_name(ok ? st->alert : YS_ALERT_NO_DATA)));
    return o;
}

void ys_web_api_slos(struct ys_web_req *req, const char *name, struct ys_web_reply *rep)
{
    const struct ys_config *cfg = req->snap->cfg;
    long one = -1;
    if (name) {
        for (size_t i = 0; i < cfg->n_slos && one < 0; i++)
            if (strcmp(cfg->slos[i].name, name) == 0)
                one = (long)i;
        if (one < 0) {
            ys_web_reply_error(rep, MHD_HTTP_NOT_FOUND, "no SLO named '%.160s'", name);
            return;
        }
    }
    struct ys_err err = {{0}};
    struct ys_web_eval *e = ys_web_eval_get(req, &err);
    if (!e) {
        ys_web_reply_error(rep, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", err.msg);
        return;
    }
    const struct ys_config *ecfg = e->snap->cfg;
    if (name) {
        ys_web_reply_json(rep, MHD_HTTP_OK,
                          json_pack("{s:o}", "slo", slo_json(ecfg, (size_t)one, e)));
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < ecfg->n_slos; i++)
            json_array_append_new(arr, slo_json(ecfg, i, e));
        ys_web_reply_json(rep, MHD_HTTP_OK, json_pack("{s:o}", "slos", arr));
    }
    ys_web_eval_release(e);
}
