/*
 * report_table.c - the report as aligned text for a terminal: a summary
 * line, one table of goals per area, then milestones, SLOs, incidents and
 * open actions. Column widths count UTF-8 code points, so sparklines and
 * arrows line up. Colours (status words only) when the caller asks.
 *
 * Pure formatting of the model; the caller's thread.
 */
#include "report/report.h"

#include "core/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NCOL_MAX 8

struct table {
    size_t ncol, nrow, cap;
    char **cells; /* nrow * ncol, owned */
    int *color;   /* per row: ANSI colour code of the status cell, 0 none */
    int status_col;
};

static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void row(struct table *t, int color, const char *const *cells)
{
    if (t->nrow == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = ys_xrealloc(t->cells, t->cap * t->ncol * sizeof *t->cells);
        t->color = ys_xrealloc(t->color, t->cap * sizeof *t->color);
    }
    for (size_t c = 0; c < t->ncol; c++)
        t->cells[t->nrow * t->ncol + c] = ys_xstrdup(cells[c] ? cells[c] : "");
    t->color[t->nrow++] = color;
}

static void flush(FILE *out, struct table *t, bool color)
{
    size_t w[NCOL_MAX] = {0};
    for (size_t r = 0; r < t->nrow; r++)
        for (size_t c = 0; c < t->ncol; c++)
            if (width(t->cells[r * t->ncol + c]) > w[c])
                w[c] = width(t->cells[r * t->ncol + c]);
    for (size_t r = 0; r < t->nrow; r++) {
        fputs("  ", out);
        for (size_t c = 0; c < t->ncol; c++) {
            const char *s = t->cells[r * t->ncol + c];
            bool paint = color && t->color[r] && (int)c == t->status_col;
            if (paint)
                fprintf(out, "\033[%dm", t->color[r]);
            fputs(s, out);
            if (paint)
                fputs("\033[0m", out);
            if (c + 1 < t->ncol)
                fprintf(out, "%*s", (int)(w[c] - width(s) + 2), "");
        }
        fputc('\n', out);
        for (size_t c = 0; c < t->ncol; c++)
            free(t->cells[r * t->ncol + c]);
    }
    free(t->cells);
    free(t->color);
    memset(t, 0, sizeof *t);
}

static int status_color(enum ys_goal_status s)
{
    switch (s) {
    case YS_GOAL_MET: return 32;
    case YS_GOAL_ON_TRACK: return 36;
    case YS_GOAL_AT_RISK: return 33;
    case YS_GOAL_MISSED: return 31;
    default: return 90;
    }
}

static void goals(FILE *out, const struct ys_report *r, bool color)
{
    for (size_t a = 0; a < r->n_areas; a++) {
        const struct ys_report_area *ar = &r->areas[a];
        fprintf(out, "\n%s\n", ar->name[0] ? ar->name : "(no area)");
        struct table t = {.ncol = 8, .status_col = 5};
        row(&t, 0,
            (const char *const[]){"ID", "GOAL", "BASELINE", "TARGET", "CURRENT", "STATUS", "DUE",
                                  "TREND"});
        for (size_t k = 0; k < ar->n_goals; k++) {
            const struct ys_report_goal *g = &r->goals[ar->goals[k]];
            char trend[sizeof g->spark + 8];
            snprintf(trend, sizeof trend, "%s%s%s", g->spark, g->arrow[0] ? " " : "", g->arrow);
            row(&t, status_color(g->eval.status),
                (const char *const[]){g->goal->id, g->goal->title, g->goal->baseline,
                                      g->goal->target.text, g->current[0] ? g->current : "-",
                                      ys_goal_status_name(g->eval.status),
                                      g->goal->due_text ? g->goal->due_text : "-", trend});
        }
        flush(out, &t, color);
    }
}

