/*
 * rules_gen.c - `yardstick rules`: the SLOs of a config as Prometheus rule
 * groups or a Sloth spec (rules_gen.h, docs/rules.md).
 *
 * Prometheus output: one group per SLO, named yardstick-slo-<name>, whose
 * rules all carry the label slo=<name>:
 *   slo:yardstick_sli_error:ratio_rate<w>   error ratio over each burn
 *       window w of slo/slo_math.c (5m ... 3d), left empty (no data) when
 *       the window saw fewer than min_events probes, as yardstick does;
 *   slo:yardstick_objective:ratio, slo:yardstick_error_budget:ratio;
 *   for rolling windows, slo:yardstick_sli_error:ratio_period (label
 *       window) and slo:yardstick_error_budget_remaining:ratio. Calendar
 *       windows have none: a PromQL range cannot start at the 1st of a
 *       month in a time zone (/metrics exports yardstick's own figure);
 *   two alerts named YARDSTICK_ALERT_NAME, severity page and ticket, each
 *       the "or" of its two multiwindow conditions from ys_burn_conditions,
 *       their factors scaled to the SLO's period unless o->factors is
 *       FIXED (ys_rules_burn_factor).
 * The recording rules come first in the group: Prometheus evaluates a
 * group's rules in order, so the alerts read ratios of the same pass.
 *
 * Events are the counters of every check the SLO covers, summed: the
 * member list is resolved from the config now, so rules must be generated
 * again when a selector comes to match other checks. A latency SLO reads
 * the pair of counters of its threshold (fast and latency), never the
 * check's own total: the pair starts together when a reload adds the
 * threshold, the check's total does not.
 *
 * YAML is written with libyaml's emitter rather than by hand: it quotes
 * whatever PromQL text needs quoting (braces, quotes, colons, "#") and
 * writes multi-line expressions as literal blocks. Strings a YAML reader
 * would take for a number, boolean or null are double-quoted here, since
 * the emitter does not resolve types itself.
 */
#include "query/rules_gen.h"

#include "core/xalloc.h"
#include "slo/slo_math.h"

#include <yaml.h>

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growing string. */
struct sb {
    char *p;
    size_t n, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            return;
        if (b->p && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap * 2 + (size_t)k + 64;
        b->p = ys_xrealloc(b->p, b->cap);
    }
}

const char *ys_rules_seconds(int64_t ms, char *buf, size_t size)
{
    /* Integer arithmetic, so /metrics and the rules always agree. */
    snprintf(buf, size, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
    char *end = buf + strlen(buf);
    while (end > buf && end[-1] == '0')
        *--end = '\0';
    if (end > buf && end[-1] == '.')
        end[-1] = '\0';
    return buf;
}

const char *ys_rules_duration(int64_t ms, char *buf, size_t size)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms > 0 && ms % units[i].ms == 0) {
            snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return buf;
        }
    snprintf(buf, size, "%lldms", (long long)ms);
    return buf;
}

char *ys_rules_selector(const struct ys_config *cfg, const struct ys_slo *slo, const char *matchers)
{
    struct sb b = {0};
    sb_add(&b, "check%s\"", slo->n_members == 1 ? "=" : "=~");
    for (size_t i = 0; i < slo->n_members; i++) {
        const char *name = cfg->checks[slo->members[i]].name;
        if (i > 0)
            sb_add(&b, "|");
        /* Check names are [A-Za-z0-9._-]: only the dot is special in a
         * regex, and its backslash is escaped again for the PromQL string. */
        for (; *name; name++)
            sb_add(&b, *name == '.' && slo->n_members > 1 ? "\\\\." : "%c", *name);
    }
    sb_add(&b, "\"");
    if (matchers && *matchers)
        sb_add(&b, ",%s", matchers);
    return b.p;
}

/* The counter series of all of slo's events, without a range: every
 * probe for availability; for latency the probes counted by the
 * threshold's slot (yardstick_check_results_latency_total), which starts
 * together with its fast counter when a reload adds the threshold, where
 * the check's own total keeps counting over reloads. Owned. */
