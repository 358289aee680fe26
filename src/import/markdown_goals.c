/*
 * markdown_goals.c - reads a Markdown plan with cmark-gfm (tables and task
 * lists) into a struct ys_md_plan: goals from goal tables, milestones from
 * milestone tables and quarter tables, actions from task list items.
 *
 * The walk keeps the heading text at each level (heads[1..6], cleaned of
 * emoji and mojibake runs and of "1." numbering). A table or task item
 * takes its area from the shallowest section heading that is not generic
 * ("Key Targets", "Performance Targets" name a kind of table, not an
 * area), so the seed plan's "Key Targets > 1. Kubernetes Cluster
 * Reliability" gives "Kubernetes Cluster Reliability" and "Knative Lambda
 * Operator > Version Targets" gives "Knative Lambda Operator". Section
 * headings are H2 and below, unless the document has several H1s.
 *
 * Input is any bytes: it is repaired to valid UTF-8 first, capped at
 * 16 MiB, and walked with cmark's iterator (no recursion), so hostile
 * nesting cannot exhaust the stack. Runs on the caller's thread.
 */
#include "import/goal_table.h"

#include "core/xalloc.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { MAX_INPUT = 16 << 20, MAX_COLS = 64 };

struct buf {
    char *s;
    size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = ys_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* Collapses whitespace runs to one space and trims; in place. */
static char *squeeze(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        int ws = s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r';
        if (ws) {
            if (o > 0 && s[o - 1] != ' ')
                s[o++] = ' ';
        } else {
            s[o++] = s[i];
        }
    }
    while (o > 0 && s[o - 1] == ' ')
        o--;
    s[o] = '\0';
    return s;
}

/* The plain text of n's inlines, nested lists left out. Returns owned. */
static char *node_text(cmark_node *n)
{
    struct buf b = {ys_xstrdup(""), 0, 1};
    cmark_iter *it = cmark_iter_new(n);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *c = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        switch (cmark_node_get_type(c)) {
        case CMARK_NODE_LIST:
            if (c != n)
                cmark_iter_reset(it, c, CMARK_EVENT_EXIT);
            break;
        case CMARK_NODE_TEXT:
        case CMARK_NODE_CODE: {
            const char *lit = cmark_node_get_literal(c);
            if (lit)
                buf_add(&b, lit, strlen(lit));
            break;
        }
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
        case CMARK_NODE_HTML_INLINE: buf_add(&b, " ", 1); break;
        default: break;
        }
    }
    cmark_iter_free(it);
    return squeeze(b.s);
}

static int has_ascii_alnum(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
            (s[i] >= 'A' && s[i] <= 'Z'))
            return 1;
    return 0;
}

/* "1." or "2)" but not "2025" or "1.12": numbering, not content. */
static int is_numbering(const char *s, size_t n)
{
    return n >= 2 && (s[n - 1] == '.' || s[n - 1] == ')') && strspn(s, "0123456789.") >= n - 1;
}

/* Drops leading and trailing words with no ASCII letter or digit (emoji,
 * mojibake such as "ðŸŽ¯", stray dashes) and a leading "1." from a
 * squeezed heading, in place. Words inside are kept. */
static char *clean_heading(char *s)
{
    for (;;) {
        size_t w = strcspn(s, " ");
        if (!s[w] || (has_ascii_alnum(s, w) && !is_numbering(s, w)))
            break;
        memmove(s, s + w + 1, strlen(s + w + 1) + 1);
    }
    for (;;) {
        char *sp = strrchr(s, ' ');
        if (!sp || has_ascii_alnum(sp + 1, strlen(sp + 1)))
            break;
        *sp = '\0';
    }
    if (!has_ascii_alnum(s, strlen(s)))
        s[0] = '\0'; /* a heading of emoji alone names nothing */
    return s;
}

static int is_generic(const char *h)
{
    static const char *const words[] = {"targets",    "target",  "goals",   "goal",
                                        "objectives", "okrs",    "metrics", "kpis",
                                        "overview",   "summary", NULL};
    const char *last = strrchr(h, ' ');
    last = last ? last + 1 : h;
    for (const char *const *w = words; *w; w++)
        if (strcasecmp(last, *w) == 0)
            return 1;
    return 0;
}

