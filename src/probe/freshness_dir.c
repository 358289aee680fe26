/*
 * freshness_dir.c - the directory source of the `freshness` kind: the
 * newest regular file among the matches of a glob(3) pattern.
 *
 * glob and stat block (a slow or hung network mount can hold them for
 * long), so this runs on the libuv threadpool only (freshness.c queues it
 * with uv_queue_work) and touches nothing but its arguments: the pattern
 * and regex it gets are the probe's own copies, because a reload may free
 * the check's spec while a scan is still running.
 *
 * glob(3) reports unreadable directories only through a callback without
 * a user pointer, hence the one thread-local variable below: each scan
 * runs start to end on one thread.
 */
#include "probe/freshness.h"

#include "core/err.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The first directory glob could not read in this thread's current scan. */
static _Thread_local struct {
    int err;
    char path[256];
} glob_failure;

static int on_glob_error(const char *path, int err)
{
    /* A directory that does not exist holds no backup: that is "no match",
     * the verdict's business, not an error of the scan. */
    if (err != ENOENT && err != ENOTDIR && glob_failure.err == 0) {
        glob_failure.err = err;
        snprintf(glob_failure.path, sizeof glob_failure.path, "%s", path);
    }
    return 0; /* go on: other directories may still hold matches */
}

static int64_t mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

int ys_fresh_dir_scan(const char *pattern, const pcre2_code *re, struct ys_fresh_obj *best,
                      struct ys_err *err)
{
    glob_t g;
    memset(&g, 0, sizeof g);
    glob_failure.err = 0;
    int grc = glob(pattern, GLOB_NOSORT | GLOB_BRACE, on_glob_error, &g);
    if (grc != 0 && grc != GLOB_NOMATCH) {
        globfree(&g);
        return ys_err_set(err, YS_EIO, "cannot list %s: %s", pattern,
                          grc == GLOB_NOSPACE ? "out of memory" : "read error");
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        struct stat st;
        /* stat, not lstat: a symlink to a backup is the backup. A file
         * gone between glob and stat was simply not there. */
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        size_t len = strlen(path);
        if (!ys_fresh_name_matches(re, path, len))
            continue;
        ys_fresh_obj_offer(best, path, len, mtime_ms(&st), (int64_t)st.st_size);
    }
    globfree(&g);
    if (!best->name && glob_failure.err != 0)
        return ys_err_set(err, YS_EIO, "cannot read %s: %s", glob_failure.path,
                          strerror(glob_failure.err));
    return 0;
}
