/*
 * freshness.c - the `freshness` probe kind: find the newest object of a
 * source and judge it: ok when its age is at most max_age and its size at
 * least min_size. The value is its age in seconds (so "the last backup is
 * younger than 1 h" can be a goal), bytes its size.
 *
 * A probe (struct fresh_probe, base first as `super`) runs one source:
 *  - a directory glob: a ys_fresh_scan on a scan thread (freshness_dir.c),
 *    which copies the pattern and regex, since a reload may free the spec
 *    while a scan on a slow mount is still running. A check whose previous
 *    scan is still stuck (a hung mount) fails at once, without a thread;
 *  - an S3 prefix: a ys_fresh_s3_list on the loop's libcurl multi handle.
 * One uv_timer_t bounds the whole probe by check->timeout_ms (every page of
 * a listing, or a scan stuck on a dead mount) and also defers a failure
 * found inside start, so done never runs before start has returned.
 *
 * Lifecycle invariants:
 * - `over` turns true exactly once: in finish (done then runs once) or in
 *   cancel (done never runs).
 * - The probe frees itself once over and its timer has closed. A scan or
 *   listing is cancelled at teardown and frees itself; a scan thread that
 *   cannot be stopped drops its result later, without the probe.
 *
 * Messages name the object, its age and size. The age is written coarsely
 * (whole hours past an hour, whole minutes past a minute) so a failing
 * check repeats the same sentence for a while instead of adding a new row
 * to the store's text dictionary on every probe; the exact age is the
 * value. Loop thread only.
 */
#include "probe/curl_multi.h"
#include "probe/freshness.h"
#include "probe/probe.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fresh_probe {
    struct ys_probe super; /* first: the scheduler sees a struct ys_probe */
    const struct ys_fresh_spec *spec;
    uv_timer_t timer;
    bool over;
    int closing; /* close callbacks still to come */
    /* directory source */
    struct ys_fresh_scan *scan;
    /* S3 source */
    struct ys_fresh_s3_list *list;
};

extern const struct ys_probe_type ys_probe_freshness;

/* ---- the newest object ------------------------------------------------- */