static char *events_series(const struct ys_config *cfg, const struct ys_slo *slo,
                           const char *matchers)
{
    char *sel = ys_rules_selector(cfg, slo, matchers), *s, th[32];
    if (slo->indicator == YS_SLI_LATENCY)
        s = ys_xasprintf("yardstick_check_results_latency_total{%s,threshold=\"%s\"}", sel,
                         ys_rules_seconds(slo->latency_threshold_ms, th, sizeof th));
    else
        s = ys_xasprintf("yardstick_check_results_total{%s}", sel);
    free(sel);
    return s;
}

char *ys_rules_total_expr(const struct ys_config *cfg, const struct ys_slo *slo,
                          const char *matchers, const char *window)
{
    char *series = events_series(cfg, slo, matchers);
    char *s = ys_xasprintf("sum(rate(%s[%s]))", series, window);
    free(series);
    return s;
}

char *ys_rules_errors_expr(const struct ys_config *cfg, const struct ys_slo *slo,
                           const char *matchers, const char *window)
{
    char *sel = ys_rules_selector(cfg, slo, matchers), *s;
    if (slo->indicator == YS_SLI_LATENCY) {
        char th[32];
        ys_rules_seconds(slo->latency_threshold_ms, th, sizeof th);
        s = ys_xasprintf(
            "sum(rate(yardstick_check_results_latency_total{%s,threshold=\"%s\"}[%s]))\n-\n"
            "sum(rate(yardstick_check_results_fast_total{%s,threshold=\"%s\"}[%s]))",
            sel, th, window, sel, th, window);
    } else {
        s = ys_xasprintf("sum(rate(yardstick_check_results_total{%s,result=\"fail\"}[%s]))", sel,
                         window);
    }
    free(sel);
    return s;
}

/* The error ratio over window, with the min_events clause. Owned. */
static char *error_ratio(const struct ys_config *cfg, const struct ys_slo *slo,
                         const struct ys_rules_options *o, const char *window)
{
    char *errors = ys_rules_errors_expr(cfg, slo, o->matchers, window);
    char *total = ys_rules_total_expr(cfg, slo, o->matchers, window);
    struct sb b = {0};
    sb_add(&b, "(\n  ");
    for (const char *c = errors; *c; c++)
        sb_add(&b, *c == '\n' ? "\n  " : "%c", *c);
    sb_add(&b, "\n)\n/\n%s", total);
    if (o->min_events > 0) {
        char *series = events_series(cfg, slo, o->matchers);
        sb_add(&b, "\nand\nsum(increase(%s[%s])) >= %d", series, window, o->min_events);
        free(series);
    }
    free(errors);
    free(total);
    return b.p;
}

int64_t ys_rules_slo_period_ms(const struct ys_slo *slo)
{
    return ys_window_nominal_ms(&slo->window);
}

double ys_rules_burn_factor(const struct ys_slo *slo, const struct ys_burn_condition *c,
                            enum ys_rules_factors f)
{
    /* The workbook's factors spend a share of a 30-day budget in the long
     * window (14.4 x 1h = 2% of 720h); the same share of another period's
     * budget is factor x period / 30d, Sloth's budget% x period / window. */
    if (f == YS_RULES_FACTORS_FIXED)
        return c->factor;
    return c->factor * ys_burn_scale(ys_rules_slo_period_ms(slo));
}

/* ---- YAML emission ---- */

struct emit {
    yaml_emitter_t em;
    struct sb out;
    bool failed;
};

static int write_cb(void *data, unsigned char *buf, size_t size)
{
    struct sb *b = data;
    sb_add(b, "%.*s", (int)size, (const char *)buf);
    return 1;
}

/* Emits event; the emitter frees it, even on failure. After a failure
 * the rest are only freed. */
static void ev(struct emit *e, yaml_event_t *event)
{
    if (e->failed)
        yaml_event_delete(event);
    else if (!yaml_emitter_emit(&e->em, event))
        e->failed = true;
}

