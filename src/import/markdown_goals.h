/*
 * markdown_goals.h - `yardstick import goals`: a Markdown plan (GitHub
 * tables and task lists) -> a plain plan structure -> goals YAML text.
 *
 * What is read (docs/import.md):
 *   - a table with a goal column ("Goal", "Target", "Q2 Target", "Target
 *     Version", ...) beside a first column naming the target: one goal per
 *     row and goal column; "Current" is the baseline, "Priority" P0..P3;
 *   - a "Quarter | Target Version | ..." table: one goal per quarter;
 *   - a table with a "Milestone" column: milestones with their dates;
 *   - task list items (- [ ] / - [x]): actions with their done state.
 * The area of each is taken from the headings above it.
 */
#ifndef YS_IMPORT_MARKDOWN_GOALS_H
#define YS_IMPORT_MARKDOWN_GOALS_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

/* One goal as read from a table row and goal column. Strings are owned. */
struct ys_md_goal {
    char *id; /* unique slug [a-z0-9-] */
    char *title;
    char *area;
    int priority;      /* 0..3 for P0..P3; -1 when the row gives none */
    char *baseline;    /* the "Current" cell, NULL when empty */
    char *target;      /* a target ys_target_parse accepts; NULL when untypable */
    char *target_text; /* the goal cell as written */
    char *due;         /* "YYYY-MM-DD" or NULL */
    char *note;        /* one line for a YAML comment (e.g. key features), or NULL */
    int quarter;       /* 1..4 when due at that quarter's end by the table's shape */
    int quarter_year;
    int line; /* the row's line in the Markdown */
};

struct ys_md_milestone {
    char *title;
    char *due;  /* "YYYY-MM-DD" or NULL when the date could not be read */
    char *note; /* description, or the date as written when unreadable */
    char **goal_ids;
    size_t n_goal_ids;
    int line;
};

struct ys_md_action {
    char *area;
    char *title;
    bool done;
    int line;
};

/* The whole plan. Free with ys_md_plan_free. */
struct ys_md_plan {
    char *title;        /* the first level-1 heading, cleaned; NULL when none */
    int year;           /* the year quarters belong to */
    bool year_from_doc; /* year came from the title (plain goals are then due at its end) */
    struct ys_md_goal *goals;
    size_t n_goals, cap_goals;
    struct ys_md_milestone *milestones;
    size_t n_milestones, cap_milestones;
    struct ys_md_action *actions;
    size_t n_actions, cap_actions;
    /* Private to goal_table.c: an open-addressing set of the goal ids
     * (borrowed from goals[i].id) with the next suffix to try for each, so
     * ids stay unique in linear time; and the row at which the goal cap
     * (YS_MD_MAX_GOALS) was hit, 0 when it was not. */
    struct ys_md_id_slot *id_slots;
    size_t id_cap, id_used;
    int overflow_line;
};

/* A plan holds at most this many goals; more is a reported error. */
#define YS_MD_MAX_GOALS 10000

/* Parses Markdown text (any bytes: invalid UTF-8 is replaced by U+FFFD)
 * into out (zeroed by the call). default_year is used when the title names
 * no year; 0 (or a year outside 1970..2999) means the current UTC year.
 * name is used in errors. Returns 0, YS_ETOOBIG past 16 MiB or
 * YS_MD_MAX_GOALS goals, or YS_EINVAL with "NAME:LINE: why" in err when no goals table is found.
 * On error out holds nothing to free beyond what ys_md_plan_free handles. */
int ys_md_goals_parse(const char *text, size_t len, const char *name, int default_year,
                      struct ys_md_plan *out, struct ys_err *err);
void ys_md_plan_free(struct ys_md_plan *p);

/* Writes p as a goals file: a comment naming source, then goals:,
 * milestones: and actions:, every string double-quoted and escaped.
 * Returns an owned NUL-terminated string (free with free()). */
char *ys_md_plan_to_yaml(const struct ys_md_plan *p, const char *source);

/* Both steps: Markdown text -> owned YAML in *yaml. Returns 0 or YS_EINVAL
 * with err filled (then *yaml is NULL). */
int ys_import_goals_markdown(const char *text, size_t len, const char *name, int default_year,
                             char **yaml, struct ys_err *err);

#endif