struct walk {
    struct ys_md_plan *p;
    char *heads[7];
    int section_level;
    int first_table_line, first_goal_table_line;
    size_t goal_tables;
};

static const char *area_of(const struct walk *w)
{
    for (int l = w->section_level; l <= 6; l++)
        if (w->heads[l] && w->heads[l][0] && !is_generic(w->heads[l]))
            return w->heads[l];
    for (int l = 6; l >= 1; l--)
        if (w->heads[l] && w->heads[l][0])
            return w->heads[l];
    return "General";
}

static void on_heading(struct walk *w, cmark_node *n)
{
    int level = cmark_node_get_heading_level(n);
    if (level < 1 || level > 6)
        return;
    for (int l = level; l <= 6; l++) {
        free(w->heads[l]);
        w->heads[l] = NULL;
    }
    w->heads[level] = clean_heading(node_text(n));
}

static void table_from_node(cmark_node *n, struct ys_md_table *t)
{
    size_t ncols = cmark_gfm_extensions_get_table_columns(n), nrows = 0;
    if (ncols > MAX_COLS)
        ncols = MAX_COLS;
    for (cmark_node *r = cmark_node_first_child(n); r; r = cmark_node_next(r))
        nrows++;
    t->ncols = ncols;
    t->nrows = nrows;
    t->line = cmark_node_get_start_line(n);
    t->cells = ys_xcalloc(ncols * nrows + 1, sizeof *t->cells);
    t->row_line = ys_xcalloc(nrows + 1, sizeof *t->row_line);
    size_t r = 0;
    for (cmark_node *row = cmark_node_first_child(n); row; row = cmark_node_next(row), r++) {
        t->row_line[r] = cmark_node_get_start_line(row);
        size_t c = 0;
        for (cmark_node *cl = cmark_node_first_child(row); cl && c < ncols;
             cl = cmark_node_next(cl), c++)
            t->cells[r * ncols + c] = node_text(cl);
        for (; c < ncols; c++)
            t->cells[r * ncols + c] = ys_xstrdup("");
    }
}

static void on_table(struct walk *w, cmark_node *n)
{
    struct ys_md_table t = {0};
    table_from_node(n, &t);
    if (!w->first_table_line)
        w->first_table_line = t.line;
    enum ys_md_table_kind k = ys_md_table_kind(&t);
    if (k == YS_MDT_GOALS || k == YS_MDT_QUARTERS) {
        w->goal_tables++;
        if (!w->first_goal_table_line)
            w->first_goal_table_line = t.line;
    }
    ys_md_table_import(w->p, &t, area_of(w));
    ys_md_table_free(&t);
}

static void on_task(struct walk *w, cmark_node *n)
{
    struct ys_md_plan *p = w->p;
    if (p->n_actions == p->cap_actions) {
        p->cap_actions = p->cap_actions ? 2 * p->cap_actions : 16;
        p->actions = ys_xrealloc(p->actions, p->cap_actions * sizeof *p->actions);
    }
    struct ys_md_action *a = &p->actions[p->n_actions];
    a->title = node_text(n);
    if (!a->title[0]) {
        free(a->title);
        return;
    }
    a->area = ys_xstrdup(area_of(w));
    a->done = cmark_gfm_extensions_get_tasklist_item_checked(n);
    a->line = cmark_node_get_start_line(n);
    p->n_actions++;
}

/* The title, the plan's year, and whether H1s are sections. */
static void prescan(struct walk *w, cmark_node *doc, int default_year)
{
    int h1 = 0;
    for (cmark_node *n = cmark_node_first_child(doc); n; n = cmark_node_next(n)) {
        if (cmark_node_get_type(n) != CMARK_NODE_HEADING || cmark_node_get_heading_level(n) != 1)
            continue;
        if (h1++ == 0)
            w->p->title = clean_heading(node_text(n));
    }
    w->section_level = h1 > 1 ? 1 : 2;
    w->p->year = default_year;
    if (w->p->title) {
        const char *s = w->p->title;
        for (size_t i = 0; s[i]; i++) {
            int at_start = i == 0 || !has_ascii_alnum(s + i - 1, 1);
            if (!at_start || strspn(s + i, "0123456789") != 4 || has_ascii_alnum(s + i + 4, 1))
                continue;
            int y = (int)strtol(s + i, NULL, 10);
            if (y >= YS_MD_MIN_YEAR && y <= YS_MD_MAX_YEAR) {
                w->p->year = y;
                w->p->year_from_doc = true;
                break;
            }
        }
    }
}

