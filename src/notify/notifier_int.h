/*
 * notifier_int.h - what delivery needs from a notifier kind: the
 * operations behind struct ys_notifier_type's `ops`, used by the outbox
 * thread (src/outbox/) and the unit tests, never by the config model.
 *
 * A kind delivers either over HTTP or by running a command:
 *
 *   - HTTP kinds (webhook, slack, alertmanager) turn event documents into
 *     one request per target (ys_notify_http: URL, body, headers), which
 *     ys_notify_http_easy puts on a libcurl easy handle; the caller drives
 *     the transfer (the outbox uses one multi handle on its thread) and
 *     asks ys_notify_http_outcome whether it was accepted (a 2xx answer).
 *     Alertmanager has one target per configured URL and takes several
 *     events in one request (its API takes a list: re-posts are batched).
 *   - exec starts a process (ys_notify_proc) with the event document on
 *     its stdin; the caller watches it (pidfd and output pipe), reaps it,
 *     and kills its process group at the timeout.
 *
 * Everything a request or a process needs is owned by it, not borrowed
 * from the spec, so a config reload can free the spec while an attempt is
 * in flight. Formatting is a pure function of the spec, the event
 * documents and the `now_ms` given (tests pass a fixed one).
 */
#ifndef YS_NOTIFY_NOTIFIER_INT_H
#define YS_NOTIFY_NOTIFIER_INT_H

#include "core/err.h"
#include "notify/notify.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Caps on what is kept of an answer or a command's output for last_error. */
#define YS_NOTIFY_REPLY_MAX 512

/* One HTTP request of one delivery attempt. */
struct ys_notify_http {
    char *url;                       /* owned */
    char *method;                    /* owned; "POST" unless configured */
    char *body;                      /* owned */
    struct curl_slist *headers;      /* owned */
    char reply[YS_NOTIFY_REPLY_MAX]; /* the start of the answer's body */
    size_t reply_len;
    char errbuf[CURL_ERROR_SIZE];
};

/* A running exec notifier. */
struct ys_notify_proc {
    pid_t pid;                     /* 0 once reaped */
    int pidfd;                     /* readable when the process exits; -1 if unsupported */
    int out_fd;                    /* read end of its stdout+stderr; -1 once closed */
    char out[YS_NOTIFY_REPLY_MAX]; /* the start of its output */
    size_t out_len;
};

struct ys_notifier_ops {
    /* HTTP kinds: the number of targets one delivery goes to (NULL: 1). */
    size_t (*n_targets)(const void *spec);
    /* HTTP kinds: formats the request for target (< n_targets) from
     * n_events event documents (borrowed; only alertmanager takes more
     * than one). Returns 0 and fills out (free with ys_notify_http_free),
     * or YS_EINVAL with err when the documents cannot be formatted. */
    int (*http_request)(const void *spec, const json_t *const *events, size_t n_events,
                        size_t target, int64_t now_ms, struct ys_notify_http *out,
                        struct ys_err *err);
    /* exec: starts the command with doc (the event document's text) on its
     * stdin and the event's facts in its environment. Returns 0 and fills
     * out, or YS_EIO with err when it cannot be started. */
    int (*exec_start)(const void *spec, const json_t *event, const char *doc, const char *notifier,
                      struct ys_notify_proc *out, struct ys_err *err);
    /* Kinds that re-post firing alerts (alertmanager): the interval; NULL
     * for the others. */
    int64_t (*resend_interval_ms)(const void *spec);
};

/* Puts req on easy (a fresh or reset handle): URL, method, body, headers,
 * the attempt's timeout, and a capped capture of the answer into req
 * (which must outlive the transfer). Returns 0 or YS_EINTERNAL. */
int ys_notify_http_easy(CURL *easy, struct ys_notify_http *req, int64_t timeout_ms,
                        struct ys_err *err);
/* After the transfer ended with code: whether the target accepted it
 * (2xx); otherwise fills err with a sentence ("HTTP 500: <body>",
 * "Couldn't connect to server: ..."). */
bool ys_notify_http_outcome(CURL *easy, CURLcode code, const struct ys_notify_http *req,
                            struct ys_err *err);
/* Frees what req owns and zeroes it. */
void ys_notify_http_free(struct ys_notify_http *req);

/* Reads what the process wrote so far (non-blocking; keeps the first
 * YS_NOTIFY_REPLY_MAX bytes, drops the rest). */
void ys_notify_proc_drain(struct ys_notify_proc *p);
/* Reaps the process if it has exited: returns true and its wait status. */
bool ys_notify_proc_reap(struct ys_notify_proc *p, int *status);
/* Kills the process group (SIGKILL) and reaps the process. */
void ys_notify_proc_kill(struct ys_notify_proc *p);
/* Closes the descriptors (after reap or kill). */
void ys_notify_proc_close(struct ys_notify_proc *p);
/* "exit status 3: <output>", "killed by signal 9: ..." into err. */
void ys_notify_proc_describe(const struct ys_notify_proc *p, int status, struct ys_err *err);

/* ---- shared by the kinds (notify_common.c) --------------------------- */

/* The string member key of the event (or of its member `obj`, such as
 * "labels"), or NULL if absent or not a string. */
const char *ys_notify_str(const json_t *event, const char *obj, const char *key);
/* The event's status: "firing" or "resolved" ("firing" if absent). */
const char *ys_notify_status(const json_t *event);
/* Reads a headers map into a curl list ("Name: value"); reports bad names
 * and line breaks at their positions. Returns 0 or YS_ECONFIG. */
int ys_notify_parse_headers(const struct ys_node *n, const char *what, struct curl_slist **out,
                            struct ys_diag *d);
/* Appends a copy of every line of src to *dst. */
void ys_notify_copy_headers(struct curl_slist **dst, const struct curl_slist *src);
/* Appends one "Name: value" line (aborts only when out of memory). */
void ys_notify_add_header(struct curl_slist **list, const char *line);
/* Whether list has a header called name (case-insensitive). */
bool ys_notify_has_header(const struct curl_slist *list, const char *name);
/* Reads an http(s) URL into an owned string; returns 0 or YS_ECONFIG. */
int ys_notify_parse_url(const struct ys_node *n, const char *what, char **out, struct ys_diag *d);

/* ---- webhook templates (template.c) ----------------------------------- */

/* Checks a template: every {{name}} must be a known field or labels.X /
 * annotations.X, placeholders must sit inside JSON strings, and the text
 * must be JSON once they are filled. Reports at n. Returns 0 or
 * YS_ECONFIG. */
int ys_notify_template_check(const struct ys_node *n, const char *tmpl, struct ys_diag *d);
/* Expands tmpl with the event's values, JSON-escaped (without quotes).
 * Returns an owned string. */
char *ys_notify_template_expand(const char *tmpl, const json_t *event);

#endif
