/*
 * diag.h - configuration diagnostics: every error, with FILE:LINE:COL.
 *
 * Parsers keep going after an error and add one entry each, so a user sees
 * every problem in one run of `yardstick validate`. Entries are printed as
 * "FILE:LINE:COL: message". The list owns its strings.
 */
#ifndef YS_CONFIG_DIAG_H
#define YS_CONFIG_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct ys_diag_entry {
    int line, col;
    char *msg;
};

struct ys_diag {
    char *file; /* owned copy of the file name used in every entry */
    struct ys_diag_entry *v;
    size_t n, cap;
};

void ys_diag_init(struct ys_diag *d, const char *file);
void ys_diag_free(struct ys_diag *d);
/* Adds one error at line:col (1-based; 0 when unknown). */
void ys_diag_add(struct ys_diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints every entry as FILE:LINE:COL: message, one per line, in the order
 * of their position in the file. */
void ys_diag_print(const struct ys_diag *d, FILE *out);

#endif
