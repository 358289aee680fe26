/*
 * freshness.h - the `freshness` kind: the newest object under a path is
 * younger than max_age and at least min_size bytes. It checks a backup
 * from the outside, by what landed, not by what the job said it did.
 *
 *   - { name: etcd-backups, kind: freshness, path: "/backups/etcd/etcd-*.db",
 *       max_age: 2h, min_size: 1MiB }
 *   - name: s3-backups
 *     kind: freshness
 *     s3: { bucket: backups, prefix: etcd/, endpoint: "http://127.0.0.1:9000",
 *           region: us-east-1, path_style: true }
 *     max_age: 26h
 *     min_size: 1MiB
 *     match: '\.db$'          # optional PCRE2 on the path or key
 *
 * Two sources behind one verdict (freshness.c):
 *  - a directory glob, scanned with glob(3) and stat(2) on scan threads
 *    of its own, never on the loop nor on the libuv threadpool, and at
 *    most one scan per check at a time (freshness_dir.c);
 *  - an S3 bucket prefix, listed with ListObjectsV2 through the loop's
 *    libcurl multi handle, signed by libcurl's CURLOPT_AWS_SIGV4
 *    (freshness_s3.c), the XML read with libxml2 (freshness_xml.c).
 * Both keep only the newest object (struct ys_fresh_obj), never a list.
 *
 * The spec (freshness_spec.c) is immutable after parsing and shared by
 * every probe of its check.
 */
#ifndef YS_PROBE_FRESHNESS_H
#define YS_PROBE_FRESHNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <uv.h>

struct ys_node;
struct ys_check;
struct ys_diag;
struct ys_err;
struct ys_curl_multi;

/* ---- spec (freshness_spec.c) ------------------------------------------ */

struct ys_fresh_s3 {
    char *bucket;
    char *prefix;   /* "" for the whole bucket */
    char *endpoint; /* as written; NULL: https://s3.<region>.amazonaws.com */
    char *region;   /* default us-east-1 */
    bool path_style;
    /* Explicit credentials (usually ${VAR}); NULL: read from the
     * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
     * AWS_SESSION_TOKEN) each time a probe starts. */
    char *access_key, *secret_key, *session_token;
    char *base_url; /* the bucket's URL without a query, from ys_fresh_s3_base_url */
    char *sigv4;    /* CURLOPT_AWS_SIGV4: "aws:amz:<region>:s3" */
    char *where;    /* "s3://bucket/prefix", for messages */
};

struct ys_fresh_spec {
    char *path; /* a glob(3) pattern; NULL for an s3 source */
    bool is_s3;
    struct ys_fresh_s3 s3;
    int64_t max_age_ms; /* required, > 0 */
    int64_t min_size;   /* bytes; default 0 */
    char *match_text;   /* NULL: every object counts */
    pcre2_code *match;
};

/* The kind's own keys, NULL-terminated (for probe.h's keys). */
extern const char *const ys_fresh_keys[];

/* ys_probe_type.parse for freshness: an owned struct ys_fresh_spec in
 * *spec (free with ys_fresh_spec_free). Reports every problem with its
 * position; returns 0, or YS_ECONFIG with *spec NULL. */
int ys_fresh_spec_parse(const struct ys_node *check, const struct ys_check *base, void **spec,
                        struct ys_diag *d);
/* Frees a spec and all it owns; NULL is a no-op. */
void ys_fresh_spec_free(void *spec);

/* The URL of a bucket, without a query: path style puts the bucket in the
 * path (http://host:9000/backups), virtual-host style in the host name
 * (https://backups.s3.eu-west-1.amazonaws.com/). endpoint NULL means AWS
 * in region. Returns 0 and an owned string in *out, or YS_EINVAL with
 * err saying why (a bad endpoint, a bucket name no host name can hold). */
int ys_fresh_s3_base_url(const char *endpoint, const char *region, const char *bucket,
                         bool path_style, char **out, struct ys_err *err);

/* ---- the newest object so far ---------------------------------------- */

struct ys_fresh_obj {
    char *name;       /* path or key, owned; NULL while none was seen */
    int64_t mtime_ms; /* modification time, epoch ms */
    int64_t size;     /* bytes */
};

/* Keeps (name, mtime_ms, size) in best if it is newer than what best holds
 * (on a tie, the greater name wins, so the result does not depend on the
 * order a source lists things in). Copies name. */
void ys_fresh_obj_offer(struct ys_fresh_obj *best, const char *name, size_t name_len,
                        int64_t mtime_ms, int64_t size);
/* Frees the name; the object is empty again. */
void ys_fresh_obj_clear(struct ys_fresh_obj *o);
/* True when name is counted: no regex, or the regex matches it. */
bool ys_fresh_name_matches(const pcre2_code *re, const char *name, size_t len);

/* ---- directory source (freshness_dir.c) -------------------------------- */

/* Blocking: globs pattern and stats every match; the newest regular file
 * whose path re matches (re may be NULL) goes to best. A directory that
 * does not exist is no match; one that cannot be read is an error.
 * Returns 0 (best->name NULL when nothing matched) or YS_EIO with err
 * saying why. Scan threads only: never call it on the loop thread. */
int ys_fresh_dir_scan(const char *pattern, const pcre2_code *re, struct ys_fresh_obj *best,
                      struct ys_err *err);

/* Scan threads alive at once, at most. A scan stuck on a hung mount holds
 * its thread until the kernel gives up; a scan started while all of them
 * are busy waits for one, within its probe's timeout. */
