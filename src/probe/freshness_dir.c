/*
 * freshness_dir.c - the directory source of the `freshness` kind: the
 * newest regular file among the matches of a glob(3) pattern, found on
 * scan threads of this file's own.
 *
 * glob and stat block, and on a hung network mount (an NFS server gone
 * away) they block until the kernel gives up, which may be never; nothing
 * can interrupt them. So scans run neither on the loop nor on the libuv
 * threadpool: four stuck scans would take all of its threads, and config
 * reloads and alert evaluation, which run there, would never run again.
 * Two rules bound what a hung mount can cost:
 *  - one scan per check: a check's next scan does not start while its
 *    previous one still runs, even when the probe that started it timed
 *    out long ago; ys_fresh_scan_start fails fast instead. The busy mark is
 *    the check's name in the job list below, which outlives probes and
 *    configs, so a reload that keeps the check keeps the mark;
 *  - at most YS_FRESH_SCAN_THREADS scan threads; past that, scans wait in
 *    the job list (within their probe's timeout) for a thread to be free.
 * Threads start on demand and end when no scan waits, so an idle daemon
 * has none; libuv has no pool other than its default one to lend us.
 *
 * Data: a job (struct scan_job) is what a thread works on: copies of the
 * pattern and regex (a reload may free the spec meanwhile) and the
 * outcome. The loop side (struct ys_fresh_scan) owns a uv_async_t the
 * thread wakes when done. One mutex guards the job list, the counts and
 * the link between a job and its loop side. Invariants, all under it:
 *  - a job is in the list from start until its thread finishes it (or,
 *    if it never ran, until it is cancelled): the list is the busy set;
 *  - job->owner is the loop side while it wants the result; cancel clears
 *    it, and the thread only touches the async handle while it is set;
 *  - a job is freed by whichever side is last: the thread when it finishes
 *    with no owner, the loop when it takes the result or cancels a job
 *    that has not started or has finished.
 *
 * glob(3) reports unreadable directories only through a callback without
 * a user pointer, hence the one thread-local variable below: each scan
 * runs start to end on one thread.
 */
#include "probe/freshness.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

/* ---- scan threads ---------------------------------------------------------- */

struct scan_job {
    struct scan_job *prev, *next; /* the job list, in start order */
    char *key;                    /* the check's name: its busy mark */
    char *pattern;
    pcre2_code *re;              /* or NULL */
    bool running;                /* a thread took it */
    bool finished;               /* the thread is done; the outcome below is set */
    struct ys_fresh_scan *owner; /* the loop side, NULL once cancelled */
    int rc;
    struct ys_fresh_obj found;
    struct ys_err err;
};

struct ys_fresh_scan {
    uv_async_t async;     /* sent by the thread when the job is finished */
    struct scan_job *job; /* guarded by jobs.mu; NULL once done ran or cancelled */
    ys_fresh_scan_done_cb done;
    void *arg;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t changed; /* a thread ended or a hold began or ended (tests) */
    struct scan_job *head, *tail;
    unsigned threads; /* scan threads alive */
    char *hold;       /* testing: the marker of scans to hold, or NULL */
    unsigned held;    /* testing: scans stopped by the hold now */
} jobs = {.mu = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

/* The helpers below run with jobs.mu held. */

static void job_unlink(struct scan_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        jobs.head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        jobs.tail = j->prev;
    j->prev = j->next = NULL;
}

static void job_free(struct scan_job *j)
{
    free(j->key);
    free(j->pattern);
    pcre2_code_free(j->re);
    ys_fresh_obj_clear(&j->found);
    free(j);
}

static struct scan_job *job_find(const char *key)
{
    for (struct scan_job *j = jobs.head; j; j = j->next)
        if (strcmp(j->key, key) == 0)
            return j;
    return NULL;
}

static struct scan_job *job_next_waiting(void)
{
    for (struct scan_job *j = jobs.head; j; j = j->next)
        if (!j->running)
            return j;
    return NULL;
}

/* Testing: stops j while a hold covers its pattern. */
static void hold_if_asked(const struct scan_job *j)
{
    if (!jobs.hold || !strstr(j->pattern, jobs.hold))
        return;
    jobs.held++;
    pthread_cond_broadcast(&jobs.changed);
    while (jobs.hold && strstr(j->pattern, jobs.hold))
        pthread_cond_wait(&jobs.changed, &jobs.mu);
    jobs.held--;
    pthread_cond_broadcast(&jobs.changed);
}

/* A job's thread is done with it: its key is free again, and the loop
 * side, if it still wants the result, is woken. */
static void job_finish(struct scan_job *j)
{
    job_unlink(j);
    j->finished = true;
    if (j->owner)
        uv_async_send(&j->owner->async); /* the loop frees j */
    else
        job_free(j); /* cancelled while running: nobody wants what it found */
}

/* A scan thread: takes waiting jobs in start order until none is left. */
static void *scan_thread(void *arg)
{
    (void)arg;
    /* Named, so `ps -L` (and the integration test) can count them. */
    pthread_setname_np(pthread_self(), "ys-scan");
    pthread_mutex_lock(&jobs.mu);
    struct scan_job *j;
    while ((j = job_next_waiting()) != NULL) {
        j->running = true;
        hold_if_asked(j);
        pthread_mutex_unlock(&jobs.mu);
        j->rc = ys_fresh_dir_scan(j->pattern, j->re, &j->found, &j->err);
        pthread_mutex_lock(&jobs.mu);
        job_finish(j);
    }
    jobs.threads--;
    pthread_cond_broadcast(&jobs.changed);
    pthread_mutex_unlock(&jobs.mu);
    return NULL;
}

/* Starts a thread if fewer than the cap run. Returns 0, or the error of
 * pthread_create when there is no thread at all to take the job. */
static int spawn_thread(void)
{
    if (jobs.threads >= YS_FRESH_SCAN_THREADS)
        return 0;
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    /* Nobody joins a scan thread: one stuck on a hung mount may never
     * return, and the process must still be able to exit. */
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, scan_thread, NULL);
    pthread_attr_destroy(&attr);
    if (rc == 0)
        jobs.threads++;
    return rc == 0 || jobs.threads > 0 ? 0 : rc;
}

