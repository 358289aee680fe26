/*
 * migrate.h - copies a SQLite store into a PostgreSQL one (`yardstick
 * migrate`, src/cli/cmd_migrate.c). migrate.c says how it resumes and
 * what it refuses; docs/internals/store.md has the design.
 */
#ifndef YS_STORE_MIGRATE_H
#define YS_STORE_MIGRATE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where one table's copy stands, handed to the progress callback after
 * each committed batch and once when the table is finished. */
struct ys_migrate_progress {
    const char *table; /* the SQLite table's name */
    int index, count;  /* this table's position (0-based) among count tables */
    uint64_t copied;   /* rows in the destination, this run and earlier ones */
    uint64_t total;    /* rows in the source's snapshot */
    uint64_t this_run; /* rows copied by this run */
    double elapsed_s;  /* since this table's copy started, in this run */
    bool finished;
};

typedef void (*ys_migrate_progress_cb)(const struct ys_migrate_progress *p, void *arg);

struct ys_migrate_options {
    const char *sqlite_path;         /* the source file, opened read-only */
    const char *pg_dsn;              /* the destination's libpq connection string */
    size_t batch;                    /* rows per transaction; 0: the default (500) */
    ys_migrate_progress_cb progress; /* may be NULL */
    void *arg;
};

/* Copies every table that holds data from the SQLite store to the
 * PostgreSQL one (whose schema the normal open creates or migrates),
 * keeping ids, in transactions of opt->batch rows that each also record
 * how far the copy got, so a run that dies continues where the last
 * committed batch left it. Refuses (YS_EBUSY) a destination that holds
 * data not written by a migration of this source. Returns 0 or a
 * negative YS_E* code with err filled; messages never show the DSN's
 * password. */
int ys_migrate(const struct ys_migrate_options *opt, struct ys_err *err);

#endif
