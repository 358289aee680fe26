/*
 * curl_tls.c - applies a `tls:` section to a libcurl easy handle (see
 * curl_tls.h). Any thread: it only sets options on the handle it is given.
 */
#include "probe/curl_tls.h"

void ys_curl_tls_options(CURL *e, const struct ys_tls_spec *t, curl_ssl_ctx_callback on_ctx,
                         void *ctx_data)
{
    /* CAPATH NULL lets libcurl's CA cache keep the parsed store between
     * connections instead of re-reading it for every probe. */
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    if (t->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
    if (t->cert_file)
        curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert_file);
    if (t->key_file)
        curl_easy_setopt(e, CURLOPT_SSLKEY, t->key_file);
    if (t->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* A monitor measures the handshake: never resume a session. */
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (on_ctx) {
        curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ctx);
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, ctx_data);
    }
}
