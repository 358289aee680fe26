/*
 * curl_tls.h - a check's `tls:` section (tls_spec.h) applied to a libcurl
 * easy handle, the same way for every kind that speaks HTTPS (http, etcd,
 * registry), so trust, client certificates and "never resume a session"
 * cannot drift apart between kinds.
 */
#ifndef YS_PROBE_CURL_TLS_H
#define YS_PROBE_CURL_TLS_H

#include "probe/tls_spec.h"

#include <curl/curl.h>

/* Sets the CA bundle, client certificate and key, verification and no
 * session resumption from t; when on_ctx is given, libcurl hands it each
 * new SSL_CTX (with ctx_data) so the kind can gather TLS facts. */
void ys_curl_tls_options(CURL *e, const struct ys_tls_spec *t, curl_ssl_ctx_callback on_ctx,
                         void *ctx_data);

#endif
