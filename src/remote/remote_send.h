/*
 * remote_send.h - private to src/remote/: one endpoint's HTTP client
 * (send.c), a reused libcurl easy handle with the protocol's headers.
 */
#ifndef YS_REMOTE_REMOTE_SEND_H
#define YS_REMOTE_REMOTE_SEND_H

#include "remote/remote_int.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

struct ys_rw_sender {
    const struct ys_remote_write *conf; /* borrowed */
    CURL *curl;
    struct curl_slist *headers;
};

/* Sets up s for conf (borrowed, must outlive s). Returns 0 or
 * YS_EINTERNAL. */
int ys_rw_sender_init(struct ys_rw_sender *s, const struct ys_remote_write *conf);
void ys_rw_sender_free(struct ys_rw_sender *s);
/* POSTs body (borrowed) and says what became of it; why gets the error or
 * the status and the start of the answer, for the log. Blocks for up to
 * the endpoint's timeout. *retry_after_ms: the Retry-After of a 429 or 503
 * answer, 0 when there is none. */
enum ys_rw_outcome ys_rw_send(struct ys_rw_sender *s, const char *body, size_t len, char *why,
                              size_t why_size, int64_t *retry_after_ms);

#endif
