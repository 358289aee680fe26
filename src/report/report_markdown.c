/*
 * report_markdown.c - the report as a Markdown document in the shape of an
 * imported goals plan: "# title", per area "### area" with the table
 * | Target | Baseline | Current | Goal | Priority | Status |, the Current
 * column filled from measurements and a status mark per row, the area's
 * actions as task-list items; then milestones, SLOs and incidents. So the
 * plan stays a living document that `import goals` reads back.
 *
 * Cells escape '|' and fold newlines. Pure formatting; the caller's thread.
 */
#include "report/report.h"

#include "core/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void cell(FILE *out, const char *s)
{
    fputc(' ', out);
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputs(" |", out);
}

static void actions_of(FILE *out, const struct ys_config *cfg, const char *area, bool *printed)
{
    bool any = false;
    for (size_t i = 0; i < cfg->n_actions; i++) {
        const char *a = cfg->actions[i].area ? cfg->actions[i].area : "";
        if (strcmp(a, area) != 0)
            continue;
        if (!any)
            fputc('\n', out);
        any = true;
        printed[i] = true;
        fprintf(out, "- [%c] %s\n", cfg->actions[i].done ? 'x' : ' ', cfg->actions[i].title);
    }
}

static void area(FILE *out, const struct ys_report *r, const struct ys_report_area *ar,
                 bool *printed)
{
    fprintf(out, "\n### %s\n\n", ar->name[0] ? ar->name : "Goals");
    fputs("| Target | Baseline | Current | Goal | Priority | Status |\n", out);
    fputs("|---|---|---|---|---|---|\n", out);
    for (size_t k = 0; k < ar->n_goals; k++) {
        const struct ys_report_goal *g = &r->goals[ar->goals[k]];
        char prio[16] = "", status[64];
        if (g->goal->priority >= 0)
            snprintf(prio, sizeof prio, "P%d", g->goal->priority);
        snprintf(status, sizeof status, "%s %s", ys_report_status_mark(g->eval.status),
                 ys_goal_status_name(g->eval.status));
        fputc('|', out);
        cell(out, g->goal->title ? g->goal->title : g->goal->id);
        cell(out, g->goal->baseline);
        cell(out, g->current[0] ? g->current : "—");
        cell(out, g->goal->target.text);
        cell(out, prio);
        cell(out, status);
        fputc('\n', out);
    }
    actions_of(out, r->cfg, ar->name, printed);
}

static void milestones(FILE *out, const struct ys_report *r)
{
    if (!r->n_milestones)
        return;
    fputs("\n## Milestones\n\n| Milestone | Due | Progress | Status |\n|---|---|---|---|\n", out);
    for (size_t i = 0; i < r->n_milestones; i++) {
        const struct ys_report_milestone *m = &r->milestones[i];
        char prog[48], status[64];
        snprintf(prog, sizeof prog, "%zu/%zu (%.0f%%)", m->n_met, m->n_goals, m->progress * 100);
        snprintf(status, sizeof status, "%s %s", ys_report_status_mark(m->status),
                 ys_goal_status_name(m->status));
        fputc('|', out);
        cell(out, m->m->title);
        cell(out, m->m->due_text ? m->m->due_text : "");
        cell(out, prog);
        cell(out, status);
        fputc('\n', out);
    }
}

static void slos(FILE *out, const struct ys_report *r)
{
    if (!r->n_slos)
        return;
    fputs("\n## SLOs\n\n| SLO | Objective | SLI | Budget left | Burn (1h) | State |\n"
          "|---|---|---|---|---|---|\n",
          out);
    for (size_t i = 0; i < r->n_slos; i++) {
        const struct ys_report_slo *s = &r->slos[i];
        const struct ys_budget *b = &s->st.budget;
        char o[32], sli[32], left[32], burn[32];
        snprintf(o, sizeof o, "%.3g%%", s->slo->objective * 100);
        snprintf(sli, sizeof sli, b->no_data ? "no data" : "%.3f%%", b->sli * 100);
        snprintf(left, sizeof left, b->no_data ? "—" : "%.1f%%", b->remaining * 100);
        snprintf(burn, sizeof burn, isnan(s->st.burn[YS_BURN_1H]) ? "—" : "%.2fx",
                 s->st.burn[YS_BURN_1H]);
        fputc('|', out);
        cell(out, s->slo->name);
        cell(out, o);
        cell(out, sli);
        cell(out, left);
        cell(out, burn);
        cell(out, ys_alert_state_name(s->st.alert));
        fputc('\n', out);
    }
}

void ys_report_write_markdown(FILE *out, const struct ys_report *r)
{
    const struct ys_config *cfg = r->cfg;
    bool *printed = ys_xcalloc(cfg->n_actions + 1, sizeof *printed);
    fprintf(out, "# %s\n\n", r->title);
    fprintf(out,
            "_Measured by yardstick at %s: %zu met, %zu on track, %zu at risk, %zu missed, "
            "%zu no data._\n",
            r->at_text, r->n_status[YS_GOAL_MET], r->n_status[YS_GOAL_ON_TRACK],
            r->n_status[YS_GOAL_AT_RISK], r->n_status[YS_GOAL_MISSED],
            r->n_status[YS_GOAL_NO_DATA]);
    for (size_t a = 0; a < r->n_areas; a++)
        area(out, r, &r->areas[a], printed);
    /* Actions of areas without goals keep their own heading. */
    for (size_t i = 0; i < cfg->n_actions; i++) {
        if (printed[i])
            continue;
        const char *name = cfg->actions[i].area ? cfg->actions[i].area : "";
        fprintf(out, "\n### %s\n", name[0] ? name : "Actions");
        actions_of(out, cfg, name, printed);
    }
    milestones(out, r);
    slos(out, r);
    const struct ys_incident_stats *is = &r->incidents;
    fprintf(out,
            "\n## Incidents (last %d days)\n\n%zu incidents, %.0f s downtime, longest "
            "%.0f s.\n",
            YS_REPORT_INCIDENT_DAYS, is->count, (double)is->downtime_ms / 1000.0,
            (double)is->longest_ms / 1000.0);
    free(printed);
}
