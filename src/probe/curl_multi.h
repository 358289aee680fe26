/*
 * curl_multi.h - one libcurl multi handle driven by the libuv loop through
 * the multi-socket API (CURLMOPT_SOCKETFUNCTION + CURLMOPT_TIMERFUNCTION).
 *
 * Probe kinds that speak HTTP add easy handles here and are told when each
 * finishes. No thread, no blocking call: libcurl tells the loop which
 * sockets to watch, and the loop tells libcurl when they are ready.
 * Loop thread only.
 */
#ifndef YS_PROBE_CURL_MULTI_H
#define YS_PROBE_CURL_MULTI_H

#include <curl/curl.h>
#include <uv.h>

struct ys_curl_multi;

/* Called once when the transfer on easy ends (CURLE_OK or an error). */
typedef void (*ys_curl_done_cb)(CURL *easy, CURLcode code, void *arg);

/* Returns 0 and an owned multi bound to loop. */
int ys_curl_multi_new(uv_loop_t *loop, struct ys_curl_multi **out);
/* Removes nothing: every easy handle must be finished or removed first.
 * Closes the loop handles; the struct is freed in their close callbacks. */
void ys_curl_multi_free(struct ys_curl_multi *m);
/* Returns an easy handle with libcurl's default options except two set
 * here: CURLOPT_PRIVATE (this module's) and CURLOPT_ERRORBUFFER (a buffer
 * kept with the handle, emptied, read with ys_curl_multi_errbuf). Handles
 * come from a small pool of finished ones (curl_easy_reset), so a probe
 * does not pay curl_easy_init and curl_easy_cleanup. NULL if libcurl cannot
 * allocate one. Owned by the caller until ys_curl_multi_easy_put. */
CURL *ys_curl_multi_easy_get(struct ys_curl_multi *m);
/* Takes back a handle from ys_curl_multi_easy_get that is not in a transfer
 * (done ran, or it was removed): it is reset to libcurl's defaults, which
 * drops every pointer the caller set, and kept for the next get or freed. */
void ys_curl_multi_easy_put(struct ys_curl_multi *m, CURL *easy);
/* The error buffer of a handle from ys_curl_multi_easy_get: libcurl's
 * message for the last transfer, "" if none. */
const char *ys_curl_multi_errbuf(CURL *easy);
/* Starts easy (borrowed until done runs or ys_curl_multi_remove). */
int ys_curl_multi_add(struct ys_curl_multi *m, CURL *easy, ys_curl_done_cb done, void *arg);
/* Stops a transfer early; done is not called. */
void ys_curl_multi_remove(struct ys_curl_multi *m, CURL *easy);
/* The shared CA cache etc.: a share handle, if the implementation uses one. */
CURLM *ys_curl_multi_handle(struct ys_curl_multi *m);

#endif
