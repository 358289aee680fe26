/*
 * goal_table.h - internal to src/import: one Markdown table (cells as plain
 * text) turned into goals or milestones, plus the small text helpers the
 * importer shares (slugs, dates, UTF-8 repair).
 */
#ifndef YS_IMPORT_GOAL_TABLE_H
#define YS_IMPORT_GOAL_TABLE_H

#include "import/markdown_goals.h"

#include <stddef.h>

/* A table as text: cells[r * ncols + c]; row 0 is the header. Owned. */
struct ys_md_table {
    char **cells;
    size_t ncols, nrows;
    int *row_line; /* per row */
    int line;      /* the table's first line */
};

/* Years the importer writes: the config accepts due dates from 1970 on, and
 * a year past 2999 in a plan is a typo. */
enum { YS_MD_MIN_YEAR = 1970, YS_MD_MAX_YEAR = 2999 };

enum ys_md_table_kind {
    YS_MDT_OTHER = 0, /* not ours: ignored */
    YS_MDT_GOALS,     /* target rows x goal columns */
    YS_MDT_QUARTERS,  /* Quarter | Target Version | ... */
    YS_MDT_MILESTONES
};

/* Classifies t by its header row. */
enum ys_md_table_kind ys_md_table_kind(const struct ys_md_table *t);
/* Adds t's goals (or milestones) to p under area (borrowed). Returns how
 * many entries were added. */
size_t ys_md_table_import(struct ys_md_plan *p, const struct ys_md_table *t, const char *area);
/* Adds one milestone per quarter that has quarter goals, listing them. */
void ys_md_plan_add_quarter_milestones(struct ys_md_plan *p);
void ys_md_table_free(struct ys_md_table *t);

/* Parses a date as people write it in plans: 2025-01-31, 2025-01,
 * "Jan 31, 2025", "31 January 2025", "March 2025", "Q3 2025", "Q3", "H2".
 * Missing years are default_year; a month or quarter alone means its last
 * day. Writes "YYYY-MM-DD" into out. Returns 0 or YS_EINVAL. */
int ys_md_parse_date(const char *s, int default_year, char out[11]);
/* Writes the last day of quarter q (1..4) of year as "YYYY-MM-DD". */
void ys_md_quarter_end(int year, int q, char out[11]);
/* Returns q (1..4) when s holds a "Q<n>" word, else 0; *year gets a four
 * digit year found beside it, else is left alone. */
int ys_md_find_quarter(const char *s, int *year);
/* Returns an owned slug of s: lower-case [a-z0-9-], no leading, trailing or
 * doubled dashes, at most 60 characters; "goal" when nothing is left. */
char *ys_md_slug(const char *s);
/* Returns an owned copy of s[0..len) that is valid UTF-8: each invalid
 * byte sequence (overlong forms, surrogates, beyond U+10FFFF, truncated)
 * becomes U+FFFD and NUL bytes become U+FFFD too. */
char *ys_md_utf8_repair(const char *s, size_t len);
/* Whether the lower-cased header cell h contains word w as a whole word. */
int ys_md_has_word(const char *h, const char *w);

#endif
