/*
 * tls_facts.c - certificate facts gathered during OpenSSL verification.
 *
 * The facts pointer travels in ex_data, first on the SSL (tcp probes make
 * their own SSL) and otherwise on its SSL_CTX (libcurl makes one SSL_CTX
 * per connection when session and connection reuse are off, and hands it
 * to us in CURLOPT_SSL_CTX_FUNCTION before the SSL exists). The ex_data
 * indices are created once, guarded by pthread_once.
 */
#include "probe/tls_facts.h"

#include <openssl/asn1.h>
#include <pthread.h>
#include <string.h>

static int ssl_index = -1;
static int ctx_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_indices(void)
{
    ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int64_t asn1_time_to_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

static void name_oneline(X509_NAME *name, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!name)
        return;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(bio, buf, (int)size - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
}

void ys_tls_facts_add(struct ys_tls_facts *facts, X509 *cert, int depth)
{
    if (!facts || !cert)
        return;
    int64_t not_after = asn1_time_to_epoch(X509_get0_notAfter(cert));
    if (not_after && (!facts->earliest_not_after || not_after < facts->earliest_not_after))
        facts->earliest_not_after = not_after;
    if (depth == 0) {
        facts->leaf_not_after = not_after;
        name_oneline(X509_get_subject_name(cert), facts->subject, sizeof facts->subject);
        name_oneline(X509_get_issuer_name(cert), facts->issuer, sizeof facts->issuer);
    }
}

static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    if (!ssl)
        return preverify_ok;
    struct ys_tls_facts *facts = SSL_get_ex_data(ssl, ssl_index);
    if (!facts)
        facts = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
    ys_tls_facts_add(facts, X509_STORE_CTX_get_current_cert(store),
                     X509_STORE_CTX_get_error_depth(store));
    return preverify_ok;
}

void ys_tls_facts_install(SSL_CTX *ctx)
{
    pthread_once(&index_once, make_indices);
    SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
}

void ys_tls_facts_bind(SSL *ssl, struct ys_tls_facts *facts)
{
    pthread_once(&index_once, make_indices);
    SSL_set_ex_data(ssl, ssl_index, facts);
}

void ys_tls_facts_bind_ctx(SSL_CTX *ctx, struct ys_tls_facts *facts)
{
    pthread_once(&index_once, make_indices);
    SSL_CTX_set_ex_data(ctx, ctx_index, facts);
}
