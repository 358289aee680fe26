/*
 * diag.c - the list of configuration errors (see diag.h).
 *
 * Data: a growable array of {line, col, message}, in the order parsers
 * found them. Parsers walk the tree key by key and kinds parse their own
 * sections, so that order is not the file's order; printing sorts a copy
 * by position (stably, so two errors at one place keep their order).
 * Line and column are 1-based; 0 means "no position" (an unreadable file)
 * and such entries print as "FILE: message".
 *
 * Runs on whichever thread loads a config (the CLI, or the loop on reload).
 */
#include "config/diag.h"

#include "core/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>

void ys_diag_init(struct ys_diag *d, const char *file)
{
    d->file = ys_xstrdup(file ? file : "<config>");
    d->v = NULL;
    d->n = 0;
    d->cap = 0;
}

void ys_diag_free(struct ys_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].msg);
    free(d->v);
    free(d->file);
    d->v = NULL;
    d->file = NULL;
    d->n = d->cap = 0;
}

void ys_diag_add(struct ys_diag *d, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        len = 0;
    char *msg = ys_xmalloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    va_end(ap);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = ys_xrealloc(d->v, d->cap * sizeof d->v[0]);
    }
    d->v[d->n].line = line;
    d->v[d->n].col = col;
    d->v[d->n].msg = msg;
    d->n++;
}

/* Sorted by position; ties keep the order they were added in, which the
 * entries' addresses record (the array is in insertion order), so the
 * sort is stable although qsort is not. */
static int cmp_entry(const void *a, const void *b)
{
    const struct ys_diag_entry *x = *(const struct ys_diag_entry *const *)a;
    const struct ys_diag_entry *y = *(const struct ys_diag_entry *const *)b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x < y ? -1 : (x > y);
}

void ys_diag_print(const struct ys_diag *d, FILE *out)
{
    if (d->n == 0)
        return;
    const struct ys_diag_entry **v = ys_xmalloc(d->n * sizeof *v);
    for (size_t i = 0; i < d->n; i++)
        v[i] = &d->v[i];
    qsort(v, d->n, sizeof *v, cmp_entry);
    for (size_t i = 0; i < d->n; i++) {
        if (v[i]->line > 0)
            fprintf(out, "%s:%d:%d: %s\n", d->file, v[i]->line, v[i]->col, v[i]->msg);
        else
            fprintf(out, "%s: %s\n", d->file, v[i]->msg);
    }
    free(v);
}