static int name_cmp(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

void ys_fresh_obj_offer(struct ys_fresh_obj *best, const char *name, size_t name_len,
                        int64_t mtime_ms, int64_t size)
{
    if (best->name && (mtime_ms < best->mtime_ms ||
                       (mtime_ms == best->mtime_ms && name_cmp(name, name_len, best->name) <= 0)))
        return;
    free(best->name);
    best->name = ys_xstrndup(name, name_len);
    best->mtime_ms = mtime_ms;
    best->size = size;
}

void ys_fresh_obj_clear(struct ys_fresh_obj *o)
{
    free(o->name);
    memset(o, 0, sizeof *o);
}

bool ys_fresh_name_matches(const pcre2_code *re, const char *name, size_t len)
{
    if (!re)
        return true;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        abort(); /* fails only when out of memory */
    int rc = pcre2_match(re, (PCRE2_SPTR)name, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* ---- verdict ------------------------------------------------------------ */

static void format_size(int64_t n, char *buf, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (n < 1024) {
        snprintf(buf, size, "%" PRId64 " B", n);
        return;
    }
    double v = (double)n;
    size_t u = 0;
    for (v /= 1024; v >= 1024 && u + 1 < sizeof units / sizeof units[0]; v /= 1024)
        u++;
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* The age, floored to whole hours past an hour and whole minutes past a
 * minute (see the file comment). */
static void format_age(int64_t ms, char *buf, unsigned size)
{
    int64_t unit = ms >= 3600000 ? 3600000 : ms >= 60000 ? 60000 : 1000;
    int64_t v = ms / unit * unit;
    if (v == 0)
        snprintf(buf, size, "0s");
    else
        ys_duration_format(v, buf, size);
}

/* At most 100 characters of a name: its end, which says the most. */
static const char *short_name(const char *name, char *buf, size_t size)
{
    size_t n = strlen(name);
    if (n <= 100)
        return name;
    snprintf(buf, size, "...%s", name + n - 97);
    return buf;
}

static void verdict(struct fresh_probe *p, const struct ys_fresh_obj *o)
{
    const struct ys_fresh_spec *s = p->spec;
    struct ys_result *r = &p->super.result;
    if (!o->name) {
        if (s->is_s3)
            ys_result_fail(r, YS_EC_ASSERTION, "no object matches under %s%s%s%s", s->s3.where,
                           s->match_text ? " (match '" : "", s->match_text ? s->match_text : "",
                           s->match_text ? "')" : "");
        else
            ys_result_fail(r, YS_EC_ASSERTION, "no file matches %s%s%s%s", s->path,
                           s->match_text ? " (match '" : "", s->match_text ? s->match_text : "",
                           s->match_text ? "')" : "");
        return;
    }
    /* A clock a little ahead at the source must not read as an error: an
     * object from the future is as fresh as can be. */
    int64_t age_ms = ys_wall_ms() - o->mtime_ms;
    if (age_ms < 0)
        age_ms = 0;
    r->flags |= YS_RF_HAS_VALUE;
    r->value = (double)age_ms / 1000.0;
    r->bytes = o->size;
    if (age_ms <= s->max_age_ms && o->size >= s->min_size)
        return;
    char age[32], limit[32], size[32], min[32], nb[112];
    format_age(age_ms, age, sizeof age);
    format_size(o->size, size, sizeof size);
    const char *name = short_name(o->name, nb, sizeof nb);
    if (age_ms > s->max_age_ms) {
        ys_duration_format(s->max_age_ms, limit, sizeof limit);
        ys_result_fail(r, YS_EC_ASSERTION, "newest %s is too old: %s (max_age %s), %s", name, age,
                       limit, size);
    } else {
        format_size(s->min_size, min, sizeof min);
        ys_result_fail(r, YS_EC_ASSERTION, "newest %s is too small: %s (min_size %s), %s old", name,
                       size, min, age);
    }
}

/* ---- lifecycle ---------------------------------------------------------- */

static void maybe_free(struct fresh_probe *p)
{
    if (!p->over || p->closing > 0)
        return;
    free(p);
}

static void on_close(uv_handle_t *h)
{
    struct fresh_probe *p = h->data;
    p->closing--;
    maybe_free(p);
}

static void teardown(struct fresh_probe *p)
{
    p->over = true;
    ys_fresh_s3_list_cancel(p->list);
    p->list = NULL;
    ys_fresh_scan_cancel(p->scan); /* a running scan thread drops its result */
    p->scan = NULL;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_close);
    p->closing++;
}

static void finish(struct fresh_probe *p)
{
    if (p->over)
        return;
    p->over = true;
    ys_probe_base_finish(&p->super);
    teardown(p);
}

static void on_timeout(uv_timer_t *t)
{
    struct fresh_probe *p = t->data;
    char limit[32];
    ys_duration_format(p->super.check->timeout_ms, limit, sizeof limit);
    if (p->list)
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT, "timed out after %s listing %s (page %u)",
                       limit, p->spec->s3.where, ys_fresh_s3_list_page(p->list));
    else if (p->scan && ys_fresh_scan_waiting(p->scan))
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT,
                       "timed out after %s waiting for a thread to scan %s (all %d are busy: "
                       "hung filesystems?)",
                       limit, p->spec->path, YS_FRESH_SCAN_THREADS);
    else
        ys_result_fail(&p->super.result, YS_EC_TIMEOUT, "timed out after %s scanning %s", limit,
                       p->spec->path);
    finish(p);
}

static void on_deferred(uv_timer_t *t)
{
    finish(t->data);
}

/* Delivers a failure found inside start once start has returned. */
static void fail_soon(struct fresh_probe *p, int ec, const char *msg)
{
    ys_result_fail(&p->super.result, ec, "%s", msg);
    uv_timer_start(&p->timer, on_deferred, 0, 0);
}

/* ---- sources ------------------------------------------------------------ */

static void on_scanned(int rc, const struct ys_fresh_obj *found, const char *msg, void *arg)
{
    struct fresh_probe *p = arg;
    p->scan = NULL; /* it frees itself after this call */
    if (rc < 0)
        ys_result_fail(&p->super.result, YS_EC_INTERNAL, "%s", msg);
    else
        verdict(p, found);
    finish(p);
}

static void start_scan(struct fresh_probe *p, uv_loop_t *loop)
{
    struct ys_err err = {{0}};
    const struct ys_check *c = p->super.check;
    int rc = ys_fresh_scan_start(loop, c->name, p->spec->path, p->spec->match, on_scanned, p,
                                 &p->scan, &err);
    /* The previous scan of this check still hangs: say so now rather than
     * wait out another timeout, and with the same class as that one. */
    if (rc == YS_EBUSY)
        fail_soon(p, YS_EC_TIMEOUT, err.msg);
    else if (rc < 0)
        fail_soon(p, YS_EC_INTERNAL, err.msg);
}

static void on_listed(int ec, const char *msg, int status, const struct ys_fresh_obj *newest,
                      void *arg)
{
    struct fresh_probe *p = arg;
    p->list = NULL; /* it frees itself after this call */
    p->super.result.status = (uint16_t)(status > 0 && status < 1000 ? status : 0);
    if (ec != YS_EC_NONE)
        ys_result_fail(&p->super.result, ec, "%s", msg);
    else
        verdict(p, newest);
    finish(p);
}

static void start_list(struct fresh_probe *p, struct ys_probe_env *env)
{
    struct ys_err err = {{0}};
    const struct ys_fresh_spec *s = p->spec;
    int rc = ys_fresh_s3_list_start(env->curl, &s->s3, s->match, p->super.check->timeout_ms,
                                    on_listed, p, &p->list, &err);
    if (rc < 0)
        fail_soon(p, YS_EC_INTERNAL, err.msg);
}

/* ---- the type ------------------------------------------------------------ */

static int fresh_start(struct ys_probe_env *env, const struct ys_check *check,
                       ys_probe_done_cb done, void *arg, struct ys_probe **out)
{
    struct fresh_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &ys_probe_freshness, check, done, arg);
    p->spec = check->spec;
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    /* libuv keeps the loop's time in whole milliseconds, possibly stale:
     * without the update and the extra millisecond the timer could fire
     * before timeout_ms has passed on the clock the duration uses. */
    uv_update_time(env->loop);
    uv_timer_start(&p->timer, on_timeout, (uint64_t)check->timeout_ms + 1, 0);
    if (p->spec->is_s3)
        start_list(p, env);
    else
        start_scan(p, env->loop);
    *out = &p->super;
    return 0;
}

static void fresh_cancel(struct ys_probe *probe)
{
    struct fresh_probe *p = (struct fresh_probe *)probe;
    if (p->over)
        return;
    p->super.done = NULL;
    teardown(p);
}

const struct ys_probe_type ys_probe_freshness = {
    .name = "freshness",
    .keys = ys_fresh_keys,
    .parse = ys_fresh_spec_parse,
    .free_spec = ys_fresh_spec_free,
    .start = fresh_start,
    .cancel = fresh_cancel,
};
