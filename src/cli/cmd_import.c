/*
 * cmd_import.c - `yardstick import goals FILE.md [-o OUT] [--year YEAR]`:
 * turns a Markdown plan into a goals file (src/import/markdown_goals.h)
 * and writes it to OUT, or to stdout without -o.
 *
 * The document is read whole, capped at 16 MiB. Exit 0 on success, 2 for
 * usage errors and documents the importer cannot read (the message names
 * the line), 1 when OUT cannot be written.
 */
#include "cli/cli.h"

#include "core/err.h"
#include "core/xalloc.h"
#include "import/markdown_goals.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DOC = 16 << 20 };

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick import goals FILE.md [-o OUT] [--year YEAR]\n\n"
                 "Reads a Markdown plan (tables of targets, a milestones table, task lists)\n"
                 "and writes a goals file: goals:, milestones: and actions:.\n\n"
                 "  -o, --output OUT  write to OUT instead of stdout\n"
                 "  --year YEAR       the year quarters belong to when the title names none\n"
                 "                    (default: the current year)\n\n"
                 "See docs/import.md for the tables it reads.\n");
}

/* Reads path whole into an owned buffer. Returns 0 or YS_EIO/YS_ETOOBIG. */
static int read_doc(const char *path, char **text, size_t *len, struct ys_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ys_err_set(err, YS_EIO, "%s: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = ys_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > MAX_DOC) {
            fclose(f);
            free(buf);
            return ys_err_set(err, YS_ETOOBIG, "%s: larger than %d MiB", path, MAX_DOC >> 20);
        }
        if (n == cap) {
            cap *= 2;
            buf = ys_xrealloc(buf, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ys_err_set(err, YS_EIO, "%s: read error", path);
    }
    *text = buf;
    *len = n;
    return 0;
}

static int write_out(const char *path, const char *yaml)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "yardstick import: %s: %s\n", path, strerror(errno));
        return YS_EXIT_FAIL;
    }
    int bad = fputs(yaml, f) < 0;
    bad |= path ? fclose(f) != 0 : fflush(f) != 0;
    if (bad) {
        fprintf(stderr, "yardstick import: %s: write failed\n", path ? path : "stdout");
        return YS_EXIT_FAIL;
    }
    return YS_EXIT_OK;
}

static int import_goals(const char *in, const char *out, int year)
{
    struct ys_err err = {{0}};
    char *text = NULL, *yaml = NULL;
    size_t len = 0;
    if (read_doc(in, &text, &len, &err) != 0) {
        fprintf(stderr, "yardstick import: %s\n", err.msg);
        return YS_EXIT_USAGE;
    }
    int rc = ys_import_goals_markdown(text, len, in, year, &yaml, &err);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return YS_EXIT_USAGE;
    }
    rc = write_out(out, yaml);
    free(yaml);
    return rc;
}

int ys_cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"year", required_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int year = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'y':
            errno = 0;
            year = (int)strtol(optarg, &end, 10);
            if (errno || *end || year < 1970 || year > 2999) {
                fprintf(stderr, "yardstick import: --year wants a year from 1970 to 2999\n");
                return YS_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return YS_EXIT_OK;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || strcmp(argv[optind], "goals") != 0) {
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    return import_goals(argv[optind + 1], out, year);
}