#define YS_FRESH_SCAN_THREADS 8

/* One directory scan run for the loop on a scan thread of its own. */
struct ys_fresh_scan;

/* The scan's outcome, on the loop thread: rc 0 and found (borrowed for the
 * call; found->name NULL when nothing matched), or rc < 0 and msg saying
 * why. The scan frees itself after the call. */
typedef void (*ys_fresh_scan_done_cb)(int rc, const struct ys_fresh_obj *found, const char *msg,
                                      void *arg);

/* Starts ys_fresh_dir_scan(pattern, re) on a scan thread (not the libuv
 * threadpool, which reloads and alert evaluation need) for the check named
 * key. pattern and re (may be NULL) are copied, so a reload may free the
 * spec meanwhile. Returns 0 and *out: done then runs once on loop, unless
 * ys_fresh_scan_cancel comes first. Returns YS_EBUSY while key's previous
 * scan is still running, even if its probe is long gone (err names that
 * scan's pattern), or YS_EIO when no thread can be started; done never
 * runs then. Loop thread only. */
int ys_fresh_scan_start(uv_loop_t *loop, const char *key, const char *pattern, const pcre2_code *re,
                        ys_fresh_scan_done_cb done, void *arg, struct ys_fresh_scan **out,
                        struct ys_err *err);
/* Stops waiting for s: done never runs, and s frees itself once its handle
 * is closed (run the loop). A scan already running cannot be interrupted
 * (no stat can): it goes on in its thread, keeps its key busy until it
 * returns, and then drops what it found. Not after done. Loop thread only. */
void ys_fresh_scan_cancel(struct ys_fresh_scan *s);
/* True while s waits for a free scan thread (all YS_FRESH_SCAN_THREADS are
 * busy), false once it runs. */
bool ys_fresh_scan_waiting(const struct ys_fresh_scan *s);

/* Testing only: while a hold is set, every scan whose pattern contains
 * marker (copied) stops before its glob, as if the mount were hung, until
 * ys_fresh_test_release. */
void ys_fresh_test_hold(const char *marker);
void ys_fresh_test_release(void);
/* Testing only: waits up to timeout_ms until exactly held scans are
 * stopped by the hold and threads scan threads are alive. Returns whether
 * that happened. */
bool ys_fresh_test_wait(unsigned held, unsigned threads, int timeout_ms);

/* ---- ListObjectsV2 responses (freshness_xml.c) ------------------------ */

/* What one page said besides its objects. */
struct ys_s3_page {
    bool truncated;      /* IsTruncated: more pages follow */
    char *next_token;    /* NextContinuationToken, owned; NULL if none */
    size_t n_objects;    /* Contents elements on the page */
    char *error_code;    /* an <Error> document: its Code, owned */
    char *error_message; /* and its Message, owned; may be NULL */
};

/* Parses one response body: a ListBucketResult offers each object whose
 * key re matches (keys ending in '/' are folder markers and skipped) to
 * best; an Error document fills error_code and error_message. Returns 0,
 * or YS_EINVAL with err saying why (not XML, another document, a bad
 * LastModified or Size). Free page with ys_s3_page_free. Any thread. */
int ys_s3_list_parse(const char *body, size_t len, const pcre2_code *re, struct ys_fresh_obj *best,
                     struct ys_s3_page *page, struct ys_err *err);
void ys_s3_page_free(struct ys_s3_page *page);
/* An ISO 8601 UTC time as S3 writes it ("2026-11-29T20:17:25.123Z", the
 * fraction optional) in epoch ms. Returns 0 or YS_EINVAL. */
int ys_s3_parse_time(const char *s, int64_t *out_ms);

/* ---- S3 source (freshness_s3.c) --------------------------------------- */

struct ys_fresh_s3_list;

/* Called once when a listing ends. ec is an enum ys_errclass (YS_EC_NONE:
 * the listing completed, and newest holds the newest object or no name);
 * msg says what failed otherwise; status is the last page's HTTP status (0
 * without a response). newest is borrowed for the call. */
typedef void (*ys_fresh_s3_done_cb)(int ec, const char *msg, int status,
                                    const struct ys_fresh_obj *newest, void *arg);

/* The list URL of one page: base_url?[continuation-token=..&]list-type=2
 * [&prefix=..], parameters in the order SigV4's canonical query wants and
 * encoded as it wants, so the URL is its own canonical form. Owned. */
char *ys_fresh_s3_list_url(const struct ys_fresh_s3 *s3, const char *token);

/* Starts listing s3 (borrowed until done or cancel) through m, with the
 * credentials of the spec or else of the environment (none: anonymous).
 * Each page is a request of at most timeout_ms plus a second, a backstop:
 * the caller bounds the whole listing with its own timer. Returns 0 (done
 * runs later, on the loop, unless cancelled), or YS_EINVAL (credentials
 * half set or unfit for a header) or YS_EINTERNAL with err saying why
 * (done never runs). Loop thread only. */
int ys_fresh_s3_list_start(struct ys_curl_multi *m, const struct ys_fresh_s3 *s3,
                           const pcre2_code *re, int64_t timeout_ms, ys_fresh_s3_done_cb done,
                           void *arg, struct ys_fresh_s3_list **out, struct ys_err *err);
/* Stops a listing; done never runs. The listing is freed. */
void ys_fresh_s3_list_cancel(struct ys_fresh_s3_list *l);
/* The page being fetched (1-based), for a timeout's message. */
unsigned ys_fresh_s3_list_page(const struct ys_fresh_s3_list *l);

#endif
