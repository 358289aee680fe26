/*
 * freshness_xml.c - reading S3's ListObjectsV2 answers with libxml2.
 *
 * One page is a ListBucketResult: IsTruncated, NextContinuationToken and
 * up to 1,000 Contents (Key, LastModified, Size, ...). A failure is an
 * Error document (Code, Message). Each page is parsed as a whole from a
 * buffer the caller capped (freshness_s3.c), and only the newest matching
 * object is kept, so memory does not grow with the bucket.
 *
 * The parser runs with XML_PARSE_NONET and without entity substitution,
 * and a document with a DTD is refused: S3 never sends one, and a server
 * that does is not to be trusted with entity expansion.
 *
 * Pure: no I/O, any thread.
 */
#include "probe/freshness.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The text of an element, owned (ys_x allocation), "" when empty. */
static char *elem_text(const xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    char *s = ys_xstrdup(c ? (const char *)c : "");
    xmlFree(c);
    return s;
}

int ys_s3_parse_time(const char *s, int64_t *out_ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return YS_EINVAL;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        if (digits == 0)
            return YS_EINVAL;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return YS_EINVAL;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return YS_EINVAL;
    *out_ms = (int64_t)t * 1000 + ms;
    return 0;
}

static int parse_size(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return YS_EINVAL;
    *out = v;
    return 0;
}

/* One <Contents>: offered to best when its key counts. */
static int parse_contents(const xmlNode *c, const pcre2_code *re, struct ys_fresh_obj *best,
                          struct ys_err *err)
{
    char *key = NULL, *when = NULL, *size = NULL;
    for (const xmlNode *n = c->children; n; n = n->next) {
        char **slot = is_elem(n, "Key")            ? &key
                      : is_elem(n, "LastModified") ? &when
                      : is_elem(n, "Size")         ? &size
                                                   : NULL;
        if (slot && !*slot)
            *slot = elem_text(n);
    }
    int rc = 0;
    int64_t ms = 0, bytes = 0;
    if (!key || !when || !size)
        rc = ys_err_set(err, YS_EINVAL, "an object without %s",
                        !key    ? "Key"
                        : !when ? "LastModified"
                                : "Size");
    else if (ys_s3_parse_time(when, &ms) < 0)
        rc = ys_err_set(err, YS_EINVAL, "object '%.100s': bad LastModified '%.40s'", key, when);
    else if (parse_size(size, &bytes) < 0)
        rc = ys_err_set(err, YS_EINVAL, "object '%.100s': bad Size '%.40s'", key, size);
    else {
        size_t len = strlen(key);
        /* "prefix/" objects are folder markers a console makes, not files. */
        bool folder = len > 0 && key[len - 1] == '/';
        if (!folder && ys_fresh_name_matches(re, key, len))
            ys_fresh_obj_offer(best, key, len, ms, bytes);
    }
    free(key);
    free(when);
    free(size);
    return rc;
}

static int parse_list(const xmlNode *root, const pcre2_code *re, struct ys_fresh_obj *best,
                      struct ys_s3_page *page, struct ys_err *err)
{
    for (const xmlNode *n = root->children; n; n = n->next) {
        if (is_elem(n, "Contents")) {
            page->n_objects++;
            int rc = parse_contents(n, re, best, err);
            if (rc < 0)
                return rc;
        } else if (is_elem(n, "IsTruncated")) {
            char *t = elem_text(n);
            page->truncated = strcmp(t, "true") == 0;
            free(t);
        } else if (is_elem(n, "NextContinuationToken") && !page->next_token) {
            page->next_token = elem_text(n);
        }
    }
    if (page->truncated && (!page->next_token || !page->next_token[0]))
        return ys_err_set(err, YS_EINVAL, "IsTruncated without a NextContinuationToken");
    return 0;
}

static void parse_error(const xmlNode *root, struct ys_s3_page *page)
{
    for (const xmlNode *n = root->children; n; n = n->next) {
        if (is_elem(n, "Code") && !page->error_code)
            page->error_code = elem_text(n);
        else if (is_elem(n, "Message") && !page->error_message)
            page->error_message = elem_text(n);
    }
    if (!page->error_code)
        page->error_code = ys_xstrdup("(no Code)");
}

/* libxml2's message for the last error, without its line break. */
static void xml_problem(struct ys_err *err)
{
    const xmlError *e = xmlGetLastError();
    const char *m = e && e->message ? e->message : "cannot be parsed";
    size_t n = strcspn(m, "\n");
    ys_err_set(err, YS_EINVAL, "not XML: %.*s", (int)(n > 200 ? 200 : n), m);
}

int ys_s3_list_parse(const char *body, size_t len, const pcre2_code *re, struct ys_fresh_obj *best,
                     struct ys_s3_page *page, struct ys_err *err)
{
    memset(page, 0, sizeof *page);
    if (len == 0)
        return ys_err_set(err, YS_EINVAL, "an empty body");
    if (len > INT_MAX)
        return ys_err_set(err, YS_EINVAL, "a body too large to parse");
    xmlResetLastError();
    xmlDoc *doc = xmlReadMemory(body, (int)len, "ListObjectsV2.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        xml_problem(err);
        return YS_EINVAL;
    }
    int rc = 0;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset)
        rc = ys_err_set(err, YS_EINVAL, "a document with a DTD, which S3 never sends");
    else if (!root)
        rc = ys_err_set(err, YS_EINVAL, "a document without an element");
    else if (is_elem(root, "ListBucketResult"))
        rc = parse_list(root, re, best, page, err);
    else if (is_elem(root, "Error"))
        parse_error(root, page);
    else
        rc = ys_err_set(err, YS_EINVAL, "a <%.60s> document, not a ListBucketResult",
                        (const char *)root->name);
    xmlFreeDoc(doc);
    return rc;
}

void ys_s3_page_free(struct ys_s3_page *page)
{
    free(page->next_token);
    free(page->error_code);
    free(page->error_message);
    memset(page, 0, sizeof *page);
}
