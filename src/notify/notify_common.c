/*
 * notify_common.c - what the notifier kinds share: reading the event
 * document, parsing headers and URLs, and running one HTTP request on a
 * libcurl easy handle with a capped capture of the answer.
 *
 * Stateless; the request helpers run on the outbox thread, the parsers on
 * whichever thread loads a config.
 */
#include "notify/notifier_int.h"

#include "config/diag.h"
#include "config/read.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ys_notify_str(const json_t *event, const char *obj, const char *key)
{
    const json_t *o = obj ? json_object_get(event, obj) : event;
    return json_string_value(json_object_get(o, key));
}

const char *ys_notify_status(const json_t *event)
{
    const char *s = ys_notify_str(event, NULL, "status");
    return s && strcmp(s, "resolved") == 0 ? "resolved" : "firing";
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

int ys_notify_parse_headers(const struct ys_node *n, const char *what, struct curl_slist **out,
                            struct ys_diag *d)
{
    struct ys_strmap m = {0};
    if (!n)
        return 0;
    if (ys_cfg_strmap(n, what, &m, d) < 0)
        return YS_ECONFIG;
    int rc = 0;
    for (size_t i = 0; i < m.n; i++) {
        if (!is_token(m.keys[i])) {
            ys_diag_add(d, n->pairs[i].line, n->pairs[i].col, "%s: bad header name '%s'", what,
                        m.keys[i]);
            rc = YS_ECONFIG;
            continue;
        }
        if (strpbrk(m.values[i], "\r\n")) {
            ys_diag_add(d, n->pairs[i].value->line, n->pairs[i].value->col,
                        "%s.%s: a header value cannot contain a line break", what, m.keys[i]);
            rc = YS_ECONFIG;
            continue;
        }
        /* "Name;" is libcurl's way to send a header with an empty value. */
        char *line = *m.values[i] ? ys_xasprintf("%s: %s", m.keys[i], m.values[i])
                                  : ys_xasprintf("%s;", m.keys[i]);
        *out = curl_slist_append(*out, line);
        free(line);
        if (!*out)
            abort(); /* curl_slist_append fails only when out of memory */
    }
    ys_strmap_free(&m);
    return rc;
}

void ys_notify_add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (!l)
        abort(); /* curl_slist_append fails only when out of memory */
    *list = l;
}

void ys_notify_copy_headers(struct curl_slist **dst, const struct curl_slist *src)
{
    for (; src; src = src->next)
        ys_notify_add_header(dst, src->data);
}

bool ys_notify_has_header(const struct curl_slist *list, const char *name)
{
    size_t len = strlen(name);
    for (; list; list = list->next)
        if (strncasecmp(list->data, name, len) == 0 &&
            (list->data[len] == ':' || list->data[len] == ';'))
            return true;
    return false;
}

int ys_notify_parse_url(const struct ys_node *n, const char *what, char **out, struct ys_diag *d)
{
    static const char *const schemes[] = {"http", "https", NULL};
    if (ys_cfg_url(n, what, schemes, d) < 0)
        return YS_ECONFIG;
    return ys_cfg_string(n, what, out, d);
}

/* Keeps the start of the answer for messages and drops the rest: an
 * endpoint's error page is read only to say why it refused. */
static size_t on_reply(char *data, size_t size, size_t nmemb, void *arg)
{
    struct ys_notify_http *req = arg;
    size_t n = size * nmemb, room = sizeof req->reply - 1 - req->reply_len;
    size_t take = n < room ? n : room;
    memcpy(req->reply + req->reply_len, data, take);
    req->reply_len += take;
    req->reply[req->reply_len] = '\0';
    return n;
}

int ys_notify_http_easy(CURL *easy, struct ys_notify_http *req, int64_t timeout_ms,
                        struct ys_err *err)
{
    req->reply_len = 0;
    req->reply[0] = '\0';
    req->errbuf[0] = '\0';
    /* libcurl would send "Expect: 100-continue" for bodies over 1 KiB and
     * wait up to a second for an answer many small receivers never give. */
    if (!ys_notify_has_header(req->headers, "Expect"))
        ys_notify_add_header(&req->headers, "Expect:");
    const char *method = req->method ? req->method : "POST";
    const char *body = req->body ? req->body : "";
    bool ok = curl_easy_setopt(easy, CURLOPT_URL, req->url) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_reply) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_WRITEDATA, req) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, req->errbuf) == CURLE_OK &&
              curl_easy_setopt(easy, CURLOPT_USERAGENT, "yardstick/" YS_VERSION) == CURLE_OK;
    if (ok && strcmp(method, "POST") != 0)
        ok = curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    if (!ok)
        return ys_err_set(err, YS_EINTERNAL, "libcurl refused the request options for %s",
                          req->url);
    return 0;
}

/* The answer's body on one line, for a message. */
static void one_line(const char *s, char *out, size_t size)
{
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 1 < size; i++)
        out[j++] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

bool ys_notify_http_outcome(CURL *easy, CURLcode code, const struct ys_notify_http *req,
                            struct ys_err *err)
{
    if (code != CURLE_OK) {
        ys_err_set(err, YS_EIO, "%s: %s", curl_easy_strerror(code),
                   req->errbuf[0] ? req->errbuf : req->url);
        return false;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        return true;
    char body[160];
    one_line(req->reply, body, sizeof body);
    ys_err_set(err, YS_EIO, "HTTP %ld from %s%s%s", status, req->url, body[0] ? ": " : "", body);
    return false;
}

void ys_notify_http_free(struct ys_notify_http *req)
{
    if (!req)
        return;
    free(req->url);
    free(req->method);
    free(req->body);
    curl_slist_free_all(req->headers);
    memset(req, 0, sizeof *req);
}