static void walk_doc(struct walk *w, cmark_node *doc)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        if (ev != CMARK_EVENT_ENTER)
            continue;
        cmark_node *n = cmark_iter_get_node(it);
        const char *type = cmark_node_get_type_string(n);
        if (cmark_node_get_type(n) == CMARK_NODE_HEADING) {
            on_heading(w, n);
        } else if (strcmp(type, "table") == 0) {
            on_table(w, n);
            cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
        } else if (strcmp(type, "tasklist") == 0) {
            on_task(w, n);
        }
    }
    cmark_iter_free(it);
}

static cmark_node *parse_markdown(const char *text, size_t len)
{
    cmark_gfm_core_extensions_ensure_registered();
    cmark_parser *parser = cmark_parser_new(CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8);
    static const char *const exts[] = {"table", "tasklist"};
    for (size_t i = 0; i < 2; i++) {
        cmark_syntax_extension *e = cmark_find_syntax_extension(exts[i]);
        if (e)
            cmark_parser_attach_syntax_extension(parser, e);
    }
    cmark_parser_feed(parser, text, len);
    cmark_node *doc = cmark_parser_finish(parser);
    cmark_parser_free(parser);
    return doc;
}

static int current_year(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900;
}

int ys_md_goals_parse(const char *text, size_t len, const char *name, int default_year,
                      struct ys_md_plan *out, struct ys_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > MAX_INPUT)
        return ys_err_set(err, YS_ETOOBIG, "%s: the document is larger than %d MiB", name,
                          MAX_INPUT >> 20);
    char *clean = ys_md_utf8_repair(text, len);
    cmark_node *doc = parse_markdown(clean, strlen(clean));
    free(clean);
    struct walk w = {.p = out};
    if (default_year < YS_MD_MIN_YEAR || default_year > YS_MD_MAX_YEAR)
        default_year = current_year();
    prescan(&w, doc, default_year);
    walk_doc(&w, doc);
    cmark_node_free(doc);
    for (int l = 0; l <= 6; l++)
        free(w.heads[l]);
    if (!w.goal_tables)
        return ys_err_set(err, YS_EINVAL,
                          "%s:%d: no goals table found: expected a table with a 'Target' and "
                          "a 'Goal' column",
                          name, w.first_table_line ? w.first_table_line : 1);
    if (out->overflow_line)
        return ys_err_set(err, YS_ETOOBIG, "%s:%d: more than %d goals: split the plan", name,
                          out->overflow_line, YS_MD_MAX_GOALS);
    if (!out->n_goals)
        return ys_err_set(err, YS_EINVAL, "%s:%d: the goals table has no row with a goal", name,
                          w.first_goal_table_line);
    ys_md_plan_add_quarter_milestones(out);
    return 0;
}

void ys_md_plan_free(struct ys_md_plan *p)
{
    for (size_t i = 0; i < p->n_goals; i++) {
        struct ys_md_goal *g = &p->goals[i];
        free(g->id);
        free(g->title);
        free(g->area);
        free(g->baseline);
        free(g->target);
        free(g->target_text);
        free(g->due);
        free(g->note);
    }
    for (size_t i = 0; i < p->n_milestones; i++) {
        struct ys_md_milestone *m = &p->milestones[i];
        free(m->title);
        free(m->due);
        free(m->note);
        for (size_t j = 0; j < m->n_goal_ids; j++)
            free(m->goal_ids[j]);
        free(m->goal_ids);
    }
    for (size_t i = 0; i < p->n_actions; i++) {
        free(p->actions[i].area);
        free(p->actions[i].title);
    }
    free(p->goals);
    free(p->milestones);
    free(p->actions);
    free(p->title);
    free(p->id_slots);
    memset(p, 0, sizeof *p);
}

int ys_import_goals_markdown(const char *text, size_t len, const char *name, int default_year,
                             char **yaml, struct ys_err *err)
{
    struct ys_md_plan p;
    *yaml = NULL;
    int rc = ys_md_goals_parse(text, len, name, default_year, &p, err);
    if (rc == 0)
        *yaml = ys_md_plan_to_yaml(&p, name);
    ys_md_plan_free(&p);
    return rc;
}