/* True when a YAML 1.1 or 1.2 reader would type s as other than a string. */
static bool looks_typed(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no",   "on",
                                        "off",  "y",     "n",   "null", "~"};
    if (!*s)
        return true;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    /* Numbers in any notation, and YAML 1.1's 1_000, 1:30 and dates. */
    char *end;
    (void)strtod(s, &end);
    return *end == '\0' || s[strspn(s, "0123456789_:.+-eE")] == '\0';
}

static void scalar_styled(struct emit *e, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t event;
    if (!yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
                                      style)) {
        e->failed = true;
        return;
    }
    ev(e, &event);
}

static void str(struct emit *e, const char *s)
{
    yaml_scalar_style_t style = strchr(s, '\n')  ? YAML_LITERAL_SCALAR_STYLE
                                : looks_typed(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                 : YAML_ANY_SCALAR_STYLE;
    scalar_styled(e, s, style);
}

static void pair(struct emit *e, const char *key, const char *value)
{
    str(e, key);
    str(e, value);
}

static void map_start(struct emit *e)
{
    yaml_event_t event;
    yaml_mapping_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    ev(e, &event);
}

static void map_end(struct emit *e)
{
    yaml_event_t event;
    yaml_mapping_end_event_initialize(&event);
    ev(e, &event);
}

static void seq_start(struct emit *e)
{
    yaml_event_t event;
    yaml_sequence_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    ev(e, &event);
}

static void seq_end(struct emit *e)
{
    yaml_event_t event;
    yaml_sequence_end_event_initialize(&event);
    ev(e, &event);
}

/* ---- Prometheus rule groups ---- */

/* Opens one rule: record or alert NAME, its expression, labels slo (and
 * extra_key: extra_value when extra_key is not NULL). The rule's mapping
 * stays open, for annotations: the caller closes it with map_end. */
static void rule(struct emit *e, const char *kind, const char *name, const char *expr,
                 const struct ys_slo *slo, const char *extra_key, const char *extra_value)
{
    map_start(e);
    pair(e, kind, name);
    pair(e, "expr", expr);
    str(e, "labels");
    map_start(e);
    if (extra_key)
        pair(e, extra_key, extra_value);
    pair(e, "slo", slo->name);
    map_end(e);
}

/* The factor of condition c for slo, as written in the rules: four
 * significant digits (13.44, 0.9333), the same text in the expression and
 * the description. */
static const char *factor_text(const struct ys_slo *slo, const struct ys_rules_options *o,
                               const struct ys_burn_condition *c, char *buf, size_t size)
{
    snprintf(buf, size, "%.4g", ys_rules_burn_factor(slo, c, o->factors));
    return buf;
}

/* The "or" of the two conditions of severity sev, over the recorded ratios. */
static char *alert_expr(const struct ys_slo *slo, const struct ys_rules_options *o,
                        enum ys_alert_state sev, const char *budget)
{
    struct sb b = {0};
    char f[32];
    for (int i = 0; i < 4; i++) {
        const struct ys_burn_condition *c = &ys_burn_conditions[i];
        if (c->severity != sev)
            continue;
        if (b.p)
            sb_add(&b, "\nor\n");
        factor_text(slo, o, c, f, sizeof f);
        sb_add(&b,
               "(\n  slo:yardstick_sli_error:ratio_rate%s{slo=\"%s\"} > (%s * %s)\n  and\n"
               "  slo:yardstick_sli_error:ratio_rate%s{slo=\"%s\"} > (%s * %s)\n)",
               ys_burn_window_name[c->long_w], slo->name, f, budget,
               ys_burn_window_name[c->short_w], slo->name, f, budget);
    }
    return b.p;
}

/* "1h and 5m above 14.4x, or 6h and 30m above 6x" for a severity, for the
 * description. */
static char *conditions_text(const struct ys_slo *slo, const struct ys_rules_options *o,
                             enum ys_alert_state sev)
{
    struct sb b = {0};
    char f[32];
    for (int i = 0; i < 4; i++) {
        const struct ys_burn_condition *c = &ys_burn_conditions[i];
        if (c->severity == sev)
            sb_add(&b, "%s%s and %s above %sx", b.p ? ", or " : "", ys_burn_window_name[c->long_w],
                   ys_burn_window_name[c->short_w], factor_text(slo, o, c, f, sizeof f));
    }
    return b.p;
}

static void alert_rule(struct emit *e, const struct ys_slo *slo, const struct ys_rules_options *o,
                       enum ys_alert_state sev, const char *budget)
{
    const char *sev_name = ys_alert_state_name(sev);
    char *expr = alert_expr(slo, o, sev, budget), *cond = conditions_text(slo, o, sev);
    char *summary = ys_xasprintf("SLO %s is burning its error budget (%s)", slo->name, sev_name);
    /* No {{ $value }}: the text stays the same while the alert fires, and
     * Alertmanager shows the value anyway. */
    char *desc =
        ys_xasprintf("Burn rate of SLO %s (error budget %s): %s.", slo->name, budget, cond);
    rule(e, "alert", YS_RULES_ALERT_NAME, expr, slo, "severity", sev_name);
    str(e, "annotations");
    map_start(e);
    pair(e, "summary", summary);
    pair(e, "description", desc);
    map_end(e);
    map_end(e);
    free(expr);
    free(cond);
    free(summary);
    free(desc);
}

static void slo_group(struct emit *e, const struct ys_config *cfg, const struct ys_slo *slo,
                      const struct ys_rules_options *o)
{
    char budget[64], objective[64], name[64], period[32];
    snprintf(budget, sizeof budget, "%.10g", 1.0 - slo->objective);
    snprintf(objective, sizeof objective, "%.10g", slo->objective);
    char *group = ys_xasprintf("yardstick-slo-%s", slo->name);
    map_start(e);
    pair(e, "name", group);
    str(e, "rules");
    seq_start(e);
    for (int w = 0; w < YS_BURN_COUNT; w++) {
        char *expr = error_ratio(cfg, slo, o, ys_burn_window_name[w]);
        snprintf(name, sizeof name, "slo:yardstick_sli_error:ratio_rate%s", ys_burn_window_name[w]);
        rule(e, "record", name, expr, slo, NULL, NULL);
        map_end(e);
        free(expr);
    }
    char *expr = ys_xasprintf("vector(%s)", objective);
    rule(e, "record", "slo:yardstick_objective:ratio", expr, slo, NULL, NULL);
    map_end(e);
    free(expr);
    expr = ys_xasprintf("vector(%s)", budget);
    rule(e, "record", "slo:yardstick_error_budget:ratio", expr, slo, NULL, NULL);
    map_end(e);
    free(expr);
    if (slo->window.kind == YS_WINDOW_ROLLING) {
        ys_rules_duration(slo->window.length_ms, period, sizeof period);
        expr = error_ratio(cfg, slo, o, period);
        rule(e, "record", "slo:yardstick_sli_error:ratio_period", expr, slo, "window", period);
        map_end(e);
        free(expr);
        expr = ys_xasprintf("1 - slo:yardstick_sli_error:ratio_period{slo=\"%s\"} / %s", slo->name,
                            budget);
        rule(e, "record", "slo:yardstick_error_budget_remaining:ratio", expr, slo, NULL, NULL);
        map_end(e);
        free(expr);
    }
    alert_rule(e, slo, o, YS_ALERT_PAGE, budget);
    alert_rule(e, slo, o, YS_ALERT_TICKET, budget);
    seq_end(e);
    map_end(e);
    free(group);
}

/* ---- Sloth ---- */

static void sloth_alerting(struct emit *e, const struct ys_slo *slo)
{
    static const char *const sev[2][2] = {{"page_alert", "page"}, {"ticket_alert", "ticket"}};
    char *summary = ys_xasprintf("SLO %s is burning its error budget", slo->name);
    str(e, "alerting");
    map_start(e);
    pair(e, "name", YS_RULES_ALERT_NAME);
    str(e, "labels");
    map_start(e);
    pair(e, "slo", slo->name);
    map_end(e);
    str(e, "annotations");
    map_start(e);
    pair(e, "summary", summary);
    map_end(e);
    for (int i = 0; i < 2; i++) {
        str(e, sev[i][0]);
        map_start(e);
        str(e, "labels");
        map_start(e);
        pair(e, "severity", sev[i][1]);
        map_end(e);
        map_end(e);
    }
    map_end(e);
    free(summary);
}

static void sloth_slo(struct emit *e, const struct ys_config *cfg, const struct ys_slo *slo,
                      const struct ys_rules_options *o)
{
    char num[64], th[32];
    snprintf(num, sizeof num, "%.10g", slo->objective * 100.0);
    char *desc = slo->indicator == YS_SLI_LATENCY
                     ? ys_xasprintf("yardstick SLO %s: passing probes at most %ss long", slo->name,
                                    ys_rules_seconds(slo->latency_threshold_ms, th, sizeof th))
                     : ys_xasprintf("yardstick SLO %s: passing probes", slo->name);
    char *errors = ys_rules_errors_expr(cfg, slo, o->matchers, "{{.window}}");
    char *total = ys_rules_total_expr(cfg, slo, o->matchers, "{{.window}}");
    map_start(e);
    pair(e, "name", slo->name);
    str(e, "objective");
    scalar_styled(e, num, YAML_PLAIN_SCALAR_STYLE);
    pair(e, "description", desc);
    str(e, "sli");
    map_start(e);
    str(e, "events");
    map_start(e);
    pair(e, "error_query", errors);
    pair(e, "total_query", total);
    map_end(e);
    map_end(e);
    sloth_alerting(e, slo);
    map_end(e);
    free(desc);
    free(errors);
    free(total);
}

static void body(struct emit *e, const struct ys_config *cfg, const struct ys_rules_options *o)
{
    map_start(e);
    if (o->format == YS_RULES_SLOTH) {
        pair(e, "version", "prometheus/v1");
        pair(e, "service", o->service ? o->service : "yardstick");
        str(e, "slos");
    } else {
        str(e, "groups");
    }
    seq_start(e);
    for (size_t i = 0; i < cfg->n_slos; i++) {
        const struct ys_slo *slo = &cfg->slos[i];
        if (o->slo && strcmp(o->slo, slo->name) != 0)
            continue;
        if (o->format == YS_RULES_SLOTH)
            sloth_slo(e, cfg, slo, o);
        else
            slo_group(e, cfg, slo, o);
    }
    seq_end(e);
    map_end(e);
}

int ys_rules_render(const struct ys_config *cfg, const struct ys_rules_options *o, char **out,
                    size_t *len, struct ys_err *err)
{
    *out = NULL;
    if (cfg->n_slos == 0)
        return ys_err_set(err, YS_EINVAL, "the configuration has no slos");
    if (o->slo && !ys_config_find_slo(cfg, o->slo))
        return ys_err_set(err, YS_ENOTFOUND, "no SLO named '%s'", o->slo);
    struct emit e = {0};
    yaml_event_t event;
    if (!yaml_emitter_initialize(&e.em))
        return ys_err_set(err, YS_EINTERNAL, "cannot start the YAML emitter");
    yaml_emitter_set_output(&e.em, write_cb, &e.out);
    yaml_emitter_set_unicode(&e.em, 1);
    yaml_emitter_set_width(&e.em, -1); /* never fold a long expression */
    yaml_emitter_set_indent(&e.em, 2);
    yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
    ev(&e, &event);
    yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 1);
    ev(&e, &event);
    body(&e, cfg, o);
    yaml_document_end_event_initialize(&event, 1);
    ev(&e, &event);
    yaml_stream_end_event_initialize(&event);
    ev(&e, &event);
    int rc = 0;
    if (e.failed || !yaml_emitter_flush(&e.em)) {
        rc = ys_err_set(err, YS_EINTERNAL, "YAML emitter: %s",
                        e.em.problem ? e.em.problem : "failed");
        free(e.out.p);
    } else {
        sb_add(&e.out, "%s", ""); /* a terminated buffer even when empty */
        *out = e.out.p;
        if (len)
            *len = e.out.n;
    }
    yaml_emitter_delete(&e.em);
    return rc;
}
