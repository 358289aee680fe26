/*
 * fuzz_s3xml.c - libFuzzer target for the S3 ListObjectsV2 reader
 * (ys_s3_list_parse, src/probe/freshness_xml.c) and the ISO 8601 times in
 * it (ys_s3_parse_time), which read whatever an S3 endpoint sends. A
 * parse either fails with a message or yields a page whose strings are
 * terminated and an object whose name is a terminated string; the same
 * input as a time either parses or is refused. Corpus:
 * tests/fuzz/corpus/s3xml/ (recorded pages: truncated with a token, last,
 * empty, an Error document, a DTD with entities, cut-off XML).
 */
#include "core/err.h"
#include "probe/freshness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ys_fresh_obj best = {0};
    struct ys_s3_page page = {0};
    struct ys_err err = {{0}};
    if (ys_s3_list_parse((const char *)data, size, NULL, &best, &page, &err) == 0) {
        if ((page.next_token && strlen(page.next_token) > size) ||
            (page.error_code && strlen(page.error_code) > size) || page.n_objects > size)
            abort();
        if (best.name && (strlen(best.name) > size || best.size < 0))
            abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* a refusal must say why */
    }
    ys_s3_page_free(&page);
    free(best.name);
    /* The same bytes as a LastModified value. */
    char t[64];
    size_t n = size < sizeof t - 1 ? size : sizeof t - 1;
    memcpy(t, data, n);
    t[n] = '\0';
    int64_t ms;
    (void)ys_s3_parse_time(t, &ms);
    return 0;
}
