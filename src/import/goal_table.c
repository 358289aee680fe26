/*
 * goal_table.c - one Markdown table, already reduced to plain-text cells,
 * becomes goals or milestones of a plan; plus the importer's text helpers
 * (slugs, dates as people write them in plans, UTF-8 repair).
 *
 * A table is classified by its header row only (ys_md_table_kind), so a
 * stray cell can never turn a table into something else half-way. Column
 * roles come from whole words in the lower-cased header: "goal"/"target"
 * mark goal columns (never the first column, which names the target),
 * "current"/"baseline" the baseline, "priority" the priority, "due"/"date"
 * a per-row due date. Goal ids are slugs of area and target name, made
 * unique in the plan with -2, -3 suffixes.
 *
 * Pure string work on the caller's thread; no I/O.
 */
#include "import/goal_table.h"

#include "core/xalloc.h"
#include "slo/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col_role { COL_OTHER = 0, COL_GOAL, COL_CURRENT, COL_PRIORITY, COL_DUE };

static const char *cell(const struct ys_md_table *t, size_t r, size_t c)
{
    return t->cells[r * t->ncols + c];
}

/* ASCII lower-case copy; the header words we look for are ASCII. */
static char *lower(const char *s)
{
    char *l = ys_xstrdup(s);
    for (char *q = l; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    return l;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int ys_md_has_word(const char *h, const char *w)
{
    size_t wl = strlen(w);
    for (const char *q = h; (q = strstr(q, w)) != NULL; q++) {
        int start = q == h || !is_alnum((unsigned char)q[-1]);
        int end = !is_alnum((unsigned char)q[wl]);
        if (start && end)
            return 1;
    }
    return 0;
}

static int has_any(const char *h, const char *const *words)
{
    for (; *words; words++)
        if (ys_md_has_word(h, *words))
            return 1;
    return 0;
}

static const char *const due_words[] = {"due", "deadline", "date", "when", NULL};
static const char *const goal_words[] = {"goal", "goals", "target", "targets", "objective", NULL};

static enum col_role col_role(const char *header, size_t idx)
{
    char *h = lower(header);
    enum col_role r = COL_OTHER;
    if (has_any(h, due_words))
        r = COL_DUE;
    else if (ys_md_has_word(h, "current") || ys_md_has_word(h, "baseline") ||
             ys_md_has_word(h, "today") || ys_md_has_word(h, "actual"))
        r = COL_CURRENT;
    else if (ys_md_has_word(h, "priority") || ys_md_has_word(h, "prio"))
        r = COL_PRIORITY;
    else if (idx > 0 && has_any(h, goal_words))
        r = COL_GOAL;
    free(h);
    return r;
}

/* The first column whose lower-cased header has one of words, or ncols. */
static size_t find_col(const struct ys_md_table *t, const char *const *words, size_t from)
{
    for (size_t c = from; c < t->ncols; c++) {
        char *h = lower(cell(t, 0, c));
        int hit = has_any(h, words);
        free(h);
        if (hit)
            return c;
    }
    return t->ncols;
}

enum ys_md_table_kind ys_md_table_kind(const struct ys_md_table *t)
{
    static const char *const ms[] = {"milestone", "milestones", NULL};
    static const char *const quarter[] = {"quarter", NULL};
    static const char *const qtarget[] = {"version", "goal", "target", NULL};
    if (t->nrows < 1 || t->ncols < 2)
        return YS_MDT_OTHER;
    if (find_col(t, ms, 0) < t->ncols)
        return YS_MDT_MILESTONES;
    if (find_col(t, quarter, 0) == 0 && find_col(t, qtarget, 1) < t->ncols)
        return YS_MDT_QUARTERS;
    for (size_t c = 1; c < t->ncols; c++)
        if (col_role(cell(t, 0, c), c) == COL_GOAL)
            return YS_MDT_GOALS;
    return YS_MDT_OTHER;
}

/* Cells that say "nothing here". */
static int is_blank(const char *s)
{
    static const char *const blanks[] = {
        "", "-", "--", "\xe2\x80\x94", "\xe2\x80\x93", "n/a", "na", "tbd", "?", NULL};
    char *l = lower(s);
    int hit = 0;
    for (const char *const *b = blanks; *b && !hit; b++)
        hit = strcmp(l, *b) == 0;
    free(l);
    return hit;
}

static int parse_priority(const char *s)
{
    char *l = lower(s);
    int p = -1;
    for (const char *q = l; *q && p < 0; q++)
        if (*q == 'p' && q[1] >= '0' && q[1] <= '3' && !is_alnum((unsigned char)q[2]) &&
            (q == l || !is_alnum((unsigned char)q[-1])))
            p = q[1] - '0';
    if (p < 0) {
        static const char *const names[] = {"critical", "high", "medium", "low"};
        for (int i = 0; i < 4 && p < 0; i++)
            if (ys_md_has_word(l, names[i]))
                p = i;
    }
    free(l);
    return p;
}

static const char *op_text(enum ys_target_op op)
{
    switch (op) {
    case YS_TOP_GE: return ">=";
    case YS_TOP_GT: return ">";
    case YS_TOP_LE: return "<=";
    case YS_TOP_LT: return "<";
    default: return NULL;
    }
}

/* Sets g->target: the cell made explicit ("99.5%" -> ">= 99.5%") when the
 * explicit form parses to the same target, the cell itself when only that
 * parses, NULL when the text cannot be typed. */
static void set_target(struct ys_md_goal *g, const char *text)
{
    struct ys_target t, t2;
    char e[160];
    g->target_text = ys_xstrdup(text);
    if (ys_target_parse(text, &t, e, sizeof e) != 0)
        return;
    const char *op = op_text(t.op);
    int bare = strchr("<>=", text[0]) == NULL && strncmp(text, "\xe2\x89", 2) != 0;
    if (op && bare && t.unit != YS_TU_FRESHNESS && t.unit != YS_TU_BOOL) {
        char *explicit_form = ys_xasprintf("%s %s", op, text);
        if (ys_target_parse(explicit_form, &t2, e, sizeof e) == 0 && t2.op == t.op &&
            t2.unit == t.unit && t2.lo == t.lo) {
            g->target = explicit_form;
            return;
        }
        free(explicit_form);
    }
    g->target = ys_xstrdup(text);
}

struct ys_md_id_slot {
    const char *id; /* NULL: empty */
    int next;       /* the next -N suffix to try for this base */
};

static size_t id_hash(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot holding id, or the empty slot where it would go. */
static struct ys_md_id_slot *id_slot(const struct ys_md_plan *p, const char *id)
{
    size_t i = id_hash(id) & (p->id_cap - 1);
    while (p->id_slots[i].id && strcmp(p->id_slots[i].id, id) != 0)
        i = (i + 1) & (p->id_cap - 1);
    return &p->id_slots[i];
}

static void id_insert(struct ys_md_plan *p, const char *id)
{
    if (2 * (p->id_used + 1) > p->id_cap) {
        struct ys_md_id_slot *old = p->id_slots;
        size_t old_cap = p->id_cap;
        p->id_cap = p->id_cap ? 2 * p->id_cap : 64;
        p->id_slots = ys_xcalloc(p->id_cap, sizeof *p->id_slots);
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].id)
                *id_slot(p, old[i].id) = old[i];
        free(old);
    }
    struct ys_md_id_slot *s = id_slot(p, id);
    s->id = id;
    s->next = 2;
    p->id_used++;
}

/* Takes base; returns it or base-2, base-3, ... whichever is free, and
 * records the result as taken. */
static char *unique_id(struct ys_md_plan *p, char *base)
{
    char *id = base;
    if (p->id_cap && id_slot(p, base)->id) {
        struct ys_md_id_slot *b = id_slot(p, base);
        for (;;) {
            id = ys_xasprintf("%s-%d", base, b->next++);
            if (!id_slot(p, id)->id)
                break;
            free(id);
        }
        free(base);
    }
    id_insert(p, id);
    return id;
}

static struct ys_md_goal *new_goal(struct ys_md_plan *p, const char *area, const char *idtext,
                                   int line)
{
    if (p->n_goals == p->cap_goals) {
        p->cap_goals = p->cap_goals ? 2 * p->cap_goals : 16;
        p->goals = ys_xrealloc(p->goals, p->cap_goals * sizeof *p->goals);
    }
    struct ys_md_goal *g = &p->goals[p->n_goals];
    memset(g, 0, sizeof *g);
    char *full = ys_xasprintf("%s %s", area, idtext);
    g->id = unique_id(p, ys_md_slug(full));
    free(full);
    g->area = ys_xstrdup(area);
    g->priority = -1;
    g->line = line;
    p->n_goals++;
    return g;
}

/* One goal column of one row of a goals table. */
static void add_row_goal(struct ys_md_plan *p, const struct ys_md_table *t,
                         const enum col_role *roles, size_t r, size_t gc, size_t n_goal_cols,
                         const char *area)
{
    const char *name = cell(t, r, 0), *text = cell(t, r, gc), *header = cell(t, 0, gc);
    int qyear = p->year;
    int q = ys_md_find_quarter(header, &qyear);
    char *suffix = q ? ys_xasprintf("Q%d", q) : n_goal_cols > 1 ? ys_xstrdup(header) : NULL;
    char *idtext = suffix ? ys_xasprintf("%s %s", name, suffix) : ys_xstrdup(name);
    struct ys_md_goal *g = new_goal(p, area, idtext, t->row_line[r]);
    free(idtext);
    g->title = suffix ? ys_xasprintf("%s (%s)", name, suffix) : ys_xstrdup(name);
    free(suffix);
    set_target(g, text);
    char due[11];
    for (size_t c = 1; c < t->ncols; c++) {
        const char *v = cell(t, r, c);
        switch (roles[c]) {
        case COL_CURRENT:
            if (!g->baseline && !is_blank(v))
                g->baseline = ys_xstrdup(v);
            break;
        case COL_PRIORITY:
            if (g->priority < 0)
                g->priority = parse_priority(v);
            break;
        case COL_DUE:
            if (!g->due && !q && ys_md_parse_date(v, p->year, due) == 0)
                g->due = ys_xstrdup(due);
            break;
        default: break;
        }
    }
    if (q) {
        ys_md_quarter_end(qyear, q, due);
        g->due = ys_xstrdup(due);
        g->quarter = q;
        g->quarter_year = qyear;
    } else if (!g->due && p->year_from_doc) {
        g->due = ys_xasprintf("%04d-12-31", p->year);
    }
}

/* Whether the plan is full; notes the row that overflowed it. */
static int plan_full(struct ys_md_plan *p, int line)
{
    if (p->n_goals < YS_MD_MAX_GOALS)
        return 0;
    if (!p->overflow_line)
        p->overflow_line = line;
    return 1;
}

static size_t import_goals(struct ys_md_plan *p, const struct ys_md_table *t, const char *area)
{
    size_t n_goal_cols = 0, added = 0;
    /* Roles once per table: rows can be many and columns up to 64. */
    enum col_role *roles = ys_xcalloc(t->ncols, sizeof *roles);
    for (size_t c = 1; c < t->ncols; c++) {
        roles[c] = col_role(cell(t, 0, c), c);
        n_goal_cols += roles[c] == COL_GOAL;
    }
    for (size_t r = 1; r < t->nrows; r++) {
        if (is_blank(cell(t, r, 0)))
            continue;
        for (size_t c = 1; c < t->ncols; c++) {
            if (roles[c] != COL_GOAL || is_blank(cell(t, r, c)))
                continue;
            if (plan_full(p, t->row_line[r]))
                goto out;
            add_row_goal(p, t, roles, r, c, n_goal_cols, area);
            added++;
        }
    }
out:
    free(roles);
    return added;
}

/* The first column after the first that is not tc, or ncols. */
static size_t note_col(const struct ys_md_table *t, size_t tc, size_t dc)
{
    for (size_t c = 1; c < t->ncols; c++)
        if (c != tc && c != dc)
            return c;
    return t->ncols;
}

static size_t import_quarters(struct ys_md_plan *p, const struct ys_md_table *t, const char *area)
{
    static const char *const ver[] = {"version", NULL};
    size_t tc = find_col(t, ver, 1), added = 0;
    if (tc == t->ncols)
        tc = find_col(t, goal_words, 1);
    size_t nc = note_col(t, tc, t->ncols);
    char *l = lower(cell(t, 0, tc));
    char *what = ys_md_has_word(l, "version") ? ys_xstrdup("version") : ys_xstrdup(cell(t, 0, tc));
    free(l);
    for (size_t r = 1; r < t->nrows; r++) {
        const char *when = cell(t, r, 0), *text = cell(t, r, tc);
        if (is_blank(text) || is_blank(when))
            continue;
        if (plan_full(p, t->row_line[r]))
            break;
        int qyear = p->year, q = ys_md_find_quarter(when, &qyear);
        char *idtext = ys_xasprintf("%s %s", what, when);
        struct ys_md_goal *g = new_goal(p, area, idtext, t->row_line[r]);
        free(idtext);
        g->title = ys_xasprintf("%s %s %s", area, what, when);
        set_target(g, text);
        char due[11];
        if (q) {
            ys_md_quarter_end(qyear, q, due);
            g->quarter = q;
            g->quarter_year = qyear;
            g->due = ys_xstrdup(due);
        } else if (ys_md_parse_date(when, p->year, due) == 0) {
            g->due = ys_xstrdup(due);
        }
        if (nc < t->ncols && !is_blank(cell(t, r, nc)))
            g->note = ys_xasprintf("%s: %s", cell(t, 0, nc), cell(t, r, nc));
        added++;
    }
    free(what);
    return added;
}

static struct ys_md_milestone *new_milestone(struct ys_md_plan *p)
{
    if (p->n_milestones == p->cap_milestones) {
        p->cap_milestones = p->cap_milestones ? 2 * p->cap_milestones : 8;
        p->milestones = ys_xrealloc(p->milestones, p->cap_milestones * sizeof *p->milestones);
    }
    struct ys_md_milestone *m = &p->milestones[p->n_milestones++];
    memset(m, 0, sizeof *m);
    return m;
}

static size_t import_milestones(struct ys_md_plan *p, const struct ys_md_table *t)
{
    static const char *const ms[] = {"milestone", "milestones", NULL};
    size_t tc = find_col(t, ms, 0), dc = find_col(t, due_words, 0), added = 0;
    size_t nc = note_col(t, tc, dc);
    if (nc == 0 || nc == tc)
        nc = t->ncols;
    for (size_t r = 1; r < t->nrows; r++) {
        if (is_blank(cell(t, r, tc)))
            continue;
        struct ys_md_milestone *m = new_milestone(p);
        m->title = ys_xstrdup(cell(t, r, tc));
        m->line = t->row_line[r];
        char due[11];
        const char *dtext = dc < t->ncols ? cell(t, r, dc) : "";
        const char *desc = nc < t->ncols && !is_blank(cell(t, r, nc)) ? cell(t, r, nc) : NULL;
        if (ys_md_parse_date(dtext, p->year, due) == 0)
            m->due = ys_xstrdup(due);
        if (!m->due && !is_blank(dtext))
            m->note = desc ? ys_xasprintf("%s (date as written: %s)", desc, dtext)
                           : ys_xasprintf("date as written: %s", dtext);
        else if (desc)
            m->note = ys_xstrdup(desc);
        added++;
    }
    return added;
}

size_t ys_md_table_import(struct ys_md_plan *p, const struct ys_md_table *t, const char *area)
{
    switch (ys_md_table_kind(t)) {
    case YS_MDT_GOALS: return import_goals(p, t, area);
    case YS_MDT_QUARTERS: return import_quarters(p, t, area);
    case YS_MDT_MILESTONES: return import_milestones(p, t);
    default: return 0;
    }
}

/* Insertion sort by due date (undated last); stable, and plans are short. */
static void sort_milestones(struct ys_md_plan *p)
{
    for (size_t i = 1; i < p->n_milestones; i++) {
        struct ys_md_milestone m = p->milestones[i];
        size_t j = i;
        while (j > 0 && m.due &&
               (!p->milestones[j - 1].due || strcmp(p->milestones[j - 1].due, m.due) > 0)) {
            p->milestones[j] = p->milestones[j - 1];
            j--;
        }
        p->milestones[j] = m;
    }
}

void ys_md_plan_add_quarter_milestones(struct ys_md_plan *p)
{
    /* Quarters in order of first appearance would scatter them; walk the
     * (year, quarter) pairs that occur, smallest first. */
    int last = 0;
    for (;;) {
        int next = 0;
        for (size_t i = 0; i < p->n_goals; i++) {
            int k = p->goals[i].quarter ? p->goals[i].quarter_year * 4 + p->goals[i].quarter : 0;
            if (k > last && (!next || k < next))
                next = k;
        }
        if (!next)
            break;
        int year = (next - 1) / 4, q = next - year * 4;
        struct ys_md_milestone *m = new_milestone(p);
        m->title = ys_xasprintf("Q%d %d", q, year);
        char due[11];
        ys_md_quarter_end(year, q, due);
        m->due = ys_xstrdup(due);
        m->goal_ids = ys_xcalloc(p->n_goals, sizeof *m->goal_ids);
        for (size_t i = 0; i < p->n_goals; i++)
            if (p->goals[i].quarter == q && p->goals[i].quarter_year == year) {
                m->goal_ids[m->n_goal_ids++] = ys_xstrdup(p->goals[i].id);
                if (!m->line)
                    m->line = p->goals[i].line;
            }
        last = next;
    }
    sort_milestones(p);
}

void ys_md_table_free(struct ys_md_table *t)
{
    if (!t->cells)
        return;
    for (size_t i = 0; i < t->ncols * t->nrows; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->row_line);
    t->cells = NULL;
}