/* ---- the loop side ---------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_async(uv_async_t *a)
{
    struct ys_fresh_scan *s = a->data;
    pthread_mutex_lock(&jobs.mu);
    struct scan_job *j = s->job;
    bool finished = j && j->finished;
    if (finished)
        s->job = NULL;
    pthread_mutex_unlock(&jobs.mu);
    if (!finished)
        return; /* libuv may coalesce or repeat wake-ups; only a finished job counts */
    s->done(j->rc, &j->found, j->rc < 0 ? j->err.msg : NULL, s->arg);
    job_free(j);
    uv_close((uv_handle_t *)&s->async, on_closed);
}

/* A new job for key, last in the list, with a thread to take it. Returns
 * 0, or YS_EIO with err saying why (nothing is left behind then). */
static int job_add(const char *key, const char *pattern, const pcre2_code *re,
                   struct scan_job **out, struct ys_err *err)
{
    struct scan_job *j = ys_xcalloc(1, sizeof *j);
    j->key = ys_xstrdup(key);
    j->pattern = ys_xstrdup(pattern);
    if (re && !(j->re = pcre2_code_copy(re)))
        abort(); /* fails only when out of memory */
    j->prev = jobs.tail;
    if (jobs.tail)
        jobs.tail->next = j;
    else
        jobs.head = j;
    jobs.tail = j;
    int rc = spawn_thread();
    if (rc != 0) {
        job_unlink(j);
        job_free(j);
        return ys_err_set(err, YS_EIO, "cannot start a thread to scan %s: %s", pattern,
                          strerror(rc));
    }
    *out = j;
    return 0;
}

int ys_fresh_scan_start(uv_loop_t *loop, const char *key, const char *pattern, const pcre2_code *re,
                        ys_fresh_scan_done_cb done, void *arg, struct ys_fresh_scan **out,
                        struct ys_err *err)
{
    struct scan_job *j = NULL;
    int rc;
    pthread_mutex_lock(&jobs.mu);
    const struct scan_job *busy = job_find(key);
    if (busy)
        rc =
            ys_err_set(err, YS_EBUSY, "the previous scan of %s is still running (hung filesystem?)",
                       busy->pattern);
    else
        rc = job_add(key, pattern, re, &j, err);
    if (rc == 0) {
        /* Under the lock: the thread cannot finish j before it has an
         * owner to wake. */
        struct ys_fresh_scan *s = ys_xcalloc(1, sizeof *s);
        s->job = j;
        s->done = done;
        s->arg = arg;
        uv_async_init(loop, &s->async, on_async);
        s->async.data = s;
        j->owner = s;
        *out = s;
    }
    pthread_mutex_unlock(&jobs.mu);
    return rc;
}

void ys_fresh_scan_cancel(struct ys_fresh_scan *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&jobs.mu);
    struct scan_job *j = s->job;
    s->job = NULL;
    if (j) {
        j->owner = NULL;
        if (!j->running) { /* never started: its key is free at once */
            job_unlink(j);
            job_free(j);
        } else if (j->finished) { /* its wake-up is on the way; no one takes it */
            job_free(j);
        } /* else its thread frees it when the scan returns */
    }
    pthread_mutex_unlock(&jobs.mu);
    uv_close((uv_handle_t *)&s->async, on_closed);
}

bool ys_fresh_scan_waiting(const struct ys_fresh_scan *s)
{
    pthread_mutex_lock(&jobs.mu);
    bool waiting = s->job && !s->job->running;
    pthread_mutex_unlock(&jobs.mu);
    return waiting;
}

/* ---- testing ------------------------------------------------------------------ */

void ys_fresh_test_hold(const char *marker)
{
    pthread_mutex_lock(&jobs.mu);
    free(jobs.hold);
    jobs.hold = ys_xstrdup(marker);
    pthread_cond_broadcast(&jobs.changed);
    pthread_mutex_unlock(&jobs.mu);
}

void ys_fresh_test_release(void)
{
    pthread_mutex_lock(&jobs.mu);
    free(jobs.hold);
    jobs.hold = NULL;
    pthread_cond_broadcast(&jobs.changed);
    pthread_mutex_unlock(&jobs.mu);
}

bool ys_fresh_test_wait(unsigned held, unsigned threads, int timeout_ms)
{
    int64_t deadline_us = ys_mono_us() + (int64_t)timeout_ms * 1000;
    pthread_mutex_lock(&jobs.mu);
    while (jobs.held != held || jobs.threads != threads) {
        /* The condition variable uses CLOCK_REALTIME; a short timed wait
         * against the monotonic deadline keeps clock steps harmless. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&jobs.changed, &jobs.mu, &ts);
        if (ys_mono_us() >= deadline_us)
            break;
    }
    bool ok = jobs.held == held && jobs.threads == threads;
    pthread_mutex_unlock(&jobs.mu);
    return ok;
}
