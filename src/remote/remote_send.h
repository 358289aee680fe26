/*
 * remote_send.h - private to src/remote/: one endpoint's HTTP client
 * (send.c), a reused libcurl easy handle with the protocol's headers.
 */
#ifndef YS_REMOTE_REMOTE_SEND_H
#define YS_REMOTE_REMOTE_SEND_H

#include "remote/remote_int.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>

struct ys_rw_sender {
    const struct ys_remote_write *conf; /* borrowed */
    CURL *curl;
    struct curl_slist *headers;
};

/* Sets up s for conf (borrowed, must outlive s); a transfer aborts as soon
 * as *stopping is true. Returns 0 or YS_EINTERNAL. */
int ys_rw_sender_init(struct ys_rw_sender *s, const struct ys_remote_write *conf,
                      const atomic_bool *stopping);
void ys_rw_sender_free(struct ys_rw_sender *s);
/* POSTs body (borrowed) and says what became of it; why gets the error or
 * the status and the start of the answer, for the log. */
enum ys_rw_outcome ys_rw_send(struct ys_rw_sender *s, const char *body, size_t len, char *why,
                              size_t why_size);

#endif