static void milestones_and_slos(FILE *out, const struct ys_report *r, bool color)
{
    char a[64], b[64], c[64];
    if (r->n_milestones) {
        fprintf(out, "\nMilestones\n");
        struct table t = {.ncol = 5, .status_col = 4};
        row(&t, 0, (const char *const[]){"MILESTONE", "DUE", "GOALS MET", "PROGRESS", "STATUS"});
        for (size_t i = 0; i < r->n_milestones; i++) {
            const struct ys_report_milestone *m = &r->milestones[i];
            snprintf(a, sizeof a, "%zu/%zu", m->n_met, m->n_goals);
            snprintf(b, sizeof b, "%.0f%%", m->progress * 100);
            row(&t, status_color(m->status),
                (const char *const[]){m->m->title, m->m->due_text ? m->m->due_text : "-", a, b,
                                      ys_goal_status_name(m->status)});
        }
        flush(out, &t, color);
    }
    if (r->n_slos) {
        fprintf(out, "\nSLOs\n");
        struct table t = {.ncol = 6, .status_col = 5};
        row(&t, 0,
            (const char *const[]){"SLO", "OBJECTIVE", "SLI", "BUDGET LEFT", "BURN 1H", "STATE"});
        for (size_t i = 0; i < r->n_slos; i++) {
            const struct ys_report_slo *s = &r->slos[i];
            const struct ys_budget *bu = &s->st.budget;
            char o[32];
            snprintf(o, sizeof o, "%.3g%%", s->slo->objective * 100);
            snprintf(a, sizeof a, bu->no_data ? "no data" : "%.3f%%", bu->sli * 100);
            snprintf(b, sizeof b, bu->no_data ? "-" : "%.1f%%", bu->remaining * 100);
            double b1 = s->st.burn[YS_BURN_1H];
            snprintf(c, sizeof c, isnan(b1) ? "-" : "%.2fx", b1);
            int col = s->st.alert == YS_ALERT_PAGE     ? 31
                      : s->st.alert == YS_ALERT_TICKET ? 33
                      : s->st.alert == YS_ALERT_OK     ? 32
                                                       : 90;
            row(&t, col,
                (const char *const[]){s->slo->name, o, a, b, c, ys_alert_state_name(s->st.alert)});
        }
        flush(out, &t, color);
    }
}

static void incidents_and_actions(FILE *out, const struct ys_report *r)
{
    const struct ys_incident_stats *is = &r->incidents;
    fprintf(out, "\nIncidents (last %d days): %zu, downtime %.0fs, longest %.0fs",
            YS_REPORT_INCIDENT_DAYS, is->count, (double)is->downtime_ms / 1000.0,
            (double)is->longest_ms / 1000.0);
    if (is->mttr_ms >= 0)
        fprintf(out, ", MTTR %.0fs", (double)is->mttr_ms / 1000.0);
    fputc('\n', out);
    for (size_t i = 0; i < r->n_check_incidents; i++)
        fprintf(out, "  %s: %zu, downtime %.0fs\n", r->check_incidents[i].check->name,
                r->check_incidents[i].stats.count,
                (double)r->check_incidents[i].stats.downtime_ms / 1000.0);
    const struct ys_config *cfg = r->cfg;
    size_t done = 0;
    for (size_t i = 0; i < cfg->n_actions; i++)
        done += cfg->actions[i].done;
    if (cfg->n_actions == 0)
        return;
    fprintf(out, "\nActions: %zu of %zu done\n", done, cfg->n_actions);
    for (size_t i = 0; i < cfg->n_actions; i++)
        fprintf(out, "  [%c] %s\n", cfg->actions[i].done ? 'x' : ' ', cfg->actions[i].title);
}

void ys_report_write_table(FILE *out, const struct ys_report *r, bool color)
{
    fprintf(out, "%s: report at %s\n", r->title, r->at_text);
    fprintf(out, "goals: %zu met, %zu on track, %zu at risk, %zu missed, %zu no data\n",
            r->n_status[YS_GOAL_MET], r->n_status[YS_GOAL_ON_TRACK], r->n_status[YS_GOAL_AT_RISK],
            r->n_status[YS_GOAL_MISSED], r->n_status[YS_GOAL_NO_DATA]);
    goals(out, r, color);
    milestones_and_slos(out, r, color);
    incidents_and_actions(out, r);
}
