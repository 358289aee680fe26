/*
 * cmd_migrate.c - `yardstick migrate --from sqlite:PATH --to postgres:DSN
 * [--batch N]` copies a SQLite store into PostgreSQL (src/store/migrate.c
 * does the copy and says how it resumes).
 *
 * Progress goes to stderr: on a terminal, one line per table redrawn in
 * place (a bar, counts and rows/s) at most ten times a second; otherwise
 * plain lines, one when a table is finished and one every 5 s while a long
 * table is copied. The destination is named user@host:port/db, never with
 * the DSN's password.
 */
#include "cli/cli.h"

#include "core/clock.h"
#include "store/migrate.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 24

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick migrate --from sqlite:PATH --to postgres:DSN [--batch N]\n\n"
                 "copies every table of a SQLite store into a PostgreSQL database, keeping\n"
                 "ids; an interrupted run continues where it stopped when run again.\n"
                 "--batch N rows per transaction (default 500, 1 to 100000).\n");
}

struct progress {
    bool tty;
    int64_t last_us; /* of the last line drawn */
};

static void draw_bar(const struct ys_migrate_progress *p, double rate)
{
    double frac = p->total ? (double)p->copied / (double)p->total : 1.0;
    if (frac > 1.0)
        frac = 1.0; /* the source grew since the snapshot */
    int fill = (int)(frac * BAR_WIDTH + 0.5);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r\033[K[%d/%d] %-14s [%s] %10llu/%-10llu %9.0f rows/s", p->index + 1,
            p->count, p->table, bar, (unsigned long long)p->copied, (unsigned long long)p->total,
            rate);
}

static void on_progress(const struct ys_migrate_progress *p, void *arg)
{
    struct progress *pr = arg;
    int64_t now = ys_mono_us();
    double rate = p->elapsed_s > 0 ? (double)p->this_run / p->elapsed_s : 0;
    if (pr->tty) {
        if (!p->finished && now - pr->last_us < 100000 && p->this_run > 0)
            return;
        pr->last_us = now;
        draw_bar(p, rate);
        if (p->finished)
            fputc('\n', stderr);
    } else if (p->finished) {
        fprintf(stderr, "migrate: %s: %llu rows copied (%llu in this run, %.0f rows/s)\n", p->table,
                (unsigned long long)p->copied, (unsigned long long)p->this_run, rate);
    } else if (now - pr->last_us >= 5000000 && p->this_run > 0) {
        pr->last_us = now;
        fprintf(stderr, "migrate: %s: %llu of %llu rows (%.0f rows/s)\n", p->table,
                (unsigned long long)p->copied, (unsigned long long)p->total, rate);
    } else if (p->this_run == 0) {
        pr->last_us = now; /* a table's start: its first plain line comes 5 s later */
    }
    fflush(stderr);
}

/* "kind:rest" -> rest, or NULL when arg does not start with kind. */
static const char *after_prefix(const char *arg, const char *kind)
{
    size_t n = strlen(kind);
    return strncmp(arg, kind, n) == 0 && arg[n] == ':' && arg[n + 1] ? arg + n + 1 : NULL;
}

int ys_cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"batch", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *to = NULL;
    long long batch = 0;
    char *end;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'b':
            errno = 0;
            batch = strtoll(optarg, &end, 10);
            if (errno || *end || batch < 1 || batch > 100000) {
                fprintf(stderr, "yardstick migrate: --batch wants a number from 1 to 100000\n");
                return YS_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return YS_EXIT_OK;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    const char *path = from ? after_prefix(from, "sqlite") : NULL;
    const char *dsn = to ? after_prefix(to, "postgres") : NULL;
    if (optind != argc || !path || !dsn) {
        if (from && !path)
            fprintf(stderr, "yardstick migrate: --from wants sqlite:PATH\n");
        if (to && !dsn)
            fprintf(stderr, "yardstick migrate: --to wants postgres:DSN\n");
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    char label[300];
    ys_store_describe("postgres", dsn, label, sizeof label);
    struct progress pr = {.tty = isatty(STDERR_FILENO) == 1};
    struct ys_migrate_options opt = {.sqlite_path = path,
                                     .pg_dsn = dsn,
                                     .batch = (size_t)batch,
                                     .progress = on_progress,
                                     .arg = &pr};
    fprintf(stderr, "migrate: %s -> %s\n", path, label);
    struct ys_err err = {{0}};
    int64_t start = ys_mono_us();
    int rc = ys_migrate(&opt, &err);
    if (rc < 0) {
        if (pr.tty)
            fputc('\n', stderr);
        fprintf(stderr, "yardstick migrate: %s\n", err.msg);
        return YS_EXIT_FAIL;
    }
    fprintf(stderr, "migrate: done in %.1f s\n", (double)(ys_mono_us() - start) / 1e6);
    return YS_EXIT_OK;
}
